"""The backfill (ipclassifier.cowrie.backfill) on SQLite and PostgreSQL:
every session with a known source IP gets a type; NULL-only; a crashed run
resumed ends like a clean run; dry run changes nothing; orphans; bad rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import pytest

from cowrie_fixtures import (
    Spy,
    create_host_schema,
    insert_inventory,
    insert_sessions,
    inventory_enrichment,
    session_types,
    table_digest,
)
from ipclassifier.cowrie import BackfillError, BackfillProgress, BackfillReport, backfill, format_report

pytest_plugins = ("cowrie_fixtures",)  # db_url, pg_url, sqlite_url, spy

SMALL_IPS, SMALL_SESSIONS = 500, 20_000


def demo(url: str, seed: int = 7, **kw: Any) -> Any:
    from ipclassifier.cowrie.demo_db import build_demo_db

    return build_demo_db(url, ips=SMALL_IPS, sessions=SMALL_SESSIONS, seed=seed, replace=True, **kw)


def final_state(url: str) -> Dict[str, Any]:
    inv = inventory_enrichment(url)
    return {
        "sessions": session_types(url),
        "inventory": {ip: (e.get("ip_classification") or {}).get("ip_type") for ip, e in inv.items()},
    }


def check_complete(url: str, rep: BackfillReport) -> None:
    assert rep.complete
    st = final_state(url)
    assert all(t is not None for t in st["inventory"].values()), "every ip_inventory row is classified"
    assert rep.session_types.get(None, 0) == 0 and rep.coverage == 1.0


def test_backfill_types_every_session_with_a_source_ip(loaded: Any, db_url: str) -> None:
    d = demo(db_url)
    rep = backfill(db_url, loaded, batch_size=128)
    check_complete(db_url, rep)
    known = SMALL_SESSIONS - d.sessions_no_ip
    assert (rep.inventory_total, rep.inventory_seen, rep.classified, rep.fresh) == (SMALL_IPS, SMALL_IPS, SMALL_IPS, 0)
    assert rep.batches == 4 and rep.sessions_updated == known and rep.sessions_known_ip == known
    assert rep.sessions_total == SMALL_SESSIONS
    assert sum(rep.ip_types.values()) == SMALL_IPS
    types = session_types(db_url)
    assert sum(1 for t in types.values() if t is None) == d.sessions_no_ip, "only sessions without an IP stay NULL"
    assert set(t for t in types.values() if t) <= {"tor", "cloud", "datacenter", "residential", "unknown"}
    # The stored answers keep the upstream keys first, and the other passes' data.
    inv = inventory_enrichment(db_url)
    sample = next(e for e in inv.values() if "maxmind" in e)
    upstream = ["ip_type", "provider", "confidence", "source", "classified_at"]
    assert set(sample["ip_classification"]) >= set(upstream)
    if db_url.startswith("sqlite"):  # JSONB does not keep key order
        assert list(sample["ip_classification"])[:5] == upstream
    assert set(sample) >= {"maxmind", "ip_classification"}
    text = format_report(rep)
    assert "coverage: 100.00%" in text and f"{known:,} of {known:,}" in text


def test_rerun_skips_fresh_rows_and_changes_nothing(loaded: Any, db_url: str) -> None:
    demo(db_url)
    backfill(db_url, loaded, batch_size=200)
    before = table_digest(db_url)
    rep = backfill(db_url, loaded, batch_size=200)
    assert (rep.classified, rep.fresh, rep.sessions_updated) == (0, SMALL_IPS, 0)
    assert table_digest(db_url) == before
    # --force re-classifies every row (the sessions keep their first type).
    rep = backfill(db_url, loaded, batch_size=200, force=True)
    assert (rep.classified, rep.fresh, rep.sessions_updated) == (SMALL_IPS, 0, 0)
    assert table_digest(db_url)[1] == before[1], "session_summaries untouched"


class Crash(Exception):
    pass


def test_crashed_run_resumed_ends_like_a_clean_run(loaded: Any, db_url: str) -> None:
    # A run that dies after 2 committed batches (the exception is raised
    # between batches, like a kill; the batch in flight is not committed).
    demo(db_url)

    def die(p: BackfillProgress) -> None:
        if p.batches == 2:
            raise Crash

    with pytest.raises(Crash):
        backfill(db_url, loaded, batch_size=64, progress=die)
    partial = final_state(db_url)
    done = sum(1 for t in partial["inventory"].values() if t is not None)
    assert done == 128, "two batches of 64 committed"
    assert any(t is None for t in partial["sessions"].values()) and any(partial["sessions"].values())
    rep = backfill(db_url, loaded, batch_size=64)
    assert rep.fresh == 128 and rep.classified == SMALL_IPS - 128, "the re-run continues where the crash left off"
    resumed = final_state(db_url)
    # A clean run on the same database (same seed).
    demo(db_url)
    backfill(db_url, loaded, batch_size=64)
    assert final_state(db_url) == resumed


def test_crash_inside_a_batch_rolls_that_batch_back(make_classifier: Any, loaded: Any, db_url: str) -> None:
    demo(db_url)

    class DiesOnThirdCall:
        def __init__(self) -> None:
            self.n = 0

        def bulk_classify(self, items: Any, **kw: Any) -> Any:
            self.n += 1
            if self.n == 3:
                raise RuntimeError("engine died")
            return loaded.bulk_classify(items, **kw)

    with pytest.raises(RuntimeError, match="engine died"):
        backfill(db_url, DiesOnThirdCall(), batch_size=100)
    st = final_state(db_url)
    assert sum(1 for t in st["inventory"].values() if t) == 200
    rep = backfill(db_url, loaded, batch_size=100)
    assert rep.complete and rep.fresh == 200 and rep.classified == 300
    assert rep.session_types.get(None, 0) == 0


def test_max_batches_stops_early_and_a_rerun_finishes(loaded: Any, db_url: str) -> None:
    demo(db_url)
    rep = backfill(db_url, loaded, batch_size=100, max_batches=2)
    assert not rep.complete and rep.batches == 2 and rep.inventory_seen == 200
    assert "INCOMPLETE" in format_report(rep)
    rep = backfill(db_url, loaded, batch_size=100)
    assert rep.complete and rep.fresh == 200 and rep.coverage == 1.0


def test_dry_run_changes_nothing_and_reports_what_would(loaded: Any, db_url: str) -> None:
    d = demo(db_url)
    before = table_digest(db_url)
    rep = backfill(db_url, loaded, batch_size=150, dry_run=True)
    assert table_digest(db_url) == before
    known = SMALL_SESSIONS - d.sessions_no_ip
    assert rep.dry_run and rep.sessions_updated == 0 and sum(rep.sessions_would_update.values()) == known
    assert rep.session_types.get(None) == known, "the database still has no types"
    assert rep.coverage == 1.0, "coverage after the run"
    assert "DRY RUN" in format_report(rep)


def test_null_only_and_include_unknown(spy: Spy, db_url: str) -> None:
    create_host_schema(db_url)
    insert_inventory(db_url, [{"ip_address": "185.220.101.1"}, {"ip_address": "3.5.140.1"}])
    insert_sessions(db_url, [
        {"session_id": "a", "source_ip": "185.220.101.1"},
        {"session_id": "b", "source_ip": "185.220.101.1", "snapshot_ip_type": "datacenter"},  # first ingestion wins
        {"session_id": "c", "source_ip": "3.5.140.1", "snapshot_ip_type": "unknown"},
        {"session_id": "d", "source_ip": "3.5.140.1"},
    ])  # fmt: skip
    rep = backfill(db_url, spy)
    assert session_types(db_url) == {"a": "tor", "b": "datacenter", "c": "unknown", "d": "cloud"}
    assert rep.sessions_updated == 2
    rep = backfill(db_url, spy, include_unknown=True)
    assert session_types(db_url) == {"a": "tor", "b": "datacenter", "c": "cloud", "d": "cloud"}
    assert rep.fresh == 2 and rep.sessions_updated == 1, "stored answers are reused, no re-classification"
    assert len(spy.calls) == 1


def test_asn_inputs_follow_pass4(spy: Spy, db_url: str) -> None:
    create_host_schema(db_url)
    insert_inventory(db_url, [
        {"ip_address": "80.128.1.1", "current_asn": 1,
         "enrichment": {"maxmind": {"asn": 3320, "asn_org": "Deutsche Telekom AG"},
                        "cymru": {"asn": 2, "asn_org": "X"}}},
        {"ip_address": "80.128.1.2", "current_asn": 1,
         "enrichment": {"maxmind": {"asn": None, "asn_org": None}, "cymru": {"asn": 3209, "asn_org": "Vodafone GmbH"}}},
        {"ip_address": "80.128.1.3", "current_asn": 7922, "enrichment": {"greynoise": {"noise": True}}},
    ])  # fmt: skip
    backfill(db_url, spy)
    inv = inventory_enrichment(db_url)
    got = {ip: (e["ip_classification"]["input_asn"], e["ip_classification"]["input_as_name"],
                e["ip_classification"]["input_source"]) for ip, e in inv.items()}  # fmt: skip
    assert got == {
        "80.128.1.1": (3320, "Deutsche Telekom AG", "maxmind"),
        "80.128.1.2": (3209, "Vodafone GmbH", "cymru"),
        "80.128.1.3": (7922, None, "current_asn"),
    }
    assert inv["80.128.1.1"]["ip_classification"]["ip_type"] == "residential"
    assert inv["80.128.1.3"]["greynoise"] == {"noise": True}
    assert sorted(spy.calls[0]) == [("80.128.1.1", 3320, "Deutsche Telekom AG"), ("80.128.1.2", 3209, "Vodafone GmbH"),
                                    ("80.128.1.3", 7922, None)]  # fmt: skip


def test_orphan_sessions_are_typed(spy: Spy, db_url: str) -> None:
    create_host_schema(db_url, foreign_keys=False)
    insert_inventory(db_url, [{"ip_address": "3.5.140.1"}])
    insert_sessions(db_url, [
        {"session_id": "a", "source_ip": "3.5.140.1"},
        {"session_id": "b", "source_ip": "185.220.101.34", "snapshot_asn": 64496},  # not in ip_inventory
        {"session_id": "c", "source_ip": "185.220.101.34"},
        {"session_id": "d", "source_ip": None},
    ])  # fmt: skip
    rep = backfill(db_url, spy)
    assert session_types(db_url) == {"a": "cloud", "b": "tor", "c": "tor", "d": None}
    assert rep.orphan_ips == 1 and rep.orphan_types == {"tor": 1}
    assert spy.calls[-1] == [("185.220.101.34", 64496, None)]
    assert "185.220.101.34" not in inventory_enrichment(db_url), "ip_inventory is not extended"
    rep = backfill(db_url, spy, orphans=False)
    assert rep.orphan_ips == 0


def test_bad_rows_do_not_stop_the_backfill(loaded: Any, db_url: str) -> None:
    import sqlalchemy as sa

    create_host_schema(db_url)
    insert_inventory(db_url, [
        {"ip_address": "not-an-ip"},
        {"ip_address": "185.220.101.1"},
        {"ip_address": "3.5.140.1", "enrichment": ["a", "list"]},
    ])  # fmt: skip
    insert_sessions(db_url, [
        {"session_id": "a", "source_ip": "not-an-ip"},
        {"session_id": "b", "source_ip": "185.220.101.1"},
        {"session_id": "c", "source_ip": "3.5.140.1"},
    ])  # fmt: skip
    rep = backfill(db_url, loaded)
    assert rep.complete and rep.invalid == 1 and rep.failed == 1 and rep.unwritable == 1
    assert session_types(db_url) == {"a": "unknown", "b": "tor", "c": "cloud"}
    inv = inventory_enrichment(db_url)
    assert inv["not-an-ip"]["ip_classification"]["source"] == "invalid_ip"
    eng = sa.create_engine(db_url)
    with eng.connect() as c:
        raw = c.execute(sa.text("SELECT enrichment FROM ip_inventory WHERE ip_address = '3.5.140.1'")).scalar()
    eng.dispose()
    assert raw == ["a", "list"] or raw == '["a", "list"]', "a non-object enrichment is left alone"


def test_missing_tables_are_a_usage_error(loaded: Any, db_url: str) -> None:
    with pytest.raises(BackfillError, match="ip_inventory") as e:
        backfill(db_url, loaded)
    assert e.value.usage


def test_bad_arguments(loaded: Any, sqlite_url: str) -> None:
    with pytest.raises(BackfillError, match="batch size"):
        backfill(sqlite_url, loaded, batch_size=0)
    with pytest.raises(BackfillError, match="invalid database URL"):
        backfill("not a url", loaded)


def test_engine_argument_and_stale_rows(loaded: Any, sqlite_url: str) -> None:
    import sqlalchemy as sa

    create_host_schema(sqlite_url)
    old = (datetime.now(timezone.utc) - timedelta(hours=30)).isoformat()
    fresh = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    rec = lambda t, at: {"ip_type": t, "provider": None, "confidence": 0.0, "source": "none", "classified_at": at}  # noqa: E731
    insert_inventory(sqlite_url, [
        {"ip_address": "185.220.101.1", "enrichment": {"ip_classification": rec("unknown", old)}},  # stale
        {"ip_address": "3.5.140.1", "enrichment": {"ip_classification": rec("residential", fresh)}},  # fresh, kept
    ])  # fmt: skip
    insert_sessions(sqlite_url, [{"session_id": "a", "source_ip": "185.220.101.1"},
                                 {"session_id": "b", "source_ip": "3.5.140.1"}])  # fmt: skip
    eng = sa.create_engine(sqlite_url)
    rep = backfill(eng, loaded)
    eng.dispose()
    assert (rep.classified, rep.fresh) == (1, 1)
    assert session_types(sqlite_url) == {"a": "tor", "b": "residential"}, "a fresh stored answer is used as is"


def test_plain_json_and_text_enrichment_columns(spy: Spy, db_url: str) -> None:
    """Upstream's ORM declares enrichment as JSON: `json` (not jsonb) on
    PostgreSQL; a SQLite database may declare it TEXT."""
    import sqlalchemy as sa

    pg = db_url.startswith("postgresql")
    md = sa.MetaData()
    enr_type = sa.JSON() if pg else sa.Text()
    inv = sa.Table("ip_inventory", md, sa.Column("ip_address", sa.String(45), primary_key=True),
                   sa.Column("current_asn", sa.Integer), sa.Column("enrichment", enr_type))  # fmt: skip
    ses = sa.Table("session_summaries", md, sa.Column("session_id", sa.String(64), primary_key=True),
                   sa.Column("source_ip", sa.String(45)), sa.Column("snapshot_ip_type", sa.Text))  # fmt: skip
    eng = sa.create_engine(db_url)
    md.create_all(eng)
    enr = {"maxmind": {"asn": 3320, "asn_org": "Deutsche Telekom AG"}}
    with eng.begin() as c:
        stored_enr = enr if pg else __import__("json").dumps(enr)
        c.execute(inv.insert(), [{"ip_address": "80.128.1.1", "enrichment": stored_enr},
                                 {"ip_address": "185.220.101.1", "enrichment": None}])  # fmt: skip
        c.execute(ses.insert(), [{"session_id": "a", "source_ip": "80.128.1.1"},
                                 {"session_id": "b", "source_ip": "185.220.101.1"}])  # fmt: skip
    rep = backfill(db_url, spy)
    assert rep.complete and rep.classified == 2 and rep.unwritable == 0
    assert session_types(db_url) == {"a": "residential", "b": "tor"}
    with eng.connect() as c:
        rows = dict(c.execute(sa.select(inv.c.ip_address, inv.c.enrichment)).all())
    eng.dispose()
    import json

    stored = {ip: (v if isinstance(v, dict) else json.loads(v)) for ip, v in rows.items()}
    assert stored["80.128.1.1"]["maxmind"]["asn_org"] == "Deutsche Telekom AG"
    assert stored["80.128.1.1"]["ip_classification"]["input_source"] == "maxmind"
    assert stored["185.220.101.1"]["ip_classification"]["ip_type"] == "tor", "a NULL enrichment becomes an object"
    # A second run finds the answers fresh in these column types too.
    assert backfill(db_url, spy).fresh == 2


def test_old_sqlite_without_update_from(loaded: Any, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite < 3.33 has no UPDATE … FROM: the correlated form gives the same result."""
    import ipclassifier.cowrie.backfill_job as job

    demo(sqlite_url, seed=11)
    backfill(sqlite_url, loaded, batch_size=128)
    want = final_state(sqlite_url)
    demo(sqlite_url, seed=11)
    monkeypatch.setattr(job, "_sqlite_version", lambda conn: (3, 31, 1))
    rep = backfill(sqlite_url, loaded, batch_size=128)
    assert rep.complete and rep.unwritable == 0
    assert final_state(sqlite_url) == want


