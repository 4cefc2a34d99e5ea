package testkit

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// Testdata is the path of a fixture under tests_go/testdata: small files
// written by hand in the exact formats of the real sources.
func Testdata(rel string) string {
	return filepath.Join(Root(), "tests_go", "testdata", rel)
}

// WriteTemp writes content to a new file in a test directory and returns
// its path.
func WriteTemp(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "list")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// Gzip compresses b as a download would arrive gzip-encoded.
func Gzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// ReadTestdata reads a fixture under tests_go/testdata (see Testdata).
func ReadTestdata(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(Testdata(rel))
	require.NoError(t, err)
	return b
}
