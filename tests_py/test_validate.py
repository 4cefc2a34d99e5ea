"""`ipclassifier validate` and IPClassifier.validate: the Go engine measures,
Python prints (markdown or JSON) and draws the confusion matrix."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from conftest import FIXTURES, FixtureServer

VALIDATE = FIXTURES / "validate"
LABELLED = VALIDATE / "labelled.csv"
TOR_LIST = FIXTURES / "tor" / "torbulkexitlist"


def cli(server: FixtureServer, data_dir: Path, *args: str) -> Tuple[int, str, str]:
    """Run the CLI in-process (the engine loads once per test session)."""
    from ipclassifier.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            rc = main([*server.cli_options(data_dir), *args])
        except SystemExit as e:  # argparse usage errors
            rc = int(e.code or 0)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture
def data_dir(fixture_server: FixtureServer, tmp_path: Path) -> Path:
    d = tmp_path / "validate-data"
    rc, _, err = cli(fixture_server, d, "refresh", "--no-cache")
    assert rc == 0, err
    return d


def validate(server: FixtureServer, data_dir: Path, *args: str) -> Tuple[int, str, str]:
    return cli(server, data_dir, "validate", "--no-cache", *args)


# Figures computed by hand from tests_py/fixtures/validate/labelled.csv (its
# comments say what the fixture engine answers).
EXPECTED_ROWS = [
    "| tor | 2 | 2 | 2 | 100.0% | 100.0% | 100.0% |",
    "| cloud | 3 | 3 | 3 | 100.0% | 100.0% | 100.0% |",
    "| datacenter | 1 | 2 | 1 | 50.0% | 100.0% | 100.0% |",
    "| residential | 3 | 1 | 1 | 100.0% | 33.3% | 66.7% |",
    "| unknown | 1 | 2 | 1 | 50.0% | 100.0% | 0.0% |",
    "| aws | 2 | 1 | 50.0% |",
    "| cloudflare | 1 | 1 | 100.0% |",
    "| labelled.csv | as labelled | 10 | 7 | 70.0% | 80.0% |",
    "| residential | 0 | 0 | 1 | 1 | 1 |",
]


def test_validate_labelled_csv_prints_the_known_figures(fixture_server: FixtureServer, data_dir: Path) -> None:
    rc, out, err = validate(fixture_server, data_dir, "--truth", str(LABELLED))
    assert rc == 0, err
    assert out.startswith("### Labels against truth (10 addresses)")
    for row in EXPECTED_ROWS:
        assert row in out, row


def test_validate_json_keys(fixture_server: FixtureServer, data_dir: Path) -> None:
    rc, out, err = validate(fixture_server, data_dir, "--truth", str(LABELLED), "--sample-tor", str(TOR_LIST), "--json")
    assert rc == 0, err
    outcome = json.loads(out)
    assert {"seed", "samples", "report", "markdown", "targets_missed"} <= set(outcome)
    report = outcome["report"]
    assert {"total", "types", "providers", "origins", "confusion"} <= set(report)
    assert report["total"] == 14
    assert report["confusion"]["residential"] == {"datacenter": 1, "residential": 1, "unknown": 1}
    origins = {o["origin"]: o for o in report["origins"]}
    assert origins["tor torbulkexitlist v4"]["share"] == 1.0
    assert origins["labelled.csv"]["right"] == 7
    assert outcome["markdown"].startswith("### Samples (seed 0)")


def test_validate_samplers_and_seed(fixture_server: FixtureServer, data_dir: Path) -> None:
    aws = FIXTURES / "cloud" / "aws" / "aws_ips.csv"
    args = ["--sample-cloud", f"aws={aws}", "-n", "15", "--seed", "4", "--json"]
    rc, out, err = validate(fixture_server, data_dir, *args)
    assert rc == 0, err
    a = json.loads(out)
    origins = {o["origin"]: o for o in a["report"]["origins"]}
    assert {o: origins[o]["n"] for o in origins} == {"cloud aws aws_ips.csv v4": 15, "cloud aws aws_ips.csv v6": 15}
    assert all(o["share"] == 1.0 for o in origins.values())
    assert a["report"]["providers"] == [{"provider": "aws", "expected": 30, "correct": 30, "agreement": 1.0}]
    assert a["seed"] == 4
    rc, again, _ = validate(fixture_server, data_dir, *args)
    assert rc == 0 and json.loads(again)["markdown"] == a["markdown"]


def test_validate_asn_names_mode(fixture_server: FixtureServer, data_dir: Path) -> None:
    rc, out, err = validate(
        fixture_server, data_dir,
        "--asn-names", str(VALIDATE / "asns.csv"),
        "--positive-tags", str(VALIDATE / "tags-res.csv"),
        "--negative-tags", str(VALIDATE / "tags-host.csv"),
        "--examples", "5",
    )  # fmt: skip
    assert rc == 0, err
    # Residential-only: 3320 and 7922 right, 20712 says nothing; hosting-only:
    # 16509 right, 64500 "Brava Internet" called residential.
    assert (
        "| asns.csv: res vs host, all ASNs | all | 3 | 66.7% (2) | 66.7% (1 false) | 2 | 50.0% (1) | 100.0% (0 false) |"
        in out
    )
    assert "hosting-only called residential (1 of 1): AS64500 Brava Internet [internet]" in out
    assert "Labels against truth" not in out


def test_validate_exit_codes(fixture_server: FixtureServer, data_dir: Path, tmp_path: Path) -> None:
    rc, _, err = validate(fixture_server, data_dir)
    assert rc == 2 and "nothing to measure" in err
    rc, _, err = validate(fixture_server, data_dir, "--sample-cloud", "no-equals-sign")
    assert rc == 2 and "PROVIDER=FILE" in err
    rc, _, err = validate(fixture_server, data_dir, "--split", "half", "--truth", str(LABELLED))
    assert rc == 2  # argparse
    rc, _, err = validate(fixture_server, data_dir, "--truth", str(tmp_path / "missing.csv"))
    assert rc == 1 and "missing.csv" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("1.2.3.4,vpn\n")
    rc, _, err = validate(fixture_server, data_dir, "--truth", str(bad))
    assert rc == 1 and 'line 1: unknown type "vpn"' in err
    # A spec with a target that is missed: exit 1, the figures still printed.
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({
        "truth": [str(LABELLED)],
        "targets": [
            {"name": "labelled right", "origin": "labelled.csv", "min": 0.9},
            {"name": "labelled covered", "origin": "labelled.csv"},
        ],
    }))  # fmt: skip
    rc, out, err = validate(fixture_server, data_dir, "--spec", str(spec))
    assert rc == 1 and "1 target(s) missed" in err
    assert "| labelled right | 70.0% | 10 | ≥ 90.0% | no |" in out
    targets = [{"name": "ok", "origin": "labelled.csv", "min": 0.5}]
    spec.write_text(json.dumps({"truth": [str(LABELLED)], "targets": targets}))
    rc, out, err = validate(fixture_server, data_dir, "--spec", str(spec))
    assert rc == 0, err


def test_validate_plot_writes_a_png(fixture_server: FixtureServer, data_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is not installed: --plot cannot be tested")
    png = tmp_path / "confusion.png"
    rc, out, err = validate(fixture_server, data_dir, "--truth", str(LABELLED), "--plot", str(png))
    assert rc == 0, err
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert "### Labels against truth" in out


def test_validate_plot_without_labelled_addresses_is_an_error(
    fixture_server: FixtureServer, data_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is not installed")
    png = tmp_path / "none.png"
    rc, _, err = validate(
        fixture_server, data_dir, "--asn-names", str(VALIDATE / "asns.csv"),
        "--positive-tags", str(VALIDATE / "tags-res.csv"), "--negative-tags", str(VALIDATE / "tags-host.csv"),
        "--plot", str(png),
    )  # fmt: skip
    assert rc == 1 and "no confusion matrix" in err
    assert not png.exists()


def test_validate_plot_says_when_matplotlib_is_missing(
    fixture_server: FixtureServer, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    rc, _, err = validate(fixture_server, data_dir, "--truth", str(LABELLED), "--plot", str(tmp_path / "x.png"))
    assert rc == 1
    assert "needs the 'validate' extra (matplotlib is not installed)" in err
    assert "pip install 'ipclassifier[validate]'" in err


def test_harness_measures_the_classifier_its_config_describes(loaded: Any) -> None:
    from ipclassifier import _harness

    outcome = _harness.run({"truth": [str(LABELLED)], "seed": 9}, loaded.config)
    assert outcome["seed"] == 9
    types = {t["type"]: t for t in outcome["report"]["types"]}
    assert types["residential"]["recall"] == pytest.approx(1 / 3)
    assert types["datacenter"]["precision"] == pytest.approx(0.5)
    assert outcome["markdown"].startswith("### Labels against truth")


def test_harness_rejects_a_bad_spec(loaded: Any) -> None:
    from ipclassifier import ClassifierError, _native

    with pytest.raises(ClassifierError) as e:
        _harness_run({"truht": []}, loaded.config)
    assert e.value.code == _native.INVALID_ARGUMENT and "truht" in str(e.value)
    with pytest.raises(ClassifierError):
        _harness_run({"samplers": [{"kind": "dns"}]}, loaded.config)


def test_the_library_carries_no_harness() -> None:
    """The .so a host loads exports no Validate and holds none of
    classifier/validate; the harness is its own program."""
    from ipclassifier import _harness, _native

    lib = _native.load()
    for name in ("Validate", "ValidateStandalone"):
        assert not hasattr(lib.cdll, name)
    with open(lib.path, "rb") as f:
        assert b"ipclassifier/classifier/validate" not in f.read()
    assert os.access(_harness.program_path(), os.X_OK)


def _harness_run(spec: Dict[str, Any], config: Dict[str, Any]) -> Dict[str, Any]:
    from ipclassifier import _harness

    return _harness.run(spec, config)


def test_validate_asn_tags_sampler(fixture_server: FixtureServer, data_dir: Path) -> None:
    args = [
        "--sample-asn-tags", str(VALIDATE / "tags-res.csv"), "--exclude-tags", str(VALIDATE / "tags-host.csv"),
        "--ip2asn", str(FIXTURES / "asn" / "ip2asn-v4.tsv"), "--type", "residential", "-n", "10", "--json",
    ]  # fmt: skip
    rc, out, err = validate(fixture_server, data_dir, *args)
    assert rc == 0, err
    (origin,) = json.loads(out)["report"]["origins"]
    # Only AS3320 (DTAG) of the residential tags has a range in the table.
    assert origin["origin"] == "asn-tags res not host v4"
    assert origin["n"] == 10 and origin["share"] == 1.0
    rc, _, err = validate(fixture_server, data_dir, *args[:4])
    assert rc == 2 and "--ip2asn" in err


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.mark.skipif(not (SHARED_DATA / "SOURCES.md").is_file(), reason=f"real data not found at {SHARED_DATA}")
def test_validate_real_data_suite(fixture_server: FixtureServer, tmp_path: Path) -> None:
    rc, out, err = validate(fixture_server, tmp_path / "d", "--real-data", str(SHARED_DATA), "--json")
    outcome = json.loads(out)
    assert rc == (1 if outcome["targets_missed"] else 0), err
    targets = {t["name"]: t for t in outcome["targets"]}
    assert len(targets) == 43
    for name, t in targets.items():
        if name.startswith(("aws", "gcp", "oracle", "azure", "Tor", "IPv6 of residential")):
            assert t["met"], t
    # Missed when written (docs/validation.md): AS-name residential recall,
    # IPv6 of hosting ASNs since the AS profile is off by default, and issue
    # 10's held-out residential recall and hosting precision per address. No
    # other target may be missed; these may come to be met.
    missed = {name for name, t in targets.items() if t.get("met") is False}
    assert missed <= {
        "AS-name residential recall (held-out)",
        "IPv6 of hosting ASNs → datacenter or cloud",
        "IPv4 space, held-out odd ASNs: residential recall",
        "IPv4 space, held-out odd ASNs: hosting precision",
    }
    assert outcome["targets_missed"] == len(missed)
    assert targets["IPv4 space, held-out odd ASNs: residential precision"]["met"]
    assert targets["precision of the AS-name heuristic's answers"]["value"] >= 0.95
    assert outcome["real_data"] == str(SHARED_DATA)
    assert "### Engine measured" in outcome["markdown"]


def test_validate_addresses_surveys_a_list_with_no_truth(fixture_server: FixtureServer, data_dir: Path) -> None:
    rc, out, err = validate(fixture_server, data_dir, "--addresses", str(VALIDATE / "addresses.txt"), "--json")
    assert rc == 0, err
    (survey,) = json.loads(out)["surveys"]
    assert (survey["lines"], survey["addresses"], survey["invalid"]) == (6, 4, 1)
    assert survey["by_type"] == {"tor": 1, "cloud": 1, "datacenter": 1, "unknown": 1}
    assert survey["covered"] == 3 and survey["coverage"] == 0.75
    assert survey["by_source"]["tor_bulk_list"] == 1
    rc, out, err = validate(fixture_server, data_dir, "--addresses", str(VALIDATE / "addresses.txt"))
    assert rc == 0, err
    assert "### Survey of addresses.txt (no truth)" in out
    assert "**Coverage: 75.0%** (3 labelled, 1 unknown)" in out
