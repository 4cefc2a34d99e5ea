package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers driver "pgx"
	_ "github.com/mattn/go-sqlite3"    // registers driver "sqlite3"
)

// sqliteTime is SQLAlchemy's SQLite DATETIME text form; fixed width, so text
// comparison is time order.
const sqliteTime = "2006-01-02 15:04:05.000000"

// sqlOpenProbe bounds the connection attempt made by Open.
const sqlOpenProbe = time.Second

// sqliteDefaults are added to a SQLite DSN unless it sets them (aliases in
// the same group count as set).
var sqliteDefaults = []struct {
	names []string
	value string
}{
	{[]string{"_journal_mode", "_journal"}, "WAL"},
	{[]string{"_busy_timeout", "_timeout"}, "5000"},
	{[]string{"_synchronous", "_sync"}, "NORMAL"},
	{[]string{"_txlock"}, "immediate"},
}

// sqlTier is L2: the enrichment_cache table on SQLite or PostgreSQL.
type sqlTier struct {
	tier
	db      *sql.DB
	pg      bool
	ttl     time.Duration
	timeout time.Duration // per operation, PostgreSQL only

	initMu sync.Mutex
	st     atomic.Pointer[sqlStmts] // nil until the schema is ready
	wmu    sync.Mutex               // SQLite: one writer at a time in-process
}

// sqlStmts are the prepared statements, ready once the schema exists.
type sqlStmts struct {
	get, getMany, upsert, upsertMany *sql.Stmt // upsertMany: PostgreSQL only
	// pgValue is the PostgreSQL type of cache_value: "jsonb", "json" or
	// "text" (varchar included); "" on SQLite.
	pgValue string
}

// parseDatabaseURL maps a DatabaseURL to a database/sql driver and DSN.
// Errors never echo the URL (it may hold a password).
func parseDatabaseURL(raw string) (driver, dsn, path string, err error) {
	scheme, rest, isURL := strings.Cut(raw, "://")
	if !isURL {
		scheme, rest = "sqlite", raw
	}
	base, _, _ := strings.Cut(strings.ToLower(scheme), "+") // postgresql+psycopg2 → postgresql
	switch base {
	case "sqlite", "sqlite3":
		path, query, _ := strings.Cut(rest, "?")
		if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
			return "", "", "", errors.New("cache: L2 sqlite needs a file path (in-memory and file: URIs are not supported)")
		}
		path = filepath.Clean(path)
		q, err := url.ParseQuery(query)
		if err != nil {
			return "", "", "", fmt.Errorf("cache: L2 sqlite URL query: %w", err)
		}
		for _, d := range sqliteDefaults {
			set := false
			for _, n := range d.names {
				set = set || q.Has(n)
			}
			if !set {
				q.Set(d.names[0], d.value)
			}
		}
		return "sqlite3", path + "?" + q.Encode(), path, nil
	case "postgresql", "postgres":
		u, err := url.Parse("postgresql://" + rest)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return "", "", "", fmt.Errorf("cache: L2 postgres URL is malformed: %w", err)
		}
		q := u.Query()
		if !q.Has("connect_timeout") {
			q.Set("connect_timeout", "2")
			u.RawQuery = q.Encode()
		}
		return "pgx", u.String(), "", nil
	default:
		return "", "", "", fmt.Errorf("cache: L2 database scheme %q is not supported (sqlite or postgresql)", scheme)
	}
}

// openSQL opens the pool and tries once to create the schema; a database
// that cannot be reached only opens the breakers.
func openSQL(raw string, ttl, timeout time.Duration, log *slog.Logger, retry time.Duration) (*sqlTier, error) {
	driver, dsn, path, err := parseDatabaseURL(raw)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("cache: L2 open %s: %w", driver, err)
	}
	t := &sqlTier{db: db, pg: driver == "pgx", ttl: ttl, timeout: timeout}
	if t.pg {
		t.init(TierL2, "postgres", log, retry)
		db.SetMaxOpenConns(10)
		db.SetMaxIdleConns(5)
		db.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		t.init(TierL2, "sqlite", log, retry)
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			log.Warn("cache L2 sqlite directory cannot be created", "err", err)
		}
	}
	t.probe(sqlOpenProbe, func(ctx context.Context) error { _, err := t.stmts(ctx); return err })
	return t, nil
}

