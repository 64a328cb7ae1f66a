package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/crawler"
	"github.com/sitebot/sitebot/indexer"
)

var _ indexer.Store = (*Index)(nil)

func openTest(t testing.TB) (*Index, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index.db")
	ix, err := Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { ix.Close() })
	return ix, path
}

// add splits p and writes it, as the Indexer does.
func add(t testing.TB, ix *Index, p crawler.Page) []indexer.Chunk {
	t.Helper()
	chunks := indexer.Split(p)
	info := indexer.PageInfo{URL: p.URL, Title: p.Title, Lang: p.Lang, Chunks: len(chunks), FAQs: len(p.FAQs), Hash: p.Hash}
	require.NoError(t, ix.ReplacePage(context.Background(), info, chunks))
	return chunks
}

func sec(anchor, heading, text string) crawler.Section {
	return crawler.Section{Anchor: anchor, Heading: heading, Path: []string{heading}, Level: 2, Text: text}
}

var (
	billing = crawler.Page{
		URL: "https://shop.test/billing", Title: "Billing", Lang: "en", Hash: "b1",
		Sections: []crawler.Section{
			sec("cancel", "Cancel your subscription", "Open Settings, then Subscription, and click Cancel. Your plan stays active until the end of the period."),
			sec("invoices", "Download invoices", "Every invoice is in Settings under Invoices. Paddle also e-mails each invoice."),
		},
		FAQs: []crawler.FAQ{{Question: "Do you accept PayPal?", Answer: "Yes, PayPal and cards.", Anchor: "paypal"}},
	}
	privacy = crawler.Page{
		URL: "https://shop.test/privacy", Title: "Privacy", Lang: "en", Hash: "p1",
		Sections: []crawler.Section{
			sec("cookies", "Cookies", "We use no cookies. The subscription page mentions cookies once."),
		},
	}
	russian = crawler.Page{
		URL: "https://shop.test/ru/faq", Title: "Часто задаваемые вопросы", Lang: "ru", Hash: "r1",
		Sections: []crawler.Section{
			sec("стоимость", "Сколько стоят услуги?", "Мы не берём плату за наши сертификаты. Ёлка."),
		},
	}
)

func TestWriteSearchDelete(t *testing.T) {
	ctx := context.Background()
	ix, _ := openTest(t)
	add(t, ix, billing)
	add(t, ix, privacy)
	add(t, ix, russian)

	pages, chunks, err := ix.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, pages)
	assert.Equal(t, 5, chunks)

	hits, err := ix.Search(ctx, indexer.Query{Text: "How do I cancel my subscription?"})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	assert.Equal(t, "https://shop.test/billing#cancel", hits[0].URL, "heading and text match beat a text-only match")
	assert.Equal(t, indexer.Chunk{
		ID: "https://shop.test/billing#0", PageURL: "https://shop.test/billing", URL: "https://shop.test/billing#cancel",
		Title: "Billing", Heading: "Cancel your subscription", Text: billing.Sections[0].Text, Lang: "en", Ord: 0,
	}, hits[0].Chunk)
	for i := 1; i < len(hits); i++ {
		assert.GreaterOrEqual(t, hits[i-1].Score, hits[i].Score, "best first")
	}
	assert.Greater(t, hits[0].Score, 0.0, "higher is better")

	// FAQ chunks come back with their flag; accents and case are folded.
	hits, err = ix.Search(ctx, indexer.Query{Text: "PAYPAL"})
	require.NoError(t, err)
	require.Len(t, hits, 1)
	assert.True(t, hits[0].FAQ)
	assert.Equal(t, "https://shop.test/billing#paypal", hits[0].URL)

	hits, err = ix.Search(ctx, indexer.Query{Text: "сколько стоят сертификаты? елка"})
	require.NoError(t, err)
	require.Len(t, hits, 1)
	assert.Equal(t, "https://shop.test/ru/faq#стоимость", hits[0].URL)

	// Limit.
	hits, err = ix.Search(ctx, indexer.Query{Text: "subscription invoices cookies", Limit: 2})
	require.NoError(t, err)
	assert.Len(t, hits, 2)

	// Delete.
	require.NoError(t, ix.DeletePage(ctx, billing.URL))
	require.NoError(t, ix.DeletePage(ctx, "https://shop.test/never-indexed"))
	hits, err = ix.Search(ctx, indexer.Query{Text: "cancel paypal invoice"})
	require.NoError(t, err)
	assert.Empty(t, hits)
	pages, chunks, err = ix.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, pages)
	assert.Equal(t, 1+1, chunks)
	_, ok, err := ix.Page(ctx, billing.URL)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestReplacePageLeavesNoDuplicates(t *testing.T) {
	ctx := context.Background()
	ix, _ := openTest(t)
	add(t, ix, billing)
	add(t, ix, billing)
	changed := billing
	changed.Hash = "b2"
	changed.Sections = []crawler.Section{sec("refunds", "Refunds", "Refunds are possible within 30 days.")}
	changed.FAQs = nil
	add(t, ix, changed)

	pages, chunks, err := ix.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, pages)
	assert.Equal(t, 1, chunks)

	hits, err := ix.Search(ctx, indexer.Query{Text: "cancel subscription invoices paypal"})
	require.NoError(t, err)
	assert.Empty(t, hits, "the old chunks and their FTS rows are gone")
	hits, err = ix.Search(ctx, indexer.Query{Text: "refunds"})
	require.NoError(t, err)
	require.Len(t, hits, 1)
	assert.Equal(t, "https://shop.test/billing#0", hits[0].ID)

	p, ok, err := ix.Page(ctx, billing.URL)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "b2", p.Hash)
}

