package llm

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmbedFakeServer(t *testing.T) {
	// A fake /api/embed: it answers one vector fewer than asked when told to.
	short := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != "/api/embed":
			http.NotFound(w, r)
		case short:
			_, _ = w.Write([]byte(`{"model":"e","embeddings":[[1,0]]}`))
		default:
			_, _ = w.Write([]byte(`{"model":"e","embeddings":[[1,0],[0,1]]}`))
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := NewEmbedder(u, nil, "e")

	vecs, err := c.Embed(t.Context(), []string{"a", "b"})
	require.NoError(t, err)
	assert.Equal(t, [][]float32{{1, 0}, {0, 1}}, vecs)

	short = true
	_, err = c.Embed(t.Context(), []string{"a", "b"})
	require.ErrorContains(t, err, "got 1 embeddings for 2 texts")

	vecs, err = c.Embed(t.Context(), nil)
	require.NoError(t, err)
	assert.Empty(t, vecs)
}

func TestEmbedUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(srv.URL)
	srv.Close()
	_, err := NewEmbedder(u, nil, "bge-m3").Embed(t.Context(), []string{"x"})
	require.ErrorIs(t, err, ErrUnreachable)
	assert.Contains(t, err.Error(), "ollama serve")
}

func TestSameModel(t *testing.T) {
	assert.True(t, SameModel("bge-m3", "BGE-M3:latest"))
	assert.False(t, SameModel("bge-m3", "bge-m3:567m"))
}

// TestOllamaEmbed runs against the real server with the tiny model:
// plumbing only, its vectors mean nothing.
func TestOllamaEmbed(t *testing.T) {
	c := realClient(t, "")
	vecs, err := c.Embed(t.Context(), []string{"how do I cancel", "pricing"})
	require.NoError(t, err)
	require.Len(t, vecs, 2)
	require.NotEmpty(t, vecs[0])
	assert.Len(t, vecs[1], len(vecs[0]))

	_, err = realClient(t, "sitebot-no-such-embedder").Embed(t.Context(), []string{"x"})
	require.ErrorIs(t, err, ErrModelMissing)
	assert.Contains(t, err.Error(), "ollama pull sitebot-no-such-embedder")
}
