package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/conversation"
	"github.com/sitebot/sitebot/llm"
	"github.com/sitebot/sitebot/retriever"
	"github.com/sitebot/sitebot/widget"
)

func chatRequest(body string, accept string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/api/chat", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return req
}

func do(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func openConversations(t testing.TB) *conversation.Store {
	t.Helper()
	st, err := conversation.Open(context.Background(), filepath.Join(t.TempDir(), "sitebot.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func TestChatJSONShape(t *testing.T) {
	model := &fakeModel{tokens: []string{"You can download ", "invoices in the billing page [1]."}}
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: hits()}, model, nil)

	rec := do(s.Handler(), chatRequest(`{"message": "  How do I get my invoices?  "}`, "application/json"))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Header().Get("Content-Type"), "application/json")

	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &raw))
	keys := []string{}
	for k := range raw {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"answer", "refused", "handoff", "mode", "sources", "conversation_id"}, keys)

	var sources []map[string]any
	require.NoError(t, json.Unmarshal(raw["sources"], &sources))
	require.Len(t, sources, 2, "deduplicated by URL")
	for _, src := range sources {
		assert.Len(t, src, 3)
		assert.Contains(t, src, "url")
		assert.Contains(t, src, "title")
		assert.Contains(t, src, "score")
	}

	resp := decode[ChatResponse](t, rec.Body.String())
	assert.Equal(t, "You can download invoices in the billing page [1].", resp.Answer)
	assert.False(t, resp.Refused)
	assert.False(t, resp.Handoff)
	assert.Equal(t, ModeLLM, resp.Mode)
	assert.Regexp(t, `^[0-9a-f]{32}$`, resp.ConversationID)
	assert.Equal(t, Source{URL: "https://docs.example.com/billing#invoices", Title: "Billing — Invoices", Score: 3.5}, resp.Sources[0])
	assert.Equal(t, "https://docs.example.com/account", resp.Sources[1].URL)

	// The prompt holds the question and the passages.
	prompts := model.prompts()
	require.Len(t, prompts, 1)
	last := prompts[0][len(prompts[0])-1]
	assert.Equal(t, "user", last.Role)
	assert.Contains(t, last.Content, "How do I get my invoices?")
	assert.Contains(t, last.Content, "billing page of your account settings")
}

func TestChatSSE(t *testing.T) {
	model := &fakeModel{tokens: []string{"Hello", " <b>world</b>", "\nline two"}}
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: hits()}, model, nil)

	rec := do(s.Handler(), chatRequest(`{"message": "invoices?"}`, "text/event-stream"))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/event-stream", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "no", rec.Header().Get("X-Accel-Buffering"))
	assert.True(t, rec.Flushed)

	events := readEvents(t, rec.Body)
	require.Len(t, events, 4, rec.Body.String())
	var text string
	for _, ev := range events[:3] {
		assert.Equal(t, "token", ev.Event)
		text += decode[map[string]string](t, ev.Data)["text"]
	}
	assert.Equal(t, "Hello <b>world</b>\nline two", text)
	assert.Equal(t, "done", events[3].Event)
	done := decode[ChatResponse](t, events[3].Data)
	assert.Equal(t, text, done.Answer)
	assert.Equal(t, ModeLLM, done.Mode)
	assert.Len(t, done.Sources, 2)
}

func TestChatExtractive(t *testing.T) {
	r := &fakeRetriever{result: hits()}
	s := New(Config{Logger: quietLogger()}, r, nil, nil)

	rec := do(s.Handler(), chatRequest(`{"message": "How do I download invoices?"}`, "text/event-stream"))
	require.Equal(t, http.StatusOK, rec.Code)
	events := readEvents(t, rec.Body)
	require.Len(t, events, 2, rec.Body.String())
	assert.Equal(t, "token", events[0].Event)
	done := decode[ChatResponse](t, events[1].Data)
	assert.Equal(t, decode[map[string]string](t, events[0].Data)["text"], done.Answer)
	assert.Equal(t, ModeExtractive, done.Mode)
	assert.False(t, done.Refused)
	assert.Contains(t, done.Answer, "download your invoices")
	assert.Contains(t, done.Answer, "https://docs.example.com/billing#invoices")
	for _, src := range done.Sources {
		assert.Contains(t, done.Answer, src.URL, "extractive sources are the passages quoted")
	}
	require.NotEmpty(t, done.Sources)
	assert.Equal(t, "https://docs.example.com/billing#invoices", done.Sources[0].URL)
}