// close releases the statements and the pool; a nil tier is fine.
func (t *sqlTier) close() error {
	if t == nil {
		return nil
	}
	if st := t.st.Load(); st != nil {
		for _, s := range []*sql.Stmt{st.get, st.getMany, st.upsert, st.upsertMany} {
			if s != nil {
				s.Close()
			}
		}
	}
	return t.db.Close()
}

// noCancel is the CancelFunc of a context we did not derive.
func noCancel() {}

// opCtx bounds one PostgreSQL operation (SQLite is bounded by its busy
// timeout; a cancellable context would cost go-sqlite3 a goroutine per call).
func (t *sqlTier) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if !t.pg {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, t.timeout)
}

// ts converts a time to the driver's parameter form.
func (t *sqlTier) ts(tm time.Time) any {
	if t.pg {
		return tm.UTC()
	}
	return tm.UTC().Format(sqliteTime)
}

// stmts returns the prepared statements, creating the schema on first use.
func (t *sqlTier) stmts(ctx context.Context) (*sqlStmts, error) {
	if st := t.st.Load(); st != nil {
		return st, nil
	}
	t.initMu.Lock()
	defer t.initMu.Unlock()
	if st := t.st.Load(); st != nil {
		return st, nil
	}
	st, err := t.prepare(ctx)
	if err != nil {
		return nil, err
	}
	t.st.Store(st)
	return st, nil
}

