package crawler

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSitemap(t *testing.T) {
	urlset := `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">
  <url><loc> https://example.com/a </loc><lastmod>2026-01-01</lastmod>
    <xhtml:link rel="alternate" hreflang="de" href="https://example.com/de/a"/></url>
  <url><loc>https://example.com/b?x=1&amp;y=2</loc></url>
</urlset>`
	index := `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://example.com/sitemap-1.xml.gz</loc></sitemap>
  <sitemap><loc>https://example.com/sitemap-2.xml</loc></sitemap>
</sitemapindex>`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write([]byte(urlset))
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	tests := []struct {
		name            string
		body            []byte
		pages, sitemaps []string
		wantErr         bool
	}{
		{name: "urlset", body: []byte(urlset), pages: []string{"https://example.com/a", "https://example.com/b?x=1&y=2"}},
		{name: "gzip", body: gz.Bytes(), pages: []string{"https://example.com/a", "https://example.com/b?x=1&y=2"}},
		{name: "index", body: []byte(index), sitemaps: []string{"https://example.com/sitemap-1.xml.gz", "https://example.com/sitemap-2.xml"}},
		{name: "html", body: []byte("<html><body><p>not a sitemap</p></body></html>")},
		{name: "truncated", body: []byte("<html><body>oops"), wantErr: true},
		{name: "garbage", body: []byte("\x00\x01<<<"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages, sitemaps, err := parseSitemap(tt.body)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.pages, pages)
			assert.Equal(t, tt.sitemaps, sitemaps)
		})
	}
}

func TestParseSitemapOrdersByLastmod(t *testing.T) {
	body := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://s.test/old</loc><lastmod>2024-01-05</lastmod></url>
  <url><loc>https://s.test/undated</loc></url>
  <url><loc>https://s.test/newest</loc><lastmod>2026-07-24T10:30:00+02:00</lastmod></url>
  <url><loc>https://s.test/new</loc><lastmod>2026-07-24</lastmod></url>
  <url><lastmod>2026-08-01</lastmod></url>
  <url><loc>https://s.test/bad-date</loc><lastmod>yesterday</lastmod></url>
</urlset>`)
	pages, sitemaps, err := parseSitemap(body)
	require.NoError(t, err)
	assert.Empty(t, sitemaps)
	assert.Equal(t, []string{"https://s.test/newest", "https://s.test/new", "https://s.test/old",
		"https://s.test/undated", "https://s.test/bad-date"}, pages)
}

// TestGuessedSitemapObeysRobots: /sitemap.xml, which sitebot tries on its
// own, is not fetched when robots.txt disallows it; a sitemap that
// robots.txt names is fetched even under a disallowed path.
func TestGuessedSitemapObeysRobots(t *testing.T) {
	var guessed, named atomic.Int32
	var srv *httptest.Server
	srv = testSite(t, map[string]http.HandlerFunc{
		"/robots.txt": func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, "User-agent: *\nDisallow: /sitemap.xml\nDisallow: /maps/\nSitemap: %s/maps/pages.xml\n", srv.URL)
		},
		"/":            serveHTML(htmlPage("Home")),
		"/sitemap.xml": func(w http.ResponseWriter, _ *http.Request) { guessed.Add(1) },
		"/maps/pages.xml": func(w http.ResponseWriter, _ *http.Request) {
			named.Add(1)
			fmt.Fprintf(w, `<urlset><url><loc>%s/listed</loc></url></urlset>`, srv.URL)
		},
		"/listed": serveHTML(htmlPage("Listed")),
	})
	pages, rep, err := crawlCollect(t, Options{}, srv.URL+"/")
	require.NoError(t, err)
	assert.Zero(t, guessed.Load(), "a disallowed /sitemap.xml is not fetched")
	assert.EqualValues(t, 1, named.Load())
	assert.Contains(t, pages, srv.URL+"/listed")
	assert.Contains(t, skipReasons(rep)[srv.URL+"/sitemap.xml"], "robots.txt")
}
