#!/usr/bin/env bash
# Builds the C ABI (capi/, package main) as a shared library and installs it,
# with its generated header, inside the Python package, beside the
# evaluation harness, a program of its own (so the library a host loads
# carries none of it; `ipclassifier validate` runs it):
#
#   python/ipclassifier/_lib/libipclassifier.so
#   python/ipclassifier/_lib/libipclassifier.h
#   python/ipclassifier/_lib/ipclassifier-validate
#
# (_lib/, not _native/, so the directory does not shadow the _native.py
# module.) python/ipclassifier/_native.py loads the .so from there with
# importlib.resources; pyproject.toml (setup.py's build_py) runs this script
# so `pip install .` ships it. Safe to run again: it rebuilds in place, going
# through a temporary file so a failed build never leaves a broken library.
#
# SQLite: the engine links the system libsqlite3 (go build -tags libsqlite3)
# when its development files are installed (Debian: libsqlite3-dev), so the
# engine and Python's sqlite3 module share one copy of SQLite in the process
# and see each other's locks on a shared file (docs/cache.md). Without them
# it compiles its own copy and says so. IPCLASSIFIER_SQLITE=system makes the
# system library a requirement (CI), =embedded forces the own copy.
#
#   bash build.sh --go-tags    prints the Go build tags only (the Makefile
#                              runs the Go tests with the same tags)
#
# Environment: GO (the go binary, default "go"), GOFLAGS as usual, CC,
# IPCLASSIFIER_SQLITE (auto, system or embedded; default auto),
# IPCLASSIFIER_OUT_DIR to build somewhere else.
set -euo pipefail

# system_sqlite succeeds when a C program can include sqlite3.h and link
# -lsqlite3.
system_sqlite() {
	local cc="${CC:-cc}" probe
	command -v "$cc" >/dev/null 2>&1 || cc=gcc
	probe="$(mktemp -d)"
	printf '#include <sqlite3.h>\nint main(void) { return sqlite3_libversion_number() > 0 ? 0 : 1; }\n' >"$probe/p.c"
	local rc=0
	"$cc" "$probe/p.c" -lsqlite3 -o "$probe/p" >/dev/null 2>&1 || rc=1
	rm -rf "$probe"
	return $rc
}

# go_tags prints the build tags for IPCLASSIFIER_SQLITE (see above).
go_tags() {
	case "${IPCLASSIFIER_SQLITE:-auto}" in
	embedded) ;;
	system)
		if ! system_sqlite; then
			echo "build.sh: IPCLASSIFIER_SQLITE=system but sqlite3.h/libsqlite3 are missing (apt-get install libsqlite3-dev)" >&2
			return 1
		fi
		echo libsqlite3
		;;
	auto) if system_sqlite; then echo libsqlite3; fi ;;
	*)
		echo "build.sh: IPCLASSIFIER_SQLITE must be auto, system or embedded, got '$IPCLASSIFIER_SQLITE'" >&2
		return 1
		;;
	esac
}

if [ "${1:-}" = "--go-tags" ]; then
	go_tags
	exit
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out_dir="${IPCLASSIFIER_OUT_DIR:-$root/python/ipclassifier/_lib}"
go_bin="${GO:-go}"

if ! command -v "$go_bin" >/dev/null 2>&1; then
	echo "build.sh: '$go_bin' not found: install Go 1.26+ (https://go.dev/dl/) or set GO=/path/to/go" >&2
	exit 1
fi
if ! command -v "${CC:-gcc}" >/dev/null 2>&1 && ! command -v cc >/dev/null 2>&1; then
	echo "build.sh: no C compiler found: cgo needs one (e.g. apt-get install gcc) or set CC" >&2
	exit 1
fi

mkdir -p "$out_dir"
tmp="$(mktemp -d "$out_dir/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

cd "$root"
tags="$(go_tags)"
if [ -z "$tags" ] && [ "${IPCLASSIFIER_SQLITE:-auto}" = auto ]; then
	echo "build.sh: note: no system SQLite headers (apt-get install libsqlite3-dev): the engine gets its own copy" \
		"of SQLite, so do not let it share an SQLite file with this process's sqlite3 module (docs/cache.md)" >&2
fi
CGO_ENABLED=1 "$go_bin" build -buildmode=c-shared -trimpath -ldflags "-s -w" -tags "$tags" \
	-o "$tmp/libipclassifier.so" ./capi
CGO_ENABLED=1 "$go_bin" build -trimpath -ldflags "-s -w" -tags "$tags" \
	-o "$tmp/ipclassifier-validate" ./classifier/validate/cmd/ipclassifier-validate

mv -f "$tmp/libipclassifier.h" "$out_dir/libipclassifier.h"
mv -f "$tmp/libipclassifier.so" "$out_dir/libipclassifier.so"
mv -f "$tmp/ipclassifier-validate" "$out_dir/ipclassifier-validate"
if [ -n "$tags" ]; then sqlite="the system libsqlite3"; else sqlite="an embedded copy"; fi
echo "build.sh: built $out_dir/libipclassifier.so and ipclassifier-validate (SQLite: $sqlite)"
