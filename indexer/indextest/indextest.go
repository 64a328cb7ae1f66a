// Package indextest is the behaviour suite every index backend passes: the
// embedded SQLite index and the Qdrant index run the same cases, so that
// `--qdrant` changes where the index lives, not what sitebot answers.
package indextest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
)

// Backend is what the suite tests: a Store that searches and closes.
type Backend interface {
	indexer.Store
	Search(ctx context.Context, q indexer.Query) ([]indexer.Hit, error)
	Close() error
}

// Hybrid is implemented by backends that can store dense vectors. The suite
// runs its hybrid cases (chunks carrying vectors, queries with
// indexer.Query.Vector) only when Hybrid reports true; a backend without the
// method is tested as keyword-only.
type Hybrid interface {
	Hybrid() bool
}

// Dim is the dimension of the vectors the suite writes. A backend that needs
// the dimension up front (Qdrant) must be opened with it.
const Dim = 4

// Open returns a backend for the (sub)test t. The suite calls it once at the
// start of every subtest and again, in the same subtest, after closing the
// first backend: the second call must reopen the same index (same file, same
// collection), since that is how the suite checks that data survives a
// restart. Indexes of different subtests must be independent. The suite
// closes every backend it opens.
type Open func(t *testing.T) Backend

// Run runs the behaviour suite against the backends open returns.
func Run(t *testing.T, open Open) {
	cases := []struct {
		name string
		run  func(t *testing.T, s *suite)
	}{
		{"WriteAndRead", testWriteAndRead},
		{"ReplaceLeavesNoDuplicates", testReplace},
		{"UpdatePageKeepsChunks", testUpdatePage},
		{"DeletePage", testDeletePage},
		{"SearchRanking", testSearchRanking},
		{"SearchFilters", testSearchFilters},
		{"Hybrid", testHybrid},
		{"Meta", testMeta},
		{"Restart", testRestart},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &suite{t: t, open: open, ctx: context.Background()}
			s.b = s.reopen()
			c.run(t, s)
		})
	}
}

// suite holds one subtest's backend.
type suite struct {
	t    *testing.T
	open Open
	ctx  context.Context
	b    Backend
}

