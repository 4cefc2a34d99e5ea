"""One SQLite file shared by the host and the engine in one process.

A cowrieprocessor host hands its SQLAlchemy engine to create_ip_classifier,
so the engine's L2 table lives in the host's SQLite file, opened by both in
one process. SQLite tracks a file's POSIX locks per copy of the library: the
engine must run on the copy Python's sqlite3 module runs on (build.sh links
the system libsqlite3). With its own copy, the host closing a connection
deletes the WAL under the engine, whose later writes other processes do not
see until it closes — so the classifier warns and backfill refuses
--sql-cache.

Each case runs in a fresh interpreter with IPCLASSIFIER_LIBRARY set: the
package's library (the system SQLite; skipped with a reason when build.sh
found no SQLite headers, a failure under IPCLASSIFIER_REQUIRE_SYSTEM_SQLITE=1)
and one built here with IPCLASSIFIER_SQLITE=embedded, which shows the hazard
the first one avoids.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from cowrie_fixtures import create_host_schema, insert_inventory, insert_sessions, session_types

pytest_plugins = ("cowrie_fixtures",)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_LIBRARY = ROOT / "python" / "ipclassifier" / "_lib" / "libipclassifier.so"
REQUIRE_SYSTEM = os.environ.get("IPCLASSIFIER_REQUIRE_SYSTEM_SQLITE", "") in ("1", "true", "yes")

# The host (sqlite3, SQLAlchemy) and the engine on one file; what another
# process reads is the truth about what was written.
_SCENARIO = r"""
import json, os, sqlite3, subprocess, sys, time, warnings
import sqlalchemy as sa
from ipclassifier import create_ip_classifier

db, data_dir = sys.argv[1], sys.argv[2]
def other_process():
    code = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); " \
           "print(','.join(sorted(r[0] for r in c.execute('SELECT cache_key FROM enrichment_cache'))))"
    return subprocess.run([sys.executable, "-c", code, db], capture_output=True, text=True, check=True).stdout.strip()
def settle(c):  # classify only queues its cache writes: wait until L2 has stored them
    deadline = time.monotonic() + 30
    while c.get_stats()["cache"]["l2"]["queued"]:
        assert time.monotonic() < deadline, "the L2 writer did not drain"
        time.sleep(0.01)

host = sa.create_engine("sqlite:///" + db)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    c = create_ip_classifier(db_engine=host, data_dir=data_dir, tor_url="file:///nonexistent",
                             cloud_base_url="file:///nonexistent", datacenter_url="file:///nonexistent",
                             hosting_base_url="file:///nonexistent")
c.classify("198.51.100.1")
settle(c)
with host.connect() as conn:  # the host reads the file and closes its connection
    conn.exec_driver_sql("SELECT count(*) FROM enrichment_cache").scalar()
host.dispose()
c.classify("198.51.100.2")
settle(c)
seen_open = other_process()
linked = c.get_stats()["sqlite"]["linked"]
c.close()
print(json.dumps({"linked": linked, "seen_while_open": seen_open, "seen_after_close": other_process(),
                  "warned": [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]}))
"""


def _linked(library: Path) -> str:
    """Which SQLite the library runs on (its data directory a throwaway one,
    never a folder inside the package)."""
    code = "from ipclassifier import IPClassifier; c = IPClassifier(enable_cache=False, data_dir=__import__('sys').argv[1]); print(c.get_stats()['sqlite']['linked'])"  # noqa: E501
    with tempfile.TemporaryDirectory(prefix="ipclassifier-linked-") as data_dir:
        p = subprocess.run(
            [sys.executable, "-c", code, data_dir],
            capture_output=True, text=True, timeout=120, env={**os.environ, "IPCLASSIFIER_LIBRARY": str(library)},
        )  # fmt: skip
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


@pytest.fixture(scope="session")
def embedded_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """libipclassifier.so built with its own copy of SQLite."""
    out = tmp_path_factory.mktemp("embedded-sqlite")
    env = {**os.environ, "IPCLASSIFIER_SQLITE": "embedded", "IPCLASSIFIER_OUT_DIR": str(out)}
    p = subprocess.run(["bash", str(ROOT / "build.sh")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr
    return out / "libipclassifier.so"


@pytest.fixture(scope="session")
def system_library() -> Path:
    """The package's library, which must run on the system SQLite."""
    linked = _linked(PACKAGE_LIBRARY)
    if linked != "system":
        reason = (
            "build.sh found no system SQLite headers (apt-get install libsqlite3-dev), so the library has its own copy"
        )
        if REQUIRE_SYSTEM:
            pytest.fail(f"IPCLASSIFIER_REQUIRE_SYSTEM_SQLITE=1: {reason}")
        pytest.skip(reason)
    return PACKAGE_LIBRARY


@pytest.fixture(params=["system", "embedded"])
def library(request: pytest.FixtureRequest) -> Iterator[Dict[str, Any]]:
    path = request.getfixturevalue(f"{request.param}_library")
    yield {"linked": request.param, "env": {**os.environ, "IPCLASSIFIER_LIBRARY": str(path)}}


def test_host_and_engine_on_one_sqlite_file_in_one_process(library: Dict[str, Any], tmp_path: Path) -> None:
    pytest.importorskip("sqlalchemy")
    db = tmp_path / "host.sqlite"
    p = subprocess.run(
        [sys.executable, "-c", _SCENARIO, str(db), str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120, env=library["env"],
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    assert got["linked"] == library["linked"]
    assert got["seen_after_close"] == "198.51.100.1,198.51.100.2"
    if library["linked"] == "system":
        # One copy of SQLite: the write after the host's close is visible at once, and nobody is warned.
        assert got["seen_while_open"] == "198.51.100.1,198.51.100.2"
        assert got["warned"] == []
    else:
        # Two copies: the host's close deleted the WAL the engine still writes to.
        assert got["seen_while_open"] == "198.51.100.1"
        assert len(got["warned"]) == 1 and "own copy of SQLite" in got["warned"][0]


def test_backfill_sql_cache_on_sqlite(
    library: Dict[str, Any], fixture_server: Any, tmp_path: Path, sqlite_url: str
) -> None:
    create_host_schema(sqlite_url)
    insert_inventory(sqlite_url, [{"ip_address": "185.220.101.1"}])
    insert_sessions(sqlite_url, [{"session_id": "a", "source_ip": "185.220.101.1"}])
    cmd = [sys.executable, "-m", "ipclassifier", *fixture_server.cli_options(tmp_path / "d")]
    p = subprocess.run(
        [*cmd, "backfill", "--db", sqlite_url, "--sql-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        env=library["env"],
    )
    if library["linked"] == "system":
        assert p.returncode == 0, p.stderr
        assert session_types(sqlite_url) == {"a": "tor"}
        import sqlite3

        with sqlite3.connect(sqlite_url[len("sqlite:///") :]) as conn:
            rows = conn.execute("SELECT cache_key FROM enrichment_cache WHERE service = 'ip_classification'").fetchall()
        assert rows == [("185.220.101.1",)]
    else:
        assert p.returncode == 2
        assert "--sql-cache on SQLite needs the engine built on the system SQLite" in p.stderr
        assert session_types(sqlite_url) == {"a": None}, "nothing is labelled when refused"
