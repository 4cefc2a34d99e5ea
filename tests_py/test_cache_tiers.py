"""Cache tiers through the Python API and CLI, against real servers.

L1 is a real Redis (cache_servers.redis_url: $IPCLASSIFIER_TEST_REDIS_URL or
a throwaway redis-server), L2 a real SQLite file and a real PostgreSQL
(cowrie_fixtures.pg_url: $IPCLASSIFIER_TEST_POSTGRES_URL or a throwaway
server), L3 a real directory. Tests skip, saying why, when a server cannot
be had — or fail under IPCLASSIFIER_REQUIRE_SERVERS=1.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from cache_servers import KEY_PREFIX, Resp, dead_redis_url, redis_url, settle
from cowrie_fixtures import pg_url  # noqa: F401  (pytest fixture)

sa = pytest.importorskip("sqlalchemy")

SERVICE = "ip_classification"


def enrichment_cache_table(metadata: Any) -> Any:
    """The upstream SQLAlchemy model of enrichment_cache (cowrieprocessor)."""
    return sa.Table(
        "enrichment_cache",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("cache_key", sa.String(256), nullable=False),
        sa.Column("cache_value", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("service", "cache_key", name="uq_enrichment_cache_service_key"),
    )


def seed_l2(
    url: str, ip: str, provider: str, expires_in: timedelta = timedelta(days=1), data_id: Optional[str] = None
) -> None:
    """Create the upstream table if needed and insert an answer for ip that
    the index could never give (provider), as the upstream Python would —
    or, with data_id, as a classifier holding that data would (the engine
    serves only answers computed from the data it holds)."""
    eng = sa.create_engine(url)
    md = sa.MetaData()
    table = enrichment_cache_table(md)
    md.create_all(eng)
    now = datetime.now(timezone.utc)
    value = {
        "ip": ip,
        "ip_type": "cloud",
        "provider": provider,
        "confidence": 0.99,
        "source": f"cloud_ranges_{provider}",
        "classified_at": now.isoformat().replace("+00:00", "Z"),
    }
    if data_id is not None:
        value["data_id"] = data_id
    with eng.begin() as c:
        c.execute(
            table.insert(),
            {
                "service": SERVICE,
                "cache_key": ip,
                "cache_value": value,
                "created_at": now,
                "expires_at": now + expires_in,
            },  # fmt: skip
        )
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def l2_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each L2 test runs on a real SQLite file and a real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'l2.sqlite'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def redis() -> Iterator[str]:
    """A real Redis with no ip_classification:* keys."""
    url = redis_url()
    with Resp(url) as r:
        r.delete_ours()
    yield url
    with Resp(url) as r:
        r.delete_ours()


def tiers(make_classifier: Callable[..., Any], tmp_path: Path, **kw: Any) -> Any:
    """A classifier on the fixture sources (nothing downloaded: every
    computed answer is unknown) with the cache tiers of kw."""
    kw.setdefault("cache_dir", str(tmp_path / "l3"))
    return make_classifier(enable_cache=True, **kw)


def test_an_answer_only_in_l2_is_served_counted_and_warmed_to_l1(
    make_classifier: Callable[..., Any], tmp_path: Path, l2_url: str, redis: str
) -> None:
    ip = "203.0.113.77"
    c = tiers(make_classifier, tmp_path, db_engine=l2_url, enable_redis=True, redis_url=redis)
    seed_l2(l2_url, "203.0.113.76", "from-upstream")  # no data identity: never served
    assert c.classify("203.0.113.76").provider is None
    assert c.get_stats()["cache_outdated"] == 1
    seed_l2(l2_url, ip, "seeded-l2", data_id=c.get_stats()["data_id"])

    r = c.classify(ip)
    assert (r.provider, r.cache_tier, r.ip_type.value) == ("seeded-l2", "l2", "cloud")
    s = c.get_stats()
    # The tiers count what they found; cache_outdated, what of it was not served.
    assert (s["cache_hits"], s["cache_misses"], s["l1_hits"], s["l2_hits"], s["l3_hits"]) == (2, 0, 0, 2, 0)
    assert s["cache_outdated"] == 1
    settle(c)
    with Resp(redis) as rr:
        warmed = json.loads(str(rr.command("GET", KEY_PREFIX + ip)))
    assert warmed["provider"] == "seeded-l2"

    r2 = c.classify(ip)
    assert (r2.provider, r2.cache_tier) == ("seeded-l2", "l1")
    s = c.get_stats()
    assert (s["cache_hits"], s["l1_hits"], s["l2_hits"]) == (3, 1, 2)
    assert s["l1_errors"] == s["l2_errors"] == s["l3_errors"] == 0
    assert s["l1_get_p50_us"] > 0 and s["l2_get_p50_us"] > 0

    # bulk_classify reads the same tiers (one round trip each).
    [b] = c.bulk_classify([ip], as_list=True)
    assert (b.provider, b.cache_tier) == ("seeded-l2", "l1")


def test_an_expired_l2_row_is_not_served(make_classifier: Callable[..., Any], tmp_path: Path, l2_url: str) -> None:
    ip = "203.0.113.78"
    seed_l2(l2_url, ip, "expired", expires_in=timedelta(seconds=-1))
    c = tiers(make_classifier, tmp_path, db_engine=l2_url)
    r = c.classify(ip)
    assert r.cache_tier is None and r.provider != "expired"
    assert c.get_stats()["cache_misses"] == 1


@pytest.mark.filterwarnings("ignore:db_engine is an SQLite engine:RuntimeWarning")
def test_db_engine_may_be_an_sqlalchemy_engine(
    make_classifier: Callable[..., Any], tmp_path: Path, l2_url: str
) -> None:
    eng = sa.create_engine(l2_url)
    try:
        c = tiers(make_classifier, tmp_path, db_engine=eng, cache_dir=None)
        ip = "198.51.100.23"
        first = c.classify(ip)
        assert first.cache_tier is None  # computed, then written to L2
        settle(c)
        with eng.connect() as conn:
            n = conn.execute(
                sa.text("SELECT count(*) FROM enrichment_cache WHERE service = :s AND cache_key = :k"),
                {"s": SERVICE, "k": ip},
            ).scalar_one()
        assert n == 1
        # A second classifier on the same Engine finds it there.
        other = tiers(make_classifier, tmp_path, db_engine=eng, cache_dir=None, data_dir=str(tmp_path / "other"))
        again = other.classify(ip)
        assert again.cache_tier == "l2" and again.ip_type == first.ip_type
        assert again.classified_at == first.classified_at
    finally:
        eng.dispose()


def test_redis_down_classify_still_answers_from_the_other_tiers(
    make_classifier: Callable[..., Any], tmp_path: Path
) -> None:
    c = tiers(make_classifier, tmp_path, db_engine=f"sqlite:///{tmp_path / 'l2.sqlite'}", redis_url=dead_redis_url())
    t = time.monotonic()
    answers = [c.classify("198.51.100.9")]
    settle(c)  # a Redis that is down drops its queue; L2 holds the answer
    answers += [c.classify("198.51.100.9") for _ in range(19)]
    elapsed = time.monotonic() - t
    assert answers[0].cache_tier is None
    assert all(a.cache_tier == "l2" for a in answers[1:])
    assert list(c.bulk_classify(["198.51.100.9", "198.51.100.10"])) == ["198.51.100.9", "198.51.100.10"]
    s = c.get_stats()
    assert s["cache"]["l1"]["up"] is False and s["l1_errors"] >= 1
    assert s["l2_hits"] >= 19
    assert elapsed < 3, f"a dead Redis must cost little: 20 calls took {elapsed:.2f}s"


def test_l3_alone_serves_after_restart(make_classifier: Callable[..., Any], tmp_path: Path) -> None:
    ip = "2001:db8::77"
    c = tiers(make_classifier, tmp_path)
    assert c.classify(ip).cache_tier is None
    c.close()
    files = [p for p in (tmp_path / "l3").rglob("*.json")]
    assert [p.relative_to(tmp_path / "l3").as_posix() for p in files] == [
        "v6/2001/0db8/0000/0000/0000/0000/0000/0077.json"
    ]
    again = tiers(make_classifier, tmp_path)
    assert again.classify(ip).cache_tier == "l3"
    assert again.get_stats()["l3_hits"] == 1


# ---------------------------------------------------------------------------
# CLI: cache stats, cache cleanup


def run_cli(*args: str) -> Dict[str, Any]:
    p = subprocess.run([sys.executable, "-m", "ipclassifier", *args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out: Dict[str, Any] = json.loads(p.stdout)
    return out


def test_cli_cache_stats_and_cleanup(tmp_path: Path) -> None:
    data, l3, db = tmp_path / "data", tmp_path / "l3", tmp_path / "l2.sqlite"
    opts = ["--data-dir", str(data), "--cache-dir", str(l3), "--db", f"sqlite:///{db}"]
    p = subprocess.run(
        [sys.executable, "-m", "ipclassifier", *opts, "classify", "-f", "jsonl", "198.51.100.1", "198.51.100.2"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr

    stats = run_cli(*opts, "cache", "stats")
    assert stats["l2"]["enabled"] and stats["l2"]["backend"] == "sqlite"
    assert stats["l3"]["enabled"] and not stats["l1"]["enabled"]
    assert {"cache_hits", "cache_misses", "l1_hits", "l2_hits", "l3_hits"} <= set(stats)

    # Age one file past the L3 lifetime (30 days) and one row past its expiry.
    old = time.time() - 40 * 86400
    f = l3 / "198" / "51" / "100" / "1.json"
    os.utime(f, (old, old))
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE enrichment_cache SET expires_at = '2000-01-01 00:00:00.000000' WHERE cache_key = '198.51.100.2'"
        )
    report = run_cli(*opts, "cache", "cleanup")
    assert (report["l2_rows"], report["l3_files"]) == (1, 1)
    assert not f.exists() and (l3 / "198" / "51" / "100" / "2.json").exists()
    with sqlite3.connect(db) as conn:
        assert [r[0] for r in conn.execute("SELECT cache_key FROM enrichment_cache")] == ["198.51.100.1"]


# ---------------------------------------------------------------------------
# Clearing the tiers: cache_clear() and `cache clear [--type TYPE]`


# Reads a SQLite database in a process of its own: this process has the Go
# engine's own copy of SQLite open on the same file, and two copies of SQLite
# in one process break each other's POSIX locks (sqlite.org/howtocorrupt.html
# §2.2.1) — a read from here may see a stale state.
_SQLITE_DUMP = """
import json, sqlite3, sys
with sqlite3.connect(sys.argv[1]) as conn:
    rows = conn.execute("SELECT service, cache_key, cache_value FROM enrichment_cache").fetchall()
