"""Pass 4 of the CascadeEnricher (ipclassifier.cowrie.IPClassificationPass):
never-classified, fresh and stale rows; the AS inputs (MaxMind, then Cymru,
then current_asn) as the engine received them; the disable flag; failures."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict

import pytest

from cowrie_fixtures import Broken, Spy, needs_sqlalchemy
from ipclassifier import IPType
from ipclassifier.cowrie import (
    CLASSIFIED,
    DISABLED,
    FAILED,
    FRESH,
    INVALID,
    NO_IP,
    AsnInputs,
    IPClassificationPass,
    asn_inputs,
    is_fresh,
)

pytest_plugins = ("cowrie_fixtures",)  # db_url, pg_url, sqlite_url, spy

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
UPSTREAM_KEYS = ("ip_type", "provider", "confidence", "source", "classified_at")


def maxmind(asn: Any = None, org: Any = None) -> Dict[str, Any]:
    return {"country": "DE", "country_name": "Germany", "city": "Berlin", "latitude": 52.5, "longitude": 13.4,
            "asn": asn, "asn_org": org, "accuracy_radius": 20, "cached_at": "2025-12-01T00:00:00+00:00"}  # fmt: skip


def cymru(asn: Any = None, org: Any = None, **extra: Any) -> Dict[str, Any]:
    d = {"asn": asn, "country": "DE", "registry": "ripencc", "prefix": "80.128.0.0/11",
         "allocation_date": "2000-01-01", "cached_at": "2025-12-01T00:00:00+00:00"}  # fmt: skip
    if org is not None:
        d["asn_org"] = org
    d.update(extra)
    return d


def stored(ip_type: str, at: datetime) -> Dict[str, Any]:
    return {"ip_type": ip_type, "provider": None, "confidence": 0.5, "source": "x", "classified_at": at.isoformat(),
            "checked_at": at.isoformat()}  # fmt: skip


def clock() -> datetime:
    return NOW


# ---------------------------------------------------------------------------
# The AS inputs


def test_asn_inputs_prefer_maxmind() -> None:
    enr = {"maxmind": maxmind(3320, "Deutsche Telekom AG"), "cymru": cymru(1234, "Other Net")}
    assert asn_inputs(enr, current_asn=999) == AsnInputs(3320, "Deutsche Telekom AG", "maxmind")


def test_asn_inputs_fall_back_to_cymru_asn_org() -> None:
    enr = {"maxmind": maxmind(None, None), "cymru": cymru(4134, "CHINANET-BACKBONE No.31,Jin-rong Street")}
    assert asn_inputs(enr, current_asn=999) == AsnInputs(4134, "CHINANET-BACKBONE No.31,Jin-rong Street", "cymru")


def test_asn_inputs_accept_cymru_legacy_as_name_and_text_asn() -> None:
    enr = {"cymru": {"asn": "AS7922", "as_name": "COMCAST-7922"}}
    assert asn_inputs(enr) == AsnInputs(7922, "COMCAST-7922", "cymru")


def test_asn_inputs_fall_back_to_current_asn() -> None:
    assert asn_inputs({"greynoise": {"noise": True}}, current_asn=3320) == AsnInputs(3320, None, "current_asn")
    assert asn_inputs({}, current_asn=None) == AsnInputs(None, None, None)
    assert asn_inputs(None, current_asn="0") == AsnInputs(None, None, None)


def test_asn_inputs_name_from_other_source_only_when_consistent() -> None:
    # MaxMind has the number but no name; Cymru agrees on the number: its name is used.
    enr = {"maxmind": maxmind(3320, None), "cymru": cymru(3320, "Deutsche Telekom AG")}
    assert asn_inputs(enr) == AsnInputs(3320, "Deutsche Telekom AG", "maxmind")
    # Cymru names a different AS: not used.
    enr = {"maxmind": maxmind(3320, None), "cymru": cymru(4134, "CHINANET")}
    assert asn_inputs(enr) == AsnInputs(3320, None, "maxmind")
    # current_asn with a Cymru name for the same AS (Cymru's number missing).
    enr = {"cymru": cymru(None, "Deutsche Telekom AG")}
    assert asn_inputs(enr, current_asn=3320) == AsnInputs(3320, "Deutsche Telekom AG", "current_asn")


def test_is_fresh_uses_checked_at_then_classified_at() -> None:
    assert is_fresh({"ip_classification": stored("tor", NOW - timedelta(hours=23))}, NOW)
    assert not is_fresh({"ip_classification": stored("tor", NOW - timedelta(hours=25))}, NOW)
    rec = stored("cloud", NOW - timedelta(hours=1))
    del rec["checked_at"]
    assert is_fresh({"ip_classification": rec}, NOW)
    assert not is_fresh({"ip_classification": dict(rec, ip_type="vpn")}, NOW), "not one of the five types"
    assert not is_fresh({"ip_classification": dict(rec, classified_at="garbage")}, NOW)
    assert not is_fresh({}, NOW)
    assert not is_fresh('{"ip_classification": 1}', NOW)


# ---------------------------------------------------------------------------
# Pass 4 on rows


def test_never_classified_row_is_classified(spy: Spy) -> None:
    row: Dict[str, Any] = {
        "ip_address": "185.220.101.1",
        "current_asn": None,
        "enrichment": {"maxmind": maxmind(), "greynoise": {"noise": True}},
        "enrichment_updated_at": None,
    }
    res = IPClassificationPass(spy, clock=clock).run(row)
    assert res.status == CLASSIFIED and res.changed
    rec = row["enrichment"]["ip_classification"]
    assert list(rec)[:5] == list(UPSTREAM_KEYS)
    assert rec["ip_type"] == "tor" and rec["confidence"] == 0.95 and rec["source"] == "tor_bulk_list"
    assert rec["matched_prefix"] == "185.220.101.1/32" and rec["snapshot"] == "tor" and rec["stale"] is False
    assert rec["checked_at"] == NOW.isoformat()
    assert rec["tags"] == ["tor_exit"] and "evidence" not in rec, "tags are stored, the evidence list is not"
    assert datetime.fromisoformat(rec["classified_at"]).tzinfo is not None
    assert row["enrichment"]["greynoise"] == {"noise": True}, "the other passes' data is kept"
    assert row["enrichment_updated_at"] == NOW
    assert res.classification is not None and res.classification.ip_type is IPType.TOR
    assert len(spy.calls) == 1


def test_fresh_row_is_skipped(spy: Spy) -> None:
    enr = {"ip_classification": stored("datacenter", NOW - timedelta(hours=2))}
    row = {"ip_address": "185.220.101.1", "enrichment": enr}
    res = IPClassificationPass(spy, clock=clock).run(row)
    assert res.status == FRESH and not res.changed and res.ip_type == "datacenter"
    assert row["enrichment"] is enr, "untouched"
    assert spy.calls == []


def test_stale_row_is_reclassified(spy: Spy) -> None:
    old = stored("unknown", NOW - timedelta(hours=30))
    row = {"ip_address": "185.220.101.1", "enrichment": {"ip_classification": old}}
    res = IPClassificationPass(spy, clock=clock).run(row)
    assert res.status == CLASSIFIED and res.ip_type == "tor"
    assert row["enrichment"]["ip_classification"]["ip_type"] == "tor"


def test_force_refresh_reclassifies_a_fresh_row(spy: Spy) -> None:
    recent = stored("unknown", NOW - timedelta(minutes=5))
    row = {"ip_address": "3.5.140.7", "enrichment": {"ip_classification": recent}}
    res = IPClassificationPass(spy, clock=clock).run(row, force_refresh=True)
    assert res.status == CLASSIFIED
    rec = row["enrichment"]["ip_classification"]
    assert (rec["ip_type"], rec["provider"], rec["region"], rec["service"]) == ("cloud", "aws", "ap-northeast-2", "EC2")


def test_enrichment_argument_is_used_instead_of_the_rows(spy: Spy) -> None:
    # The enricher passes the dict Passes 1-3 built before it is on the row.
    row = {"ip_address": "80.128.1.1", "enrichment": {}}
    built = {"maxmind": maxmind(3320, "Deutsche Telekom AG")}
    res = IPClassificationPass(spy, clock=clock).run(row, built)
    assert res.ip_type == "residential"
    assert row["enrichment"]["maxmind"] == built["maxmind"]
    assert "ip_classification" not in built, "the caller's dict is not mutated"


@pytest.mark.parametrize(
    "enrichment, current_asn, sent, ip_type",
    [
        # MaxMind first (Cymru says something else).
        ({"maxmind": maxmind(3320, "Deutsche Telekom AG"), "cymru": cymru(64500, "EXAMPLE-HOSTING")}, 7,
         (3320, "Deutsche Telekom AG", "maxmind"), "residential"),
        # No MaxMind AS data: Cymru's asn and asn_org.
        ({"maxmind": maxmind(None, None), "cymru": cymru(4134, "CHINANET-BACKBONE No.31,Jin-rong Street")}, 7,
         (4134, "CHINANET-BACKBONE No.31,Jin-rong Street", "cymru"), "residential"),
        # Neither: current_asn, no name (upstream passed nothing at all here).
        ({"greynoise": {"noise": False}}, 3320, (3320, None, "current_asn"), None),
        # Cymru only (no MaxMind pass at all), no current_asn.
        ({"cymru": cymru(3209, "Vodafone GmbH")}, None, (3209, "Vodafone GmbH", "cymru"), "residential"),
    ],
)  # fmt: skip
def test_as_inputs_reach_the_engine(
    spy: Spy, enrichment: Dict[str, Any], current_asn: Any, sent: Any, ip_type: Any
) -> None:

    row = {"ip_address": "80.128.1.1", "current_asn": current_asn, "enrichment": enrichment}
    res = IPClassificationPass(spy, clock=clock).run(row)
    assert res.status == CLASSIFIED
    assert spy.calls == [[("80.128.1.1", sent[0], sent[1])]], "one bulk call with these inputs"
    rec = row["enrichment"]["ip_classification"]
    assert (rec["input_asn"], rec["input_as_name"], rec["input_source"]) == sent
    # asn/as_name are the engine's echo of what it used: our ASN, and our
    # name when we gave one (without one, the engine may find a name in its
    # own IP-to-ASN table).
    assert rec["asn"] == sent[0]
    if sent[1] is not None:
        assert rec["as_name"] == sent[1]
    if ip_type is not None:
        assert rec["ip_type"] == ip_type


def test_run_many_makes_one_bulk_call(spy: Spy) -> None:
    rows = [
        {"ip_address": "185.220.101.1", "enrichment": {}},
        {"ip_address": "3.5.140.1", "enrichment": {}},
        {"ip_address": "5.9.1.1", "enrichment": {"ip_classification": stored("datacenter", NOW)}},
        {"ip_address": None, "enrichment": {}},
        {"ip_address": "not-an-ip", "enrichment": {}},
    ]
    res = IPClassificationPass(spy, clock=clock).run_many(rows)
    assert [r.status for r in res] == [CLASSIFIED, CLASSIFIED, FRESH, NO_IP, INVALID]
    assert [r.ip_type for r in res] == ["tor", "cloud", "datacenter", None, "unknown"]
    assert rows[4]["enrichment"]["ip_classification"]["source"] == "invalid_ip"
    assert len(spy.calls) == 1 and len(spy.calls[0]) == 3


def test_disable_flag_turns_the_pass_off(spy: Spy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISABLE_IP_CLASSIFICATION", "true")
    enr: Dict[str, Any] = {"maxmind": maxmind()}
    row = {"ip_address": "185.220.101.1", "enrichment": enr}
    p = IPClassificationPass(spy, clock=clock)
    assert not p.enabled
    res = p.run(row)
    assert res.status == DISABLED and row["enrichment"] is enr and "ip_classification" not in enr
    assert spy.calls == []
    monkeypatch.setenv("DISABLE_IP_CLASSIFICATION", "false")
    assert p.run(row).status == CLASSIFIED, "read on every call: no restart needed"


def test_no_classifier_is_disabled() -> None:
    assert IPClassificationPass(None).run({"ip_address": "1.2.3.4", "enrichment": {}}).status == DISABLED


@pytest.mark.parametrize("exc", [RuntimeError("after fork"), ValueError("boom")])
def test_a_failing_classifier_does_not_break_the_enricher(exc: BaseException) -> None:
    enr = {"maxmind": maxmind(3320, "Deutsche Telekom AG"), "ip_classification": stored("tor", NOW - timedelta(days=3))}
    row = {"ip_address": "80.128.1.1", "enrichment": enr}
    res = IPClassificationPass(Broken(exc), clock=clock).run(row)
    assert res.status == FAILED and str(exc) in (res.error or "")
    assert row["enrichment"] is enr and res.ip_type == "tor", "the previous answer stays"


def test_a_closed_classifier_fails_softly(make_classifier: Any) -> None:
    c = make_classifier()
    c.close()
    res = IPClassificationPass(c, clock=clock).run({"ip_address": "1.2.3.4", "enrichment": {}})
    assert res.status == FAILED and "closed" in (res.error or "")


@needs_sqlalchemy
def test_orm_object_gets_a_new_dict_that_sqlalchemy_persists(spy: Spy, tmp_path: Path) -> None:
    import sqlalchemy as sa
    from sqlalchemy.orm import DeclarativeBase, Session

    class Base(DeclarativeBase):
        pass

    class IPInventory(Base):  # the upstream model's columns that matter here, upstream style
        __tablename__ = "ip_inventory"
        ip_address = sa.Column(sa.String(45), primary_key=True)
        current_asn = sa.Column(sa.Integer, nullable=True)
        enrichment = sa.Column(sa.JSON, nullable=False, default=dict)
        enrichment_updated_at = sa.Column(sa.DateTime(timezone=True), nullable=True)

    eng = sa.create_engine(f"sqlite:///{tmp_path / 'orm.db'}")
    Base.metadata.create_all(eng)
    with Session(eng) as s:
        s.add(IPInventory(ip_address="80.128.1.1", current_asn=3320,
                          enrichment={"cymru": cymru(3320, "Deutsche Telekom AG")}))  # fmt: skip
        s.commit()
    with Session(eng) as s:
        row = s.get(IPInventory, "80.128.1.1")
        assert row is not None
        before = row.enrichment
        res = IPClassificationPass(spy, clock=clock).run(row)
        assert res.status == CLASSIFIED and row.enrichment is not before, "a new dict, so the change is tracked"
        s.commit()
    with Session(eng) as s:
        row = s.get(IPInventory, "80.128.1.1")
        assert row is not None
        assert row.enrichment["ip_classification"]["ip_type"] == "residential"
        assert row.enrichment["cymru"]["asn_org"] == "Deutsche Telekom AG"
        assert row.enrichment_updated_at is not None
    eng.dispose()


def test_package_imports_without_sqlalchemy(tmp_path: Path) -> None:
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'sqlalchemy' or name.startswith('sqlalchemy.'):\n"
        "            raise ImportError('blocked for the test')\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    code = (
        "import ipclassifier, ipclassifier.cli, ipclassifier.cowrie\n"
        "import ipclassifier.cowrie.cli, ipclassifier.validate.cli\n"
        "from ipclassifier.cowrie import IPClassificationPass, fill_snapshot_ip_types\n"
        "try:\n    import sqlalchemy\nexcept ImportError:\n    print('blocked')\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "blocked"
