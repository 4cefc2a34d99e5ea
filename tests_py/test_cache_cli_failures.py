"""`cache cleanup` and `cache clear` when a tier fails: the report of what
was done on stdout, the failed tier named on stderr, exit status 1.

The servers are loopback ports nothing listens on, so these tests need no
Redis or PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

from cache_servers import dead_redis_url

DAY = 24 * 3600


def dead_postgres_url() -> str:
    """A PostgreSQL URL on a loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return f"postgresql://nobody@127.0.0.1:{port}/nothing"


def cli(tmp_path: Path, *args: str) -> "subprocess.CompletedProcess[str]":
    cmd = [sys.executable, "-m", "ipclassifier", "--data-dir", str(tmp_path / "data"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=str(tmp_path))


def l3_answer(l3: Path, ip: str, age_days: float) -> Path:
    """An L3 file of ours for the IPv4 address ip, written age_days ago."""
    p = l3.joinpath(*ip.split(".")).with_suffix(".json")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"ip": ip, "ip_type": "cloud"}))
    t = time.time() - age_days * DAY
    os.utime(p, (t, t))
    return p


def l3_tree(l3: Path) -> List[str]:
    return sorted(p.relative_to(l3).as_posix() for p in l3.rglob("*.json"))


def report_of(p: "subprocess.CompletedProcess[str]") -> Dict[str, Any]:
    report: Dict[str, Any] = json.loads(p.stdout)
    return report


def test_cli_cache_cleanup_exits_1_when_the_sql_tier_fails_and_still_cleans_l3(tmp_path: Path) -> None:
    l3 = tmp_path / "l3"
    l3_answer(l3, "203.0.113.5", age_days=40)  # past the 30-day L3 lifetime
    l3_answer(l3, "198.51.100.1", age_days=1)
    p = cli(tmp_path, "--cache-dir", str(l3), "--db", dead_postgres_url(), "cache", "cleanup")
    assert p.returncode == 1, p.stderr
    report = report_of(p)
    # What was done is still printed: L3 was cleaned while L2 failed.
    assert {k: v for k, v in report.items() if k != "error"} == {
        "l1_keys": 0, "l2_rows": 0, "l3_files": 1, "l3_dirs": 3, "l3_skipped": 0,
    }  # fmt: skip
    assert report["error"].startswith("cache: L2 postgres: cleanup: create table enrichment_cache: ")
    assert report["error"].count("L2 postgres") == 1, report["error"]
    assert "connection refused" in report["error"]
    assert "ipclassifier: error: cache cleanup: cache: L2 postgres: cleanup: " in p.stderr
    assert l3_tree(l3) == ["198/51/100/1.json"]


def test_cli_cache_cleanup_and_clear_with_an_unreachable_redis(tmp_path: Path) -> None:
    l3, redis = tmp_path / "l3", dead_redis_url()
    l3_answer(l3, "203.0.113.5", age_days=40)
    l3_answer(l3, "198.51.100.1", age_days=1)
    opts = ["--cache-dir", str(l3), "--redis-url", redis]

    # Cleanup leaves L1 to Redis's own expiry: a Redis that is down fails nothing.
    p = cli(tmp_path, *opts, "cache", "cleanup")
    assert p.returncode == 0, p.stderr
    assert report_of(p) == {"l1_keys": 0, "l2_rows": 0, "l3_files": 1, "l3_dirs": 3, "l3_skipped": 0, "error": None}
    assert "ipclassifier: error" not in p.stderr
    assert l3_tree(l3) == ["198/51/100/1.json"]

    # Clear must delete the Redis keys: exit 1, L1 named, L3 still cleared.
    p = cli(tmp_path, *opts, "cache", "clear")
    assert p.returncode == 1, p.stderr
    report = report_of(p)
    assert (report["l1_keys"], report["l3_files"], report["l3_dirs"]) == (0, 1, 3)
    assert report["error"].startswith("clear cache: cache: L1 redis: clear: scan: ")
    assert report["error"].count("L1 redis") == 1, report["error"]
    assert "connection refused" in report["error"]
    assert "ipclassifier: error: cache clear: clear cache: cache: L1 redis: clear: scan: " in p.stderr
    assert l3_tree(l3) == []


def test_cache_cleanup_report_has_error_none_when_every_tier_is_cleaned(tmp_path: Path) -> None:
    from ipclassifier import create_ip_classifier

    l3 = tmp_path / "l3"
    l3_answer(l3, "203.0.113.5", age_days=40)
    with create_ip_classifier(data_dir=tmp_path / "data", cache_dir=l3) as c:
        report = c.cache_cleanup()
    assert report == {"l1_keys": 0, "l2_rows": 0, "l3_files": 1, "l3_dirs": 3, "l3_skipped": 0, "error": None}
