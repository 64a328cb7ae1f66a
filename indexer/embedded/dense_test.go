package embedded

import (
	"context"
	"database/sql"
	"encoding/binary"
	"hash/fnv"
	"math"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/crawler"
	"github.com/sitebot/sitebot/indexer"
)

// fakeConcepts makes fakeEmbed "understand" a few synonyms: words that mean
// the same thing land in the same dimension.
var fakeConcepts = map[string]string{
	"refund": "MONEYBACK", "refunds": "MONEYBACK", "reimbursement": "MONEYBACK", "reimburse": "MONEYBACK", "money": "MONEYBACK",
	"cancel": "STOP", "terminate": "STOP", "end": "STOP",
}

const fakeDim = 64

// fakeEmbed is a deterministic fake embedder, not a model: a hashed
// bag-of-words vector where the synonyms of fakeConcepts share a dimension.
func fakeEmbed(text string) []float32 {
	v := make([]float32, fakeDim)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if c, ok := fakeConcepts[w]; ok {
			w = c
		}
		h := fnv.New32a()
		h.Write([]byte(w))
		v[h.Sum32()%fakeDim]++
	}
	return v
}

// addEmbedded splits p, embeds its chunks with fakeEmbed and writes them.
func addEmbedded(t testing.TB, ix *Index, p crawler.Page) []indexer.Chunk {
	t.Helper()
	chunks := indexer.Split(p)
	for i := range chunks {
		chunks[i].Vector = fakeEmbed(indexer.EmbedText(chunks[i]))
	}
	info := indexer.PageInfo{URL: p.URL, Title: p.Title, Lang: p.Lang, Chunks: len(chunks), Hash: p.Hash}
	require.NoError(t, ix.ReplacePage(context.Background(), info, chunks))
	return chunks
}

func countVectors(t testing.TB, ix *Index, pageURL string) int {
	t.Helper()
	var n int
	require.NoError(t, ix.r.QueryRow(`SELECT count(*) FROM vectors AS v JOIN chunks AS c ON c.n = v.n WHERE c.page_url = ?`, pageURL).Scan(&n))
	return n
}

