package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"os"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/indexer/embedded"
	"github.com/sitebot/sitebot/indexer/qdrant"
	"github.com/sitebot/sitebot/llm"
	"github.com/sitebot/sitebot/retriever"
)

// index is what the commands need from an index backend: the embedded
// SQLite file in --data, or a Qdrant collection with --qdrant.
type index interface {
	indexer.Store
	retriever.Searcher
	Pages(ctx context.Context) ([]indexer.PageInfo, error)
	Close() error
}

var (
	_ index = (*embedded.Index)(nil)
	_ index = (*qdrant.Index)(nil)
)

// indexFlags registers --data and the Qdrant flags.
func indexFlags(fs *flag.FlagSet, c *Config) {
	dataFlag(fs, c)
	fs.StringVar(&c.Qdrant, "qdrant", c.Qdrant, "Qdrant HOST:PORT (gRPC, usually 6334) to keep the index in instead of --data")
	fs.StringVar(&c.QdrantAPIKey, "qdrant-api-key", c.QdrantAPIKey, "API key for --qdrant")
	fs.StringVar(&c.QdrantCollection, "qdrant-collection", c.QdrantCollection, "Qdrant collection that holds the index")
}

// where names the index for messages.
func (c Config) where() string {
	if c.Qdrant != "" {
		return fmt.Sprintf("Qdrant %s collection %s", c.Qdrant, c.QdrantCollection)
	}
	return c.DataDir
}

// openIndex opens the index a command works on. A crawl creates it (with
// --embed-model, a new Qdrant collection gets that model's dimension);
// other commands need an existing one.
func openIndex(ctx context.Context, cfg Config, forCrawl bool) (index, error) {
	if forCrawl || cfg.Qdrant != "" {
		// Conversations live in --data even when the index is in Qdrant.
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	if cfg.Qdrant == "" {
		if _, err := os.Stat(cfg.indexPath()); !forCrawl && errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no index in %s: run 'sitebot crawl URL' first, or point --data at the directory it wrote", cfg.DataDir)
		}
		return embedded.Open(ctx, cfg.indexPath())
	}
	qc := qdrant.Config{Addr: cfg.Qdrant, APIKey: cfg.QdrantAPIKey, Collection: cfg.QdrantCollection, AnyDim: true}
	if forCrawl && cfg.EmbedModel != "" {
		dim, err := embedDim(ctx, cfg)
		if err != nil {
			return nil, err
		}
		qc.Dim, qc.AnyDim = dim, false
	}
	return qdrant.Open(ctx, qc)
}

// embedDim asks the embedding model for one vector to learn its dimension.
func embedDim(ctx context.Context, cfg Config) (int, error) {
	base, err := cfg.OllamaURL()
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, embedProbeTimeout)
	defer cancel()
	vecs, err := llm.NewEmbedder(base, &http.Client{}, cfg.EmbedModel).Embed(ctx, []string{"sitebot"})
	if err != nil {
		return 0, fmt.Errorf("embedding model %s: %w", cfg.EmbedModel, err)
	}
	return len(vecs[0]), nil
}
