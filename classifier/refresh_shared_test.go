package classifier_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// Two engines opened on one data directory stand for two processes (a
// long-running daemon, A, and the refresh timer, B): they share the files
// and nothing in memory. They also share a clock, so "due" is exact.

// sharedDirPair is two engines on one data directory and the Tor server.
type sharedDirPair struct {
	srv   *torServer
	dir   string
	clock *testkit.Clock
	a, b  *classifier.Engine
	t0    time.Time // A's first refresh
}

// openSharedDirPair opens A and B (both before any download), then A
// refreshes the tor group at t0.
func openSharedDirPair(t *testing.T, script ...reply) *sharedDirPair {
	t.Helper()
	p := &sharedDirPair{srv: newTorServer(t, script...), dir: t.TempDir(), clock: testkit.NewClock()}
	opts := func(c *classifier.Config) { c.DataDir, c.Now = p.dir, p.clock.Now }
	p.a = torEngine(t, p.srv.URL, opts)
	p.b = torEngine(t, p.srv.URL, opts)
	p.t0 = p.clock.Now().UTC()
	require.Equal(t, classifier.StatusUpdated, refreshTor(t, p.a, false).Status)
	return p
}

// at moves the shared clock to t0+d.
func (p *sharedDirPair) at(d time.Duration) {
	p.clock.Advance(p.t0.Add(d).Sub(p.clock.Now()))
}

// snapshotFile is the path of the tor snapshot's data or metadata file.
func (p *sharedDirPair) snapshotFile(ext string) string {
	return filepath.Join(p.dir, "snapshots", "tor"+ext)
}

// renamedTorList is a list of the same size as torList(n) with none of its
// addresses (185.221.x.y).
func renamedTorList(n int) string { return strings.ReplaceAll(torList(n), "185.220.", "185.221.") }

func TestRefreshAdoptsTheNewerSnapshotAnotherProcessPersisted(t *testing.T) {
	v1 := reply{status: 200, body: torList(10), etag: `"v1"`}
	v2 := reply{status: 200, body: renamedTorList(10), etag: `"v2"`}
	tests := []struct {
		name     string
		second   reply         // what the server answers from the second request on
		bAt      time.Duration // when B refreshes, after A's first refresh; <0: never
		bStatus  string        // B's report line for tor
		aAt      time.Duration // when A refreshes again
		status   string        // A's report line for tor
		requests int           // Tor list requests in all
		snapAt   time.Duration // A's tor snapshot time afterwards, after t0
		tor      []string      // addresses A answers tor
		unknown  []string      // addresses A answers unknown
	}{
		{
			name:   "the list changed: A loads B's download and asks the server nothing",
			second: v2, bAt: 2 * time.Hour, bStatus: classifier.StatusUpdated, aAt: 2 * time.Hour,
			status: classifier.StatusAdopted, requests: 2, snapAt: 2 * time.Hour,
			tor: []string{"185.221.0.3"}, unknown: []string{"185.220.0.3"},
		},
		{
			name:   "the list did not change (B got a 304): A takes the newer verification time",
			second: v1, bAt: 2 * time.Hour, bStatus: classifier.StatusNotModified, aAt: 2 * time.Hour,
			status: classifier.StatusAdopted, requests: 2, snapAt: 2 * time.Hour,
			tor: []string{"185.220.0.3"}, unknown: []string{"185.221.0.3"},
		},
		{
			name:   "still due after adoption: A downloads, conditionally on the adopted ETag",
			second: v2, bAt: 2 * time.Hour, bStatus: classifier.StatusUpdated, aAt: 4 * time.Hour,
			status: classifier.StatusNotModified, requests: 3, snapAt: 4 * time.Hour,
			tor: []string{"185.221.0.3"}, unknown: []string{"185.220.0.3"},
		},
		{
			name:   "nothing newer on disk: skipped as before",
			second: v2, bAt: -1, aAt: 30 * time.Minute,
			status: classifier.StatusSkipped, requests: 1, snapAt: 0,
			tor: []string{"185.220.0.3"}, unknown: []string{"185.221.0.3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openSharedDirPair(t, v1, tt.second)
			if tt.bAt >= 0 {
				p.at(tt.bAt)
				sr := refreshTor(t, p.b, false)
				require.Equal(t, tt.bStatus, sr.Status, sr.Error)
			}
			p.at(tt.aAt)
			sr := refreshTor(t, p.a, false)
			assert.Equal(t, tt.status, sr.Status, sr.Error)
			assert.Empty(t, sr.Error)
			assert.Equal(t, tt.requests, p.srv.count(), "Tor list requests")
			if tt.requests == 3 {
				assert.Equal(t, `"v2"`, p.srv.ifNone[2], "A's conditional GET uses the adopted snapshot's ETag")
			}
			want := p.t0.Add(tt.snapAt)
			assert.WithinDuration(t, want, sr.SnapshotAt, 0, "report")
			assert.Equal(t, 10, sr.Entries)
			for _, ip := range tt.tor {
				r := fixture.Classify(t, p.a, ip)
				assert.Equal(t, classifier.TypeTor, r.Type, ip)
				assert.False(t, r.Stale, ip)
				assert.WithinDuration(t, want, r.SnapshotAt, 0, "answer's snapshot time")
			}
			for _, ip := range tt.unknown {
				assert.Equal(t, classifier.TypeUnknown, fixture.Classify(t, p.a, ip).Type, ip)
			}
			st := sourceStats(t, p.a, "tor")
			assert.WithinDuration(t, want, st.SnapshotAt, 0, "stats")
			assert.InDelta(t, p.clock.Now().Sub(want).Seconds(), st.AgeSeconds, 0.001)
			assert.Equal(t, 10, st.Prefixes)
			assert.Empty(t, st.LastError)
		})
	}
}

