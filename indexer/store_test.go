package indexer

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/crawler"
)

// memStore is an in-memory Store for the Indexer's tests.
type memStore struct {
	pages    map[string]PageInfo
	chunks   map[string][]Chunk
	replaces int
	updates  int
	meta     map[string]string
	fail     error
}

func newMemStore() *memStore {
	return &memStore{pages: map[string]PageInfo{}, chunks: map[string][]Chunk{}}
}

func (m *memStore) Page(_ context.Context, url string) (PageInfo, bool, error) {
	p, ok := m.pages[url]
	return p, ok, nil
}

func (m *memStore) UpdatePage(_ context.Context, p PageInfo) error {
	if _, ok := m.pages[p.URL]; ok {
		m.updates++
		m.pages[p.URL] = p
	}
	return nil
}

func (m *memStore) SetMeta(_ context.Context, k, v string) error {
	if m.meta == nil {
		m.meta = map[string]string{}
	}
	m.meta[k] = v
	return nil
}

func (m *memStore) Meta(_ context.Context, k string) (string, bool, error) {
	v, ok := m.meta[k]
	return v, ok, nil
}

func (m *memStore) Counts(context.Context) (pages, chunks int, err error) {
	for _, cs := range m.chunks {
		chunks += len(cs)
	}
	return len(m.pages), chunks, nil
}

func (m *memStore) ReplacePage(_ context.Context, p PageInfo, cs []Chunk) error {
	if m.fail != nil {
		return m.fail
	}
	m.replaces++
	m.pages[p.URL], m.chunks[p.URL] = p, cs
	return nil
}

func (m *memStore) DeletePage(_ context.Context, url string) error {
	delete(m.pages, url)
	delete(m.chunks, url)
	return nil
}

func (m *memStore) PageURLs(context.Context) ([]string, error) {
	var urls []string
	for u := range m.pages {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	return urls, nil
}

func page(url, hash, text string) crawler.Page {
	return crawler.Page{URL: url, Title: "T", Lang: "en", Hash: hash,
		Sections: []crawler.Section{{Anchor: "a", Heading: "A", Path: []string{"A"}, Level: 2, Text: text}},
		FAQs:     []crawler.FAQ{{Question: "Q?", Answer: "A."}},
	}
}

func TestIndexerAdd(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	ix := New(s)

	steps := []struct {
		name       string
		page       crawler.Page
		want       Change
		wantChunks int
		replaces   int
	}{
		{"new page", page("https://x.test/a", "h1", "one"), Added, 2, 1},
		{"same hash", page("https://x.test/a", "h1", "one, but the hash says unchanged"), Unchanged, 0, 1},
		{"new hash", page("https://x.test/a", "h2", "two"), Changed, 2, 2},
		{"another page", page("https://x.test/b", "h1", "one"), Added, 2, 3},
	}
	for _, st := range steps {
		change, n, err := ix.Add(ctx, st.page)
		require.NoError(t, err, st.name)
		assert.Equal(t, st.want, change, st.name)
		assert.Equal(t, st.wantChunks, n, st.name)
		assert.Equal(t, st.replaces, s.replaces, st.name)
	}
	info := s.pages["https://x.test/a"]
	assert.Equal(t, PageInfo{URL: "https://x.test/a", Title: "T", Lang: "en", Chunks: 2, FAQs: 1, Hash: "h2", IndexedAt: info.IndexedAt}, info)
	assert.False(t, info.IndexedAt.IsZero())
	assert.Equal(t, "two", s.chunks["https://x.test/a"][0].Text)
}

func TestIndexerAddHashesPagesWithoutHash(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	ix := New(s)
	p := page("https://x.test/a", "", "text")
	c, _, err := ix.Add(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, Added, c)
	c, _, err = ix.Add(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, Unchanged, c)
	p.Sections[0].Text = "other text"
	c, _, err = ix.Add(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, Changed, c)
}

func TestIndexerAddErrors(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	_, _, err := New(s).Add(ctx, crawler.Page{})
	require.Error(t, err)

	s.fail = errors.New("disk full")
	_, _, err = New(s).Add(ctx, page("https://x.test/a", "h", "t"))
	require.ErrorIs(t, err, s.fail)
	assert.Contains(t, err.Error(), "https://x.test/a")
}

func TestRemoveMissing(t *testing.T) {
	ctx := context.Background()
	s := newMemStore()
	ix := New(s)
	for _, u := range []string{
		"https://x.test/a", "https://x.test/b", "https://X.test/c",
		"https://x.test:8443/d", "https://other.test/e",
	} {
		_, _, err := ix.Add(ctx, page(u, "h", "t"))
		require.NoError(t, err)
	}
	n, err := ix.RemoveMissing(ctx, []string{"x.test"}, map[string]bool{"https://x.test/a": true})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	urls, _ := s.PageURLs(ctx)
	// x.test:8443 is another host; other.test was not crawled.
	assert.Equal(t, []string{"https://other.test/e", "https://x.test/a", "https://x.test:8443/d"}, urls)

	n, err = ix.RemoveMissing(ctx, nil, nil)
	require.NoError(t, err)
	assert.Zero(t, n)
}
