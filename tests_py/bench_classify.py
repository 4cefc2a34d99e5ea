#!/usr/bin/env python3
"""Benchmark of the Python binding (a script, not a test: conftest.py tells
pytest to ignore it).

    python3 tests_py/bench_classify.py [--calls 2000] [--rounds 15] [--bulk 10000] [--big 100000]
                                       [--no-tiers] [--json FILE]

Serves the real source snapshots in ../shared/data (relative to the repo
root) over a local http.server, refreshes an engine with the cache tiers off,
and measures:

* the refresh of every source from those local files, and the RSS the loaded
  sources add to the process;
* classify(): median time per call (the median over rounds of the mean of
  ``--calls`` calls), split into the native call alone and the Python side;
  and one pass over the sample on a new engine (cold: every answer made and
  every key kept for the first time), then a second (warm);
* bulk_classify() of ``--bulk`` addresses: median µs per address (the answers
  are complete IPClassification objects);
* the cache tiers (L1 Redis, L2 SQLite, L3 files): bulk_classify of 1,000
  addresses 95% of which are in L1; a classify() that misses every tier and
  queues its answer for all of them (p50), with all three tiers and with the
  embedded default (SQLite + files); a classify() answered by each tier
  alone (p50);
* bulk_classify of ``--big`` (100,000) new addresses with Redis + SQLite +
  files against no cache, and how full L1 and L2 are 15 s after the call
  returns (the writes go through the tiers' write-behind queues);
* 300 classify() of new addresses while the host holds a write transaction
  on the SQLite file the classifier's L2 lives in (as cowrieprocessor's
  engine does between commits) against the same without it.
  Redis is $IPCLASSIFIER_TEST_REDIS_URL or a throwaway redis-server
  (tests_py/cache_servers.py); without one the L1 rows are left out, saying
  why. ``--no-tiers`` leaves every cache-tier row out.

``--json FILE`` writes the rows as scripts/bench_table.py reads them: a list
of {"name", "value", "unit", "target"} (target "" when there is none).

Skips (exit 0, with a message) when the data folder is missing.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
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
sys.path.insert(0, str(ROOT / "tests_py"))  # cache_servers

CLOUD_FOLDERS = {
    "aws": "aws", "azure": "azure", "googlecloud": "gcp", "cloudflare": "cloudflare",
    "digitalocean": "digitalocean", "oracle": "oracle", "linode": "linode", "vultr": "vultr",
}  # fmt: skip


class Handler(SimpleHTTPRequestHandler):
    # The snapshot folder has only a 60-line sample of the azure list.
    azure = "/cloud-provider-ip-addresses/azure/azure_ips"
    aliases = {f"{azure}.csv": f"{azure}.head60.csv"}

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
    pools = [
        tor,
        hosts_from([r.split(",")[0] for r in rng.sample(aws, 2000)]),
        hosts_from([r.split(",")[0] for r in rng.sample(dc, 2000)]),
    ]
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


def p50_us(fn: Callable[[Any], Any], items: List[Any]) -> float:
    """Median µs of fn(item) over items, each call timed alone."""
    lat = []
    for item in items:
        t = time.perf_counter_ns()
        fn(item)
        lat.append(time.perf_counter_ns() - t)
    return statistics.median(lat) / 1e3


def rss_mb() -> float:
    """Resident set size of this process (Linux), in MB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


Row = Dict[str, Any]


def row(name: str, value: float, unit: str, target: str = "") -> Row:
    return {"name": name, "value": round(value, 3), "unit": unit, "target": target}


def fresh_ips(n: int, rng: random.Random, used: set) -> List[str]:  # type: ignore[type-arg]
    """n public IPv4 addresses never returned before (cache misses)."""
    out = []
    while len(out) < n:
        a = ipaddress.IPv4Address(rng.getrandbits(32))
        if a.is_global and a not in used:
            used.add(a)
            out.append(str(a))
    return out


def settle(c: Any, within: float = 120.0) -> None:
    """Wait until the classifier's write-behind queues are empty."""
    deadline = time.monotonic() + within
    while any(c.get_stats()[f"{t}_queued"] for t in ("l1", "l2", "l3")) and time.monotonic() < deadline:
        time.sleep(0.01)


def sqlite_keys(url: str) -> List[str]:
    """The cache keys of our rows in the SQLite file of url."""
    import sqlite3

    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        q = "SELECT cache_key FROM enrichment_cache WHERE service = 'ip_classification'"
        return [k for (k,) in db.execute(q)]
    finally:
        db.close()