func TestRefreshAdoptsEverySourceOfTheGroupThenHasNothingToDo(t *testing.T) {
	p := openSharedDirPair(t, reply{status: 200, body: torList(10)}, reply{status: 200, body: renamedTorList(10)})
	p.at(2 * time.Hour)
	refreshTor(t, p.b, false)
	rep, err := p.a.Refresh(context.Background(), classifier.GroupTor, false)
	require.NoError(t, err)
	for _, s := range rep.Sources {
		assert.Equal(t, classifier.StatusAdopted, s.Status, s.Source) // Onionoo too: B re-verified it
	}
	assert.Zero(t, rep.Failed())
	assert.Equal(t, 2, p.srv.count())
	// Adopted once, the snapshot is ours: the next call has nothing to do.
	assert.Equal(t, classifier.StatusSkipped, refreshTor(t, p.a, false).Status)
	assert.Equal(t, 2, p.srv.count())
}

func TestRefreshKeepsPreviousDataWhenTheSnapshotOnDiskIsBroken(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, p *sharedDirPair)
		err     string
	}{
		{
			name: "data that is not a list, its metadata matching it",
			corrupt: func(t *testing.T, p *sharedDirPair) {
				page := []byte("<!DOCTYPE html><html><body>Rate limited</body></html>")
				require.NoError(t, os.WriteFile(p.snapshotFile(".data"), page, 0o644))
				var meta map[string]any
				b, err := os.ReadFile(p.snapshotFile(".meta.json"))
				require.NoError(t, err)
				require.NoError(t, json.Unmarshal(b, &meta))
				sum := sha256.Sum256(page)
				meta["sha256"] = hex.EncodeToString(sum[:])
				b, err = json.Marshal(meta)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(p.snapshotFile(".meta.json"), b, 0o644))
			},
			err: "HTML page",
		},
		{
			name: "data that does not match its metadata",
			corrupt: func(t *testing.T, p *sharedDirPair) {
				require.NoError(t, os.WriteFile(p.snapshotFile(".data"), []byte(torList(3)), 0o644))
			},
			err: "do not match its metadata",
		},
		{
			name: "data file missing",
			corrupt: func(t *testing.T, p *sharedDirPair) {
				require.NoError(t, os.Remove(p.snapshotFile(".data")))
			},
			err: "no such file",
		},
		{
			name: "metadata that is not JSON",
			corrupt: func(t *testing.T, p *sharedDirPair) {
				require.NoError(t, os.WriteFile(p.snapshotFile(".meta.json"), []byte(`{"source": "tor", "verif`), 0o644))
			},
			err: "decode snapshot metadata",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openSharedDirPair(t, reply{status: 200, body: torList(10)}, reply{status: 200, body: renamedTorList(10)})
			p.at(30 * time.Minute) // A's snapshot is not due yet
			require.Equal(t, classifier.StatusUpdated, refreshTor(t, p.b, true).Status)
			tt.corrupt(t, p)
			dataBefore, _ := os.ReadFile(p.snapshotFile(".data"))
			metaBefore, _ := os.ReadFile(p.snapshotFile(".meta.json"))

			sr := refreshTor(t, p.a, false)
			assert.Equal(t, classifier.StatusFailed, sr.Status)
			assert.Contains(t, sr.Error, "snapshot of tor on disk not loaded")
			assert.Contains(t, sr.Error, tt.err)
			assert.Equal(t, 2, p.srv.count(), "not due: no download")
			r := fixture.Classify(t, p.a, "185.220.0.3")
			assert.Equal(t, classifier.TypeTor, r.Type, "A's previous data still answers")
			assert.True(t, r.Stale, "flagged like any failed refresh")
			assert.WithinDuration(t, p.t0, r.SnapshotAt, 0)
			assert.Equal(t, classifier.TypeUnknown, fixture.Classify(t, p.a, "185.221.0.3").Type)
			assert.Contains(t, sourceStats(t, p.a, "tor").LastError, tt.err)
			dataAfter, _ := os.ReadFile(p.snapshotFile(".data"))
			metaAfter, _ := os.ReadFile(p.snapshotFile(".meta.json"))
			assert.Equal(t, dataBefore, dataAfter, "A writes nothing over the other process's files")
			assert.Equal(t, metaBefore, metaAfter, "A writes nothing over the other process's files")

			// Once due, A downloads as before, which replaces the broken files.
			p.at(2 * time.Hour)
			sr = refreshTor(t, p.a, false)
			assert.Equal(t, classifier.StatusUpdated, sr.Status, sr.Error)
			assert.Equal(t, 3, p.srv.count())
			r = fixture.Classify(t, p.a, "185.221.0.3")
			assert.Equal(t, classifier.TypeTor, r.Type)
			assert.False(t, r.Stale)
			c := torEngine(t, p.srv.URL, func(c *classifier.Config) { c.DataDir, c.Now = p.dir, p.clock.Now })
			assert.Equal(t, classifier.TypeTor, fixture.Classify(t, c, "185.221.0.3").Type, "the files on disk are good again")
		})
	}
}

