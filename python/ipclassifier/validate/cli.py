"""``ipclassifier validate``: measure the labels against truth.

The Go harness does the measuring (classifier/validate, a program of its
own run by :mod:`ipclassifier._harness`); this module only turns the
options into a spec, prints the markdown the engine rendered (or the raw JSON), and draws
the confusion matrix with matplotlib (imported only for ``--plot``).

    ipclassifier validate --truth labelled.csv [--truth more.csv]
    ipclassifier validate --sample-tor torbulkexitlist --sample-cloud aws=ip-ranges.json -n 1000
    ipclassifier validate --sample-asn-tags tags-dsl.csv,tags-mobile.csv --exclude-tags tags-vpsh.csv,tags-cdn.csv \\
        --ip2asn ip2asn-v6.tsv.gz --family v6 --type residential
    ipclassifier validate --asn-names asns.csv.gz --positive-tags tags-dsl.csv,tags-mobile.csv \\
        --negative-tags tags-vpsh.csv,tags-cdn.csv --split odd
    ipclassifier validate --real-data ../shared/data [--plot confusion.png]
    ipclassifier validate --addresses attackers.txt [--real-data ../shared/data]   # no truth: a survey

Only labelled CSVs, address lists and samplers measure the classifier the
global options describe; it is opened just for them (with ``--real-data``,
an address list is classified by the engine of its own instead). ``--real-data`` measures an engine of
its own (snapshots in a temporary directory) and ``--asn-names`` alone
scores names: those runs open no classifier of the user's, so they create
and touch no data or cache directory (``--refresh`` is then ignored, with a
warning).

Exit status: 0 measured (and every target met); 1 an error, or a target
missed; 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, Callable, Dict, List, Mapping, Optional, TextIO

from .. import _harness
from .._extras import MissingExtra, require
from ..cli.options import Streams, add_global_options, classifier_config

__all__ = ["register", "add_parser", "build_spec", "run", "measure", "plot_confusion", "SpecError"]

TYPES = ("tor", "cloud", "datacenter", "residential", "unknown")


class SpecError(ValueError):
    """The options do not make a spec (a usage error: exit status 2)."""


def register(sub: Any) -> None:
    """Add ``validate`` (with the classifier options) to an argparse
    subparsers object."""
    p = add_parser(sub)
    add_global_options(p, suppress=True)
    p.set_defaults(run=_run_command)


def _run_command(args: argparse.Namespace, io: Streams) -> int:
    return run(args, lambda: classifier_config(args), io.out, io.err)


def measure(spec: Mapping[str, Any], config: Optional[Mapping[str, Any]], refresh: bool) -> Dict[str, Any]:
    """The one call that measures: ``spec`` with the engine of ``config``
    (None: the spec needs no classifier of the user's), as the outcome
    dict (report, asn_names, targets, markdown, warnings)."""
    return _harness.run(spec, config, refresh=refresh)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``validate`` subcommand to an argparse subparsers object."""
    p: argparse.ArgumentParser = sub.add_parser(
        "validate",
        help="measure the labels against truth (markdown report; --plot, --json)",
        description="Measure the labels against truth: per type precision, recall and coverage, per "
        "provider agreement, per origin shares, the confusion matrix; or the AS-name heuristic "
        "alone on tagged ASN lists. Exit 1 when a target is missed.",
    )
    t = p.add_argument_group("truth")
    t.add_argument(
        "--truth",
        action="append",
        default=[],
        metavar="FILE.csv",
        help="labelled CSV ip,expected_type[,expected_provider] (repeatable)",
    )
    t.add_argument(
        "--addresses",
        action="append",
        default=[],
        metavar="FILE",
        help="a plain list of addresses, one a line, no truth: report coverage, types, sources, lists "
        "and confidence (repeatable)",
    )
    t.add_argument(
        "--sample-tor",
        action="append",
        default=[],
        metavar="FILE",
        help="every address of a Tor list: bulk exit list, Onionoo JSON or exits CSV (repeatable)",
    )
    t.add_argument(
        "--sample-cloud",
        action="append",
        default=[],
        metavar="PROVIDER=FILE",
        help="random addresses of a cloud provider's file: AWS/GCP/Oracle/Azure JSON or rezmoss CSV (repeatable)",
    )
    t.add_argument(
        "--format",
        metavar="FORMAT",
        help="format of the --sample-cloud files (aws-json, gcp-json, oracle-json, azure-json, "
        "rezmoss-csv); default: detected",
    )
    t.add_argument(
        "--sample-asn-tags",
        metavar="TAGS[,TAGS]",
        help="addresses of the ip2asn ranges of the ASNs in these tag files (bgp.tools tags-*.csv)",
    )
    t.add_argument("--exclude-tags", metavar="TAGS[,TAGS]", help="... and in none of these")
    t.add_argument("--ip2asn", metavar="FILE", help="the iptoasn table to draw ranges from (plain or .gz)")
    t.add_argument("--family", choices=("v4", "v6"), help="draw only this address family")
    t.add_argument(
        "--type",
        choices=("residential", "datacenter"),
        default=None,
        help="expected type of the --sample-asn-tags addresses (datacenter: cloud counts too)",
    )
    t.add_argument(
        "-n",
        "--count",
        type=int,
        default=None,
        metavar="N",
        help="addresses per sampler and family (default: one in every prefix/range, every Tor address)",
    )
    t.add_argument("--seed", type=int, default=None, help="random seed of the samplers (default 0)")
    a = p.add_argument_group("AS-name heuristic alone")
    a.add_argument(
        "--asn-names",
        metavar="ASNS_CSV",
        help="AS names: bgp.tools asns.csv(.gz) (asn,name,class,cc) or an iptoasn table",
    )
    a.add_argument("--positive-tags", metavar="TAGS[,TAGS]", help="tag files of residential networks (dsl, mobile)")
    a.add_argument("--negative-tags", metavar="TAGS[,TAGS]", help="tag files of hosting networks (vpsh, cdn)")
    a.add_argument(
        "--split",
        choices=("all", "even", "odd"),
        default="all",
        help="ASNs scored: all, or the even (tuning) or odd (held-out) half",
    )
    a.add_argument("--examples", type=int, default=0, metavar="N", help="list up to N names of each kind of error")
    o = p.add_argument_group("output")
    o.add_argument(
        "--real-data",
        metavar="DIR",
        help="load an engine of its own from DIR (laid out as ../shared/data) and run the standard target suite",
    )
    o.add_argument("--spec", metavar="FILE.json", help="a ready spec (classifier/validate.Spec) instead of the options")
    o.add_argument("--plot", metavar="FILE.png", help="draw the confusion matrix (needs matplotlib)")
    o.add_argument("--json", action="store_true", help="print the raw outcome as JSON instead of markdown")
    o.add_argument("--refresh", action="store_true", help="refresh the sources that are due first")
    return p


def _files(value: Optional[str]) -> List[str]:
    return [os.path.abspath(v.strip()) for v in (value or "").split(",") if v.strip()]


def build_spec(args: argparse.Namespace) -> Dict[str, Any]:
    """The spec (classifier/validate.Spec as JSON) the options describe."""
    if args.spec:
        with open(args.spec, encoding="utf-8") as f:
            spec: Dict[str, Any] = json.load(f)
        return spec
    spec = {}
    if args.seed is not None:
        spec["seed"] = args.seed
    if args.count is not None:
        if args.count < 0:
            raise SpecError("--count must be at least 0")
        spec["count"] = args.count
    if args.real_data:
        spec["real_data"] = args.real_data  # shown as given; the engine runs in this process's directory
    if args.truth:
        spec["truth"] = [os.path.abspath(t) for t in args.truth]
    if args.addresses:
        spec["addresses"] = [os.path.abspath(a) for a in args.addresses]
    samplers: List[Dict[str, Any]] = []
    for path in args.sample_tor:
        samplers.append({"kind": "tor", "file": os.path.abspath(path)})
    for item in args.sample_cloud:
        provider, sep, path = item.partition("=")
        if not sep or not provider or not path:
            raise SpecError(f"--sample-cloud wants PROVIDER=FILE, got {item!r}")
        s: Dict[str, Any] = {"kind": "cloud", "provider": provider.strip(), "file": os.path.abspath(path)}
        if args.format:
            s["format"] = args.format
        if args.family:
            s["family"] = args.family
        samplers.append(s)
    if args.sample_asn_tags:
        if not args.ip2asn or not args.type:
            raise SpecError("--sample-asn-tags needs --ip2asn FILE and --type residential|datacenter")
        s = {
            "kind": "asn_tags",
            "tags": _files(args.sample_asn_tags),
            "ip2asn": os.path.abspath(args.ip2asn),
            "type": args.type,
        }
        if args.exclude_tags:
            s["exclude_tags"] = _files(args.exclude_tags)
        if args.family:
            s["family"] = args.family
        samplers.append(s)
    if samplers:
        spec["samplers"] = samplers
    if args.asn_names:
        if not args.positive_tags or not args.negative_tags:
            raise SpecError("--asn-names needs --positive-tags and --negative-tags")
        spec["asn_names"] = [
            {
                "names": os.path.abspath(args.asn_names),
                "positive_tags": _files(args.positive_tags),
                "negative_tags": _files(args.negative_tags),
                "split": args.split,
                "examples": args.examples,
            }
        ]
    if not any(k in spec for k in ("truth", "addresses", "samplers", "asn_names", "real_data")):
        raise SpecError(
            "nothing to measure: give --truth, --addresses, a --sample-* option, --asn-names, --real-data or --spec"
        )
    return spec


def run(
    args: argparse.Namespace,
    config: Callable[[], Mapping[str, Any]],
    out: TextIO,
    err: TextIO,
) -> int:
    """Run ``validate``; returns the exit status.

    ``config`` returns the configuration of the classifier the global
    options describe. It is called only when the spec measures that
    classifier (:func:`~ipclassifier._harness.needs_classifier`): a
    real-data or AS-name-only run opens no classifier of the user's.
    """
    try:
        if args.plot:
            _require_matplotlib()
        spec = build_spec(args)
    except SpecError as e:
        err.write(f"ipclassifier validate: error: {e}\n")
        return 2
    except MissingExtra as e:
        err.write(f"ipclassifier validate: error: {e}\n")
        return 1
    if _harness.needs_classifier(spec):
        outcome = measure(spec, config(), args.refresh)
    else:
        if args.refresh:
            why = "AS-name runs score names alone"
            if spec.get("real_data"):
                why = "--real-data loads an engine of its own"
            err.write(f"warning: --refresh ignored: {why}, so no classifier of yours is opened\n")
        outcome = measure(spec, None, False)
    for w in outcome.pop("warnings", ()):
        if "-refresh ignored" not in w:
            err.write(f"warning: {w}\n")
    if args.json:
        out.write(json.dumps(outcome, indent=2, sort_keys=True) + "\n")
    else:
        out.write(str(outcome.get("markdown", "")))
    if args.plot:
        if not plot_confusion(outcome, args.plot):
            err.write("ipclassifier: error: --plot: no labelled addresses, so no confusion matrix to draw\n")
            return 1
        err.write(f"confusion matrix written to {args.plot}\n")
    missed = int(outcome.get("targets_missed") or 0)
    if missed:
        err.write(f"{missed} target(s) missed\n")
        return 1
    return 0


def _require_matplotlib() -> None:
    require("validate --plot", "validate", "matplotlib")


def plot_confusion(outcome: Dict[str, Any], path: str, title: Optional[str] = None) -> bool:
    """Draw the outcome's confusion matrix (rows expected, columns got; each
    cell's colour is its share of the row) to a PNG at path. Returns False
    when the outcome has no labelled addresses."""
    report = outcome.get("report") or {}
    confusion: Dict[str, Dict[str, int]] = report.get("confusion") or {}
    rows = [t for t in TYPES if t in confusion]
    if not rows:
        return False
    _require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = [[int(confusion[r].get(c, 0)) for c in TYPES] for r in rows]
    shares = [[n / max(1, sum(row)) for n in row] for row in counts]
    fig, ax = plt.subplots(figsize=(1.7 * len(TYPES) + 2.2, 1.0 * len(rows) + 2.2), dpi=120)
    im = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(TYPES)), labels=list(TYPES))
    ax.set_yticks(range(len(rows)), labels=[f"{r}\n(n={sum(counts[i]):,})" for i, r in enumerate(rows)])
    ax.set_xlabel("answered")
    ax.set_ylabel("expected")
    for i, row in enumerate(counts):
        for j, n in enumerate(row):
            share = shares[i][j]
            ax.text(
                j,
                i,
                f"{n:,}\n{100 * share:.1f}%",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if share > 0.6 else "black",
            )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the row")
    total = int(report.get("total") or 0)
    ax.set_title(title or f"ipclassifier labels against truth ({total:,} addresses, seed {outcome.get('seed', 0)})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