def test_as_of_session_time_types_each_session_from_the_list_of_its_day(loaded: Any, db_url: str) -> None:
    """An address on a March Tor list and on none now: its March sessions
    are tor, its later ones are not; an orphan IP too; a session with no
    first_event_at gets today's answer."""
    march = datetime(2026, 3, 15, 13, 0, tzinfo=timezone.utc)
    loaded.import_snapshot("tor", b"91.203.5.77\n185.220.101.1\n", march)
    loaded.import_snapshot("tor", b"185.220.101.1\n", march + timedelta(days=10))
    create_host_schema(db_url, foreign_keys=False)
    insert_inventory(db_url, [{"ip_address": "91.203.5.77"}, {"ip_address": "185.220.101.1"}])
    day = timedelta(days=1)
    insert_sessions(db_url, [
        {"session_id": "before", "source_ip": "91.203.5.77", "first_event_at": march - day},
        {"session_id": "march1", "source_ip": "91.203.5.77", "first_event_at": march + timedelta(hours=2)},
        {"session_id": "march2", "source_ip": "91.203.5.77", "first_event_at": march + timedelta(hours=5)},
        {"session_id": "april", "source_ip": "91.203.5.77", "first_event_at": march + 20 * day},
        {"session_id": "no-time", "source_ip": "91.203.5.77", "first_event_at": None},
        {"session_id": "exit", "source_ip": "185.220.101.1", "first_event_at": march + 20 * day},
        {"session_id": "orphan", "source_ip": "91.203.5.77 ", "first_event_at": march + timedelta(hours=3)},
    ])  # fmt: skip
    rep = backfill(db_url, loaded, as_of_session_time=True)
    now = loaded.classify("91.203.5.77").ip_type.value
    assert now != "tor"
    types = session_types(db_url)
    assert types == {
        "before": "tor",  # before the history: the oldest list, counted as history_short
        "march1": "tor", "march2": "tor", "orphan": "tor",
        "april": now, "no-time": now, "exit": "tor",
    }  # fmt: skip
    # (IP, epoch) groups: 91.203.5.77 before the first import, in March
    # (two sessions), from April; the orphan (another source_ip text) in
    # March; the exit from April
    assert rep.sessions_as_of == 6 and rep.as_of_groups == 5 and rep.as_of_history_short >= 1
    assert rep.complete and rep.coverage == 1.0
    assert inventory_enrichment(db_url)["91.203.5.77"]["ip_classification"]["ip_type"] == now, "Pass 4's answer: now"
    assert "as of session time: 6 sessions" in format_report(rep)


