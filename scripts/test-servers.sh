#!/usr/bin/env bash
# Throwaway Redis and PostgreSQL servers for the cache tests.
#
#   eval "$(scripts/test-servers.sh start DIR)"   # start both, export their URLs
#   go test -race ./tests_go/
#   scripts/test-servers.sh stop DIR              # stop both (DIR is kept)
#
# start DIR: runs redis-server and PostgreSQL on free loopback ports of their
# own, with all data, sockets and logs under DIR; waits until both accept
# connections; prints
#   export IPCLASSIFIER_TEST_REDIS_URL=redis://127.0.0.1:PORT/0
#   export IPCLASSIFIER_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
# (also saved in DIR/env). PostgreSQL refuses to run as root, so as root it
# runs as the `postgres` OS user (runuser) and DIR must be reachable by it
# (a directory under /tmp is). PostgreSQL binaries are looked up in PATH,
# then in the newest /usr/lib/postgresql/*/bin.
#
# stop DIR: stops what start started; safe to repeat.
set -euo pipefail

die() {
	echo "test-servers.sh: $*" >&2
	exit 1
}

usage() { die "usage: $0 start DIR | stop DIR"; }

[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)

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

# free_port prints a loopback port nothing listens on.
free_port() {
	local p i
	for i in $(seq 1 100); do
		p=$((20000 + RANDOM % 40000))
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

start_all() {
	command -v redis-server >/dev/null 2>&1 || die "redis-server not found in PATH (install the redis-server package)"
	command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found in PATH (install the redis-tools package)"
	local bin
	bin=$(pg_bin) || die "initdb/pg_ctl not found in PATH nor in /usr/lib/postgresql/*/bin (install postgresql)"
	if [ "$(id -u)" -eq 0 ]; then
		command -v runuser >/dev/null 2>&1 || die "running as root needs runuser to start PostgreSQL as the postgres user"
		id postgres >/dev/null 2>&1 || die "running as root needs a postgres OS user (PostgreSQL refuses to run as root)"
	fi
	if [ -f "$dir/redis/redis.pid" ] || [ -f "$dir/pg/data/postmaster.pid" ]; then
		die "servers already started in $dir (run: $0 stop $dir)"
	fi
	trap 'stop_all' ERR

	# Redis
	local rport
	rport=$(free_port)
	mkdir -p "$dir/redis"
	redis-server --port "$rport" --bind 127.0.0.1 --protected-mode no --dir "$dir/redis" \
		--save '' --appendonly no --daemonize yes --pidfile "$dir/redis/redis.pid" \
		--logfile "$dir/redis/redis.log" >/dev/null ||
		die "redis-server failed to start, see $dir/redis/redis.log"
	local ok=
	for _ in $(seq 1 200); do
		if [ "$(redis-cli -h 127.0.0.1 -p "$rport" ping 2>/dev/null)" = PONG ]; then
			ok=1
			break
		fi
		sleep 0.05
	done
	[ -n "$ok" ] || {
		stop_all
		die "redis-server on port $rport does not answer, see $dir/redis/redis.log"
	}
	# redis-server --daemonize writes the pid file a moment after forking.
	for _ in $(seq 1 100); do
		[ -s "$dir/redis/redis.pid" ] && break
		sleep 0.05
	done

	# PostgreSQL
	local pport
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
	as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 \
		-o "-p $pport -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null 2>&1 || {
		stop_all
		die "PostgreSQL failed to start, see $dir/pg/server.log"
	}
	ok=
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
	trap - ERR

	{
		echo "export IPCLASSIFIER_TEST_REDIS_URL=redis://127.0.0.1:$rport/0"
		echo "export IPCLASSIFIER_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$pport/postgres?sslmode=disable'"
	} | tee "$dir/env"
}

case $cmd in
start) start_all ;;
stop) stop_all ;;
*) usage ;;
esac
