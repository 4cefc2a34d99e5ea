package tests_go

// Real servers for the cache tests: Redis and PostgreSQL from the
// environment (IPCLASSIFIER_TEST_REDIS_URL, IPCLASSIFIER_TEST_POSTGRES_URL)
// or throwaway ones started on free loopback ports. A throwaway shared server
// lives under a small shell watchdog that reads our stdin: when the test
// binary exits, however it exits, the pipe closes and the watchdog stops the
// server and removes its directory. No binary → t.Skip, or t.Fatal when
// IPCLASSIFIER_REQUIRE_SERVERS=1.

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// cacheSkipOrFatal skips for a missing server, or fails when servers are
// required.
func cacheSkipOrFatal(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("IPCLASSIFIER_REQUIRE_SERVERS") == "1" {
		tb.Fatalf("%s (IPCLASSIFIER_REQUIRE_SERVERS=1 makes this fatal)", msg)
	}
	tb.Skip(msg)
}

// cacheFreePort returns a loopback TCP port nobody listens on right now.
func cacheFreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// cacheWaitTCP waits until addr accepts connections.
func cacheWaitTCP(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not accept connections after %s: %w", addr, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cacheWatchdogs keeps the stdin pipes of the watchdogs open for the life
// of the test binary (a collected *os.File would close its pipe).
var cacheWatchdogs struct {
	sync.Mutex
	pipes []io.WriteCloser
}

// cacheStartWatched runs script under sh with args; the script prints
// "ready" when its server is up, then blocks reading stdin and cleans up at
// EOF. It returns the script's stderr on failure.
func cacheStartWatched(script string, within time.Duration, args ...string) error {
	cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if strings.TrimSpace(line) == "ready" {
			ready <- nil
			io.Copy(io.Discard, stdout)
			return
		}
		ready <- fmt.Errorf("server did not start (%v): %s", err, stderr.String())
	}()
	select {
	case err := <-ready:
		if err != nil {
			stdin.Close()
			cmd.Wait()
			return err
		}
	case <-time.After(within):
		stdin.Close()
		cmd.Process.Kill()
		return fmt.Errorf("server not ready after %s: %s", within, stderr.String())
	}
	go cmd.Wait() // reap the watchdog when it ends
	cacheWatchdogs.Lock()
	cacheWatchdogs.pipes = append(cacheWatchdogs.pipes, stdin)
	cacheWatchdogs.Unlock()
	return nil
}

// --- Redis ---

var cacheSharedRedis struct {
	once sync.Once
	url  string
	skip string // why there is no server
	err  error
}

// cacheRedisScript runs redis-server until stdin closes.
const cacheRedisScript = `
d=$1; port=$2
redis-server --port "$port" --bind 127.0.0.1 --dir "$d" --save '' --appendonly no \
  --daemonize no --protected-mode no --logfile "$d/redis.log" &
pid=$!
i=0
until redis-cli -p "$port" ping >/dev/null 2>&1; do
  i=$((i+1)); if [ $i -gt 200 ]; then cat "$d/redis.log" >&2; kill $pid; rm -rf "$d"; exit 1; fi
  sleep 0.05
done
echo ready
read _ || true
kill $pid 2>/dev/null; wait $pid 2>/dev/null
rm -rf "$d"
`

// cacheRedisURL returns a Redis URL whose ip_classification:* keys are
// cleared for this test.
func cacheRedisURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("IPCLASSIFIER_TEST_REDIS_URL")
	if u == "" {
		s := &cacheSharedRedis
		s.once.Do(func() {
			for _, bin := range []string{"redis-server", "redis-cli"} {
				if _, err := exec.LookPath(bin); err != nil {
					s.skip = bin + " not installed and IPCLASSIFIER_TEST_REDIS_URL not set"
					return
				}
			}
			dir, err := os.MkdirTemp("", "ipclassifier-redis-")
			if err != nil {
				s.err = err
				return
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				s.err = err
				return
			}
			port := l.Addr().(*net.TCPAddr).Port
			l.Close()
			if s.err = cacheStartWatched(cacheRedisScript, 15*time.Second, dir, strconv.Itoa(port)); s.err == nil {
				s.url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
			}
		})
		if s.skip != "" {
			cacheSkipOrFatal(tb, "%s", s.skip)
		}
		require.NoError(tb, s.err, "start throwaway redis-server")
		u = s.url
	}
	cacheRedisClear(tb, u)
	return u
}

