"""bulk_classify: one C call, answers in input order, invalid items handled."""

from __future__ import annotations

import dataclasses
from typing import Any, List

import pytest

from ipclassifier import IPClassification, IPType


class CountingCall:
    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.calls = 0
        self.argtypes = fn.argtypes
        self.restype = fn.restype

    def __call__(self, *args: Any) -> int:
        self.calls += 1
        return int(self.fn(*args))


def test_bulk_answers_follow_input_order(loaded: Any) -> None:
    items = [
        ("198.51.100.7", None, None),
        ("185.220.101.1", None, None),
        ("3.5.140.9", 16509, "AMAZON-02"),
        ("13.64.1.1", None, None),
        ("80.128.1.1", 3320, "Deutsche Telekom AG"),
        ("2a01:4f8::1", None, None),
    ]
    out = loaded.bulk_classify(items, as_list=True)
    want = ["198.51.100.7", "185.220.101.1", "3.5.140.9", "13.64.1.1", "80.128.1.1", "2a01:4f8::1"]
    assert [r.ip for r in out] == want
    assert [r.ip_type for r in out] == [
        IPType.UNKNOWN, IPType.TOR, IPType.CLOUD, IPType.DATACENTER, IPType.RESIDENTIAL, IPType.DATACENTER,
    ]  # fmt: skip
    assert out[2].provider == "aws" and out[2].asn == 16509 and out[2].as_name == "AMAZON-02"
    assert all(type(r) is IPClassification for r in out)


def test_bulk_matches_single_classify(loaded: Any) -> None:
    ips = ["185.220.101.1", "3.5.141.7", "8.34.208.1", "13.64.1.1", "5.9.1.1", "198.51.100.1", "2600:1f14::9"]
    bulk = loaded.bulk_classify(ips, as_list=True)
    for ip, b in zip(ips, bulk):
        s = loaded.classify(ip)
        # every field but the time the answer was made and the data age measured then
        assert b == dataclasses.replace(s, classified_at=b.classified_at, data_age_seconds=b.data_age_seconds)


