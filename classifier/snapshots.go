package classifier

import (
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
	"github.com/ipclassifier/ipclassifier/classifier/internal/snapshot"
)

// snapshotMeta is what is known of a source's persisted snapshot.
type snapshotMeta = snapshot.Meta

// loadAll parses every persisted snapshot of sources. A source with no
// snapshot of its own, or whose snapshot is damaged (unreadable metadata or
// data, or bytes that fail parseSnapshot), is read from the baseline store
// when there is one (Config.BaselineDir): its data is served flagged stale
// with its real date, and a download replaces it as soon as one succeeds
// (the baseline's date makes it due at once). A damaged snapshot with no
// baseline to stand in loads no data — it answers nothing until its next
// good download — and its meta says why in LastError, so Stats reports it
// instead of serving it. A snapshot of the data directory always wins over
// the baseline, whatever their dates.
func loadAll(s, baseline *snapshot.Store, sources []source) (map[string]loaded, map[string]snapshotMeta) {
	data := map[string]loaded{}
	metas := map[string]snapshotMeta{}
	for _, src := range sources {
		m, p, exists, err := readSnapshot(s, src)
		if exists && err == nil {
			metas[src.Name] = m
			data[src.Name] = loadedFrom(p, m.VerifiedAt, m.Failed(), m.SHA256)
			continue
		}
		var damage string
		if exists {
			damage = "persisted snapshot unusable, not loaded: " + err.Error()
		}
		if baseline != nil {
			if bm, bp, ok, berr := readSnapshot(baseline, src); ok && berr == nil {
				bm.LastAttemptAt, bm.LastError = m.LastAttemptAt, damage
				if damage != "" {
					bm.LastError += "; serving the bundled baseline"
				}
				metas[src.Name] = bm
				l := loadedFrom(bp, bm.VerifiedAt, false, bm.SHA256)
				l.baseline = true
				data[src.Name] = l
				continue
			}
		}
		if exists {
			metas[src.Name] = snapshotMeta{Source: src.Name, URL: m.URL, LastAttemptAt: m.LastAttemptAt, LastError: damage}
		}
	}
	return data, metas
}

// readSnapshot reads and parses the snapshot of src in store; exists is
// false when the store holds none. Data and metadata from different
// downloads (a crash between the two renames) keep the bytes and forget
// the validators.
func readSnapshot(store *snapshot.Store, src source) (m snapshotMeta, p parse.Parsed, exists bool, err error) {
	m, exists, err = store.ReadMetaFile(src.Name)
	if !exists || err != nil {
		return m, p, exists, err
	}
	b, err := store.ReadData(src.Name)
	if err != nil {
		return m, p, true, err
	}
	if sum := snapshot.SHA256Hex(b); sum != m.SHA256 {
		m.ETag, m.LastModified, m.SHA256, m.Bytes = "", "", sum, len(b)
	}
	p, err = parseSnapshot(src, b)
	return m, p, true, err
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
