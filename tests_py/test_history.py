"""Answers as of a past time: classify(..., at=), import_snapshot, the CLI's
classify --at and refresh --import, on the fixture server plus a dated Tor
list written here in the real format (and on the real dated lists of
../shared/data when present)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from ipclassifier import IPType
from ipclassifier._native import ClassifierError
from test_cli import run

MARCH = datetime(2026, 3, 15, 13, 17, 9, tzinfo=timezone.utc)
# An exit of the dated list below that the fixture server's current list lacks.
OLD_EXIT = "91.203.5.77"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def march_list(tmp_path: Path) -> Path:
    p = tmp_path / "torbulkexitlist.2026-03-15"
    p.write_text(f"185.220.101.1\n{OLD_EXIT}\n")
    return p


def test_classify_at_answers_from_the_list_in_force_then(loaded: Any, tmp_path: Path) -> None:
    rep = loaded.import_snapshot("tor", march_list(tmp_path), MARCH)
    assert rep["added"] is True and rep["entries"] == 2 and rep["source"] == "tor"
    at = MARCH + timedelta(days=2)
    then = loaded.classify(OLD_EXIT, at=at)
    assert then.ip_type == IPType.TOR
    assert then.as_of == at
    assert then.snapshot_at == MARCH
    assert then.data_age_seconds == 2 * 86400
    assert then.history_short is False
    now = loaded.classify(OLD_EXIT)
    assert now.ip_type != IPType.TOR
    assert now.as_of is None and now.history_short is False
    # Before the history: the oldest list answers, flagged, the age negative.
    early = loaded.classify(OLD_EXIT, at=MARCH - timedelta(days=1))
    assert early.ip_type == IPType.TOR and early.history_short is True
    assert early.data_age_seconds == -86400
    # A naive datetime is UTC; bulk items take the time as a fourth element.
    assert loaded.classify(OLD_EXIT, at=at.replace(tzinfo=None)).as_of == at
    answers = loaded.bulk_classify([(OLD_EXIT, None, None, at), OLD_EXIT], as_list=True)
    assert [a.ip_type for a in answers] == [IPType.TOR, now.ip_type]
    stats = loaded.get_stats()
    assert stats["history"]["tor"]["imported"] == 1
    assert stats["history_lookups"] >= 4 and stats["history_short"] >= 1
    assert stats["history_disk_bytes"] > 0


def test_classify_at_refuses_bad_input(loaded: Any, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not-an-ip"):
        loaded.classify("not-an-ip", at=MARCH)
    with pytest.raises(TypeError, match="datetime"):
        loaded.classify("1.2.3.4", at="2026-03-15")  # type: ignore[arg-type]
    with pytest.raises(ClassifierError, match="unknown source"):
        loaded.import_snapshot("tor/nope", b"1.2.3.4\n", MARCH)
    with pytest.raises(ClassifierError, match="future"):
        loaded.import_snapshot("tor", b"1.2.3.4\n", datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(ClassifierError, match="HTML"):
        loaded.import_snapshot("tor", b"<html><body>rate limited</body></html>", MARCH)
    assert loaded.get_stats()["history"]["tor"]["imported"] == 0


def test_cache_tiers_never_hold_answers_of_a_past_time(make_classifier: Any, tmp_path: Path) -> None:
    c = make_classifier(cache_dir=str(tmp_path / "cache"), enable_cache=True)
    assert c.refresh("all", force=True)["failed"] == 0
    c.import_snapshot("tor", march_list(tmp_path), MARCH)
    assert c.classify(OLD_EXIT, at=MARCH + timedelta(hours=1)).ip_type == IPType.TOR
    assert c.classify(OLD_EXIT, at=MARCH + timedelta(hours=1)).cache_tier is None
    now = c.classify(OLD_EXIT)
    assert now.ip_type != IPType.TOR and now.as_of is None


def test_cli_imports_and_classifies_at_a_time(fixture_server: Any, tmp_path: Path) -> None:
    d = tmp_path / "cli-data"
    assert run(fixture_server, d, "refresh", "--no-cache").returncode == 0
    p = run(fixture_server, d, "--no-cache", "refresh", "tor", "--import", str(march_list(tmp_path)),
            "--date", "2026-03-15T13:17:09Z")  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "imported" in p.stdout
    p = run(fixture_server, d, "--no-cache", "classify", OLD_EXIT, "--at", "2026-03-16", "-f", "jsonl")
    assert p.returncode == 0, p.stderr
    rec = json.loads(p.stdout)
    assert rec["ip_type"] == "tor" and rec["as_of"] == "2026-03-16T00:00:00+00:00"
    assert rec["snapshot_at"] == "2026-03-15T13:17:09+00:00" and rec["history_short"] is False
    p = run(fixture_server, d, "--no-cache", "classify", OLD_EXIT, "--at", "yesterday")
    assert p.returncode == 2 and "invalid time" in p.stderr
    p = run(fixture_server, d, "--no-cache", "refresh", "--import", str(march_list(tmp_path)), "--date", "2026-03-15")
    assert p.returncode == 2 and "--source" in p.stderr


@pytest.mark.skipif(not (SHARED / "tor" / "torbulkexitlist.2026-08-22").exists(), reason="no ../shared/data")
def test_real_march_exits_are_tor_in_march_and_not_now(make_classifier: Any) -> None:
    c = make_classifier(tor_url=(SHARED / "tor" / "torbulkexitlist.2026-08-22").as_uri())
    assert c.refresh("tor", force=True)["sources"][0]["status"] == "updated"
    c.import_snapshot("tor", SHARED / "tor" / "torbulkexitlist", MARCH)
    march = set((SHARED / "tor" / "torbulkexitlist").read_text().split())
    august = set((SHARED / "tor" / "torbulkexitlist.2026-08-22").read_text().split())
    gone = sorted(march - august)[:200]
    assert gone
    at = MARCH + timedelta(days=1)
    then = c.bulk_classify([(ip, None, None, at) for ip in gone], as_list=True)
    now = c.bulk_classify(gone, as_list=True)
    assert all(a.ip_type == IPType.TOR and a.snapshot_at == MARCH for a in then)
    assert not any(a.ip_type == IPType.TOR for a in now)