// Schema. The column shapes match the upstream SQLAlchemy model
// (String(64), String(256), JSON, DateTime(timezone=True)).
const (
	sqliteCreate = `CREATE TABLE IF NOT EXISTS enrichment_cache (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	service VARCHAR(64) NOT NULL,
	cache_key VARCHAR(256) NOT NULL,
	cache_value JSON NOT NULL,
	created_at DATETIME NOT NULL DEFAULT (CURRENT_TIMESTAMP),
	expires_at DATETIME NOT NULL,
	CONSTRAINT uq_enrichment_cache_service_key UNIQUE (service, cache_key)
)`
	pgCreate = `CREATE TABLE IF NOT EXISTS enrichment_cache (
	id SERIAL PRIMARY KEY,
	service VARCHAR(64) NOT NULL,
	cache_key VARCHAR(256) NOT NULL,
	cache_value JSONB NOT NULL,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	expires_at TIMESTAMPTZ NOT NULL,
	CONSTRAINT uq_enrichment_cache_service_key UNIQUE (service, cache_key)
)`
	createExpiresIndex = `CREATE INDEX IF NOT EXISTS ix_enrichment_cache_expires_at ON enrichment_cache (expires_at)`
	createUniqueIndex  = `CREATE UNIQUE INDEX IF NOT EXISTS ux_enrichment_cache_service_key ON enrichment_cache (service, cache_key)`

	// sqliteUniqueIndexes lists the full unique indexes of the table.
	sqliteUniqueIndexes = `SELECT name FROM pragma_index_list('enrichment_cache') WHERE "unique" = 1 AND partial = 0`
	sqliteIndexColumns  = `SELECT name FROM pragma_index_info(?)`
	pgHasUniqueIndex    = `SELECT EXISTS (
	SELECT 1 FROM pg_index i
	WHERE i.indrelid = to_regclass('enrichment_cache') AND i.indisunique AND i.indpred IS NULL
	  AND i.indnkeyatts = 2 AND i.indnatts = 2
	  AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text) FROM pg_attribute a
	       WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)) = ARRAY['cache_key', 'service'])`
	pgColumnTypes = `SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
	WHERE a.attrelid = to_regclass('enrichment_cache') AND a.attname IN ('cache_value', 'expires_at') AND NOT a.attisdropped`

	upsertSet = ` ON CONFLICT (service, cache_key) DO UPDATE SET cache_value = excluded.cache_value, created_at = excluded.created_at, expires_at = excluded.expires_at`

	sqliteGet     = `SELECT cache_value FROM enrichment_cache WHERE service = ? AND cache_key = ? AND expires_at > ?`
	sqliteGetMany = `SELECT cache_key, cache_value FROM enrichment_cache WHERE service = ? AND expires_at > ? AND cache_key IN (SELECT value FROM json_each(?))`
	sqliteUpsert  = `INSERT INTO enrichment_cache (service, cache_key, cache_value, created_at, expires_at) VALUES (?, ?, ?, ?, ?)` + upsertSet
	sqliteDelete  = `DELETE FROM enrichment_cache WHERE service = ?`

	pgGet     = `SELECT cache_value FROM enrichment_cache WHERE service = $1 AND cache_key = $2 AND expires_at > $3`
	pgGetMany = `SELECT cache_key, cache_value FROM enrichment_cache WHERE service = $1 AND expires_at > $2 AND cache_key = ANY($3)`
	pgUpsert  = `INSERT INTO enrichment_cache (service, cache_key, cache_value, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)` + upsertSet
	// pgUpsertMany is completed with the column types found in the catalog.
	pgUpsertMany = `INSERT INTO enrichment_cache (service, cache_key, cache_value, created_at, expires_at)
SELECT $1::varchar, t.k, t.v::%[1]s, $2::%[2]s, t.e FROM unnest($3::text[], $4::text[], $5::%[2]s[]) AS t(k, v, e)` + upsertSet
	pgDelete = `DELETE FROM enrichment_cache WHERE service = $1`

	// Conditions added to sqliteDelete / pgDelete by ClearWhere: the value
	// is a JSON object whose member (SQLite: the path "$.field"; PostgreSQL:
	// $2) is the JSON string (the last parameter). SQLite's JSON functions
	// fail on text that is not JSON, hence json_valid first, in a CASE
	// (the only evaluation order SQLite promises); such a row is kept.
	sqliteWhereMember  = ` AND CASE WHEN json_valid(cache_value) THEN json_type(cache_value, ?) = 'text' AND json_extract(cache_value, ?) = ? END`
	pgWhereMemberJSONB = ` AND jsonb_typeof(cache_value -> $2::text) = 'string' AND cache_value ->> $2::text = $3::text`
	pgWhereMemberJSON  = ` AND json_typeof(cache_value -> $2::text) = 'string' AND cache_value ->> $2::text = $3::text`
	// A text column must be cast, which fails the statement on a row that
	// is not JSON: the CASE keeps other services' rows out of it.
	pgWhereMemberText = ` AND CASE WHEN service = $1 THEN jsonb_typeof(cache_value::jsonb -> $2::text) = 'string' AND cache_value::jsonb ->> $2::text = $3::text END`
)

