package classifier

import (
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
	"github.com/ipclassifier/ipclassifier/classifier/internal/snapshot"
)

// snapshotMeta is what is known of a source's persisted snapshot.
type snapshotMeta = snapshot.Meta

// loadAll parses every persisted snapshot of sources. A source with no
// snapshot is left out; one whose snapshot is damaged (unreadable metadata
// or data, or bytes that fail parseSnapshot) loads no data — it answers
// nothing until its next good download, which is due at once — and its
// meta says why in LastError, so Stats reports it instead of serving it.
func loadAll(s *snapshot.Store, sources []source) (map[string]loaded, map[string]snapshotMeta) {
	data := map[string]loaded{}
	metas := map[string]snapshotMeta{}
	for _, src := range sources {
		damaged := func(m snapshotMeta, err error) {
			metas[src.Name] = snapshotMeta{
				Source: src.Name, URL: m.URL, LastAttemptAt: m.LastAttemptAt,
				LastError: "persisted snapshot unusable, not loaded: " + err.Error(),
			}
		}
		m, exists, err := s.ReadMetaFile(src.Name)
		if !exists {
			continue
		}
		if err != nil {
			damaged(m, err)
			continue
		}
		b, err := s.ReadData(src.Name)
		if err != nil {
			damaged(m, err)
			continue
		}
		if snapshot.SHA256Hex(b) != m.SHA256 {
			// Data and metadata from different downloads (a crash between
			// the two renames): trust the bytes, forget the validators.
			m.ETag, m.LastModified, m.SHA256, m.Bytes = "", "", snapshot.SHA256Hex(b), len(b)
		}
		p, err := parseSnapshot(src, b)
		if err != nil {
			damaged(m, err)
			continue
		}
		metas[src.Name] = m
		data[src.Name] = loadedFrom(p, m.VerifiedAt, m.Failed(), m.SHA256)
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
