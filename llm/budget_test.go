package llm

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sentencesOf(n int, word string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Sentence %d tells about %s in some detail. ", i, word)
	}
	return strings.TrimSpace(b.String())
}

func passagesOf(n, sentences int) []Passage {
	ps := make([]Passage, n)
	for i := range ps {
		ps[i] = Passage{URL: fmt.Sprintf("https://example.com/p%d", i), Title: fmt.Sprintf("Page %d", i),
			Text: sentencesOf(sentences, fmt.Sprintf("topic%d", i))}
	}
	return ps
}

func historyOf(n, chars int) []Message {
	h := make([]Message, n)
	for i := range h {
		h[i] = Message{Role: []string{"user", "assistant"}[i%2], Content: fmt.Sprintf("turn%d ", i) + strings.Repeat("word ", chars/5)}
	}
	return h
}

// TestPromptWithinKeepsRules checks, whatever the sizes, that the rules come
// first and whole, the question last and whole, that the prompt fits the
// budget whenever the rules and question do, and that passages keep their
// best-first order.
func TestPromptWithinKeepsRules(t *testing.T) {
	rules := Prompt("q", nil, nil)[0].Content
	tests := []struct {
		name     string
		passages []Passage
		history  []Message
		budget   int
	}{
		{"nothing", nil, nil, 1000},
		{"one small", passagesOf(1, 2), nil, 1000},
		{"huge passages", passagesOf(3, 2000), nil, 1000},
		{"many passages", passagesOf(50, 5), nil, 1000},
		{"long history", passagesOf(5, 10), historyOf(40, 5000), 1000},
		{"everything big", passagesOf(20, 500), historyOf(20, 3000), 1000},
		{"tiny budget", passagesOf(5, 10), historyOf(4, 200), 50},
		{"large budget", passagesOf(5, 10), historyOf(4, 200), 100000},
		{"no budget", passagesOf(5, 10), historyOf(4, 200), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const question = "How do I cancel my subscription?"
			msgs, fit := PromptWithin(question, tt.passages, tt.history, tt.budget, nil)
			require.GreaterOrEqual(t, len(msgs), 2)
			assert.Equal(t, "system", msgs[0].Role)
			assert.Equal(t, rules, msgs[0].Content, "the rules are first and whole")
			last := msgs[len(msgs)-1]
			assert.Equal(t, "user", last.Role)
			assert.True(t, strings.HasSuffix(last.Content, "Question: "+question), "the question is last and whole")
			for _, m := range msgs[1:] {
				assert.NotEqual(t, "system", m.Role)
			}

			assert.Equal(t, len(fit.Kept), strings.Count(last.Content, "<source "))
			assert.Equal(t, len(tt.passages), len(fit.Kept)+fit.Dropped)
			for k, i := range fit.Kept {
				if k > 0 {
					assert.Greater(t, i, fit.Kept[k-1], "best first")
				}
				assert.Contains(t, last.Content, fmt.Sprintf(`<source id="%d" url="%s"`, k+1, tt.passages[i].URL))
			}
			total := EstimateTokens(msgs[0].Content) + EstimateTokens(last.Content) + 2*MessageOverhead
			for _, m := range msgs[1 : len(msgs)-1] {
				total += EstimateTokens(m.Content) + MessageOverhead
			}
			assert.LessOrEqual(t, total, fit.Tokens, "the piecewise estimate never counts less than the whole")
			if tt.budget > 0 && !fit.Over {
				assert.LessOrEqual(t, fit.Tokens, tt.budget)
			}
			if tt.budget <= 0 {
				assert.Zero(t, fit.Dropped)
			}
		})
	}
}

func TestPromptWithinPriorities(t *testing.T) {
	ps := passagesOf(4, 12)
	history := historyOf(6, 400)
	base, _ := PromptWithin("q?", nil, nil, 0, nil)
	fixed := EstimateTokens(base[0].Content) + EstimateTokens(base[1].Content) + 2*MessageOverhead
	onePassage := EstimateTokens(render("source", sourceOf(1, ps[0], ps[0].Text)))
	turn := EstimateTokens(historyTurns(history)[5].Content) + MessageOverhead

	// Room for the best passage and two turns: the other passages go.
	msgs, fit := PromptWithin("q?", ps, history, fixed+onePassage+2*turn+10, nil)
	assert.Equal(t, []int{0}, fit.Kept)
	assert.Equal(t, 3, fit.Dropped)
	assert.Equal(t, 2, fit.History)
	assert.Equal(t, 4, fit.HistoryDropped)
	assert.Equal(t, strings.TrimSpace(history[4].Content), msgs[1].Content, "the most recent turns are kept")
	assert.Equal(t, strings.TrimSpace(history[5].Content), msgs[2].Content)

	// Room for less than the best passage: it is cut at a sentence
	// boundary when 40% or more of it fits, and marked.
	_, fit = PromptWithin("q?", ps, nil, fixed+onePassage*6/10, nil)
	require.Equal(t, []int{0}, fit.Kept)
	assert.Equal(t, 1, fit.Cut)
	msgs, _ = PromptWithin("q?", ps, nil, fixed+onePassage*6/10, nil)
	assert.Contains(t, msgs[1].Content, "in some detail. …\n</source>")

	_, fit = PromptWithin("q?", ps, nil, fixed+onePassage*3/10, nil)
	assert.Empty(t, fit.Kept, "less than 40% fits: dropped")
	assert.Equal(t, 4, fit.Dropped)

	// A smaller passage after one that did not fit still gets in.
	mixed := []Passage{ps[0], {URL: "https://example.com/huge", Text: sentencesOf(400, "x")}, {URL: "https://example.com/small", Text: "Small."}}
	_, fit = PromptWithin("q?", mixed, nil, fixed+onePassage+60, nil)
	assert.Equal(t, []int{0, 2}, fit.Kept)
}

func TestCutToFit(t *testing.T) {
	text := "One two. Three four! Five six? Seven"
	got, ok := cutToFit(text, func(s string) bool { return len(s) <= 25 })
	require.True(t, ok)
	assert.Equal(t, "One two. Three four! …", got)
	_, ok = cutToFit(text, func(s string) bool { return len(s) <= 12 })
	assert.False(t, ok, "\"One two.\" is less than 40%")
	_, ok = cutToFit("no boundary at all", func(string) bool { return true })
	assert.False(t, ok)
}

func TestTokenCounter(t *testing.T) {
	var tc TokenCounter
	text := strings.Repeat("abcdefghi ", 30) // 300 chars, 30 words
	assert.Equal(t, 100, tc.Tokens(text), "chars/3 before any calibration")
	assert.Equal(t, 45, tc.Tokens(strings.Repeat("a ", 30)), "1.5 tokens per word at least")
	ok, _ := tc.Calibrated()
	assert.False(t, ok)

	// The model reports 4 chars per token: the estimate follows, with a margin.
	msgs := []Message{{Content: text}}
	tc.Observe(msgs, 75+MessageOverhead)
	ok, ratio := tc.Calibrated()
	require.True(t, ok)
	assert.InDelta(t, 3.6, ratio, 1e-9)
	assert.Equal(t, 84, tc.Tokens(text))

	// A model with a small vocabulary (2 chars per token) pulls it down.
	for range 20 {
		tc.Observe(msgs, 150+MessageOverhead)
	}
	_, ratio = tc.Calibrated()
	assert.InDelta(t, 1.8, ratio, 0.05)
	assert.Greater(t, tc.Tokens(text), 150, "conservative: above the real count")

	tc.Observe(msgs, 0) // no count: ignored
	_, again := tc.Calibrated()
	assert.Equal(t, ratio, again)
}
