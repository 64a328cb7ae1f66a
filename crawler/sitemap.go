package crawler

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxSitemapBytes caps a sitemap after decompression (the protocol's limit).
const maxSitemapBytes = 50 << 20

// parseSitemap reads a sitemap or a sitemap index (plain or gzip-compressed)
// and returns the page URLs (<urlset><url><loc>) and the child sitemaps
// (<sitemapindex><sitemap><loc>) it names, as written.
func parseSitemap(body []byte) (pages, sitemaps []string, err error) {
	var r io.Reader = bytes.NewReader(body)
	if len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("sitemap: gzip: %w", err)
		}
		defer zr.Close()
		r = io.LimitReader(zr, maxSitemapBytes)
	}
	dec := xml.NewDecoder(r)
	dec.Strict = false
	dec.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	var stack []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if len(pages)+len(sitemaps) > 0 {
				break // keep what was read before the damage
			}
			return nil, nil, fmt.Errorf("sitemap: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, strings.ToLower(t.Name.Local))
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			n := len(stack)
			if n < 2 || stack[n-1] != "loc" {
				continue
			}
			loc := strings.TrimSpace(string(t))
			if loc == "" {
				continue
			}
			switch stack[n-2] {
			case "url":
				pages = append(pages, loc)
			case "sitemap":
				sitemaps = append(sitemaps, loc)
			}
		}
	}
	return pages, sitemaps, nil
}
