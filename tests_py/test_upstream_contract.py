"""The contract of upstream's module, as upstream documents it.

cowrieprocessor's ``cowrieprocessor.enrichment.ip_classification`` exports
``IPType``, ``IPClassification``, ``IPClassifier`` and ``create_ip_classifier``;
code written against it must run unchanged on ``ipclassifier``. Every
assertion below is taken from upstream's documented API (names, parameter
order and defaults, return types, enum values, the dataclass and its
validation, the exception ``update_all_sources`` documents) — so a change
here that breaks an upstream caller fails CI. Where upstream's behaviour is a
bug (its cloud and datacenter URL layouts, its GCP path, a branch that does
not exist) the interface is kept and the bug is not: docs/api.md says which.
"""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Callable

import pytest

import ipclassifier
from ipclassifier import IPClassification, IPClassifier, IPType, create_ip_classifier

UPSTREAM_NAMES = ["IPClassifier", "IPClassification", "IPType", "create_ip_classifier"]

# Upstream's factory and constructor: these six, in this order, positional
# or keyword; the URLs default to None in the factory (= the public lists).
UPSTREAM_PARAMETERS = ["cache_dir", "db_engine", "enable_redis", "tor_url", "cloud_base_url", "datacenter_url"]

# Upstream's default URLs (IPClassifier's defaults; the factory substitutes
# them for None).
UPSTREAM_TOR_URL = "https://check.torproject.org/torbulkexitlist"
UPSTREAM_CLOUD_BASE_URL = "https://raw.githubusercontent.com/rezmoss/cloud-provider-ip-addresses/main"
UPSTREAM_DATACENTER_URL = "https://raw.githubusercontent.com/jhassine/server-ip-addresses/main"

# get_stats(): upstream's documented keys, all ints.
UPSTREAM_STATS = [
    "classifications", "cache_hits", "cache_misses", "tor_matches", "cloud_matches", "datacenter_matches",
    "residential_matches", "unknown_matches",
]  # fmt: skip


def test_the_module_exports_upstreams_names() -> None:
    for name in UPSTREAM_NAMES:
        assert name in ipclassifier.__all__ and hasattr(ipclassifier, name)


def test_iptype_is_a_str_enum_with_upstreams_values_in_priority_order() -> None:
    assert issubclass(IPType, str) and issubclass(IPType, Enum)
    assert [(t.name, t.value) for t in IPType] == [
        ("TOR", "tor"), ("CLOUD", "cloud"), ("DATACENTER", "datacenter"), ("RESIDENTIAL", "residential"),
        ("UNKNOWN", "unknown"),
    ]  # fmt: skip
    assert IPType("cloud") is IPType.CLOUD and IPType.CLOUD == "cloud"


def test_ipclassification_is_upstreams_frozen_dataclass() -> None:
    assert dataclasses.is_dataclass(IPClassification)
    fields = [f.name for f in dataclasses.fields(IPClassification)]
    assert fields[:5] == ["ip_type", "provider", "confidence", "source", "classified_at"]
    assert hasattr(IPClassification, "__slots__") == (sys.version_info >= (3, 10))  # slots=True needs 3.10
    before = datetime.now(timezone.utc)
    c = IPClassification(IPType.CLOUD, "aws", 0.99, "cloud_ranges_aws")  # positional, as upstream allows
    assert c.classified_at is not None and c.classified_at >= before and c.classified_at.tzinfo is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.provider = "gcp"  # type: ignore[misc]
    for bad in (-0.01, 1.01):
        with pytest.raises(ValueError, match="confidence must be between 0.0 and 1.0"):
            IPClassification(ip_type=IPType.TOR, provider="tor", confidence=bad, source="tor_bulk_list")
    given = datetime(2026, 1, 2, tzinfo=timezone.utc)
    assert IPClassification(IPType.UNKNOWN, None, 0.0, "none", given).classified_at == given


