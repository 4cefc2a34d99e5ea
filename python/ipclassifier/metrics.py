"""Prometheus metrics of :meth:`IPClassifier.get_stats`, with
prometheus_client (``pip install 'ipclassifier[metrics]'``).

* :class:`StatsCollector` — a custom collector: register it on a registry
  (``REGISTRY.register(StatsCollector(classifier.get_stats))``) and every
  scrape reads the engine's counters at that moment.
* :func:`prometheus_text` — the text exposition of one stats dict (what
  ``ipclassifier stats --format prom`` prints).

The stats dict is the Go engine's Stats JSON (``lookups``,
``invalid_inputs``, ``by_type``, ``by_source``, ``prefixes``,
``sources[]``, ``cache{…, l1, l2, l3}``): counters for lookups, answers per
type and per source, cache hits/misses per tier and source refreshes;
gauges for snapshot ages, staleness, prefixes and tier health; summaries of
tier latency. Missing keys are skipped, so an older or newer engine still
renders; a family with no sample is left out.

Counters count since the classifier was opened: scrape a long-lived process
(register the collector in the host application) for rates; a one-shot
``ipclassifier stats --format prom`` into node_exporter's textfile
collector gives the gauges (snapshot ages, staleness, last refresh error)
that matter for alerting.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

from ._extras import MissingExtra
from ._wire import go_time

try:
    from prometheus_client.core import Metric
    from prometheus_client.exposition import generate_latest
    from prometheus_client.registry import Collector, CollectorRegistry
except ImportError as e:
    raise MissingExtra("the Prometheus exposition", "metrics", "prometheus_client") from e

__all__ = ["CONTENT_TYPE", "StatsCollector", "prometheus_text"]

#: The Content-Type of :func:`prometheus_text`, for an HTTP handler.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_PREFIX = "ipclassifier_"

Labels = Tuple[Tuple[str, str], ...]


class StatsCollector(Collector):
    """A prometheus_client collector of ``stats()`` (e.g. a classifier's
    ``get_stats``), read at every collection."""

    def __init__(self, stats: Callable[[], Mapping[str, Any]]) -> None:
        self.stats = stats

    def collect(self) -> Iterable[Metric]:
        return _families(self.stats())

    def describe(self) -> Iterable[Metric]:
        return ()  # the families depend on the stats: nothing to declare up front


def prometheus_text(stats: Mapping[str, Any]) -> str:
    """The Prometheus text exposition of a ``get_stats()`` dict.

    Metrics (all prefixed ``ipclassifier_``):

    * ``info{version}`` gauge 1
    * ``lookups_total``, ``invalid_inputs_total`` counters
    * ``answers_total{type}``, ``answers_by_source_total{source}`` counters
    * ``prefixes`` gauge (all sources)
    * per source (labels ``source``, ``group``): ``source_prefixes``,
      ``source_snapshot_age_seconds`` (absent when there is no snapshot),
      ``source_snapshot_present``, ``source_stale``,
      ``source_snapshot_timestamp_seconds``,
      ``source_last_attempt_timestamp_seconds``,
      ``source_last_refresh_failed`` (1 when the latest attempt failed)
      gauges, ``source_refreshes_total{result=updated|not_modified|failed}``
      and ``source_snapshot_damaged_total`` counters
    * cache: ``cache_hits_total``, ``cache_misses_total``,
      ``cache_errors_total`` counters; per tier (label ``tier`` l1/l2/l3,
      ``backend``): ``cache_tier_enabled``, ``cache_tier_up``,
      ``cache_tier_queued`` gauges, ``cache_tier_hits_total``,
      ``…_misses_total``, ``…_errors_total``, ``…_corrupt_total``,
      ``…_skipped_total``, ``…_writes_total``, ``…_dropped_total`` counters,
      and ``cache_tier_latency_seconds{op=get|set}`` summaries (quantiles
      0.5 and 0.99, ``_sum``, ``_count``); ``cache_outdated_total``
      (cached answers computed from other data, not served)
    * background refresh: ``auto_refresh_enabled`` gauge,
      ``auto_refresh_runs_total``, ``auto_refresh_failed_total`` counters,
      ``auto_refresh_next_timestamp_seconds`` gauge
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatsCollector(lambda: stats))
    return generate_latest(registry).decode("utf-8")


