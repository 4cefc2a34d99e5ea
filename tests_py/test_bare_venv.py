"""The core package in a bare virtual environment: no third-party package at
all (``python -m venv --without-pip``, no site packages), the package from
the source tree on sys.path. The loader, the classifier and the classify,
refresh, stats and cache commands work; Pass 4 and the loader hook work;
what needs an extra says which one instead of failing with a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from conftest import PYTHON_DIR, FixtureServer

THIRD_PARTY = ("sqlalchemy", "psycopg2", "psycopg", "tqdm", "prometheus_client", "matplotlib", "pytest")


class Bare:
    """A bare venv's python, with only the source tree's package on its path."""

    def __init__(self, root: Path) -> None:
        venv.EnvBuilder(system_site_packages=False, with_pip=False, clear=True).create(root)
        self.python = str(root / "bin" / "python")
        self.env: Dict[str, str] = {
            k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "IPCLASSIFIER_"))
        }
        # No background downloads from the public lists (the default for hosts).
        self.env.update(PYTHONPATH=str(PYTHON_DIR), PYTHONNOUSERSITE="1", IPCLASSIFIER_AUTO_REFRESH="0")

    def run(self, *args: str, cwd: Path, timeout: float = 120) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([self.python, *args], cwd=cwd, env=self.env, capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip

    def ipclassifier(self, server: FixtureServer, data_dir: Path, *args: str) -> "subprocess.CompletedProcess[str]":
        return self.run("-m", "ipclassifier", *server.cli_options(data_dir), *args, cwd=data_dir.parent)


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bare]:
    b = Bare(tmp_path_factory.mktemp("bare") / "venv")
    probe = (
        "import importlib.util as u, sys\n"
        "print(sys.prefix != sys.base_prefix, [m for m in sys.argv[1:] if u.find_spec(m)])"
    )
    p = b.run("-c", probe, *THIRD_PARTY, cwd=Path(b.python).parent)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split(None, 1) == ["True", "[]\n"], f"the venv is not bare: {p.stdout}"
    yield b


def test_classify_refresh_stats_and_cache_need_no_third_party_package(
    bare: Bare, fixture_server: FixtureServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    p = bare.ipclassifier(fixture_server, data, "refresh", "--summary")
    assert p.returncode == 0, p.stderr
    assert "36 updated" in p.stdout  # 12 lists + 22 provider lists + 2 VPN lists + the scanners
    p = bare.ipclassifier(fixture_server, data, "classify", "-f", "jsonl", "185.220.101.1", "1.1.1.1")
    assert p.returncode == 0, p.stderr
    answers = [json.loads(line) for line in p.stdout.splitlines()]
    assert [a["ip_type"] for a in answers] == ["tor", "unknown"]
    p = bare.ipclassifier(fixture_server, data, "stats")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["prefixes"] > 0
    cache = ["--cache-dir", str(tmp_path / "l3"), "--db", f"sqlite:///{tmp_path / 'l2.sqlite'}"]
    p = bare.ipclassifier(fixture_server, data, *cache, "classify", "3.5.140.1")
    assert p.returncode == 0, p.stderr
    p = bare.ipclassifier(fixture_server, data, *cache, "cache", "stats")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().startswith("{")
    assert "Traceback" not in p.stderr


def test_no_third_party_module_is_imported(bare: Bare, fixture_server: FixtureServer, tmp_path: Path) -> None:
    """The library, the whole command line (every command module registers)
    and Pass 4 with a real classifier, in one process."""
    code = """
import contextlib, io, json, sys
import ipclassifier
from ipclassifier import cli, create_ip_classifier
from ipclassifier.cowrie import IPClassificationPass, fill_snapshot_ip_types

args = json.loads(sys.argv[1])
with contextlib.redirect_stdout(io.StringIO()):
    assert cli.main(args + ["refresh"]) == 0
    assert cli.main(args + ["classify", "185.220.101.1"]) == 0
    cli.build_parser()
c = create_ip_classifier(data_dir=args[1], enable_cache=False)
row = {"ip_address": "185.220.101.1", "enrichment": {}}
assert IPClassificationPass(c).run(row).ip_type == "tor"
rows = [{"source_ip": "185.220.101.1", "snapshot_ip_type": None}]
assert fill_snapshot_ip_types(rows, c).by_type == {"tor": 1}
c.close()
# No requests here: update_all_sources raises an OSError (upstream documents a RequestException).
assert [b.__name__ for b in ipclassifier.SourceUpdateError.__mro__[:2]] == ["SourceUpdateError", "OSError"]
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2:])))
"""
    opts = json.dumps(fixture_server.cli_options(tmp_path / "data"))
    p = bare.run("-c", code, opts, *THIRD_PARTY, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == [], "third-party modules were imported"


@pytest.mark.parametrize(
    "args, extra",
    [
        (["stats", "--format", "prom"], "metrics"),
        (["backfill", "--db", "sqlite:///{tmp}/cowrie.sqlite"], "cowrie"),
        (["demo-db", "--db", "sqlite:///{tmp}/cowrie.sqlite"], "cowrie"),
        (["validate", "--truth", "{tmp}/none.csv", "--plot", "{tmp}/x.png"], "validate"),
    ],
)
def test_a_missing_extra_is_named(
    bare: Bare, fixture_server: FixtureServer, tmp_path: Path, args: Any, extra: str
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    p = bare.ipclassifier(fixture_server, tmp_path / "data", *args)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert f"needs the {extra!r} extra" in p.stderr and f"pip install 'ipclassifier[{extra}]'" in p.stderr
    assert "Traceback" not in p.stderr
