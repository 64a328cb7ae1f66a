package embedded

import (
	"container/heap"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/sitebot/sitebot/indexer"
)

// Dense vectors live in the vectors table, one little-endian float32 blob of
// unit length per chunk that has one. Search loads them all into memory
// once (4·dim bytes per chunk, plus the chunk's language and page URL for
// the filters) and scans them by brute force; every ReplacePage or
// DeletePage drops the copy, and the next hybrid search loads it again.

// rrfK is the k of reciprocal rank fusion: score = Σ 1/(k + rank).
const rrfK = 60

// candidatesPerHit is how many candidates each of the two searches of a
// hybrid query contributes per hit asked for.
const candidatesPerHit = 4

// parallelScan is the number of vectors above which the dense scan is
// split across GOMAXPROCS goroutines.
const parallelScan = 16384

const vectorsTable = `CREATE TABLE IF NOT EXISTS vectors (
	n   INTEGER PRIMARY KEY REFERENCES chunks(n) ON DELETE CASCADE,
	vec BLOB NOT NULL
)`

// denseSet is the in-memory copy of the vectors table.
type denseSet struct {
	dim  int
	vecs []float32 // len(rows)·dim, row i at vecs[i·dim:]
	rows []denseRow
}

type denseRow struct {
	n       int64 // the chunk's rowid
	lang    string
	pageURL string
}

// denseCache holds the loaded denseSet. gen counts writes, so that a set
// loaded while a write committed is used once but not kept.
type denseCache struct {
	load sync.Mutex // one loader at a time
	mu   sync.Mutex
	set  *denseSet
	gen  uint64
}

// invalidate drops the loaded vectors; call it after every committed write
// of chunks.
func (c *denseCache) invalidate() {
	c.mu.Lock()
	c.set = nil
	c.gen++
	c.mu.Unlock()
}

func (c *denseCache) cached() (*denseSet, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.set, c.gen
}

// vectors returns the index's vectors, loading them when needed.
func (ix *Index) vectors(ctx context.Context) (*denseSet, error) {
	if set, _ := ix.dense.cached(); set != nil {
		return set, nil
	}
	ix.dense.load.Lock()
	defer ix.dense.load.Unlock()
	set, gen := ix.dense.cached()
	if set != nil {
		return set, nil
	}
	set, err := loadVectors(ctx, ix.r)
	if err != nil {
		return nil, err
	}
	ix.dense.mu.Lock()
	if ix.dense.gen == gen {
		ix.dense.set = set
	}
	ix.dense.mu.Unlock()
	return set, nil
}

