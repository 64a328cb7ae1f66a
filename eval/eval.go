// Package eval measures how well sitebot answers a labelled question set:
// whether answerable questions get the right pages as sources, whether
// out-of-scope ones are refused, and whether requests for a person are
// handed off. The format is that of ../shared/fixtures/eval/*.jsonl.
package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// The labels a case may carry.
const (
	Answerable = "answerable"
	OutOfScope = "out_of_scope"
	Handoff    = "handoff"
)

// Case is one labelled question (one line of the JSONL file).
type Case struct {
	ID             string   `json:"id"`
	Question       string   `json:"question"`
	Lang           string   `json:"lang"`
	Label          string   `json:"label"`
	Site           string   `json:"site"`
	ExpectedURLs   []string `json:"expected_urls"`
	ExpectedAnswer string   `json:"expected_answer,omitempty"`
}

// Read parses a JSONL question set, one Case per non-blank line, and checks
// each: a question, a known label, and expected URLs for answerable ones.
func Read(r io.Reader) ([]Case, error) {
	var cases []Case
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var c Case
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			return nil, fmt.Errorf("eval: line %d: %w", n, err)
		}
		switch {
		case strings.TrimSpace(c.Question) == "":
			return nil, fmt.Errorf("eval: line %d: \"question\" is missing", n)
		case c.Label != Answerable && c.Label != OutOfScope && c.Label != Handoff:
			return nil, fmt.Errorf("eval: line %d: \"label\" must be %q, %q or %q, got %q", n, Answerable, OutOfScope, Handoff, c.Label)
		case c.Label == Answerable && len(c.ExpectedURLs) == 0:
			return nil, fmt.Errorf("eval: line %d: an answerable question needs \"expected_urls\"", n)
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	if len(cases) == 0 {
		return nil, errors.New("eval: no questions in the file")
	}
	return cases, nil
}

// Outcome is what sitebot did with one question.
type Outcome struct {
	Refused bool
	Handoff bool
	Sources []string // the answer's source URLs, best first
	// Retrieved is the retriever's ranking before the scope gate (nil when
	// unknown): it tells retrieval misses from gate refusals.
	Retrieved []string
}

// Answerer answers one case; cmd wires it to the server's chat orchestration.
type Answerer func(ctx context.Context, c Case) (Outcome, error)

// AnswerableStats are the figures for answerable questions. Recall and MRR
// read the answer's sources; answered_rate counts answers that were neither
// refused nor handed off; handoff_rate counts false handoffs.
type AnswerableStats struct {
	N            int     `json:"n"`
	RecallAt1    float64 `json:"recall@1"`
	RecallAt5    float64 `json:"recall@5"`
	MRR          float64 `json:"mrr"`
	AnsweredRate float64 `json:"answered_rate"`
	HandoffRate  float64 `json:"handoff_rate"`
	// The same measures on the retriever's ranking, before the scope gate.
	RetrievedRecallAt1 float64 `json:"retrieved_recall@1"`
	RetrievedRecallAt5 float64 `json:"retrieved_recall@5"`
	RetrievedMRR       float64 `json:"retrieved_mrr"`
}

// OutOfScopeStats are the figures for questions the site cannot answer.
type OutOfScopeStats struct {
	N           int     `json:"n"`
	RefusedRate float64 `json:"refused_rate"`
	HandoffRate float64 `json:"handoff_rate"`
}

// HandoffStats are the figures for requests that need a person.
type HandoffStats struct {
	N           int     `json:"n"`
	OfferedRate float64 `json:"offered_rate"`
}

// Stats are the figures of one group of cases (all, or one language).
type Stats struct {
	Answerable AnswerableStats `json:"answerable"`
	OutOfScope OutOfScopeStats `json:"out_of_scope"`
	Handoff    HandoffStats    `json:"handoff"`
}

// Report is the result of Run: the figures over all cases, per language,
// and the cases that went wrong, for reading.
type Report struct {
	Stats
	ByLang   map[string]Stats `json:"by_lang"`
	Failures []Failure        `json:"failures"`
}

// Failure is a case whose outcome was wrong.
type Failure struct {
	ID       string   `json:"id"`
	Label    string   `json:"label"`
	Question string   `json:"question"`
	Got      string   `json:"got"` // "refused", "handoff", "answered", "wrong sources"
	Sources  []string `json:"sources,omitempty"`
}

