package classifier

import (
	"slices"
	"strings"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// Default source locations: the real public lists.
const (
	DefaultTorURL         = "https://check.torproject.org/torbulkexitlist"
	DefaultOnionooURL     = "https://onionoo.torproject.org/details?search=flag:exit&fields=or_addresses,exit_addresses"
	DefaultCloudBaseURL   = "https://raw.githubusercontent.com/rezmoss/cloud-provider-ip-addresses/main"
	DefaultDatacenterURL  = "https://raw.githubusercontent.com/jhassine/server-ip-addresses/master/data/datacenters.csv"
	DefaultHostingBaseURL = "https://raw.githubusercontent.com/X4BNet/lists_vpn/main/output/datacenter"
	DefaultHostingASNURL  = "https://raw.githubusercontent.com/X4BNet/lists_vpn/main/input/datacenter/ASN.txt"
	DefaultASNV4URL       = "https://iptoasn.com/data/ip2asn-v4.tsv.gz"
	DefaultASNV6URL       = "https://iptoasn.com/data/ip2asn-v6.tsv.gz"
	DefaultAWSIPRangesURL = "https://ip-ranges.amazonaws.com/ip-ranges.json"
	DefaultGCPIPRangesURL = "https://www.gstatic.com/ipranges/cloud.json"
	// Oracle's published location; Azure's Service Tags file has no fixed
	// URL (its name changes weekly), so it has no default.
	DefaultOracleIPRangesURL = "https://docs.oracle.com/en-us/iaas/tools/public_ip_ranges.json"
)

// Refresh groups: the names accepted by Engine.Refresh.
const (
	GroupTor        = "tor"
	GroupCloud      = "cloud"
	GroupDatacenter = "datacenter"
	GroupASN        = "asn"
	GroupAll        = "all"
)

// Groups lists the refresh groups other than GroupAll.
var Groups = []string{GroupTor, GroupCloud, GroupDatacenter, GroupASN}

// FirstPartyClouds lists the providers whose own publication can replace
// their rezmoss CSV (Config.FirstParty), with the environment override of
// its URL and its default URL ("" = none: it must be configured).
var FirstPartyClouds = []struct {
	Provider, Env, DefaultURL string
	Parse                     parse.Parser
}{
	{"aws", "AWS_IP_RANGES_URL", DefaultAWSIPRangesURL, parse.AWSIPRanges},
	{"gcp", "GCP_IP_RANGES_URL", DefaultGCPIPRangesURL, parse.GCPCloudJSON},
	{"oracle", "ORACLE_IP_RANGES_URL", DefaultOracleIPRangesURL, parse.OracleIPRanges},
	{"azure", "AZURE_SERVICE_TAGS_URL", "", parse.AzureServiceTags},
}

// SourceKind says what a source's parser yields and how the index uses it.
type SourceKind uint8

const (
	// KindPrefixes is a range list: an address inside one of its prefixes
	// gets the source's Type.
	KindPrefixes SourceKind = iota
	// KindASNList is a list of ASNs: an address announced by one of them
	// (by the caller's ASN or the ip2asn table) gets the source's Type, at
	// ConfidenceHostingASN.
	KindASNList
	// KindASNTable is an IP-to-ASN table: it labels nothing itself; it
	// gives every answer its ASN, AS name and country when the caller did
	// not, for the ASN list and the AS-name heuristic.
	KindASNTable
)

// Source is one downloadable list. Name is unique and stable (it names the
// snapshot file on disk and appears in answers as Result.Snapshot).
type Source struct {
	Name     string        // "tor", "cloud/aws", "datacenter/jhassine", "asn/ip2asn-v6", …
	Group    string        // refresh group: GroupTor, GroupCloud, GroupDatacenter or GroupASN
	Kind     SourceKind    // what Parse yields
	Type     IPType        // the label an address inside it gets (none for KindASNTable)
	Provider string        // for cloud sources: aws, azure, gcp, …
	URL      string        // http(s):// or file://
	Interval time.Duration // how often it is worth downloading
	Parse    parse.Parser
}

// label returns the Result.Source text for answers from s.
func (s Source) label() string {
	switch {
	case s.Kind == KindASNTable:
		return ""
	case s.Kind == KindASNList:
		return SourceHostingASN
	case s.Type == TypeTor:
		return SourceTor
	case s.Type == TypeCloud:
		return SourceCloudPrefx + s.Provider
	default:
		return SourceDatacenter
	}
}

// staleAfter is the age past which answers from s are flagged stale even
// when no refresh failed: three missed intervals.
func (s Source) staleAfter() time.Duration { return 3 * s.Interval }

// sources builds the source list from a configuration with defaults applied.
// Order matters where two sources of one type list the same prefix: the
// earlier keeps it (so the bulk exit list answers before Onionoo).
func (c Config) sources() []Source {
	out := []Source{{
		Name: "tor", Group: GroupTor, Type: TypeTor, URL: c.TorURL,
		Interval: c.TorInterval.D(), Parse: parse.TorList,
	}, {
		Name: "tor/onionoo", Group: GroupTor, Type: TypeTor, URL: c.OnionooURL,
		Interval: c.TorInterval.D(), Parse: parse.Onionoo,
	}}
	base := strings.TrimRight(c.CloudBaseURL, "/")
	for _, f := range parse.RezmossFolders {
		if !c.cloudEnabled(f.Provider) {
			continue
		}
		src := Source{
			Name: "cloud/" + f.Provider, Group: GroupCloud, Type: TypeCloud, Provider: f.Provider,
			URL:      base + "/" + f.Folder + "/" + f.Folder + "_ips.csv",
			Interval: c.CloudInterval.D(), Parse: parse.RezmossCSV(f.Provider),
		}
		for _, fp := range FirstPartyClouds {
			if fp.Provider == f.Provider && c.firstParty(f.Provider) {
				src.Name, src.URL, src.Parse = "cloud/"+f.Provider+"-official", *c.firstPartyURL(f.Provider), fp.Parse
			}
		}
		out = append(out, src)
	}
	out = append(out, Source{
		Name: "datacenter/jhassine", Group: GroupDatacenter, Type: TypeDatacenter, URL: c.DatacenterURL,
		Interval: c.DatacenterInterval.D(), Parse: parse.DatacenterCSV,
	})
	hosting := strings.TrimRight(c.HostingBaseURL, "/")
	for _, v := range []string{"ipv4", "ipv6"} {
		out = append(out, Source{
			Name: "datacenter/x4bnet-" + v, Group: GroupDatacenter, Type: TypeDatacenter,
			URL: hosting + "/" + v + ".txt", Interval: c.HostingInterval.D(), Parse: parse.CIDRList,
		})
	}
	out = append(out, Source{
		Name: "datacenter/x4bnet-asn", Group: GroupDatacenter, Kind: KindASNList, Type: TypeDatacenter,
		URL: c.HostingASNURL, Interval: c.HostingInterval.D(), Parse: parse.ASNList,
	}, Source{
		Name: "asn/ip2asn-v4", Group: GroupASN, Kind: KindASNTable, URL: c.ASNV4URL,
		Interval: c.ASNInterval.D(), Parse: parse.IP2ASN,
	}, Source{
		Name: "asn/ip2asn-v6", Group: GroupASN, Kind: KindASNTable, URL: c.ASNV6URL,
		Interval: c.ASNInterval.D(), Parse: parse.IP2ASN,
	})
	return slices.DeleteFunc(out, func(s Source) bool { return slices.Contains(c.DisabledSources, s.Name) })
}

func (c Config) cloudEnabled(provider string) bool {
	if len(c.CloudProviders) == 0 {
		return true
	}
	for _, p := range c.CloudProviders {
		if p == provider {
			return true
		}
	}
	return false
}

// firstParty reports whether provider's own publication replaces its
// rezmoss CSV.
func (c Config) firstParty(provider string) bool {
	for _, p := range c.FirstParty {
		if p == provider {
			return true
		}
	}
	return false
}

// firstPartyURL returns the Config field holding provider's first-party URL.
func (c *Config) firstPartyURL(provider string) *string {
	switch provider {
	case "aws":
		return &c.AWSIPRangesURL
	case "gcp":
		return &c.GCPIPRangesURL
	case "oracle":
		return &c.OracleIPRangesURL
	case "azure":
		return &c.AzureServiceTagsURL
	}
	return nil
}
