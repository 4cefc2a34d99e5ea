package classifier_test

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// A list answer takes its ASN, AS name and country from what the ip2asn
// tables say of its whole prefix (computed once per index): it must be
// what looking the address itself up gives, at the first and last address
// of every list prefix and at random addresses inside, with and without
// the caller's ASN data — over the fixtures, and over the real snapshots
// when they are present.
func TestListAnswersCarryTheASNOfTheAddressItself(t *testing.T) {
	engines := map[string]func(testing.TB) *classifier.Engine{"fixtures": fixture.Loaded, "real data": fixture.RealEngine}
	for name, open := range engines {
		t.Run(name, func(t *testing.T) {
			e := open(t)
			ctx := context.Background()
			r := rand.New(rand.NewPCG(5, 6))
			pfxs := classifier.PrefixSet(e)
			require.NotEmpty(t, pfxs)
			checked, withASN := 0, 0
			for i, p := range pfxs {
				if len(pfxs) > 5000 && r.IntN(len(pfxs)/5000) != 0 {
					continue // a sample of a big index
				}
				first, last := p.Masked().Addr(), ipx.LastOf(p)
				inside := first.As16()
				for j := p.Bits() / 8; j < 16; j++ { // a random host part (roughly)
					if first.Is4() && j < 12 {
						continue
					}
					inside[j] = byte(r.IntN(256))
				}
				addrs := []netip.Addr{first, last}
				if a := netip.AddrFrom16(inside).Unmap(); first.Is4() == a.Is4() && p.Contains(a) {
					addrs = append(addrs, a)
				}
				callers := []struct {
					asn  uint32
					name string
				}{{0, ""}, {13335, ""}, {0, "Some Name"}}
				for _, a := range addrs {
					c := callers[i%len(callers)]
					got, err := e.Classify(ctx, a.String(), c.asn, c.name)
					require.NoError(t, err)
					asn, asName, country, source := classifier.ASNByLookup(e, a, c.asn, c.name)
					require.Equal(t, []any{asn, asName, country, source}, []any{got.ASN, got.ASName, got.Country, got.ASNSource}, "%s in %s", a, p)
					checked++
					if got.ASN != 0 && c.asn == 0 {
						withASN++
					}
				}
			}
			require.Positive(t, checked)
			t.Logf("%d list addresses checked, %d with an ASN from the tables", checked, withASN)
		})
	}
}