func loadVectors(ctx context.Context, db *sql.DB) (*denseSet, error) {
	var count, size int
	if err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(max(length(vec)), 0) FROM vectors`).Scan(&count, &size); err != nil {
		return nil, fmt.Errorf("load vectors: %w", err)
	}
	set := &denseSet{dim: size / 4}
	if count == 0 {
		return set, nil
	}
	set.vecs = make([]float32, 0, count*set.dim)
	set.rows = make([]denseRow, 0, count)
	rows, err := db.QueryContext(ctx, `SELECT v.n, c.lang, c.page_url, v.vec FROM vectors AS v JOIN chunks AS c ON c.n = v.n ORDER BY v.n`)
	if err != nil {
		return nil, fmt.Errorf("load vectors: %w", err)
	}
	defer rows.Close()
	langs := map[string]string{} // a few distinct values: share them
	var (
		r    denseRow
		lang string
		blob sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&r.n, &lang, &r.pageURL, &blob); err != nil {
			return nil, fmt.Errorf("load vectors: %w", err)
		}
		if len(blob) != 4*set.dim {
			return nil, fmt.Errorf("load vectors: chunk %d has %d bytes of vector, others %d: the index mixes embedders", r.n, len(blob), 4*set.dim)
		}
		if l, ok := langs[lang]; ok {
			r.lang = l
		} else {
			langs[lang], r.lang = lang, lang
		}
		r.pageURL = strings.Clone(r.pageURL)
		for i := 0; i < len(blob); i += 4 {
			set.vecs = append(set.vecs, math.Float32frombits(binary.LittleEndian.Uint32(blob[i:])))
		}
		set.rows = append(set.rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load vectors: %w", err)
	}
	return set, nil
}

// encodeVector normalises v to unit length and encodes it as little-endian
// float32s. A zero vector stays zero (it matches nothing).
func encodeVector(v []float32) []byte {
	u := normalize(v)
	b := make([]byte, 4*len(u))
	for i, x := range u {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// normalize returns v scaled to unit length (a copy).
func normalize(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if sum == 0 {
		return out
	}
	inv := 1 / math.Sqrt(sum)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

// writeVectors stores the vectors of chunks (rowids ns) in tx; chunks
// without a vector get none. Every vector must have the dimension of those
// already in the index.
func writeVectors(ctx context.Context, tx *sql.Tx, chunks []indexer.Chunk, ns []int64) error {
	dim := 0
	for _, c := range chunks {
		if len(c.Vector) == 0 {
			continue
		}
		if dim == 0 {
			var size sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT length(vec) FROM vectors LIMIT 1`).Scan(&size); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			dim = int(size.Int64 / 4)
			if dim == 0 {
				dim = len(c.Vector)
			}
		}
		if len(c.Vector) != dim {
			return fmt.Errorf("chunk %s: vector of dimension %d, the index holds dimension %d", c.ID, len(c.Vector), dim)
		}
	}
	if dim == 0 {
		return nil
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO vectors (n, vec) VALUES (?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for i, c := range chunks {
		if len(c.Vector) == 0 {
			continue
		}
		if _, err := ins.ExecContext(ctx, ns[i], encodeVector(c.Vector)); err != nil {
			return fmt.Errorf("chunk %s: %w", c.ID, err)
		}
	}
	return nil
}

// scored is a candidate of one search: a chunk's rowid and its score.
type scored struct {
	n     int64
	score float32
}

// minHeap keeps the best k candidates, the worst on top.
type minHeap []scored

func (h minHeap) Len() int { return len(h) }
func (h minHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].n > h[j].n
}
func (h minHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)   { *h = append(*h, x.(scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// nearest returns the k rows most similar to q (cosine: q and the rows are
// of unit length, so the dot product) that pass the filters, best first.
func (s *denseSet) nearest(q []float32, k int, lang, urlPrefix string) []scored {
	if k <= 0 || len(s.rows) == 0 {
		return nil
	}
	parts := 1
	if len(s.rows) >= parallelScan {
		parts = runtime.GOMAXPROCS(0)
	}
	per := (len(s.rows) + parts - 1) / parts
	tops := make([]minHeap, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*per, min((p+1)*per, len(s.rows))
		wg.Go(func() { tops[p] = s.scan(q, k, lo, hi, lang, urlPrefix) })
	}
	wg.Wait()
	all := tops[0]
	for _, t := range tops[1:] {
		all = append(all, t...)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].score != all[j].score {
			return all[i].score > all[j].score
		}
		return all[i].n < all[j].n
	})
	return all[:min(k, len(all))]
}

func (s *denseSet) scan(q []float32, k, lo, hi int, lang, urlPrefix string) minHeap {
	h := make(minHeap, 0, k+1)
	dim := s.dim
	for i := lo; i < hi; i++ {
		r := &s.rows[i]
		if (lang != "" && r.lang != lang) || (urlPrefix != "" && !strings.HasPrefix(r.pageURL, urlPrefix)) {
			continue
		}
		d := dot(q, s.vecs[i*dim:(i+1)*dim])
		if len(h) < k {
			heap.Push(&h, scored{r.n, d})
		} else if d > h[0].score {
			h[0] = scored{r.n, d}
			heap.Fix(&h, 0)
		}
	}
	return h
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// hybridSearch runs the dense search of q.Vector and the keyword search of
// match ("" for none), limit·4 candidates each, and fuses them by
// reciprocal rank fusion.
func (ix *Index) hybridSearch(ctx context.Context, q indexer.Query, match string, limit int) ([]indexer.Hit, error) {
	set, err := ix.vectors(ctx)
	if err != nil {
		return nil, fmt.Errorf("embedded: search: %w", err)
	}
	if set.dim != 0 && len(q.Vector) != set.dim {
		return nil, fmt.Errorf("embedded: search: the query vector has dimension %d, the index's vectors %d: embed questions with the model that built the index", len(q.Vector), set.dim)
	}
	n := limit * candidatesPerHit
	dense := set.nearest(normalize(q.Vector), n, q.Lang, q.URLPrefix)
	var keyword []indexer.Hit
	if match != "" {
		if keyword, err = ix.keywordSearch(ctx, q, match, n); err != nil {
			return nil, err
		}
	}

	fused := map[string]*indexer.Hit{} // by chunk ID
	for rank, h := range keyword {
		h.Score = 1 / float64(rrfK+rank+1)
		fused[h.ID] = &h
	}
	chunks, err := ix.chunksByRowid(ctx, dense)
	if err != nil {
		return nil, fmt.Errorf("embedded: search: %w", err)
	}
	for rank, d := range dense {
		c, ok := chunks[d.n]
		if !ok {
			continue // deleted since the vectors were loaded
		}
		s := 1 / float64(rrfK+rank+1)
		if h, ok := fused[c.ID]; ok {
			h.Score += s
		} else {
			fused[c.ID] = &indexer.Hit{Chunk: c, Score: s}
		}
	}
	hits := make([]indexer.Hit, 0, len(fused))
	for _, h := range fused {
		hits = append(hits, *h)
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].ID < hits[j].ID
	})
	return hits[:min(limit, len(hits))], nil
}

// chunksByRowid reads the chunks of the candidates.
func (ix *Index) chunksByRowid(ctx context.Context, cands []scored) (map[int64]indexer.Chunk, error) {
	out := make(map[int64]indexer.Chunk, len(cands))
	if len(cands) == 0 {
		return out, nil
	}
	args := make([]any, len(cands))
	for i, c := range cands {
		args[i] = c.n
	}
	rows, err := ix.r.QueryContext(ctx,
		`SELECT n, id, page_url, url, title, heading, text, lang, ord, faq FROM chunks WHERE n IN (?`+strings.Repeat(", ?", len(cands)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var n int64
		var c indexer.Chunk
		if err := rows.Scan(&n, &c.ID, &c.PageURL, &c.URL, &c.Title, &c.Heading, &c.Text, &c.Lang, &c.Ord, &c.FAQ); err != nil {
			return nil, err
		}
		out[n] = c
	}
	return out, rows.Err()
}
