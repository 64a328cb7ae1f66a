package embedded

import (
	"context"
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/philippgille/chromem-go"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/internal/testenv"
)

// benchDim is the vector dimension of the benchmarks (that of small
// sentence-embedding models such as all-MiniLM).
const benchDim = 384

var (
	reTags   = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]*>`)
	reSpaces = regexp.MustCompile(`\s+`)
)

// fixtureSentences strips the tags of the plausible docs fixture and
// splits its text into sentences of 5 words or more.
func fixtureSentences(b *testing.B) []string {
	dir := testenv.Shared(b, "fixtures/sites/plausible/docs")
	files, err := filepath.Glob(filepath.Join(dir, "*.html"))
	require.NoError(b, err)
	var out []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(b, err)
		text := reSpaces.ReplaceAllString(html.UnescapeString(reTags.ReplaceAllString(string(raw), " ")), " ")
		for s := range strings.SplitSeq(text, ". ") {
			if len(strings.Fields(s)) >= 5 {
				out = append(out, strings.TrimSpace(s)+".")
			}
		}
	}
	require.NotEmpty(b, out)
	return out
}

// benchCorpus generates pages of 10 chunks of about 6 fixture sentences,
// each chunk with a random unit vector, deterministically: page p is the
// same whenever it is generated, so that the corpus need not be held.
type benchCorpus struct {
	sentences []string
}

func (c *benchCorpus) page(p int) (indexer.PageInfo, []indexer.Chunk) {
	r := rand.New(rand.NewPCG(uint64(p), 7))
	u := fmt.Sprintf("https://bench.test/docs/page-%d", p)
	title := c.sentences[r.IntN(len(c.sentences))]
	title = strings.Join(strings.Fields(title)[:4], " ")
	info := indexer.PageInfo{URL: u, Title: title, Lang: "en", Hash: fmt.Sprint(p), Chunks: 10}
	chunks := make([]indexer.Chunk, 10)
	for i := range chunks {
		var text strings.Builder
		for range 6 {
			text.WriteString(c.sentences[r.IntN(len(c.sentences))])
			text.WriteByte(' ')
		}
		chunks[i] = indexer.Chunk{
			ID: fmt.Sprintf("%s#%d", u, i), PageURL: u, URL: fmt.Sprintf("%s#s%d", u, i),
			Title: title, Heading: c.sentences[r.IntN(len(c.sentences))], Text: text.String(), Lang: "en", Ord: i,
			Vector: randomUnit(r),
		}
	}
	return info, chunks
}

func randomUnit(r *rand.Rand) []float32 {
	v := make([]float32, benchDim)
	var sum float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		sum += x * x
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
	return v
}

func heapInUseMiB() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

// latencies records one duration per query and reports p50 and p99,
// running more queries after the timed loop when it had too few for a p99.
type latencies []time.Duration

func (l *latencies) report(b *testing.B, more func()) {
	b.StopTimer()
	for len(*l) < 200 {
		more()
	}
	s := slices.Clone(*l)
	slices.Sort(s)
	pct := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(p*float64(len(s))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkSearchScale compares, at 1k, 10k and 100k chunks of 384-dim
// vectors, the embedded index's keyword, hybrid (BM25 + dense, RRF) and
// dense-only search with chromem-go's dense search of the same vectors,
// 10 hits per query. build reports the indexing throughput (chunks,
// FTS5 and vector blobs written by ReplacePage; no embedding model) and
// the heap in use once the index is built and its vectors loaded; the
// chromem sub-benchmark reports the heap its collection takes.
//
//	go test -run XXX -bench SearchScale -benchtime 300x ./indexer/embedded/
func BenchmarkSearchScale(b *testing.B) {
	corpus := &benchCorpus{sentences: fixtureSentences(b)}
	ctx := context.Background()
	const limit = 10
	for _, size := range []int{1_000, 10_000, 100_000} {
		pages := size / 10
		var ix *Index
		var built time.Duration
		var heapBase, heapBuilt float64
		// Query texts are 3 to 6 words of a fixture sentence; query vectors random.
		r := rand.New(rand.NewPCG(11, 12))
		texts := make([]string, 256)
		vectors := make([][]float32, len(texts))
		for i := range texts {
			w := strings.Fields(corpus.sentences[r.IntN(len(corpus.sentences))])
			texts[i] = strings.Join(w[:min(len(w), 3+r.IntN(4))], " ")
			vectors[i] = randomUnit(r)
		}

		b.Run(fmt.Sprintf("%dk/build", size/1000), func(b *testing.B) {
			if ix == nil {
				heapBase = heapInUseMiB()
				var err error
				ix, err = Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
				require.NoError(b, err)
				start := time.Now()
				for p := range pages {
					info, chunks := corpus.page(p)
					require.NoError(b, ix.ReplacePage(ctx, info, chunks))
				}
				built = time.Since(start)
				_, err = ix.Search(ctx, indexer.Query{Vector: vectors[0], Limit: limit}) // loads the vectors
				require.NoError(b, err)
				heapBuilt = heapInUseMiB()
			}
			for b.Loop() {
			}
			b.ReportMetric(float64(size)/built.Seconds(), "chunks/s")
			b.ReportMetric(heapBuilt-heapBase, "heap-MiB")
		})
		if ix == nil {
			continue // build was filtered out
		}
		modes := []struct {
			name  string
			query func(i int) indexer.Query
		}{
			{"keyword", func(i int) indexer.Query { return indexer.Query{Text: texts[i], Limit: limit} }},
			{"hybrid", func(i int) indexer.Query { return indexer.Query{Text: texts[i], Vector: vectors[i], Limit: limit} }},
			{"dense", func(i int) indexer.Query { return indexer.Query{Vector: vectors[i], Limit: limit} }},
		}
		for _, m := range modes {
			b.Run(fmt.Sprintf("%dk/%s", size/1000, m.name), func(b *testing.B) {
				var lat latencies
				i := 0
				one := func() {
					q := m.query(i % len(texts))
					i++
					start := time.Now()
					hits, err := ix.Search(ctx, q)
					lat = append(lat, time.Since(start))
					if err != nil || (m.name != "keyword" && len(hits) == 0) {
						b.Fatalf("search: %d hits, %v", len(hits), err)
					}
				}
				for b.Loop() {
					one()
				}
				lat.report(b, one)
			})
		}

		b.Run(fmt.Sprintf("%dk/chromem-dense", size/1000), func(b *testing.B) {
			base := heapInUseMiB()
			db := chromem.NewDB()
			// Vectors are precomputed: the embedding func is never needed
			// for documents, and returns the query's own vector otherwise.
			col, err := db.CreateCollection("bench", nil, func(context.Context, string) ([]float32, error) {
				return nil, fmt.Errorf("no embedding in the benchmark")
			})
			require.NoError(b, err)
			const batch = 1000
			docs := make([]chromem.Document, 0, batch)
			for p := range pages {
				_, chunks := corpus.page(p)
				for _, c := range chunks {
					docs = append(docs, chromem.Document{ID: c.ID, Content: c.Text, Embedding: c.Vector,
						Metadata: map[string]string{"url": c.URL, "lang": c.Lang}})
				}
				if len(docs) >= batch || p == pages-1 {
					require.NoError(b, col.AddDocuments(ctx, docs, runtime.GOMAXPROCS(0)))
					docs = docs[:0]
				}
			}
			heap := heapInUseMiB() - base
			var lat latencies
			i := 0
			one := func() {
				v := vectors[i%len(vectors)]
				i++
				start := time.Now()
				res, err := col.QueryEmbedding(ctx, v, limit, nil, nil)
				lat = append(lat, time.Since(start))
				if err != nil || len(res) != limit {
					b.Fatalf("chromem: %d results, %v", len(res), err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				one()
			}
			lat.report(b, one)
			b.ReportMetric(heap, "heap-MiB")
			runtime.KeepAlive(db)
		})
		require.NoError(b, ix.Close())
		ix = nil
	}
}