def _number(value: Any) -> Optional[float]:
    """A sample value, or None if it is not a number."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _timestamp(value: Any) -> Optional[float]:
    """Unix seconds from an RFC 3339 text (Go's time.Time JSON); None for the
    zero time or anything unparsable."""
    if not isinstance(value, str) or value.startswith("0001-01-01"):
        return None
    try:
        return go_time(value).timestamp()
    except ValueError:
        return None


class _Families:
    """Metric families in first-use order; a sample is added to its family
    (created on first use) only when its value is a number."""

    def __init__(self) -> None:
        self.families: Dict[str, Metric] = {}

    def add(self, name: str, kind: str, help_text: str, value: Any, labels: Labels = (), suffix: str = "") -> None:
        v = _number(value)
        if v is None:
            return
        full = _PREFIX + name
        # prometheus_client names a counter family without its _total (it
        # adds the suffix back when it writes the text format).
        family = full[: -len("_total")] if kind == "counter" and full.endswith("_total") else full
        metric = self.families.get(family)
        if metric is None:
            metric = self.families[family] = Metric(family, help_text, kind)
        metric.add_sample(full + suffix, dict(labels), v)

    def __iter__(self) -> Iterator[Metric]:
        return iter(list(self.families.values()))


def _items(d: Any) -> Iterable[Tuple[str, Any]]:
    if isinstance(d, Mapping):
        return sorted((str(k), v) for k, v in d.items())
    return ()


def _families(stats: Mapping[str, Any]) -> List[Metric]:
    w = _Families()
    version = stats.get("version")
    if isinstance(version, str):
        w.add("info", "gauge", "The ipclassifier engine (value 1); label version.", 1, (("version", version),))
    w.add("lookups_total", "counter", "Classification answers given since the classifier was opened.",
          stats.get("lookups"))  # fmt: skip
    w.add("invalid_inputs_total", "counter", "Inputs that were not IP addresses.", stats.get("invalid_inputs"))
    for t, n in _items(stats.get("by_type")):
        w.add("answers_total", "counter", "Answers per infrastructure type.", n, (("type", t),))
    for src, n in _items(stats.get("by_source")):
        w.add("answers_by_source_total", "counter", "Answers per deciding source.", n, (("source", src),))
    w.add("prefixes", "gauge", "Prefixes loaded from every source.", stats.get("prefixes"))

    for s in stats.get("sources") or ():
        if isinstance(s, Mapping):
            _source(w, s)

    cache = stats.get("cache")
    if isinstance(cache, Mapping):
        w.add("cache_hits_total", "counter", "Lookups answered by a cache tier.", cache.get("cache_hits"))
        w.add("cache_misses_total", "counter", "Lookups no cache tier answered.", cache.get("cache_misses"))
        w.add("cache_errors_total", "counter", "Cache errors (invalid keys and tier errors).", cache.get("errors"))
        for tier in ("l1", "l2", "l3"):
            ts = cache.get(tier)
            if isinstance(ts, Mapping):
                _tier(w, tier, ts)
    w.add(
        "cache_outdated_total", "counter", "Cached answers not served: computed from other data.",
        stats.get("cache_outdated"),
    )  # fmt: skip
    auto = stats.get("auto_refresh")
    if isinstance(auto, Mapping):
        w.add("auto_refresh_enabled", "gauge", "1 when sources are refreshed in the background.", auto.get("enabled"))
        w.add("auto_refresh_runs_total", "counter", "Background refreshes run.", auto.get("runs"))
        w.add("auto_refresh_failed_total", "counter", "Sources failed in background refreshes.", auto.get("failed"))
        w.add(
            "auto_refresh_next_timestamp_seconds", "gauge", "When the next background refresh is planned.",
            _timestamp(auto.get("next_run_at")),
        )  # fmt: skip
    return list(w)


def _source(w: _Families, s: Mapping[str, Any]) -> None:
    lab: Labels = (("source", str(s.get("name", ""))), ("group", str(s.get("group", ""))))
    w.add("source_prefixes", "gauge", "Prefixes loaded from the source.", s.get("prefixes"), lab)
    age = s.get("age_seconds")
    if isinstance(age, (int, float)) and not isinstance(age, bool):
        present = age >= 0  # the engine says -1 when there is no snapshot
        w.add("source_snapshot_present", "gauge", "1 when the source has a snapshot on disk.", int(present), lab)
        if present:
            w.add("source_snapshot_age_seconds", "gauge", "Age of the source's snapshot.", float(age), lab)
    w.add("source_stale", "gauge", "1 when the latest download failed or the snapshot is too old.",
          bool(s.get("stale")), lab)  # fmt: skip
    ts = _timestamp(s.get("snapshot_at"))
    if ts is not None:
        w.add("source_snapshot_timestamp_seconds", "gauge", "When the snapshot was downloaded (Unix time).", ts, lab)
    ts = _timestamp(s.get("last_attempt_at"))
    if ts is not None:
        w.add("source_last_attempt_timestamp_seconds", "gauge", "When a download was last attempted (Unix time).",
              ts, lab)  # fmt: skip
    w.add("source_last_refresh_failed", "gauge", "1 when the latest refresh attempt of the source failed.",
          1 if s.get("last_error") else 0, lab)  # fmt: skip
    for key, result in (("refresh_updated", "updated"), ("refresh_not_modified", "not_modified"),
                        ("refresh_failed", "failed")):  # fmt: skip
        w.add("source_refreshes_total", "counter", "Refresh attempts per outcome since the classifier was opened.",
              s.get(key), (*lab, ("result", result)))  # fmt: skip
    w.add("source_snapshot_damaged_total", "counter",
          "Snapshots of the source found damaged on disk at open (never served).",
          s.get("snapshot_damaged", 0), lab)  # fmt: skip


def _tier(w: _Families, tier: str, ts: Mapping[str, Any]) -> None:
    lab: Labels = (("tier", tier), ("backend", str(ts.get("backend") or "")))
    w.add("cache_tier_enabled", "gauge", "1 when the cache tier is configured.", bool(ts.get("enabled")), lab)
    w.add("cache_tier_up", "gauge", "1 when the tier is in use (0 while backing off after a failure).",
          bool(ts.get("up")), lab)  # fmt: skip
    w.add("cache_tier_queued", "gauge", "Values waiting in the tier's write-behind queue.", ts.get("queued"), lab)
    for key, help_text in (
        ("hits", "Lookups the tier answered."),
        ("misses", "Lookups that reached the tier and missed."),
        ("errors", "Failed tier operations."),
        ("corrupt", "Stored values the validity check refused."),
        ("skipped", "Operations skipped while the tier was backing off."),
        ("writes", "Values written to the tier."),
        ("dropped", "Values queued for the tier but never written (full queue, failed batch, tier down at close)."),
    ):
        w.add(f"cache_tier_{key}_total", "counter", help_text, ts.get(key), lab)
    for op in ("get", "set"):
        lat = ts.get(f"{op}_latency")
        if not isinstance(lat, Mapping) or not isinstance(lat.get("count"), int):
            continue
        llab = (*lab, ("op", op))
        name = "cache_tier_latency_seconds"
        help_text = "Latency of tier operations (a batch is one operation)."
        for q, key in (("0.5", "p50_us"), ("0.99", "p99_us")):
            v = lat.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                w.add(name, "summary", help_text, v / 1e6, (*llab, ("quantile", q)))
        s_us = lat.get("sum_us")
        if isinstance(s_us, (int, float)) and not isinstance(s_us, bool):
            w.add(name, "summary", help_text, s_us / 1e6, llab, suffix="_sum")
        w.add(name, "summary", help_text, lat.get("count"), llab, suffix="_count")
