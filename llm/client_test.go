package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeOllama is a fake of the Ollama HTTP API (/api/version, /api/tags,
// /api/chat with NDJSON streaming), for the error mapping and the stopping
// of streams. The real server is exercised by the integration tests.
type fakeOllama struct {
	*httptest.Server
	models []string      // pulled models, as /api/tags names them
	tokens []string      // what /api/chat streams
	delay  time.Duration // between two streamed chunks
	// promptTokens is the prompt_eval_count of the final chunk (0: none);
	// contextLength the "<arch>.context_length" /api/show reports (0: none).
	promptTokens, contextLength int

	mu      sync.Mutex
	lastReq map[string]any // the last /api/chat body
	sent    int            // chunks written by the last /api/chat
	gone    chan struct{}  // closed when a /api/chat client went away early
}

func newFakeOllama(t *testing.T, models, tokens []string) *fakeOllama {
	f := &fakeOllama{models: models, tokens: tokens, gone: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"version":"0.11.4"}`)
	})
	mux.HandleFunc("GET /api/tags", func(w http.ResponseWriter, r *http.Request) {
		var list struct {
			Models []map[string]string `json:"models"`
		}
		for _, m := range f.models {
			list.Models = append(list.Models, map[string]string{"name": m, "model": m})
		}
		_ = json.NewEncoder(w).Encode(list)
	})
	mux.HandleFunc("POST /api/chat", f.chat)
	mux.HandleFunc("POST /api/show", func(w http.ResponseWriter, r *http.Request) {
		info := map[string]any{"general.architecture": "llama"}
		if f.contextLength > 0 {
			info["llama.context_length"] = f.contextLength
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"model_info": info})
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeOllama) chat(w http.ResponseWriter, r *http.Request) {
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, `{"error":"bad json"}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.lastReq, f.sent = req, 0
	f.mu.Unlock()
	model, _ := req["model"].(string)
	found := false
	for _, m := range f.models {
		found = found || canonicalName(m) == canonicalName(model)
	}
	if !found {
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf("model %q not found, try pulling it first", model)})
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for _, tok := range f.tokens {
		select {
		case <-r.Context().Done(): // the client went away: stop generating
			close(f.gone)
			return
		case <-time.After(f.delay):
		}
		_ = enc.Encode(map[string]any{"model": model, "message": map[string]string{"role": "assistant", "content": tok}, "done": false})
		w.(http.Flusher).Flush()
		f.mu.Lock()
		f.sent++
		f.mu.Unlock()
	}
	_ = enc.Encode(map[string]any{"model": model, "message": map[string]string{"role": "assistant", "content": ""}, "done": true, "done_reason": "stop", "eval_count": len(f.tokens), "prompt_eval_count": f.promptTokens})
}

func (f *fakeOllama) client(t *testing.T, model string, opts ...Option) *Client {
	u, err := url.Parse(f.URL)
	require.NoError(t, err)
	return New(u, f.Client(), model, opts...)
}

func TestCheck(t *testing.T) {
	f := newFakeOllama(t, []string{"tiny:latest", "qwen2.5:3b"}, nil)
	for _, model := range []string{"tiny", "tiny:latest", "qwen2.5:3b"} {
		assert.NoError(t, f.client(t, model).Check(t.Context()), model)
	}

	err := f.client(t, "qwen2.5").Check(t.Context())
	require.ErrorIs(t, err, ErrModelMissing)
	assert.Equal(t, "model \"qwen2.5\" is not pulled: run `ollama pull qwen2.5`", err.Error())
}

func TestCheckUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base, _ := url.Parse(srv.URL)
	srv.Close() // nothing listens there any more

	err := New(base, nil, "tiny").Check(t.Context())
	require.ErrorIs(t, err, ErrUnreachable)
	assert.Contains(t, err.Error(), srv.URL)
	assert.Contains(t, err.Error(), "--ollama")
	assert.Contains(t, err.Error(), "ollama serve")

	_, err = New(base, nil, "tiny").Chat(t.Context(), []Message{{Role: "user", Content: "hi"}}, nil)
	require.ErrorIs(t, err, ErrUnreachable)
}

