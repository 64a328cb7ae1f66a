package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/internal/testenv"
	"github.com/sitebot/sitebot/llm"
)

// recordingModel wraps the real client and reports ctx.Err() when Chat returns.
type recordingModel struct {
	inner Model
	ended chan error
}

func (r *recordingModel) Chat(ctx context.Context, msgs []llm.Message, onToken func(string) error) (string, error) {
	text, err := r.inner.Chat(ctx, msgs, onToken)
	select {
	case r.ended <- ctx.Err():
	default:
	}
	return text, err
}

// ollamaServer serves the chat with the real Ollama model of the test
// environment (skipped, or failed in CI, without one) over real loopback HTTP.
func ollamaServer(t testing.TB, opts ...llm.Option) (*httptest.Server, *recordingModel) {
	t.Helper()
	base, model := testenv.Ollama(t)
	u, err := url.Parse(base)
	require.NoError(t, err)
	client := llm.New(u, nil, model, opts...)
	require.NoError(t, client.Check(t.Context()), "the test model should be pulled")
	rec := &recordingModel{inner: client, ended: make(chan error, 1)}
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: hits()}, rec, nil)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, rec
}

func postChat(ctx context.Context, t testing.TB, serverURL, accept, message string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(ChatRequest{Message: message})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serverURL+"/api/chat", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestOllamaStreamsThroughChat(t *testing.T) {
	ts, _ := ollamaServer(t, llm.WithMaxTokens(48))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	resp := postChat(ctx, t, ts.URL, "text/event-stream", "Where can I download my invoices?")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := readEvents(t, resp.Body)
	require.NotEmpty(t, events)
	last := events[len(events)-1]
	require.Equal(t, "done", last.Event, "events: %v", events)
	done := decode[ChatResponse](t, last.Data)
	t.Logf("%d events; answer %q", len(events), done.Answer)

	if done.Refused { // the tiny model writes stories, but could say the NoAnswer sentence
		return
	}
	var streamed strings.Builder
	for _, ev := range events[:len(events)-1] {
		require.Equal(t, "token", ev.Event)
		streamed.WriteString(decode[map[string]string](t, ev.Data)["text"])
	}
	assert.Greater(t, len(events)-1, 1, "the answer arrives in several token events")
	assert.Equal(t, ModeLLM, done.Mode)
	assert.NotEmpty(t, done.Answer)
	assert.Equal(t, strings.TrimSpace(streamed.String()), done.Answer)
	assert.Len(t, done.Sources, 2)
}

func TestOllamaJSONChat(t *testing.T) {
	ts, _ := ollamaServer(t, llm.WithMaxTokens(32))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	resp := postChat(ctx, t, ts.URL, "application/json", "Where can I download my invoices?")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out ChatResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	assert.Equal(t, ModeLLM, out.Mode)
	assert.NotEmpty(t, out.Answer)
	assert.Regexp(t, `^[0-9a-f]{32}$`, out.ConversationID)
}

func TestOllamaDisconnectCancelsModel(t *testing.T) {
	// Uncapped, the tiny model writes until its context window is full: far
	// longer than the test waits, so only the cancellation can stop it.
	ts, rec := ollamaServer(t, llm.WithMaxTokens(100000))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	resp := postChat(ctx, t, ts.URL, "text/event-stream", "Where can I download my invoices?")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	buf := make([]byte, 512)
	n, err := resp.Body.Read(buf)
	require.NoError(t, err)
	require.Contains(t, string(buf[:n]), "event: token")

	cancel() // the visitor goes away
	select {
	case ctxErr := <-rec.ended:
		assert.ErrorIs(t, ctxErr, context.Canceled, "the model call ended because the visitor left")
	case <-time.After(time.Second):
		t.Fatal("the model call was not cancelled within a second of the disconnect")
	}
}
