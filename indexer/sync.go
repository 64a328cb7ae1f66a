package indexer

import (
	"context"
	"fmt"
	"time"

	"github.com/sitebot/sitebot/crawler"
)

// Stats is what one crawl did to the index; its JSON is what
// `sitebot crawl --json` prints.
type Stats struct {
	Pages     int     `json:"pages"`     // indexable pages the crawl found, unchanged ones included
	New       int     `json:"new"`       // pages not in the index before
	Changed   int     `json:"changed"`   // pages whose text changed: re-chunked
	Unchanged int     `json:"unchanged"` // pages not modified (304) or with the same text: nothing rewritten
	Removed   int     `json:"removed"`   // pages gone from the site, deleted from the index
	Skipped   int     `json:"skipped"`   // site URLs not indexed (see the report for why)
	Chunks    int     `json:"chunks"`    // chunks the index holds afterwards
	Seconds   float64 `json:"seconds"`   // how long the crawl took
}

// Crawl crawls the site at start with a crawler built from opts and brings
// the index up to date with it: new and changed pages are (re)indexed,
// unchanged ones are left alone (and not even downloaded when the server
// answers a conditional request with 304), and pages the site no longer has
// are removed. Removal only follows a complete crawl: one stopped early (by
// MaxPages or the timeout) has not seen the whole site. opts.Known is set
// here, from the index.
func (ix *Indexer) Crawl(ctx context.Context, opts crawler.Options, start string) (Stats, crawler.Report, error) {
	began := time.Now()
	var st Stats
	if err := ix.CheckEmbedder(ctx); err != nil {
		return st, crawler.Report{}, err
	}
	// An index built with another text analyzer is re-indexed whole: every
	// page fetched (no conditional requests) and rewritten.
	current, err := ix.analyzerCurrent(ctx)
	if err != nil {
		return st, crawler.Report{}, err
	}
	if current {
		opts.Known = ix.known
	} else if opts.Logger != nil {
		opts.Logger.Info("index built with another text analyzer: re-indexing every page", "analyzer", AnalyzerVersion)
	}
	// With an embedder, changed pages wait until there are enough chunks
	// to fill the embedding requests; without one, each is written at once.
	var (
		queue  []*pending
		queued int // chunks in queue
	)
	flush := func(ctx context.Context) error {
		n, err := ix.write(ctx, queue)
		for _, pe := range queue[:n] {
			if pe.change == Added {
				st.New++
			} else {
				st.Changed++
			}
		}
		queue, queued = nil, 0
		return err
	}
	report, err := crawler.New(opts).Crawl(ctx, start, func(ctx context.Context, p crawler.Page) error {
		pe, err := ix.prepare(ctx, p)
		if err != nil {
			return err
		}
		if pe == nil {
			st.Unchanged++
			return nil
		}
		queue, queued = append(queue, pe), queued+len(pe.chunks)
		if ix.embed == nil || queued >= ix.batch*ix.conc {
			return flush(ctx)
		}
		return nil
	})
	if len(queue) > 0 {
		if ferr := flush(ctx); err == nil {
			err = ferr
		}
	}
	if err != nil {
		return st, report, err
	}
	st.Unchanged += report.NotModified
	st.Pages = report.Pages + report.NotModified
	st.Skipped = len(report.Skipped)
	if !report.Truncated {
		// A page that failed this time (timeout, 5xx) may still exist.
		keep := make(map[string]bool, len(report.Seen)+len(report.Failed))
		for u := range report.Seen {
			keep[u] = true
		}
		for u := range report.Failed {
			keep[u] = true
		}
		if st.Removed, err = ix.RemoveMissing(ctx, report.Hosts, keep); err != nil {
			return st, report, err
		}
	}
	pages, chunks, err := ix.store.Counts(ctx)
	if err != nil {
		return st, report, fmt.Errorf("indexer: crawl: %w", err)
	}
	st.Chunks = chunks
	if !current && st.New+st.Changed == pages {
		// Every page the index holds was rewritten by this crawl.
		if err := ix.analyzerReindexed(ctx); err != nil {
			return st, report, err
		}
	}
	st.Seconds = float64(time.Since(began).Round(10*time.Millisecond)) / float64(time.Second)
	return st, report, nil
}

// known tells the crawler what the index remembers of a page, so that it
// can ask the server whether the page changed since.
func (ix *Indexer) known(ctx context.Context, url string) (crawler.Known, bool) {
	p, ok, err := ix.store.Page(ctx, url)
	if err != nil || !ok || (p.ETag == "" && p.LastModified == "") {
		return crawler.Known{}, false
	}
	return crawler.Known{ETag: p.ETag, LastModified: p.LastModified, Links: p.Links}, true
}
