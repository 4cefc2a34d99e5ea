package cache

import sqlite3 "github.com/mattn/go-sqlite3"

// SQLite builds: "system" when built with -tags libsqlite3 (build.sh does so
// when the system's SQLite headers are installed), "embedded" otherwise.
const (
	SQLiteSystem   = "system"
	SQLiteEmbedded = "embedded"
)

// SQLiteLibrary says which SQLite the SQL tier runs on.
//
// It matters when the host process opens the same SQLite file itself (a
// SQLAlchemy engine handed to the classifier): SQLite keeps track of a
// file's POSIX locks per copy of the library, so only when the engine and
// the host share one copy — the system libsqlite3 that Python's sqlite3
// module also links — do they see each other's connections. With two
// copies, the host closing its connection deletes the WAL under the engine,
// and the engine's writes stay invisible to other processes until it closes
// (docs/cache.md).
type SQLiteLibrary struct {
	// Linked is SQLiteSystem or SQLiteEmbedded.
	Linked string `json:"linked"`
	// Version and SourceID are the library's own sqlite3_libversion() and
	// sqlite3_sourceid() (SQL: sqlite_version(), sqlite_source_id()).
	Version  string `json:"version"`
	SourceID string `json:"source_id"`
}

// SQLite describes the SQLite library this build uses.
func SQLite() SQLiteLibrary {
	version, _, sourceID := sqlite3.Version()
	return SQLiteLibrary{Linked: sqliteLinked, Version: version, SourceID: sourceID}
}
