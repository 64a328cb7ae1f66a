package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/indexer"
	"github.com/sitebot/sitebot/llm"
	"github.com/sitebot/sitebot/retriever"
)

// fakeRetriever returns a fixed result and records the questions.
type fakeRetriever struct {
	result retriever.Result
	err    error

	mu        sync.Mutex
	questions []string
}

func (f *fakeRetriever) Retrieve(_ context.Context, q string, _ int) (retriever.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.questions = append(f.questions, q)
	return f.result, f.err
}

func (f *fakeRetriever) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.questions)
}

var _ Retriever = (*fakeRetriever)(nil)

// fakeModel streams tokens, or fails, or blocks until its ctx is done.
type fakeModel struct {
	tokens   []string
	err      error // returned after the tokens
	blockAll bool  // after the tokens, wait until ctx is done

	mu    sync.Mutex
	calls [][]llm.Message
	ended chan error // ctx.Err() when Chat returns, if not nil
}

func (f *fakeModel) Chat(ctx context.Context, msgs []llm.Message, onToken func(string) error) (string, error) {
	f.mu.Lock()
	f.calls = append(f.calls, msgs)
	f.mu.Unlock()
	if f.ended != nil {
		defer func() { f.ended <- ctx.Err() }()
	}
	var b strings.Builder
	for _, t := range f.tokens {
		if err := ctx.Err(); err != nil {
			return b.String(), err
		}
		b.WriteString(t)
		if err := onToken(t); err != nil {
			return b.String(), err
		}
	}
	if f.blockAll {
		<-ctx.Done()
		return b.String(), ctx.Err()
	}
	return b.String(), f.err
}

func (f *fakeModel) prompts() [][]llm.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]llm.Message(nil), f.calls...)
}

var _ Model = (*fakeModel)(nil)

func hits() retriever.Result {
	return retriever.Result{
		Confidence: 0.9,
		Hits: []indexer.Hit{
			{Chunk: indexer.Chunk{URL: "https://docs.example.com/billing#invoices", PageURL: "https://docs.example.com/billing",
				Title: "Billing", Heading: "Invoices", Text: "You can download your invoices from the billing page of your account settings."}, Score: 3.5},
			{Chunk: indexer.Chunk{URL: "https://docs.example.com/account", PageURL: "https://docs.example.com/account",
				Title: "Account settings", Text: "The account settings let you change your email address and password."}, Score: 1.25},
			{Chunk: indexer.Chunk{URL: "https://docs.example.com/billing#invoices", Title: "Billing", Heading: "Invoices", Text: "duplicate"}, Score: 1},
		},
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// sseEvent is one server-sent event.
type sseEvent struct{ Event, Data string }

// readEvents parses a text/event-stream body until EOF.
func readEvents(t testing.TB, r io.Reader) []sseEvent {
	t.Helper()
	var events []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.Event != "" || cur.Data != "" {
				events = append(events, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			cur.Event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.Data += strings.TrimPrefix(line, "data: ")
		default:
			t.Fatalf("unexpected SSE line %q", line)
		}
	}
	return events
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(s), &v), s)
	return v
}
