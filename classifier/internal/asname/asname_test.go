package asname

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOfHandPickedNames(t *testing.T) {
	tests := []struct {
		name string
		typ  Kind
		conf float64
	}{
		// Access networks, in many languages and naming styles (bgp.tools
		// names and iptoasn handles).
		{"Deutsche Telekom AG", Residential, 0.7},
		{"DTAG Internet service provider operations", Residential, 0.7},
		{"COMCAST-7922", Residential, 0.7},
		{"Comcast Cable Communications, LLC", Residential, 0.8},
		{"CHINANET-BACKBONE No.31,Jin-rong Street", Residential, 0.7},
		{"CHINA169-BACKBONE CHINA UNICOM China169 Backbone", Residential, 0.7},
		{"CMNET-AS-LIAONING China Mobile communications corporation", Residential, 0.8},
		{"TELEFÓNICA DE ESPAÑA", Residential, 0.7},
		{"TELEFONICA_DE_ESPANA", Residential, 0.7},
		{"MEGAMINAS TELECOMUNICAÇÕES LTDA", Residential, 0.7},
		{"Kabel Deutschland Vertrieb und Service GmbH", Residential, 0.7},
		{"Vodafone Portugal", Residential, 0.7},
		{"Fibra Óptica del Norte", Residential, 0.7},
		{"ROSTELECOM-AS PJSC Rostelecom. Technical Team", Residential, 0.7},
		{"BHARTI-MOBILITY-AS-AP Bharti Airtel Ltd. AS for GPRS Service", Residential, 0.8},
		{"RELIANCEJIO-IN Reliance Jio Infocomm Limited", Residential, 0.7},
		// Hosting words win over access words: a hoster that also sells
		// lines is a datacenter for our purpose (exclusions).
		{"HETZNER-AS hosting telecom", Hosting, 0.5},
		{"SERVERIUS-AS", Hosting, 0.5},
		{"Telecom Data Center SRL", Hosting, 0.5},
		{"Cheap VPS Fiber Ltd", Hosting, 0.5},
		{"China Telecom Wenzhou IDC Network", Hosting, 0.5},
		// Data-center words win over telecom words, also when IDC is glued
		// to a brand or a number (the real names of telecoms' IDC networks).
		{"China Telecom Shanghai IDC Network", Hosting, 0.5},
		{"VNPT IDC", Hosting, 0.5},
		{"CHINATELECOM-FUJIAN-FUZHOU-IDC1 Fuzhou", Hosting, 0.5},
		{"CHINANET-ANHUI-WUHU-NEWIDC China Telecom", Hosting, 0.5},
		{"CHINANET Yunnan province IDC1 network", Hosting, 0.5},
		{"IDC ShanXi China Mobile communications corporation", Hosting, 0.5},
		{"True Internet Data Center Company Limited", Hosting, 0.5},
		{"HDTIDC LIMITED", Hosting, 0.5},
		{"Midcontinent Communications", Residential, 0.7},
		// A backbone and hoster with a telecom-style name, and a hoster's
		// bare handle: not access networks.
		{"RTCOMM-AS", None, 0},
		{"JSC RTComm.RU", None, 0},
		{"INT-NETWORK", None, 0},
		{"SEEWEB Web hosting, colocation and cloud services", Hosting, 0.5},
		{"STAYBOX SERVICOS DE HOSPEDAGEM NA INTERNET LTDA", Hosting, 0.5},
		{"AMAZON-02", Hosting, 0.5},
		{"AKAMAI-ASN1", Hosting, 0.5},
		// Small access ISPs: an ISP hint beside a small-ISP legal form, or a
		// brand and one hint.
		{"NOVALINK INTERNET LTDA", Residential, 0.5},
		{"Brava Internet", Residential, 0.5},
		{"Litoral Net", Residential, 0.5},
		{"Example Internet Service Co", Residential, 0.5},
		// "Networks" only beside a legal form; -tel and -kom telco brands.
		{"Fasthook Networks Pvt Ltd", Residential, 0.5},
		{"Unborn Networks Private Limited", Residential, 0.5},
		{"Sage Networks", None, 0},
		{"Spintel Pty Ltd", Residential, 0.7},
		{"Thueringer Netkom GmbH", Residential, 0.7},
		{"Grand Hotel Europa", None, 0},
		{"Intel Corporation", None, 0},
		{"Star IT", Hosting, 0.5},
		// ... but not an IT company, and not a carrier or a sole trader.
		{"Example Software Internet Ltda", None, 0},
		{"Zayo Bandwidth Fiber", None, 0},
		{"John Smith trading as Fast Telecom", None, 0},
		// An access brand beside a carrier word (transit, carrier,
		// wholesale, …) names that access group's carrier arm: the brand
		// decides. The other not-access words (universities, banks) and the
		// carriers' own names still say "not access".
		{"ONENZ-TRANSIT-AS One New Zealand Group Limited", Residential, 0.7},
		{"TELEMACH Broadband Access & Carrier Services", Residential, 0.8},
		{"MNBL-TRANSIT-AS-AP MetroNet Bangladesh Limited", Residential, 0.7},
		// no brand: the carrier word still wins over generic access words
		{"Broadband Carrier Services", None, 0},
		{"Example Telecom Transit", None, 0},
		// a carrier's own name, and not-access words that are no carrier words
		{"TELIA CARRIER", None, 0},
		{"PCCW Global Transit", None, 0},
		{"PT Biznet Gio Nusantara", None, 0},
		{"Telenor Microfinance Bank Limited", None, 0},
		{"UNINET-AS-MFU Mae Fah Luang University", None, 0},
		// Names that say nothing either way.
		{"ANDREWS-AS Andrews & Arnold Ltd", None, 0},
		{"", None, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Of(tt.name)
			assert.Equal(t, tt.typ, m.Kind, "patterns %v", m.Patterns)
			assert.Equal(t, tt.conf, m.Confidence, "patterns %v", m.Patterns)
			if tt.typ != None {
				assert.NotEmpty(t, m.Patterns)
				assert.Equal(t, "as_name:"+strings.Join(m.Patterns, ","), m.Evidence())
			}
		})
	}
}

