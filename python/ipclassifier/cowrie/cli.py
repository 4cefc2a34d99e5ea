"""The cowrieprocessor commands of the command line: ``backfill`` and
``demo-db`` (``pip install 'ipclassifier[cowrie]'``).

    ipclassifier backfill --db URL [--cache-dir DIR] [--batch-size 10000] [--progress] [--as-of-session-time]
                          [--force] [--dry-run] [--include-unknown] [--no-refresh] [--json]
    ipclassifier demo-db  --db URL [--ips 38864] [--sessions 1682827] [--seed N] [--replace]

A command module of :mod:`ipclassifier.cli`: :func:`register` adds the
parsers; this module imports only the standard library and the core
package, and each command checks for SQLAlchemy (the ``cowrie`` extra) when
it runs. ``--progress`` draws with tqdm on a terminal when it is installed,
else with :class:`ProgressBar` (also what logs get: a line every 10 s).

Exit status: 0 success; 1 some IPs could not be classified (invalid
addresses), a source refresh failed, the classifier or the database failed,
the cowrie extra is missing; 2 usage error or bad input (bad URL, missing
table, tables already there without ``--replace``); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, TextIO

from .._extras import require
from .._native import ClassifierError
from ..classifier import IPClassifier, _shares_sqlite
from ..cli.options import Streams, add_global_options, open_classifier

if TYPE_CHECKING:  # pragma: no cover
    from .backfill_job import BackfillProgress

__all__ = ["register", "run_backfill", "run_demo_db", "ProgressBar", "TqdmBar", "progress_bar"]


def _opt(args: argparse.Namespace, name: str) -> Any:
    return getattr(args, name, None)


def register(subparsers: Any) -> None:
    """Add ``backfill`` and ``demo-db`` to an argparse subparsers object
    (``parser.add_subparsers()``); each parser carries ``run`` (see
    :mod:`ipclassifier.cli`)."""
    p = subparsers.add_parser(
        "backfill",
        help="classify ip_inventory and fill session_summaries.snapshot_ip_type (cowrieprocessor)",
        description=(
            "Classify every ip_inventory row (stored in enrichment['ip_classification']) and set "
            "session_summaries.snapshot_ip_type where it is NULL, one transaction per batch. "
            "Resumable: a re-run skips rows classified less than --max-age hours ago."
        ),
    )
    p.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                   help="the cowrieprocessor database (sqlite:////abs/path.db, postgresql://user@host/db)")  # fmt: skip
    p.add_argument("--batch-size", type=int, default=10_000, metavar="N", help="rows per batch and transaction (10000)")
    p.add_argument("--progress", action="store_true", help="progress bar with rate and ETA on stderr")
    p.add_argument("--force", action="store_true",
                   help="re-classify every row, even those classified recently (no cache tier is used)")  # fmt: skip
    p.add_argument("--dry-run", action="store_true",
                   help="change nothing: report what would change "
                        "(uses the snapshots on disk, no refresh, no cache)")  # fmt: skip
    p.add_argument("--include-unknown", action="store_true",
                   help="also re-type sessions whose snapshot_ip_type is 'unknown'")  # fmt: skip
    p.add_argument("--no-orphans", action="store_true", help="skip sessions whose source IP is not in ip_inventory")
    p.add_argument("--as-of-session-time", action="store_true",
                   help="type each session as of its first_event_at (one answer per IP and history epoch)")  # fmt: skip
    p.add_argument("--no-refresh", action="store_true", help="do not refresh the sources that are due first")
    p.add_argument("--allow-empty", action="store_true",
                   help="run even when no source data is loaded (every answer would be unknown)")  # fmt: skip
    p.add_argument("--max-age", type=float, default=24.0, metavar="HOURS",
                   help="answers stored less than this ago are kept (24)")  # fmt: skip
    p.add_argument("--max-batches", type=int, default=None, metavar="N", help="stop after N batches (partial run)")
    p.add_argument("--sql-cache", action="store_true",
                   help="use the database's enrichment_cache table as the L2 cache tier (PostgreSQL only)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    add_global_options(
        p,
        suppress=True,
        without=("--db",),  # --db is the cowrieprocessor database; its L2 tier is --sql-cache
        help_overrides={"--cache-dir": "L3 file cache directory (backfill: no cache tier unless one is given)"},
    )
    p.set_defaults(run=run_backfill)

    p = subparsers.add_parser(
        "demo-db",
        help="build a realistic cowrieprocessor database (ip_inventory + session_summaries)",
        description=(
            "Create ip_inventory and session_summaries and fill them like a honeypot fleet's database: "
            "skewed sessions per address (one AS with ~14%%), addresses from real Tor, cloud, hosting and ISP "
            "networks, MaxMind/Cymru enrichment with realistic gaps, snapshot_ip_type NULL."
        ),
    )
    p.add_argument("--db", metavar="URL", default=argparse.SUPPRESS, help="the database to create the tables in")
    p.add_argument("--ips", type=int, default=38_864, metavar="N", help="ip_inventory rows (38864)")
    p.add_argument("--sessions", type=int, default=1_682_827, metavar="N", help="session_summaries rows (1682827)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (0)")
    p.add_argument("--replace", action="store_true", help="drop the tables first if they exist")
    p.add_argument("--orphan-fraction", type=float, default=0.0, metavar="F",
                   help="share of sessions whose source IP is not in ip_inventory (no foreign key then)")  # fmt: skip
    p.add_argument("--no-ip-fraction", type=float, default=0.003, metavar="F",
                   help="share of sessions without a source IP (0.003)")  # fmt: skip
    p.set_defaults(run=run_demo_db)


# ---------------------------------------------------------------------------
# Progress


class ProgressBar:
    """A plain-text progress bar on a stream (stderr): bar, counts, rate and
    ETA. On a terminal it redraws one line; otherwise (cron, journald) it
    prints a line at most every ``interval`` seconds."""

    def __init__(self, stream: TextIO, label: str = "", width: int = 24, interval: Optional[float] = None) -> None:
        self.stream = stream
        self.label = label
        self.width = width
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.2 if self.tty else 10.0)
        self.start = time.monotonic()
        self.last = 0.0
        self.drawn = False

    @staticmethod
    def _eta(seconds: float) -> str:
        s = int(seconds + 0.5)
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"

    def update(self, done: int, total: int, unit: str = "IPs", extra: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.interval:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        if total > 0:
            frac = min(done / total, 1.0)
            fill = int(frac * self.width)
            bar = "[" + "#" * fill + "-" * (self.width - fill) + "]"
            eta = self._eta((total - done) / rate) if rate > 0 and done < total else self._eta(0)
            text = f"{self.label} {bar} {frac * 100:5.1f}%  {done:,}/{total:,} {unit}  {rate:,.0f} {unit}/s  ETA {eta}"
        else:
            text = f"{self.label} {done:,} {unit}  {rate:,.0f} {unit}/s  elapsed {self._eta(elapsed)}"
        if extra:
            text += "  " + extra
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


class Bar(Protocol):
    """What the backfill's progress callback draws on."""

    label: str

    def update(self, done: int, total: int, unit: str = "IPs", extra: str = "", force: bool = False) -> None: ...

    def close(self) -> None: ...


