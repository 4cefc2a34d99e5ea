"""cowrieprocessor integration: enrichment Pass 4, the bulk-loader hook and
the backfill of ``session_summaries.snapshot_ip_type``.

Three entry points, one set of rules:

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
* :func:`backfill` — classifies every ``ip_inventory`` row (Pass-4 rules),
  writes the answers into its enrichment and fills
  ``session_summaries.snapshot_ip_type`` with set-based SQL, one transaction
  per batch; resumable, idempotent, with a dry-run mode.

``DISABLE_IP_CLASSIFICATION=true`` (see :func:`classification_disabled`)
turns Pass 4 into a no-op and makes the loader hook write ``"unknown"``.

SQLAlchemy (2.x) is needed by :func:`backfill` only and imported there, so
this module imports without it.
"""

from __future__ import annotations

import json
import logging
import math
import time
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
    Union,
)

from .classifier import classification_disabled
from .types import IPClassification, IPType

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Connection, Engine

    from .classifier import IPClassifier

__all__ = [
    "ENRICHMENT_KEY",
    "DEFAULT_MAX_AGE",
    "AsnInputs",
    "asn_inputs",
    "classification_record",
    "is_fresh",
    "stored_ip_type",
    "PassResult",
    "IPClassificationPass",
    "SnapshotFill",
    "fill_snapshot_ip_types",
    "BackfillError",
    "BackfillProgress",
    "BackfillReport",
    "backfill",
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
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
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
    inputs the engine used (asn, as_name, asn_source), what this pass gave
    it (input_asn, input_as_name) and where that came from (input_source:
    maxmind, cymru or current_asn), and ``checked_at``: when this pass stored the answer (the
    24-hour freshness rule uses it; ``classified_at`` may be older when the
    answer came from a cache tier).
    """
    d = answer.to_dict()
    d.pop("ip", None)
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

    def __call__(self, row: Any, enrichment: Optional[Mapping[str, Any]] = None, *, force_refresh: bool = False) -> PassResult:
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
                    [(ip, inp.asn, inp.as_name) for _, ip, _, inp in todo], errors="unknown"
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
            answers = classifier.bulk_classify([(ip, asn, None) for ip, asn in asn_of.items()], errors="unknown")
            types = {ip: a.ip_type.value for ip, a in zip(asn_of, answers)}
        except Exception as e:  # never fail the loader's batch
            res.failed, res.error = True, f"{type(e).__name__}: {e}"
            log.warning("snapshot_ip_type: classification failed for a batch of %d rows, writing unknown: %s", len(pending), e)
    for row, ip in pending:
        t = types.get(ip, UNKNOWN)
        _set(row, type_field, t)
        res.assigned += 1
        res.by_type[t] += 1
    return res


# ---------------------------------------------------------------------------
# The backfill


class BackfillError(Exception):
    """A backfill that cannot run (bad database, missing table or column,
    bad arguments). ``usage`` marks input errors (CLI exit status 2)."""

    def __init__(self, message: str, usage: bool = True) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass
class BackfillProgress:
    """Passed to the progress callback after every batch."""

    phase: str  # "inventory" or "orphans"
    done: int  # rows of this phase handled so far
    total: int  # rows of this phase (inventory: COUNT at start; orphans: 0 = unknown)
    batches: int  # batches committed so far (both phases)
    elapsed: float  # seconds since the backfill started
    sessions_updated: int  # sessions typed so far (would be, in a dry run)


@dataclass
class BackfillReport:
    """The outcome of :func:`backfill`."""

    dry_run: bool = False
    force: bool = False
    complete: bool = False  # every phase ran to the end
    inventory_total: int = 0  # ip_inventory rows at start
    inventory_seen: int = 0
    classified: int = 0  # rows (re)classified now
    fresh: int = 0  # rows skipped: answer younger than max_age
    invalid: int = 0  # ip_address is not an address (stored as unknown / invalid_ip)
    unwritable: int = 0  # enrichment is a JSON non-object: answer not stored (sessions still typed)
    ip_types: "Counter[str]" = field(default_factory=Counter)  # type → inventory IPs (classified + fresh)
    orphan_ips: int = 0  # session source IPs absent from ip_inventory, classified
    orphan_types: "Counter[str]" = field(default_factory=Counter)
    sessions_updated: int = 0  # sessions whose snapshot_ip_type was set (would be, dry run)
    sessions_would_update: "Counter[str]" = field(default_factory=Counter)  # dry run: type → sessions
    sessions_total: int = 0
    sessions_known_ip: int = 0  # sessions with a non-empty source_ip
    session_types: "Counter[Optional[str]]" = field(default_factory=Counter)  # type (None = no type) → sessions with a known IP, at the end
    batches: int = 0
    seconds: float = 0.0
    classify_seconds: float = 0.0  # in bulk_classify
    temp_seconds: float = 0.0  # filling the temporary table
    inventory_seconds: float = 0.0  # UPDATE ip_inventory (json_set / jsonb_set)
    sessions_seconds: float = 0.0  # UPDATE session_summaries (or the dry run's count)
    commit_seconds: float = 0.0
    refresh_failed: int = 0  # set by the CLI: sources whose refresh failed
    dialect: str = ""

    @property
    def failed(self) -> int:
        """IPs that could not be classified (invalid addresses)."""
        return self.invalid

    @property
    def coverage(self) -> float:
        """Sessions with a type / sessions with a known source IP (1.0 when
        there are none). In a dry run: what it would be."""
        if self.sessions_known_ip == 0:
            return 1.0
        typed = self.sessions_known_ip - self.session_types.get(None, 0)
        if self.dry_run:
            typed += sum(self.sessions_would_update.values())
        return min(typed / self.sessions_known_ip, 1.0)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "force": self.force,
            "complete": self.complete,
            "dialect": self.dialect,
            "inventory_total": self.inventory_total,
            "inventory_seen": self.inventory_seen,
            "classified": self.classified,
            "fresh": self.fresh,
            "invalid": self.invalid,
            "unwritable": self.unwritable,
            "ip_types": dict(self.ip_types),
            "orphan_ips": self.orphan_ips,
            "orphan_types": dict(self.orphan_types),
            "sessions_updated": self.sessions_updated,
            "sessions_would_update": dict(self.sessions_would_update),
            "sessions_total": self.sessions_total,
            "sessions_known_ip": self.sessions_known_ip,
            "session_types": {("" if k is None else k): v for k, v in self.session_types.items()},
            "coverage": self.coverage,
            "batches": self.batches,
            "seconds": self.seconds,
            "classify_seconds": self.classify_seconds,
            "temp_seconds": self.temp_seconds,
            "inventory_seconds": self.inventory_seconds,
            "sessions_seconds": self.sessions_seconds,
            "commit_seconds": self.commit_seconds,
            "refresh_failed": self.refresh_failed,
        }


_TMP = "ipclassifier_backfill_tmp"


def database_url(db: str) -> Any:
    """An SQLAlchemy URL from a database URL string, with a PostgreSQL
    driver that is installed: ``postgres://`` and ``postgresql://`` (no
    driver named) become ``postgresql+psycopg2://``, else
    ``postgresql+psycopg://`` (SQLAlchemy 2.1 defaults to psycopg 3, 2.0 to
    psycopg2; either may be the one missing). Raises ValueError."""
    import importlib.util

    import sqlalchemy as sa

    if db.startswith("postgres://"):
        db = "postgresql://" + db[len("postgres://") :]
    try:
        url = sa.engine.make_url(db)
    except Exception as e:
        raise ValueError(str(e)) from None
    if url.drivername == "postgresql":
        for module, driver in (("psycopg2", "postgresql+psycopg2"), ("psycopg", "postgresql+psycopg")):
            if importlib.util.find_spec(module) is not None:
                return url.set(drivername=driver)
    return url


def _engine(db: Union[str, "Engine", "Connection"]) -> Tuple["Engine", bool]:
    """(engine, owned): a URL becomes a new Engine (disposed at the end)."""
    import sqlalchemy as sa

    if isinstance(db, str):
        try:
            url = database_url(db)
        except ValueError as e:
            raise BackfillError(f"invalid database URL: {e}") from None
        kwargs: Dict[str, Any] = {}
        if url.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"timeout": 60}
        try:
            return sa.create_engine(url, **kwargs), True
        except Exception as e:  # missing driver, bad options
            raise BackfillError(f"cannot use database {url.render_as_string(hide_password=True)}: {e}") from None
    engine = getattr(db, "engine", None)
    if engine is None:
        raise BackfillError(f"db must be a database URL or an SQLAlchemy Engine, got {type(db).__name__}")
    return engine, False


class _Host:
    """The two host tables as the backfill sees them (checked, typed)."""

    def __init__(self, conn: "Connection", inventory: str, sessions: str) -> None:
        import sqlalchemy as sa
        from sqlalchemy.dialects import postgresql

        self.dialect = conn.dialect.name
        insp = sa.inspect(conn)
        for name in (inventory, sessions):
            if not insp.has_table(name):
                raise BackfillError(f"table {name!r} does not exist in this database (is it the cowrieprocessor database?)")
        icols = {c["name"]: c for c in insp.get_columns(inventory)}
        scols = {c["name"]: c for c in insp.get_columns(sessions)}
        for table, cols, need in (
            (inventory, icols, ("ip_address", "enrichment")),
            (sessions, scols, ("source_ip", "snapshot_ip_type")),
        ):
            missing = [c for c in need if c not in cols]
            if missing:
                raise BackfillError(f"table {table!r} has no column {', '.join(missing)}")
        etype = icols["enrichment"]["type"]
        self.pg = self.dialect == "postgresql"
        self.sqlite = self.dialect == "sqlite"
        if self.pg and isinstance(etype, postgresql.JSONB):
            self.enrichment_kind = "jsonb"
            enr_type: Any = postgresql.JSONB(none_as_null=True)
        elif isinstance(etype, sa.JSON):
            self.enrichment_kind = "json"
            enr_type = sa.JSON(none_as_null=True)
        else:
            self.enrichment_kind = "text"
            enr_type = sa.Text()
        self.has_current_asn = "current_asn" in icols
        self.has_updated_at = "enrichment_updated_at" in icols
        self.has_snapshot_asn = "snapshot_asn" in scols
        md = sa.MetaData()
        icolumns: List[Any] = [sa.Column("ip_address", sa.String(45), primary_key=True), sa.Column("enrichment", enr_type)]
        if self.has_current_asn:
            icolumns.append(sa.Column("current_asn", sa.BigInteger))
        if self.has_updated_at:
            icolumns.append(sa.Column("enrichment_updated_at", sa.DateTime(timezone=True)))
        self.inv = sa.Table(inventory, md, *icolumns)
        scolumns: List[Any] = [sa.Column("source_ip", sa.String(45)), sa.Column("snapshot_ip_type", sa.Text)]
        if self.has_snapshot_asn:
            scolumns.append(sa.Column("snapshot_asn", sa.BigInteger))
        self.ses = sa.Table(sessions, md, *scolumns)
        rec_type: Any = postgresql.JSONB(none_as_null=True) if self.pg else sa.Text()
        self.tmp = sa.Table(
            _TMP,
            md,
            sa.Column("ip", sa.String(64), primary_key=True),
            sa.Column("ip_type", sa.String(16), nullable=False),
            sa.Column("record", rec_type, nullable=True),
            prefixes=["TEMPORARY"],
        )
        q = conn.dialect.identifier_preparer.quote
        self.q_inv, self.q_ses, self.q_tmp = q(inventory), q(sessions), q(_TMP)
        # Qualified, so a DROP can only ever hit our temporary table.
        self.q_tmp_qualified = ("pg_temp." if self.pg else "temp.") + self.q_tmp
        self.update_from = not self.sqlite or _sqlite_version(conn) >= (3, 33, 0)
        self.json1 = not self.sqlite or _sqlite_has_json(conn)
        # SQLite keeps JSON as text whatever the declared type; PostgreSQL
        # needs a json or jsonb column (a text column could hold invalid JSON,
        # which would make the cast to jsonb fail the batch).
        supported = (self.sqlite and self.json1) or (self.pg and self.enrichment_kind in ("json", "jsonb"))
        if not supported:
            raise BackfillError(
                f"unsupported database: {self.dialect} with enrichment stored as {self.enrichment_kind}"
                + ("" if self.json1 else " (SQLite without the JSON1 functions)")
                + "; the backfill supports SQLite (JSON1) and PostgreSQL with a json/jsonb enrichment column"
            )

    def session_condition(self, include_unknown: bool, alias: str = "") -> str:
        col = f"{alias}snapshot_ip_type" if alias else f"{self.q_ses}.snapshot_ip_type"
        if include_unknown:
            return f"({col} IS NULL OR {col} = '' OR {col} = '{UNKNOWN}')"
        return f"{col} IS NULL"


def _sqlite_version(conn: "Connection") -> Tuple[int, ...]:
    v = conn.exec_driver_sql("select sqlite_version()").scalar()
    return tuple(int(p) for p in str(v).split(".")[:3])


def _sqlite_has_json(conn: "Connection") -> bool:
    try:
        conn.exec_driver_sql("select json_set('{}', '$.a', json('1'))").scalar()
        return True
    except Exception:
        return False


def _setup_temp(conn: "Connection", host: _Host) -> None:
    import sqlalchemy as sa

    if host.sqlite:
        conn.exec_driver_sql("PRAGMA temp_store = MEMORY")
        conn.exec_driver_sql("PRAGMA cache_size = -131072")  # 128 MiB, this connection only
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {host.q_tmp_qualified}"))
    host.tmp.create(conn)
    conn.commit()


def _fill_temp(conn: "Connection", host: _Host, rows: List[Dict[str, Any]]) -> None:
    import sqlalchemy as sa

    conn.execute(sa.delete(host.tmp))
    if not rows:
        return
    if not (host.pg and _copy_temp(conn, host, rows)):
        conn.execute(sa.insert(host.tmp), rows)
    if host.pg:
        conn.exec_driver_sql(f"ANALYZE {host.q_tmp}")


def _copy_temp(conn: "Connection", host: _Host, rows: List[Dict[str, Any]]) -> bool:
    """PostgreSQL: fill the temporary table with COPY (psycopg2 or psycopg
    3) in the current transaction; False when the driver cannot."""
    import csv
    import io

    raw: Any = conn.connection.driver_connection
    cur = raw.cursor()
    copy_expert = getattr(cur, "copy_expert", None)  # psycopg2
    copy = getattr(cur, "copy", None)  # psycopg 3
    if copy_expert is None and copy is None:
        cur.close()
        return False
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in rows:
        rec = r["record"]
        w.writerow((r["ip"], r["ip_type"], None if rec is None else json.dumps(rec, separators=(",", ":"))))
    sql = f"COPY {host.q_tmp} (ip, ip_type, record) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (ip, ip_type))"
    try:
        if copy_expert is not None:
            buf.seek(0)
            copy_expert(sql, buf)
        else:
            assert copy is not None
            with copy(sql) as cp:
                cp.write(buf.getvalue())
    finally:
        cur.close()
    return True


def _update_inventory(conn: "Connection", host: _Host, now: datetime) -> int:
    """Write tmp.record into enrichment['ip_classification'] in SQL, so a
    concurrent writer of the other keys (Passes 1-3) loses nothing."""
    import sqlalchemy as sa

    i, t = host.q_inv, host.q_tmp
    set_updated = ", enrichment_updated_at = :now" if host.has_updated_at else ""
    # SQL NULL and JSON null count as an empty object; any other non-object
    # (an array, a string) is left alone (counted as unwritable).
    if host.pg:
        e = f"{i}.enrichment::jsonb" if host.enrichment_kind == "json" else f"{i}.enrichment"
        base = f"(CASE WHEN {i}.enrichment IS NULL OR jsonb_typeof({e}) = 'null' THEN '{{}}'::jsonb ELSE {e} END)"
        value = f"jsonb_set({base}, '{{{ENRICHMENT_KEY}}}', {t}.record)"
        if host.enrichment_kind == "json":
            value += "::json"
        cond = f"({i}.enrichment IS NULL OR jsonb_typeof({e}) IN ('object', 'null'))"
        sql = (
            f"UPDATE {i} SET enrichment = {value}{set_updated} FROM {t} "
            f"WHERE {i}.ip_address = {t}.ip AND {t}.record IS NOT NULL AND {cond}"
        )
    else:
        e = f"{i}.enrichment"
        base = f"(CASE WHEN {e} IS NULL OR json_type({e}) = 'null' THEN '{{}}' ELSE {e} END)"
        cond = f"({e} IS NULL OR CASE WHEN json_valid({e}) THEN json_type({e}) IN ('object', 'null') ELSE 0 END)"
        record = f"json({t}.record)"
        if host.update_from:
            value = f"json_set({base}, '$.{ENRICHMENT_KEY}', {record})"
            sql = (
                f"UPDATE {i} SET enrichment = {value}{set_updated} FROM {t} "
                f"WHERE {i}.ip_address = {t}.ip AND {t}.record IS NOT NULL AND {cond}"
            )
        else:  # SQLite < 3.33: correlated form
            record = f"json((SELECT r.record FROM {t} r WHERE r.ip = {i}.ip_address))"
            value = f"json_set({base}, '$.{ENRICHMENT_KEY}', {record})"
            sql = (
                f"UPDATE {i} SET enrichment = {value}{set_updated} "
                f"WHERE {i}.ip_address IN (SELECT ip FROM {t} WHERE record IS NOT NULL) AND {cond}"
            )
    stmt = sa.text(sql)
    if host.has_updated_at:
        stmt = stmt.bindparams(sa.bindparam("now", type_=sa.DateTime(timezone=True)))
        return int(conn.execute(stmt, {"now": now}).rowcount or 0)
    return int(conn.execute(stmt).rowcount or 0)


def _update_sessions(conn: "Connection", host: _Host, include_unknown: bool) -> int:
    import sqlalchemy as sa

    s, t = host.q_ses, host.q_tmp
    if host.pg:
        # A batch matches a large share of the table: a hash join over a
        # sequential scan updates the heap in physical order. The planner
        # tends to pick a merge join over the source_ip index instead, which
        # visits the heap in address order (random I/O): twice as slow on
        # the full-scale demo. LOCAL: only for this batch's transaction.
        conn.exec_driver_sql("SET LOCAL enable_mergejoin = off")
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
    cond = host.session_condition(include_unknown)
    if host.update_from:
        sql = f"UPDATE {s} SET snapshot_ip_type = {t}.ip_type FROM {t} WHERE {s}.source_ip = {t}.ip AND {cond}"
    else:
        sql = (
            f"UPDATE {s} SET snapshot_ip_type = (SELECT r.ip_type FROM {t} r WHERE r.ip = {s}.source_ip) "
            f"WHERE {cond} AND {s}.source_ip IN (SELECT ip FROM {t})"
        )
    return int(conn.execute(sa.text(sql)).rowcount or 0)


def _count_would_update(conn: "Connection", host: _Host, include_unknown: bool) -> "Counter[str]":
    import sqlalchemy as sa

    s, t = host.q_ses, host.q_tmp
    sql = (
        f"SELECT {t}.ip_type, COUNT(*) FROM {s} JOIN {t} ON {s}.source_ip = {t}.ip "
        f"WHERE {host.session_condition(include_unknown)} GROUP BY {t}.ip_type"
    )
    return Counter({str(k): int(n) for k, n in conn.execute(sa.text(sql))})


def backfill(
    db: Union[str, "Engine", "Connection"],
    classifier: "IPClassifier",
    *,
    batch_size: int = 10_000,
    force: bool = False,
    dry_run: bool = False,
    include_unknown: bool = False,
    orphans: bool = True,
    max_age: timedelta = DEFAULT_MAX_AGE,
    max_batches: Optional[int] = None,
    inventory_table: str = "ip_inventory",
    sessions_table: str = "session_summaries",
    progress: Optional[Callable[[BackfillProgress], None]] = None,
    clock: Callable[[], datetime] = _utcnow,
) -> BackfillReport:
    """Classify every ``ip_inventory`` row and type every session.

    Phase 1 walks ``ip_inventory`` in ``ip_address`` order (keyset
    pagination), ``batch_size`` rows at a time. Each batch: rows with an
    answer stored less than ``max_age`` ago keep it (unless ``force``); the
    others are classified in one ``bulk_classify`` with the Pass-4 AS inputs
    (MaxMind, then Cymru, then current_asn). In one transaction the batch's
    ``(ip, type, record)`` rows go into a temporary table, the records are
    written into ``enrichment['ip_classification']`` with ``jsonb_set`` /
    ``json_set`` (the other keys are untouched, even if another process
    changed them meanwhile), and one ``UPDATE session_summaries ... FROM
    tmp`` sets ``snapshot_ip_type`` where it is NULL. A killed run loses at
    most the batch in flight; a re-run skips what was done (fresh answers)
    and ends in the same state.

    Phase 2 (``orphans``) types sessions whose source IP is not in
    ``ip_inventory`` (with ``snapshot_asn`` as the ASN), the same way.

    Args:
        db: a database URL or an SQLAlchemy Engine (SQLite or PostgreSQL).
        classifier: an open classifier with its sources loaded.
        batch_size: rows per batch and transaction.
        force: re-classify rows even when their answer is fresh.
        dry_run: change nothing; count what would change.
        include_unknown: also re-type sessions whose type is ``"unknown"``
            (e.g. written by the loader hook while classification was off).
        orphans: run phase 2.
        max_age: freshness of a stored answer.
        max_batches: stop after this many batches (``complete`` is then
            False); for tests and partial runs.
        progress: called after every batch with a :class:`BackfillProgress`.

    Raises:
        BackfillError: bad database, missing table/column, bad arguments.
        ClassifierError / RuntimeError: the classifier failed; the batch in
            flight is rolled back, earlier batches stay committed.
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or not 1 <= batch_size <= 1_000_000:
        raise BackfillError(f"batch size must be between 1 and 1000000, got {batch_size!r}")
    if max_batches is not None and max_batches < 0:
        raise BackfillError(f"max_batches must be >= 0, got {max_batches}")
    run = _Backfill(
        classifier,
        batch_size=batch_size,
        force=force,
        dry_run=dry_run,
        include_unknown=include_unknown,
        max_age=max_age,
        max_batches=max_batches,
        progress=progress,
        clock=clock,
    )
    return run.run(db, inventory_table, sessions_table, orphans)


