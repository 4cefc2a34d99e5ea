"""classify_columns: the answers of a batch as typed columns, equal to the
row answers, converted to frames when pyarrow / pandas / polars are
installed, and a damaged block refused with a clear error."""

from __future__ import annotations

import dataclasses
import gc
import math
import random
import struct
from typing import Any, List

import pytest

from ipclassifier import ClassifierError, Columns, IPType
from ipclassifier._columns import COLUMNS, FRAME_COLUMNS, MAGIC, decode_columns

ITEMS: List[Any] = [
    "198.51.100.7",
    "185.220.101.1",
    ("3.5.140.9", 16509, "AMAZON-02"),
    "13.64.1.1",
    ("80.128.1.1", 3320, "Deutsche Telekom AG"),
    "2a01:4f8::1",
    "not-an-ip",
    ("192.0.2.1", "AS1", None),  # a bad asn is ignored
    "1.2.3.4\t5",
    "2600:1f14::9",
    "185.220.101.1",  # twice: one row each
]


def _attrs(r: Any) -> List[Any]:
    return [getattr(r, name) for name in COLUMNS if name not in ("error", "answer", "key")]


def _single(loaded: Any, item: Any) -> Any:
    """The answer of classify() (the text record: a codec of its own) to
    an item as classify_columns reads it (a bad asn ignored)."""
    if isinstance(item, str):
        return loaded.classify(item)
    ip, asn, name = item
    return loaded.classify(ip, asn if isinstance(asn, int) else None, name)


def test_columns_hold_what_classify_answers(loaded: Any) -> None:
    cols = loaded.classify_columns(ITEMS, evidence=True)
    assert isinstance(cols, Columns) and len(cols) == len(ITEMS)
    assert cols.names == COLUMNS
    d = cols.to_pydict()
    errors = d["error"]
    assert [i for i, e in enumerate(errors) if e] == [6, 8]
    assert cols.failed == 2
    assert errors[6] == 'invalid IP address "not-an-ip": unable to parse IP'
    assert d["ip"][6] == "not-an-ip" and d["ip_type"][6] is None
    for i, item in enumerate(ITEMS):
        if errors[i]:
            continue
        got = [d[name][i] for name in COLUMNS if name not in ("error", "answer", "key")]
        want = _attrs(_single(loaded, item))
        # the same answer but for the time it was made and the data age measured then
        for name in ("classified_at", "data_age_seconds"):
            k = COLUMNS.index(name)
            got[k] = want[k] = None if got[k] is None else type(got[k])
        assert got == want, (ITEMS[i], got, want)
    assert d["ip_type"][:6] == [
        IPType.UNKNOWN, IPType.TOR, IPType.CLOUD, IPType.DATACENTER, IPType.RESIDENTIAL, IPType.DATACENTER,
    ]  # fmt: skip
    assert d["provider"][2] == "aws" and d["asn"][2] == 16509 and d["as_name"][2] == "AMAZON-02"
    assert d["asn"][7] is None  # "AS1" dropped, as errors="unknown" does
    assert "tor_exit" in d["tags"][1] and d["tags"][0] == () and d["tags"][6] == ()
    assert d["evidence"][1][0].source == "tor_bulk_list" and d["evidence"][0] == () and d["evidence"][6] == ()
    assert d["as_of"][1] is None and d["history_short"][1] is False


def test_rows_are_what_classify_answers(loaded: Any) -> None:
    # bulk_classify's objects are built from the columns: each distinct
    # answer once, one object per row.
    rows = loaded.classify_columns(ITEMS, evidence=True).answers()
    assert [type(r).__name__ for r in rows].count("str") == 2
    assert rows[6] == 'invalid IP address "not-an-ip": unable to parse IP'
    for item, r in zip(ITEMS, rows):
        if isinstance(r, str):
            continue
        want = _single(loaded, item)
        assert r.classified_at is not None and type(r.data_age_seconds) is type(want.data_age_seconds)
        assert r == dataclasses.replace(want, classified_at=r.classified_at, data_age_seconds=r.data_age_seconds)
    assert rows[1] == rows[10] and rows[1] is not rows[10]
    dedup = loaded.classify_columns(ITEMS, evidence=True).answers([10, 2])
    assert [r.ip for r in dedup] == ["185.220.101.1", "3.5.140.9"]


