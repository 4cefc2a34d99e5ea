"""db_engine: the L2 tier's database is the one SQLAlchemy would open.

The database is read from the engine's URL object (or a URL string) with
SQLAlchemy's rules — a relative SQLite path is relative to the working
directory, ``:memory:`` and no database are in memory (no L2 tier: the
classifier cannot share a connection's private database), escapes are
decoded, query options kept — and PostgreSQL URLs with awkward passwords,
ports, options and unix-socket hosts reach the server. Each form is tried
against a real SQLite file or the real PostgreSQL the suite starts.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Tuple
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from cache_servers import settle
from ipclassifier import build_config
from ipclassifier.classifier import _database_url, _plain_database_url

sa = pytest.importorskip("sqlalchemy")

pytest_plugins = ("cowrie_fixtures",)

SERVICE = "ip_classification"


def parts(url: Optional[str]) -> Any:
    """What a libpq/Go URL says, escapes decoded (None stays None)."""
    if url is None:
        return None
    u = urlsplit(url)
    return (
        u.scheme, unquote(u.username or ""), unquote(u.password or ""), u.hostname, u.port, unquote(u.path),
        sorted(parse_qsl(u.query, keep_blank_values=True)),
    )  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///rel.db",
        "sqlite:///sub/dir/rel.db",
        "sqlite:////abs/path/x.db",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///my%20cache.db",
        "sqlite:///x.db?timeout=7",
        "sqlite+pysqlite:////abs/x.db?check_same_thread=false",
        "postgresql://u:p%40ss%25w%3Ard@db.example:5433/cowrie?sslmode=require",
        "postgresql+psycopg2://cowrie@/cowrie?host=/var/run/postgresql",
        "postgresql://u@[::1]:5432/db",
        "postgresql+psycopg2://u:pw@db/cowrie?options=-csearch_path%3Dx&application_name=ipc",
    ],
)
def test_url_strings_read_as_sqlalchemy_reads_them(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The string path (no SQLAlchemy import) and the URL-object path agree."""
    monkeypatch.chdir(tmp_path)
    assert parts(_plain_database_url(url)) == parts(_database_url(sa.engine.make_url(url)))


def test_sqlite_forms_map_like_sqlalchemy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert _database_url("sqlite:///rel.db") == f"sqlite://{tmp_path}/rel.db"
    assert _database_url("sqlite:////abs/x.db") == "sqlite:///abs/x.db"
    assert _database_url("sqlite://") is None
    assert _database_url(sa.create_engine("sqlite:///:memory:")) is None
    assert _database_url("sqlite:///my%20cache.db") == f"sqlite://{tmp_path}/my cache.db"
    assert _database_url("sqlite:///x.db?timeout=7") == f"sqlite://{tmp_path}/x.db?_busy_timeout=7000"
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        _database_url("mysql://u@h/db")
    with pytest.raises(ValueError, match="URI filenames"):
        _database_url("sqlite:///file:x.db")


def l2_keys(db: Path) -> List[str]:
    with sqlite3.connect(db) as conn:
        return sorted(
            r[0] for r in conn.execute("SELECT cache_key FROM enrichment_cache WHERE service = ?", (SERVICE,))
        )


