package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/conversation"
	"github.com/sitebot/sitebot/handoff"
	"github.com/sitebot/sitebot/internal/testenv"
	"github.com/sitebot/sitebot/llm"
	"github.com/sitebot/sitebot/profile"
)

const (
	testAdminKey = "admin-key-for-tests"
	testSecret   = "identity-secret-for-tests"
)

// dataDir opens a conversation store and a profile store on one
// sitebot.db in a fresh directory, as serve does.
func dataDir(t testing.TB) (dir string, conv *conversation.Store, profiles *profile.Store) {
	t.Helper()
	dir = t.TempDir()
	path := filepath.Join(dir, "sitebot.db")
	conv, err := conversation.Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { conv.Close() })
	profiles, err = profile.Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { profiles.Close() })
	return dir, conv, profiles
}

func profileRequest(method, path, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+testAdminKey)
	return req
}

func TestProfileAPI(t *testing.T) {
	_, conv, profiles := dataDir(t)
	s := New(Config{AdminKey: testAdminKey, ProfileStore: profiles, Logger: quietLogger()}, &fakeRetriever{result: hits()}, nil, conv)
	h := s.Handler()

	t.Run("auth", func(t *testing.T) {
		for _, auth := range []string{"", "Bearer wrong", "Basic " + testAdminKey, testAdminKey} {
			for _, m := range []string{http.MethodPut, http.MethodGet, http.MethodDelete} {
				req := profileRequest(m, "/api/admin/profiles/c1", `{"name": "x"}`)
				req.Header.Set("Authorization", auth)
				rec := do(h, req)
				assert.Equal(t, http.StatusUnauthorized, rec.Code, "%s with %q", m, auth)
				assert.Contains(t, rec.Body.String(), `"error"`)
			}
		}
		off := New(Config{ProfileStore: profiles, Logger: quietLogger()}, &fakeRetriever{}, nil, nil)
		assert.Equal(t, http.StatusForbidden, do(off.Handler(), profileRequest(http.MethodGet, "/api/admin/profiles/c1", "")).Code)
	})

	t.Run("validation", func(t *testing.T) {
		tests := []struct {
			name, path, body, ctype string
			code                    int
		}{
			{"array", "/api/admin/profiles/c1", `[1, 2]`, "application/json", 400},
			{"string", "/api/admin/profiles/c1", `"x"`, "application/json", 400},
			{"null", "/api/admin/profiles/c1", `null`, "application/json", 400},
			{"broken", "/api/admin/profiles/c1", `{"a":`, "application/json", 400},
			{"two objects", "/api/admin/profiles/c1", `{} {}`, "application/json", 400},
			{"not json", "/api/admin/profiles/c1", `name=x`, "application/x-www-form-urlencoded", 415},
			{"too big", "/api/admin/profiles/c1", `{"a": "` + strings.Repeat("x", 64<<10) + `"}`, "application/json", 413},
			{"control char in id", "/api/admin/profiles/a%00b", `{}`, "application/json", 400},
			{"newline in id", "/api/admin/profiles/a%0Ab", `{}`, "application/json", 400},
			{"id too long", "/api/admin/profiles/" + strings.Repeat("x", 257), `{}`, "application/json", 400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req := profileRequest(http.MethodPut, tt.path, tt.body)
				req.Header.Set("Content-Type", tt.ctype)
				rec := do(h, req)
				assert.Equal(t, tt.code, rec.Code, rec.Body.String())
				assert.Equal(t, "application/json", strings.Split(rec.Header().Get("Content-Type"), ";")[0])
				assert.NotEmpty(t, decode[map[string]string](t, rec.Body.String())["error"])
			})
		}
		assert.Equal(t, 400, do(h, profileRequest(http.MethodGet, "/api/admin/profiles/"+strings.Repeat("x", 257), "")).Code)
	})

	t.Run("round trip", func(t *testing.T) {
		const id = "cust/42 ü" // escaped in the path
		path := "/api/admin/profiles/cust%2F42%20%C3%BC"
		rec := do(h, profileRequest(http.MethodGet, path, ""))
		assert.Equal(t, http.StatusNotFound, rec.Code)
		assert.Equal(t, "no profile for this customer id", decode[map[string]string](t, rec.Body.String())["error"])

		doc := `{"name": "Ada", "plan": "Business", "orders": [{"id": "#1042", "status": "shipped"}]}`
		rec = do(h, profileRequest(http.MethodPut, path, doc))
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		assert.JSONEq(t, `{"customer_id": "cust/42 ü", "created": true}`, rec.Body.String())
		rec = do(h, profileRequest(http.MethodPut, path, doc))
		require.Equal(t, http.StatusOK, rec.Code)

		rec = do(h, profileRequest(http.MethodGet, path, ""))
		require.Equal(t, http.StatusOK, rec.Code)
		assert.JSONEq(t, doc, rec.Body.String())
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))

		fields, ok, err := profiles.Profile(context.Background(), id)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, "orders", fields[2].Name)

		convID := conversation.NewID()
		require.NoError(t, conv.Append(context.Background(), convID, conversation.RoleUser, "hi"))
		require.NoError(t, conv.SetCustomer(context.Background(), convID, id))
		rec = do(h, profileRequest(http.MethodDelete, path, ""))
		require.Equal(t, http.StatusOK, rec.Code)
		assert.JSONEq(t, `{"customer_id": "cust/42 ü", "profile_deleted": true, "conversations_deleted": 1}`, rec.Body.String())
		assert.Equal(t, http.StatusNotFound, do(h, profileRequest(http.MethodGet, path, "")).Code)
		rec = do(h, profileRequest(http.MethodDelete, path, ""))
		require.Equal(t, http.StatusOK, rec.Code, "erasing again is harmless")
		assert.JSONEq(t, `{"customer_id": "cust/42 ü", "profile_deleted": false, "conversations_deleted": 0}`, rec.Body.String())
	})

	t.Run("no store", func(t *testing.T) {
		s := New(Config{AdminKey: testAdminKey, Logger: quietLogger()}, &fakeRetriever{}, nil, nil)
		assert.Equal(t, http.StatusNotImplemented, do(s.Handler(), profileRequest(http.MethodGet, "/api/admin/profiles/c1", "")).Code)
	})
}

