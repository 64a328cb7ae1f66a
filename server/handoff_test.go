package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/conversation"
	"github.com/sitebot/sitebot/handoff"
	"github.com/sitebot/sitebot/llm"
)

const (
	handoffAdminKey = "admin-key-for-tests"
	handoffIDSecret = "identity-secret"
	hookSecret      = "hook-secret"
)

// handoffProfiles is an in-memory ProfileSource.
type handoffProfiles map[string][]llm.ProfileField

func (f handoffProfiles) Profile(_ context.Context, id string) ([]llm.ProfileField, bool, error) {
	p, ok := f[id]
	return p, ok, nil
}

// handoffEnv is a sitebot server on loopback with handoffs delivered to a
// webhook receiver, also on loopback.
type handoffEnv struct {
	t     *testing.T
	url   string
	model *fakeModel
	hs    *handoff.Store

	mu   sync.Mutex
	hook [][]byte // bodies received by the webhook
}

func newHandoffEnv(t *testing.T, opts ...func(*Config)) *handoffEnv {
	t.Helper()
	env := &handoffEnv{t: t, model: &fakeModel{tokens: []string{"Download invoices from the billing page [1]."}}}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(handoff.SignatureHeader) != handoff.Sign(hookSecret, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		env.mu.Lock()
		env.hook = append(env.hook, body)
		env.mu.Unlock()
	}))
	t.Cleanup(receiver.Close)

	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sitebot.db")
	conv, err := conversation.Open(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { conv.Close() })
	hs, err := handoff.Open(ctx, path, handoff.Options{Webhook: &handoff.Webhook{URL: receiver.URL, Secret: hookSecret}})
	require.NoError(t, err)
	t.Cleanup(func() { hs.Close() })
	env.hs = hs
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Run(wctx) }()
	t.Cleanup(func() { stop(); <-done })

	cfg := Config{
		Logger: quietLogger(), AdminKey: handoffAdminKey, IdentitySecret: handoffIDSecret, Handoffs: hs,
		Profiles: handoffProfiles{"cust-1": {{Name: "name", Value: "Ada Lovelace"}, {Name: "plan", Value: "Business"}}},
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := New(cfg, &fakeRetriever{result: hits()}, env.model, conv)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	env.url = srv.URL
	return env
}

