package qdrant

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/indexer/indextest"
	"github.com/sitebot/sitebot/internal/qdrantfake"
)

// startFake serves an in-process fake of Qdrant's gRPC API for the test.
func startFake(t *testing.T) string {
	t.Helper()
	f, err := qdrantfake.Start()
	require.NoError(t, err)
	t.Cleanup(f.Close)
	return f.Addr()
}

// collectionFor names a subtest's collection: readable, unique, and within
// Qdrant's limits.
func collectionFor(t *testing.T, prefix string) string {
	sum := sha1.Sum([]byte(t.Name()))
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	if len(name) > 60 {
		name = name[:60]
	}
	return prefix + name + "_" + hex.EncodeToString(sum[:4])
}

// suiteOpen opens, for each subtest, its own collection on addr; dim is
// the dense dimension (0: keyword only). With drop, the collection is
// deleted when the subtest ends (a real Qdrant keeps it otherwise).
func suiteOpen(addr, apiKey, prefix string, dim int, drop bool) indextest.Open {
	return func(t *testing.T) indextest.Backend {
		ctx := context.Background()
		name := collectionFor(t, prefix)
		ix, err := Open(ctx, Config{Addr: addr, APIKey: apiKey, Collection: name, Dim: dim})
		require.NoError(t, err)
		if drop {
			t.Cleanup(func() {
				cleaner, err := Open(ctx, Config{Addr: addr, APIKey: apiKey, Collection: name, Dim: dim})
				if err == nil {
					_ = cleaner.client.DeleteCollection(ctx, name)
					cleaner.Close()
				}
			})
		}
		return ix
	}
}

func TestSuiteFake(t *testing.T) {
	addr := startFake(t)
	t.Run("Hybrid", func(t *testing.T) {
		indextest.Run(t, suiteOpen(addr, "", "h_", indextest.Dim, false))
	})
	t.Run("KeywordOnly", func(t *testing.T) {
		indextest.Run(t, suiteOpen(addr, "", "k_", 0, false))
	})
}

// TestSuiteQdrant runs the suite against a real Qdrant at
// SITEBOT_TEST_QDRANT (host:gRPC port, e.g. localhost:6334), with
// SITEBOT_TEST_QDRANT_API_KEY when it needs one. Its collections start with
// "sitebot_test_" and are dropped afterwards.
func TestSuiteQdrant(t *testing.T) {
	addr := os.Getenv("SITEBOT_TEST_QDRANT")
	if addr == "" {
		t.Skip("set SITEBOT_TEST_QDRANT=host:port (Qdrant's gRPC port) to run the suite against a real Qdrant; " +
			"CI has no Qdrant server, and the in-process fake (TestSuiteFake) covers the backend there")
	}
	key := os.Getenv("SITEBOT_TEST_QDRANT_API_KEY")
	t.Run("Hybrid", func(t *testing.T) {
		indextest.Run(t, suiteOpen(addr, key, "sitebot_test_h_", indextest.Dim, true))
	})
	t.Run("KeywordOnly", func(t *testing.T) {
		indextest.Run(t, suiteOpen(addr, key, "sitebot_test_k_", 0, true))
	})
}

func TestOpenChecksCollection(t *testing.T) {
	ctx := context.Background()
	addr := startFake(t)
	ix, err := Open(ctx, Config{Addr: addr, Dim: 8})
	require.NoError(t, err)
	assert.Equal(t, DefaultCollection, ix.Collection())
	require.NoError(t, ix.Close())

	// The same dimension opens; another one, or none, is a clear error.
	ix, err = Open(ctx, Config{Addr: addr, Dim: 8})
	require.NoError(t, err)
	ix.Close()
	_, err = Open(ctx, Config{Addr: addr, Dim: 16})
	require.ErrorContains(t, err, "built with 8-dimensional embeddings, but the embedder gives 16")
	_, err = Open(ctx, Config{Addr: addr})
	require.ErrorContains(t, err, "built with 8-dimensional embeddings, but no embedder is configured")

	ix, err = Open(ctx, Config{Addr: addr, Collection: "plain"})
	require.NoError(t, err)
	ix.Close()
	_, err = Open(ctx, Config{Addr: addr, Collection: "plain", Dim: 8})
	require.ErrorContains(t, err, "built without embeddings")

	_, err = Open(ctx, Config{Addr: "localhost"})
	require.ErrorContains(t, err, "want host:port")
}

