"""The record codec's Python half (ipclassifier._wire) on records written
in the exact layout wire.AppendRecord writes."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import pytest

from ipclassifier import IPClassification, IPType, _wire
from ipclassifier.types import Evidence


def record(ip: str, prefix: str, tags: str = "tor_exit", asn: str = "24940") -> str:
    ev = "\x1e".join(
        [
            "\x1f".join(["tor_bulk_list", "tor", "tor", "", f"{prefix}", "tor_exit"]),
            "\x1f".join(
                ["hosting_asn_list", "datacenter/x4bnet-asn", "datacenter", "Hetzner Online GmbH", f"AS{asn}", ""]
            ),
        ]
    )
    fields = [
        ip, "tor", "", "", "", "0.95", "tor_bulk_list", "2026-03-15T13:17:09.123456+00:00", prefix, "tor",
        "2026-03-15T12:00:00.000000+00:00", "4629", "0", asn, "Hetzner Online GmbH", "", "DE", "ip2asn",
        tags, ev, "", "0",
    ]  # fmt: skip
    assert len(fields) == len(_wire.FIELDS)
    return "\t".join(fields)


def test_decode_reads_every_field() -> None:
    r = _wire.decode(record("5.9.1.1", "5.9.1.1/32"))
    assert type(r) is IPClassification
    assert (r.ip, r.ip_type, r.provider, r.confidence, r.source) == ("5.9.1.1", IPType.TOR, None, 0.95, "tor_bulk_list")
    assert r.classified_at == datetime(2026, 3, 15, 13, 17, 9, 123456, timezone.utc)
    assert (r.matched_prefix, r.snapshot, r.data_age_seconds, r.stale) == ("5.9.1.1/32", "tor", 4629.0, False)
    assert r.snapshot_at == datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)
    assert (r.asn, r.as_name, r.country, r.asn_source, r.cache_tier) == (
        24940,
        "Hetzner Online GmbH",
        "DE",
        "ip2asn",
        None,
    )
    assert r.tags == ("tor_exit",)
    assert r.evidence == (
        Evidence("tor_bulk_list", "tor", IPType.TOR, None, "5.9.1.1/32", "tor_exit"),
        Evidence(
            "hosting_asn_list", "datacenter/x4bnet-asn", IPType.DATACENTER, "Hetzner Online GmbH", "AS24940", None
        ),
    )
    assert (r.as_of, r.history_short) == (None, False)


def test_decode_equals_the_dataclass_built_by_init() -> None:
    r = _wire.decode(record("5.9.1.1", "5.9.1.1/32"))
    built = IPClassification(**{f: getattr(r, f) for f in _wire.FIELDS})
    assert r == built and hash(r) == hash(built)


@pytest.mark.parametrize(
    "tags, want", [("", ()), ("tor_exit", ("tor_exit",)), ("vpn,scanner:censys", ("vpn", "scanner:censys"))]
)
def test_decode_tags(tags: str, want: tuple) -> None:  # type: ignore[type-arg]
    assert _wire.decode(record("5.9.1.1", "5.9.1.1/32", tags=tags)).tags == want


def test_memos_starting_over_change_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    # More distinct evidence lists and entries than the memos hold: every
    # answer is still its own record's.
    monkeypatch.setattr(_wire, "_MEMO_MAX", 8)
    for i in range(50):
        ip = f"5.9.1.{i}"
        r = _wire.decode(record(ip, f"{ip}/32", asn=str(24940 + i % 20)))
        assert r.evidence[0].matched_prefix == f"{ip}/32"
        assert r.evidence[1].matched_prefix == f"AS{24940 + i % 20}" and r.asn == 24940 + i % 20


def test_decode_rejects_a_short_record() -> None:
    with pytest.raises(_wire.ClassifierError, match="malformed record"):
        _wire.decode("5.9.1.1\ttor")


def test_decode_rejects_malformed_evidence() -> None:
    rec = record("5.9.1.1", "5.9.1.1/32").split("\t")
    rec[_wire.FIELDS.index("evidence")] = "tor_bulk_list\x1ftor"
    with pytest.raises(_wire.ClassifierError, match="malformed evidence"):
        _wire.decode("\t".join(rec))


@pytest.mark.parametrize(
    "text, want",
    [
        ("2026-03-15T13:17:09Z", datetime(2026, 3, 15, 13, 17, 9, tzinfo=timezone.utc)),
        ("2026-03-15T13:17:09.5Z", datetime(2026, 3, 15, 13, 17, 9, 500000, tzinfo=timezone.utc)),
        ("2026-03-15T13:17:09.123456789Z", datetime(2026, 3, 15, 13, 17, 9, 123456, tzinfo=timezone.utc)),
        ("2026-03-15T14:17:09.0001+01:00", datetime(2026, 3, 15, 13, 17, 9, 100, tzinfo=timezone.utc)),
        ("2026-03-15T08:17:09-05:00", datetime(2026, 3, 15, 13, 17, 9, tzinfo=timezone.utc)),
    ],
)
def test_go_time_reads_rfc3339_as_go_writes_it(text: str, want: datetime) -> None:
    got = _wire.go_time(text)
    assert got == want and got.utcoffset() is not None


@pytest.mark.parametrize(
    "text",
    ["", "2026-03-15", "2026-03-15T13:17:09", "2026-03-15 13:17:09Z", "2026-03-15T13:17:09.1234567890Z",
     "2026-03-15T13:17:09.Z", "2026-03-15T13:17:09z0", " 2026-03-15T13:17:09Z", "2026-13-15T13:17:09Z"],
)  # fmt: skip
def test_go_time_refuses_other_texts(text: str) -> None:
    with pytest.raises(ValueError):
        _wire.go_time(text)


@pytest.mark.parametrize(
    "text, floor_us, ceil_us",
    [
        ("2026-03-15T13:17:09.123456Z", 123456, 123456),
        ("2026-03-15T13:17:09.1234560Z", 123456, 123456),
        ("2026-03-15T13:17:09.123456001Z", 123456, 123457),
        ("2026-03-15T13:17:09.999999999Z", 999999, None),  # rounds up into the next second
        ("2026-03-15T13:17:09Z", 0, 0),
    ],
)
def test_go_time_rounds_up_only_when_asked_and_only_past_the_microsecond(
    text: str, floor_us: int, ceil_us: Optional[int]
) -> None:
    assert _wire.go_time(text).microsecond == floor_us
    up = _wire.go_time(text, ceil=True)
    if ceil_us is None:
        assert up == datetime(2026, 3, 15, 13, 17, 10, tzinfo=timezone.utc)
    else:
        assert up.microsecond == ceil_us


@pytest.mark.parametrize(
    "text, want",
    [
        ("2026-03-15T13:17:09.123456789Z", datetime(2026, 3, 15, 13, 17, 9, 123456, tzinfo=timezone.utc)),
        ("2026-03-15", datetime(2026, 3, 15, tzinfo=timezone.utc)),  # no zone: UTC
        (" 2026-03-15 13:17:09 ", datetime(2026, 3, 15, 13, 17, 9, tzinfo=timezone.utc)),
        ("2026-03-15 13:17:09.5z", datetime(2026, 3, 15, 13, 17, 9, 500000, tzinfo=timezone.utc)),
        ("2026-03-15T14:17:09+01:00", datetime(2026, 3, 15, 13, 17, 9, tzinfo=timezone.utc)),
    ],
)
def test_iso_time_reads_what_hosts_and_users_write(text: str, want: datetime) -> None:
    got = _wire.iso_time(text)
    assert got == want and got.utcoffset() is not None


@pytest.mark.parametrize("text", ["", "yesterday", "2026-03-15T25:00:00Z", "15/03/2026"])
def test_iso_time_refuses_what_is_no_time(text: str) -> None:
    with pytest.raises(ValueError):
        _wire.iso_time(text)
