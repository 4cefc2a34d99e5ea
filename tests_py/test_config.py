"""create_ip_classifier / build_config: the JSON handed to Go."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

from ipclassifier import ClassifierError, IPType, build_config, classification_disabled, create_ip_classifier


def test_default_cache_uses_the_embedded_tiers() -> None:
    cfg = build_config()
    assert cfg["cache"] == {"default_tiers": True}
    assert cfg["auto_refresh"] is False  # conftest: IPCLASSIFIER_AUTO_REFRESH=0
    assert build_config(auto_refresh=True)["auto_refresh"] is True


def test_auto_refresh_defaults_on_unless_the_environment_says_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IPCLASSIFIER_AUTO_REFRESH")
    assert build_config()["auto_refresh"] is True
    for off in ("0", "false", "No", "off"):
        monkeypatch.setenv("IPCLASSIFIER_AUTO_REFRESH", off)
        assert build_config()["auto_refresh"] is False
    assert build_config(auto_refresh=True)["auto_refresh"] is True  # an explicit value wins


def test_cache_dir_and_db_url_string() -> None:
    cfg = build_config(cache_dir="/var/cache/ipc", db_engine="sqlite:////tmp/x.db", data_dir=Path("/d"))
    assert cfg["cache"] == {"dir": "/var/cache/ipc", "database_url": "sqlite:///tmp/x.db"}
    assert cfg["data_dir"] == "/d"


def test_sqlalchemy_url_keeps_password_and_drops_driver() -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    url = sqlalchemy.engine.make_url("postgresql+psycopg2://u:secret@db:5432/cowrie")
    cfg = build_config(db_engine=url)
    assert cfg["cache"]["database_url"] == "postgresql://u:secret@db:5432/cowrie"
    assert "default_tiers" not in cfg["cache"]


def test_real_sqlalchemy_engine(tmp_path: Path) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/cache.db")
    cfg = build_config(db_engine=engine)
    assert cfg["cache"]["database_url"] == f"sqlite://{tmp_path}/cache.db"


def _python_sqlite_source_id() -> str:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    try:
        return str(conn.execute("select sqlite_source_id()").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize(
    "engine_sqlite, shared",
    [
        ({"linked": "system", "source_id": "PYTHON"}, True),
        ({"linked": "embedded", "source_id": "PYTHON"}, False),
        ({"linked": "system", "source_id": "2020-01-01 00:00:00 another build"}, False),
        ({}, False),
    ],
    ids=["system library, same build", "own copy, same build", "system library, another build", "no report"],
)
def test_shares_sqlite_needs_the_system_library_of_the_same_build(engine_sqlite: Dict[str, str], shared: bool) -> None:
    from ipclassifier.classifier import _shares_sqlite

    engine_sqlite = {k: (_python_sqlite_source_id() if v == "PYTHON" else v) for k, v in engine_sqlite.items()}
    assert _shares_sqlite(engine_sqlite) is shared


def test_sqlalchemy_is_not_imported_by_the_package() -> None:
    import subprocess
    import sys

    code = "import sys, ipclassifier; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_redis_and_disabled_cache() -> None:
    assert build_config(enable_redis=True)["cache"]["redis_url"] == "redis://localhost:6379/0"
    assert build_config(redis_url="redis://r:6380/2")["cache"]["redis_url"] == "redis://r:6380/2"
    assert build_config(enable_cache=False, cache_dir="/x", enable_redis=True)["cache"] == {}


def test_urls_and_extra_keys_pass_through() -> None:
    cfg = build_config(tor_url="file:///t", cloud_providers=["aws"], attempts=2, cache={"dir": "/c"})
    assert cfg["tor_url"] == "file:///t"
    assert cfg["cloud_providers"] == ["aws"] and cfg["attempts"] == 2
    assert cfg["cache"]["dir"] == "/c"
    assert "cloud_base_url" not in cfg  # unset: Go applies env overrides and defaults
    json.dumps(cfg)


def test_unknown_config_key_is_rejected_by_go(tmp_path: Path) -> None:
    with pytest.raises(ClassifierError, match="tor_ulr"):
        create_ip_classifier(data_dir=str(tmp_path), enable_cache=False, tor_ulr="x")


def test_file_urls_work(tmp_path: Path) -> None:
    from conftest import FIXTURES

    c = create_ip_classifier(
        data_dir=str(tmp_path / "d"),
        enable_cache=False,
        tor_url=(FIXTURES / "tor" / "torbulkexitlist").as_uri(),
        cloud_base_url=(FIXTURES / "cloud").as_uri(),
        datacenter_url=(FIXTURES / "datacenter" / "datacenters.csv").as_uri(),
        hosting_base_url=(FIXTURES / "hosting").as_uri(),
        onionoo_url=(FIXTURES / "tor" / "onionoo.json").as_uri(),
        hosting_asn_url=(FIXTURES / "hosting" / "ASN.txt").as_uri(),
        asn_v4_url=(FIXTURES / "asn" / "ip2asn-v4.tsv").as_uri(),  # plain TSV is accepted too
        asn_v6_url=(FIXTURES / "asn" / "ip2asn-v6.tsv").as_uri(),
        ipranges_base_url=(FIXTURES / "ipranges").as_uri(),
        scanner_url=(FIXTURES / "maltrail" / "mass_scanner.txt").as_uri(),
        vpn_base_url=(FIXTURES / "vpn").as_uri(),
        peeringdb_url=(FIXTURES / "peeringdb" / "net.json").as_uri(),
        cloud_providers=["aws"],
    )
    with c:
        assert c.update_all_sources()["failed"] == 0
        assert c.classify("185.220.101.34").ip_type is IPType.TOR


def test_default_tiers_open(make_classifier: Any) -> None:
    c = make_classifier(enable_cache=True)
    assert c.config["cache"] == {"default_tiers": True}
    c.update_all_sources()
    assert c.classify("3.5.140.1").provider == "aws"
    assert c.classify("3.5.140.1").provider == "aws"


@pytest.mark.parametrize(
    "value,expected", [("true", True), ("1", True), ("TRUE", True), ("false", False), ("", False), ("0", False)]
)
def test_classification_disabled(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("DISABLE_IP_CLASSIFICATION", value)
    assert classification_disabled() is expected


def test_disabled_env_does_not_stop_the_factory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DISABLE_IP_CLASSIFICATION", "true")
    with create_ip_classifier(data_dir=str(tmp_path), enable_cache=False) as c:
        assert c.classify("198.51.100.1").ip_type is IPType.UNKNOWN


def test_cache_cleanup_reports_counts(make_classifier: Any) -> None:
    c = make_classifier(enable_cache=True)
    c.update_all_sources()
    c.classify("3.5.140.1")
    report = c.cache_cleanup()
    assert {"l2_rows", "l3_files"} <= set(report)
    assert report["l2_rows"] == 0 and report["l3_files"] == 0  # nothing has expired yet
