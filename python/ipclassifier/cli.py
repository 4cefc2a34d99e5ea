"""Command line: ``python -m ipclassifier`` (or ``ipclassifier``).

    ipclassifier [global options] classify IP... | -   [--format table|jsonl|csv] [--refresh]
    ipclassifier [global options] refresh [tor|cloud|datacenter|asn|all] [--force]
    ipclassifier [global options] stats
    ipclassifier [global options] cache stats|cleanup|clear [--type TYPE]
    ipclassifier [global options] validate [--truth FILE.csv] [--sample-…] [--asn-names …] [--real-data DIR]
                                           [--plot FILE.png] [--json]   (see validate_cli.py)

``classify -`` reads stdin: one address per line, optionally followed by
whitespace-separated ASN and AS name (``1.2.3.4 3320 Deutsche Telekom AG``);
blank lines and ``#`` comments are skipped.

``cache clear`` removes cached answers from every tier the options name
(the same --redis-url, --db and --cache-dir as the pipeline's), all of them
or, with ``--type``, only those of one type: ``cache clear --type unknown``
after a list update.

``cache cleanup`` and ``cache clear`` print their report (what each tier
removed) even when a tier fails; the failure is named on stderr
(``ipclassifier: error: cache cleanup: cache: L2 postgres: …``) and the exit
status is 1. Cleanup does not touch Redis (it expires its keys itself).

``validate`` opens the classifier only for labelled CSVs and samplers:
``--real-data`` and ``--asn-names`` runs create no data or cache directory.

Exit status: 0 success; 1 an error, or (refresh) a source failed, or (cache
cleanup, cache clear) a tier failed; 2 a usage error (an unknown --type
included), or (classify) at least one input was not an IP address — the
other inputs are still printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, TextIO, Union

from . import cowrie_cli, validate_cli
from .metrics import prometheus_text
from ._native import ClassifierError
from ._version import __version__
from .classifier import BulkItem, IPClassifier, build_config
from .types import IPClassification, IPType

_CHUNK = 10_000  # stdin is classified this many lines per engine call

_TABLE_COLUMNS = ("ip", "ip_type", "provider", "region", "service", "confidence", "source", "matched_prefix", "stale")
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
)


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """The options every command takes (before or after the command name)."""
    d: Dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    g = parser.add_argument_group("classifier options")
    g.add_argument("--data-dir", metavar="DIR", help="where source snapshots are kept", **d)
    g.add_argument("--cache-dir", metavar="DIR", help="L3 file cache directory", **d)
    g.add_argument("--db", metavar="URL", help="L2 SQL cache (sqlite:///abs/path.db, postgresql://…)", **d)
    g.add_argument("--redis-url", metavar="URL", help="L1 Redis cache (redis://host:port/db)", **d)
    g.add_argument("--no-cache", action="store_true", help="disable every cache tier", **d)
    g.add_argument("--tor-url", metavar="URL", help="Tor bulk exit list", **d)
    g.add_argument("--onionoo-url", metavar="URL", help="Onionoo details document of exit relays", **d)
    g.add_argument("--cloud-base-url", metavar="URL", help="base of the cloud range CSVs", **d)
    g.add_argument("--datacenter-url", metavar="URL", help="jhassine datacenters.csv", **d)
    g.add_argument("--hosting-base-url", metavar="URL", help="base of the X4BNet ipv4.txt/ipv6.txt", **d)
    g.add_argument("--hosting-asn-url", metavar="URL", help="X4BNet list of hosting ASNs (ASN.txt)", **d)
    g.add_argument("--asn-v4-url", metavar="URL", help="iptoasn ip2asn-v4.tsv(.gz)", **d)
    g.add_argument("--asn-v6-url", metavar="URL", help="iptoasn ip2asn-v6.tsv(.gz)", **d)
    g.add_argument(
        "--cloud-providers",
        metavar="LIST",
        help="comma-separated cloud lists to load (aws,azure,gcp,cloudflare,digitalocean,oracle,linode,vultr); default all",
        **d,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipclassifier",
        description="Label IP addresses as tor, cloud, datacenter, residential or unknown.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("classify", help="classify addresses (IP... or - for stdin)")
    _global_options(p, suppress=True)
    p.add_argument("ips", nargs="+", metavar="IP", help="addresses, or - to read stdin")
    p.add_argument("--format", "-f", choices=("table", "jsonl", "csv"), default="table")
    p.add_argument("--refresh", action="store_true", help="refresh the sources that are due first")

    p = sub.add_parser("refresh", help="download the sources that are due")
    _global_options(p, suppress=True)
    p.add_argument(
        "group", nargs="?", default="all", help="tor, cloud, datacenter, asn or all (default); the engine decides"
    )
    p.add_argument("--force", action="store_true", help="download every source of the group now")
    p.add_argument("--summary", action="store_true", help="print one line instead of one per source")

    p = sub.add_parser("stats", help="engine counters and source snapshots (JSON, or Prometheus text)")
    _global_options(p, suppress=True)
    p.add_argument("--format", "-f", choices=("json", "prom"), default="json", help="json (default) or prom")

    p = sub.add_parser(
        "cache",
        help="cache tiers: stats, cleanup (expired entries), clear [--type TYPE] (cached answers)",
    )
    _global_options(p, suppress=True)
    p.add_argument("action", choices=("stats", "cleanup", "clear"))
    p.add_argument(
        "--type",
        dest="ip_type",
        choices=[t.value for t in IPType],
        help="clear: only the answers of this type (e.g. unknown after a list update); default every answer",
    )

    cowrie_cli.add_subcommands(sub)  # backfill, demo-db: they open their own classifier

    p = validate_cli.add_parser(sub)
    _global_options(p, suppress=True)
    return parser


# URL options that create_ip_classifier takes as keywords of their own (or
# that are cache tiers); every other --*-url is a source URL of the engine
# configuration under the same name (onionoo_url, asn_v4_url, …).
_KEYWORD_URLS = frozenset({"redis_url", "tor_url", "cloud_base_url", "datacenter_url", "hosting_base_url"})


def classifier_config(
    args: argparse.Namespace,
    *,
    cache_dir: Optional[str] = None,
    db_engine: Optional[str] = None,
    redis_url: Optional[str] = None,
    enable_cache: bool = True,
) -> Dict[str, Any]:
    """The configuration (build_config) of the global options' sources
    (--data-dir, every --*-url, --cloud-providers) and the cache tiers given:
    ``ipclassifier`` and the backfill differ only in which tiers they use."""
    extra: Dict[str, Any] = {
        key: value for key, value in vars(args).items() if key.endswith("_url") and key not in _KEYWORD_URLS and value
    }
    providers = getattr(args, "cloud_providers", None)
    if providers:
        extra["cloud_providers"] = [p.strip() for p in providers.split(",") if p.strip()]
    return build_config(
        cache_dir=cache_dir,
        db_engine=db_engine,
        redis_url=redis_url,
        data_dir=getattr(args, "data_dir", None),
        tor_url=getattr(args, "tor_url", None),
        cloud_base_url=getattr(args, "cloud_base_url", None),
        datacenter_url=getattr(args, "datacenter_url", None),
        hosting_base_url=getattr(args, "hosting_base_url", None),
        enable_cache=enable_cache,
        **extra,
    )


def open_classifier(args: argparse.Namespace, **tiers: Any) -> IPClassifier:
    """create_ip_classifier of :func:`classifier_config`."""
    return IPClassifier(config=classifier_config(args, **tiers))


def _config(args: argparse.Namespace) -> Dict[str, Any]:
    return classifier_config(
        args, cache_dir=args.cache_dir, db_engine=args.db, redis_url=args.redis_url, enable_cache=not args.no_cache
    )


def _open(args: argparse.Namespace) -> IPClassifier:
    return IPClassifier(config=_config(args))


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
    return str(value)


class _Writer:
    def __init__(self, fmt: str, out: TextIO) -> None:
        self.fmt = fmt
        self.out = out
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
            rows = [[_cell(getattr(a, c), table=True) for c in _TABLE_COLUMNS] for a in answers]
            header = [c.upper() for c in _TABLE_COLUMNS]
            widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
            if not self.header_done:
                self.out.write("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip() + "\n")
                self.header_done = True
            for r in rows:
                self.out.write("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + "\n")
        self.out.flush()


def _cmd_classify(args: argparse.Namespace, c: IPClassifier, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    if args.refresh:
        report = c.refresh("all")
        for s in report.get("sources") or ():
            if s.get("status") == "failed":
                err.write(f"warning: refresh of {s.get('source')} failed: {s.get('error')}\n")
    writer = _Writer(args.format, out)
    invalid = 0
    for chunk in _chunks(_inputs(args.ips, stdin), _CHUNK):
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


# ---------------------------------------------------------------------------
# refresh, stats, cache


def _cmd_refresh(args: argparse.Namespace, c: IPClassifier, out: TextIO) -> int:
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
    loaded = sum(1 for s in stats.get("sources", []) if s.get("prefixes"))
    line = f"refresh: {len(sources)} sources: {done}; classifying from {loaded} loaded snapshots ({stats.get('prefixes', 0)} prefixes)"
    errors = [str(s.get("error", "")) for s in sources if s.get("status") == "failed"]
    if errors:
        offline = all(("no such host" in e or "connection refused" in e or "network is unreachable" in e) for e in errors)
        reason = "the sources are unreachable (no network?)" if offline else f"first error: {errors[0][:160]}"
        line += f"; {reason}"
    return line


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


def main(argv: Optional[Sequence[str]] = None, stdin: Optional[TextIO] = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "cache" and args.ip_type is not None and args.action != "clear":
        parser.error("--type applies to `cache clear` only")
    if getattr(args, "handler", None) is not None:  # backfill, demo-db
        return int(args.handler(args))
    out, err = sys.stdout, sys.stderr
    try:
        if args.command == "validate":  # opens the classifier only when the spec measures it
            return validate_cli.run(args, lambda: _config(args), out, err)
        with _open(args) as c:
            if args.command == "classify":
                return _cmd_classify(args, c, out, err, stdin or sys.stdin)
            if args.command == "refresh":
                return _cmd_refresh(args, c, out)
            if args.command == "stats":
                if args.format == "prom":
                    out.write(prometheus_text(c.get_stats()))
                else:
                    _dump(c.get_stats(), out)
                return 0
            if args.action == "stats":
                _dump(c.cache_stats(), out)
                return 0
            if args.action == "cleanup":
                return _cache_report("cleanup", c.cache_cleanup(), out, err)
            return _cache_report("clear", c.cache_clear(args.ip_type), out, err)
    except (ClassifierError, ValueError, OSError) as e:
        err.write(f"ipclassifier: error: {e}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # pragma: no cover - e.g. `| head`
        return 0


def main_exit() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
