package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/internal/parse"
)

// The layout of the real-data folder (../shared/data, see its SOURCES.md),
// relative to it.
const (
	rdTorBulk      = "tor/torbulkexitlist"
	rdTorExits     = "tor/alireza-rezaee-tor-nodes/latest.exits.csv"
	rdCloudBase    = "cloud-provider-ip-addresses"
	rdDatacenter   = "server-ip-addresses/data/datacenters.csv"
	rdHostingBase  = "lists_vpn/output/datacenter"
	rdHostingASN   = "lists_vpn/input/datacenter/ASN.txt"
	rdASNv4        = "asn/ip2asn-v4.tsv.gz"
	rdASNv6        = "asn/ip2asn-v6.tsv.gz"
	rdIPRanges     = "ipranges"
	rdScanners     = "maltrail/mass_scanner.txt"
	rdVPNBase      = "lists_vpn/output/vpn"
	rdPeeringDB    = "peeringdb/net.json"
	rdASNames      = "asn-types/bgptools/asns.csv.gz"
	rdTags         = "asn-types/bgptools/tags"
	rdAWS          = "aws-official/ip-ranges.json"
	rdGCP          = "gcp-official/cloud.json"
	rdOracle       = "oracle-official/public_ip_ranges.json"
	rdAzurePattern = "azure-official/ServiceTags_Public*.json*"
)

// Labels of the standard suite's AS-name runs and origins, which its
// targets name.
const (
	RealASNamesTune    = "bgp.tools names, tuning half (even ASNs)"
	RealASNamesHeld    = "bgp.tools names, held-out half (odd ASNs)"
	RealASNamesIP2ASN  = "ip2asn names, held-out half (odd ASNs)"
	RealResidentialV6  = "IPv6 of residential-tagged ASNs (dsl+mobile, not vpsh+cdn)"
	RealHostingV6      = "IPv6 of hosting-tagged ASNs (vpsh+cdn, not dsl+mobile)"
	RealResidentialV4  = "IPv4 of residential-tagged ASNs (dsl+mobile, not vpsh+cdn)"
	RealHostingV4      = "IPv4 of hosting-tagged ASNs (vpsh+cdn, not dsl+mobile)"
	RealResidentialV4S = "IPv4 space of residential-tagged ASNs, by size"
	RealHostingV4S     = "IPv4 space of hosting-tagged ASNs, by size"
	// realSpaceCount is how many addresses the by-size samplers draw.
	realSpaceCount     = 20000
	realTorBulkOrigin  = "tor bulk exit list"
	realTorExitsOrigin = "tor exit relays (Onionoo)"
)

