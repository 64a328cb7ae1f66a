// Package conversation stores chat transcripts (who said what, when) in a
// SQLite file, so the server can give the model the recent history of a
// conversation and, later, hand the whole transcript to a person.
package conversation

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Roles of a turn.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// ErrInvalidRole is returned by Append for a role other than user or assistant.
var ErrInvalidRole = errors.New("conversation: role must be \"user\" or \"assistant\"")

// Turn is one message of a conversation.
type Turn struct {
	Role    string // RoleUser or RoleAssistant
	Content string
	At      time.Time
}

// Store keeps conversations in one SQLite database file.
type Store struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS conversations (
	id          TEXT PRIMARY KEY,
	customer_id TEXT NOT NULL DEFAULT '',  -- set only for verified customers
	created_at  INTEGER NOT NULL,          -- unix nanoseconds, UTC
	updated_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	conv_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	role    TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
	content TEXT NOT NULL,
	at      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_conv ON turns(conv_id, seq);
CREATE INDEX IF NOT EXISTS conversations_customer ON conversations(customer_id);
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations(updated_at);
`

// Open opens (creating if needed) the conversation database at path, with
// WAL journaling and a busy timeout so that concurrent requests wait for
// each other instead of failing.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("conversation: open: empty path")
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "secure_delete(ON)") // erased turns are overwritten in the file, not just unlinked
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("conversation: open %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("conversation: open %s: create schema: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("conversation: close: %w", err)
	}
	return nil
}

// NewID returns a new random conversation id: 128 bits as 32 lower-case hex digits.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics on a broken system)
	return hex.EncodeToString(b[:])
}

// ValidID reports whether id has the form NewID produces (32 hex digits).
func ValidID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// Append adds one turn to the conversation convID, creating the
// conversation on its first turn.
func (s *Store) Append(ctx context.Context, convID, role, content string) error {
	if role != RoleUser && role != RoleAssistant {
		return ErrInvalidRole
	}
	if convID == "" {
		return errors.New("conversation: append: empty conversation id")
	}
	now := time.Now().UTC().UnixNano()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("conversation: append to %s: %w", convID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO conversations (id, created_at, updated_at) VALUES (?, ?, ?)
		 ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at`,
		convID, now, now); err != nil {
		return fmt.Errorf("conversation: append to %s: %w", convID, err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO turns (conv_id, role, content, at) VALUES (?, ?, ?, ?)`,
		convID, role, content, now); err != nil {
		return fmt.Errorf("conversation: append to %s: %w", convID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("conversation: append to %s: %w", convID, err)
	}
	return nil
}

// Recent returns the last n turns of the conversation, oldest first. An
// unknown conversation has no turns; n <= 0 returns none.
func (s *Store) Recent(ctx context.Context, convID string, n int) ([]Turn, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx,
		`SELECT role, content, at FROM (
			SELECT seq, role, content, at FROM turns WHERE conv_id = ? ORDER BY seq DESC LIMIT ?
		) ORDER BY seq ASC`, convID, n)
	if err != nil {
		return nil, fmt.Errorf("conversation: recent %s: %w", convID, err)
	}
	defer rows.Close()
	var turns []Turn
	for rows.Next() {
		var t Turn
		var at int64
		if err := rows.Scan(&t.Role, &t.Content, &at); err != nil {
			return nil, fmt.Errorf("conversation: recent %s: %w", convID, err)
		}
		t.At = time.Unix(0, at).UTC()
		turns = append(turns, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("conversation: recent %s: %w", convID, err)
	}
	return turns, nil
}

// Exists reports whether a conversation with this id has been stored.
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM conversations WHERE id = ?`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("conversation: exists %s: %w", id, err)
	}
	return true, nil
}

// SetCustomer records that the conversation belongs to a verified customer
// (the server calls it only after checking the customer's token). It creates
// the conversation if needed.
func (s *Store) SetCustomer(ctx context.Context, convID, customerID string) error {
	customerID = strings.TrimSpace(customerID)
	if convID == "" || customerID == "" {
		return errors.New("conversation: set customer: empty id")
	}
	now := time.Now().UTC().UnixNano()
	if _, err := s.db.ExecContext(ctx,
		`INSERT INTO conversations (id, customer_id, created_at, updated_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT(id) DO UPDATE SET customer_id = excluded.customer_id, updated_at = excluded.updated_at`,
		convID, customerID, now, now); err != nil {
		return fmt.Errorf("conversation: set customer of %s: %w", convID, err)
	}
	return nil
}

// Customer returns the verified customer id recorded for the conversation,
// or "" when there is none.
func (s *Store) Customer(ctx context.Context, convID string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT customer_id FROM conversations WHERE id = ?`, convID).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("conversation: customer of %s: %w", convID, err)
	}
	return id, nil
}

// DeleteCustomer deletes every conversation of the verified customer id,
// with their turns (right to erasure), and returns how many there were.
func (s *Store) DeleteCustomer(ctx context.Context, customerID string) (int, error) {
	if customerID == "" {
		return 0, errors.New("conversation: delete customer: empty id")
	}
	return s.deleteWhere(ctx, "delete conversations of a customer", `customer_id = ?`, customerID)
}

// PurgeBefore deletes the conversations, with their turns, that nobody
// has written to since t (the retention setting), and returns how many.
func (s *Store) PurgeBefore(ctx context.Context, t time.Time) (int, error) {
	return s.deleteWhere(ctx, "purge conversations", `updated_at < ?`, t.UTC().UnixNano())
}

// deleteWhere deletes the turns, then the conversations, that match where
// in one transaction (turns first: they do not rely on the foreign key's
// cascade, which an older database may lack).
func (s *Store) deleteWhere(ctx context.Context, what, where string, arg any) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("conversation: %s: %w", what, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM turns WHERE conv_id IN (SELECT id FROM conversations WHERE `+where+`)`, arg); err != nil {
		return 0, fmt.Errorf("conversation: %s: %w", what, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM conversations WHERE `+where, arg)
	if err != nil {
		return 0, fmt.Errorf("conversation: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("conversation: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("conversation: %s: %w", what, err)
	}
	return int(n), nil
}
