// Package handoff keeps the conversations handed to a person: the handoff
// itself (who, why, how to reach the visitor, its status), the agents'
// replies, and an outbox from which the handoff is delivered to the support
// team (webhook, e-mail) at least once, restarts included.
//
// The tables live in the same SQLite file as the conversations (package
// conversation), which must have created its tables first: handoffs, agent
// messages and undelivered notifications reference the conversation and are
// deleted with it (ON DELETE CASCADE), so erasing a conversation erases
// everything handed off about it.
package handoff

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Statuses of a handoff: open (waiting for a person), assigned (a person
// answered and owns the conversation: the bot stays silent), closed.
const (
	StatusOpen     = "open"
	StatusAssigned = "assigned"
	StatusClosed   = "closed"
)

// Resolutions of a closed handoff.
const (
	ResolutionClosed   = "closed"   // the agent closed the conversation
	ResolutionHandback = "handback" // the agent handed the conversation back to the bot
)

// RoleAgent is the role of a support agent's message in a transcript.
const RoleAgent = "agent"

// Limits on what a handoff holds.
const (
	MaxReasonRunes  = 200
	MaxContactRunes = 200
	MaxMessageRunes = 4000
)

// Errors callers can test.
var (
	ErrNotFound = errors.New("handoff: not found")
	ErrClosed   = errors.New("handoff: already closed")
)

// Handoff is a conversation handed to a person.
type Handoff struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	CustomerID     string    `json:"customer_id,omitempty"` // verified customers only
	Reason         string    `json:"reason"`
	Contact        string    `json:"contact,omitempty"`
	Status         string    `json:"status"`
	Resolution     string    `json:"resolution,omitempty"` // set when closed
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Message is one line of a transcript.
type Message struct {
	Seq     int64     `json:"seq,omitempty"` // agent messages: position for polling (GET ...?after=seq)
	Role    string    `json:"role"`          // user, assistant or agent
	Content string    `json:"content"`
	At      time.Time `json:"at"`
}

// New is what a handoff is created from. Transcript and Profile go to the
// support team with the notification; they are not copied into the
// handoff, whose transcript is the conversation's.
type New struct {
	ConversationID string
	CustomerID     string
	Reason         string
	Contact        string
	Transcript     []Message
	Profile        map[string]string // nil: none (anonymous visitor)
}

// Payload is the notification the support team gets: the webhook's JSON
// body, and the content of the e-mail.
type Payload struct {
	Event          string            `json:"event"` // "handoff.created"
	HandoffID      string            `json:"handoff_id"`
	ConversationID string            `json:"conversation_id"`
	CustomerID     string            `json:"customer_id,omitempty"`
	Reason         string            `json:"reason"`
	Contact        string            `json:"contact"`
	CreatedAt      time.Time         `json:"created_at"`
	Transcript     []Message         `json:"transcript"`
	Profile        map[string]string `json:"profile"`
}

// Store keeps handoffs in a SQLite file and delivers them (Run).
type Store struct {
	db   *sql.DB
	opts Options
	log  *slog.Logger
	wake chan struct{}
}

const schema = `
CREATE TABLE IF NOT EXISTS handoffs (
	id          TEXT PRIMARY KEY,
	conv_id     TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	customer_id TEXT NOT NULL DEFAULT '',
	reason      TEXT NOT NULL DEFAULT '',
	contact     TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL CHECK (status IN ('open', 'assigned', 'closed')),
	resolution  TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,  -- unix nanoseconds, UTC
	updated_at  INTEGER NOT NULL
);
-- At most one handoff per conversation is not closed.
CREATE UNIQUE INDEX IF NOT EXISTS handoffs_active ON handoffs(conv_id) WHERE status != 'closed';
CREATE INDEX IF NOT EXISTS handoffs_status ON handoffs(status, created_at);
CREATE TABLE IF NOT EXISTS handoff_messages (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	conv_id    TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	handoff_id TEXT NOT NULL REFERENCES handoffs(id) ON DELETE CASCADE,
	role       TEXT NOT NULL CHECK (role IN ('agent')),
	content    TEXT NOT NULL,
	at         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS handoff_messages_conv ON handoff_messages(conv_id, seq);
-- Notifications not yet delivered; a row is deleted once delivered.
CREATE TABLE IF NOT EXISTS handoff_outbox (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	handoff_id TEXT NOT NULL REFERENCES handoffs(id) ON DELETE CASCADE,
	channel    TEXT NOT NULL,
	body       BLOB NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    INTEGER NOT NULL,
	last_error TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS handoff_outbox_due ON handoff_outbox(next_at);
`

// Open opens the handoff tables in the SQLite file at path (the file of
// conversation.Open, opened before), creating them if needed.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("handoff: open: empty path")
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "secure_delete(ON)") // delivered notifications hold transcripts: overwrite them
	// Transactions write: take the write lock when they begin, so that they
	// wait (busy_timeout) for another writer instead of failing with
	// SQLITE_BUSY when a read lock cannot be upgraded.
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("handoff: open %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("handoff: open %s: create schema: %w", path, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Store{db: db, opts: opts.withDefaults(), log: log, wake: make(chan struct{}, 1)}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("handoff: close: %w", err)
	}
	return nil
}