def test_bulk_makes_one_native_call(loaded: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = CountingCall(loaded._lib.classify_columns)
    monkeypatch.setattr(loaded._lib, "classify_columns", counter)
    single = CountingCall(loaded._lib.classify)
    monkeypatch.setattr(loaded, "_fn", single)
    out = loaded.bulk_classify([f"203.0.113.{i}" for i in range(200)] + ["185.220.101.1"], as_list=True)
    assert counter.calls == 1
    assert single.calls == 0
    assert len(out) == 201 and out[-1].ip_type is IPType.TOR


def test_bulk_accepts_strings_and_short_tuples(loaded: Any) -> None:
    out = loaded.bulk_classify(["185.220.101.1", ("3.5.140.1",), ("198.51.100.1", 64500)], as_list=True)
    assert [r.ip_type for r in out] == [IPType.TOR, IPType.CLOUD, IPType.UNKNOWN]
    assert out[2].asn == 64500


def test_bulk_of_nothing_is_empty(loaded: Any) -> None:
    assert loaded.bulk_classify([]) == {}
    assert loaded.bulk_classify([], as_list=True) == []


def test_bulk_accepts_a_generator(loaded: Any) -> None:
    out = loaded.bulk_classify((f"185.220.101.{i}" for i in (1, 34)), as_list=True)
    assert [r.ip_type for r in out] == [IPType.TOR, IPType.TOR]


def test_bulk_invalid_items_raise_listing_every_value(loaded: Any) -> None:
    with pytest.raises(ValueError) as ei:
        loaded.bulk_classify(["1.2.3.4", "1.2.3", "1.2.3.4/24", "5.6.7.8", "::1%eth0", "a\tb"])
    msg = str(ei.value)
    assert "4 invalid" in msg
    for bad in ("1.2.3", "1.2.3.4/24", "::1%eth0", "a\\tb"):
        assert bad in msg
    assert "5.6.7.8" not in msg


def test_bulk_errors_unknown_keeps_every_item(loaded: Any) -> None:
    out = loaded.bulk_classify(
        ["185.220.101.1", "bogus", "", ("3.5.140.1", "not-an-asn", "X")], errors="unknown", as_list=True
    )
    assert len(out) == 4
    assert out[0].ip_type is IPType.TOR
    assert (out[1].ip_type, out[1].source, out[1].confidence, out[1].ip) == (IPType.UNKNOWN, "invalid_ip", 0.0, "bogus")
    assert (out[2].source, out[2].ip) == ("invalid_ip", "")
    assert out[3].ip_type is IPType.CLOUD and out[3].asn is None  # a bad asn is dropped


def test_bulk_bad_asn_raises_in_raise_mode(loaded: Any) -> None:
    with pytest.raises(ValueError, match="asn"):
        loaded.bulk_classify([("3.5.140.1", -5, None)])


def test_bulk_returns_upstreams_dict_by_default(loaded: Any) -> None:
    items = [("185.220.101.1", None, None), ("3.5.140.1", 16509, "AMAZON-02"), "bogus"]
    d = loaded.bulk_classify(items, errors="unknown")
    assert list(d) == ["185.220.101.1", "3.5.140.1", "bogus"]
    assert d["3.5.140.1"].provider == "aws" and d["185.220.101.1"].ip_type is IPType.TOR
    assert d["bogus"].source == "invalid_ip"
    twice = loaded.bulk_classify(["3.5.140.1", ("3.5.140.1", 64500, None)])
    assert list(twice) == ["3.5.140.1"] and twice["3.5.140.1"].asn == 64500  # the last answer, as upstream's loop


def test_bulk_as_name_with_tabs_and_newlines_is_safe(loaded: Any) -> None:
    out = loaded.bulk_classify([("80.128.1.1", 3320, "Deutsche\tTelekom\nAG"), "185.220.101.1"], as_list=True)
    assert out[0].ip_type is IPType.RESIDENTIAL
    assert "\t" not in (out[0].as_name or "") and "\n" not in (out[0].as_name or "")
    assert out[1].ip_type is IPType.TOR


def test_bulk_rejects_a_bad_errors_mode(loaded: Any) -> None:
    with pytest.raises(ValueError, match="errors"):
        loaded.bulk_classify(["1.2.3.4"], errors="ignore")  # type: ignore[call-overload]


def test_bulk_of_ten_thousand(loaded: Any) -> None:
    ips: List[str] = [f"3.5.{140 + (i % 4)}.{i % 256}" for i in range(10_000)]
    out = loaded.bulk_classify(ips, as_list=True)
    assert len(out) == 10_000
    assert all(r.provider == "aws" for r in out)
    assert [r.ip for r in out[:3]] == ips[:3]


def test_bulk_answers_are_distinct_objects_even_when_they_share_a_prefix(loaded: Any) -> None:
    # Records that differ only in their ip are decoded once per batch; the
    # answers must still be separate objects with their own ip.
    ips = ["3.5.140.1", "3.5.140.2", "3.5.140.1", "185.220.101.1", "3.5.140.3"]
    out = loaded.bulk_classify(ips, as_list=True)
    assert [r.ip for r in out] == ips
    assert len({id(r) for r in out}) == len(ips)
    assert out[0] == out[2] and out[0] is not out[2]
    assert out[0].matched_prefix == out[1].matched_prefix == out[4].matched_prefix and out[0] != out[1]
    assert all(type(r) is IPClassification for r in out)


def test_batch_buffer_too_small_reports_the_size_needed(loaded: Any) -> None:
    import ctypes

    from ipclassifier import _native

    payload = b"3.5.140.1\n1.2.3\n185.220.101.1\n"
    n = ctypes.c_int64(0)
    small = (ctypes.c_char * 16)()
    assert loaded._lib.classify_batch(loaded._h, payload, len(payload), small, 16, n) == _native.BUFFER_TOO_SMALL
    need = n.value
    assert need > 16
    buf = (ctypes.c_char * need)()
    assert loaded._lib.classify_batch(loaded._h, payload, len(payload), buf, need, n) == _native.PARTIAL
    assert n.value == need
    records = bytes(buf[:need]).decode().split("\n")
    want = [["3.5.140.1", "cloud"], ["1.2.3", "!error"], ["185.220.101.1", "tor"]]
    assert [r.split("\t")[:2] for r in records] == want
