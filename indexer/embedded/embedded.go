// Package embedded is the default index backend: one SQLite file (pure-Go
// modernc.org/sqlite) holding the pages, their chunks, an FTS5 table for
// BM25 keyword search and the chunks' dense vectors, searched in memory and
// fused with BM25 by reciprocal rank fusion (dense.go).
//
// Text is analysed in Go (indexer.AnalyzeChunk, indexer.AnalyzeQuery) before
// it reaches SQLite, for documents and queries alike, so the FTS5 tokenizer
// only splits the already stemmed and folded terms at spaces. The meta key
// "analyzer" records the analysis that built the index (see
// indexer.CheckAnalyzer).
package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/sitebot/sitebot/indexer"
)

// SchemaVersion is the version of the schema this package writes. Open
// refuses a file with a newer one.
const SchemaVersion = 3

// schemaKey is the meta key holding the schema version; SetMeta refuses it.
const schemaKey = "schema_version"

// Column weights of bm25(): a match in a heading counts most, then the page
// title, then the body text.
const (
	weightTitle   = 2.0
	weightHeading = 3.0
	weightText    = 1.0
)

// DefaultLimit is how many hits Search returns when the query sets no limit.
const DefaultLimit = 10

// maxQueryTerms bounds the terms of one query: a visitor pasting a page of
// text gets a search on its first distinct words, not a huge OR.
const maxQueryTerms = 32

var schema = []string{
	`CREATE TABLE pages (
		url        TEXT PRIMARY KEY,
		title      TEXT NOT NULL,
		lang       TEXT NOT NULL,
		hash       TEXT NOT NULL,
		chunks     INTEGER NOT NULL,
		faqs       INTEGER NOT NULL,
		indexed_at TEXT NOT NULL,
		etag          TEXT NOT NULL DEFAULT '',
		last_modified TEXT NOT NULL DEFAULT '',
		links         TEXT NOT NULL DEFAULT '[]'
	)`,
	// n is the rowid the FTS table shares; id is the chunk's stable ID.
	`CREATE TABLE chunks (
		n        INTEGER PRIMARY KEY,
		id       TEXT NOT NULL UNIQUE,
		page_url TEXT NOT NULL REFERENCES pages(url) ON DELETE CASCADE,
		url      TEXT NOT NULL,
		title    TEXT NOT NULL,
		heading  TEXT NOT NULL,
		text     TEXT NOT NULL,
		lang     TEXT NOT NULL,
		ord      INTEGER NOT NULL,
		faq      INTEGER NOT NULL
	)`,
	`CREATE INDEX chunks_page_url ON chunks(page_url)`,
	// Contentless: the analysed terms are only needed for matching and
	// ranking; the original text lives in chunks.
	`CREATE VIRTUAL TABLE chunks_fts USING fts5(
		title, heading, text,
		content='', contentless_delete=1,
		tokenize='unicode61 remove_diacritics 0'
	)`,
	vectorsTable,
}

// Index is an index in one SQLite file. It is safe for concurrent use:
// writes are serialised on one connection, reads run in parallel on others
// (WAL mode), and a reader never sees half of a ReplacePage.
type Index struct {
	path string
	w    *sql.DB // one connection: every write
	r    *sql.DB // read-only connections

	dense denseCache // the vectors, loaded by the first hybrid search

	gen   atomic.Uint64 // incremented by every write
	langs langCache     // the chunks' languages, for query analysis
}

// Open opens the index at path, creating the file and its schema when they
// do not exist. The directory must exist: creating the data directory is the
// caller's job.
func Open(ctx context.Context, path string) (*Index, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("embedded: open %s: directory %s does not exist", path, dir)
		}
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("embedded: open %s: %s is not a directory", path, dir)
	}

	// A file: URI, so that "?" or "#" in the path cannot be read as
	// parameters; SQLite decodes the percent escapes.
	uri := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath()
	params := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

	w, err := sql.Open("sqlite", uri+"?"+params+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	ix := &Index{path: path, w: w}
	if err := ix.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}

	// Readers open after the schema exists and the file is in WAL mode.
	r, err := sql.Open("sqlite", uri+"?"+params+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	ix.r = r
	return ix, nil
}