func TestReplacePageIsAtomic(t *testing.T) {
	ctx := context.Background()
	ix, _ := openTest(t)
	add(t, ix, billing)
	// Two chunks with one ID: the second insert fails, nothing changes.
	bad := []indexer.Chunk{{ID: "dup", URL: billing.URL, Text: "new text"}, {ID: "dup", URL: billing.URL, Text: "again"}}
	err := ix.ReplacePage(ctx, indexer.PageInfo{URL: billing.URL, Hash: "b2"}, bad)
	require.Error(t, err)
	p, _, err := ix.Page(ctx, billing.URL)
	require.NoError(t, err)
	assert.Equal(t, "b1", p.Hash)
	hits, err := ix.Search(ctx, indexer.Query{Text: "cancel"})
	require.NoError(t, err)
	assert.Len(t, hits, 1)
}

func TestPagesAndMeta(t *testing.T) {
	ctx := context.Background()
	ix, _ := openTest(t)
	before := time.Now().Add(-time.Second)
	add(t, ix, privacy)
	add(t, ix, billing)

	pages, err := ix.Pages(ctx)
	require.NoError(t, err)
	require.Len(t, pages, 2)
	assert.Equal(t, "https://shop.test/billing", pages[0].URL, "sorted by URL")
	assert.Equal(t, "Billing", pages[0].Title)
	assert.Equal(t, "en", pages[0].Lang)
	assert.Equal(t, 3, pages[0].Chunks)
	assert.Equal(t, 1, pages[0].FAQs)
	assert.Equal(t, "b1", pages[0].Hash)
	assert.True(t, pages[0].IndexedAt.After(before))

	urls, err := ix.PageURLs(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"https://shop.test/billing", "https://shop.test/privacy"}, urls)

	_, ok, err := ix.Meta(ctx, "embedder")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, ix.SetMeta(ctx, "embedder", "bge-m3/1024"))
	require.NoError(t, ix.SetMeta(ctx, "embedder", "none"))
	v, ok, err := ix.Meta(ctx, "embedder")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "none", v)
	require.Error(t, ix.SetMeta(ctx, "schema_version", "2"))
}

func TestPersistsAcrossClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "index.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	ix, err := Open(ctx, path)
	require.NoError(t, err)
	add(t, ix, billing)
	require.NoError(t, ix.SetMeta(ctx, "k", "v"))
	require.NoError(t, ix.Close())

	ix, err = Open(ctx, path)
	require.NoError(t, err)
	defer ix.Close()
	hits, err := ix.Search(ctx, indexer.Query{Text: "invoice"})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	assert.Equal(t, "https://shop.test/billing#invoices", hits[0].URL)
	v, _, err := ix.Meta(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v", v)
	v, _, err = ix.Meta(ctx, "schema_version")
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(SchemaVersion), v)
}

