package indexer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// Meta keys under which an index records the embedder that built it: the
// embedding model's name ("" or absent: keyword search only) and the
// dimension of its vectors.
const (
	MetaEmbedder = "embedder"
	MetaEmbedDim = "embed_dim"
)

// Defaults of WithEmbedder: texts per embedding request, and requests in
// flight at once.
const (
	DefaultEmbedBatch       = 32
	DefaultEmbedConcurrency = 2
)

// ErrEmbedderMismatch means an index was built with another embedder (or
// none) than the one it is used with; errors.Is reports it for every
// *EmbedderMismatchError.
var ErrEmbedderMismatch = errors.New("embedder mismatch")

// EmbedderMismatchError says which embedder built the index and which one
// was about to be used with it. Vectors of two models cannot be compared,
// so sitebot never mixes them.
type EmbedderMismatchError struct {
	Index, Want       string // model names; "" means keyword search only
	IndexDim, WantDim int    // set when the names agree but the dimensions do not
}

func (e *EmbedderMismatchError) Error() string {
	switch {
	case e.Index == e.Want:
		return fmt.Sprintf("embedding model %q now gives vectors of dimension %d, but the index was built with dimension %d (was the model replaced?): crawl into a new --data directory",
			e.Want, e.WantDim, e.IndexDim)
	case e.Index == "":
		return fmt.Sprintf("the index was built without embeddings (keyword search only), not with embedding model %q: leave --embed-model unset, or crawl into a new --data directory to use %s",
			e.Want, e.Want)
	case e.Want == "":
		return fmt.Sprintf("the index was built with embedding model %q, and writing to it needs that model too: pass --embed-model %s, or crawl into a new --data directory for keyword search only",
			e.Index, e.Index)
	}
	return fmt.Sprintf("the index was built with embedding model %q, not %q: use --embed-model %s (or leave it unset), or crawl into a new --data directory to switch to %s",
		e.Index, e.Want, e.Index, e.Want)
}

func (e *EmbedderMismatchError) Is(target error) bool { return target == ErrEmbedderMismatch }

// MetaReader reads facts about an index (Store has it).
type MetaReader interface {
	Meta(ctx context.Context, key string) (value string, ok bool, err error)
}

// IndexEmbedder returns the embedding model that built the index and the
// dimension of its vectors; name is "" for a keyword-only index, and dim 0
// until the first vector is written.
func IndexEmbedder(ctx context.Context, m MetaReader) (name string, dim int, err error) {
	name, _, err = m.Meta(ctx, MetaEmbedder)
	if err != nil {
		return "", 0, fmt.Errorf("indexer: read embedder: %w", err)
	}
	d, _, err := m.Meta(ctx, MetaEmbedDim)
	if err != nil {
		return "", 0, fmt.Errorf("indexer: read embedder: %w", err)
	}
	if d != "" {
		if dim, err = strconv.Atoi(d); err != nil {
			return "", 0, fmt.Errorf("indexer: index meta %s is %q, not a number", MetaEmbedDim, d)
		}
	}
	return name, dim, nil
}

// Option configures an Indexer.
type Option func(*Indexer)

// WithEmbedder makes the Indexer embed every chunk it writes with e, in
// requests of DefaultEmbedBatch texts, DefaultEmbedConcurrency at a time.
// name identifies the model: the index records it (MetaEmbedder) with the
// vectors' dimension (MetaEmbedDim), and refuses to be written with another.
func WithEmbedder(name string, e Embedder) Option {
	return func(ix *Indexer) {
		ix.embedName, ix.embed = name, e
	}
}

// WithEmbedBatch sets the texts per embedding request and how many requests
// may run at once (values below 1 keep the default).
func WithEmbedBatch(size, concurrency int) Option {
	return func(ix *Indexer) {
		if size >= 1 {
			ix.batch = size
		}
		if concurrency >= 1 {
			ix.conc = concurrency
		}
	}
}

// EmbedText is what the Indexer embeds for a chunk: the page title, the
// chunk's section headings and its text, one per line.
func EmbedText(c Chunk) string {
	parts := make([]string, 0, 3)
	for _, s := range []string{c.Title, c.Section(), c.Text} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}

// CheckEmbedder makes sure the index may be written with the Indexer's
// embedder (or with none): an index that holds chunks keeps the embedder
// it was built with. An empty index takes the Indexer's, which is recorded
// at once. Add and Crawl check this themselves; call it to fail before
// any other work.
func (ix *Indexer) CheckEmbedder(ctx context.Context) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.checked {
		return nil
	}
	name, dim, err := IndexEmbedder(ctx, ix.store)
	if err != nil {
		return err
	}
	if name != ix.embedName {
		_, chunks, err := ix.store.Counts(ctx)
		if err != nil {
			return fmt.Errorf("indexer: check embedder: %w", err)
		}
		if chunks > 0 {
			return &EmbedderMismatchError{Index: name, Want: ix.embedName}
		}
		// Nothing to mix with: the index takes this embedder.
		if err := ix.store.SetMeta(ctx, MetaEmbedder, ix.embedName); err != nil {
			return fmt.Errorf("indexer: check embedder: %w", err)
		}
		if err := ix.store.SetMeta(ctx, MetaEmbedDim, ""); err != nil {
			return fmt.Errorf("indexer: check embedder: %w", err)
		}
		dim = 0
	}
	ix.dim, ix.checked = dim, true
	return nil
}

// embedChunks sets the Vector of every chunk, in batches of ix.batch texts
// with at most ix.conc requests in flight; the first error cancels the
// other requests. It records the dimension in the index the first time it
// learns it and refuses vectors of another dimension.
func (ix *Indexer) embedChunks(ctx context.Context, chunks []*Chunk) error {
	if ix.embed == nil || len(chunks) == 0 {
		return nil
	}
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = EmbedText(*c)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ix.conc)
	for start := 0; start < len(texts) && gctx.Err() == nil; start += ix.batch {
		end := min(start+ix.batch, len(texts))
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err // an earlier batch failed: send no more
			}
			vecs, err := ix.embed(gctx, texts[start:end])
			if err != nil {
				return fmt.Errorf("indexer: embed with %s: %w", ix.embedName, err)
			}
			if len(vecs) != end-start {
				return fmt.Errorf("indexer: embed with %s: %d vectors for %d texts", ix.embedName, len(vecs), end-start)
			}
			for i, v := range vecs {
				chunks[start+i].Vector = v
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("indexer: embed: %w", err)
	}
	return ix.checkDim(ctx, chunks)
}

// checkDim makes sure every vector has the index's dimension, recording it
// when the index has none yet.
func (ix *Indexer) checkDim(ctx context.Context, chunks []*Chunk) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	dim := ix.dim
	for _, c := range chunks {
		if dim == 0 {
			dim = len(c.Vector)
		}
		if len(c.Vector) == 0 {
			return fmt.Errorf("indexer: embed with %s: empty vector for chunk %s", ix.embedName, c.ID)
		}
		if len(c.Vector) != dim {
			return &EmbedderMismatchError{Index: ix.embedName, Want: ix.embedName, IndexDim: dim, WantDim: len(c.Vector)}
		}
	}
	if ix.dim == 0 {
		if err := ix.store.SetMeta(ctx, MetaEmbedDim, strconv.Itoa(dim)); err != nil {
			return fmt.Errorf("indexer: record embedding dimension: %w", err)
		}
		ix.dim = dim
	}
	return nil
}