def big_bulk_rows(source_opts: Dict[str, Any], n: int, tmp: str, redis: str) -> List[Row]:
    """bulk_classify of n new addresses through Redis + SQLite + files
    against no cache, then the fill of L1 and L2 after the call returns."""
    from cache_servers import KEY_PREFIX, Resp
    from ipclassifier import create_ip_classifier

    rng = random.Random(11)
    ips = fresh_ips(n, rng, set())
    none = create_ip_classifier(enable_cache=False, **source_opts)
    none.bulk_classify(ips[:1000])  # the index is paged in
    t = time.perf_counter()
    none.bulk_classify(ips)
    bare = time.perf_counter() - t
    none.close()
    with Resp(redis) as r:
        r.delete_ours()
    l2 = "sqlite:///" + os.path.join(tmp, "l2-big.sqlite")
    c = create_ip_classifier(cache_dir=os.path.join(tmp, "l3-big"), db_engine=l2, redis_url=redis, **source_opts)
    c.classify("198.51.100.1")  # connections and schema are up
    settle(c)
    t = time.perf_counter()
    c.bulk_classify(ips)
    tiered = time.perf_counter() - t
    returned = time.monotonic()
    wanted = set(ips)
    l1 = l2n = 0
    reached: Dict[str, float] = {}
    while time.monotonic() - returned < 15:
        with Resp(redis) as r:
            l1 = len(wanted.intersection(k.removeprefix(KEY_PREFIX) for k in r.our_keys()))
        l2n = len(wanted.intersection(sqlite_keys(l2)))
        for name, have in (("l1", l1), ("l2", l2n)):
            if have >= 0.99 * n and name not in reached:
                reached[name] = time.monotonic() - returned
        if len(reached) == 2:
            break
        time.sleep(0.25)
    s = c.get_stats()
    c.close()  # flushes L3 (one file per address) too
    label = f"bulk_classify({n:,}) new addresses"
    return [
        row(f"{label}, no cache", bare, "s"),
        row(f"{label}, Redis + SQLite + files", tiered, "s"),
        row(f"{label}: tiers / no cache", tiered / bare, "×", "≤ 10×"),
        row(f"  L1 Redis holds, ≤ 15 s after the call (reached 99% after {reached.get('l1', float('nan')):.1f} s)",
            100 * l1 / n, "%", "≥ 99%"),
        row(f"  L2 SQLite holds, ≤ 15 s after the call (reached 99% after {reached.get('l2', float('nan')):.1f} s)",
            100 * l2n / n, "%", "≥ 99%"),
        row("  dropped by the write-behind queues (l1/l2/l3)",
            s["l1_dropped"] + s["l2_dropped"] + s["l3_dropped"], "answers", "0"),
    ]  # fmt: skip


def host_lock_rows(source_opts: Dict[str, Any], tmp: str, calls: int = 300) -> List[Row]:
    """calls classify() of new addresses with L2 in a SQLite file another
    connection of the process (the host) holds a write transaction on,
    against the same with no transaction open."""
    import sqlite3

    from ipclassifier import create_ip_classifier

    rng = random.Random(13)
    used: set = set()  # type: ignore[type-arg]
    path = os.path.join(tmp, "host.sqlite")
    c = create_ip_classifier(cache_dir=os.path.join(tmp, "l3-host"), db_engine="sqlite:///" + path, **source_opts)
    c.classify("198.51.100.2")  # the table exists
    settle(c)

    def run() -> float:
        ips = fresh_ips(calls, rng, used)
        t = time.perf_counter()
        for ip in ips:
            c.classify(ip)
        return time.perf_counter() - t

    free = statistics.median(run() for _ in range(3))
    host = sqlite3.connect(path, isolation_level=None)
    host.execute("BEGIN IMMEDIATE")
    host.execute("INSERT INTO enrichment_cache (service, cache_key, cache_value, created_at, expires_at) "
                 "VALUES ('host', 'k', '{}', '2030-01-01 00:00:00', '2030-01-01 00:00:00')")  # fmt: skip
    held = statistics.median(run() for _ in range(3))
    host.execute("ROLLBACK")
    host.close()
    c.close()
    return [
        row(f"{calls} classify(), L2 in the host's SQLite file, no host transaction", free * 1e3, "ms"),
        row(f"{calls} classify(), the host holding a write transaction", held * 1e3, "ms"),
        row(f"{calls} classify(): held / free", held / free, "×", "≤ 3×"),
    ]


