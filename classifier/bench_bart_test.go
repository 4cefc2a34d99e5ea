package classifier_test

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/gaissmai/bart"
	"golang.org/x/sys/unix"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// benchAddrs returns n fixed pseudo-random addresses: 40% drawn from the
// engine's own prefixes (list hits, both families), 40% random unicast
// IPv4, 20% random IPv6 in 2000::/4 — as canonical text, the form a host
// passes.
func benchAddrs(pfxs []netip.Prefix, n int) []string {
	r := rand.New(rand.NewPCG(16, 100000))
	out := make([]string, n)
	for i := range out {
		switch k := i % 5; {
		case k < 2:
			p := pfxs[r.IntN(len(pfxs))]
			a := p.Masked().Addr().As16()
			for j := p.Bits() / 8; j < 16; j++ { // randomise the host part (roughly)
				if p.Addr().Is4() && j < 12 {
					continue
				}
				a[j] = byte(r.IntN(256))
			}
			addr := netip.AddrFrom16(a)
			if p.Addr().Is4() {
				addr = addr.Unmap()
			}
			if !p.Contains(addr) {
				addr = p.Masked().Addr()
			}
			out[i] = addr.String()
		case k < 4:
			out[i] = netip.AddrFrom4([4]byte{byte(r.IntN(223) + 1), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}).String()
		default:
			var a [16]byte
			a[0] = 0x20 | byte(r.IntN(16))
			for j := 1; j < 16; j++ {
				a[j] = byte(r.IntN(256))
			}
			out[i] = netip.AddrFrom16(a).String()
		}
	}
	return out
}

// BenchmarkClassifyVsBart runs the engine's Classify(string) and
// gaissmai/bart's ParseAddr + Lookup over the same 100,000 addresses, bart
// holding the engine's own prefix set (every list of the real snapshots):
// the ratio is what the engine costs above a bare prefix lookup. heap-MB
// is the heap each structure holds (the engine: its whole view, ip2asn
// tables included; bart: the prefixes alone).
func BenchmarkClassifyVsBart(b *testing.B) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e := fixture.RealEngine(b)
	runtime.GC() // the engine's loading garbage: bart is measured after a GC too
	runtime.ReadMemStats(&after)
	engineHeap := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	pfxs := classifier.PrefixSet(e)
	ips := benchAddrs(pfxs, 100000)
	ctx := context.Background()
	b.Run("engine", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := e.Classify(ctx, ips[i%len(ips)], 0, ""); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(engineHeap, "heap-MB")
	})
	runtime.GC()
	runtime.ReadMemStats(&before)
	tbl := new(bart.Table[int])
	for i, p := range pfxs {
		tbl.Insert(p, i)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.Run("bart", func(b *testing.B) {
		b.ReportAllocs()
		hits := 0
		for i := 0; b.Loop(); i++ {
			a, err := netip.ParseAddr(ips[i%len(ips)])
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := tbl.Lookup(a); ok {
				hits++
			}
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
		b.ReportMetric(float64(len(pfxs)), "prefixes")
	})
	// interleaved: rounds of the 100,000 addresses, engine then bart, each
	// timed in CPU time of the goroutine's locked thread: on a shared
	// machine the two sub-benchmarks above run seconds apart under
	// different loads, these in the same conditions. ratio is the sum of
	// the engine's times over bart's.
	b.Run("interleaved", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var engine, bartT time.Duration
		n := 0
		for b.Loop() {
			t0 := threadCPU(b)
			for _, ip := range ips {
				if _, err := e.Classify(ctx, ip, 0, ""); err != nil {
					b.Fatal(err)
				}
			}
			t1 := threadCPU(b)
			for _, ip := range ips {
				a, err := netip.ParseAddr(ip)
				if err != nil {
					b.Fatal(err)
				}
				tbl.Lookup(a)
			}
			engine, bartT = engine+t1-t0, bartT+threadCPU(b)-t1
			n += len(ips)
		}
		b.ReportMetric(float64(engine.Nanoseconds())/float64(n), "engine-ns/ip")
		b.ReportMetric(float64(bartT.Nanoseconds())/float64(n), "bart-ns/ip")
		b.ReportMetric(float64(engine)/float64(bartT), "ratio")
	})
	runtime.KeepAlive(tbl)
}

// threadCPU is the CPU time of the calling thread.
func threadCPU(b *testing.B) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ts.Nano())
}