// call sends a request and decodes the JSON answer into out (if not nil).
func (env *handoffEnv) call(method, path, key string, body any, out any) int {
	env.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(env.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, env.url+path, rd)
	require.NoError(env.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(env.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(env.t, err)
	if res.StatusCode >= 400 {
		assert.Contains(env.t, res.Header.Get("Content-Type"), "application/json", string(data))
		assert.Contains(env.t, string(data), `"error"`)
	}
	if out != nil && len(data) > 0 {
		require.NoError(env.t, json.Unmarshal(data, out), string(data))
	}
	return res.StatusCode
}

func (env *handoffEnv) chat(req ChatRequest) ChatResponse {
	env.t.Helper()
	var resp ChatResponse
	require.Equal(env.t, http.StatusOK, env.call(http.MethodPost, "/api/chat", "", req, &resp))
	return resp
}

func (env *handoffEnv) hookBodies() [][]byte {
	env.mu.Lock()
	defer env.mu.Unlock()
	return append([][]byte(nil), env.hook...)
}

// TestHandoffEndToEnd: a verified visitor asks for a person; the support
// team's webhook gets the transcript and profile; an agent replies from the
// inbox API; the bot stays silent; the visitor polls the agent's replies;
// the agent hands back and the bot answers again.
func TestHandoffEndToEnd(t *testing.T) {
	env := newHandoffEnv(t)
	cust := &Customer{ID: "cust-1", Token: token(handoffIDSecret, "cust-1")}
	first := env.chat(ChatRequest{Message: "How do I download my invoices?", Customer: cust})
	require.False(t, first.Handoff)
	conv := first.ConversationID
	require.Len(t, env.model.prompts(), 1)

	// Unknown conversations.
	assert.Equal(t, http.StatusNotFound, env.call(http.MethodPost, "/api/conversations/nope/handoff", "", map[string]string{}, nil))
	assert.Equal(t, http.StatusNotFound, env.call(http.MethodPost, "/api/conversations/"+conversation.NewID()+"/handoff", "", map[string]string{}, nil))
	assert.Equal(t, http.StatusNotFound, env.call(http.MethodGet, "/api/conversations/"+conversation.NewID()+"/messages", "", nil, nil))

	// The visitor asks for a person, twice (idempotent).
	var rcpt HandoffReceipt
	require.Equal(t, http.StatusCreated, env.call(http.MethodPost, "/api/conversations/"+conv+"/handoff", "",
		map[string]string{"reason": "billing question", "contact": "ada@example.com"}, &rcpt))
	assert.True(t, rcpt.Created)
	assert.Equal(t, handoff.StatusOpen, rcpt.Status)
	var again HandoffReceipt
	require.Equal(t, http.StatusOK, env.call(http.MethodPost, "/api/conversations/"+conv+"/handoff", "", nil, &again))
	assert.Equal(t, rcpt.HandoffID, again.HandoffID)
	assert.False(t, again.Created)

	// The webhook gets it once, with transcript and profile.
	require.Eventually(t, func() bool { return len(env.hookBodies()) == 1 }, 5*time.Second, 10*time.Millisecond)
	var p handoff.Payload
	require.NoError(t, json.Unmarshal(env.hookBodies()[0], &p))
	assert.Equal(t, rcpt.HandoffID, p.HandoffID)
	assert.Equal(t, conv, p.ConversationID)
	assert.Equal(t, "billing question", p.Reason)
	assert.Equal(t, "ada@example.com", p.Contact)
	assert.Equal(t, "cust-1", p.CustomerID)
	assert.Equal(t, map[string]string{"name": "Ada Lovelace", "plan": "Business"}, p.Profile)
	require.Len(t, p.Transcript, 2)
	assert.Equal(t, "How do I download my invoices?", p.Transcript[0].Content)
	assert.Equal(t, conversation.RoleAssistant, p.Transcript[1].Role)

	// The inbox needs the admin key.
	assert.Equal(t, http.StatusUnauthorized, env.call(http.MethodGet, "/api/admin/handoffs", "", nil, nil))
	assert.Equal(t, http.StatusUnauthorized, env.call(http.MethodGet, "/api/admin/handoffs", "wrong", nil, nil))
	assert.Equal(t, http.StatusBadRequest, env.call(http.MethodGet, "/api/admin/handoffs?status=bogus", handoffAdminKey, nil, nil))
	var list struct{ Handoffs []handoff.Handoff }
	require.Equal(t, http.StatusOK, env.call(http.MethodGet, "/api/admin/handoffs?status=open", handoffAdminKey, nil, &list))
	require.Len(t, list.Handoffs, 1)
	assert.Equal(t, rcpt.HandoffID, list.Handoffs[0].ID)
	assert.Equal(t, http.StatusNotFound, env.call(http.MethodGet, "/api/admin/handoffs/unknown", handoffAdminKey, nil, nil))

	// Nothing from an agent yet.
	var msgs AgentMessages
	require.Equal(t, http.StatusOK, env.call(http.MethodGet, "/api/conversations/"+conv+"/messages?after=0", "", nil, &msgs))
	assert.Equal(t, handoff.StatusOpen, msgs.Status)
	assert.Empty(t, msgs.Messages)
	assert.Equal(t, http.StatusBadRequest, env.call(http.MethodGet, "/api/conversations/"+conv+"/messages?after=-1", "", nil, nil))

	// The agent replies: the conversation is theirs.
	hpath := "/api/admin/handoffs/" + rcpt.HandoffID
	assert.Equal(t, http.StatusBadRequest, env.call(http.MethodPost, hpath+"/reply", handoffAdminKey, map[string]string{"text": "  "}, nil))
	var m handoff.Message
	require.Equal(t, http.StatusCreated, env.call(http.MethodPost, hpath+"/reply", handoffAdminKey,
		map[string]string{"text": "Hi Ada, <b>Grace</b> here. Which invoice?"}, &m))
	assert.Equal(t, handoff.RoleAgent, m.Role)

	held := env.chat(ChatRequest{Message: "The one from March", ConversationID: conv, Customer: cust})
	assert.True(t, held.Handoff)
	assert.Equal(t, ReasonAgent, held.HandoffReason)
	assert.Empty(t, held.Answer)
	assert.Len(t, env.model.prompts(), 1, "the bot stays silent while a person owns the conversation")

	require.Equal(t, http.StatusOK, env.call(http.MethodGet, "/api/conversations/"+conv+"/messages?after=0", "", nil, &msgs))
	assert.Equal(t, handoff.StatusAssigned, msgs.Status)
	require.Len(t, msgs.Messages, 1)
	assert.Equal(t, "Hi Ada, <b>Grace</b> here. Which invoice?", msgs.Messages[0].Content)
	require.Equal(t, http.StatusOK, env.call(http.MethodGet, "/api/conversations/"+conv+"/messages?after="+strconv.FormatInt(msgs.Messages[0].Seq, 10), "", nil, &msgs))
	assert.Empty(t, msgs.Messages)

	var detail HandoffDetail
	require.Equal(t, http.StatusOK, env.call(http.MethodGet, hpath, handoffAdminKey, nil, &detail))
	assert.Equal(t, handoff.StatusAssigned, detail.Status)
	assert.Equal(t, map[string]string{"name": "Ada Lovelace", "plan": "Business"}, detail.Profile)
	var roles, contents []string
	for _, m := range detail.Transcript {
		roles, contents = append(roles, m.Role), append(contents, m.Content)
	}
	assert.Equal(t, []string{"user", "assistant", "agent", "user"}, roles)
	assert.Equal(t, "The one from March", contents[3], "the visitor's message waits for the agent")

	// Hand back: the bot answers again; the handoff is closed.
	var ended handoff.Handoff
	require.Equal(t, http.StatusOK, env.call(http.MethodPost, hpath+"/handback", handoffAdminKey, nil, &ended))
	assert.Equal(t, handoff.StatusClosed, ended.Status)
	assert.Equal(t, handoff.ResolutionHandback, ended.Resolution)
	assert.Equal(t, http.StatusConflict, env.call(http.MethodPost, hpath+"/close", handoffAdminKey, nil, nil))
	assert.Equal(t, http.StatusConflict, env.call(http.MethodPost, hpath+"/reply", handoffAdminKey, map[string]string{"text": "late"}, nil))
	back := env.chat(ChatRequest{Message: "How do I download my invoices?", ConversationID: conv, Customer: cust})
	assert.False(t, back.Handoff)
	assert.NotEmpty(t, back.Answer)
	assert.Len(t, env.model.prompts(), 2)
	assert.Len(t, env.hookBodies(), 1, "one notification per handoff")
}

// TestChatHandoffOpensAHandoff: when the chat itself hands off (the
// visitor asked for a person), the handoff is created without a separate call.
func TestChatHandoffOpensAHandoff(t *testing.T) {
	env := newHandoffEnv(t)
	cust := &Customer{ID: "cust-1", Token: token(handoffIDSecret, "cust-1")}
	resp := env.chat(ChatRequest{Message: "I want to talk to a human", Customer: cust})
	require.True(t, resp.Handoff)
	var list struct{ Handoffs []handoff.Handoff }
	require.Equal(t, http.StatusOK, env.call(http.MethodGet, "/api/admin/handoffs?status=open", handoffAdminKey, nil, &list))
	require.Len(t, list.Handoffs, 1)
	h := list.Handoffs[0]
	assert.Equal(t, resp.ConversationID, h.ConversationID)
	assert.Equal(t, ReasonRequested, h.Reason)
	assert.Equal(t, "cust-1", h.CustomerID)

	// The widget's follow-up call with the contact finds the same handoff.
	var rcpt HandoffReceipt
	require.Equal(t, http.StatusOK, env.call(http.MethodPost, "/api/conversations/"+resp.ConversationID+"/handoff", "",
		map[string]string{"contact": "+44 20 7946 0958"}, &rcpt))
	assert.Equal(t, h.ID, rcpt.HandoffID)

	// An anonymous (or forged) visitor's handoff carries no profile.
	forged := env.chat(ChatRequest{Message: "I want to talk to a human", Customer: &Customer{ID: "cust-1", Token: token("guess", "cust-1")}})
	require.True(t, forged.Handoff)
	require.Eventually(t, func() bool { return len(env.hookBodies()) == 2 }, 5*time.Second, 10*time.Millisecond)
	for _, b := range env.hookBodies() {
		var p handoff.Payload
		require.NoError(t, json.Unmarshal(b, &p))
		if p.ConversationID == forged.ConversationID {
			assert.Nil(t, p.Profile)
			assert.Empty(t, p.CustomerID)
			assert.NotContains(t, string(b), "Ada Lovelace")
		}
	}
}

func TestHandoffRequestValidation(t *testing.T) {
	env := newHandoffEnv(t)
	conv := env.chat(ChatRequest{Message: "How do I download my invoices?"}).ConversationID
	path := "/api/conversations/" + conv + "/handoff"
	for name, body := range map[string]map[string]string{
		"bad contact":       {"contact": "call me maybe"},
		"contact too long":  {"contact": strings.Repeat("1", 300)},
		"reason too long":   {"reason": strings.Repeat("x", 201)},
		"reason with lines": {"reason": "a\nb"},
		"e-mail with name":  {"contact": "Ada <ada@example.com>"},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, http.StatusBadRequest, env.call(http.MethodPost, path, "", body, nil))
		})
	}
	req, _ := http.NewRequest(http.MethodPost, env.url+path, strings.NewReader(`{"reason": "x"}`))
	req.Header.Set("Content-Type", "text/plain")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode)
	assert.True(t, validContact("ada@example.com"))
	assert.True(t, validContact("+1 (555) 010-9999"))
}

