package classifier_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/snapshot"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// snapshotDamages are the ways a snapshot on disk gets damaged.
var snapshotDamages = []struct {
	name   string
	damage func(t *testing.T, dir string)
	want   string
}{
	{"cut to 15%", func(t *testing.T, dir string) {
		p := filepath.Join(dir, "tor.data")
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, b[:len(b)*15/100], 0o644))
	}, "tor.data does not match its metadata"},
	{"random bytes", func(t *testing.T, dir string) {
		b := make([]byte, 4096)
		_, _ = rand.Read(b)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "tor.data"), b, 0o644))
	}, "tor.data does not match its metadata"},
	{"bytes that match their metadata but no longer parse", func(t *testing.T, dir string) {
		page := []byte("<html>gone</html>")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "tor.data"), page, 0o644))
		p := filepath.Join(dir, "tor.meta.json")
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		m["sha256"] = snapshot.SHA256Hex(page)
		b, err = json.Marshal(m)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}, "HTML page"},
	{"metadata that is no JSON", func(t *testing.T, dir string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "tor.meta.json"), []byte("{torn"), 0o644))
	}, "decode snapshot metadata"},
	{"data file missing", func(t *testing.T, dir string) {
		require.NoError(t, os.Remove(filepath.Join(dir, "tor.data")))
	}, "tor.data is missing"},
	{"metadata file missing", func(t *testing.T, dir string) {
		require.NoError(t, os.Remove(filepath.Join(dir, "tor.meta.json")))
	}, "tor.meta.json is missing"},
}

// A damaged snapshot with no previous generation is reported, never
// served: the reopened engine answers nothing from that source, says why
// (stats, log), and the next refresh downloads it again at once.
func TestDamagedSnapshotWithoutPreviousGenerationIsReportedNotServed(t *testing.T) {
	for _, tc := range snapshotDamages {
		if tc.name == "metadata file missing" {
			continue // with one generation, that is a source never downloaded
		}
		t.Run(tc.name, func(t *testing.T) {
			srv := newTorServer(t, reply{status: http.StatusOK, body: torList(300)})
			e := torEngine(t, srv.URL)
			require.Equal(t, classifier.StatusUpdated, refreshTor(t, e, false).Status)
			cfg := e.Config()
			require.NoError(t, e.Close())
			tc.damage(t, filepath.Join(cfg.DataDir, "snapshots"))

			e = fixture.Open(t, cfg)
			r := fixture.Classify(t, e, "185.220.0.1")
			assert.NotEqual(t, "tor", r.Snapshot, "the damaged bulk list answers nothing")
			tor := sourceStats(t, e, "tor")
			assert.Contains(t, tor.LastError, "snapshot damaged: ")
			assert.Contains(t, tor.LastError, tc.want)
			assert.Equal(t, int64(1), tor.SnapshotDamaged)
			assert.Zero(t, tor.Prefixes)

			assert.Equal(t, classifier.StatusUpdated, refreshTor(t, e, false).Status, "due at once")
			assert.Equal(t, "tor", fixture.Classify(t, e, "185.220.0.1").Snapshot)
			assert.Empty(t, sourceStats(t, e, "tor").LastError)
		})
	}
}

