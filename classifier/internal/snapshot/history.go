package snapshot

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/internal/bounded"
)

// History keeps dated snapshots of every source beside the current
// generation, in dataDir/history/<source>/: content-addressed blobs
// (<sha256>.gz: the snapshot's bytes gzip-compressed, or as they are when
// they already are gzip) and index.json, the entries in date order. Bytes
// that did not change are stored once, however many entries name them.
// Every write goes through a temporary file and a rename; the caller
// serialises writers of one data directory (the refresh lock). Make one
// with OpenHistory; the zero value is not usable.
type History struct {
	dir string
}

// Entry is one dated snapshot of a source: the content in force from Date
// on, until the next entry's Date.
type Entry struct {
	Date    time.Time `json:"date"`
	SHA256  string    `json:"sha256"`  // of the snapshot's bytes as downloaded (Meta.SHA256)
	Bytes   int       `json:"bytes"`   // their length
	Stored  int       `json:"stored"`  // the blob's length on disk
	Entries int       `json:"entries"` // prefixes, ASNs or ranges parsed from them
	// Imported is set for an entry seeded from an archive (never pruned by
	// the retention policy: the operator put it there on purpose).
	Imported bool `json:"imported,omitempty"`
	// Compressed is set when the blob is the bytes gzip-compressed by the
	// store (they were not gzip already).
	Compressed bool `json:"compressed,omitempty"`
}

// Policy is how much history a source keeps. The zero value keeps
// nothing: Add then stores no entry.
type Policy struct {
	// Retention: downloaded entries no longer in force for this long are
	// dropped (the one in force at the cutoff is kept).
	Retention time.Duration
	// Granularity: a downloaded entry in the same slot of this length
	// (time.Truncate) as the newest downloaded one replaces it: the last
	// list of each slot is kept, dated when it was downloaded.
	Granularity time.Duration
}

// maxIndex bounds the index file read back (a damaged or hostile file
// must not take unbounded memory): about 5 million entries.
const maxIndex = 1 << 30

// OpenHistory returns the History of dataDir, creating dataDir/history.
func OpenHistory(dataDir string) (*History, error) {
	dir := filepath.Join(dataDir, "history")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create history directory: %w", err)
	}
	return &History{dir: dir}, nil
}

func (h *History) sourceDir(source string) string {
	return filepath.Join(h.dir, strings.ReplaceAll(source, "/", "__"))
}

func (h *History) blob(source, sum string) string {
	return filepath.Join(h.sourceDir(source), sum+".gz")
}

// List returns the entries of source in date order (none when it has no
// history). A damaged index is an error naming it; nothing is served
// from it.
func (h *History) List(source string) ([]Entry, error) {
	f, err := os.Open(filepath.Join(h.sourceDir(source), "index.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read history index of %s: %w", source, err)
	}
	defer f.Close()
	b, err := bounded.Read(f, -1, maxIndex)
	if err != nil {
		return nil, fmt.Errorf("read history index of %s: %w", source, err)
	}
	es, err := DecodeIndex(b)
	if err != nil {
		return nil, fmt.Errorf("history index of %s damaged: %w", source, err)
	}
	return es, nil
}

// DecodeIndex reads an index file: a JSON array of entries, each with a
// date, a 64-digit hex SHA-256 and sizes that are not negative, in
// strictly increasing date order.
func DecodeIndex(b []byte) ([]Entry, error) {
	var es []Entry
	if err := json.Unmarshal(b, &es); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	for i, e := range es {
		switch {
		case e.Date.IsZero():
			return nil, fmt.Errorf("entry %d has no date", i)
		case !isHexSum(e.SHA256):
			return nil, fmt.Errorf("entry %d: bad sha256 %.70q", i, e.SHA256)
		case e.Bytes < 0 || e.Stored < 0 || e.Entries < 0:
			return nil, fmt.Errorf("entry %d: negative size", i)
		case i > 0 && !e.Date.After(es[i-1].Date):
			return nil, fmt.Errorf("entry %d is not after entry %d", i, i-1)
		}
	}
	return es, nil
}

func isHexSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Read returns the bytes of entry e of source, as downloaded: they must
// hash to e.SHA256 (a damaged blob is an error naming it).
func (h *History) Read(source string, e Entry) ([]byte, error) {
	path := h.blob(source, e.SHA256)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", source, err)
	}
	if e.Compressed {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("history blob %s damaged: %w", filepath.Base(path), err)
		}
		if b, err = bounded.Read(zr, -1, int64(e.Bytes)); err != nil {
			return nil, fmt.Errorf("history blob %s damaged: %w", filepath.Base(path), err)
		}
	}
	if SHA256Hex(b) != e.SHA256 {
		return nil, fmt.Errorf("history blob %s does not match its index", filepath.Base(path))
	}
	return b, nil
}

