"""`backfill` and `demo-db` on the command line: output and exit codes
(0 ok, 1 some IPs failed / a refresh failed / no data, 2 usage or bad input).

They run as ``python -m ipclassifier`` (the command module
ipclassifier.cowrie.cli, found by the command line at start).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, List

import pytest

from cowrie_fixtures import (
    create_host_schema,
    insert_inventory,
    insert_sessions,
    session_types,
    table_digest,
)

pytest_plugins = ("cowrie_fixtures",)  # db_url, pg_url, sqlite_url, spy


def run(server: Any, data_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd: List[str] = [sys.executable, "-m", "ipclassifier", *server.cli_options(data_dir), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_demo_db_then_backfill(fixture_server: Any, tmp_path: Path, db_url: str) -> None:
    demo = ["demo-db", "--db", db_url, "--ips", "300", "--sessions", "5000", "--seed", "3"]
    p = run(fixture_server, tmp_path / "d", *demo)
    assert p.returncode == 0, p.stderr
    assert "300 IPs and 5,000 sessions" in p.stdout
    p = run(fixture_server, tmp_path / "d", "backfill", "--db", db_url, "--batch-size", "100", "--progress")
    assert p.returncode == 0, p.stderr
    assert "coverage: 100.00%" in p.stdout
    assert "backfill inventory [" in p.stderr and "IPs/s" in p.stderr and "ETA" in p.stderr
    lines = p.stdout.splitlines()
    assert any(line.startswith("tor ") for line in lines) and any(line.startswith("total ") for line in lines)
    # A re-run: JSON report, nothing left to do.
    p = run(fixture_server, tmp_path / "d", "backfill", "--db", db_url, "--json")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["fresh"] == 300 and rep["classified"] == 0 and rep["coverage"] == 1.0 and rep["complete"]


def test_dry_run_changes_nothing(fixture_server: Any, tmp_path: Path, sqlite_url: str) -> None:
    p = run(fixture_server, tmp_path / "d", "demo-db", "--db", sqlite_url, "--ips", "100", "--sessions", "1000")
    assert p.returncode == 0, p.stderr
    # Snapshots on disk first (a dry run does not download).
    assert run(fixture_server, tmp_path / "d", "refresh", "--no-cache").returncode == 0
    before = table_digest(sqlite_url)
    p = run(fixture_server, tmp_path / "d", "backfill", "--db", sqlite_url, "--dry-run", "--json")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["dry_run"] and sum(rep["sessions_would_update"].values()) > 0 and rep["sessions_updated"] == 0
    assert table_digest(sqlite_url) == before


def test_exit_1_when_an_ip_is_invalid(fixture_server: Any, tmp_path: Path, sqlite_url: str) -> None:
    create_host_schema(sqlite_url)
    insert_inventory(sqlite_url, [{"ip_address": "300.1.1.1"}, {"ip_address": "185.220.101.1"}])
    insert_sessions(sqlite_url, [{"session_id": "a", "source_ip": "300.1.1.1"},
                                 {"session_id": "b", "source_ip": "185.220.101.1"}])  # fmt: skip
    p = run(fixture_server, tmp_path / "d", "backfill", "--db", sqlite_url)
    assert p.returncode == 1, p.stderr
    assert "1 invalid" in p.stdout
    assert session_types(sqlite_url) == {"a": "unknown", "b": "tor"}, "the rest is done"


def test_exit_1_when_a_refresh_fails(fixture_server: Any, tmp_path: Path, sqlite_url: str) -> None:
    create_host_schema(sqlite_url)
    insert_inventory(sqlite_url, [{"ip_address": "185.220.101.1"}])
    insert_sessions(sqlite_url, [{"session_id": "a", "source_ip": "185.220.101.1"}])
    fixture_server.override("/datacenter/datacenters.csv", status=404, body=b"gone")
    p = run(fixture_server, tmp_path / "d", "backfill", "--db", sqlite_url)
    assert p.returncode == 1, p.stderr
    assert "refresh of datacenter" in p.stderr and "failed" in p.stderr
    assert session_types(sqlite_url) == {"a": "tor"}, "classified with the sources that did load"


def test_exit_1_without_any_source_data(fixture_server: Any, tmp_path: Path, sqlite_url: str) -> None:
    create_host_schema(sqlite_url)
    insert_inventory(sqlite_url, [{"ip_address": "185.220.101.1"}])
    p = run(fixture_server, tmp_path / "empty", "backfill", "--db", sqlite_url, "--no-refresh")
    assert p.returncode == 1
    assert "no source data" in p.stderr
    assert session_types(sqlite_url) == {}


@pytest.mark.parametrize(
    "args, message",
    [
        (["backfill"], "--db URL is required"),
        (["backfill", "--db", "nonsense://"], "error"),
        (["backfill", "--db", "sqlite:///{tmp}/empty.db"], "does not exist"),
        (["backfill", "--db", "sqlite:///{tmp}/x.db", "--batch-size", "0"], "--batch-size"),
        (["backfill", "--db", "sqlite:///{tmp}/x.db", "--batch-size", "ten"], "invalid int value"),
        (["demo-db"], "--db URL is required"),
        (["demo-db", "--db", "sqlite:///{tmp}/x.db", "--ips", "0"], "at least 1 IP"),
    ],
)
def test_usage_errors_exit_2(fixture_server: Any, tmp_path: Path, args: List[str], message: str) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    p = run(fixture_server, tmp_path / "d", *args)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert message in p.stderr
    assert "Traceback" not in p.stderr


def test_demo_db_refuses_existing_tables_without_replace(fixture_server: Any, tmp_path: Path, sqlite_url: str) -> None:
    args = ["demo-db", "--db", sqlite_url, "--ips", "20", "--sessions", "100"]
    assert run(fixture_server, tmp_path / "d", *args).returncode == 0
    p = run(fixture_server, tmp_path / "d", *args)
    assert p.returncode == 2 and "--replace" in p.stderr
    assert run(fixture_server, tmp_path / "d", *args, "--replace").returncode == 0


def test_commands_are_listed_by_python_m_ipclassifier(fixture_server: Any, tmp_path: Path) -> None:
    p = run(fixture_server, tmp_path / "d", "--help")
    assert p.returncode == 0, p.stderr
    assert "backfill" in p.stdout and "demo-db" in p.stdout and "validate" in p.stdout
