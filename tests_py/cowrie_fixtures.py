"""Fixtures and helpers of the cowrieprocessor-integration tests
(tests_py/test_cowrie_*.py). A test module registers the fixtures with

    pytest_plugins = ("cowrie_fixtures",)

and imports the helpers it uses (create_host_schema, Spy, …).

* ``db_url`` — parametrized over SQLite and PostgreSQL: a database URL whose
  ``ip_inventory`` / ``session_summaries`` do not exist yet. PostgreSQL is
  ``$IPCLASSIFIER_TEST_POSTGRES_URL`` if set, else a throwaway server
  from scripts/test-servers.sh (cache_servers.launch), else the PostgreSQL
  cases skip, saying why — or fail when ``IPCLASSIFIER_REQUIRE_SERVERS=1``. Each test gets its own
  schema (``search_path`` in the URL), dropped afterwards.
* ``sqlite_url`` — SQLite only.
* ``spy`` — wraps a classifier and records every bulk_classify call.

The server is started once per test session (a module-level singleton, so
several test modules share it) and stopped at exit.

PYTEST_DONT_REWRITE (test modules import helpers from here before pytest
registers it as a plugin; it has no assertions to rewrite).
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest

from cache_servers import REQUIRE_SERVERS, Launched, LaunchError, launch

try:
    import sqlalchemy as sa
except ImportError:  # the tests that need it skip (see needs_sqlalchemy)
    sa = None

needs_sqlalchemy = pytest.mark.skipif(sa is None, reason="SQLAlchemy 2 is not installed (pip install -e '.[test]')")


# ---------------------------------------------------------------------------
# PostgreSQL


class _PG:
    """The PostgreSQL server of this test session (or why there is none)."""

    lock = threading.Lock()
    started = False
    url: Optional[str] = None
    reason: str = ""
    failed = False  # the launcher could not start a server that should run


def _normalise_url(url: str) -> str:
    """postgres:// or postgresql:// → a URL naming an installed driver."""
    from ipclassifier.cowrie import database_url

    return str(database_url(url).render_as_string(hide_password=False))


def start_postgres(durable: bool = False) -> Tuple[Optional[Launched], Optional[str], str]:
    """A throwaway PostgreSQL from scripts/test-servers.sh (without
    durability unless ``durable``: benchmarks): (servers, SQLAlchemy URL, "")
    or (None, None, why there is none). Raises LaunchError when it failed
    to start."""
    try:
        __import__("psycopg2")
    except ImportError:
        return None, None, "psycopg2 is not installed (pip install -e '.[test]')"
    servers, reason = launch("postgres", *(["--durable"] if durable else []))
    if servers is None:
        return None, None, f"no PostgreSQL server: IPCLASSIFIER_TEST_POSTGRES_URL is unset and {reason}"
    return servers, _normalise_url(servers.env["IPCLASSIFIER_TEST_POSTGRES_URL"]), ""


def _start_pg() -> None:
    env_url = os.environ.get("IPCLASSIFIER_TEST_POSTGRES_URL")
    if env_url:
        _PG.url = _normalise_url(env_url)
        return
    try:
        _, _PG.url, _PG.reason = start_postgres()
    except LaunchError as e:
        _PG.reason, _PG.failed = str(e), True


def postgres_url() -> str:
    """The server URL, starting the server on first use; skips (or fails
    under IPCLASSIFIER_REQUIRE_SERVERS=1) when there is none."""
    pytest.importorskip("sqlalchemy")
    with _PG.lock:
        if not _PG.started:
            _PG.started = True
            _start_pg()
    if _PG.url is None:
        if _PG.failed:
            pytest.fail(_PG.reason)
        if REQUIRE_SERVERS:
            pytest.fail(f"PostgreSQL required (IPCLASSIFIER_REQUIRE_SERVERS=1): {_PG.reason}")
        pytest.skip(_PG.reason)
    return _PG.url


