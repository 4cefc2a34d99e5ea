// Package asname is the AS-name heuristic: it reads the name of the network
// announcing an address and says "residential", "hosting" or nothing, with
// the patterns that decided. It knows nothing else of the engine.
package asname

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// The AS-name heuristic reads the name of the network that announces an
// address (from the caller or from the ip2asn table) and says "residential",
// "datacenter" or nothing. A name is folded to lower-case ASCII words
// (" word word ", so phrases match on word boundaries); then, in order:
//
//  1. Hosting: hosting words in several languages (host, server, cloud,
//     datacenter, colocation, VPS, CDN, IDC, hospedagem, rechenzentrum, …)
//     and hosting brands make it a datacenter at low confidence (0.5).
//     IDC glued to a brand or a number counts too ("NEWIDC", "IDC1").
//     Hosting is checked first, so it beats every residential word: a name
//     with both "hosting" and "telecom" is a hoster that also sells lines
//     (the exclusions of the upstream heuristic), and a wrong "datacenter"
//     costs less than a wrong "residential".
//  2. Not access: research, education, government, banks, carriers and
//     wholesale fibre, UK "trading as" sole traders: no answer.
//  3. Residential, strong: access-network words (telecom, telekom,
//     telefónica, telecomunicações, kabel, fibra, broadband, mobile, …) and
//     ISP and carrier brands (CHINANET, UNICOM, CMNET, Comcast, Vodafone,
//     …): two or more → 0.8, one → 0.7.
//  4. Residential, weak (0.5): generic ISP phrases ("internet service"), or
//     an ISP hint ("internet", "net", "link", …) twice, or once beside a
//     small-ISP legal form (LTDA, ME, PVT, JSC, PT, …) or in a two-word name
//     ("Brava Internet") — unless an IT-company word (solutions,
//     technology, …) is there too. "Networks" counts only beside a legal
//     form ("Fasthook Networks Pvt Ltd", not "Sage Networks"); a lone
//     "network" does not make a two-word name an ISP ("INT-NETWORK" is a
//     hoster's handle). A small company's legal form alone (Brazilian ME,
//     EIRELI; Indian PVT; Russian OOO), and a Brazilian family partnership
//     ("Fontana e Fleck Ltda", "Silvestri e Cia"), are weak too, with the
//     same exception.
//
// Strong also, when nothing else is strong: a one-word access brand glued
// to a country code or "net" in a handle (MTNCI, VECTRANET, TELIANET); and
// then a one-word telco brand ending in -tel or -kom (Spintel, Sudatel,
// Netkom; not hotel or Intel).
//
// Measured on bgp.tools' tags (residential = dsl ∪ mobile, hosting = vpsh
// ∪ cdn, ASNs in both left out), tuned on even ASNs and checked on odd ones
// (`python -m ipclassifier validate --real-data ../shared/data`,
// docs/validation.md): on the held-out half, residential recall 66.8% at
// precision 95.3%, hosting recall 31.1% at precision 96.5%. Per address of
// the IPv4 space of those networks, with every source loaded, the held-out
// (odd) residential space is 70.8% residential (the tuning half: 90.4%).
const (
	confResidentialStrong2 = 0.8
	confResidentialStrong1 = 0.7
	confResidentialWeak    = 0.5
	// ConfidenceHosting is the confidence of a hosting answer.
	ConfidenceHosting = 0.5
)

// The pattern lists. Stems match anywhere inside a word (so compounds
// count: Webhosting, Kabelnetz, Chinatelecom, Mobilfunk); words, brands and
// phrases match whole words. All are lower-case ASCII: names are folded
// before matching (Telefónica → telefonica, TELECOMUNICAÇÕES →
// telecomunicacoes, HETZNER-AS → hetzner as).

