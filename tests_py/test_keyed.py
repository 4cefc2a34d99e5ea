"""classify() builds an answer from what it kept of the answer's key and
the head ClassifyKeyed writes (ipclassifier._wire.keyed): the same answer
the record gives, counted once, whichever way it was built."""

from __future__ import annotations

import dataclasses
import math
import struct
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, List

import pytest

from cache_servers import settle
from ipclassifier import IPClassification, IPType, _columns, _wire

# Fixture addresses: a Tor exit, AWS v4 and v6, a datacenter range, an
# address no list holds, and forms whose canonical text differs.
ADDRESSES = ["185.220.101.34", "3.5.141.7", "2600:1f14::1", "3.5.140.9", "198.51.100.7", "203.0.113.200"]


def same_but_times(a: IPClassification, b: IPClassification) -> None:
    """a equals b but for classified_at and a data age within a second."""
    assert a.classified_at.tzinfo is timezone.utc and b.classified_at.tzinfo is timezone.utc
    if a.data_age_seconds is None or b.data_age_seconds is None:
        assert a.data_age_seconds is None and b.data_age_seconds is None
    else:
        assert abs(a.data_age_seconds - b.data_age_seconds) <= 1
    t = datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert dataclasses.replace(a, classified_at=t, data_age_seconds=0.0) == dataclasses.replace(
        b, classified_at=t, data_age_seconds=0.0
    )


def test_an_answer_built_from_its_key_equals_the_record(loaded: Any) -> None:
    for ip in ADDRESSES:
        first = loaded.classify(ip)  # the key is new here: asked again with the record
        kept = loaded.classify(ip)  # built from what was kept and the head
        _, [record] = loaded.classify_many([ip])  # the columns: every field read from the engine
        assert type(kept) is IPClassification and kept.ip == ip
        same_but_times(first, record)
        same_but_times(kept, record)
        assert kept.classified_at >= first.classified_at


def test_addresses_sharing_a_key_keep_their_own_address_and_time(loaded: Any) -> None:
    a = loaded.classify("3.5.141.7")
    b = loaded.classify("3.5.141.8")  # the same range: the same key, nothing asked again
    assert (a.ip, b.ip) == ("3.5.141.7", "3.5.141.8")
    assert (a.region, a.matched_prefix, a.evidence) == (b.region, b.matched_prefix, b.evidence)
    assert b.classified_at >= a.classified_at


@pytest.mark.parametrize(
    "given, canonical",
    [("::ffff:185.220.101.34", "185.220.101.34"), ("2600:1F14::1", "2600:1f14::1"), ("2600:1f14:0::1", "2600:1f14::1")],
)
def test_the_answer_holds_the_canonical_address(loaded: Any, given: str, canonical: str) -> None:
    for _ in range(2):  # the first answer made with the record, the second from the key
        r = loaded.classify(given)
        assert r.ip == canonical
        same_but_times(r, loaded.classify(canonical))


def test_each_classify_is_counted_once(loaded: Any) -> None:
    before = loaded.get_stats()
    ips = [f"3.5.141.{i}" for i in range(1, 40)] + ["185.220.101.34", "198.51.100.9"]
    for ip in ips:
        loaded.classify(ip)
    for i in range(10):  # caller data: a key of its own, asked again once
        loaded.classify("198.51.100.9", asn=7922, as_name=f"COMCAST-{i % 3}")
    ips += ["198.51.100.9"] * 10
    after = loaded.get_stats()
    assert after["lookups"] - before["lookups"] == len(ips)
    assert sum(after["by_type"].values()) - sum(before["by_type"].values()) == len(ips)


def test_a_key_not_kept_here_is_asked_again_and_counted_once(loaded: Any) -> None:
    first = loaded.classify("3.5.141.7")  # the key's first head brings its record
    _wire._bodies.clear()  # as when the memo starts over: the next head names a key not kept
    before = loaded.get_stats()["lookups"]
    again = loaded.classify("3.5.141.7")  # the head alone, then asked again with the record
    assert loaded.get_stats()["lookups"] - before == 1
    same_but_times(again, first)
    assert again.classified_at > first.classified_at  # the first call's answer, not the second's
    assert len(_wire._bodies) == 1  # kept again


