package classifier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// Seconds is a duration that reads and writes JSON as a number of seconds.
// The zero value means "use the default".
type Seconds float64

// D returns s as a time.Duration.
func (s Seconds) D() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

// Config configures an Engine. The zero value is usable: every empty field
// takes its environment override, then its default (see WithDefaults).
// It reads from and writes to JSON with the tags below; that is the form the
// C ABI and the Python package pass.
type Config struct {
	// DataDir holds the persisted source snapshots. Default:
	// $IPCLASSIFIER_DATA_DIR, else $XDG_CACHE_HOME/ipclassifier, else
	// ~/.cache/ipclassifier.
	DataDir string `json:"data_dir,omitempty"`

	// Source locations (http, https or file URLs). Defaults: the real public
	// lists; environment overrides TOR_BULK_LIST_URL, ONIONOO_URL,
	// CLOUD_RANGES_BASE_URL, DATACENTER_RANGES_URL, HOSTING_RANGES_BASE_URL,
	// HOSTING_ASN_URL, ASN_V4_URL, ASN_V6_URL and PEERINGDB_URL. CloudBaseURL is the base
	// of the rezmoss layout ({base}/{folder}/{folder}_ips.csv), one of its
	// files, or a template naming {folder} or {provider}; DatacenterURL is
	// the jhassine CSV itself or its repository base (+
	// /data/datacenters.csv, as upstream appends): see resolveURLs.
	TorURL         string `json:"tor_url,omitempty"`
	OnionooURL     string `json:"onionoo_url,omitempty"`
	CloudBaseURL   string `json:"cloud_base_url,omitempty"`
	DatacenterURL  string `json:"datacenter_url,omitempty"`
	HostingBaseURL string `json:"hosting_base_url,omitempty"`
	HostingASNURL  string `json:"hosting_asn_url,omitempty"`
	ASNV4URL       string `json:"asn_v4_url,omitempty"`
	ASNV6URL       string `json:"asn_v6_url,omitempty"`
	// IPRangesBaseURL is the base of lord-alfred/ipranges
	// ({base}/{folder}/ipv4_merged.txt, …): the providers' own lists
	// (Linode, GitHub, crawlers, ProtonVPN, iCloud Private Relay, …).
	// ScannerURL is maltrail's mass_scanner.txt; VPNBaseURL the base of
	// X4BNet's VPN lists ({base}/ipv4.txt, /ipv6.txt). Environment
	// overrides IPRANGES_BASE_URL, MASS_SCANNER_URL, VPN_RANGES_BASE_URL.
	IPRangesBaseURL string `json:"ipranges_base_url,omitempty"`
	ScannerURL      string `json:"scanner_url,omitempty"`
	VPNBaseURL      string `json:"vpn_base_url,omitempty"`
	// PeeringDBURL is PeeringDB's network list (api/net JSON): the networks
	// that declare themselves access (Cable/DSL/ISP) or content networks.
	PeeringDBURL string `json:"peeringdb_url,omitempty"`
	// CloudProviders limits the cloud sources loaded (aws, azure, gcp,
	// cloudflare, digitalocean, oracle, linode, vultr); empty means all.
	CloudProviders []string `json:"cloud_providers,omitempty"`
	// CloudLabelProviders names the cloud providers whose ranges are
	// answered TypeCloud. The ranges of every other cloud source are
	// answered TypeDatacenter at ConfidenceDatacenter with SourceDatacenter,
	// provider, region and service kept: ["aws", "azure", "gcp",
	// "cloudflare"] is upstream's mapping, which calls DigitalOcean, Oracle,
	// Linode and Vultr hosting. Empty (the default) answers every cloud
	// list TypeCloud.
	CloudLabelProviders []string `json:"cloud_label_providers,omitempty"`
	// DisabledSources names sources (as in Stats: "tor/onionoo",
	// "asn/ip2asn-v4", "cloud/linode", …) that are neither loaded nor
	// downloaded: for a mirror that lacks them or a sensor that must not
	// fetch them. Default: $IPCLASSIFIER_DISABLED_SOURCES, comma-separated.
	DisabledSources []string `json:"disabled_sources,omitempty"`

	// ASNProfile turns the AS profile on (see SourceASNProfile): an ASN
	// that no list names and whose AS name says nothing is then labelled
	// by how much it looks like the networks the engine can label. Default:
	// false (profile off: such an ASN is unknown), unless
	// $IPCLASSIFIER_ASN_PROFILE is set to a true value (1, true, yes). It is
	// off by default because its answers were right only about half the
	// time on the IPv4 ranges of bgp.tools-tagged networks
	// (docs/validation.md).
	ASNProfile bool `json:"asn_profile,omitempty"`
	// NoASNProfile keeps the AS profile off even when ASNProfile or the
	// environment turn it on; also $IPCLASSIFIER_NO_ASN_PROFILE (a true
	// value). It is what turned the profile off when it was on by default.
	NoASNProfile bool `json:"no_asn_profile,omitempty"`

	// FirstParty lists the providers (aws, gcp, oracle, azure) whose own
	// publication replaces their rezmoss CSV: AWS ip-ranges.json, Google
	// cloud.json, Oracle public_ip_ranges.json, Azure Service Tags JSON.
	// Setting a provider's URL below (or its environment override
	// AWS_IP_RANGES_URL, GCP_IP_RANGES_URL, ORACLE_IP_RANGES_URL,
	// AZURE_SERVICE_TAGS_URL) selects it too; a provider selected without a
	// URL uses the default one (Azure has none: its URL is required).
	FirstParty          []string `json:"first_party,omitempty"`
	AWSIPRangesURL      string   `json:"aws_ip_ranges_url,omitempty"`
	GCPIPRangesURL      string   `json:"gcp_ip_ranges_url,omitempty"`
	OracleIPRangesURL   string   `json:"oracle_ip_ranges_url,omitempty"`
	AzureServiceTagsURL string   `json:"azure_service_tags_url,omitempty"`

	// Refresh intervals. Defaults: tor (bulk list and Onionoo) 1 h, cloud
	// 24 h, jhassine datacenter list 7 d, X4BNet hosting lists (ranges,
	// ASNs and VPN ranges) 24 h, ip2asn tables 24 h, ipranges provider
	// lists 24 h, the mass-scanner list 24 h, PeeringDB networks 7 d.
	TorInterval        Seconds `json:"tor_interval,omitempty"`
	CloudInterval      Seconds `json:"cloud_interval,omitempty"`
	DatacenterInterval Seconds `json:"datacenter_interval,omitempty"`
	HostingInterval    Seconds `json:"hosting_interval,omitempty"`
	ASNInterval        Seconds `json:"asn_interval,omitempty"`
	IPRangesInterval   Seconds `json:"ipranges_interval,omitempty"`
	ScannerInterval    Seconds `json:"scanner_interval,omitempty"`
	PeeringDBInterval  Seconds `json:"peeringdb_interval,omitempty"`

	// HTTP behaviour. Defaults: 30 s timeout per attempt, 3 attempts,
	// backoff starting at 1 s and doubling.
	HTTPTimeout Seconds `json:"http_timeout,omitempty"`
	Attempts    int     `json:"attempts,omitempty"`
	Backoff     Seconds `json:"backoff,omitempty"`
	UserAgent   string  `json:"user_agent,omitempty"`

	// BaselineDir is a data directory of snapshots (laid out like DataDir's
	// snapshots/ folder) that stands in for every source with no usable
	// snapshot of its own: the dated lists a package ships so a first run
	// with no network classifies. Answers from it are flagged stale with
	// their real data age; a good download replaces it; it is never
	// written. Empty (the zero value) means none; the Python package passes
	// the baseline it bundles.
	BaselineDir string `json:"baseline_dir,omitempty"`

	// AutoRefresh makes the engine refresh its sources in the background:
	// at Open when some source is due, then whenever the next one is (see
	// autoRefresh). One process per data directory downloads; the others
	// adopt its snapshots. Default false: a Go program (or a host driven by
	// cron) calls Refresh itself. The Python package turns it on.
	AutoRefresh bool `json:"auto_refresh,omitempty"`
	// AutoRefreshRetry is how long the background refresh waits after a
	// source failed before it tries again (at most the source's interval).
	// Default 5 minutes.
	AutoRefreshRetry Seconds `json:"auto_refresh_retry,omitempty"`

	// HistoryRetention is how long the downloaded snapshots of each
	// refresh group (GroupTor, GroupCloud, GroupDatacenter, GroupASN) are
	// kept in the history (see ClassifyAt); a group missing or zero takes
	// its default (tor 90 d, cloud and datacenter 365 d, asn 180 d), a
	// negative value keeps no downloaded history for it. Imported
	// snapshots (ImportSnapshot) are kept whatever the retention.
	HistoryRetention map[string]Seconds `json:"history_retention,omitempty"`

	// Cache configures the L1/L2/L3 answer cache; its zero value disables
	// every tier.
	Cache CacheConfig `json:"cache"`

	// Now replaces the clock in tests; nil means the wall clock (read as
	// time.Now reads it, re-read at least once a second and advanced by
	// the monotonic clock in between: see wallClock).
	Now func() time.Time `json:"-"`

	// LookupEnv reads the environment overrides (and HOME, XDG_CACHE_HOME
	// for the default data directory); nil means os.LookupEnv. The Go
	// runtime of a c-shared library keeps the copy of the environment it
	// took when the library was loaded, so a host that sets variables later
	// (Python's os.environ, C setenv) passes the C library's own lookup:
	// the C ABI does.
	LookupEnv func(key string) (string, bool) `json:"-"`
}

