package crawler

import (
	"bytes"
	"compress/gzip"
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