func TestChatStreams(t *testing.T) {
	f := newFakeOllama(t, []string{"tiny:latest"}, []string{"Open ", "Settings", " [1]."})
	var got []string
	text, err := f.client(t, "tiny", WithNumCtx(8192)).Chat(t.Context(), []Message{{Role: "user", Content: "hi"}}, func(s string) error {
		got = append(got, s)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, "Open Settings [1].", text)
	assert.Equal(t, []string{"Open ", "Settings", " [1]."}, got)

	f.mu.Lock()
	req := f.lastReq
	f.mu.Unlock()
	assert.Equal(t, "tiny", req["model"])
	assert.Equal(t, true, req["stream"])
	assert.Equal(t, false, req["think"])
	assert.Equal(t, "10m0s", req["keep_alive"])
	opts, _ := req["options"].(map[string]any)
	assert.Equal(t, map[string]any{"num_ctx": 8192.0, "temperature": 0.2, "num_predict": 512.0}, opts)

	// A nil onToken is fine.
	text, err = f.client(t, "tiny").Chat(t.Context(), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "Open Settings [1].", text)
}

func TestChatModelMissing(t *testing.T) {
	f := newFakeOllama(t, []string{"tiny:latest"}, []string{"x"})
	_, err := f.client(t, "llama3.2:3b").Chat(t.Context(), []Message{{Role: "user", Content: "hi"}}, nil)
	require.ErrorIs(t, err, ErrModelMissing)
	assert.Contains(t, err.Error(), "ollama pull llama3.2:3b")
}

func TestChatOnTokenErrorStops(t *testing.T) {
	tokens := make([]string, 200)
	for i := range tokens {
		tokens[i] = "tok "
	}
	f := newFakeOllama(t, []string{"tiny:latest"}, tokens)
	f.delay = 5 * time.Millisecond
	errGone := errors.New("visitor left")
	n := 0
	text, err := f.client(t, "tiny").Chat(t.Context(), []Message{{Role: "user", Content: "hi"}}, func(string) error {
		if n++; n == 3 {
			return errGone
		}
		return nil
	})
	require.ErrorIs(t, err, errGone)
	assert.NotErrorIs(t, err, ErrUnreachable)
	assert.Equal(t, "tok tok tok ", text, "the text received so far comes back with the error")

	select {
	case <-f.gone: // the connection was closed, so the server stopped generating
	case <-time.After(5 * time.Second):
		t.Fatal("the fake server kept streaming after onToken failed")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Less(t, f.sent, len(tokens))
}

func TestChatCancel(t *testing.T) {
	tokens := make([]string, 200)
	for i := range tokens {
		tokens[i] = "tok "
	}
	f := newFakeOllama(t, []string{"tiny:latest"}, tokens)
	f.delay = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	_, err := f.client(t, "tiny").Chat(ctx, []Message{{Role: "user", Content: "hi"}}, func(string) error {
		cancel()
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	select {
	case <-f.gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the fake server kept streaming after ctx was cancelled")
	}
}

func TestChatIncompleteStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, `{"message":{"role":"assistant","content":"half"},"done":false}`)
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	text, err := New(base, nil, "tiny").Chat(t.Context(), nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ended before the answer was complete")
	assert.Equal(t, "half", text)
}

func TestChatServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintln(w, `{"error":"llama runner process has terminated"}`)
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	_, err := New(base, nil, "tiny").Chat(t.Context(), nil, nil)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrModelMissing)
	assert.NotErrorIs(t, err, ErrUnreachable)
	assert.True(t, strings.Contains(err.Error(), "llama runner process has terminated"), err.Error())
}

func TestCanonicalName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"tiny", "tiny:latest"},
		{"Tiny:latest", "tiny:latest"},
		{"qwen2.5:3b", "qwen2.5:3b"},
		{"localhost:5000/team/model", "localhost:5000/team/model:latest"},
		{"hf.co/org/repo:Q4_K_M", "hf.co/org/repo:q4_k_m"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, canonicalName(tt.in), tt.in)
	}
}

func TestChatSizesNumCtx(t *testing.T) {
	f := newFakeOllama(t, []string{"tiny"}, []string{"ok"})
	c := f.client(t, "tiny", WithMaxTokens(100))

	numCtx := func() float64 {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.lastReq["options"].(map[string]any)["num_ctx"].(float64)
	}
	_, err := c.Chat(t.Context(), []Message{{Role: "user", Content: "hi"}}, nil)
	require.NoError(t, err)
	assert.Equal(t, float64(DefaultNumCtx), numCtx(), "never below the default")

	long := strings.Repeat("word ", 3000) // ~4500 estimated tokens
	_, err = c.Chat(t.Context(), []Message{{Role: "user", Content: long}}, nil)
	require.NoError(t, err)
	want := (c.Tokens().ChatTokens([]Message{{Content: long}}) + 100 + 511) / 512 * 512
	assert.Equal(t, float64(want), numCtx(), "prompt + answer, rounded up to 512")
	assert.Zero(t, int(want)%512)
}

func TestChatCalibratesAndGuardsContext(t *testing.T) {
	f := newFakeOllama(t, []string{"tiny"}, []string{"ok"})
	f.contextLength = 1024
	c := f.client(t, "tiny", WithMaxTokens(200))
	require.NoError(t, c.Check(t.Context()))
	assert.Equal(t, 824, c.PromptLimit(), "context length from /api/show minus the answer")
	assert.Equal(t, 1024, c.NumCtx(5000), "never above the model's window")

	// The real count calibrates the counter.
	msgs := []Message{{Role: "system", Content: strings.Repeat("abcd ", 100)}, {Role: "user", Content: "q"}}
	f.promptTokens = 125 + 2*MessageOverhead
	_, err := c.Chat(t.Context(), msgs, nil)
	require.NoError(t, err)
	ok, ratio := c.Tokens().Calibrated()
	require.True(t, ok)
	assert.InDelta(t, 501.0/125*0.9, ratio, 0.01)

	// A prompt over the limit loses its oldest history turns, never the
	// rules or the question.
	f.promptTokens = 0
	rules := Message{Role: "system", Content: "rules"}
	big := strings.Repeat("history ", 300)
	_, err = c.Chat(t.Context(), []Message{rules, {Role: "user", Content: big}, {Role: "assistant", Content: big}, {Role: "user", Content: "question"}}, nil)
	require.NoError(t, err)
	f.mu.Lock()
	sent := f.lastReq["messages"].([]any)
	f.mu.Unlock()
	require.NotEmpty(t, sent)
	assert.Equal(t, "rules", sent[0].(map[string]any)["content"])
	assert.Equal(t, "question", sent[len(sent)-1].(map[string]any)["content"])
	assert.Less(t, len(sent), 4)
}
