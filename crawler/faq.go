package crawler

import (
	"encoding/json"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// faqsFromJSONLD reads schema.org FAQPage entries from JSON-LD script
// bodies (single objects, arrays and @graph alike). Each FAQ's anchor is
// the section whose heading asks the same question, when there is one.
func faqsFromJSONLD(scripts []string, sections []Section) []FAQ {
	var faqs []FAQ
	for _, src := range scripts {
		var v any
		if err := json.Unmarshal([]byte(strings.TrimSpace(src)), &v); err != nil {
			continue // broken JSON-LD is common; the page text still counts
		}
		collectFAQPages(v, &faqs, 0)
	}
	for i := range faqs {
		faqs[i].Anchor = anchorForQuestion(faqs[i].Question, sections)
	}
	return faqs
}

// collectFAQPages walks a JSON-LD value looking for FAQPage nodes.
func collectFAQPages(v any, out *[]FAQ, depth int) {
	if depth > 32 {
		return
	}
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			collectFAQPages(e, out, depth+1)
		}
	case map[string]any:
		if hasType(t, "FAQPage") {
			for _, q := range asList(t["mainEntity"]) {
				m, ok := q.(map[string]any)
				if !ok {
					continue
				}
				question := htmlText(str(m["name"]))
				if question == "" {
					question = htmlText(str(m["text"]))
				}
				answer := ""
				for _, key := range []string{"acceptedAnswer", "suggestedAnswer"} {
					for _, a := range asList(m[key]) {
						if am, ok := a.(map[string]any); ok {
							answer = htmlText(str(am["text"]))
						} else {
							answer = htmlText(str(a))
						}
						if answer != "" {
							break
						}
					}
					if answer != "" {
						break
					}
				}
				if question != "" && answer != "" {
					*out = append(*out, FAQ{Question: question, Answer: answer})
				}
			}
			return
		}
		for _, e := range t {
			collectFAQPages(e, out, depth+1)
		}
	}
}

func hasType(m map[string]any, typ string) bool {
	for _, t := range asList(m["@type"]) {
		s := str(t)
		if s == typ || strings.HasSuffix(s, "/"+typ) || strings.HasSuffix(s, ":"+typ) {
			return true
		}
	}
	return false
}

func asList(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	default:
		return []any{t}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// htmlText strips markup from s, one block per line joined by spaces.
func htmlText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	ctx := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return collapse(s)
	}
	return collapse(strings.Join(blockLines(nodes...), " "))
}

// anchorForQuestion returns the anchor of the section whose heading asks
// question: the same words, or nearly (most of them shared).
func anchorForQuestion(question string, sections []Section) string {
	qw := contentWords(question)
	best, bestScore := "", 0.0
	for _, s := range sections {
		if s.Anchor == "" || s.Level == 0 {
			continue
		}
		if strings.EqualFold(s.Heading, question) {
			return s.Anchor
		}
		hw := contentWords(s.Heading)
		if score := overlap(qw, hw); score > bestScore {
			best, bestScore = s.Anchor, score
		}
	}
	if bestScore >= 0.75 {
		return best
	}
	return ""
}

func contentWords(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range wordsOf(strings.ToLower(s)) {
		m[w] = true
	}
	return m
}

// overlap is the Dice coefficient of two word sets.
func overlap(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n := 0
	for w := range a {
		if b[w] {
			n++
		}
	}
	return 2 * float64(n) / float64(len(a)+len(b))
}

// dedupeFAQs keeps the first FAQ for each question, taking the anchor of
// a later duplicate when the first has none.
func dedupeFAQs(faqs []FAQ) []FAQ {
	seen := map[string]int{}
	var out []FAQ
	for _, f := range faqs {
		k := strings.ToLower(collapse(f.Question))
		if i, ok := seen[k]; ok {
			if out[i].Anchor == "" {
				out[i].Anchor = f.Anchor
			}
			continue
		}
		seen[k] = len(out)
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
