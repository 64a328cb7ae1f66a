package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/llm"
)

// TestLeakGuard streams texts through the guard in small tokens: honest
// answers come out whole and unchanged; a reply reciting the rules is
// stopped, and no run of the rules' words was emitted before it stopped.
func TestLeakGuard(t *testing.T) {
	rules := llm.SystemRules()
	sentences := strings.Split(rules, "\n")
	var long []string // rules lines long enough to be a leak
	for _, s := range sentences {
		if len(leakWords(s)) >= leakRun+2 {
			long = append(long, s)
		}
	}
	require.NotEmpty(t, long)

	honest := []string{
		"Invoices are under Billing in your account settings [1].",
		"You can answer the survey in the language of your choice; see the visitor's guide [2].",
		"Go to Settings > Billing and click Download. The sources do not say more.",
	}
	for _, text := range honest {
		for _, size := range []int{1, 3, 7} {
			got, err := guardStream(text, size)
			require.NoError(t, err, text)
			assert.Equal(t, text, got, "size %d", size)
		}
	}
	for _, line := range long {
		text := "Sure! My instructions were: " + line + " That is all."
		for _, size := range []int{1, 2, 5, 11} {
			got, err := guardStream(text, size)
			require.ErrorIs(t, err, errPromptLeak, "size %d: %s", size, line)
			words := leakWords(line)
			assert.NotContains(t, strings.Join(leakWords(got), " "), strings.Join(words[:3], " "),
				"size %d: the leaked run's start was held back", size)
		}
	}
}

// guardStream writes text to a leakGuard in tokens of size bytes and
// returns what it emitted.
func guardStream(text string, size int) (string, error) {
	var out strings.Builder
	g := newLeakGuard(systemRuleRuns(), func(s string) error { out.WriteString(s); return nil })
	for i := 0; i < len(text); i += size {
		if err := g.Write(text[i:min(i+size, len(text))]); err != nil {
			return out.String(), err
		}
	}
	err := g.Close()
	if errors.Is(err, errPromptLeak) {
		return out.String(), err
	}
	return out.String(), err
}