AWS_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "cloud" / "aws" / "aws_ips.csv"


def aws_withdrawn_at_13h(classifier: Any, db_url: str) -> Tuple[BackfillReport, Dict[str, Optional[str]]]:
    """An AWS prefix (2600:1f14::/35) listed until 13:00 on 15 March, not
    listed from then on, listed again today; sessions of one of its
    addresses around that time. Runs the backfill as of session time with
    include_unknown; returns its report and the session types."""
    march = datetime(2026, 3, 15, 13, 0, tzinfo=timezone.utc)
    classifier.import_snapshot("cloud/aws", AWS_FIXTURE.read_bytes(), march - timedelta(days=10))
    without = b"ip_address,ip_type,service,region\n52.94.76.0/22,IPv4,AMAZON,us-west-2\n"
    classifier.import_snapshot("cloud/aws", without, march)
    create_host_schema(db_url, foreign_keys=False)
    ip = "2600:1f14::9"
    insert_inventory(db_url, [{"ip_address": ip}])
    hour = timedelta(hours=1)
    insert_sessions(db_url, [
        {"session_id": "morning", "source_ip": ip, "first_event_at": march - 2 * hour},
        {"session_id": "afternoon", "source_ip": ip, "first_event_at": march + hour},
        {"session_id": "retyped", "source_ip": ip, "first_event_at": march + 2 * hour, "snapshot_ip_type": "unknown"},
        {"session_id": "week-later", "source_ip": ip, "first_event_at": march + 7 * 24 * hour},
        {"session_id": "no-time", "source_ip": ip, "first_event_at": None},
        {"session_id": "typed", "source_ip": ip, "first_event_at": march + hour, "snapshot_ip_type": "tor"},
    ])  # fmt: skip
    return backfill(db_url, classifier, as_of_session_time=True, include_unknown=True), session_types(db_url)


