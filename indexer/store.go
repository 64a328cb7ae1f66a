package indexer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sitebot/sitebot/crawler"
)

// Store is what the Indexer needs from an index backend. embedded.Index
// implements it.
type Store interface {
	// Page returns what the index records of the page at url (its hash and
	// crawl metadata); ok is false when the index does not hold the page.
	Page(ctx context.Context, url string) (page PageInfo, ok bool, err error)
	// ReplacePage writes page and its chunks atomically: the page's old
	// chunks are gone afterwards, and a reader sees either the old or the new
	// version, never a mix.
	ReplacePage(ctx context.Context, page PageInfo, chunks []Chunk) error
	// UpdatePage rewrites the crawl metadata of an indexed page (ETag,
	// LastModified, Links, IndexedAt) without touching its chunks.
	UpdatePage(ctx context.Context, page PageInfo) error
	// DeletePage removes a page and its chunks; a missing page is no error.
	DeletePage(ctx context.Context, url string) error
	// PageURLs lists the URLs of every page the index holds.
	PageURLs(ctx context.Context) ([]string, error)
	// Counts returns how many pages and chunks the index holds.
	Counts(ctx context.Context) (pages, chunks int, err error)
	// SetMeta and Meta keep facts about the index itself, such as the
	// embedder that built it.
	SetMeta(ctx context.Context, key, value string) error
	Meta(ctx context.Context, key string) (value string, ok bool, err error)
}

// Change says what Add did with a page.
type Change int

const (
	Unchanged Change = iota // same hash as the indexed version: nothing written
	Added                   // not in the index before (the contract's "New": that name is the constructor)
	Changed                 // in the index with another hash: replaced
)

func (c Change) String() string {
	switch c {
	case Unchanged:
		return "unchanged"
	case Added:
		return "new"
	case Changed:
		return "changed"
	}
	return fmt.Sprintf("Change(%d)", int(c))
}

// Indexer writes crawled pages to a Store, skipping pages whose content has
// not changed since they were indexed.
type Indexer struct {
	store Store
	now   func() time.Time

	embedName string   // "" without an embedder
	embed     Embedder // nil: keyword search only
	batch     int      // texts per embedding request
	conc      int      // embedding requests in flight at once

	mu      sync.Mutex
	checked bool // CheckEmbedder passed
	dim     int  // the index's vector dimension, 0 while unknown

	analyzer analyzerState // see analysis_version.go
}

// New returns an Indexer that writes to s.
func New(s Store, opts ...Option) *Indexer {
	ix := &Indexer{store: s, now: time.Now, batch: DefaultEmbedBatch, conc: DefaultEmbedConcurrency}
	for _, o := range opts {
		o(ix)
	}
	return ix
}

// Add indexes p unless the index already holds it with the same hash. It
// returns what changed and how many chunks it wrote (0 when Unchanged).
// A page without a hash is hashed here. With an embedder, the chunks of a
// new or changed page are embedded first; an unchanged page is not.
func (ix *Indexer) Add(ctx context.Context, p crawler.Page) (Change, int, error) {
	pe, err := ix.prepare(ctx, p)
	if err != nil || pe == nil {
		return Unchanged, 0, err
	}
	if _, err := ix.write(ctx, []*pending{pe}); err != nil {
		return Unchanged, 0, err
	}
	return pe.change, len(pe.chunks), nil
}

// pending is a new or changed page, chunked, not yet written.
type pending struct {
	info   PageInfo
	chunks []Chunk
	change Change
}

