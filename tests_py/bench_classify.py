#!/usr/bin/env python3
"""Benchmark of the Python binding (a script, not a test: conftest.py tells
pytest to ignore it).

    python3 tests_py/bench_classify.py [--calls 2000] [--rounds 15] [--bulk 10000]

Serves the real source snapshots in ../shared/data (relative to the repo
root) over a local http.server, refreshes an engine with the cache tiers off,
and measures:

* classify(): median time per call (the median over rounds of the mean of
  ``--calls`` calls), split into the native call alone and the Python side;
* bulk_classify() of ``--bulk`` addresses: median µs per address.

Skips (exit 0, with a message) when the data folder is missing.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
DATA = (ROOT / ".." / "shared" / "data").resolve()
sys.path.insert(0, str(ROOT / "python"))

CLOUD_FOLDERS = {
    "aws": "aws", "azure": "azure", "googlecloud": "gcp", "cloudflare": "cloudflare",
    "digitalocean": "digitalocean", "oracle": "oracle", "linode": "linode", "vultr": "vultr",
}  # fmt: skip


class Handler(SimpleHTTPRequestHandler):
    # The snapshot folder has only a 60-line sample of the azure list.
    aliases = {"/cloud-provider-ip-addresses/azure/azure_ips.csv": "/cloud-provider-ip-addresses/azure/azure_ips.head60.csv"}

    def translate_path(self, path: str) -> str:
        return super().translate_path(self.aliases.get(path.split("?", 1)[0], path))

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(directory: Path) -> Tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(directory)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    host, port = httpd.server_address[:2]
    return httpd, f"http://{host}:{port}"


def providers() -> List[str]:
    out = []
    for folder, provider in CLOUD_FOLDERS.items():
        d = DATA / "cloud-provider-ip-addresses" / folder
        if (d / f"{folder}_ips.csv").is_file() or (d / f"{folder}_ips.head60.csv").is_file():
            out.append(provider)
    return out


def sample_ips(n: int, rng: random.Random) -> List[str]:
    """A mix: a quarter each from the tor list, the aws list, datacenters.csv
    and random IPv4 (mostly unknown). Test-data generation only."""

    def hosts_from(lines: List[str]) -> List[str]:
        out = []
        for line in lines:
            try:
                net = ipaddress.ip_network(line.strip().strip('"'), strict=False)
            except ValueError:
                continue
            out.append(str(net.network_address + rng.randrange(net.num_addresses)))
        return out

    tor = [line.strip() for line in (DATA / "tor" / "torbulkexitlist").read_text().splitlines() if line.strip()]
    aws = (DATA / "cloud-provider-ip-addresses" / "aws" / "aws_ips.csv").read_text().splitlines()[1:]
    dc = (DATA / "server-ip-addresses" / "data" / "datacenters.csv").read_text().splitlines()[1:]
    pools = [tor, hosts_from([r.split(",")[0] for r in rng.sample(aws, 2000)]), hosts_from([r.split(",")[0] for r in rng.sample(dc, 2000)])]
    out = []
    for i in range(n):
        k = i % 4
        if k < 3:
            out.append(rng.choice(pools[k]))
        else:
            out.append(str(ipaddress.IPv4Address(rng.getrandbits(32))))
    rng.shuffle(out)
    return out


def per_call_ns(fn: Callable[[], Any], calls: int, rounds: int) -> float:
    results = []
    for _ in range(rounds):
        t = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        results.append((time.perf_counter_ns() - t) / calls)
    return statistics.median(results)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--bulk", type=int, default=10_000)
    args = ap.parse_args()
    if not (DATA / "tor" / "torbulkexitlist").is_file():
        print(f"skipped: no source snapshots at {DATA}")
        return 0

    from ipclassifier import create_ip_classifier
    from ipclassifier import classifier as impl

    httpd, url = serve(DATA)
    with tempfile.TemporaryDirectory() as tmp:
        c = create_ip_classifier(
            data_dir=tmp,
            enable_cache=False,
            tor_url=f"{url}/tor/torbulkexitlist",
            cloud_base_url=f"{url}/cloud-provider-ip-addresses",
            datacenter_url=f"{url}/server-ip-addresses/data/datacenters.csv",
            hosting_base_url=f"{url}/lists_vpn/output/datacenter",
            hosting_asn_url=f"{url}/lists_vpn/input/datacenter/ASN.txt",
            asn_v6_url=f"{url}/asn/ip2asn-v6.tsv.gz",
            # not in the snapshot folder: fail fast against the local server
            asn_v4_url=f"{url}/asn/ip2asn-v4.tsv.gz",
            onionoo_url=f"{url}/tor/onionoo-details.json",
            cloud_providers=providers(),
            attempts=1,
        )
        t = time.perf_counter()
        report = c.update_all_sources(force=True)
        print(f"refresh: {len(report['sources'])} sources, {report['failed']} failed "
              f"({', '.join(s['source'] for s in report['sources'] if s['status'] == 'failed') or '-'}), "
              f"{sum(s['entries'] for s in report['sources'])} entries, {time.perf_counter() - t:.2f}s")
        rng = random.Random(42)
        ips = sample_ips(args.bulk, rng)
        by_type: Dict[str, int] = {}
        for r in c.bulk_classify(ips):
            by_type[r.ip_type.value] = by_type.get(r.ip_type.value, 0) + 1
        print("sample mix:", ", ".join(f"{k} {v}" for k, v in sorted(by_type.items())))

        rows: List[Tuple[str, str]] = []
        for label, ip in (("cloud (aws)", next(i for i in ips if c.classify(i).provider == "aws")),
                          ("tor", next(i for i in ips if c.classify(i).ip_type.value == "tor")),
                          ("unknown", "198.51.100.7")):
            total = per_call_ns(partial(c.classify, ip), args.calls, args.rounds)
            rows.append((f"classify() {label}", f"{total:,.0f} ns"))
        # split for the aws address: the native call alone, and decoding alone
        ip = next(i for i in ips if c.classify(i).provider == "aws")
        b = ip.encode()
        buf = impl._single_buf()
        fn, h = c._fn, c._h
        blen = impl._LENS[len(b)]
        native = per_call_ns(
            lambda: fn(h, b, blen, impl._ZERO, None, impl._ZERO, buf.arr, impl._SINGLE_CAP_C, buf.n_ptr), args.calls, args.rounds
        )
        rec = bytes(buf.raw[: buf.n.value]).decode()
        decode = per_call_ns(lambda: impl._decode(rec), args.calls, args.rounds)
        rows.append(("  of which native call", f"{native:,.0f} ns"))
        rows.append(("  of which record decode", f"{decode:,.0f} ns"))
        # a mixed stream of single calls
        it = iter(ips * (args.calls * args.rounds // len(ips) + 2))
        mixed = per_call_ns(lambda: c.classify(next(it)), args.calls, args.rounds)
        rows.append(("classify() mixed sample", f"{mixed:,.0f} ns"))

        bulk_runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            c.bulk_classify(ips)
            bulk_runs.append((time.perf_counter() - t0) / len(ips) * 1e6)
        rows.append((f"bulk_classify({len(ips):,}) per IP", f"{statistics.median(bulk_runs):.2f} µs"))
        c.close()
    httpd.shutdown()

    width = max(len(k) for k, _ in rows)
    print(f"\n{'measure'.ljust(width)}  median")
    for k, v in rows:
        print(f"{k.ljust(width)}  {v}")
    print(f"\n(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
