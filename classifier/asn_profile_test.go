package classifier_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// profileEngine loads the fixture sources with testdata/asnprofile's IPv4
// ip2asn table: ten hosting networks in NL (hosting words in their names,
// one /24 each), ten access networks in BR (ISP words, one /16 each), and
// four networks whose names say nothing: ZEBRA-AS (NL, a /24), QUUX-AS
// (BR, a /16), MIDDLE-AS (SE, a /20: like neither) and NL-BIG (NL but a
// /16: the evidence pulls both ways).
func profileEngine(t *testing.T, mutate func(*classifier.Config)) *classifier.Engine {
	t.Helper()
	cfg := fixture.Config(t, fixture.Server(t).URL)
	cfg.ASNV4URL = fixture.Server(t).URL + "/asnprofile/ip2asn-v4.tsv"
	cfg.ASNProfile = true
	if mutate != nil {
		mutate(&cfg)
	}
	e := fixture.Open(t, cfg)
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	require.Zero(t, rep.Failed(), "fixture refresh failed: %+v", rep)
	return e
}

func TestASNProfileLabelsNetworksWhoseNamesSayNothing(t *testing.T) {
	e := profileEngine(t, nil)
	tests := []struct {
		name, ip string
		typ      classifier.IPType
		source   string
		matched  string
	}{
		{"small network in a hosting country: datacenter", "151.100.0.7", classifier.TypeDatacenter, "asn_profile",
			"AS profile: country NL, largest v4 /24, 1 ranges; hosting:access odds 121.0:1"},
		{"large network in an access country: residential", "177.100.3.4", classifier.TypeResidential, "asn_profile",
			"AS profile: country BR, largest v4 /16, 1 ranges; hosting:access odds 1:121.0"},
		{"like neither: unknown", "178.0.1.1", classifier.TypeUnknown, "none", ""},
		{"evidence both ways: unknown", "179.0.0.1", classifier.TypeUnknown, "none", ""},
		{"a hosting name still decides by itself", "151.3.0.1", classifier.TypeDatacenter, "asn_name_heuristic", "as_name:datacenter"},
		{"an ISP name still decides by itself", "177.0.0.1", classifier.TypeResidential, "asn_name_heuristic", "as_name:telecom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture.Classify(t, e, tt.ip)
			assert.Equal(t, tt.typ, r.Type)
			assert.Equal(t, tt.source, r.Source)
			assert.Equal(t, tt.matched, r.MatchedPrefix)
			if tt.source == "asn_profile" {
				assert.InDelta(t, classifier.ConfidenceASNProfile, r.Confidence, 1e-9)
				assert.Equal(t, "asn/ip2asn-v4", r.Snapshot, "the snapshot is the table the profile read")
				assert.Equal(t, r.ASName, r.Provider)
			}
		})
	}
}

func TestASNProfileNeverOverridesWhatTheCallerSays(t *testing.T) {
	e := profileEngine(t, nil)
	r, err := e.Classify(context.Background(), "151.100.0.7", 0, "Zebra Telecom Broadband")
	require.NoError(t, err)
	assert.Equal(t, classifier.TypeResidential, r.Type, "the caller's AS name speaks first")
	assert.Equal(t, "asn_name_heuristic", r.Source)

	r, err = e.Classify(context.Background(), "151.100.0.7", 64802, "")
	require.NoError(t, err)
	assert.Equal(t, uint32(64802), r.ASN, "a caller ASN other than the table's is kept")
	assert.Equal(t, classifier.TypeUnknown, r.Type, "AS64802 has a name of its own the caller did not pass, and no profile")
}

func TestASNProfileIsOffUnlessTurnedOn(t *testing.T) {
	tests := []struct {
		name          string
		mutate        func(*classifier.Config)
		onEnv, offEnv string
		wantProfileOn bool
	}{
		{"default: off", func(c *classifier.Config) { c.ASNProfile = false }, "", "", false},
		{"config key on", nil, "", "", true},
		{"environment on", func(c *classifier.Config) { c.ASNProfile = false }, "1", "", true},
		{"no_asn_profile wins over the config key", func(c *classifier.Config) { c.NoASNProfile = true }, "", "", false},
		{"IPCLASSIFIER_NO_ASN_PROFILE wins over the environment", func(c *classifier.Config) { c.ASNProfile = false }, "yes", "1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("IPCLASSIFIER_ASN_PROFILE", tt.onEnv)
			t.Setenv("IPCLASSIFIER_NO_ASN_PROFILE", tt.offEnv)
			e := profileEngine(t, tt.mutate)
			r := fixture.Classify(t, e, "151.100.0.7")
			assert.Equal(t, uint32(64601), r.ASN, "the ASN is found either way")
			if tt.wantProfileOn {
				assert.Equal(t, classifier.TypeDatacenter, r.Type)
				assert.Equal(t, "asn_profile", r.Source)
				return
			}
			assert.Equal(t, classifier.TypeUnknown, r.Type)
			assert.Equal(t, "none", r.Source)
		})
	}
}

func TestASNProfileNeedsEnoughKnownNetworks(t *testing.T) {
	// The standard fixture table knows only a handful of networks of each
	// kind: too few to learn from, so a name that says nothing stays
	// unknown.
	e := fixture.Loaded(t)
	r := fixture.Classify(t, e, "223.255.255.1")
	assert.Equal(t, uint32(64511), r.ASN)
	assert.Equal(t, classifier.TypeUnknown, r.Type)
	assert.Zero(t, e.Stats().BySource["asn_profile"])
}