class TqdmBar:
    """:class:`ProgressBar`'s interface on a tqdm bar: one bar per phase
    (its total changes between phases), the extra text as tqdm's postfix."""

    def __init__(self, stream: TextIO, label: str = "") -> None:
        from tqdm import tqdm

        self.label = label
        self._label = label
        self._total: Optional[int] = None
        self.bar = tqdm(file=stream, desc=label, unit="IPs", dynamic_ncols=True, mininterval=0.2, leave=True)

    def update(self, done: int, total: int, unit: str = "IPs", extra: str = "", force: bool = False) -> None:
        if total != self._total or self.label != self._label:
            self.bar.reset(total=total if total > 0 else None)
            self.bar.unit = unit
            self.bar.set_description_str(self.label, refresh=False)
            self._total, self._label = total, self.label
        self.bar.n = done
        if extra:
            self.bar.set_postfix_str(extra, refresh=False)
        if force:
            self.bar.refresh()
        else:
            self.bar.update(0)  # redraws when mininterval has passed

    def close(self) -> None:
        self.bar.close()


def progress_bar(stream: TextIO, label: str) -> Bar:
    """tqdm on a terminal when it is installed; :class:`ProgressBar`
    otherwise (and always for a log: tqdm would write a carriage-return
    stream there)."""
    if getattr(stream, "isatty", lambda: False)():
        try:
            return TqdmBar(stream, label)
        except ImportError:
            pass
    return ProgressBar(stream, label)


