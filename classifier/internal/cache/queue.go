package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultQueue is the bound of each tier's write-behind queue when
// Config.QueueSize leaves it 0: a bulk of 100,000 new answers fits whole.
const DefaultQueue = 1 << 17

// Batch sizes of the writers: a Redis pipeline stays well inside its
// writer's timeout (redisWriterTimeout; ~1 ms on loopback), a SQL
// transaction holds the write lock briefly.
const (
	redisBatch = 500
	sqlBatch   = 2000
	diskBatch  = 256
)

// writeQueue is one tier's write-behind queue: Set enqueues and returns; a
// goroutine writes the entries in batches. It is bounded: when full, the
// oldest entries are dropped and counted. While the tier is backing off
// after a failure the writer waits, keeping the entries queued, unless a
// Flush or Close is waiting: then it drops them (counted) so both end.
type writeQueue struct {
	t     *tier
	batch int
	max   int
	// write stores a batch and reports how many entries it stored.
	write func([]entry) int

	mu       sync.Mutex
	pending  []entry
	inflight int             // entries taken by the writer, not yet stored
	waiters  []chan struct{} // Flush calls waiting for an empty queue
	closing  bool

	wake    chan struct{} // buffered 1: work or a waiter arrived
	stop    chan struct{} // closed by close
	done    chan struct{} // closed when the writer returns
	dropped atomic.Int64
}

// newQueue starts the writer of tier t.
func newQueue(t *tier, max, batch int, write func([]entry) int) *writeQueue {
	q := &writeQueue{t: t, max: max, batch: batch, write: write,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

// signal wakes the writer without blocking.
func (q *writeQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push enqueues es, dropping the oldest entries beyond the bound. A nil
// queue and a closing one take nothing (a closing one counts it).
func (q *writeQueue) push(es []entry) {
	if q == nil || len(es) == 0 {
		return
	}
	q.mu.Lock()
	if q.closing {
		q.mu.Unlock()
		q.dropped.Add(int64(len(es)))
		return
	}
	if len(es) > q.max {
		q.dropped.Add(int64(len(es) - q.max))
		es = es[len(es)-q.max:]
	}
	if over := len(q.pending) + len(es) - q.max; over > 0 {
		q.dropped.Add(int64(over))
		clear(q.pending[:over]) // release the values
		q.pending = q.pending[over:]
	}
	q.pending = append(q.pending, es...)
	q.mu.Unlock()
	q.signal()
}

// depth is the number of entries not yet stored.
func (q *writeQueue) depth() int64 {
	if q == nil {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return int64(len(q.pending) + q.inflight)
}

// take removes the next batch (nil when empty) and tells whether a Flush
// or Close is waiting. When the queue is empty and nothing is in flight it
// releases the Flush waiters.
func (q *writeQueue) take() (b []entry, urgent, closing bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		q.pending = nil // let the backing array go
		if q.inflight == 0 {
			for _, w := range q.waiters {
				close(w)
			}
			q.waiters = nil
		}
		return nil, false, q.closing
	}
	n := min(len(q.pending), q.batch)
	b = make([]entry, n)
	copy(b, q.pending)
	clear(q.pending[:n])
	q.pending = q.pending[n:]
	q.inflight += n
	return b, len(q.waiters) > 0 || q.closing, q.closing
}

// stored ends a batch of n entries of which written were stored.
func (q *writeQueue) stored(n, written int) {
	q.dropped.Add(int64(n - written))
	q.mu.Lock()
	q.inflight -= n
	q.mu.Unlock()
}

// run is the writer.
func (q *writeQueue) run() {
	defer close(q.done)
	for {
		b, urgent, closing := q.take()
		if b == nil {
			if closing {
				return
			}
			select {
			case <-q.wake:
			case <-q.stop:
			}
			continue
		}
		if !urgent {
			// The tier is backing off: wait it out with the batch in
			// hand (counted as queued) rather than drop it.
			if wait := q.t.wb.remaining(); wait > 0 {
				timer := time.NewTimer(wait)
				select {
				case <-timer.C:
				case <-q.stop:
				case <-q.wake: // a Flush may be waiting: look again
				}
				timer.Stop()
			}
		}
		q.stored(len(b), q.write(b))
	}
}

// flush waits until every entry enqueued before it is stored or dropped,
// or ctx ends.
func (q *writeQueue) flush(ctx context.Context) error {
	if q == nil {
		return nil
	}
	q.mu.Lock()
	if len(q.pending) == 0 && q.inflight == 0 {
		q.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	q.waiters = append(q.waiters, w)
	q.mu.Unlock()
	q.signal()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stores (or, for a tier that is down, drops) what is queued and
// stops the writer; a nil queue is fine.
func (q *writeQueue) close() {
	if q == nil {
		return
	}
	q.mu.Lock()
	already := q.closing
	q.closing = true
	q.mu.Unlock()
	if !already {
		close(q.stop)
	}
	<-q.done
}

// inBatches calls write on consecutive slices of es of at most n entries
// and sums what it reports stored.
func inBatches(es []entry, n int, write func([]entry) int) int {
	written := 0
	for len(es) > 0 {
		k := min(n, len(es))
		written += write(es[:k])
		es = es[k:]
	}
	return written
}
