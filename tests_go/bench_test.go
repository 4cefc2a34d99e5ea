package tests_go

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// benchSets are the address mixes the classify benchmarks report on:
// hits in every list type and misses, for each family.
var benchSets = []struct {
	name string
	ips  []string
}{
	{"v4-hit", []string{"102.130.113.9", "185.220.101.1", "1.178.1.5", "8.34.208.1", "88.198.10.10", "1.12.0.1", "52.95.110.1", "3.5.140.2"}},
	{"v4-miss", []string{"9.9.9.9", "81.2.69.142", "24.48.0.1", "73.222.1.9", "100.1.2.3", "187.1.2.3", "200.3.4.5", "177.100.1.1"}},
	{"v6-hit", []string{"2600:1900:8000::1", "2600:1f14::5", "2a01:4f8::1", "2001:310::9", "2606:4700::1111", "2a03:b0c0::1", "2c0f:fb50::1", "2001:19f0::1"}},
	{"v6-miss", []string{"2003:e2::1", "2a02:8108::1", "2001:4ca0::1", "2804:14c::1", "2409:8a00::1", "2601:1c0::1", "240e:3b0::1", "2a00:1028::1"}},
}

// benchIPs returns a fixed pseudo-random mix of 1,000 addresses, half IPv4,
// half IPv6 in 2a00::/12.
func benchIPs(b *testing.B) []string {
	var ips []string
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		if i%2 == 0 {
			ips = append(ips, netip.AddrFrom4([4]byte{byte(r.IntN(223) + 1), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}).String())
		} else {
			var a [16]byte
			a[0], a[1] = 0x2a, byte(r.IntN(16))
			for j := 2; j < 16; j++ {
				a[j] = byte(r.IntN(256))
			}
			ips = append(ips, netip.AddrFrom16(a).String())
		}
	}
	return ips
}

// benchASNv4Ranges is the size of the synthetic IPv4 ip2asn table the
// benchmarks load: about the size of iptoasn's real ip2asn-v4.tsv (there is
// no real copy in ../shared/data).
const benchASNv4Ranges = 500_000

// benchASNv4URL writes a synthetic IPv4 ip2asn table (gzip, iptoasn format)
// of benchASNv4Ranges ranges — random non-aligned boundaries over 1.0.0.0 to
// 223.255.255.255, a third unrouted, the rest with the (ASN, country, name)
// rows of the real IPv6 table — and returns its file URL.
func benchASNv4URL(b *testing.B) string {
	b.Helper()
	rows := labelsReadIP2ASN(b, filepath.Join(sharedData(b), "asn", "ip2asn-v6.tsv.gz"))
	r := rand.New(rand.NewPCG(9, 9))
	starts := make([]uint32, 0, benchASNv4Ranges)
	seen := map[uint32]bool{}
	for len(starts) < benchASNv4Ranges {
		x := 0x01000000 + r.Uint32N(0xE0000000-0x01000000)
		if !seen[x] {
			seen[x] = true
			starts = append(starts, x)
		}
	}
	slices.Sort(starts)
	path := filepath.Join(b.TempDir(), "ip2asn-v4.tsv.gz")
	f, err := os.Create(path)
	require.NoError(b, err)
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	w := bufio.NewWriter(zw)
	for i, x := range starts {
		end := uint32(0xDFFFFFFF)
		if i+1 < len(starts) {
			end = starts[i+1] - 1
		}
		if r.IntN(3) == 0 {
			fmt.Fprintf(w, "%s\t%s\t0\tNone\tNot routed\n", u32Addr(x), u32Addr(end))
			continue
		}
		row := rows[r.IntN(len(rows))]
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", u32Addr(x), u32Addr(end), row.ASN, row.Country, row.Name)
	}
	require.NoError(b, w.Flush())
	require.NoError(b, zw.Close())
	require.NoError(b, f.Close())
	return "file://" + path
}

func u32Addr(x uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}

// benchConfig is realDataConfig with the synthetic full-size IPv4 table.
func benchConfig(b *testing.B) classifier.Config {
	cfg := realDataConfig(b)
	cfg.ASNV4URL = benchASNv4URL(b)
	return cfg
}

// benchEngine is an engine refreshed from every real source plus the
// synthetic IPv4 ip2asn table.
func benchEngine(b *testing.B) *classifier.Engine {
	b.Helper()
	e := openEngine(b, benchConfig(b))
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(b, err)
	require.Zero(b, rep.Failed(), "real-data refresh: %+v", rep)
	return e
}