// reopen opens the subtest's index and arranges for it to be closed once.
func (s *suite) reopen() Backend {
	s.t.Helper()
	b := s.open(s.t)
	require.NotNil(s.t, b, "open returned no backend")
	c := &closeOnce{Backend: b}
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// restart closes the backend and opens the same index again.
func (s *suite) restart() {
	s.t.Helper()
	require.NoError(s.t, s.b.Close(), "close")
	s.b = s.reopen()
}

// hybrid reports whether the backend stores dense vectors.
func (s *suite) hybrid() bool {
	h, ok := s.b.(Hybrid)
	return ok && h.Hybrid()
}

// write stores p (with vectors when the backend takes them).
func (s *suite) write(p testPage) {
	s.t.Helper()
	chunks := p.chunks
	if !s.hybrid() {
		chunks = withoutVectors(chunks)
	}
	info := p.info
	info.Chunks = len(chunks)
	require.NoError(s.t, s.b.ReplacePage(s.ctx, info, chunks), "replace page %s", info.URL)
}

func (s *suite) search(q indexer.Query) []indexer.Hit {
	s.t.Helper()
	hits, err := s.b.Search(s.ctx, q)
	require.NoError(s.t, err, "search %+v", q)
	for i := 1; i < len(hits); i++ {
		assert.GreaterOrEqual(s.t, hits[i-1].Score, hits[i].Score, "hits of %q are not best first", q.Text)
	}
	seen := map[string]bool{}
	for _, h := range hits {
		assert.False(s.t, seen[h.ID], "chunk %s appears twice in the hits of %q", h.ID, q.Text)
		seen[h.ID] = true
	}
	return hits
}

func (s *suite) counts() (pages, chunks int) {
	s.t.Helper()
	pages, chunks, err := s.b.Counts(s.ctx)
	require.NoError(s.t, err)
	return pages, chunks
}

type closeOnce struct {
	Backend
	once sync.Once
	err  error
}

func (c *closeOnce) Close() error {
	c.once.Do(func() { c.err = c.Backend.Close() })
	return c.err
}

// Hybrid forwards the wrapped backend's capability.
func (c *closeOnce) Hybrid() bool {
	h, ok := c.Backend.(Hybrid)
	return ok && h.Hybrid()
}

func ids(hits []indexer.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func pageURLs(hits []indexer.Hit) map[string]bool {
	out := map[string]bool{}
	for _, h := range hits {
		out[h.PageURL] = true
	}
	return out
}

func testWriteAndRead(t *testing.T, s *suite) {
	_, ok, err := s.b.Page(s.ctx, billing.info.URL)
	require.NoError(t, err)
	assert.False(t, ok, "an empty index holds no page")
	urls, err := s.b.PageURLs(s.ctx)
	require.NoError(t, err)
	assert.Empty(t, urls)
	pages, chunks := s.counts()
	assert.Equal(t, [2]int{0, 0}, [2]int{pages, chunks})

	s.write(billing)
	s.write(privacy)
	s.write(russian)

	got, ok, err := s.b.Page(s.ctx, billing.info.URL)
	require.NoError(t, err)
	require.True(t, ok)
	want := billing.info
	want.Chunks = len(billing.chunks)
	assert.Equal(t, want.URL, got.URL)
	assert.Equal(t, want.Title, got.Title)
	assert.Equal(t, want.Lang, got.Lang)
	assert.Equal(t, want.Hash, got.Hash)
	assert.Equal(t, want.Chunks, got.Chunks)
	assert.Equal(t, want.FAQs, got.FAQs)
	assert.Equal(t, want.ETag, got.ETag)
	assert.Equal(t, want.LastModified, got.LastModified)
	assert.Equal(t, want.Links, got.Links)
	assert.True(t, want.IndexedAt.Equal(got.IndexedAt), "indexed at: want %v, got %v", want.IndexedAt, got.IndexedAt)

	urls, err = s.b.PageURLs(s.ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{billing.info.URL, privacy.info.URL, russian.info.URL}, urls)
	pages, chunks = s.counts()
	assert.Equal(t, 3, pages)
	assert.Equal(t, len(billing.chunks)+len(privacy.chunks)+len(russian.chunks), chunks)

	// A hit carries the whole chunk back.
	hits := s.search(indexer.Query{Text: "PayPal"})
	require.NotEmpty(t, hits)
	want0 := billing.chunks[2]
	got0 := hits[0].Chunk
	got0.Vector = nil
	want0.Vector = nil
	assert.Equal(t, want0, got0)
	assert.Greater(t, hits[0].Score, 0.0)
}

func testReplace(t *testing.T, s *suite) {
	s.write(billing)
	s.write(privacy)
	s.write(billingV2)

	pages, chunks := s.counts()
	assert.Equal(t, 2, pages)
	assert.Equal(t, len(billingV2.chunks)+len(privacy.chunks), chunks, "the old version's chunks must be gone")

	p, ok, err := s.b.Page(s.ctx, billing.info.URL)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, billingV2.info.Hash, p.Hash)
	assert.Equal(t, billingV2.info.Title, p.Title)
	assert.Equal(t, len(billingV2.chunks), p.Chunks)

	assert.Empty(t, s.search(indexer.Query{Text: "PayPal"}), "a word only the old version had still matches")
	hits := s.search(indexer.Query{Text: "refund subscription"})
	require.NotEmpty(t, hits)
	assert.Equal(t, billingV2.chunks[0].ID, hits[0].ID)
	assert.Equal(t, billingV2.chunks[0].Text, hits[0].Text)

	// Writing the same version again changes nothing.
	s.write(billingV2)
	pages, chunks = s.counts()
	assert.Equal(t, 2, pages)
	assert.Equal(t, len(billingV2.chunks)+len(privacy.chunks), chunks)
}

func testUpdatePage(t *testing.T, s *suite) {
	s.write(billing)
	upd := billing.info
	upd.Chunks = len(billing.chunks)
	upd.ETag = `"v2"`
	upd.LastModified = "Tue, 02 Jan 2024 10:00:00 GMT"
	upd.Links = []string{"https://shop.test/docs/shipping"}
	upd.IndexedAt = billing.info.IndexedAt.Add(time.Hour)
	require.NoError(t, s.b.UpdatePage(s.ctx, upd))

	p, ok, err := s.b.Page(s.ctx, upd.URL)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, upd.ETag, p.ETag)
	assert.Equal(t, upd.LastModified, p.LastModified)
	assert.Equal(t, upd.Links, p.Links)
	assert.True(t, upd.IndexedAt.Equal(p.IndexedAt))
	assert.Equal(t, billing.info.Hash, p.Hash)

	_, chunks := s.counts()
	assert.Equal(t, len(billing.chunks), chunks)
	assert.NotEmpty(t, s.search(indexer.Query{Text: "invoices"}))

	// Updating a page the index does not hold creates nothing.
	require.NoError(t, s.b.UpdatePage(s.ctx, indexer.PageInfo{URL: "https://shop.test/missing", ETag: "x"}))
	_, ok, err = s.b.Page(s.ctx, "https://shop.test/missing")
	require.NoError(t, err)
	assert.False(t, ok)
}

