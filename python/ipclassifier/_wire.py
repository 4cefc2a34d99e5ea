"""The record codec's Python half: decode the tab-separated record of the
C ABI (Go package classifier/wire) into :class:`IPClassification`, build a
single answer from what was kept of its key and the head of ClassifyKeyed
(:func:`keyed`), and build a batch's objects from the values of its
distinct answers (:func:`rows`, which :meth:`Columns.answers` feeds from
the columnar batch).

:data:`FIELDS` is the record layout this module reads; the loader checks it
against the library's own list (the ``AbiInfo`` export) when it loads the
library, so a library and a package that disagree fail at load, not with
wrong answers. The names are IPClassification's attribute names too.
"""

from __future__ import annotations

import re
import struct
import sys
from datetime import datetime, timedelta, timezone
from operator import attrgetter
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar, Union

from ._errors import ClassifierError
from .types import Evidence, IPClassification, IPType

__all__ = [
    "FIELDS", "ERROR_MARK", "HEAD", "TYPES", "decode", "evidence", "from_us", "go_time", "iso_time", "keep", "kept",
    "keyed", "rows", "tag_tuple",
]  # fmt: skip

#: The record's fields in order (wire.Fields in Go). A newer engine only
#: appends fields, which are ignored here.
FIELDS = (
    "ip", "ip_type", "provider", "region", "service", "confidence", "source",
    "classified_at", "matched_prefix", "snapshot", "snapshot_at", "data_age_seconds",
    "stale", "asn", "as_name", "cache_tier", "country", "asn_source",
    "tags", "evidence", "as_of", "history_short",
)  # fmt: skip
_N = len(FIELDS)
#: IPClassification's fields in its order (the order of rows' values).
ATTRS = tuple(IPClassification.__dataclass_fields__)

#: The ip_type of an error record "input\t!error\tmessage" (wire.ErrorMark).
ERROR_MARK = "!error"


# Decoding (hot path: keep it flat)

_UTC = timezone.utc
_fromiso = datetime.fromisoformat
_new = object.__new__
TYPES: Dict[str, IPType] = {t.value: t for t in IPType}

_EVIDENCE_SEP = "\x1e"  # between evidence entries (wire.EvidenceSep)
_EVIDENCE_FIELD_SEP = "\x1f"  # between the fields of one (wire.EvidenceFieldSep)
_MEMO_MAX = 16384  # entries of each memo below; a full memo starts over

_K = TypeVar("_K")
_V = TypeVar("_V")


class _Memo(Dict[_K, _V]):
    """A bounded memo: key → make(key), computed on first use; past
    ``most`` entries it starts over. The fields of answers repeat (a few
    confidences and tag sets, the snapshot times, the entries of evidence
    lists: an AS-level verdict is shared by every address of the AS, a
    list's entry by every address of its prefix), and converting a text is
    slower than a dict lookup."""

    def __init__(self, make: Callable[[_K], _V], most: int = _MEMO_MAX) -> None:
        super().__init__()
        self.make, self.most = make, most

    def __missing__(self, key: _K) -> _V:
        v = self.make(key)
        if len(self) >= self.most:
            self.clear()
        self[key] = v
        return v


def _entry(entry: str) -> Evidence:
    """One evidence entry's text → Evidence."""
    f = entry.split(_EVIDENCE_FIELD_SEP)
    if len(f) < 6:
        raise ClassifierError(f"malformed evidence from libipclassifier: {entry!r}")
    src, snap, t, prov, matched, tag = f[:6]
    if t and t not in TYPES:
        raise ClassifierError(f"malformed evidence from libipclassifier: no type {t!r}")
    return Evidence(src, snap or None, TYPES[t] if t else None, prov or None, matched or None, tag or None)


_float: Callable[[str], float] = _Memo(float).__getitem__
_int: Callable[[str], int] = _Memo(int).__getitem__
_entries: Callable[[str], Evidence] = _Memo(_entry).__getitem__


def _tags(text: str) -> Tuple[str, ...]:
    return tuple(text.split(",")) if text else ()


def _evidence(text: str) -> Tuple[Evidence, ...]:
    return tuple(map(_entries, text.split(_EVIDENCE_SEP))) if text else ()


#: tag_tuple(text) is the tags tuple of a tags field (memoised, bounded).
tag_tuple: Callable[[str], Tuple[str, ...]] = _Memo(_tags).__getitem__
#: evidence(text) is the Evidence tuple of an evidence field, "" → ()
#: (memoised, bounded: a dict lookup when seen before; answers from one
#: prefix share it, and a list never seen before is mostly built from
#: entries seen before).
evidence: Callable[[str], Tuple[Evidence, ...]] = _Memo(_evidence).__getitem__


