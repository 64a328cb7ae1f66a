package server

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/llm"
)

// BenchmarkOllamaTimeToFirstToken measures, with the real tiny model of the
// test environment (skipped without one), the time from sending a chat over
// a real loopback HTTP server to reading its first SSE token event, and
// reports the p50 and p99 (run with -benchtime=20x for about 20 requests).
func BenchmarkOllamaTimeToFirstToken(b *testing.B) {
	ts, _ := ollamaServer(b, llm.WithMaxTokens(16))
	ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
	defer cancel()
	// One call to load the model, not measured.
	resp := postChat(ctx, b, ts.URL, "text/event-stream", "Where can I download my invoices?")
	readEvents(b, resp.Body)

	var durs []time.Duration
	for b.Loop() {
		start := time.Now()
		resp := postChat(ctx, b, ts.URL, "text/event-stream", "Where can I download my invoices?")
		sc := bufio.NewScanner(resp.Body)
		first := time.Duration(0)
		for sc.Scan() {
			if first == 0 && strings.HasPrefix(sc.Text(), "event: token") {
				first = time.Since(start)
			}
		}
		require.NoError(b, sc.Err())
		resp.Body.Close()
		if first > 0 {
			durs = append(durs, first)
		}
	}
	reportPercentiles(b, durs)
	b.ReportMetric(float64(len(durs)), "streamed")
}