def cache_rows(source_opts: Dict[str, Any], sample: List[str], tmp: str, big: int) -> Tuple[List[Row], List[str]]:
    """The cache-tier measurements (see the module doc), and notes."""
    from cache_servers import Resp, find_redis_url
    from ipclassifier import create_ip_classifier

    rows: List[Row] = []
    notes: List[str] = []
    rng = random.Random(7)
    used: set = set()  # type: ignore[type-arg]
    n = 1000

    def make(name: str, **cache: Any) -> Any:
        # on the snapshots the refresh left in data_dir; no cache argument
        # means the embedded default tiers (under data_dir)
        return create_ip_classifier(**dict(source_opts, **cache))

    def l3(name: str) -> str:
        return os.path.join(tmp, "l3-" + name)

    def l2(name: str) -> str:
        return "sqlite:///" + os.path.join(tmp, "l2-" + name + ".sqlite")

    redis, why, _ = find_redis_url()
    if redis is not None:
        with Resp(redis) as r:
            r.delete_ours()
        c = make("all", cache_dir=l3("all"), db_engine=l2("all"), redis_url=redis)
        lower = make("lower", cache_dir=l3("all"), db_engine=l2("all"))  # the same L2 and L3, no L1
        warm = sample[:950]
        c.bulk_classify(warm)  # queued for every tier
        settle(c)
        in_l2, fresh = [], []
        # 50 answers per round in L2 and L3 only: they cascade and are warmed to L1
        rests = [fresh_ips(50, rng, used) for _ in range(15)]
        lower.bulk_classify([ip for rest in rests for ip in rest])
        lower.close()  # writes what it queued
        for rest in rests:
            t = time.perf_counter_ns()
            out = c.bulk_classify(warm + rest, as_list=True)
            in_l2.append((time.perf_counter_ns() - t) / 1e6)
            assert out[0].cache_tier == "l1" and out[-1].cache_tier == "l2", (out[0], out[-1])
        for _ in range(15):
            # 50 never seen: computed, then written to all three tiers
            t = time.perf_counter_ns()
            out = c.bulk_classify(warm + fresh_ips(50, rng, used), as_list=True)
            fresh.append((time.perf_counter_ns() - t) / 1e6)
            assert out[0].cache_tier == "l1" and out[-1].cache_tier is None, (out[0], out[-1])
        rows.append(row("bulk_classify(1,000): 95% L1 hits, 5% L2 hits", statistics.median(in_l2), "ms", "≤ 5 ms"))
        label = "bulk_classify(1,000): 95% L1 hits, 5% misses writing all tiers"
        rows.append(row(label, statistics.median(fresh), "ms"))
        ips = fresh_ips(n, rng, used)
        label = "classify() miss, queues for L1 Redis + L2 SQLite + L3 files (p50)"
        rows.append(row(label, p50_us(c.classify, ips), "µs"))
        settle(c)
        rows.append(row("classify() L1 Redis hit (p50)", p50_us(c.classify, ips), "µs"))
        c.close()
        with Resp(redis) as r:
            r.delete_ours()
        rows += big_bulk_rows(source_opts, big, tmp, redis)
        with Resp(redis) as r:
            r.delete_ours()
    else:
        notes.append(f"L1 rows skipped: {why}")

    c = make("default")  # the embedded default tiers: SQLite + files under the data dir
    ips = fresh_ips(n, rng, used)
    rows.append(row("classify() miss, queues for default tiers SQLite + files (p50)", p50_us(c.classify, ips), "µs"))
    c.close()
    c = make("l2", db_engine=l2("l2only"))
    ips = fresh_ips(n, rng, used)
    c.bulk_classify(ips)
    settle(c)
    rows.append(row("classify() L2 SQLite hit (p50)", p50_us(c.classify, ips), "µs"))
    c.close()
    c = make("l3", cache_dir=l3("l3only"))
    ips = fresh_ips(n, rng, used)
    c.bulk_classify(ips)
    settle(c)
    rows.append(row("classify() L3 file hit (p50)", p50_us(c.classify, ips), "µs"))
    c.close()
    rows += host_lock_rows(source_opts, tmp)
    return rows, notes