# Timestamps repeat: every answer from a snapshot shares its snapshot_at.
_ts: Callable[[str], datetime] = _Memo(_fromiso, 512).__getitem__


class _Draft:
    """A mutable twin of IPClassification with the same memory layout.

    decode fills a _Draft with plain attribute stores (a fraction of the
    cost of object.__setattr__ on a frozen dataclass, field by field), then
    makes it a real IPClassification by assigning __class__: the result is
    indistinguishable from one built by __init__. The Go engine validated
    the answer already, so __post_init__ has nothing to check. (Python 3.9
    has no dataclass slots: both classes then use a __dict__, which is just
    as compatible.)
    """

    if sys.version_info >= (3, 10):
        __slots__ = tuple(IPClassification.__dataclass_fields__)

    ip_type: IPType
    provider: Optional[str]
    confidence: float
    source: str
    classified_at: datetime
    ip: Optional[str]
    region: Optional[str]
    service: Optional[str]
    matched_prefix: Optional[str]
    snapshot: Optional[str]
    snapshot_at: Optional[datetime]
    data_age_seconds: Optional[float]
    stale: bool
    asn: Optional[int]
    as_name: Optional[str]
    cache_tier: Optional[str]
    country: Optional[str]
    asn_source: Optional[str]
    tags: Tuple[str, ...]
    evidence: Tuple[Evidence, ...]
    as_of: Optional[datetime]
    history_short: bool


def decode(rec: str) -> IPClassification:
    """One record → IPClassification, its fields stored straight into the
    answer (the single-call path: no tuple of values in between)."""
    f = rec.split("\t")
    if len(f) != _N:
        if len(f) < _N:
            raise ClassifierError(f"malformed record from libipclassifier: {rec!r}")
        f = f[:_N]  # fields appended by a newer engine
    (ip, t, prov, region, service, conf, src, cat, matched, snap, snap_at, age, stale, asn, as_name, tier, cc, asrc,
     tags, ev, as_of, short) = f  # fmt: skip
    o = _new(_Draft)
    o.ip_type = TYPES[t]
    o.provider = prov or None
    o.confidence = _float(conf)
    o.source = src
    o.classified_at = _fromiso(cat)
    o.ip = ip
    o.region = region or None
    o.service = service or None
    o.matched_prefix = matched or None
    o.snapshot = snap or None
    o.snapshot_at = _ts(snap_at) if snap_at else None
    o.data_age_seconds = _float(age) if snap else None
    o.stale = stale == "1"
    o.asn = None if asn == "0" else _int(asn)
    o.as_name = as_name or None
    o.cache_tier = tier or None
    o.country = cc or None
    o.asn_source = asrc or None
    o.tags = tag_tuple(tags)
    o.evidence = evidence(ev)
    o.as_of = _ts(as_of) if as_of else None
    o.history_short = short == "1"
    o.__class__ = IPClassification  # type: ignore[assignment]
    return o  # type: ignore[return-value]


#: _values(answer) is the tuple of an answer's values in ATTRS order.
_values: Callable[[IPClassification], Tuple[Any, ...]] = attrgetter(*ATTRS)

#: The head of ClassifyKeyed (wire.AppendHead): key, classified_at (the
#: record's text), snapshot_at (µs since the epoch, 0 = none),
#: data_age_seconds (NaN = none), flags, length of the address that follows.
HEAD = struct.Struct("<Q32sqdII")
_head = HEAD.unpack_from
_HEAD_STALE, _HEAD_IP, _HEAD_RECORD = 1, 2, 4  # wire.HeadStale, HeadIP, HeadRecord
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)


def from_us(us: int) -> datetime:
    """The UTC datetime of us microseconds since the Unix epoch (exact);
    ValueError when it is out of datetime's range."""
    try:
        return _EPOCH + timedelta(microseconds=us)
    except OverflowError:
        raise ValueError(f"time {us} µs from the epoch is out of range") from None


# An RFC 3339 time as Go writes it (time.Time's JSON and MarshalText).
_GO_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")


def go_time(text: str, *, ceil: bool = False) -> datetime:
    """The aware datetime of an RFC 3339 time as Go writes it ("Z" or an
    offset, up to nine fractional digits), on every Python this package
    runs on (3.9's fromisoformat reads neither "Z" nor other than 3 or 6
    digits); digits beyond the sixth are dropped, or, with ceil, round the
    time up to the next microsecond when they are not all zero. ValueError
    for any other text."""
    m = _GO_TIME.fullmatch(text)
    if m is None:
        raise ValueError(f"not an RFC 3339 time as Go writes it: {text!r}")
    head, frac, zone = m.groups()
    t = datetime.fromisoformat(
        head + ("." + (frac + "00000")[:6] if frac else "") + ("+00:00" if zone == "Z" else zone)
    )
    if ceil and frac and frac[6:].strip("0"):
        t += timedelta(microseconds=1)
    return t


