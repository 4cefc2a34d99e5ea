"""The core commands: ``classify``, ``refresh``, ``stats``, ``cache``.

    ipclassifier [global options] classify IP... | -   [--format table|jsonl|csv] [--refresh] [--at TIME]
    ipclassifier [global options] refresh [tor|cloud|datacenter|asn|all] [--force] [--summary]
    ipclassifier [global options] refresh --import FILE --date DATE [--source NAME]
    ipclassifier [global options] stats [--format json|prom]
    ipclassifier [global options] cache stats|cleanup|clear [--type TYPE]

``classify -`` reads stdin: one address per line, optionally followed by
whitespace-separated ASN and AS name (``1.2.3.4 3320 Deutsche Telekom AG``);
blank lines and ``#`` comments are skipped.

``classify --at TIME`` answers as of that time from the history (the
snapshot of each source in force then; the table adds SNAPSHOT_AT and
HISTORY_SHORT). ``refresh --import FILE --date DATE --source NAME`` seeds
the history with a dated file from an archive (``refresh tor --import …``
takes the group as the source).

``cache clear`` removes cached answers from every tier the options name
(the same --redis-url, --db and --cache-dir as the pipeline's), all of them
or, with ``--type``, only those of one type: ``cache clear --type unknown``
after a list update.

``cache cleanup`` and ``cache clear`` print their report (what each tier
removed) even when a tier fails; the failure is named on stderr
(``ipclassifier: error: cache cleanup: cache: L2 postgres: …``) and the exit
status is 1. Cleanup does not touch Redis (it expires its keys itself).

``stats --format prom`` needs the ``metrics`` extra (prometheus_client).

Exit status: 0 success; 1 an error, or (refresh) a source failed, or (cache
cleanup, cache clear) a tier failed; 2 a usage error (an unknown --type
included), or (classify) at least one input was not an IP address — the
other inputs are still printed.

Nothing here needs a package outside the standard library.
"""

from __future__ import annotations

import argparse
import csv
import json
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, TextIO, Union

from .._native import ClassifierError
from .._wire import iso_time
from ..classifier import BulkItem, IPClassifier
from ..types import IPClassification, IPType
from .options import Handler, Streams, add_global_options, open_classifier

__all__ = ["register"]

_CHUNK = 10_000  # stdin is classified this many lines per engine call

_TABLE_COLUMNS = (
    "ip", "ip_type", "provider", "region", "service", "confidence", "source", "matched_prefix", "stale", "tags",
)  # fmt: skip
_CSV_COLUMNS = (
    "ip",
    "ip_type",
    "provider",
    "region",
    "service",
    "confidence",
    "source",
    "classified_at",
    "matched_prefix",
    "snapshot",
    "snapshot_at",
    "data_age_seconds",
    "stale",
    "asn",
    "as_name",
    "cache_tier",
    "country",
    "asn_source",
    "tags",  # comma-separated
    "evidence",  # a JSON list of objects
    "as_of",
    "history_short",
)
_AT_COLUMNS = ("snapshot_at", "history_short")  # the table's extra columns with --at


def _parse_time(text: str) -> datetime:
    """--at / --date: an ISO 8601 date or date and time; without a zone, UTC."""
    try:
        return iso_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid time {text!r} (want ISO 8601, e.g. 2026-03-15 or 2026-03-15T13:17:09Z)"
        ) from None


# ---------------------------------------------------------------------------
# classify


def _parse_line(line: str) -> Optional[BulkItem]:
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    parts = line.split(None, 2)
    if len(parts) == 1:
        return parts[0]
    asn: Union[int, str, None] = parts[1]
    if isinstance(asn, str) and asn.isdigit():
        asn = int(asn)
    return (parts[0], asn, parts[2] if len(parts) > 2 else None)  # type: ignore[return-value]


def _inputs(ips: Sequence[str], stdin: TextIO) -> Iterator[BulkItem]:
    for ip in ips:
        if ip == "-":
            for line in stdin:
                item = _parse_line(line)
                if item is not None:
                    yield item
        else:
            yield ip


def _chunks(items: Iterable[BulkItem], size: int) -> Iterator[List[BulkItem]]:
    chunk: List[BulkItem] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _cell(value: Any, table: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        if table:
            return "yes" if value else ""
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if hasattr(value, "value"):
        return str(value.value)
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], dict):
            return json.dumps(value)
        return ",".join(str(v) for v in value)
    return str(value)


