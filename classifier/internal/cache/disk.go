package cache

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tmpMaxAge is how old a leftover temporary file must be before Cleanup
// removes it (a younger one may belong to a write in progress).
const tmpMaxAge = time.Hour

// diskTier is L3: one JSON file per key (layout in the package doc).
type diskTier struct {
	tier
	dir string
	ttl time.Duration
}

// openDisk prepares dir; a directory that cannot be created is logged and
// its writes back off (reads still run: a read-only cache still answers).
func openDisk(dir string, ttl time.Duration, log *slog.Logger, retry time.Duration) *diskTier {
	t := &diskTier{dir: filepath.Clean(dir), ttl: ttl}
	t.init(TierL3, "disk", log, retry)
	if err := os.MkdirAll(t.dir, 0o755); err != nil {
		t.failed(context.Background(), &t.wb, "open", err)
	}
	return t
}

const hexDigits = "0123456789abcdef"

// path maps a key to its file, re-validating it: the path is built from the
// parsed address bytes, never from the key text.
func (t *diskTier) path(key string) (string, bool) {
	if !validKey(key) {
		return "", false
	}
	a, err := netip.ParseAddr(key)
	if err != nil {
		return "", false
	}
	b := make([]byte, 0, len(t.dir)+48)
	b = append(b, t.dir...)
	if a.Is4() {
		for _, o := range a.As4() {
			b = append(b, os.PathSeparator)
			b = strconv.AppendUint(b, uint64(o), 10)
		}
	} else {
		b = append(b, os.PathSeparator, 'v', '6')
		s := a.As16()
		for i := 0; i < 16; i += 2 {
			b = append(b, os.PathSeparator,
				hexDigits[s[i]>>4], hexDigits[s[i]&15], hexDigits[s[i+1]>>4], hexDigits[s[i+1]&15])
		}
	}
	b = append(b, ".json"...)
	return string(b), true
}

// get reads one file; exp is when the value expires.
func (t *diskTier) get(key string, now time.Time, valid func([]byte) bool) (val []byte, exp time.Time, ok bool) {
	p, ok := t.path(key)
	if !ok {
		t.misses.Add(1)
		return nil, time.Time{}, false
	}
	start := time.Now()
	val, exp, err := t.read(p, now, valid)
	t.getLat.observe(time.Since(start))
	if err != nil || val == nil {
		if err != nil {
			t.errors.Add(1)
		}
		t.misses.Add(1)
		return nil, time.Time{}, false
	}
	t.hits.Add(1)
	return val, exp, true
}

// read returns the value at p, nil on a miss (absent, expired, corrupt),
// or an error when the file system failed.
func (t *diskTier) read(p string, now time.Time, valid func([]byte) bool) ([]byte, time.Time, error) {
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, time.Time{}, nil
		}
		return nil, time.Time{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	exp := fi.ModTime().Add(t.ttl)
	if !now.Before(exp) {
		return nil, time.Time{}, nil
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 || fi.Size() > maxValue {
		t.corrupt.Add(1)
		return nil, time.Time{}, nil
	}
	buf := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, time.Time{}, err
	}
	if !valid(buf) {
		t.corrupt.Add(1)
		return nil, time.Time{}, nil
	}
	return buf, exp, nil
}

// getMany reads distinct keys, one file each.
func (t *diskTier) getMany(keys []string, now time.Time, valid func([]byte) bool) (map[string][]byte, map[string]time.Time) {
	found := make(map[string][]byte)
	exps := make(map[string]time.Time)
	for _, k := range keys {
		if v, exp, ok := t.get(k, now, valid); ok {
			found[k], exps[k] = v, exp
		}
	}
	return found, exps
}