def test_a_batch_answered_in_runs_is_what_classify_answers(loaded: Any) -> None:
    # 12,000 items: the engine answers a batch this big in runs on several
    # goroutines (wire.minRun) and merges their columns into one block.
    rng = random.Random(11)

    def random_ip() -> str:
        return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.0.{rng.randrange(256)}"

    items: List[Any] = [rng.choice(ITEMS) if rng.random() < 0.5 else random_ip() for _ in range(12_000)]
    cols = loaded.classify_columns(items, evidence=True)
    rows = cols.answers()
    assert len(rows) == len(items)
    assert cols.failed == sum(1 for item in items if item in ("not-an-ip", "1.2.3.4\t5"))
    first: dict = {}  # answer number → its first row
    for i, (item, a, r) in enumerate(zip(items, cols.values("answer"), rows)):
        first.setdefault(a, i)
        if isinstance(r, str):
            continue
        want = _single(loaded, item)
        assert r == dataclasses.replace(want, classified_at=r.classified_at, data_age_seconds=r.data_age_seconds), item
        other = rows[first[a]]
        assert not isinstance(other, str) and r == dataclasses.replace(other, ip=r.ip), "one answer number, one answer"
    assert list(first) == list(range(len(first))), "answers numbered in order of first appearance"
    assert len(set(cols.column("classified_at")) - {None}) == 1, "one time for the whole batch"


def test_evidence_only_when_asked_for(loaded: Any) -> None:
    # the evidence column is a third of the engine's cost of the columns
    # and no frame holds it: classify_columns leaves it out by default
    cols = loaded.classify_columns(ITEMS)
    assert cols.names == tuple(c for c in COLUMNS if c != "evidence")
    assert "evidence" not in cols.to_pydict()
    with pytest.raises(KeyError, match="no column 'evidence'"):
        cols.column("evidence")
    with pytest.raises(KeyError, match="evidence=True"):
        cols.answers()
    full = loaded.classify_columns(ITEMS, evidence=True).to_pydict()
    assert {k: v for k, v in full.items() if k not in ("evidence", "classified_at", "data_age_seconds")} == {
        k: v for k, v in cols.to_pydict().items() if k not in ("classified_at", "data_age_seconds")
    }


def test_text_columns_are_codes_into_one_table(loaded: Any) -> None:
    ips = ["185.220.101.1", "198.51.100.8", "3.5.140.9", "198.51.100.7"] * 50
    cols = loaded.classify_columns(ips)
    codes, table = cols.codes("ip_type"), cols.table("ip_type")
    assert codes.format == "I" and len(codes) == len(ips)
    assert table[0] is None and len(table) == len(set(table))
    assert [table[c] for c in codes[:4]] == ["tor", "unknown", "cloud", "unknown"]
    assert cols.values("confidence").format == "d" and cols.values("confidence")[0] == 0.95
    assert cols.values("classified_at").format == "q"
    assert cols.values("asn").format == "I" and cols.values("stale").format == "B"
    with pytest.raises(KeyError, match="no column 'nope'"):
        cols.codes("nope")
    with pytest.raises(TypeError):
        cols.values("ip_type")


def test_an_empty_batch_is_an_empty_block(loaded: Any) -> None:
    cols = loaded.classify_columns([])
    assert len(cols) == 0 and cols.failed == 0 and cols.to_pydict()["ip"] == []


def test_wrong_item_types_raise_type_error(loaded: Any) -> None:
    with pytest.raises(TypeError):
        loaded.classify_columns([b"1.2.3.4"])
    with pytest.raises(TypeError):
        loaded.classify_columns([(1, 2, 3)])


