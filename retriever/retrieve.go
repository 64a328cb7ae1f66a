package retriever

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/sitebot/sitebot/indexer"
)

// DefaultMinConfidence is the scope-gate threshold suggested to the server:
// below it, the retrieved passages cover too little of the question to answer
// from them. Chosen on ../shared/fixtures/eval/dev.jsonl (see TestDevSet):
// there it keeps about 75% of the answerable questions and refuses about 80%
// of the out-of-scope ones.
const DefaultMinConfidence = 0.55

// Retriever answers "which passages of the index answer this question, and
// how sure are we".
type Retriever struct {
	s          Searcher
	candidates int              // hits fetched per hit returned
	embed      indexer.Embedder // nil: keyword search only
}

// Option configures a Retriever.
type Option func(*Retriever)

// WithCandidates sets how many search hits are fetched for every hit
// Retrieve returns (default 4): the surplus makes up for hits dropped as
// duplicates of a better chunk of the same section.
func WithCandidates(factor int) Option {
	return func(r *Retriever) {
		if factor >= 1 {
			r.candidates = factor
		}
	}
}

// WithEmbedder makes Retrieve embed the question with e, the embedder that
// built the index, and run a hybrid search (BM25 and dense, fused by the
// backend). An error from e fails Retrieve; an embedder that returns no
// vector (nil, nil) gets a keyword search for that question, which is how
// a caller falls back when the embedding model is unavailable.
func WithEmbedder(e indexer.Embedder) Option {
	return func(r *Retriever) { r.embed = e }
}

// New returns a Retriever that searches s.
func New(s Searcher, opts ...Option) *Retriever {
	r := &Retriever{s: s, candidates: 4}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Retrieve returns at most k hits for question (k <= 0 means 5), best first
// and at most one per URL (a page section), with a confidence in 0..1.
func (r *Retriever) Retrieve(ctx context.Context, question string, k int) (Result, error) {
	if k <= 0 {
		k = 5
	}
	q := indexer.Query{Text: question, Limit: k * r.candidates}
	if r.embed != nil {
		vecs, err := r.embed(ctx, []string{question})
		if err != nil {
			return Result{}, fmt.Errorf("retriever: embed the question: %w", err)
		}
		if len(vecs) > 0 {
			q.Vector = vecs[0]
		}
	}
	hits, err := r.s.Search(ctx, q)
	if err != nil {
		return Result{}, fmt.Errorf("retriever: %w", err)
	}
	hits = dedupe(rerank(question, hits), k)
	return Result{Hits: hits, Confidence: Confidence(question, hits)}, nil
}

// headingBoost is how much a chunk's score grows when its heading holds
// every word of the question (stop words included): a question that
// repeats a FAQ entry or a section title should find that section first,
// even when a longer page repeats the topic's key word more often.
const headingBoost = 0.5

// rerank raises the scores of hits whose heading shares the question's
// words, in proportion to the share, and sorts them best first again. Words
// are compared as the index compares them: a question word is in the
// heading when one of its alternatives (indexer.AnalyzeQueryWords) is among
// the heading's terms, analysed in the hit's language.
func rerank(question string, hits []indexer.Hit) []indexer.Hit {
	q := indexer.AnalyzeQueryWords(question, hitLangs(hits))
	if len(q) == 0 {
		return hits
	}
	for i := range hits {
		heading := hits[i].Heading
		if j := strings.LastIndex(heading, indexer.HeadingSep); j >= 0 {
			heading = heading[j+len(indexer.HeadingSep):]
		}
		lang := indexer.ChunkLang(hits[i].Chunk)
		if lang == "" {
			lang = hits[i].Lang // known but not stemmed: not detected again either
		}
		h := make(termSet)
		for _, t := range indexer.AnalyzeDoc(heading, lang) {
			h[t] = true
		}
		n := 0
		for _, t := range q {
			if h.has(t) {
				n++
			}
		}
		hits[i].Score *= 1 + headingBoost*float64(n)/float64(len(q))
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].Score > hits[j].Score })
	return hits
}

// dedupe keeps the first (best) hit of every URL, at most k of them. Hits
// must come best first.
func dedupe(hits []indexer.Hit, k int) []indexer.Hit {
	seen := make(map[string]bool, len(hits))
	out := make([]indexer.Hit, 0, min(k, len(hits)))
	for _, h := range hits {
		u := h.URL
		if u == "" {
			u = h.PageURL
		}
		if seen[u] {
			continue
		}
		seen[u] = true
		out = append(out, h)
		if len(out) == k {
			break
		}
	}
	return out
}

// Confidence measures how well hits cover the content words of question, in
// 0..1. With Q the question's content terms (indexer.AnalyzeQuery, in the
// languages of the hits),
//
//	cover(h)   = |terms of Q found in h's title, heading and text| / |Q|
//	best       = max over the hits of cover(h)
//	together   = |terms of Q found in any hit| / |Q|
//	Confidence = 0.75·best + 0.25·together
//
// A term is found in a chunk when one of its alternatives is among the
// chunk's terms (indexer.AnalyzeChunk), exactly as the search matches it:
// "invoices" finds "invoice", "Rechnungen" finds "Rechnung". No content
// words, or no hits, give 0. Best weighs most because an answer usually
// comes from one passage; together rewards questions that the passages
// answer between them.
//
// Weighting the terms by their idf in the index was tried and separated
// answerable from out-of-scope questions of dev.jsonl slightly worse (typos
// and unseen words of answerable questions weigh too much), so every term
// counts the same.
//
// It also sets each hit's own Confidence to cover(h).
func Confidence(question string, hits []indexer.Hit) float64 {
	q := indexer.AnalyzeQuery(question, hitLangs(hits))
	if len(q) == 0 || len(hits) == 0 {
		return 0
	}
	found := make([]bool, len(q))
	best := 0
	for j, h := range hits {
		doc := chunkTerms(h.Chunk)
		n := 0
		for i, t := range q {
			if doc.has(t) {
				n++
				found[i] = true
			}
		}
		best = max(best, n)
		hits[j].Confidence = float64(n) / float64(len(q)) // cover(h)
	}
	together := 0
	for _, f := range found {
		if f {
			together++
		}
	}
	c := (0.75*float64(best) + 0.25*float64(together)) / float64(len(q))
	return min(max(c, 0), 1)
}

// termSet is a set of index terms.
type termSet map[string]bool

// chunkTerms returns the index terms of a chunk's title, heading and text.
func chunkTerms(c indexer.Chunk) termSet {
	title, heading, text := indexer.AnalyzeChunk(c)
	s := make(termSet, len(title)+len(heading)+len(text))
	for _, ts := range [][]string{title, heading, text} {
		for _, t := range ts {
			s[t] = true
		}
	}
	return s
}

// has reports whether the set holds one of t's alternatives.
func (s termSet) has(t indexer.Term) bool {
	for _, a := range t.Alts {
		if s[a] {
			return true
		}
	}
	return false
}

// hitLangs returns the distinct languages of hits (Chunk.Lang), the
// candidate languages of a question's stems.
func hitLangs(hits []indexer.Hit) []string {
	var langs []string
	seen := make(map[string]bool)
	for _, h := range hits {
		if !seen[h.Lang] {
			seen[h.Lang] = true
			langs = append(langs, h.Lang)
		}
	}
	return langs
}
