//go:build libsqlite3

package cache

// sqliteLinked: go-sqlite3 links the system libsqlite3 (-tags libsqlite3).
const sqliteLinked = SQLiteSystem
