"""The columnar batch: what :meth:`IPClassifier.classify_columns` returns.

The engine writes the answers of a batch as typed columns (Go package
classifier/wire, ``AppendColumns``: its comment is the format). This module
reads that block without one Python object per answer: every column is a
``memoryview`` over the block (small integer codes plus a string table per
text column, float64, int64 microseconds, uint32, uint8), and the
converters hand those buffers to pyarrow, pandas or polars without a copy
per row when those libraries are installed.
"""

from __future__ import annotations

import gc
import struct
from array import array
from datetime import datetime, timezone
from operator import itemgetter, le
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import _wire
from ._errors import ClassifierError
from .types import IPClassification

__all__ = ["Columns", "COLUMNS", "MAGIC", "decode_columns"]

#: The block's first 8 bytes (wire.ColumnsMagic); checked at load.
MAGIC = b"IPCOLS\x00\x01"

#: The columns this package reads, in order (wire.ColumnNames): every
#: field of the record, ``error`` (the message of a row whose input failed)
#: and ``answer``.
COLUMNS = (
    "ip", "ip_type", "provider", "region", "service", "confidence", "source",
    "classified_at", "matched_prefix", "snapshot", "snapshot_at", "data_age_seconds",
    "stale", "asn", "as_name", "cache_tier", "country", "asn_source", "error", "answer", "tags",
    "evidence", "as_of", "history_short", "key",
)  # fmt: skip
#: The columns the frames hold: all but evidence (a list of tuples per
#: row, which :meth:`Columns.column` and the rows give) and key (the
#: engine's name of an answer, for this process only).
FRAME_COLUMNS = tuple(c for c in COLUMNS if c not in ("evidence", "key"))

# Column kinds (wire.Kind*) and the memoryview format of their values.
CODE, STR, U32, F64, I64, BOOL = 1, 2, 3, 4, 5, 6
_FORMAT = {U32: "I", F64: "d", I64: "q", BOOL: "B"}
_TIMES = ("classified_at", "snapshot_at", "as_of")  # int64 µs since the epoch
_NULL_TIMES = ("snapshot_at", "as_of")  # 0 = none
_UTC = timezone.utc


class _Column:
    """One column of the block: its kind and its buffers."""

    __slots__ = ("name", "kind", "bufs", "_table", "_py")

    def __init__(self, name: str, kind: int, bufs: List[memoryview]) -> None:
        self.name, self.kind, self.bufs = name, kind, bufs
        self._table: Optional[Tuple[Optional[str], ...]] = None
        self._py: Optional[Tuple[Any, ...]] = None


def _fail(why: str) -> ClassifierError:
    return ClassifierError(f"malformed columnar batch from libipclassifier: {why}")


def decode_columns(data: bytes) -> "Columns":
    """Read a columnar batch (checks every length and offset it relies on;
    raises ClassifierError on a block it cannot read)."""
    mv = memoryview(data)
    if len(mv) < 24 or bytes(mv[:8]) != MAGIC:
        raise _fail("bad header")
    rows, ncols = struct.unpack_from("<QQ", mv, 8)
    if rows > len(mv) or ncols > 1024:
        raise _fail(f"{rows} rows, {ncols} columns")
    pos = 24
    cols: Dict[str, _Column] = {}
    for _ in range(ncols):
        if pos + 8 > len(mv):
            raise _fail("truncated column header")
        kind, nbuf, nlen = struct.unpack_from("<BBH", mv, pos)
        pos += 8
        if pos + nlen > len(mv):
            raise _fail("truncated column name")
        try:
            name = bytes(mv[pos : pos + nlen]).decode()
        except UnicodeDecodeError:
            raise _fail("column name is not UTF-8") from None
        pos += (nlen + 7) & ~7
        bufs = []
        for _ in range(nbuf):
            if pos + 8 > len(mv):
                raise _fail(f"column {name}: truncated buffer")
            (n,) = struct.unpack_from("<Q", mv, pos)
            pos += 8
            if n > len(mv) - pos:
                raise _fail(f"column {name}: buffer of {n} bytes")
            bufs.append(mv[pos : pos + n])
            pos += (n + 7) & ~7
        col = _Column(name, kind, bufs)
        _check(col, rows)
        cols[name] = col
    missing = [c for c in COLUMNS if c not in cols and c != "evidence"]  # evidence: when asked for
    if missing:
        raise _fail(f"no column {', '.join(missing)}")
    return Columns(rows, cols)


