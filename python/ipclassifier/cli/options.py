"""The options every command takes, the streams a command writes to, and the
one function that turns the options into a classifier (used by the core
commands, ``validate`` and the cowrieprocessor ``backfill``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable, Collection, Dict, Mapping, Optional, TextIO, Tuple

from ..classifier import IPClassifier, build_config

__all__ = ["Streams", "Handler", "add_global_options", "classifier_config", "open_classifier"]


@dataclass
class Streams:
    """Where a command reads and writes (sys.stdin/stdout/stderr unless a
    caller of :func:`ipclassifier.cli.main` gives others)."""

    out: TextIO
    err: TextIO
    stdin: TextIO


#: What a command module's parsers carry as ``run`` (``set_defaults(run=…)``):
#: called with the parsed options and the streams, returns the exit status.
Handler = Callable[[argparse.Namespace, Streams], int]


# (flag, metavar, help); --no-cache is added after them.
_GLOBAL_OPTIONS: Tuple[Tuple[str, str, str], ...] = (
    ("--data-dir", "DIR", "where source snapshots are kept"),
    ("--baseline-dir", "DIR", "snapshots for sources with none of their own ('' = none; default: the bundled ones)"),
    ("--cache-dir", "DIR", "L3 file cache directory"),
    ("--db", "URL", "L2 SQL cache (sqlite:///abs/path.db, postgresql://…)"),
    ("--redis-url", "URL", "L1 Redis cache (redis://host:port/db)"),
    ("--tor-url", "URL", "Tor bulk exit list"),
    ("--onionoo-url", "URL", "Onionoo details document of exit relays"),
    ("--cloud-base-url", "URL", "base of the cloud range CSVs"),
    ("--datacenter-url", "URL", "jhassine datacenters.csv"),
    ("--hosting-base-url", "URL", "base of the X4BNet ipv4.txt/ipv6.txt"),
    ("--hosting-asn-url", "URL", "X4BNet list of hosting ASNs (ASN.txt)"),
    ("--asn-v4-url", "URL", "iptoasn ip2asn-v4.tsv(.gz)"),
    ("--asn-v6-url", "URL", "iptoasn ip2asn-v6.tsv(.gz)"),
    ("--ipranges-base-url", "URL", "base of lord-alfred/ipranges (providers' own lists)"),
    ("--scanner-url", "URL", "maltrail mass_scanner.txt (known scanners: tags only)"),
    ("--vpn-base-url", "URL", "base of the X4BNet VPN ipv4.txt/ipv6.txt"),
    ("--peeringdb-url", "URL", "PeeringDB network list (api/net JSON)"),
    (
        "--cloud-providers",
        "LIST",
        "comma-separated cloud lists to load (aws,azure,gcp,cloudflare,digitalocean,oracle,linode,vultr); default all",
    ),
)


def add_global_options(
    parser: argparse.ArgumentParser,
    suppress: bool,
    *,
    without: Collection[str] = (),
    help_overrides: Optional[Mapping[str, str]] = None,
) -> None:
    """Add the classifier options to ``parser``.

    The top-level parser takes them with defaults (``suppress=False``);
    each command's parser takes them again with ``suppress=True`` (no
    default), so they may come before or after the command name and one
    given before is not overwritten. ``without`` leaves flags out (the
    backfill's ``--db`` is its database, not a cache tier);
    ``help_overrides`` rewords a flag's help for one command.
    """
    d: Dict[str, Any] = {"default": argparse.SUPPRESS} if suppress else {}
    helps = help_overrides or {}
    g = parser.add_argument_group("classifier options")
    for flag, metavar, help_text in _GLOBAL_OPTIONS:
        if flag not in without:
            g.add_argument(flag, metavar=metavar, help=helps.get(flag, help_text), **d)
    if "--no-cache" not in without:
        g.add_argument("--no-cache", action="store_true", help=helps.get("--no-cache", "disable every cache tier"), **d)


# URL options that create_ip_classifier takes as keywords of their own (or
# that are cache tiers); every other --*-url is a source URL of the engine
# configuration under the same name (onionoo_url, asn_v4_url, …).
_KEYWORD_URLS = frozenset({"redis_url", "tor_url", "cloud_base_url", "datacenter_url", "hosting_base_url"})
_UNSET: Any = object()


def classifier_config(
    args: argparse.Namespace,
    *,
    cache_dir: Optional[str] = _UNSET,
    db_engine: Optional[str] = _UNSET,
    redis_url: Optional[str] = _UNSET,
    enable_cache: bool = _UNSET,
) -> Dict[str, Any]:
    """The engine configuration (:func:`~ipclassifier.build_config`) the
    options describe: the sources (``--data-dir``, ``--baseline-dir``, every ``--*-url``,
    ``--cloud-providers``) and the cache tiers (no background refresh) — those of the options
    (``--cache-dir``, ``--db``, ``--redis-url``, ``--no-cache``) unless a
    caller names its own (the backfill does)."""
    if cache_dir is _UNSET:
        cache_dir = getattr(args, "cache_dir", None)
    if db_engine is _UNSET:
        db_engine = getattr(args, "db", None)
    if redis_url is _UNSET:
        redis_url = getattr(args, "redis_url", None)
    if enable_cache is _UNSET:
        enable_cache = not getattr(args, "no_cache", False)
    extra: Dict[str, Any] = {
        key: value for key, value in vars(args).items() if key.endswith("_url") and key not in _KEYWORD_URLS and value
    }
    baseline = getattr(args, "baseline_dir", None)
    if baseline is not None:
        extra["baseline_dir"] = baseline
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
        auto_refresh=False,  # a command runs once: `refresh` (from cron) is the refresh
        **extra,
    )


def open_classifier(args: argparse.Namespace, **tiers: Any) -> IPClassifier:
    """The classifier of :func:`classifier_config` (same keywords)."""
    return IPClassifier(config=classifier_config(args, **tiers))