func TestFailedRefreshDoesNotOverwriteTheNewerSnapshotAnotherProcessPersisted(t *testing.T) {
	tests := []struct {
		name    string
		force   bool                                 // A's refresh skips adoption
		corrupt func(t *testing.T, p *sharedDirPair) // after B's refresh; nil: B's snapshot is good
		err     string                               // in A's report besides the download's error
	}{
		{
			name:  "forced: A does not look for a newer snapshot before downloading",
			force: true,
		},
		{
			name: "B's snapshot cannot be adopted (its data does not match its metadata)",
			corrupt: func(t *testing.T, p *sharedDirPair) {
				require.NoError(t, os.WriteFile(p.snapshotFile(".data"), []byte(torList(3)), 0o644))
			},
			err: "do not match its metadata",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openSharedDirPair(t,
				reply{status: 200, body: torList(10), etag: `"v1"`},        // A at t0
				reply{status: 200, body: renamedTorList(10), etag: `"v2"`}, // B
				reply{status: 404}, // A: not retried
				reply{status: 200, body: renamedTorList(10), etag: `"v2"`}) // a later process
			p.at(2 * time.Hour) // A's snapshot is due
			require.Equal(t, classifier.StatusUpdated, refreshTor(t, p.b, true).Status)
			if tt.corrupt != nil {
				tt.corrupt(t, p)
			}
			metaBefore, err := os.ReadFile(p.snapshotFile(".meta.json"))
			require.NoError(t, err)

			sr := refreshTor(t, p.a, tt.force)
			assert.Equal(t, classifier.StatusFailed, sr.Status)
			assert.Contains(t, sr.Error, "HTTP 404")
			assert.Contains(t, sr.Error, tt.err)
			assert.Equal(t, 3, p.srv.count())
			r := fixture.Classify(t, p.a, "185.220.0.3")
			assert.Equal(t, classifier.TypeTor, r.Type, "A's previous data still answers")
			assert.True(t, r.Stale, "the failure is recorded in memory")
			assert.Contains(t, sourceStats(t, p.a, "tor").LastError, "HTTP 404")
			metaAfter, err := os.ReadFile(p.snapshotFile(".meta.json"))
			require.NoError(t, err)
			assert.Equal(t, string(metaBefore), string(metaAfter), "A's older metadata is not written over B's newer one")

			if tt.corrupt == nil {
				// The next process keeps B's data and metadata paired: it
				// revalidates with B's ETag rather than downloading anew.
				c := torEngine(t, p.srv.URL, func(c *classifier.Config) { c.DataDir, c.Now = p.dir, p.clock.Now })
				assert.Equal(t, classifier.StatusNotModified, refreshTor(t, c, true).Status)
				assert.Equal(t, `"v2"`, p.srv.ifNone[3])
			}
		})
	}
}