func TestOpenUnreachable(t *testing.T) {
	// Nothing listens on the fake's port once it is closed.
	f, err := qdrantfake.Start()
	require.NoError(t, err)
	addr := f.Addr()
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = Open(ctx, Config{Addr: addr})
	require.ErrorContains(t, err, "qdrant unreachable")
}

func TestVectorsMustMatchIndex(t *testing.T) {
	ctx := context.Background()
	addr := startFake(t)
	ix, err := Open(ctx, Config{Addr: addr, Dim: 2})
	require.NoError(t, err)
	defer ix.Close()
	page := indexer.PageInfo{URL: "https://x.test/a"}
	err = ix.ReplacePage(ctx, page, []indexer.Chunk{{ID: "a#0", Text: "hello", Vector: []float32{1, 2, 3}}})
	require.ErrorContains(t, err, "3-dimensional vector, want 2")
	err = ix.ReplacePage(ctx, page, []indexer.Chunk{{ID: "a#0", Text: "hello"}})
	require.ErrorContains(t, err, "0-dimensional vector, want 2")
	_, err = ix.Search(ctx, indexer.Query{Text: "hello", Vector: []float32{1}})
	require.ErrorContains(t, err, "query vector has 1 dimensions")
}

func TestReplaceBatches(t *testing.T) {
	ctx := context.Background()
	ix, err := Open(ctx, Config{Addr: startFake(t)})
	require.NoError(t, err)
	defer ix.Close()
	var chunks []indexer.Chunk
	for i := range 2*batchSize + 3 {
		chunks = append(chunks, indexer.Chunk{ID: "https://x.test/a#" + string(rune('a'+i%26)) + strings.Repeat("x", i), Text: "word"})
	}
	require.NoError(t, ix.ReplacePage(ctx, indexer.PageInfo{URL: "https://x.test/a"}, chunks))
	pages, n, err := ix.Counts(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, pages)
	assert.Equal(t, len(chunks), n)
}

func TestURLPrefixes(t *testing.T) {
	assert.Equal(t, []string{
		"https://a.test/", "https://a.test/docs/", "https://a.test/docs/x", "https://a.test/docs/x#y",
	}, urlPrefixes("https://a.test/docs/x#y"))
	tests := []struct {
		in, want string
		exact    bool
	}{
		{"https://a.test/docs/", "https://a.test/docs/", true},
		{"https://a.test/docs/sh", "https://a.test/docs/", false},
		{"https://a.test", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, exact := boundaryPrefix(tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		assert.Equal(t, tt.exact, exact, tt.in)
	}
}

func TestPointIDIsUUID(t *testing.T) {
	id := pointID(kindChunk, "https://x.test/a#0").GetUuid()
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id)
	assert.NotEqual(t, id, pointID(kindPage, "https://x.test/a#0").GetUuid())
}

func TestOpenAnyDim(t *testing.T) {
	ctx := context.Background()
	addr := startFake(t)
	ix, err := Open(ctx, Config{Addr: addr, Collection: "dense", Dim: 8})
	require.NoError(t, err)
	require.NoError(t, ix.Close())

	ix, err = Open(ctx, Config{Addr: addr, Collection: "dense", AnyDim: true})
	require.NoError(t, err, "AnyDim takes the collection's dimension")
	assert.True(t, ix.Hybrid())
	require.NoError(t, ix.Close())

	ix, err = Open(ctx, Config{Addr: addr, Collection: "fresh", AnyDim: true, Dim: 8})
	require.NoError(t, err)
	assert.False(t, ix.Hybrid(), "a missing collection is created keyword-only")
	require.NoError(t, ix.Close())
}