// prepare creates the table and indexes when missing and prepares the
// statements. Its errors do not name the tier: the log line of a failure
// does (its tier and backend attributes), and deleteRows adds it.
func (t *sqlTier) prepare(ctx context.Context) (*sqlStmts, error) {
	if !t.pg {
		t.wmu.Lock()
		defer t.wmu.Unlock()
	}
	create, get, getMany, upsert := sqliteCreate, sqliteGet, sqliteGetMany, sqliteUpsert
	if t.pg {
		create, get, getMany, upsert = pgCreate, pgGet, pgGetMany, pgUpsert
	}
	if _, err := t.db.ExecContext(ctx, create); err != nil {
		return nil, fmt.Errorf("create table enrichment_cache: %w", err)
	}
	has, err := t.hasUniqueIndex(ctx)
	if err != nil {
		return nil, fmt.Errorf("inspect enrichment_cache indexes: %w", err)
	}
	if !has {
		if _, err := t.db.ExecContext(ctx, createUniqueIndex); err != nil {
			return nil, fmt.Errorf("create unique index on (service, cache_key): %w", err)
		}
	}
	if _, err := t.db.ExecContext(ctx, createExpiresIndex); err != nil {
		return nil, fmt.Errorf("create expires_at index: %w", err)
	}
	st := &sqlStmts{}
	queries := []struct {
		dst **sql.Stmt
		q   string
	}{{&st.get, get}, {&st.getMany, getMany}, {&st.upsert, upsert}}
	if t.pg {
		vt, tt, err := t.pgTypes(ctx)
		if err != nil {
			return nil, err
		}
		queries = append(queries, struct {
			dst **sql.Stmt
			q   string
		}{&st.upsertMany, fmt.Sprintf(pgUpsertMany, vt, tt)})
		st.pgValue = vt
	}
	for _, q := range queries {
		if *q.dst, err = t.db.PrepareContext(ctx, q.q); err != nil {
			return nil, fmt.Errorf("enrichment_cache does not have the expected shape: %w", err)
		}
	}
	return st, nil
}

// hasUniqueIndex tells whether a full unique index on exactly (service,
// cache_key) exists, as ON CONFLICT needs (an upstream table has one under
// its UNIQUE constraint).
func (t *sqlTier) hasUniqueIndex(ctx context.Context) (bool, error) {
	if t.pg {
		var has bool
		err := t.db.QueryRowContext(ctx, pgHasUniqueIndex).Scan(&has)
		return has, err
	}
	names, err := t.strings(ctx, sqliteUniqueIndexes)
	if err != nil {
		return false, err
	}
	for _, n := range names {
		cols, err := t.strings(ctx, sqliteIndexColumns, n)
		if err != nil {
			return false, err
		}
		if len(cols) == 2 && (cols[0] == "service" && cols[1] == "cache_key" || cols[0] == "cache_key" && cols[1] == "service") {
			return true, nil
		}
	}
	return false, nil
}

// strings runs a one-column query.
func (t *sqlTier) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := t.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// pgTypes reads the types of cache_value and expires_at (an upstream table
// may use json and timestamp where we create jsonb and timestamptz) and maps
// them to cast names from a fixed list.
func (t *sqlTier) pgTypes(ctx context.Context) (value, stamp string, err error) {
	rows, err := t.db.QueryContext(ctx, pgColumnTypes)
	if err != nil {
		return "", "", fmt.Errorf("read column types: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			return "", "", fmt.Errorf("read column types: %w", err)
		}
		switch {
		case col == "cache_value" && (typ == "json" || typ == "jsonb" || typ == "text"):
			value = typ
		case col == "cache_value" && strings.HasPrefix(typ, "character varying"):
			value = "text"
		case col == "expires_at" && typ == "timestamp with time zone":
			stamp = "timestamptz"
		case col == "expires_at" && typ == "timestamp without time zone":
			stamp = "timestamp"
		default:
			return "", "", fmt.Errorf("enrichment_cache.%s has unsupported type %s", col, typ)
		}
	}
	if err := rows.Err(); err != nil {
		return "", "", fmt.Errorf("read column types: %w", err)
	}
	if value == "" || stamp == "" {
		return "", "", errors.New("enrichment_cache lacks cache_value or expires_at")
	}
	return value, stamp, nil
}

// ready returns the statements or counts the failure against breaker b.
func (t *sqlTier) ready(ctx context.Context, b *breaker) (*sqlStmts, bool) {
	st, err := t.stmts(ctx)
	if err != nil {
		t.failed(ctx, b, "init", err)
		return nil, false
	}
	return st, true
}