class _Writer:
    def __init__(self, fmt: str, out: TextIO, columns: Sequence[str] = _TABLE_COLUMNS) -> None:
        self.fmt = fmt
        self.out = out
        self.columns = columns
        self.csv: Optional[Any] = None
        self.header_done = False

    def write(self, answers: List[IPClassification]) -> None:
        if self.fmt == "jsonl":
            for a in answers:
                self.out.write(json.dumps(a.to_dict()) + "\n")
        elif self.fmt == "csv":
            if self.csv is None:
                self.csv = csv.writer(self.out, lineterminator="\n")
                self.csv.writerow(_CSV_COLUMNS)
            for a in answers:
                d = a.to_dict()
                self.csv.writerow([_cell(d[c]) for c in _CSV_COLUMNS])
        else:
            rows = [[_cell(getattr(a, c), table=True) for c in self.columns] for a in answers]
            header = [c.upper() for c in self.columns]
            widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
            if not self.header_done:
                self.out.write("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip() + "\n")
                self.header_done = True
            for r in rows:
                self.out.write("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + "\n")
        self.out.flush()


def _cmd_classify(args: argparse.Namespace, c: IPClassifier, io: Streams) -> int:
    out, err = io.out, io.err
    if args.refresh:
        report = c.refresh("all")
        for s in report.get("sources") or ():
            if s.get("status") == "failed":
                err.write(f"warning: refresh of {s.get('source')} failed: {s.get('error')}\n")
    writer = _Writer(args.format, out, _TABLE_COLUMNS + (_AT_COLUMNS if args.at else ()))
    invalid = 0
    items: Iterable[BulkItem] = _inputs(args.ips, io.stdin)
    if args.at:
        items = (_as_of(item, args.at) for item in items)
    for chunk in _chunks(items, _CHUNK):
        _, answers = c.classify_many(chunk, strict_asn=False)
        good: List[IPClassification] = []
        for a in answers:
            if isinstance(a, IPClassification):
                good.append(a)
            else:
                invalid += 1
                err.write(f"error: {a}\n")
        if good:
            writer.write(good)
    return 2 if invalid else 0


def _as_of(item: BulkItem, at: datetime) -> BulkItem:
    if isinstance(item, str):
        return (item, None, None, at)
    padded = tuple(item) + (None,) * (3 - len(item))
    return (padded[0], padded[1], padded[2], at)  # type: ignore[return-value]


# ---------------------------------------------------------------------------
# refresh, stats, cache


def _cmd_import(args: argparse.Namespace, c: IPClassifier, io: Streams) -> int:
    source = args.source or (args.group if args.group != "all" else None)
    if not source:
        io.err.write("error: --import needs --source NAME (e.g. tor, cloud/aws-official; see stats)\n")
        return 2
    if args.date is None:
        io.err.write("error: --import needs --date (when the file was published)\n")
        return 2
    try:
        rep = c.import_snapshot(source, args.import_file, args.date)
    except (ClassifierError, OSError) as e:
        io.err.write(f"error: import of {args.import_file} failed: {e}\n")
        return 1
    state = "imported" if rep.get("added") else "already in the history"
    io.out.write(
        f"{rep.get('source')}  {rep.get('date')}  {state}  entries={rep.get('entries')}  bytes={rep.get('bytes')}\n"
    )
    return 0


def _cmd_refresh(args: argparse.Namespace, c: IPClassifier, io: Streams) -> int:
    if args.import_file:
        return _cmd_import(args, c, io)
    out = io.out
    report = c.refresh(args.group, force=args.force)
    sources: List[Dict[str, Any]] = report.get("sources") or []
    if args.summary:
        out.write(_refresh_summary(report, sources, c.get_stats()) + "\n")
        return 1 if report.get("failed") else 0
    width = max([len(str(s.get("source", ""))) for s in sources] + [6])
    for s in sources:
        line = (
            f"{str(s.get('source', '')).ljust(width)}  {str(s.get('status', '')).ljust(12)}"
            f"  entries={s.get('entries', 0)}  bytes={s.get('bytes', 0)}  {float(s.get('seconds', 0.0)):.2f}s"
        )
        if s.get("error"):
            line += f"  error: {s['error']}"
        out.write(line + "\n")
    failed = int(report.get("failed", 0))
    out.write(f"{len(sources)} sources, {failed} failed, {float(report.get('seconds', 0.0)):.2f}s\n")
    return 1 if failed else 0


def _refresh_summary(report: Dict[str, Any], sources: List[Dict[str, Any]], stats: Dict[str, Any]) -> str:
    """One line for `make run` and cron mail: what changed, what failed and why, what is loaded."""
    counts: Dict[str, int] = {}
    for s in sources:
        counts[str(s.get("status"))] = counts.get(str(s.get("status")), 0) + 1
    done = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items()))
    held = [s for s in stats.get("sources", []) if s.get("prefixes")]
    line = (
        f"refresh: {len(sources)} sources: {done}; "
        f"classifying from {len(held)} loaded snapshots ({stats.get('prefixes', 0)} prefixes)"
    )
    baseline = sorted(str(s.get("snapshot_at", ""))[:10] for s in held if s.get("baseline"))
    if baseline:
        dates = baseline[0] if baseline[0] == baseline[-1] else f"{baseline[0]} to {baseline[-1]}"
        line += f", {len(baseline)} of them from the bundled baseline of {dates} (stale until a refresh succeeds)"
    errors = [str(s.get("error", "")) for s in sources if s.get("status") == "failed"]
    if errors:
        unreachable = ("no such host", "connection refused", "network is unreachable")
        offline = all(any(u in e for u in unreachable) for e in errors)
        reason = "the sources are unreachable (no network?)" if offline else f"first error: {errors[0][:160]}"
        line += f"; {reason}"
    damaged = [str(s.get("name")) for s in stats.get("sources", []) if s.get("snapshot_damaged")]
    if damaged:
        line += f"; damaged snapshots found at open (never served): {', '.join(damaged)}"
    return line


