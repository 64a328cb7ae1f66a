package server

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// Errors of modelQueue.acquire that send an answer to the extractive
// fallback instead of the model.
var (
	errQueueFull    = errors.New("too many answers are waiting for the model")
	errQueueTimeout = errors.New("waited too long for the model")
)

// modelQueue bounds the model calls in flight: at most `slots` at once,
// the others wait in a FIFO queue (golang.org/x/sync/semaphore serves
// waiters in order) of at most `max` entries, each for at most `wait`.
type modelQueue struct {
	sem     *semaphore.Weighted
	slots   int
	max     int64
	wait    time.Duration
	waiting atomic.Int64
	busy    atomic.Int64
}

func newModelQueue(slots, max int, wait time.Duration) *modelQueue {
	return &modelQueue{sem: semaphore.NewWeighted(int64(slots)), slots: slots, max: int64(max), wait: wait}
}

// acquire waits for a slot and returns its release. It fails with
// errQueueFull when the queue is full, errQueueTimeout when the wait is
// over (at most q.wait, and at most half of what is left of ctx, so that
// there is time to answer otherwise), or ctx's error.
func (q *modelQueue) acquire(ctx context.Context) (release func(), err error) {
	if q.sem.TryAcquire(1) {
		return q.held(), nil
	}
	if q.waiting.Add(1) > q.max {
		q.waiting.Add(-1)
		return nil, errQueueFull
	}
	defer q.waiting.Add(-1)
	wait := q.wait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl)/2)
	}
	wctx, cancel := context.WithTimeoutCause(ctx, wait, errQueueTimeout)
	defer cancel()
	if err := q.sem.Acquire(wctx, 1); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errQueueTimeout
	}
	return q.held(), nil
}

func (q *modelQueue) held() func() {
	q.busy.Add(1)
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			q.busy.Add(-1)
			q.sem.Release(1)
		}
	}
}

// stats reports the calls in flight and waiting, for logs.
func (q *modelQueue) stats() (inFlight, waiting int64) { return q.busy.Load(), q.waiting.Load() }
