package classifier_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// flatTestPrefix is one prefix of the synthetic lists and its type.
type flatTestPrefix struct {
	pfx  netip.Prefix
	typ  classifier.IPType
	slot int // priority: tor 0, cloud 1, datacenter 2
}

// TestIPv4AnswersMatchASlowReferenceAtEveryBoundary checks IPv4 lookups
// (answered from the flattened table) against a slow reference — among the
// prefixes holding the address, the highest-priority type, then the longest
// — on synthetic lists densely nested in two /8s: at the first and last
// address of every prefix, the addresses either side of them, and random
// addresses.
func TestIPv4AnswersMatchASlowReferenceAtEveryBoundary(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	areas := []uint32{3 << 24, 52 << 24} // 3.0.0.0/8, 52.0.0.0/8: public, not bogons
	randPrefix := func(minBits, maxBits int) netip.Prefix {
		x := areas[r.IntN(len(areas))] | r.Uint32N(1<<24)
		return netip.PrefixFrom(u32Addr(x), minBits+r.IntN(maxBits-minBits+1)).Masked()
	}
	var all []flatTestPrefix
	dir := t.TempDir()
	write := func(name, header string, n, minBits, maxBits int, typ classifier.IPType, slot int, row func(netip.Prefix) string) {
		var b strings.Builder
		b.WriteString(header)
		for range n {
			p := randPrefix(minBits, maxBits)
			all = append(all, flatTestPrefix{p, typ, slot})
			b.WriteString(row(p))
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644))
	}
	write("torbulkexitlist", "", 300, 32, 32, classifier.TypeTor, 0, func(p netip.Prefix) string { return p.Addr().String() + "\n" })
	cloudRow := func(p netip.Prefix) string { return p.String() + ",IPv4,EC2,us-east-1\r\n" }
	write("cloud/aws/aws_ips.csv", "ip_address,ip_type,service,region\r\n", 1500, 9, 30, classifier.TypeCloud, 1, cloudRow)
	write("cloud/googlecloud/googlecloud_ips.csv", "ip_address,ip_type,service,region\r\n", 800, 12, 28, classifier.TypeCloud, 1, cloudRow)
	write("datacenters.csv", "\"cidr\",\"hostmin\",\"hostmax\",\"vendor\"\n", 1500, 10, 31, classifier.TypeDatacenter, 2,
		func(p netip.Prefix) string { return fmt.Sprintf("%q,\"\",\"\",\"AWS\"\n", p.String()) })
	write("hosting/ipv4.txt", "", 800, 8, 29, classifier.TypeDatacenter, 2, func(p netip.Prefix) string { return p.String() + "\n" })

	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	cfg := fixture.Config(t, srv.URL)
	cfg.CloudProviders = []string{"aws", "gcp"}
	cfg.Attempts = 1
	e := fixture.Open(t, cfg)
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, true)
	require.NoError(t, err)
	loaded := map[string]bool{}
	for _, s := range rep.Sources {
		loaded[s.Source] = s.Status == classifier.StatusUpdated
	}
	for _, name := range []string{"tor", "cloud/aws", "cloud/gcp", "datacenter/jhassine", "datacenter/x4bnet-ipv4"} {
		require.True(t, loaded[name], "source %s not loaded: %+v", name, rep.Sources)
	}

	reference := func(a netip.Addr) (classifier.IPType, string) {
		var best *flatTestPrefix
		for i := range all {
			p := &all[i]
			if !p.pfx.Contains(a) {
				continue
			}
			if best == nil || p.slot < best.slot || p.slot == best.slot && p.pfx.Bits() > best.pfx.Bits() {
				best = p
			}
		}
		if best == nil {
			return classifier.TypeUnknown, ""
		}
		return best.typ, best.pfx.String()
	}
	check := func(x uint32) {
		a := u32Addr(x)
		got := fixture.Classify(t, e, a.String())
		typ, matched := reference(a)
		require.Equal(t, typ, got.Type, "%s: %+v", a, got)
		if typ != classifier.TypeUnknown {
			require.Equal(t, matched, got.MatchedPrefix, "%s", a)
		}
	}
	for _, p := range all {
		first := binaryU32(p.pfx.Addr())
		last := first | uint32(1<<(32-p.pfx.Bits())-1)
		for _, x := range []uint32{first - 1, first, first + 1, last - 1, last, last + 1} {
			check(x)
		}
	}
	for range 20000 {
		check(areas[r.IntN(len(areas))] | r.Uint32N(1<<24))
	}
}

func binaryU32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func u32Addr(x uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
}
