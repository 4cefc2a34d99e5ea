// Command baseline builds the dated baseline the Python package ships
// (python/ipclassifier/_baseline): snapshots of the sources whose licenses
// allow redistribution, so a classifier with no snapshot of its own (a
// first run offline) starts from real lists. Run it with `make baseline`.
//
// It runs the engine itself over file:// URLs into a gzip-compressed copy
// of each public source given by -data (../shared/data) (the engine reads
// a gzip body as it reads a download's), one source at a time with the
// engine's clock set to that file's publication date: each snapshot is
// what a download would have persisted (parsed, validated, hashed), dated
// as its data, so answers from it carry their real age. The public URL
// then replaces the local one in each snapshot's metadata, and NOTICE lists
// every file with its origin, license and date.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// entry is one source of the baseline and the file it is built from.
type entry struct {
	source  string // the engine's source name
	file    string // under -data
	date    string // publication date of the file (YYYY-MM-DD)
	origin  string // where the file was taken from
	license string
}

// The sources in the baseline: the Tor list, the rezmoss cloud CSVs that
// are complete in the copy (its azure file is a 60-line sample; it has no
// oracle or linode folder), the X4BNet hosting and VPN lists, maltrail's
// mass scanners, and (added by providerEntries) every lord-alfred/ipranges
// list the engine loads. Left out: the jhassine datacenter list (no
// license), Onionoo (no copy in its format), the ip2asn tables (8 MB: over
// the wheel budget with the rest).
var entries = []entry{
	{"tor", "tor/torbulkexitlist.2026-08-22", "2026-08-22",
		"the Tor Project's bulk exit list, as archived by github.com/idleadmin/ThreatFeed (tor-exit-nodes.list)",
		"Apache-2.0 (the archive); the list itself is published by the Tor Project for anyone to use"},
	{"cloud/aws", "cloud-provider-ip-addresses/aws/aws_ips.csv", "2026-07-02", rezmoss, "CC0-1.0"},
	{"cloud/gcp", "cloud-provider-ip-addresses/googlecloud/googlecloud_ips.csv", "2026-07-01", rezmoss, "CC0-1.0"},
	{"cloud/cloudflare", "cloud-provider-ip-addresses/cloudflare/cloudflare_ips.csv", "2026-06-18", rezmoss, "CC0-1.0"},
	{"cloud/digitalocean", "cloud-provider-ip-addresses/digitalocean/digitalocean_ips.csv", "2026-06-30", rezmoss, "CC0-1.0"},
	{"cloud/vultr", "cloud-provider-ip-addresses/vultr/vultr_ips.csv", "2026-09-02", rezmoss, "CC0-1.0"},
	{"datacenter/x4bnet-ipv4", "lists_vpn/output/datacenter/ipv4.txt", "2026-08-22", x4bnet, "MIT"},
	{"datacenter/x4bnet-ipv6", "lists_vpn/output/datacenter/ipv6.txt", "2026-08-15", x4bnet, "MIT"},
	{"datacenter/x4bnet-asn", "lists_vpn/input/datacenter/ASN.txt", "2026-07-26", x4bnet, "MIT"},
	{"datacenter/x4bnet-vpn-ipv4", "lists_vpn/output/vpn/ipv4.txt", "2026-08-22", x4bnet, "MIT"},
	{"datacenter/x4bnet-vpn-ipv6", "lists_vpn/output/vpn/ipv6.txt", "2026-08-15", x4bnet, "MIT"},
	{"scanners/maltrail", "maltrail/mass_scanner.txt", "2026-08-23",
		"github.com/stamparm/maltrail (trails/static/mass_scanner.txt)", "MIT"},
}

// providerEntries are the entries of the ipranges sources among names (the
// engine's source names "ipranges/<folder>-ipv4|ipv6"), in order.
func providerEntries(names []string) []entry {
	var out []entry
	for _, name := range names {
		rest, ok := strings.CutPrefix(name, "ipranges/")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, '-')
		out = append(out, entry{name, "ipranges/" + rest[:i] + "/" + rest[i+1:] + "_merged.txt", "2026-08-22",
			"github.com/lord-alfred/ipranges (each provider's own publication)", "CC0-1.0"})
	}
	return out
}

const (
	rezmoss = "github.com/rezmoss/cloud-provider-ip-addresses"
	x4bnet  = "github.com/X4BNet/lists_vpn (the MIT license text is in its README)"
)

func main() {
	data := flag.String("data", "../shared/data", "the local copy of the public sources")
	out := flag.String("out", "python/ipclassifier/_baseline", "where the baseline is written (replaced)")
	flag.Parse()
	if err := build(*data, *out); err != nil {
		log.Fatalf("baseline: %v", err)
	}
}

