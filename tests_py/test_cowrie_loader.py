"""The bulk loader's hook (ipclassifier.cowrie.fill_snapshot_ip_types): one
bulk_classify per batch, NULL-only, "unknown" when classification fails,
never a dropped or failed batch; and the database side of "first ingestion
wins" (upstream's COALESCE upsert) on SQLite and PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from cowrie_fixtures import Broken, Spy, session_types
from ipclassifier.cowrie import fill_snapshot_ip_types

pytest_plugins = ("cowrie_fixtures",)  # db_url, pg_url, sqlite_url, spy


def batch() -> List[Dict[str, Any]]:
    return [
        {"session_id": "s1", "source_ip": "185.220.101.1", "snapshot_asn": None, "snapshot_ip_type": None},
        {"session_id": "s2", "source_ip": "185.220.101.1", "snapshot_asn": None, "snapshot_ip_type": None},
        {"session_id": "s3", "source_ip": "3.5.140.9", "snapshot_asn": 16509, "snapshot_ip_type": None},
        {"session_id": "s4", "source_ip": "5.9.1.1", "snapshot_asn": None, "snapshot_ip_type": "cloud"},  # kept
        {"session_id": "s5", "source_ip": None, "snapshot_asn": None, "snapshot_ip_type": None},  # no IP
        {"session_id": "s6", "source_ip": "", "snapshot_asn": None, "snapshot_ip_type": None},  # no IP
        {"session_id": "s7", "source_ip": "999.1.1.1", "snapshot_asn": None, "snapshot_ip_type": None},  # bad IP
        {"session_id": "s8", "source_ip": "198.51.100.7", "snapshot_asn": 64496, "snapshot_ip_type": None},
    ]


def test_one_bulk_call_null_only(spy: Spy) -> None:
    rows = batch()
    res = fill_snapshot_ip_types(rows, spy)
    assert [r["snapshot_ip_type"] for r in rows] == ["tor", "tor", "cloud", "cloud", None, None, "unknown", "unknown"]
    assert (res.assigned, res.kept, res.no_ip, res.distinct_ips, res.failed) == (5, 1, 2, 4, False)
    assert res.by_type == {"tor": 2, "cloud": 1, "unknown": 2}
    assert len(spy.calls) == 1, "one bulk_classify for the batch"
    assert sorted(spy.calls[0]) == sorted(
        [
            ("185.220.101.1", None, None),
            ("3.5.140.9", 16509, None),
            ("999.1.1.1", None, None),
            ("198.51.100.7", 64496, None),
        ]
    ), "distinct IPs, snapshot_asn as the ASN"


def test_orm_like_objects(spy: Spy) -> None:
    rows = [SimpleNamespace(source_ip="185.220.101.34", snapshot_asn=None, snapshot_ip_type=None),
            SimpleNamespace(source_ip="3.5.140.1", snapshot_asn=None, snapshot_ip_type="residential")]  # fmt: skip
    fill_snapshot_ip_types(rows, spy)
    assert [r.snapshot_ip_type for r in rows] == ["tor", "residential"]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda mc: (lambda c: (c.close(), c)[1])(mc()), id="closed-classifier"),
        pytest.param(lambda mc: Broken(RuntimeError("ipclassifier cannot be used in a child process")), id="raises"),
        pytest.param(lambda mc: None, id="no-classifier"),
    ],
)
def test_failure_writes_unknown_and_keeps_the_batch(make: Any, make_classifier: Any) -> None:
    clf = make(make_classifier)
    rows = batch()
    ids = [id(r) for r in rows]
    res = fill_snapshot_ip_types(rows, clf)
    assert [id(r) for r in rows] == ids and len(rows) == 8, "nothing dropped"
    assert [r["snapshot_ip_type"] for r in rows] == ["unknown"] * 3 + ["cloud", None, None, "unknown", "unknown"]
    assert res.failed and res.error and res.assigned == 5 and res.by_type == {"unknown": 5}


def test_disable_flag_writes_unknown(spy: Spy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISABLE_IP_CLASSIFICATION", "1")
    rows = batch()
    res = fill_snapshot_ip_types(rows, spy)
    assert spy.calls == [] and res.failed and "DISABLE_IP_CLASSIFICATION" in (res.error or "")
    assert rows[0]["snapshot_ip_type"] == "unknown" and rows[3]["snapshot_ip_type"] == "cloud"


def test_read_only_rows_are_refused_before_classifying(spy: Spy) -> None:
    from types import MappingProxyType

    with pytest.raises(TypeError, match="read-only"):
        fill_snapshot_ip_types([MappingProxyType({"source_ip": "1.2.3.4", "snapshot_ip_type": None})], spy)
    assert spy.calls == []


def test_empty_batch_does_not_call_the_classifier(spy: Spy) -> None:
    res = fill_snapshot_ip_types([], spy)
    assert res.assigned == 0 and spy.calls == []


def test_first_ingestion_wins_in_the_database(spy: Spy, db_url: str) -> None:
    """The loader upserts with COALESCE(existing, new): a session typed on
    its first load keeps that type when a later load classifies again."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql, sqlite

    from cowrie_fixtures import create_host_schema

    _, ses = create_host_schema(db_url)
    eng = sa.create_engine(db_url)
    dialect = postgresql if eng.dialect.name == "postgresql" else sqlite

    def load(rows: List[Dict[str, Any]]) -> None:
        fill_snapshot_ip_types(rows, spy)
        stmt = dialect.insert(ses).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ses.c.session_id],
            set_={"snapshot_ip_type": sa.func.coalesce(ses.c.snapshot_ip_type, stmt.excluded.snapshot_ip_type)},
        )
        with eng.begin() as c:
            c.execute(stmt)

    first = [{"session_id": "a", "source_ip": "185.220.101.1", "snapshot_ip_type": None},
             {"session_id": "b", "source_ip": "3.5.140.2", "snapshot_ip_type": None}]  # fmt: skip
    load(first)
    # Later the address is no longer an exit (say): the second load must not override.
    second = [{"session_id": "a", "source_ip": "185.220.101.1", "snapshot_ip_type": None},
              {"session_id": "c", "source_ip": "185.220.101.1", "snapshot_ip_type": None}]  # fmt: skip
    spy.inner.close()  # the classifier is gone by then: the new rows get "unknown"
    load(second)
    eng.dispose()
    assert session_types(db_url) == {"a": "tor", "b": "cloud", "c": "unknown"}
