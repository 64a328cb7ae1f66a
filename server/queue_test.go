package server

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sitebot/sitebot/llm"
)

// gatedModel blocks every call until release is closed, counting the calls
// in flight.
type gatedModel struct {
	release  chan struct{}
	started  chan struct{}
	inFlight atomic.Int32
	maxSeen  atomic.Int32
}

func (m *gatedModel) Chat(ctx context.Context, _ []llm.Message, onToken func(string) error) (string, error) {
	n := m.inFlight.Add(1)
	defer m.inFlight.Add(-1)
	for {
		old := m.maxSeen.Load()
		if n <= old || m.maxSeen.CompareAndSwap(old, n) {
			break
		}
	}
	m.started <- struct{}{}
	select {
	case <-m.release:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	const answer = "Invoices are on the billing page [1]."
	return answer, onToken(answer)
}

func TestModelConcurrencyAndQueue(t *testing.T) {
	model := &gatedModel{release: make(chan struct{}), started: make(chan struct{}, 16)}
	s := New(Config{Logger: quietLogger(), ModelConcurrency: 2, ModelQueue: 1, ModelQueueWait: time.Minute},
		&fakeRetriever{result: hits()}, model, nil)

	type result struct {
		resp ChatResponse
		err  error
	}
	results := make(chan result, 4)
	ask := func() {
		resp, err := s.Answer(context.Background(), ChatRequest{Message: "Where are my invoices?"}, nil)
		results <- result{resp, err}
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(ask)
	}
	<-model.started
	<-model.started // two calls in flight

	wg.Go(ask) // the third waits in the queue
	require.Eventually(t, func() bool { _, waiting := s.queue.stats(); return waiting == 1 }, 5*time.Second, time.Millisecond)
	select {
	case <-model.started:
		t.Fatal("a third call started while two were in flight")
	case <-time.After(50 * time.Millisecond):
	}

	// The queue is full: the fourth is answered extractively, at once.
	full, err := s.Answer(context.Background(), ChatRequest{Message: "Where are my invoices?"}, nil)
	require.NoError(t, err)
	assert.Equal(t, ModeExtractive, full.Mode)
	assert.False(t, full.Refused)
	assert.Contains(t, full.Answer, "https://docs.example.com/billing#invoices")

	close(model.release) // the two finish; the queued one runs
	wg.Wait()
	close(results)
	for r := range results {
		require.NoError(t, r.err)
		assert.Equal(t, ModeLLM, r.resp.Mode)
	}
	assert.Equal(t, int32(2), model.maxSeen.Load(), "never more than 2 in flight")
	inFlight, waiting := s.queue.stats()
	assert.Zero(t, inFlight)
	assert.Zero(t, waiting)
}

func TestModelQueueWaitFallsBack(t *testing.T) {
	model := &gatedModel{release: make(chan struct{}), started: make(chan struct{}, 16)}
	s := New(Config{Logger: quietLogger(), ModelConcurrency: 1, ModelQueueWait: 50 * time.Millisecond},
		&fakeRetriever{result: hits()}, model, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = s.Answer(context.Background(), ChatRequest{Message: "Where are my invoices?"}, nil)
	}()
	<-model.started

	start := time.Now()
	resp, err := s.Answer(context.Background(), ChatRequest{Message: "Where are my invoices?"}, nil)
	require.NoError(t, err)
	assert.Equal(t, ModeExtractive, resp.Mode, "waited too long: extractive")
	assert.Less(t, time.Since(start), 5*time.Second)

	// A visitor who leaves while queued gets no answer, and leaves no waiter.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Answer(ctx, ChatRequest{Message: "Where are my invoices?"}, nil)
		errc <- err
	}()
	require.Eventually(t, func() bool { _, w := s.queue.stats(); return w == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-errc, context.Canceled)

	close(model.release)
	<-done
}

func TestModelQueueIsFIFO(t *testing.T) {
	q := newModelQueue(1, 10, time.Minute)
	release, err := q.acquire(t.Context())
	require.NoError(t, err)
	order := make(chan int, 5)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			r, err := q.acquire(t.Context())
			if err != nil {
				t.Error(err)
				return
			}
			order <- i
			r()
		})
		require.Eventually(t, func() bool { _, w := q.stats(); return w == int64(i+1) }, 5*time.Second, time.Millisecond)
	}
	release()
	wg.Wait()
	close(order)
	var got []int
	for i := range order {
		got = append(got, i)
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4}, got)
}
