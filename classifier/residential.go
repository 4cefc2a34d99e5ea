package classifier

import (
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
)

// The AS-name heuristic labels an address residential from the name of the
// network that announces it. A name is folded to lower-case ASCII words;
// exclusions (hosting words) veto it; strong patterns (access-network words
// and ISP brands, in several languages) and weak patterns (generic ISP words)
// set the confidence: two or more strong → 0.8, one strong → 0.7, weak only
// → 0.5.
const (
	confResidentialStrong2 = 0.8
	confResidentialStrong1 = 0.7
	confResidentialWeak    = 0.5
)

// residentialStems match anywhere inside a word, so compounds count too
// (Kabelnetz, Telekomunikasi, Chinatelecom, Mobilfunk).
var residentialStems = []string{
	"telecom", "telekom", "telefonica", "telefonia", "telecel", "telco", "broadband", "cable", "kabel",
	"dsl", "fiber", "fibre", "fibra", "ftth", "wireless", "cellular", "mobile", "mobil", "movil", "movel",
	"telnet", "cablevision", "chinanet", "unicom", "cmnet",
}

// residentialBrands are whole words or phrases (matched on word boundaries):
// large access ISPs and mobile carriers whose names carry none of the stems.
var residentialBrands = []string{
	// North America
	"comcast", "verizon", "at&t", "att", "charter", "spectrum", "cox communications", "centurylink",
	"frontier communications", "windstream", "mediacom", "suddenlink", "optimum", "altice", "t mobile",
	"sprint", "rogers", "bell canada", "shaw communications", "telus", "videotron", "cogeco", "sasktel",
	// Europe
	"deutsche telekom", "vodafone", "orange", "free sas", "sfr", "bouygues", "proximus", "telenet", "kpn",
	"ziggo", "swisscom", "sunrise", "a1 telekom", "telia", "telenor", "elisa", "tele2", "tdc", "bt",
	"british telecommunications", "sky uk", "virgin media", "talktalk", "eir", "tim", "telecom italia",
	"fastweb", "wind tre", "iliad", "netia", "play", "polkomtel", "rostelecom", "megafon", "mts", "beeline",
	"vimpelcom", "er telecom", "kyivstar", "ukrtelecom", "turk telekom", "ttnet", "turkcell", "superonline",
	"cosmote", "ote", "nos comunicacoes", "meo", "movistar", "euskaltel", "masmovil", "digi",
	// Asia-Pacific
	"china telecom", "china unicom", "china mobile", "chinanet", "cmnet", "airtel", "bharti", "reliance jio",
	"jio", "bsnl", "mtnl", "act fibernet", "hathway", "telstra", "optus", "tpg", "iinet", "spark new zealand",
	"kddi", "softbank", "ntt docomo", "ocn", "so net", "biglobe", "chunghwa", "hinet", "kt corporation",
	"sk broadband", "lg uplus", "pldt", "globe telecom", "viettel", "vnpt", "fpt telecom", "true internet",
	"triple t", "indosat", "telkomsel", "telkom indonesia", "tm net", "maxis", "singtel", "starhub",
	"pccw", "hkt", "hong kong broadband", "ptcl", "grameenphone", "banglalink",
	// Latin America, Middle East, Africa
	"claro", "vivo", "telmex", "totalplay", "izzi", "megacable", "entel", "tigo", "personal", "cantv",
	"etisalat", "stc", "mobily", "zain", "ooredoo", "mtn", "safaricom", "vodacom", "telkom sa", "maroc telecom",
	"tunisie telecom", "algerie telecom", "te data", "telecom egypt", "iam",
}

// residentialWeak are generic words that say "an ISP" without saying
// "an access network".
var residentialWeak = []string{"isp", "internet service", "internet provider", "residential", "consumer", "provedor", "proveedor", "home"}

// hostingStems veto a residential label wherever they appear.
var hostingStems = []string{"hosting", "datacenter", "datacentre", "data center", "data centre", "cloud", "server", "colocation", "webhost"}

// hostingWords veto a residential label as whole words.
var hostingWords = []string{"host", "vps", "dedicated", "colo", "cdn", "hosted"}

// asciiFold maps common Latin accented letters to ASCII.
var asciiFold = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "ç", "c", "é", "e", "è", "e", "ê", "e", "ë", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i", "ñ", "n", "ó", "o", "ò", "o", "ô", "o", "õ", "o", "ö", "o", "ø", "o",
	"ú", "u", "ù", "u", "û", "u", "ü", "u", "ß", "ss", "ý", "y",
)

// residentialMatch is what the heuristic found in one name.
type residentialMatch struct {
	strong     []string
	weak       []string
	excludedBy string
	confidence float64
}

// evidence is the Result.Matched text: the patterns that fired.
func (m residentialMatch) evidence() string {
	return "as_name:" + strings.Join(append(append([]string{}, m.strong...), m.weak...), ",")
}

// normaliseASName folds a name to " word word " (lower-case ASCII letters,
// digits and '&', single spaces, padded) so phrases match on word boundaries.
func normaliseASName(name string) string {
	name = asciiFold.Replace(strings.ToLower(name))
	var b strings.Builder
	b.Grow(len(name) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range name {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '&') {
			b.WriteRune(r)
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

// matchResidential scores an AS name; the zero confidence means "no".
func matchResidential(asName string) residentialMatch {
	var m residentialMatch
	if asName == "" {
		return m
	}
	norm := normaliseASName(asName)
	for _, s := range hostingStems {
		if strings.Contains(norm, s) {
			m.excludedBy = s
			return m
		}
	}
	for _, w := range hostingWords {
		if strings.Contains(norm, " "+w+" ") {
			m.excludedBy = w
			return m
		}
	}
	for _, s := range residentialStems {
		if strings.Contains(norm, s) {
			m.strong = append(m.strong, s)
		}
	}
	for _, b := range residentialBrands {
		if strings.Contains(norm, " "+b+" ") && !overlapsAny(m.strong, b) {
			m.strong = append(m.strong, b)
		}
	}
	for _, w := range residentialWeak {
		if strings.Contains(norm, " "+w+" ") {
			m.weak = append(m.weak, w)
		}
	}
	switch {
	case len(m.strong) >= 2:
		m.confidence = confResidentialStrong2
	case len(m.strong) == 1:
		m.confidence = confResidentialStrong1
	case len(m.weak) > 0:
		m.confidence = confResidentialWeak
	}
	return m
}

// overlapsAny reports whether s contains, or is contained in, a pattern
// already matched, so "reliance jio" and "jio" count as one signal.
func overlapsAny(list []string, s string) bool {
	for _, v := range list {
		if strings.Contains(v, s) || strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// residentialMemoSize bounds the memo; past it the memo starts afresh.
const residentialMemoSize = 1 << 16

// residentialMemo caches matchResidential by AS name. It is safe for
// concurrent use.
type residentialMemo struct {
	m sync.Map // string → residentialMatch
	n atomic.Int64
}

func newResidentialMemo() *residentialMemo { return &residentialMemo{} }

func (r *residentialMemo) match(asName string) residentialMatch {
	if asName == "" {
		return residentialMatch{}
	}
	if v, ok := r.m.Load(asName); ok {
		return v.(residentialMatch)
	}
	m := matchResidential(asName)
	if r.n.Add(1) > residentialMemoSize {
		r.m.Clear()
		r.n.Store(0)
	}
	r.m.Store(asName, m)
	return m
}
