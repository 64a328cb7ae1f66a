// Package qdrantfake is an in-process fake of the Qdrant gRPC API, for tests
// of code that talks to Qdrant through github.com/qdrant/go-client when no
// Qdrant server is at hand. It keeps points in memory and implements the
// part of the API sitebot uses, following Qdrant's documented semantics:
//
//   - collections with named dense vectors (Cosine, Dot, Euclid) and named
//     sparse vectors, optionally with the IDF modifier;
//   - Upsert, Delete (by ids or filter), Get, Scroll (ordered by id, with
//     offsets), Count, CreateFieldIndex (recorded, not needed to filter);
//   - Query: nearest dense or sparse, prefetches fused with RRF
//     (score Σ 1/(k + rank), rank from 0, k = 2 unless the request sets it);
//   - filters: must, should, must_not, nested filters, has_id, and field
//     conditions match keyword, keywords (any), except keywords, integer
//     and bool, on single values and on arrays (any element matches).
//
// Where it deviates from Qdrant: search is exact (no HNSW), so results are
// what Qdrant's exact search would return; equal scores are ordered by
// point id; the IDF of a sparse dimension is computed over the points of
// the whole collection at query time (Qdrant computes it per segment and
// shard, so its values can differ slightly on large collections); the top
// level filter of a query is applied to its prefetches as well as to the
// fused result; anything else (text match, ranges, geo, order_by, payload
// selectors other than enable/disable and include, vectors in responses,
// shard keys, ...) answers codes.Unimplemented so a test cannot silently
// rely on it.
package qdrantfake

import (
	"context"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"

	qd "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Version is the Qdrant version the fake reports in its health check.
const Version = "1.17.0"

// defaultRRFK is Qdrant's default k of reciprocal rank fusion.
const defaultRRFK = 2

// Server is a running fake.
type Server struct {
	lis  net.Listener
	srv  *grpc.Server
	data *store
}

// Start serves a new, empty fake on a loopback port until Close.
func Start() (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("qdrantfake: listen: %w", err)
	}
	st := &store{cols: map[string]*collection{}}
	srv := grpc.NewServer()
	qd.RegisterQdrantServer(srv, qdrantService{})
	qd.RegisterCollectionsServer(srv, &collectionsService{st: st})
	qd.RegisterPointsServer(srv, &pointsService{st: st})
	go srv.Serve(lis)
	return &Server{lis: lis, srv: srv, data: st}, nil
}

// Addr is the host:port the fake listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Close stops the fake; its data is gone.
func (s *Server) Close() { s.srv.Stop() }

type store struct {
	mu   sync.Mutex
	cols map[string]*collection
}

type collection struct {
	dense   map[string]*qd.VectorParams
	sparse  map[string]*qd.SparseVectorParams
	indexes map[string]qd.FieldType
	points  map[string]*point // by idKey
}

type point struct {
	id      *qd.PointId
	payload map[string]*qd.Value
	dense   map[string][]float32          // normalised when the distance is Cosine
	sparse  map[string]map[uint32]float32 // index → value
}

func (s *store) col(name string) (*collection, error) {
	c := s.cols[name]
	if c == nil {
		return nil, status.Errorf(codes.NotFound, "Not found: Collection `%s` doesn't exist!", name)
	}
	return c, nil
}

func unimplemented(what string) error {
	return status.Errorf(codes.Unimplemented, "qdrantfake: %s is not implemented", what)
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, "Wrong input: "+format, args...)
}

func idKey(id *qd.PointId) string {
	switch v := id.GetPointIdOptions().(type) {
	case *qd.PointId_Num:
		return fmt.Sprintf("n%020d", v.Num)
	case *qd.PointId_Uuid:
		return "u" + v.Uuid
	}
	return ""
}

// --- Qdrant service ---

type qdrantService struct{ qd.UnimplementedQdrantServer }

func (qdrantService) HealthCheck(context.Context, *qd.HealthCheckRequest) (*qd.HealthCheckReply, error) {
	return &qd.HealthCheckReply{Title: "qdrantfake", Version: Version}, nil
}

// --- Collections service ---

type collectionsService struct {
	qd.UnimplementedCollectionsServer
	st *store
}

