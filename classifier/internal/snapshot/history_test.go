package snapshot_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/snapshot"
)

var (
	day0   = time.Date(2026, 3, 15, 13, 0, 0, 0, time.UTC)
	hourly = snapshot.Policy{Retention: 90 * 24 * time.Hour, Granularity: time.Hour}
)

func add(t *testing.T, h *snapshot.History, date time.Time, data string, p snapshot.Policy, now time.Time) bool {
	t.Helper()
	added, err := h.Add("tor", snapshot.Entry{Date: date, Entries: 1}, []byte(data), p, now)
	require.NoError(t, err)
	return added
}

func list(t *testing.T, h *snapshot.History) (dates []time.Time, contents []string) {
	t.Helper()
	es, err := h.List("tor")
	require.NoError(t, err)
	for _, e := range es {
		b, err := h.Read("tor", e)
		require.NoError(t, err)
		dates = append(dates, e.Date)
		contents = append(contents, string(b))
	}
	return dates, contents
}

func TestHistoryStoresChangedContentOnly(t *testing.T) {
	h, err := snapshot.OpenHistory(t.TempDir())
	require.NoError(t, err)
	assert.True(t, add(t, h, day0, "1.2.3.4\n", hourly, day0))
	assert.False(t, add(t, h, day0.Add(2*time.Hour), "1.2.3.4\n", hourly, day0), "unchanged bytes")
	assert.True(t, add(t, h, day0.Add(3*time.Hour), "5.6.7.8\n", hourly, day0))
	assert.True(t, add(t, h, day0.Add(5*time.Hour), "1.2.3.4\n", hourly, day0), "back to the first list")
	dates, contents := list(t, h)
	assert.Equal(t, []time.Time{day0, day0.Add(3 * time.Hour), day0.Add(5 * time.Hour)}, dates)
	assert.Equal(t, []string{"1.2.3.4\n", "5.6.7.8\n", "1.2.3.4\n"}, contents)
	blobs, _ := filepath.Glob(filepath.Join(h.DiskPath("tor"), "*.gz"))
	assert.Len(t, blobs, 2, "the same bytes are one blob")
	assert.Positive(t, h.DiskBytes("tor"))
}

func TestHistoryKeepsTheLastListOfEachSlot(t *testing.T) {
	h, err := snapshot.OpenHistory(t.TempDir())
	require.NoError(t, err)
	add(t, h, day0, "a\n", hourly, day0)
	add(t, h, day0.Add(20*time.Minute), "b\n", hourly, day0)
	add(t, h, day0.Add(40*time.Minute), "c\n", hourly, day0)
	add(t, h, day0.Add(70*time.Minute), "d\n", hourly, day0)
	dates, contents := list(t, h)
	assert.Equal(t, []time.Time{day0.Add(40 * time.Minute), day0.Add(70 * time.Minute)}, dates)
	assert.Equal(t, []string{"c\n", "d\n"}, contents)
}

func TestHistoryPrunesDownloadsPastRetentionButNotImports(t *testing.T) {
	h, err := snapshot.OpenHistory(t.TempDir())
	require.NoError(t, err)
	p := snapshot.Policy{Retention: 48 * time.Hour, Granularity: time.Hour}
	_, err = h.Add("tor", snapshot.Entry{Date: day0.Add(-30 * 24 * time.Hour), Imported: true}, []byte("imported\n"), p, day0)
	require.NoError(t, err)
	for d := 0; d < 5; d++ {
		add(t, h, day0.Add(time.Duration(d)*24*time.Hour), string(rune('a'+d))+"\n", p, day0.Add(time.Duration(d)*24*time.Hour))
	}
	dates, contents := list(t, h)
	// Day 4's list is current; day 2's stopped being in force on day 3,
	// within 48 h; day 1's on day 2, exactly 48 h before: kept; day 0's
	// earlier: dropped.
	assert.Equal(t, []string{"imported\n", "b\n", "c\n", "d\n", "e\n"}, contents)
	assert.Equal(t, day0.Add(-30*24*time.Hour), dates[0])
	blobs, _ := filepath.Glob(filepath.Join(h.DiskPath("tor"), "*.gz"))
	assert.Len(t, blobs, 5, "the pruned list's blob is removed")
}

