#!/usr/bin/env bash
# `make demo`: what `make run` does, with the real snapshots in ../shared/data
# served over a local HTTP server standing in for the public sources, so the
# example file is classified with real data on a machine with no network.
# The data directory is a throwaway one: the real one is left alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${SHARED_DATA:-$root/../shared/data}"
[ -f "$data/SOURCES.md" ] || { echo "demo: no real data at $data (set SHARED_DATA)" >&2; exit 1; }
py="${PYTHON:-python3}"
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
work=$(mktemp -d)
"$py" -m http.server --bind 127.0.0.1 --directory "$data" "$port" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do "$py" -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"
export TOR_BULK_LIST_URL="$base/tor/torbulkexitlist.2026-08-22"
export CLOUD_RANGES_BASE_URL="$base/cloud-provider-ip-addresses"
export DATACENTER_RANGES_URL="$base/server-ip-addresses/data/datacenters.csv"
export HOSTING_RANGES_BASE_URL="$base/lists_vpn/output/datacenter"
export HOSTING_ASN_URL="$base/lists_vpn/input/datacenter/ASN.txt"
export ASN_V4_URL="$base/asn/ip2asn-v4.tsv.gz"
export ASN_V6_URL="$base/asn/ip2asn-v6.tsv.gz"
export IPRANGES_BASE_URL="$base/ipranges"
export MASS_SCANNER_URL="$base/maltrail/mass_scanner.txt"
export VPN_RANGES_BASE_URL="$base/lists_vpn/output/vpn"
export AWS_IP_RANGES_URL="$base/aws-official/ip-ranges.json"
export GCP_IP_RANGES_URL="$base/gcp-official/cloud.json"
export ORACLE_IP_RANGES_URL="$base/oracle-official/public_ip_ranges.json"
export AZURE_SERVICE_TAGS_URL="$base/azure-official/ServiceTags_Public.2026-05-06.json.gz"
# The mirror has no Onionoo document, no linode CSV and no PeeringDB snapshot.
export IPCLASSIFIER_DISABLED_SOURCES="tor/onionoo,cloud/linode,asn/peeringdb"
export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
"$py" -m ipclassifier --data-dir "$work" refresh all --summary || true
"$py" -m ipclassifier --data-dir "$work" classify - < "${EXAMPLE:-$root/examples/attackers.txt}"
