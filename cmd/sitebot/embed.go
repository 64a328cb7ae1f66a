package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/llm"
)

// embedProbeTimeout bounds the start-up check of the embedding model, and
// embedQuestionTimeout the embedding of one question.
const (
	embedProbeTimeout    = 30 * time.Second
	embedQuestionTimeout = 20 * time.Second
)

// crawlIndexer returns the Indexer a crawl writes with. The embedding model
// is --embed-model or, when unset, the one that built the index (so that a
// re-crawl needs no flag). It fails before any page is fetched when the
// model differs from the index's, or when Ollama does not answer or lacks
// the model: a crawl with --embed-model never quietly builds a
// keyword-only index.
func crawlIndexer(ctx context.Context, cfg Config, ix index, stderr io.Writer) (*indexer.Indexer, error) {
	name := cfg.EmbedModel
	built, _, err := indexer.IndexEmbedder(ctx, ix)
	if err != nil {
		return nil, err
	}
	_, chunks, err := ix.Counts(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case name == "" && built != "" && chunks > 0:
		name = built
		fmt.Fprintf(stderr, "sitebot: embedding with %s, the model that built the index\n", name)
	case name != "" && built != "" && llm.SameModel(name, built):
		name = built // the spelling the index records
	}
	if name == "" {
		idx := indexer.New(ix)
		return idx, idx.CheckEmbedder(ctx)
	}
	base, err := cfg.OllamaURL()
	if err != nil {
		return nil, err
	}
	client := llm.NewEmbedder(base, &http.Client{}, name)
	idx := indexer.New(ix, indexer.WithEmbedder(name, client.Embed))
	if err := idx.CheckEmbedder(ctx); err != nil {
		return nil, err
	}
	if err := client.Check(ctx); err != nil {
		return nil, fmt.Errorf("embedding model %s: %w", name, err)
	}
	return idx, nil
}

// queryEmbedding is what serve and ask need for hybrid search: the model
// that built the index, the embedder for questions and the Indexer options
// for crawls started over the admin API.
type queryEmbedding struct {
	name     string           // "" for a keyword-only index
	question indexer.Embedder // nil for a keyword-only index
	crawl    []indexer.Option // for the admin crawl
	status   string           // for the start-up line
}

// openQueryEmbedding reads the index's embedder and checks it against
// --embed-model (a mismatch is an error). The model is probed once: a
// vector of another dimension than the index's is an error; an Ollama that
// does not answer, or lacks the model, is a warning, and questions are
// searched by keywords alone until it answers (as answers fall back to
// extractive ones).
func openQueryEmbedding(ctx context.Context, cfg Config, ix index, log *slog.Logger) (queryEmbedding, error) {
	built, dim, err := indexer.IndexEmbedder(ctx, ix)
	if err != nil {
		return queryEmbedding{}, err
	}
	if cfg.EmbedModel != "" && !llm.SameModel(cfg.EmbedModel, built) {
		return queryEmbedding{}, &indexer.EmbedderMismatchError{Index: built, Want: cfg.EmbedModel}
	}
	if built == "" {
		return queryEmbedding{status: "keyword search"}, nil
	}
	base, err := cfg.OllamaURL()
	if err != nil {
		return queryEmbedding{}, err
	}
	client := llm.NewEmbedder(base, &http.Client{}, built)
	qe := queryEmbedding{
		name:   built,
		crawl:  []indexer.Option{indexer.WithEmbedder(built, client.Embed)},
		status: "hybrid search with embedding model " + built,
	}
	probeCtx, cancel := context.WithTimeout(ctx, embedProbeTimeout)
	vecs, err := client.Embed(probeCtx, []string{"sitebot"})
	cancel()
	switch {
	case err != nil:
		log.Warn("embedding model unavailable: searching by keywords until it answers", "model", built, "err", err)
		qe.status = fmt.Sprintf("keyword search (embedding model %s unavailable: %v)", built, err)
	case dim != 0 && len(vecs[0]) != dim:
		return queryEmbedding{}, &indexer.EmbedderMismatchError{Index: built, Want: built, IndexDim: dim, WantDim: len(vecs[0])}
	}
	qe.question = func(parent context.Context, texts []string) ([][]float32, error) {
		ctx, cancel := context.WithTimeout(parent, embedQuestionTimeout)
		defer cancel()
		vecs, err := client.Embed(ctx, texts)
		if err != nil {
			if parent.Err() != nil {
				return nil, err // the visitor went away
			}
			log.Warn("embedding the question failed: searching by keywords", "model", built, "err", err)
			return nil, nil
		}
		return vecs, nil
	}
	return qe, nil
}
