package llm

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultContextBudget is the prompt size, in estimated tokens, that the
// server aims for: the rules, about three passages, a few turns of history.
const DefaultContextBudget = 1000

// minCutShare is the least share of a passage's text (in characters) that
// a cut must keep: a shorter piece rarely holds what made the passage match.
const minCutShare = 0.4

// Fit says what PromptWithin put into a prompt and what it left out.
type Fit struct {
	// Kept are the indexes (into the passages given) of the passages in
	// the prompt, best first; they are numbered 1, 2, ... in the prompt.
	Kept []int
	// Cut is the number of kept passages that were cut at a sentence boundary.
	Cut int
	// Dropped is the number of passages left out.
	Dropped int
	// History is the number of history messages in the prompt, and
	// HistoryDropped the number of eligible ones left out for room.
	History, HistoryDropped int
	// Tokens is the estimated size of the prompt.
	Tokens int
	// Over reports that the rules and the question alone exceed the budget
	// (they are sent anyway: they are never cut).
	Over bool
}

// PromptWithin builds the chat Prompt builds, fitted into budget estimated
// tokens (counted by tc; nil: the uncalibrated estimate). budget <= 0 means
// no limit. What goes in, by priority:
//
//  1. the rules (system message) and the question: always, whole;
//  2. the best passage (passages come best first);
//  3. the history, most recent turns first, as long as they fit (older
//     turns are dropped as a block, so what remains is a recent stretch);
//  4. the other passages, best first, while they fit.
//
// A passage that does not fit whole is cut at a sentence boundary when at
// least 40% of its text fits, else it is left out (and a smaller, later one
// may still fit). The estimate adds up the pieces separately, which never
// counts less than the whole.
func PromptWithin(question string, passages []Passage, history []Message, budget int, tc *TokenCounter, opts ...PromptOption) ([]Message, Fit) {
	data := newPromptData(question)
	for _, o := range opts {
		o(&data)
	}
	turns := historyTurns(history)
	system := render("system", data)

	var fit Fit
	if budget <= 0 {
		for i, p := range passages {
			data.Sources = append(data.Sources, sourceOf(i+1, p, p.Text))
			fit.Kept = append(fit.Kept, i)
		}
		msgs := assemble(system, turns, data)
		fit.History, fit.Tokens = len(turns), tc.ChatTokens(msgs)
		return msgs, fit
	}

	// The fixed part: the rules, and the user message with no sources
	// (its "no sources" line stands in for the sources' framing).
	used := tc.ChatTokens([]Message{{Content: system}, {Content: render("user", data)}})
	fit.Over = used > budget

	// addPassage adds passage i whole, or cut, if it fits in what is left.
	addPassage := func(i int) {
		p := passages[i]
		id := len(data.Sources) + 1
		src := sourceOf(id, p, p.Text)
		cost := tc.Tokens(render("source", src))
		if used+cost > budget {
			text, ok := cutToFit(p.Text, func(text string) bool {
				return used+tc.Tokens(render("source", sourceOf(id, p, text))) <= budget
			})
			if !ok {
				fit.Dropped++
				return
			}
			src = sourceOf(id, p, text)
			cost = tc.Tokens(render("source", src))
			fit.Cut++
		}
		used += cost
		data.Sources = append(data.Sources, src)
		fit.Kept = append(fit.Kept, i)
	}

	if len(passages) > 0 {
		addPassage(0)
	}
	// History, newest first, while it fits.
	keep := len(turns)
	for k := len(turns) - 1; k >= 0; k-- {
		cost := tc.Tokens(turns[k].Content) + MessageOverhead
		if used+cost > budget {
			break
		}
		used += cost
		keep = k
	}
	fit.HistoryDropped = keep
	turns = turns[keep:]
	for i := 1; i < len(passages); i++ {
		addPassage(i)
	}

	msgs := assemble(system, turns, data)
	fit.History = len(turns)
	fit.Tokens = used
	return msgs, fit
}

func assemble(system string, turns []Message, data promptData) []Message {
	msgs := make([]Message, 0, len(turns)+2)
	msgs = append(msgs, Message{Role: "system", Content: system})
	msgs = append(msgs, turns...)
	return append(msgs, Message{Role: "user", Content: render("user", data)})
}

// cutToFit returns the longest prefix of text that ends at a sentence
// boundary and that fits says fits, with "…" appended; ok is false when
// that prefix is shorter than minCutShare of text.
func cutToFit(text string, fits func(string) bool) (string, bool) {
	text = strings.TrimSpace(text)
	total := utf8.RuneCountInString(text)
	ends := sentenceEnds(text)
	// Binary search over the boundaries: fitting is monotone in length.
	lo, hi, best := 0, len(ends)-1, -1
	for lo <= hi {
		mid := (lo + hi) / 2
		if fits(strings.TrimSpace(text[:ends[mid]]) + " …") {
			best, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	if best < 0 {
		return "", false
	}
	cut := strings.TrimSpace(text[:ends[best]])
	if float64(utf8.RuneCountInString(cut)) < minCutShare*float64(total) {
		return "", false
	}
	return cut + " …", true
}

// sentenceEnds lists the byte offsets just after each sentence end in text
// (. ! ? … and their CJK forms followed by a space, or a line break),
// before the end of the text.
func sentenceEnds(text string) []int {
	var ends []int
	for i, r := range text {
		size := utf8.RuneLen(r)
		switch r {
		case '\n':
			ends = append(ends, i)
		case '.', '!', '?', '…', '。', '！', '？':
			next, _ := utf8.DecodeRuneInString(text[i+size:])
			if i+size < len(text) && (unicode.IsSpace(next) || r >= '。') {
				ends = append(ends, i+size)
			}
		}
	}
	return ends
}
