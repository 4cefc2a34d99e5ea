package tests_go

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
)

// onionooExit is one row of the real exit relay list
// (tor/alireza-rezaee-tor-nodes/latest.exits.csv).
type onionooExit struct{ fingerprint, addr, port string }

// onionooReadExitsCSV reads the real exit relay list: header
// "fingerprint, ipaddr, port", fields separated by comma and space, IPv6
// addresses without brackets.
func onionooReadExitsCSV(t testing.TB, path string) []onionooExit {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Equal(t, "fingerprint, ipaddr, port", strings.TrimSpace(lines[0]))
	var out []onionooExit
	for _, l := range lines[1:] {
		f := strings.Split(strings.TrimSpace(l), ",")
		require.Len(t, f, 3, l)
		out = append(out, onionooExit{strings.TrimSpace(f[0]), strings.TrimSpace(f[1]), strings.TrimSpace(f[2])})
	}
	return out
}

// onionooWriteFromExitsCSV turns the real exit relay list into an Onionoo
// details document (one relay per fingerprint, its addresses as
// or_addresses "1.2.3.4:443" / "[2001:db8::1]:443") at dst, and returns the
// exits it holds.
func onionooWriteFromExitsCSV(t testing.TB, csvPath, dst string) []onionooExit {
	t.Helper()
	exits := onionooReadExitsCSV(t, csvPath)
	type relay struct {
		OR   []string `json:"or_addresses"`
		Exit []string `json:"exit_addresses,omitempty"`
	}
	byFP := map[string]int{}
	var relays []relay
	for _, x := range exits {
		i, ok := byFP[x.fingerprint]
		if !ok {
			i = len(relays)
			byFP[x.fingerprint] = i
			relays = append(relays, relay{})
		}
		a := x.addr + ":" + x.port
		if strings.Contains(x.addr, ":") {
			a = "[" + x.addr + "]:" + x.port
		}
		relays[i].OR = append(relays[i].OR, a)
	}
	doc := map[string]any{
		"version": "8.0", "relays_published": "2026-08-22 16:00:00", "relays": relays,
		"bridges_published": "2026-08-22 16:00:00", "bridges": []any{},
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dst, b, 0o644))
	return exits
}

func TestOnionooParsesORAndExitAddresses(t *testing.T) {
	want := []entryRow{
		{"185.220.101.1/32", "", "", ""}, {"2a0b:f4c2:2::1/128", "", "", ""},
		{"198.98.51.189/32", "", "", ""}, {"198.98.60.20/32", "", "", ""},
		{"104.244.73.43/32", "", "", ""}, {"2605:6400:30:f174::42/128", "", "", ""},
		{"2a02:8109:fa7f::9/128", "", "", ""}, {"2a02:8109:fa7f::10/128", "", "", ""},
	}
	plain := readFixture(t, "onionoo/details.json")
	for name, data := range map[string][]byte{"plain": plain, "gzip": asnGzip(t, plain)} {
		t.Run(name, func(t *testing.T) {
			p, err := classifier.ParseOnionoo(data)
			require.NoError(t, err)
			assert.Equal(t, want, rows(p))
			assert.Equal(t, 11, p.Records, "every address listed, the repeated exit address too")
			assert.Equal(t, 1, p.Malformed, "not-an-address:1")
			assert.Equal(t, 1, p.Bogons, "2001:db8::1 is documentation space")
		})
	}
}

func TestOnionooRejectsOtherDocuments(t *testing.T) {
	for _, body := range []string{`{"version":"8.0"}`, `[1,2]`, `<html></html>`, ``} {
		_, err := classifier.ParseOnionoo([]byte(body))
		assert.Error(t, err, body)
	}
	p, err := classifier.ParseOnionoo([]byte(`{"relays":[]}`))
	require.NoError(t, err, "an empty relay list parses; the validation gate refuses it")
	assert.Zero(t, p.Len())
}

func TestOnionooIsPartOfTheTorGroupAndOverridable(t *testing.T) {
	t.Setenv("ONIONOO_URL", "http://127.0.0.1:1/details")
	assert.Equal(t, "http://127.0.0.1:1/details", classifier.Config{}.WithDefaults().OnionooURL)
	t.Setenv("ONIONOO_URL", "")
	assert.Equal(t, classifier.DefaultOnionooURL, classifier.Config{}.WithDefaults().OnionooURL)
	assert.Contains(t, classifier.DefaultOnionooURL, "search=flag:exit")

	e := loadedFixtureEngine(t)
	var tor []classifier.SourceStats
	for _, s := range e.Stats().Sources {
		if s.Group == classifier.GroupTor {
			tor = append(tor, s)
		}
	}
	require.Len(t, tor, 2)
	assert.Equal(t, "tor", tor[0].Name)
	assert.Equal(t, "tor/onionoo", tor[1].Name)
	assert.Equal(t, 8, tor[1].Prefixes)
	r := classify(t, e, "104.244.73.43")
	assert.Equal(t, "tor", r.Snapshot, "an address on both lists is answered by the bulk list")
	r = classify(t, e, "2605:6400:30:f174::42")
	assert.Equal(t, classifier.TypeTor, r.Type)
	assert.Equal(t, "tor/onionoo", r.Snapshot)
	assert.Equal(t, classifier.SourceTor, r.Source)
}

// TestOnionooRealExitRelaysAreAllTor builds an Onionoo document from the
// real exit relay list (IPv4 and IPv6 OR addresses) and checks that every
// address classifies as tor.
func TestOnionooRealExitRelaysAreAllTor(t *testing.T) {
	dir := sharedData(t)
	gen := t.TempDir()
	exits := onionooWriteFromExitsCSV(t, filepath.Join(dir, "tor", "alireza-rezaee-tor-nodes", "latest.exits.csv"), filepath.Join(gen, "details.json"))
	srv := httptest.NewServer(http.FileServer(http.Dir(gen)))
	t.Cleanup(srv.Close)
	cfg := realDataConfig(t)
	cfg.OnionooURL = srv.URL + "/details.json"
	e := openEngine(t, cfg)
	rep, err := e.Refresh(context.Background(), classifier.GroupTor, false)
	require.NoError(t, err)
	require.Zero(t, rep.Failed(), "%+v", rep)
	var v4, v6, fromOnionoo int
	for _, x := range exits {
		r := classify(t, e, x.addr)
		require.Equal(t, classifier.TypeTor, r.Type, x.addr)
		if strings.Contains(x.addr, ":") {
			v6++
		} else {
			v4++
		}
		if r.Snapshot == "tor/onionoo" {
			fromOnionoo++
		}
	}
	t.Logf("real exit relay addresses: %d IPv4 + %d IPv6, all tor; %d answered by Onionoo alone (not on the bulk list)", v4, v6, fromOnionoo)
	assert.Greater(t, v6, 500, "the real list has IPv6 exits")
	assert.Equal(t, 5933, v4+v6)
}
