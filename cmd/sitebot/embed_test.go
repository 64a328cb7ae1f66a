package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/indexer/embedded"
	"github.com/sitebot/sitebot/internal/testenv"
)

// smallSite is a three-page help center.
func smallSite(t *testing.T) string {
	t.Helper()
	pages := map[string][2]string{
		"/":         {"Help center", `<p>Welcome to the help center of Example Shop.</p><a href="/billing">Billing</a> <a href="/shipping">Shipping</a>`},
		"/billing":  {"Billing", `<h2 id="refund">Refunds</h2><p>To get your money back, open Orders and press Refund. Refunds reach your card within five days.</p><h2 id="invoice">Invoices</h2><p>Every invoice is in Settings under Invoices.</p>`},
		"/shipping": {"Shipping", `<h2 id="times">Delivery times</h2><p>Parcels arrive within two working days in Europe and within a week elsewhere.</p>`},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>%s</title></head><body><main><h1>%s</h1>%s</main></body></html>`, p[0], p[0], p[1])
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

func indexMeta(t *testing.T, dataDir string) (name string, dim int, chunks int) {
	t.Helper()
	ix, err := embedded.Open(context.Background(), filepath.Join(dataDir, "index.db"))
	require.NoError(t, err)
	defer ix.Close()
	name, dim, err = indexer.IndexEmbedder(context.Background(), ix)
	require.NoError(t, err)
	_, chunks, err = ix.Counts(context.Background())
	require.NoError(t, err)
	return name, dim, chunks
}

func TestEmbedModelMismatchWithKeywordIndex(t *testing.T) {
	site := smallSite(t)
	data := t.TempDir()
	_, _, err := sitebot(t, nil, "crawl", site, "--data", data, "--json")
	require.NoError(t, err)

	// Neither crawling nor asking may mix an embedder into a keyword index;
	// both fail before reaching Ollama (none listens on port 1).
	_, _, err = sitebot(t, nil, "crawl", site, "--data", data, "--embed-model", "bge-m3", "--ollama", "http://127.0.0.1:1")
	require.ErrorIs(t, err, indexer.ErrEmbedderMismatch)
	assert.Contains(t, err.Error(), "without embeddings")
	assert.Contains(t, err.Error(), "bge-m3")

	_, _, err = sitebot(t, nil, "ask", "--data", data, "--model", "", "--embed-model", "bge-m3", "refund")
	require.ErrorIs(t, err, indexer.ErrEmbedderMismatch)

	// Without the flag, ask works by keywords.
	out, _, err := sitebot(t, nil, "ask", "--data", data, "--model", "", "--json", "how do I get a refund")
	require.NoError(t, err)
	assert.Contains(t, out, "/billing")
}

func TestCrawlEmbedModelOllamaUnreachable(t *testing.T) {
	site := smallSite(t)
	data := t.TempDir()
	_, _, err := sitebot(t, map[string]string{"SITEBOT_EMBED_MODEL": "bge-m3"}, "crawl", site, "--data", data, "--ollama", "http://127.0.0.1:1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "embedding model bge-m3")
	assert.Contains(t, err.Error(), "not reachable")
	_, _, chunks := indexMeta(t, data)
	assert.Zero(t, chunks, "no keyword-only index built instead")

	// The failed attempt does not tie the empty index to the model.
	_, _, err = sitebot(t, nil, "crawl", site, "--data", data)
	require.NoError(t, err)
	name, _, chunks := indexMeta(t, data)
	assert.Empty(t, name)
	assert.Positive(t, chunks)
}

// TestEmbedModelWithOllama crawls, re-crawls and asks with the real Ollama
// server and its tiny model: plumbing only, the tiny model's vectors mean
// nothing, so the test checks that everything is wired, not what ranks first.
func TestEmbedModelWithOllama(t *testing.T) {
	base, model := testenv.Ollama(t)
	site := smallSite(t)
	data := t.TempDir()
	env := map[string]string{"SITEBOT_OLLAMA": base}

	out, _, err := sitebot(t, env, "crawl", site, "--data", data, "--embed-model", model, "--json")
	require.NoError(t, err)
	var st indexer.Stats
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &st))
	assert.Equal(t, 3, st.New)
	name, dim, chunks := indexMeta(t, data)
	assert.Equal(t, model, name)
	assert.Positive(t, dim)
	assert.Equal(t, st.Chunks, chunks)

	// Every chunk has its vector, of the recorded dimension.
	ix, err := embedded.Open(context.Background(), filepath.Join(data, "index.db"))
	require.NoError(t, err)
	hits, err := ix.Search(context.Background(), indexer.Query{Text: "refund", Vector: make([]float32, dim), Limit: 50})
	require.NoError(t, err)
	assert.NotEmpty(t, hits)
	require.NoError(t, ix.Close())

	// A re-crawl without the flag keeps the model and embeds nothing new.
	out, errOut, err := sitebot(t, env, "crawl", site, "--data", data, "--json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &st))
	assert.Equal(t, 3, st.Unchanged)
	assert.Contains(t, errOut, "embedding with "+model)

	// ask reads the model from the index; --embed-model only confirms it.
	for _, args := range [][]string{nil, {"--embed-model", model}} {
		a := append([]string{"ask", "--data", data, "--model", "", "--json"}, args...)
		out, _, err = sitebot(t, env, append(a, "how do I get a refund for my order")...)
		require.NoError(t, err)
		var resp struct {
			Answer  string `json:"answer"`
			Sources []struct {
				URL string `json:"url"`
			} `json:"sources"`
		}
		require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &resp))
		assert.NotEmpty(t, resp.Answer)
	}

	// Another model, at crawl or ask time: a clear error naming both.
	_, _, err = sitebot(t, env, "ask", "--data", data, "--model", "", "--embed-model", "bge-m3", "refund")
	require.ErrorIs(t, err, indexer.ErrEmbedderMismatch)
	assert.Contains(t, err.Error(), fmt.Sprintf(`built with embedding model %q, not "bge-m3"`, model))
	_, _, err = sitebot(t, env, "crawl", site, "--data", data, "--embed-model", "bge-m3")
	require.ErrorIs(t, err, indexer.ErrEmbedderMismatch)

	// A model that is not pulled names the fix.
	_, _, err = sitebot(t, env, "crawl", site, "--data", t.TempDir(), "--embed-model", "sitebot-no-such-embedder")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ollama pull sitebot-no-such-embedder")

	// serve says it searches hybrid (start-up line), then stops with ctx.
	ctx, cancel := context.WithCancel(context.Background())
	var buf, errBuf testenv.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", data, "--model", "", "--addr", "127.0.0.1:0"},
			func(k string) string { return env[k] }, &buf, &errBuf)
	}()
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), "sitebot is answering") }, 30*time.Second, 50*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, buf.String(), "hybrid search with embedding model "+model)
}
