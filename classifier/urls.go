package classifier

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// Upstream (cowrieprocessor's ip_classification) passes its datacenter_url
// as a repository base and appends this path; its default base names the
// branch "main", which jhassine/server-ip-addresses does not have (its
// branch is "master").
const (
	datacenterFilePath       = "/data/datacenters.csv"
	upstreamDatacenterBase   = "https://raw.githubusercontent.com/jhassine/server-ip-addresses/main"
	jhassineRepositoryMaster = "https://raw.githubusercontent.com/jhassine/server-ip-addresses/master"
)

// sourceURLs are the locations the configured URLs resolve to.
type sourceURLs struct {
	// cloud gives the URL of one rezmoss folder's CSV.
	cloud func(f parse.Folder) string
	// datacenter is the jhassine CSV.
	datacenter string
}

// resolveURLs checks every source URL of c (defaults applied) and resolves
// the two that upstream passes in other forms:
//
//   - CloudBaseURL: a template holding {folder} or {provider} is filled in
//     per provider; a URL naming a rezmoss file ({base}/{folder}/{folder}_ips.csv)
//     gives its base; any other URL whose last path segment has no dot, or
//     that ends in "/", is the base of the rezmoss layout (upstream's default
//     value is exactly that base). Another file is an error: the layout
//     under it cannot be known.
//   - DatacenterURL: a URL whose last path segment has a dot is the CSV
//     itself; any other is a repository base and gets /data/datacenters.csv
//     appended, as upstream does. Upstream's default base (branch main,
//     which does not exist) is read as the repository's branch master.
//
// Every URL must be http(s) with a host, or file with a path.
func (c Config) resolveURLs() (sourceURLs, error) {
	var out sourceURLs
	for _, u := range []struct{ key, val string }{
		{"tor_url", c.TorURL}, {"onionoo_url", c.OnionooURL}, {"cloud_base_url", c.CloudBaseURL},
		{"datacenter_url", c.DatacenterURL}, {"hosting_base_url", c.HostingBaseURL},
		{"hosting_asn_url", c.HostingASNURL}, {"asn_v4_url", c.ASNV4URL}, {"asn_v6_url", c.ASNV6URL},
		{"ipranges_base_url", c.IPRangesBaseURL}, {"scanner_url", c.ScannerURL}, {"vpn_base_url", c.VPNBaseURL},
		{"peeringdb_url", c.PeeringDBURL},
		{"aws_ip_ranges_url", c.AWSIPRangesURL}, {"gcp_ip_ranges_url", c.GCPIPRangesURL},
		{"oracle_ip_ranges_url", c.OracleIPRangesURL}, {"azure_service_tags_url", c.AzureServiceTagsURL},
	} {
		if u.val == "" {
			continue // an optional first-party file
		}
		if err := checkURL(u.val); err != nil {
			return out, fmt.Errorf("%s %q: %w", u.key, u.val, err)
		}
	}
	cloud, err := cloudLayout(c.CloudBaseURL)
	if err != nil {
		return out, fmt.Errorf("cloud_base_url %q: %w", c.CloudBaseURL, err)
	}
	out.cloud = cloud
	out.datacenter = datacenterFile(c.DatacenterURL)
	return out, nil
}

// checkURL accepts http(s) URLs with a host and file URLs with a path.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return fmt.Errorf("no host")
		}
	case "file":
		if u.Path == "" {
			return fmt.Errorf("no path")
		}
	case "":
		return fmt.Errorf("no scheme (want http://, https:// or file://)")
	default:
		return fmt.Errorf("scheme %q is not supported (want http, https or file)", u.Scheme)
	}
	return nil
}

// lastSegment is the last path segment of raw ("" when it ends in "/").
func lastSegment(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if strings.HasSuffix(u.Path, "/") {
		return ""
	}
	return path.Base(u.Path)
}

// cloudLayout maps a rezmoss folder to its CSV's URL under base (see
// resolveURLs for the forms of base).
func cloudLayout(base string) (func(parse.Folder) string, error) {
	if strings.Contains(base, "{folder}") || strings.Contains(base, "{provider}") {
		return func(f parse.Folder) string {
			return strings.NewReplacer("{folder}", f.Folder, "{provider}", f.Provider).Replace(base)
		}, nil
	}
	seg := lastSegment(base)
	if strings.Contains(seg, ".") {
		u, _ := url.Parse(base)
		dir, file := path.Split(strings.TrimSuffix(u.Path, "/"))
		folder := path.Base(strings.TrimSuffix(dir, "/"))
		if file != folder+"_ips.csv" || !isRezmossFolder(folder) {
			return nil, fmt.Errorf("names a file, not the base of the rezmoss layout: give the base (files under {base}/{folder}/{folder}_ips.csv), "+
				"one rezmoss file ({base}/aws/aws_ips.csv) or a template with {folder} or {provider} (e.g. %s/{provider}/ipv4.csv)",
				strings.TrimSuffix(base, "/"+seg))
		}
		u.Path = strings.TrimSuffix(path.Dir(path.Dir(u.Path)), "/")
		u.RawPath = ""
		base = u.String()
	}
	base = strings.TrimRight(base, "/")
	return func(f parse.Folder) string { return base + "/" + f.Folder + "/" + f.Folder + "_ips.csv" }, nil
}

func isRezmossFolder(name string) bool {
	for _, f := range parse.RezmossFolders() {
		if f.Folder == name {
			return true
		}
	}
	return false
}

// cloudProviderNames lists the cloud providers the engine knows.
func cloudProviderNames() []string {
	var out []string
	for _, f := range parse.RezmossFolders() {
		out = append(out, f.Provider)
	}
	return out
}

// datacenterFile is the jhassine CSV's URL for DatacenterURL raw (see
// resolveURLs).
func datacenterFile(raw string) string {
	if strings.Contains(lastSegment(raw), ".") {
		return raw
	}
	base := strings.TrimRight(raw, "/")
	if base == upstreamDatacenterBase {
		base = jhassineRepositoryMaster
	}
	return base + datacenterFilePath
}
