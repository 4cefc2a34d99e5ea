"""Environment variables set from Python reach the engine.

The Go runtime of a c-shared library keeps the copy of the environment it
took when the library was loaded; a Python host sets ``os.environ`` later.
The C ABI reads the variables through the C library (``getenv``), so every
documented variable set before a classifier is created counts.
"""

from pathlib import Path
from typing import Any

import pytest

from ipclassifier import IPType, _native, create_ip_classifier

# The environment variable of each source URL the fixture server serves.
URL_VARIABLES = {
    "tor_url": "TOR_BULK_LIST_URL",
    "onionoo_url": "ONIONOO_URL",
    "cloud_base_url": "CLOUD_RANGES_BASE_URL",
    "datacenter_url": "DATACENTER_RANGES_URL",
    "hosting_base_url": "HOSTING_RANGES_BASE_URL",
    "hosting_asn_url": "HOSTING_ASN_URL",
    "asn_v4_url": "ASN_V4_URL",
    "asn_v6_url": "ASN_V6_URL",
    "ipranges_base_url": "IPRANGES_BASE_URL",
    "scanner_url": "MASS_SCANNER_URL",
    "vpn_base_url": "VPN_RANGES_BASE_URL",
    "peeringdb_url": "PEERINGDB_URL",
}


def test_variables_set_in_os_environ_after_load_are_honoured(
    fixture_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _native.load()  # the library and its Go runtime exist before the variables do
    data_dir = tmp_path / "from-environ"
    monkeypatch.setenv("IPCLASSIFIER_DATA_DIR", str(data_dir))
    for key, url in fixture_server.source_urls().items():
        monkeypatch.setenv(URL_VARIABLES[key], url)
    monkeypatch.setenv("IPCLASSIFIER_DISABLED_SOURCES", "tor/onionoo")

    with create_ip_classifier(enable_cache=False, attempts=1, backoff=0.01, http_timeout=5) as clf:
        report = clf.refresh("tor", force=True)
        statuses = {s["source"]: s["status"] for s in report["sources"]}
        assert statuses == {"tor": "updated"}, report
        assert fixture_server.hits["/tor/torbulkexitlist"] == 1
        assert fixture_server.hits["/tor/onionoo.json"] == 0, "IPCLASSIFIER_DISABLED_SOURCES was ignored"
        assert (data_dir / "snapshots" / "tor.data").is_file(), sorted(p.name for p in data_dir.rglob("*"))
        r = clf.classify("185.220.101.1")
        assert (r.ip_type, r.source) == (IPType.TOR, "tor_bulk_list")
        urls = {s["name"]: s["url"] for s in clf.get_stats()["sources"]}
        assert urls["tor"] == fixture_server.source_urls()["tor_url"]
        assert urls["asn/ip2asn-v4"] == fixture_server.source_urls()["asn_v4_url"]


def test_a_variable_removed_from_os_environ_is_gone_for_the_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _native.load()
    monkeypatch.setenv("IPCLASSIFIER_DATA_DIR", str(tmp_path / "first"))
    with create_ip_classifier(enable_cache=False):
        assert (tmp_path / "first" / "snapshots").is_dir()
    monkeypatch.delenv("IPCLASSIFIER_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with create_ip_classifier(enable_cache=False):
        assert (tmp_path / "xdg" / "ipclassifier" / "snapshots").is_dir()
