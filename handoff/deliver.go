package handoff

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Delivery channels (handoff_outbox.channel).
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
)

// SignatureHeader carries "sha256=" + the hex HMAC-SHA256 of the webhook's
// body under Webhook.Secret.
const SignatureHeader = "X-Sitebot-Signature"

// Defaults of Options.
const (
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = 5 * time.Minute
	DefaultSendTimeout = 30 * time.Second
	// idlePoll is how often an idle worker looks at the outbox anyway (a
	// row written by another process on the same file).
	idlePoll = time.Minute
)

// Options configures delivery. With no channel, handoffs are only kept (the
// agent inbox shows them).
type Options struct {
	Webhook *Webhook // nil: no webhook
	Email   *Email   // nil: no e-mail
	// MinBackoff is the wait after the first failed attempt, doubled after
	// each further failure up to MaxBackoff (defaults 1s and 5m).
	MinBackoff, MaxBackoff time.Duration
	SendTimeout            time.Duration // one attempt (default 30s)
	Logger                 *slog.Logger  // nil: discard
}

// Webhook posts each handoff as JSON (Payload) to URL, signed with Secret
// (SignatureHeader). A 2xx answer is a delivery; anything else is retried.
type Webhook struct {
	URL    string
	Secret string
	Client *http.Client // nil: a client that does not follow redirects
}

// Email sends each handoff as a plain-text e-mail over SMTP (STARTTLS when
// the server offers it; PLAIN auth when User is set).
type Email struct {
	Addr     string // host:port
	From     string
	To       []string
	User     string
	Password string
}

func (o Options) withDefaults() Options {
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.Webhook != nil && o.Webhook.Client == nil {
		w := *o.Webhook
		w.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		o.Webhook = &w
	}
	return o
}

// ValidateOptions checks the delivery settings (Open does too).
func ValidateOptions(o Options) error { return o.validate() }

func (o Options) validate() error {
	var errs []error
	if w := o.Webhook; w != nil {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("handoff: webhook URL must be an http(s) URL, got %q", w.URL))
		}
		if w.Secret == "" {
			errs = append(errs, errors.New("handoff: the webhook needs a secret to sign its requests"))
		}
	}
	if e := o.Email; e != nil {
		if _, _, err := net.SplitHostPort(e.Addr); err != nil {
			errs = append(errs, fmt.Errorf("handoff: SMTP address must be host:port, got %q", e.Addr))
		}
		if _, err := mail.ParseAddress(e.From); err != nil {
			errs = append(errs, fmt.Errorf("handoff: e-mail sender %q: %w", e.From, err))
		}
		if len(e.To) == 0 {
			errs = append(errs, errors.New("handoff: e-mail needs at least one recipient"))
		}
		for _, to := range e.To {
			if _, err := mail.ParseAddress(to); err != nil {
				errs = append(errs, fmt.Errorf("handoff: e-mail recipient %q: %w", to, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (o Options) channels() []string {
	var out []string
	if o.Webhook != nil {
		out = append(out, ChannelWebhook)
	}
	if o.Email != nil {
		out = append(out, ChannelEmail)
	}
	return out
}

// backoff is the wait after the n-th failed attempt (n >= 1).
func (o Options) backoff(n int) time.Duration {
	d := o.MinBackoff
	for i := 1; i < n && d < o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, o.MaxBackoff)
}

func (s *Store) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run delivers the outbox until ctx is done: at once for new handoffs, and
// again after a failure with exponential backoff. Rows left by an earlier
// process (a restart, a crash in the middle of a delivery) are delivered
// too: delivery is at least once, so receivers should deduplicate by
// handoff_id. One worker per database file.
func (s *Store) Run(ctx context.Context) error {
	if len(s.opts.channels()) == 0 {
		<-ctx.Done()
		return nil
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-timer.C:
		}
		next, err := s.deliverDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := idlePoll
		if err != nil {
			s.log.Warn("handoff outbox unreadable, retrying", "err", err)
			wait = s.opts.MinBackoff
		} else if !next.IsZero() {
			wait = min(max(time.Until(next), 0), idlePoll)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

type outboxRow struct {
	id       int64
	handoff  string
	channel  string
	body     []byte
	attempts int
}

// deliverDue sends every row that is due and returns when the next one is
// (zero: the outbox is empty).
func (s *Store) deliverDue(ctx context.Context) (next time.Time, err error) {
	for {
		rows, err := s.due(ctx, 16)
		if err != nil {
			return time.Time{}, err
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			if ctx.Err() != nil {
				return time.Time{}, ctx.Err()
			}
			if err := s.attempt(ctx, r); err != nil {
				return time.Time{}, err
			}
		}
	}
	var at sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT min(next_at) FROM handoff_outbox`).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("handoff: outbox: %w", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return time.Unix(0, at.Int64), nil
}

func (s *Store) due(ctx context.Context, limit int) ([]outboxRow, error) {
	rs, err := s.db.QueryContext(ctx,
		`SELECT id, handoff_id, channel, body, attempts FROM handoff_outbox WHERE next_at <= ? ORDER BY id LIMIT ?`,
		time.Now().UTC().UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("handoff: outbox: %w", err)
	}
	defer rs.Close()
	var out []outboxRow
	for rs.Next() {
		var r outboxRow
		if err := rs.Scan(&r.id, &r.handoff, &r.channel, &r.body, &r.attempts); err != nil {
			return nil, fmt.Errorf("handoff: outbox: %w", err)
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// attempt sends one row: delivered, it is deleted; failed, it is put off.
func (s *Store) attempt(ctx context.Context, r outboxRow) error {
	sctx, cancel := context.WithTimeout(ctx, s.opts.SendTimeout)
	start := time.Now()
	err := s.send(sctx, r)
	cancel()
	if ctx.Err() != nil {
		return ctx.Err() // stopping: the row stays due, for the next worker
	}
	if err == nil {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM handoff_outbox WHERE id = ?`, r.id); err != nil {
			return fmt.Errorf("handoff: outbox: %w", err)
		}
		s.log.Info("handoff delivered", "handoff", r.handoff, "channel", r.channel,
			"attempts", r.attempts+1, "took", time.Since(start).Round(time.Millisecond))
		return nil
	}
	n := r.attempts + 1
	wait := s.opts.backoff(n)
	if errors.Is(err, errNoChannel) {
		wait = s.opts.MaxBackoff
	}
	s.log.Warn("handoff delivery failed, will retry", "handoff", r.handoff, "channel", r.channel,
		"attempt", n, "retry_in", wait, "err", err)
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if _, err := s.db.ExecContext(ctx,
		`UPDATE handoff_outbox SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?`,
		n, time.Now().Add(wait).UTC().UnixNano(), msg, r.id); err != nil {
		return fmt.Errorf("handoff: outbox: %w", err)
	}
	return nil
}

var errNoChannel = errors.New("this delivery channel is no longer configured")

func (s *Store) send(ctx context.Context, r outboxRow) error {
	switch {
	case r.channel == ChannelWebhook && s.opts.Webhook != nil:
		return s.opts.Webhook.send(ctx, r)
	case r.channel == ChannelEmail && s.opts.Email != nil:
		return s.opts.Email.send(ctx, r)
	}
	return errNoChannel
}

// Sign returns the SignatureHeader value for body under secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (w *Webhook) send(ctx context.Context, r outboxRow) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(r.body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sitebot-handoff/1")
	req.Header.Set(SignatureHeader, Sign(w.Secret, r.body))
	req.Header.Set("X-Sitebot-Handoff", r.handoff)
	res, err := w.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("webhook: answered %s", res.Status)
	}
	return nil
}

func (e *Email) send(ctx context.Context, r outboxRow) error {
	var p Payload
	if err := json.Unmarshal(r.body, &p); err != nil {
		return fmt.Errorf("email: decode notification: %w", err)
	}
	msg, err := e.message(p, r.id)
	if err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(e.Addr)
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return fmt.Errorf("email: starttls: %w", err)
		}
	}
	if e.User != "" {
		if err := c.Auth(smtp.PlainAuth("", e.User, e.Password, host)); err != nil {
			return fmt.Errorf("email: auth: %w", err)
		}
	}
	from, _ := mail.ParseAddress(e.From)
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	for _, to := range e.To {
		a, _ := mail.ParseAddress(to)
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("email: %w", err)
		}
	}
	wc, err := c.Data()
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	if _, err := wc.Write(msg); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	if err := wc.Close(); err != nil {
		return fmt.Errorf("email: %w", err)
	}
	_ = c.Quit()
	return nil
}