# ---------------------------------------------------------------------------
# backfill


def _progress_callback(bar: Bar, dry_run: bool) -> Callable[["BackfillProgress"], None]:
    def update(p: "BackfillProgress") -> None:
        bar.label = f"backfill {p.phase}"
        extra = "" if dry_run else f"sessions set {p.sessions_updated:,}"
        bar.update(p.done, p.total, "IPs", extra, force=p.total > 0 and p.done >= p.total)

    return update


def _open_classifier(args: argparse.Namespace, *, cache: bool, db_url: Optional[str]) -> IPClassifier:
    """The classifier of the options, with the cache tiers the backfill
    uses: none unless --cache-dir, --redis-url or --sql-cache names one
    (and none for --dry-run and --force)."""
    cache_dir = _opt(args, "cache_dir")
    redis_url = _opt(args, "redis_url")
    sql = db_url if (cache and _opt(args, "sql_cache")) else None
    use_cache = cache and not _opt(args, "no_cache") and bool(cache_dir or redis_url or sql)
    return open_classifier(
        args,
        cache_dir=cache_dir if use_cache else None,
        db_engine=sql if use_cache else None,
        redis_url=redis_url if use_cache else None,
        enable_cache=use_cache,
    )


def _database_error(e: BaseException) -> Optional[str]:
    """The first line of an SQLAlchemy error, None for any other error."""
    if not type(e).__module__.startswith("sqlalchemy"):
        return None
    text = str(getattr(e, "orig", None) or e).strip().splitlines()
    return text[0] if text else type(e).__name__