func TestHistoryImportsBetweenEntriesOfTheSameContentKeepThemApart(t *testing.T) {
	h, err := snapshot.OpenHistory(t.TempDir())
	require.NoError(t, err)
	add(t, h, day0, "a\n", hourly, day0)
	imp := func(d time.Duration, data string) {
		_, err := h.Add("tor", snapshot.Entry{Date: day0.Add(d), Imported: true}, []byte(data), hourly, day0)
		require.NoError(t, err)
	}
	imp(-48*time.Hour, "a\n") // a was in force two days earlier already…
	imp(-24*time.Hour, "b\n") // …then b, then a again (day0's download)
	dates, contents := list(t, h)
	assert.Equal(t, []time.Time{day0.Add(-48 * time.Hour), day0.Add(-24 * time.Hour), day0}, dates)
	assert.Equal(t, []string{"a\n", "b\n", "a\n"}, contents)
	blobs, _ := filepath.Glob(filepath.Join(h.DiskPath("tor"), "*.gz"))
	assert.Len(t, blobs, 2)
}

func TestHistoryKeepsGzipBytesAsTheyAre(t *testing.T) {
	h, err := snapshot.OpenHistory(t.TempDir())
	require.NoError(t, err)
	gz := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	_, err = h.Add("asn/ip2asn-v4", snapshot.Entry{Date: day0}, gz, hourly, day0)
	require.NoError(t, err)
	es, err := h.List("asn/ip2asn-v4")
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.False(t, es[0].Compressed)
	assert.Equal(t, len(gz), es[0].Stored)
	b, err := h.Read("asn/ip2asn-v4", es[0])
	require.NoError(t, err)
	assert.Equal(t, gz, b)
}

func TestHistoryReportsDamage(t *testing.T) {
	h, err := snapshot.OpenHistory(t.TempDir())
	require.NoError(t, err)
	add(t, h, day0, "1.2.3.4\n", hourly, day0)
	es, err := h.List("tor")
	require.NoError(t, err)
	blob := filepath.Join(h.DiskPath("tor"), es[0].SHA256+".gz")
	require.NoError(t, os.WriteFile(blob, []byte("not gzip"), 0o644))
	_, err = h.Read("tor", es[0])
	assert.ErrorContains(t, err, "damaged")

	require.NoError(t, os.WriteFile(filepath.Join(h.DiskPath("tor"), "index.json"), []byte(`[{"date":"x"`), 0o644))
	_, err = h.List("tor")
	assert.ErrorContains(t, err, "history index of tor damaged")
	_, err = h.Add("tor", snapshot.Entry{Date: day0.Add(time.Hour)}, []byte("5.6.7.8\n"), hourly, day0)
	assert.Error(t, err, "nothing is added over a damaged index")
}

func TestHistoryWithoutRetentionKeepsNoDownloads(t *testing.T) {
	h, err := snapshot.OpenHistory(t.TempDir())
	require.NoError(t, err)
	assert.False(t, add(t, h, day0, "a\n", snapshot.Policy{}, day0))
	es, err := h.List("tor")
	require.NoError(t, err)
	assert.Empty(t, es)
}

func TestDecodeIndexRefuses(t *testing.T) {
	sum := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	for name, text := range map[string]string{
		"not JSON":      `{`,
		"no date":       `[{"sha256":"` + sum + `"}]`,
		"bad sum":       `[{"date":"2026-03-15T00:00:00Z","sha256":"../../etc/passwd"}]`,
		"negative size": `[{"date":"2026-03-15T00:00:00Z","sha256":"` + sum + `","bytes":-1}]`,
		"out of order": `[{"date":"2026-03-15T00:00:00Z","sha256":"` + sum + `"},` +
			`{"date":"2026-03-14T00:00:00Z","sha256":"` + sum + `"}]`,
	} {
		_, err := snapshot.DecodeIndex([]byte(text))
		assert.Error(t, err, name)
	}
}

func FuzzDecodeIndex(f *testing.F) {
	f.Add([]byte(`[{"date":"2026-03-15T00:00:00Z","sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","bytes":1,"stored":1,"entries":1}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := snapshot.DecodeIndex(b)
		if err != nil {
			return
		}
		for i, e := range es {
			if len(e.SHA256) != 64 || e.Date.IsZero() || e.Bytes < 0 || (i > 0 && !e.Date.After(es[i-1].Date)) {
				t.Fatalf("accepted a bad entry %d: %+v", i, e)
			}
		}
	})
}
