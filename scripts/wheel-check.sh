#!/usr/bin/env bash
# `make wheel-check`: install a built wheel into a fresh virtual environment
# with nothing else in it (no site packages, no dependencies, no index) and
# use it from outside the source tree: the library loads, a refresh from the
# test fixtures (file:// URLs) and a classification work, the evaluation
# program is in the package, the engine links the system libsqlite3 (not a
# copy in the wheel), and no third-party module was needed.
#
#   bash scripts/wheel-check.sh dist/ipclassifier-*-manylinux*.whl
set -euo pipefail
[ $# -eq 1 ] && [ -f "$1" ] || { echo "usage: $0 WHEEL (one file; got: $*)" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
wheel="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
py="${PYTHON:-python3}"
unset PYTHONPATH # the source tree must not be importable (nor look installed to pip)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$py" -m venv "$work/venv"
venv_py="$work/venv/bin/python"
"$venv_py" -m pip install -q --no-index --no-deps --disable-pip-version-check "$wheel"
echo "wheel-check: installed $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB) into a fresh venv"

fx="file://$root/tests_py/fixtures"
opts=(--data-dir "$work/data" --no-cache --cloud-providers aws,gcp,cloudflare
	--tor-url "$fx/tor/torbulkexitlist" --onionoo-url "$fx/tor/onionoo.json" --cloud-base-url "$fx/cloud"
	--datacenter-url "$fx/datacenter/datacenters.csv" --hosting-base-url "$fx/hosting"
	--hosting-asn-url "$fx/hosting/ASN.txt" --asn-v4-url "$fx/asn/ip2asn-v4.tsv" --asn-v6-url "$fx/asn/ip2asn-v6.tsv"
	--ipranges-base-url "$fx/ipranges" --scanner-url "$fx/maltrail/mass_scanner.txt" --vpn-base-url "$fx/vpn"
	--peeringdb-url "$fx/peeringdb/net.json")
cd "$work" # not the source tree: only the installed package can be imported
"$venv_py" -m ipclassifier "${opts[@]}" refresh all --summary
out=$("$venv_py" -m ipclassifier "${opts[@]}" classify -f jsonl 185.220.101.1 3.5.140.1)
echo "$out"
grep -q '"ip_type": "tor"' <<<"$out" || { echo "wheel-check: 185.220.101.1 is not tor" >&2; exit 1; }
grep -q '"ip_type": "cloud"' <<<"$out" || { echo "wheel-check: 3.5.140.1 is not cloud" >&2; exit 1; }
"$venv_py" - "$root" <<'EOF'
import os
import sys

import ipclassifier
from ipclassifier import _harness, cli

root = sys.argv[1]
assert not ipclassifier.__file__.startswith(root), f"imported from the source tree: {ipclassifier.__file__}"
program = _harness.program_path()
assert os.access(program, os.X_OK), f"{program} is not an executable"
cli.build_parser()  # every command module registers (the optional ones without their extras)
with ipclassifier.IPClassifier(enable_cache=False, auto_refresh=False, data_dir=os.path.join(os.getcwd(), "data")) as c:
    sqlite = c.get_stats()["sqlite"]
# The documented build: the engine shares the system libsqlite3 (auditwheel --exclude keeps it out of the wheel).
assert sqlite["linked"] == "system", f"the wheel's engine has {sqlite['linked']} SQLite, not the system one"
third_party = sorted({m.split(".")[0] for m in sys.modules} & {"sqlalchemy", "psycopg2", "tqdm", "prometheus_client"})
assert not third_party, f"imported {third_party}"
print(f"wheel-check: ok: ipclassifier {ipclassifier.__version__} from {os.path.dirname(ipclassifier.__file__)}")
EOF
