package cache

import (
	"context"
	"log/slog"
	"math/bits"
	"sync/atomic"
	"time"
)

// Stats are the cache counters, a snapshot taken by (*Cache).Stats. Every
// count is since Open. A lookup of one key is one hit or one miss, whether it
// came through Get or GetMany.
type Stats struct {
	// Hits are lookups answered by some tier.
	Hits int64 `json:"cache_hits"`
	// Misses are lookups no tier answered (invalid keys included).
	Misses int64 `json:"cache_misses"`
	// L1Hits, L2Hits and L3Hits split Hits by the tier that answered.
	L1Hits int64 `json:"l1_hits"`
	L2Hits int64 `json:"l2_hits"`
	L3Hits int64 `json:"l3_hits"`
	// InvalidKeys counts keys refused because they are not a canonical IP
	// address text, and Set items refused for an empty or oversized (>1 MiB)
	// value; each is also counted in Errors (and Misses for lookups).
	InvalidKeys int64 `json:"invalid_keys"`
	// Errors is InvalidKeys plus the Errors of every tier.
	Errors int64 `json:"errors"`
	// L1, L2 and L3 are the per-tier counters.
	L1 TierStats `json:"l1"`
	L2 TierStats `json:"l2"`
	L3 TierStats `json:"l3"`
}

// TierStats are the counters of one tier.
type TierStats struct {
	// Enabled tells whether the tier is configured.
	Enabled bool `json:"enabled"`
	// Backend names the store: "redis", "sqlite", "postgres" or "disk".
	Backend string `json:"backend,omitempty"`
	// Up is false while the tier is backing off after a failure (reads or
	// writes are then skipped until the next probe succeeds).
	Up bool `json:"up"`
	// Hits and Misses count lookups that reached the tier; a skipped, failed,
	// expired or corrupt lookup is a miss.
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
	// Corrupt counts stored values the validity check refused.
	Corrupt int64 `json:"corrupt"`
	// Errors counts failed operations (network, SQL, lock, file system).
	Errors int64 `json:"errors"`
	// Skipped counts operations not attempted because the tier was backing
	// off after a failure.
	Skipped int64 `json:"skipped"`
	// Writes counts values written, warming included.
	Writes int64 `json:"writes"`
	// Queued is the number of values waiting in the tier's write-behind
	// queue (or being written) when the snapshot was taken.
	Queued int64 `json:"queued"`
	// Dropped counts values that were queued for the tier but never
	// written: pushed out of a full queue (the oldest go first), in a batch
	// the tier failed, or left while the tier was down at a Flush or Close.
	Dropped int64 `json:"dropped"`
	// GetLatency and SetLatency time the tier's read and write operations
	// (one operation may carry a batch).
	GetLatency Latency `json:"get_latency"`
	SetLatency Latency `json:"set_latency"`
}

// Latency summarises a latency histogram. Quantiles are accurate to about
// ±12% (four buckets per power of two).
type Latency struct {
	// Count is the number of operations timed.
	Count int64 `json:"count"`
	// SumMicros is their total duration in microseconds: SumMicros/Count is
	// the mean, and rates of both make a dashboard's moving average.
	SumMicros float64 `json:"sum_us"`
	// P50Micros and P99Micros are the median and 99th percentile in
	// microseconds (0 when Count is 0).
	P50Micros float64 `json:"p50_us"`
	P99Micros float64 `json:"p99_us"`
}

// histBuckets covers durations up to 2^40 ns (about 18 minutes).
const histBuckets = 160

// histogram is a lock-free log-linear latency histogram: four buckets per
// power of two of nanoseconds.
type histogram struct {
	count   atomic.Int64
	sum     atomic.Int64
	buckets [histBuckets]atomic.Int64
}

// bucketOf maps a duration in nanoseconds to its bucket.
func bucketOf(ns int64) int {
	if ns < 4 {
		return int(max(ns, 0))
	}
	e := bits.Len64(uint64(ns)) - 1 // ≥ 2
	m := int(ns>>(e-2)) & 3
	return min(4*(e-1)+m, histBuckets-1)
}

// bucketMid is the middle of bucket i, in nanoseconds.
func bucketMid(i int) float64 {
	if i < 4 {
		return float64(i)
	}
	e, m := i/4+1, i%4
	lo := float64(int64(4+m) << (e - 2))
	hi := float64(int64(5+m) << (e - 2))
	return (lo + hi) / 2
}

// observe records one duration.
func (h *histogram) observe(d time.Duration) {
	ns := int64(d)
	h.count.Add(1)
	h.sum.Add(ns)
	h.buckets[bucketOf(ns)].Add(1)
}

// snapshot summarises the histogram.
func (h *histogram) snapshot() Latency {
	var counts [histBuckets]int64
	var total int64
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	l := Latency{Count: h.count.Load(), SumMicros: float64(h.sum.Load()) / 1e3}
	if total == 0 {
		return l
	}
	l.P50Micros = quantile(&counts, total, 0.50) / 1e3
	l.P99Micros = quantile(&counts, total, 0.99) / 1e3
	return l
}

