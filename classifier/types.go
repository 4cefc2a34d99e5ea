// Package classifier labels IP addresses as Tor exits, cloud, datacenter,
// residential or unknown from free public range lists, with the evidence
// behind every answer.
//
// The engine downloads its sources (see Source), keeps the last good snapshot
// of each on disk, builds an immutable prefix index from them and swaps it in
// atomically, so readers never lock. Engine is the entry point.
package classifier

import (
	"fmt"
	"time"
)

// IPType is the infrastructure label of an address. The zero value is not a
// valid type; every answer carries one of the constants below.
type IPType string

// The five labels, in priority order: a Tor exit wins over a cloud range,
// which wins over a datacenter range, and so on.
const (
	TypeTor         IPType = "tor"
	TypeCloud       IPType = "cloud"
	TypeDatacenter  IPType = "datacenter"
	TypeResidential IPType = "residential"
	TypeUnknown     IPType = "unknown"
)

// allTypes lists every IPType in priority order; Types hands out copies.
var allTypes = [...]IPType{TypeTor, TypeCloud, TypeDatacenter, TypeResidential, TypeUnknown}

// Types returns every IPType in priority order (a new slice each call).
func Types() []IPType { return append([]IPType(nil), allTypes[:]...) }

// Valid reports whether t is one of the five labels.
func (t IPType) Valid() bool {
	for _, v := range allTypes {
		if t == v {
			return true
		}
	}
	return false
}

// Confidences and source names of the classification contract.
const (
	ConfidenceTor        = 0.95
	ConfidenceCloud      = 0.99
	ConfidenceDatacenter = 0.75
	// ConfidenceHostingASN is a datacenter answer because the announcing
	// ASN is on a hosting-ASN list: below the prefix lists, since a hoster's
	// ASN may also carry some office or access space.
	ConfidenceHostingASN = 0.6
	// ConfidenceAccessASN is a residential answer because the announcing
	// network declares itself an access network (PeeringDB Cable/DSL/ISP):
	// the operator's own word, but some such networks also sell business
	// lines and colocation.
	ConfidenceAccessASN = 0.7
	// ConfidenceASNProfile is the confidence of an AS-profile answer: the
	// lowest of any label, below the AS-name heuristic's (0.5 to 0.8).
	ConfidenceASNProfile = 0.3

	ProviderTor      = "tor"           // Result.Provider of every Tor answer
	SourceTor        = "tor_bulk_list" // the bulk exit list and Onionoo alike (Snapshot tells which)
	SourceCloudPrefx = "cloud_ranges_" // followed by the provider, e.g. cloud_ranges_aws
	SourceDatacenter = "datacenter_community_lists"
	SourceHostingASN = "hosting_asn_list"
	SourceAccessASN  = "access_asn_list" // a network that declares itself an access network (PeeringDB)
	SourceASNName    = "asn_name_heuristic"
	SourceASNProfile = "asn_profile"       // the AS profile (off by default: see Config.ASNProfile)
	SourceScanners   = "mass_scanner_list" // a scanner list: it tags, never decides (Evidence.Source only)
	SourceNone       = "none"
)

// Where an answer's ASN, AS name and country came from (Result.ASNSource).
const (
	ASNFromCaller = "caller" // the caller passed an ASN or AS name
	ASNFromIP2ASN = "ip2asn" // the caller passed neither; the ip2asn table knew the address
	ASNFromNone   = ""       // nobody knew
)

