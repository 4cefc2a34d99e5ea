package parse

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier/internal/bounded"
	"github.com/ipclassifier/ipclassifier/classifier/internal/field"
	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
)

// MaxUncompressed bounds what Gunzip expands a gzip download to: the
// largest real list, the ip2asn-v4 table, is about 25 MB unzipped.
const MaxUncompressed = 64 << 20

// ErrTooLarge is wrapped by the error of a gzip stream that expands past
// its limit (a gzip bomb, or a list grown beyond reason).
var ErrTooLarge = bounded.ErrTooLarge

// Gunzip returns data itself, or its decompressed content when it starts
// with the gzip magic bytes: every parser of this package accepts both
// forms, so a mirror that serves .gz and one that serves plain text both
// work. The content is bounded by MaxUncompressed (see GunzipLimit).
func Gunzip(data []byte) ([]byte, error) { return GunzipLimit(data, MaxUncompressed) }

// GunzipLimit is Gunzip refusing more than limit uncompressed bytes, with
// an error wrapping ErrTooLarge. The gzip trailer announces the
// uncompressed size (mod 4 GiB): when it fits the limit, the content is
// read into a buffer of that size; otherwise the stream is first
// decompressed into nothing, to count it, and refused when it overflows the
// limit, so a gzip bomb costs no memory; an honest stream is then read into
// a buffer of its counted size.
func GunzipLimit(data []byte, limit int64) ([]byte, error) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, nil
	}
	open := func() (*gzip.Reader, error) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		return zr, nil
	}
	size := int64(-1)    // a stream too short to hold a trailer fails in NewReader or Read
	if len(data) >= 18 { // 10 bytes of header, 8 of trailer
		size = int64(binary.LittleEndian.Uint32(data[len(data)-4:]))
	}
	if size > limit {
		zr, err := open()
		if err != nil {
			return nil, err
		}
		n, err := bounded.Count(zr, limit)
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		if n > limit {
			return nil, fmt.Errorf("gunzip: content %w of %d bytes", ErrTooLarge, limit)
		}
		size = n
	}
	zr, err := open()
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	b, err := bounded.Read(zr, size, limit)
	if errors.Is(err, ErrTooLarge) {
		return nil, fmt.Errorf("gunzip: content %w of %d bytes", ErrTooLarge, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	return b, nil
}

// decodeJSON gunzips data when needed and decodes it into v.
func decodeJSON(data []byte, v any) error {
	data, err := Gunzip(data)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode JSON: %w", err)
	}
	return nil
}

// cloudCollector gathers the prefixes of one cloud provider, keeping one
// entry per prefix: a prefix listed once per service becomes the entry of
// its most specific service (see serviceRank), with the first non-empty
// region seen.
type cloudCollector struct {
	p        Parsed
	provider string
	seen     map[netip.Prefix]int
}

func newCloudCollector(provider string) *cloudCollector {
	return &cloudCollector{provider: provider, seen: map[netip.Prefix]int{}}
}

// add reads one record: the prefix text with its region and service.
func (c *cloudCollector) add(prefix, region, service string) {
	c.p.Records++
	pfx, ok := ipx.ParsePrefix(prefix)
	if !ok {
		c.p.Malformed++
		return
	}
	e := Entry{Provider: c.provider, Region: field.Clean(region), Service: field.Clean(service)}
	if i, dup := c.seen[pfx.Masked()]; dup {
		old := &c.p.Entries[i]
		if serviceRank(e.Service) > serviceRank(old.Service) {
			old.Service = e.Service
			if e.Region != "" {
				old.Region = e.Region
			}
		}
		if old.Region == "" {
			old.Region = e.Region
		}
		return
	}
	if c.p.add(pfx, e) {
		c.seen[pfx.Masked()] = len(c.p.Entries) - 1
	}
}

// errNotDocument is returned when a JSON download lacks the key that makes
// it the expected document.
func errNotDocument(what, key string) error {
	return fmt.Errorf("not %s: no %q array", what, key)
}

// AWSIPRanges reads AWS's own ip-ranges.json (plain or gzip):
// prefixes[]{ip_prefix, region, service, network_border_group} and
// ipv6_prefixes[]{ipv6_prefix, …}. AWS lists a prefix once per service with
// AMAZON as the superset; the most specific service wins, as in
// RezmossCSV.
func AWSIPRanges(data []byte) (Parsed, error) {
	type prefix struct {
		V4      string `json:"ip_prefix"`
		V6      string `json:"ipv6_prefix"`
		Region  string `json:"region"`
		Service string `json:"service"`
	}
	var doc struct {
		Prefixes   *[]prefix `json:"prefixes"`
		V6Prefixes []prefix  `json:"ipv6_prefixes"`
	}
	if err := decodeJSON(data, &doc); err != nil {
		return Parsed{}, err
	}
	if doc.Prefixes == nil {
		return Parsed{}, errNotDocument("an AWS ip-ranges.json", "prefixes")
	}
	c := newCloudCollector("aws")
	for _, p := range *doc.Prefixes {
		c.add(p.V4, p.Region, p.Service)
	}
	for _, p := range doc.V6Prefixes {
		c.add(p.V6, p.Region, p.Service)
	}
	return c.p, nil
}

