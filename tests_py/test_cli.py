"""`python -m ipclassifier`: formats, stdin, exit codes."""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, List

import pytest


def run(server: Any, data_dir: Path, *args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "ipclassifier", *server.cli_options(data_dir), *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def data_dir(fixture_server: Any, tmp_path: Path) -> Path:
    d = tmp_path / "cli-data"
    p = run(fixture_server, d, "refresh", "--no-cache")
    assert p.returncode == 0, p.stderr
    return d


def test_refresh_prints_one_line_per_source_and_exits_0(fixture_server: Any, tmp_path: Path) -> None:
    p = run(fixture_server, tmp_path / "d", "refresh", "--no-cache")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert any(line.startswith("tor ") and "updated" in line for line in lines)
    assert any(line.startswith("cloud/aws") for line in lines)
    assert lines[-1].startswith("36 sources, 0 failed")


def test_refresh_exits_1_when_a_source_fails(fixture_server: Any, tmp_path: Path) -> None:
    fixture_server.override("/datacenter/datacenters.csv", status=500)
    p = run(fixture_server, tmp_path / "d", "refresh", "datacenter", "--force", "--no-cache")
    assert p.returncode == 1
    assert "failed" in p.stdout
    assert "1 failed" in p.stdout.splitlines()[-1]


def test_damaged_snapshot_is_reported_by_stats_and_refresh_summary(fixture_server: Any, data_dir: Path) -> None:
    tor = data_dir / "snapshots" / "tor.data"
    tor.write_bytes(tor.read_bytes()[: len(tor.read_bytes()) * 15 // 100])  # cut to 15%
    p = run(fixture_server, data_dir, "stats", "--no-cache")
    assert p.returncode == 0, p.stderr
    src = {s["name"]: s for s in json.loads(p.stdout)["sources"]}["tor"]
    assert src["snapshot_damaged"] == 1
    assert src["last_error"].startswith("snapshot damaged: tor.data does not match its metadata")
    assert src["prefixes"] == 0, "a partial list is never served"
    p = run(fixture_server, data_dir, "refresh", "tor", "--summary", "--no-cache")
    assert p.returncode == 0, p.stderr
    assert "damaged snapshots found at open (never served): tor" in p.stdout
    p = run(fixture_server, data_dir, "stats", "--no-cache")
    src = {s["name"]: s for s in json.loads(p.stdout)["sources"]}["tor"]
    assert src["snapshot_damaged"] == 0 and not src.get("last_error") and src["prefixes"] > 0


def test_classify_table(fixture_server: Any, data_dir: Path) -> None:
    p = run(fixture_server, data_dir, "classify", "--no-cache", "185.220.101.1", "3.5.140.1", "198.51.100.1")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:3] == ["IP", "IP_TYPE", "PROVIDER"]
    assert lines[1].split()[:2] == ["185.220.101.1", "tor"]
    assert lines[2].split()[:3] == ["3.5.140.1", "cloud", "aws"]
    assert lines[3].split()[:2] == ["198.51.100.1", "unknown"]


def test_classify_jsonl(fixture_server: Any, data_dir: Path) -> None:
    p = run(fixture_server, data_dir, "classify", "--format", "jsonl", "3.5.140.1", "--no-cache")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(rows) == 1
    assert rows[0]["ip_type"] == "cloud" and rows[0]["provider"] == "aws" and rows[0]["service"] == "EC2"
    assert rows[0]["confidence"] == 0.99


def test_classify_csv(fixture_server: Any, data_dir: Path) -> None:
    p = run(fixture_server, data_dir, "classify", "-f", "csv", "13.64.1.1", "185.220.101.34", "--no-cache")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert [(r["ip"], r["ip_type"]) for r in rows] == [("13.64.1.1", "datacenter"), ("185.220.101.34", "tor")]
    assert rows[1]["source"] == "tor_bulk_list" and rows[1]["stale"] == "false"


def test_classify_stdin_with_asn_and_as_name(fixture_server: Any, data_dir: Path) -> None:
    stdin = "185.220.101.1\n\n# comment\n80.128.1.1 3320 Deutsche Telekom AG\n2600:1f14::5\n"
    p = run(fixture_server, data_dir, "classify", "-", "-f", "jsonl", "--no-cache", stdin=stdin)
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert [r["ip_type"] for r in rows] == ["tor", "residential", "cloud"]
    assert rows[1]["asn"] == 3320 and rows[1]["as_name"] == "Deutsche Telekom AG"


def test_classify_invalid_exits_2_but_prints_the_others(fixture_server: Any, data_dir: Path) -> None:
    p = run(fixture_server, data_dir, "classify", "-f", "jsonl", "185.220.101.1", "1.2.3", "3.5.140.1", "--no-cache")
    assert p.returncode == 2
    ips: List[str] = [json.loads(line)["ip"] for line in p.stdout.splitlines()]
    assert ips == ["185.220.101.1", "3.5.140.1"]
    assert '"1.2.3"' in p.stderr


def test_classify_with_default_cache_tiers(fixture_server: Any, data_dir: Path) -> None:
    for _ in range(2):
        p = run(fixture_server, data_dir, "classify", "-f", "jsonl", "3.5.140.1")
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["provider"] == "aws"


def test_stats_prints_json(fixture_server: Any, data_dir: Path) -> None:
    p = run(fixture_server, data_dir, "stats", "--no-cache")
    assert p.returncode == 0, p.stderr
    stats = json.loads(p.stdout)
    assert {s["name"] for s in stats["sources"]} >= {"tor", "cloud/aws"}


def test_cache_stats_prints_json(fixture_server: Any, data_dir: Path) -> None:
    p = run(fixture_server, data_dir, "cache", "stats")
    assert p.returncode == 0, p.stderr
    assert isinstance(json.loads(p.stdout), dict)


def test_usage_error_exits_2(fixture_server: Any, tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "ipclassifier", "frobnicate"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "invalid choice" in p.stderr


def test_version_flag() -> None:
    from ipclassifier import __version__

    p = subprocess.run([sys.executable, "-m", "ipclassifier", "--version"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and __version__ in p.stdout


def test_cache_cleanup_prints_json(fixture_server: Any, data_dir: Path) -> None:
    p = run(fixture_server, data_dir, "cache", "cleanup")
    assert p.returncode == 0, p.stderr
    assert "l2_rows" in json.loads(p.stdout)


def test_classify_refresh_flag_downloads_first(fixture_server: Any, tmp_path: Path) -> None:
    p = run(fixture_server, tmp_path / "fresh", "classify", "--refresh", "-f", "jsonl", "185.220.101.1", "--no-cache")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["ip_type"] == "tor"


def test_a_command_module_that_cannot_be_imported_names_its_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command line still starts; the module's commands say what to
    install (whatever arguments they are given) and the others work."""
    from ipclassifier import cli

    monkeypatch.setitem(sys.modules, "ipclassifier.cowrie.cli", None)  # `import` raises ImportError
    assert cli.main(["backfill", "--db", "sqlite:///x.db", "--batch-size", "5", "--frobnicate"]) == 1
    err = capsys.readouterr().err
    assert "ipclassifier backfill: error: the backfill command is unavailable" in err
    assert "pip install 'ipclassifier[cowrie]'" in err
    assert cli.main(["demo-db"]) == 1
    assert "pip install 'ipclassifier[cowrie]'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "(unavailable: pip install 'ipclassifier[cowrie]')" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:  # other commands still reject unknown options
        cli.main(["stats", "--frobnicate"])
    assert e.value.code == 2
    assert "unrecognized arguments: --frobnicate" in capsys.readouterr().err


def test_every_command_module_registers() -> None:
    from ipclassifier import cli

    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    names = set(sub.choices)
    assert {"classify", "refresh", "stats", "cache", "backfill", "demo-db", "validate"} <= names
    assert [m for m, _, _ in cli.COMMAND_MODULES] == ["ipclassifier.cowrie.cli", "ipclassifier.validate.cli"]