def check_withdrawn_at_13h(rep: BackfillReport, types: Dict[str, Optional[str]]) -> None:
    assert types == {
        "morning": "cloud",  # listed then
        "afternoon": "unknown", "week-later": "unknown",  # the same day, the same epoch: not listed
        "retyped": "unknown",  # include_unknown re-types it as of its time (not as of now)
        "no-time": "cloud",  # as of now
        "typed": "tor",  # a typed session is never touched
    }  # fmt: skip
    assert rep.as_of_groups == 2, "one (IP, epoch) group before 13:00, one after: not one per day"
    assert rep.as_of_changed == 1, "the group after 13:00 differs from the answer as of now"
    assert rep.sessions_as_of == 4 and rep.sessions_updated == 5
    assert "4 sessions typed from 2 (IP, epoch) answers, 1 of them not the answer as of now" in format_report(rep)


def test_as_of_session_time_groups_by_epoch_to_the_exact_time(loaded: Any, db_url: str) -> None:
    """A list changes at 13:00: sessions of the same address the same day
    before and after take different answers, and a week later is in the
    same epoch as the afternoon (one answer for both)."""
    check_withdrawn_at_13h(*aws_withdrawn_at_13h(loaded, db_url))


def test_as_of_session_time_without_update_from(loaded: Any, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite < 3.33 (no UPDATE … FROM): the correlated form types the
    sessions as of their time the same way."""
    import ipclassifier.cowrie.backfill_job as job

    monkeypatch.setattr(job, "_sqlite_version", lambda conn: (3, 31, 1))
    check_withdrawn_at_13h(*aws_withdrawn_at_13h(loaded, sqlite_url))


def test_epochs_are_read_rounded_up_to_the_microsecond(loaded: Any) -> None:
    """A database time (microseconds) is at or after an epoch's start
    exactly when it is at or after the start as the backfill reads it: the
    engine's start (nanoseconds: the downloads' times have them) rounded
    up to the microsecond."""
    import re

    from ipclassifier.cowrie.backfill_job import _history_epochs

    loaded.import_snapshot("tor", b"91.203.5.77\n", datetime(2026, 3, 15, 13, 0, tzinfo=timezone.utc))
    texts = loaded.get_stats()["history_epochs"]
    read = _history_epochs(loaded)
    assert len(texts) > 1
    unix = datetime(1970, 1, 1, tzinfo=timezone.utc)
    rounded = []
    for text in texts:
        m = re.fullmatch(r"(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
        assert m, text
        seconds = datetime.fromisoformat(m.group(1) + m.group(3).replace("Z", "+00:00")).timestamp()
        ns = int(seconds) * 10**9 + int(((m.group(2) or "") + "0" * 9)[:9])
        us = -(-ns // 1000)  # rounded up to the microsecond
        assert (us - 1) * 1000 < ns <= us * 1000, text
        rounded.append(unix + timedelta(microseconds=us))
    assert read == sorted(set(rounded)), (texts, read)


def test_epoch_starts_within_one_microsecond_are_one() -> None:
    """Two epochs starting in the same microsecond (sources refreshed a
    few nanoseconds apart) are one start for a microsecond column: the
    backfill's table of starts has a start once (it failed on a duplicate
    key when they were two)."""
    from ipclassifier.cowrie.backfill_job import _history_epochs

    class Stats:
        def get_stats(self) -> Dict[str, Any]:
            return {"history_epochs": [
                "2026-03-15T13:00:00Z", "2026-12-07T13:47:41.123456001Z", "2026-12-07T13:47:41.123456999Z",
                "2026-12-07T13:47:41.123457Z", "2026-12-07T13:47:41.1234571Z",
            ]}  # fmt: skip

    assert _history_epochs(Stats()) == [  # type: ignore[arg-type]
        datetime(2026, 3, 15, 13, 0, tzinfo=timezone.utc),
        datetime(2026, 12, 7, 13, 47, 41, 123457, tzinfo=timezone.utc),
        datetime(2026, 12, 7, 13, 47, 41, 123458, tzinfo=timezone.utc),
    ]


def test_as_of_session_time_needs_first_event_at(loaded: Any, sqlite_url: str) -> None:
    import sqlalchemy as sa

    eng = sa.create_engine(sqlite_url)
    with eng.begin() as c:
        c.exec_driver_sql("CREATE TABLE ip_inventory (ip_address TEXT PRIMARY KEY, enrichment JSON)")
        c.exec_driver_sql("CREATE TABLE session_summaries (source_ip TEXT, snapshot_ip_type TEXT)")
    eng.dispose()
    with pytest.raises(BackfillError, match="first_event_at"):
        backfill(sqlite_url, loaded, as_of_session_time=True)