// message renders the e-mail: headers, then a quoted-printable UTF-8 text
// with the reason, contact, profile and transcript.
func (e *Email) message(p Payload, outboxID int64) ([]byte, error) {
	var b bytes.Buffer
	subject := "Handoff: " + oneLine(p.Reason)
	if p.Contact != "" {
		subject += " (" + oneLine(p.Contact) + ")"
	}
	host, _, _ := net.SplitHostPort(e.Addr)
	fmt.Fprintf(&b, "From: %s\r\n", oneLine(e.From))
	fmt.Fprintf(&b, "To: %s\r\n", oneLine(strings.Join(e.To, ", ")))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", p.CreatedAt.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <handoff-%s-%d@%s>\r\n", p.HandoffID, outboxID, oneLine(host))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")

	var text strings.Builder
	fmt.Fprintf(&text, "A visitor asked for a person.\n\nHandoff:      %s\nConversation: %s\nReason:       %s\nContact:      %s\nCreated:      %s\n",
		p.HandoffID, p.ConversationID, oneLine(p.Reason), oneLine(p.Contact), p.CreatedAt.Format(time.RFC3339))
	if p.CustomerID != "" {
		fmt.Fprintf(&text, "Customer:     %s (verified)\n", oneLine(p.CustomerID))
	}
	if len(p.Profile) > 0 {
		text.WriteString("\nProfile:\n")
		keys := make([]string, 0, len(p.Profile))
		for k := range p.Profile {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&text, "  %s: %s\n", oneLine(k), oneLine(p.Profile[k]))
		}
	}
	text.WriteString("\nTranscript:\n")
	for _, m := range p.Transcript {
		fmt.Fprintf(&text, "\n[%s] %s:\n", m.At.Format("2006-01-02 15:04:05Z07:00"), m.Role)
		for _, line := range strings.Split(m.Content, "\n") {
			text.WriteString("  " + strings.TrimRight(line, "\r") + "\n")
		}
	}
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(text.String(), "\n", "\r\n"))); err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	return b.Bytes(), nil
}
