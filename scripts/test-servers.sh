#!/usr/bin/env bash
# Throwaway Redis and PostgreSQL servers for the tests: the one launcher of
# the Go suite (tests_go/cache_servers_test.go), the Python suite
# (tests_py/cache_servers.py) and CI (.ci/run).
#
#   eval "$(scripts/test-servers.sh start DIR)"   # start both, export their URLs
#   go test -race ./tests_go/
#   scripts/test-servers.sh stop DIR              # stop both (DIR is kept)
#
#   scripts/test-servers.sh run DIR redis         # what the test suites do: see below
#
# start DIR [redis] [postgres] [--durable] [--redis-port N]: runs the servers
# named (default both) on free loopback ports of their own, with all data,
# sockets and logs under DIR; waits until they accept connections; prints
#   export IPCLASSIFIER_TEST_REDIS_URL=redis://127.0.0.1:PORT/0
#   export IPCLASSIFIER_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable'
# (also saved in DIR/env). PostgreSQL runs without durability (fsync,
# synchronous_commit and full_page_writes off) unless --durable (benchmarks).
# --redis-port puts Redis on that port (a test that restarts it). PostgreSQL
# refuses to run as root, so as root it runs as the `postgres` OS user
# (runuser) and DIR must be reachable by it (a directory under /tmp is).
# PostgreSQL binaries are looked up in PATH, then in the newest
# /usr/lib/postgresql/*/bin.
#
# stop DIR: stops what start started; safe to repeat.
#
# run DIR [same arguments as start]: start, print the export lines and then
# a line "ready", and wait until stdin closes (the caller exits or closes
# the pipe, however it ends); then stop the servers and remove DIR. A test
# process keeps the pipe open for as long as it uses the servers.
#
# Exit status: 0 done; 1 a server failed to start (its log is named);
# 2 usage; 3 a server cannot run here (binary or OS user missing): the test
# suites skip with the message, or fail when IPCLASSIFIER_REQUIRE_SERVERS=1.
set -euo pipefail

die() {
	echo "test-servers.sh: $*" >&2
	exit 1
}

# missing: a prerequisite is not installed (exit 3, see above).
missing() {
	echo "test-servers.sh: $*" >&2
	exit 3
}

usage() {
	echo "usage: $0 start|run DIR [redis] [postgres] [--durable] [--redis-port N] | stop DIR" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
shift 2

want_redis= want_pg= durable= redis_port=
while [ $# -gt 0 ]; do
	case $1 in
	redis) want_redis=1 ;;
	postgres) want_pg=1 ;;
	--durable) durable=1 ;;
	--redis-port)
		[ $# -ge 2 ] || usage
		redis_port=$2
		shift
		;;
	*) usage ;;
	esac
	shift
done
if [ -z "$want_redis" ] && [ -z "$want_pg" ]; then
	want_redis=1 want_pg=1
fi

# as_pg runs a command as the postgres OS user when we are root.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_bin() {
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v initdb)")"
		return
	fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] || return 1
	echo "$d"
}

# free_port prints a loopback port nothing listens on, below the kernel's
# range of ephemeral ports when there is room (an outgoing connection of
# a test takes a port of that range at any moment).
free_port() {
	local p i lo=0 base=20000 span=40000
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	if [ "${lo:-0}" -gt 12000 ]; then
		base=10000 span=$((lo - 10000))
	fi
	for i in $(seq 1 100); do
		p=$((base + RANDOM % span))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free loopback port found"
}