// recordingEraser is an Eraser that records whom it erased.
type recordingEraser struct {
	mu  sync.Mutex
	ids []string
}

func (r *recordingEraser) EraseCustomer(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	return nil
}

// TestErasureLeavesNoCopy: a canary in a customer's profile and messages
// is nowhere in the raw files of the data directory after the customer is
// erased (database, write-ahead log, shared memory).
func TestErasureLeavesNoCopy(t *testing.T) {
	dir, conv, profiles := dataDir(t)
	canary := "CANARY" + randomHex(8)
	other := "KEEPME" + randomHex(8)
	eraser := &recordingEraser{}
	s := New(Config{AdminKey: testAdminKey, IdentitySecret: testSecret, ProfileStore: profiles,
		Erasers: []Eraser{eraser}, Logger: quietLogger()}, &fakeRetriever{result: hits()}, nil, conv)
	h := s.Handler()

	put := func(id, value string) {
		rec := do(h, profileRequest(http.MethodPut, "/api/admin/profiles/"+id, `{"name": "Ada", "plan": "`+value+`"}`))
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	}
	put("ada", canary)
	put("bob", other)
	chat := func(id, msg, convID string) ChatResponse {
		body := fmt.Sprintf(`{"message": %q, "conversation_id": %q, "customer": {"id": %q, "token": %q}}`, msg, convID, id, token(testSecret, id))
		rec := do(h, chatRequest(body, ""))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		return decode[ChatResponse](t, rec.Body.String())
	}
	r := chat("ada", "Which plan am I on?", "")
	require.Contains(t, r.Answer, canary, "the answer quotes the profile")
	chat("ada", "My reference is "+canary+", where are the invoices?", r.ConversationID)
	chat("ada", "And again "+canary+" for the billing page", "")
	chat("bob", "Which plan am I on? "+other, "")
	require.Positive(t, countInDir(t, dir, canary), "the canary is on disk before the erasure")

	rec := do(h, profileRequest(http.MethodDelete, "/api/admin/profiles/ada", ""))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"customer_id": "ada", "profile_deleted": true, "conversations_deleted": 2}`, rec.Body.String())
	assert.Equal(t, []string{"ada"}, eraser.ids)

	assert.Zero(t, countInDir(t, dir, canary), "no byte of the erased customer's data stays in the files")
	assert.Positive(t, countInDir(t, dir, other), "other customers are kept")
	r = chat("bob", "Which plan am I on?", "")
	assert.Contains(t, r.Answer, other)
}

// countInDir counts the occurrences of s in the raw bytes of every file in dir.
func countInDir(t testing.TB, dir, s string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		n += bytes.Count(b, []byte(s))
	}
	return n
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func TestAnswerFromProfile(t *testing.T) {
	fields := []llm.ProfileField{
		{Name: "name", Value: "Ada Lovelace"},
		{Name: "email", Value: "ada@example.com"},
		{Name: "plan", Value: "Business"},
		{Name: "orders", Value: "#1042 shipped 2026-11-02; #1038 delivered"},
		{Name: "support_tier", Value: "gold"},
	}
	tests := []struct {
		question string
		want     string // a value in the answer; "" for none
	}{
		{"Which plan am I on?", "Business"},
		{"what's my subscription?", "Business"},
		{"Where is my last order?", "#1042 shipped"},
		{"What's my email?", "ada@example.com"},
		{"What is my e-mail address?", "ada@example.com"},
		{"What is my support tier?", "gold"},
		{"Welchen Tarif habe ich?", "Business"},
		{"Wo ist meine Bestellung?", "#1042"},
		{"Où est ma commande ?", "#1042"},
		{"¿Cuál es mi plan?", "Business"},
		{"Где мой заказ?", "#1042"},
		{"Mikä on minun sähköpostiosoite?", "ada@example.com"},
		{"How do I change my plan?", ""},          // a how-to question: the site answers it
		{"What does the Business plan cost?", ""}, // not about the visitor
		{"Where are my invoices?", ""},            // no such field
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			s := New(Config{Logger: quietLogger()}, &fakeRetriever{}, nil, nil)
			var resp ChatResponse
			ok := s.answerFromProfile(tt.question, fields, &resp)
			assert.Equal(t, tt.want != "", ok, resp.Answer)
			if tt.want != "" {
				assert.Contains(t, resp.Answer, tt.want)
				assert.Equal(t, ModeExtractive, resp.Mode)
			}
		})
	}
	withModel := New(Config{Logger: quietLogger()}, &fakeRetriever{}, &fakeModel{}, nil)
	assert.False(t, withModel.answerFromProfile("Which plan am I on?", fields, &ChatResponse{}), "the model answers when there is one")
}

// TestPersonalQuestionsExtractive: with no model, a verified visitor's
// personal question is answered from their own profile; the same question
// without a valid token is not (no profile, the usual path).
func TestPersonalQuestionsExtractive(t *testing.T) {
	_, conv, profiles := dataDir(t)
	ctx := context.Background()
	_, err := profiles.Put(ctx, "ada", []byte(`{"name": "Ada", "plan": "Business"}`))
	require.NoError(t, err)
	_, err = profiles.Put(ctx, "bob", []byte(`{"name": "Bob", "plan": "Starter"}`))
	require.NoError(t, err)
	ret := &fakeRetriever{result: hits()}
	s := New(Config{IdentitySecret: testSecret, ProfileStore: profiles, Logger: quietLogger()}, ret, nil, conv)
	ask := func(c *Customer) ChatResponse {
		r, err := s.Answer(ctx, ChatRequest{Message: "Which plan am I on?", Customer: c}, nil)
		require.NoError(t, err)
		return r
	}
	r := ask(&Customer{ID: "ada", Token: token(testSecret, "ada")})
	assert.Equal(t, "From your customer profile — plan: Business", r.Answer)
	assert.Equal(t, ModeExtractive, r.Mode)
	assert.Zero(t, ret.calls(), "answered before retrieval")

	for _, c := range []*Customer{nil, {ID: "ada"}, {ID: "ada", Token: token(testSecret, "bob")}, {ID: "ada", Token: token("guess", "ada")}} {
		r := ask(c)
		assert.NotContains(t, r.Answer, "Business")
		assert.NotContains(t, r.Answer, "Starter")
	}
}

// echoModel is a fake Model that answers with its whole prompt (every
// message but the system rules, which the leak guard would withhold): any
// data that reaches a prompt shows in the answer, so a leak is visible.
type echoModel struct{}

func (echoModel) Chat(ctx context.Context, msgs []llm.Message, onToken func(string) error) (string, error) {
	var b strings.Builder
	for _, m := range msgs {
		if m.Role == "system" {
			continue
		}
		b.WriteString(m.Role + ": " + m.Content + "\n")
	}
	text := b.String()
	for len(text) > 0 {
		n := min(64, len(text))
		if err := onToken(text[:n]); err != nil {
			return "", err
		}
		text = text[n:]
	}
	return b.String(), ctx.Err()
}

// TestNoProfileLeaks drives many visitors at once over real HTTP with
// valid, forged, swapped and replayed tokens and replayed conversation
// ids; every customer's profile holds a unique canary. No response body,
// SSE stream or log line may hold another customer's canary, and a visitor
// who is not verified sees none at all.
func TestNoProfileLeaks(t *testing.T) {
	const visitors, perVisitor = 50, 10
	for _, tc := range []struct {
		name  string
		model Model
	}{{"model echoes its prompt", echoModel{}}, {"extractive", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			dir, conv, profiles := dataDir(t)
			ctx := context.Background()
			// Every handoff is delivered to this receiver: its payloads carry
			// transcripts and profiles, and must hold only their customer's.
			var hookMu sync.Mutex
			var payloads []handoff.Payload
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var p handoff.Payload
				if json.NewDecoder(r.Body).Decode(&p) == nil {
					hookMu.Lock()
					payloads = append(payloads, p)
					hookMu.Unlock()
				}
			}))
			defer receiver.Close()
			hs, err := handoff.Open(ctx, filepath.Join(dir, "sitebot.db"), handoff.Options{Webhook: &handoff.Webhook{URL: receiver.URL, Secret: "hook-secret"}})
			require.NoError(t, err)
			defer hs.Close()
			wctx, stopWorker := context.WithCancel(ctx)
			workerDone := make(chan struct{})
			go func() { defer close(workerDone); _ = hs.Run(wctx) }()
			defer func() { stopWorker(); <-workerDone }()
			ids := make([]string, visitors)
			canaries := make([]string, visitors)
			for i := range visitors {
				ids[i] = fmt.Sprintf("cust-%02d", i)
				canaries[i] = "CANARY" + randomHex(8)
				doc := fmt.Sprintf(`{"name": "Visitor %d", "email": "v%d@example.com", "plan": %q, "orders": [{"id": "#%d", "note": %q}]}`,
					i, i, canaries[i], 1000+i, canaries[i])
				_, err := profiles.Put(ctx, ids[i], []byte(doc))
				require.NoError(t, err)
			}
			logs := &testenv.SyncBuffer{}
			log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s := New(Config{IdentitySecret: testSecret, ProfileStore: profiles, Handoffs: hs, RateLimit: -1, Logger: log},
				&fakeRetriever{result: hits()}, tc.model, conv)
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()

			// convs[i] is a conversation of customer i, for others to replay.
			var convs sync.Map
			var requests, forged, replayed, leaks, verifiedSeen atomic.Int64
			kinds := []string{"valid", "forged", "swapped", "replay-conv", "valid", "stolen-id", "replay-conv-anon", "no-token", "valid", "replay-conv"}

			var wg sync.WaitGroup
			for i := range visitors {
				wg.Add(1)
				go func() {
					defer wg.Done()
					client := srv.Client()
					for r := range perVisitor {
						j := (i + 1 + r) % visitors // another customer
						kind := kinds[r]
						req := ChatRequest{Message: "Which plan am I on? Where is my last order?"}
						if r == 4 || r == 9 { // these turns end in a handoff, with the transcript so far
							req.Message = "I want to talk to a human please"
						}
						verified := false
						switch kind {
						case "valid":
							req.Customer, verified = &Customer{ID: ids[i], Token: token(testSecret, ids[i])}, true
							if c, ok := convs.Load(i); ok {
								req.ConversationID = c.(string)
							}
						case "forged":
							req.Customer = &Customer{ID: ids[j], Token: randomHex(32)}
							forged.Add(1)
						case "swapped": // another customer's id with my token
							req.Customer = &Customer{ID: ids[j], Token: token(testSecret, ids[i])}
							forged.Add(1)
						case "stolen-id": // my id with another customer's token
							req.Customer = &Customer{ID: ids[i], Token: token(testSecret, ids[j])}
							forged.Add(1)
						case "no-token":
							req.Customer = &Customer{ID: ids[j]}
							forged.Add(1)
						case "replay-conv": // my valid token, another customer's conversation
							req.Customer, verified = &Customer{ID: ids[i], Token: token(testSecret, ids[i])}, true
							if c, ok := convs.Load(j); ok {
								req.ConversationID = c.(string)
								replayed.Add(1)
							}
						case "replay-conv-anon":
							if c, ok := convs.Load(j); ok {
								req.ConversationID = c.(string)
								replayed.Add(1)
							}
						}
						body, _ := json.Marshal(req)
						hreq, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/chat", bytes.NewReader(body))
						hreq.Header.Set("Content-Type", "application/json")
						if r%2 == 1 {
							hreq.Header.Set("Accept", "text/event-stream")
						}
						resp, err := client.Do(hreq)
						if !assert.NoError(t, err) {
							return
						}
						raw, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						requests.Add(1)
						if !assert.Equal(t, http.StatusOK, resp.StatusCode, string(raw)) {
							continue
						}
						for k, c := range canaries {
							if bytes.Contains(raw, []byte(c)) && (k != i || !verified) {
								leaks.Add(1)
								t.Errorf("request %d of visitor %d (%s) got customer %d's canary", r, i, kind, k)
							}
						}
						if verified && bytes.Contains(raw, []byte(canaries[i])) {
							verifiedSeen.Add(1)
						}
						if kind == "valid" {
							if cid := conversationIDOf(raw); cid != "" {
								convs.Store(i, cid)
							}
						}
					}
				}()
			}
			wg.Wait()

			// Every handoff's notification holds only its own customer's data.
			require.Eventually(t, func() bool {
				open, err := hs.List(ctx, "", 1000)
				require.NoError(t, err)
				hookMu.Lock()
				defer hookMu.Unlock()
				return len(open) > 0 && len(payloads) >= len(open)
			}, 20*time.Second, 50*time.Millisecond, "every handoff is delivered")
			hookMu.Lock()
			delivered, ownSeen := len(payloads), 0
			for _, p := range payloads {
				raw, _ := json.Marshal(p)
				for k, c := range canaries {
					if bytes.Contains(raw, []byte(c)) && p.CustomerID == ids[k] {
						ownSeen++
					}
					if bytes.Contains(raw, []byte(c)) && p.CustomerID != ids[k] {
						leaks.Add(1)
						t.Errorf("handoff %s of customer %q holds customer %d's canary", p.HandoffID, p.CustomerID, k)
					}
				}
			}
			hookMu.Unlock()
			assert.Positive(t, ownSeen, "verified customers' handoffs do carry their own profile (the test can see data)")

			logText := logs.String()
			for k, c := range canaries {
				if n := strings.Count(logText, c); n > 0 {
					leaks.Add(int64(n))
					t.Errorf("the log holds customer %d's canary %d times", k, n)
				}
			}
			assert.Equal(t, int64(visitors*perVisitor), requests.Load())
			assert.Zero(t, leaks.Load())
			assert.Positive(t, verifiedSeen.Load(), "verified visitors do get their own profile (the test can see data)")
			t.Logf("leak test (%s): %d requests from %d concurrent visitors, %d forged/swapped/unsigned tokens, %d replayed conversation ids, %d answers with the visitor's own profile, %d handoffs delivered, leaks = %d, log lines = %d",
				tc.name, requests.Load(), visitors, forged.Load(), replayed.Load(), verifiedSeen.Load(), delivered, leaks.Load(), strings.Count(logText, "\n"))
		})
	}
}

// conversationIDOf finds the conversation id in a JSON body or in the
// "done" event of an SSE stream.
func conversationIDOf(raw []byte) string {
	body := raw
	if i := bytes.LastIndex(raw, []byte("event: done\ndata: ")); i >= 0 {
		body = raw[i+len("event: done\ndata: "):]
		if j := bytes.IndexByte(body, '\n'); j >= 0 {
			body = body[:j]
		}
	}
	var r ChatResponse
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	return r.ConversationID
}
