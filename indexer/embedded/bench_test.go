package embedded

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
)

// vocabulary for synthetic chunks: a few thousand distinct words with a
// skewed (Zipf-like) frequency, roughly like help-center prose.
func synthWords(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		w := int(float64(3000) * r.Float64() * r.Float64() * r.Float64())
		fmt.Fprintf(&b, "w%dx", w)
		if i%15 == 14 {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// synthPages builds pages of chunksPerPage chunks of about 150 words.
func synthPages(pages, chunksPerPage int) ([]indexer.PageInfo, [][]indexer.Chunk) {
	r := rand.New(rand.NewPCG(1, 2))
	infos := make([]indexer.PageInfo, pages)
	chunks := make([][]indexer.Chunk, pages)
	for p := range pages {
		u := fmt.Sprintf("https://bench.test/docs/page-%d", p)
		infos[p] = indexer.PageInfo{URL: u, Title: synthWords(r, 4), Lang: "en", Hash: fmt.Sprint(p), Chunks: chunksPerPage}
		for c := range chunksPerPage {
			chunks[p] = append(chunks[p], indexer.Chunk{
				ID: fmt.Sprintf("%s#%d", u, c), PageURL: u, URL: fmt.Sprintf("%s#s%d", u, c),
				Title: infos[p].Title, Heading: synthWords(r, 5), Text: synthWords(r, 150), Lang: "en", Ord: c,
			})
		}
	}
	return infos, chunks
}

// BenchmarkIndex measures writing chunks (analysis + SQLite + FTS5, no
// embeddings), one page of 10 chunks per ReplacePage.
func BenchmarkIndex(b *testing.B) {
	ctx := context.Background()
	infos, chunks := synthPages(100, 10)
	ix, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	require.NoError(b, err)
	defer ix.Close()
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		p := i % len(infos)
		require.NoError(b, ix.ReplacePage(ctx, infos[p], chunks[p]))
		n += len(chunks[p])
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "chunks/s")
}

// BenchmarkSearch measures a three-word query against 10,000 chunks.
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	infos, chunks := synthPages(1000, 10)
	ix, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	require.NoError(b, err)
	defer ix.Close()
	for p := range infos {
		require.NoError(b, ix.ReplacePage(ctx, infos[p], chunks[p]))
	}
	r := rand.New(rand.NewPCG(3, 4))
	queries := make([]string, 100)
	for i := range queries {
		queries[i] = "how do I " + synthWords(r, 3)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		hits, err := ix.Search(ctx, indexer.Query{Text: queries[i%len(queries)], Limit: 20})
		if err != nil || len(hits) == 0 {
			b.Fatalf("search: %d hits, %v", len(hits), err)
		}
	}
}