stop_all() {
	if [ -f "$dir/redis/redis.pid" ]; then
		local pid
		pid=$(cat "$dir/redis/redis.pid")
		if kill "$pid" 2>/dev/null; then
			for _ in $(seq 1 100); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.05
			done
		fi
		rm -f "$dir/redis/redis.pid"
	fi
	if [ -f "$dir/pg/data/postmaster.pid" ]; then
		local bin
		bin=$(pg_bin) || die "pg_ctl not found: cannot stop PostgreSQL in $dir/pg/data"
		as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

# check_prerequisites exits 3 when a server named cannot run here.
check_prerequisites() {
	if [ -n "$want_redis" ]; then
		command -v redis-server >/dev/null 2>&1 || missing "redis-server not found in PATH (install the redis-server package)"
		command -v redis-cli >/dev/null 2>&1 || missing "redis-cli not found in PATH (install the redis-tools package)"
	fi
	if [ -n "$want_pg" ]; then
		pg_bin >/dev/null || missing "initdb/pg_ctl not found in PATH nor in /usr/lib/postgresql/*/bin (install postgresql)"
		if [ "$(id -u)" -eq 0 ]; then
			command -v runuser >/dev/null 2>&1 ||
				missing "running as root needs runuser to start PostgreSQL as the postgres user"
			id postgres >/dev/null 2>&1 ||
				missing "running as root needs a postgres OS user (PostgreSQL refuses to run as root)"
		fi
	fi
}

# redis_answers PORT: 0 once Redis answers there, 1 when it does not
# within 10 s or its log says the port was taken.
redis_answers() {
	for _ in $(seq 1 200); do
		grep -q "Address already in use" "$dir/redis/redis.log" 2>/dev/null && return 1
		[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ] && return 0
		sleep 0.05
	done
	return 1
}

start_redis() {
	local rport tries=3
	mkdir -p "$dir/redis"
	while :; do
		rport=${redis_port:-$(free_port)}
		: >"$dir/redis/redis.log"
		redis-server --port "$rport" --bind 127.0.0.1 --protected-mode no --dir "$dir/redis" \
			--save '' --appendonly no --daemonize yes --pidfile "$dir/redis/redis.pid" \
			--logfile "$dir/redis/redis.log" >/dev/null ||
			die "redis-server failed to start: $(tail -n 5 "$dir/redis/redis.log" | tr '\n' ' ')"
		redis_answers "$rport" && break
		stop_all
		tries=$((tries - 1))
		# a port taken between free_port and the bind: another one, unless it was asked for
		if [ -n "$redis_port" ] || [ "$tries" -eq 0 ]; then
			die "redis-server on port $rport does not answer; its log: $(tail -n 5 "$dir/redis/redis.log" | tr '\n' ' ')"
		fi
	done
	# redis-server --daemonize writes the pid file a moment after forking.
	for _ in $(seq 1 100); do
		[ -s "$dir/redis/redis.pid" ] && break
		sleep 0.05
	done
	echo "export IPCLASSIFIER_TEST_REDIS_URL=redis://127.0.0.1:$rport/0" >>"$dir/env"
}

start_postgres() {
	local bin pport opts
	bin=$(pg_bin)
	pport=$(free_port)
	mkdir -p "$dir/pg"
	if [ "$(id -u)" -eq 0 ]; then
		chmod a+x "$dir" # mktemp -d makes it 0700: let postgres traverse it
		chown postgres: "$dir/pg"
		runuser -u postgres -- test -w "$dir/pg" || {
			stop_all
			die "the postgres user cannot write $dir/pg (are its parents private, e.g. under /root?); use a directory under /tmp"
		}
	fi
	if [ ! -d "$dir/pg/data" ]; then
		as_pg "$bin/initdb" -D "$dir/pg/data" -U postgres -A trust -N -E UTF8 >"$dir/pg/initdb.log" 2>&1 || {
			stop_all
			die "initdb failed, see $dir/pg/initdb.log"
		}
	fi
	local tries=3
	while :; do
		opts="-p $pport -k $dir/pg -c listen_addresses=127.0.0.1"
		[ -n "$durable" ] || opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
		rm -f "$dir/pg/server.log" # pg_ctl makes it, as the user it runs as
		as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 -o "$opts" start >/dev/null 2>&1 && break
		tries=$((tries - 1))
		# a port taken between free_port and the bind: another one
		if [ "$tries" -eq 0 ] || ! grep -q "Address already in use" "$dir/pg/server.log"; then
			stop_all
			die "PostgreSQL failed to start; its log: $(tail -n 5 "$dir/pg/server.log" | tr '\n' ' ')"
		fi
		pport=$(free_port)
	done
	local ok=
	for _ in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$pport") 2>/dev/null; then
			ok=1
			break
		fi
		sleep 0.05
	done
	[ -n "$ok" ] || {
		stop_all
		die "PostgreSQL on port $pport does not accept connections, see $dir/pg/server.log"
	}
	echo "export IPCLASSIFIER_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$pport/postgres?sslmode=disable'" >>"$dir/env"
}

start_all() {
	check_prerequisites
	if [ -f "$dir/redis/redis.pid" ] || [ -f "$dir/pg/data/postmaster.pid" ]; then
		die "servers already started in $dir (run: $0 stop $dir)"
	fi
	trap 'stop_all' ERR
	: >"$dir/env"
	[ -z "$want_redis" ] || start_redis
	[ -z "$want_pg" ] || start_postgres
	trap - ERR
	cat "$dir/env"
}

run_all() {
	trap 'stop_all; rm -rf "$dir"' EXIT
	trap 'exit 0' HUP INT TERM
	start_all
	echo ready
	# Block until the caller closes our stdin (or exits).
	while read -r _; do :; done
}

case $cmd in
start) start_all ;;
run) run_all ;;
stop) stop_all ;;
*) usage ;;
esac
