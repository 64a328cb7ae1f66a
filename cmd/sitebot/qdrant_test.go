package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/internal/qdrantfake"
)

// TestQdrantBackend runs crawl, pages, ask and serve with --qdrant against
// the in-process fake of Qdrant's gRPC API (no Qdrant server can run here;
// the backend itself is also tested against a real one when
// SITEBOT_TEST_QDRANT is set, see indexer/qdrant).
func TestQdrantBackend(t *testing.T) {
	fake, err := qdrantfake.Start()
	require.NoError(t, err)
	defer fake.Close()
	srv, _ := siteServer(t, "fixtures/sites/letsencrypt-faq")
	data := t.TempDir()
	flags := []string{"--qdrant", fake.Addr(), "--qdrant-collection", "le", "--data", data}

	out, _, err := sitebot(t, nil, append([]string{"crawl", srv.URL + "/", "--json"}, flags...)...)
	require.NoError(t, err)
	var first indexer.Stats
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &first))
	assert.Equal(t, 5, first.Pages)
	assert.Equal(t, 5, first.New)
	assert.Positive(t, first.Chunks)

	out, _, err = sitebot(t, nil, append([]string{"crawl", srv.URL + "/", "--json"}, flags...)...)
	require.NoError(t, err)
	var second indexer.Stats
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &second))
	assert.Equal(t, 5, second.Unchanged, "a re-crawl into Qdrant rewrites nothing")
	assert.Equal(t, first.Chunks, second.Chunks)

	out, _, err = sitebot(t, nil, append([]string{"pages", "--json"}, flags...)...)
	require.NoError(t, err)
	var pages []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &pages))
	assert.Len(t, pages, 5)

	out, _, err = sitebot(t, nil, append([]string{"ask", "--json", "--model", "", "What does it cost to use Let's Encrypt? Is it really free?"}, flags...)...)
	require.NoError(t, err)
	var resp struct {
		Refused bool
		Sources []struct{ URL string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &resp))
	require.False(t, resp.Refused, out)
	require.NotEmpty(t, resp.Sources)
	assert.True(t, strings.HasSuffix(resp.Sources[0].URL, "#what-does-it-cost-to-use-let-s-encrypt-is-it-really-free"), resp.Sources[0].URL)

	base := startServe(t, nil, append([]string{"--model", ""}, flags...)...)
	r, err := http.Post(base+"/api/chat", "application/json", strings.NewReader(`{"message": "Is Let's Encrypt really free?"}`))
	require.NoError(t, err)
	defer r.Body.Close()
	assert.Equal(t, http.StatusOK, r.StatusCode)

	// An address without a port is refused before anything is dialled.
	_, _, err = sitebot(t, nil, "crawl", srv.URL+"/", "--qdrant", "localhost", "--data", data)
	require.ErrorContains(t, err, "--qdrant (SITEBOT_QDRANT) must be HOST:PORT")
}