// migrate creates the schema in a new file and checks the version of an
// existing one.
func (ix *Index) migrate(ctx context.Context) error {
	tx, err := ix.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`); err != nil {
		return err
	}
	var v string
	err = tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, schemaKey).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		var tables int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'pages'`).Scan(&tables); err != nil {
			return err
		}
		if tables > 0 {
			return errors.New("the file holds a pages table but no schema version: not a sitebot index")
		}
		for _, stmt := range schema {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)`, schemaKey, strconv.Itoa(SchemaVersion)); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		got, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("schema version %q is not a number", v)
		}
		if got > SchemaVersion {
			return fmt.Errorf("index schema version %d is newer than this sitebot supports (%d): upgrade sitebot or crawl into another --data directory", got, SchemaVersion)
		}
		if got < 2 {
			// Version 2 remembers what a conditional re-crawl needs.
			for _, stmt := range []string{
				`ALTER TABLE pages ADD COLUMN etag TEXT NOT NULL DEFAULT ''`,
				`ALTER TABLE pages ADD COLUMN last_modified TEXT NOT NULL DEFAULT ''`,
				`ALTER TABLE pages ADD COLUMN links TEXT NOT NULL DEFAULT '[]'`,
			} {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migrate schema to version 2: %w", err)
				}
			}
		}
		if got < 3 {
			// Version 3 holds dense vectors.
			if _, err := tx.ExecContext(ctx, vectorsTable); err != nil {
				return fmt.Errorf("migrate schema to version 3: %w", err)
			}
		}
		if got < SchemaVersion {
			if _, err := tx.ExecContext(ctx, `UPDATE meta SET value = ? WHERE key = ?`, strconv.Itoa(SchemaVersion), schemaKey); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

// Close closes the index.
func (ix *Index) Close() error {
	var errs []error
	if ix.r != nil {
		errs = append(errs, ix.r.Close())
	}
	if ix.w != nil {
		// Fold the WAL back into the file so that it is whole on its own.
		_, _ = ix.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		errs = append(errs, ix.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("embedded: close %s: %w", ix.path, err)
	}
	return nil
}

// pageColumns are the columns scanPage reads, in its order.
const pageColumns = `url, title, lang, hash, chunks, faqs, indexed_at, etag, last_modified, links`

func scanPage(row interface{ Scan(...any) error }) (indexer.PageInfo, error) {
	var p indexer.PageInfo
	var at, links string
	if err := row.Scan(&p.URL, &p.Title, &p.Lang, &p.Hash, &p.Chunks, &p.FAQs, &at, &p.ETag, &p.LastModified, &links); err != nil {
		return p, err
	}
	p.IndexedAt, _ = time.Parse(time.RFC3339Nano, at)
	if err := json.Unmarshal([]byte(links), &p.Links); err != nil {
		return p, fmt.Errorf("links of %s: %w", p.URL, err)
	}
	return p, nil
}

// Page returns what the index records of the page at url.
func (ix *Index) Page(ctx context.Context, url string) (indexer.PageInfo, bool, error) {
	p, err := scanPage(ix.r.QueryRowContext(ctx, `SELECT `+pageColumns+` FROM pages WHERE url = ?`, url))
	if errors.Is(err, sql.ErrNoRows) {
		return indexer.PageInfo{}, false, nil
	}
	if err != nil {
		return indexer.PageInfo{}, false, fmt.Errorf("embedded: page %s: %w", url, err)
	}
	return p, true, nil
}

// UpdatePage rewrites the crawl metadata of an indexed page (validators,
// links, time) and leaves its chunks alone. A page not in the index is no error.
func (ix *Index) UpdatePage(ctx context.Context, page indexer.PageInfo) error {
	links, err := linksJSON(page.Links)
	if err != nil {
		return fmt.Errorf("embedded: update page %s: %w", page.URL, err)
	}
	err = ix.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE pages SET etag = ?, last_modified = ?, links = ?, indexed_at = ? WHERE url = ?`,
			page.ETag, page.LastModified, links, timestamp(page.IndexedAt), page.URL)
		return err
	})
	if err != nil {
		return fmt.Errorf("embedded: update page %s: %w", page.URL, err)
	}
	return nil
}

