"""Single-address classification through the C ABI, against the fixture lists."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict

import pytest

from ipclassifier import ClassifierError, IPClassification, IPType


def test_tor_exit_is_tor(loaded: Any) -> None:
    r = loaded.classify("185.220.101.34")
    assert isinstance(r, IPClassification)
    assert (r.ip_type, r.confidence, r.source) == (IPType.TOR, 0.95, "tor_bulk_list")
    assert r.ip_type is IPType.TOR
    assert r.ip == "185.220.101.34"
    assert r.snapshot == "tor"
    assert r.matched_prefix == "185.220.101.34/32"


def test_aws_address_is_cloud_with_region_and_specific_service(loaded: Any) -> None:
    r = loaded.classify("3.5.141.7")
    assert r.ip_type is IPType.CLOUD
    assert r.provider == "aws"
    assert r.confidence == 0.99
    assert r.source == "cloud_ranges_aws"
    assert r.region == "ap-northeast-2"
    assert r.service == "EC2"  # the CIDR is listed for AMAZON and EC2
    assert r.matched_prefix == "3.5.140.0/22"
    assert r.snapshot == "cloud/aws"
    assert r.stale is False


def test_aws_ipv6_address_is_cloud(loaded: Any) -> None:
    r = loaded.classify("2600:1f14::1")
    assert (r.ip_type, r.provider, r.region, r.service) == (IPType.CLOUD, "aws", "us-west-2", "EC2")


def test_gcp_and_cloudflare_are_cloud(loaded: Any) -> None:
    g = loaded.classify("8.34.208.10")
    assert (g.ip_type, g.provider, g.source, g.region) == (IPType.CLOUD, "gcp", "cloud_ranges_gcp", "europe-west1")
    cf = loaded.classify("2606:4700::6810:84e5")
    assert (cf.ip_type, cf.provider, cf.region, cf.service) == (IPType.CLOUD, "cloudflare", None, None)


def test_ipv4_mapped_ipv6_is_answered_as_ipv4(loaded: Any) -> None:
    r = loaded.classify("::ffff:3.5.140.1")
    assert r.ip == "3.5.140.1"
    assert (r.ip_type, r.provider) == (IPType.CLOUD, "aws")


def test_ipv6_is_canonicalised(loaded: Any) -> None:
    r = loaded.classify("2600:1F14:0000:0000:0000:0000:0000:0001")
    assert r.ip == "2600:1f14::1"


def test_jhassine_only_address_is_datacenter(loaded: Any) -> None:
    r = loaded.classify("13.64.9.9")  # Azure in datacenters.csv; azure cloud list not loaded
    assert (r.ip_type, r.confidence, r.source) == (IPType.DATACENTER, 0.75, "datacenter_community_lists")
    assert r.snapshot == "datacenter/jhassine"
    assert r.matched_prefix == "13.64.0.0/16"


def test_x4bnet_hosting_addresses_are_datacenter(loaded: Any) -> None:
    v4 = loaded.classify("5.9.10.11")
    want = (IPType.DATACENTER, "datacenter_community_lists", "datacenter/x4bnet-ipv4")
    assert (v4.ip_type, v4.source, v4.snapshot) == want
    v6 = loaded.classify("2a01:4f8:1:2::3")
    want = (IPType.DATACENTER, "datacenter/x4bnet-ipv6", "2a01:4f8::/32")
    assert (v6.ip_type, v6.snapshot, v6.matched_prefix) == want


def test_cloud_wins_over_datacenter(loaded: Any) -> None:
    # 3.5.140.0/22 is in both the aws cloud list and datacenters.csv
    assert loaded.classify("3.5.140.1").ip_type is IPType.CLOUD


def test_non_us_isp_as_name_is_residential(loaded: Any) -> None:
    r = loaded.classify("80.128.1.1", asn=3320, as_name="Deutsche Telekom AG")
    assert r.ip_type is IPType.RESIDENTIAL
    assert r.source == "asn_name_heuristic"
    assert 0.5 <= r.confidence <= 0.8
    assert r.asn == 3320 and r.as_name == "Deutsche Telekom AG"
    assert r.snapshot is None and r.snapshot_at is None


def test_hosting_as_name_is_not_residential(loaded: Any) -> None:
    r = loaded.classify("198.51.100.9", asn=64500, as_name="Example Hosting and Colocation GmbH")
    assert r.ip_type is not IPType.RESIDENTIAL
    assert r.asn == 64500 and r.asn_source == "caller"


def test_ip2asn_table_fills_the_network_when_the_caller_gives_none(loaded: Any) -> None:
    r = loaded.classify("80.128.1.1")
    assert (r.asn, r.country, r.asn_source) == (3320, "DE", "ip2asn")
    assert r.as_name == "DTAG Internet service provider operations"
    v6 = loaded.classify("2003:e1::1")
    assert (v6.asn, v6.country) == (3320, "DE")


def test_hosting_asn_address_is_datacenter(loaded: Any) -> None:
    r = loaded.classify("88.198.7.7")  # AS24940 in ip2asn and in X4BNet ASN.txt
    assert r.ip_type is IPType.DATACENTER
    assert r.source == "hosting_asn_list"
    assert r.matched_prefix == "AS24940"
    assert r.asn == 24940 and r.asn_source == "ip2asn"
    assert 0.0 < r.confidence < 0.75


def test_a_network_that_declares_itself_an_access_network_is_residential(loaded: Any) -> None:
    # fixtures/peeringdb/net.json: AS65200 "Cable/DSL/ISP", AS65201 "Content".
    r = loaded.classify("203.0.113.9", asn=65200)
    assert (r.ip_type, r.source, r.confidence, r.matched_prefix) == (
        IPType.RESIDENTIAL,
        "access_asn_list",
        0.7,
        "AS65200",
    )
    assert r.snapshot == "asn/peeringdb"
    r = loaded.classify("203.0.113.9", asn=65201)
    assert (r.ip_type, r.source, r.confidence) == (IPType.DATACENTER, "hosting_asn_list", 0.6)


def test_onionoo_exit_addresses_are_tor(loaded: Any) -> None:
    v6 = loaded.classify("2a0b:f4c2:2::1")
    assert (v6.ip_type, v6.source, v6.snapshot) == (IPType.TOR, "tor_bulk_list", "tor/onionoo")
    assert loaded.classify("192.42.116.17").ip_type is IPType.TOR


def test_unlisted_address_is_unknown(loaded: Any) -> None:
    r = loaded.classify("198.51.100.7")
    assert (r.ip_type, r.provider, r.confidence, r.source) == (IPType.UNKNOWN, None, 0.0, "none")
    assert r.matched_prefix is None and r.asn is None and r.data_age_seconds is None
    assert r.country is None and r.asn_source is None


def test_everything_is_unknown_before_any_refresh(classifier: Any) -> None:
    r = classifier.classify("185.220.101.34")
    assert (r.ip_type, r.source) == (IPType.UNKNOWN, "none")


def test_answer_times_are_utc_and_current(loaded: Any) -> None:
    r = loaded.classify("185.220.101.1")
    now = datetime.now(timezone.utc)
    assert r.classified_at.tzinfo is not None and r.classified_at.utcoffset() == timedelta(0)
    assert abs(now - r.classified_at) < timedelta(seconds=10)
    assert r.snapshot_at is not None and abs(now - r.snapshot_at) < timedelta(minutes=5)
    assert r.data_age_seconds is not None and 0 <= r.data_age_seconds < 300


def test_answer_is_a_real_frozen_classification(loaded: Any) -> None:
    r = loaded.classify("3.5.140.1")
    assert type(r) is IPClassification
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.provider = "x"  # type: ignore[misc]
    rebuilt = IPClassification(**{f.name: getattr(r, f.name) for f in dataclasses.fields(r)})
    assert rebuilt == r


@pytest.mark.parametrize(
    "bad", ["", "1.2.3", "1.2.3.4/24", "::1%eth0", "01.2.3.4", "not-an-ip", " 1.2.3.4", "1.2.3.4:80"]
)
def test_invalid_ip_raises_value_error_naming_it(classifier: Any, bad: str) -> None:
    with pytest.raises(ValueError) as ei:
        classifier.classify(bad)
    assert bad in str(ei.value)
    assert "invalid IP address" in str(ei.value)


def test_non_string_ip_is_a_type_error(classifier: Any) -> None:
    with pytest.raises(TypeError, match="ip must be a str"):
        classifier.classify(1234)


@pytest.mark.parametrize("bad", [b"1.2.3.4", bytearray(b"1.2.3.4"), 1234, None])
def test_non_string_ip_is_a_type_error_naming_its_type(classifier: Any, bad: Any) -> None:
    with pytest.raises(TypeError, match=f"ip must be a str, got {type(bad).__name__}"):
        classifier.classify(bad)


@pytest.mark.parametrize(
    "bad,message",
    [
        (b"1.2.3.4", r"item 1: ip must be a str, got bytes b'1.2.3.4'"),
        (bytearray(b"1.2.3.4"), "item 1: ip must be a str, got bytearray"),
        ((b"1.2.3.4", 3320), "item 1: ip must be a str, got bytes"),
        (1234, r"item 1 must be an IP string or \(ip, asn, as_name\), got 1234"),
        (None, r"item 1 must be an IP string or \(ip, asn, as_name\), got None"),
    ],
)
def test_bulk_non_string_ip_is_a_type_error_naming_it(classifier: Any, bad: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        classifier.bulk_classify(["1.2.3.4", bad])


@pytest.mark.parametrize("bad", [b"Deutsche Telekom AG", 123, 1.5, ["x"]])
def test_non_string_as_name_is_a_type_error(classifier: Any, bad: Any) -> None:
    with pytest.raises(TypeError, match=f"as_name must be a str, got {type(bad).__name__}"):
        classifier.classify("1.2.3.4", asn=3320, as_name=bad)
    with pytest.raises(TypeError, match=f"as_name must be a str, got {type(bad).__name__}"):
        classifier.classify("1.2.3.4", as_name=bad)
    with pytest.raises(TypeError, match=f"item 0: as_name must be a str, got {type(bad).__name__}"):
        classifier.bulk_classify([("1.2.3.4", 3320, bad)])


@pytest.mark.parametrize("asn", [-1, 2**32, "AS123"])
def test_bad_asn_is_rejected(classifier: Any, asn: Any) -> None:
    with pytest.raises(ValueError, match="asn"):
        classifier.classify("1.2.3.4", asn=asn)


def test_asn_without_name_is_kept(loaded: Any) -> None:
    assert loaded.classify("198.51.100.7", asn=64500).asn == 64500


def test_close_then_classify_raises_clear_error(classifier: Any) -> None:
    classifier.close()
    classifier.close()  # idempotent
    assert classifier.closed
    with pytest.raises(ClassifierError, match="closed"):
        classifier.classify("1.2.3.4")
    with pytest.raises(ClassifierError, match="closed"):
        classifier.bulk_classify(["1.2.3.4"])
    with pytest.raises(ClassifierError, match="closed"):
        classifier.get_stats()


def test_context_manager_closes(make_classifier: Any) -> None:
    with make_classifier() as c:
        assert c.classify("1.2.3.4").ip_type is IPType.UNKNOWN
    assert c.closed
    with pytest.raises(ClassifierError):
        c.classify("1.2.3.4")


def test_garbage_collected_classifier_closes_quietly(make_classifier: Any) -> None:
    import gc

    c = make_classifier()
    c.classify("1.2.3.4")
    c.__del__()
    assert c.closed
    del c
    gc.collect()


def test_classifier_error_is_a_runtime_error() -> None:
    assert issubclass(ClassifierError, RuntimeError)


def test_classifier_cannot_be_pickled(classifier: Any) -> None:
    import pickle

    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(classifier)


# The AS profile's fixture is the Go suite's (one table, two suites): ten
# hosting networks in NL, ten ISPs in BR, and ZEBRA-AS (NL, one /24) whose
# name says nothing.
_PROFILE_TABLE = Path(__file__).resolve().parent.parent / "tests_go" / "testdata" / "asnprofile" / "ip2asn-v4.tsv"


@pytest.mark.parametrize(
    "overrides, ip_type, source, confidence",
    [
        ({"asn_profile": True}, IPType.DATACENTER, "asn_profile", 0.3),
        ({}, IPType.UNKNOWN, "none", 0.0),
        ({"asn_profile": True, "no_asn_profile": True}, IPType.UNKNOWN, "none", 0.0),
    ],
    ids=["asn_profile: a small NL network is datacenter", "off by default: unknown", "no_asn_profile wins"],
)
def test_as_profile_labels_a_network_whose_name_says_nothing(
    make_classifier: Any, overrides: Dict[str, Any], ip_type: IPType, source: str, confidence: float
) -> None:
    c = make_classifier(asn_v4_url=_PROFILE_TABLE.as_uri(), **overrides)
    c.refresh()
    r = c.classify("151.100.0.7")
    assert (r.ip_type, r.source, r.confidence, r.asn, r.as_name) == (ip_type, source, confidence, 64601, "ZEBRA-AS")
    if source == "asn_profile":
        # The odds depend on every table loaded (the fixture server's v6
        # table too); the features are the ZEBRA-AS row's.
        assert r.matched_prefix.startswith("AS profile: country NL, largest v4 /24, 1 ranges; hosting:access odds ")
        assert r.matched_prefix.endswith(":1"), "odds in favour of hosting"
