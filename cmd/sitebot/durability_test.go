package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer/embedded"
	"github.com/sitebot/sitebot/internal/testenv"
)

// childArgsEnv makes the test binary run `sitebot` with these JSON-encoded
// arguments instead of the tests (see TestMain).
const childArgsEnv = "SITEBOT_TEST_CHILD_ARGS"

// TestCrawlSurvivesKill9 kills `sitebot crawl` with SIGKILL at several
// points while it writes the index, then checks the index is whole and
// consistent, that serving from it works, and that the next crawl completes.
func TestCrawlSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns crawls to kill (-short)")
	}
	dir := testenv.Shared(t, "fixtures/sites/plausible")
	files := http.FileServer(http.Dir(dir))
	var served atomic.Int64
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		time.Sleep(5 * time.Millisecond) // slow enough to be caught mid-crawl
		files.ServeHTTP(w, r)
	}))
	defer site.Close()
	data := t.TempDir()

	for _, killAfter := range []int64{15, 60, 110} {
		served.Store(0)
		args, err := json.Marshal([]string{"crawl", site.URL + "/", "--data", data})
		require.NoError(t, err)
		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), childArgsEnv+"="+string(args))
		require.NoError(t, child.Start())
		deadline := time.Now().Add(30 * time.Second)
		for served.Load() < killAfter && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		require.NoError(t, child.Process.Kill(), "SIGKILL")
		_ = child.Wait()

		ctx := context.Background()
		ix, err := embedded.Open(ctx, data+"/index.db")
		require.NoError(t, err, "the index opens after kill -9 at request %d", killAfter)
		require.NoError(t, ix.Check(ctx), "the index is consistent after kill -9 at request %d", killAfter)
		pages, _, err := ix.Counts(ctx)
		require.NoError(t, err)
		t.Logf("killed after %d requests: %d pages indexed", killAfter, pages)
		require.NoError(t, ix.Close())
	}

	out, _, err := sitebot(t, nil, "crawl", site.URL+"/", "--data", data, "--json")
	require.NoError(t, err, "a crawl after the kills completes")
	var s struct{ Pages, New, Changed, Unchanged int }
	require.NoError(t, json.Unmarshal([]byte(lastLine(out)), &s))
	var m testenv.SiteManifest
	testenv.ReadManifest(t, dir, &m)
	assert.Equal(t, len(m.Pages), s.Pages)
	assert.Equal(t, s.Pages, s.New+s.Changed+s.Unchanged)

	ix, err := embedded.Open(context.Background(), data+"/index.db")
	require.NoError(t, err)
	defer ix.Close()
	require.NoError(t, ix.Check(context.Background()))
}
