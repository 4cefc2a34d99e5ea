package cache_test

// Real servers for the cache tests: Redis and PostgreSQL from the
// environment (IPCLASSIFIER_TEST_REDIS_URL, IPCLASSIFIER_TEST_POSTGRES_URL)
// or throwaway ones started by scripts/test-servers.sh, the launcher the
// Python suite and CI use too. The script's `run` mode is a watchdog: it
// starts the server, prints its URL, and stops it and removes its directory
// when its stdin closes, so a shared server lives exactly as long as this
// test binary, however the binary exits. A server that cannot run here (the
// script exits 3: binary or OS user missing) → t.Skip with the script's
// reason, or t.Fatal when IPCLASSIFIER_REQUIRE_SERVERS=1.

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ipclassifier/ipclassifier/tests_go/testkit"
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

// --- the launcher (scripts/test-servers.sh run) ---

// errServerUnavailable wraps the launcher's reason when a server cannot run
// here (exit status 3): the caller skips.
var errServerUnavailable = errors.New("server unavailable")

// testServersScript is scripts/test-servers.sh of this repository.
func testServersScript() string {
	return filepath.Join(testkit.Root(), "scripts", "test-servers.sh")
}

// launched is one `test-servers.sh run` watchdog: the URLs it exported, and
// the pipe whose closing stops its server.
type launched struct {
	env   map[string]string
	stdin io.WriteCloser
	cmd   *exec.Cmd
	done  chan struct{}
}

// launch runs `test-servers.sh run DIR args...` in a new temporary DIR
// (the script removes it) and waits for its "ready" line.
func launch(within time.Duration, args ...string) (*launched, error) {
	dir, err := os.MkdirTemp("", "ipclassifier-servers-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("bash", append([]string{testServersScript(), "run", dir}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	l := &launched{env: map[string]string{}, stdin: stdin, cmd: cmd, done: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "ready" {
				ok = true
				break
			}
			if k, v, found := strings.Cut(strings.TrimPrefix(line, "export "), "="); found {
				l.env[k] = strings.Trim(v, "'")
			}
		}
		ready <- ok
		io.Copy(io.Discard, stdout)
	}()
	go func() { cmd.Wait(); close(l.done) }()
	select {
	case ok := <-ready:
		if ok {
			return l, nil
		}
		<-l.done
		reason := strings.TrimSpace(stderr.String())
		if cmd.ProcessState.ExitCode() == 3 {
			return nil, fmt.Errorf("%w: %s", errServerUnavailable, reason)
		}
		return nil, fmt.Errorf("test-servers.sh %s exited %d: %s", strings.Join(args, " "), cmd.ProcessState.ExitCode(), reason)
	case <-time.After(within):
		stdin.Close()
		cmd.Process.Kill()
		<-l.done
		return nil, fmt.Errorf("test-servers.sh %s not ready after %s: %s", strings.Join(args, " "), within, stderr.String())
	}
}

// stop closes the watchdog's stdin and waits until it has stopped the
// server.
func (l *launched) stop() {
	l.stdin.Close()
	<-l.done
}

// cacheShared is a server shared by every test of the binary: started once,
// never stopped (its watchdog stops it when the binary exits and the pipe
// closes).
type cacheShared struct {
	once   sync.Once
	url    string
	skip   string // why there is no server
	err    error
	server *launched // referenced so its pipe stays open
}

func (s *cacheShared) get(tb testing.TB, envVar, service string, within time.Duration) string {
	tb.Helper()
	if u := os.Getenv(envVar); u != "" {
		return u
	}
	s.once.Do(func() {
		l, err := launch(within, service)
		switch {
		case errors.Is(err, errServerUnavailable):
			s.skip = fmt.Sprintf("%s not set and %v", envVar, err)
		case err != nil:
			s.err = err
		default:
			s.server, s.url = l, l.env[envVar]
			if s.url == "" {
				s.err = fmt.Errorf("test-servers.sh printed no %s", envVar)
			}
		}
	})
	if s.skip != "" {
		cacheSkipOrFatal(tb, "%s", s.skip)
	}
	require.NoError(tb, s.err, "start a throwaway %s", service)
	return s.url
}

// --- Redis ---

var cacheSharedRedis cacheShared

// cacheRedisURL returns a Redis URL whose ip_classification:* keys are
// cleared for this test.
func cacheRedisURL(tb testing.TB) string {
	tb.Helper()
	u := cacheSharedRedis.get(tb, "IPCLASSIFIER_TEST_REDIS_URL", "redis", 30*time.Second)
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

// cacheRedisProc is a redis-server of one test, which it may stop and
// restart on the same port (the launcher with --redis-port).
type cacheRedisProc struct {
	tb     testing.TB
	port   int
	server *launched
}

// cacheStartOwnRedis starts a redis-server owned by this test.
func cacheStartOwnRedis(tb testing.TB) *cacheRedisProc {
	tb.Helper()
	p := &cacheRedisProc{tb: tb, port: cacheFreePort(tb)}
	p.start()
	tb.Cleanup(p.kill)
	return p
}

func (p *cacheRedisProc) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", p.port) }

func (p *cacheRedisProc) start() {
	p.tb.Helper()
	l, err := launch(30*time.Second, "redis", "--redis-port", strconv.Itoa(p.port))
	if errors.Is(err, errServerUnavailable) {
		cacheSkipOrFatal(p.tb, "this test stops and restarts its own redis-server: %v", err)
	}
	require.NoError(p.tb, err, "start redis-server on port %d", p.port)
	p.server = l
}

// kill stops the server (and waits until it is gone).
func (p *cacheRedisProc) kill() {
	if p.server != nil {
		p.server.stop()
		p.server = nil
	}
}

// --- PostgreSQL ---

var cacheSharedPostgres cacheShared

// cachePostgresBaseURL returns the server URL (environment or throwaway).
func cachePostgresBaseURL(tb testing.TB) string {
	tb.Helper()
	return cacheSharedPostgres.get(tb, "IPCLASSIFIER_TEST_POSTGRES_URL", "postgres", 120*time.Second)
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
