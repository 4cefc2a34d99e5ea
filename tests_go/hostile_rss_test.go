package tests_go

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// hostileRSSEnv turns on TestHostileResponsePeakRSS (it takes a minute and
// measures memory: run it alone, without the race detector).
const hostileRSSEnv = "IPCLASSIFIER_MEASURE_HOSTILE_RSS"

// hostileScenarios are the poisoned answers measured: which sources get
// them, from which path of the hostile server, and whether the engine has
// accepted a snapshot before (the real data).
var hostileScenarios = []struct {
	name    string
	group   string
	sources func(cfg *classifier.Config, base string)
	fresh   bool // no snapshot yet: the hard cap applies
}{
	{"gzip bomb as ip2asn-v4", classifier.GroupASN, func(c *classifier.Config, b string) { c.ASNV4URL = b + "/bomb.tsv.gz" }, false},
	{"endless body as the tor list", classifier.GroupTor, func(c *classifier.Config, b string) { c.TorURL = b + "/endless" }, false},
	{"endless bodies for the datacenter group", classifier.GroupDatacenter, func(c *classifier.Config, b string) {
		c.DatacenterURL, c.HostingBaseURL, c.HostingASNURL = b+"/endless", b+"/endless", b+"/endless"
	}, false},
	{"endless bodies for every source", classifier.GroupAll, func(c *classifier.Config, b string) {
		c.TorURL, c.OnionooURL, c.CloudBaseURL = b+"/endless", b+"/endless", b+"/endless"
		c.DatacenterURL, c.HostingBaseURL, c.HostingASNURL = b+"/endless", b+"/endless", b+"/endless"
		c.ASNV4URL, c.ASNV6URL, c.PeeringDBURL = b+"/endless", b+"/endless", b+"/endless"
	}, false},
	{"endless body as the tor list, first download", classifier.GroupTor, func(c *classifier.Config, b string) { c.TorURL = b + "/endless" }, true},
	{"gzip bomb as ip2asn-v4, first download", classifier.GroupASN, func(c *classifier.Config, b string) { c.ASNV4URL = b + "/bomb.tsv.gz" }, true},
}

// TestHostileResponsePeakRSS measures what one hostile answer costs: each
// scenario runs in a child process that refreshes from the real data,
// resets its peak RSS (/proc/self/clear_refs), refreshes from a hostile
// local server (a 1.1 GiB gzip bomb of ip2asn rows, endless valid-looking
// bodies) and reports its peak RSS over the RSS it had. It checks that
// every hostile answer is refused and prints the figures; the target is
// 300 MB at most per hostile answer.
//
//	IPCLASSIFIER_MEASURE_HOSTILE_RSS=1 go test -tags libsqlite3 -run HostileResponsePeakRSS -v ./tests_go
func TestHostileResponsePeakRSS(t *testing.T) {
	if name := os.Getenv(hostileRSSEnv + "_CHILD"); name != "" {
		hostileChild(t, name, os.Getenv(hostileRSSEnv+"_URL"))
		return
	}
	if os.Getenv(hostileRSSEnv) == "" {
		t.Skipf("a measurement: set %s=1 to run it", hostileRSSEnv)
	}
	fixture.RealDataConfig(t) // skips without the real data
	bomb := hostileBomb(t, 1100<<20)
	t.Logf("gzip bomb: %d bytes on the wire, 1100 MiB unzipped", len(bomb))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".gz") {
			_, _ = w.Write(bomb)
			return
		}
		chunk := []byte(strings.Repeat("185.220.101.1\n", 4096))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	var report strings.Builder
	for _, sc := range hostileScenarios {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHostileResponsePeakRSS$", "-test.v")
		cmd.Env = append(os.Environ(), hostileRSSEnv+"_CHILD="+sc.name, hostileRSSEnv+"_URL="+srv.URL)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s:\n%s", sc.name, out)
		var line string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "RESULT ") {
				line = strings.TrimPrefix(strings.TrimSpace(l), "RESULT ")
			}
		}
		require.NotEmpty(t, line, "%s: no result:\n%s", sc.name, out)
		fmt.Fprintf(&report, "%-48s %s\n", sc.name, line)
	}
	t.Logf("peak RSS of one hostile refresh over the RSS before it:\n%s", report.String())
}

// hostileChild runs one scenario and prints its RESULT line.
func hostileChild(t *testing.T, name, base string) {
	ctx := context.Background()
	for _, sc := range hostileScenarios {
		if sc.name != name {
			continue
		}
		cfg := fixture.RealDataConfig(t)
		if !sc.fresh {
			e, err := classifier.Open(cfg)
			require.NoError(t, err)
			rep, err := e.Refresh(ctx, classifier.GroupAll, false)
			require.NoError(t, err)
			require.Zero(t, rep.Failed())
			require.NoError(t, e.Close())
		}
		sc.sources(&cfg, base)
		for _, d := range []*classifier.Seconds{&cfg.TorInterval, &cfg.CloudInterval, &cfg.DatacenterInterval, &cfg.HostingInterval, &cfg.ASNInterval} {
			*d = 1e-6 // every source due: refreshed without force, which lifts the limit
		}
		e, err := classifier.Open(cfg)
		require.NoError(t, err)
		defer e.Close()
		debug.FreeOSMemory()
		rss := procStatusKB(t, "VmRSS")
		require.NoError(t, os.WriteFile("/proc/self/clear_refs", []byte("5"), 0))
		rep, err := e.Refresh(ctx, sc.group, false)
		require.NoError(t, err)
		peak := procStatusKB(t, "VmHWM")
		var errs []string
		for _, s := range rep.Sources {
			if s.Status == classifier.StatusFailed {
				errs = append(errs, s.Error)
			}
		}
		require.NotEmpty(t, errs, "the hostile answers are refused")
		fmt.Printf("RESULT peak +%d MB (RSS %d MB before, peak %d MB); %d refused; first: %.220s\n",
			(peak-rss)/1024, rss/1024, peak/1024, len(errs), errs[0])
		return
	}
	t.Fatalf("no scenario %q", name)
}

// procStatusKB reads one kB field of /proc/self/status.
func procStatusKB(t *testing.T, field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// hostileBomb is a gzip stream of n bytes of ip2asn rows.
func hostileBomb(t *testing.T, n int) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	require.NoError(t, err)
	row := []byte(strings.Repeat("1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n", 4096))
	for written := 0; written < n; written += len(row) {
		_, err := zw.Write(row)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}
