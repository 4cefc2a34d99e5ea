package tests_go

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
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

// benchEngine is an engine refreshed from every real source, both real
// ip2asn tables included.
func benchEngine(b *testing.B) *classifier.Engine {
	b.Helper()
	return fixture.RealEngine(b)
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
	cfg := fixture.RealDataConfig(b)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e := fixture.Open(b, cfg)
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
	cfg := fixture.RealDataConfig(b)
	e := fixture.Open(b, cfg)
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