// cacheRedisClient is a plain client for checking what the cache wrote.
func cacheRedisClient(tb testing.TB, u string) *redis.Client {
	tb.Helper()
	opt, err := redis.ParseURL(u)
	require.NoError(tb, err)
	c := redis.NewClient(opt)
	tb.Cleanup(func() { c.Close() })
	return c
}

// cacheRedisClear deletes our keys.
func cacheRedisClear(tb testing.TB, u string) {
	tb.Helper()
	c := cacheRedisClient(tb, u)
	ctx := context.Background()
	iter := c.Scan(ctx, 0, "ip_classification:*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	require.NoError(tb, iter.Err(), "reach redis at %s", u)
	if len(keys) > 0 {
		require.NoError(tb, c.Del(ctx, keys...).Err())
	}
}

// cacheRedisProc is a redis-server of one test, which it may kill and
// restart on the same port.
type cacheRedisProc struct {
	tb   testing.TB
	dir  string
	port int
	cmd  *exec.Cmd
}

// cacheStartOwnRedis starts a redis-server owned by this test.
func cacheStartOwnRedis(tb testing.TB) *cacheRedisProc {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		cacheSkipOrFatal(tb, "redis-server not installed: this test kills and restarts its own server")
	}
	p := &cacheRedisProc{tb: tb, dir: tb.TempDir(), port: cacheFreePort(tb)}
	p.start()
	tb.Cleanup(p.kill)
	return p
}

func (p *cacheRedisProc) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", p.port) }

func (p *cacheRedisProc) start() {
	p.tb.Helper()
	p.cmd = exec.Command("redis-server", "--port", strconv.Itoa(p.port), "--bind", "127.0.0.1",
		"--dir", p.dir, "--save", "", "--appendonly", "no", "--protected-mode", "no")
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(p.tb, p.cmd.Start())
	require.NoError(p.tb, cacheWaitTCP(fmt.Sprintf("127.0.0.1:%d", p.port), 10*time.Second))
}

func (p *cacheRedisProc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		p.cmd = nil
	}
}

// --- PostgreSQL ---

var cacheSharedPostgres struct {
	once sync.Once
	url  string
	skip string
	err  error
}

// cachePostgresScript runs initdb and pg_ctl (as $as, e.g. runuser -u
// postgres --) and stops the server and removes $d when stdin closes.
const cachePostgresScript = `
d=$1; port=$2; bin=$3; as=$4
cleanup() { $as "$bin/pg_ctl" -D "$d/data" -m immediate stop >/dev/null 2>&1; rm -rf "$d"; }
if ! $as "$bin/initdb" -D "$d/data" -U postgres -A trust -N -E UTF8 >"$d/initdb.log" 2>&1; then
  cat "$d/initdb.log" >&2; cleanup; exit 1
fi
if ! $as "$bin/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 \
  -o "-p $port -k $d -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null 2>&1; then
  cat "$d/server.log" >&2; cleanup; exit 1
fi
echo ready
read _ || true
cleanup
`

