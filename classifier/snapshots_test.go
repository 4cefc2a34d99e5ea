package classifier_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// A snapshot damaged on disk is reported by Stats, never served: the
// reopened engine answers nothing from that source, says why, and the next
// refresh downloads it again at once (it is due, whatever its interval).
func TestDamagedSnapshotOnDiskIsReportedNotServed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"bytes that no longer parse", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "tor.data"), []byte("<html>gone</html>"), 0o644))
		}, "HTML page"},
		{"metadata that is no JSON", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "tor.meta.json"), []byte("{torn"), 0o644))
		}, "decode snapshot metadata"},
		{"data file missing", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "tor.data")))
		}, "read snapshot tor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixture.Config(t, fixture.Server(t).URL)
			e, err := classifier.Open(cfg)
			require.NoError(t, err)
			_, err = e.Refresh(context.Background(), classifier.GroupTor, false)
			require.NoError(t, err)
			require.NoError(t, e.Close())
			tc.damage(t, filepath.Join(cfg.DataDir, "snapshots"))

			e = fixture.Open(t, cfg)
			r, err := e.Classify(context.Background(), "185.220.101.1", 0, "")
			require.NoError(t, err)
			assert.NotEqual(t, "tor", r.Snapshot, "the damaged bulk list answers nothing")
			var tor classifier.SourceStats
			for _, s := range e.Stats().Sources {
				if s.Name == "tor" {
					tor = s
				}
			}
			assert.Contains(t, tor.LastError, "persisted snapshot unusable")
			assert.Contains(t, tor.LastError, tc.want)
			assert.Zero(t, tor.Prefixes)

			rep, err := e.Refresh(context.Background(), classifier.GroupTor, false)
			require.NoError(t, err)
			assert.Equal(t, classifier.StatusUpdated, rep.Sources[0].Status)
			r, err = e.Classify(context.Background(), "185.220.101.1", 0, "")
			require.NoError(t, err)
			assert.Equal(t, "tor", r.Snapshot)
		})
	}
}
