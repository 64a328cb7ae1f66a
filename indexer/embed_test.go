package indexer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/crawler"
)

// fakeEmbedder is a deterministic fake of an embedding model: hashed
// bag-of-words vectors of dim dimensions. It counts calls and texts and
// the most requests it saw in flight at once.
type fakeEmbedder struct {
	dim     int
	delay   time.Duration
	fail    error // returned by every call when set
	calls   atomic.Int32
	texts   atomic.Int32
	active  atomic.Int32
	maxSeen atomic.Int32
}

func (f *fakeEmbedder) embed(ctx context.Context, texts []string) ([][]float32, error) {
	f.calls.Add(1)
	f.texts.Add(int32(len(texts)))
	n := f.active.Add(1)
	defer f.active.Add(-1)
	for {
		m := f.maxSeen.Load()
		if n <= m || f.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.fail != nil {
		return nil, f.fail
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, f.dim)
		for _, w := range strings.Fields(strings.ToLower(t)) {
			h := fnv.New32a()
			h.Write([]byte(w))
			v[h.Sum32()%uint32(f.dim)]++
		}
		out[i] = v
	}
	return out, nil
}

func manyChunks(url, hash string, n int) crawler.Page {
	p := crawler.Page{URL: url, Title: "T", Lang: "en", Hash: hash}
	for i := range n {
		p.Sections = append(p.Sections, crawler.Section{Anchor: fmt.Sprint("s", i), Heading: fmt.Sprint("H", i),
			Path: []string{fmt.Sprint("H", i)}, Level: 2, Text: fmt.Sprintf("text number %d of %s", i, hash)})
	}
	return p
}

func TestAddEmbedsNewAndChangedPagesOnly(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	f := &fakeEmbedder{dim: 8}
	ix := New(s, WithEmbedder("fake-embed", f.embed), WithEmbedBatch(2, 2))

	_, n, err := ix.Add(ctx, manyChunks("https://x.test/a", "h1", 5))
	require.NoError(t, err)
	require.Equal(t, 5, n)
	assert.EqualValues(t, 3, f.calls.Load(), "5 chunks in batches of 2")
	assert.EqualValues(t, 5, f.texts.Load())
	for _, c := range s.chunks["https://x.test/a"] {
		assert.Len(t, c.Vector, 8, c.ID)
	}
	assert.Equal(t, "fake-embed", s.meta[MetaEmbedder])
	assert.Equal(t, "8", s.meta[MetaEmbedDim])

	// Unchanged: no embedding at all.
	change, _, err := ix.Add(ctx, manyChunks("https://x.test/a", "h1", 5))
	require.NoError(t, err)
	assert.Equal(t, Unchanged, change)
	assert.EqualValues(t, 3, f.calls.Load())

	// A new Indexer (the next crawl) on the same index: still no embedding
	// of the unchanged page, and the changed one is embedded again.
	ix = New(s, WithEmbedder("fake-embed", f.embed), WithEmbedBatch(2, 2))
	change, _, err = ix.Add(ctx, manyChunks("https://x.test/a", "h1", 5))
	require.NoError(t, err)
	assert.Equal(t, Unchanged, change)
	assert.EqualValues(t, 3, f.calls.Load())
	change, _, err = ix.Add(ctx, manyChunks("https://x.test/a", "h2", 1))
	require.NoError(t, err)
	assert.Equal(t, Changed, change)
	assert.EqualValues(t, 4, f.calls.Load())

	name, dim, err := IndexEmbedder(ctx, s)
	require.NoError(t, err)
	assert.Equal(t, "fake-embed", name)
	assert.Equal(t, 8, dim)
}

func TestEmbedText(t *testing.T) {
	c := Chunk{Title: "Billing FAQ", Heading: "Billing FAQ > Invoices", Text: "Every invoice is in Settings."}
	assert.Equal(t, "Billing FAQ\nInvoices\nEvery invoice is in Settings.", EmbedText(c))
	assert.Equal(t, "Just text", EmbedText(Chunk{Text: " Just text "}))
}

func TestEmbedderMismatch(t *testing.T) {
	ctx := context.Background()
	f := &fakeEmbedder{dim: 4}
	built := func(embedder, dim string) *memStore {
		s := newMemStore()
		s.meta = map[string]string{MetaEmbedder: embedder, MetaEmbedDim: dim}
		s.pages["https://x.test/old"] = PageInfo{URL: "https://x.test/old", Hash: "old"}
		s.chunks["https://x.test/old"] = []Chunk{{ID: "https://x.test/old#0"}}
		return s
	}
	tests := []struct {
		name      string
		store     *memStore
		opts      []Option
		wantParts []string
	}{
		{"other model", built("bge-m3", "4"), []Option{WithEmbedder("nomic-embed-text", f.embed)},
			[]string{`built with embedding model "bge-m3", not "nomic-embed-text"`, "--embed-model bge-m3", "new --data directory"}},
		{"keyword index, embedder given", built("", ""), []Option{WithEmbedder("bge-m3", f.embed)},
			[]string{"without embeddings", `"bge-m3"`, "new --data directory"}},
		{"embedded index, no embedder", built("bge-m3", "4"), nil,
			[]string{`built with embedding model "bge-m3"`, "--embed-model bge-m3"}},
		{"same name, other dimension", built("bge-m3", "1024"), []Option{WithEmbedder("bge-m3", f.embed)},
			[]string{"dimension 4", "dimension 1024"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := New(tt.store, tt.opts...)
			_, _, err := ix.Add(ctx, manyChunks("https://x.test/new", "n", 2))
			require.ErrorIs(t, err, ErrEmbedderMismatch)
			for _, p := range tt.wantParts {
				assert.Contains(t, err.Error(), p)
			}
			assert.NotContains(t, tt.store.pages, "https://x.test/new", "nothing written")
		})
	}
}

