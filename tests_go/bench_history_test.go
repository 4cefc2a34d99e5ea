package tests_go

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// The four dated Tor lists of ../shared/data and their dates.
var torHistory = []struct {
	file string
	date time.Time
}{
	{"tor/torbulkexitlist", time.Date(2026, 3, 15, 13, 17, 9, 0, time.UTC)},
	{"tor/torbulkexitlist.2026-04-30", time.Date(2026, 4, 30, 17, 17, 18, 0, time.UTC)},
	{"tor/torbulkexitlist.2026-06-15", time.Date(2026, 6, 15, 19, 45, 27, 0, time.UTC)},
	{"tor/torbulkexitlist.2026-08-22", time.Date(2026, 8, 22, 16, 18, 35, 0, time.UTC)},
}

// rssMB is the resident set of this process after a full collection that
// returns freed memory to the system.
func rssMB(b *testing.B) float64 {
	b.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			require.NoError(b, err)
			return kb / 1024
		}
	}
	b.Skip("no VmRSS")
	return 0
}

// BenchmarkClassifyAt measures answers as of a past time on the real data
// with the four dated Tor lists in the history. The four views of those
// dates are built first (view-build-s is the time of one, rss-MB-now the
// resident set before, rss-MB-4dates after): then "now" is Classify on the
// same engine (the current-time path, which must not pay for the history),
// "4-dates-in-order" walks the four dates in blocks as a backfill sorted by
// time does, "4-dates-alternating" changes date on every lookup (the cost
// of finding the epoch's view), "batch10k-4-dates-in-order" is one
// ClassifyBatch of 10,000 queries over the four dates.
func BenchmarkClassifyAt(b *testing.B) {
	cfg := fixture.RealDataConfig(b)
	cfg.TorURL += ".2026-08-22"
	e := fixture.Open(b, cfg)
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(b, err)
	require.Zero(b, rep.Failed())
	dir := testkit.SharedData(b)
	for _, h := range torHistory {
		data, err := os.ReadFile(filepath.Join(dir, h.file))
		require.NoError(b, err)
		_, err = e.ImportSnapshot(context.Background(), "tor", h.date, data)
		require.NoError(b, err)
	}
	ctx := context.Background()
	ips := benchIPs(b)
	at := func(k int) time.Time { return torHistory[k%len(torHistory)].date.Add(time.Hour) }
	before := rssMB(b)
	start := time.Now()
	for k := range torHistory {
		_, err := e.ClassifyAt(ctx, ips[0], 0, "", at(k))
		require.NoError(b, err)
	}
	build := time.Since(start).Seconds() / float64(len(torHistory))
	after := rssMB(b)
	b.Run("now", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_, _ = e.Classify(ctx, ips[i%len(ips)], 0, "")
		}
	})
	b.Run("4-dates-in-order", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_, _ = e.ClassifyAt(ctx, ips[i%len(ips)], 0, "", at(i/4096))
		}
	})
	b.Run("4-dates-alternating", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_, _ = e.ClassifyAt(ctx, ips[i%len(ips)], 0, "", at(i))
		}
	})
	b.Run("batch10k-4-dates-in-order", func(b *testing.B) {
		qs := make([]classifier.Query, 10000)
		for i := range qs {
			qs[i] = classifier.Query{IP: ips[i%len(ips)], At: at(i * 4 / len(qs))}
		}
		for b.Loop() {
			_, _ = e.ClassifyBatch(ctx, qs)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(qs)), "ns/ip")
	})
	// The parent's metrics are not printed when it has sub-benchmarks: a
	// row of their own.
	b.Run("memory", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(before, "rss-MB-now")
		b.ReportMetric(after, "rss-MB-4dates")
		b.ReportMetric(build, "view-build-s")
		b.ReportMetric(float64(e.Stats().HistoryViews), "views-built")
	})
}
