package classifier_test

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// TestFirstPartyRealFilesClassifyAsTheirProvider loads the real AWS, GCP,
// Oracle and Azure publications as the cloud sources and classifies
// addresses drawn from them: the first, the last and a random address of
// every prefix (v4 and v6). An address may legitimately be a Tor exit or in
// another provider's range (a few prefixes are listed by two providers);
// the rest must be cloud with the right provider.
func TestFirstPartyRealFilesClassifyAsTheirProvider(t *testing.T) {
	cfg := fixture.RealDataFirstPartyConfig(t)
	e := fixture.Open(t, cfg)
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	require.Zero(t, rep.Failed(), "%+v", rep)
	dir := testkit.SharedData(t)
	files := map[string]struct {
		path  string
		parse parse.Parser
	}{
		"aws":    {"aws-official/ip-ranges.json", parse.AWSIPRanges},
		"gcp":    {"gcp-official/cloud.json", parse.GCPCloudJSON},
		"oracle": {"oracle-official/public_ip_ranges.json", parse.OracleIPRanges},
		"azure":  {"azure-official/ServiceTags_Public.2026-05-06.json.gz", parse.AzureServiceTags},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for provider, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f.path))
		require.NoError(t, err)
		p, err := f.parse(b)
		require.NoError(t, err)
		for _, family := range []string{"v4", "v6"} {
			var n, ok, tor int
			var misses []string
			for _, entry := range p.Entries {
				if entry.Prefix.Addr().Is4() != (family == "v4") {
					continue
				}
				for _, a := range firstPartySample(entry.Prefix, rng) {
					n++
					r, err := e.Classify(context.Background(), a.String(), 0, "")
					require.NoError(t, err)
					switch {
					case r.Type == classifier.TypeTor:
						tor++
					case r.Type == classifier.TypeCloud && r.Provider == provider:
						ok++
					default:
						if len(misses) < 5 {
							misses = append(misses, a.String()+" → "+string(r.Type)+"/"+r.Provider)
						}
					}
				}
			}
			if n == 0 {
				continue // Oracle publishes no IPv6
			}
			share := float64(ok+tor) / float64(n)
			t.Logf("%s %s: %d addresses, %.3f%% cloud/%s (%d tor), misses e.g. %v", provider, family, n, 100*share, provider, tor, misses)
			assert.GreaterOrEqual(t, share, 0.995, "%s %s", provider, family)
		}
	}
}

// firstPartySample returns the first, last and a random address of pfx.
func firstPartySample(pfx netip.Prefix, rng *rand.Rand) []netip.Addr {
	first := pfx.Masked().Addr()
	b := first.AsSlice()
	last := make([]byte, len(b))
	mid := make([]byte, len(b))
	for i := range b {
		hostBits := max(0, min(8, (i+1)*8-pfx.Bits()))
		mask := byte(1<<hostBits - 1)
		last[i] = b[i] | mask
		mid[i] = b[i] | byte(rng.IntN(256))&mask
	}
	l, _ := netip.AddrFromSlice(last)
	m, _ := netip.AddrFromSlice(mid)
	return []netip.Addr{first, l, m}
}