func TestHandoff(t *testing.T) {
	for _, msg := range []string{
		"I want to talk to a human",
		"can I speak with customer service?",
		"Ich möchte mit einem Mitarbeiter sprechen",
		"Je voudrais parler à un conseiller",
		"Quiero hablar con una persona",
		"Haluan puhua ihmisen kanssa",
		"Соедините меня с оператором",
		"Jag vill prata med en människa",
		"Es vēlos runāt ar cilvēku",
	} {
		t.Run(msg, func(t *testing.T) {
			r := &fakeRetriever{result: hits()}
			m := &fakeModel{tokens: []string{"x"}}
			s := New(Config{Logger: quietLogger()}, r, m, nil)
			body, _ := json.Marshal(ChatRequest{Message: msg})
			rec := do(s.Handler(), chatRequest(string(body), ""))
			require.Equal(t, http.StatusOK, rec.Code)
			resp := decode[ChatResponse](t, rec.Body.String())
			assert.True(t, resp.Handoff)
			assert.Equal(t, ReasonRequested, resp.HandoffReason)
			assert.False(t, resp.Refused)
			assert.NotEmpty(t, resp.Answer)
			assert.Empty(t, resp.Sources)
			assert.NotNil(t, resp.Sources, `"sources": [] rather than null`)
			assert.Zero(t, r.calls(), "no retrieval for a handoff")
			assert.Empty(t, m.prompts(), "no model call for a handoff")
		})
	}
	// The reply is in the visitor's language.
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{}, nil, nil)
	resp, err := s.Answer(context.Background(), ChatRequest{Message: "Ich möchte mit einem Mitarbeiter sprechen"}, nil)
	require.NoError(t, err)
	assert.Equal(t, canned["de"].handoff, resp.Answer)
}

func TestSmallTalk(t *testing.T) {
	r := &fakeRetriever{result: hits()}
	m := &fakeModel{tokens: []string{"x"}}
	s := New(Config{Logger: quietLogger()}, r, m, nil)
	for _, msg := range []string{"Hi!", "thanks!", "Are you a bot?", "bye"} {
		resp, err := s.Answer(context.Background(), ChatRequest{Message: msg}, nil)
		require.NoError(t, err)
		assert.False(t, resp.Refused, msg)
		assert.False(t, resp.Handoff, msg)
		assert.Empty(t, resp.Sources, msg)
		assert.NotEmpty(t, resp.Answer, msg)
		assert.Equal(t, ModeLLM, resp.Mode, "mode as configured")
	}
	assert.Zero(t, r.calls())
	assert.Empty(t, m.prompts())

	s = New(Config{Logger: quietLogger()}, r, nil, nil)
	resp, err := s.Answer(context.Background(), ChatRequest{Message: "hello"}, nil)
	require.NoError(t, err)
	assert.Equal(t, ModeExtractive, resp.Mode)
}

func TestRefusal(t *testing.T) {
	low := hits()
	low.Confidence = 0.2
	tests := map[string]retriever.Result{
		"low confidence": low,
		"no hits":        {Confidence: 1},
	}
	for name, result := range tests {
		t.Run(name, func(t *testing.T) {
			m := &fakeModel{tokens: []string{"made up"}}
			s := New(Config{MinConfidence: 0.5, Logger: quietLogger()}, &fakeRetriever{result: result}, m, nil)
			rec := do(s.Handler(), chatRequest(`{"message": "What is the capital of Peru?"}`, "text/event-stream"))
			events := readEvents(t, rec.Body)
			require.NotEmpty(t, events)
			done := decode[ChatResponse](t, events[len(events)-1].Data)
			assert.True(t, done.Refused)
			assert.False(t, done.Handoff)
			assert.Equal(t, "I couldn't find this on our site. Would you like me to connect you with a person?", done.Answer)
			assert.Empty(t, done.Sources)
			assert.Empty(t, m.prompts(), "the model is not asked")
		})
	}
}

