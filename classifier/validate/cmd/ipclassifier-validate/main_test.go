package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/validate"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "spec.json")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

// A labelled CSV measures the engine the configuration describes, here
// refreshed from the fixture server first; the outcome is JSON on stdout.
func TestMeasuresTheConfiguredEngine(t *testing.T) {
	cfg := fixture.Config(t, fixture.Server(t).URL)
	spec := writeJSON(t, map[string]any{"truth": []string{testkit.Testdata("validate/labelled.csv")}})
	code, stdout, stderr := runCmd(t, "", "-config", writeJSON(t, cfg), "-refresh", spec)
	require.Equal(t, 0, code, stderr)
	var out validate.Outcome
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	require.NotNil(t, out.Report)
	assert.Positive(t, out.Report.Total)
	assert.Contains(t, out.Markdown, "| tor |")
	entries, err := os.ReadDir(cfg.DataDir)
	require.NoError(t, err)
	assert.NotEmpty(t, entries, "the engine kept its snapshots in the configured data directory")
}

// AS-name runs score names alone: no engine is opened (the configuration
// is not even read) and -refresh is ignored with a warning; the spec may
// come from standard input.
func TestASNamesAloneOpenNoEngine(t *testing.T) {
	spec, err := json.Marshal(map[string]any{"asn_names": []validate.ASNamesSpec{{
		Names:    testkit.Testdata("validate/asns.csv"),
		Positive: []string{testkit.Testdata("validate/tags-res.csv")},
		Negative: []string{testkit.Testdata("validate/tags-host.csv")},
	}}})
	require.NoError(t, err)
	code, stdout, stderr := runCmd(t, string(spec), "-config", "/nonexistent/config.json", "-refresh", "-")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "-refresh ignored")
	var out validate.Outcome
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	require.Len(t, out.ASNames, 1)
	assert.Positive(t, out.ASNames[0].Residential.N)
}

// Usage and spec errors exit 2 with the reason on stderr, and print no
// outcome.
func TestUsageAndSpecErrorsExitTwo(t *testing.T) {
	cfg := writeJSON(t, map[string]any{"data_dir": t.TempDir()})
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"no spec", nil, "", "want one spec file"},
		{"unreadable spec", []string{"/nonexistent/spec.json"}, "", "spec:"},
		{"unknown key", []string{"-"}, `{"truht": []}`, "unknown field"},
		{"unknown flag", []string{"-nope", "-"}, "{}", "flag provided but not defined"},
		{"truth file missing", []string{"-config", cfg, "-"}, `{"truth": ["/nonexistent/labelled.csv"]}`, "labelled.csv"},
		{"bad config", []string{"-config", "/nonexistent/c.json", "-"}, `{"truth": ["x.csv"]}`, "config:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tc.stdin, tc.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tc.want)
		})
	}
}
