"""`ipclassifier validate` opens the user's classifier only when it measures
it: --real-data (an engine of its own) and --asn-names (names alone) create
and touch no default data or cache directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from conftest import FIXTURES

VALIDATE = FIXTURES / "validate"

# Where the engine's default data directory (and the default cache tiers
# under it) would go: $IPCLASSIFIER_DATA_DIR, else $XDG_CACHE_HOME/ipclassifier,
# else ~/.cache/ipclassifier (classifier/config.go defaultDataDir).
DEFAULTS = {
    "home": ("home/.cache/ipclassifier", {}),
    "xdg": ("xdg-cache/ipclassifier", {"XDG_CACHE_HOME": "xdg-cache"}),
    "env": ("ipc-data", {"IPCLASSIFIER_DATA_DIR": "ipc-data"}),
}


def sandbox_env(sandbox: Path, extra: Dict[str, str]) -> Dict[str, str]:
    """The environment of a CLI run whose home and XDG directories are under
    sandbox (only sandbox/home exists, empty)."""
    (sandbox / "home").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_") and k != "IPCLASSIFIER_DATA_DIR"}
    env["HOME"] = str(sandbox / "home")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        env[var] = str(sandbox / var.lower())
    env.update({k: str(sandbox / v) for k, v in extra.items()})
    return env


def run_cli(env: Dict[str, str], *args: str) -> "subprocess.CompletedProcess[str]":
    cmd = [sys.executable, "-m", "ipclassifier", *args]
    cwd = str(Path(env["HOME"]).parent.parent)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


def tree(root: Path) -> List[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def real_data_folder(tmp_path: Path) -> Tuple[Path, Path]:
    """A tiny real-data folder (SOURCES.md and the fixture Tor bulk list) and
    a labelled CSV of one Tor exit and one address no list knows."""
    folder = tmp_path / "real-data"
    (folder / "tor").mkdir(parents=True)
    (folder / "SOURCES.md").write_text("# test folder: only the Tor bulk exit list\n")
    shutil.copy(FIXTURES / "tor" / "torbulkexitlist", folder / "tor" / "torbulkexitlist")
    truth = tmp_path / "truth.csv"
    truth.write_text("ip,expected_type\n185.220.101.1,tor\n198.51.100.7,unknown\n")
    return folder, truth


ASN_NAMES_ARGS = (
    "--asn-names", str(VALIDATE / "asns.csv"),
    "--positive-tags", str(VALIDATE / "tags-res.csv"),
    "--negative-tags", str(VALIDATE / "tags-host.csv"),
)  # fmt: skip


@pytest.mark.parametrize("where", sorted(DEFAULTS))
def test_validate_asn_names_creates_no_default_dir(tmp_path: Path, where: str) -> None:
    sandbox = tmp_path / "sandbox"
    env = sandbox_env(sandbox, DEFAULTS[where][1])
    p = run_cli(env, "validate", *ASN_NAMES_ARGS, "--refresh")
    assert tree(sandbox) == ["home"]  # nothing created, not even the default data dir
    assert p.returncode == 0, p.stderr
    assert (
        "| asns.csv: res vs host, all ASNs | all | 3 | 66.7% (2) | 66.7% (1 false) | 2 | 50.0% (1) | 100.0% (0 false) |"
        in p.stdout
    )
    # --refresh would refresh the user's classifier, which this run does not open.
    assert "warning: --refresh ignored: AS-name runs score names alone, so no classifier of yours is opened" in p.stderr


@pytest.mark.parametrize("where", sorted(DEFAULTS))
def test_validate_real_data_creates_no_default_dir(tmp_path: Path, where: str) -> None:
    sandbox = tmp_path / "sandbox"
    env = sandbox_env(sandbox, DEFAULTS[where][1])
    folder, truth = real_data_folder(tmp_path)
    p = run_cli(env, "validate", "--real-data", str(folder), "--truth", str(truth), "--json")
    assert p.returncode == 0, p.stderr
    outcome = json.loads(p.stdout)
    # The folder's own engine was measured: it knows the Tor exit.
    assert outcome["real_data"] == str(folder)
    assert outcome["report"]["confusion"] == {"tor": {"tor": 1}, "unknown": {"unknown": 1}}
    assert "`tor`: updated, 4 entries from tor/torbulkexitlist" in outcome["engine"]
    assert tree(sandbox) == ["home"]
    assert tree(folder) == ["SOURCES.md", "tor", "tor/torbulkexitlist"]  # the folder is only read


@pytest.mark.parametrize("where", sorted(DEFAULTS))
def test_validate_truth_still_measures_the_users_classifier(tmp_path: Path, where: str) -> None:
    """The control: the same sandbox does receive the default data dir and
    cache tiers when the run measures the user's classifier."""
    sandbox = tmp_path / "sandbox"
    env = sandbox_env(sandbox, DEFAULTS[where][1])
    _, truth = real_data_folder(tmp_path)
    p = run_cli(env, "validate", "--baseline-dir", "", "--truth", str(truth), "--json")
    assert p.returncode == 0, p.stderr
    # No list downloaded in this data dir (and no baseline): both answers are unknown.
    assert json.loads(p.stdout)["report"]["confusion"] == {"tor": {"unknown": 1}, "unknown": {"unknown": 1}}
    default = sandbox / DEFAULTS[where][0]
    assert (default / "snapshots").is_dir()
    assert (default / "cache.sqlite").is_file()
    assert (default / "cache").is_dir()


def test_validate_usage_error_opens_no_classifier(tmp_path: Path) -> None:
    sandbox = tmp_path / "sandbox"
    env = sandbox_env(sandbox, {})
    p = run_cli(env, "validate")
    assert p.returncode == 2
    assert "nothing to measure" in p.stderr
    assert tree(sandbox) == ["home"]


def test_needs_classifier_follows_the_spec() -> None:
    from ipclassifier import _harness

    spec = {"truth": [str(VALIDATE / "labelled.csv")]}
    assert _harness.needs_classifier(spec)
    assert not _harness.needs_classifier({**spec, "real_data": "/somewhere"})
    assert not _harness.needs_classifier({"asn_names": [{}]})
    assert _harness.needs_classifier({"addresses": ["/a/list.txt"]})