// set writes entries, each atomically, and reports how many it stored.
func (t *diskTier) set(es []entry) int {
	n := 0
	for _, e := range es {
		p, ok := t.path(e.key)
		if !ok || !t.allowWrite() {
			continue
		}
		start := time.Now()
		err := writeAtomic(p, e.val)
		t.setLat.observe(time.Since(start))
		if err != nil {
			var b *breaker
			if unwritable(err) {
				b = &t.wb // the whole directory refuses writes: back off
			}
			t.failed(context.Background(), b, "set", err)
			continue
		}
		t.succeeded(&t.wb, "set")
		t.writes.Add(1)
		n++
	}
	return n
}

// unwritable tells whether err means the directory takes no writes at all.
func unwritable(err error) bool {
	for _, e := range []error{syscall.EROFS, syscall.EACCES, syscall.EPERM, syscall.ENOTDIR, syscall.ENOSPC, syscall.EDQUOT} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// writeAtomic writes val to a temporary file next to p and renames it over
// p, creating the directories when missing.
func writeAtomic(p string, val []byte) error {
	dir, base := filepath.Split(p)
	tmp := dir + "." + base + "." + strconv.FormatUint(rand.Uint64(), 36) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	}
	if err != nil {
		return err
	}
	_, werr := f.Write(val)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// ourName tells whether a file or directory name belongs to our layout:
// decimal octets, 4-hex-digit groups, "v6", "*.json" files of those stems,
// and our temporary files.
func ourName(name string, isDir bool) (ours, tmp bool) {
	if isDir {
		return name == "v6" || isStem(name), false
	}
	if strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") {
		return true, true
	}
	stem, ok := strings.CutSuffix(name, ".json")
	return ok && isStem(stem), false
}

// isStem tells whether s is 1-3 decimal digits or 4 hex digits.
func isStem(s string) bool {
	if len(s) == 0 || len(s) > 4 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune(hexDigits, r) {
			return false
		}
	}
	if len(s) == 4 {
		return true
	}
	_, err := strconv.ParseUint(s, 10, 8)
	return err == nil
}

// sweep removes our expired files (all of them when all is set; with a
// non-nil m only those whose value m selects, read and checked one by one),
// leftover temporary files (older than tmpMaxAge; with all and no m, every
// one), and our directories left empty. What cannot be read or removed is
// counted in skipped, never an error. The only error is ctx's when it ends
// during the walk: the walk stops there, the directories seen are left as
// they are, and the counts say what was removed until then.
func (t *diskTier) sweep(ctx context.Context, now time.Time, all bool, m *match) (files, dirs, skipped int64, err error) {
	var seen []string
	err = filepath.WalkDir(t.dir, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				skipped++
			}
			if d != nil && d.IsDir() && p != t.dir {
				return fs.SkipDir
			}
			return nil
		}
		ours, tmp := ourName(d.Name(), d.IsDir())
		if p == t.dir || !ours {
			return nil
		}
		if d.IsDir() {
			seen = append(seen, p)
			return nil
		}
		switch {
		case !all:
			fi, err := d.Info()
			if err != nil {
				skipped++
				return nil
			}
			if tmp && now.Sub(fi.ModTime()) < tmpMaxAge || !tmp && now.Before(fi.ModTime().Add(t.ttl)) {
				return nil
			}
		case m != nil:
			if tmp {
				return nil // a write in progress, or Cleanup's to remove
			}
			v, err := readValue(p)
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					skipped++
				}
				return nil
			}
			if !m.selects(v) {
				return nil
			}
		}
		if err := os.Remove(p); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				skipped++
			}
			return nil
		}
		files++
		return nil
	})
	if err != nil {
		return files, dirs, skipped, err
	}
	for i := len(seen) - 1; i >= 0; i-- {
		if os.Remove(seen[i]) == nil {
			dirs++
		}
	}
	return files, dirs, skipped, nil
}

// readValue reads the file at p whole; a file that is not regular or is
// larger than any value is returned empty (it selects nothing).
func readValue(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxValue {
		return nil, nil
	}
	buf := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, err
	}
	return buf, nil
}