// hostingStems and hostingWords are hosting words, in several languages:
// a name with one is a datacenter (0.5), whatever else it says. "host"
// covers hosting, hoster, webhost and the many brands built on it.
var hostingStems = []string{
	"host", "server", "cloud", "datacenter", "datacentre", "data center", "data centre", "datacentrum",
	"rechenzentrum", "centro de datos", "centro de dados", "veri merkezi", "colocation", "hospedagem",
	"alojamiento", "vps", "baremetal", "bare metal", "cdn", "ddos", "anycast",
}

var hostingWords = []string{
	"rack", "racks", "dedicated", "dedi", "colo", "idc", "awan", "web", "web services", "it",
	"internet data center", "compute", "gpu", "proxy", "vpn", "seedbox", "bilisim",
}

// hostingBrands are hosting, cloud and CDN companies whose names carry no
// hosting word (bgp.tools names and iptoasn handles alike).
var hostingBrands = []string{
	"amazon", "aws", "microsoft", "azure", "akamai", "fastly", "oracle", "ovh", "hetzner", "leaseweb",
	"digitalocean", "linode", "vultr", "choopa", "contabo", "rackspace", "softlayer", "alibaba", "aliyun",
	"tencent", "ionos", "1&1", "strato", "scaleway", "m247", "datacamp", "gcore", "g core", "stackpath",
	"incapsula", "imperva", "zenlayer", "psychz", "quadranet", "colocrossing", "limestone networks",
	"hostinger", "godaddy", "namecheap", "bluehost", "dreamhost", "sakura internet", "xtom", "aeza",
	"selectel", "timeweb", "beget", "netcup", "i3d", "i3dnet", "equinix", "edgio", "limelight", "edgecast",
	"cachefly", "bunnyway", "heficed", "frantech", "ponynet", "buyvm", "ramnode", "interserver",
	"clouvider", "latitude sh", "hivelocity", "datapacket", "cdnext", "path network", "constant company",
	"wholesale internet", "nocix", "voxility", "servinga", "serverius", "worldstream", "nforce",
	"hostwinds", "liquid web", "liquidweb", "cyberverse", "netactuate", "misaka", "prolexic", "flexential",
	"cogent", "hurricane", "he net", "anexia", "wedos", "uk2net", "gsl networks", "flokinet",
	"stark industries", "team blue", "peer1", "peer 1", "online sas",
	// from the largest misses by address space among even hosting ASNs
	"volcano engine", "claranet", "tierpoint", "peg tech", "lightedge", "yandex", "teraswitch",
	"infomaniak", "kagoya", "combell", "exoscale", "dmit", "evoxt", "e2e networks", "atlantic net",
	"cyfuture", "nexeon", "quantcom", "exponential e", "northc", "t systems",
	// content networks (their addresses serve, they do not browse)
	"facebook", "bytedance", "yahoo", "apple", "taobao", "woodynet", "packet clearing house",
}

// notAccessWords say a network is not an access network without saying
// it hosts servers (research, government, UK/RIPE "trading as" sole
// traders, Turkish telekomunikasyon resellers): no answer at all.
var notAccessWords = []string{
	"trading as", "telekomunikasyon", "university", "universidad", "universidade", "universitat",
	"research", "education", "government", "ministry", "bank",
	// carriers and wholesale fibre
	"carrier", "transit", "wholesale", "backhaul", "peering", "internet exchange", "dark fiber",
	"crown castle", "eurofiber", "openfiber", "open fiber", "zayo", "lumen", "level3", "lvlt", "gtt",
	"arelion", "telia carrier", "tata communications", "pccw global", "ntt america", "biznet gio",
}

// carrierWords are the notAccessWords that say what a network does, not
// whose it is: beside an access network's brand they name that group's
// carrier arm ("ONENZ-TRANSIT-AS One New Zealand Group", "TELEMACH
// Broadband Access & Carrier Services"), and the brand decides.
var carrierWords = []string{"carrier", "transit", "wholesale", "backhaul", "peering"}

