package crawler

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// maxSitemapBytes caps a sitemap after decompression (the protocol's limit).
const maxSitemapBytes = 50 << 20

// parseSitemap reads a sitemap or a sitemap index (plain or gzip-compressed)
// and returns the page URLs (<urlset><url><loc>) and the child sitemaps
// (<sitemapindex><sitemap><loc>) it names, as written. Pages come most
// recently modified first (<lastmod>; pages without one last, in document
// order), so that a crawl cut short by its page budget gets the fresh ones.
func parseSitemap(body []byte) (pages, sitemaps []string, err error) {
	var entries []sitemapEntry
	entries, sitemaps, err = parseSitemapEntries(body)
	slices.SortStableFunc(entries, func(a, b sitemapEntry) int { return b.lastmod.Compare(a.lastmod) })
	for _, e := range entries {
		pages = append(pages, e.loc)
	}
	return pages, sitemaps, err
}

// sitemapEntry is one <url> of a sitemap.
type sitemapEntry struct {
	loc     string
	lastmod time.Time // zero when absent or unreadable
}

// parseLastmod reads a W3C datetime as sitemaps use it: a date, or a date
// and time with a zone.
func parseLastmod(s string) time.Time {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func parseSitemapEntries(body []byte) (pages []sitemapEntry, sitemaps []string, err error) {
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
			if stack[len(stack)-1] == "url" {
				pages = append(pages, sitemapEntry{})
			}
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			n := len(stack)
			if n < 2 {
				continue
			}
			v := strings.TrimSpace(string(t))
			switch {
			case v == "":
			case stack[n-2] == "url" && len(pages) > 0 && stack[n-1] == "loc":
				pages[len(pages)-1].loc = v
			case stack[n-2] == "url" && len(pages) > 0 && stack[n-1] == "lastmod":
				pages[len(pages)-1].lastmod = parseLastmod(v)
			case stack[n-2] == "sitemap" && stack[n-1] == "loc":
				sitemaps = append(sitemaps, v)
			}
		}
	}
	return slices.DeleteFunc(pages, func(e sitemapEntry) bool { return e.loc == "" }), sitemaps, nil
}
