// Package snapshot persists one snapshot per source: the raw downloaded
// bytes and their metadata, each written through a temporary file and a
// rename, so a crash leaves the old or the new file, never a torn one.
package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Meta is what is known of a source's persisted snapshot. It is stored
// beside the raw bytes as <name>.meta.json.
type Meta struct {
	Source       string    `json:"source"`
	URL          string    `json:"url"`
	FetchedAt    time.Time `json:"fetched_at"`  // when these bytes were downloaded
	VerifiedAt   time.Time `json:"verified_at"` // last time the source confirmed them (200 or 304)
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	SHA256       string    `json:"sha256"`
	Bytes        int       `json:"bytes"`
	Entries      int       `json:"entries"`
	Records      int       `json:"records"`
	Malformed    int       `json:"malformed"`
	Bogons       int       `json:"bogons"`
	// LastAttemptAt and LastError describe the newest refresh attempt; a
	// LastError set means that attempt failed and the data is the older one.
	LastAttemptAt time.Time `json:"last_attempt_at"`
	LastError     string    `json:"last_error,omitempty"`
}

// Failed reports whether the newest refresh attempt failed.
func (m Meta) Failed() bool { return m.LastError != "" }

// Store keeps one snapshot per source in dir/snapshots: the raw downloaded
// bytes (<name>.data) and their metadata (<name>.meta.json). Make one with
// Open.
type Store struct {
	dir string
}

// Open returns the Store of dataDir, creating dataDir/snapshots.
func Open(dataDir string) (*Store, error) {
	dir := filepath.Join(dataDir, "snapshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create snapshot directory: %w", err)
	}
	return &Store{dir: dir}, nil
}

// OpenExisting returns the Store of dataDir for reading, creating nothing:
// dataDir/snapshots must be a directory.
func OpenExisting(dataDir string) (*Store, error) {
	dir := filepath.Join(dataDir, "snapshots")
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open snapshot directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open snapshot directory: %s is not a directory", dir)
	}
	return &Store{dir: dir}, nil
}

func (s *Store) path(source, ext string) string {
	return filepath.Join(s.dir, strings.ReplaceAll(source, "/", "__")+ext)
}

// ReadMetaFile returns the metadata of source as persisted: exists is false
// when there is no metadata file, err is set when there is one that cannot
// be read or decoded.
func (s *Store) ReadMetaFile(source string) (m Meta, exists bool, err error) {
	b, err := os.ReadFile(s.path(source, ".meta.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return Meta{}, false, nil
	}
	if err != nil {
		return Meta{}, true, fmt.Errorf("read snapshot metadata %s: %w", source, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Meta{}, true, fmt.Errorf("decode snapshot metadata %s: %w", source, err)
	}
	return m, true, nil
}

// ReadData returns the raw bytes of source's snapshot.
func (s *Store) ReadData(source string) ([]byte, error) {
	b, err := os.ReadFile(s.path(source, ".data"))
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", source, err)
	}
	return b, nil
}

// Write persists new bytes and their metadata.
func (s *Store) Write(m Meta, data []byte) error {
	if err := WriteAtomic(s.path(m.Source, ".data"), data); err != nil {
		return fmt.Errorf("persist snapshot %s: %w", m.Source, err)
	}
	return s.WriteMeta(m)
}

// WriteMeta persists metadata alone (a 304, or a failed attempt).
func (s *Store) WriteMeta(m Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode snapshot metadata %s: %w", m.Source, err)
	}
	if err := WriteAtomic(s.path(m.Source, ".meta.json"), b); err != nil {
		return fmt.Errorf("persist snapshot metadata %s: %w", m.Source, err)
	}
	return nil
}

// SHA256Hex is the hex SHA-256 of b, as Meta.SHA256 holds it.
func SHA256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// WriteAtomic writes data to path through a temporary file in the same
// directory and a rename.
func WriteAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return werr
	}
	return nil
}