// prepare chunks p when the index does not hold it with the same hash; it
// returns nil for an unchanged page, after updating its crawl metadata.
func (ix *Indexer) prepare(ctx context.Context, p crawler.Page) (*pending, error) {
	if p.URL == "" {
		return nil, errors.New("indexer: add: page has no URL")
	}
	if err := ix.CheckEmbedder(ctx); err != nil {
		return nil, fmt.Errorf("indexer: add %s: %w", p.URL, err)
	}
	if p.Hash == "" {
		p.Hash = hashPage(p)
	}
	old, ok, err := ix.store.Page(ctx, p.URL)
	if err != nil {
		return nil, fmt.Errorf("indexer: add %s: %w", p.URL, err)
	}
	current, err := ix.analyzerCurrent(ctx)
	if err != nil {
		return nil, fmt.Errorf("indexer: add %s: %w", p.URL, err)
	}
	if ok && old.Hash == p.Hash && current { // an index of another analyzer is rewritten
		// Same text: no re-chunking (nor re-embedding); only the
		// validators for the next conditional request may have moved.
		if old.ETag != p.ETag || old.LastModified != p.LastModified || !slices.Equal(old.Links, p.Links) {
			old.ETag, old.LastModified, old.Links, old.IndexedAt = p.ETag, p.LastModified, p.Links, ix.now().UTC()
			if err := ix.store.UpdatePage(ctx, old); err != nil {
				return nil, fmt.Errorf("indexer: add %s: %w", p.URL, err)
			}
		}
		return nil, nil
	}
	chunks := Split(p)
	pe := &pending{
		info: PageInfo{
			URL:          p.URL,
			Title:        p.Title,
			Lang:         p.Lang,
			Chunks:       len(chunks),
			FAQs:         len(p.FAQs), // pairs found, including those indexed as sections
			Hash:         p.Hash,
			IndexedAt:    ix.now().UTC(),
			ETag:         p.ETag,
			LastModified: p.LastModified,
			Links:        p.Links,
		},
		chunks: chunks,
		change: Added,
	}
	if ok {
		pe.change = Changed
	}
	return pe, nil
}

// write embeds the chunks of pages (all of them together, in batches) and
// writes the pages one by one. It returns how many pages it wrote.
func (ix *Indexer) write(ctx context.Context, pages []*pending) (int, error) {
	if ix.embed != nil {
		var all []*Chunk
		for _, pe := range pages {
			for i := range pe.chunks {
				all = append(all, &pe.chunks[i])
			}
		}
		if err := ix.embedChunks(ctx, all); err != nil {
			if len(pages) == 1 {
				return 0, fmt.Errorf("indexer: add %s: %w", pages[0].info.URL, err)
			}
			return 0, fmt.Errorf("indexer: add %d pages: %w", len(pages), err)
		}
	}
	for i, pe := range pages {
		if err := ix.store.ReplacePage(ctx, pe.info, pe.chunks); err != nil {
			return i, fmt.Errorf("indexer: add %s: %w", pe.info.URL, err)
		}
	}
	return len(pages), nil
}

// RemoveMissing deletes the pages whose URL's host (host:port as in the URL)
// is one of hosts but that are not in seen, i.e. pages a finished crawl of
// those hosts no longer found. Pages of other hosts are kept. It returns how
// many pages it deleted.
func (ix *Indexer) RemoveMissing(ctx context.Context, hosts []string, seen map[string]bool) (int, error) {
	if len(hosts) == 0 {
		return 0, nil
	}
	crawled := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		crawled[strings.ToLower(h)] = true
	}
	urls, err := ix.store.PageURLs(ctx)
	if err != nil {
		return 0, fmt.Errorf("indexer: remove missing: %w", err)
	}
	n := 0
	for _, raw := range urls {
		if seen[raw] {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || !crawled[strings.ToLower(u.Host)] {
			continue
		}
		if err := ix.store.DeletePage(ctx, raw); err != nil {
			return n, fmt.Errorf("indexer: remove missing %s: %w", raw, err)
		}
		n++
	}
	return n, nil
}

// hashPage hashes what Split reads from a page.
func hashPage(p crawler.Page) string {
	h := sha256.New()
	w := func(s string) { fmt.Fprintf(h, "%d:%s", len(s), s) }
	w(p.Title)
	w(p.Lang)
	for _, s := range p.Sections {
		w(s.Anchor)
		w(s.Heading)
		w(strings.Join(s.Path, "\x00"))
		w(fmt.Sprint(s.Level))
		w(s.Text)
	}
	for _, f := range p.FAQs {
		w(f.Question)
		w(f.Answer)
		w(f.Anchor)
	}
	return hex.EncodeToString(h.Sum(nil))
}