def _first_line(e: BaseException) -> str:
    text = str(getattr(e, "orig", None) or e).strip()
    return text.splitlines()[0] if text else type(e).__name__


class _Backfill:
    """One backfill run (see :func:`backfill`)."""

    def __init__(
        self,
        classifier: "IPClassifier",
        *,
        batch_size: int,
        force: bool,
        dry_run: bool,
        include_unknown: bool,
        max_age: timedelta,
        max_batches: Optional[int],
        progress: Optional[Callable[[BackfillProgress], None]],
        clock: Callable[[], datetime],
    ) -> None:
        self.classifier = classifier
        self.batch_size = batch_size
        self.force = force
        self.dry_run = dry_run
        self.include_unknown = include_unknown
        self.max_age = max_age
        self.max_batches = max_batches
        self.progress = progress
        self.clock = clock
        self.report = BackfillReport(dry_run=dry_run, force=force)
        self.t0 = time.perf_counter()

    def run(self, db: Union[str, "Engine", "Connection"], inventory: str, sessions: str, orphans: bool) -> BackfillReport:
        import sqlalchemy as sa

        engine, owned = _engine(db)
        self.report.dialect = engine.dialect.name
        self.t0 = time.perf_counter()
        try:
            try:
                conn = engine.connect()
            except sa.exc.SQLAlchemyError as e:
                raise BackfillError(f"cannot connect to the database: {_first_line(e)}") from None
            try:
                self._run(conn, inventory, sessions, orphans)
            finally:
                conn.close()
        finally:
            if owned:
                engine.dispose()
            self.report.seconds = time.perf_counter() - self.t0
        return self.report

    def _run(self, conn: "Connection", inventory: str, sessions: str, orphans: bool) -> None:
        import sqlalchemy as sa

        try:
            host = _Host(conn, inventory, sessions)
        finally:
            conn.rollback()  # end the inspection's implicit transaction
        _setup_temp(conn, host)
        self.report.inventory_total = int(conn.execute(sa.select(sa.func.count()).select_from(host.inv)).scalar() or 0)
        conn.commit()
        complete = self._inventory(conn, host)
        if complete and orphans:
            complete = self._orphans(conn, host)
        self.report.complete = complete
        _final_counts(conn, host, self.report)
        conn.commit()
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {host.q_tmp_qualified}"))
        conn.commit()

    # -- helpers -----------------------------------------------------------

    def _budget_left(self) -> bool:
        return self.max_batches is None or self.report.batches < self.max_batches

    def _tick(self, phase: str, done: int, total: int) -> None:
        if self.progress is not None:
            r = self.report
            self.progress(BackfillProgress(phase, done, total, r.batches, time.perf_counter() - self.t0, r.sessions_updated))

    def _classify(self, items: List[Tuple[str, Optional[int], Optional[str]]]) -> List[IPClassification]:
        c0 = time.perf_counter()
        answers = self.classifier.bulk_classify(items, errors="unknown")
        self.report.classify_seconds += time.perf_counter() - c0
        return answers

    def _apply(self, conn: "Connection", host: _Host, tmp_rows: List[Dict[str, Any]], now: Optional[datetime]) -> None:
        """Inside the batch transaction: fill tmp, then write (or count)."""
        r = self.report
        t = time.perf_counter()
        _fill_temp(conn, host, tmp_rows)
        r.temp_seconds += time.perf_counter() - t
        if self.dry_run:
            t = time.perf_counter()
            r.sessions_would_update.update(_count_would_update(conn, host, self.include_unknown))
            r.sessions_seconds += time.perf_counter() - t
            return
        if now is not None:
            records = sum(1 for row in tmp_rows if row["record"] is not None)
            if records:
                t = time.perf_counter()
                written = _update_inventory(conn, host, now)
                r.inventory_seconds += time.perf_counter() - t
                r.unwritable += max(0, records - written)
        t = time.perf_counter()
        r.sessions_updated += _update_sessions(conn, host, self.include_unknown)
        r.sessions_seconds += time.perf_counter() - t

    def _batch(self, conn: "Connection", work: Callable[[], bool]) -> bool:
        """Run work() in one transaction: committed, or rolled back in a dry
        run or on any exception. Returns work()'s result."""
        trans = conn.begin()
        try:
            more = work()
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise
        t = time.perf_counter()
        if self.dry_run:
            trans.rollback()
        else:
            trans.commit()
        self.report.commit_seconds += time.perf_counter() - t
        return more

    # -- phase 1: ip_inventory ---------------------------------------------

    def _inventory(self, conn: "Connection", host: _Host) -> bool:
        import sqlalchemy as sa

        inv, r = host.inv, self.report
        cols = [inv.c.ip_address, inv.c.enrichment]
        if host.has_current_asn:
            cols.append(inv.c.current_asn)
        state: Dict[str, Any] = {"last": None, "rows": 0}

        def work() -> bool:
            q = sa.select(*cols).order_by(inv.c.ip_address).limit(self.batch_size)
            if state["last"] is not None:
                q = q.where(inv.c.ip_address > state["last"])
            rows = conn.execute(q).all()
            state["rows"] = len(rows)
            if not rows:
                return False
            state["last"] = rows[-1][0]
            now = self.clock()
            tmp_rows: List[Dict[str, Any]] = []
            todo: List[Tuple[str, AsnInputs]] = []
            for row in rows:
                ip = row[0]
                enr = _as_dict(row[1])
                if not force_or_stale(enr, now):
                    t = stored_ip_type(enr)
                    assert t is not None
                    tmp_rows.append({"ip": ip, "ip_type": t, "record": None})
                    r.fresh += 1
                    r.ip_types[t] += 1
                    continue
                todo.append((ip, asn_inputs(enr, row[2] if host.has_current_asn else None)))
            if todo:
                answers = self._classify([(ip.strip(), a.asn, a.as_name) for ip, a in todo])
                for (ip, inputs), answer in zip(todo, answers):
                    rec = classification_record(answer, inputs, now)
                    t = rec["ip_type"]
                    if answer.source == "invalid_ip":
                        r.invalid += 1
                        log.warning("ip_inventory row %r is not an IP address: stored as unknown", ip)
                    else:
                        r.classified += 1
                    r.ip_types[t] += 1
                    tmp_rows.append({"ip": ip, "ip_type": t, "record": rec if host.pg else json.dumps(rec)})
            r.inventory_seen += len(rows)
            self._apply(conn, host, tmp_rows, now)
            return len(rows) == self.batch_size

        def force_or_stale(enr: Dict[str, Any], now: datetime) -> bool:
            return self.force or not is_fresh(enr, now, self.max_age)

        while True:
            if not self._budget_left():
                return False
            more = self._batch(conn, work)
            if state["rows"] == 0:  # past the last row (or an empty table)
                return True
            r.batches += 1
            self._tick("inventory", r.inventory_seen, r.inventory_total)
            if not more:
                return True

    # -- phase 2: session IPs absent from ip_inventory -----------------------

    def _orphans(self, conn: "Connection", host: _Host) -> bool:
        """Sessions still untyped whose source IP has no ip_inventory row.

        The candidates are read with the one condition the
        snapshot_ip_type index answers (after phase 1 they are few), and
        checked against ip_inventory by primary key, in Python: a single
        SQL query with GROUP BY/ORDER BY source_ip leads SQLite's planner
        to walk the whole source_ip index instead.
        """
        import sqlalchemy as sa

        ses, inv, r = host.ses, host.inv, self.report
        cols = [ses.c.source_ip, ses.c.snapshot_asn if host.has_snapshot_asn else sa.null()]
        t = ses.c.snapshot_ip_type
        cond = sa.or_(t.is_(None), t == "", t == UNKNOWN) if self.include_unknown else t.is_(None)
        asn_of: Dict[str, Optional[int]] = {}
        result = conn.execute(sa.select(*cols).where(cond).execution_options(yield_per=50_000))
        for ip, asn in result:
            if ip and asn_of.get(ip) is None:
                asn_of[ip] = _parse_asn(asn)
        result.close()
        conn.rollback()
        candidates = sorted(asn_of)
        known: "set[str]" = set()
        for k in range(0, len(candidates), 500):
            chunk = candidates[k : k + 500]
            known.update(row[0] for row in conn.execute(sa.select(inv.c.ip_address).where(inv.c.ip_address.in_(chunk))))
        conn.rollback()
        orphans = [ip for ip in candidates if ip not in known]
        state = {"pos": 0}

        def work() -> bool:
            rows = orphans[state["pos"] : state["pos"] + self.batch_size]
            state["pos"] += len(rows)
            answers = self._classify([(ip.strip(), asn_of[ip], None) for ip in rows])
            tmp_rows = []
            for ip, answer in zip(rows, answers):
                typ = answer.ip_type.value
                r.orphan_ips += 1
                r.orphan_types[typ] += 1
                if answer.source == "invalid_ip":
                    r.invalid += 1
                tmp_rows.append({"ip": ip, "ip_type": typ, "record": None})
            self._apply(conn, host, tmp_rows, None)
            return state["pos"] < len(orphans)

        while state["pos"] < len(orphans):
            if not self._budget_left():
                return False
            self._batch(conn, work)
            r.batches += 1
            self._tick("orphans", state["pos"], len(orphans))
        return True


