package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/internal/testenv"
)

// BenchmarkCrawlPlausible measures `sitebot crawl` of the plausible fixture
// over loopback into a fresh data directory: fetching, extraction, chunking
// and the SQLite writes.
func BenchmarkCrawlPlausible(b *testing.B) {
	dir := testenv.Shared(b, "fixtures/sites/plausible")
	site := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer site.Close()
	var s indexer.Stats
	for b.Loop() {
		out, _, err := sitebot(b, nil, "crawl", site.URL+"/", "--data", b.TempDir(), "--json")
		require.NoError(b, err)
		require.NoError(b, json.Unmarshal([]byte(lastLine(out)), &s))
	}
	b.ReportMetric(float64(s.Pages), "pages")
	b.ReportMetric(float64(s.Chunks), "chunks")
}

// BenchmarkAskExtractive measures `sitebot ask` without a language model,
// as a user runs it: open the index, retrieve, answer, print JSON. It reports
// the median over 20 different questions (the manifest's FAQ questions).
func BenchmarkAskExtractive(b *testing.B) {
	dir := testenv.Shared(b, "fixtures/sites/plausible")
	var m testenv.SiteManifest
	testenv.ReadManifest(b, dir, &m)
	site := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer site.Close()
	data := b.TempDir()
	_, _, err := sitebot(b, nil, "crawl", site.URL+"/", "--data", data)
	require.NoError(b, err)
	questions := m.FAQPairs[:min(20, len(m.FAQPairs))]

	var took []time.Duration
	for b.Loop() {
		for _, q := range questions {
			start := time.Now()
			_, _, err := sitebot(b, nil, "ask", "--json", "--data", data, "--model", "", q.Question)
			require.NoError(b, err)
			took = append(took, time.Since(start))
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms/ask")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms/ask")
	b.ReportMetric(float64(len(questions)), "questions")
}

// BenchmarkCrawlVsWget crawls the plausible fixture over loopback with
// `sitebot crawl` (a full crawl into a new index, then an unchanged
// re-crawl that gets 304s) and with `wget --recursive --level=inf -e
// robots=on`, side by side against one server, and reports pages per second
// for each and the ratios. It skips when wget is not installed.
func BenchmarkCrawlVsWget(b *testing.B) {
	wget, err := exec.LookPath("wget")
	if err != nil {
		b.Skip("wget not installed (apt-get install wget)")
	}
	dir := testenv.Shared(b, "fixtures/sites/plausible")
	site := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer site.Close()

	var full, again, wgetTime time.Duration
	var pages int
	for b.Loop() {
		data := b.TempDir()
		start := time.Now()
		out, _, err := sitebot(b, nil, "crawl", site.URL+"/", "--data", data, "--json")
		require.NoError(b, err)
		full += time.Since(start)
		var s indexer.Stats
		require.NoError(b, json.Unmarshal([]byte(lastLine(out)), &s))
		pages = s.Pages

		start = time.Now()
		_, _, err = sitebot(b, nil, "crawl", site.URL+"/", "--data", data, "--json")
		require.NoError(b, err)
		again += time.Since(start)

		start = time.Now()
		cmd := exec.Command(wget, "--recursive", "--level=inf", "-e", "robots=on", "--quiet",
			"--directory-prefix", b.TempDir(), site.URL+"/")
		_ = cmd.Run() // wget exits 8 for the fixture's deliberate 404 link
		wgetTime += time.Since(start)
	}
	n := float64(b.N)
	rate := func(d time.Duration) float64 { return float64(pages) / (d.Seconds() / n) }
	b.ReportMetric(rate(full), "sitebot-pages/s")
	b.ReportMetric(rate(again), "sitebot-recrawl-pages/s")
	b.ReportMetric(rate(wgetTime), "wget-pages/s")
	b.ReportMetric(rate(full)/rate(wgetTime), "full/wget")
	b.ReportMetric(rate(again)/rate(wgetTime), "recrawl/wget")
}