// Run answers every case, concurrency at a time, and computes the report.
// progress, if not nil, is called after each case.
func Run(ctx context.Context, cases []Case, answer Answerer, concurrency int, progress func(done, total int)) (Report, error) {
	outcomes := make([]Outcome, len(cases))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(concurrency, 1))
	var mu sync.Mutex // serialises progress calls
	finished := 0
	for i, c := range cases {
		g.Go(func() error {
			o, err := answer(ctx, c)
			if err != nil {
				return fmt.Errorf("eval: case %s: %w", c.ID, err)
			}
			outcomes[i] = o
			if progress != nil {
				mu.Lock()
				finished++
				progress(finished, len(cases))
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return Report{}, err
	}
	return summarise(cases, outcomes), nil
}

func summarise(cases []Case, outcomes []Outcome) Report {
	all := &tally{}
	byLang := map[string]*tally{}
	var failures []Failure
	for i, c := range cases {
		o := outcomes[i]
		all.add(c, o)
		lang := c.Lang
		if lang == "" {
			lang = "unknown"
		}
		if byLang[lang] == nil {
			byLang[lang] = &tally{}
		}
		byLang[lang].add(c, o)
		if got := failure(c, o); got != "" {
			failures = append(failures, Failure{ID: c.ID, Label: c.Label, Question: c.Question, Got: got, Sources: o.Sources})
		}
	}
	r := Report{Stats: all.stats(), ByLang: map[string]Stats{}, Failures: failures}
	for lang, t := range byLang {
		r.ByLang[lang] = t.stats()
	}
	if r.Failures == nil {
		r.Failures = []Failure{}
	}
	sort.Slice(r.Failures, func(i, j int) bool { return r.Failures[i].ID < r.Failures[j].ID })
	return r
}

// failure says what went wrong with a case, or "" when nothing did.
func failure(c Case, o Outcome) string {
	switch c.Label {
	case Answerable:
		switch {
		case o.Handoff:
			return "handoff"
		case o.Refused:
			return "refused"
		case rank(o.Sources, c.ExpectedURLs) == 0:
			return "wrong sources"
		}
	case OutOfScope:
		if !o.Refused {
			return "answered"
		}
	case Handoff:
		if !o.Handoff {
			return map[bool]string{true: "refused", false: "answered"}[o.Refused]
		}
	}
	return ""
}

// tally accumulates the counts behind Stats.
type tally struct {
	ans, ansAt1, ansAt5, answered, ansHandoff int
	rr                                        float64
	retAt1, retAt5                            int
	retRR                                     float64
	oos, oosRefused, oosHandoff               int
	ho, hoOffered                             int
}

func (t *tally) add(c Case, o Outcome) {
	switch c.Label {
	case Answerable:
		t.ans++
		if r := rank(o.Sources, c.ExpectedURLs); r > 0 {
			t.rr += 1 / float64(r)
			t.ansAt1 += b2i(r == 1)
			t.ansAt5 += b2i(r <= 5)
		}
		if r := rank(o.Retrieved, c.ExpectedURLs); r > 0 {
			t.retRR += 1 / float64(r)
			t.retAt1 += b2i(r == 1)
			t.retAt5 += b2i(r <= 5)
		}
		t.answered += b2i(!o.Refused && !o.Handoff)
		t.ansHandoff += b2i(o.Handoff)
	case OutOfScope:
		t.oos++
		t.oosRefused += b2i(o.Refused)
		t.oosHandoff += b2i(o.Handoff)
	case Handoff:
		t.ho++
		t.hoOffered += b2i(o.Handoff)
	}
}

func (t *tally) stats() Stats {
	return Stats{
		Answerable: AnswerableStats{
			N: t.ans, RecallAt1: rate(t.ansAt1, t.ans), RecallAt5: rate(t.ansAt5, t.ans),
			MRR: ratio(t.rr, t.ans), AnsweredRate: rate(t.answered, t.ans), HandoffRate: rate(t.ansHandoff, t.ans),
			RetrievedRecallAt1: rate(t.retAt1, t.ans), RetrievedRecallAt5: rate(t.retAt5, t.ans), RetrievedMRR: ratio(t.retRR, t.ans),
		},
		OutOfScope: OutOfScopeStats{N: t.oos, RefusedRate: rate(t.oosRefused, t.oos), HandoffRate: rate(t.oosHandoff, t.oos)},
		Handoff:    HandoffStats{N: t.ho, OfferedRate: rate(t.hoOffered, t.ho)},
	}
}

// rank is the 1-based position of the first of urls that matches one of
// expected, or 0 when none does.
func rank(urls, expected []string) int {
	for i, u := range urls {
		for _, e := range expected {
			if Matches(u, e) {
				return i + 1
			}
		}
	}
	return 0
}

// Matches reports whether source (an absolute URL) is the expected page: an
// expected URL is a path on the crawled site, and matches when the paths are
// equal and, if it names a #fragment, the fragments are equal too, both
// compared after percent-decoding (fragments may be Cyrillic).
func Matches(source, expected string) bool {
	s, err := url.Parse(source)
	if err != nil {
		return false
	}
	e, err := url.Parse(expected)
	if err != nil {
		return false
	}
	if s.Path != e.Path { // url.Parse decodes Path and Fragment
		return false
	}
	return e.Fragment == "" || s.Fragment == e.Fragment
}

func rate(n, of int) float64 { return ratio(float64(n), of) }

func ratio(x float64, of int) float64 {
	if of == 0 {
		return 0
	}
	return x / float64(of)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