# The fraction of the seconds of an ISO 8601 time.
_FRACTION = re.compile(r"(?<=:\d\d)\.\d+")


def iso_time(text: str) -> datetime:
    """The aware datetime of an ISO 8601 date, or date and time, as a host
    or a user writes it (Go's form too), on every Python this package runs
    on; digits beyond the sixth are dropped, and a time without a zone is
    UTC. ValueError for any other text."""
    text = text.strip()
    if text.endswith(("Z", "z")):  # 3.9's fromisoformat reads no "Z" ...
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: (m[0] + "00000")[:7], text, count=1)  # ... and only 3 or 6 digits
    t = datetime.fromisoformat(text)
    return t if t.tzinfo else t.replace(tzinfo=_UTC)


#: snapshot_at by its µs (few distinct: one per snapshot).
_ts_us: Callable[[int], datetime] = _Memo(from_us, 512).__getitem__
_BODIES_MAX = 32768
#: What a key's answers share: every value in ATTRS order (those of the
#: first answer seen for the ones that differ: see rows).
_bodies: Dict[int, Tuple[Any, ...]] = {}
#: kept(key) is what was kept of key's answers (see keep), or None.
kept: Callable[[int], Optional[Tuple[Any, ...]]] = _bodies.get


def keep(key: int, values: Tuple[Any, ...]) -> None:
    """Keep the values (in ATTRS order) of an answer of a nonzero key
    (Result.Key in Go: answers of one key differ only in ip,
    classified_at, snapshot_at, data_age_seconds and stale). Bounded: past
    _BODIES_MAX keys it starts over."""
    if len(_bodies) >= _BODIES_MAX:
        _bodies.clear()
    _bodies[key] = values


def keyed(out: bytearray, n: int, ip: str) -> Optional[IPClassification]:
    """The answer ClassifyKeyed wrote into out[:n] for the input ip, or
    None when it holds only the head of a key not kept here (ask again
    with the record)."""
    key, at, snap, age, flags, iplen = _head(out)
    if flags & (_HEAD_IP | _HEAD_RECORD):
        pos = HEAD.size
        if flags & _HEAD_IP:
            ip = out[pos : pos + iplen].decode()
            pos += iplen
        if flags & _HEAD_RECORD:
            answer = decode(out[pos:n].decode())
            if key:
                keep(key, _values(answer))
            return answer
    body = _bodies.get(key)
    if body is None:
        return None
    o = _new(_Draft)
    (
        o.ip_type, o.provider, o.confidence, o.source, _, _, o.region, o.service,
        o.matched_prefix, o.snapshot, _, _, _, o.asn, o.as_name,
        o.cache_tier, o.country, o.asn_source, o.tags, o.evidence, o.as_of, o.history_short,
    ) = body  # fmt: skip
    o.ip = ip
    o.classified_at = _fromiso(at.decode())
    o.snapshot_at = _ts_us(snap) if snap else None
    o.data_age_seconds = None if age != age else age
    o.stale = flags & _HEAD_STALE == _HEAD_STALE
    o.__class__ = IPClassification  # type: ignore[assignment]
    return o  # type: ignore[return-value]


def rows(
    values: List[Any], answer: Sequence[int], ips: Sequence[str], stamps: Optional[List[Any]] = None
) -> List[Union[IPClassification, str]]:
    """The answers of the rows of a batch: row i is answer answer[i], whose
    values (in ATTRS order; a str for an error: its message) are
    values[answer[i]], with ips[i] as its ip, and, when stamps[answer[i]]
    is a tuple (the values of a kept key: classified_at, snapshot_at,
    data_age_seconds, stale differ between its answers), those four from
    it. One object per row, filled with plain attribute stores (see
    _Draft)."""
    out: List[Union[IPClassification, str]] = []
    append = out.append
    new, draft, cls = _new, _Draft, IPClassification
    if stamps is None:
        stamps = [None] * len(values)
    for a, ip in zip(answer, ips):
        v = values[a]
        if type(v) is str:
            append(v)
            continue
        o = new(draft)
        (
            o.ip_type, o.provider, o.confidence, o.source, o.classified_at, _, o.region, o.service,
            o.matched_prefix, o.snapshot, o.snapshot_at, o.data_age_seconds, o.stale, o.asn, o.as_name,
            o.cache_tier, o.country, o.asn_source, o.tags, o.evidence, o.as_of, o.history_short,
        ) = v  # fmt: skip
        o.ip = ip
        s = stamps[a]
        if s is not None:
            o.classified_at, o.snapshot_at, o.data_age_seconds, o.stale = s
        o.__class__ = cls  # type: ignore[assignment]
        append(o)  # type: ignore[arg-type]
    return out
