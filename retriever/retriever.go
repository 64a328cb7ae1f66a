// Package retriever finds the passages of the index that answer a question
// and says how confident it is, so the server's scope gate can refuse.
package retriever

import (
	"context"

	"github.com/sitebot/sitebot/indexer"
)

// Searcher is what the retriever needs from an index backend.
type Searcher interface {
	Search(ctx context.Context, q indexer.Query) ([]indexer.Hit, error)
}

// Result is what Retrieve found.
type Result struct {
	Hits       []indexer.Hit // best first, at most one per URL (page section)
	Confidence float64       // 0..1: how well the best hit covers the question's content words
	// Unknown are the question's content words that no page of the index
	// holds (folded), which weigh more in Confidence: often the topic of a
	// question the site cannot answer, sometimes a typo.
	Unknown []string
}
