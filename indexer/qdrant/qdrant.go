// Package qdrant is the index backend for deployments that outgrow one
// machine: pages, chunks and index facts live in one Qdrant collection,
// reached over gRPC (port 6334) with github.com/qdrant/go-client.
//
// Layout of the collection (Config.Collection, "sitebot" by default):
//
//   - chunk points (payload kind "chunk"): the chunk's fields, a named
//     sparse vector "bm25" and, when the index has an embedder, a named
//     dense vector "dense" (cosine, Config.Dim);
//   - page points (kind "page"): what indexer.PageInfo holds, no vectors;
//   - meta points (kind "meta"): SetMeta's keys and values, no vectors.
//
// Point ids are UUIDs derived from the chunk ID, page URL or meta key
// (SHA-1, as UUIDv5), so rewriting a thing overwrites its point.
//
// Keyword scoring: the sparse vector holds, for each term of the chunk
// (indexer.AnalyzeChunk: title, heading and text terms weighted 2, 3 and 1,
// as in the embedded index), BM25's saturated term frequency
// tf·(k1+1) / (tf + k1·(1 − b + b·len/avgLen)) with k1 = 1.2, b = 0.75 and
// a fixed avgLen (the collection's real average is not known client side).
// The collection's IDF modifier makes Qdrant multiply each query term by
// its idf over the collection, so the dot product Qdrant computes is BM25.
// Term ids are indexer.TermID hashes.
//
// Qdrant has no transactions: ReplacePage deletes the page record first,
// then the old chunks, writes the new chunks and writes the page record
// last, so an interrupted write leaves the page absent (and re-indexed by
// the next crawl), never recorded with missing chunks. A concurrent reader
// may see the page without chunks for a moment.
package qdrant

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	qd "github.com/qdrant/go-client/qdrant"

	"github.com/sitebot/sitebot/indexer"
)

// DefaultCollection is the collection Open uses when Config names none.
const DefaultCollection = "sitebot"

// DefaultLimit is how many hits Search returns when the query sets no limit.
const DefaultLimit = 10

// Vector names in the collection.
const (
	denseName  = "dense"
	sparseName = "bm25"
)

// batchSize is how many chunk points one upsert carries.
const batchSize = 256

// BM25 parameters of the client-side term weights.
const (
	bm25K1     = 1.2
	bm25B      = 0.75
	bm25AvgLen = 100.0 // terms in a typical chunk (about TargetChunkChars)
)

// Field weights of a chunk's terms, as in the embedded index.
const (
	weightTitle   = 2
	weightHeading = 3
	weightText    = 1
)

// Payload kinds.
const (
	kindChunk = "chunk"
	kindPage  = "page"
	kindMeta  = "meta"
)

// Config says where the index lives.
type Config struct {
	// Addr is the host:port of Qdrant's gRPC API (usually port 6334).
	Addr string
	// APIKey authenticates to Qdrant; "" for none.
	APIKey string
	// TLS connects over TLS (Qdrant Cloud, a TLS-terminating proxy).
	TLS bool
	// Collection holds the index; DefaultCollection when "".
	Collection string
	// Dim is the dimension of the chunks' dense vectors (the embedder's);
	// 0 for a keyword-only index.
	Dim int
	// AnyDim opens an existing collection with whatever dense vectors it
	// has (Dim is ignored), for commands that read the embedder from the
	// index; a missing collection is created keyword-only.
	AnyDim bool
}

// Index is a sitebot index in a Qdrant collection. It is safe for
// concurrent use.
type Index struct {
	client *qd.Client
	col    string
	dim    int
	anyDim bool
	addr   string
}

var _ indexer.Store = (*Index)(nil)

