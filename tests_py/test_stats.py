"""get_stats: the Go counters (and the upstream flat keys) move with use."""

from __future__ import annotations

from typing import Any

import pytest

from ipclassifier import __version__


def test_stats_count_lookups_by_type_and_invalid_inputs(loaded: Any) -> None:
    before = loaded.get_stats()
    loaded.classify("185.220.101.1")
    loaded.classify("3.5.140.1")
    loaded.classify("3.5.140.2")
    loaded.bulk_classify(["198.51.100.1", "13.64.1.1"])
    with pytest.raises(ValueError):
        loaded.classify("1.2.3")
    after = loaded.get_stats()
    assert after["lookups"] - before["lookups"] == 5
    assert after["by_type"]["cloud"] - before["by_type"]["cloud"] == 2
    assert after["by_type"]["tor"] - before["by_type"]["tor"] == 1
    assert after["by_type"]["datacenter"] - before["by_type"]["datacenter"] == 1
    assert after["invalid_inputs"] - before["invalid_inputs"] == 1
    assert after["by_source"]["cloud_ranges_aws"] - before["by_source"]["cloud_ranges_aws"] == 2
    # upstream-compatible flat keys
    assert after["classifications"] == after["lookups"]
    assert after["cloud_matches"] == after["by_type"]["cloud"]
    assert "cache_hits" in after and "cache_misses" in after


def test_stats_describe_sources(loaded: Any) -> None:
    s = loaded.get_stats()
    assert s["version"] == __version__
    names = [src["name"] for src in s["sources"]]
    assert "tor" in names and "cloud/aws" in names
    tor = next(src for src in s["sources"] if src["name"] == "tor")
    assert tor["prefixes"] == 4 and tor["refresh_updated"] == 1 and tor["stale"] is False
    assert s["prefixes"] >= 4


def test_stats_count_refresh_failures(loaded: Any, fixture_server: Any) -> None:
    fixture_server.override("/tor/torbulkexitlist", status=500)
    loaded.refresh("tor", force=True)
    tor = next(src for src in loaded.get_stats()["sources"] if src["name"] == "tor")
    assert tor["refresh_failed"] == 1
    assert tor["stale"] is True
    assert tor["last_error"]


def test_cache_stats_is_a_dict(loaded: Any) -> None:
    assert isinstance(loaded.cache_stats(), dict)