// ParseConfig reads a JSON configuration; unknown keys are an error so a
// typo does not silently fall back to a default.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if len(data) == 0 {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("parse config: %w", err)
	}
	return c, nil
}

// WithDefaults returns c with every empty field filled from the environment
// (read through LookupEnv) and then from the defaults.
func (c Config) WithDefaults() Config {
	if c.LookupEnv == nil {
		c.LookupEnv = os.LookupEnv
	}
	getenv := func(key string) string {
		v, _ := c.LookupEnv(key)
		return v
	}
	setStr := func(p *string, env, def string) {
		if *p == "" {
			*p = getenv(env)
		}
		if *p == "" {
			*p = def
		}
	}
	setStr(&c.DataDir, "IPCLASSIFIER_DATA_DIR", defaultDataDir(getenv))
	setStr(&c.TorURL, "TOR_BULK_LIST_URL", defaultTorURL)
	setStr(&c.CloudBaseURL, "CLOUD_RANGES_BASE_URL", defaultCloudBaseURL)
	setStr(&c.DatacenterURL, "DATACENTER_RANGES_URL", defaultDatacenterURL)
	setStr(&c.HostingBaseURL, "HOSTING_RANGES_BASE_URL", defaultHostingBaseURL)
	setStr(&c.OnionooURL, "ONIONOO_URL", defaultOnionooURL)
	setStr(&c.HostingASNURL, "HOSTING_ASN_URL", defaultHostingASNURL)
	setStr(&c.ASNV4URL, "ASN_V4_URL", defaultASNV4URL)
	setStr(&c.ASNV6URL, "ASN_V6_URL", defaultASNV6URL)
	setStr(&c.IPRangesBaseURL, "IPRANGES_BASE_URL", defaultIPRangesBaseURL)
	setStr(&c.ScannerURL, "MASS_SCANNER_URL", defaultScannerURL)
	setStr(&c.VPNBaseURL, "VPN_RANGES_BASE_URL", defaultVPNBaseURL)
	setStr(&c.PeeringDBURL, "PEERINGDB_URL", defaultPeeringDBURL)
	fp := c.FirstParty
	c.FirstParty = nil
	for _, p := range fp {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" && !slices.Contains(c.FirstParty, p) {
			c.FirstParty = append(c.FirstParty, p)
		}
	}
	for _, f := range firstPartyClouds {
		u := c.firstPartyURL(f.Provider)
		setStr(u, f.Env, "")
		if *u != "" && !c.firstParty(f.Provider) {
			c.FirstParty = append(c.FirstParty, f.Provider)
		}
		if *u == "" && c.firstParty(f.Provider) {
			*u = f.DefaultURL
		}
	}
	labels := c.CloudLabelProviders
	c.CloudLabelProviders = nil
	for _, p := range labels {
		if p = parse.CloudProvider(p); p != "" && !slices.Contains(c.CloudLabelProviders, p) {
			c.CloudLabelProviders = append(c.CloudLabelProviders, p)
		}
	}
	if len(c.DisabledSources) == 0 {
		for _, name := range strings.Split(getenv("IPCLASSIFIER_DISABLED_SOURCES"), ",") {
			if name = strings.TrimSpace(name); name != "" {
				c.DisabledSources = append(c.DisabledSources, name)
			}
		}
	}
	c.ASNProfile = c.ASNProfile || envTrue(getenv("IPCLASSIFIER_ASN_PROFILE"))
	c.NoASNProfile = c.NoASNProfile || envTrue(getenv("IPCLASSIFIER_NO_ASN_PROFILE"))
	setStr(&c.UserAgent, "IPCLASSIFIER_USER_AGENT", "ipclassifier/"+Version)
	setSec := func(p *Seconds, def time.Duration) {
		if *p <= 0 {
			*p = Seconds(def.Seconds())
		}
	}
	setSec(&c.TorInterval, time.Hour)
	setSec(&c.CloudInterval, 24*time.Hour)
	setSec(&c.DatacenterInterval, 7*24*time.Hour)
	setSec(&c.HostingInterval, 24*time.Hour)
	setSec(&c.ASNInterval, 24*time.Hour)
	setSec(&c.IPRangesInterval, 24*time.Hour)
	setSec(&c.ScannerInterval, 24*time.Hour)
	setSec(&c.PeeringDBInterval, 7*24*time.Hour)
	setSec(&c.HTTPTimeout, 30*time.Second)
	setSec(&c.Backoff, time.Second)
	setSec(&c.AutoRefreshRetry, 5*time.Minute)
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if c.Now == nil {
		c.Now = new(wallClock).now
	}
	return c
}

