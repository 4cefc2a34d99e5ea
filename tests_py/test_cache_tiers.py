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
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest
from cache_servers import KEY_PREFIX, Resp, dead_redis_url, redis_url
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


def seed_l2(url: str, ip: str, provider: str, expires_in: timedelta = timedelta(days=1)) -> None:
    """Create the upstream table if needed and insert an answer for ip that
    the index could never give (provider), as the upstream Python would."""
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
    with eng.begin() as c:
        c.execute(
            table.insert(),
            {"service": SERVICE, "cache_key": ip, "cache_value": value, "created_at": now, "expires_at": now + expires_in},
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
    seed_l2(l2_url, ip, "seeded-l2")
    c = tiers(make_classifier, tmp_path, db_engine=l2_url, enable_redis=True, redis_url=redis)

    r = c.classify(ip)
    assert (r.provider, r.cache_tier, r.ip_type.value) == ("seeded-l2", "l2", "cloud")
    s = c.get_stats()
    assert (s["cache_hits"], s["cache_misses"], s["l1_hits"], s["l2_hits"], s["l3_hits"]) == (1, 0, 0, 1, 0)
    with Resp(redis) as rr:
        warmed = json.loads(str(rr.command("GET", KEY_PREFIX + ip)))
    assert warmed["provider"] == "seeded-l2"

    r2 = c.classify(ip)
    assert (r2.provider, r2.cache_tier) == ("seeded-l2", "l1")
    s = c.get_stats()
    assert (s["cache_hits"], s["l1_hits"], s["l2_hits"]) == (2, 1, 1)
    assert s["l1_errors"] == s["l2_errors"] == s["l3_errors"] == 0
    assert s["l1_get_p50_us"] > 0 and s["l2_get_p50_us"] > 0

    # bulk_classify reads the same tiers (one round trip each).
    [b] = c.bulk_classify([ip])
    assert (b.provider, b.cache_tier) == ("seeded-l2", "l1")


def test_an_expired_l2_row_is_not_served(make_classifier: Callable[..., Any], tmp_path: Path, l2_url: str) -> None:
    ip = "203.0.113.78"
    seed_l2(l2_url, ip, "expired", expires_in=timedelta(seconds=-1))
    c = tiers(make_classifier, tmp_path, db_engine=l2_url)
    r = c.classify(ip)
    assert r.cache_tier is None and r.provider != "expired"
    assert c.get_stats()["cache_misses"] == 1


def test_db_engine_may_be_an_sqlalchemy_engine(make_classifier: Callable[..., Any], tmp_path: Path, l2_url: str) -> None:
    eng = sa.create_engine(l2_url)
    try:
        c = tiers(make_classifier, tmp_path, db_engine=eng, cache_dir=None)
        ip = "198.51.100.23"
        first = c.classify(ip)
        assert first.cache_tier is None  # computed, then written to L2
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


def test_redis_down_classify_still_answers_from_the_other_tiers(make_classifier: Callable[..., Any], tmp_path: Path) -> None:
    c = tiers(make_classifier, tmp_path, db_engine=f"sqlite:///{tmp_path / 'l2.sqlite'}", redis_url=dead_redis_url())
    t = time.monotonic()
    answers = [c.classify("198.51.100.9") for _ in range(20)]
    elapsed = time.monotonic() - t
    assert answers[0].cache_tier is None
    assert all(a.cache_tier == "l2" for a in answers[1:])
    assert [a.ip for a in c.bulk_classify(["198.51.100.9", "198.51.100.10"])] == ["198.51.100.9", "198.51.100.10"]
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
        conn.execute("UPDATE enrichment_cache SET expires_at = '2000-01-01 00:00:00.000000' WHERE cache_key = '198.51.100.2'")
    report = run_cli(*opts, "cache", "cleanup")
    assert (report["l2_rows"], report["l3_files"]) == (1, 1)
    assert not f.exists() and (l3 / "198" / "51" / "100" / "2.json").exists()
    with sqlite3.connect(db) as conn:
        assert [r[0] for r in conn.execute("SELECT cache_key FROM enrichment_cache")] == ["198.51.100.1"]
