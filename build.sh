#!/usr/bin/env bash
# Builds the C ABI (capi/, package main) as a shared library and installs it,
# with its generated header, inside the Python package:
#
#   python/ipclassifier/_lib/libipclassifier.so
#   python/ipclassifier/_lib/libipclassifier.h
#
# (_lib/, not _native/, so the directory does not shadow the _native.py
# module.) python/ipclassifier/_native.py loads the .so from there with
# importlib.resources; pyproject.toml (setup.py's build_py) runs this script
# so `pip install .` ships it. Safe to run again: it rebuilds in place, going
# through a temporary file so a failed build never leaves a broken library.
#
# Environment: GO (the go binary, default "go"), GOFLAGS as usual,
# IPCLASSIFIER_OUT_DIR to build somewhere else.
set -euo pipefail

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
CGO_ENABLED=1 "$go_bin" build -buildmode=c-shared -trimpath -ldflags "-s -w" \
	-o "$tmp/libipclassifier.so" ./capi

mv -f "$tmp/libipclassifier.h" "$out_dir/libipclassifier.h"
mv -f "$tmp/libipclassifier.so" "$out_dir/libipclassifier.so"
echo "build.sh: built $out_dir/libipclassifier.so"
