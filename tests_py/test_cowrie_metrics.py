"""prometheus_text(get_stats()): a valid text exposition with the counters
and gauges operations alert on."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

import pytest

from ipclassifier.metrics import prometheus_text

_SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?P<labels>([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*)\})? '
    r"(?P<value>-?[0-9.e+-]+|NaN|[+-]Inf)$"
)


def parse(text: str) -> Tuple[Dict[str, str], List[Tuple[str, str, float]]]:
    """(types by family, samples) — and checks every line's syntax."""
    types: Dict[str, str] = {}
    samples: List[Tuple[str, str, float]] = []
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "summary"), line
            assert name not in types, f"family {name} declared twice"
            types[name] = kind
            continue
        m = _SAMPLE.match(line)
        assert m, f"bad sample line: {line!r}"
        samples.append((m["name"], m["labels"] or "", float(m["value"])))
    for name, _, _ in samples:
        family = re.sub(r"_(sum|count)$", "", name)
        assert name in types or family in types, f"{name} has no TYPE"
    return types, samples


def value(samples: List[Tuple[str, str, float]], name: str, labels: str = "") -> float:
    hits = [v for n, lab, v in samples if n == name and all(part in lab for part in labels.split(",") if part)]
    assert hits, f"{name}{{{labels}}} missing"
    return hits[0]


def test_exposition_of_a_live_classifier(loaded: Any) -> None:
    loaded.bulk_classify(["185.220.101.1", "3.5.140.1", "198.51.100.1", "not-an-ip"], errors="unknown")
    types, samples = parse(prometheus_text(loaded.get_stats()))
    assert types["ipclassifier_lookups_total"] == "counter"
    assert value(samples, "ipclassifier_lookups_total") == 3
    assert value(samples, "ipclassifier_invalid_inputs_total") == 1
    assert value(samples, "ipclassifier_answers_total", 'type="tor"') == 1
    assert value(samples, "ipclassifier_answers_total", 'type="cloud"') == 1
    assert value(samples, "ipclassifier_answers_by_source_total", 'source="tor_bulk_list"') == 1
    assert types["ipclassifier_source_snapshot_age_seconds"] == "gauge"
    assert 0 <= value(samples, "ipclassifier_source_snapshot_age_seconds", 'source="tor"') < 600
    assert value(samples, "ipclassifier_source_stale", 'source="tor"') == 0
    assert value(samples, "ipclassifier_source_refreshes_total", 'source="tor",result="updated"') == 1
    assert value(samples, "ipclassifier_source_refreshes_total", 'source="tor",result="failed"') == 0
    assert value(samples, "ipclassifier_source_last_refresh_failed", 'source="tor"') == 0
    assert value(samples, "ipclassifier_cache_tier_enabled", 'tier="l1"') == 0
    assert value(samples, "ipclassifier_info", 'version="') == 1
    assert value(samples, "ipclassifier_cache_outdated_total") == 0
    assert value(samples, "ipclassifier_auto_refresh_enabled") == 0  # the suite turns it off
    assert value(samples, "ipclassifier_auto_refresh_runs_total") == 0


def test_refresh_failure_and_missing_snapshot_are_visible(make_classifier: Any, fixture_server: Any) -> None:
    c = make_classifier()
    fixture_server.override("/tor/torbulkexitlist", status=404, body=b"gone")
    c.refresh("tor", force=True)
    _, samples = parse(prometheus_text(c.get_stats()))
    assert value(samples, "ipclassifier_source_refreshes_total", 'source="tor",result="failed"') == 1
    assert value(samples, "ipclassifier_source_last_refresh_failed", 'source="tor"') == 1
    assert value(samples, "ipclassifier_source_snapshot_present", 'source="tor"') == 0
    assert not [s for s in samples if s[0] == "ipclassifier_source_snapshot_age_seconds" and 'source="tor"' in s[1]]


