package classifier

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
	"github.com/ipclassifier/ipclassifier/classifier/internal/snapshot"
)

// Refresh outcomes of one source (SourceReport.Status).
const (
	StatusUpdated     = "updated"      // new bytes downloaded, validated and swapped in
	StatusNotModified = "not_modified" // the server answered 304: our snapshot is current
	StatusSkipped     = "skipped"      // not due yet (its interval has not elapsed)
	StatusAdopted     = "adopted"      // another process persisted a newer snapshot: loaded from disk, not downloaded
	StatusFailed      = "failed"       // download, validation or adoption failed; the previous data stays
)

// SourceReport is the outcome of refreshing one source.
type SourceReport struct {
	Source     string    `json:"source"`
	Group      string    `json:"group"`
	URL        string    `json:"url"`
	Status     string    `json:"status"`
	Error      string    `json:"error,omitempty"`
	Bytes      int       `json:"bytes"`
	Entries    int       `json:"entries"`
	Malformed  int       `json:"malformed"`
	Bogons     int       `json:"bogons"`
	SnapshotAt time.Time `json:"snapshot_at"`
	Seconds    float64   `json:"seconds"`
}

// RefreshReport is the outcome of one Refresh call, one line per source of
// the group in source order.
type RefreshReport struct {
	Group   string         `json:"group"`
	Force   bool           `json:"force"`
	Sources []SourceReport `json:"sources"`
	Seconds float64        `json:"seconds"`
}

// Failed counts the sources whose refresh failed.
func (r RefreshReport) Failed() int {
	n := 0
	for _, s := range r.Sources {
		if s.Status == StatusFailed {
			n++
		}
	}
	return n
}

// refreshConcurrency bounds parallel downloads.
const refreshConcurrency = 4

// Refresh downloads the sources of group (GroupTor, GroupCloud,
// GroupDatacenter, GroupASN or GroupAll) whose interval has elapsed, or all of them
// when force is set. Each download is validated; a good one is persisted
// and a new index is swapped in at the end, a bad one leaves the previous
// data in place and flags its answers stale. force also accepts a list that
// shrank by more than half. The error is only for an unknown group or a
// closed engine; per-source failures are in the report. force also lifts
// the size limit of a download to the hard cap (see limitFor).
//
// Without force, a source whose snapshot on disk is newer than the one this
// engine holds (another process sharing the data directory refreshed it) is
// first loaded from disk (see adopt); it is downloaded only if it is still
// due after that.
//
// One process per data directory refreshes at a time (a file lock): Refresh
// waits for another process's refresh to end, then adopts what it saved
// instead of downloading it again. It also fails when ctx ends while it
// waits.
func (e *Engine) Refresh(ctx context.Context, group string, force bool) (RefreshReport, error) {
	if e.closed.Load() {
		return RefreshReport{}, ErrClosed
	}
	var todo []int
	for i, s := range e.sources {
		if group == GroupAll || s.Group == group {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return RefreshReport{}, fmt.Errorf("unknown refresh group %q (want %s or %s)", group, strings.Join(groups, ", "), GroupAll)
	}
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	unlock, err := e.store.Lock(ctx)
	if err != nil {
		return RefreshReport{}, err
	}
	defer unlock()
	return e.refreshLocked(ctx, group, todo, force), nil
}

// refreshLocked is Refresh of the sources todo (positions in e.sources);
// the caller holds refreshMu and the data directory's refresh lock.
func (e *Engine) refreshLocked(ctx context.Context, group string, todo []int, force bool) RefreshReport {
	start := time.Now()
	rep := RefreshReport{Group: group, Force: force, Sources: make([]SourceReport, len(todo))}
	var wg sync.WaitGroup
	sem := make(chan struct{}, refreshConcurrency)
	var mu sync.Mutex // guards e.current, e.metas and newData during the fan-out
	newData := false  // some source holds other data than before
	for k, i := range todo {
		wg.Add(1)
		go func(k int, src source) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			mu.Lock()
			meta, prev := e.metas[src.Name], e.current[src.Name]
			mu.Unlock()
			sr, newMeta, next := e.refreshOne(ctx, src, meta, prev, force)
			rep.Sources[k] = sr
			mu.Lock()
			e.metas[src.Name] = newMeta
			if next.has() {
				newData = newData || !sameLoaded(prev, next)
				e.current[src.Name] = next
			}
			mu.Unlock()
			e.stats.refreshed(src.Name, sr.Status)
		}(k, e.sources[i])
	}
	wg.Wait()
	changed := false
	for _, s := range rep.Sources {
		changed = changed || s.Status != StatusSkipped
	}
	switch {
	case changed && !newData:
		// Only times and stale flags moved (304s, failures): no new index,
		// so a refused download costs no rebuild either.
		e.idx.Store(e.idx.Load().restamped(e.sources, e.current))
	case changed:
		e.idx.Store(buildView(e.sources, e.current, e.names, e.cfg.profileOn()))
	}
	if changed {
		e.rebuildTimeline()
	}
	if changed {
		// The downloads (refused ones too), the parsers' garbage and the old
		// index are tens of MB the runtime would otherwise keep mapped until
		// it next needs them: give them back now (one full GC, tens of ms,
		// per refresh).
		debug.FreeOSMemory()
	}
	e.publishMetas()
	rep.Seconds = time.Since(start).Seconds()
	return rep
}