@pytest.mark.parametrize(
    "fn", [create_ip_classifier, IPClassifier.__init__], ids=["create_ip_classifier", "IPClassifier"]
)
def test_factory_and_constructor_take_upstreams_parameters_in_order(fn: Callable[..., Any]) -> None:
    params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    assert [p.name for p in params[:6]] == UPSTREAM_PARAMETERS
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params[:6])
    defaults = {p.name: p.default for p in params[:6]}
    # Upstream requires cache_dir and db_engine; both are optional here.
    assert defaults["cache_dir"] is None and defaults["db_engine"] is None
    assert defaults["tor_url"] is defaults["cloud_base_url"] is defaults["datacenter_url"] is None
    # Deliberate: upstream's factory defaults enable_redis to True; here an
    # L1 Redis is asked for (docs/api.md, "Upstream compatibility").
    assert defaults["enable_redis"] is False
    # Everything past upstream's six is keyword-only: an upstream positional
    # call can never land in one of ours.
    assert all(p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD) for p in params[6:])


def test_method_signatures_match_upstreams() -> None:
    sig = inspect.signature(IPClassifier.classify)
    assert list(sig.parameters)[:4] == ["self", "ip", "asn", "as_name"]
    assert sig.parameters["asn"].default is None and sig.parameters["as_name"].default is None
    bulk = inspect.signature(IPClassifier.bulk_classify)
    first = list(bulk.parameters.values())[1]
    assert first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(p.default is not inspect.Parameter.empty for p in list(bulk.parameters.values())[2:])
    update = inspect.signature(IPClassifier.update_all_sources)
    assert all(p.default is not inspect.Parameter.empty for p in list(update.parameters.values())[1:])
    assert list(inspect.signature(IPClassifier.get_stats).parameters) == ["self"]
    assert list(inspect.signature(IPClassifier.close).parameters) == ["self"]


def test_a_positional_upstream_call_works(tmp_path: Path) -> None:
    with create_ip_classifier(tmp_path / "cache", None, False, UPSTREAM_TOR_URL, UPSTREAM_CLOUD_BASE_URL,
                              UPSTREAM_DATACENTER_URL, data_dir=tmp_path / "data") as c:  # fmt: skip
        assert c.classify("198.51.100.1").ip_type is IPType.UNKNOWN


def test_upstreams_default_urls_are_accepted_and_point_at_the_real_files(tmp_path: Path) -> None:
    """Upstream's values, not its bugs: the datacenter base is its
    repository (branch master, + /data/datacenters.csv), the cloud base the
    rezmoss layout (googlecloud/googlecloud_ips.csv for GCP)."""
    c = create_ip_classifier(
        cache_dir=tmp_path / "cache", tor_url=UPSTREAM_TOR_URL, cloud_base_url=UPSTREAM_CLOUD_BASE_URL,
        datacenter_url=UPSTREAM_DATACENTER_URL, data_dir=tmp_path / "data",
    )  # fmt: skip
    with c:
        urls = {s["name"]: s["url"] for s in c.get_stats()["sources"]}
    assert urls["tor"] == UPSTREAM_TOR_URL
    assert urls["datacenter/jhassine"] == (
        "https://raw.githubusercontent.com/jhassine/server-ip-addresses/master/data/datacenters.csv"
    )
    assert urls["cloud/aws"] == UPSTREAM_CLOUD_BASE_URL + "/aws/aws_ips.csv"
    assert urls["cloud/gcp"] == UPSTREAM_CLOUD_BASE_URL + "/googlecloud/googlecloud_ips.csv"


def test_an_unusable_url_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ipclassifier.ClassifierError, match=r'datacenter_url "ftp://mirror/dc": scheme "ftp"'):
        create_ip_classifier(data_dir=tmp_path, datacenter_url="ftp://mirror/dc")
    with pytest.raises(ipclassifier.ClassifierError, match=r"cloud_base_url .*names a file"):
        create_ip_classifier(data_dir=tmp_path, cloud_base_url="https://mirror/clouds/aws/ipv4.csv")