// Channels names the configured deliveries ("webhook", "email").
func (s *Store) Channels() []string { return s.opts.channels() }

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

const handoffCols = `id, conv_id, customer_id, reason, contact, status, resolution, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanHandoff(r scanner) (Handoff, error) {
	var h Handoff
	var created, updated int64
	err := r.Scan(&h.ID, &h.ConversationID, &h.CustomerID, &h.Reason, &h.Contact, &h.Status, &h.Resolution, &created, &updated)
	h.CreatedAt, h.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	return h, err
}

// Create hands the conversation n.ConversationID to a person: it records
// the handoff and, in the same transaction, one outbox row per configured
// delivery, then wakes the delivery worker. A conversation that already
// has a handoff not closed gets that one back (created = false), and no
// new notification; a contact given now is recorded if it had none.
func (s *Store) Create(ctx context.Context, n New) (h Handoff, created bool, err error) {
	if n.ConversationID == "" {
		return Handoff{}, false, errors.New("handoff: create: empty conversation id")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Handoff{}, false, fmt.Errorf("handoff: create for %s: %w", n.ConversationID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	h, err = scanHandoff(tx.QueryRowContext(ctx,
		`SELECT `+handoffCols+` FROM handoffs WHERE conv_id = ? AND status != 'closed'`, n.ConversationID))
	switch {
	case err == nil:
		if h.Contact == "" && n.Contact != "" {
			h.Contact, h.UpdatedAt = n.Contact, time.Now().UTC()
			if _, err := tx.ExecContext(ctx, `UPDATE handoffs SET contact = ?, updated_at = ? WHERE id = ?`,
				h.Contact, h.UpdatedAt.UnixNano(), h.ID); err != nil {
				return Handoff{}, false, fmt.Errorf("handoff: update contact of %s: %w", h.ID, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return Handoff{}, false, fmt.Errorf("handoff: create for %s: %w", n.ConversationID, err)
		}
		return h, false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return Handoff{}, false, fmt.Errorf("handoff: create for %s: %w", n.ConversationID, err)
	}

	now := time.Now().UTC()
	h = Handoff{ID: newID(), ConversationID: n.ConversationID, CustomerID: n.CustomerID, Reason: n.Reason,
		Contact: n.Contact, Status: StatusOpen, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO handoffs (`+handoffCols+`) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?)`,
		h.ID, h.ConversationID, h.CustomerID, h.Reason, h.Contact, h.Status, now.UnixNano(), now.UnixNano()); err != nil {
		return Handoff{}, false, fmt.Errorf("handoff: create for %s: %w", n.ConversationID, err)
	}
	transcript := n.Transcript
	if transcript == nil {
		transcript = []Message{}
	}
	body, err := json.Marshal(Payload{Event: "handoff.created", HandoffID: h.ID, ConversationID: h.ConversationID,
		CustomerID: h.CustomerID, Reason: h.Reason, Contact: h.Contact, CreatedAt: now, Transcript: transcript, Profile: n.Profile})
	if err != nil {
		return Handoff{}, false, fmt.Errorf("handoff: encode notification: %w", err)
	}
	for _, ch := range s.opts.channels() {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO handoff_outbox (handoff_id, channel, body, next_at, created_at) VALUES (?, ?, ?, ?, ?)`,
			h.ID, ch, body, now.UnixNano(), now.UnixNano()); err != nil {
			return Handoff{}, false, fmt.Errorf("handoff: queue %s notification: %w", ch, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Handoff{}, false, fmt.Errorf("handoff: create for %s: %w", n.ConversationID, err)
	}
	s.notify()
	return h, true, nil
}

// Get returns a handoff by id (ErrNotFound if there is none).
func (s *Store) Get(ctx context.Context, id string) (Handoff, error) {
	h, err := scanHandoff(s.db.QueryRowContext(ctx, `SELECT `+handoffCols+` FROM handoffs WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Handoff{}, ErrNotFound
	case err != nil:
		return Handoff{}, fmt.Errorf("handoff: get %s: %w", id, err)
	}
	return h, nil
}