def test_arrow_frame_views_the_columns(loaded: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    cols = loaded.classify_columns(ITEMS)
    t = cols.to_arrow()
    assert t.num_rows == len(ITEMS) and t.column_names == list(FRAME_COLUMNS)
    assert pa.types.is_dictionary(t.schema.field("ip_type").type)
    assert t.column("ip_type").to_pylist()[:3] == ["unknown", "tor", "cloud"]
    assert t.column("ip_type").to_pylist()[6] is None
    assert t.column("asn").to_pylist()[2] == 16509 and t.column("asn").to_pylist()[0] is None
    d = cols.to_pydict()
    assert t.column("snapshot_at").to_pylist() == d["snapshot_at"]
    assert t.column("classified_at").to_pylist()[0] == d["classified_at"][0]
    assert t.column("data_age_seconds").to_pylist()[0] is None
    assert t.column("stale").to_pylist() == d["stale"]
    assert t.column("ip").to_pylist() == d["ip"]


def test_pandas_frame(loaded: Any) -> None:
    pd = pytest.importorskip("pandas")
    df = loaded.classify_columns(ITEMS).to_pandas()
    assert list(df.columns) == list(FRAME_COLUMNS) and len(df) == len(ITEMS)
    assert str(df["ip_type"].iloc[1]) == "tor" and df["provider"].iloc[2] == "aws"
    assert pd.isna(df["ip_type"].iloc[6]) and pd.isna(df["snapshot_at"].iloc[0])
    assert df["confidence"].iloc[2] == 0.99


def test_polars_frame(loaded: Any) -> None:
    pytest.importorskip("polars")
    df = loaded.classify_columns(ITEMS).to_polars()
    assert df.columns == list(FRAME_COLUMNS) and df.height == len(ITEMS)
    assert df["ip_type"].to_list()[:2] == ["unknown", "tor"] and df["ip_type"].to_list()[6] is None
    assert df["asn"].to_list()[2] == 16509 and df["asn"].to_list()[0] is None


def test_pandas_and_polars_without_pyarrow(loaded: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kw: Any) -> Any:
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError(name)
        return real_import(name, *args, **kw)

    cols = loaded.classify_columns(ITEMS)
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        df = cols.to_pandas()
        assert str(df["ip_type"].iloc[1]) == "tor" and pd.isna(df["ip_type"].iloc[6])
        assert pd.isna(df["asn"].iloc[0]) and df["asn"].iloc[2] == 16509
        assert pd.isna(df["snapshot_at"].iloc[0]) and math.isnan(df["data_age_seconds"].iloc[0])
    try:
        import polars as pl  # noqa: F401
    except ImportError:
        return
    pdf = cols.to_polars()
    assert pdf["ip_type"].to_list()[1] == "tor" and pdf["ip_type"].to_list()[6] is None
    assert pdf["asn"].to_list()[0] is None and pdf["snapshot_at"].to_list()[0] is None


# -- a damaged block ----------------------------------------------------------


def _block(loaded: Any) -> bytes:
    cols = loaded.classify_columns(ITEMS, evidence=True)
    return bytes(cols.codes("ip_type").obj)  # the whole block the columns view


def test_a_damaged_block_is_refused_never_misread(loaded: Any) -> None:
    """A fuzz loop over the decoder: truncations, flipped bytes and huge
    lengths give a ClassifierError or a block whose every column still
    reads (never an IndexError, a crash or a hang)."""
    good = _block(loaded)
    assert good[:8] == MAGIC
    with pytest.raises(ClassifierError, match="bad header"):
        decode_columns(b"nonsense")
    with pytest.raises(ClassifierError):
        decode_columns(good[: len(good) // 2])
    huge = good[:8] + struct.pack("<QQ", 1 << 60, 3) + good[24:]
    with pytest.raises(ClassifierError):
        decode_columns(huge)
    rng = random.Random(7)
    refused = 0
    for _ in range(1500):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] = rng.choice([0, 0xFF, rng.randrange(256)])
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        try:
            cols = decode_columns(bytes(data))
            for name in cols.names:  # every required column is there, evidence when it is
                cols.column(name)
        except ClassifierError:
            refused += 1
        except UnicodeDecodeError:
            refused += 1  # a flipped byte inside a string: text that is no UTF-8
        except ValueError as e:  # a flipped IPType code's text, or a time out of range
            assert "IPType" in str(e) or "year" in str(e) or "out of range" in str(e), e
            refused += 1
    assert refused > 100


@pytest.mark.parametrize("enabled", [True, False])
def test_rows_leave_the_gc_as_they_found_it(loaded: Any, enabled: bool) -> None:
    # the cyclic GC is paused while the objects are built, never left off
    # (nor turned on for a host that had it off)
    cols = loaded.classify_columns(ITEMS, evidence=True)
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        assert len(cols.answers()) == len(ITEMS)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
