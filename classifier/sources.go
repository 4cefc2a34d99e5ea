package classifier

import (
	"strings"
	"time"
)

// Default source locations: the real public lists.
const (
	DefaultTorURL         = "https://check.torproject.org/torbulkexitlist"
	DefaultCloudBaseURL   = "https://raw.githubusercontent.com/rezmoss/cloud-provider-ip-addresses/main"
	DefaultDatacenterURL  = "https://raw.githubusercontent.com/jhassine/server-ip-addresses/master/data/datacenters.csv"
	DefaultHostingBaseURL = "https://raw.githubusercontent.com/X4BNet/lists_vpn/main/output/datacenter"
)

// Refresh groups: the names accepted by Engine.Refresh.
const (
	GroupTor        = "tor"
	GroupCloud      = "cloud"
	GroupDatacenter = "datacenter"
	GroupAll        = "all"
)

// CloudFolders maps the folder names of rezmoss/cloud-provider-ip-addresses
// to our provider names, in load order.
var CloudFolders = []struct{ Folder, Provider string }{
	{"aws", "aws"}, {"azure", "azure"}, {"googlecloud", "gcp"}, {"cloudflare", "cloudflare"},
	{"digitalocean", "digitalocean"}, {"oracle", "oracle"}, {"linode", "linode"}, {"vultr", "vultr"},
}

// Source is one downloadable list. Name is unique and stable (it names the
// snapshot file on disk and appears in answers as Result.Snapshot).
type Source struct {
	Name     string        // "tor", "cloud/aws", "datacenter/jhassine", …
	Group    string        // refresh group: GroupTor, GroupCloud or GroupDatacenter
	Type     IPType        // the label an address inside it gets
	Provider string        // for cloud sources: aws, azure, gcp, …
	URL      string        // http(s):// or file://
	Interval time.Duration // how often it is worth downloading
	Parse    Parser
}

// label returns the Result.Source text for answers from s.
func (s Source) label() string {
	switch s.Type {
	case TypeTor:
		return SourceTor
	case TypeCloud:
		return SourceCloudPrefx + s.Provider
	default:
		return SourceDatacenter
	}
}

// staleAfter is the age past which answers from s are flagged stale even
// when no refresh failed: three missed intervals.
func (s Source) staleAfter() time.Duration { return 3 * s.Interval }

// sources builds the source list from a configuration with defaults applied.
func (c Config) sources() []Source {
	out := []Source{{
		Name: "tor", Group: GroupTor, Type: TypeTor, URL: c.TorURL,
		Interval: c.TorInterval.D(), Parse: ParseTorList,
	}}
	base := strings.TrimRight(c.CloudBaseURL, "/")
	for _, f := range CloudFolders {
		if !c.cloudEnabled(f.Provider) {
			continue
		}
		out = append(out, Source{
			Name: "cloud/" + f.Provider, Group: GroupCloud, Type: TypeCloud, Provider: f.Provider,
			URL:      base + "/" + f.Folder + "/" + f.Folder + "_ips.csv",
			Interval: c.CloudInterval.D(), Parse: CloudCSVParser(f.Provider),
		})
	}
	out = append(out, Source{
		Name: "datacenter/jhassine", Group: GroupDatacenter, Type: TypeDatacenter, URL: c.DatacenterURL,
		Interval: c.DatacenterInterval.D(), Parse: ParseDatacenterCSV,
	})
	hosting := strings.TrimRight(c.HostingBaseURL, "/")
	for _, v := range []string{"ipv4", "ipv6"} {
		out = append(out, Source{
			Name: "datacenter/x4bnet-" + v, Group: GroupDatacenter, Type: TypeDatacenter,
			URL: hosting + "/" + v + ".txt", Interval: c.HostingInterval.D(), Parse: ParseCIDRList,
		})
	}
	return out
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
