// Package logq is a bounded queue of log records for a host that reads the
// engine's logs itself instead of letting them go to standard error: the C
// ABI installs a Queue as the slog default and the Python wrapper drains it
// into logging.getLogger("ipclassifier"). A full queue drops the newest
// records and counts them, so a flood (a cache tier flapping) costs bounded
// memory and is still reported.
package logq

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"
)

// Record is one log record as the host receives it.
type Record struct {
	Time    time.Time      `json:"time"`
	Level   string         `json:"level"` // slog's level text: DEBUG, INFO, WARN, ERROR (or e.g. WARN+2)
	LevelN  int            `json:"levelno"`
	Message string         `json:"msg"`
	Attrs   map[string]any `json:"attrs,omitempty"`
}

// Queue holds up to a fixed number of records until they are drained. The
// zero value is not usable: make one with New. It is safe for concurrent
// use.
type Queue struct {
	mu      sync.Mutex
	recs    []Record
	max     int
	dropped int64
	level   slog.LevelVar
}

// New returns a Queue holding at most capacity records (at least 1),
// accepting records at level Info and above until SetLevel says otherwise.
func New(capacity int) *Queue {
	return &Queue{max: max(capacity, 1)}
}

// SetLevel sets the lowest level the queue accepts.
func (q *Queue) SetLevel(l slog.Level) { q.level.Set(l) }

// Handler returns an slog.Handler that puts records in q.
func (q *Queue) Handler() slog.Handler { return &handler{q: q} }

// Drain removes and returns the queued records, oldest first, and the
// number dropped since the last Drain because the queue was full.
func (q *Queue) Drain() (recs []Record, dropped int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	recs, dropped = q.recs, q.dropped
	q.recs, q.dropped = nil, 0
	return recs, dropped
}

// AppendDrain drains q and appends the JSON of what it held to dst:
// {"records":[Record, …],"dropped":n}.
func (q *Queue) AppendDrain(dst []byte) ([]byte, error) {
	recs, dropped := q.Drain()
	if recs == nil {
		recs = []Record{}
	}
	b, err := json.Marshal(struct {
		Records []Record `json:"records"`
		Dropped int64    `json:"dropped"`
	}{recs, dropped})
	return append(dst, b...), err
}

func (q *Queue) put(r Record) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.recs) >= q.max {
		q.dropped++
		return
	}
	q.recs = append(q.recs, r)
}

// handler is the slog.Handler of a Queue, with the attributes and groups
// that WithAttrs and WithGroup gave it.
type handler struct {
	q      *Queue
	attrs  []slog.Attr // already qualified by their groups
	groups []string
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.q.level.Level() }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	rec := Record{Time: r.Time.UTC(), Level: r.Level.String(), LevelN: int(r.Level), Message: r.Message}
	if len(h.attrs) > 0 || r.NumAttrs() > 0 {
		rec.Attrs = make(map[string]any, len(h.attrs)+r.NumAttrs())
		for _, a := range h.attrs {
			addAttr(rec.Attrs, "", a)
		}
		prefix := groupPrefix(h.groups)
		r.Attrs(func(a slog.Attr) bool {
			addAttr(rec.Attrs, prefix, a)
			return true
		})
	}
	h.q.put(rec)
	return nil
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &handler{q: h.q, groups: h.groups, attrs: append([]slog.Attr(nil), h.attrs...)}
	prefix := groupPrefix(h.groups)
	for _, a := range as {
		a.Key = prefix + a.Key
		n.attrs = append(n.attrs, a)
	}
	return n
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{q: h.q, attrs: h.attrs, groups: append(append([]string(nil), h.groups...), name)}
}

func groupPrefix(groups []string) string {
	p := ""
	for _, g := range groups {
		p += g + "."
	}
	return p
}

// addAttr stores a under prefix+key, groups flattened to dotted keys, and
// values as JSON can hold them (errors and other values as their text).
func addAttr(m map[string]any, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			addAttr(m, p, g)
		}
		return
	}
	if a.Key == "" {
		return
	}
	switch v.Kind() {
	case slog.KindString:
		m[prefix+a.Key] = v.String()
	case slog.KindInt64:
		m[prefix+a.Key] = v.Int64()
	case slog.KindUint64:
		m[prefix+a.Key] = v.Uint64()
	case slog.KindFloat64:
		m[prefix+a.Key] = v.Float64()
	case slog.KindBool:
		m[prefix+a.Key] = v.Bool()
	case slog.KindDuration:
		m[prefix+a.Key] = v.Duration().String()
	case slog.KindTime:
		m[prefix+a.Key] = v.Time().UTC().Format(time.RFC3339Nano)
	default:
		m[prefix+a.Key] = v.String()
	}
}