func TestModelNoAnswerIsRefusal(t *testing.T) {
	m := &fakeModel{tokens: []string{"I don", "'t know based", " on this site."}}
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: hits()}, m, nil)
	rec := do(s.Handler(), chatRequest(`{"message": "How do I get invoices?"}`, "text/event-stream"))
	events := readEvents(t, rec.Body)
	require.NotEmpty(t, events)
	for _, ev := range events[:len(events)-1] {
		assert.NotContains(t, ev.Data, "know based", "the NoAnswer sentence is not streamed")
	}
	done := decode[ChatResponse](t, events[len(events)-1].Data)
	assert.Equal(t, "done", events[len(events)-1].Event)
	assert.True(t, done.Refused)
	assert.Equal(t, ModeLLM, done.Mode)
	assert.Empty(t, done.Sources)
	assert.Contains(t, done.Answer, "connect you with a person")
}

func TestModelFailureFallsBackToExtractive(t *testing.T) {
	var logs bytes.Buffer
	m := &fakeModel{err: errors.New("llm: ollama is not reachable")}
	s := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, &fakeRetriever{result: hits()}, m, nil)
	rec := do(s.Handler(), chatRequest(`{"message": "How do I download invoices?"}`, "text/event-stream"))
	events := readEvents(t, rec.Body)
	require.Len(t, events, 2, rec.Body.String())
	done := decode[ChatResponse](t, events[1].Data)
	assert.Equal(t, ModeExtractive, done.Mode)
	assert.Contains(t, done.Answer, "download your invoices")
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "not reachable")
}

func TestModelSilentTooLongFallsBack(t *testing.T) {
	m := &fakeModel{blockAll: true}
	s := New(Config{FirstTokenTimeout: 50 * time.Millisecond, Logger: quietLogger()}, &fakeRetriever{result: hits()}, m, nil)
	resp, err := s.Answer(context.Background(), ChatRequest{Message: "How do I download invoices?"}, nil)
	require.NoError(t, err)
	assert.Equal(t, ModeExtractive, resp.Mode)
}

func TestModelFailureMidStream(t *testing.T) {
	m := &fakeModel{tokens: []string{"Partial answer"}, err: errors.New("connection reset")}
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: hits()}, m, nil)
	rec := do(s.Handler(), chatRequest(`{"message": "How do I download invoices?"}`, "text/event-stream"))
	events := readEvents(t, rec.Body)
	require.Len(t, events, 2, rec.Body.String())
	assert.Equal(t, "token", events[0].Event)
	assert.Equal(t, "error", events[1].Event)
	msg := decode[map[string]string](t, events[1].Data)["error"]
	assert.NotEmpty(t, msg)
	assert.NotContains(t, msg, "connection reset", "no internals")

	// Without streaming the visitor saw nothing yet: the extractive answer.
	rec = do(s.Handler(), chatRequest(`{"message": "How do I download invoices?"}`, ""))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, ModeExtractive, decode[ChatResponse](t, rec.Body.String()).Mode)
}