// Open connects to Qdrant and opens the collection, creating it (with its
// vectors and payload indexes) when it does not exist. An existing
// collection must have the vectors cfg asks for: another dimension, or
// dense vectors where cfg has none (or none where it has), is an error.
func Open(ctx context.Context, cfg Config) (*Index, error) {
	if cfg.Collection == "" {
		cfg.Collection = DefaultCollection
	}
	if cfg.Dim < 0 {
		return nil, fmt.Errorf("qdrant: open: negative vector dimension %d", cfg.Dim)
	}
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("qdrant: open: address %q: want host:port (gRPC, usually 6334): %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("qdrant: open: address %q: bad port", cfg.Addr)
	}
	client, err := qd.NewClient(&qd.Config{
		Host: host, Port: port, APIKey: cfg.APIKey, UseTLS: cfg.TLS,
		SkipCompatibilityCheck: true, // checked below, with the caller's context
		PoolSize:               1,
	})
	if err != nil {
		return nil, fmt.Errorf("qdrant: open %s: %w", cfg.Addr, err)
	}
	ix := &Index{client: client, col: cfg.Collection, dim: cfg.Dim, anyDim: cfg.AnyDim, addr: cfg.Addr}
	if cfg.AnyDim {
		ix.dim = 0
	}
	if err := ix.init(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("qdrant: open %s collection %s: %w", cfg.Addr, cfg.Collection, err)
	}
	return ix, nil
}

func (ix *Index) init(ctx context.Context) error {
	if _, err := ix.client.HealthCheck(ctx); err != nil {
		return fmt.Errorf("qdrant unreachable: %w", err)
	}
	exists, err := ix.client.CollectionExists(ctx, ix.col)
	if err != nil {
		return err
	}
	if !exists {
		if err := ix.create(ctx); err != nil {
			// Another process may have created it meanwhile.
			if ok, _ := ix.client.CollectionExists(ctx, ix.col); !ok {
				return fmt.Errorf("create: %w", err)
			}
		} else {
			return nil
		}
	}
	return ix.check(ctx)
}

func (ix *Index) create(ctx context.Context) error {
	dense := map[string]*qd.VectorParams{}
	if ix.dim > 0 {
		dense[denseName] = &qd.VectorParams{Size: uint64(ix.dim), Distance: qd.Distance_Cosine}
	}
	err := ix.client.CreateCollection(ctx, &qd.CreateCollection{
		CollectionName: ix.col,
		VectorsConfig:  qd.NewVectorsConfigMap(dense),
		SparseVectorsConfig: qd.NewSparseVectorsConfig(map[string]*qd.SparseVectorParams{
			sparseName: {Modifier: qd.Modifier_Idf.Enum()},
		}),
	})
	if err != nil {
		return err
	}
	for _, f := range []string{"kind", "page_url", "lang", "url_prefixes"} {
		_, err := ix.client.CreateFieldIndex(ctx, &qd.CreateFieldIndexCollection{
			CollectionName: ix.col, Wait: qd.PtrOf(true),
			FieldName: f, FieldType: qd.FieldType_FieldTypeKeyword.Enum(),
		})
		if err != nil {
			return fmt.Errorf("payload index %s: %w", f, err)
		}
	}
	return nil
}

// check verifies that an existing collection has the vectors the index needs.
func (ix *Index) check(ctx context.Context) error {
	info, err := ix.client.GetCollectionInfo(ctx, ix.col)
	if err != nil {
		return err
	}
	params := info.GetConfig().GetParams()
	if params.GetVectorsConfig().GetParams() != nil {
		return errors.New("the collection has an unnamed vector: it is not a sitebot index; choose another collection")
	}
	sp := params.GetSparseVectorsConfig().GetMap()[sparseName]
	if sp == nil || sp.GetModifier() != qd.Modifier_Idf {
		return fmt.Errorf("the collection has no sparse vector %q with the IDF modifier: it is not a sitebot index; choose another collection", sparseName)
	}
	dense := params.GetVectorsConfig().GetParamsMap().GetMap()[denseName]
	if ix.anyDim && dense != nil {
		ix.dim = int(dense.GetSize())
	}
	switch {
	case dense == nil && ix.dim > 0:
		return fmt.Errorf("the index was built without embeddings, but the embedder gives %d-dimensional vectors: re-crawl into another collection, or drop this one", ix.dim)
	case dense != nil && ix.dim == 0:
		return fmt.Errorf("the index was built with %d-dimensional embeddings, but no embedder is configured: use the embedder that built it (--embed-model)", dense.GetSize())
	case dense != nil && int(dense.GetSize()) != ix.dim:
		return fmt.Errorf("the index was built with %d-dimensional embeddings, but the embedder gives %d: use the embedder that built it, or re-crawl into another collection", dense.GetSize(), ix.dim)
	case dense != nil && dense.GetDistance() != qd.Distance_Cosine:
		return fmt.Errorf("the collection's dense vector uses %s distance, not Cosine: it is not a sitebot index", dense.GetDistance())
	}
	return nil
}