def per_ip_us(fn: Callable[[], Any], n: int, runs: int = 7) -> float:
    """Median µs per address of fn(), which handles n addresses."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(times)


def side_by_side_rows(c: Any, ips: List[str], calls: int, rounds: int) -> List[Row]:
    """classify_columns, bulk_classify and classify() against the seed's
    pure-Python design (tests_py/bench_seed.py: pytricia, a set, the
    AS-name regexes) on the same addresses, in this one run; the ratios
    are the speed-ups over it."""
    from bench_seed import SeedClassifier

    seed = SeedClassifier(DATA, {f: p for f, p in CLOUD_FOLDERS.items() if p in providers()})
    n = len(ips)
    ours = {
        "classify_columns": per_ip_us(lambda: c.classify_columns(ips), n),
        "bulk_classify": per_ip_us(lambda: c.bulk_classify(ips), n),
    }
    payload = ("\n".join(ips) + "\n").encode()
    native = {  # bulk_classify asks for the evidence column, classify_columns does not
        "classify_columns": per_ip_us(lambda: c._columns_call(c._h, payload, n, False), n),
        "bulk_classify": per_ip_us(lambda: c._columns_call(c._h, payload, n, True), n),
    }
    it = iter(ips * (calls * rounds // n + 2))
    ours["classify()"] = per_call_ns(lambda: c.classify(next(it)), calls, rounds) / 1e3
    base = {"bulk_classify": per_ip_us(lambda: seed.bulk_classify(ips), n, runs=3)}
    it = iter(ips * (calls * rounds // n + 2))
    base["classify()"] = per_call_ns(lambda: seed.classify(next(it)), calls, rounds) / 1e3
    base["classify_columns"] = base["bulk_classify"]  # the seed had no columnar path: its bulk is the baseline
    targets = {"classify_columns": "≤ 0.4 µs", "bulk_classify": "≤ 1.0 µs", "classify()": "≤ 2 µs"}
    out = []
    for name, us in ours.items():
        label = f"{name} ({n:,} mixed addresses) per IP, no cache"
        if name == "classify()":
            label = "classify() mixed sample, no cache"
        out.append(row(label, us, "µs", targets[name]))
        if name != "classify()":
            out.append(row("  of which the columnar batch (engine call + block)", native[name], "µs"))
        seed_name = "bulk" if name == "classify_columns" else name
        out.append(row(f"  pure-Python seed design, {seed_name}", base[name], "µs"))
        out.append(row("  speed-up over it", base[name] / us, "×", "≥ 20×"))
    return out


def pass_rows(source_opts: Dict[str, Any], ips: List[str]) -> List[Row]:
    """classify() once over every address, cold (a new engine on the
    snapshots the refresh left, which has made no answer yet, and no key
    kept on the Python side), then once more (warm)."""
    from ipclassifier import _wire, create_ip_classifier

    c = create_ip_classifier(enable_cache=False, **source_opts)
    _wire._bodies.clear()
    out = []
    for label in ("cold", "warm"):
        t = time.perf_counter()
        for ip in ips:
            c.classify(ip)
        us = (time.perf_counter() - t) / len(ips) * 1e6
        out.append(row(f"classify() one pass over the {len(ips):,} addresses, {label}", us, "µs"))
    c.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--bulk", type=int, default=10_000)
    ap.add_argument("--big", type=int, default=100_000, help="new addresses of the bulk through every tier")
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON (for scripts/bench_table.py)")
    ap.add_argument("--no-tiers", action="store_true", help="leave out the cache-tier rows (the decode path only)")
    args = ap.parse_args()
    if not (DATA / "tor" / "torbulkexitlist").is_file():
        print(f"skipped: no source snapshots at {DATA}")
        if args.json:
            Path(args.json).write_text("[]\n")
        return 0

    from ipclassifier import _wire, create_ip_classifier
    from ipclassifier import classifier as impl

    httpd, url = serve(DATA)
    rows: List[Row] = []
    notes: List[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        source_opts: Dict[str, Any] = dict(
            data_dir=os.path.join(tmp, "data"),
            auto_refresh=False,  # the bench refreshes when it means to
            tor_url=f"{url}/tor/torbulkexitlist",
            cloud_base_url=f"{url}/cloud-provider-ip-addresses",
            datacenter_url=f"{url}/server-ip-addresses/data/datacenters.csv",
            hosting_base_url=f"{url}/lists_vpn/output/datacenter",
            hosting_asn_url=f"{url}/lists_vpn/input/datacenter/ASN.txt",
            asn_v6_url=f"{url}/asn/ip2asn-v6.tsv.gz",
            asn_v4_url=f"{url}/asn/ip2asn-v4.tsv.gz",
            ipranges_base_url=f"{url}/ipranges",
            scanner_url=f"{url}/maltrail/mass_scanner.txt",
            vpn_base_url=f"{url}/lists_vpn/output/vpn",
            # no Onionoo nor PeeringDB snapshot in the folder (no source reaches the internet)
            disabled_sources=["tor/onionoo", "asn/peeringdb"],
            cloud_providers=providers(),
            attempts=1,
        )
        c = create_ip_classifier(enable_cache=False, **source_opts)
        rss0 = rss_mb()
        t = time.perf_counter()
        report = c.refresh(force=True)  # never raises; every source is served from the folder
        refresh_s = time.perf_counter() - t
        rss1 = rss_mb()
        print(
            f"refresh: {len(report['sources'])} sources, {report['failed']} failed "
            f"({', '.join(s['source'] for s in report['sources'] if s['status'] == 'failed') or '-'}), "
            f"{sum(s['entries'] for s in report['sources'])} entries, {refresh_s:.2f}s"
        )
        rows.append(row("refresh of every source from local files", refresh_s, "s", "≤ 2 s"))
        rows.append(row("RSS added by loading every source", rss1 - rss0, "MB", "≤ 100 MB"))
        rng = random.Random(42)
        ips = sample_ips(args.bulk, rng)
        by_type: Dict[str, int] = {}
        for r in c.bulk_classify(ips, as_list=True):
            by_type[r.ip_type.value] = by_type.get(r.ip_type.value, 0) + 1
        print("sample mix:", ", ".join(f"{k} {v}" for k, v in sorted(by_type.items())))

        for label, ip in (
            ("cloud (aws)", next(i for i in ips if c.classify(i).provider == "aws")),
            ("tor", next(i for i in ips if c.classify(i).ip_type.value == "tor")),
            ("unknown", "198.51.100.7"),
        ):
            total = per_call_ns(partial(c.classify, ip), args.calls, args.rounds)
            rows.append(row(f"classify() {label}, no cache", total / 1e3, "µs", "≤ 2 µs"))
        # split for the aws address: the native call alone, and decoding alone
        ip = next(i for i in ips if c.classify(i).provider == "aws")
        b = ip.encode()
        buf = impl._single_buf()
        fn, h = c._fn, c._h
        blen = impl._LENS[len(b)]
        native = per_call_ns(
            lambda: fn(h, b, blen, impl._ZERO, None, impl._ZERO, 0, buf.arr, impl._SINGLE_CAP_C, buf.n_ptr),
            args.calls,
            args.rounds,
        )  # fmt: skip
        out, n = bytearray(buf.raw[: buf.n.value]), buf.n.value
        decode = per_call_ns(lambda: _wire.keyed(out, n, ip), args.calls, args.rounds)
        rows.append(row("  of which native call (the head of a kept answer)", native / 1e3, "µs"))
        rows.append(row("  of which the answer from its key and the head", decode / 1e3, "µs"))
        # the floor of any call through ctypes into the Go library: an export that does nothing
        # (Version), called as classify() calls Classify (no argtypes, arguments of their C types)
        version = c._lib.cdll._FuncPtr(("Version", c._lib.cdll))
        cap = impl._SINGLE_CAP_C
        empty = per_call_ns(lambda: version(buf.arr, cap, buf.n_ptr), args.calls, args.rounds)
        rows.append(row("  floor: an empty call into the library (Version)", empty / 1e3, "µs"))

        rows += side_by_side_rows(c, ips, args.calls, args.rounds)
        rows += pass_rows(source_opts, ips)
        c.close()

        if args.no_tiers:
            notes.append("cache-tier rows left out (--no-tiers)")
        else:
            more, notes = cache_rows(source_opts, ips, tmp, args.big)
            rows += more
    httpd.shutdown()

    width = max(len(r["name"]) for r in rows)
    print(f"\n{'measure'.ljust(width)}  median")
    for r in rows:
        target = f"   (target {r['target']})" if r["target"] else ""
        print(f"{r['name'].ljust(width)}  {r['value']:,.3g} {r['unit']}{target}")
    for note in notes:
        print(note)
    print(f"\n(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