// quantile returns the middle of the bucket holding quantile q.
func quantile(counts *[histBuckets]int64, total int64, q float64) float64 {
	rank := int64(q*float64(total-1)) + 1
	var seen int64
	for i, n := range counts {
		seen += n
		if seen >= rank {
			return bucketMid(i)
		}
	}
	return bucketMid(histBuckets - 1)
}

// epoch anchors monotonic time for the breakers.
var epoch = time.Now()

// nanotime is monotonic nanoseconds since epoch (always > 0 after start).
func nanotime() int64 { return int64(time.Since(epoch)) + 1 }

// breaker skips a tier for an interval after a failure, so a dead server
// costs one probe per interval instead of one timeout per call. While the
// window is open every call is skipped; when it ends, exactly one caller
// claims the probe (the window is pushed forward for the others) and its
// outcome closes or reopens the breaker.
type breaker struct {
	interval  int64        // ns
	downUntil atomic.Int64 // monotonic ns; 0 = up
}

// allow tells whether the caller may use the tier now.
func (b *breaker) allow() bool {
	d := b.downUntil.Load()
	if d == 0 {
		return true
	}
	now := nanotime()
	if now < d {
		return false
	}
	return b.downUntil.CompareAndSwap(d, now+b.interval)
}

// fail opens the breaker; it reports whether the tier was up before.
func (b *breaker) fail() bool {
	return b.downUntil.Swap(nanotime()+b.interval) == 0
}

// succeed closes the breaker; it reports whether the tier was down before.
func (b *breaker) succeed() bool {
	if b.downUntil.Load() == 0 {
		return false
	}
	return b.downUntil.Swap(0) != 0
}

// remaining is how long the breaker stays open (0 when closed or due for
// its probe).
func (b *breaker) remaining() time.Duration {
	d := b.downUntil.Load()
	if d == 0 {
		return 0
	}
	return time.Duration(max(d-nanotime(), 0))
}

// up tells whether the breaker is closed.
func (b *breaker) up() bool { return b.downUntil.Load() == 0 }

// tier holds what every tier shares: its name, counters and breakers.
type tier struct {
	name    string // "l1", "l2", "l3"
	backend string
	log     *slog.Logger
	rb, wb  breaker // reads, writes

	hits, misses, corrupt, errors, skipped, writes atomic.Int64
	getLat, setLat                                 histogram
}

// init names the tier and sets its breakers to back off for retry.
func (t *tier) init(name, backend string, log *slog.Logger, retry time.Duration) {
	t.name, t.backend, t.log = name, backend, log
	t.rb.interval = int64(retry)
	t.wb.interval = int64(retry)
}

// probe checks a tier once at open, within timeout: when check fails the
// tier starts down for reads and writes (both breakers open) instead of
// making the first lookups wait for it.
func (t *tier) probe(timeout time.Duration, check func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := check(ctx); err != nil {
		t.failed(context.Background(), &t.rb, "open", err)
		t.wb.fail()
	}
}

// failed counts a failed operation and opens breaker b, logging the
// transition to down. A failure caused by the caller's own context is
// counted but does not open the breaker.
func (t *tier) failed(ctx context.Context, b *breaker, op string, err error) {
	t.errors.Add(1)
	if b == nil || ctx.Err() != nil {
		return
	}
	if b.fail() {
		t.log.Warn("cache tier unavailable, backing off", "tier", t.name, "backend", t.backend,
			"op", op, "retry_in", time.Duration(b.interval), "err", err)
	}
}

// succeeded closes breaker b, logging the transition back to up.
func (t *tier) succeeded(b *breaker, op string) {
	if b.succeed() {
		t.log.Info("cache tier back", "tier", t.name, "backend", t.backend, "op", op)
	}
}

// allowRead tells whether a read may run now, counting a skip if not.
func (t *tier) allowRead() bool {
	if t.rb.allow() {
		return true
	}
	t.skipped.Add(1)
	return false
}

// allowWrite tells whether a write may run now, counting a skip if not.
func (t *tier) allowWrite() bool {
	if t.wb.allow() {
		return true
	}
	t.skipped.Add(1)
	return false
}

// stats snapshots the tier's counters.
func (t *tier) stats() TierStats {
	if t == nil {
		return TierStats{}
	}
	return TierStats{
		Enabled:    true,
		Backend:    t.backend,
		Up:         t.rb.up() && t.wb.up(),
		Hits:       t.hits.Load(),
		Misses:     t.misses.Load(),
		Corrupt:    t.corrupt.Load(),
		Errors:     t.errors.Load(),
		Skipped:    t.skipped.Load(),
		Writes:     t.writes.Load(),
		GetLatency: t.getLat.snapshot(),
		SetLatency: t.setLat.snapshot(),
	}
}
