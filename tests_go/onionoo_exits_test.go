package tests_go

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier"
	"github.com/ipclassifier/ipclassifier/classifier/validate"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

func TestOnionooIsPartOfTheTorGroupAndOverridable(t *testing.T) {
	t.Setenv("ONIONOO_URL", "http://127.0.0.1:1/details")
	assert.Equal(t, "http://127.0.0.1:1/details", classifier.Config{}.WithDefaults().OnionooURL)
	t.Setenv("ONIONOO_URL", "")
	assert.Equal(t, "https://onionoo.torproject.org/details?search=flag:exit&fields=or_addresses,exit_addresses", classifier.Config{}.WithDefaults().OnionooURL)
	assert.Contains(t, "https://onionoo.torproject.org/details?search=flag:exit&fields=or_addresses,exit_addresses", "search=flag:exit")

	e := fixture.Loaded(t)
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
	r := fixture.Classify(t, e, "104.244.73.43")
	assert.Equal(t, "tor", r.Snapshot, "an address on both lists is answered by the bulk list")
	r = fixture.Classify(t, e, "2605:6400:30:f174::42")
	assert.Equal(t, classifier.TypeTor, r.Type)
	assert.Equal(t, "tor/onionoo", r.Snapshot)
	assert.Equal(t, classifier.SourceTor, r.Source)
}

// TestOnionooRealExitRelaysAreAllTor builds an Onionoo document from the
// real exit relay list (IPv4 and IPv6 OR addresses) and checks that every
// address classifies as tor.
func TestOnionooRealExitRelaysAreAllTor(t *testing.T) {
	dir := testkit.SharedData(t)
	gen := t.TempDir()
	exitsCSV := filepath.Join(dir, "tor", "alireza-rezaee-tor-nodes", "latest.exits.csv")
	require.NoError(t, validate.WriteOnionooFromExits(exitsCSV, filepath.Join(gen, "details.json")))
	exits, err := validate.ReadExitsCSV(exitsCSV)
	require.NoError(t, err)
	srv := httptest.NewServer(http.FileServer(http.Dir(gen)))
	t.Cleanup(srv.Close)
	cfg := fixture.RealDataConfig(t)
	cfg.OnionooURL = srv.URL + "/details.json"
	e := fixture.Open(t, cfg)
	rep, err := e.Refresh(context.Background(), classifier.GroupTor, false)
	require.NoError(t, err)
	require.Zero(t, rep.Failed(), "%+v", rep)
	var v4, v6, fromOnionoo int
	for _, x := range exits {
		r := fixture.Classify(t, e, x.Addr.String())
		require.Equal(t, classifier.TypeTor, r.Type, x.Addr)
		if x.Addr.Is6() {
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