// Close closes the connection to Qdrant; the data stays in Qdrant.
func (ix *Index) Close() error {
	if err := ix.client.Close(); err != nil {
		return fmt.Errorf("qdrant: close: %w", err)
	}
	return nil
}

// Hybrid reports whether the index stores dense vectors (Config.Dim > 0).
func (ix *Index) Hybrid() bool { return ix.dim > 0 }

// Collection is the name of the index's collection.
func (ix *Index) Collection() string { return ix.col }

// pointID derives a point's UUID from what it stands for (SHA-1 based, in
// the layout of a version 5 UUID).
func pointID(kind, key string) *qd.PointId {
	sum := sha1.Sum([]byte("sitebot\x00" + kind + "\x00" + key))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return qd.NewIDUUID(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32])
}

func kindIs(kind string) *qd.Condition { return qd.NewMatchKeyword("kind", kind) }

func chunksOf(url string) *qd.Filter {
	return &qd.Filter{Must: []*qd.Condition{kindIs(kindChunk), qd.NewMatchKeyword("page_url", url)}}
}

// Page returns what the index records of the page at url.
func (ix *Index) Page(ctx context.Context, url string) (indexer.PageInfo, bool, error) {
	pts, err := ix.client.Get(ctx, &qd.GetPoints{
		CollectionName: ix.col,
		Ids:            []*qd.PointId{pointID(kindPage, url)},
		WithPayload:    qd.NewWithPayload(true),
	})
	if err != nil {
		return indexer.PageInfo{}, false, fmt.Errorf("qdrant: page %s: %w", url, err)
	}
	if len(pts) == 0 {
		return indexer.PageInfo{}, false, nil
	}
	return pageFromPayload(pts[0].GetPayload()), true, nil
}

func pagePayload(p indexer.PageInfo) map[string]*qd.Value {
	links := make([]*qd.Value, len(p.Links))
	for i, l := range p.Links {
		links[i] = qd.NewValueString(l)
	}
	at := p.IndexedAt
	if at.IsZero() {
		at = time.Now()
	}
	return map[string]*qd.Value{
		"kind":          qd.NewValueString(kindPage),
		"url":           qd.NewValueString(p.URL),
		"title":         qd.NewValueString(p.Title),
		"lang":          qd.NewValueString(p.Lang),
		"hash":          qd.NewValueString(p.Hash),
		"chunks":        qd.NewValueInt(int64(p.Chunks)),
		"faqs":          qd.NewValueInt(int64(p.FAQs)),
		"indexed_at":    qd.NewValueString(at.UTC().Format(time.RFC3339Nano)),
		"etag":          qd.NewValueString(p.ETag),
		"last_modified": qd.NewValueString(p.LastModified),
		"links":         qd.NewValueFromList(links...),
	}
}

func pageFromPayload(m map[string]*qd.Value) indexer.PageInfo {
	p := indexer.PageInfo{
		URL:          m["url"].GetStringValue(),
		Title:        m["title"].GetStringValue(),
		Lang:         m["lang"].GetStringValue(),
		Hash:         m["hash"].GetStringValue(),
		Chunks:       int(m["chunks"].GetIntegerValue()),
		FAQs:         int(m["faqs"].GetIntegerValue()),
		ETag:         m["etag"].GetStringValue(),
		LastModified: m["last_modified"].GetStringValue(),
	}
	p.IndexedAt, _ = time.Parse(time.RFC3339Nano, m["indexed_at"].GetStringValue())
	for _, v := range m["links"].GetListValue().GetValues() {
		p.Links = append(p.Links, v.GetStringValue())
	}
	return p
}