func TestChatErrors(t *testing.T) {
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: hits()}, nil, nil)
	big := `{"message": "` + strings.Repeat("a", 70<<10) + `"}`
	tests := []struct {
		name        string
		contentType string
		body        string
		accept      string
		code        int
		msg         string
	}{
		{"not json", "text/plain", `{"message": "hi"}`, "", http.StatusUnsupportedMediaType, "application/json"},
		{"form", "application/x-www-form-urlencoded", `message=hi`, "", http.StatusUnsupportedMediaType, "application/json"},
		{"too large", "application/json", big, "", http.StatusRequestEntityTooLarge, "too large"},
		{"bad json", "application/json", `{"message": `, "", http.StatusBadRequest, "JSON"},
		{"not an object", "application/json", `["hi"]`, "", http.StatusBadRequest, "JSON"},
		{"trailing data", "application/json", `{"message": "hi"} {}`, "", http.StatusBadRequest, "JSON"},
		{"empty message", "application/json; charset=utf-8", `{"message": "   "}`, "", http.StatusBadRequest, "empty"},
		{"missing message", "application/json", `{}`, "", http.StatusBadRequest, "empty"},
		{"too long", "application/json", `{"message": "` + strings.Repeat("ü", 2001) + `"}`, "", http.StatusBadRequest, "too long"},
		{"too long, streaming", "application/json", `{"message": "` + strings.Repeat("a", 2001) + `"}`, "text/event-stream", http.StatusBadRequest, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := chatRequest(tt.body, tt.accept)
			req.Header.Set("Content-Type", tt.contentType)
			rec := do(s.Handler(), req)
			assert.Equal(t, tt.code, rec.Code, rec.Body.String())
			assert.Contains(t, rec.Header().Get("Content-Type"), "application/json")
			body := decode[map[string]string](t, rec.Body.String())
			assert.Len(t, body, 1)
			assert.Contains(t, body["error"], tt.msg)
		})
	}

	// 2000 characters are fine.
	rec := do(s.Handler(), chatRequest(`{"message": "`+strings.Repeat("ü", 2000)+`"}`, ""))
	assert.Equal(t, http.StatusOK, rec.Code)

	rec = do(s.Handler(), httptest.NewRequest(http.MethodGet, "/api/chat", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Contains(t, decode[map[string]string](t, rec.Body.String())["error"], "not allowed")
	rec = do(s.Handler(), httptest.NewRequest(http.MethodGet, "/nope", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Contains(t, decode[map[string]string](t, rec.Body.String()), "error")
}

func TestInternalErrorsHidden(t *testing.T) {
	var logs bytes.Buffer
	r := &fakeRetriever{err: errors.New("embedded: open /secret/path/index.db: disk I/O error")}
	s := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, r, nil, nil)
	for _, accept := range []string{"", "text/event-stream"} {
		rec := do(s.Handler(), chatRequest(`{"message": "How do I download invoices?"}`, accept))
		assert.Equal(t, http.StatusInternalServerError, rec.Code)
		assert.JSONEq(t, `{"error": "internal server error"}`, rec.Body.String())
		assert.NotContains(t, rec.Body.String(), "secret")
	}
	assert.Contains(t, logs.String(), "/secret/path/index.db", "details go to the log")
}

func TestPanicIsA500(t *testing.T) {
	s := New(Config{Logger: quietLogger()}, panicRetriever{}, nil, nil)
	rec := do(s.Handler(), chatRequest(`{"message": "How do I download invoices?"}`, ""))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.JSONEq(t, `{"error": "internal server error"}`, rec.Body.String())
}

type panicRetriever struct{}

func (panicRetriever) Retrieve(context.Context, string, int) (retriever.Result, error) {
	panic("boom")
}

func token(secret, id string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id))
	return hex.EncodeToString(mac.Sum(nil))
}

func TestCustomerVerification(t *testing.T) {
	const secret = "s3cret"
	tests := []struct {
		name     string
		secret   string
		customer *Customer
		want     string // the customer recorded for the conversation
	}{
		{"valid", secret, &Customer{ID: "cust-1", Token: token(secret, "cust-1")}, "cust-1"},
		{"valid, upper-case hex", secret, &Customer{ID: "cust-1", Token: strings.ToUpper(token(secret, "cust-1"))}, "cust-1"},
		{"forged token", secret, &Customer{ID: "cust-1", Token: token("guess", "cust-1")}, ""},
		{"token of another id", secret, &Customer{ID: "cust-2", Token: token(secret, "cust-1")}, ""},
		{"no token", secret, &Customer{ID: "cust-1"}, ""},
		{"not hex", secret, &Customer{ID: "cust-1", Token: "zz"}, ""},
		{"no secret configured", "", &Customer{ID: "cust-1", Token: token("", "cust-1")}, ""},
		{"anonymous", secret, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			conv := openConversations(t)
			s := New(Config{IdentitySecret: tt.secret, Logger: slog.New(slog.NewTextHandler(&logs, nil))},
				&fakeRetriever{result: hits()}, nil, conv)
			body, _ := json.Marshal(ChatRequest{Message: "How do I download invoices?", Customer: tt.customer})
			rec := do(s.Handler(), chatRequest(string(body), ""))
			require.Equal(t, http.StatusOK, rec.Code, "an invalid token is not an error")
			resp := decode[ChatResponse](t, rec.Body.String())
			got, err := conv.Customer(context.Background(), resp.ConversationID)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Contains(t, logs.String(), "customer_verified="+map[bool]string{true: "true", false: "false"}[tt.want != ""])
			if tt.customer != nil && tt.customer.Token != "" {
				assert.NotContains(t, logs.String(), tt.customer.Token, "tokens are never logged")
			}
		})
	}
}