// realFirstParty lists the first-party cloud files of the real-data folder.
func realFirstParty(dir string) []struct{ provider, path string } {
	out := []struct{ provider, path string }{
		{"aws", filepath.Join(dir, rdAWS)}, {"gcp", filepath.Join(dir, rdGCP)},
		{"oracle", filepath.Join(dir, rdOracle)},
	}
	if m, _ := filepath.Glob(filepath.Join(dir, rdAzurePattern)); len(m) > 0 {
		sort.Strings(m)
		out = append(out, struct{ provider, path string }{"azure", m[len(m)-1]}) // the newest
	}
	return out
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func fileURL(p string) string { return (&url.URL{Scheme: "file", Path: p}).String() }

// RealDataConfig returns an engine configuration that loads every source
// from the real-data folder dir through file:// URLs, with its snapshots
// under scratch and no cache tier: the Tor bulk list and an Onionoo
// document written into scratch from the exit relay list (the folder has
// no Onionoo snapshot), the first-party AWS, GCP, Oracle and Azure files,
// the rezmoss CSVs of the other providers present, the jhassine and X4BNet
// lists and the ip2asn tables. It also returns notes on what the folder
// lacks.
func RealDataConfig(dir, scratch string) (classifier.Config, []string, error) {
	if !exists(filepath.Join(dir, "SOURCES.md")) {
		return classifier.Config{}, nil, specErr("real_data %s: not a real-data folder (no SOURCES.md)", dir)
	}
	var notes []string
	cfg := classifier.Config{
		DataDir:         filepath.Join(scratch, "data"),
		TorURL:          fileURL(filepath.Join(dir, rdTorBulk)),
		CloudBaseURL:    fileURL(filepath.Join(dir, rdCloudBase)),
		DatacenterURL:   fileURL(filepath.Join(dir, rdDatacenter)),
		HostingBaseURL:  fileURL(filepath.Join(dir, rdHostingBase)),
		HostingASNURL:   fileURL(filepath.Join(dir, rdHostingASN)),
		ASNV4URL:        fileURL(filepath.Join(dir, rdASNv4)),
		ASNV6URL:        fileURL(filepath.Join(dir, rdASNv6)),
		IPRangesBaseURL: fileURL(filepath.Join(dir, rdIPRanges)),
		ScannerURL:      fileURL(filepath.Join(dir, rdScanners)),
		VPNBaseURL:      fileURL(filepath.Join(dir, rdVPNBase)),
		Attempts:        1,
		Backoff:         0.01,
	}
	if pdb := filepath.Join(dir, rdPeeringDB); exists(pdb) {
		cfg.PeeringDBURL = fileURL(pdb)
	} else {
		cfg.DisabledSources = append(cfg.DisabledSources, "asn/peeringdb")
		notes = append(notes, "PeeringDB: no snapshot in the folder ("+rdPeeringDB+"), not loaded: its access and content networks are not measured.")
	}
	if exits := filepath.Join(dir, rdTorExits); exists(exits) {
		doc := filepath.Join(scratch, "onionoo-details.json")
		if err := WriteOnionooFromExits(exits, doc); err != nil {
			return cfg, nil, err
		}
		cfg.OnionooURL = fileURL(doc)
		notes = append(notes, "Onionoo: no snapshot in the folder; the engine loads a details document built from "+rdTorExits+" (one relay per fingerprint, its addresses as or_addresses).")
	} else {
		cfg.OnionooURL = fileURL(filepath.Join(scratch, "no-onionoo.json"))
	}
	if !exists(filepath.Join(dir, rdASNv4)) {
		notes = append(notes, "ip2asn IPv4: the folder has no IPv4 ip2asn table (SOURCES.md §8), so IPv4 addresses get no ASN and no AS-name answer; its refresh fails and is expected to.")
	}
	for _, fp := range realFirstParty(dir) {
		if !exists(fp.path) {
			continue
		}
		u := fileURL(fp.path)
		switch fp.provider {
		case "aws":
			cfg.AWSIPRangesURL = u
		case "gcp":
			cfg.GCPIPRangesURL = u
		case "oracle":
			cfg.OracleIPRangesURL = u
		case "azure":
			cfg.AzureServiceTagsURL = u
		}
		cfg.FirstParty = append(cfg.FirstParty, fp.provider)
		cfg.CloudProviders = append(cfg.CloudProviders, fp.provider)
	}
	var missing []string
	for _, f := range parse.RezmossFolders() {
		if contains(cfg.CloudProviders, f.Provider) {
			continue
		}
		switch {
		case exists(filepath.Join(dir, rdCloudBase, f.Folder, f.Folder+"_ips.csv")):
			cfg.CloudProviders = append(cfg.CloudProviders, f.Provider)
		case exists(filepath.Join(dir, rdIPRanges, f.Folder, "ipv4_merged.txt")):
			// Only the provider's own list (ipranges): that one is loaded.
			cfg.CloudProviders = append(cfg.CloudProviders, f.Provider)
			cfg.DisabledSources = append(cfg.DisabledSources, "cloud/"+f.Provider)
			notes = append(notes, "cloud/"+f.Provider+": no rezmoss CSV in the folder; its own list (ipranges) is loaded.")
		default:
			missing = append(missing, f.Provider)
		}
	}
	if len(missing) > 0 {
		notes = append(notes, "cloud lists not in the folder, not loaded: "+strings.Join(missing, ", ")+".")
	}
	return cfg, notes, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// OpenRealData opens an engine loaded from the real-data folder dir
// (RealDataConfig, snapshots under scratch) and refreshes every source. It
// returns the engine, one line per source of the refresh, and notes. A
// source that fails to load is reported, not fatal (the folder has no IPv4
// ip2asn table).
func OpenRealData(ctx context.Context, dir, scratch string) (*classifier.Engine, []string, []string, error) {
	cfg, notes, err := RealDataConfig(dir, scratch)
	if err != nil {
		return nil, nil, nil, err
	}
	e, err := classifier.Open(cfg)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("real data: open engine: %w", err)
	}
	rep, err := e.Refresh(ctx, classifier.GroupAll, true)
	if err != nil {
		e.Close()
		return nil, nil, nil, fmt.Errorf("real data: refresh: %w", err)
	}
	var lines []string
	for _, s := range rep.Sources {
		u := strings.TrimPrefix(s.URL, "file://")
		if rel, err := filepath.Rel(dir, u); err == nil && !strings.HasPrefix(rel, "..") {
			u = rel
		} else {
			u = filepath.Base(u)
		}
		line := fmt.Sprintf("`%s`: %s, %d entries from %s", s.Source, s.Status, s.Entries, u)
		if s.Error != "" {
			line = fmt.Sprintf("`%s`: %s (%s)", s.Source, s.Status, shortError(s.Error))
		}
		lines = append(lines, line)
	}
	return e, lines, notes, nil
}

// shortError drops the scratch paths from a refresh error.
func shortError(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.Contains(s[i:], "no such file") {
		return "file not in the folder"
	}
	return s
}

// WriteOnionooFromExits writes an Onionoo details document at dst from an
// exits CSV (ReadExitsCSV): one relay per fingerprint, its addresses as
// or_addresses ("1.2.3.4:443", "[2001:db8::1]:443").
func WriteOnionooFromExits(exitsCSV, dst string) error {
	rows, err := ReadExitsCSV(exitsCSV)
	if err != nil {
		return err
	}
	type relay struct {
		OR []string `json:"or_addresses"`
	}
	byFP := map[string]int{}
	var relays []relay
	for _, r := range rows {
		i, ok := byFP[r.Fingerprint]
		if !ok {
			i = len(relays)
			byFP[r.Fingerprint] = i
			relays = append(relays, relay{})
		}
		port := r.Port
		if port == "" {
			port = "0"
		}
		a := r.Addr.String() + ":" + port
		if r.Addr.Is6() {
			a = "[" + r.Addr.String() + "]:" + port
		}
		relays[i].OR = append(relays[i].OR, a)
	}
	b, err := json.Marshal(map[string]any{"version": "8.0", "relays": relays, "bridges": []any{}})
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

func ptr(v float64) *float64 { return &v }

// realSpaceTargets are the per-address figures of issue 10 on the IPv4
// space of tagged ASNs: precision (one residential address for each
// hosting one) and coverage of both kinds over all of it, and recall,
// precision and coverage on each half of the ASNs. The AS-name rules are
// tuned on the even ASNs, so the targets (residential recall ≥ 80%
// at precision ≥ 97%, hosting precision ≥ 98%) are checked on the odd ones.
func realSpaceTargets() []TargetSpec {
	res, host := RealResidentialV4S+" v4", RealHostingV4S+" v4"
	var out []TargetSpec
	for _, half := range []struct{ name, label string }{{"", "IPv4 space"}, {SplitEven, "IPv4 space, tuning even ASNs"}, {SplitOdd, "IPv4 space, held-out odd ASNs"}} {
		var resRecall, resPrecision, hostPrecision *float64
		if half.name == SplitOdd {
			resRecall, resPrecision, hostPrecision = ptr(0.80), ptr(0.97), ptr(0.98)
		}
		if half.name != "" { // over all of it, the recalls are the two rows above
			out = append(out,
				TargetSpec{Name: half.label + ": residential recall", Origin: res, Half: half.name, Min: resRecall},
				TargetSpec{Name: half.label + ": hosting recall", Origin: host, Half: half.name})
		}
		out = append(out,
			TargetSpec{Name: half.label + ": residential precision", Origin: res, Half: half.name, Metric: MetricPrecision, Against: host, Min: resPrecision},
			TargetSpec{Name: half.label + ": hosting precision", Origin: host, Half: half.name, Metric: MetricPrecision, Against: res, Min: hostPrecision},
			TargetSpec{Name: half.label + ": residential coverage", Origin: res, Half: half.name, Metric: MetricCoverage},
			TargetSpec{Name: half.label + ": hosting coverage", Origin: host, Half: half.name, Metric: MetricCoverage},
		)
	}
	return out
}

// RealDataSpec is the standard suite on the real-data folder dir, the
// targets of issue 5:
//
//   - the AS-name heuristic alone on bgp.tools residential-only (dsl ∪
//     mobile, not vpsh ∪ cdn) vs hosting-only ASNs, on the tuning (even)
//     and held-out (odd) halves; target on the held-out half: residential
//     recall ≥ 70% at precision ≥ 95%; hosting recall reported;
//   - one random IPv6 address in every ip2asn range of those ASNs,
//     classified with no caller ASN: ≥ 80% residential, ≥ 80% datacenter or
//     cloud;
//   - one random address in every prefix of the first-party AWS, GCP,
//     Oracle and Azure files: ≥ 99.5% cloud with the right provider, v4
//     and v6 apart;
//   - every address of the loaded Tor data (bulk list, and the exit relays
//     behind the Onionoo document, IPv6 included): 100% tor.
//
// And the figures of issue 10 when the folder has an IPv4 ip2asn table:
// the same ASNs' IPv4 ranges, one address per range and 20,000 addresses
// by size, the precision of each ASN rule's answers, and per address the
// targets of realSpaceTargets on the held-out half.
func RealDataSpec(dir string) Spec {
	tags := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = filepath.Join(dir, rdTags, "tags-"+n+".csv")
		}
		return out
	}
	res, host := tags("dsl", "mobile"), tags("vpsh", "cdn")
	s := Spec{RealData: dir}
	s.ASNames = []ASNamesSpec{
		{Label: RealASNamesTune, Names: filepath.Join(dir, rdASNames), Positive: res, Negative: host, Split: SplitEven},
		{Label: RealASNamesHeld, Names: filepath.Join(dir, rdASNames), Positive: res, Negative: host, Split: SplitOdd},
		{Label: RealASNamesIP2ASN, Names: filepath.Join(dir, rdASNv6), Positive: res, Negative: host, Split: SplitOdd},
	}
	s.Targets = []TargetSpec{
		{Name: "AS-name residential recall (held-out)", ASNames: RealASNamesHeld, Metric: "residential_recall", Min: ptr(0.70)},
		{Name: "AS-name residential precision (held-out)", ASNames: RealASNamesHeld, Metric: "residential_precision", Min: ptr(0.95)},
		{Name: "AS-name hosting recall (held-out)", ASNames: RealASNamesHeld, Metric: "hosting_recall"},
		{Name: "AS-name hosting precision (held-out)", ASNames: RealASNamesHeld, Metric: "hosting_precision"},
	}
	s.Samplers = append(s.Samplers,
		SamplerSpec{Kind: KindASNTags, Name: RealResidentialV6, IP2ASN: filepath.Join(dir, rdASNv6), Tags: res, ExcludeTags: host, Type: classifier.TypeResidential, Family: "v6"},
		SamplerSpec{Kind: KindASNTags, Name: RealHostingV6, IP2ASN: filepath.Join(dir, rdASNv6), Tags: host, ExcludeTags: res, Type: classifier.TypeDatacenter, Family: "v6"},
	)
	s.Targets = append(s.Targets,
		TargetSpec{Name: "IPv6 of residential ASNs → residential", Origin: RealResidentialV6 + " v6", Min: ptr(0.80)},
		TargetSpec{Name: "IPv6 of hosting ASNs → datacenter or cloud", Origin: RealHostingV6 + " v6", Min: ptr(0.80)},
		// The same on the odd ASNs alone: the AS profile's thresholds were
		// tuned on the even ones.
		TargetSpec{Name: "the same, tuning even ASNs: residential", Origin: RealResidentialV6 + " v6", Metric: SplitEven},
		TargetSpec{Name: "the same, tuning even ASNs: datacenter or cloud", Origin: RealHostingV6 + " v6", Metric: SplitEven},
		TargetSpec{Name: "the same, held-out odd ASNs: residential", Origin: RealResidentialV6 + " v6", Metric: SplitOdd},
		TargetSpec{Name: "the same, held-out odd ASNs: datacenter or cloud", Origin: RealHostingV6 + " v6", Metric: SplitOdd},
	)
	if v4 := filepath.Join(dir, rdASNv4); exists(v4) {
		// The same on IPv4 (the folder's IPv4 table is a reconstruction in
		// iptoasn's format, SOURCES.md §8): reported, and the precision of
		// each rule of the engine over all the ASN-tagged samples.
		s.Samplers = append(s.Samplers,
			SamplerSpec{Kind: KindASNTags, Name: RealResidentialV4, IP2ASN: v4, Tags: res, ExcludeTags: host, Type: classifier.TypeResidential, Family: "v4"},
			SamplerSpec{Kind: KindASNTags, Name: RealHostingV4, IP2ASN: v4, Tags: host, ExcludeTags: res, Type: classifier.TypeDatacenter, Family: "v4"},
			// Per address rather than per range: a national ISP's /12 weighs
			// what it holds.
			SamplerSpec{Kind: KindASNTags, Name: RealResidentialV4S, IP2ASN: v4, Tags: res, ExcludeTags: host, Type: classifier.TypeResidential, Family: "v4", Count: realSpaceCount, Weight: WeightSize},
			SamplerSpec{Kind: KindASNTags, Name: RealHostingV4S, IP2ASN: v4, Tags: host, ExcludeTags: res, Type: classifier.TypeDatacenter, Family: "v4", Count: realSpaceCount, Weight: WeightSize},
		)
		s.Targets = append(s.Targets,
			TargetSpec{Name: "IPv4 of residential ASNs → residential", Origin: RealResidentialV4 + " v4"},
			TargetSpec{Name: "IPv4 of hosting ASNs → datacenter or cloud", Origin: RealHostingV4 + " v4"},
			TargetSpec{Name: "IPv4 space of residential ASNs → residential", Origin: RealResidentialV4S + " v4"},
			TargetSpec{Name: "IPv4 space of hosting ASNs → datacenter or cloud", Origin: RealHostingV4S + " v4"},
		)
		s.Targets = append(s.Targets, realSpaceTargets()...)
	}
	s.Targets = append(s.Targets,
		TargetSpec{Name: "precision of the AS-name heuristic's answers", Source: classifier.SourceASNName},
		TargetSpec{Name: "precision of the hosting-ASN list's answers", Source: classifier.SourceHostingASN},
		TargetSpec{Name: "precision of the AS profile's answers", Source: classifier.SourceASNProfile},
	)
	for _, fp := range realFirstParty(dir) {
		name := "cloud " + fp.provider + " (" + filepath.Base(fp.path) + ")"
		s.Samplers = append(s.Samplers, SamplerSpec{Kind: KindCloud, Name: name, File: fp.path, Provider: fp.provider})
		for _, fam := range []string{"v4", "v6"} {
			if fp.provider == "oracle" && fam == "v6" {
				continue // Oracle publishes no IPv6
			}
			s.Targets = append(s.Targets, TargetSpec{
				Name: fmt.Sprintf("%s %s → cloud/%s", fp.provider, fam, fp.provider), Origin: name + " " + fam, Min: ptr(0.995),
			})
		}
	}
	s.Samplers = append(s.Samplers,
		SamplerSpec{Kind: KindTor, Name: realTorBulkOrigin, File: filepath.Join(dir, rdTorBulk)},
		SamplerSpec{Kind: KindTor, Name: realTorExitsOrigin, File: filepath.Join(dir, rdTorExits), Format: FormatExitsCSV},
	)
	s.Targets = append(s.Targets,
		TargetSpec{Name: "Tor bulk list v4 → tor", Origin: realTorBulkOrigin + " v4", Min: ptr(1)},
		TargetSpec{Name: "Tor exit relays v4 → tor", Origin: realTorExitsOrigin + " v4", Min: ptr(1)},
		TargetSpec{Name: "Tor exit relays v6 → tor", Origin: realTorExitsOrigin + " v6", Min: ptr(1)},
	)
	return s
}