func testDeletePage(t *testing.T, s *suite) {
	s.write(billing)
	s.write(privacy)
	require.NoError(t, s.b.DeletePage(s.ctx, billing.info.URL))

	_, ok, err := s.b.Page(s.ctx, billing.info.URL)
	require.NoError(t, err)
	assert.False(t, ok)
	urls, err := s.b.PageURLs(s.ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{privacy.info.URL}, urls)
	pages, chunks := s.counts()
	assert.Equal(t, 1, pages)
	assert.Equal(t, len(privacy.chunks), chunks)
	assert.Empty(t, s.search(indexer.Query{Text: "invoices PayPal"}))
	assert.NotEmpty(t, s.search(indexer.Query{Text: "cookies"}))

	require.NoError(t, s.b.DeletePage(s.ctx, "https://shop.test/never-indexed"), "deleting a missing page is no error")
}

func testSearchRanking(t *testing.T, s *suite) {
	for _, p := range all {
		s.write(p)
	}
	tests := []struct {
		query string
		first string // the chunk that must rank first
	}{
		{"How do I cancel my subscription?", billing.chunks[0].ID},
		{"where can I download an invoice", billing.chunks[1].ID},
		{"Do you accept PayPal?", billing.chunks[2].ID},
		{"how long does shipping take", shipping.chunks[0].ID},
		{"cookies", privacy.chunks[0].ID},
		{"Сколько стоят услуги?", russian.chunks[0].ID},
		{"ёлка", russian.chunks[0].ID}, // folded like the document's "Ёлка"
	}
	for _, tt := range tests {
		hits := s.search(indexer.Query{Text: tt.query})
		if assert.NotEmpty(t, hits, "no hits for %q", tt.query) {
			assert.Equal(t, tt.first, hits[0].ID, "first hit for %q (hits %v)", tt.query, ids(hits))
		}
	}

	for _, q := range []string{"", "   ", "?!", "the and of"} {
		assert.Empty(t, s.search(indexer.Query{Text: q}), "query %q has no content words", q)
	}
	assert.Empty(t, s.search(indexer.Query{Text: "xylophone"}), "no chunk has the word")

	hits := s.search(indexer.Query{Text: "subscription cookies invoices shipping", Limit: 2})
	assert.Len(t, hits, 2)
	hits = s.search(indexer.Query{Text: "subscription cookies invoices shipping"})
	assert.GreaterOrEqual(t, len(hits), 4, "the default limit returns more than a few hits")
}

func testSearchFilters(t *testing.T, s *suite) {
	for _, p := range all {
		s.write(p)
	}
	// "Sitebot" appears on pages in both languages and under every prefix.
	every := s.search(indexer.Query{Text: "sitebot"})
	require.Len(t, pageURLs(every), 4, "precondition: every page mentions sitebot")

	hits := s.search(indexer.Query{Text: "sitebot", Lang: "ru"})
	require.NotEmpty(t, hits)
	for _, h := range hits {
		assert.Equal(t, "ru", h.Lang, "Lang filter let %s through", h.ID)
	}
	hits = s.search(indexer.Query{Text: "sitebot", Lang: "en"})
	assert.Equal(t, map[string]bool{billing.info.URL: true, privacy.info.URL: true, shipping.info.URL: true}, pageURLs(hits))

	hits = s.search(indexer.Query{Text: "sitebot", URLPrefix: "https://shop.test/docs/"})
	assert.Equal(t, map[string]bool{billing.info.URL: true, shipping.info.URL: true}, pageURLs(hits))

	hits = s.search(indexer.Query{Text: "sitebot", URLPrefix: "https://shop.test/docs/ship"})
	assert.Equal(t, map[string]bool{shipping.info.URL: true}, pageURLs(hits), "a prefix that ends inside a path segment")

	hits = s.search(indexer.Query{Text: "sitebot", URLPrefix: "https://shop.test/docs/", Lang: "ru"})
	assert.Empty(t, hits)
	hits = s.search(indexer.Query{Text: "sitebot", URLPrefix: "https://shop.test/ru/", Lang: "ru"})
	assert.Equal(t, map[string]bool{russian.info.URL: true}, pageURLs(hits))

	// Filters cut before the limit: the one Russian chunk is found even
	// when English chunks would fill a limit of one.
	hits = s.search(indexer.Query{Text: "sitebot subscription", Lang: "ru", Limit: 1})
	require.Len(t, hits, 1)
	assert.Equal(t, russian.chunks[0].ID, hits[0].ID)
}