def test_answers_carry_upstreams_types_providers_confidences_and_sources(loaded: Any) -> None:
    want = {
        "185.220.101.1": (IPType.TOR, 0.95, "tor_bulk_list"),
        "3.5.140.1": (IPType.CLOUD, 0.99, "cloud_ranges_aws"),
        "13.64.1.1": (IPType.DATACENTER, 0.75, "datacenter_community_lists"),
        "198.51.100.1": (IPType.UNKNOWN, 0.0, "none"),
    }
    for ip, expected in want.items():
        r = loaded.classify(ip)
        assert type(r) is IPClassification and (r.ip_type, r.confidence, r.source) == expected, ip
    assert (loaded.classify("185.220.101.1").provider, loaded.classify("3.5.140.1").provider) == ("tor", "aws")
    assert loaded.classify("198.51.100.1").provider is None
    home = loaded.classify("80.128.1.1", asn=3320, as_name="Deutsche Telekom AG")
    assert (home.ip_type, home.source, home.provider) == (
        IPType.RESIDENTIAL,
        "asn_name_heuristic",
        "Deutsche Telekom AG",
    )


def test_bulk_classify_returns_upstreams_dict(loaded: Any) -> None:
    results = loaded.bulk_classify([("1.2.3.4", None, None), ("3.5.140.1", 16509, "AMAZON-02")])
    assert isinstance(results, dict) and list(results) == ["1.2.3.4", "3.5.140.1"]
    assert results["3.5.140.1"].ip_type is IPType.CLOUD  # upstream's callers index by IP
    for ip, classification in results.items():
        assert isinstance(ip, str) and type(classification) is IPClassification


def test_get_stats_has_upstreams_keys(loaded: Any) -> None:
    loaded.classify("185.220.101.1")
    loaded.classify("198.51.100.1")
    stats = loaded.get_stats()
    for key in UPSTREAM_STATS:
        assert type(stats[key]) is int, key
    assert stats["classifications"] >= 2 and stats["tor_matches"] >= 1 and stats["unknown_matches"] >= 1


def test_close_and_the_context_manager(make_classifier: Callable[..., Any]) -> None:
    c = make_classifier()
    with c as entered:
        assert entered is c
    assert c.closed
    c.close()  # idempotent


def test_update_all_sources_raises_what_upstream_documents(
    make_classifier: Callable[..., Any], fixture_server: Any
) -> None:
    """Upstream: "Raises: requests.RequestException: If any update fails"."""
    requests = pytest.importorskip("requests")
    c = make_classifier()
    assert c.update_all_sources()["failed"] == 0  # all good: no exception (upstream returns None; a dict is falsy-safe)
    fixture_server.override("/tor/torbulkexitlist", status=500)
    with pytest.raises(requests.RequestException) as ei:
        c.update_all_sources(force=True)
    err = ei.value
    assert isinstance(err, OSError) and isinstance(err, ipclassifier.SourceUpdateError)
    assert [s["source"] for s in err.failed] == ["tor"]  # type: ignore[attr-defined]
    assert err.report["failed"] == 1 and "tor" in str(err)  # type: ignore[attr-defined]
    assert c.classify("185.220.101.1").ip_type is IPType.TOR  # the previous data stays
    report = c.refresh("all", force=True)  # the report-returning call never raises for a source
    assert report["failed"] == 1


def test_without_requests_the_error_is_an_oserror(tmp_path: Path) -> None:
    code = r"""
import sys
sys.modules["requests"] = None  # not importable
import ipclassifier
from ipclassifier._errors import source_update_error
err = source_update_error({"failed": 1, "sources": [{"source": "tor", "status": "failed", "error": "HTTP 500"}]})
assert isinstance(err, OSError) and isinstance(err, ipclassifier.SourceUpdateError), type(err).__mro__
assert [b.__name__ for b in type(err).__mro__][:2] == ["SourceUpdateError", "OSError"], type(err).__mro__
assert "requests" not in sys.modules or sys.modules["requests"] is None
print("ok")
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "ok", p.stderr


def test_importing_the_package_does_not_import_requests() -> None:
    code = "import sys, ipclassifier; print('requests' in sys.modules)"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "False", p.stderr
