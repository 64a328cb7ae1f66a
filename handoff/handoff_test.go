package handoff

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/conversation"
)

// open opens the conversation and handoff tables of the SQLite file at path.
func open(t *testing.T, path string, opts Options) (*conversation.Store, *Store) {
	t.Helper()
	ctx := context.Background()
	conv, err := conversation.Open(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { conv.Close() })
	hs, err := Open(ctx, path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { hs.Close() })
	return conv, hs
}

// run starts the delivery worker; the returned func stops it and waits.
func run(t *testing.T, hs *Store) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hs.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return stop
}

func newConversation(t *testing.T, conv *conversation.Store, turns ...string) string {
	t.Helper()
	id := conversation.NewID()
	for i, text := range turns {
		role := conversation.RoleUser
		if i%2 == 1 {
			role = conversation.RoleAssistant
		}
		require.NoError(t, conv.Append(context.Background(), id, role, text))
	}
	return id
}

// receiver is a webhook endpoint that fails its first failures requests.
type receiver struct {
	failures int
	secret   string

	mu        sync.Mutex
	attempts  []time.Time
	delivered [][]byte
	badSig    int
	got       chan []byte
}

func newReceiver(failures int, secret string) *receiver {
	return &receiver{failures: failures, secret: secret, got: make(chan []byte, 100)}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.attempts = append(rc.attempts, time.Now())
	if r.Header.Get(SignatureHeader) != Sign(rc.secret, body) || r.Header.Get("Content-Type") != "application/json" {
		rc.badSig++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if len(rc.attempts) <= rc.failures {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	rc.delivered = append(rc.delivered, body)
	rc.got <- body
}

func TestCreateIsIdempotentAndQueuesOneNotificationPerChannel(t *testing.T) {
	ctx := context.Background()
	conv, hs := open(t, filepath.Join(t.TempDir(), "sitebot.db"), Options{
		Webhook: &Webhook{URL: "http://127.0.0.1:1/hook", Secret: "s"},
		Email:   &Email{Addr: "127.0.0.1:1", From: "bot@example.com", To: []string{"support@example.com"}},
	})
	id := newConversation(t, conv, "hello", "hi")

	h, created, err := hs.Create(ctx, New{ConversationID: id, Reason: "requested"})
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, StatusOpen, h.Status)
	n, err := hs.Pending(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "one row for the webhook, one for the e-mail")

	again, created, err := hs.Create(ctx, New{ConversationID: id, Reason: "other", Contact: "ada@example.com"})
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, h.ID, again.ID)
	assert.Equal(t, "ada@example.com", again.Contact, "a contact given later is kept")
	n, _ = hs.Pending(ctx)
	assert.Equal(t, 2, n, "no second notification")

	_, _, err = hs.Create(ctx, New{ConversationID: conversation.NewID()})
	require.Error(t, err, "the conversation must exist")

	// Reply assigns; End closes; a new handoff may follow.
	m, err := hs.Reply(ctx, h.ID, "Hi, Ada here")
	require.NoError(t, err)
	assert.Equal(t, RoleAgent, m.Role)
	got, err := hs.Get(ctx, h.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusAssigned, got.Status)
	msgs, err := hs.Messages(ctx, id, 0, 0)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	msgs, _ = hs.Messages(ctx, id, m.Seq, 0)
	assert.Empty(t, msgs)

	ended, err := hs.End(ctx, h.ID, ResolutionHandback)
	require.NoError(t, err)
	assert.Equal(t, StatusClosed, ended.Status)
	assert.Equal(t, ResolutionHandback, ended.Resolution)
	_, err = hs.End(ctx, h.ID, ResolutionClosed)
	require.ErrorIs(t, err, ErrClosed)
	_, err = hs.Reply(ctx, h.ID, "late")
	require.ErrorIs(t, err, ErrClosed)
	_, err = hs.Get(ctx, "nope")
	require.ErrorIs(t, err, ErrNotFound)

	h2, created, err := hs.Create(ctx, New{ConversationID: id})
	require.NoError(t, err)
	assert.True(t, created)
	assert.NotEqual(t, h.ID, h2.ID)
	latest, ok, err := hs.Latest(ctx, id)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, h2.ID, latest.ID)
	open, err := hs.List(ctx, StatusOpen, 0)
	require.NoError(t, err)
	require.Len(t, open, 1)
	assert.Equal(t, h2.ID, open[0].ID)
}

