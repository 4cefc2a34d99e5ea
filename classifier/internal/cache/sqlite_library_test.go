package cache_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	_ "github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/classifier/internal/cache"
	"github.com/ipclassifier/ipclassifier/tests_go/testkit/fixture"
)

// The engine reports the SQLite library its SQL tier executes on: the one
// that answers sqlite_version() and sqlite_source_id(), linked the way this
// test binary was built (go test -tags libsqlite3, as `make test` does when
// build.sh finds the system SQLite, or its own copy).
func TestSQLiteLibraryIsTheOneThatRunsTheQueries(t *testing.T) {
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "probe.sqlite"))
	require.NoError(t, err)
	defer db.Close()
	var version, sourceID string
	require.NoError(t, db.QueryRow("SELECT sqlite_version(), sqlite_source_id()").Scan(&version, &sourceID))

	lib := cache.SQLite()
	assert.Equal(t, version, lib.Version)
	assert.Equal(t, sourceID, lib.SourceID)
	assert.Contains(t, []string{cache.SQLiteSystem, cache.SQLiteEmbedded}, lib.Linked)
	t.Logf("SQLite %s (%s)", lib.Version, lib.Linked)

	e := fixture.Open(t, fixture.Config(t, "http://127.0.0.1:1"))
	assert.Equal(t, lib, e.Stats().SQLite)
}