// Latest returns the conversation's handoff that is not closed, or else its
// most recent one; ok is false when the conversation was never handed off.
func (s *Store) Latest(ctx context.Context, convID string) (h Handoff, ok bool, err error) {
	h, err = scanHandoff(s.db.QueryRowContext(ctx,
		`SELECT `+handoffCols+` FROM handoffs WHERE conv_id = ?
		 ORDER BY status != 'closed' DESC, created_at DESC LIMIT 1`, convID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Handoff{}, false, nil
	case err != nil:
		return Handoff{}, false, fmt.Errorf("handoff: latest of %s: %w", convID, err)
	}
	return h, true, nil
}

// List returns up to limit handoffs with the given status ("" for all),
// newest first.
func (s *Store) List(ctx context.Context, status string, limit int) ([]Handoff, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx,
		`SELECT `+handoffCols+` FROM handoffs WHERE ? = '' OR status = ? ORDER BY created_at DESC LIMIT ?`,
		status, status, limit)
	if err != nil {
		return nil, fmt.Errorf("handoff: list: %w", err)
	}
	defer rows.Close()
	out := []Handoff{}
	for rows.Next() {
		h, err := scanHandoff(rows)
		if err != nil {
			return nil, fmt.Errorf("handoff: list: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("handoff: list: %w", err)
	}
	return out, nil
}

// Reply records an agent's message in the handoff's conversation and marks
// the handoff assigned (from then on a person owns the conversation). A
// closed handoff returns ErrClosed.
func (s *Store) Reply(ctx context.Context, id, text string) (Message, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Message{}, fmt.Errorf("handoff: reply to %s: %w", id, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	h, err := scanHandoff(tx.QueryRowContext(ctx, `SELECT `+handoffCols+` FROM handoffs WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Message{}, ErrNotFound
	case err != nil:
		return Message{}, fmt.Errorf("handoff: reply to %s: %w", id, err)
	case h.Status == StatusClosed:
		return Message{}, ErrClosed
	}
	now := time.Now().UTC()
	res, err := tx.ExecContext(ctx,
		`INSERT INTO handoff_messages (conv_id, handoff_id, role, content, at) VALUES (?, ?, ?, ?, ?)`,
		h.ConversationID, h.ID, RoleAgent, text, now.UnixNano())
	if err != nil {
		return Message{}, fmt.Errorf("handoff: reply to %s: %w", id, err)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return Message{}, fmt.Errorf("handoff: reply to %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE handoffs SET status = 'assigned', updated_at = ? WHERE id = ?`,
		now.UnixNano(), id); err != nil {
		return Message{}, fmt.Errorf("handoff: reply to %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return Message{}, fmt.Errorf("handoff: reply to %s: %w", id, err)
	}
	return Message{Seq: seq, Role: RoleAgent, Content: text, At: now}, nil
}

// End closes the handoff with resolution (ResolutionClosed or
// ResolutionHandback): the bot answers the conversation again. Closing a
// closed handoff returns ErrClosed.
func (s *Store) End(ctx context.Context, id, resolution string) (Handoff, error) {
	if resolution != ResolutionClosed && resolution != ResolutionHandback {
		return Handoff{}, fmt.Errorf("handoff: close %s: unknown resolution %q", id, resolution)
	}
	res, err := s.db.ExecContext(ctx,
		`UPDATE handoffs SET status = 'closed', resolution = ?, updated_at = ? WHERE id = ? AND status != 'closed'`,
		resolution, time.Now().UTC().UnixNano(), id)
	if err != nil {
		return Handoff{}, fmt.Errorf("handoff: close %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Get(ctx, id); err != nil {
			return Handoff{}, err
		}
		return Handoff{}, ErrClosed
	}
	return s.Get(ctx, id)
}

// Messages returns the agents' messages in the conversation after seq
// (0: from the start), oldest first, at most limit.
func (s *Store) Messages(ctx context.Context, convID string, after int64, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx,
		`SELECT seq, role, content, at FROM handoff_messages WHERE conv_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
		convID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("handoff: messages of %s: %w", convID, err)
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		var m Message
		var at int64
		if err := rows.Scan(&m.Seq, &m.Role, &m.Content, &at); err != nil {
			return nil, fmt.Errorf("handoff: messages of %s: %w", convID, err)
		}
		m.At = time.Unix(0, at).UTC()
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("handoff: messages of %s: %w", convID, err)
	}
	return out, nil
}

// Pending returns how many notifications wait for delivery.
func (s *Store) Pending(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM handoff_outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("handoff: pending: %w", err)
	}
	return n, nil
}

// oneLine replaces control characters (line breaks included) by spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