func (ix *Index) upsert(ctx context.Context, pts []*qd.PointStruct) error {
	_, err := ix.client.Upsert(ctx, &qd.UpsertPoints{CollectionName: ix.col, Wait: qd.PtrOf(true), Points: pts})
	return err
}

func (ix *Index) delete(ctx context.Context, sel *qd.PointsSelector) error {
	_, err := ix.client.Delete(ctx, &qd.DeletePoints{CollectionName: ix.col, Wait: qd.PtrOf(true), Points: sel})
	return err
}

func pagePoint(p indexer.PageInfo) *qd.PointStruct {
	return &qd.PointStruct{
		Id:      pointID(kindPage, p.URL),
		Payload: pagePayload(p),
		Vectors: qd.NewVectorsMap(map[string]*qd.Vector{}),
	}
}

// ReplacePage writes page and its chunks, deleting the page's previous
// chunks (see the package comment for the order of the writes). Chunks are
// stored under page.URL whatever their PageURL says. A chunk's Vector must
// have the index's dimension (none for a keyword-only index).
func (ix *Index) ReplacePage(ctx context.Context, page indexer.PageInfo, chunks []indexer.Chunk) error {
	if page.URL == "" {
		return errors.New("qdrant: replace page: empty URL")
	}
	pts := make([]*qd.PointStruct, len(chunks))
	for i, c := range chunks {
		if len(c.Vector) != ix.dim {
			if ix.dim == 0 {
				return fmt.Errorf("qdrant: replace page %s: chunk %s has a %d-dimensional vector, but the index was opened without embeddings", page.URL, c.ID, len(c.Vector))
			}
			return fmt.Errorf("qdrant: replace page %s: chunk %s has a %d-dimensional vector, want %d", page.URL, c.ID, len(c.Vector), ix.dim)
		}
		pts[i] = chunkPoint(page.URL, c)
	}
	page.Chunks = len(chunks)
	err := ix.delete(ctx, qd.NewPointsSelector(pointID(kindPage, page.URL)))
	if err == nil {
		err = ix.delete(ctx, qd.NewPointsSelectorFilter(chunksOf(page.URL)))
	}
	for start := 0; err == nil && start < len(pts); start += batchSize {
		err = ix.upsert(ctx, pts[start:min(start+batchSize, len(pts))])
	}
	if err == nil {
		err = ix.upsert(ctx, []*qd.PointStruct{pagePoint(page)})
	}
	if err != nil {
		return fmt.Errorf("qdrant: replace page %s: %w", page.URL, err)
	}
	return nil
}

func chunkPoint(pageURL string, c indexer.Chunk) *qd.PointStruct {
	prefixes := urlPrefixes(c.URL)
	pv := make([]*qd.Value, len(prefixes))
	for i, p := range prefixes {
		pv[i] = qd.NewValueString(p)
	}
	idx, vals := docVector(c)
	vectors := map[string]*qd.Vector{sparseName: qd.NewVectorSparse(idx, vals)}
	if len(c.Vector) > 0 {
		vectors[denseName] = qd.NewVectorDense(c.Vector)
	}
	return &qd.PointStruct{
		Id: pointID(kindChunk, c.ID),
		Payload: map[string]*qd.Value{
			"kind":         qd.NewValueString(kindChunk),
			"id":           qd.NewValueString(c.ID),
			"page_url":     qd.NewValueString(pageURL),
			"url":          qd.NewValueString(c.URL),
			"url_prefixes": qd.NewValueFromList(pv...),
			"title":        qd.NewValueString(c.Title),
			"heading":      qd.NewValueString(c.Heading),
			"text":         qd.NewValueString(c.Text),
			"lang":         qd.NewValueString(c.Lang),
			"ord":          qd.NewValueInt(int64(c.Ord)),
			"faq":          qd.NewValueBool(c.FAQ),
		},
		Vectors: qd.NewVectorsMap(vectors),
	}
}