def _offsets(col: _Column, buf: memoryview, n: int, data: memoryview) -> memoryview:
    """The n+1 int32 offsets of a string buffer, checked against data."""
    if len(buf) != 4 * (n + 1):
        raise _fail(f"column {col.name}: {len(buf)} bytes of offsets for {n} strings")
    offs = buf.cast("i")
    if offs[0] != 0 or offs[n] != len(data):
        raise _fail(f"column {col.name}: offsets do not span its text")
    if not all(map(le, offs[:-1], offs[1:])):  # a loop in C: a few ns per string
        raise _fail(f"column {col.name}: offsets go back")
    return offs


def _check(col: _Column, rows: int) -> None:
    """Check the buffers of a column this package knows; others are kept
    unread (a newer engine may add kinds)."""
    b = col.bufs
    if col.kind == CODE:
        if len(b) != 3 or len(b[0]) != 4 * rows or len(b[1]) < 8 or len(b[1]) % 4:
            raise _fail(f"column {col.name}: bad code buffers")
        n = len(b[1]) // 4 - 1
        b[1] = _offsets(col, b[1], n, b[2])
        b[0] = b[0].cast("I")  # codes are checked where they are used: a bad one never reaches a frame
    elif col.kind == STR:
        if len(b) != 2:
            raise _fail(f"column {col.name}: bad string buffers")
        b[0] = _offsets(col, b[0], rows, b[1])
    elif col.kind in _FORMAT:
        size = struct.calcsize(_FORMAT[col.kind])
        if len(b) != 1 or len(b[0]) != size * rows:
            raise _fail(f"column {col.name}: {len(b[0]) if b else 0} bytes for {rows} rows")
        b[0] = b[0].cast(_FORMAT[col.kind])  # type: ignore[call-overload]