// onlyCarrierWords reports whether every not-access pattern a name holds
// is one of carrierWords.
func onlyCarrierWords(na []string) bool {
	for _, w := range na {
		if !slices.Contains(carrierWords, w) {
			return false
		}
	}
	return true
}

// residentialStems are access-network words, in several languages: one is
// a strong signal.
var residentialStems = []string{
	// telephone companies
	"telecom", "telekom", "telefon", "telco", "telephone", "teleinform", "comunica", "svyaz", "puhelin",
	"tavkozl", "szolgaltato", "etisal", "itisal",
	// fixed access
	"broadband", "bredband", "breitband", "banda larga", "banda ancha", "cable", "kabel", "cablevision",
	"dsl", "fiber", "fibre", "fibra", "ftth", "glasfaser", "kuitu", "stadtwerke", "multimidia",
	"conect", "conex", "provedor", "proveedor", "akses",
	// mobile, wireless, satellite
	"wireless", "cellular", "celular", "mobile", "mobil", "movil", "movel", "wisp", "satel",
	// cooperatives, municipal and utility networks, housing associations
	"cooperativ", "co operative", "genossenschaft", "osuuskunta", "city of", "municipal", "kommunal",
	"antenne", "bolig", "kaista", "verkko", "student", "home",
	// Chinese access networks
	"chinanet", "unicom", "cmnet",
}

// residentialWords are access-network words matched as whole words.
var residentialWords = []string{
	"isp", "tv", "catv", "gsm", "lte", "pcs", "wimax", "wifi", "wi fi", "adsl", "vdsl", "fttx", "fttb",
	"sat", "satnet",
	"seti", // Russian "networks"
}