func chunkFromPayload(m map[string]*qd.Value) indexer.Chunk {
	return indexer.Chunk{
		ID:      m["id"].GetStringValue(),
		PageURL: m["page_url"].GetStringValue(),
		URL:     m["url"].GetStringValue(),
		Title:   m["title"].GetStringValue(),
		Heading: m["heading"].GetStringValue(),
		Text:    m["text"].GetStringValue(),
		Lang:    m["lang"].GetStringValue(),
		Ord:     int(m["ord"].GetIntegerValue()),
		FAQ:     m["faq"].GetBoolValue(),
	}
}

// urlPrefixes lists the prefixes of u that a URLPrefix filter matches with
// a keyword condition: u cut after each "/" of its path (from the one after
// the host on), before its "?" and "#", and u itself. A filter prefix that
// ends elsewhere is matched by its longest such prefix, then checked in Go.
func urlPrefixes(u string) []string {
	start := 0
	if i := strings.Index(u, "://"); i >= 0 {
		start = i + 3
	}
	var out []string
	for i := start; i < len(u); i++ {
		switch u[i] {
		case '/':
			out = append(out, u[:i+1])
		case '?', '#':
			out = append(out, u[:i])
		}
	}
	if len(out) == 0 || out[len(out)-1] != u {
		out = append(out, u)
	}
	return slices.Compact(out)
}

// boundaryPrefix returns the longest prefix of p ending in "/" that
// urlPrefixes lists for every URL starting with p ("" when there is none),
// and whether it is p itself (no check in Go needed).
func boundaryPrefix(p string) (string, bool) {
	for _, q := range slices.Backward(urlPrefixes(p)) {
		if strings.HasSuffix(q, "/") {
			return q, q == p
		}
	}
	return "", false
}

// UpdatePage rewrites the crawl metadata of an indexed page (validators,
// links, time) and leaves its chunks alone. A page not in the index is no
// error, and is not created.
func (ix *Index) UpdatePage(ctx context.Context, page indexer.PageInfo) error {
	old, ok, err := ix.Page(ctx, page.URL)
	if err != nil || !ok {
		return err
	}
	old.ETag, old.LastModified, old.Links, old.IndexedAt = page.ETag, page.LastModified, page.Links, page.IndexedAt
	if err := ix.upsert(ctx, []*qd.PointStruct{pagePoint(old)}); err != nil {
		return fmt.Errorf("qdrant: update page %s: %w", page.URL, err)
	}
	return nil
}

// DeletePage removes a page and its chunks (the page record first).
func (ix *Index) DeletePage(ctx context.Context, url string) error {
	err := ix.delete(ctx, qd.NewPointsSelector(pointID(kindPage, url)))
	if err == nil {
		err = ix.delete(ctx, qd.NewPointsSelectorFilter(chunksOf(url)))
	}
	if err != nil {
		return fmt.Errorf("qdrant: delete page %s: %w", url, err)
	}
	return nil
}

// scrollPages calls fn with the payload of every page point.
func (ix *Index) scrollPages(ctx context.Context, with *qd.WithPayloadSelector, fn func(map[string]*qd.Value)) error {
	var offset *qd.PointId
	for {
		pts, next, err := ix.client.ScrollAndOffset(ctx, &qd.ScrollPoints{
			CollectionName: ix.col,
			Filter:         &qd.Filter{Must: []*qd.Condition{kindIs(kindPage)}},
			Offset:         offset,
			Limit:          qd.PtrOf(uint32(1000)),
			WithPayload:    with,
		})
		if err != nil {
			return err
		}
		for _, p := range pts {
			fn(p.GetPayload())
		}
		if next == nil || len(pts) == 0 {
			return nil
		}
		offset = next
	}
}

