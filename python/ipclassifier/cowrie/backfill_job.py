"""The backfill of a cowrieprocessor database: every ``ip_inventory`` row
classified (Pass-4 rules, the answer stored in its enrichment) and
``session_summaries.snapshot_ip_type`` filled with set-based SQL, one
transaction per batch; resumable, idempotent, with a dry-run mode.

SQLAlchemy 2 Core throughout (the ``[cowrie]`` extra): the statements are
Table/select/insert/update constructs, compiled per dialect (SQLite with
JSON1, PostgreSQL with json/jsonb). What has no construct stays a
driver-level string: PRAGMA, SET LOCAL, ANALYZE and COPY.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, Union

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import DropTable
from sqlalchemy.sql.elements import ColumnElement

from .._wire import go_time
from ..types import IPClassification, IPType
from .enrichment import (
    DEFAULT_MAX_AGE,
    ENRICHMENT_KEY,
    UNKNOWN,
    AsnInputs,
    _as_dict,
    _parse_asn,
    _utcnow,
    asn_inputs,
    classification_record,
    is_fresh,
    log,
    stored_ip_type,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..classifier import IPClassifier

__all__ = [
    "BackfillError",
    "BackfillProgress",
    "BackfillReport",
    "backfill",
    "database_url",
    "format_report",
]


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
    # --as-of-session-time: (IP, epoch) groups classified as of their
    # time, those of them flagged history_short, those whose answer is not
    # the answer as of now, sessions typed that way
    as_of_groups: int = 0
    as_of_history_short: int = 0
    as_of_changed: int = 0
    sessions_as_of: int = 0
    # type (None = no type) → sessions with a known IP, at the end
    session_types: "Counter[Optional[str]]" = field(default_factory=Counter)
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
            "as_of_groups": self.as_of_groups,
            "as_of_history_short": self.as_of_history_short,
            "as_of_changed": self.as_of_changed,
            "sessions_as_of": self.sessions_as_of,
        }


_TMP = "ipclassifier_backfill_tmp"
_TMP_AT = "ipclassifier_backfill_at_tmp"
_TMP_EPOCHS = "ipclassifier_backfill_epochs_tmp"
# COPY has no SQLAlchemy construct (a PostgreSQL utility statement).
_COPY_TMP = f"COPY {_TMP} (ip, ip_type, record) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (ip, ip_type))"


def database_url(db: str) -> sa.engine.URL:
    """An SQLAlchemy URL from a database URL string, with a PostgreSQL
    driver that is installed: ``postgres://`` and ``postgresql://`` (no
    driver named) become ``postgresql+psycopg2://``, else
    ``postgresql+psycopg://`` (SQLAlchemy 2.1 defaults to psycopg 3, 2.0 to
    psycopg2; either may be the one missing). Raises ValueError."""
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


def _engine(db: Union[str, Engine, Connection]) -> Tuple[Engine, bool]:
    """(engine, owned): a URL becomes a new Engine (disposed at the end)."""
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
    """The two host tables as the backfill sees them (checked, typed), and
    the temporary table of a batch."""

    def __init__(self, conn: Connection, inventory: str, sessions: str) -> None:
        self.dialect = conn.dialect.name
        insp = sa.inspect(conn)
        for name in (inventory, sessions):
            if not insp.has_table(name):
                raise BackfillError(
                    f"table {name!r} does not exist in this database (is it the cowrieprocessor database?)"
                )
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
        enr_type: Any
        if self.pg and isinstance(etype, postgresql.JSONB):
            self.enrichment_kind = "jsonb"
            enr_type = postgresql.JSONB(none_as_null=True)
        elif isinstance(etype, sa.JSON):
            self.enrichment_kind = "json"
            enr_type = sa.JSON(none_as_null=True)
        else:
            self.enrichment_kind = "text"
            enr_type = sa.Text()
        self.has_current_asn = "current_asn" in icols
        self.has_updated_at = "enrichment_updated_at" in icols
        self.has_snapshot_asn = "snapshot_asn" in scols
        self.has_first_event = "first_event_at" in scols
        md = sa.MetaData()
        icolumns: List[Any] = [
            sa.Column("ip_address", sa.String(45), primary_key=True),
            sa.Column("enrichment", enr_type),
        ]
        if self.has_current_asn:
            icolumns.append(sa.Column("current_asn", sa.BigInteger))
        if self.has_updated_at:
            icolumns.append(sa.Column("enrichment_updated_at", sa.DateTime(timezone=True)))
        self.inv = sa.Table(inventory, md, *icolumns)
        scolumns: List[Any] = [sa.Column("source_ip", sa.String(45)), sa.Column("snapshot_ip_type", sa.Text)]
        if self.has_snapshot_asn:
            scolumns.append(sa.Column("snapshot_asn", sa.BigInteger))
        if self.has_first_event:
            scolumns.append(sa.Column("first_event_at", sa.DateTime(timezone=True)))
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
        # --as-of-session-time: the history's epochs (see _history_epochs):
        # epoch idx begins at start (epoch 0, before the first start, has no
        # row); and the type of each (ip, epoch) whose answer as of the
        # epoch is not the batch's answer as of now (tmp.ip_type), with the
        # epoch's bounds [lo, hi) (NULL: unbounded).
        self.epochs = sa.Table(
            _TMP_EPOCHS,
            md,
            sa.Column("start", sa.DateTime(timezone=True), primary_key=True),
            sa.Column("idx", sa.Integer, nullable=False),
            prefixes=["TEMPORARY"],
        )
        self.tmp_at = sa.Table(
            _TMP_AT,
            md,
            sa.Column("ip", sa.String(64), primary_key=True),
            sa.Column("epoch", sa.Integer, primary_key=True),
            sa.Column("lo", sa.DateTime(timezone=True), nullable=True),
            sa.Column("hi", sa.DateTime(timezone=True), nullable=True),
            sa.Column("ip_type", sa.String(16), nullable=False),
            prefixes=["TEMPORARY"],
        )
        # The same tables qualified by the temporary schema, for the DROP: it
        # can only ever hit our temporary table, never a host table.
        self.tmp_qualified = sa.Table(_TMP, sa.MetaData(), schema="pg_temp" if self.pg else "temp")
        self.tmp_at_qualified = sa.Table(_TMP_AT, sa.MetaData(), schema="pg_temp" if self.pg else "temp")
        self.epochs_qualified = sa.Table(_TMP_EPOCHS, sa.MetaData(), schema="pg_temp" if self.pg else "temp")
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

    def untyped(self, include_unknown: bool) -> ColumnElement[bool]:
        """Sessions the backfill types: no snapshot_ip_type yet (or, with
        include_unknown, an empty or "unknown" one)."""
        t: ColumnElement[Any] = self.ses.c.snapshot_ip_type
        if include_unknown:
            return sa.or_(t.is_(None), t == "", t == UNKNOWN)
        return t.is_(None)


def _sqlite_version(conn: Connection) -> Tuple[int, ...]:
    v = conn.execute(sa.select(sa.func.sqlite_version())).scalar()
    return tuple(int(p) for p in str(v).split(".")[:3])


def _sqlite_has_json(conn: Connection) -> bool:
    try:
        conn.execute(sa.select(sa.func.json_set("{}", "$.a", sa.func.json("1")))).scalar()
        return True
    except sa.exc.DBAPIError:
        return False


def _setup_temp(conn: Connection, host: _Host, epochs: List[datetime]) -> None:
    if host.sqlite:  # PRAGMAs have no SQLAlchemy construct
        conn.exec_driver_sql("PRAGMA temp_store = MEMORY")
        conn.exec_driver_sql("PRAGMA cache_size = -131072")  # 128 MiB, this connection only
    _drop_temp(conn, host)
    host.tmp.create(conn)
    host.tmp_at.create(conn)
    host.epochs.create(conn)
    if epochs:
        conn.execute(sa.insert(host.epochs), [{"start": t, "idx": k + 1} for k, t in enumerate(epochs)])
    if host.pg:
        conn.exec_driver_sql(f"ANALYZE {_TMP_EPOCHS}")
    conn.commit()


def _drop_temp(conn: Connection, host: _Host) -> None:
    conn.execute(DropTable(host.tmp_qualified, if_exists=True))
    conn.execute(DropTable(host.tmp_at_qualified, if_exists=True))
    conn.execute(DropTable(host.epochs_qualified, if_exists=True))


def _history_epochs(classifier: "IPClassifier") -> List[datetime]:
    """The starts of the history's epochs (the engine's Stats
    ``history_epochs``: within one epoch an address has one answer), UTC,
    each rounded up to the microsecond: a time of a microsecond database
    column is at or after an epoch's start exactly when it is at or after
    the start so rounded (Python keeps six of Go's nine digits). Starts
    within one microsecond round to one: a microsecond column cannot tell
    them apart, and the engine answers each group as of its own time."""
    out: List[datetime] = []
    for text in classifier.get_stats().get("history_epochs") or []:
        t = go_time(text, ceil=True).astimezone(timezone.utc)
        if not out or t != out[-1]:  # the starts come in order, and rounding keeps it
            out.append(t)
    return out


def _fill_temp(conn: Connection, host: _Host, rows: List[Dict[str, Any]]) -> None:
    conn.execute(sa.delete(host.tmp))
    if not rows:
        return
    if not (host.pg and _copy_temp(conn, rows)):
        conn.execute(sa.insert(host.tmp), rows)
    if host.pg:
        conn.exec_driver_sql(f"ANALYZE {_TMP}")  # fresh statistics for the planner's join choice


def _copy_temp(conn: Connection, rows: List[Dict[str, Any]]) -> bool:
    """PostgreSQL: fill the temporary table with COPY (psycopg2 or psycopg
    3) in the current transaction; False when the driver cannot."""
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
    try:
        if copy_expert is not None:
            buf.seek(0)
            copy_expert(_COPY_TMP, buf)
        else:
            assert copy is not None
            with copy(_COPY_TMP) as cp:
                cp.write(buf.getvalue())
    finally:
        cur.close()
    return True


def _enrichment_update(host: _Host) -> Tuple[ColumnElement[Any], ColumnElement[bool]]:
    """(new enrichment, which rows may take it) for the UPDATE of
    ip_inventory: ``tmp.record`` set as ``enrichment['ip_classification']``
    in SQL (jsonb_set / json_set), so a concurrent writer of the other keys
    (Passes 1-3) loses nothing. SQL NULL and JSON null count as an empty
    object; any other non-object (an array, a string) is left alone
    (counted as unwritable)."""
    inv, tmp, f = host.inv, host.tmp, sa.func
    col = inv.c.enrichment
    if host.pg:
        e: ColumnElement[Any] = sa.cast(col, postgresql.JSONB) if host.enrichment_kind == "json" else col
        empty = sa.cast(sa.literal("{}"), postgresql.JSONB)
        base = sa.case((sa.or_(col.is_(None), f.jsonb_typeof(e) == "null"), empty), else_=e)
        path = sa.literal([ENRICHMENT_KEY], postgresql.ARRAY(sa.Text))
        value: ColumnElement[Any] = f.jsonb_set(base, path, tmp.c.record, type_=postgresql.JSONB)
        if host.enrichment_kind == "json":
            value = sa.cast(value, sa.JSON)
        return value, sa.or_(col.is_(None), f.jsonb_typeof(e).in_(["object", "null"]))
    text = sa.type_coerce(col, sa.Text)  # SQLite keeps JSON as text; no JSON (de)serialising of the literals
    base = sa.case((sa.or_(text.is_(None), f.json_type(text) == "null"), sa.literal("{}")), else_=text)
    if host.update_from:
        record: ColumnElement[Any] = tmp.c.record
    else:  # SQLite < 3.33: correlated form
        r = tmp.alias("r")
        record = sa.select(r.c.record).where(r.c.ip == inv.c.ip_address).scalar_subquery()
    value = f.json_set(base, f"$.{ENRICHMENT_KEY}", f.json(record))
    # json_type() raises on malformed JSON: CASE makes json_valid() decide first.
    is_object = sa.case(
        (f.json_valid(text, type_=sa.Boolean), f.json_type(text).in_(["object", "null"])), else_=sa.false()
    )
    return value, sa.or_(text.is_(None), is_object)


def _update_inventory(conn: Connection, host: _Host, now: datetime) -> int:
    """Write the batch's records into ip_inventory.enrichment; returns the
    rows written."""
    inv, tmp = host.inv, host.tmp
    value, writable = _enrichment_update(host)
    values: Dict[Any, Any] = {inv.c.enrichment: value}
    if host.has_updated_at:
        values[inv.c.enrichment_updated_at] = now
    stmt = sa.update(inv).values(values)
    if host.update_from:  # UPDATE … FROM tmp
        stmt = stmt.where(inv.c.ip_address == tmp.c.ip, tmp.c.record.is_not(None), writable)
    else:
        stmt = stmt.where(inv.c.ip_address.in_(sa.select(tmp.c.ip).where(tmp.c.record.is_not(None))), writable)
    return int(conn.execute(stmt).rowcount or 0)


def _update_sessions(conn: Connection, host: _Host, include_unknown: bool, as_of: bool = False) -> int:
    """Type the batch's untyped sessions: their IP's answer of the batch
    (tmp: as of now, or a fresh stored one), or, with as_of, the answer of
    their IP and epoch where tmp_at has one (it differs from tmp's)."""
    ses, tmp = host.ses, host.tmp
    if host.pg:
        # A batch matches a large share of the table: a hash join over a
        # sequential scan updates the heap in physical order. The planner
        # tends to pick a merge join over the source_ip index instead, which
        # visits the heap in address order (random I/O): twice as slow on
        # the full-scale demo. LOCAL: only for this batch's transaction.
        conn.exec_driver_sql("SET LOCAL enable_mergejoin = off")
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
    untyped = host.untyped(include_unknown)
    ip_type: ColumnElement[Any]
    if host.update_from:  # UPDATE … FROM tmp
        ip_type = tmp.c.ip_type
        cond = sa.and_(ses.c.source_ip == tmp.c.ip, untyped)
    else:
        r = tmp.alias("r")
        ip_type = sa.select(r.c.ip_type).where(r.c.ip == ses.c.source_ip).scalar_subquery()
        cond = sa.and_(untyped, ses.c.source_ip.in_(sa.select(tmp.c.ip)))
    if as_of:
        ip_type = sa.func.coalesce(_type_as_of(host), ip_type)
    stmt = sa.update(ses).values({ses.c.snapshot_ip_type: ip_type}).where(cond)
    return int(conn.execute(stmt).rowcount or 0)


def _type_as_of(host: _Host) -> ColumnElement[Any]:
    """The type tmp_at holds for a session's IP and epoch (NULL: none)."""
    ses, tat = host.ses, host.tmp_at
    at = ses.c.first_event_at
    return (
        sa.select(tat.c.ip_type)
        .where(
            tat.c.ip == ses.c.source_ip,
            sa.or_(tat.c.lo.is_(None), tat.c.lo <= at),
            sa.or_(tat.c.hi.is_(None), at < tat.c.hi),
        )
        .scalar_subquery()
    )


def _epoch_of(host: _Host) -> ColumnElement[int]:
    """The epoch of a session's first_event_at: the idx of the latest
    epoch start at or before it, 0 before the first."""
    ep = host.epochs
    idx = sa.select(ep.c.idx).where(ep.c.start <= host.ses.c.first_event_at).order_by(ep.c.start.desc()).limit(1)
    return sa.func.coalesce(idx.scalar_subquery(), 0)


def _session_epochs(conn: Connection, host: _Host, include_unknown: bool) -> List[Any]:
    """(source_ip, epoch, earliest first_event_at, sessions) of the batch's
    untyped sessions that have a first_event_at, one row per IP and
    epoch."""
    ses, tmp = host.ses, host.tmp
    if host.pg:  # a timestamp without time zone is UTC, as the engine takes a naive time
        conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
    s = (
        sa.select(ses.c.source_ip, _epoch_of(host).label("epoch"), ses.c.first_event_at)
        .where(
            ses.c.source_ip.in_(sa.select(tmp.c.ip)),
            host.untyped(include_unknown),
            ses.c.first_event_at.is_not(None),
        )
        .subquery()
    )  # a subquery: GROUP BY would repeat the epoch's expression
    q = sa.select(s.c.source_ip, s.c.epoch, sa.func.min(s.c.first_event_at), sa.func.count()).group_by(
        s.c.source_ip, s.c.epoch
    )
    return list(conn.execute(q).all())


def _count_would_update(conn: Connection, host: _Host, include_unknown: bool) -> "Counter[str]":
    ses, tmp = host.ses, host.tmp
    q = (
        sa.select(tmp.c.ip_type, sa.func.count())
        .select_from(ses.join(tmp, ses.c.source_ip == tmp.c.ip))
        .where(host.untyped(include_unknown))
        .group_by(tmp.c.ip_type)
    )
    return Counter({str(k): int(n) for k, n in conn.execute(q)})


def backfill(
    db: Union[str, Engine, Connection],
    classifier: IPClassifier,
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
    as_of_session_time: bool = False,
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
        as_of_session_time: type each session as of its ``first_event_at``
            (the history: docs/history.md) instead of now. Each batch then
            groups its untyped sessions by (IP, epoch of the history: an
            interval in which no source's snapshot changes, so every session
            of the group has the same answer, exactly) and classifies every
            group once; a session with no first_event_at gets the answer as
            of now. Times are compared as the database compares the
            column's values (SQLite: SQLAlchemy's DATETIME text, UTC; the
            epochs are read once, at the start). The ip_inventory
            records stay as of now (Pass 4's answer). A dry run counts as
            of now.

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
        as_of=as_of_session_time,
    )
    return run.run(db, inventory_table, sessions_table, orphans)


def _first_line(e: BaseException) -> str:
    text = str(getattr(e, "orig", None) or e).strip()
    return text.splitlines()[0] if text else type(e).__name__


class _Backfill:
    """One backfill run (see :func:`backfill`)."""

    def __init__(
        self,
        classifier: IPClassifier,
        *,
        batch_size: int,
        force: bool,
        dry_run: bool,
        include_unknown: bool,
        max_age: timedelta,
        max_batches: Optional[int],
        progress: Optional[Callable[[BackfillProgress], None]],
        clock: Callable[[], datetime],
        as_of: bool = False,
    ) -> None:
        self.classifier = classifier
        self.as_of = as_of
        self.epochs: List[datetime] = []  # as_of: the history's epoch starts (_history_epochs)
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

    def run(self, db: Union[str, Engine, Connection], inventory: str, sessions: str, orphans: bool) -> BackfillReport:
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

    def _run(self, conn: Connection, inventory: str, sessions: str, orphans: bool) -> None:
        try:
            host = _Host(conn, inventory, sessions)
        finally:
            conn.rollback()  # end the inspection's implicit transaction
        if self.as_of and not host.has_first_event:
            raise BackfillError(f"--as-of-session-time: table {sessions!r} has no column first_event_at")
        if self.as_of:  # read once: an import during the run does not move the groups
            self.epochs = _history_epochs(self.classifier)
        _setup_temp(conn, host, self.epochs)
        self.report.inventory_total = int(conn.execute(sa.select(sa.func.count()).select_from(host.inv)).scalar() or 0)
        conn.commit()
        complete = self._inventory(conn, host)
        if complete and orphans:
            complete = self._orphans(conn, host)
        self.report.complete = complete
        _final_counts(conn, host, self.report)
        conn.commit()
        _drop_temp(conn, host)
        conn.commit()

    # -- helpers -----------------------------------------------------------

    def _budget_left(self) -> bool:
        return self.max_batches is None or self.report.batches < self.max_batches

    def _tick(self, phase: str, done: int, total: int) -> None:
        if self.progress is not None:
            r = self.report
            elapsed = time.perf_counter() - self.t0
            self.progress(BackfillProgress(phase, done, total, r.batches, elapsed, r.sessions_updated))

    def _classify(self, items: List[Any]) -> List[IPClassification]:
        c0 = time.perf_counter()
        answers = self.classifier.bulk_classify(items, errors="unknown", as_list=True)
        self.report.classify_seconds += time.perf_counter() - c0
        return answers

    def _apply(
        self,
        conn: Connection,
        host: _Host,
        tmp_rows: List[Dict[str, Any]],
        now: Optional[datetime],
        as_inputs: Optional[Dict[str, Tuple[Optional[int], Optional[str]]]] = None,
    ) -> None:
        """Inside the batch transaction: fill tmp, then write (or count).
        as_inputs: the AS inputs of each IP, for the sessions as of their
        time."""
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
        changed = self.as_of and self._sessions_as_of(conn, host, as_inputs or {}, tmp_rows)
        t = time.perf_counter()
        r.sessions_updated += _update_sessions(conn, host, self.include_unknown, as_of=changed)
        r.sessions_seconds += time.perf_counter() - t

    def _sessions_as_of(
        self,
        conn: Connection,
        host: _Host,
        as_inputs: Dict[str, Tuple[Optional[int], Optional[str]]],
        tmp_rows: List[Dict[str, Any]],
    ) -> bool:
        """The batch's untyped sessions with a first_event_at, classified as
        of their time: once per (IP, epoch), as of the epoch's earliest
        session in the batch (any time of the epoch gives the same answer;
        one time per epoch, the answers share it). The groups whose answer
        differs from the IP's answer as of now (tmp_rows) go into tmp_at
        for _update_sessions; returns whether there are any."""
        r = self.report
        t = time.perf_counter()
        groups = _session_epochs(conn, host, self.include_unknown)
        r.sessions_seconds += time.perf_counter() - t
        if not groups:
            return False
        at: Dict[int, datetime] = {}
        for _ip, k, first, _n in groups:
            if k not in at or first < at[k]:
                at[k] = first
        # In epoch order: the engine finds each epoch's view once.
        groups.sort(key=lambda g: g[1])
        items = []
        for ip, k, _first, _n in groups:
            asn, as_name = as_inputs.get(ip, (None, None))
            items.append((ip.strip(), asn, as_name, at[k]))
        answers = self._classify(items)
        now = {row["ip"]: row["ip_type"] for row in tmp_rows}
        ep, rows = self.epochs, []
        for (ip, k, _first, n), answer in zip(groups, answers):
            r.as_of_groups += 1
            r.as_of_history_short += answer.history_short
            r.sessions_as_of += n
            if answer.ip_type.value != now.get(ip):
                lo, hi = ep[k - 1] if k > 0 else None, ep[k] if k < len(ep) else None
                rows.append({"ip": ip, "epoch": k, "lo": lo, "hi": hi, "ip_type": answer.ip_type.value})
        r.as_of_changed += len(rows)
        t = time.perf_counter()
        conn.execute(sa.delete(host.tmp_at))
        if rows:
            conn.execute(sa.insert(host.tmp_at), rows)
            if host.pg:
                conn.exec_driver_sql(f"ANALYZE {_TMP_AT}")  # the planner then probes its primary key
        r.temp_seconds += time.perf_counter() - t
        return bool(rows)

    def _batch(self, conn: Connection, work: Callable[[], bool]) -> bool:
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

    def _inventory(self, conn: Connection, host: _Host) -> bool:
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
            as_inputs: Dict[str, Tuple[Optional[int], Optional[str]]] = {}
            for row in rows:
                ip = row[0]
                enr = _as_dict(row[1])
                if self.as_of:
                    a = asn_inputs(enr, row[2] if host.has_current_asn else None)
                    as_inputs[ip] = (a.asn, a.as_name)
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
            self._apply(conn, host, tmp_rows, now, as_inputs)
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

    def _orphans(self, conn: Connection, host: _Host) -> bool:
        """Sessions still untyped whose source IP has no ip_inventory row.

        The candidates are read with the one condition the
        snapshot_ip_type index answers (after phase 1 they are few), and
        checked against ip_inventory by primary key, in Python: a single
        SQL query with GROUP BY/ORDER BY source_ip leads SQLite's planner
        to walk the whole source_ip index instead.
        """
        ses, inv, r = host.ses, host.inv, self.report
        cols = [ses.c.source_ip, ses.c.snapshot_asn if host.has_snapshot_asn else sa.null()]
        cond = host.untyped(self.include_unknown)
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
            self._apply(conn, host, tmp_rows, None, {ip: (asn_of[ip], None) for ip in rows})
            return state["pos"] < len(orphans)

        while state["pos"] < len(orphans):
            if not self._budget_left():
                return False
            self._batch(conn, work)
            r.batches += 1
            self._tick("orphans", state["pos"], len(orphans))
        return True


def _final_counts(conn: Connection, host: _Host, report: BackfillReport) -> None:
    """Sessions per snapshot_ip_type, counting only sessions with a source
    IP: all sessions (the index on snapshot_ip_type covers it) minus those
    without one (the index on source_ip finds them)."""
    ses = host.ses
    t = ses.c.snapshot_ip_type
    types: "Counter[Optional[str]]" = Counter()
    for typ, n in conn.execute(sa.select(t, sa.func.count()).group_by(t)):
        types[None if typ in (None, "") else str(typ)] += int(n)
    report.sessions_total = sum(types.values())
    no_ip = sa.select(t, sa.func.count()).where(sa.or_(ses.c.source_ip.is_(None), ses.c.source_ip == "")).group_by(t)
    for typ, n in conn.execute(no_ip):
        types[None if typ in (None, "") else str(typ)] -= int(n)
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
        f"{verb} snapshot_ip_type on "
        f"{(sum(report.sessions_would_update.values()) if report.dry_run else report.sessions_updated):,}"
    )
    if report.as_of_groups:
        lines.append(
            f"as of session time: {report.sessions_as_of:,} sessions typed from {report.as_of_groups:,} "
            f"(IP, epoch) answers, {report.as_of_changed:,} of them not the answer as of now; "
            f"{report.as_of_history_short:,} history_short (the history does not "
            "reach back that far: answered from the oldest snapshot)"
        )
    cov = report.coverage * 100
    cov_text = f"{math.floor(cov * 100) / 100:.2f}%" if cov < 100 else "100.00%"
    lines.append(
        f"coverage{' (after the run)' if report.dry_run else ''}: {cov_text} "
        f"({min(typed, report.sessions_known_ip):,} of {report.sessions_known_ip:,} "
        "sessions with a known source IP have a type)"
    )
    if not report.complete:
        lines.append("INCOMPLETE: stopped before the end; run again to continue (finished batches are kept)")
    if report.unwritable:
        lines.append(
            f"warning: {report.unwritable:,} ip_inventory rows hold a non-object enrichment: answer not stored"
        )
    return "\n".join(lines)