func ids(hits []indexer.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

var refunds = crawler.Page{
	URL: "https://shop.test/money-back", Title: "Money back", Lang: "en", Hash: "m1",
	Sections: []crawler.Section{
		sec("when", "Getting your money back", "A reimbursement reaches your card within five days."),
	},
}

func TestVectorsFollowTheirPage(t *testing.T) {
	ctx := context.Background()
	ix, _ := openTest(t)
	chunks := addEmbedded(t, ix, billing)
	addEmbedded(t, ix, privacy)
	assert.Equal(t, len(chunks), countVectors(t, ix, billing.URL))

	// Stored little-endian, of unit length.
	var blob []byte
	require.NoError(t, ix.r.QueryRow(`SELECT v.vec FROM vectors AS v JOIN chunks AS c ON c.n = v.n WHERE c.id = ?`, chunks[0].ID).Scan(&blob))
	require.Len(t, blob, 4*fakeDim)
	var norm float64
	want := fakeEmbed(indexer.EmbedText(chunks[0]))
	var wantNorm float64
	for _, x := range want {
		wantNorm += float64(x * x)
	}
	for i := range fakeDim {
		x := math.Float32frombits(binary.LittleEndian.Uint32(blob[4*i:]))
		norm += float64(x * x)
		assert.InDelta(t, float64(want[i])/math.Sqrt(wantNorm), x, 1e-6)
	}
	assert.InDelta(t, 1, norm, 1e-5)

	q := fakeEmbed("cancel my subscription")
	hits, err := ix.Search(ctx, indexer.Query{Text: "cancel my subscription", Vector: q, Limit: 3})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	assert.Equal(t, billing.URL+"#0", hits[0].ID)

	// Replaced by a version without vectors: the old vectors are gone, and
	// the (cached) dense search no longer returns the old chunks.
	changed := billing
	changed.Hash = "b2"
	add(t, ix, changed)
	assert.Equal(t, 0, countVectors(t, ix, billing.URL))
	hits, err = ix.Search(ctx, indexer.Query{Text: "zzzz", Vector: q, Limit: 10})
	require.NoError(t, err)
	for _, h := range hits {
		assert.NotEqual(t, billing.URL, h.PageURL, "only the privacy page has vectors now")
	}

	// Replaced again with vectors, then deleted.
	addEmbedded(t, ix, billing)
	assert.Equal(t, len(chunks), countVectors(t, ix, billing.URL))
	hits, err = ix.Search(ctx, indexer.Query{Vector: q, Limit: 10})
	require.NoError(t, err)
	assert.Contains(t, ids(hits), billing.URL+"#0")
	require.NoError(t, ix.DeletePage(ctx, billing.URL))
	assert.Equal(t, 0, countVectors(t, ix, billing.URL))
	var total int
	require.NoError(t, ix.r.QueryRow(`SELECT count(*) FROM vectors`).Scan(&total))
	assert.Equal(t, countVectors(t, ix, privacy.URL), total, "no orphan vectors")
	hits, err = ix.Search(ctx, indexer.Query{Vector: q, Limit: 10})
	require.NoError(t, err)
	assert.NotContains(t, ids(hits), billing.URL+"#0")
}

func TestHybridFindsAMatchThatSharesNoKeyword(t *testing.T) {
	ctx := context.Background()
	ix, _ := openTest(t)
	addEmbedded(t, ix, billing)
	addEmbedded(t, ix, privacy)
	addEmbedded(t, ix, refunds)

	const question = "How do I get a refund?"
	keyword, err := ix.Search(ctx, indexer.Query{Text: question, Limit: 5})
	require.NoError(t, err)
	for _, h := range keyword {
		assert.NotEqual(t, refunds.URL, h.PageURL, "no keyword in common")
	}

	hits, err := ix.Search(ctx, indexer.Query{Text: question, Vector: fakeEmbed(question), Limit: 5})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	assert.Equal(t, refunds.URL+"#0", hits[0].ID)
	assert.InDelta(t, 1.0/61, hits[0].Score, 1e-9, "RRF score of rank 1 in one list")

	// A chunk found by both searches adds up both reciprocal ranks, and the
	// scores come best first.
	const q2 = "cancel subscription"
	hits, err = ix.Search(ctx, indexer.Query{Text: q2, Vector: fakeEmbed(q2), Limit: 5})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	assert.Equal(t, billing.URL+"#0", hits[0].ID)
	assert.InDelta(t, 2.0/61, hits[0].Score, 1e-9)
	for i := 1; i < len(hits); i++ {
		assert.GreaterOrEqual(t, hits[i-1].Score, hits[i].Score)
	}
	assert.LessOrEqual(t, len(hits), 5)

	// Stop words only: the vector alone answers.
	hits, err = ix.Search(ctx, indexer.Query{Text: "how do I", Vector: fakeEmbed("refund"), Limit: 1})
	require.NoError(t, err)
	require.Len(t, hits, 1)
	assert.Equal(t, refunds.URL+"#0", hits[0].ID)
}

func TestSearchFilters(t *testing.T) {
	ctx := context.Background()
	ix, _ := openTest(t)
	addEmbedded(t, ix, billing)
	addEmbedded(t, ix, privacy)
	addEmbedded(t, ix, russian)
	de := billing
	de.URL, de.Lang, de.Hash = "https://shop.test/de/billing", "de", "d1"
	addEmbedded(t, ix, de)

	for _, hybrid := range []bool{false, true} {
		search := func(q indexer.Query) []indexer.Hit {
			t.Helper()
			if hybrid {
				q.Vector = fakeEmbed(q.Text)
			}
			q.Limit = 20
			hits, err := ix.Search(ctx, q)
			require.NoError(t, err)
			return hits
		}
		name := map[bool]string{false: "keyword", true: "hybrid"}[hybrid]

		all := search(indexer.Query{Text: "subscription cookies invoice"})
		pages := map[string]bool{}
		for _, h := range all {
			pages[h.PageURL] = true
		}
		assert.True(t, pages[billing.URL] && pages[de.URL] && pages[privacy.URL], name)

		hits := search(indexer.Query{Text: "subscription cookies invoice", Lang: "de"})
		require.NotEmpty(t, hits, name)
		for _, h := range hits {
			assert.Equal(t, "de", h.Lang, name)
		}
		hits = search(indexer.Query{Text: "subscription cookies invoice", URLPrefix: "https://shop.test/de/"})
		require.NotEmpty(t, hits, name)
		for _, h := range hits {
			assert.True(t, strings.HasPrefix(h.PageURL, "https://shop.test/de/"), name)
		}
		hits = search(indexer.Query{Text: "subscription cookies invoice", Lang: "en", URLPrefix: "https://shop.test/p"})
		require.NotEmpty(t, hits, name)
		for _, h := range hits {
			assert.Equal(t, privacy.URL, h.PageURL, name)
		}
		assert.Empty(t, search(indexer.Query{Text: "subscription", Lang: "fi"}), name)
		// A LIKE wildcard in the prefix is a plain character.
		assert.Empty(t, search(indexer.Query{Text: "subscription", URLPrefix: "https://shop.test/%"}), name)
	}
}

func TestHybridDimensionErrors(t *testing.T) {
	ctx := context.Background()
	ix, _ := openTest(t)
	addEmbedded(t, ix, billing)

	_, err := ix.Search(ctx, indexer.Query{Text: "invoice", Vector: []float32{1, 2, 3}})
	require.ErrorContains(t, err, "dimension 3")

	chunks := indexer.Split(privacy)
	for i := range chunks {
		chunks[i].Vector = []float32{1, 2, 3}
	}
	err = ix.ReplacePage(ctx, indexer.PageInfo{URL: privacy.URL, Hash: "p"}, chunks)
	require.ErrorContains(t, err, "dimension 3")
	_, ok, err := ix.Page(ctx, privacy.URL)
	require.NoError(t, err)
	assert.False(t, ok, "nothing written")
}

func TestHybridOnKeywordOnlyIndex(t *testing.T) {
	// No vectors at all: a query vector finds through BM25 alone.
	ctx := context.Background()
	ix, _ := openTest(t)
	add(t, ix, billing)
	hits, err := ix.Search(ctx, indexer.Query{Text: "invoice", Vector: fakeEmbed("invoice")})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	assert.Equal(t, billing.URL+"#1", hits[0].ID)
}

func TestMigratesVersion2(t *testing.T) {
	ctx := context.Background()
	ix, path := openTest(t)
	add(t, ix, billing)
	require.NoError(t, ix.Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	for _, stmt := range []string{`DROP TABLE vectors`, `UPDATE meta SET value = '2' WHERE key = 'schema_version'`} {
		_, err = db.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, db.Close())

	ix, err = Open(ctx, path)
	require.NoError(t, err)
	defer ix.Close()
	addEmbedded(t, ix, privacy)
	assert.Equal(t, 1, countVectors(t, ix, privacy.URL))
	hits, err := ix.Search(ctx, indexer.Query{Text: "invoice", Vector: fakeEmbed("invoice")})
	require.NoError(t, err)
	assert.NotEmpty(t, hits)
}
