"""cowrieprocessor enrichment: Pass 4 of the CascadeEnricher and the bulk
loader's hook, with the rules they share (and the backfill reuses).

* :class:`IPClassificationPass` — Pass 4 of the CascadeEnricher. Given an
  ``ip_inventory`` row (ORM object or mapping) and the enrichment Passes 1–3
  produced, it classifies the address with the AS number and AS name taken
  from MaxMind first, then Team Cymru, then ``current_asn``, and stores the
  answer as ``enrichment["ip_classification"]``. Rows classified less than
  24 hours ago are skipped unless ``force_refresh``; rows never classified
  are classified.
* :func:`fill_snapshot_ip_types` — the bulk loader's hook: one
  ``bulk_classify`` for the distinct source IPs of a batch of session
  summaries, ``snapshot_ip_type`` set where it is empty, ``"unknown"`` when
  classification is not possible. It never raises for a classification
  failure and never drops a row.

``DISABLE_IP_CLASSIFICATION=true`` (see :func:`classification_disabled`)
turns Pass 4 into a no-op and makes the loader hook write ``"unknown"``.

Plain Python on the core package: no SQLAlchemy needed (the backfill,
:mod:`ipclassifier.cowrie.backfill`, is the part that does SQL).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    MutableMapping,
    Optional,
    Sequence,
    Tuple,
)

from .._wire import iso_time
from ..classifier import classification_disabled
from ..types import IPClassification, IPType

if TYPE_CHECKING:  # pragma: no cover
    from ..classifier import IPClassifier

__all__ = [
    "ENRICHMENT_KEY",
    "DEFAULT_MAX_AGE",
    "UNKNOWN",
    "CLASSIFIED",
    "FRESH",
    "DISABLED",
    "FAILED",
    "INVALID",
    "NO_IP",
    "AsnInputs",
    "asn_inputs",
    "classification_record",
    "is_fresh",
    "stored_ip_type",
    "PassResult",
    "IPClassificationPass",
    "SnapshotFill",
    "fill_snapshot_ip_types",
]

log = logging.getLogger("ipclassifier.cowrie")

#: The key of ``ip_inventory.enrichment`` that holds our answer.
ENRICHMENT_KEY = "ip_classification"
#: A stored answer younger than this is not recomputed (unless forced).
DEFAULT_MAX_AGE = timedelta(hours=24)

_UTC = timezone.utc
_CLOCK_SKEW = timedelta(minutes=5)  # a stored time this far in the future still counts as fresh
_TYPE_VALUES = frozenset(t.value for t in IPType)
UNKNOWN = IPType.UNKNOWN.value


# ---------------------------------------------------------------------------
# Small helpers shared by the three entry points


def _utcnow() -> datetime:
    return datetime.now(_UTC)


def _get(row: Any, name: str, default: Any = None) -> Any:
    """A field of a row: a mapping key or an attribute (ORM object)."""
    if isinstance(row, Mapping):
        return row.get(name, default)
    return getattr(row, name, default)


def _has(row: Any, name: str) -> bool:
    if isinstance(row, Mapping):
        return name in row
    return hasattr(row, name)


def _set(row: Any, name: str, value: Any) -> None:
    if isinstance(row, MutableMapping):
        row[name] = value
    elif isinstance(row, Mapping):
        raise TypeError(f"cannot set {name!r} on a read-only mapping ({type(row).__name__}); pass dicts or ORM objects")
    else:
        setattr(row, name, value)


def _as_dict(value: Any) -> Dict[str, Any]:
    """An enrichment value as a dict: None → {}, JSON text decoded, a dict
    copied (shallow). Anything else (a JSON scalar or list) → {}."""
    if value is None:
        return {}
    if isinstance(value, (str, bytes, bytearray)):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
        if isinstance(value, str):  # double-encoded JSON text
            try:
                value = json.loads(value)
            except ValueError:
                return {}
    if isinstance(value, Mapping):
        return dict(value)
    return {}


def _parse_asn(value: Any) -> Optional[int]:
    """An AS number from an int, "3320", "AS3320" or "AS3320 Name"; None if
    absent, zero or not a valid 32-bit ASN."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if not value.is_integer():
            return None
        n = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text[:2].upper() == "AS":
            text = text[2:]
        text = text.split(None, 1)[0] if text.strip() else ""
        if not text.isdigit():
            return None
        n = int(text)
    else:
        return None
    if 0 < n <= 0xFFFFFFFF:
        return n
    return None