// PageURLs lists the URLs of the pages in the index, sorted.
func (ix *Index) PageURLs(ctx context.Context) ([]string, error) {
	var urls []string
	err := ix.scrollPages(ctx, qd.NewWithPayloadInclude("url"), func(m map[string]*qd.Value) {
		urls = append(urls, m["url"].GetStringValue())
	})
	if err != nil {
		return nil, fmt.Errorf("qdrant: page urls: %w", err)
	}
	slices.Sort(urls)
	return urls, nil
}

// Pages describes the pages in the index, sorted by URL.
func (ix *Index) Pages(ctx context.Context) ([]indexer.PageInfo, error) {
	var pages []indexer.PageInfo
	err := ix.scrollPages(ctx, qd.NewWithPayload(true), func(m map[string]*qd.Value) {
		pages = append(pages, pageFromPayload(m))
	})
	if err != nil {
		return nil, fmt.Errorf("qdrant: pages: %w", err)
	}
	slices.SortFunc(pages, func(a, b indexer.PageInfo) int { return strings.Compare(a.URL, b.URL) })
	return pages, nil
}

// Counts returns how many pages and chunks the index holds.
func (ix *Index) Counts(ctx context.Context) (pages, chunks int, err error) {
	count := func(kind string) (int, error) {
		n, err := ix.client.Count(ctx, &qd.CountPoints{
			CollectionName: ix.col,
			Filter:         &qd.Filter{Must: []*qd.Condition{kindIs(kind)}},
			Exact:          qd.PtrOf(true),
		})
		return int(n), err
	}
	if pages, err = count(kindPage); err == nil {
		chunks, err = count(kindChunk)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("qdrant: counts: %w", err)
	}
	return pages, chunks, nil
}

// SetMeta records a value under key (e.g. which embedder built the index).
func (ix *Index) SetMeta(ctx context.Context, key, value string) error {
	err := ix.upsert(ctx, []*qd.PointStruct{{
		Id: pointID(kindMeta, key),
		Payload: map[string]*qd.Value{
			"kind":  qd.NewValueString(kindMeta),
			"key":   qd.NewValueString(key),
			"value": qd.NewValueString(value),
		},
		Vectors: qd.NewVectorsMap(map[string]*qd.Vector{}),
	}})
	if err != nil {
		return fmt.Errorf("qdrant: set meta %s: %w", key, err)
	}
	return nil
}

// Meta returns the value recorded under key; ok is false when there is none.
func (ix *Index) Meta(ctx context.Context, key string) (string, bool, error) {
	pts, err := ix.client.Get(ctx, &qd.GetPoints{
		CollectionName: ix.col,
		Ids:            []*qd.PointId{pointID(kindMeta, key)},
		WithPayload:    qd.NewWithPayload(true),
	})
	if err != nil {
		return "", false, fmt.Errorf("qdrant: meta %s: %w", key, err)
	}
	if len(pts) == 0 {
		return "", false, nil
	}
	return pts[0].GetPayload()["value"].GetStringValue(), true, nil
}

