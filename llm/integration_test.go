package llm

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/sitebot/sitebot/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realClient returns a client for the real Ollama server of the test
// environment (skips, or fails in CI, when there is none).
func realClient(t testing.TB, model string, opts ...Option) *Client {
	t.Helper()
	base, defModel := testenv.Ollama(t)
	if model == "" {
		model = defModel
	}
	u, err := url.Parse(base)
	require.NoError(t, err)
	return New(u, nil, model, opts...)
}

func TestOllamaCheck(t *testing.T) {
	c := realClient(t, "")
	require.NoError(t, c.Check(t.Context()), "model %q should be pulled", c.Model())

	err := realClient(t, "sitebot-no-such-model:1b").Check(t.Context())
	require.ErrorIs(t, err, ErrModelMissing)
	assert.Contains(t, err.Error(), "ollama pull sitebot-no-such-model:1b")
}

func TestOllamaChatModelMissing(t *testing.T) {
	_, err := realClient(t, "sitebot-no-such-model").Chat(t.Context(), []Message{{Role: "user", Content: "hi"}}, nil)
	require.ErrorIs(t, err, ErrModelMissing)
}

func TestOllamaChatStreams(t *testing.T) {
	c := realClient(t, "", WithMaxTokens(64))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	msgs := Prompt("Once upon a time", []Passage{{URL: "https://example.com/", Title: "Story", Text: "Lily went to the park."}}, nil)

	var (
		tokens   []string
		start    = time.Now()
		firstAt  time.Duration
		streamed string
	)
	text, err := c.Chat(ctx, msgs, func(s string) error {
		if tokens == nil {
			firstAt = time.Since(start)
		}
		tokens = append(tokens, s)
		streamed += s
		return nil
	})
	took := time.Since(start)
	require.NoError(t, err)
	require.Greater(t, len(tokens), 1, "the answer should arrive in several pieces")
	assert.Equal(t, streamed, text)
	assert.NotEmpty(t, text)
	rate := float64(len(tokens)-1) / (took - firstAt).Seconds()
	t.Logf("model %s: %d tokens, time to first token %v, %.0f tokens/s after it, total %v",
		c.Model(), len(tokens), firstAt.Round(time.Millisecond), rate, took.Round(time.Millisecond))
}

func TestOllamaChatCancel(t *testing.T) {
	// Without a cap the tiny model writes until its context is full, which
	// takes far longer than the cancellation may.
	c := realClient(t, "", WithMaxTokens(100000))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	n := 0
	var cancelledAt time.Time
	_, err := c.Chat(ctx, []Message{{Role: "user", Content: "Once upon a time"}}, func(string) error {
		if n++; n == 3 {
			cancel()
			cancelledAt = time.Now()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, cancelledAt.IsZero(), "the model stopped before 3 tokens")
	assert.Less(t, time.Since(cancelledAt), time.Second, "Chat should return promptly after cancel")

	// The server is still usable afterwards.
	_, err = realClient(t, "", WithMaxTokens(8)).Chat(t.Context(), []Message{{Role: "user", Content: "Lily"}}, nil)
	require.NoError(t, err)
}

// BenchmarkOllamaChat reports time to first token and tokens/s of the real
// model for a grounded prompt (go test ./llm/ -run - -bench Ollama).
func BenchmarkOllamaChat(b *testing.B) {
	c := realClient(b, "", WithMaxTokens(128))
	msgs := Prompt("Where did Lily go?", []Passage{{URL: "https://example.com/", Title: "Story", Text: "Lily went to the park. She saw a big dog."}}, nil)
	var tokens int
	var ttft, gen time.Duration
	for b.Loop() {
		start := time.Now()
		var first time.Time
		n := 0
		_, err := c.Chat(b.Context(), msgs, func(string) error {
			if n == 0 {
				first = time.Now()
			}
			n++
			return nil
		})
		require.NoError(b, err)
		tokens += n - 1
		ttft += first.Sub(start)
		gen += time.Since(first)
	}
	b.ReportMetric(float64(ttft.Milliseconds())/float64(b.N), "ms-ttft/op")
	b.ReportMetric(float64(tokens)/gen.Seconds(), "tokens/s")
}
