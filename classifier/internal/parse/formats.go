package parse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ipclassifier/ipclassifier/classifier/internal/ipx"
)

// The file formats the engine reads, by name: the registry For and Detect
// use, so other packages (the validate harness) read a file with the same
// parser the engine would.
const (
	FormatTorList    = "tor-list"      // bulk exit list: one address per line
	FormatOnionoo    = "onionoo"       // Onionoo details JSON
	FormatRezmossCSV = "rezmoss-csv"   // rezmoss/cloud-provider-ip-addresses {folder}_ips.csv
	FormatAWSJSON    = "aws-json"      // AWS ip-ranges.json
	FormatGCPJSON    = "gcp-json"      // Google cloud.json
	FormatOracleJSON = "oracle-json"   // Oracle public_ip_ranges.json
	FormatAzureJSON  = "azure-json"    // Azure ServiceTags_Public JSON
	FormatDatacenter = "datacenter"    // jhassine datacenters.csv
	FormatCIDRList   = "cidr-list"     // X4BNet lists_vpn ipv4.txt / ipv6.txt
	FormatASNList    = "asn-list"      // X4BNet lists_vpn input/datacenter/ASN.txt
	FormatIP2ASN     = "ip2asn"        // iptoasn.com ip2asn-v4/v6 TSV
	FormatProviders  = "provider-list" // lord-alfred/ipranges lists, RFC 8805 geofeeds
	FormatScanners   = "mass-scanner"  // maltrail mass_scanner.txt
	FormatPeeringDB  = "peeringdb"     // PeeringDB api/net JSON
)

// formats lists every name For accepts; Formats hands out copies.
var formats = [...]string{
	FormatTorList, FormatOnionoo, FormatRezmossCSV, FormatAWSJSON, FormatGCPJSON, FormatOracleJSON,
	FormatAzureJSON, FormatDatacenter, FormatCIDRList, FormatASNList, FormatIP2ASN,
	FormatProviders, FormatScanners, FormatPeeringDB,
}

// Formats returns every name For accepts.
func Formats() []string { return append([]string(nil), formats[:]...) }

// For returns the engine's parser for a format (see Formats).
// provider names the cloud provider of a rezmoss CSV (required there,
// ignored elsewhere: the first-party parsers know their provider); a
// rezmoss folder name (googlecloud) is mapped to its provider (gcp).
func For(format, provider string) (Parser, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case FormatTorList:
		return TorList, nil
	case FormatOnionoo:
		return Onionoo, nil
	case FormatRezmossCSV:
		p := CloudProvider(provider)
		if p == "" {
			return nil, fmt.Errorf("format %s needs a provider (aws, azure, gcp, …)", FormatRezmossCSV)
		}
		return RezmossCSV(p), nil
	case FormatAWSJSON:
		return AWSIPRanges, nil
	case FormatGCPJSON:
		return GCPCloudJSON, nil
	case FormatOracleJSON:
		return OracleIPRanges, nil
	case FormatAzureJSON:
		return AzureServiceTags, nil
	case FormatDatacenter:
		return DatacenterCSV, nil
	case FormatCIDRList:
		return CIDRList, nil
	case FormatASNList:
		return ASNList, nil
	case FormatIP2ASN:
		return IP2ASN, nil
	case FormatProviders:
		return ProviderList, nil
	case FormatScanners:
		return MassScanners, nil
	case FormatPeeringDB:
		return PeeringDBNet, nil
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(formats[:], ", "))
}

// Folder is a folder of rezmoss/cloud-provider-ip-addresses and the
// engine's name of its provider.
type Folder struct{ Folder, Provider string }

// rezmossFolders lists the folders, in load order; RezmossFolders hands out
// copies.
var rezmossFolders = [...]Folder{
	{"aws", "aws"}, {"azure", "azure"}, {"googlecloud", "gcp"}, {"cloudflare", "cloudflare"},
	{"digitalocean", "digitalocean"}, {"oracle", "oracle"}, {"linode", "linode"}, {"vultr", "vultr"},
}

// RezmossFolders returns the folders of rezmoss/cloud-provider-ip-addresses
// the engine loads, in load order.
func RezmossFolders() []Folder { return append([]Folder(nil), rezmossFolders[:]...) }

// CloudProvider maps a provider or rezmoss folder name to the engine's
// provider name ("googlecloud" → "gcp", "AWS" → "aws"); other names are
// lower-cased and trimmed.
func CloudProvider(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, f := range rezmossFolders {
		if f.Folder == name {
			return f.Provider
		}
	}
	return name
}

// Detect guesses the format of a file from its content (plain or
// gzip): the JSON documents by their keys, CSVs by their header, an ip2asn
// table by its tab-separated rows, an ASN list, a mass-scanner list
// ("address # name"), a geofeed (a comma) or a CIDR list by its first line,
// else a list of addresses (FormatTorList). It returns "" for an
// empty file or one it cannot read.
func Detect(data []byte) string {
	body, err := Gunzip(data)
	if err != nil {
		return ""
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var doc map[string]json.RawMessage
		if json.Unmarshal(trimmed, &doc) != nil {
			return ""
		}
		switch {
		case doc["relays"] != nil:
			return FormatOnionoo
		case doc["values"] != nil:
			return FormatAzureJSON
		case doc["regions"] != nil:
			return FormatOracleJSON
		case doc["ipv6_prefixes"] != nil || bytes.Contains(doc["prefixes"], []byte(`"ip_prefix"`)):
			return FormatAWSJSON
		case doc["prefixes"] != nil:
			return FormatGCPJSON
		case doc["data"] != nil:
			return FormatPeeringDB
		}
		return ""
	}
	first := firstLine(trimmed)
	lower := bytes.ToLower(first)
	switch {
	case bytes.Contains(lower, []byte("ip_address")):
		return FormatRezmossCSV
	case bytes.Contains(lower, []byte(`"cidr"`)) && bytes.Contains(lower, []byte("vendor")):
		return FormatDatacenter
	case bytes.Count(first, []byte{'\t'}) >= 3:
		return FormatIP2ASN
	case isASNLine(lower):
		return FormatASNList
	case bytes.Contains(first, []byte("#")):
		return FormatScanners
	case isGeofeedLine(first):
		return FormatProviders
	case bytes.Contains(first, []byte("/")):
		return FormatCIDRList
	case len(first) > 0:
		return FormatTorList
	}
	return ""
}

// firstLine returns the first line that is neither blank nor a '#' comment.
func firstLine(b []byte) []byte {
	for len(b) > 0 {
		line, rest, _ := bytes.Cut(b, []byte{'\n'})
		b = rest
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return line
		}
	}
	return nil
}

// isGeofeedLine reports whether a line is an RFC 8805 row: a prefix, a
// comma, more fields.
func isGeofeedLine(line []byte) bool {
	prefix, _, ok := bytes.Cut(line, []byte(","))
	_, valid := ipx.ParsePrefix(string(prefix))
	return ok && valid
}

// isASNLine reports whether a (lower-case) line is "as64500 …" or a bare
// number, as an ASN list has.
func isASNLine(line []byte) bool {
	line = bytes.TrimPrefix(line, []byte("as"))
	n := 0
	for n < len(line) && line[n] >= '0' && line[n] <= '9' {
		n++
	}
	return n > 0 && (n == len(line) || line[n] == ' ' || line[n] == '#' || line[n] == '\t')
}
