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

// loadAll parses every persisted snapshot of sources. Every snapshot is
// verified (its bytes must hash to the SHA-256 of its metadata, parse and
// pass the download checks): a damaged one is never served. The source then
// falls back to its previous good generation, flagged stale and due for a
// download at once; with none, to the baseline store when there is one
// (Config.BaselineDir); with neither, it loads no data. Either way its meta
// says so in LastError ("snapshot damaged: …", which Stats reports), a
// warning is logged, and the source is listed in damaged.
//
// A source with no snapshot of its own is read from the baseline store:
// its data is served flagged stale with its real date, and a download
// replaces it as soon as one succeeds (the baseline's date makes it due at
// once). The data directory's own snapshots, either generation, always win
// over the baseline, whatever their dates.
func loadAll(s, baseline *snapshot.Store, sources []source) (data map[string]loaded, metas map[string]snapshotMeta, damaged []string) {
	data = map[string]loaded{}
	metas = map[string]snapshotMeta{}
	for _, src := range sources {
		g, p, size, found, damage := loadSnapshot(s, src)
		if found && damage == nil && g.Data != nil {
			metas[src.Name] = g.Meta
			data[src.Name] = loadedFrom(p, size, g.Meta.VerifiedAt, g.Meta.Failed(), g.Meta.SHA256)
			continue
		}
		if damage != nil {
			damaged = append(damaged, src.Name)
		}
		if damage != nil && g.Data != nil {
			m := g.Meta
			m.LastError = fmt.Sprintf("%s%v; serving the previous generation (downloaded %s)",
				damagedPrefix, damage, m.FetchedAt.UTC().Format("2006-01-02T15:04:05Z"))
			metas[src.Name] = m
			l := loadedFrom(p, size, m.VerifiedAt, true, m.SHA256)
			l.damaged = true
			data[src.Name] = l
			slog.Warn("snapshot damaged: serving the previous generation, stale, until the next download",
				"source", src.Name, "err", damage, "previous_fetched_at", m.FetchedAt)
			continue
		}
		if baseline != nil {
			if bg, bp, bsize, bfound, bdamage := loadSnapshot(baseline, src); bfound && bdamage == nil && bg.Data != nil {
				m := bg.Meta
				// This directory's record of failed attempts, if any.
				m.LastAttemptAt, m.LastError = g.Meta.LastAttemptAt, g.Meta.LastError
				if damage != nil {
					m.LastError = damagedPrefix + damage.Error() + "; serving the bundled baseline"
					slog.Warn("snapshot damaged: serving the bundled baseline, stale, until the next download",
						"source", src.Name, "err", damage)
				}
				metas[src.Name] = m
				l := loadedFrom(bp, bsize, m.VerifiedAt, false, m.SHA256)
				l.baseline = true
				data[src.Name] = l
				continue
			}
		}
		if damage == nil {
			if found {
				metas[src.Name] = g.Meta // failed attempts only: never downloaded
			}
			continue
		}
		metas[src.Name] = snapshotMeta{Source: src.Name, URL: src.URL, LastError: damagedPrefix + damage.Error() + "; not loaded"}
		slog.Warn("snapshot damaged, not loaded: the source answers nothing until its next download",
			"source", src.Name, "err", damage)
	}
	return data, metas, damaged
}

// loadSnapshot reads, verifies and parses the newest good generation of
// src in store (see snapshot.Store.Load); size is its uncompressed size.
func loadSnapshot(store *snapshot.Store, src source) (g snapshot.Generation, p parse.Parsed, size int, found bool, damage error) {
	g, found, damage = store.Load(src.Name, func(_ snapshotMeta, b []byte) (err error) {
		p, size, err = parseSnapshot(src, b)
		return err
	})
	return g, p, size, found, damage
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