// Result is one answer. Every valid IP gets one; the zero value is not an
// answer (its Type is empty).
//
// Provider, Region and Service are empty when the source does not know them;
// for answers from the ASN (hosting-ASN list, AS-name heuristic) Provider is
// the AS name. MatchedPrefix is the prefix (or exact address) that decided the
// answer, "AS<n>" for the hosting-ASN list, or "as_name:<patterns>" for the
// AS-name heuristic. Snapshot names the source snapshot ("tor", "cloud/aws",
// "datacenter/x4bnet-asn", …; for the AS-name heuristic the ip2asn table
// when the name came from it) and SnapshotAt is when that snapshot was
// downloaded; both are empty for answers that came from no list. Stale is
// true when the newest download of that source failed or the snapshot is
// older than its source allows, so the answer may be outdated.
//
// ASN, ASName and Country describe the network announcing the address on
// every answer, whatever decided it; ASNSource says where they came from
// (ASNFromCaller, ASNFromIP2ASN or ASNFromNone). The caller's values win:
// the ip2asn table only fills what the caller left empty, and only when it
// agrees with the caller's ASN (or the caller gave none). Country is the
// ip2asn table's (the AS's registration country), never guessed.
type Result struct {
	IP            string    `json:"ip"`
	Type          IPType    `json:"ip_type"`
	Provider      string    `json:"provider"`
	Region        string    `json:"region"`
	Service       string    `json:"service"`
	Confidence    float64   `json:"confidence"`
	Source        string    `json:"source"`
	ClassifiedAt  time.Time `json:"classified_at"`
	MatchedPrefix string    `json:"matched_prefix"`
	Snapshot      string    `json:"snapshot"`
	SnapshotAt    time.Time `json:"snapshot_at"`
	Stale         bool      `json:"stale"`
	ASN           uint32    `json:"asn"`
	ASName        string    `json:"as_name"`
	// CacheTier names the tier that served the answer ("l1", "l2", "l3"), or is
	// empty when the answer was computed from the index just now.
	CacheTier string `json:"cache_tier,omitempty"`
	Country   string `json:"country"`
	ASNSource string `json:"asn_source"`
	// Tags say more than the type: TagTorExit, TagVPN, TagPrivacyRelay,
	// "scanner:<name>", "crawler:<name>", "monitor:<name>" — every tag of
	// every source that matched, each once, in Evidence order; nil for none.
	Tags []string `json:"tags,omitempty"`
	// Evidence lists every source that matched the address, whatever
	// decided: the prefix lists holding it (by type priority, the most
	// specific first within one: the deciding list first when a list
	// decided), then the ASN-level sources (hosting-ASN lists, the AS-name
	// rules, the AS profile) that have a verdict on its network. A Tor exit
	// in a hosting range lists both. Nil when nothing matched.
	//
	// Answers from the same ranges and network share the Tags and Evidence
	// slices: read them, do not modify them.
	Evidence []Evidence `json:"evidence,omitempty"`
	// AsOf is the time an answer as of a past time (Query.At) was asked
	// for, zero for an answer as of now. SnapshotAt is then the date of the
	// snapshot in force at AsOf, and HistoryShort is set when the history
	// held no snapshot that old of a source the answer depends on (the
	// oldest one answered: its SnapshotAt is after AsOf).
	AsOf         time.Time `json:"as_of,omitzero"`
	HistoryShort bool      `json:"history_short,omitempty"`

	key uint64 // see Key
}

// Key identifies what r says beyond its address and times, for a host
// that caches what it made of an answer (its decoded fields, an object):
// two results with the same nonzero Key are equal in every field but IP,
// ClassifiedAt, SnapshotAt and Stale (a refresh that brings no new data
// restamps the answers it keeps), whichever engine of the process made
// them; a key is never reused for another answer. Answers computed from
// the current data have one (answers from the same list prefixes and the
// same network, with the same caller ASN data, mostly share it); it is
// zero for an answer read from a cache tier, as of a past time, or, with
// no caller ASN data, from an interval of the index past the 65,536 whose
// answers the engine keeps. Keys are not stable across processes: do not
// store them.
func (r Result) Key() uint64 { return r.key }

// Evidence is one source's verdict on an address (Result.Evidence).
// Source is its Result.Source label (SourceScanners for a list that only
// tags), Snapshot the source snapshot it came from (empty for the caller's
// AS name), Type the label it gives (empty when it gives none),
// Provider its provider or the AS name, MatchedPrefix the prefix, "AS<n>"
// or the AS-name patterns that matched, Tag what it adds to Result.Tags.
type Evidence struct {
	Source        string `json:"source"`
	Snapshot      string `json:"snapshot,omitempty"`
	Type          IPType `json:"ip_type,omitempty"`
	Provider      string `json:"provider,omitempty"`
	MatchedPrefix string `json:"matched_prefix,omitempty"`
	Tag           string `json:"tag,omitempty"`
}

// DataAge is how old the snapshot behind r was at now, or at AsOf for an
// answer as of a past time (negative when HistoryShort: the snapshot is
// younger than AsOf); zero when r came from no snapshot.
func (r Result) DataAge(now time.Time) time.Duration {
	if r.SnapshotAt.IsZero() {
		return 0
	}
	if !r.AsOf.IsZero() {
		now = r.AsOf
	}
	return now.Sub(r.SnapshotAt)
}

// Validate checks the invariants of an answer read back from a cache tier:
// a known type, a confidence in [0, 1] and a parseable IP.
func (r Result) Validate() error {
	if !r.Type.Valid() {
		return fmt.Errorf("invalid ip_type %q", r.Type)
	}
	if r.Confidence < 0 || r.Confidence > 1 {
		return fmt.Errorf("confidence %v out of [0, 1]", r.Confidence)
	}
	if _, err := parseIP(r.IP); err != nil {
		return err
	}
	for _, e := range r.Evidence {
		if e.Type != "" && !e.Type.Valid() {
			return fmt.Errorf("invalid evidence ip_type %q", e.Type)
		}
	}
	return nil
}

// Query is one input of a batch: the IP text and, when the caller knows them,
// the ASN (0 = unknown) and AS name ("" = unknown). At, when set, asks for
// the answer as of that time (see Engine.ClassifyAt); zero means now.
type Query struct {
	IP     string
	ASN    uint32
	ASName string
	At     time.Time
}