def _final_counts(conn: "Connection", host: _Host, report: BackfillReport) -> None:
    """Sessions per snapshot_ip_type, counting only sessions with a source
    IP: all sessions (the index on snapshot_ip_type covers it) minus those
    without one (the index on source_ip finds them)."""
    import sqlalchemy as sa

    s = host.q_ses
    types: "Counter[Optional[str]]" = Counter()
    for t, n in conn.execute(sa.text(f"SELECT snapshot_ip_type, COUNT(*) FROM {s} GROUP BY snapshot_ip_type")):
        types[None if t in (None, "") else str(t)] += int(n)
    report.sessions_total = sum(types.values())
    no_ip = f"SELECT snapshot_ip_type, COUNT(*) FROM {s} WHERE source_ip IS NULL OR source_ip = '' GROUP BY snapshot_ip_type"
    for t, n in conn.execute(sa.text(no_ip)):
        types[None if t in (None, "") else str(t)] -= int(n)
    report.session_types = Counter({k: v for k, v in types.items() if v > 0})
    report.sessions_known_ip = sum(report.session_types.values())


def format_report(report: BackfillReport) -> str:
    """The summary table printed at the end of a backfill."""
    order = [t.value for t in IPType]
    extra = sorted(k for k in report.session_types if k is not None and k not in order)
    lines: List[str] = []
    verb = "would set" if report.dry_run else "set"
    head = "DRY RUN — nothing was changed. " if report.dry_run else ""
    lines.append(
        f"{head}ip_inventory: {report.inventory_seen:,} of {report.inventory_total:,} rows "
        f"({report.classified:,} classified, {report.fresh:,} fresh kept, {report.invalid:,} invalid); "
        f"orphan session IPs: {report.orphan_ips:,}; {report.batches} batches in {report.seconds:.1f} s"
        f" ({report.classify_seconds:.1f} s classifying)"
    )
    w = 12
    lines.append(f"{'ip_type':<{w}} {'IPs':>10} {'orphan IPs':>11} {'sessions now':>13}"
                 + (f" {'would set':>10}" if report.dry_run else ""))  # fmt: skip
    for t in order + extra:
        row = (
            f"{t:<{w}} {report.ip_types.get(t, 0):>10,} {report.orphan_types.get(t, 0):>11,} "
            f"{report.session_types.get(t, 0):>13,}"
        )
        if report.dry_run:
            row += f" {report.sessions_would_update.get(t, 0):>10,}"
        lines.append(row)
    lines.append(f"{'(no type)':<{w}} {'':>10} {'':>11} {report.session_types.get(None, 0):>13,}")
    lines.append(
        f"{'total':<{w}} {sum(report.ip_types.values()):>10,} {report.orphan_ips:>11,} {report.sessions_known_ip:>13,}"
        + (f" {sum(report.sessions_would_update.values()):>10,}" if report.dry_run else "")
    )
    typed = report.sessions_known_ip - report.session_types.get(None, 0)
    if report.dry_run:
        typed += sum(report.sessions_would_update.values())
    lines.append(
        f"sessions: {report.sessions_total:,} total, {report.sessions_known_ip:,} with a source IP; "
        f"{verb} snapshot_ip_type on {(sum(report.sessions_would_update.values()) if report.dry_run else report.sessions_updated):,}"
    )
    cov = report.coverage * 100
    cov_text = f"{math.floor(cov * 100) / 100:.2f}%" if cov < 100 else "100.00%"
    lines.append(
        f"coverage{' (after the run)' if report.dry_run else ''}: {cov_text} "
        f"({min(typed, report.sessions_known_ip):,} of {report.sessions_known_ip:,} sessions with a known source IP have a type)"
    )
    if not report.complete:
        lines.append("INCOMPLETE: stopped before the end; run again to continue (finished batches are kept)")
    if report.unwritable:
        lines.append(f"warning: {report.unwritable:,} ip_inventory rows hold a non-object enrichment: answer not stored")
    return "\n".join(lines)