// get reads one unexpired row.
func (t *sqlTier) get(ctx context.Context, key string, now time.Time, valid func([]byte) bool) ([]byte, bool) {
	if !t.allowRead() {
		t.misses.Add(1)
		return nil, false
	}
	ctx, cancel := t.opCtx(ctx)
	defer cancel()
	st, ok := t.ready(ctx, &t.rb)
	if !ok {
		t.misses.Add(1)
		return nil, false
	}
	start := time.Now()
	var v []byte
	err := st.get.QueryRowContext(ctx, Service, key, t.ts(now)).Scan(&v)
	t.getLat.observe(time.Since(start))
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.failed(ctx, &t.rb, "get", err)
		t.misses.Add(1)
		return nil, false
	}
	t.succeeded(&t.rb, "get")
	if err != nil { // no row
		t.misses.Add(1)
		return nil, false
	}
	if !valid(v) {
		t.corrupt.Add(1)
		t.misses.Add(1)
		return nil, false
	}
	t.hits.Add(1)
	return v, true
}

// getMany reads distinct keys with one query.
func (t *sqlTier) getMany(ctx context.Context, keys []string, now time.Time, valid func([]byte) bool) map[string][]byte {
	found := make(map[string][]byte)
	if !t.allowRead() {
		t.misses.Add(int64(len(keys)))
		return found
	}
	ctx, cancel := t.opCtx(ctx)
	defer cancel()
	st, ok := t.ready(ctx, &t.rb)
	if !ok {
		t.misses.Add(int64(len(keys)))
		return found
	}
	var list any = keys
	if !t.pg {
		b, err := json.Marshal(keys)
		if err != nil {
			t.failed(ctx, nil, "get", err)
			t.misses.Add(int64(len(keys)))
			return found
		}
		list = string(b)
	}
	start := time.Now()
	err := t.scanMany(ctx, st.getMany, found, Service, t.ts(now), list)
	t.getLat.observe(time.Since(start))
	if err != nil {
		t.failed(ctx, &t.rb, "get", err)
		t.misses.Add(int64(len(keys)))
		return map[string][]byte{}
	}
	t.succeeded(&t.rb, "get")
	for k, v := range found {
		if !valid(v) {
			t.corrupt.Add(1)
			delete(found, k)
		}
	}
	t.hits.Add(int64(len(found)))
	t.misses.Add(int64(len(keys) - len(found)))
	return found
}

// scanMany runs a (cache_key, cache_value) query into found.
func (t *sqlTier) scanMany(ctx context.Context, s *sql.Stmt, found map[string][]byte, args ...any) error {
	rows, err := s.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		found[k] = v
	}
	return rows.Err()
}

// set upserts distinct entries: one statement for one entry, otherwise one
// transaction (SQLite) or one unnest statement (PostgreSQL), and reports how
// many it stored: all or none. An entry's exp, when set and earlier, caps
// now + ttl.
func (t *sqlTier) set(ctx context.Context, es []entry, now time.Time) int {
	if len(es) == 0 || !t.allowWrite() {
		return 0
	}
	ctx, cancel := t.opCtx(ctx)
	defer cancel()
	st, ok := t.ready(ctx, &t.wb)
	if !ok {
		return 0
	}
	if !t.pg {
		t.wmu.Lock()
		defer t.wmu.Unlock()
	}
	start := time.Now()
	err := t.upsert(ctx, st, es, now)
	t.setLat.observe(time.Since(start))
	if err != nil {
		t.failed(ctx, &t.wb, "set", err)
		return 0
	}
	t.succeeded(&t.wb, "set")
	t.writes.Add(int64(len(es)))
	return len(es)
}