func TestConversationHistory(t *testing.T) {
	conv := openConversations(t)
	m := &fakeModel{tokens: []string{"Invoices are on the billing page."}}
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: hits()}, m, conv)

	first, err := s.Answer(context.Background(), ChatRequest{Message: "Where are my invoices?"}, nil)
	require.NoError(t, err)
	second, err := s.Answer(context.Background(), ChatRequest{Message: "And how do I download them?", ConversationID: first.ConversationID}, nil)
	require.NoError(t, err)
	assert.Equal(t, first.ConversationID, second.ConversationID)

	prompts := m.prompts()
	require.Len(t, prompts, 2)
	assert.Len(t, prompts[0], 2, "first turn: system + question")
	var history []llm.Message
	for _, msg := range prompts[1] {
		if msg.Role != "system" {
			history = append(history, msg)
		}
	}
	require.Len(t, history, 3)
	assert.Equal(t, llm.Message{Role: "user", Content: "Where are my invoices?"}, history[0])
	assert.Equal(t, llm.Message{Role: "assistant", Content: "Invoices are on the billing page."}, history[1])
	assert.Contains(t, history[2].Content, "And how do I download them?")

	turns, err := conv.Recent(context.Background(), first.ConversationID, 10)
	require.NoError(t, err)
	assert.Len(t, turns, 4)

	// An unknown or malformed id starts a new conversation.
	for _, id := range []string{conversation.NewID(), "not-an-id", "../../etc/passwd"} {
		resp, err := s.Answer(context.Background(), ChatRequest{Message: "Where are my invoices?", ConversationID: id}, nil)
		require.NoError(t, err)
		assert.NotEqual(t, id, resp.ConversationID)
		assert.Regexp(t, `^[0-9a-f]{32}$`, resp.ConversationID)
	}
}

func TestYesAfterRefusalIsHandoff(t *testing.T) {
	conv := openConversations(t)
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: retriever.Result{}}, nil, conv)
	first, err := s.Answer(context.Background(), ChatRequest{Message: "Do you sell pizza?"}, nil)
	require.NoError(t, err)
	require.True(t, first.Refused)
	second, err := s.Answer(context.Background(), ChatRequest{Message: "Yes please", ConversationID: first.ConversationID}, nil)
	require.NoError(t, err)
	assert.True(t, second.Handoff)
	assert.Equal(t, ReasonRequested, second.HandoffReason)
}

