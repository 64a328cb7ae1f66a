package crawler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sitebot/sitebot/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crawlCollect crawls start and returns the pages by URL, failing the test
// on a page visited twice or concurrently.
func crawlCollect(t testing.TB, opts Options, start string) (map[string]Page, Report, error) {
	t.Helper()
	var (
		mu     sync.Mutex
		pages  = map[string]Page{}
		active atomic.Int32
	)
	rep, err := New(opts).Crawl(context.Background(), start, func(_ context.Context, p Page) error {
		if active.Add(1) != 1 {
			t.Errorf("visit called concurrently for %s", p.URL)
		}
		defer active.Add(-1)
		mu.Lock()
		defer mu.Unlock()
		if _, dup := pages[p.URL]; dup {
			t.Errorf("page %s visited twice", p.URL)
		}
		pages[p.URL] = p
		return nil
	})
	return pages, rep, err
}

func TestCrawlPlausible(t *testing.T) {
	dir := testenv.Shared(t, "fixtures/sites/plausible")
	var m testenv.SiteManifest
	testenv.ReadManifest(t, dir, &m)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()

	var progress []Progress
	opts := Options{Progress: func(p Progress) { progress = append(progress, p) }}
	pages, rep, err := crawlCollect(t, opts, srv.URL+"/")
	require.NoError(t, err)
	t.Logf("crawled %d pages (%d requests) in %s", rep.Pages, rep.Fetched, rep.Duration)

	// Exactly the manifest's pages, each under its canonical URL.
	var want, got []string
	for _, p := range m.Pages {
		want = append(want, srv.URL+p)
	}
	for u := range pages {
		got = append(got, u)
	}
	assert.ElementsMatch(t, want, got)
	assert.Equal(t, len(m.Pages), rep.Pages)
	assert.False(t, rep.Truncated)
	assert.Equal(t, []string{strings.TrimPrefix(srv.URL, "http://")}, rep.Hosts)
	assert.Len(t, rep.Seen, len(m.Pages))
	for _, u := range want {
		assert.True(t, rep.Seen[u], "Seen holds %s", u)
	}

	for path, title := range m.Titles {
		if p, ok := pages[srv.URL+path]; assert.True(t, ok, path) {
			assert.Equal(t, title, p.Title, path)
			assert.Equal(t, "en", p.Lang, path)
			assert.Len(t, p.Hash, 64)
		}
	}

	boilerplate := []string{
		"We use a few essential cookies",     // cookie banner
		"Funded entirely by our subscribers", // footer
		"Plausible Insights OÜ",              // footer copyright
		"Edit this page",                     // edit link
		"Skip to main content",               // skip link
		"On this page",                       // table of contents
		"Toggle navigation bar",              // header
	}
	for _, nope := range m.MustNotIndex {
		_, visited := pages[srv.URL+nope.Path]
		assert.False(t, visited, "%s must not be indexed", nope.Path)
		boilerplate = append(boilerplate, nope.Marker)
	}
	for u, p := range pages {
		for _, s := range p.Sections {
			for _, b := range boilerplate {
				if strings.Contains(s.Text, b) || strings.Contains(s.Heading, b) {
					t.Errorf("%s section %q holds %q", u, s.Heading, b)
				}
			}
		}
	}

	for _, v := range m.URLVariants {
		_, visited := pages[srv.URL+v.URL]
		assert.False(t, visited, "%s is indexed once, as %s", v.URL, v.Canonical)
		assert.Contains(t, pages, srv.URL+v.Canonical)
	}

	skipped := map[string]string{}
	for _, s := range rep.Skipped {
		skipped[s.URL] = s.Reason
	}
	for _, b := range m.BrokenLinks {
		assert.Contains(t, skipped[srv.URL+b.URL], "404", b.URL)
	}
	for _, a := range m.Assets {
		assert.NotContains(t, pages, srv.URL+a.URL)
	}
	assert.Contains(t, skipped[srv.URL+"/docs/files/plausible-quick-start-checklist.pdf"], "not HTML")
	assert.Contains(t, skipped[srv.URL+"/private/internal-notes.html"], "robots.txt")
	assert.Contains(t, skipped[srv.URL+"/beta-features-preview.html"], "noindex")
	assert.Contains(t, skipped["http://127.0.0.1:8000/sitemap.xml"], "another site", "the robots.txt sitemap names another origin")
	assert.Contains(t, skipped["http://127.0.0.1:8000/docs/billing.html"], "another site", "sitemap entries on another origin")

	for _, pair := range m.FAQPairs {
		p := pages[srv.URL+pair.URL]
		found := false
		for _, f := range p.FAQs {
			if f.Question == pair.Question {
				found = true
				assert.Equal(t, pair.Answer, f.Answer, pair.Question)
			}
		}
		assert.True(t, found, "%s: FAQ %q", pair.URL, pair.Question)
	}

	require.NotEmpty(t, progress)
	last := progress[len(progress)-1]
	assert.Equal(t, len(m.Pages), last.Pages)
	assert.Equal(t, rep.Fetched, last.Fetched)
}

func TestCrawlLetsEncryptFAQ(t *testing.T) {
	dir := testenv.Shared(t, "fixtures/sites/letsencrypt-faq")
	var m struct {
		Pages     []string `json:"pages"`
		Languages map[string]struct {
			URL       string `json:"url"`
			Questions []struct {
				Question string `json:"question"`
				Anchor   string `json:"anchor"`
			} `json:"questions"`
		} `json:"languages"`
	}
	testenv.ReadManifest(t, dir, &m)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()

	pages, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	var want []string
	for _, p := range m.Pages {
		want = append(want, srv.URL+p)
	}
	assert.ElementsMatch(t, want, mapsKeys(pages))
	assert.Equal(t, len(m.Pages), rep.Pages)
	assert.Equal(t, "en", pages[srv.URL+"/"].Lang)

	require.Len(t, m.Languages, 4)
	for lang, l := range m.Languages {
		t.Run(lang, func(t *testing.T) {
			p, ok := pages[srv.URL+l.URL]
			require.True(t, ok, l.URL)
			// fi is untranslated upstream: <html lang="fi"> around English text.
			assert.Equal(t, lang, p.Lang)
			anchors := map[string]string{}
			for _, s := range p.Sections {
				a, err := url.PathUnescape(s.Anchor)
				require.NoError(t, err)
				anchors[a] = s.Heading
			}
			require.NotEmpty(t, l.Questions)
			for _, q := range l.Questions {
				a, err := url.PathUnescape(q.Anchor)
				require.NoError(t, err)
				if assert.Contains(t, anchors, a, q.Question) {
					assert.Equal(t, q.Question, anchors[a])
				}
			}
		})
	}
}

func mapsKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// BenchmarkCrawlPlausible crawls the 134-page fixture over loopback.
func BenchmarkCrawlPlausible(b *testing.B) {
	dir := testenv.Shared(b, "fixtures/sites/plausible")
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	c := New(Options{})
	pages := 0
	for b.Loop() {
		rep, err := c.Crawl(context.Background(), srv.URL+"/", func(context.Context, Page) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		pages += rep.Pages
	}
	b.ReportMetric(float64(pages)/b.Elapsed().Seconds(), "pages/s")
}
