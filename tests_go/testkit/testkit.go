// Package testkit is what the Go test suites share, beside the code and in
// tests_go alike: where the repository and the real data are. It is imported
// by tests only; the library never links it.
package testkit

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root is the repository's root directory (found from this file's place,
// so it is right from any package's test binary).
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("testkit: no caller information")
	}
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// SharedData returns the real snapshots of every source: $IPCLASSIFIER_SHARED_DATA,
// else ../shared/data beside the repository. It skips the test when the
// folder is absent.
func SharedData(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("IPCLASSIFIER_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join(Root(), "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.md")); err != nil {
		t.Skipf("real data not found at %s (set IPCLASSIFIER_SHARED_DATA): %v", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("real data: %v", err)
	}
	return abs
}
