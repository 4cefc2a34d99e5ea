#!/usr/bin/env python3
"""Benchmark: the cowrieprocessor backfill at production scale.

Builds the full-scale demo database (38,864 IPs, 1,682,827 sessions, the
upstream production figures) on SQLite, and on PostgreSQL when one is
available ($IPCLASSIFIER_TEST_POSTGRES_URL, else a throwaway server with
default durability settings), loads the real public lists from
../shared/data served by a local http.server, and times

* ``demo-db`` (generation + bulk load + indexes),
* ``ipclassifier backfill --db URL --cache-dir DIR --batch-size 10000 --progress``
  end to end (a subprocess, as an operator runs it),
* the same command again (idempotent re-run: every row fresh),
* a ``--dry-run`` on a fresh copy of the database.

Not collected by pytest (not named test_*). Usage:

    python tests_py/bench_backfill.py                   # full scale, SQLite + PostgreSQL
    python tests_py/bench_backfill.py --ips 5000 --sessions 200000 --backends sqlite
    python tests_py/bench_backfill.py --json .bench/backfill.json
    python tests_py/bench_backfill.py --backends sqlite --as-of-session-time

--as-of-session-time runs the backfill with that flag after importing the
four dated Tor lists of ../shared/data into the history at four dates
spread over the demo's session window (2024-11 to 2025-11: the real lists
are of 2026, after every demo session, which would leave one epoch), so
the sessions fall into four epochs as they would on a seeded history.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(HERE))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "python"), os.environ.get("PYTHONPATH", "")) if p)
# The sources ../shared/data has no snapshot of (see source_options).
os.environ["IPCLASSIFIER_DISABLED_SOURCES"] = "tor/onionoo,asn/peeringdb"

# The cloud lists ../shared/data has in full (azure, oracle and linode are missing there).
CLOUD_PROVIDERS = "aws,gcp,cloudflare,digitalocean,vultr"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(directory: Path) -> Tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(directory)))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    host, port = httpd.server_address[:2]
    return httpd, f"http://{host}:{port}"


def source_options(base: str) -> List[str]:
    """CLI options pointing every source at the real data (paths as the Go
    real-data tests and scripts/demo.sh use them). Sources ../shared/data
    lacks (Onionoo, PeeringDB) are disabled (IPCLASSIFIER_DISABLED_SOURCES,
    which the commands inherit); none reaches the internet."""
    return [
        "--tor-url", f"{base}/tor/torbulkexitlist",
        "--cloud-base-url", f"{base}/cloud-provider-ip-addresses",
        "--datacenter-url", f"{base}/server-ip-addresses/data/datacenters.csv",
        "--hosting-base-url", f"{base}/lists_vpn/output/datacenter",
        "--hosting-asn-url", f"{base}/lists_vpn/input/datacenter/ASN.txt",
        "--asn-v4-url", f"{base}/asn/ip2asn-v4.tsv.gz",
        "--asn-v6-url", f"{base}/asn/ip2asn-v6.tsv.gz",
        "--ipranges-base-url", f"{base}/ipranges",
        "--scanner-url", f"{base}/maltrail/mass_scanner.txt",
        "--vpn-base-url", f"{base}/lists_vpn/output/vpn",
        "--cloud-providers", CLOUD_PROVIDERS,
    ]  # fmt: skip


def cli(args: List[str], timeout: float = 3600) -> Tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "ipclassifier", *args], capture_output=True, text=True,
                       timeout=timeout)  # fmt: skip
    return time.perf_counter() - t, p


def refresh(options: List[str], data_dir: Path) -> Dict[str, Any]:
    t, p = cli(["--data-dir", str(data_dir), *options, "refresh", "all", "--force", "--no-cache"])
    print(p.stdout.rstrip())
    return {"seconds": round(t, 2), "exit": p.returncode, "output": p.stdout}


# The four dated Tor lists and the stand-in dates inside the demo window
# they are imported at with --as-of-session-time.
TOR_LISTS = (
    ("tor/torbulkexitlist", "2025-01-15T00:00:00Z"),
    ("tor/torbulkexitlist.2026-04-30", "2025-04-15T00:00:00Z"),
    ("tor/torbulkexitlist.2026-06-15", "2025-07-15T00:00:00Z"),
    ("tor/torbulkexitlist.2026-08-22", "2025-10-15T00:00:00Z"),
)


def import_history(options: List[str], data_dir: Path, data: Path) -> None:
    for rel, date in TOR_LISTS:
        _, p = cli(["--data-dir", str(data_dir), *options, "--no-cache", "refresh", "tor",
                    "--import", str(data / rel), "--date", date])  # fmt: skip
        print(p.stdout.rstrip() or p.stderr.rstrip())
        if p.returncode != 0:
            raise SystemExit(f"import of {rel} failed")


def postgres_url() -> Tuple[Optional[str], str, Any]:
    env = os.environ.get("IPCLASSIFIER_TEST_POSTGRES_URL")
    if env:
        return env.replace("postgres://", "postgresql://", 1), "IPCLASSIFIER_TEST_POSTGRES_URL", None
    from cowrie_fixtures import start_postgres

    server, url, reason = start_postgres(durable=True)
    if url is None:
        return None, reason, None
    return url, "throwaway server, default durability (fsync on)", server


def fresh_schema(url: str) -> str:
    import sqlalchemy as sa

    from cowrie_fixtures import _with_search_path

    schema = "bench_" + uuid.uuid4().hex[:8]
    eng = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    eng.dispose()
    return _with_search_path(url, schema)


def bench_backend(name: str, url: str, args: argparse.Namespace, options: List[str], data_dir: Path,
                  work: Path, copy_for_dry_run: Optional[str]) -> Dict[str, Any]:  # fmt: skip
    from ipclassifier.cowrie.demo_db import build_demo_db

    res: Dict[str, Any] = {"backend": name}
    print(f"\n== {name}: demo-db --ips {args.ips} --sessions {args.sessions} --seed {args.seed}", flush=True)
    rep = build_demo_db(url, ips=args.ips, sessions=args.sessions, seed=args.seed, replace=True)
    res["demo_db"] = {"seconds": round(rep.seconds, 2), "generate": round(rep.generate_seconds, 2),
                      "load": round(rep.load_seconds, 2), "indexes": round(rep.index_seconds, 2),
                      "top_asn": rep.top_asn, "top_asn_share": round(rep.top_asn_share, 4)}  # fmt: skip
    print(f"demo-db: {rep.seconds:.1f} s (generate {rep.generate_seconds:.1f}, load {rep.load_seconds:.1f}, "
          f"indexes {rep.index_seconds:.1f}); "
          f"top AS{rep.top_asn} {rep.top_asn_share * 100:.1f}% of sessions")  # fmt: skip
    if copy_for_dry_run:
        shutil.copyfile(url.replace("sqlite:///", "", 1), copy_for_dry_run.replace("sqlite:///", "", 1))

    cache_dir = work / f"cache-{name}"
    common = ["--data-dir", str(data_dir), *options, "backfill", "--db", url, "--cache-dir", str(cache_dir),
              "--batch-size", str(args.batch_size), "--no-refresh", "--json"]  # fmt: skip
    if args.as_of_session_time:
        common.append("--as-of-session-time")
    for label in ("backfill", "rerun"):
        print(f"-- {label}: ipclassifier backfill --db … --cache-dir … --batch-size {args.batch_size} --progress",
              flush=True)  # fmt: skip
        t, p = cli(common + ["--progress"])
        if p.returncode != 0:
            print(p.stderr)
            raise SystemExit(f"{label} on {name} exited {p.returncode}")
        r = json.loads(p.stdout)
        res[label] = {"wall_seconds": round(t, 2), **{k: r[k] for k in (
            "seconds", "classify_seconds", "temp_seconds", "inventory_seconds", "sessions_seconds", "commit_seconds",
            "classified", "fresh", "sessions_updated", "sessions_known_ip", "coverage", "batches",
            "as_of_groups", "as_of_history_short", "as_of_changed", "sessions_as_of")}}  # fmt: skip
        res[label]["ip_types"] = r["ip_types"]
        res[label]["session_types"] = r["session_types"]
        print(f"{label}: {t:.1f} s wall ({r['seconds']:.1f} s in backfill: classify {r['classify_seconds']:.2f}, "
              f"sessions UPDATE {r['sessions_seconds']:.1f}, inventory UPDATE {r['inventory_seconds']:.1f}, "
              f"temp {r['temp_seconds']:.1f}, commit {r['commit_seconds']:.1f}); classified {r['classified']:,}, "
              f"fresh {r['fresh']:,}, sessions set {r['sessions_updated']:,}, "
              f"coverage {r['coverage'] * 100:.2f}%")  # fmt: skip
    if copy_for_dry_run:
        t, p = cli(["--data-dir", str(data_dir), *options, "backfill", "--db", copy_for_dry_run,
                    "--batch-size", str(args.batch_size), "--dry-run", "--json"])  # fmt: skip
        if p.returncode == 0:
            r = json.loads(p.stdout)
            res["dry_run"] = {"wall_seconds": round(t, 2), "would_set": sum(r["sessions_would_update"].values())}
            print(f"dry run: {t:.1f} s wall, would set {res['dry_run']['would_set']:,} sessions")
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="the real-data folder")
    ap.add_argument("--ips", type=int, default=38_864)
    ap.add_argument("--sessions", type=int, default=1_682_827)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (databases)")
    ap.add_argument("--as-of-session-time", action="store_true",
                    help="backfill with --as-of-session-time over a history of four dated Tor lists")  # fmt: skip
    args = ap.parse_args()
    if not (args.data / "tor" / "torbulkexitlist").is_file():
        print(f"bench_backfill: {args.data} does not hold the real data (see ../shared/data/SOURCES.md)",
              file=sys.stderr)  # fmt: skip
        return 2
    lib = ROOT / "python" / "ipclassifier" / "_lib" / "libipclassifier.so"
    if not lib.is_file():
        subprocess.run(["bash", str(ROOT / "build.sh")], check=True)

    work = Path(tempfile.mkdtemp(prefix="ipc-bench-backfill-"))
    httpd, base = serve(args.data)
    options = source_options(base)
    data_dir = work / "data"
    results: Dict[str, Any] = {"ips": args.ips, "sessions": args.sessions, "batch_size": args.batch_size,
                               "cpus": os.cpu_count(), "python": sys.version.split()[0], "backends": []}  # fmt: skip
    pg_server = None
    try:
        print("== refresh of the real lists (served from", args.data, ")", flush=True)
        results["refresh"] = refresh(options, data_dir)
        results["as_of_session_time"] = args.as_of_session_time
        if args.as_of_session_time:
            import_history(options, data_dir, args.data)
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            if backend == "sqlite":
                import sqlite3

                results["sqlite_version"] = sqlite3.sqlite_version
                url = f"sqlite:///{work / 'cowrie.sqlite'}"
                results["backends"].append(
                    bench_backend("sqlite", url, args, options, data_dir, work, f"sqlite:///{work / 'dry.sqlite'}")
                )
            elif backend == "postgresql":
                base_url, how, pg_server = postgres_url()
                if base_url is None:
                    print(f"\n== postgresql: skipped ({how})")
                    results["postgresql_skipped"] = how
                    continue
                print(f"\n== postgresql: {how}")
                results["postgresql_server"] = how
                url = fresh_schema(base_url)
                results["backends"].append(bench_backend("postgresql", url, args, options, data_dir, work, None))
            else:
                print(f"unknown backend {backend!r}", file=sys.stderr)
                return 2
    finally:
        httpd.shutdown()
        if pg_server is not None:
            pg_server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work directory kept:", work)

    print("\n== summary")
    print(f"{'backend':<11} {'demo-db':>9} {'backfill':>10} {'re-run':>8} {'dry run':>8} {'sessions set':>13} "
          f"{'coverage':>9}")  # fmt: skip
    for r in results["backends"]:
        dry = f"{r['dry_run']['wall_seconds']:.1f} s" if "dry_run" in r else "-"
        print(f"{r['backend']:<11} {r['demo_db']['seconds']:>7.1f} s {r['backfill']['wall_seconds']:>8.1f} s "
              f"{r['rerun']['wall_seconds']:>6.1f} s {dry:>8} {r['backfill']['sessions_updated']:>13,} "
              f"{r['backfill']['coverage'] * 100:>8.2f}%")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        print("figures written to", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
