// Package snapshot persists one snapshot per source: the raw downloaded
// bytes and their metadata, each written through a temporary file and a
// rename, so a crash leaves the old or the new file, never a torn one. The
// previous good generation is kept beside the current one, and Load checks
// every generation against the SHA-256 its metadata holds, so damaged bytes
// are never taken for a snapshot.
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
// bytes (<name>.data) and their metadata (<name>.meta.json), and the
// previous good generation of both (<name>.prev.data, <name>.prev.meta.json).
// Make one with Open.
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
	return s.readMeta(source, ".meta.json")
}

// ReadData returns the raw bytes of source's snapshot.
func (s *Store) ReadData(source string) ([]byte, error) {
	b, err := os.ReadFile(s.path(source, ".data"))
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", source, err)
	}
	return b, nil
}

// Generation is a snapshot read back by Load.
type Generation struct {
	Meta Meta
	Data []byte
	// Previous is set when this is the previous generation: the current
	// one is damaged (Damage says how).
	Previous bool
}

// Load reads the newest generation of source whose bytes hash to the
// SHA-256 of its metadata and that accept takes (it parses and checks the
// bytes; nil accepts). Metadata is paired with the data file whose hash it
// names, either of the two, so a crash between the renames of Write loses
// nothing. found is false when source has no metadata at all (it was never
// downloaded). damage, when set, says why the current generation was
// passed over ("tor.data does not match its metadata", an unreadable file,
// or accept's error): g then holds the previous generation, or nothing (a
// zero Meta and nil Data) when that one is unusable too. Metadata that
// names no data (no SHA-256: only failed attempts of a source never
// downloaded were recorded) is no damage: g holds it with nil Data.
func (s *Store) Load(source string, accept func(Meta, []byte) error) (g Generation, found bool, damage error) {
	var datas [2]struct {
		b    []byte
		sum  string
		err  error
		read bool
	}
	data := func(i int) ([]byte, string, error) {
		d := &datas[i]
		if !d.read {
			d.read = true
			d.b, d.err = os.ReadFile(s.path(source, genExt[i]+".data"))
			if d.err == nil {
				d.sum = SHA256Hex(d.b)
			}
		}
		return d.b, d.sum, d.err
	}
	for gen := range genExt {
		m, exists, err := s.readMeta(source, genExt[gen]+".meta.json")
		found = found || exists
		if !exists {
			if gen == 0 {
				damage = fmt.Errorf("%s is missing", s.name(source, ".meta.json"))
				continue
			}
			break
		}
		if err == nil && gen == 0 && m.SHA256 == "" {
			return Generation{Meta: m}, true, nil
		}
		if err == nil {
			err = fmt.Errorf("%s does not match its metadata (sha256 %.12s…)", s.name(source, ".data"), m.SHA256)
			for i := range datas {
				b, sum, rerr := data(i)
				if rerr != nil {
					switch {
					case i > 0:
					case errors.Is(rerr, fs.ErrNotExist):
						err = fmt.Errorf("%s is missing", s.name(source, ".data"))
					default:
						err = fmt.Errorf("read %s: %w", s.name(source, ".data"), rerr)
					}
					continue
				}
				if sum != m.SHA256 {
					continue
				}
				if accept != nil {
					if aerr := accept(m, b); aerr != nil {
						err = aerr
						break
					}
				}
				return Generation{Meta: m, Data: b, Previous: gen > 0}, true, damage
			}
		}
		if gen == 0 {
			damage = err
		}
	}
	if !found {
		return Generation{}, false, nil
	}
	return Generation{}, true, damage
}

// genExt are the file name infixes of the current and previous generation.
var genExt = [2]string{"", ".prev"}

// name is the base name of one of source's files.
func (s *Store) name(source, ext string) string { return filepath.Base(s.path(source, ext)) }

// readMeta reads one metadata file (see ReadMetaFile).
func (s *Store) readMeta(source, ext string) (m Meta, exists bool, err error) {
	b, err := os.ReadFile(s.path(source, ext))
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

// Write persists new bytes and their metadata. The current generation
// becomes the previous one first when its bytes match its metadata (a
// damaged one is dropped instead, keeping the older good generation).
func (s *Store) Write(m Meta, data []byte) error {
	s.rotate(m.Source)
	if err := WriteAtomic(s.path(m.Source, ".data"), data); err != nil {
		return fmt.Errorf("persist snapshot %s: %w", m.Source, err)
	}
	return s.WriteMeta(m)
}

// rotate copies the current generation of source to the previous one when
// it is sound. It copies rather than renames, so the current files never
// go missing for a process reading them meanwhile (Engine.adopt); each
// write is atomic, and Load pairs metadata with data by hash, so a crash
// between them loses nothing.
func (s *Store) rotate(source string) {
	cur, exists, err := s.readMeta(source, ".meta.json")
	if !exists || err != nil {
		return
	}
	b, err := os.ReadFile(s.path(source, ".data"))
	if err != nil || SHA256Hex(b) != cur.SHA256 {
		return
	}
	mb, err := os.ReadFile(s.path(source, ".meta.json"))
	if err != nil {
		return
	}
	if WriteAtomic(s.path(source, ".prev.data"), b) == nil {
		_ = WriteAtomic(s.path(source, ".prev.meta.json"), mb)
	}
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