// upsert writes es (see set).
func (t *sqlTier) upsert(ctx context.Context, st *sqlStmts, es []entry, now time.Time) error {
	def := now.Add(t.ttl)
	exp := func(e entry) time.Time {
		if !e.exp.IsZero() && e.exp.Before(def) {
			return e.exp
		}
		return def
	}
	created := t.ts(now)
	if len(es) == 1 {
		_, err := st.upsert.ExecContext(ctx, Service, es[0].key, string(es[0].val), created, t.ts(exp(es[0])))
		return err
	}
	if t.pg {
		keys, vals, exps := make([]string, len(es)), make([]string, len(es)), make([]time.Time, len(es))
		for i, e := range es {
			keys[i], vals[i], exps[i] = e.key, string(e.val), exp(e).UTC()
		}
		_, err := st.upsertMany.ExecContext(ctx, Service, created, keys, vals, exps)
		return err
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	s := tx.StmtContext(ctx, st.upsert)
	for _, e := range es {
		if _, err := s.ExecContext(ctx, Service, e.key, string(e.val), created, t.ts(exp(e))); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// deleteRows deletes our service's rows: the expired ones, or (all) every
// one, or (all and m non-nil) every one whose value m selects, in one
// statement.
func (t *sqlTier) deleteRows(ctx context.Context, now time.Time, all bool, m *match) (int64, error) {
	op, what := "cleanup", "cleanup"
	if all {
		op, what = "clear", m.op()
	}
	wrap := func(err error) error { return fmt.Errorf("cache: L2 %s: %s: %w", t.backend, what, err) }
	st, err := t.stmts(ctx)
	if err != nil {
		t.failed(ctx, &t.wb, op, err)
		return 0, wrap(err)
	}
	q, args := sqliteDelete, []any{Service}
	if t.pg {
		q = pgDelete
	}
	switch {
	case !all && t.pg:
		q += ` AND expires_at <= $2`
		args = append(args, t.ts(now))
	case !all:
		q += ` AND expires_at <= ?`
		args = append(args, t.ts(now))
	case m != nil && !t.pg:
		path := "$." + m.field // newMatch allows only a plain member name
		q += sqliteWhereMember
		args = append(args, path, path, m.value)
	case m != nil:
		switch st.pgValue {
		case "jsonb":
			q += pgWhereMemberJSONB
		case "json":
			q += pgWhereMemberJSON
		default:
			q += pgWhereMemberText
		}
		args = append(args, m.field, m.value)
	}
	if !t.pg {
		t.wmu.Lock()
		defer t.wmu.Unlock()
	}
	res, err := t.db.ExecContext(ctx, q, args...)
	if err != nil {
		t.failed(ctx, &t.wb, op, err)
		if m != nil && st.pgValue == "text" {
			return 0, wrap(fmt.Errorf("delete rows (cache_value is text: a row of ours that is not JSON fails the filter; Clear without a filter removes it): %w", err))
		}
		return 0, wrap(fmt.Errorf("delete rows: %w", err))
	}
	t.succeeded(&t.wb, op)
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(fmt.Errorf("delete rows: %w", err))
	}
	return n, nil
}

// OwnSQLiteURL is the DatabaseURL of an SQLite file the engine owns (its
// default L2 under the data directory; no host opens it with a journal mode
// of its own). It asks for a rollback journal (TRUNCATE) instead of WAL:
// WAL maps its index (the -shm file) into memory, and a -shm that becomes
// unwritable or shrinks under it (a read-only remount, a full disk, a
// file made immutable) turns the next read into a SIGBUS that kills the
// host. Without WAL, and with mmap_size left at 0, SQLite reaches the file
// only through read and write calls, whose failures are errors the tier
// counts and backs off from. Writes are not synced (_synchronous=OFF):
// with a rollback journal each commit would otherwise cost two fsyncs
// (13 ms a write here, against 0.3 ms in WAL; unsynced, 0.4 ms). A process
// crash loses nothing; a power cut may damage the file, which then counts
// errors until it is deleted — it only holds answers the engine can
// recompute. A write blocks readers of the file for its commit (they wait
// up to _busy_timeout).
func OwnSQLiteURL(path string) string {
	return "sqlite://" + path + "?_journal_mode=TRUNCATE&_synchronous=OFF"
}
