package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/internal/testenv"
)

// BenchmarkCrawlPlausible measures `sitebot crawl` of the plausible fixture
// over loopback into a fresh data directory: fetching, extraction, chunking
// and the SQLite writes.
func BenchmarkCrawlPlausible(b *testing.B) {
	dir := testenv.Shared(b, "fixtures/sites/plausible")
	site := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer site.Close()
	var s crawlSummary
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