// TestWebhookRetriesWithBackoff: the receiver fails twice, then accepts;
// the notification arrives once accepted, signed, with exactly the
// payload, after waits of about 1s and 2s.
func TestWebhookRetriesWithBackoff(t *testing.T) {
	const secret = "webhook-secret"
	rc := newReceiver(2, secret)
	hook := httptest.NewServer(rc)
	defer hook.Close()
	conv, hs := open(t, filepath.Join(t.TempDir(), "sitebot.db"), Options{Webhook: &Webhook{URL: hook.URL, Secret: secret}})
	run(t, hs)
	id := newConversation(t, conv, "Where is my order?", "I cannot find that.")

	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	transcript := []Message{{Role: "user", Content: "Where is my order?", At: at}, {Role: "assistant", Content: "I cannot find that.", At: at}}
	h, _, err := hs.Create(context.Background(), New{ConversationID: id, CustomerID: "cust-1", Reason: "requested",
		Contact: "ada@example.com", Transcript: transcript, Profile: map[string]string{"plan": "Business"}})
	require.NoError(t, err)

	var body []byte
	select {
	case body = <-rc.got:
	case <-time.After(15 * time.Second):
		t.Fatal("webhook not delivered")
	}
	var p Payload
	require.NoError(t, json.Unmarshal(body, &p))
	assert.Equal(t, Payload{Event: "handoff.created", HandoffID: h.ID, ConversationID: id, CustomerID: "cust-1",
		Reason: "requested", Contact: "ada@example.com", CreatedAt: h.CreatedAt, Transcript: transcript,
		Profile: map[string]string{"plan": "Business"}}, p)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(body, &raw))
	assert.ElementsMatch(t, []string{"event", "handoff_id", "conversation_id", "customer_id", "reason", "contact",
		"created_at", "transcript", "profile"}, keys(raw))

	rc.mu.Lock()
	attempts := append([]time.Time(nil), rc.attempts...)
	assert.Zero(t, rc.badSig, "every request carries the right signature")
	rc.mu.Unlock()
	require.Len(t, attempts, 3)
	gap1, gap2 := attempts[1].Sub(attempts[0]), attempts[2].Sub(attempts[1])
	t.Logf("retry gaps: %v, %v", gap1.Round(time.Millisecond), gap2.Round(time.Millisecond))
	assert.InDelta(t, 1.0, gap1.Seconds(), 0.5)
	assert.InDelta(t, 2.0, gap2.Seconds(), 0.5)
	waitPending(t, hs, 0)
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func waitPending(t *testing.T, hs *Store, want int) {
	t.Helper()
	require.Eventually(t, func() bool {
		n, err := hs.Pending(context.Background())
		return err == nil && n == want
	}, 5*time.Second, 10*time.Millisecond)
}

// TestWebhookSurvivesRestart: the process stops while the receiver is
// still answering the first attempt; a new process on the same file
// delivers the handoff.
func TestWebhookSurvivesRestart(t *testing.T) {
	const secret = "s3cret"
	path := filepath.Join(t.TempDir(), "sitebot.db")
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	var mu sync.Mutex
	var delivered []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		started <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done(): // the first process went away mid-request
			return
		}
		if r.Header.Get(SignatureHeader) != Sign(secret, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p Payload
		_ = json.Unmarshal(body, &p)
		mu.Lock()
		delivered = append(delivered, p.HandoffID)
		mu.Unlock()
	}))
	defer hook.Close()
	opts := Options{Webhook: &Webhook{URL: hook.URL, Secret: secret}}

	// First process: creates the handoff, starts delivering, stops.
	ctx := context.Background()
	conv1, err := conversation.Open(ctx, path)
	require.NoError(t, err)
	hs1, err := Open(ctx, path, opts)
	require.NoError(t, err)
	id := newConversation(t, conv1, "help")
	h, _, err := hs1.Create(ctx, New{ConversationID: id, Reason: "requested"})
	require.NoError(t, err)
	stop := run(t, hs1)
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery attempt")
	}
	stop() // "crash" in the middle of the delivery
	require.NoError(t, hs1.Close())
	require.NoError(t, conv1.Close())
	mu.Lock()
	require.Empty(t, delivered)
	mu.Unlock()

	// Second process on the same file.
	close(release)
	_, hs2 := open(t, path, opts)
	n, err := hs2.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the undelivered notification survived the restart")
	run(t, hs2)
	waitPending(t, hs2, 0)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{h.ID}, delivered)
}

