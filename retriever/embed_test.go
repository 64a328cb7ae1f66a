package retriever

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
)

func TestRetrieveEmbedsTheQuestion(t *testing.T) {
	ctx := context.Background()
	f := &fakeSearcher{hits: []indexer.Hit{{Chunk: indexer.Chunk{ID: "a", URL: "https://x.test/a", Text: "refund"}, Score: 0.03}}}
	var got []string
	// A fake embedder: the vector is only checked for being passed on.
	embed := func(_ context.Context, texts []string) ([][]float32, error) {
		got = append(got, texts...)
		return [][]float32{{0.6, 0.8}}, nil
	}
	_, err := New(f, WithEmbedder(embed)).Retrieve(ctx, "how do I get a refund", 3)
	require.NoError(t, err)
	assert.Equal(t, []string{"how do I get a refund"}, got)
	assert.Equal(t, []float32{0.6, 0.8}, f.got.Vector)
	assert.Equal(t, "how do I get a refund", f.got.Text)

	// No vector: keyword search.
	none := func(context.Context, []string) ([][]float32, error) { return nil, nil }
	_, err = New(f, WithEmbedder(none)).Retrieve(ctx, "refund", 3)
	require.NoError(t, err)
	assert.Nil(t, f.got.Vector)

	// An error fails the retrieval.
	boom := errors.New("ollama down")
	failing := func(context.Context, []string) ([][]float32, error) { return nil, boom }
	_, err = New(f, WithEmbedder(failing)).Retrieve(ctx, "refund", 3)
	require.ErrorIs(t, err, boom)

	// Without an embedder nothing changes.
	_, err = New(f).Retrieve(ctx, "refund", 3)
	require.NoError(t, err)
	assert.Nil(t, f.got.Vector)
}
