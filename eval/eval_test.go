package eval

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatches(t *testing.T) {
	tests := []struct {
		source, expected string
		want             bool
	}{
		{"http://127.0.0.1:8000/docs/billing.html", "/docs/billing.html", true},
		{"http://127.0.0.1:8000/docs/billing.html#invoices", "/docs/billing.html", true},
		{"http://127.0.0.1:8000/docs/billing.html", "/docs/billing.html#invoices", false},
		{"http://127.0.0.1:8000/docs/billing.html#invoices", "/docs/billing.html#invoices", true},
		{"http://127.0.0.1:8000/docs/billing.html#refunds", "/docs/billing.html#invoices", false},
		{"http://127.0.0.1:8000/docs/billing", "/docs/billing.html", false},
		{"http://x/ru/docs/faq.html#%D0%BF%D1%80%D0%B8", "/ru/docs/faq.html#при", true},
		{"http://x/ru/docs/faq.html#при", "/ru/docs/faq.html#%D0%BF%D1%80%D0%B8", true},
		{"http://x/a%20b.html", "/a b.html", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Matches(tt.source, tt.expected), "%s ~ %s", tt.source, tt.expected)
	}
}

func TestRead(t *testing.T) {
	good := `{"id": "a", "question": "How do I cancel?", "lang": "en", "label": "answerable", "site": "s", "expected_urls": ["/cancel.html"]}

{"id": "b", "question": "weather?", "lang": "en", "label": "out_of_scope", "site": "s", "expected_urls": []}
`
	cases, err := Read(strings.NewReader(good))
	require.NoError(t, err)
	require.Len(t, cases, 2)
	assert.Equal(t, []string{"/cancel.html"}, cases[0].ExpectedURLs)

	for _, bad := range []struct{ in, want string }{
		{`{"id": "a", "question": "x", "label": "maybe"}`, `line 1: "label" must be`},
		{`{"id": "a", "label": "handoff"}`, `line 1: "question" is missing`},
		{"{\"id\": \"a\", \"question\": \"q\", \"label\": \"handoff\"}\n{not json", "line 2"},
		{`{"id": "a", "question": "q", "label": "answerable", "expected_urls": []}`, "needs \"expected_urls\""},
		{"\n\n", "no questions"},
	} {
		_, err := Read(strings.NewReader(bad.in))
		require.Error(t, err, bad.in)
		assert.Contains(t, err.Error(), bad.want)
	}
}

// TestRun checks the arithmetic on a scripted answerer.
func TestRun(t *testing.T) {
	cases := []Case{
		{ID: "a1", Label: Answerable, Lang: "en", ExpectedURLs: []string{"/a.html"}},
		{ID: "a2", Label: Answerable, Lang: "en", ExpectedURLs: []string{"/b.html#x"}},
		{ID: "a3", Label: Answerable, Lang: "de", ExpectedURLs: []string{"/c.html"}},
		{ID: "a4", Label: Answerable, Lang: "de", ExpectedURLs: []string{"/d.html"}},
		{ID: "o1", Label: OutOfScope, Lang: "en"},
		{ID: "o2", Label: OutOfScope, Lang: "en"},
		{ID: "h1", Label: Handoff, Lang: "en"},
	}
	script := map[string]Outcome{
		"a1": {Sources: []string{"http://s/a.html#top", "http://s/z.html"}, Retrieved: []string{"http://s/a.html"}},
		"a2": {Sources: []string{"http://s/z.html", "http://s/b.html#x"}, Retrieved: []string{"http://s/b.html#x"}},
		"a3": {Refused: true, Retrieved: []string{"http://s/q.html", "http://s/c.html"}},
		"a4": {Handoff: true},
		"o1": {Refused: true},
		"o2": {Sources: []string{"http://s/a.html"}},
		"h1": {Handoff: true},
	}
	var calls []int
	r, err := Run(context.Background(), cases, func(_ context.Context, c Case) (Outcome, error) {
		return script[c.ID], nil
	}, 3, func(done, total int) { calls = append(calls, done) })
	require.NoError(t, err)
	assert.Len(t, calls, len(cases))

	a := r.Answerable
	assert.Equal(t, 4, a.N)
	assert.InDelta(t, 0.25, a.RecallAt1, 1e-9)
	assert.InDelta(t, 0.5, a.RecallAt5, 1e-9)
	assert.InDelta(t, (1+0.5)/4, a.MRR, 1e-9)
	assert.InDelta(t, 0.5, a.AnsweredRate, 1e-9)
	assert.InDelta(t, 0.25, a.HandoffRate, 1e-9)
	assert.InDelta(t, 0.5, a.RetrievedRecallAt1, 1e-9)
	assert.InDelta(t, 0.75, a.RetrievedRecallAt5, 1e-9)
	assert.InDelta(t, (1+1+0.5)/4, a.RetrievedMRR, 1e-9)
	assert.Equal(t, OutOfScopeStats{N: 2, RefusedRate: 0.5}, r.OutOfScope)
	assert.Equal(t, HandoffStats{N: 1, OfferedRate: 1}, r.Handoff)
	assert.Equal(t, 2, r.ByLang["de"].Answerable.N)
	assert.Zero(t, r.ByLang["de"].Answerable.RecallAt5)

	got := map[string]string{}
	for _, f := range r.Failures {
		got[f.ID] = f.Got
	}
	assert.Equal(t, map[string]string{"a3": "refused", "a4": "handoff", "o2": "answered"}, got)

	_, err = Run(context.Background(), cases, func(context.Context, Case) (Outcome, error) {
		return Outcome{}, errors.New("model gone")
	}, 2, nil)
	require.ErrorContains(t, err, "model gone")
}