// TestDeliveryLatency measures creation → webhook received over 20 handoffs.
func TestDeliveryLatency(t *testing.T) {
	const secret = "s"
	rc := newReceiver(0, secret)
	hook := httptest.NewServer(rc)
	defer hook.Close()
	conv, hs := open(t, filepath.Join(t.TempDir(), "sitebot.db"), Options{Webhook: &Webhook{URL: hook.URL, Secret: secret}})
	run(t, hs)
	var lat []time.Duration
	for i := 0; i < 20; i++ {
		id := newConversation(t, conv, fmt.Sprintf("question %d", i))
		start := time.Now()
		_, _, err := hs.Create(context.Background(), New{ConversationID: id, Reason: "requested"})
		require.NoError(t, err)
		select {
		case <-rc.got:
		case <-time.After(5 * time.Second):
			t.Fatal("webhook not delivered")
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("handoff delivery latency (creation → webhook received, n=%d): p50 %v, p90 %v, max %v",
		len(lat), lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*9/10].Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	assert.Less(t, lat[len(lat)/2], time.Second)
}

// fakeSMTP is a fake SMTP server on loopback: it speaks just enough of
// RFC 5321 for net/smtp and keeps the messages it receives.
type fakeSMTP struct {
	ln   net.Listener
	mu   sync.Mutex
	mail []fakeMail
	got  chan struct{}
}

type fakeMail struct {
	From string
	To   []string
	Data string
}

func newFakeSMTP(t *testing.T) *fakeSMTP {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeSMTP{ln: ln, got: make(chan struct{}, 10)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	reply := func(s string) { fmt.Fprintf(c, "%s\r\n", s) }
	reply("220 fake.smtp ESMTP")
	var m fakeMail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			reply("250-fake.smtp")
			reply("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m = fakeMail{From: angle(line)}
			reply("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.To = append(m.To, angle(line))
			reply("250 ok")
		case cmd == "DATA":
			reply("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data = b.String()
			f.mu.Lock()
			f.mail = append(f.mail, m)
			f.mu.Unlock()
			f.got <- struct{}{}
			reply("250 queued")
		case cmd == "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// angle returns the <address> of a MAIL or RCPT command.
func angle(line string) string {
	_, rest, _ := strings.Cut(line, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

func TestEmailDelivery(t *testing.T) {
	smtpd := newFakeSMTP(t)
	conv, hs := open(t, filepath.Join(t.TempDir(), "sitebot.db"), Options{
		Email: &Email{Addr: smtpd.ln.Addr().String(), From: "Sitebot <bot@example.com>", To: []string{"support@example.com"}},
	})
	run(t, hs)
	id := newConversation(t, conv, "Wo ist meine Bestellung?\n.\nZeile", "Das weiß ich nicht.")
	at := time.Now().UTC()
	h, _, err := hs.Create(context.Background(), New{ConversationID: id, Reason: "requested\r\nBcc: evil@example.com",
		Contact: "+49 30 1234567", Profile: map[string]string{"name": "Jürgen"},
		Transcript: []Message{{Role: "user", Content: "Wo ist meine Bestellung?\n.\nZeile", At: at}, {Role: "assistant", Content: "Das weiß ich nicht.", At: at}}})
	require.NoError(t, err)
	select {
	case <-smtpd.got:
	case <-time.After(10 * time.Second):
		t.Fatal("no e-mail")
	}
	smtpd.mu.Lock()
	m := smtpd.mail[0]
	smtpd.mu.Unlock()
	assert.Equal(t, "bot@example.com", m.From)
	assert.Equal(t, []string{"support@example.com"}, m.To)
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	require.NoError(t, err)
	assert.NotContains(t, msg.Header, "Bcc", "no header injection through the reason")
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	assert.Contains(t, subject, "Handoff: requested")
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	require.NoError(t, err)
	text := string(body)
	for _, want := range []string{h.ID, id, "+49 30 1234567", "name: Jürgen", "Wo ist meine Bestellung?", "  .\r\n  Zeile", "Das weiß ich nicht."} {
		assert.Contains(t, text, want)
	}
	waitPending(t, hs, 0)
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	o := Options{}.withDefaults()
	got := []time.Duration{}
	for n := 1; n <= 12; n++ {
		got = append(got, o.backoff(n))
	}
	assert.Equal(t, []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute}, got)
}

func TestOptionsValidate(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), Options{
		Webhook: &Webhook{URL: "ftp://x", Secret: ""},
		Email:   &Email{Addr: "nohost", From: "not an address"},
	})
	require.Error(t, err)
	for _, want := range []string{"http(s) URL", "secret", "host:port", "sender", "recipient"} {
		assert.Contains(t, err.Error(), want)
	}
}

// TestErasingTheConversationErasesItsHandoffs: handoffs, agent messages and
// undelivered notifications go with their conversation.
func TestErasingTheConversationErasesItsHandoffs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sitebot.db")
	conv, hs := open(t, path, Options{Webhook: &Webhook{URL: "http://127.0.0.1:1/", Secret: "s"}})
	id := newConversation(t, conv, "canary-5521")
	h, _, err := hs.Create(ctx, New{ConversationID: id, Contact: "canary-5521@example.com", Transcript: []Message{{Role: "user", Content: "canary-5521"}}})
	require.NoError(t, err)
	_, err = hs.Reply(ctx, h.ID, "canary-5521 reply")
	require.NoError(t, err)
	_, err = hs.db.ExecContext(ctx, `DELETE FROM conversations WHERE id = ?`, id)
	require.NoError(t, err)
	for _, table := range []string{"handoffs", "handoff_messages", "handoff_outbox"} {
		var n int
		require.NoError(t, hs.db.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n))
		assert.Zero(t, n, table)
	}
	_, err = hs.Get(ctx, h.ID)
	assert.True(t, errors.Is(err, ErrNotFound))
}