def _with_search_path(url: str, schema: str) -> str:
    u = sa.engine.make_url(url)
    q = dict(u.query)
    q["options"] = f"-csearch_path={schema}"
    return u.set(query=q).render_as_string(hide_password=False)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL on a fresh schema of its own."""
    base = postgres_url()
    schema = "ipc_" + uuid.uuid4().hex[:12]
    eng = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as c:
            c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.SQLAlchemyError as e:
        eng.dispose()
        if REQUIRE_SERVERS:
            pytest.fail(f"PostgreSQL at {sa.engine.make_url(base).render_as_string()} unusable: {e}")
        pytest.skip(f"PostgreSQL unusable: {e}")
    yield _with_search_path(base, schema)
    with eng.connect() as c:
        c.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    pytest.importorskip("sqlalchemy")
    return f"sqlite:///{tmp_path / 'cowrie.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test runs on SQLite and on PostgreSQL."""
    pytest.importorskip("sqlalchemy")
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cowrie.sqlite'}"
    else:
        yield request.getfixturevalue("pg_url")


# ---------------------------------------------------------------------------
# Host database helpers


def engine(url: str) -> Any:
    return sa.create_engine(url)


def create_host_schema(url: str, foreign_keys: bool = False) -> Tuple[Any, Any]:
    from ipclassifier.cowrie.demo_db import create_schema

    return create_schema(url, drop=True, foreign_keys=foreign_keys)


def insert_inventory(url: str, rows: Sequence[Dict[str, Any]]) -> None:
    """rows: ip_address, enrichment (dict), current_asn (optional)."""
    from datetime import datetime, timezone

    from ipclassifier.cowrie.demo_db import host_tables

    inv, _ = host_tables(foreign_keys=False)
    now = datetime(2025, 10, 1, tzinfo=timezone.utc)
    full = [
        {"current_asn": None, "first_seen": now, "last_seen": now, "session_count": 1, "enrichment": {}, **r}
        for r in rows
    ]
    eng = engine(url)
    with eng.begin() as c:
        c.execute(inv.insert(), full)
    eng.dispose()


def insert_sessions(url: str, rows: Sequence[Dict[str, Any]]) -> None:
    """rows: session_id, source_ip, snapshot_ip_type (optional), snapshot_asn (optional)."""
    from ipclassifier.cowrie.demo_db import host_tables

    _, ses = host_tables(foreign_keys=False)
    full = [{"snapshot_ip_type": None, "snapshot_asn": None, **r} for r in rows]
    eng = engine(url)
    with eng.begin() as c:
        c.execute(ses.insert(), full)
    eng.dispose()


def session_types(url: str) -> Dict[str, Optional[str]]:
    eng = engine(url)
    with eng.connect() as c:
        rows = c.execute(sa.text("SELECT session_id, snapshot_ip_type FROM session_summaries")).all()
    eng.dispose()
    return {sid: t for sid, t in rows}


def inventory_enrichment(url: str) -> Dict[str, Dict[str, Any]]:
    from ipclassifier.cowrie.demo_db import host_tables

    inv, _ = host_tables(foreign_keys=False)
    eng = engine(url)
    with eng.connect() as c:
        rows = c.execute(sa.select(inv.c.ip_address, inv.c.enrichment)).all()
    eng.dispose()
    return {ip: (e if isinstance(e, dict) else {}) for ip, e in rows}


def table_digest(url: str) -> Tuple[List[Tuple[Any, ...]], List[Tuple[Any, ...]]]:
    """Every column of both tables, sorted: equal digests = nothing changed."""
    eng = engine(url)
    with eng.connect() as c:
        inv = c.execute(sa.text("SELECT * FROM ip_inventory ORDER BY ip_address")).all()
        ses = c.execute(sa.text("SELECT * FROM session_summaries ORDER BY session_id")).all()
    eng.dispose()
    norm = lambda rows: [tuple(str(v) for v in r) for r in rows]  # noqa: E731
    return norm(inv), norm(ses)


# ---------------------------------------------------------------------------
# A classifier that records its calls


class Spy:
    """Forwards to a classifier and records bulk_classify calls (items)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: List[List[Any]] = []

    def bulk_classify(self, items: Any, **kw: Any) -> Any:
        items = list(items)
        self.calls.append(items)
        return self.inner.bulk_classify(items, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Broken:
    """A classifier whose every call raises."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.calls = 0

    def bulk_classify(self, *a: Any, **kw: Any) -> Any:
        self.calls += 1
        raise self.exc

    classify = bulk_classify


@pytest.fixture
def spy(loaded: Any) -> Spy:
    """The conftest ``loaded`` classifier (fixture lists refreshed), spied on."""
    return Spy(loaded)