func TestEmptyIndexTakesTheNewEmbedder(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	s.meta = map[string]string{MetaEmbedder: "old-model", MetaEmbedDim: "1024"}
	f := &fakeEmbedder{dim: 4}
	ix := New(s, WithEmbedder("new-model", f.embed))
	_, _, err := ix.Add(ctx, manyChunks("https://x.test/a", "h", 1))
	require.NoError(t, err)
	assert.Equal(t, "new-model", s.meta[MetaEmbedder])
	assert.Equal(t, "4", s.meta[MetaEmbedDim])
}

func TestEmbedErrorsStopAndWriteNothing(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	boom := errors.New("boom")
	f := &fakeEmbedder{dim: 4, fail: boom}
	ix := New(s, WithEmbedder("fake-embed", f.embed), WithEmbedBatch(1, 2))
	_, _, err := ix.Add(ctx, manyChunks("https://x.test/a", "h", 20))
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "embed with fake-embed")
	assert.Empty(t, s.pages)
	assert.LessOrEqual(t, f.calls.Load(), int32(3), "the first error cancels the remaining batches")
}

func TestEmbedConcurrencyIsBounded(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	f := &fakeEmbedder{dim: 4, delay: 5 * time.Millisecond}
	ix := New(s, WithEmbedder("fake-embed", f.embed), WithEmbedBatch(1, 2))
	_, n, err := ix.Add(ctx, manyChunks("https://x.test/a", "h", 12))
	require.NoError(t, err)
	assert.Equal(t, 12, n)
	assert.EqualValues(t, 12, f.calls.Load())
	assert.EqualValues(t, 2, f.maxSeen.Load())
}

func TestEmbedCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := newMemStore()
	f := &fakeEmbedder{dim: 4, delay: time.Minute}
	ix := New(s, WithEmbedder("fake-embed", f.embed))
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := ix.Add(ctx, manyChunks("https://x.test/a", "h", 3))
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Empty(t, s.pages)
}

// TestCrawlEmbedsInBatchesAcrossPages crawls a small site whose pages hold
// one chunk each: the crawl groups them into full requests.
func TestCrawlEmbedsInBatchesAcrossPages(t *testing.T) {
	mux := http.NewServeMux()
	const pages = 10
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var links strings.Builder
		for i := range pages {
			fmt.Fprintf(&links, `<li><a href="/p%d">page %d</a></li>`, i, i)
		}
		fmt.Fprintf(w, `<html lang="en"><head><title>%s</title></head><body><main><h1>%s</h1><p>Some words about %s that make a chunk of text.</p><ul>%s</ul></main></body></html>`,
			r.URL.Path, r.URL.Path, r.URL.Path, links.String())
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var mu sync.Mutex
	var sizes []int
	f := &fakeEmbedder{dim: 8}
	counting := func(ctx context.Context, texts []string) ([][]float32, error) {
		mu.Lock()
		sizes = append(sizes, len(texts))
		mu.Unlock()
		return f.embed(ctx, texts)
	}
	s := newMemStore()
	ls := &lockedStore{s: s}
	ix := New(ls, WithEmbedder("fake-embed", counting), WithEmbedBatch(4, 2))
	st, _, err := ix.Crawl(context.Background(), crawler.Options{}, srv.URL+"/")
	require.NoError(t, err)
	require.Equal(t, pages+1, st.New)
	total := 0
	for _, n := range sizes {
		total += n
		assert.LessOrEqual(t, n, 4)
	}
	assert.Equal(t, st.Chunks, total)
	assert.Less(t, len(sizes), st.New, "several pages per request")
	for u, cs := range s.chunks {
		for _, c := range cs {
			assert.Len(t, c.Vector, 8, u)
		}
	}

	// Crawling again changes nothing and embeds nothing.
	before := f.calls.Load()
	ix = New(ls, WithEmbedder("fake-embed", counting), WithEmbedBatch(4, 2))
	st, _, err = ix.Crawl(context.Background(), crawler.Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.Equal(t, pages+1, st.Unchanged)
	assert.Equal(t, before, f.calls.Load())
}

// lockedStore makes a memStore safe for the crawler, which asks the store
// about known pages from its fetching goroutines.
type lockedStore struct {
	mu sync.Mutex
	s  *memStore
}

var _ Store = (*lockedStore)(nil)

func (l *lockedStore) Page(ctx context.Context, url string) (PageInfo, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Page(ctx, url)
}

func (l *lockedStore) ReplacePage(ctx context.Context, p PageInfo, cs []Chunk) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.ReplacePage(ctx, p, cs)
}

func (l *lockedStore) UpdatePage(ctx context.Context, p PageInfo) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.UpdatePage(ctx, p)
}

func (l *lockedStore) DeletePage(ctx context.Context, url string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.DeletePage(ctx, url)
}

func (l *lockedStore) PageURLs(ctx context.Context) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.PageURLs(ctx)
}

func (l *lockedStore) Counts(ctx context.Context) (int, int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Counts(ctx)
}

func (l *lockedStore) SetMeta(ctx context.Context, k, v string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.SetMeta(ctx, k, v)
}

func (l *lockedStore) Meta(ctx context.Context, k string) (string, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.s.Meta(ctx, k)
}