def _cmd_stats(args: argparse.Namespace, c: IPClassifier, io: Streams) -> int:
    if args.format == "prom":
        from ..metrics import prometheus_text  # the metrics extra (prometheus_client)

        io.out.write(prometheus_text(c.get_stats()))
    else:
        _dump(c.get_stats(), io.out)
    return 0


def _cmd_cache(args: argparse.Namespace, c: IPClassifier, io: Streams) -> int:
    if args.action == "stats":
        _dump(c.cache_stats(), io.out)
        return 0
    if args.action == "cleanup":
        return _cache_report("cleanup", c.cache_cleanup(), io.out, io.err)
    return _cache_report("clear", c.cache_clear(args.ip_type), io.out, io.err)


def _cache_report(action: str, report: Mapping[str, Any], out: TextIO, err: TextIO) -> int:
    """Print the report of `cache cleanup` or `cache clear` (what was done,
    also when a tier failed); a failed tier is named on stderr and exits 1."""
    _dump(report, out)
    if report.get("error"):
        err.write(f"ipclassifier: error: cache {action}: {report['error']}\n")
        return 1
    return 0


def _dump(obj: Any, out: TextIO) -> None:
    out.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def register(sub: Any) -> None:
    """Add the core commands to an argparse subparsers object."""
    p = sub.add_parser("classify", help="classify addresses (IP... or - for stdin)")
    add_global_options(p, suppress=True)
    p.add_argument("ips", nargs="+", metavar="IP", help="addresses, or - to read stdin")
    p.add_argument("--format", "-f", choices=("table", "jsonl", "csv"), default="table")
    p.add_argument("--refresh", action="store_true", help="refresh the sources that are due first")
    p.add_argument(
        "--at",
        type=_parse_time,
        metavar="TIME",
        help="answer as of this time (ISO 8601; no zone = UTC) from the history of each source",
    )
    p.set_defaults(run=_with_classifier(_cmd_classify))

    p = sub.add_parser("refresh", help="download the sources that are due")
    add_global_options(p, suppress=True)
    p.add_argument(
        "group", nargs="?", default="all", help="tor, cloud, datacenter, asn or all (default); the engine decides"
    )
    p.add_argument("--force", action="store_true", help="download every source of the group now")
    p.add_argument("--summary", action="store_true", help="print one line instead of one per source")
    p.add_argument(
        "--import",
        dest="import_file",
        metavar="FILE",
        help="instead of downloading, add FILE (a list of --source as published on --date) to the history",
    )
    p.add_argument("--date", type=_parse_time, help="--import: when the file was published (ISO 8601)")
    p.add_argument("--source", help="--import: the source (tor, cloud/aws-official, …); default the group")
    p.set_defaults(run=_with_classifier(_cmd_refresh))

    p = sub.add_parser("stats", help="engine counters and source snapshots (JSON, or Prometheus text)")
    add_global_options(p, suppress=True)
    p.add_argument("--format", "-f", choices=("json", "prom"), default="json",
                   help="json (default) or prom (needs the metrics extra)")  # fmt: skip
    p.set_defaults(run=_with_classifier(_cmd_stats))

    p = sub.add_parser(
        "cache",
        help="cache tiers: stats, cleanup (expired entries), clear [--type TYPE] (cached answers)",
    )
    add_global_options(p, suppress=True)
    p.add_argument("action", choices=("stats", "cleanup", "clear"))
    p.add_argument(
        "--type",
        dest="ip_type",
        choices=[t.value for t in IPType],
        help="clear: only the answers of this type (e.g. unknown after a list update); default every answer",
    )
    p.set_defaults(run=_with_classifier(_cmd_cache), check=_check_cache)


def _with_classifier(cmd: Callable[[argparse.Namespace, IPClassifier, Streams], int]) -> Handler:
    """A command run with the classifier the options describe, closed after."""

    def run(args: argparse.Namespace, io: Streams) -> int:
        with open_classifier(args) as c:
            return int(cmd(args, c, io))

    return run


def _check_cache(args: argparse.Namespace) -> Optional[str]:
    if args.ip_type is not None and args.action != "clear":
        return "--type applies to `cache clear` only"
    return None
