"""The bundled baseline: dated lists the package ships (``make baseline``)
so a classifier with no snapshot of its own classifies on its first run,
offline. What replaces it, what it never shadows and what is served from
it are specified in Go (classifier/baseline_test.go); here: that the package
ships it, uses it by default, and says so."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict

from ipclassifier import IPType, create_ip_classifier
from ipclassifier.classifier import BASELINE_DIR

# Every source URL pointing where nothing answers: a machine with no network.
OFFLINE = {
    key: "http://127.0.0.1:9/" + key
    for key in (
        "tor_url",
        "onionoo_url",
        "cloud_base_url",
        "datacenter_url",
        "hosting_base_url",
        "hosting_asn_url",
        "asn_v4_url",
        "asn_v6_url",
        "peeringdb_url",
    )
}


def _metas() -> Dict[str, Dict[str, Any]]:
    return {
        p.name[: -len(".meta.json")]: json.loads(p.read_text())
        for p in sorted((BASELINE_DIR / "snapshots").glob("*.meta.json"))
    }


def test_the_package_ships_a_baseline_whose_files_match_their_metadata_and_notice() -> None:
    metas = _metas()
    assert {"tor", "cloud__aws", "cloud__gcp", "datacenter__x4bnet-ipv4"} <= set(metas)
    notice = (BASELINE_DIR / "NOTICE").read_text()
    for stem, meta in metas.items():
        data = (BASELINE_DIR / "snapshots" / (stem + ".data")).read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"], stem
        assert data[:2] == b"\x1f\x8b", f"{stem}: compact (gzip), not a copy of the file"
        assert meta["url"].startswith("https://"), f"{stem}: the public URL, not a build machine's path"
        assert "etag" not in meta and "last_modified" not in meta, "no validators: a refresh downloads in full"
        assert f"{meta['source']} ({meta['verified_at'][:10]})" in notice, f"{stem} is not in NOTICE"
    assert "jhassine" not in json.dumps(metas), "the jhassine list has no license: never bundled"


def test_a_fresh_offline_classifier_answers_from_the_baseline_flagged_stale(tmp_path: Path) -> None:
    with create_ip_classifier(data_dir=tmp_path / "d", enable_cache=False, attempts=1, **OFFLINE) as clf:
        report = clf.refresh("all")
        assert report["failed"] == len(report["sources"]), "nothing is reachable"
        tor = clf.classify("185.220.101.1")
        assert (tor.ip_type, tor.source, tor.stale) == (IPType.TOR, "tor_bulk_list", True)
        assert tor.snapshot_at == datetime(2026, 8, 22, tzinfo=timezone.utc)
        assert tor.data_age_seconds is not None and tor.data_age_seconds > 0
        aws = clf.classify("3.5.140.2")
        assert (aws.ip_type, aws.provider, aws.region, aws.stale) == (IPType.CLOUD, "aws", "ap-northeast-2", True)
        by_name = {s["name"]: s for s in clf.get_stats()["sources"]}
        assert by_name["tor"]["baseline"] is True
        assert "baseline" not in by_name["asn/ip2asn-v4"], "not bundled: nothing loaded"
    assert not list((tmp_path / "d" / "snapshots").glob("tor.*")), "the baseline is not copied into the data dir"


def test_baseline_dir_empty_starts_from_nothing(tmp_path: Path) -> None:
    with create_ip_classifier(data_dir=tmp_path / "d", enable_cache=False, baseline_dir="", **OFFLINE) as clf:
        assert clf.classify("185.220.101.1").ip_type == IPType.UNKNOWN


def test_refresh_summary_gives_the_baseline_date_in_its_one_line(tmp_path: Path) -> None:
    opts = [f"--{k.replace('_', '-')}={v}" for k, v in OFFLINE.items()]
    p = subprocess.run(
        [sys.executable, "-m", "ipclassifier", "--data-dir", str(tmp_path / "d"), *opts, "refresh", "all", "--summary"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 1, p.stderr  # every source failed: cron alerts
    lines = p.stdout.splitlines()
    assert len(lines) == 1, p.stdout
    dates = sorted({m["verified_at"][:10] for m in _metas().values()})
    assert f"{len(_metas())} of them from the bundled baseline of {dates[0]} to {dates[-1]}" in lines[0]
    assert "the sources are unreachable" in lines[0]