// TestDisconnectCancelsModel: a visitor who goes away mid-answer cancels the model call.
func TestDisconnectCancelsModel(t *testing.T) {
	m := &fakeModel{tokens: []string{"First words"}, blockAll: true, ended: make(chan error, 1)}
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: hits()}, m, nil)
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+"/api/chat", strings.NewReader(`{"message": "How do I download invoices?"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	buf := make([]byte, 256)
	n, err := resp.Body.Read(buf)
	require.NoError(t, err)
	require.Contains(t, string(buf[:n]), "event: token")

	cancel() // the visitor closes the tab
	select {
	case ctxErr := <-m.ended:
		assert.ErrorIs(t, ctxErr, context.Canceled)
	case <-time.After(time.Second):
		t.Fatal("the model call was not cancelled within a second of the disconnect")
	}
}

func TestWidgetAssets(t *testing.T) {
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{}, nil, nil)
	for _, tt := range []struct{ path, name, ctype string }{
		{"/widget.js", "widget.js", "text/javascript"},
		{"/widget.css", "widget.css", "text/css"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(s.Handler(), httptest.NewRequest(http.MethodGet, tt.path, nil))
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Contains(t, rec.Header().Get("Content-Type"), tt.ctype)
			assert.Equal(t, widget.ETag(tt.name), rec.Header().Get("ETag"))
			assert.Contains(t, rec.Header().Get("Cache-Control"), "max-age=")
			want := widget.JS()
			if tt.name == "widget.css" {
				want = widget.CSS()
			}
			assert.Equal(t, want, rec.Body.Bytes())

			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			req.Header.Set("If-None-Match", `"other", `+widget.ETag(tt.name))
			rec = do(s.Handler(), req)
			assert.Equal(t, http.StatusNotModified, rec.Code)
			assert.Empty(t, rec.Body.Bytes())
			assert.Equal(t, widget.ETag(tt.name), rec.Header().Get("ETag"))

			req = httptest.NewRequest(http.MethodGet, tt.path, nil)
			req.Header.Set("If-None-Match", `"stale"`)
			assert.Equal(t, http.StatusOK, do(s.Handler(), req).Code)

			rec = do(s.Handler(), httptest.NewRequest(http.MethodHead, tt.path, nil))
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Empty(t, rec.Body.Bytes())
		})
	}
}

func TestCORS(t *testing.T) {
	preflight := func(h http.Handler, origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodOptions, "/api/chat", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		return do(h, req)
	}

	open := New(Config{Logger: quietLogger()}, &fakeRetriever{result: hits()}, nil, nil).Handler()
	rec := preflight(open, "https://shop.example.org")
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, rec.Header().Get("Access-Control-Allow-Methods"), "POST")
	assert.Contains(t, rec.Header().Get("Access-Control-Allow-Headers"), "Content-Type")
	assert.Contains(t, rec.Header().Get("Access-Control-Allow-Headers"), "Accept")

	req := chatRequest(`{"message": "How do I download invoices?"}`, "")
	req.Header.Set("Origin", "https://shop.example.org")
	rec = do(open, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))

	closed := New(Config{AllowOrigins: []string{"https://www.example.com", "https://*.example.net"}, Logger: quietLogger()},
		&fakeRetriever{result: hits()}, nil, nil).Handler()
	rec = preflight(closed, "https://www.example.com")
	assert.Equal(t, "https://www.example.com", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, rec.Header().Values("Vary"), "Origin")
	rec = preflight(closed, "https://help.example.net")
	assert.Equal(t, "https://help.example.net", rec.Header().Get("Access-Control-Allow-Origin"))
	for _, bad := range []string{"https://evil.example", "http://www.example.com", "https://example.net.evil.example", "null"} {
		rec = preflight(closed, bad)
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), bad)
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Methods"), bad)
	}

	// The health endpoints are not for browsers.
	req = httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.Header.Set("Origin", "https://www.example.com")
	assert.Empty(t, do(open, req).Header().Get("Access-Control-Allow-Origin"))
}

func TestHealth(t *testing.T) {
	ready := errors.New("index not open")
	s := New(Config{Logger: quietLogger(), Ready: func(context.Context) error { return ready }}, &fakeRetriever{}, nil, nil)
	rec := do(s.Handler(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "ok", rec.Body.String())
	rec = do(s.Handler(), httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.NotContains(t, rec.Body.String(), "index not open")
	ready = nil
	rec = do(s.Handler(), httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
}

func TestServeShutsDownGracefully(t *testing.T) {
	m := &fakeModel{tokens: []string{"slow answer"}}
	s := New(Config{Logger: quietLogger()}, &fakeRetriever{result: hits()}, m, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var serveErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveErr = s.Serve(ctx, ln)
	}()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "ok", string(body))

	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after ctx was cancelled")
	}
	require.NoError(t, serveErr)
	_, err = http.Get("http://" + ln.Addr().String() + "/healthz")
	assert.Error(t, err, "no longer listening")
}
