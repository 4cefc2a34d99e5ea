package validate_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
	"github.com/ipclassifier/ipclassifier/classifier/validate"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

func validateIPs(truths []validate.Truth) []string {
	out := make([]string, len(truths))
	for i, t := range truths {
		out[i] = t.IP
	}
	return out
}

func validateByOrigin(truths []validate.Truth) map[string][]string {
	out := map[string][]string{}
	for _, t := range truths {
		out[t.Origin] = append(out[t.Origin], t.IP)
	}
	return out
}

func TestValidateTorSamplerTakesEveryAddressOfEachFormat(t *testing.T) {
	tests := []struct {
		name, file, format string
		want               map[string][]string
	}{
		{"bulk list", "torbulkexitlist", "", map[string][]string{
			"t v4": {"2.58.56.35", "102.130.113.9", "104.244.73.43", "185.220.101.1"},
		}},
		{"Onionoo: OR and exit addresses, no bogon, no garbage", "onionoo/details.json", "", map[string][]string{
			"t v4": {"104.244.73.43", "185.220.101.1", "198.98.51.189", "198.98.60.20"},
			"t v6": {"2605:6400:30:f174::42", "2a02:8109:fa7f::9", "2a02:8109:fa7f::10", "2a0b:f4c2:2::1"},
		}},
		{"exits CSV, detected", "validate/latest.exits.csv", "", map[string][]string{
			"t v4": {"185.220.101.1", "204.8.96.141"},
			"t v6": {"2620:7:6003::141", "2a0b:f4c2:2::1"},
		}},
		{"exits CSV, named", "validate/latest.exits.csv", validate.FormatExitsCSV, map[string][]string{
			"t v4": {"185.220.101.1", "204.8.96.141"},
			"t v6": {"2620:7:6003::141", "2a0b:f4c2:2::1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			truths, info, err := validate.Sample(validate.SamplerSpec{Kind: validate.KindTor, Name: "t", File: testkit.Testdata(tt.file), Format: tt.format}, 1)
			require.NoError(t, err)
			assert.Equal(t, tt.want, validateByOrigin(truths))
			for _, tr := range truths {
				assert.Equal(t, classifier.TypeTor, tr.Type)
				assert.Zero(t, tr.ASN)
			}
			assert.Equal(t, len(truths), info.Drawn)
			assert.Equal(t, len(truths), info.Population)
		})
	}
	t.Run("family and count", func(t *testing.T) {
		spec := validate.SamplerSpec{Kind: validate.KindTor, Name: "t", File: testkit.Testdata("onionoo/details.json"), Family: "v6", Count: 2}
		a, info, err := validate.Sample(spec, 7)
		require.NoError(t, err)
		assert.Len(t, a, 2)
		assert.Equal(t, []string{"t v6"}, info.Origins)
		assert.Equal(t, 4, info.Population)
		b, _, err := validate.Sample(spec, 7)
		require.NoError(t, err)
		assert.Equal(t, validateIPs(a), validateIPs(b), "same seed, same draw")
	})
	t.Run("every address of a fixture engine's Tor data is tor", func(t *testing.T) {
		e := fixture.Loaded(t)
		var all []validate.Truth
		for _, f := range []string{"torbulkexitlist", "onionoo/details.json"} {
			truths, _, err := validate.Sample(validate.SamplerSpec{Kind: validate.KindTor, File: testkit.Testdata(f)}, 0)
			require.NoError(t, err)
			all = append(all, truths...)
		}
		rep, err := validate.Score(context.Background(), e, all)
		require.NoError(t, err)
		require.Len(t, rep.Origins, 3) // bulk v4, Onionoo v4, Onionoo v6
		for _, o := range rep.Origins {
			assert.Equal(t, 1.0, o.Share, o.Origin)
		}
	})
}

func TestValidateCloudSamplerDrawsInsideTheProvidersPrefixes(t *testing.T) {
	tests := []struct {
		file, format, provider, wantProvider string
		v4, v6                               []string
	}{
		{"firstparty/ip-ranges.json", "", "", "aws",
			[]string{"3.4.12.4/32", "3.5.140.0/22", "13.34.0.0/16", "13.34.5.0/24", "52.95.110.0/24"}, []string{"2600:1f14::/35"}},
		{"firstparty/cloud.json", "", "", "gcp", []string{"34.1.208.0/20", "8.34.208.0/23"}, []string{"2600:1900:8000::/44"}},
		{"firstparty/public_ip_ranges.json", "", "", "oracle", []string{"40.233.0.0/19", "40.233.32.0/19", "134.70.8.0/21"}, nil},
		{"firstparty/ServiceTags_Public.json.gz", "", "", "azure", []string{"4.144.0.0/17", "20.38.98.0/24"}, []string{"2603:1000::/40"}},
		{"cloud/googlecloud/googlecloud_ips.csv", "", "googlecloud", "gcp", []string{"8.34.208.0/23", "34.1.208.0/20"}, []string{"2600:1900:8000::/44"}},
		{"cloud/aws/aws_ips.csv", parse.FormatRezmossCSV, "aws", "aws", []string{"3.4.12.4/32", "3.5.140.0/22", "13.34.0.0/16", "13.34.5.0/24"}, []string{"2600:1f14::/35"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			spec := validate.SamplerSpec{Kind: validate.KindCloud, Name: "c", File: testkit.Testdata(tt.file), Format: tt.format, Provider: tt.provider}
			// Count 0: one address in every prefix, in file order.
			truths, info, err := validate.Sample(spec, 3)
			require.NoError(t, err)
			require.Len(t, truths, len(tt.v4)+len(tt.v6))
			assert.Equal(t, len(truths), info.Population)
			pfxs := append(append([]string{}, tt.v4...), tt.v6...)
			for i, tr := range truths {
				assert.True(t, netip.MustParsePrefix(pfxs[i]).Contains(netip.MustParseAddr(tr.IP)), "%s in %s", tr.IP, pfxs[i])
				assert.Equal(t, classifier.TypeCloud, tr.Type)
				assert.Equal(t, tt.wantProvider, tr.Provider)
				fam := "v4"
				if i >= len(tt.v4) {
					fam = "v6"
				}
				assert.Equal(t, "c "+fam, tr.Origin)
			}
			// Count N: N per family, each inside one of the prefixes.
			spec.Count = 25
			truths, _, err = validate.Sample(spec, 3)
			require.NoError(t, err)
			byOrigin := validateByOrigin(truths)
			assert.Len(t, byOrigin["c v4"], 25)
			if len(tt.v6) > 0 {
				assert.Len(t, byOrigin["c v6"], 25)
			}
			for _, ip := range validateIPs(truths) {
				in := false
				for _, p := range pfxs {
					in = in || netip.MustParsePrefix(p).Contains(netip.MustParseAddr(ip))
				}
				assert.True(t, in, ip)
			}
			other, _, err := validate.Sample(spec, 4)
			require.NoError(t, err)
			assert.NotEqual(t, validateIPs(truths), validateIPs(other), "another seed draws other addresses")
		})
	}
	t.Run("a rezmoss CSV needs its provider", func(t *testing.T) {
		_, _, err := validate.Sample(validate.SamplerSpec{Kind: validate.KindCloud, File: testkit.Testdata("cloud/aws/aws_ips.csv")}, 0)
		require.Error(t, err)
		assert.True(t, validate.IsSpecError(err))
		assert.Contains(t, err.Error(), "needs a provider")
	})
	t.Run("family filter", func(t *testing.T) {
		truths, info, err := validate.Sample(validate.SamplerSpec{Kind: validate.KindCloud, File: testkit.Testdata("firstparty/ip-ranges.json"), Family: "v6", Count: 3}, 0)
		require.NoError(t, err)
		assert.Len(t, truths, 3)
		assert.Equal(t, []string{"cloud aws ip-ranges.json v6"}, info.Origins)
	})
	t.Run("every sample of a fixture engine's AWS file is cloud/aws", func(t *testing.T) {
		e := fixture.Open(t, fixture.FirstPartyConfig(t))
		_, err := e.Refresh(context.Background(), classifier.GroupAll, false)
		require.NoError(t, err)
		truths, _, err := validate.Sample(validate.SamplerSpec{Kind: validate.KindCloud, File: testkit.Testdata("firstparty/ip-ranges.json"), Count: 50}, 9)
		require.NoError(t, err)
		rep, err := validate.Score(context.Background(), e, truths)
		require.NoError(t, err)
		require.Len(t, rep.Providers, 1)
		assert.Equal(t, validate.ProviderScore{Provider: "aws", Expected: 100, Correct: 100, Agreement: 1}, rep.Providers[0])
	})
}

func TestValidateASNTagsSamplerDrawsFromTheRangesOfTaggedASNs(t *testing.T) {
	res, host := testkit.Testdata("validate/tags-res.csv"), testkit.Testdata("validate/tags-host.csv")
	v6 := testkit.Testdata("asn/ip2asn-v6.tsv")
	t.Run("residential-only ASNs, IPv6", func(t *testing.T) {
		truths, info, err := validate.Sample(validate.SamplerSpec{
			Kind: validate.KindASNTags, Name: "r", IP2ASN: v6, Tags: []string{res}, ExcludeTags: []string{host},
			Type: classifier.TypeResidential, Family: "v6",
		}, 1)
		require.NoError(t, err)
		// Tagged residential and not hosting: 3320, 7922, 20712, 3209, 64503,
		// 36974; the v6 table has ranges of 3320, 3209 and 36974 (its second
		// 36974 row is broken).
		ranges := []struct {
			start, end, label, half string
		}{
			{"2003::", "2003:e2:ffff:ffff:ffff:ffff:ffff:ffff", "AS3320 DTAG Internet service provider operations", "even"},
			{"2a02:8108::", "2a02:8109:fa7f:ffff:ffff:ffff:ffff:ffff", "AS3209 VODANET Vodafone GmbH", "odd"},
			{"2c0f:f000::", "2c0f:f000::ffff", "AS36974 AFNET-TELECOM Afnet", "even"},
		}
		require.Len(t, truths, len(ranges))
		for i, r := range ranges {
			a := netip.MustParseAddr(truths[i].IP)
			assert.True(t, !a.Less(netip.MustParseAddr(r.start)) && !netip.MustParseAddr(r.end).Less(a), "%s in %s-%s", a, r.start, r.end)
			assert.Equal(t, r.label, truths[i].Label)
			assert.Equal(t, r.half, truths[i].Half, "the parity of the ASN, for held-out figures")
			assert.Equal(t, "r v6", truths[i].Origin)
			assert.Equal(t, classifier.TypeResidential, truths[i].Type)
			assert.Zero(t, truths[i].ASN, "no caller ASN: the engine finds it")
			assert.Empty(t, truths[i].Also)
		}
		assert.Equal(t, 3, info.ASNs)
	})
	t.Run("hosting-only ASNs accept cloud, both families", func(t *testing.T) {
		truths, info, err := validate.Sample(validate.SamplerSpec{
			Kind: validate.KindASNTags, Name: "h", IP2ASN: testkit.Testdata("asn/ip2asn-v4.tsv.gz"), Tags: []string{host}, ExcludeTags: []string{res},
			Type: classifier.TypeDatacenter,
		}, 1)
		require.NoError(t, err)
		// v4 table: 16509 (13.32.0.0-13.35.255.255), 24940 (two ranges),
		// 50673 (46.249.32.0-46.249.63.255).
		assert.Len(t, truths, 4)
		assert.Equal(t, []string{"h v4"}, info.Origins)
		for _, tr := range truths {
			assert.Equal(t, []classifier.IPType{classifier.TypeCloud}, tr.Also)
		}
	})
	t.Run("scored on the fixture engine with no caller ASN", func(t *testing.T) {
		e := fixture.Loaded(t)
		var all []validate.Truth
		for _, s := range []validate.SamplerSpec{
			{Kind: validate.KindASNTags, Name: "r", IP2ASN: v6, Tags: []string{res}, ExcludeTags: []string{host}, Type: classifier.TypeResidential, Count: 30},
			{Kind: validate.KindASNTags, Name: "h", IP2ASN: v6, Tags: []string{host}, ExcludeTags: []string{res}, Type: classifier.TypeDatacenter, Count: 30},
		} {
			truths, _, err := validate.Sample(s, 5)
			require.NoError(t, err)
			all = append(all, truths...)
		}
		rep, err := validate.Score(context.Background(), e, all)
		require.NoError(t, err)
		r, ok := rep.Origin("r v6")
		require.True(t, ok)
		assert.Equal(t, 30, r.N)
		assert.Equal(t, 1.0, r.Share, "DTAG, Vodafone, AFNET-TELECOM are residential names: %+v", r)
		require.Len(t, r.Halves, 2, "even ASNs (3320, 36974) and odd (3209) apart")
		assert.Equal(t, r.N, r.Halves["even"].N+r.Halves["odd"].N)
		assert.Equal(t, 1.0, r.Halves["odd"].Share)
		h, ok := rep.Origin("h v6")
		require.True(t, ok)
		assert.Equal(t, 1.0, h.Share, "Amazon (hosting ASN or AWS range), Hetzner (X4BNet range): %+v", h)
	})
	t.Run("spec errors", func(t *testing.T) {
		for _, s := range []validate.SamplerSpec{
			{Kind: validate.KindASNTags, IP2ASN: v6, Tags: []string{res}, Type: classifier.TypeTor},
			{Kind: validate.KindASNTags, Tags: []string{res}, Type: classifier.TypeResidential},
			{Kind: validate.KindASNTags, IP2ASN: v6, Tags: []string{testkit.Testdata("validate/labelled.csv")}, Type: classifier.TypeResidential},
			{Kind: validate.KindASNTags, IP2ASN: v6, Tags: []string{res}, Type: classifier.TypeResidential, Family: "v5"},
			{Kind: validate.KindASNTags, IP2ASN: testkit.Testdata("validate/labelled.csv"), Tags: []string{res}, Type: classifier.TypeResidential},
			{Kind: "dns", File: v6},
			{Kind: validate.KindTor, File: filepath.Join(t.TempDir(), "missing")},
			{Kind: validate.KindTor, File: v6, Count: -1},
		} {
			_, _, err := validate.Sample(s, 0)
			require.Error(t, err, "%+v", s)
			assert.True(t, validate.IsSpecError(err), "%v", err)
		}
	})
}

func TestValidateTagFilesTakeTheFieldBeforeTheFirstComma(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tags-x.csv.gz")
	require.NoError(t, os.WriteFile(p, testkit.Gzip(t, []byte("AS174,\"\"\"Cogent Communications\", LLC\"\nas64500,x\n12345,bare\nASX,broken\n\n")), 0o644))
	got, err := validate.ReadTags(p)
	require.NoError(t, err)
	assert.Equal(t, map[uint32]bool{174: true, 64500: true, 12345: true}, got)
	assert.Equal(t, "x", validate.TagName(p))
}

func TestValidateDetectFormat(t *testing.T) {
	for file, want := range map[string]string{
		"torbulkexitlist":                       parse.FormatTorList,
		"onionoo/details.json":                  parse.FormatOnionoo,
		"firstparty/ip-ranges.json":             parse.FormatAWSJSON,
		"firstparty/cloud.json.gz":              parse.FormatGCPJSON,
		"firstparty/public_ip_ranges.json":      parse.FormatOracleJSON,
		"firstparty/ServiceTags_Public.json":    parse.FormatAzureJSON,
		"cloud/oracle/oracle_ips.csv":           parse.FormatRezmossCSV,
		"datacenters.csv":                       parse.FormatDatacenter,
		"hosting/ipv4.txt":                      parse.FormatCIDRList,
		"hosting/ASN.txt":                       parse.FormatASNList,
		"asn/ip2asn-v6.tsv":                     parse.FormatIP2ASN,
		"asn/ip2asn-v4.tsv.gz":                  parse.FormatIP2ASN,
		"validate/labelled.csv":                 parse.FormatTorList, // nothing it knows: a list of addresses
		"cloud/googlecloud/googlecloud_ips.csv": parse.FormatRezmossCSV,
	} {
		b, err := os.ReadFile(testkit.Testdata(file))
		require.NoError(t, err)
		assert.Equal(t, want, parse.Detect(b), file)
	}
	assert.Equal(t, "", parse.Detect(nil))
	assert.Equal(t, "", parse.Detect([]byte(`{"other": []}`)))
	for _, f := range parse.Formats() {
		_, err := parse.For(f, "aws")
		assert.NoError(t, err, f)
	}
	_, err := parse.For("nope", "")
	assert.Error(t, err)
	_, err = parse.For(parse.FormatRezmossCSV, "")
	assert.Error(t, err)
}

// TestSampleASNTagsWeightedBySizeDrawsUniformlyOverTheAddressSpace draws
// from the hosting-only IPv4 ranges of the fixture table: AS16509's /14
// (262,144 addresses), AS24940's two /16s and AS50673's /19 (8,192): 65.3%
// and 2.0% of the 401,408 addresses, a quarter each by range.
func TestSampleASNTagsWeightedBySizeDrawsUniformlyOverTheAddressSpace(t *testing.T) {
	res, host := testkit.Testdata("validate/tags-res.csv"), testkit.Testdata("validate/tags-host.csv")
	share := func(weight string) (big, small float64) {
		truths, _, err := validate.Sample(validate.SamplerSpec{
			Kind: validate.KindASNTags, Name: "h", IP2ASN: testkit.Testdata("asn/ip2asn-v4.tsv.gz"), Tags: []string{host},
			ExcludeTags: []string{res}, Type: classifier.TypeDatacenter, Count: 4000, Weight: weight,
		}, 7)
		require.NoError(t, err)
		require.Len(t, truths, 4000)
		var nBig, nSmall int
		for _, tr := range truths {
			a := netip.MustParseAddr(tr.IP)
			switch {
			case netip.MustParsePrefix("13.32.0.0/14").Contains(a):
				nBig++
			case netip.MustParsePrefix("46.249.32.0/19").Contains(a):
				nSmall++
			}
		}
		return float64(nBig) / 4000, float64(nSmall) / 4000
	}
	big, small := share(validate.WeightSize)
	assert.InDelta(t, 0.653, big, 0.03)
	assert.InDelta(t, 0.020, small, 0.01)
	big, small = share("")
	assert.InDelta(t, 0.25, big, 0.03)
	assert.InDelta(t, 0.25, small, 0.03)

	_, _, err := validate.Sample(validate.SamplerSpec{
		Kind: validate.KindASNTags, IP2ASN: testkit.Testdata("asn/ip2asn-v4.tsv.gz"), Tags: []string{host},
		Type: classifier.TypeDatacenter, Weight: validate.WeightSize,
	}, 7)
	assert.True(t, validate.IsSpecError(err), "weight size without a count: %v", err)
}
