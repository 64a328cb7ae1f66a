// Package profile stores customer profiles: one JSON object per customer id
// (name, email, language, plan, orders or any custom fields), pushed by the
// company's backend through the admin API or imported in bulk, and read at
// chat time for a visitor whose identity the server verified.
package profile

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/sitebot/sitebot/llm"
)

// Limits of a profile.
const (
	MaxIDBytes  = 256      // a customer id is 1 to 256 bytes, as the chat accepts
	MaxDocBytes = 64 << 10 // one profile's JSON
)

// Errors callers can test.
var (
	ErrInvalidID  = errors.New("customer id must be 1 to 256 bytes of UTF-8 text without control characters")
	ErrNotObject  = errors.New("a profile must be a JSON object")
	ErrTooLarge   = fmt.Errorf("a profile must be at most %d KiB of JSON", MaxDocBytes>>10)
	errCheckpoint = errors.New("the write-ahead log is still in use")
)

// ValidID reports whether id can name a customer: 1 to MaxIDBytes bytes of
// valid UTF-8 with no control characters.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDBytes || !utf8.ValidString(id) {
		return false
	}
	return strings.IndexFunc(id, unicode.IsControl) < 0
}

// Store keeps profiles in a SQLite database file (sitebot.db in --data,
// next to the conversations, in its own table).
type Store struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS profiles (
	customer_id TEXT PRIMARY KEY,
	doc         TEXT NOT NULL,    -- the JSON object, compacted, keys in the order given
	updated_at  INTEGER NOT NULL  -- unix nanoseconds, UTC
);
`

// Open opens (creating if needed) the profile table of the database at
// path. Every connection has secure_delete on, so that erased profiles
// are overwritten in the file, not just unlinked.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("profile: open: empty path")
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "secure_delete(ON)")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("profile: open %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("profile: open %s: create schema: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("profile: close: %w", err)
	}
	return nil
}

// Normalize checks that doc is one JSON object of at most MaxDocBytes and
// returns it compacted.
func Normalize(doc []byte) ([]byte, error) {
	if len(doc) > MaxDocBytes {
		return nil, ErrTooLarge
	}
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 || doc[0] != '{' || !json.Valid(doc) {
		return nil, ErrNotObject
	}
	var b bytes.Buffer
	if err := json.Compact(&b, doc); err != nil {
		return nil, ErrNotObject
	}
	return b.Bytes(), nil
}

// Put stores doc (a JSON object) as the profile of customer id, replacing
// any earlier one. created reports whether there was none.
func (s *Store) Put(ctx context.Context, id string, doc []byte) (created bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("profile: put: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	created, err = put(ctx, tx, id, doc)
	if err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("profile: put: %w", err)
	}
	return created, nil
}

func put(ctx context.Context, tx *sql.Tx, id string, doc []byte) (created bool, err error) {
	if !ValidID(id) {
		return false, ErrInvalidID
	}
	doc, err = Normalize(doc)
	if err != nil {
		return false, err
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM profiles WHERE customer_id = ?`, id).Scan(&one)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("profile: put: %w", err)
	}
	created = errors.Is(err, sql.ErrNoRows)
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO profiles (customer_id, doc, updated_at) VALUES (?, ?, ?)
		 ON CONFLICT(customer_id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`,
		id, string(doc), time.Now().UTC().UnixNano()); err != nil {
		return false, fmt.Errorf("profile: put: %w", err)
	}
	return created, nil
}

// Record is one profile of a bulk import.
type Record struct {
	ID  string
	Doc []byte // a JSON object
}

// PutAll stores every record in one transaction: all of them or, on the
// first error, none.
func (s *Store) PutAll(ctx context.Context, recs []Record) (created, updated int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("profile: import: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, r := range recs {
		c, err := put(ctx, tx, r.ID, r.Doc)
		if err != nil {
			return 0, 0, fmt.Errorf("profile: import %q: %w", r.ID, err)
		}
		if c {
			created++
		} else {
			updated++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("profile: import: %w", err)
	}
	return created, updated, nil
}

// Get returns the profile of customer id as stored (a compact JSON object).
func (s *Store) Get(ctx context.Context, id string) (doc []byte, ok bool, err error) {
	var text string
	err = s.db.QueryRowContext(ctx, `SELECT doc FROM profiles WHERE customer_id = ?`, id).Scan(&text)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("profile: get: %w", err)
	}
	return []byte(text), true, nil
}

// Delete removes the profile of customer id; ok reports whether there was one.
// See Checkpoint for removing every copy from the files.
func (s *Store) Delete(ctx context.Context, id string) (ok bool, err error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM profiles WHERE customer_id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("profile: delete: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("profile: delete: %w", err)
	}
	return n > 0, nil
}

// Count returns how many profiles are stored.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM profiles`).Scan(&n); err != nil {
		return 0, fmt.Errorf("profile: count: %w", err)
	}
	return n, nil
}