func (c *collectionsService) Create(_ context.Context, req *qd.CreateCollection) (*qd.CollectionOperationResponse, error) {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	if c.st.cols[req.CollectionName] != nil {
		return nil, invalid("Collection `%s` already exists!", req.CollectionName)
	}
	col := &collection{dense: map[string]*qd.VectorParams{}, sparse: map[string]*qd.SparseVectorParams{},
		indexes: map[string]qd.FieldType{}, points: map[string]*point{}}
	switch v := req.GetVectorsConfig().GetConfig().(type) {
	case nil:
	case *qd.VectorsConfig_ParamsMap:
		for name, p := range v.ParamsMap.GetMap() {
			if p.Size == 0 {
				return nil, invalid("vector %q: size must be positive", name)
			}
			col.dense[name] = proto.Clone(p).(*qd.VectorParams)
		}
	default:
		return nil, unimplemented("an unnamed vector")
	}
	for name, p := range req.GetSparseVectorsConfig().GetMap() {
		col.sparse[name] = proto.Clone(p).(*qd.SparseVectorParams)
	}
	c.st.cols[req.CollectionName] = col
	return &qd.CollectionOperationResponse{Result: true}, nil
}

func (c *collectionsService) Get(_ context.Context, req *qd.GetCollectionInfoRequest) (*qd.GetCollectionInfoResponse, error) {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	col, err := c.st.col(req.CollectionName)
	if err != nil {
		return nil, err
	}
	dense := map[string]*qd.VectorParams{}
	for n, p := range col.dense {
		dense[n] = proto.Clone(p).(*qd.VectorParams)
	}
	sparse := map[string]*qd.SparseVectorParams{}
	for n, p := range col.sparse {
		sparse[n] = proto.Clone(p).(*qd.SparseVectorParams)
	}
	schema := map[string]*qd.PayloadSchemaInfo{}
	for f, t := range col.indexes {
		schema[f] = &qd.PayloadSchemaInfo{DataType: payloadSchemaType(t)}
	}
	n := uint64(len(col.points))
	return &qd.GetCollectionInfoResponse{Result: &qd.CollectionInfo{
		Status:        qd.CollectionStatus_Green,
		SegmentsCount: 1,
		PointsCount:   &n,
		PayloadSchema: schema,
		Config: &qd.CollectionConfig{Params: &qd.CollectionParams{
			ShardNumber:         1,
			VectorsConfig:       qd.NewVectorsConfigMap(dense),
			SparseVectorsConfig: qd.NewSparseVectorsConfig(sparse),
		}},
	}}, nil
}

func payloadSchemaType(t qd.FieldType) qd.PayloadSchemaType {
	switch t {
	case qd.FieldType_FieldTypeKeyword:
		return qd.PayloadSchemaType_Keyword
	case qd.FieldType_FieldTypeInteger:
		return qd.PayloadSchemaType_Integer
	case qd.FieldType_FieldTypeText:
		return qd.PayloadSchemaType_Text
	case qd.FieldType_FieldTypeBool:
		return qd.PayloadSchemaType_Bool
	}
	return qd.PayloadSchemaType_UnknownType
}

func (c *collectionsService) List(context.Context, *qd.ListCollectionsRequest) (*qd.ListCollectionsResponse, error) {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	var out []*qd.CollectionDescription
	for _, name := range slices.Sorted(maps.Keys(c.st.cols)) {
		out = append(out, &qd.CollectionDescription{Name: name})
	}
	return &qd.ListCollectionsResponse{Collections: out}, nil
}

func (c *collectionsService) Delete(_ context.Context, req *qd.DeleteCollection) (*qd.CollectionOperationResponse, error) {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	_, ok := c.st.cols[req.CollectionName]
	delete(c.st.cols, req.CollectionName)
	return &qd.CollectionOperationResponse{Result: ok}, nil
}

func (c *collectionsService) CollectionExists(_ context.Context, req *qd.CollectionExistsRequest) (*qd.CollectionExistsResponse, error) {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	_, ok := c.st.cols[req.CollectionName]
	return &qd.CollectionExistsResponse{Result: &qd.CollectionExists{Exists: ok}}, nil
}