func TestConversationEndpointsCORS(t *testing.T) {
	env := newHandoffEnv(t)
	conv := env.chat(ChatRequest{Message: "How do I download my invoices?"}).ConversationID
	req, _ := http.NewRequest(http.MethodOptions, env.url+"/api/conversations/"+conv+"/handoff", nil)
	req.Header.Set("Origin", "https://www.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Equal(t, "*", res.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, res.Header.Get("Access-Control-Allow-Methods"), "POST")
}

func TestAgentPage(t *testing.T) {
	env := newHandoffEnv(t)
	res, err := http.Get(env.url + "/agent")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "script-src 'self'")
	assert.Contains(t, string(body), `<script src="agent.js"`)
	assert.NotContains(t, string(body), "http://")
	assert.NotContains(t, string(body), "https://")

	res, err = http.Get(env.url + "/agent.js")
	require.NoError(t, err)
	js, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.Header.Get("Content-Type"), "javascript")
	assert.Contains(t, string(js), "sessionStorage")
	for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage", "https://"} {
		assert.NotContains(t, string(js), banned)
	}
}

func TestHandoffOff(t *testing.T) {
	s := New(Config{Logger: quietLogger(), AdminKey: handoffAdminKey}, &fakeRetriever{result: hits()}, nil, openConversations(t))
	resp, err := s.Answer(context.Background(), ChatRequest{Message: "I want to talk to a human"}, nil)
	require.NoError(t, err)
	require.True(t, resp.Handoff, "the chat still says a person is needed")
	req := httptest.NewRequest(http.MethodPost, "/api/conversations/"+resp.ConversationID+"/handoff", nil)
	assert.Equal(t, http.StatusNotImplemented, do(s.Handler(), req).Code)
}