// Add records data as the content of source in force from e.Date on (e's
// SHA256, Bytes and Stored are computed here) and applies p, with now the
// present time for the retention. It reports whether the index changed.
// Unchanged content adds nothing: when the entry before e.Date has the
// same bytes. (Content equal to the entry after e.Date is still added, so
// an entry imported between the two later keeps them apart; the blob is
// shared.) An entry at the same date as an existing one replaces it.
func (h *History) Add(source string, e Entry, data []byte, p Policy, now time.Time) (bool, error) {
	if p.Retention <= 0 && !e.Imported {
		return false, nil
	}
	es, err := h.List(source)
	if err != nil {
		return false, err
	}
	e.Date = e.Date.UTC()
	e.SHA256, e.Bytes = SHA256Hex(data), len(data)
	i, found := slices.BinarySearchFunc(es, e.Date, func(x Entry, t time.Time) int { return x.Date.Compare(t) })
	switch {
	case found:
		if es[i].SHA256 == e.SHA256 && es[i].Imported == e.Imported {
			return false, nil
		}
	case i > 0 && es[i-1].SHA256 == e.SHA256:
		return false, nil // in force since an earlier date already
	case !e.Imported && i > 0 && i == len(es) && !es[i-1].Imported && p.Granularity > 0 &&
		e.Date.Truncate(p.Granularity).Equal(es[i-1].Date.Truncate(p.Granularity)):
		i-- // the same slot: the newer list replaces the older
		found = true
	}
	if err := h.writeBlob(source, &e, data); err != nil {
		return false, err
	}
	if found {
		es[i] = e
	} else {
		es = slices.Insert(es, i, e)
	}
	es = prune(es, p, now)
	if err := h.writeIndex(source, es); err != nil {
		return false, err
	}
	h.removeUnreferenced(source, es)
	return true, nil
}

// prune drops the downloaded entries of es (in date order) that stopped
// being in force more than p.Retention before now.
func prune(es []Entry, p Policy, now time.Time) []Entry {
	if p.Retention <= 0 {
		return es
	}
	cutoff := now.Add(-p.Retention)
	out := es[:0]
	for i, e := range es {
		if !e.Imported && i+1 < len(es) && es[i+1].Date.Before(cutoff) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// writeBlob stores data under its hash unless a blob of that hash is
// there already (content addressing: unchanged bytes are stored once).
func (h *History) writeBlob(source string, e *Entry, data []byte) error {
	dir := h.sourceDir(source)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create history of %s: %w", source, err)
	}
	e.Compressed = len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b
	path := h.blob(source, e.SHA256)
	if fi, err := os.Stat(path); err == nil {
		if old, rerr := h.Read(source, *e); rerr == nil && len(old) == len(data) {
			e.Stored = int(fi.Size())
			return nil
		}
	}
	blob := data
	if e.Compressed {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		_, _ = zw.Write(data) // a bytes.Buffer does not fail
		_ = zw.Close()
		blob = buf.Bytes()
	}
	if err := WriteAtomic(path, blob); err != nil {
		return fmt.Errorf("persist history of %s: %w", source, err)
	}
	e.Stored = len(blob)
	return nil
}

func (h *History) writeIndex(source string, es []Entry) error {
	b, err := json.MarshalIndent(es, "", " ")
	if err != nil {
		return fmt.Errorf("encode history index of %s: %w", source, err)
	}
	if err := WriteAtomic(filepath.Join(h.sourceDir(source), "index.json"), b); err != nil {
		return fmt.Errorf("persist history index of %s: %w", source, err)
	}
	return nil
}

// removeUnreferenced deletes the blobs of source no entry of es names.
func (h *History) removeUnreferenced(source string, es []Entry) {
	keep := map[string]bool{}
	for _, e := range es {
		keep[e.SHA256+".gz"] = true
	}
	names, _ := filepath.Glob(filepath.Join(h.sourceDir(source), "*.gz"))
	for _, n := range names {
		if !keep[filepath.Base(n)] {
			_ = os.Remove(n)
		}
	}
}

// DiskBytes is the size on disk of source's history: its blobs and index.
func (h *History) DiskBytes(source string) int64 {
	var n int64
	ents, _ := os.ReadDir(h.sourceDir(source))
	for _, d := range ents {
		if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	return n
}

// DiskPath is the directory holding source's history.
func (h *History) DiskPath(source string) string { return h.sourceDir(source) }
