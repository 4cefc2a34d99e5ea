"""The answer types, drop-in compatible with
``cowrieprocessor.enrichment.ip_classification.models``.

``IPType`` and the first five fields of ``IPClassification`` (``ip_type``,
``provider``, ``confidence``, ``source``, ``classified_at``) keep the upstream
names, order and validation; the fields after them are extras carrying the
evidence behind an answer, all with defaults.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Dict, NamedTuple, Optional, Tuple, TypedDict

__all__ = ["IPType", "IPClassification", "Evidence", "CacheClearReport"]


class IPType(str, Enum):
    """Infrastructure label of an address, in priority order: a Tor exit wins
    over a cloud range, which wins over a datacenter range, and so on."""

    TOR = "tor"
    CLOUD = "cloud"
    DATACENTER = "datacenter"
    RESIDENTIAL = "residential"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return str(self.value)


class Evidence(NamedTuple):
    """One source that matched an address (``IPClassification.evidence``).

    Attributes:
        source: its ``source`` label (``tor_bulk_list``, ``cloud_ranges_aws``,
            ``datacenter_community_lists``, ``hosting_asn_list``,
            ``asn_name_heuristic``, ``asn_profile``, or ``mass_scanner_list``
            for a list that only tags).
        snapshot: the source snapshot it came from (``tor``,
            ``scanners/maltrail``, …), None for the caller's AS name.
        ip_type: the label it gives, None for a list that only tags.
        provider: its provider or the AS name, None when it names none.
        matched_prefix: the prefix, ``AS<n>`` or AS-name patterns that matched.
        tag: what it adds to ``IPClassification.tags``, None for nothing.
    """

    source: str
    snapshot: Optional[str]
    ip_type: Optional[IPType]
    provider: Optional[str]
    matched_prefix: Optional[str]
    tag: Optional[str]

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict (the enum as its value)."""
        d = self._asdict()
        d["ip_type"] = self.ip_type.value if self.ip_type else None
        return d


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# slots=True needs Python 3.10; on 3.9 the class is frozen without slots.
_SLOTS: Dict[str, Any] = {"slots": True} if sys.version_info >= (3, 10) else {}


@dataclass(frozen=True, **_SLOTS)
class IPClassification:
    """One immutable classification answer.

    Attributes:
        ip_type: the label.
        provider: cloud provider (``aws``, ``azure``, ``gcp``, …) or None.
        confidence: 0.0 to 1.0 (tor 0.95, cloud 0.99, datacenter 0.75 from
            the prefix lists, 0.6 from a hosting-ASN list, 0.5 from the AS
            name; residential 0.7 from a network's own access declaration,
            0.5 to 0.8 from the AS name; 0.3 from the AS profile, which is
            off unless turned on; unknown 0.0).
        source: where the answer came from: ``tor_bulk_list``,
            ``cloud_ranges_{provider}``, ``datacenter_community_lists``,
            ``hosting_asn_list``, ``access_asn_list`` (PeeringDB
            Cable/DSL/ISP), ``asn_name_heuristic``, ``asn_profile``,
            ``none`` (or ``invalid_ip`` for an input
            kept by ``bulk_classify(errors="unknown")``).
        classified_at: when the answer was computed (tz-aware UTC); defaults
            to now.
        ip: the address in canonical form (IPv4-mapped IPv6 becomes IPv4).
        region, service: from the cloud list, when it has them.
        matched_prefix: the prefix (or address) that decided the answer, or
            the AS-name patterns for a residential answer.
        snapshot: the source snapshot (``tor``, ``cloud/aws``, …).
        snapshot_at: when that snapshot was downloaded (UTC).
        data_age_seconds: age of that snapshot when the answer was made.
        stale: True when the newest download of that source failed or the
            snapshot is older than its source allows.
        asn, as_name: the network of the address: from the caller, or from
            the engine's IP-to-ASN table when the caller gave neither.
        cache_tier: ``l1``/``l2``/``l3`` when the answer came from a cache
            tier, None when computed.
        country: ISO country code of the network (from the IP-to-ASN table).
        asn_source: where asn/as_name/country came from: ``caller``,
            ``ip2asn`` or None.
        tags: what the answer is beyond its type: ``tor_exit``, ``vpn``,
            ``privacy_relay``, ``scanner:<name>``, ``crawler:<name>``,
            ``monitor:<name>`` (every tag of every source that matched).
        evidence: every source that matched (:class:`Evidence`), whatever
            decided: the deciding list first when a list decided, then the
            other lists holding the address, then the ASN-level verdicts. A
            Tor exit on a hosting network lists both.
        as_of: for an answer as of a past time (``classify(..., at=…)``),
            that time (UTC); None for an answer as of now. snapshot_at is
            then the date of the snapshot in force at as_of and
            data_age_seconds its age at as_of.
        history_short: True when the history held no snapshot that old of
            a source the answer depends on: the oldest one answered, and
            data_age_seconds is negative (the snapshot is younger than
            as_of).

    Raises:
        ValueError: if confidence is not between 0.0 and 1.0.
    """

    ip_type: IPType
    provider: Optional[str]
    confidence: float
    source: str
    classified_at: datetime = field(default_factory=_utcnow)
    ip: Optional[str] = None
    region: Optional[str] = None
    service: Optional[str] = None
    matched_prefix: Optional[str] = None
    snapshot: Optional[str] = None
    snapshot_at: Optional[datetime] = None
    data_age_seconds: Optional[float] = None
    stale: bool = False
    asn: Optional[int] = None
    as_name: Optional[str] = None
    cache_tier: Optional[str] = None
    country: Optional[str] = None
    asn_source: Optional[str] = None
    tags: Tuple[str, ...] = ()
    evidence: Tuple[Evidence, ...] = ()
    as_of: Optional[datetime] = None
    history_short: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be between 0.0 and 1.0, got {self.confidence}")
        if self.classified_at is None:  # upstream accepts an explicit None
            object.__setattr__(self, "classified_at", _utcnow())

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict: enum as its value, datetimes as ISO 8601."""
        return {
            "ip": self.ip,
            "ip_type": self.ip_type.value,
            "provider": self.provider,
            "confidence": self.confidence,
            "source": self.source,
            "classified_at": self.classified_at.isoformat() if self.classified_at else None,
            "region": self.region,
            "service": self.service,
            "matched_prefix": self.matched_prefix,
            "snapshot": self.snapshot,
            "snapshot_at": self.snapshot_at.isoformat() if self.snapshot_at else None,
            "data_age_seconds": self.data_age_seconds,
            "stale": self.stale,
            "asn": self.asn,
            "as_name": self.as_name,
            "cache_tier": self.cache_tier,
            "country": self.country,
            "asn_source": self.asn_source,
            "tags": list(self.tags),
            "evidence": [e.to_dict() for e in self.evidence],
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "history_short": self.history_short,
        }


class CacheClearReport(TypedDict):
    """What :meth:`IPClassifier.cache_clear` removed.

    Attributes:
        ip_type: the answer type cleared, None when every answer was.
        l1_keys: Redis keys deleted (``ip_classification:{ip}``).
        l2_rows: ``enrichment_cache`` rows of the ``ip_classification``
            service deleted (other services' rows are never touched).
        l3_files: cache files removed.
        l3_dirs: cache directories left empty and removed.
        l3_skipped: cache files or directories that could not be read or
            removed (not an error).
        error: None, or why a tier failed as a whole (the other tiers were
            still cleared).
    """

    ip_type: Optional[str]
    l1_keys: int
    l2_rows: int
    l3_files: int
    l3_dirs: int
    l3_skipped: int
    error: Optional[str]