// With a previous good generation on disk, a damaged snapshot falls back to
// it: served stale (never as fresh), reported, and replaced by the next
// refresh at once although the source is not due.
func TestDamagedSnapshotFallsBackToThePreviousGenerationStale(t *testing.T) {
	for _, tc := range snapshotDamages {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTorServer(t, reply{status: http.StatusOK, body: torList(1000)}, reply{status: http.StatusOK, body: torList(1372)})
			e := torEngine(t, srv.URL)
			require.Equal(t, classifier.StatusUpdated, refreshTor(t, e, true).Status)
			require.Equal(t, classifier.StatusUpdated, refreshTor(t, e, true).Status)
			require.Equal(t, 1372, sourceStats(t, e, "tor").Prefixes)
			cfg := e.Config()
			require.NoError(t, e.Close())
			tc.damage(t, filepath.Join(cfg.DataDir, "snapshots"))

			e = fixture.Open(t, cfg)
			tor := sourceStats(t, e, "tor")
			assert.Equal(t, 1000, tor.Prefixes, "the previous generation, whole")
			assert.True(t, tor.Stale)
			assert.Contains(t, tor.LastError, "snapshot damaged: ")
			assert.Contains(t, tor.LastError, tc.want)
			assert.Contains(t, tor.LastError, "serving the previous generation")
			assert.Equal(t, int64(1), tor.SnapshotDamaged)
			r := fixture.Classify(t, e, "185.220.0.1")
			assert.Equal(t, "tor", r.Snapshot)
			assert.True(t, r.Stale, "never served as fresh")
			assert.NotEqual(t, "tor", fixture.Classify(t, e, "185.220.4.100").Snapshot, "the 1372-address list is gone")

			before := srv.count()
			assert.Equal(t, classifier.StatusUpdated, refreshTor(t, e, false).Status, "due at once")
			assert.Greater(t, srv.count(), before)
			tor = sourceStats(t, e, "tor")
			assert.Equal(t, 1372, tor.Prefixes)
			assert.False(t, tor.Stale)
			assert.Empty(t, tor.LastError)
			assert.False(t, fixture.Classify(t, e, "185.220.4.100").Stale)
		})
	}
}

// Write keeps the previous good generation, and Load pairs metadata with
// data by hash: whatever step of a Write a crash interrupts, the next Open
// loads a whole generation, never a mix.
func TestSnapshotWriteStepsLeaveAWholeGenerationAtEveryStep(t *testing.T) {
	ctx := context.Background()
	srv := newTorServer(t, reply{status: http.StatusOK, body: torList(1000)}, reply{status: http.StatusOK, body: torList(1372)})
	e := torEngine(t, srv.URL)
	refreshTor(t, e, true)
	refreshTor(t, e, true)
	cfg := e.Config()
	require.NoError(t, e.Close())
	dir := filepath.Join(cfg.DataDir, "snapshots")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return b
	}
	cur, curMeta, prev, prevMeta := read("tor.data"), read("tor.meta.json"), read("tor.prev.data"), read("tor.prev.meta.json")
	for _, tc := range []struct {
		name    string
		files   map[string][]byte // nil: removed
		entries int
	}{
		{"data copied to prev, prev metadata not yet written", map[string][]byte{
			"tor.data": cur, "tor.meta.json": curMeta, "tor.prev.data": cur, "tor.prev.meta.json": prevMeta}, 1372},
		{"current data gone, its copy in prev (a rename, or a copy and a loss)", map[string][]byte{
			"tor.data": nil, "tor.meta.json": curMeta, "tor.prev.data": cur, "tor.prev.meta.json": prevMeta}, 1372},
		{"new data written, its metadata not yet", map[string][]byte{
			"tor.data": []byte(torList(1500)), "tor.meta.json": curMeta, "tor.prev.data": cur, "tor.prev.meta.json": curMeta}, 1372},
		{"done", map[string][]byte{
			"tor.data": cur, "tor.meta.json": curMeta, "tor.prev.data": prev, "tor.prev.meta.json": prevMeta}, 1372},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, b := range tc.files {
				p := filepath.Join(dir, name)
				if b == nil {
					require.NoError(t, os.Remove(p))
					continue
				}
				require.NoError(t, os.WriteFile(p, b, 0o644))
			}
			e, err := classifier.Open(cfg)
			require.NoError(t, err)
			defer e.Close()
			tor := sourceStats(t, e, "tor")
			assert.Equal(t, tc.entries, tor.Prefixes)
			assert.Empty(t, tor.LastError)
			assert.Zero(t, tor.SnapshotDamaged)
			r, err := e.Classify(ctx, "185.220.4.100", 0, "")
			require.NoError(t, err)
			assert.False(t, r.Stale)
		})
	}
}