// GCPCloudJSON reads Google's cloud.json (plain or gzip):
// prefixes[]{ipv4Prefix | ipv6Prefix, service, scope}; the scope is the
// region.
func GCPCloudJSON(data []byte) (Parsed, error) {
	var doc struct {
		Prefixes *[]struct {
			V4      string `json:"ipv4Prefix"`
			V6      string `json:"ipv6Prefix"`
			Service string `json:"service"`
			Scope   string `json:"scope"`
		} `json:"prefixes"`
	}
	if err := decodeJSON(data, &doc); err != nil {
		return Parsed{}, err
	}
	if doc.Prefixes == nil {
		return Parsed{}, errNotDocument("a GCP cloud.json", "prefixes")
	}
	c := newCloudCollector("gcp")
	for _, p := range *doc.Prefixes {
		pfx := p.V4
		if pfx == "" {
			pfx = p.V6
		}
		c.add(pfx, p.Scope, p.Service)
	}
	return c.p, nil
}

// OracleIPRanges reads Oracle's public_ip_ranges.json (plain or gzip):
// regions[]{region, cidrs[]{cidr, tags[]}}; the tags, comma-joined, are the
// service (as in the rezmoss CSV: "OSN,OBJECT_STORAGE").
func OracleIPRanges(data []byte) (Parsed, error) {
	var doc struct {
		Regions *[]struct {
			Region string `json:"region"`
			CIDRs  []struct {
				CIDR string   `json:"cidr"`
				Tags []string `json:"tags"`
			} `json:"cidrs"`
		} `json:"regions"`
	}
	if err := decodeJSON(data, &doc); err != nil {
		return Parsed{}, err
	}
	if doc.Regions == nil {
		return Parsed{}, errNotDocument("an Oracle public_ip_ranges.json", "regions")
	}
	c := newCloudCollector("oracle")
	for _, r := range *doc.Regions {
		for _, cidr := range r.CIDRs {
			c.add(cidr.CIDR, r.Region, strings.Join(cidr.Tags, ","))
		}
	}
	return c.p, nil
}

// AzureServiceTags reads Microsoft's weekly ServiceTags_Public JSON
// (plain or gzip): values[]{name, properties{region, systemService,
// addressPrefixes[]}}. The tag name is the service; a prefix listed under
// several tags keeps the most specific one (a regional service tag beats a
// service tag, which beats AzureCloud.<region>, which beats AzureCloud).
func AzureServiceTags(data []byte) (Parsed, error) {
	var doc struct {
		Values *[]struct {
			Name       string `json:"name"`
			Properties struct {
				Region          string   `json:"region"`
				AddressPrefixes []string `json:"addressPrefixes"`
			} `json:"properties"`
		} `json:"values"`
	}
	if err := decodeJSON(data, &doc); err != nil {
		return Parsed{}, err
	}
	if doc.Values == nil {
		return Parsed{}, errNotDocument("an Azure Service Tags file", "values")
	}
	c := newCloudCollector("azure")
	for _, v := range *doc.Values {
		for _, pfx := range v.Properties.AddressPrefixes {
			c.add(pfx, v.Properties.Region, v.Name)
		}
	}
	return c.p, nil
}

// Onionoo reads an Onionoo details document (plain or gzip):
// relays[]{or_addresses[], exit_addresses[]}. Every OR address
// ("1.2.3.4:9001", "[2001:db8::1]:443") and exit address ("5.6.7.8") of a
// relay becomes a host entry, so exits reachable over IPv6 are covered
// where the bulk exit list has only IPv4. Ask Onionoo for exit relays only
// (search=flag:exit): this parser does not look at flags.
func Onionoo(data []byte) (Parsed, error) {
	var doc struct {
		Relays *[]struct {
			OR   []string `json:"or_addresses"`
			Exit []string `json:"exit_addresses"`
		} `json:"relays"`
	}
	if err := decodeJSON(data, &doc); err != nil {
		return Parsed{}, err
	}
	if doc.Relays == nil {
		return Parsed{}, errNotDocument("an Onionoo details document", "relays")
	}
	var p Parsed
	seen := map[netip.Addr]bool{}
	add := func(s string) {
		p.Records++
		a, ok := parseRelayAddr(s)
		if !ok {
			p.Malformed++
			return
		}
		if seen[a] {
			return
		}
		seen[a] = true
		p.add(netip.PrefixFrom(a, a.BitLen()), Entry{})
	}
	for _, r := range *doc.Relays {
		for _, s := range r.OR {
			add(s)
		}
		for _, s := range r.Exit {
			add(s)
		}
	}
	return p, nil
}

// parseRelayAddr reads "1.2.3.4", "1.2.3.4:9001", "2001:db8::1",
// "[2001:db8::1]" or "[2001:db8::1]:443".
func parseRelayAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		s = ap.Addr().String()
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, reason := ipx.Parse(s)
	return a, reason == ""
}