def _name(value: Any) -> Optional[str]:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _parse_time(value: Any) -> Optional[datetime]:
    """An aware UTC datetime from a datetime or ISO 8601 text; None if not one."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value:
        try:
            return iso_time(value)
        except ValueError:
            return None
    else:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_UTC)
    return dt


# ---------------------------------------------------------------------------
# Pass-4 rules


@dataclass(frozen=True)
class AsnInputs:
    """What the residential heuristic gets for one row, and where it came
    from (``"maxmind"``, ``"cymru"``, ``"current_asn"`` or None)."""

    asn: Optional[int]
    as_name: Optional[str]
    source: Optional[str]


def asn_inputs(enrichment: Optional[Mapping[str, Any]], current_asn: Any = None) -> AsnInputs:
    """The AS number and AS name to classify a row with.

    MaxMind (``maxmind.asn`` / ``maxmind.asn_org``) first, then Team Cymru
    (``cymru.asn`` / ``cymru.asn_org``; the legacy ``as_name`` is accepted),
    then the row's ``current_asn`` (number only). The name is taken from the
    source that gave the number; when that source has no name, the other
    source's name is used if it does not contradict the number (its ASN is
    absent or the same). Upstream passed only Cymru's fields, which most rows
    lack, so most addresses reached the heuristic with no AS name at all.
    """
    enr = enrichment or {}
    sources: List[Tuple[str, Optional[int], Optional[str]]] = []
    for key, name_keys in (("maxmind", ("asn_org", "as_name", "organization")), ("cymru", ("asn_org", "as_name"))):
        data = enr.get(key)
        if not isinstance(data, Mapping):
            continue
        name = next((n for n in (_name(data.get(k)) for k in name_keys) if n), None)
        sources.append((key, _parse_asn(data.get("asn")), name))

    chosen: Optional[Tuple[str, int]] = None
    for key, asn, _ in sources:
        if asn is not None:
            chosen = (key, asn)
            break
    if chosen is None:
        fallback = _parse_asn(current_asn)
        if fallback is None:
            # No number anywhere: a name alone still feeds the heuristic.
            for key, _, name in sources:
                if name:
                    return AsnInputs(None, name, key)
            return AsnInputs(None, None, None)
        chosen = ("current_asn", fallback)
    src, asn = chosen
    name = next((n for key, _, n in sources if key == src and n), None)
    if name is None:  # a name from a source that does not contradict the number
        name = next((n for _, other, n in sources if n and (other is None or other == asn)), None)
    return AsnInputs(asn, name, src)


def classification_record(
    answer: IPClassification, inputs: Optional[AsnInputs] = None, now: Optional[datetime] = None
) -> Dict[str, Any]:
    """The dict stored as ``enrichment["ip_classification"]``.

    The upstream keys (``ip_type``, ``provider``, ``confidence``, ``source``,
    ``classified_at``) first, then the evidence (region, service,
    matched_prefix, snapshot, snapshot_at, data_age_seconds, stale), the AS
    inputs the engine used (asn, as_name, asn_source), the tags (``tor_exit``,
    ``scanner:censys``, …; the evidence list is not stored: it would add a
    few hundred bytes to every session and the classifier gives it again),
    what this pass gave
    it (input_asn, input_as_name) and where that came from (input_source:
    maxmind, cymru or current_asn), and ``checked_at``: when this pass stored the answer (the
    24-hour freshness rule uses it; ``classified_at`` may be older when the
    answer came from a cache tier).
    """
    d = answer.to_dict()
    d.pop("ip", None)
    d.pop("evidence", None)
    tier = d.pop("cache_tier", None)
    record: Dict[str, Any] = {
        "ip_type": d.pop("ip_type"),
        "provider": d.pop("provider"),
        "confidence": d.pop("confidence"),
        "source": d.pop("source"),
        "classified_at": d.pop("classified_at"),
    }
    record.update(d)
    # What this pass gave the engine, and from which enrichment; asn/as_name
    # above are what the engine used (it may fill in a name from its own
    # IP-to-ASN table: its asn_source then says "ip2asn").
    record["input_asn"] = inputs.asn if inputs is not None else None
    record["input_as_name"] = inputs.as_name if inputs is not None else None
    record["input_source"] = inputs.source if inputs is not None else None
    if tier:
        record["cache_tier"] = tier
    record["checked_at"] = (now or _utcnow()).isoformat()
    return record


def stored_ip_type(enrichment: Any) -> Optional[str]:
    """The ip_type of a stored answer, or None if there is none (or it is
    not one of the five types)."""
    rec = _as_dict(enrichment).get(ENRICHMENT_KEY)
    if isinstance(rec, Mapping):
        t = rec.get("ip_type")
        if isinstance(t, str) and t in _TYPE_VALUES:
            return t
    return None


def is_fresh(enrichment: Any, now: Optional[datetime] = None, max_age: timedelta = DEFAULT_MAX_AGE) -> bool:
    """True when the enrichment holds a valid answer stored less than
    ``max_age`` ago (``checked_at``, else ``classified_at``)."""
    rec = _as_dict(enrichment).get(ENRICHMENT_KEY)
    if not isinstance(rec, Mapping) or stored_ip_type(enrichment) is None:
        return False
    at = _parse_time(rec.get("checked_at")) or _parse_time(rec.get("classified_at"))
    if at is None:
        return False
    age = (now or _utcnow()) - at
    return -_CLOCK_SKEW < age < max_age


# ---------------------------------------------------------------------------
# Pass 4

#: PassResult.status values.
CLASSIFIED = "classified"  # classified now; the row's enrichment was replaced
FRESH = "fresh"  # a valid answer younger than max_age is kept
DISABLED = "disabled"  # DISABLE_IP_CLASSIFICATION is set, or no classifier
FAILED = "failed"  # the classifier raised (closed, forked, engine error)
INVALID = "invalid"  # ip_address is not an IP address: stored as unknown/invalid_ip
NO_IP = "no_ip"  # the row has no address


@dataclass
class PassResult:
    """What Pass 4 did with one row.

    ``enrichment`` is the row's enrichment after the pass: a new dict when
    ``status`` is ``"classified"`` or ``"invalid"``, the input otherwise.
    ``record`` is ``enrichment["ip_classification"]`` (None when there is
    none). ``classification`` is the engine's answer when one was computed.
    """

    status: str
    ip: Optional[str]
    enrichment: Dict[str, Any]
    record: Optional[Dict[str, Any]] = None
    classification: Optional[IPClassification] = None
    error: Optional[str] = None

    @property
    def ip_type(self) -> Optional[str]:
        """The stored ip_type after the pass, if any."""
        if self.record is not None:
            t = self.record.get("ip_type")
            return t if isinstance(t, str) else None
        return None

    @property
    def changed(self) -> bool:
        return self.status in (CLASSIFIED, INVALID)


class IPClassificationPass:
    """Pass 4 of the CascadeEnricher: IP infrastructure classification.

    Wire it after Pass 3 (GreyNoise)::

        class CascadeEnricher:
            def __init__(self, maxmind, cymru, greynoise, session, ip_classifier=None):
                ...
                self.ip_pass = IPClassificationPass(ip_classifier) if ip_classifier else None

            def enrich_ip(self, ip_address, force_refresh=False):
                inventory = ...                     # the IPInventory row
                ...                                 # Passes 1-3 update inventory.enrichment
                if self.ip_pass is not None:        # Pass 4
                    self.ip_pass.run(inventory, force_refresh=force_refresh)
                self.session.commit()

    ``run`` assigns a *new* dict to ``row.enrichment`` (SQLAlchemy JSON
    columns do not see in-place mutation) and sets ``enrichment_updated_at``
    when the row has that field. It never raises for a classification
    failure: the result says ``"failed"`` and the row is left as it was.

    Args:
        classifier: an :class:`~ipclassifier.IPClassifier` (or anything with
            its ``bulk_classify``); None makes every call ``"disabled"``.
        max_age: answers stored less than this ago are kept (24 h).
        honour_disable_flag: check ``DISABLE_IP_CLASSIFICATION`` on every
            call (default True).
        clock: returns "now" (tests).
    """

    def __init__(
        self,
        classifier: Optional["IPClassifier"],
        *,
        max_age: timedelta = DEFAULT_MAX_AGE,
        honour_disable_flag: bool = True,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.classifier = classifier
        self.max_age = max_age
        self.honour_disable_flag = honour_disable_flag
        self.clock = clock

    @property
    def enabled(self) -> bool:
        """False when there is no classifier or DISABLE_IP_CLASSIFICATION is set."""
        if self.classifier is None:
            return False
        return not (self.honour_disable_flag and classification_disabled())

    def __call__(
        self, row: Any, enrichment: Optional[Mapping[str, Any]] = None, *, force_refresh: bool = False
    ) -> PassResult:
        return self.run(row, enrichment, force_refresh=force_refresh)

    def run(
        self,
        row: Any,
        enrichment: Optional[Mapping[str, Any]] = None,
        *,
        force_refresh: bool = False,
        update_row: bool = True,
    ) -> PassResult:
        """Pass 4 for one ``ip_inventory`` row.

        Args:
            row: an IPInventory ORM object or a mapping with ``ip_address``
                (``ip`` is accepted), ``current_asn`` and ``enrichment``.
            enrichment: the enrichment Passes 1-3 built, when it is not yet
                on the row (default: ``row.enrichment``).
            force_refresh: classify even if a fresh answer is stored.
            update_row: write the new enrichment back to the row.
        """
        return self.run_many([row], [enrichment] if enrichment is not None else None,
                             force_refresh=force_refresh, update_rows=update_row)[0]  # fmt: skip

    def run_many(
        self,
        rows: Iterable[Any],
        enrichments: Optional[Sequence[Optional[Mapping[str, Any]]]] = None,
        *,
        force_refresh: bool = False,
        update_rows: bool = True,
    ) -> List[PassResult]:
        """Pass 4 for many rows with one ``bulk_classify`` call; results in
        input order."""
        rows = list(rows)
        if enrichments is not None and len(enrichments) != len(rows):
            raise ValueError(f"{len(enrichments)} enrichments for {len(rows)} rows")
        now = self.clock()
        results: List[Optional[PassResult]] = [None] * len(rows)
        enabled = self.enabled
        todo: List[Tuple[int, str, Dict[str, Any], AsnInputs]] = []
        for i, row in enumerate(rows):
            given = enrichments[i] if enrichments is not None else None
            enr = _as_dict(given if given is not None else _get(row, "enrichment"))
            ip = _get(row, "ip_address")
            if ip is None:
                ip = _get(row, "ip")
            record = enr.get(ENRICHMENT_KEY) if isinstance(enr.get(ENRICHMENT_KEY), dict) else None
            if not enabled:
                results[i] = PassResult(DISABLED, ip, enr, record)
                continue
            if not isinstance(ip, str) or not ip.strip():
                results[i] = PassResult(NO_IP, None, enr, record)
                continue
            if not force_refresh and is_fresh(enr, now, self.max_age):
                results[i] = PassResult(FRESH, ip, enr, record)
                continue
            todo.append((i, ip.strip(), enr, asn_inputs(enr, _get(row, "current_asn"))))
        if todo:
            assert self.classifier is not None
            try:
                answers = self.classifier.bulk_classify(
                    [(ip, inp.asn, inp.as_name) for _, ip, _, inp in todo], errors="unknown", as_list=True
                )
            except Exception as e:  # closed, forked child, engine failure: Pass 4 must not break the enricher
                log.warning("ip classification pass failed for %d row(s): %s", len(todo), e)
                for i, ip, enr, _ in todo:
                    rec = enr.get(ENRICHMENT_KEY) if isinstance(enr.get(ENRICHMENT_KEY), dict) else None
                    results[i] = PassResult(FAILED, ip, enr, rec, error=str(e))
            else:
                for (i, ip, enr, inp), answer in zip(todo, answers):
                    rec = classification_record(answer, inp, now)
                    new = dict(enr)
                    new[ENRICHMENT_KEY] = rec
                    status = INVALID if answer.source == "invalid_ip" else CLASSIFIED
                    if update_rows:
                        _set(rows[i], "enrichment", new)
                        if _has(rows[i], "enrichment_updated_at"):
                            _set(rows[i], "enrichment_updated_at", now)
                    results[i] = PassResult(status, ip, new, rec, answer)
        return [r for r in results if r is not None]


# ---------------------------------------------------------------------------
# The bulk loader hook


@dataclass
class SnapshotFill:
    """What :func:`fill_snapshot_ip_types` did with a batch."""

    assigned: int = 0  # rows whose snapshot_ip_type was set now
    kept: int = 0  # rows that already had one (first ingestion wins)
    no_ip: int = 0  # rows without a source IP (left NULL)
    distinct_ips: int = 0  # addresses classified (one bulk call)
    by_type: "Counter[str]" = field(default_factory=Counter)  # type → rows assigned
    failed: bool = False  # classification was not possible: "unknown" was written
    error: Optional[str] = None


def fill_snapshot_ip_types(
    summaries: Iterable[Any],
    classifier: Optional["IPClassifier"],
    *,
    ip_field: str = "source_ip",
    asn_field: str = "snapshot_asn",
    type_field: str = "snapshot_ip_type",
    honour_disable_flag: bool = True,
) -> SnapshotFill:
    """Set ``snapshot_ip_type`` on a batch of session summaries.

    The bulk loader calls this on the rows it is about to upsert (dicts or
    SessionSummary ORM objects). The distinct source IPs of the rows whose
    ``snapshot_ip_type`` is empty are classified in one ``bulk_classify``
    (with ``snapshot_asn`` as the ASN when present; bad addresses answer
    ``unknown``). A row that already has a type keeps it — first ingestion
    wins, as upstream's ``COALESCE(session_summaries.snapshot_ip_type,
    excluded.snapshot_ip_type)`` upsert does on the database side. A row
    without a source IP is left NULL.

    When classification is impossible — no classifier, the classifier is
    closed or raises, ``DISABLE_IP_CLASSIFICATION`` is set — the rows get
    ``"unknown"``, the result says ``failed``, and nothing is raised: the
    batch is never dropped. (``ipclassifier backfill --include-unknown``
    can re-type such rows later.)
    """
    rows = list(summaries)
    res = SnapshotFill()
    pending: List[Tuple[Any, str]] = []
    asn_of: Dict[str, Any] = {}
    for row in rows:
        if isinstance(row, Mapping) and not isinstance(row, MutableMapping):
            raise TypeError(f"session summaries must be dicts or ORM objects, got read-only {type(row).__name__}")
        if _get(row, type_field) not in (None, ""):
            res.kept += 1
            continue
        ip = _get(row, ip_field)
        if not isinstance(ip, str) or not ip.strip():
            res.no_ip += 1
            continue
        ip = ip.strip()
        pending.append((row, ip))
        if asn_of.get(ip) is None:
            asn_of[ip] = _parse_asn(_get(row, asn_field))
    if not pending:
        return res
    res.distinct_ips = len(asn_of)
    types: Dict[str, str] = {}
    if classifier is None:
        res.failed, res.error = True, "no classifier"
    elif honour_disable_flag and classification_disabled():
        res.failed, res.error = True, "DISABLE_IP_CLASSIFICATION is set"
    else:
        try:
            answers = classifier.bulk_classify(
                [(ip, asn, None) for ip, asn in asn_of.items()], errors="unknown", as_list=True
            )
            types = {ip: a.ip_type.value for ip, a in zip(asn_of, answers)}
        except Exception as e:  # never fail the loader's batch
            res.failed, res.error = True, f"{type(e).__name__}: {e}"
            log.warning(
                "snapshot_ip_type: classification failed for a batch of %d rows, writing unknown: %s", len(pending), e
            )
    for row, ip in pending:
        t = types.get(ip, UNKNOWN)
        _set(row, type_field, t)
        res.assigned += 1
        res.by_type[t] += 1
    return res