func linksJSON(links []string) (string, error) {
	if links == nil {
		links = []string{}
	}
	b, err := json.Marshal(links)
	return string(b), err
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// ReplacePage writes page and its chunks in one transaction, deleting the
// page's previous chunks. Chunks are stored under page.URL whatever their
// PageURL says.
func (ix *Index) ReplacePage(ctx context.Context, page indexer.PageInfo, chunks []indexer.Chunk) error {
	if page.URL == "" {
		return errors.New("embedded: replace page: empty URL")
	}
	links, err := linksJSON(page.Links)
	if err != nil {
		return fmt.Errorf("embedded: replace page %s: %w", page.URL, err)
	}
	err = ix.write(ctx, func(tx *sql.Tx) error {
		if err := deletePage(ctx, tx, page.URL); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO pages (`+pageColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			page.URL, page.Title, page.Lang, page.Hash, len(chunks), page.FAQs, timestamp(page.IndexedAt),
			page.ETag, page.LastModified, links,
		); err != nil {
			return err
		}
		insChunk, err := tx.PrepareContext(ctx,
			`INSERT INTO chunks (id, page_url, url, title, heading, text, lang, ord, faq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insChunk.Close()
		insFTS, err := tx.PrepareContext(ctx, `INSERT INTO chunks_fts (rowid, title, heading, text) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insFTS.Close()
		ns := make([]int64, len(chunks))
		for i, c := range chunks {
			res, err := insChunk.ExecContext(ctx, c.ID, page.URL, c.URL, c.Title, c.Heading, c.Text, c.Lang, c.Ord, c.FAQ)
			if err != nil {
				return fmt.Errorf("chunk %s: %w", c.ID, err)
			}
			n, err := res.LastInsertId()
			if err != nil {
				return err
			}
			ns[i] = n
			title, heading, text := analyse(c)
			if _, err := insFTS.ExecContext(ctx, n, title, heading, text); err != nil {
				return fmt.Errorf("chunk %s: %w", c.ID, err)
			}
		}
		return writeVectors(ctx, tx, chunks, ns)
	})
	ix.dense.invalidate()
	if err != nil {
		return fmt.Errorf("embedded: replace page %s: %w", page.URL, err)
	}
	return nil
}

// DeletePage removes a page and its chunks.
func (ix *Index) DeletePage(ctx context.Context, url string) error {
	err := ix.write(ctx, func(tx *sql.Tx) error { return deletePage(ctx, tx, url) })
	ix.dense.invalidate()
	if err != nil {
		return fmt.Errorf("embedded: delete page %s: %w", url, err)
	}
	return nil
}

func deletePage(ctx context.Context, tx *sql.Tx, url string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM vectors WHERE n IN (SELECT n FROM chunks WHERE page_url = ?)`, url); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks_fts WHERE rowid IN (SELECT n FROM chunks WHERE page_url = ?)`, url); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE page_url = ?`, url); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM pages WHERE url = ?`, url)
	return err
}

// write runs fn in a write transaction and commits it when fn succeeds.
func (ix *Index) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := ix.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer ix.gen.Add(1)
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// PageURLs lists the URLs of the pages in the index, sorted.
func (ix *Index) PageURLs(ctx context.Context) ([]string, error) {
	rows, err := ix.r.QueryContext(ctx, `SELECT url FROM pages ORDER BY url`)
	if err != nil {
		return nil, fmt.Errorf("embedded: page urls: %w", err)
	}
	defer rows.Close()
	var urls []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("embedded: page urls: %w", err)
		}
		urls = append(urls, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: page urls: %w", err)
	}
	return urls, nil
}

// Pages describes the pages in the index, sorted by URL, without their links.
func (ix *Index) Pages(ctx context.Context) ([]indexer.PageInfo, error) {
	// The links are for the next crawl, not for listing: leave them out
	// (decoding every page's links made each `ask` three times slower).
	rows, err := ix.r.QueryContext(ctx, `SELECT `+strings.Replace(pageColumns, "links", "'[]'", 1)+` FROM pages ORDER BY url`)
	if err != nil {
		return nil, fmt.Errorf("embedded: pages: %w", err)
	}
	defer rows.Close()
	var pages []indexer.PageInfo
	for rows.Next() {
		p, err := scanPage(rows)
		if err != nil {
			return nil, fmt.Errorf("embedded: pages: %w", err)
		}
		pages = append(pages, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: pages: %w", err)
	}
	return pages, nil
}

// Counts returns how many pages and chunks the index holds.
func (ix *Index) Counts(ctx context.Context) (pages, chunks int, err error) {
	err = ix.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM pages), (SELECT count(*) FROM chunks)`).Scan(&pages, &chunks)
	if err != nil {
		return 0, 0, fmt.Errorf("embedded: counts: %w", err)
	}
	return pages, chunks, nil
}

// SetMeta records a value under key (e.g. which embedder built the index).
func (ix *Index) SetMeta(ctx context.Context, key, value string) error {
	if key == schemaKey {
		return fmt.Errorf("embedded: set meta: %q is reserved", key)
	}
	err := ix.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("embedded: set meta %s: %w", key, err)
	}
	return nil
}

// Meta returns the value recorded under key; ok is false when there is none.
func (ix *Index) Meta(ctx context.Context, key string) (value string, ok bool, err error) {
	err = ix.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("embedded: meta %s: %w", key, err)
	}
	return value, true, nil
}

// Search returns the chunks that contain any of the query's content terms
// (indexer.AnalyzeQuery, stemmed in the languages the index holds), best
// BM25 score first. A query without content terms (empty, punctuation, stop
// words only) has no hits. Visitor input never reaches the FTS5 query
// syntax: every term is quoted.
//
// q.Lang keeps the chunks whose Lang equals it, q.URLPrefix those whose
// PageURL starts with it (byte for byte); both apply before the limit.
//
// With q.Vector the search is hybrid: the Limit·4 chunks nearest to the
// vector (cosine) and the Limit·4 best BM25 matches, both filtered, are
// fused by reciprocal rank fusion (k = 60), and Score is the fused score
// Σ 1/(60 + rank). A chunk without a vector takes part through BM25 only,
// and a query without content terms through its vector only.
func (ix *Index) Search(ctx context.Context, q indexer.Query) ([]indexer.Hit, error) {
	langs, err := ix.chunkLangs(ctx)
	if err != nil {
		return nil, fmt.Errorf("embedded: search: %w", err)
	}
	match := matchExpr(q.Text, langs)
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	if len(q.Vector) > 0 {
		return ix.hybridSearch(ctx, q, match, limit)
	}
	if match == "" {
		return nil, nil
	}
	return ix.keywordSearch(ctx, q, match, limit)
}

// keywordSearch returns the best limit BM25 matches of the FTS5 query match
// that pass q's filters, best first; Score is the negated bm25().
func (ix *Index) keywordSearch(ctx context.Context, q indexer.Query, match string, limit int) ([]indexer.Hit, error) {
	query := `
		SELECT c.id, c.page_url, c.url, c.title, c.heading, c.text, c.lang, c.ord, c.faq, f.score
		FROM (
			SELECT rowid, bm25(chunks_fts, ?, ?, ?) AS score
			FROM chunks_fts WHERE chunks_fts MATCH ?
			ORDER BY score LIMIT ?
		) AS f
		JOIN chunks AS c ON c.n = f.rowid
		ORDER BY f.score, c.id`
	args := []any{weightTitle, weightHeading, weightText, match, limit}
	if q.Lang != "" || q.URLPrefix != "" {
		// Filtered: the filters must apply before the limit.
		query = `
		SELECT c.id, c.page_url, c.url, c.title, c.heading, c.text, c.lang, c.ord, c.faq, bm25(chunks_fts, ?, ?, ?) AS score
		FROM chunks_fts JOIN chunks AS c ON c.n = chunks_fts.rowid
		WHERE chunks_fts MATCH ?
			AND (? = '' OR c.lang = ?)
			AND substr(c.page_url, 1, length(?)) = ?
		ORDER BY score, c.id
		LIMIT ?`
		args = []any{weightTitle, weightHeading, weightText, match, q.Lang, q.Lang, q.URLPrefix, q.URLPrefix, limit}
	}
	rows, err := ix.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("embedded: search: %w", err)
	}
	defer rows.Close()
	var hits []indexer.Hit
	for rows.Next() {
		var h indexer.Hit
		var bm25 float64
		if err := rows.Scan(&h.ID, &h.PageURL, &h.URL, &h.Title, &h.Heading, &h.Text, &h.Lang, &h.Ord, &h.FAQ, &bm25); err != nil {
			return nil, fmt.Errorf("embedded: search: %w", err)
		}
		h.Score = -bm25 // bm25() is lower for better matches
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: search: %w", err)
	}
	return hits, nil
}

