package classifier

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

	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// snapshotMeta is what we know of a source's persisted snapshot. It is
// stored beside the raw bytes as <name>.meta.json.
type snapshotMeta struct {
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

// failed reports whether the newest refresh attempt failed.
func (m snapshotMeta) failed() bool { return m.LastError != "" }

// store keeps one snapshot per source in dir/snapshots: the raw downloaded
// bytes (<name>.data) and their metadata (<name>.meta.json), each written to
// a temporary file and renamed into place, so a crash leaves either the old
// or the new file, never a torn one.
type store struct {
	dir string
}

func openStore(dataDir string) (*store, error) {
	dir := filepath.Join(dataDir, "snapshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create snapshot directory: %w", err)
	}
	return &store{dir: dir}, nil
}

func (s *store) path(source, ext string) string {
	return filepath.Join(s.dir, strings.ReplaceAll(source, "/", "__")+ext)
}

// readMeta returns the metadata of source; ok is false when there is none
// or it cannot be read.
func (s *store) readMeta(source string) (snapshotMeta, bool) {
	m, exists, err := s.readMetaFile(source)
	return m, exists && err == nil
}

// readMetaFile returns the metadata of source as persisted: exists is false
// when there is no metadata file, err is set when there is one that cannot
// be read or decoded.
func (s *store) readMetaFile(source string) (m snapshotMeta, exists bool, err error) {
	b, err := os.ReadFile(s.path(source, ".meta.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return snapshotMeta{}, false, nil
	}
	if err != nil {
		return snapshotMeta{}, true, fmt.Errorf("read snapshot metadata %s: %w", source, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return snapshotMeta{}, true, fmt.Errorf("decode snapshot metadata %s: %w", source, err)
	}
	return m, true, nil
}

// readData returns the raw bytes of source's snapshot.
func (s *store) readData(source string) ([]byte, error) {
	b, err := os.ReadFile(s.path(source, ".data"))
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", source, err)
	}
	return b, nil
}

// writeSnapshot persists new bytes and their metadata.
func (s *store) writeSnapshot(m snapshotMeta, data []byte) error {
	if err := writeAtomic(s.path(m.Source, ".data"), data); err != nil {
		return fmt.Errorf("persist snapshot %s: %w", m.Source, err)
	}
	return s.writeMeta(m)
}

// writeMeta persists metadata alone (a 304, or a failed attempt).
func (s *store) writeMeta(m snapshotMeta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode snapshot metadata %s: %w", m.Source, err)
	}
	if err := writeAtomic(s.path(m.Source, ".meta.json"), b); err != nil {
		return fmt.Errorf("persist snapshot metadata %s: %w", m.Source, err)
	}
	return nil
}

// loadAll parses every persisted snapshot of sources. A snapshot that is
// missing or fails parseSnapshot is left out (that source answers nothing
// until its next good download); the returned metas hold what was found.
func (s *store) loadAll(sources []source) (map[string]loaded, map[string]snapshotMeta) {
	data := map[string]loaded{}
	metas := map[string]snapshotMeta{}
	for _, src := range sources {
		m, ok := s.readMeta(src.Name)
		if !ok {
			continue
		}
		b, err := s.readData(src.Name)
		if err != nil {
			continue
		}
		if sha256Hex(b) != m.SHA256 {
			// Data and metadata from different downloads (a crash between
			// the two renames): trust the bytes, forget the validators.
			m.ETag, m.LastModified, m.SHA256, m.Bytes = "", "", sha256Hex(b), len(b)
		}
		p, err := parseSnapshot(src, b)
		if err != nil {
			continue
		}
		metas[src.Name] = m
		data[src.Name] = loadedFrom(p, m.VerifiedAt, m.failed())
	}
	return data, metas
}

// parseSnapshot parses the persisted bytes of src and checks them as a
// download is checked (validateDownload), except for the shrink test: a
// persisted snapshot passed that gate, or was forced through it, when it was
// downloaded. Open and the adoption of another process's snapshot
// (Engine.adopt) both load snapshots through here.
func parseSnapshot(src source, b []byte) (parse.Parsed, error) {
	p, err := src.Parse(b)
	if err == nil {
		err = validateDownload(b, p, 0, true)
	}
	return p, err
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// writeAtomic writes data to path through a temporary file in the same
// directory and a rename.
func writeAtomic(path string, data []byte) error {
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