func build(data, out string) error {
	data, err := filepath.Abs(data)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	public, names, err := publicURLs()
	if err != nil {
		return err
	}
	var notice strings.Builder
	notice.WriteString(noticeHead)
	gz, err := os.MkdirTemp("", "baseline-gz-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(gz)
	for _, en := range append(slices.Clone(entries), providerEntries(names)...) {
		if err := gzipCopy(filepath.Join(data, en.file), filepath.Join(gz, en.file)); err != nil {
			return fmt.Errorf("%s: %w", en.source, err)
		}
		if err := buildOne(gz, out, en, public); err != nil {
			return fmt.Errorf("%s: %w", en.source, err)
		}
		fmt.Fprintf(&notice, "\n%s (%s)\n  file: %s\n  from: %s\n  license: %s\n  upstream URL: %s\n",
			en.source, en.date, en.file, en.origin, en.license, public[en.source])
	}
	// The engine's refresh lock is no part of the data.
	if err := os.Remove(filepath.Join(out, "snapshots", ".refresh.lock")); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(filepath.Join(out, "NOTICE"), []byte(notice.String()), 0o644)
}

const noticeHead = `The ipclassifier baseline: snapshots of public IP lists bundled so that a classifier with no
snapshot of its own classifies on its first run, offline. Answers from it are flagged stale with
their real age; the first good refresh replaces it. Built by 'make baseline' (scripts/baseline).
Each snapshot is the file below, gzip-compressed (the engine reads it as a gzip download), with the
engine's metadata beside it.
`

// publicURLs gives each source's default public URL, and the source names
// in the engine's order.
func publicURLs() (map[string]string, []string, error) {
	e, err := classifier.Open(classifier.Config{DataDir: mustTemp(), LookupEnv: noEnv})
	if err != nil {
		return nil, nil, err
	}
	defer e.Close()
	m := map[string]string{}
	var names []string
	for _, s := range e.Stats().Sources {
		m[s.Name] = s.URL
		names = append(names, s.Name)
	}
	return m, names, nil
}

// buildOne refreshes one source from its file, with the clock at its date.
func buildOne(data, out string, en entry, public map[string]string) error {
	if _, ok := public[en.source]; !ok {
		return fmt.Errorf("the engine has no such source")
	}
	date, err := time.Parse(time.DateOnly, en.date)
	if err != nil {
		return err
	}
	var others []string
	for name := range public {
		if name != en.source {
			others = append(others, name)
		}
	}
	slices.Sort(others)
	base := (&url.URL{Scheme: "file", Path: data}).String()
	file := (&url.URL{Scheme: "file", Path: filepath.Join(data, en.file)}).String()
	cfg := classifier.Config{
		DataDir: out, LookupEnv: noEnv, DisabledSources: others,
		TorURL: file, DatacenterURL: file, HostingASNURL: file, ScannerURL: file,
		CloudBaseURL:    base + "/cloud-provider-ip-addresses",
		HostingBaseURL:  strings.TrimSuffix(file, "/"+filepath.Base(en.file)),
		VPNBaseURL:      strings.TrimSuffix(file, "/"+filepath.Base(en.file)),
		IPRangesBaseURL: base + "/ipranges",
		Now:             func() time.Time { return date },
	}
	e, err := classifier.Open(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	rep, err := e.Refresh(context.Background(), classifier.GroupAll, true) // the others are disabled
	if err != nil {
		return err
	}
	if len(rep.Sources) != 1 || rep.Sources[0].Status != classifier.StatusUpdated {
		return fmt.Errorf("refresh from %s: %+v", file, rep.Sources)
	}
	return publicMeta(out, en.source, public[en.source])
}

// gzipCopy writes src, gzip-compressed, to dst (under the same relative
// path as src in the data folder, so the engine's URLs find it): the
// baseline ships compact snapshots, not copies of the files. The header
// has no name and no time, so a rebuild writes the same bytes.
func gzipCopy(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(b); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}

// publicMeta puts the public URL in place of the local file's in the
// snapshot's metadata (its other fields stay as the engine wrote them).
func publicMeta(out, source, publicURL string) error {
	p := filepath.Join(out, "snapshots", strings.ReplaceAll(source, "/", "__")+".meta.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	m["url"] = publicURL
	b, err = json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(p, append(b, '\n'), 0o644)
}

func noEnv(string) (string, bool) { return "", false }

func mustTemp() string {
	d, err := os.MkdirTemp("", "baseline-")
	if err != nil {
		log.Fatal(err)
	}
	return d
}