print(json.dumps({f"{s}/{k}": json.loads(v) for s, k, v in rows}))
"""


def l2_rows(url: str) -> Dict[str, Dict[str, Any]]:
    """Every row of enrichment_cache as {"service/cache_key": value}."""
    if url.startswith("sqlite:///"):
        p = subprocess.run(
            [sys.executable, "-c", _SQLITE_DUMP, url[len("sqlite:///") :]], capture_output=True, text=True, timeout=60
        )
        assert p.returncode == 0, p.stderr
        rows: Dict[str, Dict[str, Any]] = json.loads(p.stdout)
        return rows
    eng = sa.create_engine(url)
    try:
        with eng.connect() as c:
            rows = c.execute(sa.text("SELECT service, cache_key, cache_value FROM enrichment_cache")).all()
    finally:
        eng.dispose()
    return {f"{s}/{k}": (json.loads(v) if isinstance(v, str) else v) for s, k, v in rows}


def l3_files(root: Path) -> Dict[str, Dict[str, Any]]:
    """Every cache file under root as {relative path: value}."""
    return {p.relative_to(root).as_posix(): json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))}


def l1_values(url: str) -> Dict[str, Dict[str, Any]]:
    """Every ip_classification:* key as {ip: value}."""
    with Resp(url) as r:
        return {k[len(KEY_PREFIX) :]: json.loads(str(r.command("GET", k))) for k in r.our_keys()}


def insert_other_service_row(url: str, service: str, key: str, value: Dict[str, Any]) -> None:
    eng = sa.create_engine(url)
    md = sa.MetaData()
    table = enrichment_cache_table(md)
    md.create_all(eng)
    now = datetime.now(timezone.utc)
    with eng.begin() as c:
        c.execute(
            table.insert(),
            {
                "service": service,
                "cache_key": key,
                "cache_value": value,
                "created_at": now,
                "expires_at": now + timedelta(days=1),
            },  # fmt: skip
        )
    eng.dispose()


def test_cache_clear_unknown_relabels_cached_unknown_answers_and_keeps_the_rest(
    make_classifier: Callable[..., Any], tmp_path: Path, l2_url: str, redis: str
) -> None:
    cloud_ip, tor_ip, nowhere_ip = "3.5.140.1", "185.220.101.1", "198.51.100.1"
    other = {"ip_type": "unknown", "count": 3}  # another service's row, even one that looks like ours
    insert_other_service_row(l2_url, "dshield", cloud_ip, other)
    c = tiers(make_classifier, tmp_path, db_engine=l2_url, enable_redis=True, redis_url=redis)
    l3 = tmp_path / "l3"

    # Before the lists arrive both addresses are unknown, and cached so in every tier.
    assert [a.ip_type for a in c.bulk_classify([cloud_ip, nowhere_ip], as_list=True)] == ["unknown", "unknown"]
    assert c.refresh("all", force=True)["failed"] == 0
    assert c.classify(tor_ip).ip_type == "tor"
    fresh = c.classify(cloud_ip)
    assert (fresh.ip_type, fresh.cache_tier) == ("cloud", None)  # the unknown cached before the lists is not served
    settle(c)

    with pytest.raises(ValueError, match=r"invalid ip_type 'Unknown'.*tor, cloud, datacenter, residential, unknown"):
        c.cache_clear("Unknown")
    assert len(l1_values(redis)) == 3  # nothing cleared

    report = c.cache_clear("unknown")  # nowhere_ip's unknown, from before the lists: never served again anyway
    assert report == {
        "ip_type": "unknown",
        "l1_keys": 1,
        "l2_rows": 1,
        "l3_files": 1,
        "l3_dirs": 3,
        "l3_skipped": 0,
        "error": None,
    }  # fmt: skip  (l3_dirs: 198/51/100 is left empty)
    assert {ip: v["ip_type"] for ip, v in l1_values(redis).items()} == {tor_ip: "tor", cloud_ip: "cloud"}
    assert {k: v["ip_type"] for k, v in l2_rows(l2_url).items()} == {
        f"{SERVICE}/{tor_ip}": "tor",
        f"{SERVICE}/{cloud_ip}": "cloud",
        f"dshield/{cloud_ip}": "unknown",
    }
    assert l2_rows(l2_url)[f"dshield/{cloud_ip}"] == other
    l3_types = {p: v["ip_type"] for p, v in l3_files(l3).items()}
    assert l3_types == {"185/220/101/1.json": "tor", "3/5/140/1.json": "cloud"}

    settle(c)
    assert c.classify(cloud_ip).cache_tier == "l1"  # the other answers stayed cached
    assert c.classify(tor_ip).cache_tier == "l1"

    everything = c.cache_clear()
    got = (everything["ip_type"], everything["l1_keys"], everything["l2_rows"], everything["l3_files"])
    assert got == (None, 2, 2, 2)
    assert everything["error"] is None
    assert l1_values(redis) == {}
    assert l2_rows(l2_url) == {f"dshield/{cloud_ip}": other}
    assert l3_files(l3) == {}


def test_cache_clear_accepts_an_iptype(make_classifier: Callable[..., Any], tmp_path: Path) -> None:
    from ipclassifier import IPType

    c = tiers(make_classifier, tmp_path)
    c.classify("198.51.100.3")
    assert c.cache_clear(IPType.CLOUD)["l3_files"] == 0
    assert c.cache_clear(IPType.UNKNOWN)["l3_files"] == 1


def cli(*args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, "-m", "ipclassifier", *args], capture_output=True, text=True, timeout=60)


def test_cli_cache_clear_type_unknown_then_everything(tmp_path: Path) -> None:
    data, l3, db = tmp_path / "data", tmp_path / "l3", tmp_path / "l2.sqlite"
    opts = ["--data-dir", str(data), "--cache-dir", str(l3), "--db", f"sqlite:///{db}"]
    # Nothing downloaded: both answers are unknown, cached in L2 and L3.
    p = cli(*opts, "classify", "-f", "jsonl", "198.51.100.1", "2001:db8::1")
    assert p.returncode == 0, p.stderr
    # A cloud answer of ours and another service's row, as upstream writes them.
    seed_l2(f"sqlite:///{db}", "203.0.113.5", "seeded")
    insert_other_service_row(f"sqlite:///{db}", "dshield", "198.51.100.1", {"ip_type": "unknown"})
    (l3 / "203" / "0" / "113").mkdir(parents=True)
    (l3 / "203" / "0" / "113" / "5.json").write_text(json.dumps({"ip": "203.0.113.5", "ip_type": "cloud"}))

    report = run_cli(*opts, "cache", "clear", "--type", "unknown")
    assert (report["ip_type"], report["l2_rows"], report["l3_files"], report["error"]) == ("unknown", 2, 2, None)
    assert sorted(l2_rows(f"sqlite:///{db}")) == ["dshield/198.51.100.1", f"{SERVICE}/203.0.113.5"]
    assert list(l3_files(l3)) == ["203/0/113/5.json"]

    bad = cli(*opts, "cache", "clear", "--type", "bogus")
    assert bad.returncode == 2
    assert "invalid choice: 'bogus'" in bad.stderr
    misplaced = cli(*opts, "cache", "cleanup", "--type", "unknown")
    assert misplaced.returncode == 2
    assert "--type applies to `cache clear` only" in misplaced.stderr
    assert list(l3_files(l3)) == ["203/0/113/5.json"]  # usage errors clear nothing

    report = run_cli(*opts, "cache", "clear")
    assert (report["ip_type"], report["l2_rows"], report["l3_files"]) == (None, 1, 1)
    assert list(l2_rows(f"sqlite:///{db}")) == ["dshield/198.51.100.1"]
    assert l3_files(l3) == {}


def test_cli_cache_clear_exits_1_when_a_tier_cannot_be_cleared(tmp_path: Path) -> None:
    l3 = tmp_path / "l3"
    dead_db = "postgresql://nobody@127.0.0.1:1/nothing"  # nothing listens on port 1
    p = cli("--data-dir", str(tmp_path / "data"), "--cache-dir", str(l3), "--db", dead_db, "cache", "clear")
    assert p.returncode == 1
    report = json.loads(p.stdout)
    assert "L2" in report["error"] and report["l2_rows"] == 0
    assert "ipclassifier: error: cache clear:" in p.stderr


def test_cache_clear_export_refuses_an_unknown_type_and_clears_nothing(
    make_classifier: Callable[..., Any], tmp_path: Path
) -> None:
    """The C ABI checks the type itself (other callers than this package)."""
    from ipclassifier import ClassifierError, _native

    c = tiers(make_classifier, tmp_path)
    c.classify("198.51.100.4")
    settle(c)
    lib, h = _native.load(), c._handle_or_raise()
    for arg, length, message in [(b"bogus", 5, 'invalid ip_type "bogus"'), (None, 3, "NULL pointer")]:
        with pytest.raises(ClassifierError, match=message) as e:
            _native.call(lib.cache_clear, h, arg, length)
        assert e.value.code == _native.INVALID_ARGUMENT
    assert list(l3_files(tmp_path / "l3")) == ["198/51/100/4.json"]
    rc, data = _native.call(lib.cache_clear, h, b"unknown", 7)
    assert (rc, json.loads(data)["l3_files"]) == (_native.OK, 1)


# ---------------------------------------------------------------------------
# Write-behind: classify queues its cache writes; close() writes them.


def test_a_host_write_transaction_never_blocks_classify(make_classifier: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "host.sqlite"
    c = tiers(make_classifier, tmp_path, db_engine=f"sqlite:///{path}", cache_dir=None)
    c.classify("198.51.100.200")  # the table exists
    settle(c)
    ips = [f"203.0.{i // 256}.{i % 256}" for i in range(300)]

    # The host (cowrieprocessor's own engine on this file) sits in a write transaction.
    host = sqlite3.connect(str(path), isolation_level=None)
    host.execute("BEGIN IMMEDIATE")
    host.execute("INSERT INTO enrichment_cache (service, cache_key, cache_value, created_at, expires_at) "
                 "VALUES ('host', 'k', '{}', '2030-01-01 00:00:00', '2030-01-01 00:00:00')")  # fmt: skip
    answers: List[Any] = []
    worker = threading.Thread(target=lambda: answers.extend(c.classify(ip) for ip in ips))
    worker.start()
    # Waiting for the lock would cost the 5 s busy timeout per call (25 minutes).
    worker.join(timeout=60)
    still_running = worker.is_alive()
    host.execute("COMMIT")
    host.close()
    worker.join()
    assert not still_running, "classify waited for the host's write lock"
    assert [a.ip for a in answers] == ips

    settle(c)
    s = c.get_stats()
    rows = (
        sqlite3.connect(str(path))
        .execute("SELECT count(*) FROM enrichment_cache WHERE service = ?", (SERVICE,))
        .fetchone()[0]
    )
    assert s["l2_queued"] == 0
    assert rows + s["l2_dropped"] == 1 + 300, "every answer is written or counted as dropped"


def test_close_writes_every_queued_answer(make_classifier: Callable[..., Any], tmp_path: Path, redis: str) -> None:
    l2 = f"sqlite:///{tmp_path / 'l2.sqlite'}"
    c = tiers(make_classifier, tmp_path, db_engine=l2, enable_redis=True, redis_url=redis)
    ips = [f"198.18.{i // 256}.{i % 256}" for i in range(2000)]
    c.bulk_classify(ips)
    c.close()  # right away: the answers are still queued
    assert set(ips) <= set(l1_values(redis))
    assert {k.split("/", 1)[1] for k in l2_rows(l2)} >= set(ips)
    assert len(list((tmp_path / "l3").rglob("*.json"))) == 2000