// TestOfBrandsAndHandles specifies the issue-10 additions: a one-word
// access brand glued to a country code or "net" in a handle is that brand;
// brands that handles write alone; hosting brands that carry an access
// word.
func TestOfBrandsAndHandles(t *testing.T) {
	tests := []struct {
		name    string
		typ     Kind
		pattern string
	}{
		// a brand glued to a country code or "net"
		{"MTNCI-AS", Residential, "mtn"},
		{"MTNRW-ASN", Residential, "mtn"},
		{"VECTRANET-AS Al. Zwyciestwa 253, 81-525 Gdynia, Poland", Residential, "vectra"},
		{"TELIANET-DENMARK", Residential, "telia"},
		{"A1BG_RSD", None, ""}, // brands of two letters glue to too much
		// ... not any word that begins with a brand
		{"MTNSERVICES Ltd", None, ""},
		{"ORANGEWEBSITE", None, ""},
		{"Vivobook Ltd", None, ""},
		// brands as their handles write them
		{"LG POWERCOMM", Residential, "powercomm"},
		{"TCI", Residential, "tci"},
		{"HI3G", Residential, "hi3g"},
		{"ERTH-NNOV-AS", Residential, "erth"},
		{"ASN-TIM Service Provider", Residential, "tim"},
		{"TC-PEPCOM", Residential, "pepcom"},
		{"SEEDNET Digital United Inc.", Residential, "seednet"},
		// hosting brands win over the access brand or hint beside them
		{"COGECO-PEER1", Hosting, "peer1"},
		{"Online SAS", Hosting, "online sas"},
		// a micro-enterprise's legal form alone: a small access ISP
		{"J. A. SANTOS COMERCIO E SERVICOS EIRELI", Residential, "eireli"},
		{"CARLOS A. DA SILVA - ME", Residential, "me"},
		{"Gigabyte Infosys Pvt Ltd", Residential, "pvt"},
		{"OOO Sibirskaya Kompaniya", Residential, "ooo"},
		// Brazilian family partnerships: two names joined by "e", "& Cia"
		{"Fontana e Fleck Ltda", Residential, "e"},
		{"K.H.D. SILVESTRI E CIA LTDA", Residential, "e"},
		{"Fernando B de Oliveira & Cia.", Residential, "e"},
		{"VELOX-E-AS", None, ""},                         // a handle's -E is no conjunction
		{"Souza e Lima Tecnologia Ltda", None, ""},       // an IT company
		{"Example Software Solutions Pvt Ltd", None, ""}, // an IT company
		{"NUVEM HOSPEDAGEM LTDA - ME", Hosting, "hospedagem"},
		// hosters whose names carry no hosting word
		{"VOLCANO-ENGINE Beijing Volcano Engine Technology Co., Ltd.", Hosting, "volcano engine"},
		{"CLARANET-AS ClaraNET LTD", Hosting, "claranet"},
		{"YANDEX LLC", Hosting, "yandex"},
		{"PEG TECH INC", Hosting, "peg tech"},
		{"E2E-NETWORKS-IN 282, Sector 19", Hosting, "e2e networks"},
		{"T-Systems International GmbH", Hosting, "t systems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Of(tt.name)
			assert.Equal(t, tt.typ, m.Kind, "patterns %v", m.Patterns)
			if tt.pattern != "" {
				assert.Contains(t, m.Patterns, tt.pattern)
			}
		})
	}
}

