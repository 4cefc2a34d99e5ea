"""Refreshing sources: reports, persistence, and failed downloads keeping old data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ipclassifier import ClassifierError, IPType

SOURCES = [
    "tor",
    "tor/onionoo",
    "cloud/aws",
    "cloud/gcp",
    "cloud/cloudflare",
    *(
        f"ipranges/{folder}-{family}"
        for folder, families in (
            ("github", "46"),
            ("facebook", "46"),
            ("twitter", "46"),
            ("telegram", "46"),
            ("openai", "4"),
            ("googlebot", "46"),
            ("bing", "4"),
            ("duckduckbot", "4"),
            ("duckassistbot", "4"),
            ("perplexity", "4"),
            ("pingdom", "46"),
            ("statuscake", "4"),
            ("protonvpn", "4"),
            ("apple-proxy", "46"),
        )
        for family in (f"ipv{f}" for f in families)
    ),
    "datacenter/x4bnet-vpn-ipv4",
    "datacenter/x4bnet-vpn-ipv6",
    "scanners/maltrail",
    "datacenter/jhassine",
    "datacenter/x4bnet-ipv4",
    "datacenter/x4bnet-ipv6",
    "datacenter/x4bnet-asn",
    "asn/ip2asn-v4",
    "asn/ip2asn-v6",
    "asn/peeringdb",
]


def test_update_all_sources_reports_every_source(classifier: Any) -> None:
    report = classifier.update_all_sources()
    assert report["group"] == "all"
    assert report["failed"] == 0
    by_name = {s["source"]: s for s in report["sources"]}
    assert list(by_name) == SOURCES
    assert all(s["status"] == "updated" for s in report["sources"])
    assert by_name["tor"]["entries"] == 4
    assert by_name["cloud/aws"]["entries"] == 3  # 3.5.140.0/22 twice in the file, once here
    assert by_name["datacenter/x4bnet-ipv6"]["entries"] == 1
    assert by_name["asn/peeringdb"]["entries"] == 2  # one access, one content network; NSP says nothing
    assert classifier.classify("185.220.101.1").ip_type is IPType.TOR


def test_second_refresh_skips_sources_not_due(loaded: Any) -> None:
    report = loaded.update_all_sources()
    assert {s["status"] for s in report["sources"]} == {"skipped"}
    forced = loaded.update_all_sources(force=True)
    assert all(s["status"] in ("updated", "not_modified") for s in forced["sources"])


def test_refresh_one_group(classifier: Any) -> None:
    report = classifier.refresh("tor")
    assert [s["source"] for s in report["sources"]] == ["tor", "tor/onionoo"]
    assert classifier.classify("185.220.101.34").ip_type is IPType.TOR
    assert classifier.classify("3.5.140.1").ip_type is IPType.UNKNOWN  # cloud not refreshed


def test_unknown_group_is_an_error(classifier: Any) -> None:
    with pytest.raises(ClassifierError, match="group"):
        classifier.refresh("nope")


def test_snapshots_persist_across_classifiers(make_classifier: Any) -> None:
    first = make_classifier()
    first.update_all_sources()
    first.close()
    second = make_classifier()  # same data_dir, no refresh
    r = second.classify("3.5.140.1")
    assert (r.ip_type, r.provider, r.service) == (IPType.CLOUD, "aws", "EC2")


def test_server_error_keeps_previous_data_and_marks_it_stale(loaded: Any, fixture_server: Any) -> None:
    fixture_server.override("/tor/torbulkexitlist", status=500, body=b"oops")
    report = loaded.refresh("tor", force=True)
    assert report["failed"] == 1
    tor = next(s for s in report["sources"] if s["source"] == "tor")
    assert tor["status"] == "failed" and tor["error"]
    r = loaded.classify("185.220.101.34")  # on the bulk list only
    assert r.ip_type is IPType.TOR  # previous list still in use
    assert r.stale is True


def test_html_page_instead_of_a_list_is_rejected(loaded: Any, fixture_server: Any) -> None:
    page = b"<!DOCTYPE html><html><head><title>Rate limited</title></head><body>1.2.3.4</body></html>"
    fixture_server.override("/cloud/aws/aws_ips.csv", body=page, content_type="text/html")
    report = loaded.refresh("cloud", force=True)
    status = {s["source"]: s["status"] for s in report["sources"]}
    assert status["cloud/aws"] == "failed"
    assert status["cloud/gcp"] in ("updated", "not_modified")
    assert report["failed"] == 1
    r = loaded.classify("3.5.140.1")
    assert (r.ip_type, r.provider) == (IPType.CLOUD, "aws")


def test_failed_first_download_leaves_addresses_unknown(classifier: Any, fixture_server: Any) -> None:
    fixture_server.override("/tor/torbulkexitlist", status=503, body=b"down")
    report = classifier.refresh("tor")
    assert report["failed"] == 1
    assert classifier.classify("185.220.101.34").ip_type is IPType.UNKNOWN  # bulk list only
    assert classifier.classify("192.42.116.17").ip_type is IPType.TOR  # Onionoo still arrived


def test_refresh_writes_into_data_dir(classifier: Any, tmp_path: Path) -> None:
    classifier.update_all_sources()
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert files, "no snapshot written"
