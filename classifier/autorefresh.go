package classifier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/internal/snapshot"
)

// autoBusyRetry is how soon the background refresh tries again when
// another process holds the data directory's refresh lock: that process is
// downloading, and what it saves is adopted, not downloaded again.
const autoBusyRetry = time.Second

// AutoRefreshStats describes the background refresh (Config.AutoRefresh).
// The zero value is a disabled one that never ran.
type AutoRefreshStats struct {
	Enabled bool `json:"enabled"`
	// Runs counts the refreshes it ran, Failed the sources that failed in
	// them, Busy the times it found another process refreshing the data
	// directory (it then adopts that process's snapshots).
	Runs   int64 `json:"runs"`
	Failed int64 `json:"failed"`
	Busy   int64 `json:"busy"`
	// LastRunAt is when the last run ended, NextRunAt when the next is
	// planned (zero: none yet, or disabled).
	LastRunAt time.Time `json:"last_run_at"`
	NextRunAt time.Time `json:"next_run_at"`
	// LastError is the error of the last run's first failed source.
	LastError string `json:"last_error,omitempty"`
}

// autoRefresher is the background refresh of one engine.
type autoRefresher struct {
	cancel context.CancelFunc
	done   chan struct{}

	runs, failed, busy atomic.Int64
	mu                 sync.Mutex // guards the fields below
	lastRunAt, nextAt  time.Time
	lastError          string
}

// startAutoRefresh starts the background refresh: it refreshes every
// source that is due (as Refresh(GroupAll, false) does: adopting what
// another process saved, downloading the rest), sleeps until the next
// source is due, and again, until Close. A source that failed is tried
// again after Config.AutoRefreshRetry (at most its interval).
func (e *Engine) startAutoRefresh() {
	ctx, cancel := context.WithCancel(context.Background())
	a := &autoRefresher{cancel: cancel, done: make(chan struct{})}
	e.auto = a
	go func() {
		defer close(a.done)
		defer func() {
			if p := recover(); p != nil { // never take the host process down
				slog.Error("ipclassifier: background refresh stopped", "panic", fmt.Sprint(p))
			}
		}()
		var last time.Time // the last run: runs are at least autoBusyRetry apart
		for {
			wait := max(e.nextDue().Sub(e.cfg.Now()), time.Until(last.Add(autoBusyRetry)))
			a.mu.Lock()
			a.nextAt = time.Now().Add(wait)
			a.mu.Unlock()
			if wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
			if ctx.Err() != nil {
				return
			}
			last = time.Now()
			if !e.autoRefreshOnce(ctx, a) {
				select {
				case <-ctx.Done():
					return
				case <-time.After(autoBusyRetry):
				}
			}
		}
	}()
}

// autoRefreshOnce runs one background refresh; false when another process
// holds the data directory's lock (nothing was done).
func (e *Engine) autoRefreshOnce(ctx context.Context, a *autoRefresher) bool {
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	unlock, err := e.store.TryLock()
	if errors.Is(err, snapshot.ErrBusy) {
		a.busy.Add(1)
		return false
	}
	var rep RefreshReport
	if err == nil {
		todo := make([]int, len(e.sources))
		for i := range todo {
			todo[i] = i
		}
		rep = e.refreshLocked(ctx, GroupAll, todo, false)
		unlock()
	}
	a.runs.Add(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lastRunAt, a.lastError = time.Now(), ""
	if err != nil {
		a.lastError = err.Error()
		slog.Warn("ipclassifier: background refresh failed", "err", err)
		return true
	}
	for _, s := range rep.Sources {
		if s.Status == StatusFailed {
			a.failed.Add(1)
			if a.lastError == "" {
				a.lastError = s.Source + ": " + s.Error
			}
			slog.Warn("ipclassifier: background refresh of a source failed; its previous data stays", "source", s.Source, "err", s.Error)
		}
	}
	return true
}

// nextDue is when the next source is due: its interval after the last
// time its snapshot was confirmed, or — when its last attempt failed or it
// has no data — AutoRefreshRetry (at most its interval) after that attempt.
// A source never tried is due now.
func (e *Engine) nextDue() time.Time {
	metas := *e.metaView.Load()
	ix := e.idx.Load()
	var next time.Time
	for i, src := range e.sources {
		m := metas[src.Name]
		due := m.VerifiedAt.Add(src.Interval)
		if m.LastError != "" || ix.srcs[i].prefixes == 0 {
			due = m.LastAttemptAt.Add(min(e.cfg.AutoRefreshRetry.D(), src.Interval))
		}
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next
}

// stop ends the background refresh and waits for it; nil is fine.
func (a *autoRefresher) stop() {
	if a == nil {
		return
	}
	a.cancel()
	<-a.done
}

// stats reports the background refresh; nil is a disabled one.
func (a *autoRefresher) stats() AutoRefreshStats {
	if a == nil {
		return AutoRefreshStats{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return AutoRefreshStats{
		Enabled: true, Runs: a.runs.Load(), Failed: a.failed.Load(), Busy: a.busy.Load(),
		LastRunAt: a.lastRunAt.UTC(), NextRunAt: a.nextAt.UTC(), LastError: a.lastError,
	}
}