// Search returns the chunks that best match q, best first, with Qdrant's
// scores. Without q.Vector it is a keyword (sparse BM25) search; with it,
// a hybrid one: a sparse and a dense prefetch fused by Qdrant's reciprocal
// rank fusion. q.Lang and q.URLPrefix filter both sides.
func (ix *Index) Search(ctx context.Context, q indexer.Query) ([]indexer.Hit, error) {
	if len(q.Vector) > 0 && len(q.Vector) != ix.dim {
		if ix.dim == 0 {
			return nil, errors.New("qdrant: search: the query has a vector, but the index holds no embeddings")
		}
		return nil, fmt.Errorf("qdrant: search: the query vector has %d dimensions, the index %d", len(q.Vector), ix.dim)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	filter := &qd.Filter{Must: []*qd.Condition{kindIs(kindChunk)}}
	if q.Lang != "" {
		filter.Must = append(filter.Must, qd.NewMatchKeyword("lang", q.Lang))
	}
	fetch := limit
	exact := true
	if q.URLPrefix != "" {
		var p string
		p, exact = boundaryPrefix(q.URLPrefix)
		if p != "" {
			filter.Must = append(filter.Must, qd.NewMatchKeyword("url_prefixes", p))
		}
		if !exact {
			fetch = max(4*limit, 50) // checked in Go below
		}
	}
	idx, vals := queryVector(q.Text, q.Lang)

	req := &qd.QueryPoints{
		CollectionName: ix.col,
		Filter:         filter,
		Limit:          qd.PtrOf(uint64(fetch)),
		WithPayload:    qd.NewWithPayload(true),
	}
	switch {
	case len(q.Vector) == 0 && len(idx) == 0:
		return nil, nil
	case len(q.Vector) == 0:
		req.Query, req.Using = qd.NewQuerySparse(idx, vals), qd.PtrOf(sparseName)
	case len(idx) == 0:
		req.Query, req.Using = qd.NewQueryDense(q.Vector), qd.PtrOf(denseName)
	default:
		deep := qd.PtrOf(uint64(max(3*fetch, 30)))
		req.Prefetch = []*qd.PrefetchQuery{
			{Query: qd.NewQuerySparse(idx, vals), Using: qd.PtrOf(sparseName), Filter: filter, Limit: deep},
			{Query: qd.NewQueryDense(q.Vector), Using: qd.PtrOf(denseName), Filter: filter, Limit: deep},
		}
		req.Query = qd.NewQueryFusion(qd.Fusion_RRF)
	}
	pts, err := ix.client.Query(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("qdrant: search: %w", err)
	}
	hits := make([]indexer.Hit, 0, min(len(pts), limit))
	for _, p := range pts {
		c := chunkFromPayload(p.GetPayload())
		if !exact && !strings.HasPrefix(c.URL, q.URLPrefix) {
			continue
		}
		hits = append(hits, indexer.Hit{Chunk: c, Score: float64(p.GetScore())})
		if len(hits) == limit {
			break
		}
	}
	return hits, nil
}

// docVector is a chunk's sparse vector: BM25-saturated, field-weighted term
// frequencies by term id.
func docVector(c indexer.Chunk) ([]uint32, []float32) {
	title, heading, text := indexer.AnalyzeChunk(c)
	tf := map[uint32]float64{}
	add := func(terms []string, w float64) {
		for _, t := range terms {
			tf[indexer.TermID(t)] += w
		}
	}
	add(title, weightTitle)
	add(heading, weightHeading)
	add(text, weightText)
	length := float64(len(title) + len(heading) + len(text))
	norm := bm25K1 * (1 - bm25B + bm25B*length/bm25AvgLen)
	return sparse(tf, func(f float64) float64 { return f * (bm25K1 + 1) / (f + norm) })
}

// queryVector is a question's sparse vector: weight 1 for each index term
// a content word of the question may stand for (indexer.AnalyzeQuery; in
// lang when the search is filtered by it). Qdrant's IDF modifier weighs
// the terms.
func queryVector(text, lang string) ([]uint32, []float32) {
	var langs []string
	if lang != "" {
		langs = []string{lang}
	}
	w := map[uint32]float64{}
	for _, t := range indexer.AnalyzeQuery(text, langs) {
		for _, alt := range t.Alts {
			w[indexer.TermID(alt)] = 1
		}
	}
	return sparse(w, func(f float64) float64 { return f })
}

// sparse turns weights by id into Qdrant's sorted indices and values.
func sparse(w map[uint32]float64, f func(float64) float64) ([]uint32, []float32) {
	idx := make([]uint32, 0, len(w))
	for i := range w {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	vals := make([]float32, len(idx))
	for n, i := range idx {
		vals[n] = float32(f(w[i]))
		if math.IsNaN(float64(vals[n])) {
			vals[n] = 0
		}
	}
	return idx, vals
}
