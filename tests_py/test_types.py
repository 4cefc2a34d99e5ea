"""IPType and IPClassification: the upstream-compatible names and rules."""

from __future__ import annotations

import dataclasses
import pickle
import sys
from datetime import datetime, timedelta, timezone

import pytest

from ipclassifier import IPClassification, IPType


def test_iptype_values_are_the_upstream_strings() -> None:
    assert [t.value for t in IPType] == ["tor", "cloud", "datacenter", "residential", "unknown"]
    assert [t.name for t in IPType] == ["TOR", "CLOUD", "DATACENTER", "RESIDENTIAL", "UNKNOWN"]


def test_iptype_is_a_str_enum() -> None:
    assert isinstance(IPType.CLOUD, str)
    assert IPType.CLOUD == "cloud"
    assert IPType("tor") is IPType.TOR
    assert str(IPType.DATACENTER) == "datacenter"


def test_classification_fields_start_with_the_upstream_five() -> None:
    names = [f.name for f in dataclasses.fields(IPClassification)]
    assert names[:5] == ["ip_type", "provider", "confidence", "source", "classified_at"]
    assert names[5:] == [
        "ip", "region", "service", "matched_prefix", "snapshot", "snapshot_at",
        "data_age_seconds", "stale", "asn", "as_name", "cache_tier", "country", "asn_source", "tags", "evidence",
        "as_of", "history_short",
    ]  # fmt: skip


def test_classification_needs_only_the_upstream_four_arguments() -> None:
    c = IPClassification(ip_type=IPType.CLOUD, provider="aws", confidence=0.99, source="cloud_ranges_aws")
    assert c.provider == "aws"
    assert c.region is None and c.stale is False and c.asn is None and c.cache_tier is None
    assert c.classified_at.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - c.classified_at) < timedelta(seconds=5)


def test_classified_at_none_becomes_now_like_upstream() -> None:
    c = IPClassification(IPType.TOR, None, 0.95, "tor_bulk_list", None)  # type: ignore[arg-type]
    assert isinstance(c.classified_at, datetime)
    assert c.classified_at.utcoffset() == timedelta(0)


def test_classification_is_frozen() -> None:
    c = IPClassification(IPType.UNKNOWN, None, 0.0, "none")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.confidence = 0.5  # type: ignore[misc]


@pytest.mark.skipif(sys.version_info < (3, 10), reason="dataclass slots need Python 3.10")
def test_classification_uses_slots() -> None:
    c = IPClassification(IPType.UNKNOWN, None, 0.0, "none")
    assert "ip_type" in IPClassification.__slots__
    assert not hasattr(c, "__dict__")


@pytest.mark.parametrize("bad", [-0.01, 1.01, 2.0, -1.0])
def test_confidence_outside_0_1_is_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match=r"confidence must be between 0\.0 and 1\.0, got " + str(bad)):
        IPClassification(IPType.CLOUD, "aws", bad, "cloud_ranges_aws")


@pytest.mark.parametrize("edge", [0.0, 1.0])
def test_confidence_bounds_are_allowed(edge: float) -> None:
    assert IPClassification(IPType.CLOUD, "aws", edge, "x").confidence == edge


def test_classification_equality_hash_and_pickle() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    a = IPClassification(IPType.CLOUD, "aws", 0.99, "cloud_ranges_aws", at, ip="3.5.140.1", region="ap-northeast-2")
    b = IPClassification(IPType.CLOUD, "aws", 0.99, "cloud_ranges_aws", at, ip="3.5.140.1", region="ap-northeast-2")
    assert a == b and hash(a) == hash(b)
    assert pickle.loads(pickle.dumps(a)) == a


def test_to_dict_is_json_ready() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    d = IPClassification(IPType.TOR, None, 0.95, "tor_bulk_list", at, ip="185.220.101.1").to_dict()
    assert d["ip_type"] == "tor"
    assert d["classified_at"] == "2026-01-02T03:04:05+00:00"
    assert d["ip"] == "185.220.101.1"