@pytest.mark.filterwarnings("ignore:db_engine is an SQLite engine:RuntimeWarning")
@pytest.mark.parametrize("given", ["engine", "url", "string"])
def test_a_relative_sqlite_path_is_relative_to_the_working_directory(
    given: str, make_classifier: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = "sqlite:///rel%20dir.db?timeout=3"
    db_engine: Any = {"engine": lambda: sa.create_engine(url), "url": lambda: sa.engine.make_url(url)}.get(
        given, lambda: url
    )()
    c = make_classifier(enable_cache=True, db_engine=db_engine)
    c.classify("198.51.100.5")
    c.close()
    # The file SQLAlchemy opens for an Engine or URL (2.1 decodes the %20, 2.0 keeps it); a string follows 2.1.
    name = "rel dir.db" if given == "string" else str(sa.engine.make_url(url).database)
    assert l2_keys(tmp_path / name) == ["198.51.100.5"]
    assert not Path("/rel dir.db").exists() and not Path("/rel%20dir.db").exists()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_sqlite_engine_writes_no_file(
    url: str, make_classifier: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = sa.create_engine(url)
    assert "database_url" not in build_config(db_engine=engine)["cache"]
    c = make_classifier(enable_cache=True, db_engine=engine, cache_dir=str(tmp_path / "l3"))
    assert c.classify("198.51.100.6").ip_type == "unknown"
    settle(c)  # classify only queues its cache writes
    assert c.classify("198.51.100.6").cache_tier == "l3"  # the other tiers work
    assert not c.get_stats()["cache"]["l2"]["enabled"]
    c.close()
    for leak in ("/:memory:", "/%3Amemory%3A", str(tmp_path / ":memory:")):
        assert not os.path.exists(leak), leak
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "l3"]


# ---------------------------------------------------------------------------
# PostgreSQL: a role whose password needs escaping, a port, options, a socket

PASSWORD = "p@ss%w:rd/?#x"


@pytest.fixture
def pg_role() -> Iterator[Tuple[Any, str, str]]:
    """(the server's URL object, a new role with PASSWORD, a schema it owns)."""
    from cowrie_fixtures import postgres_url

    base = sa.engine.make_url(postgres_url())
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    suffix = uuid.uuid4().hex[:10]
    role, schema = f"ipc_role_{suffix}", f"ipc_pw_{suffix}"
    quoted = PASSWORD.replace("'", "''")
    with admin.connect() as c:
        c.execute(sa.text(f"CREATE ROLE {role} LOGIN PASSWORD '{quoted}'"))
        c.execute(sa.text(f"CREATE SCHEMA {schema} AUTHORIZATION {role}"))
    yield base, role, schema
    with admin.connect() as c:
        c.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
    admin.dispose()


def pg_rows(base: Any, schema: str) -> List[Tuple[str, str]]:
    admin = sa.create_engine(base)
    try:
        with admin.connect() as c:
            owner = c.execute(
                sa.text("SELECT tableowner FROM pg_tables WHERE schemaname = :s AND tablename = 'enrichment_cache'"),
                {"s": schema},
            ).scalar()
            keys = c.execute(sa.text(f"SELECT cache_key FROM {schema}.enrichment_cache ORDER BY 1")).scalars().all()
        return [(str(owner), k) for k in keys]
    finally:
        admin.dispose()


@pytest.mark.parametrize("via", ["tcp", "unix socket"])
def test_postgres_url_parts_reach_the_server(
    via: str, pg_role: Tuple[Any, str, str], make_classifier: Callable[..., Any]
) -> None:
    base, role, schema = pg_role
    query = {"sslmode": "disable", "options": f"-csearch_path={schema}", "application_name": "ipc test"}
    host: Optional[str] = base.host
    if via == "unix socket":
        with sa.create_engine(base).connect() as c:
            sockets = str(c.execute(sa.text("SHOW unix_socket_directories")).scalar())
        host, query["host"] = None, sockets.split(",")[0].strip()
    url = sa.engine.URL.create(
        "postgresql+psycopg2", username=role, password=PASSWORD, host=host, port=base.port,
        database=base.database, query=query,
    )  # fmt: skip
    go_url = _database_url(url)
    assert go_url is not None and PASSWORD not in go_url  # escaped
    assert parts(go_url)[2] == PASSWORD and parts(go_url)[4] == base.port
    c = make_classifier(enable_cache=True, db_engine=url)
    c.classify("198.51.100.7")
    assert c.get_stats()["cache"]["l2"]["errors"] == 0
    c.close()
    assert pg_rows(base, schema) == [(role, "198.51.100.7")]