func testHybrid(t *testing.T, s *suite) {
	if !s.hybrid() {
		t.Skip("the backend stores no dense vectors (no Hybrid() bool reporting true): keyword search only")
	}
	for _, p := range all {
		s.write(p)
	}

	// The question shares no word with the shipping chunk, but its vector
	// is that chunk's: the dense side finds it.
	hits := s.search(indexer.Query{Text: "when will my order arrive", Vector: vec(0, 0, 1, 0.05)})
	require.NotEmpty(t, hits)
	assert.Equal(t, shipping.chunks[0].ID, hits[0].ID, "hits %v", ids(hits))

	// Keyword and dense evidence are fused: the chunk the words match and
	// the chunk the vector points at both rank above the rest.
	hits = s.search(indexer.Query{Text: "PayPal", Vector: vec(0, 0, 1, 0.05)})
	require.GreaterOrEqual(t, len(hits), 2)
	assert.ElementsMatch(t, []string{billing.chunks[2].ID, shipping.chunks[0].ID}, ids(hits[:2]), "hits %v", ids(hits))

	// When both sides agree the chunk wins.
	hits = s.search(indexer.Query{Text: "cancel subscription", Vector: vec(1, 0, 0, 0)})
	require.NotEmpty(t, hits)
	assert.Equal(t, billing.chunks[0].ID, hits[0].ID)

	// A vector alone searches too.
	hits = s.search(indexer.Query{Vector: vec(0, 0, 0, 1)})
	require.NotEmpty(t, hits)
	assert.Equal(t, privacy.chunks[0].ID, hits[0].ID)

	// Filters hold on the dense side as well.
	hits = s.search(indexer.Query{Text: "when will my order arrive", Vector: vec(0, 0, 1, 0), Lang: "ru"})
	for _, h := range hits {
		assert.Equal(t, "ru", h.Lang, "Lang filter let %s through", h.ID)
	}
	hits = s.search(indexer.Query{Vector: vec(0, 0, 1, 0), URLPrefix: "https://shop.test/blog/"})
	assert.Equal(t, map[string]bool{privacy.info.URL: true}, pageURLs(hits))

	// Replacing a page replaces its vectors.
	s.write(billingV2)
	hits = s.search(indexer.Query{Vector: vec(0.9, 0.1, 0, 0), Limit: 20})
	for _, h := range hits {
		assert.NotEqual(t, billing.chunks[1].ID, h.ID, "a chunk of the old version is still found by its vector")
	}
}

func testMeta(t *testing.T, s *suite) {
	_, ok, err := s.b.Meta(s.ctx, "embedder")
	require.NoError(t, err)
	assert.False(t, ok)

	require.NoError(t, s.b.SetMeta(s.ctx, "embedder", "ollama/bge-m3:1024"))
	require.NoError(t, s.b.SetMeta(s.ctx, "other", "x"))
	v, ok, err := s.b.Meta(s.ctx, "embedder")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "ollama/bge-m3:1024", v)

	require.NoError(t, s.b.SetMeta(s.ctx, "embedder", ""))
	v, ok, err = s.b.Meta(s.ctx, "embedder")
	require.NoError(t, err)
	assert.True(t, ok, "an empty value is still a value")
	assert.Equal(t, "", v)

	// Meta is not a page.
	pages, chunks := s.counts()
	assert.Equal(t, [2]int{0, 0}, [2]int{pages, chunks})
	urls, err := s.b.PageURLs(s.ctx)
	require.NoError(t, err)
	assert.Empty(t, urls)
}

func testRestart(t *testing.T, s *suite) {
	s.write(billing)
	s.write(russian)
	require.NoError(t, s.b.SetMeta(s.ctx, "embedder", "none"))
	s.restart()

	p, ok, err := s.b.Page(s.ctx, billing.info.URL)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, billing.info.Hash, p.Hash)
	pages, chunks := s.counts()
	assert.Equal(t, 2, pages)
	assert.Equal(t, len(billing.chunks)+len(russian.chunks), chunks)
	v, ok, err := s.b.Meta(s.ctx, "embedder")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "none", v)
	hits := s.search(indexer.Query{Text: "cancel subscription"})
	require.NotEmpty(t, hits)
	assert.Equal(t, billing.chunks[0].ID, hits[0].ID)

	// The reopened index takes writes.
	s.write(privacy)
	pages, _ = s.counts()
	assert.Equal(t, 3, pages)
}
