// Package indexer turns crawled pages into chunks and writes them to an index
// backend (the embedded SQLite index by default).
package indexer

import (
	"context"
	"strings"
	"time"
)

// Chunk is the unit of retrieval: a piece of one page section or one FAQ pair.
type Chunk struct {
	ID      string // stable: page URL + "#" + ordinal
	PageURL string // the page the chunk comes from
	URL     string // PageURL plus "#anchor" when the chunk's section has one
	Title   string // the page title
	Heading string // heading path joined with " > ", "" when none
	Text    string // the chunk's text (for FAQs: question, newline, answer)
	Lang    string
	Ord     int  // position within the page
	FAQ     bool // true when the chunk is one question/answer pair
	// Vector is the chunk's dense embedding (title, heading and text), set
	// by the Indexer when it has an Embedder; nil for keyword-only indexes.
	Vector []float32 `json:"-"`
}

// PageInfo describes a page held by the index (what `sitebot pages` shows).
type PageInfo struct {
	URL       string    `json:"url"`
	Title     string    `json:"title"`
	Lang      string    `json:"lang"`
	Chunks    int       `json:"chunks"`
	FAQs      int       `json:"faqs"`
	Hash      string    `json:"-"`
	IndexedAt time.Time `json:"-"`
	// What a conditional re-crawl needs: the validators the server sent and
	// the on-site links the page had, followed when the page is not modified.
	ETag         string   `json:"-"`
	LastModified string   `json:"-"`
	Links        []string `json:"-"`
}

// Query is a keyword search request to an index backend.
type Query struct {
	Text  string // the visitor's words; the backend analyses them
	Limit int    // how many hits at most; <= 0 means a backend default
	// Vector is the question's embedding from the index's Embedder; with it
	// the backend runs a hybrid search, without it keyword search alone.
	// Hybrid search takes the Limit·4 chunks nearest to Vector (cosine
	// similarity; the backend normalises vectors) and the Limit·4 best BM25
	// matches of Text, fuses the two lists by reciprocal rank fusion with
	// k = 60 and returns the best Limit: Hit.Score is Σ 1/(60 + rank) over
	// the lists that hold the chunk (ranks from 1), so at most 2/61. Ties
	// go to the smaller chunk ID. A Text without content terms leaves the
	// dense list alone; chunks stored without a vector take part through
	// BM25 only. A Vector of another dimension than the index's is an error.
	Vector []float32
	// Filters, applied to both lists before they are cut to size ("" = any):
	// Lang keeps the chunks whose Chunk.Lang equals it exactly; URLPrefix
	// those whose Chunk.PageURL starts with it, byte for byte (no
	// wildcards, case-sensitive).
	Lang      string
	URLPrefix string
}

// Embedder turns texts into dense vectors of one dimension (an Ollama
// embedding model, for instance); nil means keyword search only.
type Embedder func(ctx context.Context, texts []string) ([][]float32, error)

// Hit is a chunk that matched a query, best first.
type Hit struct {
	Chunk
	Score float64 // higher is better; comparable within one result list only
	// Confidence, set by the retriever, is the share of the question's
	// content words the chunk holds (0..1), for the scope gate.
	Confidence float64
}

// Section is the chunk's heading path without the leading headings that
// repeat the page title ("Billing FAQ > How do I get an invoice?" on a page
// titled "Billing FAQ" gives "How do I get an invoice?"), for labels that
// already show the title.
func (c Chunk) Section() string {
	path := strings.Split(c.Heading, HeadingSep)
	for len(path) > 0 && (path[0] == "" || strings.EqualFold(strings.TrimSpace(path[0]), strings.TrimSpace(c.Title))) {
		path = path[1:]
	}
	return strings.Join(path, HeadingSep)
}