// matchExpr builds the FTS5 query for text: the alternatives of its first
// maxQueryTerms content terms (indexer.AnalyzeQuery with langs, the
// languages of the indexed chunks), distinct and OR-ed, each a quoted
// string. Terms hold only letters, marks and digits, and quoting (with any
// '"' doubled) makes FTS5 read every one as a plain string, whatever the
// visitor typed.
func matchExpr(text string, langs []string) string {
	terms := indexer.AnalyzeQuery(text, langs)
	if len(terms) > maxQueryTerms {
		terms = terms[:maxQueryTerms]
	}
	seen := make(map[string]bool)
	var parts []string
	for _, t := range terms {
		for _, alt := range t.Alts {
			if seen[alt] {
				continue
			}
			seen[alt] = true
			parts = append(parts, `"`+strings.ReplaceAll(alt, `"`, `""`)+`"`)
		}
	}
	return strings.Join(parts, " OR ")
}

// analyse returns the space-separated terms the FTS table indexes for a
// chunk's title, heading and text (indexer.AnalyzeChunk).
func analyse(c indexer.Chunk) (title, heading, text string) {
	t, h, x := indexer.AnalyzeChunk(c)
	return strings.Join(t, " "), strings.Join(h, " "), strings.Join(x, " ")
}

// langCache holds the distinct Lang values of the chunks as of a write
// generation, so that Search asks SQLite again only after a write.
type langCache struct {
	mu    sync.Mutex
	valid bool
	gen   uint64
	langs []string
}

// chunkLangs returns the distinct languages of the indexed chunks ("" for
// chunks of unknown language), for query analysis.
func (ix *Index) chunkLangs(ctx context.Context) ([]string, error) {
	gen := ix.gen.Load()
	c := &ix.langs
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid && c.gen == gen {
		return c.langs, nil
	}
	rows, err := ix.r.QueryContext(ctx, `SELECT DISTINCT lang FROM chunks`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var langs []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		langs = append(langs, l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	c.valid, c.gen, c.langs = true, gen, langs
	return langs, nil
}