// refreshOne refreshes one source. It returns the report line, the new
// metadata and the data to index (prev when nothing new was accepted).
func (e *Engine) refreshOne(ctx context.Context, src source, meta snapshotMeta, prev loaded, force bool) (SourceReport, snapshotMeta, loaded) {
	now := e.cfg.Now().UTC() // UTC drops the monotonic reading: snapshot times are wall times
	start := time.Now()
	sr := SourceReport{Source: src.Name, Group: src.Group, URL: src.URL, Entries: prev.size(), SnapshotAt: meta.VerifiedAt}
	done := func(status string, err error) (SourceReport, snapshotMeta, loaded) {
		sr.Status = status
		sr.Seconds = time.Since(start).Seconds()
		if err != nil {
			sr.Error = err.Error()
		}
		return sr, meta, prev
	}
	adopted, adoptErr := false, error(nil)
	if !force {
		var m snapshotMeta
		var l loaded
		if m, l, adopted, adoptErr = e.adopt(src, meta, prev); adopted {
			meta, prev = m, l
			sr.Entries, sr.SnapshotAt = prev.size(), meta.VerifiedAt
			sr.Bytes, sr.Malformed, sr.Bogons = meta.Bytes, meta.Malformed, meta.Bogons
		}
	}
	hasData := prev.has()
	if !force && hasData && !prev.damaged && now.Sub(meta.VerifiedAt) < src.Interval {
		switch {
		case adopted:
			return done(StatusAdopted, nil)
		case adoptErr != nil:
			// Recorded in memory only: the files on disk are the other
			// process's, and its next good download replaces them.
			meta.LastAttemptAt, meta.LastError = now, adoptErr.Error()
			prev.failed = true
			return done(StatusFailed, adoptErr)
		}
		return done(StatusSkipped, nil)
	}
	meta.Source, meta.URL, meta.LastAttemptAt = src.Name, src.URL, now
	fail := func(err error) (SourceReport, snapshotMeta, loaded) {
		if adoptErr != nil {
			err = fmt.Errorf("%w; and %v", err, adoptErr)
		}
		meta.LastError = err.Error()
		prev.failed = true
		// Persist the failure unless another process persisted a newer
		// snapshot meanwhile (or one we could not adopt): our older metadata
		// would pair its data with the wrong hash and move its verification
		// time backwards. The failure is still recorded in memory.
		// Nor when the data is the bundled baseline: metadata without its
		// data in the data directory would read as a damaged snapshot.
		if prev.baseline {
			return done(StatusFailed, err)
		}
		if disk, exists, rerr := e.store.ReadMetaFile(src.Name); rerr != nil || !exists || !disk.VerifiedAt.After(meta.VerifiedAt) {
			_ = e.store.WriteMeta(meta)
		}
		return done(StatusFailed, err)
	}
	etag, lm := "", ""
	if hasData && meta.URL == src.URL {
		etag, lm = meta.ETag, meta.LastModified
	}
	lim := limitFor(prev.bytes)
	if force {
		lim = forcedLimit()
	}
	got, err := e.fetcher.Get(ctx, src.URL, etag, lm, lim.n)
	if err != nil {
		return fail(lim.refused(src, err))
	}
	if got.NotModified {
		meta.VerifiedAt, meta.LastError = now, ""
		prev.fetchedAt, prev.failed, prev.damaged = now, false, false
		sr.SnapshotAt = now
		if err := e.store.WriteMeta(meta); err != nil {
			return fail(err)
		}
		return done(StatusNotModified, nil)
	}
	p, size, err := parseBody(src, got.Body, lim)
	sr.Bytes, sr.Malformed, sr.Bogons = len(got.Body), p.Malformed, p.Bogons
	if err == nil {
		// The shrink test guards this directory's own data; the bundled
		// baseline is months old and not the source's last word.
		prevSize := prev.size()
		if prev.baseline {
			prevSize = 0
		}
		err = validateDownload(got.Body, p, prevSize, force)
	}
	if err != nil {
		return fail(fmt.Errorf("rejected download of %s: %w", src.URL, err))
	}
	meta = snapshotMeta{
		Source: src.Name, URL: src.URL, FetchedAt: now, VerifiedAt: now, ETag: got.ETag,
		LastModified: got.LastModified, SHA256: snapshot.SHA256Hex(got.Body), Bytes: len(got.Body),
		Entries: p.Len(), Records: p.Records, Malformed: p.Malformed, Bogons: p.Bogons,
		LastAttemptAt: now,
	}
	if err := e.store.Write(meta, got.Body); err != nil {
		// Keep serving the new data from memory; the next start reloads the old.
		meta.LastError = err.Error()
	}
	e.recordHistory(src, now, got.Body, p.Len())
	prev = loadedFrom(p, size, now, false, meta.SHA256)
	sr.Entries, sr.SnapshotAt = p.Len(), now
	return done(StatusUpdated, nil)
}

