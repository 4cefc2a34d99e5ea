//go:build !libsqlite3

package cache

// sqliteLinked: go-sqlite3 compiles its own copy of SQLite into the library.
const sqliteLinked = SQLiteEmbedded
