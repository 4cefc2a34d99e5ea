package classifier

import (
	"fmt"
	"log/slog"

	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
	"github.com/ipclassifier/ipclassifier/classifier/internal/snapshot"
)

// snapshotMeta is what is known of a source's persisted snapshot.
type snapshotMeta = snapshot.Meta

// damagedPrefix starts the LastError of a source whose snapshot on disk was
// found damaged.
const damagedPrefix = "snapshot damaged: "

// loadAll parses every persisted snapshot of sources. A source with no
// snapshot is left out. Every snapshot is verified (its bytes must hash to
// the SHA-256 of its metadata, parse and pass the download checks): a
// damaged one is never served. The source then falls back to its previous
// good generation, flagged stale and due for a download at once, or, with
// none, loads no data; either way its meta says so in LastError
// ("snapshot damaged: …", which Stats reports), a warning is logged, and
// the source is listed in damaged.
func loadAll(s *snapshot.Store, sources []source) (data map[string]loaded, metas map[string]snapshotMeta, damaged []string) {
	data = map[string]loaded{}
	metas = map[string]snapshotMeta{}
	for _, src := range sources {
		var p parse.Parsed
		var size int
		g, found, damage := s.Load(src.Name, func(_ snapshotMeta, b []byte) (err error) {
			p, size, err = parseSnapshot(src, b)
			return err
		})
		if !found {
			continue
		}
		if damage == nil {
			metas[src.Name] = g.Meta
			data[src.Name] = loadedFrom(p, size, g.Meta.VerifiedAt, g.Meta.Failed())
			continue
		}
		damaged = append(damaged, src.Name)
		if g.Data == nil {
			metas[src.Name] = snapshotMeta{Source: src.Name, URL: src.URL, LastError: damagedPrefix + damage.Error() + "; not loaded"}
			slog.Warn("snapshot damaged, not loaded: the source answers nothing until its next download",
				"source", src.Name, "err", damage)
			continue
		}
		m := g.Meta
		m.LastError = fmt.Sprintf("%s%v; serving the previous generation (downloaded %s)",
			damagedPrefix, damage, m.FetchedAt.UTC().Format("2006-01-02T15:04:05Z"))
		metas[src.Name] = m
		l := loadedFrom(p, size, m.VerifiedAt, true)
		l.damaged = true
		data[src.Name] = l
		slog.Warn("snapshot damaged: serving the previous generation, stale, until the next download",
			"source", src.Name, "err", damage, "previous_fetched_at", m.FetchedAt)
	}
	return data, metas, damaged
}

// parseSnapshot parses the persisted bytes of src and checks them as a
// download is checked (validateDownload), except for the shrink test: a
// persisted snapshot passed that gate, or was forced through it, when it was
// downloaded. Its limit is the hard cap. Open and the adoption of another
// process's snapshot (Engine.adopt) both load snapshots through here; it
// also returns the uncompressed size.
func parseSnapshot(src source, b []byte) (parse.Parsed, int, error) {
	p, size, err := parseBody(src, b, limitFor(0))
	if err == nil {
		err = validateDownload(b, p, 0, true)
	}
	return p, size, err
}