// residentialBrands are access ISPs and mobile carriers whose names (or
// iptoasn handles) carry none of the stems.
var residentialBrands = []string{
	// North America
	"comcast", "cmcs", "ccch", "xfinity", "verizon", "cellco", "at&t", "att", "sbc", "bellsouth", "twc",
	"time warner", "bhn", "bright house", "cox communications", "cci", "centurylink", "frtr",
	"windstream", "mediacom", "suddenlink", "altice", "cablevision", "rcn", "wow", "wideopenwest",
	"astound", "breezeline", "atlanticbb", "atlantic broadband", "sparklight", "cable one", "midco",
	"gci", "shentel", "ziply", "metronet", "brightspeed", "tds", "cincinnati bell", "altafiber",
	"hawaiian telcom", "starlink", "spacex", "viasat", "hughes", "t mobile", "tmobile", "sprint",
	"us cellular", "cricket", "bresnan", "hotwire", "webpass", "starry", "rogers", "bell canada",
	"shaw", "telus", "videotron", "cogeco", "sasktel", "bell aliant", "charter", "charter communications",
	"frontier communications", "consolidated communications", "eastlink", "teksavvy", "distributel",
	"ebox", "bacom", "vcg", "armstrong", "ritter communications", "imon", "allo communications",
	"arvig", "acentek", "midcontinent", "fidium", "sogetel",
	// Europe
	"deutsche telekom", "dtag", "vodafone", "o2", "telefonica", "orange", "proxad",
	"free sas", "sfr", "bouygues", "numericable", "proximus", "telenet", "kpn", "ziggo", "odido",
	"swisscom", "sunrise", "quickline", "init7", "a1", "a1 telekom", "telia", "telenor", "elisa",
	"dna", "tele2", "tdc", "nuuday", "yousee", "norlys", "altibox", "bt", "british telecommunications",
	"virgin media", "talktalk", "plusnet", "hyperoptic", "community fibre", "trooli", "h3guk", "eir",
	"eircom", "telecom italia", "fastweb", "wind tre", "iliad", "tiscali", "netcologne", "m net",
	"mnet", "versatel", "htp", "ewe", "netia", "upc", "vectra", "inea", "polkomtel",
	"multimedia polska", "rostelecom", "megafon", "mts", "mtsby", "beeline", "vimpelcom", "er telecom",
	"ufanet", "domru", "ttk", "kyivstar", "ukrtelecom", "triolan", "volia", "belpak", "kar tel",
	"turk telekom", "ttnet", "turkcell", "superonline", "turksat", "kocnet", "cosmote", "ote",
	"otenet", "forthnet", "vivacom", "rcs rds", "rds", "digi", "telekom srbija", "yettel",
	"nos comunicacoes", "meo", "movistar", "euskaltel", "masmovil", "jazztel", "uni2", "lcprl",
	"bezeq", "pelephone", "cellcom", "tet", "bite", "lattelecom", "telemaxx", "telemach", "cetin",
	"one hungary", "lifecell", "kcom", "eolo", "nowo", "cgates", "toya", "solcon", "kaisanet",
	"eidsiva", "svorka", "silknet", "magticom", "ucom", "comcor", "liberty global",
	"liberty communications", "free mobile", "sky uk", "sky italia", "wind hellas", "tim s p a", "tim sa",
	"tim s a",
	"partner communications", "salt mobile", "ee limited", "h3g",
	// Asia-Pacific
	"china telecom", "china unicom", "china mobile", "chinamobile", "airtel", "bharti", "reliance jio",
	"jio", "reliancejio", "bsnl", "mtnl", "act fibernet", "hathway", "tikona", "gtpl", "railtel",
	"telstra", "optus", "tpg", "iinet", "internode", "aussie broadband", "exetel", "spark new zealand",
	"2degrees", "one nz", "kddi", "softbank", "bbtec", "ntt docomo", "ocn", "so net", "biglobe",
	"jcom", "chunghwa", "hinet", "korea telecom", "kixs", "sk broadband", "skb", "lg uplus", "lgdacom",
	"lg dacom", "pldt", "globe telecom", "converge", "viettel", "vnpt", "fpt", "mobifone",
	"true internet", "trueonline", "true online", "triple t", "jastel", "ais", "indosat", "telkomsel",
	"telkom indonesia", "xl axiata", "axiata", "biznet", "tm net", "tm technology", "maxis", "celcom",
	"digi telecommunications", "ytl", "singtel", "starhub", "myrepublic", "pccw", "hkt", "hgc",
	"hutchison", "hong kong broadband", "ptcl", "nayatel", "wateen", "cmpak", "grameenphone",
	"banglalink", "link3", "amberit", "ncell", "worldlink", "mobitel", "cellcard", "unitel", "skytel",
	"tokai communications", "dialog axiata", "two degrees", "one new zealand", "foxtel",
	// Latin America, Caribbean
	"claro", "vivo", "oi", "tim brasil", "algar", "sercomtel", "brisanet", "unifique", "ligga",
	"telecentro", "fibertel", "telmex", "uninet", "alestra", "axtel", "totalplay", "megacable", "izzi",
	"television internacional", "cantv", "digitel", "movilnet", "tigo", "etb", "cnt", "netlife",
	"puntonet", "entel", "wom", "vtr", "gtd", "antel", "copaco", "directv", "v tal", "telemar",
	"digicel", "columbus",
	// Middle East, Africa
	"etisalat", "stc", "saudinetstc", "mobily", "zain", "ooredoo", "omantel", "nawras", "awasr",
	"batelco", "asiacell", "atheeb", "mtc", "irancell", "shatel", "asiatech", "pars online", "mtn",
	"safaricom", "vodacom", "telkom sa", "maroc telecom", "inwi", "djezzy", "mobilis",
	"tunisie telecom", "topnet", "algerie telecom", "te data", "telecom egypt", "iam", "globacom",
	"sonatel", "paratus", "canalbox", "jawwal", "beyon", "camtel", "cell c", "africell", "millicom",
	"movitel",
	// from the largest misses by address space among even ASNs (the tuning
	// half): incumbents, cable and mobile brands as their handles write them
	"powercomm", "tci", "hi3g", "freenet", "erth", "voo", "pepcom", "primacom", "tellcom", "sonet",
	"seednet", "wana", "tim", "iskon", "bezek", "etapa", "execulink", "cybersmart", "mundivox",
	"enecom", "benestra", "lanet", "digiweb", "dsmart",
}