def test_cache_tiers_and_latency_summaries() -> None:
    stats = {
        "version": "9.9.9",
        "lookups": 10,
        "cache": {
            "cache_hits": 7, "cache_misses": 3, "errors": 0,
            "l1": {"enabled": True, "backend": "redis", "up": False, "hits": 5, "misses": 5, "corrupt": 0, "errors": 2,
                   "skipped": 4, "writes": 3,
                   "get_latency": {"count": 4, "sum_us": 800.0, "p50_us": 150.0, "p99_us": 400.0},
                   "set_latency": {"count": 0, "sum_us": 0, "p50_us": 0, "p99_us": 0}},
            "l3": {"enabled": True, "backend": "disk", "up": True, "hits": 2},
        },
    }  # fmt: skip
    types, samples = parse(prometheus_text(stats))
    assert value(samples, "ipclassifier_cache_hits_total") == 7
    assert value(samples, "ipclassifier_cache_tier_up", 'tier="l1",backend="redis"') == 0
    assert value(samples, "ipclassifier_cache_tier_errors_total", 'tier="l1"') == 2
    assert value(samples, "ipclassifier_cache_tier_hits_total", 'tier="l3"') == 2
    assert types["ipclassifier_cache_tier_latency_seconds"] == "summary"
    assert value(samples, "ipclassifier_cache_tier_latency_seconds", 'tier="l1",op="get",quantile="0.99"') == 0.0004
    assert value(samples, "ipclassifier_cache_tier_latency_seconds_sum", 'tier="l1",op="get"') == 0.0008
    assert value(samples, "ipclassifier_cache_tier_latency_seconds_count", 'tier="l1",op="get"') == 4


def test_label_values_are_escaped_and_junk_is_skipped() -> None:
    stats = {
        "by_source": {'we"ird\\name\n': 1},
        "sources": [{"name": "x", "group": "g", "age_seconds": -1, "stale": True, "last_error": "boom",
                     "snapshot_at": "0001-01-01T00:00:00Z", "last_attempt_at": "2026-01-02T03:04:05.123456789Z",
                     "prefixes": "not a number"}, "junk"],
        "cache": "junk",
    }  # fmt: skip
    text = prometheus_text(stats)
    _, samples = parse(text)
    assert 'source="we\\"ird\\\\name\\n"' in text
    assert value(samples, "ipclassifier_source_stale", 'source="x"') == 1
    assert value(samples, "ipclassifier_source_last_refresh_failed", 'source="x"') == 1
    assert value(samples, "ipclassifier_source_last_attempt_timestamp_seconds", 'source="x"') == 1767323045.123456
    assert "ipclassifier_source_prefixes" not in text and "snapshot_timestamp" not in text
    assert prometheus_text({}) == ""


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("2026-01-02T03:04:05Z", 1767323045.0),
        ("2026-01-02T03:04:05.5Z", 1767323045.5),
        ("2026-01-02T04:04:05.25+01:00", 1767323045.25),  # the offset counts, whatever the host's zone
        ("2026-01-01T22:04:05.000001-05:00", 1767323045.000001),
        ("0001-01-01T00:00:00Z", None),  # Go's zero time
        ("2026-01-02 03:04:05", None),  # not as Go writes it
    ],
)
def test_a_source_time_is_read_as_go_writes_it(text: str, seconds: Optional[float]) -> None:
    stats = {"sources": [{"name": "x", "group": "g", "last_attempt_at": text}]}
    samples = parse(prometheus_text(stats))[1]
    name, labels = "ipclassifier_source_last_attempt_timestamp_seconds", 'source="x"'
    if seconds is None:
        assert not [v for n, lab, v in samples if n == name and labels in lab]
    else:
        assert value(samples, name, labels) == pytest.approx(seconds, abs=1e-6)


def test_collector_on_a_registry_reads_the_live_counters(loaded: Any) -> None:
    """What a host process does: register the collector once, and every
    scrape of its registry reads the classifier at that moment."""
    from prometheus_client import CollectorRegistry, generate_latest

    from ipclassifier.metrics import StatsCollector

    registry = CollectorRegistry()
    registry.register(StatsCollector(loaded.get_stats))
    loaded.classify("185.220.101.1")
    _, first = parse(generate_latest(registry).decode())
    loaded.bulk_classify(["3.5.140.1", "198.51.100.1"])
    _, second = parse(generate_latest(registry).decode())
    assert value(second, "ipclassifier_lookups_total") == value(first, "ipclassifier_lookups_total") + 2
    assert value(second, "ipclassifier_answers_total", 'type="cloud"') == 1
    assert registry.get_sample_value("ipclassifier_answers_total", {"type": "tor"}) == 1