// adopt loads the snapshot of src that another process persisted, when it
// is newer than the one this engine holds (meta, prev). It returns the
// metadata and data to use from now on and whether they are the adopted
// ones; err is set when the files on disk cannot be used (meta and prev are
// then returned unchanged). It never writes.
//
// "Newer" is the persisted VerifiedAt being later than ours: it is the time
// the writer last confirmed its bytes with the source (a 200 or a 304), the
// very time the due test compares with the interval, and it travels inside
// the metadata with the content hash of the bytes it describes, so it is
// unaffected by file copies or by the data and the metadata being renamed
// into place one after the other. (A file's modification time has neither
// property, and a hash alone cannot tell which of two snapshots is newer.)
// The SHA-256 then tells whether the bytes changed: when they did not (the
// other process got a 304 or the same list) only the metadata is taken;
// when they did, the bytes are read, must hash to what the metadata says
// (the writer renames the data, then the metadata, both atomically: a
// mismatch is a snapshot replaced between our two reads, retried once with
// the metadata read again, or a damaged file), and are parsed and checked as
// at Open (parseSnapshot). The engine then holds what a fresh Open would
// load, except that Open also takes bytes that do not match their metadata
// (it has nothing else to serve); here the previous data is kept instead.
func (e *Engine) adopt(src source, meta snapshotMeta, prev loaded) (snapshotMeta, loaded, bool, error) {
	disk, exists, err := e.store.ReadMetaFile(src.Name)
	if err != nil {
		return meta, prev, false, fmt.Errorf("snapshot of %s on disk not loaded: %w", src.Name, err)
	}
	if !exists || !disk.VerifiedAt.After(meta.VerifiedAt) {
		return meta, prev, false, nil
	}
	if prev.has() && disk.SHA256 != "" && disk.SHA256 == meta.SHA256 {
		prev.fetchedAt, prev.failed, prev.damaged, prev.baseline = disk.VerifiedAt, disk.Failed(), false, false
		return disk, prev, true, nil
	}
	b, err := e.store.ReadData(src.Name)
	if err != nil {
		return meta, prev, false, fmt.Errorf("snapshot of %s on disk not loaded: %w", src.Name, err)
	}
	if sum := snapshot.SHA256Hex(b); sum != disk.SHA256 {
		again, _, err := e.store.ReadMetaFile(src.Name)
		if err != nil || again.SHA256 != sum {
			return meta, prev, false, fmt.Errorf("snapshot of %s on disk not loaded: its bytes do not match its metadata (sha256 %.12s…, metadata says %.12s…)",
				src.Name, sum, disk.SHA256)
		}
		if !again.VerifiedAt.After(meta.VerifiedAt) {
			return meta, prev, false, nil
		}
		disk = again
	}
	p, size, err := parseSnapshot(src, b)
	if err != nil {
		return meta, prev, false, fmt.Errorf("snapshot of %s on disk not loaded: %w", src.Name, err)
	}
	return disk, loadedFrom(p, size, disk.VerifiedAt, disk.Failed(), disk.SHA256), true, nil
}

// validateDownload is the gate between a parsed download and the index (an
// HTML page never gets this far: parseBody refuses it): it refuses an empty
// or mostly unparseable file, and (unless force) a
// list less than half the size of the previous good one.
func validateDownload(body []byte, p parse.Parsed, prevEntries int, force bool) error {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return fmt.Errorf("empty download")
	case p.Records > 0 && p.Malformed*2 > p.Records:
		return fmt.Errorf("mostly unparseable: %d of %d records malformed", p.Malformed, p.Records)
	case p.Len() == 0:
		return fmt.Errorf("no usable entries in %d records", p.Records)
	case !force && prevEntries > 0 && p.Len()*2 < prevEntries:
		return fmt.Errorf("list shrank from %d to %d entries (refresh with force to accept)", prevEntries, p.Len())
	}
	return nil
}

func looksHTML(b []byte) bool {
	head := bytes.ToLower(b[:min(len(b), 512)])
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html")) ||
		bytes.Contains(head, []byte("<head>")) || bytes.Contains(head, []byte("<body"))
}
