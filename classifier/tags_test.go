package classifier_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// ev is an Evidence in short form for the table below.
type ev struct{ source, snapshot, typ, provider, prefix, tag string }

func evidenceOf(r classifier.Result) []ev {
	var out []ev
	for _, e := range r.Evidence {
		out = append(out, ev{e.Source, e.Snapshot, string(e.Type), e.Provider, e.MatchedPrefix, e.Tag})
	}
	return out
}

// Every answer carries every source that matched (Evidence) and their tags
// (Tags), whatever decided its type; the type keeps its priority order.
func TestAnswersCarryEveryMatchingSourceAndItsTags(t *testing.T) {
	e := fixture.Loaded(t)
	tests := []struct {
		name, ip     string
		typ          classifier.IPType
		provider     string
		region       string
		tags         []string
		evidence     []ev
		decidedFirst bool // the first evidence entry is what decided
	}{
		{
			name: "a Tor exit on a hosting ASN says both", ip: "185.220.101.1", typ: classifier.TypeTor, provider: "tor",
			tags: []string{"tor_exit"},
			evidence: []ev{
				{"tor_bulk_list", "tor", "tor", "", "185.220.101.1/32", "tor_exit"},
				{"hosting_asn_list", "datacenter/x4bnet-asn", "datacenter", "F3NETZE-AS F3 Netze e.V.", "AS205100", ""},
			},
			decidedFirst: true,
		},
		{
			name: "a scanner on a home line stays residential, tagged", ip: "62.224.10.20", typ: classifier.TypeResidential,
			provider: "DTAG Internet service provider operations", tags: []string{"scanner:example-uni"},
			evidence: []ev{
				{"mass_scanner_list", "scanners/maltrail", "", "example-uni", "62.224.10.20/32", "scanner:example-uni"},
				{"asn_name_heuristic", "asn/ip2asn-v4", "residential", "DTAG Internet service provider operations", "as_name:dtag,internet service", ""},
			},
		},
		{
			name: "a scanner in a hosting range: datacenter and the scanner's name", ip: "88.198.7.7", typ: classifier.TypeDatacenter,
			tags: []string{"scanner:stretchoid"},
			evidence: []ev{
				{"datacenter_community_lists", "datacenter/x4bnet-ipv4", "datacenter", "", "88.198.0.0/16", ""},
				{"mass_scanner_list", "scanners/maltrail", "", "stretchoid", "88.198.7.7/32", "scanner:stretchoid"},
				{"hosting_asn_list", "datacenter/x4bnet-asn", "datacenter", "HETZNER-AS", "AS24940", ""},
				{"asn_name_heuristic", "asn/ip2asn-v4", "datacenter", "HETZNER-AS", "as_name:hetzner", ""},
			},
			decidedFirst: true,
		},
		{
			name: "a scanner no other source knows is unknown, tagged", ip: "129.82.138.12", typ: classifier.TypeUnknown,
			tags:     []string{"scanner:colostate"},
			evidence: []ev{{"mass_scanner_list", "scanners/maltrail", "", "colostate", "129.82.138.12/32", "scanner:colostate"}},
		},
		{
			name: "a scanner the list names by address only: the bare tag", ip: "5.188.210.227", typ: classifier.TypeUnknown,
			tags:     []string{"scanner"},
			evidence: []ev{{"mass_scanner_list", "scanners/maltrail", "", "", "5.188.210.227/32", "scanner"}},
		},
		{
			name: "Linode's own list is cloud/linode", ip: "172.105.1.1", typ: classifier.TypeCloud, provider: "linode",
			evidence:     []ev{{"cloud_ranges_linode", "ipranges/linode-ipv4", "cloud", "linode", "172.104.0.0/15", ""}},
			decidedFirst: true,
		},
		{
			name: "a prefix two lists of one type name alike is the first one's", ip: "45.33.1.1", typ: classifier.TypeCloud,
			provider: "linode", region: "US-CA",
			evidence:     []ev{{"cloud_ranges_linode", "cloud/linode", "cloud", "linode", "45.33.0.0/17", ""}},
			decidedFirst: true,
		},
		{
			name: "Googlebot: datacenter, google, a crawler tag", ip: "66.249.66.1", typ: classifier.TypeDatacenter, provider: "google",
			tags:         []string{"crawler:googlebot"},
			evidence:     []ev{{"datacenter_community_lists", "ipranges/googlebot-ipv4", "datacenter", "google", "66.249.66.0/24", "crawler:googlebot"}},
			decidedFirst: true,
		},
		{
			name: "a ProtonVPN exit inside an X4BNet VPN range: the provider's more specific entry decides", ip: "185.159.157.9",
			typ: classifier.TypeDatacenter, provider: "protonvpn", tags: []string{"vpn"},
			evidence: []ev{
				{"datacenter_community_lists", "ipranges/protonvpn-ipv4", "datacenter", "protonvpn", "185.159.157.0/24", "vpn"},
				{"datacenter_community_lists", "datacenter/x4bnet-vpn-ipv4", "datacenter", "", "185.159.156.0/22", "vpn"},
			},
			decidedFirst: true,
		},
		{
			name: "iCloud Private Relay", ip: "172.224.226.5", typ: classifier.TypeDatacenter, provider: "apple",
			tags:         []string{"privacy_relay"},
			evidence:     []ev{{"datacenter_community_lists", "ipranges/apple-proxy-ipv4", "datacenter", "apple", "172.224.226.0/27", "privacy_relay"}},
			decidedFirst: true,
		},
		{
			name: "nothing matched: no evidence, no tags", ip: "198.51.100.7", typ: classifier.TypeUnknown,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture.Classify(t, e, tt.ip)
			assert.Equal(t, tt.typ, r.Type)
			if tt.provider != "" {
				assert.Equal(t, tt.provider, r.Provider)
			}
			assert.Equal(t, tt.region, r.Region)
			assert.Equal(t, tt.tags, r.Tags)
			assert.Equal(t, tt.evidence, evidenceOf(r))
			if tt.decidedFirst {
				assert.Equal(t, r.Source, r.Evidence[0].Source)
				assert.Equal(t, r.MatchedPrefix, r.Evidence[0].MatchedPrefix)
				assert.Equal(t, r.Snapshot, r.Evidence[0].Snapshot)
			}
		})
	}
}

// Tags and evidence survive every cache tier: an answer served from L3
// equals the one computed.
func TestCachedAnswersKeepTagsAndEvidence(t *testing.T) {
	cfg := fixture.Config(t, fixture.Server(t).URL)
	cfg.Cache.Dir = t.TempDir()
	e := fixture.Open(t, cfg)
	_, err := e.Refresh(context.Background(), classifier.GroupAll, false)
	require.NoError(t, err)
	first := fixture.Classify(t, e, "185.220.101.1")
	require.NoError(t, e.FlushCache(context.Background()))
	again := fixture.Classify(t, e, "185.220.101.1")
	require.Equal(t, "l3", again.CacheTier)
	assert.Equal(t, first.Tags, again.Tags)
	assert.Equal(t, first.Evidence, again.Evidence)
	assert.Len(t, again.Evidence, 2)
}