// residentialWeak are generic words that say "an ISP" without saying
// "an access network": one alone is a weak signal.
var residentialWeak = []string{
	"internet service", "internet services", "internet provider", "internet access", "residential",
	"consumer", "community network",
}

// accessHints are words that access ISPs use a lot but others use too:
// they count only two together, or one beside one of smallISPForms.
var accessHints = []string{
	"internet", "net", "online", "link", "connect", "access", "speed", "giga", "turbo", "click", "fast",
	"wave", "radio", "media", "multimedia", "infomedia", "telematika", "network", "communications",
	"communication", "provider", "dot", "informatica", "nusantara", "lintas", "vision", "video", "on line",
	"signal",
}

// formHints are hints that count only beside one of smallISPForms, never in
// a short name: "Fasthook Networks Pvt Ltd" is an access ISP, "Sage
// Networks" as likely a hoster.
var formHints = []string{"networks"}

// itWords are words of IT-services companies (many host servers): they
// cancel a weak answer from accessHints, not a strong one.
var itWords = []string{
	"teknologi", "technology", "technologies", "tecnologia", "solusi", "solutions", "solucoes",
	"systems", "sistem", "cyber", "inovasi", "software", "consulting",
}

// smallISPForms are the legal forms under which thousands of small access
// ISPs register (Brazilian LTDA/ME/EIRELI, Russian and Ukrainian
// OOO/JSC/FOP/PE, Indian/Pakistani PVT, Indonesian PT, Bulgarian EAD/EOOD):
// they count only beside one of accessHints.
var smallISPForms = []string{
	"ltda", "me", "eireli", "epp", "pvt", "private limited", "ooo", "jsc", "pjsc", "cjsc", "ojsc", "fop", "pe", "pt", "ead",
	"eood",
}

// microForms are legal forms of small companies under which thousands of
// small access ISPs register (Brazilian ME and EIRELI, Indian PVT, Russian
// OOO): one alone is a weak signal.
var microForms = []string{"me", "eireli", "pvt", "ooo"}

// portuguesePartnership reports whether the name joins two names with the
// Portuguese "e" or is a "& Cia" company ("Fontana e Fleck Ltda", "Oliveira
// e Cia Ltda"), as Brazil's small family ISPs are named. The raw name is
// read: a handle's "-E" ("EXPONENTIAL-E") is no conjunction.
func portuguesePartnership(asName string) bool {
	for _, w := range strings.Fields(strings.ToLower(asName)) {
		if w == "e" || strings.TrimRight(w, ".,") == "cia" {
			return true
		}
	}
	return false
}

// asciiFold maps common Latin accented letters to ASCII.
var asciiFold = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i", "ñ", "n", "ó", "o", "ò", "o", "ô", "o", "õ", "o", "ö", "o", "ø", "o",
	"ú", "u", "ù", "u", "û", "u", "ü", "u", "ß", "ss", "ý", "y",
)

// Kind is what a name says of its network.
type Kind uint8

// The kinds; the zero value, None, is a name that says nothing.
const (
	None        Kind = iota
	Residential      // an access network: ISP, telecom, mobile carrier
	Hosting          // a hoster, cloud, data center or CDN
)

// Match is what the heuristic found in one name. Kind is None when the name
// says nothing (Confidence is then 0). Patterns lists the patterns that
// decided it.
type Match struct {
	Kind       Kind
	Confidence float64
	Patterns   []string
	evidence   string // Evidence, made once
}

// Evidence is the text an answer shows as its matched evidence: "as_name:"
// and the patterns.
func (m Match) Evidence() string {
	if m.evidence != "" {
		return m.evidence
	}
	return "as_name:" + strings.Join(m.Patterns, ",")
}