// benchNames are AS names of the shapes Of sees (bgp.tools names and
// ip2asn handles): access brands, telecom and hosting words, Brazilian LTDA
// names, legal forms, bare handles and names that say nothing.
var benchNames = []string{
	"Deutsche Telekom AG",
	"COMCAST-7922",
	"Comcast Cable Communications, LLC",
	"CHINANET-BACKBONE No.31,Jin-rong Street",
	"CMNET-AS-LIAONING China Mobile communications corporation",
	"TELEFÓNICA DE ESPAÑA",
	"MEGAMINAS TELECOMUNICAÇÕES LTDA",
	"Kabel Deutschland Vertrieb und Service GmbH",
	"BHARTI-MOBILITY-AS-AP Bharti Airtel Ltd. AS for GPRS Service",
	"RELIANCEJIO-IN Reliance Jio Infocomm Limited",
	"ROSTELECOM-AS PJSC Rostelecom. Technical Team",
	"HETZNER-AS",
	"AMAZON-02",
	"OVH SAS",
	"DIGITALOCEAN-ASN",
	"SEEWEB Web hosting, colocation and cloud services",
	"STAYBOX SERVICOS DE HOSPEDAGEM NA INTERNET LTDA",
	"China Telecom Wenzhou IDC Network",
	"NOVALINK INTERNET LTDA",
	"R. F. DA SILVA PROVEDOR DE INTERNET ME",
	"J. A. SANTOS COMERCIO E SERVICOS EIRELI",
	"Brava Internet",
	"Fasthook Networks Pvt Ltd",
	"Sage Networks",
	"Spintel Pty Ltd",
	"Thueringer Netkom GmbH",
	"Grand Hotel Europa",
	"Example Software Internet Ltda",
	"Zayo Bandwidth Fiber",
	"John Smith trading as Fast Telecom",
	"ANDREWS-AS Andrews & Arnold Ltd",
	"UNIVERSITY-OF-EXAMPLE",
	"CMCS",
	"ATT-INTERNET4",
	"VODAFONE-ES",
	"PT Telekomunikasi Indonesia",
	"LLC Example Systems",
	"ASN-EXAMPLE",
	"Stadtwerke Musterstadt GmbH",
	"Municipal Light & Power",
}

// BenchmarkOf measures the heuristic per name, over benchNames (the engine
// runs it on every name of the ip2asn tables at each index build).
func BenchmarkOf(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = Of(benchNames[i%len(benchNames)])
	}
}

func TestMemoRemembersAndAnswersAsOf(t *testing.T) {
	var m Memo
	for _, name := range benchNames {
		got := m.Of(name)
		assert.Equal(t, Of(name), *got, name)
		assert.Same(t, got, m.Of(name), "the second call is the remembered answer")
	}
}