// Checkpoint copies the write-ahead log into the database file and
// truncates it to zero bytes, so that rows deleted (and, with
// secure_delete, overwritten) leave no older copy in the -wal file. It
// retries for a while when readers hold the log.
func (s *Store) Checkpoint(ctx context.Context) error {
	return Checkpoint(ctx, s.db)
}

// Checkpoint runs PRAGMA wal_checkpoint(TRUNCATE) on db until it completes
// (other connections may hold the log for a moment) or ctx ends.
func Checkpoint(ctx context.Context, db *sql.DB) error {
	for wait := 5 * time.Millisecond; ; wait *= 2 {
		var busy, logFrames, done int
		err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done)
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if wait > time.Second {
			return fmt.Errorf("checkpoint: %w", errCheckpoint)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("checkpoint: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
}

// Profile returns the profile of customer id as prompt fields (see
// Fields); it makes *Store a server.ProfileSource.
func (s *Store) Profile(ctx context.Context, id string) ([]llm.ProfileField, bool, error) {
	doc, ok, err := s.Get(ctx, id)
	if err != nil || !ok {
		return nil, ok, err
	}
	fields, err := Fields(doc)
	if err != nil {
		return nil, false, fmt.Errorf("profile: %w", err)
	}
	return fields, true, nil
}

// leading are the fields that come first, in this order; the rest follow
// sorted by name.
var leading = []string{"name", "email", "language", "plan"}

// Fields flattens a profile to one line per top-level field: strings,
// numbers and booleans as they are, objects as their values in the order
// given ("#1042 shipped 2026-11-02"), arrays as their elements joined by
// "; ". Empty values and nulls are left out; an "id" or "customer_id"
// field (the key, not a fact) too. name, email, language and plan come
// first, then the other fields sorted by name.
func Fields(doc []byte) ([]llm.ProfileField, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	v, err := parse(dec)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	obj, ok := v.(object)
	if !ok {
		return nil, ErrNotObject
	}
	values := map[string]string{}
	var names []string
	for _, m := range obj {
		if m.key == "id" || m.key == "customer_id" {
			continue
		}
		text := strings.TrimSpace(render(m.val, 0))
		if text == "" {
			continue
		}
		if _, dup := values[m.key]; !dup {
			names = append(names, m.key)
		}
		values[m.key] = text
	}
	rank := func(name string) int {
		for i, l := range leading {
			if strings.EqualFold(name, l) {
				return i
			}
		}
		return len(leading)
	}
	sort.SliceStable(names, func(i, j int) bool {
		ri, rj := rank(names[i]), rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	fields := make([]llm.ProfileField, 0, len(names))
	for _, n := range names {
		fields = append(fields, llm.ProfileField{Name: n, Value: values[n]})
	}
	return fields, nil
}

// object is a JSON object with its keys in the order given.
type object []member

type member struct {
	key string
	val any
}

// parse reads one JSON value, keeping the order of object keys.
func parse(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			var obj object
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := parse(dec)
				if err != nil {
					return nil, err
				}
				obj = append(obj, member{key: kt.(string), val: v})
			}
			_, err := dec.Token() // '}'
			return obj, err
		case '[':
			var arr []any
			for dec.More() {
				v, err := parse(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token() // ']'
			return arr, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}

// render writes a value compactly on one line.
func render(v any, depth int) string {
	if depth > 8 {
		return ""
	}
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return strings.Join(strings.Fields(t), " ")
	case json.Number:
		return t.String()
	case bool:
		if t {
			return "yes"
		}
		return "no"
	case object:
		var parts []string
		for _, m := range t {
			if s := render(m.val, depth+1); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, " ")
	case []any:
		var parts []string
		for _, e := range t {
			if s := render(e, depth+1); s != "" {
				parts = append(parts, s)
			}
		}
		sep := "; "
		if depth > 0 {
			sep = ", "
		}
		return strings.Join(parts, sep)
	}
	return fmt.Sprint(v)
}
