package server

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/retriever"
)

// realisticHits are 5 hits of ~900 characters each, as the retriever
// returns for a help-center question.
func realisticHits() retriever.Result {
	var hs []indexer.Hit
	for i := range 5 {
		text := strings.Repeat(fmt.Sprintf("Section %d explains how invoices, plans and billing work for your account. ", i), 12)
		hs = append(hs, indexer.Hit{Chunk: indexer.Chunk{
			URL: fmt.Sprintf("https://docs.example.com/billing/%d#invoices", i), Title: "Billing", Heading: fmt.Sprintf("Part %d", i), Text: text,
		}, Score: float64(10 - i)})
	}
	return retriever.Result{Confidence: 0.9, Hits: hs}
}

func TestBudgetDropsPassagesAndSources(t *testing.T) {
	var logs bytes.Buffer
	model := &fakeModel{tokens: []string{"Answer [1]."}}
	s := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), ContextBudget: 700},
		&fakeRetriever{result: realisticHits()}, model, nil)
	resp, err := s.Answer(t.Context(), ChatRequest{Message: "How do invoices work?"}, nil)
	require.NoError(t, err)
	require.Len(t, model.prompts(), 1)
	prompt := model.prompts()[0]
	n := strings.Count(prompt[len(prompt)-1].Content, "<source ")
	assert.Less(t, n, 5)
	assert.Len(t, resp.Sources, n, "sources are the passages the model saw")
	assert.Contains(t, logs.String(), "prompt fitted to the context budget")
	assert.Contains(t, logs.String(), "budget=700")
	assert.NotContains(t, logs.String(), "Section 4 explains", "never the text")
}

// BenchmarkChatTurnOverhead measures the server's own time per chat turn
// (JSON over the handler: decoding, gate, retrieval call, prompt budgeting,
// link filtering, encoding), with a retriever and a model that answer at
// once, without and with the SQLite conversation store. It reports p50 and
// p99 per turn.
func BenchmarkChatTurnOverhead(b *testing.B) {
	tokens := strings.Fields("You can download your invoices from the billing page [1]. See https://docs.example.com/billing/0#invoices for details.")
	for i := range tokens {
		tokens[i] += " "
	}
	for _, withStore := range []bool{false, true} {
		name := "no-store"
		if withStore {
			name = "sqlite-store"
		}
		b.Run(name, func(b *testing.B) {
			var s *Server
			model := &fakeModel{tokens: tokens}
			if withStore {
				s = New(Config{Logger: quietLogger()}, &fakeRetriever{result: realisticHits()}, model, openConversations(b))
			} else {
				s = New(Config{Logger: quietLogger()}, &fakeRetriever{result: realisticHits()}, model, nil)
			}
			h := s.Handler()
			durs := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				rec := do(h, chatRequest(`{"message": "How do I download my invoices?"}`, "application/json"))
				durs = append(durs, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Body.String())
				}
			}
			reportPercentiles(b, durs)
			model.mu.Lock()
			model.calls = nil // the fake keeps every prompt
			model.mu.Unlock()
		})
	}
}

func reportPercentiles(b *testing.B, durs []time.Duration) {
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	p := func(q float64) float64 {
		return float64(durs[min(int(q*float64(len(durs))), len(durs)-1)].Microseconds())
	}
	b.ReportMetric(p(0.50), "p50-µs")
	b.ReportMetric(p(0.99), "p99-µs")
}