def test_an_answer_asked_again_is_the_one_the_cache_tiers_got(make_classifier: Any, tmp_path: Path) -> None:
    c = make_classifier(enable_cache=True, cache_dir=str(tmp_path / "l3"))
    assert c.refresh("all", force=True)["failed"] == 0
    c.classify("3.5.141.7")  # the key's first head brings its record
    _wire._bodies.clear()
    made = c.classify("3.5.141.8")  # the same key, not kept here: asked again, built from the first head
    settle(c)
    cached = c.classify("3.5.141.8")
    assert (made.cache_tier, cached.cache_tier) == (None, "l3")
    assert cached.classified_at == made.classified_at  # what the tiers got is what the caller got


def test_a_failed_refresh_restamps_kept_answers_stale(loaded: Any, fixture_server: Any) -> None:
    before = loaded.classify("185.220.101.34")
    assert before.stale is False
    fixture_server.override("/tor/torbulkexitlist", status=500)
    assert loaded.refresh("tor", force=True)["failed"] == 1  # no new data: the answers are kept, restamped
    after = loaded.classify("185.220.101.34")  # the same key, its stale flag from the head
    assert after.stale is True
    same_but_times(dataclasses.replace(after, stale=False), before)


def test_answers_to_caller_data_are_keyed_by_that_data(loaded: Any) -> None:
    for _ in range(2):  # from the record, then from the kept key
        r = loaded.classify("198.51.100.7", asn=7922, as_name="COMCAST-7922")
        assert (r.ip_type, r.asn, r.as_name, r.ip) == (IPType.RESIDENTIAL, 7922, "COMCAST-7922", "198.51.100.7")
        _, [record] = loaded.classify_many([("198.51.100.7", 7922, "COMCAST-7922")])
        same_but_times(r, record)
        other = loaded.classify("198.51.100.8", asn=64500)  # the same range, another network: another key
        assert (other.ip_type, other.asn, other.as_name) == (IPType.UNKNOWN, 64500, None)
        assert loaded.classify("198.51.100.7").ip_type is IPType.UNKNOWN


# _wire.keyed on heads written by hand in the exact layout of wire.AppendHead.

AT = "2026-03-15T13:17:09.123456+00:00"


def head(key: int, flags: int, snap_us: int = 0, age: float = math.nan, ip: bytes = b"") -> bytearray:
    return bytearray(_wire.HEAD.pack(key, AT.encode(), snap_us, age, flags, len(ip)) + ip)


def record_text(ip: str) -> bytes:
    fields = [ip, "cloud", "aws", "us-east-1", "EC2", "0.99", "cloud_ranges_aws", AT, "3.5.140.0/22", "cloud/aws",
              "2026-03-15T12:00:00.000000+00:00", "4629", "0", "16509", "AMAZON-02", "", "US", "ip2asn", "",
              "cloud_ranges_aws\x1fcloud/aws\x1fcloud\x1faws\x1f3.5.140.0/22\x1f", "", "0"]  # fmt: skip
    return "\t".join(fields).encode()


def test_keyed_reads_a_head_with_its_record_and_keeps_the_key() -> None:
    key = 2**63 + 12345  # keys use all 64 bits
    out = head(key, 4) + record_text("3.5.141.7")
    r = _wire.keyed(out, len(out), "3.5.141.7")
    assert r is not None and (r.ip, r.provider, r.region, r.asn) == ("3.5.141.7", "aws", "us-east-1", 16509)
    snap = int(datetime(2026, 3, 15, 12, tzinfo=timezone.utc).timestamp() * 1_000_000)
    out = head(key, 1, snap, 7.0)  # stale, no record: built from the kept key
    again = _wire.keyed(out, len(out), "3.5.141.9")
    assert again is not None
    assert (again.ip, again.stale, again.data_age_seconds) == ("3.5.141.9", True, 7.0)
    assert again.classified_at == datetime(2026, 3, 15, 13, 17, 9, 123456, timezone.utc)
    assert again.snapshot_at == datetime(2026, 3, 15, 12, tzinfo=timezone.utc)
    assert dataclasses.replace(again, ip=r.ip, stale=False, data_age_seconds=r.data_age_seconds) == r


def test_keyed_without_the_record_of_an_unknown_key_is_none() -> None:
    out = head(2**40 + 99, 0)
    assert _wire.keyed(out, len(out), "3.5.141.7") is None


