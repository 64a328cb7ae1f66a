package indexer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
)

// AnalyzerMetaKey is the Store meta key that records the AnalyzerVersion
// whose terms the index holds. An index without it that holds pages was
// built by version 1.
const AnalyzerMetaKey = "analyzer"

// ErrAnalyzerMismatch is wrapped by CheckAnalyzer's error: the index holds
// terms of another analysis than this sitebot's, so some questions will not
// find what they should until the next crawl rewrites it.
var ErrAnalyzerMismatch = errors.New("index built with another text analyzer")

// CheckAnalyzer returns nil when s is empty or was built with
// AnalyzerVersion, and otherwise an error wrapping ErrAnalyzerMismatch that
// says what to do. Searching such an index still works, less well: callers
// opening an index to serve it log the error as a warning. The next
// complete crawl into the index (Indexer.Crawl) re-indexes every page and
// records the new version.
func CheckAnalyzer(ctx context.Context, s Store) error {
	v, ok, err := s.Meta(ctx, AnalyzerMetaKey)
	if err != nil {
		return fmt.Errorf("indexer: check analyzer: %w", err)
	}
	if ok && v == strconv.Itoa(AnalyzerVersion) {
		return nil
	}
	pages, _, err := s.Counts(ctx)
	if err != nil {
		return fmt.Errorf("indexer: check analyzer: %w", err)
	}
	if pages == 0 {
		return nil
	}
	if !ok {
		v = "1"
	}
	return fmt.Errorf("indexer: %w: index built with analyzer v%s, this sitebot analyses text with v%d; "+
		"run `sitebot crawl` again to re-index every page (or crawl into a new --data directory)",
		ErrAnalyzerMismatch, v, AnalyzerVersion)
}

// analyzerState is what an Indexer knows of its index's analyzer version.
type analyzerState struct {
	mu      sync.Mutex
	current bool // the index holds terms of AnalyzerVersion only
}

// analyzerCurrent reports whether the index was built with AnalyzerVersion
// (an empty index is, and records it). When it was not, Add rewrites every
// page it is given, even one with an unchanged hash, and Crawl fetches
// every page without conditional requests, so that a complete crawl
// re-indexes the whole site.
func (ix *Indexer) analyzerCurrent(ctx context.Context) (bool, error) {
	st := &ix.analyzer
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.current {
		return true, nil
	}
	err := CheckAnalyzer(ctx, ix.store)
	if errors.Is(err, ErrAnalyzerMismatch) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := ix.store.SetMeta(ctx, AnalyzerMetaKey, strconv.Itoa(AnalyzerVersion)); err != nil {
		return false, fmt.Errorf("indexer: record analyzer: %w", err)
	}
	st.current = true
	return true, nil
}

// analyzerReindexed records that a complete crawl has rewritten every page
// of an index built with another analyzer version.
func (ix *Indexer) analyzerReindexed(ctx context.Context) error {
	st := &ix.analyzer
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := ix.store.SetMeta(ctx, AnalyzerMetaKey, strconv.Itoa(AnalyzerVersion)); err != nil {
		return fmt.Errorf("indexer: record analyzer: %w", err)
	}
	st.current = true
	return nil
}
