package classifier

import (
	"slices"
	"strings"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// Default source locations: the real public lists.
const (
	defaultTorURL         = "https://check.torproject.org/torbulkexitlist"
	defaultOnionooURL     = "https://onionoo.torproject.org/details?search=flag:exit&fields=or_addresses,exit_addresses"
	defaultCloudBaseURL   = "https://raw.githubusercontent.com/rezmoss/cloud-provider-ip-addresses/main"
	defaultDatacenterURL  = "https://raw.githubusercontent.com/jhassine/server-ip-addresses/master/data/datacenters.csv"
	defaultHostingBaseURL = "https://raw.githubusercontent.com/X4BNet/lists_vpn/main/output/datacenter"
	defaultHostingASNURL  = "https://raw.githubusercontent.com/X4BNet/lists_vpn/main/input/datacenter/ASN.txt"
	defaultASNV4URL       = "https://iptoasn.com/data/ip2asn-v4.tsv.gz"
	defaultASNV6URL       = "https://iptoasn.com/data/ip2asn-v6.tsv.gz"
	defaultAWSIPRangesURL = "https://ip-ranges.amazonaws.com/ip-ranges.json"
	defaultGCPIPRangesURL = "https://www.gstatic.com/ipranges/cloud.json"
	// Oracle's published location; Azure's Service Tags file has no fixed
	// URL (its name changes weekly), so it has no default.
	defaultOracleIPRangesURL = "https://docs.oracle.com/en-us/iaas/tools/public_ip_ranges.json"
	// lord-alfred/ipranges: {base}/{folder}/ipv4_merged.txt and ipv6_merged.txt.
	defaultIPRangesBaseURL = "https://raw.githubusercontent.com/lord-alfred/ipranges/main"
	defaultScannerURL      = "https://raw.githubusercontent.com/stamparm/maltrail/master/trails/static/mass_scanner.txt"
	defaultVPNBaseURL      = "https://raw.githubusercontent.com/X4BNet/lists_vpn/main/output/vpn"
	defaultPeeringDBURL    = "https://www.peeringdb.com/api/net"
)

// Tags an answer can carry beyond its type (Result.Tags); a source of
// scanners or crawlers adds "scanner:<name>", "crawler:<name>",
// "monitor:<name>".
const (
	TagTorExit      = "tor_exit"      // the address is a Tor exit (a Tor list matched)
	TagVPN          = "vpn"           // a VPN exit network (X4BNet VPN ranges, ProtonVPN)
	TagPrivacyRelay = "privacy_relay" // an iCloud Private Relay egress range
	TagScanner      = "scanner"       // a known mass scanner; "scanner:<name>" when the list names it
)

// ipRangesProviders are the provider folders of lord-alfred/ipranges the
// engine loads: the provider's name, the type its ranges get (cloud for a
// cloud provider, datacenter for every other publisher's own servers) and
// the tag every match adds. Folders that repeat a cloud list the engine
// already loads (amazon, google, microsoft, oracle, digitalocean, vultr,
// cloudflare) are left out.
var ipRangesProviders = []struct {
	Folder, Provider string
	Type             IPType
	Tag              string
	V6               bool // the folder publishes IPv6 ranges too
}{
	{"linode", "linode", TypeCloud, "", true},
	{"github", "github", TypeDatacenter, "", true},
	{"facebook", "facebook", TypeDatacenter, "", true},
	{"twitter", "twitter", TypeDatacenter, "", true},
	{"telegram", "telegram", TypeDatacenter, "", true},
	{"openai", "openai", TypeDatacenter, "crawler:openai", false},
	{"googlebot", "google", TypeDatacenter, "crawler:googlebot", true},
	{"bing", "microsoft", TypeDatacenter, "crawler:bingbot", false},
	{"duckduckbot", "duckduckgo", TypeDatacenter, "crawler:duckduckbot", false},
	{"duckassistbot", "duckduckgo", TypeDatacenter, "crawler:duckassistbot", false},
	{"perplexity", "perplexity", TypeDatacenter, "crawler:perplexitybot", false},
	{"pingdom", "pingdom", TypeDatacenter, "monitor:pingdom", true},
	{"statuscake", "statuscake", TypeDatacenter, "monitor:statuscake", false},
	{"protonvpn", "protonvpn", TypeDatacenter, TagVPN, false},
	{"apple-proxy", "apple", TypeDatacenter, TagPrivacyRelay, true},
}

// Refresh groups: the names accepted by Engine.Refresh.
const (
	GroupTor        = "tor"
	GroupCloud      = "cloud"
	GroupDatacenter = "datacenter"
	GroupASN        = "asn"
	GroupAll        = "all"
)

// groups lists the refresh groups other than GroupAll.
var groups = []string{GroupTor, GroupCloud, GroupDatacenter, GroupASN}

// firstPartyClouds lists the providers whose own publication can replace
// their rezmoss CSV (Config.FirstParty), with the environment override of
// its URL and its default URL ("" = none: it must be configured).
var firstPartyClouds = []struct {
	Provider, Env, DefaultURL string
	Parse                     parse.Parser
}{
	{"aws", "AWS_IP_RANGES_URL", defaultAWSIPRangesURL, parse.AWSIPRanges},
	{"gcp", "GCP_IP_RANGES_URL", defaultGCPIPRangesURL, parse.GCPCloudJSON},
	{"oracle", "ORACLE_IP_RANGES_URL", defaultOracleIPRangesURL, parse.OracleIPRanges},
	{"azure", "AZURE_SERVICE_TAGS_URL", "", parse.AzureServiceTags},
}

// sourceKind says what a source's parser yields and how the index uses it.
type sourceKind uint8

const (
	// kindPrefixes is a range list: an address inside one of its prefixes
	// gets the source's Type.
	kindPrefixes sourceKind = iota
	// kindASNList is a list of ASNs: an address announced by one of them
	// (by the caller's ASN or the ip2asn table) gets the source's Type, at
	// ConfidenceHostingASN. A list whose parser also yields access networks
	// (PeeringDB's) answers those TypeResidential, at ConfidenceAccessASN,
	// and overrules the sources marked WholeASN for them.
	kindASNList
	// kindASNTable is an IP-to-ASN table: it labels nothing itself; it
	// gives every answer its ASN, AS name and country when the caller did
	// not, for the ASN list and the AS-name heuristic.
	kindASNTable
	// kindTags is a range list that labels nothing: an address inside one
	// of its prefixes gets the source's Tag (and an Evidence entry), its
	// type comes from the other sources. Known mass scanners run from
	// universities and home lines as well as from hosting, so a scanner
	// list must not make an address datacenter.
	kindTags
)

// source is one downloadable list. Name is unique and stable (it names the
// snapshot file on disk and appears in answers as Result.Snapshot).
type source struct {
	Name     string        // "tor", "cloud/aws", "datacenter/jhassine", "asn/ip2asn-v6", …
	Group    string        // refresh group: GroupTor, GroupCloud, GroupDatacenter or GroupASN
	Kind     sourceKind    // what Parse yields
	Type     IPType        // the label an address inside it gets (none for kindASNTable)
	Provider string        // for cloud sources: aws, azure, gcp, …
	URL      string        // http(s):// or file://
	Interval time.Duration // how often it is worth downloading
	Parse    parse.Parser
	// Tag is what a match adds to Result.Tags ("" for nothing); one ending
	// in ':' is completed by the matched entry's provider (the scanner's
	// name), or loses the ':' when the entry names none.
	Tag string
	// WholeASN marks a list built from whole networks (every range of an
	// ASN it deems hosting) rather than from the operator's own
	// publication: a network that declares itself an access network
	// (PeeringDB Cable/DSL/ISP) overrules it.
	WholeASN bool
}

// label returns the Result.Source text for answers from s.
func (s source) label() string {
	switch {
	case s.Kind == kindASNTable:
		return ""
	case s.Kind == kindASNList:
		return SourceHostingASN
	case s.Kind == kindTags:
		return SourceScanners
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
func (s source) staleAfter() time.Duration { return 3 * s.Interval }

// sources builds the source list from a configuration with defaults applied.
// Order matters where two sources of one type list the same prefix: the
// earlier keeps it (so the bulk exit list answers before Onionoo).
func (c Config) sources() []source {
	out := []source{{
		Name: "tor", Group: GroupTor, Type: TypeTor, URL: c.TorURL,
		Interval: c.TorInterval.D(), Parse: parse.TorList, Tag: TagTorExit,
	}, {
		Name: "tor/onionoo", Group: GroupTor, Type: TypeTor, URL: c.OnionooURL,
		Interval: c.TorInterval.D(), Parse: parse.Onionoo, Tag: TagTorExit,
	}}
	urls, _ := c.resolveURLs() // Open validated them
	for _, f := range parse.RezmossFolders() {
		if !c.cloudEnabled(f.Provider) {
			continue
		}
		src := source{
			Name: "cloud/" + f.Provider, Group: GroupCloud, Type: c.cloudLabel(f.Provider), Provider: f.Provider,
			URL: urls.cloud(f), Interval: c.CloudInterval.D(), Parse: parse.RezmossCSV(f.Provider),
		}
		for _, fp := range firstPartyClouds {
			if fp.Provider == f.Provider && c.firstParty(f.Provider) {
				src.Name, src.URL, src.Parse = "cloud/"+f.Provider+"-official", *c.firstPartyURL(f.Provider), fp.Parse
			}
		}
		out = append(out, src)
	}
	// The providers' own lists come before the community lists, so a
	// prefix both list is answered with the provider's name.
	ipranges := strings.TrimRight(c.IPRangesBaseURL, "/")
	for _, p := range ipRangesProviders {
		group, typ := GroupDatacenter, p.Type
		if typ == TypeCloud {
			if !c.cloudEnabled(p.Provider) {
				continue
			}
			group, typ = GroupCloud, c.cloudLabel(p.Provider)
		}
		for _, v := range []string{"ipv4", "ipv6"} {
			if v == "ipv6" && !p.V6 {
				continue
			}
			out = append(out, source{
				Name: "ipranges/" + p.Folder + "-" + v, Group: group, Type: typ, Provider: p.Provider,
				URL: ipranges + "/" + p.Folder + "/" + v + "_merged.txt", Interval: c.IPRangesInterval.D(),
				Parse: parse.ProviderList, Tag: p.Tag,
			})
		}
	}
	vpn := strings.TrimRight(c.VPNBaseURL, "/")
	for _, v := range []string{"ipv4", "ipv6"} {
		out = append(out, source{
			Name: "datacenter/x4bnet-vpn-" + v, Group: GroupDatacenter, Type: TypeDatacenter,
			URL: vpn + "/" + v + ".txt", Interval: c.HostingInterval.D(), Parse: parse.CIDRList, Tag: TagVPN,
		})
	}
	out = append(out, source{
		Name: "scanners/maltrail", Group: GroupDatacenter, Kind: kindTags, URL: c.ScannerURL,
		Interval: c.ScannerInterval.D(), Parse: parse.MassScanners, Tag: TagScanner + ":",
	})
	out = append(out, source{
		Name: "datacenter/jhassine", Group: GroupDatacenter, Type: TypeDatacenter, URL: urls.datacenter,
		Interval: c.DatacenterInterval.D(), Parse: parse.DatacenterCSV,
	})
	hosting := strings.TrimRight(c.HostingBaseURL, "/")
	for _, v := range []string{"ipv4", "ipv6"} {
		out = append(out, source{
			Name: "datacenter/x4bnet-" + v, Group: GroupDatacenter, Type: TypeDatacenter,
			URL: hosting + "/" + v + ".txt", Interval: c.HostingInterval.D(), Parse: parse.CIDRList, WholeASN: true,
		})
	}
	out = append(out, source{
		Name: "datacenter/x4bnet-asn", Group: GroupDatacenter, Kind: kindASNList, Type: TypeDatacenter,
		URL: c.HostingASNURL, Interval: c.HostingInterval.D(), Parse: parse.ASNList, WholeASN: true,
	}, source{
		Name: "asn/ip2asn-v4", Group: GroupASN, Kind: kindASNTable, URL: c.ASNV4URL,
		Interval: c.ASNInterval.D(), Parse: parse.IP2ASN,
	}, source{
		Name: "asn/ip2asn-v6", Group: GroupASN, Kind: kindASNTable, URL: c.ASNV6URL,
		Interval: c.ASNInterval.D(), Parse: parse.IP2ASN,
	}, source{
		Name: "asn/peeringdb", Group: GroupASN, Kind: kindASNList, Type: TypeDatacenter,
		URL: c.PeeringDBURL, Interval: c.PeeringDBInterval.D(), Parse: parse.PeeringDBNet,
	})
	return slices.DeleteFunc(out, func(s source) bool { return slices.Contains(c.DisabledSources, s.Name) })
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

// cloudLabel is the type answered for provider's cloud ranges (see
// Config.CloudLabelProviders).
func (c Config) cloudLabel(provider string) IPType {
	if len(c.CloudLabelProviders) == 0 || slices.Contains(c.CloudLabelProviders, provider) {
		return TypeCloud
	}
	return TypeDatacenter
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
