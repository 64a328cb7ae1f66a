package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/sitebot/sitebot/crawler"
	"github.com/sitebot/sitebot/indexer"
)

func runCrawl(ctx context.Context, e *env, args []string) error {
	if len(args) != 1 {
		return errUsage
	}
	_, err := crawlSite(ctx, e, args[0])
	return err
}

// crawlSite crawls start into the index in --data and prints the summary.
func crawlSite(ctx context.Context, e *env, start string) (indexer.Stats, error) {
	cfg := e.cfg
	if err := cfg.validateCrawl(); err != nil {
		return indexer.Stats{}, err
	}
	if err := checkStartURL(start); err != nil {
		return indexer.Stats{}, err
	}
	ix, err := openIndex(ctx, cfg, true)
	if err != nil {
		return indexer.Stats{}, err
	}
	defer ix.Close()

	idx, err := crawlIndexer(ctx, cfg, ix, e.stderr)
	if err != nil {
		return indexer.Stats{}, err
	}
	progress := newProgress(e.stderr)
	sum, report, err := idx.Crawl(ctx, crawler.Options{
		MaxPages:     cfg.MaxPages,
		MaxDepth:     cfg.MaxDepth,
		Concurrency:  cfg.Concurrency,
		AllowedHosts: cfg.allowedHosts(),
		Delay:        cfg.Delay,
		Timeout:      cfg.CrawlTimeout,
		Logger:       newLogger(e.stderr, slog.LevelWarn),
		Progress:     progress.update,
	}, start)
	progress.done()
	if err != nil {
		return sum, err
	}
	if cfg.JSON {
		if err := json.NewEncoder(e.stdout).Encode(sum); err != nil {
			return sum, err
		}
		return sum, noText(sum, start)
	}
	fmt.Fprintf(e.stdout, "Indexed %s into %s: %d pages (%d new, %d changed, %d unchanged), %d removed, %d skipped, %d chunks in %.1fs.\n",
		start, cfg.where(), sum.Pages, sum.New, sum.Changed, sum.Unchanged, sum.Removed, sum.Skipped, sum.Chunks, sum.Seconds)
	if report.Truncated {
		fmt.Fprintf(e.stdout, "Stopped early (%s): pages not reached were kept in the index.\n", report.StopReason)
	}
	printSkipped(e.stdout, report.Skipped)
	if report.OffSite > 0 {
		fmt.Fprintf(e.stdout, "Links to other sites (not followed): %d\n", report.OffSite)
	}
	return sum, noText(sum, start)
}

// noText fails a crawl that found pages but no text to answer from, which
// is what a site rendered by JavaScript looks like to a crawler.
func noText(sum indexer.Stats, start string) error {
	if sum.Chunks > 0 {
		return nil
	}
	return fmt.Errorf("no text found on the %d pages of %s: sitebot reads the HTML the server sends, so a site rendered by JavaScript in the browser cannot be indexed", sum.Pages, start)
}

// checkStartURL rejects what cannot be a website before any work starts.
func checkStartURL(start string) error {
	u, err := url.Parse(start)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not a website URL: give one like https://example.com/", start)
	}
	return nil
}

// printSkipped lists skipped URLs grouped by reason, a few examples each.
func printSkipped(w io.Writer, skipped []crawler.Skip) {
	if len(skipped) == 0 {
		return
	}
	byReason := map[string][]string{}
	for _, s := range skipped {
		byReason[s.Reason] = append(byReason[s.Reason], s.URL)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	fmt.Fprintln(w, "Skipped:")
	for _, r := range reasons {
		urls := byReason[r]
		more := ""
		if len(urls) > 3 {
			more = fmt.Sprintf(" and %d more", len(urls)-3)
			urls = urls[:3]
		}
		fmt.Fprintf(w, "  %s: %s%s\n", r, strings.Join(urls, ", "), more)
	}
}

// progress shows the progress of long work on stderr: one updating line on a
// terminal, a plain line every few seconds otherwise.
type progress struct {
	mu    sync.Mutex // the crawler may report from several workers
	w     io.Writer
	tty   bool
	last  time.Time
	shown bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) update(pr crawler.Progress) {
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Fetched) / s
	}
	p.line(fmt.Sprintf("crawling: %d fetched, %d queued, %d pages, %d skipped, %.1f pages/s", pr.Fetched, pr.Queued, pr.Pages, pr.Skipped, rate))
}

// line shows one progress line, at most every 100ms on a terminal and
// every 2s otherwise.
func (p *progress) line(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	every := 2 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) < every {
		return
	}
	p.last = now
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.shown = true
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