func BenchmarkClassifyRealData(b *testing.B) {
	e := benchEngine(b)
	ctx := context.Background()
	for _, set := range benchSets {
		b.Run(set.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := e.Classify(ctx, set.ips[i%len(set.ips)], 0, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("random-mix", func(b *testing.B) {
		ips := benchIPs(b)
		for i := 0; b.Loop(); i++ {
			_, _ = e.Classify(ctx, ips[i%len(ips)], 0, "")
		}
	})
}

func BenchmarkClassifyRealDataParallel(b *testing.B) {
	e := benchEngine(b)
	ips := benchIPs(b)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, _ = e.Classify(ctx, ips[i%len(ips)], 0, "")
			i++
		}
	})
}

func BenchmarkClassifyWithASName(b *testing.B) {
	e := benchEngine(b)
	ctx := context.Background()
	for b.Loop() {
		_, _ = e.Classify(ctx, "81.2.69.142", 3320, "Deutsche Telekom AG")
	}
}

func BenchmarkClassifyBatch10k(b *testing.B) {
	e := benchEngine(b)
	ips := benchIPs(b)
	qs := make([]classifier.Query, 10000)
	for i := range qs {
		qs[i] = classifier.Query{IP: ips[i%len(ips)]}
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		_, _ = e.ClassifyBatch(ctx, qs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(qs)), "ns/ip")
}

// BenchmarkRefreshAllFromLocalFiles measures parse + validate + build +
// swap of every real source served from a local HTTP server (plus the
// synthetic full-size IPv4 ip2asn table), and the heap the loaded index
// holds.
func BenchmarkRefreshAllFromLocalFiles(b *testing.B) {
	cfg := benchConfig(b)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e := openEngine(b, cfg)
	b.ResetTimer()
	for b.Loop() {
		rep, err := e.Refresh(context.Background(), classifier.GroupAll, true)
		require.NoError(b, err)
		require.Zero(b, rep.Failed())
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
	st := e.Stats()
	b.ReportMetric(float64(st.Prefixes), "prefixes")
	b.ReportMetric(float64(st.ASNRanges), "asn-ranges")
}

// BenchmarkOpenFromPersistedSnapshots measures a restart: load and index the
// snapshots a previous run left on disk.
func BenchmarkOpenFromPersistedSnapshots(b *testing.B) {
	cfg := benchConfig(b)
	e := openEngine(b, cfg)
	_, err := e.Refresh(context.Background(), classifier.GroupAll, true)
	require.NoError(b, err)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		e2, err := classifier.Open(cfg)
		require.NoError(b, err)
		_ = e2.Close()
	}
	_ = start
}

// benchASNames are AS names of the shapes MatchASName sees (bgp.tools
// names and ip2asn handles): access brands, telecom and hosting words,
// Brazilian LTDA names, legal forms, bare handles and names that say
// nothing.
var benchASNames = []string{
	"Deutsche Telekom AG",
	"COMCAST-7922",
	"Comcast Cable Communications, LLC",
	"CHINANET-BACKBONE No.31,Jin-rong Street",
	"CMNET-AS-LIAONING China Mobile communications corporation",
	"TELEFÓNICA DE ESPAÑA",
	"MEGAMINAS TELECOMUNICAÇÕES LTDA",
	"Kabel Deutschland Vertrieb und Service GmbH",
	"BHARTI-MOBILITY-AS-AP Bharti Airtel Ltd. AS for GPRS Service",
	"RELIANCEJIO-IN Reliance Jio Infocomm Limited",
	"ROSTELECOM-AS PJSC Rostelecom. Technical Team",
	"HETZNER-AS",
	"AMAZON-02",
	"OVH SAS",
	"DIGITALOCEAN-ASN",
	"SEEWEB Web hosting, colocation and cloud services",
	"STAYBOX SERVICOS DE HOSPEDAGEM NA INTERNET LTDA",
	"China Telecom Wenzhou IDC Network",
	"NOVALINK INTERNET LTDA",
	"R. F. DA SILVA PROVEDOR DE INTERNET ME",
	"J. A. SANTOS COMERCIO E SERVICOS EIRELI",
	"Brava Internet",
	"Fasthook Networks Pvt Ltd",
	"Sage Networks",
	"Spintel Pty Ltd",
	"Thueringer Netkom GmbH",
	"Grand Hotel Europa",
	"Example Software Internet Ltda",
	"Zayo Bandwidth Fiber",
	"John Smith trading as Fast Telecom",
	"ANDREWS-AS Andrews & Arnold Ltd",
	"UNIVERSITY-OF-EXAMPLE",
	"CMCS",
	"ATT-INTERNET4",
	"VODAFONE-ES",
	"PT Telekomunikasi Indonesia",
	"LLC Example Systems",
	"ASN-EXAMPLE",
	"Stadtwerke Musterstadt GmbH",
	"Municipal Light & Power",
}

// BenchmarkMatchASName measures the AS-name heuristic per name, over
// benchASNames (the engine runs it on every name of the ip2asn tables at
// each index build).
func BenchmarkMatchASName(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = classifier.MatchASName(benchASNames[i%len(benchASNames)])
	}
}