def _getter(rows: Sequence[int]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """A function picking the items at rows out of a sequence, as a tuple
    (one C call: operator.itemgetter)."""
    if len(rows) == 1:
        i = rows[0]
        return lambda seq: (seq[i],)
    return itemgetter(*rows)


class Columns:
    """The answers of one batch as typed columns, one row per input in
    input order (from :meth:`IPClassifier.classify_columns`).

    Columns (``names``): those of :class:`IPClassification` — ``ip``,
    ``ip_type``, ``provider``, ``region``, ``service``, ``confidence``,
    ``source``, ``classified_at``, ``matched_prefix``, ``snapshot``,
    ``snapshot_at``, ``data_age_seconds``, ``stale``, ``asn``, ``as_name``,
    ``cache_tier``, ``country``, ``asn_source``, ``tags``, ``evidence``,
    ``as_of``, ``history_short`` — ``error``: the message of a row whose
    input failed (its ``ip`` is the input, the other columns are empty),
    None elsewhere, ``answer``, a number shared by rows equal in all
    but ``ip`` (``key`` included), and ``key``, the engine's name of the answer in this
    process (0 = none; not in the frames). ``failed`` counts the failed rows. The ``tags`` column is a
    text column of the tags joined by "," (few distinct sets) and
    ``evidence`` one of the record's evidence text; :meth:`column` gives
    tuples, as ``IPClassification`` does, and frames the joined tags (and
    no evidence). :meth:`answers` builds the rows as objects.

    Text columns other than ``ip`` are codes into a string table
    (:meth:`codes`, :meth:`table`; code 0 is None); numbers are typed
    buffers (:meth:`values`: ``confidence`` and ``data_age_seconds`` float64,
    NaN for none; ``classified_at``, ``snapshot_at`` and ``as_of`` int64
    microseconds since the epoch, 0 for none; ``asn`` uint32, 0 for none;
    ``stale`` and ``history_short`` uint8). :meth:`column` and :meth:`to_pydict` build Python values;
    :meth:`to_arrow`, :meth:`to_pandas` and :meth:`to_polars` build frames
    from the buffers (those libraries are optional).
    """

    __slots__ = ("_rows", "_cols")

    def __init__(self, rows: int, cols: Dict[str, _Column]) -> None:
        self._rows, self._cols = rows, cols

    def __len__(self) -> int:
        return self._rows

    def __repr__(self) -> str:
        return f"<Columns {self._rows} rows, {self.failed} failed>"

    @property
    def names(self) -> Tuple[str, ...]:
        """The column names, in the engine's order."""
        return tuple(self._cols)

    @property
    def failed(self) -> int:
        """How many rows hold an error instead of an answer."""
        return self._rows - array("I", self.codes("error")).count(0)

    def _col(self, name: str, *kinds: int) -> _Column:
        col = self._cols.get(name)
        if col is None:
            raise KeyError(f"no column {name!r}; columns: {', '.join(self._cols)}")
        if kinds and col.kind not in kinds:
            raise TypeError(f"column {name!r} is not of that kind")
        return col

    def codes(self, name: str) -> memoryview:
        """The uint32 codes of a text column (format "I"), one per row."""
        return self._col(name, CODE).bufs[0]

    def table(self, name: str) -> Tuple[Optional[str], ...]:
        """The strings a text column's codes index; entry 0 is None."""
        col = self._col(name, CODE)
        if col._table is None:
            offs, data = col.bufs[1].tolist(), bytes(col.bufs[2])
            text = data.decode()
            if len(text) == len(data):  # ASCII: byte offsets are text offsets, one decode for the table
                col._table = (None,) + tuple(text[a:b] for a, b in zip(offs[1:-1], offs[2:]))
            else:
                col._table = (None,) + tuple(data[a:b].decode() for a, b in zip(offs[1:-1], offs[2:]))
        return col._table

    def values(self, name: str) -> memoryview:
        """The typed buffer of a numeric column (float64 "d", int64 "q",
        uint32 "I" or uint8 "B"), one value per row."""
        return self._col(name, U32, F64, I64, BOOL).bufs[0]

    def column(self, name: str) -> List[Any]:
        """A column as Python values, as IPClassification's attributes
        would hold them (None for none; times as UTC datetimes; tags and
        evidence as tuples)."""
        return self._pick(name, None)

    def _py_table(self, col: _Column) -> Tuple[Any, ...]:
        """A code column's table as the Python values its codes stand for
        (built once per column)."""
        if col._py is None:
            t: Tuple[Any, ...] = self.table(col.name)
            if col.name == "ip_type":
                try:
                    t = (None,) + tuple(map(_wire.TYPES.__getitem__, t[1:]))
                except KeyError as e:
                    raise _fail(f"column ip_type: no type {e}") from None
            elif col.name == "tags":  # the joined text → IPClassification.tags' tuple
                t = ((),) + tuple(map(_wire.tag_tuple, t[1:]))
            elif col.name == "evidence":
                t = ((),) + tuple(map(_wire.evidence, t[1:]))
            col._py = t
        return col._py

    def _pick(self, name: str, rows: Optional[Callable[[Sequence[Any]], Sequence[Any]]]) -> List[Any]:
        """Column name as Python values (see column) at the rows the
        getter rows picks out of a sequence (an itemgetter), or at every
        row for None."""
        col = self._col(name)
        if col.kind == CODE:
            t = self._py_table(col)
            codes = col.bufs[0]
            try:  # loops in C
                if rows is None:
                    return list(map(t.__getitem__, codes))
                return list(_getter(rows(codes))(t))
            except IndexError:
                raise _fail(f"column {name}: a code beyond its table") from None
        if col.kind == STR:
            offs, data = col.bufs[0].tolist(), bytes(col.bufs[1])
            text = data.decode()
            if len(text) == len(data):  # ASCII, as addresses are: byte offsets are text offsets
                strs = [text[a:b] for a, b in zip(offs, offs[1:])]
            else:
                strs = [data[a:b].decode() for a, b in zip(offs, offs[1:])]
            return strs if rows is None else list(rows(strs))
        vals: Sequence[Any] = col.bufs[0] if rows is None else rows(col.bufs[0])
        if name in _TIMES:  # few distinct times: each converted once, then a lookup per row (in C)
            times: Dict[int, Optional[datetime]] = {v: _wire.from_us(v) if v else None for v in set(vals)}
            return list(map(times.__getitem__, vals))
        if col.kind == BOOL:
            return [v != 0 for v in vals]
        if name == "asn":
            return [v or None for v in vals]
        if name == "data_age_seconds":
            return [None if v != v else v for v in vals]
        return list(vals)

    def answers(self, rows: Optional[Sequence[int]] = None) -> List[Union[IPClassification, str]]:
        """The rows as :class:`IPClassification` objects, in row order
        (or only those of rows, in that order), the message for a row that
        failed. Each distinct answer (the ``answer`` column) is read from
        the columns once; its rows share its values (and strings) and
        differ in ``ip``. Every row is an object of its own. Needs the
        evidence column (``classify_columns(items, evidence=True)``)."""
        if "evidence" not in self._cols:
            raise KeyError("answers() needs the evidence column: classify_columns(items, evidence=True)")
        # The cyclic GC would run every 700 new objects and walk the young
        # ones (a full collection walks the host's every object): the
        # objects built here hold no cycle, so it is paused while they are
        # built (as it was, if the host had it off), a third of the time.
        paused = gc.isenabled()
        if paused:
            gc.disable()
        try:
            return self._answers(rows)
        finally:
            if paused:
                gc.enable()

    def _answers(self, rows: Optional[Sequence[int]]) -> List[Union[IPClassification, str]]:
        ans = self.values("answer").tolist()
        n = self._rows
        first = dict(zip(reversed(ans), range(n - 1, -1, -1)))  # answer → its first row
        try:
            firsts = list(map(first.__getitem__, range(len(first))))
        except KeyError:
            raise _fail("answer numbers are not 0, 1, … in order of first appearance") from None
        ips = self._pick("ip", None)
        if not firsts:
            return []
        # An answer whose key was kept (by classify() or an earlier batch)
        # is that key's values with this batch's times; the others are
        # read from the columns, and their keys kept.
        keys = self._pick("key", _getter(firsts))
        bodies = [_wire.kept(k) if k else None for k in keys]
        values: List[Any] = [None] * len(firsts)
        new = [i for i, b in enumerate(bodies) if b is None]
        if new:
            if "evidence" not in self._cols:
                raise KeyError("answers() needs the evidence column: classify_columns(items, evidence=True)")
            at = _getter([firsts[i] for i in new])
            fields = [self._pick(f, at) if f != "ip" else [None] * len(new) for f in _wire.ATTRS]
            read: List[Any] = list(zip(*fields))
            if self.failed:
                errors = self._pick("error", at)
                read = [e if e is not None else v for e, v in zip(errors, read)]
            for i, v in zip(new, read):
                values[i] = v
                if keys[i] and type(v) is not str:
                    _wire.keep(keys[i], v)
        stamps: Optional[List[Any]] = None
        if len(new) < len(firsts):  # a kept key's values, with this batch's times and stale flag per row
            old = [i for i, b in enumerate(bodies) if b is not None]
            at = _getter([firsts[i] for i in old])
            varying = [self._pick(f, at) for f in ("classified_at", "snapshot_at", "data_age_seconds", "stale")]
            stamps = [None] * len(firsts)
            for i, stamp in zip(old, zip(*varying)):
                values[i], stamps[i] = bodies[i], stamp
        if rows is None:
            return _wire.rows(values, ans, ips, stamps)
        return _wire.rows(values, list(_getter(rows)(ans)), list(_getter(rows)(ips)), stamps)

    def to_pydict(self) -> Dict[str, List[Any]]:
        """Every column as a list of Python values (one object per cell:
        for small batches and tests; prefer a frame for big ones)."""
        return {name: self.column(name) for name in COLUMNS if name in self._cols}

    def __iter__(self) -> Iterator[str]:
        return iter([name for name in COLUMNS if name in self._cols])  # the keys of to_pydict

    # -- frames ------------------------------------------------------------

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table``: text columns as dictionary arrays over the
        codes, numbers and the ip strings over the block's buffers (no copy
        per row); none is null. Needs pyarrow."""
        import pyarrow as pa  # type: ignore[import-untyped, import-not-found, unused-ignore]
        import pyarrow.compute as pc  # type: ignore[import-untyped, import-not-found, unused-ignore]

        n = self._rows
        arrays, names = [], []
        for name in FRAME_COLUMNS:
            col = self._cols[name]
            b = col.bufs
            arr: Any
            if col.kind == CODE:
                k = len(b[1]) - 1
                # entry 0 ("", none) is a null of the dictionary: the codes stay as they are
                valid = pa.py_buffer(b"\xfe" + b"\xff" * (k // 8))
                table = pa.Array.from_buffers(pa.string(), k, [valid, pa.py_buffer(b[1]), pa.py_buffer(b[2])])
                idx = pa.Array.from_buffers(pa.uint32(), n, [None, pa.py_buffer(b[0])])
                if n and pc.max(idx).as_py() >= k:
                    raise _fail(f"column {name}: a code beyond its table")
                arr = pa.DictionaryArray.from_arrays(idx, table)
            elif col.kind == STR:
                arr = pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(b[0]), pa.py_buffer(b[1])])
            elif name in _TIMES:
                raw = pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(b[0])])
                ts = pa.Array.from_buffers(pa.timestamp("us", tz="UTC"), n, [None, pa.py_buffer(b[0])])
                arr = pc.if_else(pc.equal(raw, 0), pa.scalar(None, ts.type), ts) if name in _NULL_TIMES else ts
            elif col.kind == F64:
                raw = pa.Array.from_buffers(pa.float64(), n, [None, pa.py_buffer(b[0])])
                none = pa.scalar(None, pa.float64())
                arr = pc.if_else(pc.is_nan(raw), none, raw) if name == "data_age_seconds" else raw
            elif col.kind == U32:
                raw = pa.Array.from_buffers(pa.uint32(), n, [None, pa.py_buffer(b[0])])
                arr = pc.if_else(pc.equal(raw, 0), pa.scalar(None, pa.uint32()), raw) if name == "asn" else raw
            else:  # BOOL
                arr = pc.not_equal(pa.Array.from_buffers(pa.uint8(), n, [None, pa.py_buffer(b[0])]), 0)
            arrays.append(arr)
            names.append(name)
        return pa.Table.from_arrays(arrays, names=names)

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame``: text columns categorical (from the codes
        and tables, with numpy), numbers from the block's buffers. Needs
        pandas."""
        import numpy as np  # type: ignore[import-not-found, unused-ignore]
        import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]

        data: Dict[str, Any] = {}
        for name in FRAME_COLUMNS:
            col = self._cols[name]
            if col.kind == CODE:
                codes = np.frombuffer(col.bufs[0], dtype="<u4").astype(np.int64) - 1  # code 0 (none) → NaN
                if len(codes) and codes.max() >= len(col.bufs[1]) - 2:
                    raise _fail(f"column {name}: a code beyond its table")
                data[name] = pd.Categorical.from_codes(codes, categories=list(self.table(name)[1:]))
            elif col.kind == STR:
                data[name] = self.column(name)
            elif name in _TIMES:
                us = np.frombuffer(col.bufs[0], dtype="<i8")
                ts = pd.to_datetime(us, unit="us", utc=True)
                data[name] = ts.where(us != 0) if name in _NULL_TIMES else ts
            elif col.kind == U32:
                data[name] = pd.array(np.frombuffer(col.bufs[0], dtype="<u4"), dtype="UInt32")
                if name == "asn":
                    data[name][data[name] == 0] = pd.NA
            elif col.kind == BOOL:
                data[name] = np.frombuffer(col.bufs[0], dtype=np.uint8) != 0
            else:
                data[name] = np.frombuffer(col.bufs[0], dtype="<f8")
        return pd.DataFrame(data)

    def to_polars(self) -> Any:
        """A ``polars.DataFrame`` (through pyarrow when it is installed,
        else with numpy). Needs polars."""
        import polars as pl  # type: ignore[import-untyped, import-not-found, unused-ignore]

        try:
            import pyarrow  # noqa: F401  # type: ignore[import-untyped, import-not-found, unused-ignore]
        except ImportError:
            pass
        else:
            return pl.from_arrow(self.to_arrow())
        import numpy as np  # type: ignore[import-not-found, unused-ignore]

        series: List[Any] = []
        for name in FRAME_COLUMNS:
            col = self._cols[name]
            if col.kind == CODE:
                table = pl.Series(name, list(self.table(name)), dtype=pl.Utf8)
                s = table.gather(pl.Series(np.frombuffer(col.bufs[0], dtype="<u4")))
                series.append(s.cast(pl.Categorical).alias(name))
            elif col.kind == STR:
                series.append(pl.Series(name, self.column(name)))
            elif name in _TIMES:
                s = pl.Series(name, np.frombuffer(col.bufs[0], dtype="<i8")).cast(pl.Datetime("us", "UTC"))
                if name in _NULL_TIMES:
                    s = pl.select(pl.when(s.cast(pl.Int64) != 0).then(s)).to_series().alias(name)
                series.append(s)
            elif col.kind == U32:
                s = pl.Series(name, np.frombuffer(col.bufs[0], dtype="<u4"))
                series.append(pl.select(pl.when(s != 0).then(s)).to_series().alias(name) if name == "asn" else s)
            elif col.kind == BOOL:
                series.append(pl.Series(name, np.frombuffer(col.bufs[0], dtype=np.uint8) != 0))
            else:
                s = pl.Series(name, np.frombuffer(col.bufs[0], dtype="<f8"))
                series.append(s.fill_nan(None) if name == "data_age_seconds" else s)
        return pl.DataFrame(series)
