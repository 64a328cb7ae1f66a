package qdrantfake

import (
	"cmp"
	"context"
	"maps"
	"math"
	"slices"

	qd "github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

type pointsService struct {
	qd.UnimplementedPointsServer
	st *store
}

func done() *qd.PointsOperationResponse {
	return &qd.PointsOperationResponse{Result: &qd.UpdateResult{Status: qd.UpdateStatus_Completed}}
}

func (s *pointsService) CreateFieldIndex(_ context.Context, req *qd.CreateFieldIndexCollection) (*qd.PointsOperationResponse, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	col, err := s.st.col(req.CollectionName)
	if err != nil {
		return nil, err
	}
	col.indexes[req.FieldName] = req.GetFieldType()
	return done(), nil
}

func (s *pointsService) Upsert(_ context.Context, req *qd.UpsertPoints) (*qd.PointsOperationResponse, error) {
	if req.UpdateFilter != nil || req.ShardKeySelector != nil {
		return nil, unimplemented("conditional or sharded upsert")
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	col, err := s.st.col(req.CollectionName)
	if err != nil {
		return nil, err
	}
	// Validate every point before writing any, as Qdrant rejects a batch.
	pts := make([]*point, 0, len(req.Points))
	for _, ps := range req.Points {
		p, err := col.newPoint(ps)
		if err != nil {
			return nil, err
		}
		pts = append(pts, p)
	}
	for _, p := range pts {
		col.points[idKey(p.id)] = p
	}
	return done(), nil
}

func (col *collection) newPoint(ps *qd.PointStruct) (*point, error) {
	if idKey(ps.GetId()) == "" {
		return nil, invalid("point without id")
	}
	p := &point{
		id:      proto.Clone(ps.Id).(*qd.PointId),
		payload: map[string]*qd.Value{},
		dense:   map[string][]float32{},
		sparse:  map[string]map[uint32]float32{},
	}
	for k, v := range ps.Payload {
		p.payload[k] = proto.Clone(v).(*qd.Value)
	}
	var named map[string]*qd.Vector
	switch v := ps.GetVectors().GetVectorsOptions().(type) {
	case nil:
	case *qd.Vectors_Vectors:
		named = v.Vectors.GetVectors()
	default:
		return nil, invalid("point %s: the collection has named vectors only", idKey(ps.Id))
	}
	for name, v := range named {
		switch {
		case v.GetDense() != nil:
			params := col.dense[name]
			if params == nil {
				return nil, invalid("Not existing vector name error: %s", name)
			}
			data := v.GetDense().GetData()
			if uint64(len(data)) != params.Size {
				return nil, invalid("Vector dimension error: expected dim: %d, got %d", params.Size, len(data))
			}
			data = slices.Clone(data)
			if params.Distance == qd.Distance_Cosine {
				normalize(data)
			}
			p.dense[name] = data
		case v.GetSparse() != nil:
			if col.sparse[name] == nil {
				return nil, invalid("Not existing vector name error: %s", name)
			}
			sv := v.GetSparse()
			if len(sv.Indices) != len(sv.Values) {
				return nil, invalid("sparse vector %s: %d indices, %d values", name, len(sv.Indices), len(sv.Values))
			}
			m := make(map[uint32]float32, len(sv.Indices))
			for i, ix := range sv.Indices {
				if _, dup := m[ix]; dup {
					return nil, invalid("sparse vector %s: duplicate index %d", name, ix)
				}
				m[ix] = sv.Values[i]
			}
			p.sparse[name] = m
		default:
			return nil, unimplemented("vectors other than dense and sparse")
		}
	}
	return p, nil
}

func normalize(v []float32) {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
}

func (s *pointsService) Delete(_ context.Context, req *qd.DeletePoints) (*qd.PointsOperationResponse, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	col, err := s.st.col(req.CollectionName)
	if err != nil {
		return nil, err
	}
	switch sel := req.GetPoints().GetPointsSelectorOneOf().(type) {
	case *qd.PointsSelector_Points:
		for _, id := range sel.Points.GetIds() {
			delete(col.points, idKey(id))
		}
	case *qd.PointsSelector_Filter:
		for k, p := range col.points {
			ok, err := matches(sel.Filter, p)
			if err != nil {
				return nil, err
			}
			if ok {
				delete(col.points, k)
			}
		}
	default:
		return nil, invalid("delete without a points selector")
	}
	return done(), nil
}

func (s *pointsService) Get(_ context.Context, req *qd.GetPoints) (*qd.GetResponse, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	col, err := s.st.col(req.CollectionName)
	if err != nil {
		return nil, err
	}
	var out []*qd.RetrievedPoint
	for _, id := range req.Ids {
		p := col.points[idKey(id)]
		if p == nil {
			continue
		}
		payload, err := selectPayload(req.WithPayload, p, false)
		if err != nil {
			return nil, err
		}
		out = append(out, &qd.RetrievedPoint{Id: p.id, Payload: payload})
	}
	return &qd.GetResponse{Result: out}, nil
}

// selectPayload returns the payload a response carries; def is what an
// unset selector means (in Qdrant's gRPC API: true for Scroll, false for
// Get and Query).
func selectPayload(sel *qd.WithPayloadSelector, p *point, def bool) (map[string]*qd.Value, error) {
	include := def
	var fields []string
	switch v := sel.GetSelectorOptions().(type) {
	case nil:
	case *qd.WithPayloadSelector_Enable:
		include = v.Enable
	case *qd.WithPayloadSelector_Include:
		include, fields = true, v.Include.GetFields()
	default:
		return nil, unimplemented("payload exclusion")
	}
	if !include {
		return nil, nil
	}
	out := map[string]*qd.Value{}
	for k, v := range p.payload {
		if fields == nil || slices.Contains(fields, k) {
			out[k] = v
		}
	}
	return out, nil
}

// sorted returns the points of col that pass filter, by id (numbers before
// UUIDs, as Qdrant orders them).
func (col *collection) sorted(filter *qd.Filter) ([]*point, error) {
	var out []*point
	for _, k := range slices.Sorted(maps.Keys(col.points)) {
		p := col.points[k]
		ok, err := matches(filter, p)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *pointsService) Scroll(_ context.Context, req *qd.ScrollPoints) (*qd.ScrollResponse, error) {
	if req.OrderBy != nil {
		return nil, unimplemented("scroll order_by")
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	col, err := s.st.col(req.CollectionName)
	if err != nil {
		return nil, err
	}
	pts, err := col.sorted(req.Filter)
	if err != nil {
		return nil, err
	}
	if req.Offset != nil {
		from := idKey(req.Offset)
		i, _ := slices.BinarySearchFunc(pts, from, func(p *point, k string) int { return cmp.Compare(idKey(p.id), k) })
		pts = pts[i:]
	}
	limit := 10
	if req.Limit != nil {
		limit = int(*req.Limit)
	}
	resp := &qd.ScrollResponse{}
	if len(pts) > limit {
		resp.NextPageOffset = pts[limit].id
		pts = pts[:limit]
	}
	for _, p := range pts {
		payload, err := selectPayload(req.WithPayload, p, true)
		if err != nil {
			return nil, err
		}
		resp.Result = append(resp.Result, &qd.RetrievedPoint{Id: p.id, Payload: payload})
	}
	return resp, nil
}

func (s *pointsService) Count(_ context.Context, req *qd.CountPoints) (*qd.CountResponse, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	col, err := s.st.col(req.CollectionName)
	if err != nil {
		return nil, err
	}
	pts, err := col.sorted(req.Filter)
	if err != nil {
		return nil, err
	}
	return &qd.CountResponse{Result: &qd.CountResult{Count: uint64(len(pts))}}, nil
}

func (s *pointsService) Query(_ context.Context, req *qd.QueryPoints) (*qd.QueryResponse, error) {
	if req.Offset != nil && *req.Offset > 0 || req.ScoreThreshold != nil || req.ShardKeySelector != nil {
		return nil, unimplemented("query offset, score threshold or shard keys")
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	col, err := s.st.col(req.CollectionName)
	if err != nil {
		return nil, err
	}
	scored, err := col.query(req.Prefetch, req.Query, req.GetUsing(), req.Filter, nil, limitOr(req.Limit))
	if err != nil {
		return nil, err
	}
	resp := &qd.QueryResponse{}
	for _, sp := range scored {
		payload, err := selectPayload(req.WithPayload, sp.p, false)
		if err != nil {
			return nil, err
		}
		resp.Result = append(resp.Result, &qd.ScoredPoint{Id: sp.p.id, Payload: payload, Score: sp.score})
	}
	return resp, nil
}

func limitOr(l *uint64) int {
	if l == nil {
		return 10
	}
	return int(*l)
}

type scoredPoint struct {
	p     *point
	score float32
}

// query runs one level of the Query API: the prefetches first (each with
// its own filter and the outer ones), then query over their results, or
// over the whole collection without prefetches.
func (col *collection) query(prefetch []*qd.PrefetchQuery, q *qd.Query, using string, filter *qd.Filter, outer []*qd.Filter, limit int) ([]scoredPoint, error) {
	filters := outer
	if filter != nil {
		filters = append(slices.Clip(outer), filter)
	}
	var lists [][]scoredPoint
	for _, pf := range prefetch {
		if pf.ScoreThreshold != nil || pf.LookupFrom != nil {
			return nil, unimplemented("prefetch score threshold or lookup")
		}
		l, err := col.query(pf.Prefetch, pf.Query, pf.GetUsing(), pf.Filter, filters, limitOr(pf.Limit))
		if err != nil {
			return nil, err
		}
		lists = append(lists, l)
	}

	var out []scoredPoint
	switch v := q.GetVariant().(type) {
	case *qd.Query_Fusion:
		if v.Fusion != qd.Fusion_RRF {
			return nil, unimplemented("fusion " + v.Fusion.String())
		}
		out = rrf(lists, defaultRRFK, nil)
	case *qd.Query_Rrf:
		k := defaultRRFK
		if v.Rrf.K != nil {
			k = int(*v.Rrf.K)
		}
		if len(v.Rrf.Weights) > 0 && len(v.Rrf.Weights) != len(lists) {
			return nil, invalid("Number of weights in RRF should match number of pre-fetches: got %d, expected %d", len(v.Rrf.Weights), len(lists))
		}
		out = rrf(lists, k, v.Rrf.Weights)
	case *qd.Query_Nearest:
		var cands []*point
		if len(prefetch) > 0 {
			seen := map[string]bool{}
			for _, l := range lists {
				for _, sp := range l {
					if k := idKey(sp.p.id); !seen[k] {
						seen[k] = true
						cands = append(cands, sp.p)
					}
				}
			}
		} else {
			all, err := col.sorted(nil)
			if err != nil {
				return nil, err
			}
			for _, p := range all {
				ok, err := matchesAll(filters, p)
				if err != nil {
					return nil, err
				}
				if ok {
					cands = append(cands, p)
				}
			}
		}
		var err error
		out, err = col.nearest(v.Nearest, using, cands)
		if err != nil {
			return nil, err
		}
	case nil:
		return nil, unimplemented("query without a query")
	default:
		return nil, unimplemented("this kind of query")
	}
	// The fused result obeys the filters too.
	kept := out[:0]
	for _, sp := range out {
		ok, err := matchesAll(filters, sp.p)
		if err != nil {
			return nil, err
		}
		if ok {
			kept = append(kept, sp)
		}
	}
	if len(kept) > limit {
		kept = kept[:limit]
	}
	return kept, nil
}

// nearest scores cands against in with the vector named using: cosine or
// dot product for dense vectors, the dot product of the overlapping
// dimensions for sparse ones (with IDF when the vector has the modifier).
// Points without the vector, and for sparse queries points without a common
// dimension, are left out, as in Qdrant.
func (col *collection) nearest(in *qd.VectorInput, using string, cands []*point) ([]scoredPoint, error) {
	var out []scoredPoint
	switch {
	case in.GetDense() != nil:
		params := col.dense[using]
		if params == nil {
			return nil, invalid("Not existing vector name error: %q", using)
		}
		q := slices.Clone(in.GetDense().GetData())
		if uint64(len(q)) != params.Size {
			return nil, invalid("Vector dimension error: expected dim: %d, got %d", params.Size, len(q))
		}
		switch params.Distance {
		case qd.Distance_Cosine:
			normalize(q)
		case qd.Distance_Dot:
		default:
			return nil, unimplemented("distance " + params.Distance.String())
		}
		for _, p := range cands {
			d, ok := p.dense[using]
			if !ok {
				continue
			}
			var s float32
			for i := range q {
				s += q[i] * d[i]
			}
			out = append(out, scoredPoint{p, s})
		}
	case in.GetSparse() != nil:
		params := col.sparse[using]
		if params == nil {
			return nil, invalid("Not existing vector name error: %q", using)
		}
		sv := in.GetSparse()
		if len(sv.Indices) != len(sv.Values) {
			return nil, invalid("sparse query: %d indices, %d values", len(sv.Indices), len(sv.Values))
		}
		weights := make(map[uint32]float32, len(sv.Indices))
		for i, ix := range sv.Indices {
			weights[ix] = sv.Values[i]
		}
		if params.GetModifier() == qd.Modifier_Idf {
			col.applyIDF(using, weights)
		}
		for _, p := range cands {
			d, ok := p.sparse[using]
			if !ok {
				continue
			}
			var s float32
			overlap := false
			for ix, w := range weights {
				if v, ok := d[ix]; ok {
					s += w * v
					overlap = true
				}
			}
			if overlap {
				out = append(out, scoredPoint{p, s})
			}
		}
	default:
		return nil, unimplemented("query vectors other than dense and sparse")
	}
	sortScored(out)
	return out, nil
}

// applyIDF multiplies each query weight by the dimension's inverse document
// frequency over the collection, as Qdrant's IDF modifier does:
// idf = ln(1 + (N - n + 0.5) / (n + 0.5)), N the points having the sparse
// vector, n those of them with a value in the dimension.
func (col *collection) applyIDF(using string, weights map[uint32]float32) {
	var n float64
	df := make(map[uint32]float64, len(weights))
	for _, p := range col.points {
		d, ok := p.sparse[using]
		if !ok {
			continue
		}
		n++
		for ix := range weights {
			if _, ok := d[ix]; ok {
				df[ix]++
			}
		}
	}
	for ix, w := range weights {
		weights[ix] = w * float32(math.Log(1+(n-df[ix]+0.5)/(df[ix]+0.5)))
	}
}

// rrf fuses ranked lists as Qdrant does: a point at rank r (from 0) of a
// list gains 1/(r + k), or 1/((r+1)/w + k - 1) with the list's weight w.
func rrf(lists [][]scoredPoint, k int, weights []float32) []scoredPoint {
	byID := map[string]*scoredPoint{}
	var order []string
	for li, l := range lists {
		w := float32(1)
		if weights != nil {
			w = weights[li]
		}
		for r, sp := range l {
			var s float32
			if w > 0 {
				s = 1 / (float32(r+1)/w + float32(k) - 1)
			}
			key := idKey(sp.p.id)
			if e := byID[key]; e != nil {
				e.score += s
				continue
			}
			byID[key] = &scoredPoint{sp.p, s}
			order = append(order, key)
		}
	}
	out := make([]scoredPoint, 0, len(order))
	for _, key := range order {
		out = append(out, *byID[key])
	}
	sortScored(out)
	return out
}

func sortScored(s []scoredPoint) {
	slices.SortStableFunc(s, func(a, b scoredPoint) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(idKey(a.p.id), idKey(b.p.id))
	})
}
