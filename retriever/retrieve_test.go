package retriever

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/crawler"
	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/indexer/embedded"
)

var _ Searcher = (*embedded.Index)(nil)

// fakeSearcher returns its hits (best first) and records the query.
type fakeSearcher struct {
	hits []indexer.Hit
	err  error
	got  indexer.Query
}

func (f *fakeSearcher) Search(_ context.Context, q indexer.Query) ([]indexer.Hit, error) {
	f.got = q
	return f.hits, f.err
}

func hit(url, heading, text string, score float64) indexer.Hit {
	return indexer.Hit{Chunk: indexer.Chunk{ID: url + text, URL: url, Title: "Billing", Heading: heading, Text: text}, Score: score}
}

func TestRetrieveDedupesPerURL(t *testing.T) {
	f := &fakeSearcher{hits: []indexer.Hit{
		hit("https://x.test/a#one", "One", "first chunk of one", 9),
		hit("https://x.test/a#one", "One", "second chunk of one", 8),
		hit("https://x.test/a#two", "Two", "two", 7),
		hit("https://x.test/b", "", "page b", 6),
		hit("https://x.test/a#one", "One", "third chunk of one", 5),
		hit("https://x.test/c", "", "page c", 4),
	}}
	r := New(f)
	res, err := r.Retrieve(context.Background(), "chunk", 3)
	require.NoError(t, err)
	assert.Equal(t, indexer.Query{Text: "chunk", Limit: 12}, f.got, "fetches 4k candidates")
	var urls []string
	for _, h := range res.Hits {
		urls = append(urls, h.URL)
	}
	assert.Equal(t, []string{"https://x.test/a#one", "https://x.test/a#two", "https://x.test/b"}, urls)
	assert.Equal(t, "first chunk of one", res.Hits[0].Text, "the best chunk of a section is kept")

	res, err = New(f, WithCandidates(2)).Retrieve(context.Background(), "chunk", 0)
	require.NoError(t, err)
	assert.Equal(t, 10, f.got.Limit, "k defaults to 5")
	assert.Len(t, res.Hits, 4)
}

func TestRetrieveError(t *testing.T) {
	f := &fakeSearcher{err: errors.New("disk on fire")}
	_, err := New(f).Retrieve(context.Background(), "q", 5)
	require.ErrorIs(t, err, f.err)
}

func TestConfidence(t *testing.T) {
	cancel := hit("https://x.test/billing#cancel", "Cancel your subscription", "Open Settings and click Cancel.", 5)
	invoices := hit("https://x.test/billing#invoices", "Download invoices", "Every invoice is in Settings.", 4)
	rechnung := hit("https://x.test/de/billing#rechnung", "Rechnung herunterladen", "Jede Rechnung finden Sie in den Einstellungen.", 4)
	rechnung.Lang = "de"
	schet := hit("https://x.test/ru/billing#schet", "Счёт", "Каждый счёт есть в настройках.", 4)
	schet.Lang = "ru"
	tests := []struct {
		name, q  string
		hits     []indexer.Hit
		min, max float64
	}{
		{"all content words in the best hit", "How do I cancel my subscription?", []indexer.Hit{cancel, invoices}, 1, 1},
		{"stems match", "cancellation of subscriptions", []indexer.Hit{cancel}, 1, 1},
		{"german stems", "Wo finde ich meine Rechnungen?", []indexer.Hit{rechnung}, 1, 1}, // finde/finden, Rechnungen/Rechnung
		{"german stems, all words", "Rechnungen herunterladen", []indexer.Hit{cancel, rechnung}, 1, 1},
		{"russian stems and ё", "счета", []indexer.Hit{schet}, 1, 1},
		{"stems of the hit's language only", "Rechnungen", []indexer.Hit{cancel}, 0, 0},
		{"half covered", "cancel my gym membership plan", []indexer.Hit{cancel}, 0.2, 0.3},
		{"covered between two hits", "cancel subscription and download invoice", []indexer.Hit{cancel, invoices}, 0.6, 0.65},
		{"nothing covered", "what's the weather in Paris", []indexer.Hit{cancel}, 0, 0},
		{"no hits", "cancel subscription", nil, 0, 0},
		{"no content words", "how do I do it?", []indexer.Hit{cancel}, 0, 0},
		{"short words need exact match", "can sub", []indexer.Hit{cancel}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Confidence(tt.q, tt.hits)
			assert.GreaterOrEqual(t, c, tt.min)
			assert.LessOrEqual(t, c, tt.max)
		})
	}
}

// End to end on the embedded index: the in-scope question is confident, the
// out-of-scope one is not, and FTS syntax in a question is harmless.
func TestRetrieveEmbedded(t *testing.T) {
	ctx := context.Background()
	ix, err := embedded.Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	require.NoError(t, err)
	defer ix.Close()
	in := indexer.New(ix)
	for _, p := range []crawler.Page{
		{URL: "https://x.test/billing", Title: "Billing", Lang: "en", Hash: "1", Sections: []crawler.Section{
			{Anchor: "cancel", Heading: "Cancel your subscription", Path: []string{"Billing", "Cancel your subscription"}, Level: 2,
				Text: "Open Settings, then Subscription, and click Cancel subscription. Your plan stays active until the end of the billing period."},
			{Anchor: "invoices", Heading: "Download invoices", Path: []string{"Billing", "Download invoices"}, Level: 2,
				Text: "Invoices are in Settings under Invoices."},
		}},
		{URL: "https://x.test/privacy", Title: "Privacy", Lang: "en", Hash: "1", Sections: []crawler.Section{
			{Heading: "Cookies", Path: []string{"Cookies"}, Level: 2, Text: "No cookies. Data stays in the EU, in Paris and Frankfurt."},
		}},
	} {
		_, _, err := in.Add(ctx, p)
		require.NoError(t, err)
	}

	r := New(ix)
	good, err := r.Retrieve(ctx, "how do I cancel my subscription", 5)
	require.NoError(t, err)
	require.NotEmpty(t, good.Hits)
	assert.Equal(t, "https://x.test/billing#cancel", good.Hits[0].URL)

	bad, err := r.Retrieve(ctx, "what's the weather in Paris", 5)
	require.NoError(t, err)
	assert.Greater(t, good.Confidence, 0.9)
	assert.Less(t, bad.Confidence, 0.6)

	weird, err := r.Retrieve(ctx, `"cancel" OR subscr* NEAR( - '`, 5)
	require.NoError(t, err)
	assert.NotEmpty(t, weird.Hits)

	none, err := r.Retrieve(ctx, "???", 5)
	require.NoError(t, err)
	assert.Empty(t, none.Hits)
	assert.Zero(t, none.Confidence)
}

func TestPerHitConfidence(t *testing.T) {
	hits := []indexer.Hit{
		{Chunk: indexer.Chunk{URL: "https://s.test/a", Title: "Cancel your subscription", Text: "Open billing and cancel the subscription.", Lang: "en"}},
		{Chunk: indexer.Chunk{URL: "https://s.test/b", Title: "Billing", Text: "Invoices are sent by email.", Lang: "en"}},
	}
	c := Confidence("how do I cancel my subscription", hits)
	assert.InDelta(t, 1, hits[0].Confidence, 1e-9)
	assert.Zero(t, hits[1].Confidence)
	assert.InDelta(t, 1, c, 1e-9)
}