def test_keyed_takes_the_address_that_follows_the_head() -> None:
    key = 2**41 + 7
    out = head(key, 4) + record_text("3.5.141.7")
    assert _wire.keyed(out, len(out), "3.5.141.7") is not None
    out = head(key, 2, ip=b"3.5.141.8")
    r = _wire.keyed(out, len(out), "::ffff:3.5.141.8")
    assert r is not None and r.ip == "3.5.141.8"
    assert (r.snapshot_at, r.data_age_seconds) == (None, None)  # none in this head


def test_the_head_layout_is_the_engine_s(loaded: Any) -> None:
    from ipclassifier import _native

    assert _native.load().abi_info()["head_size"] == _wire.HEAD.size == 64
    fields: List[Any] = list(_wire.HEAD.unpack(bytes(64)))
    assert len(fields) == 6 and fields[1] == bytes(32)
    assert struct.calcsize("<Q32sqdII") == 64


# The batch: answers of a kept key are that key's values with the batch's times.

BATCH = ["3.5.141.7", "3.5.141.8", "185.220.101.34", "2600:1f14::1", "198.51.100.7", "3.5.140.9", "3.5.141.7"]


def test_a_batch_of_kept_keys_equals_a_batch_read_whole(loaded: Any) -> None:
    _wire._bodies.clear()
    read = loaded.bulk_classify(BATCH, as_list=True)  # every answer read from the columns, its key kept
    kept = loaded.bulk_classify(BATCH, as_list=True)  # every answer from its kept key
    assert [a.ip for a in kept] == BATCH
    for a, b in zip(read, kept):
        same_but_times(a, b)
    assert len({a.classified_at for a in kept}) == 1  # one batch, one time


def test_a_batch_builds_answers_of_kept_keys_from_what_was_kept(loaded: Any) -> None:
    _wire._bodies.clear()  # other tests' engines kept keys of their own
    first = loaded.classify("3.5.141.7")  # keeps its key's values
    _, [record] = loaded.classify_many(["3.5.141.7"])
    key = next(k for k, v in _wire._bodies.items() if v[_wire.ATTRS.index("matched_prefix")] == "3.5.140.0/22")
    body = list(_wire._bodies[key])
    body[_wire.ATTRS.index("region")] = "kept-region"  # marks what the batch builds from
    # what differs between answers of one key comes from the batch, not from what was kept
    body[_wire.ATTRS.index("stale")] = True
    body[_wire.ATTRS.index("snapshot_at")] = body[_wire.ATTRS.index("data_age_seconds")] = None
    _wire._bodies[key] = tuple(body)
    [a, b] = loaded.bulk_classify(["3.5.141.7", "3.5.141.99"], as_list=True)
    assert (a.region, b.region) == ("kept-region", "kept-region")
    assert (a.ip, b.ip) == ("3.5.141.7", "3.5.141.99")
    assert a.classified_at > first.classified_at and record.region == "ap-northeast-2"
    assert (a.stale, a.snapshot_at) == (False, record.snapshot_at) and record.snapshot_at is not None
    assert a.data_age_seconds is not None and abs(a.data_age_seconds - record.data_age_seconds) <= 2
    _wire._bodies.clear()


def test_a_batch_after_a_failed_refresh_is_stale(loaded: Any, fixture_server: Any) -> None:
    before = loaded.bulk_classify(["185.220.101.34"], as_list=True)[0]
    assert before.stale is False
    fixture_server.override("/tor/torbulkexitlist", status=500)
    assert loaded.refresh("tor", force=True)["failed"] == 1
    after = loaded.bulk_classify(["185.220.101.34"], as_list=True)[0]
    assert after.stale is True
    same_but_times(dataclasses.replace(after, stale=False), before)


def test_the_key_column_names_kept_answers(loaded: Any) -> None:
    cols = loaded.classify_columns(["3.5.141.7", "3.5.141.8", "not-an-ip", ("3.5.141.9", 64500, None)])
    keys = cols.column("key")
    assert keys[0] == keys[1] != 0
    assert keys[2] == 0  # a failed input
    assert keys[3] not in (0, keys[0])  # the caller's network: an answer of its own
    assert "key" not in _columns.FRAME_COLUMNS  # a process's name of an answer: not data