def run_backfill(args: argparse.Namespace, io: Streams) -> int:
    """The ``backfill`` command; returns the exit status."""
    out, err = io.out, io.err
    db = _opt(args, "db")
    if not db:
        err.write("ipclassifier backfill: error: --db URL is required\n")
        return 2
    if args.batch_size < 1 or args.batch_size > 1_000_000:
        err.write(f"ipclassifier backfill: error: --batch-size must be between 1 and 1000000, got {args.batch_size}\n")
        return 2
    if args.max_age <= 0:
        err.write(f"ipclassifier backfill: error: --max-age must be > 0 hours, got {args.max_age}\n")
        return 2
    require("backfill", "cowrie", "sqlalchemy")
    from .backfill_job import BackfillError, backfill, format_report

    try:
        clf = _open_classifier(args, cache=not (args.dry_run or args.force), db_url=db)
    except (ClassifierError, ValueError, TypeError) as e:
        err.write(f"ipclassifier backfill: error: cannot open the classifier: {e}\n")
        return 1
    bar: Optional[Bar] = None
    try:
        if args.sql_cache and db.startswith("sqlite"):
            engine_sqlite = clf.get_stats().get("sqlite") or {}
            if not _shares_sqlite(engine_sqlite):
                err.write(
                    "ipclassifier backfill: error: --sql-cache on SQLite needs the engine built on the system SQLite "
                    f"(this one has {engine_sqlite.get('linked', '?')} SQLite {engine_sqlite.get('version', '?')}): "
                    "this process and the engine would open the database with two copies of SQLite, which do not "
                    "see each other's locks (docs/cache.md); install libsqlite3-dev and rebuild (bash build.sh), or "
                    "use --cache-dir instead\n"
                )
                return 2
        refresh_failed = 0
        if not (args.no_refresh or args.dry_run):
            report = clf.refresh("all")
            for s in report.get("sources") or ():
                if s.get("status") == "failed":
                    refresh_failed += 1
                    err.write(f"warning: refresh of {s.get('source')} failed (previous data kept): {s.get('error')}\n")
        if not clf.get_stats().get("prefixes") and not args.allow_empty:
            err.write(
                "ipclassifier backfill: error: no source data is loaded (every answer would be 'unknown' and "
                "would be written for good); run `ipclassifier refresh`, check the source URLs, "
                "or pass --allow-empty\n"
            )
            return 1
        if args.progress:
            bar = progress_bar(err, "backfill")
        rep = backfill(
            db,
            clf,
            batch_size=args.batch_size,
            force=args.force,
            dry_run=args.dry_run,
            include_unknown=args.include_unknown,
            orphans=not args.no_orphans,
            max_age=timedelta(hours=args.max_age),
            max_batches=args.max_batches,
            progress=_progress_callback(bar, args.dry_run) if bar is not None else None,
            as_of_session_time=args.as_of_session_time,
        )
        rep.refresh_failed = refresh_failed
        if bar is not None:
            bar.close()
            bar = None
        if args.json:
            out.write(json.dumps(rep.to_dict(), indent=2, sort_keys=True) + "\n")
        else:
            out.write(format_report(rep) + "\n")
            if refresh_failed:
                out.write(f"warning: {refresh_failed} source refresh(es) failed: answers may use older data\n")
        out.flush()
        return 1 if (rep.failed or refresh_failed) else 0
    except BackfillError as e:
        err.write(f"ipclassifier backfill: error: {e}\n")
        return 2 if e.usage else 1
    except KeyboardInterrupt:
        err.write("ipclassifier backfill: interrupted; finished batches are committed, run again to continue\n")
        return 130
    except (ClassifierError, RuntimeError, OSError) as e:
        err.write(f"ipclassifier backfill: error: {e}\n")
        return 1
    except Exception as e:  # SQLAlchemy errors: never a traceback for an operator
        text = _database_error(e)
        if text is None:
            raise
        err.write(f"ipclassifier backfill: database error: {text}\n")
        return 1
    finally:
        if bar is not None:
            bar.close()
        clf.close()


# ---------------------------------------------------------------------------
# demo-db


def run_demo_db(args: argparse.Namespace, io: Streams) -> int:
    """The ``demo-db`` command; returns the exit status."""
    out, err = io.out, io.err
    db = _opt(args, "db")
    if not db:
        err.write("ipclassifier demo-db: error: --db URL is required\n")
        return 2
    require("demo-db", "cowrie", "sqlalchemy")
    from .backfill_job import database_url
    from .demo_db import DemoDBError, build_demo_db

    def say(msg: str) -> None:
        err.write(f"demo-db: {msg}\n")
        err.flush()

    try:
        database_url(db)
    except ValueError as e:
        err.write(f"ipclassifier demo-db: error: invalid database URL: {e}\n")
        return 2
    try:
        rep = build_demo_db(
            db,
            ips=args.ips,
            sessions=args.sessions,
            seed=args.seed,
            replace=args.replace,
            no_ip_fraction=args.no_ip_fraction,
            orphan_fraction=args.orphan_fraction,
            progress=say,
        )
    except DemoDBError as e:
        err.write(f"ipclassifier demo-db: error: {e}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        text = _database_error(e)
        if text is None:
            raise
        err.write(f"ipclassifier demo-db: database error: {text}\n")
        return 1
    expected = ", ".join(f"{k} {v:,}" for k, v in sorted(rep.expected_ips.items()))
    out.write(
        f"demo-db: {rep.ips:,} IPs and {rep.sessions:,} sessions into {rep.dialect} in {rep.seconds:.1f} s "
        f"(generate {rep.generate_seconds:.1f} s, load {rep.load_seconds:.1f} s, indexes {rep.index_seconds:.1f} s)\n"
        f"demo-db: top AS{rep.top_asn} holds {rep.top_asn_share * 100:.1f}% of the sessions; "
        f"{rep.sessions_no_ip:,} sessions without a source IP, {rep.orphan_sessions:,} orphan sessions\n"
        f"demo-db: networks the addresses come from, by the type the real lists should give: {expected}\n"
    )
    return 0