// TestMigratesVersion1 opens an index written by schema version 1 (no crawl
// validators) and finds its pages intact and the new columns usable.
func TestMigratesVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	ix, err := Open(ctx, path)
	require.NoError(t, err)
	add(t, ix, billing)
	require.NoError(t, ix.Close())

	// Turn the file back into version 1.
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	for _, stmt := range []string{
		`ALTER TABLE pages DROP COLUMN etag`,
		`ALTER TABLE pages DROP COLUMN last_modified`,
		`ALTER TABLE pages DROP COLUMN links`,
		`UPDATE meta SET value = '1' WHERE key = 'schema_version'`,
	} {
		_, err = db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, db.Close())

	ix, err = Open(ctx, path)
	require.NoError(t, err)
	defer ix.Close()
	p, ok, err := ix.Page(ctx, billing.URL)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "b1", p.Hash)
	assert.Empty(t, p.ETag)
	p.ETag, p.Links = `"v2"`, []string{"https://shop.test/a"}
	require.NoError(t, ix.UpdatePage(ctx, p))
	p, _, err = ix.Page(ctx, billing.URL)
	require.NoError(t, err)
	assert.Equal(t, `"v2"`, p.ETag)
	assert.Equal(t, []string{"https://shop.test/a"}, p.Links)
	hits, err := ix.Search(ctx, indexer.Query{Text: "invoice"})
	require.NoError(t, err)
	assert.NotEmpty(t, hits, "chunks survive the migration untouched")
	v, _, err := ix.Meta(ctx, "schema_version")
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(SchemaVersion), v)
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	_, err := Open(ctx, filepath.Join(dir, "missing", "index.db"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not exist")

	// A newer schema is refused.
	path := filepath.Join(dir, "newer.db")
	ix, err := Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, ix.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = Open(ctx, path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "schema version 99 is newer")

	// A file that is not SQLite.
	junk := filepath.Join(dir, "junk.db")
	require.NoError(t, os.WriteFile(junk, []byte("this is not a database, just some text that is long enough"), 0o644))
	_, err = Open(ctx, junk)
	require.Error(t, err)
}

func TestOpenOddPath(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "with space?and#hash")
	require.NoError(t, os.Mkdir(dir, 0o755))
	path := filepath.Join(dir, "index.db")
	ix, err := Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, ix.Close())
	_, err = os.Stat(path)
	require.NoError(t, err, "the file is where it was asked for")
}

func TestSearchIsSafeWithFTSSyntax(t *testing.T) {
	ctx := context.Background()
	ix, _ := openTest(t)
	add(t, ix, billing)
	add(t, ix, privacy)

	tests := []struct {
		q       string
		anyHits bool
	}{
		{`"foo" OR bar*`, false},
		{`NEAR(`, false},
		{`NEAR(cancel subscription, 2)`, true},
		{`-`, false},
		{`'`, false},
		{`"`, false},
		{`cancel"`, true},
		{`cancel AND NOT subscription`, true},
		{`title:cancel`, true},
		{`{title heading}: cancel`, true},
		{`^cancel`, true},
		{`cancel*`, true},
		{`) OR (`, false},
		{`rowid = 1; DROP TABLE chunks; --`, false},
		{``, false},
		{`   `, false},
		{`the and of to`, false}, // stop words only
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			hits, err := ix.Search(ctx, indexer.Query{Text: tt.q})
			require.NoError(t, err)
			if tt.anyHits {
				assert.NotEmpty(t, hits)
			} else {
				assert.Empty(t, hits)
			}
		})
	}
	_, chunks, err := ix.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, chunks)
}

func TestMatchExpr(t *testing.T) {
	en := []string{"en"}
	assert.Equal(t, `"cancel" OR "subscription" OR "subscript" OR "subscriptions"`,
		matchExpr("How do I cancel my subscription? Cancel! Subscriptions", en))
	assert.Equal(t, `"foo" OR "bar" OR "near"`, matchExpr(`"foo" OR bar* NEAR(`, en))
	assert.Equal(t, "", matchExpr(`" - ' *`, en))
	// Every alternative quoted: its stem in each language of the index.
	assert.Equal(t, `"rechnungen" OR "rechnung"`, matchExpr("Rechnungen", []string{"de"}))
	assert.Equal(t, `"invoices" OR "invoic"`, matchExpr("invoices", []string{"en", "fi"})) // distinct
}

// Readers search while a writer replaces pages: no errors, and every search
// sees a whole version of the page.
func TestConcurrentReadersDuringWrites(t *testing.T) {
	ctx := context.Background()
	ix, _ := openTest(t)
	add(t, ix, billing)

	const readers, writes = 4, 40
	var wg sync.WaitGroup
	errs := make(chan error, readers+1)
	stop := make(chan struct{})
	for range readers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				hits, err := ix.Search(ctx, indexer.Query{Text: "cancel invoice paypal version"})
				if err != nil {
					errs <- err
					return
				}
				if len(hits) != 3 {
					errs <- fmt.Errorf("a reader saw %d hits, want 3 (a half-written page?)", len(hits))
					return
				}
			}
		})
	}
	for i := range writes {
		p := billing
		p.Hash = fmt.Sprint(i)
		p.Sections = append([]crawler.Section(nil), billing.Sections...)
		p.Sections[0].Text += fmt.Sprintf(" version %d", i)
		add(t, ix, p)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
