"""Upstream's documented behaviour beyond its signatures: lists downloaded
on first use (the background refresh), its URL forms against a real local
server, and its label policy as an option."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import pytest

from conftest import CLOUD_PROVIDERS
from ipclassifier import UPSTREAM_CLOUD_PROVIDERS, IPType, create_ip_classifier


def wait_for(what: str, cond: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_host_that_never_refreshes_gets_the_lists(make_classifier: Callable[..., Any], fixture_server: Any) -> None:
    c = make_classifier(auto_refresh=True)  # the default for hosts; the suite turns it off
    first = c.classify("185.220.101.1")  # answered at once, whatever is loaded yet
    assert first.ip_type in (IPType.UNKNOWN, IPType.TOR)
    wait_for("the background refresh", lambda: c.classify("185.220.101.1").ip_type is IPType.TOR)
    wait_for("every source", lambda: c.classify("3.5.140.1").ip_type is IPType.CLOUD)
    wait_for("the run to be counted", lambda: c.get_stats()["auto_refresh"]["runs"] >= 1)
    auto = c.get_stats()["auto_refresh"]
    assert auto["enabled"] is True and auto["runs"] >= 1 and auto["failed"] == 0
    hits = fixture_server.hits["/tor/torbulkexitlist"]
    assert c.refresh("all")["failed"] == 0  # nothing is due any more: nothing is downloaded again
    assert fixture_server.hits["/tor/torbulkexitlist"] == hits


def test_two_classifiers_on_one_data_dir_download_once(
    make_classifier: Callable[..., Any], fixture_server: Any, tmp_path: Path
) -> None:
    a = make_classifier(auto_refresh=True)
    b = make_classifier(auto_refresh=True)  # same data dir (make_classifier's)
    for c in (a, b):
        wait_for("tor answers", lambda c=c: c.classify("185.220.101.1").ip_type is IPType.TOR)
    assert fixture_server.hits["/tor/torbulkexitlist"] == 1


def test_the_command_line_and_the_suite_do_not_refresh_in_the_background(make_classifier: Callable[..., Any]) -> None:
    import argparse

    from ipclassifier.cli.options import classifier_config

    assert classifier_config(argparse.Namespace())["auto_refresh"] is False
    c = make_classifier()
    assert c.config["auto_refresh"] is False and c.get_stats()["auto_refresh"]["enabled"] is False


def test_upstreams_datacenter_base_gets_its_file(fixture_server: Any, tmp_path: Path) -> None:
    """datacenter_url as upstream passes it: the repository base, to which
    /data/datacenters.csv is appended."""
    from conftest import FIXTURES

    body = (FIXTURES / "datacenter" / "datacenters.csv").read_bytes()
    fixture_server.override("/jhassine-mirror/data/datacenters.csv", 200, body, "text/csv")
    with create_ip_classifier(
        datacenter_url=f"{fixture_server.url}/jhassine-mirror",
        cloud_base_url=fixture_server.url + "/cloud/{folder}/{folder}_ips.csv",  # a template works too
        data_dir=tmp_path / "data", enable_cache=False, cloud_providers=CLOUD_PROVIDERS,
    ) as c:  # fmt: skip
        by_source = {s["source"]: s for s in c.refresh("datacenter", force=True)["sources"]}
        assert by_source["datacenter/jhassine"]["status"] == "updated", by_source["datacenter/jhassine"]
        assert by_source["datacenter/jhassine"]["url"] == f"{fixture_server.url}/jhassine-mirror/data/datacenters.csv"
        assert c.refresh("cloud", force=True)["failed"] == 0
        assert c.classify("13.64.1.1").ip_type is IPType.DATACENTER
        assert c.classify("3.5.140.1").ip_type is IPType.CLOUD


@pytest.mark.parametrize(
    "labels, typ, confidence, source",
    [
        (None, IPType.CLOUD, 0.99, "cloud_ranges_digitalocean"),
        (UPSTREAM_CLOUD_PROVIDERS, IPType.DATACENTER, 0.75, "datacenter_community_lists"),
    ],
    ids=["default", "upstream"],
)
def test_cloud_label_providers_give_upstreams_labels(
    labels: Any, typ: IPType, confidence: float, source: str, make_classifier: Callable[..., Any]
) -> None:
    kw = {"cloud_label_providers": labels} if labels else {}
    c = make_classifier(cloud_providers=[*CLOUD_PROVIDERS, "digitalocean"], **kw)
    assert c.refresh("all", force=True)["failed"] == 0
    r = c.classify("5.101.96.1")
    assert (r.ip_type, r.confidence, r.source) == (typ, confidence, source)
    assert (r.provider, r.region) == ("digitalocean", "NL-NH")  # the provider is kept either way
    assert c.classify("3.5.140.1").ip_type is IPType.CLOUD  # aws is cloud in both