// normaliseASName folds a name to " word word " (lower-case ASCII letters,
// digits and '&', single spaces, padded) so phrases match on word boundaries.
// An all-ASCII name (most are) skips ToLower and asciiFold: they would only
// lower its capitals, which the loop does.
func normaliseASName(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			name = asciiFold.Replace(strings.ToLower(name))
			break
		}
	}
	var b strings.Builder
	b.Grow(len(name) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range name {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '&' {
			b.WriteByte(byte(r))
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// Of runs the heuristic on one name (see the comment at the top of this
// file for the rules). It is pure and safe for concurrent use; Memo
// remembers its answers.
func Of(asName string) Match {
	m := matchASName(asName)
	if m.Kind != None {
		m.evidence = m.Evidence()
	}
	return m
}

func matchASName(asName string) Match {
	var m Match
	if asName == "" {
		return m
	}
	norm := normaliseASName(asName)
	hosting := func(p string) Match {
		return Match{Kind: Hosting, Confidence: ConfidenceHosting, Patterns: []string{p}}
	}
	for _, s := range hostingStems {
		if strings.Contains(norm, s) {
			return hosting(s)
		}
	}
	// Every whole-word pattern of the name, found at once; each list then
	// reads its own, in list order, as a scan of that list would.
	found := findPhrases(norm, make([]uint16, 0, 16))
	if w := found.in(listHostingWords); len(w) > 0 {
		return hosting(w[0])
	}
	if w := idcWord(norm); w != "" {
		return hosting(w)
	}
	if w := found.in(listHostingBrands); len(w) > 0 {
		return hosting(w[0])
	}
	if na := found.in(listNotAccess); len(na) > 0 && !(onlyCarrierWords(na) && len(found.in(listResidentialBrands)) > 0) {
		return m
	}
	var strong, weak []string
	var words []int // start of each word a stem matched in: one word is one signal
	for _, s := range residentialStems {
		i := strings.Index(norm, s)
		if i < 0 {
			continue
		}
		w := strings.LastIndexByte(norm[:i+1], ' ')
		if !slices.Contains(words, w) {
			words = append(words, w)
			strong = append(strong, s)
		}
	}
	strong = append(strong, found.in(listResidentialWords)...)
	for _, b := range found.in(listResidentialBrands) {
		if !overlapsAny(strong, b) {
			strong = append(strong, b)
		}
	}
	if len(strong) == 0 {
		if b := gluedBrand(norm); b != "" {
			strong = append(strong, b)
		}
	}
	if len(strong) == 0 {
		if suf := telcoSuffix(norm); suf != "" {
			strong = append(strong, suf)
		}
	}
	for _, w := range found.in(listResidentialWeak) {
		if !overlapsAny(weak, w) {
			weak = append(weak, w)
		}
	}
	if len(strong) == 0 && len(weak) == 0 {
		hints := found.in(listAccessHints)
		forms := found.in(listSmallISPForms)
		formOnly := found.in(listFormHints)
		it := len(found.in(listITWords)) > 0
		short := strings.Count(norm, " ") <= 3 && !slices.Equal(hints, []string{"network"}) // "Brava Internet", "Litoral Net": a brand and one hint
		if !it && (len(hints) >= 2 || len(hints) == 1 && (len(forms) > 0 || short) || len(formOnly) > 0 && len(forms) > 0) {
			weak = append(append(hints, formOnly...), forms...)
		} else if f := found.in(listMicroForms); !it && len(f) > 0 {
			weak = f
		} else if !it && portuguesePartnership(asName) {
			weak = []string{"e"}
		}
	}
	switch {
	case len(strong) >= 2:
		m.Confidence = confResidentialStrong2
	case len(strong) == 1:
		m.Confidence = confResidentialStrong1
	case len(weak) > 0:
		m.Confidence = confResidentialWeak
	default:
		return m
	}
	m.Kind = Residential
	m.Patterns = append(strong, weak...)
	return m
}

// The whole-word pattern lists (every list but the stems), by rank: the
// order in which asNamePhrases numbers their patterns.
const (
	listHostingWords = iota
	listHostingBrands
	listNotAccess
	listResidentialWords
	listResidentialBrands
	listResidentialWeak
	listAccessHints
	listSmallISPForms
	listFormHints
	listITWords
	listMicroForms
	numPhraseLists
)

// asNamePhraseLists are the whole-word pattern lists by rank.
var asNamePhraseLists = [numPhraseLists][]string{
	listHostingWords:      hostingWords,
	listHostingBrands:     hostingBrands,
	listNotAccess:         notAccessWords,
	listResidentialWords:  residentialWords,
	listResidentialBrands: residentialBrands,
	listResidentialWeak:   residentialWeak,
	listAccessHints:       accessHints,
	listSmallISPForms:     smallISPForms,
	listFormHints:         formHints,
	listITWords:           itWords,
	listMicroForms:        microForms,
}

// asNamePhrases indexes every whole-word pattern by its text, so that a
// name is matched by looking up its runs of words (findPhrases) instead of
// searching it for each pattern of each list in turn.
var asNamePhrases = buildPhraseIndex(asNamePhraseLists[:])

// phraseIndex maps a run of words (" "-joined, as in a normalised name) to
// the patterns it is. Patterns are numbered through the lists in rank
// order, so the sorted numbers a name matched are in list order: all[n] is
// pattern n, and the list of rank r holds the numbers start[r] to
// start[r+1]-1.
type phraseIndex struct {
	byText map[string]phraseEntry
	all    []string
	start  []uint16
}

// phraseEntry is what a run of words is: the numbers of the patterns it is
// (none when it only begins longer ones), and whether a longer pattern
// begins with it (then the run is worth extending by the next word).
type phraseEntry struct {
	patterns []uint16
	longer   bool
}

// buildPhraseIndex numbers the patterns of lists, in order, and indexes them
// by text; every shorter run of words a pattern begins with is marked longer.
func buildPhraseIndex(lists [][]string) phraseIndex {
	x := phraseIndex{byText: map[string]phraseEntry{}}
	for _, l := range lists {
		x.start = append(x.start, uint16(len(x.all)))
		for _, p := range l {
			e := x.byText[p]
			e.patterns = append(e.patterns, uint16(len(x.all)))
			x.byText[p] = e
			x.all = append(x.all, p)
			for i := range len(p) {
				if p[i] == ' ' { // p[:i] is a run of words p begins with
					e := x.byText[p[:i]]
					e.longer = true
					x.byText[p[:i]] = e
				}
			}
		}
	}
	x.start = append(x.start, uint16(len(x.all)))
	return x
}

// foundPhrases are the numbers of the whole-word patterns a name holds,
// sorted and without repeats.
type foundPhrases []uint16

// findPhrases returns the whole-word patterns of the normalised name norm,
// that is the patterns found in norm with a space on either side: the run
// of words that starts at each word is looked up, and extended by the next
// word while a longer pattern begins with it. buf is reused for the result.
func findPhrases(norm string, buf []uint16) foundPhrases {
	for i := 1; i < len(norm); i = strings.IndexByte(norm[i:], ' ') + i + 1 {
		for j := i; j < len(norm); {
			end := strings.IndexByte(norm[j:], ' ') + j // end of the run's last word
			e, ok := asNamePhrases.byText[norm[i:end]]
			if !ok {
				break
			}
			buf = append(buf, e.patterns...)
			if !e.longer {
				break
			}
			j = end + 1
		}
	}
	slices.Sort(buf)
	return foundPhrases(slices.Compact(buf))
}

// in returns the patterns of one list (listHostingWords, …) the name holds,
// in list order, nil if none. The slice is new: the caller may append to it.
func (f foundPhrases) in(list int) []string {
	lo, hi := asNamePhrases.start[list], asNamePhrases.start[list+1]
	i, _ := slices.BinarySearch(f, lo)
	var out []string
	for ; i < len(f) && f[i] < hi; i++ {
		out = append(out, asNamePhrases.all[f[i]])
	}
	return out
}

// idcWord returns "idc" when a word of the normalised name is IDC (Internet
// Data Center) glued to a brand or a number, as Chinese, Thai and
// Vietnamese operators write their data-center networks: "NEWIDC",
// "HDTIDC", "IDC1", "popidc1" (the bare word "idc" is one of hostingWords).
// It is a data-center word, so it wins over the telecom words beside it
// ("CHINATELECOM-FUJIAN-FUZHOU-IDC1"). Else "".
func idcWord(norm string) string {
	for _, w := range strings.Fields(norm) {
		w = strings.TrimRight(w, "0123456789")
		if strings.HasSuffix(w, "idc") {
			return "idc"
		}
	}
	return ""
}

// gluedBrand returns the one-word residential brand that begins a word of
// the normalised name, glued to a country code or "net" as handles write
// them ("MTNCI-AS", "VECTRANET-AS", "TELIANET-DENMARK"), else "".
func gluedBrand(norm string) string {
	for _, w := range strings.Fields(norm) {
		if b, ok := strings.CutSuffix(w, "net"); ok && oneWordBrands[b] {
			return b
		}
		if len(w) > 2 && isLetters(w[len(w)-2:]) && oneWordBrands[w[:len(w)-2]] {
			return w[:len(w)-2]
		}
	}
	return ""
}

// oneWordBrands are the residential brands of one word and at least three
// letters: the ones gluedBrand reads (two letters glue to too much).
var oneWordBrands = func() map[string]bool {
	m := map[string]bool{}
	for _, b := range residentialBrands {
		if len(b) >= 3 && !strings.Contains(b, " ") {
			m[b] = true
		}
	}
	return m
}()

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// telcoSuffixes end the one-word brands of many telephone companies
// (Spintel, Sudatel, Leaptel, KurpfalzTEL, Netkom): a word of at least
// four letters ending in one is a strong signal, unless it is one of
// notTelcoWords.
var telcoSuffixes = []string{"tel", "kom"}

var notTelcoWords = []string{"hotel", "motel", "hostel", "intel", "pastel", "cartel", "kartel", "martel", "chantel"}

// telcoSuffix returns "-tel" or "-kom" when a word of the normalised name
// ends in it, else "".
func telcoSuffix(norm string) string {
	for _, w := range strings.Fields(norm) {
		for _, suf := range telcoSuffixes {
			if len(w) >= len(suf)+1 && strings.HasSuffix(w, suf) && w != suf && !slices.Contains(notTelcoWords, w) {
				return "-" + suf
			}
		}
	}
	return ""
}

// overlapsAny reports whether s contains, or is contained in, a pattern
// already matched, so "reliance jio" and "jio" count as one signal.
func overlapsAny(list []string, s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	for _, v := range list {
		v = strings.ReplaceAll(v, " ", "")
		if strings.Contains(v, s) || strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// memoSize bounds a Memo; past it the memo starts afresh.
const memoSize = 1 << 16

// Memo remembers Of by name, for the names callers pass (pipelines see the
// same few thousand again and again; names from an ip2asn table are
// remembered in the table). It is safe for concurrent use; the zero value
// is an empty memo.
type Memo struct {
	m sync.Map // string → *Match
	n atomic.Int64
}

// Of is Of(asName), remembered.
func (r *Memo) Of(asName string) *Match {
	if v, ok := r.m.Load(asName); ok {
		return v.(*Match)
	}
	m := Of(asName)
	if r.n.Add(1) > memoSize {
		r.m.Clear()
		r.n.Store(0)
	}
	r.m.Store(asName, &m)
	return &m
}