// envTrue reports whether an environment value says yes (1, true, yes).
func envTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// profileOn reports whether the AS profile answers (see ASNProfile).
func (c Config) profileOn() bool { return c.ASNProfile && !c.NoASNProfile }

// validate reports a configuration that cannot work: an unusable source
// URL, an unknown cloud provider in CloudLabelProviders, an unknown
// first-party provider, or one selected without a URL when it has no
// default (Azure). c has defaults applied.
func (c Config) validate() error {
	if _, err := c.resolveURLs(); err != nil {
		return err
	}
	for _, p := range c.CloudLabelProviders {
		if !slices.ContainsFunc(parse.RezmossFolders(), func(f parse.Folder) bool { return f.Provider == p }) {
			return fmt.Errorf("cloud_label_providers: unknown provider %q (want some of %s)", p, strings.Join(cloudProviderNames(), ", "))
		}
	}
	for g := range c.HistoryRetention {
		if !slices.Contains(groups, g) {
			return fmt.Errorf("history_retention: unknown group %q (want some of %s)", g, strings.Join(groups, ", "))
		}
	}
	for _, p := range c.FirstParty {
		u := c.firstPartyURL(p)
		if u == nil {
			return fmt.Errorf("first_party: unknown provider %q (want aws, gcp, oracle or azure)", p)
		}
		if *u == "" && c.cloudEnabled(p) {
			return fmt.Errorf("first_party %q needs its URL (azure_service_tags_url or AZURE_SERVICE_TAGS_URL): Microsoft publishes the Service Tags file under a weekly changing name", p)
		}
	}
	return nil
}

func defaultDataDir(getenv func(string) string) string {
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "ipclassifier")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "ipclassifier")
	}
	return filepath.Join(os.TempDir(), "ipclassifier-"+strconv.Itoa(os.Getuid()))
}
