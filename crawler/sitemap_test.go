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