// cachePostgresBin finds the directory holding initdb and pg_ctl.
func cachePostgresBin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "pg_ctl")); err == nil {
			return filepath.Dir(p)
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return cacheVersionLess(dirs[i], dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	return ""
}

// cacheVersionLess orders /usr/lib/postgresql/N/bin by N.
func cacheVersionLess(a, b string) bool {
	na, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
	nb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
	return na < nb
}

// cachePostgresBaseURL returns the server URL (environment or throwaway).
func cachePostgresBaseURL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv("IPCLASSIFIER_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	s := &cacheSharedPostgres
	s.once.Do(func() {
		bin := cachePostgresBin()
		if bin == "" {
			s.skip = "initdb/pg_ctl not installed and IPCLASSIFIER_TEST_POSTGRES_URL not set"
			return
		}
		dir, err := os.MkdirTemp("", "ipclassifier-pg-")
		if err != nil {
			s.err = err
			return
		}
		as := ""
		if os.Geteuid() == 0 { // PostgreSQL refuses to run as root
			pg, err := user.Lookup("postgres")
			if err != nil {
				s.skip = "running as root and there is no postgres OS user to run PostgreSQL"
				return
			}
			if _, err := exec.LookPath("runuser"); err != nil {
				s.skip = "running as root and runuser is not installed"
				return
			}
			uid, _ := strconv.Atoi(pg.Uid)
			gid, _ := strconv.Atoi(pg.Gid)
			if s.err = os.Chown(dir, uid, gid); s.err != nil {
				return
			}
			as = "runuser -u postgres --"
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.err = err
			return
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if s.err = cacheStartWatched(cachePostgresScript, 90*time.Second, dir, strconv.Itoa(port), bin, as); s.err == nil {
			s.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
		}
	})
	if s.skip != "" {
		cacheSkipOrFatal(tb, "%s", s.skip)
	}
	require.NoError(tb, s.err, "start throwaway PostgreSQL")
	return s.url
}

var cacheSchemaSeq atomic.Int64

// cachePostgresURL returns a URL whose search_path is a fresh schema of this
// test (dropped at cleanup), so tests never see each other's tables.
func cachePostgresURL(tb testing.TB) string {
	tb.Helper()
	base := cachePostgresBaseURL(tb)
	db, err := sql.Open("pgx", base)
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	schema := fmt.Sprintf("cache_test_%d_%d", os.Getpid(), cacheSchemaSeq.Add(1))
	_, err = db.Exec("CREATE SCHEMA " + schema)
	require.NoError(tb, err, "create schema on test PostgreSQL")
	tb.Cleanup(func() { db.Exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	require.NoError(tb, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// cacheSQL opens a plain database/sql handle on a cache DatabaseURL, for
// checking and tampering with rows behind the cache's back.
func cacheSQL(tb testing.TB, dbURL string) *sql.DB {
	tb.Helper()
	driver, dsn := "sqlite3", strings.TrimPrefix(dbURL, "sqlite://")
	if strings.HasPrefix(dbURL, "postgres") {
		driver, dsn = "pgx", dbURL
	} else if !strings.Contains(dsn, "?") {
		dsn += "?_busy_timeout=5000"
	}
	db, err := sql.Open(driver, dsn)
	require.NoError(tb, err)
	tb.Cleanup(func() { db.Close() })
	return db
}

// cacheQ rewrites ? placeholders to $n for PostgreSQL.
func cacheQ(dbURL, q string) string {
	if !strings.HasPrefix(dbURL, "postgres") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// --- TCP proxy (a server that appears later on a fixed port) ---

// cacheProxy forwards a loopback port to target once started.
type cacheProxy struct {
	port   int
	target string
	l      net.Listener
	wg     sync.WaitGroup
}

func (p *cacheProxy) start(tb testing.TB) {
	tb.Helper()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p.port))
	require.NoError(tb, err)
	p.l = l
	tb.Cleanup(func() { l.Close(); p.wg.Wait() })
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", p.target)
				if err != nil {
					return
				}
				defer s.Close()
				go io.Copy(s, c)
				io.Copy(c, s)
			}()
		}
	}()
}

// --- values ---

// cacheValue is a cached answer as the engine writes it.
func cacheValue(ip, typ string) []byte {
	b, _ := json.Marshal(map[string]any{
		"ip": ip, "ip_type": typ, "provider": "test", "confidence": 0.5, "source": "test",
		"classified_at": time.Now().UTC().Format(time.RFC3339Nano),
	})
	return b
}

// cacheValid is the validity check the tests give the cache: a JSON object
// with an ip_type and an ISO-8601 classified_at.
func cacheValid(b []byte) bool {
	var v struct {
		IPType       string `json:"ip_type"`
		ClassifiedAt string `json:"classified_at"`
	}
	if json.Unmarshal(b, &v) != nil || v.IPType == "" {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, v.ClassifiedAt)
	return err == nil
}

// cacheIPType reads ip_type back from a value.
func cacheIPType(tb testing.TB, b []byte) string {
	tb.Helper()
	var v struct {
		IPType string `json:"ip_type"`
	}
	require.NoError(tb, json.Unmarshal(b, &v), "value %q", b)
	return v.IPType
}
