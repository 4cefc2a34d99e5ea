"""A realistic cowrieprocessor database for demos, tests and benchmarks.

:func:`create_schema` builds the two host tables the integration touches in
their upstream shapes (``ip_inventory``, ``session_summaries``; SQLAlchemy 2
Core, JSONB on PostgreSQL). :func:`build_demo_db` fills them like a honeypot
fleet's database: by default 38,864 addresses and 1,682,827 sessions (the
upstream production figures), with

* a heavy-tailed number of sessions per address and one AS (DigitalOcean,
  AS14061) holding about 14% of the sessions;
* addresses drawn from real networks, so that with the real public lists
  loaded they come out as Tor exits (185.220.100.0/22, 23.129.64.0/24, …),
  cloud (DigitalOcean, AWS, GCP, Azure, Vultr, Linode, Oracle, Tencent,
  Alibaba, Huawei), hosting (Hetzner, OVH, Contabo, Scaleway, …), access
  ISPs named in their MaxMind/Cymru enrichment (CHINANET, Deutsche Telekom,
  Comcast, Airtel, …) and a share with no AS data at all;
* per-pass enrichment in the upstream shapes: ``maxmind`` (``asn``,
  ``asn_org``, geo), ``cymru`` (``asn``, ``asn_org``, ``registry``,
  ``prefix``), ``greynoise`` — with the gaps real data has (MaxMind without
  an AS, Cymru without a name, only ``current_asn``, nothing);
* ``snapshot_ip_type`` NULL everywhere (upstream's 0% coverage).

It is deterministic for a given ``seed`` and fast: rows are generated in
plain Python and written with ``executemany`` (SQLite) or ``COPY``
(PostgreSQL), indexes built after the load.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import random
import time
from bisect import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import sqlalchemy as sa
from sqlalchemy import MetaData, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from .backfill_job import database_url

__all__ = ["Network", "NETWORKS", "create_schema", "host_tables", "build_demo_db", "DemoReport", "DemoDBError"]

FULL_IPS = 38_864
FULL_SESSIONS = 1_682_827


class DemoDBError(Exception):
    """Bad arguments or a database that already holds the tables."""


# ---------------------------------------------------------------------------
# Schema (upstream shapes, the columns the integration and a loader touch)


def host_tables(metadata: Optional[MetaData] = None, foreign_keys: bool = True) -> Tuple[Table, Table]:
    """The ``ip_inventory`` and ``session_summaries`` tables (upstream
    cowrieprocessor shapes) on ``metadata`` (a new MetaData by default).

    ``enrichment`` is JSON, JSONB on PostgreSQL. ``session_summaries.
    source_ip`` references ``ip_inventory.ip_address`` when
    ``foreign_keys``; ``current_asn``'s reference to ``asn_inventory`` is
    left out (that table is not part of this integration).
    """
    md = metadata if metadata is not None else sa.MetaData()
    js = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    now = sa.func.now()
    inv = sa.Table(
        "ip_inventory",
        md,
        sa.Column("ip_address", sa.String(45), primary_key=True),
        sa.Column("current_asn", sa.Integer, nullable=True),
        sa.Column("asn_last_verified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_count", sa.Integer, nullable=False, server_default="1"),
        sa.Column("enrichment", js, nullable=False, server_default="{}"),
        sa.Column("enrichment_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enrichment_version", sa.String(10), nullable=False, server_default="2.2"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Index("ix_ip_inventory_current_asn", "current_asn"),
        sa.Index("ix_ip_inventory_last_seen", "last_seen"),
    )
    fk: List[Any] = [sa.ForeignKey("ip_inventory.ip_address")] if foreign_keys else []
    ses = sa.Table(
        "session_summaries",
        md,
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("source_ip", sa.String(45), *fk, nullable=True),
        sa.Column("first_event_at", sa.DateTime(timezone=True)),
        sa.Column("last_event_at", sa.DateTime(timezone=True)),
        sa.Column("event_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("command_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("file_downloads", sa.Integer, nullable=False, server_default="0"),
        sa.Column("login_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("vt_flagged", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("dshield_flagged", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("risk_score", sa.Integer, nullable=True),
        sa.Column("matcher", sa.String(32), nullable=True),
        sa.Column("source_files", sa.JSON, nullable=True),
        sa.Column("snapshot_asn", sa.Integer, nullable=True),
        sa.Column("snapshot_country", sa.String(2), nullable=True),
        sa.Column("snapshot_ip_type", sa.Text, nullable=True),
        sa.Column("enrichment", sa.JSON, nullable=True),
        sa.Column("enrichment_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=now),
        sa.Index("ix_session_summaries_source_ip", "source_ip"),
        sa.Index("ix_session_summaries_first_event", "first_event_at"),
        sa.Index("ix_session_summaries_last_event", "last_event_at"),
        sa.Index("ix_session_summaries_flags", "vt_flagged", "dshield_flagged"),
        sa.Index("ix_session_summaries_snapshot_asn", "snapshot_asn"),
        sa.Index("ix_session_summaries_snapshot_country", "snapshot_country"),
        sa.Index("ix_session_summaries_snapshot_ip_type", "snapshot_ip_type"),
    )
    return inv, ses


def create_schema(
    db: Union[str, Engine, Connection], *, drop: bool = False, foreign_keys: bool = True
) -> Tuple[Table, Table]:
    """Create ``ip_inventory`` and ``session_summaries`` (with their
    indexes) in ``db`` (a URL, Engine or Connection); with ``drop``, drop
    them first. Returns the tables."""
    inv, ses = host_tables(foreign_keys=foreign_keys)
    md = inv.metadata
    if isinstance(db, sa.Connection):
        if drop:
            md.drop_all(db)
        md.create_all(db)
        return inv, ses
    engine = _create_engine(db) if isinstance(db, str) else db
    try:
        with engine.begin() as conn:
            if drop:
                md.drop_all(conn)
            md.create_all(conn)
    finally:
        if isinstance(db, str):
            engine.dispose()
    return inv, ses


def _create_engine(url: str) -> Engine:
    try:
        return sa.create_engine(database_url(url))
    except ValueError as e:
        raise DemoDBError(f"invalid database URL: {e}") from None


# ---------------------------------------------------------------------------
# The networks addresses are drawn from


@dataclass(frozen=True)
class Network:
    """A network addresses are drawn from.

    ``expect`` is what the real public lists should say about its addresses
    (``tor``, ``cloud``, ``datacenter``, ``residential`` or ``unknown``);
    ``weight`` its share of the addresses (relative); ``session_share``, when
    set, pins its share of all sessions.
    """

    expect: str
    weight: float
    asn: Optional[int]
    org: Optional[str]
    country: str
    registry: str
    prefixes: Tuple[str, ...]
    session_share: Optional[float] = None


def _n(expect: str, weight: float, asn: Optional[int], org: Optional[str], cc: str, rir: str, *prefixes: str,
       share: Optional[float] = None) -> Network:  # fmt: skip
    return Network(expect, weight, asn, org, cc, rir, tuple(prefixes), share)


#: The catalogue (weights are percent of the addresses).
NETWORKS: Tuple[Network, ...] = (
    # --- Tor exits (operators whose /24s are mostly exits) -----------------
    _n("tor", 0.5, 60729, "Stiftung Erneuerbare Freiheit", "DE", "ripencc", "185.220.101.0/24"),
    _n("tor", 0.3, 396507, "EMERALD-ONION", "US", "arin", "23.129.64.0/24"),
    _n("tor", 0.4, 1101, "SURF B.V.", "NL", "ripencc",
       "192.42.116.0/24", "171.25.193.0/24", "109.70.100.0/24", "45.84.107.0/24", "185.129.61.0/24"),
    # --- Cloud -------------------------------------------------------------
    _n("cloud", 9.0, 14061, "DIGITALOCEAN-ASN", "US", "arin",
       "159.65.0.0/16", "167.99.0.0/16", "138.68.0.0/16", "64.225.0.0/16", "164.90.0.0/16", "143.198.0.0/16",
       "165.227.0.0/16", "206.189.0.0/16", "68.183.0.0/16", "134.209.0.0/16", "157.245.0.0/16", "161.35.0.0/16",
       "137.184.0.0/16", "146.190.0.0/16", "188.166.0.0/16", "178.128.0.0/16", "139.59.0.0/16", "128.199.0.0/16",
       share=0.14),
    _n("cloud", 4.0, 16509, "AMAZON-02", "US", "arin",
       "3.80.0.0/12", "54.144.0.0/12", "18.204.0.0/14", "34.192.0.0/12", "13.48.0.0/15", "52.78.0.0/16",
       "3.5.140.0/22", "2600:1f14::/35"),
    _n("cloud", 3.0, 396982, "GOOGLE-CLOUD-PLATFORM", "US", "arin",
       "34.64.0.0/11", "35.184.0.0/13", "34.96.0.0/14", "35.192.0.0/12"),
    _n("cloud", 2.5, 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", "US", "arin",
       "20.36.0.0/14", "40.64.0.0/10", "52.224.0.0/11", "13.64.0.0/11"),
    _n("cloud", 2.0, 20473, "AS-CHOOPA", "US", "arin",
       "45.32.0.0/16", "45.76.0.0/15", "108.61.0.0/16", "144.202.0.0/16", "149.28.0.0/16", "155.138.128.0/17",
       "207.148.0.0/18", "95.179.128.0/17", "139.180.128.0/17", "45.63.0.0/17"),
    _n("cloud", 1.5, 63949, "Akamai Connected Cloud", "US", "arin",
       "172.104.0.0/15", "139.162.0.0/16", "45.33.0.0/17", "45.79.0.0/16", "50.116.0.0/18", "173.255.192.0/18"),
    _n("cloud", 1.0, 31898, "ORACLE-BMC-31898", "US", "arin",
       "129.146.0.0/16", "132.145.0.0/16", "150.136.0.0/16", "152.67.0.0/16", "158.101.0.0/16", "141.147.0.0/16"),
    _n("cloud", 3.0, 132203, "TENCENT-NET-AP-CN Tencent Building, Kejizhongyi Avenue", "CN", "apnic",
       "43.153.0.0/16", "43.156.0.0/16", "43.159.0.0/16", "170.106.0.0/16", "49.51.0.0/16", "129.226.0.0/16",
       "119.28.0.0/16"),
    _n("cloud", 2.0, 45102, "ALIBABA-CN-NET Alibaba US Technology Co., Ltd.", "US", "apnic",
       "47.74.0.0/15", "47.88.0.0/14", "47.242.0.0/15", "8.210.0.0/16", "8.218.0.0/15", "149.129.0.0/16"),
    _n("cloud", 1.0, 136907, "HWCLOUDS-AS-AP HUAWEI CLOUDS", "HK", "apnic",
       "159.138.0.0/16", "119.8.0.0/16", "190.92.192.0/18"),
    # --- Hosting -----------------------------------------------------------
    _n("datacenter", 3.0, 24940, "Hetzner Online GmbH", "DE", "ripencc",
       "88.198.0.0/16", "5.9.0.0/16", "78.46.0.0/15", "95.216.0.0/16", "65.108.0.0/16", "65.21.0.0/16",
       "135.181.0.0/16", "116.202.0.0/16", "49.12.0.0/16", "157.90.0.0/16", "168.119.0.0/16", "136.243.0.0/16",
       "144.76.0.0/16", "46.4.0.0/16", "178.63.0.0/16", "2a01:4f8::/32"),
    _n("datacenter", 3.0, 16276, "OVH SAS", "FR", "ripencc",
       "51.68.0.0/16", "51.75.0.0/16", "51.77.0.0/16", "51.89.0.0/16", "51.91.0.0/16", "54.36.0.0/16",
       "54.37.0.0/16", "54.38.0.0/16", "137.74.0.0/16", "145.239.0.0/16", "147.135.0.0/16", "149.56.0.0/16",
       "158.69.0.0/16", "167.114.0.0/16", "192.99.0.0/16"),
    _n("datacenter", 2.0, 51167, "Contabo GmbH", "DE", "ripencc",
       "161.97.0.0/16", "173.212.192.0/18", "207.180.192.0/18", "5.189.128.0/17", "144.91.64.0/18",
       "62.171.128.0/17", "164.68.96.0/19", "167.86.64.0/18", "213.136.64.0/18"),
    _n("datacenter", 1.0, 12876, "Online S.a.s.", "FR", "ripencc",
       "51.15.0.0/16", "51.158.0.0/15", "163.172.0.0/16", "62.210.0.0/16", "212.47.224.0/19"),
    _n("datacenter", 1.5, 36352, "AS-COLOCROSSING", "US", "arin",
       "192.3.0.0/16", "198.23.128.0/17", "107.172.0.0/14", "23.94.0.0/15", "104.168.0.0/17", "172.245.0.0/16",
       "198.46.128.0/17"),
    _n("datacenter", 1.0, 53667, "PONYNET", "US", "arin",
       "104.244.72.0/21", "107.189.0.0/19", "198.98.48.0/20", "209.141.32.0/19", "205.185.112.0/20"),
    _n("datacenter", 1.0, 9009, "M247 Europe SRL", "RO", "ripencc", "146.70.0.0/16", "89.187.160.0/19"),
    # --- Access ISPs (residential by AS name) ------------------------------
    _n("residential", 10.0, 4134, "CHINANET-BACKBONE No.31,Jin-rong Street", "CN", "apnic",
       "58.208.0.0/12", "117.80.0.0/12", "121.224.0.0/12", "180.96.0.0/11", "183.128.0.0/11", "222.64.0.0/11",
       "218.64.0.0/11", "115.192.0.0/11", "125.64.0.0/11", "27.152.0.0/13"),
    _n("residential", 5.0, 4837, "CHINA169-BACKBONE CHINA UNICOM China169 Backbone", "CN", "apnic",
       "112.224.0.0/11", "123.112.0.0/12", "221.192.0.0/14", "60.0.0.0/13"),
    _n("residential", 3.0, 9808, "CHINAMOBILE-CN China Mobile Guangdong Net", "CN", "apnic",
       "117.128.0.0/10", "120.192.0.0/10", "223.64.0.0/11"),
    _n("residential", 3.0, 4766, "KIXS-AS-KR Korea Telecom", "KR", "apnic", "175.192.0.0/10", "121.128.0.0/10"),
    _n("residential", 2.0, 3320, "Deutsche Telekom AG", "DE", "ripencc",
       "79.192.0.0/10", "84.128.0.0/10", "87.128.0.0/10", "91.0.0.0/10", "93.192.0.0/10", "2003::/19"),
    _n("residential", 2.0, 7922, "COMCAST-7922", "US", "arin",
       "73.0.0.0/8", "24.0.0.0/12", "67.160.0.0/11", "98.192.0.0/10", "2601::/20"),
    _n("residential", 1.0, 20115, "CHARTER-20115", "US", "arin", "71.80.0.0/13", "97.64.0.0/11", "24.176.0.0/12"),
    _n("residential", 2.0, 9498, "BBIL-AP BHARTI Airtel Ltd.", "IN", "apnic", "122.160.0.0/12", "182.64.0.0/12"),
    _n("residential", 1.5, 55836, "RELIANCEJIO-IN Reliance Jio Infocomm Limited", "IN", "apnic",
       "49.32.0.0/11", "152.56.0.0/14", "157.32.0.0/12"),
    _n("residential", 2.0, 45899, "VNPT Corp", "VN", "apnic", "113.160.0.0/11", "14.160.0.0/11", "123.16.0.0/12"),
    _n("residential", 1.5, 7552, "Viettel Group", "VN", "apnic", "27.64.0.0/12", "116.96.0.0/12", "171.224.0.0/11"),
    _n("residential", 1.5, 27699, "TELEFONICA BRASIL S.A", "BR", "lacnic", "177.0.0.0/14", "187.0.0.0/12"),
    _n("residential", 1.5, 28573, "Claro NXT Telecomunicacoes Ltda", "BR", "lacnic",
       "177.32.0.0/11", "179.208.0.0/12", "189.0.0.0/11"),
    _n("residential", 1.0, 9121, "Turk Telekom", "TR", "ripencc", "78.160.0.0/11", "85.96.0.0/12", "88.224.0.0/11"),
    _n("residential", 1.5, 12389, "Rostelecom", "RU", "ripencc", "5.136.0.0/13", "95.72.0.0/13", "178.64.0.0/12"),
    _n("residential", 1.0, 3215, "Orange S.A.", "FR", "ripencc", "90.0.0.0/9", "86.192.0.0/10", "92.128.0.0/10"),
    _n("residential", 1.0, 3209, "Vodafone GmbH", "DE", "ripencc", "178.0.0.0/12", "188.192.0.0/11"),
    _n("residential", 1.5, 7713, "PT Telekomunikasi Indonesia", "ID", "apnic", "36.64.0.0/11", "125.160.0.0/11"),
    _n("residential", 0.5, 9299, "Philippine Long Distance Telephone Company", "PH", "apnic", "112.198.0.0/16",
       "122.2.0.0/15"),
    _n("residential", 1.0, 3462, "HINET Data Communication Business Group", "TW", "apnic", "114.24.0.0/13",
       "36.224.0.0/12"),
    # --- ISPs whose AS name says nothing (unknown) ---------------------------
    _n("unknown", 1.0, 8151, "UNINET", "MX", "lacnic", "187.128.0.0/10", "189.128.0.0/10"),
    _n("unknown", 1.5, 9829, "National Internet Backbone", "IN", "apnic", "117.192.0.0/10", "59.88.0.0/13"),
    # --- No AS data at all ---------------------------------------------------
    _n("unknown", 8.0, None, None, "", "",
       "41.0.0.0/8", "102.0.0.0/8", "105.0.0.0/8", "154.0.0.0/8", "196.0.0.0/8", "197.0.0.0/8", "200.0.0.0/8",
       "201.0.0.0/8", "186.0.0.0/8", "190.0.0.0/8", "181.0.0.0/8", "110.0.0.0/8", "103.0.0.0/8", "36.0.0.0/8",
       "94.0.0.0/8", "31.0.0.0/8", "37.0.0.0/8", "46.0.0.0/8", "176.0.0.0/8", "212.0.0.0/8"),
)  # fmt: skip

_CITIES = {
    "US": ["Ashburn", "Santa Clara", "New York", "Chicago", "Los Angeles"],
    "DE": ["Frankfurt am Main", "Nuremberg", "Berlin"],
    "FR": ["Paris", "Roubaix", "Gravelines"], "NL": ["Amsterdam"],
    "CN": ["Shanghai", "Beijing", "Nanjing", "Guangzhou"],
    "KR": ["Seoul", "Busan"], "IN": ["Mumbai", "Delhi", "Bengaluru"], "VN": ["Hanoi", "Ho Chi Minh City"],
    "BR": ["São Paulo", "Rio de Janeiro"], "TR": ["Istanbul", "Ankara"], "RU": ["Moscow", "Saint Petersburg"],
    "ID": ["Jakarta", "Surabaya"], "PH": ["Manila"], "TW": ["Taipei"], "MX": ["Mexico City"], "HK": ["Hong Kong"],
    "RO": ["Bucharest"],
}  # fmt: skip
_COUNTRY_NAMES = {
    "US": "United States", "DE": "Germany", "FR": "France", "NL": "Netherlands", "CN": "China", "KR": "South Korea",
    "IN": "India", "VN": "Vietnam", "BR": "Brazil", "TR": "Türkiye", "RU": "Russia", "ID": "Indonesia",
    "PH": "Philippines", "TW": "Taiwan", "MX": "Mexico", "HK": "Hong Kong", "RO": "Romania", "ZA": "South Africa",
}  # fmt: skip
_NOASN_COUNTRIES = ["ZA", "BR", "AR", "EG", "NG", "KE", "CO", "CL", "TH", "BD", "PK", "IR", "UA", "PL", "IT", "ES"]


# ---------------------------------------------------------------------------
# Generation


@dataclass
class DemoReport:
    """What :func:`build_demo_db` wrote."""

    ips: int = 0
    sessions: int = 0
    sessions_no_ip: int = 0
    orphan_sessions: int = 0
    top_asn: Optional[int] = None
    top_asn_share: float = 0.0
    expected_ips: Dict[str, int] = field(default_factory=dict)  # expected type → addresses
    seconds: float = 0.0
    generate_seconds: float = 0.0
    load_seconds: float = 0.0
    index_seconds: float = 0.0
    dialect: str = ""


@dataclass
class _IP:
    ip: str
    net: Network
    first: float = 0.0
    last: float = 0.0
    sessions: int = 0


def _random_address(rnd: random.Random, prefix: str, cache: Dict[str, Tuple[int, int, int]]) -> str:
    info = cache.get(prefix)
    if info is None:
        net = ipaddress.ip_network(prefix)
        info = cache[prefix] = (int(net.network_address), net.num_addresses, net.version)
    base, size, version = info
    if version == 4:
        if size <= 2:
            n = base + rnd.randrange(size)
        else:  # not the network or broadcast address
            n = base + 1 + rnd.randrange(size - 2)
        return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
    # IPv6: a host in a random /64 of the prefix, canonical text
    if size > 1 << 64:
        n = base + (rnd.randrange(size >> 64) << 64) + rnd.randrange(1, 1 << 16)
    else:
        n = base + rnd.randrange(size)
    return str(ipaddress.IPv6Address(n))


def _addresses(rnd: random.Random, count: int) -> List[_IP]:
    nets = list(NETWORKS)
    cum = list(accumulate(n.weight for n in nets))
    total = cum[-1]
    cache: Dict[str, Tuple[int, int, int]] = {}
    seen: "set[str]" = set()
    out: List[_IP] = []
    # Networks too small for their share fall back to the next pick.
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > count * 50:
            raise DemoDBError(f"cannot draw {count} distinct addresses from the catalogue")
        net = nets[bisect(cum, rnd.random() * total)]
        prefix = net.prefixes[rnd.randrange(len(net.prefixes))]
        ip = _random_address(rnd, prefix, cache)
        if ip in seen:
            continue
        seen.add(ip)
        out.append(_IP(ip, net))
    return out


def _session_counts(rnd: random.Random, ips: List[_IP], sessions: int) -> None:
    """Heavy-tailed sessions per address (Pareto, alpha 1.1, capped);
    networks with a session_share are scaled to it. Every address gets at least one
    session when there are enough."""
    # Cap one address at about 2% of the sessions whatever the scale.
    cap = max(50.0, 0.2 * len(ips))
    weights = [min(rnd.paretovariate(1.1), cap) for _ in ips]
    pinned: Dict[Network, float] = {}
    for ip, w in zip(ips, weights):
        if ip.net.session_share:
            pinned[ip.net] = pinned.get(ip.net, 0.0) + w
    free = sum(weights) - sum(pinned.values())
    share_left = 1.0 - sum(n.session_share or 0.0 for n in pinned)
    if pinned and free > 0 and share_left > 0:
        for i, ip in enumerate(ips):
            net = ip.net
            if net in pinned:
                weights[i] *= (net.session_share or 0.0) / share_left * free / pinned[net]
    base = 1 if sessions >= len(ips) else 0
    rest = sessions - base * len(ips)
    total_w = sum(weights)
    exact = [w / total_w * rest for w in weights]
    counts = [base + int(x) for x in exact]
    short = sessions - sum(counts)
    if short > 0:  # largest remainders first
        order = sorted(range(len(ips)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
        for i in order[:short]:
            counts[i] += 1
    for ip, c in zip(ips, counts):
        ip.sessions = c


def _enrichment(rnd: random.Random, ip: _IP, cached_at: str) -> Tuple[Dict[str, Any], Optional[int], str]:
    """(enrichment, current_asn, country) with the gaps real data has."""
    net = ip.net
    cc = net.country or rnd.choice(_NOASN_COUNTRIES)
    city = rnd.choice(_CITIES.get(cc, [""])) or None
    enr: Dict[str, Any] = {}
    if net.asn is None:
        # No AS data: MaxMind geo only, or nothing.
        if rnd.random() < 0.5:
            enr["maxmind"] = {
                "country": cc, "country_name": _COUNTRY_NAMES.get(cc, cc), "city": None,
                "latitude": round(rnd.uniform(-40, 60), 4), "longitude": round(rnd.uniform(-120, 140), 4),
                "asn": None, "asn_org": None, "accuracy_radius": 1000, "cached_at": cached_at,
            }  # fmt: skip
        return enr, None, cc
    r = rnd.random()
    prefix = str(ipaddress.ip_network(f"{ip.ip}/{24 if ':' not in ip.ip else 48}", strict=False))
    mm_geo = {
        "country": cc, "country_name": _COUNTRY_NAMES.get(cc, cc), "city": city,
        "latitude": round(rnd.uniform(-40, 60), 4), "longitude": round(rnd.uniform(-120, 140), 4),
        "accuracy_radius": rnd.choice((5, 10, 20, 50, 100, 200, 500)), "cached_at": cached_at,
    }  # fmt: skip
    cymru = {
        "asn": net.asn, "asn_org": net.org, "country": cc, "registry": net.registry, "prefix": prefix,
        "allocation_date": f"{rnd.randint(1995, 2022)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
        "cached_at": cached_at,
    }  # fmt: skip
    if r < 0.62:  # MaxMind with AS data, Cymru (name 70% of the time)
        enr["maxmind"] = dict(mm_geo, asn=net.asn, asn_org=net.org)
        if rnd.random() >= 0.7:
            del cymru["asn_org"]
        enr["cymru"] = cymru
    elif r < 0.77:  # MaxMind geo only (its ASN database missing), Cymru with the name
        enr["maxmind"] = dict(mm_geo, asn=None, asn_org=None)
        enr["cymru"] = cymru
    elif r < 0.87:  # Cymru only, without a name
        del cymru["asn_org"]
        enr["cymru"] = cymru
    # else: neither pass ran; only current_asn (set below) says anything
    if rnd.random() < 0.35:
        noise = rnd.random() < 0.8
        enr["greynoise"] = {
            "noise": noise, "riot": False, "classification": "malicious" if noise else "unknown",
            "name": "unknown", "last_seen": "2025-10-30", "cached_at": cached_at,
        }  # fmt: skip
    current = net.asn if (r >= 0.87 or rnd.random() < 0.9) else None
    return enr, current, cc


_EPOCH_START = datetime(2024, 11, 1, tzinfo=timezone.utc)
_WINDOW = 365 * 86400


def _day_strings(days: int, start: datetime) -> List[str]:
    return [(start + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(days + 2)]


def build_demo_db(
    db: Union[str, Engine],
    *,
    ips: int = FULL_IPS,
    sessions: int = FULL_SESSIONS,
    seed: int = 0,
    replace: bool = False,
    no_ip_fraction: float = 0.003,
    orphan_fraction: float = 0.0,
    progress: Optional[Callable[[str], None]] = None,
) -> DemoReport:
    """Create and fill ``ip_inventory`` and ``session_summaries``.

    Args:
        db: a database URL or an SQLAlchemy Engine (SQLite or PostgreSQL).
        ips, sessions: how many rows.
        seed: the random seed (same seed, same database).
        replace: drop existing tables first; without it, existing tables
            are an error.
        no_ip_fraction: share of sessions with no source IP.
        orphan_fraction: share of sessions whose source IP is not in
            ip_inventory (needs no foreign key: set, the key is left out).
        progress: called with a short message per step.

    Raises:
        DemoDBError: bad arguments, or the tables exist and not ``replace``.
    """
    if ips < 1 or sessions < 0:
        raise DemoDBError(f"need at least 1 IP and 0 sessions, got ips={ips} sessions={sessions}")
    if not 0 <= no_ip_fraction < 1 or not 0 <= orphan_fraction < 1:
        raise DemoDBError("fractions must be in [0, 1)")
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    engine = _create_engine(db) if isinstance(db, str) else db
    rep = DemoReport(dialect=engine.dialect.name)
    try:
        insp = sa.inspect(engine)
        existing = [t for t in ("ip_inventory", "session_summaries") if insp.has_table(t)]
        if existing and not replace:
            raise DemoDBError(f"table(s) {', '.join(existing)} already exist: use --replace to drop them")
        rnd = random.Random(seed)
        say(f"generating {ips:,} addresses and {sessions:,} sessions (seed {seed})")
        inv_rows, ses_rows = _generate(rnd, ips, sessions, no_ip_fraction, orphan_fraction, rep)
        rep.generate_seconds = time.perf_counter() - t0
        fk = orphan_fraction == 0
        pg = engine.dialect.name == "postgresql"
        # On PostgreSQL the foreign key is added after the load (one check
        # instead of one per row); SQLite only has it in the DDL.
        inv, ses = host_tables(foreign_keys=fk and not pg)
        t1 = time.perf_counter()
        with engine.connect() as conn:
            if not pg:
                # A database being built from scratch: no journal, no fsync
                # (per connection; nothing persists in the file).
                conn.exec_driver_sql("PRAGMA journal_mode = MEMORY")
                conn.exec_driver_sql("PRAGMA synchronous = OFF")
                conn.exec_driver_sql("PRAGMA cache_size = -262144")
                conn.commit()
            ses.drop(conn, checkfirst=True)
            inv.drop(conn, checkfirst=True)
            # Tables first, indexes after the load (much faster).
            for t in (inv, ses):
                conn.execute(sa.schema.CreateTable(t))
            say(f"loading into {engine.dialect.name}")
            if pg:
                _copy_pg(conn, inv, ses, inv_rows, ses_rows)
            else:
                _insert_sqlite(conn, inv, ses, inv_rows, ses_rows)
            conn.commit()
            rep.load_seconds = time.perf_counter() - t1
            t2 = time.perf_counter()
            say("building indexes")
            for t in (inv, ses):
                for ix in t.indexes:
                    ix.create(conn)
            if pg:
                if fk:
                    fkey = sa.ForeignKeyConstraint(
                        [ses.c.source_ip], [inv.c.ip_address], name="session_summaries_source_ip_fkey"
                    )
                    ses.append_constraint(fkey)
                    conn.execute(sa.schema.AddConstraint(fkey))
                conn.commit()
                conn.exec_driver_sql("ANALYZE ip_inventory")
                conn.exec_driver_sql("ANALYZE session_summaries")
            else:
                conn.exec_driver_sql("ANALYZE")
            conn.commit()
        rep.index_seconds = time.perf_counter() - t2
    finally:
        if isinstance(db, str):
            engine.dispose()
    rep.seconds = time.perf_counter() - t0
    return rep


_InvRow = Tuple[str, Optional[int], str, str, int, str, str]
_SesRow = Tuple[str, Optional[str], str, str, int, int, int, int, Optional[int], Optional[int], Optional[str]]


def _generate(
    rnd: random.Random, n_ips: int, n_sessions: int, no_ip_fraction: float, orphan_fraction: float, rep: DemoReport
) -> Tuple[List[_InvRow], List[_SesRow]]:
    addrs = _addresses(rnd, n_ips)
    n_no_ip = int(n_sessions * no_ip_fraction)
    n_orphan = int(n_sessions * orphan_fraction)
    n_real = n_sessions - n_no_ip - n_orphan
    _session_counts(rnd, addrs, n_real)
    cached_at = "2025-11-01T00:00:00+00:00"
    meta: List[Tuple[Optional[int], str]] = []
    inv_enrichment: List[str] = []
    expected: Dict[str, int] = {}
    for a in addrs:
        enr, current, cc = _enrichment(rnd, a, cached_at)
        meta.append((current, cc))
        inv_enrichment.append(json.dumps(enr, separators=(",", ":")))
        expected[a.net.expect] = expected.get(a.net.expect, 0) + 1
    rep.expected_ips = expected

    # Sessions in time order, addresses shuffled through them.
    owner: List[int] = []
    for i, a in enumerate(addrs):
        owner.extend([i] * a.sessions)
    owner.extend([-1] * n_no_ip)
    owner.extend([-2] * n_orphan)
    rnd.shuffle(owner)
    rand = rnd.random
    offsets = sorted(rand() * _WINDOW for _ in range(len(owner)))
    days = _day_strings(366, _EPOCH_START)
    first = [float("inf")] * len(addrs)
    last = [0.0] * len(addrs)
    orphan_ips = [f"198.18.{k >> 8 & 255}.{k & 255}" for k in range(max(1, min(n_orphan, 4096)))]
    ses_rows: List[_SesRow] = []
    append = ses_rows.append
    mult = 0x9E3779B97F4A7C15
    mask = (1 << 48) - 1
    hms = [f" {x // 3600:02d}:{x // 60 % 60:02d}:{x % 60:02d}.000000" for x in range(86400)]
    for k, (who, off) in enumerate(zip(owner, offsets)):
        dur = int(rand() * rand() * 600)
        o = int(off)
        e = o + dur
        t1 = days[o // 86400] + hms[o % 86400]
        t2 = days[e // 86400] + hms[e % 86400]
        logins = 1 + int(rand() * rand() * 12)
        cmds = int(rand() * rand() * rand() * 40)
        events = 4 + logins * 2 + cmds * 2
        sid = f"{((k + 1) * mult) & mask:012x}"
        if who >= 0:
            if off < first[who]:
                first[who] = off
            if off + dur > last[who]:
                last[who] = off + dur
            asn, cc = meta[who]
            downloads = 1 if cmds and rand() < 0.1 else 0
            append((sid, addrs[who].ip, t1, t2, events, cmds, downloads, logins, None, asn, cc or None))
        elif who == -1:
            append((sid, None, t1, t2, events, cmds, 0, logins, None, None, None))
        else:
            append((sid, orphan_ips[k % len(orphan_ips)], t1, t2, events, cmds, 0, logins, None, None, None))
    rep.sessions = len(ses_rows)
    rep.sessions_no_ip = n_no_ip
    rep.orphan_sessions = n_orphan
    rep.ips = len(addrs)

    def ts(off: float) -> str:
        o = int(off)
        return days[min(o // 86400, len(days) - 1)] + hms[o % 86400]

    inv_rows: List[_InvRow] = []
    by_asn: Dict[Optional[int], int] = {}
    for i, a in enumerate(addrs):
        if a.sessions == 0:
            seen_first = seen_last = rnd.random() * _WINDOW
        else:
            seen_first, seen_last = first[i], last[i]
        inv_rows.append((a.ip, meta[i][0], ts(seen_first), ts(seen_last), max(a.sessions, 1), inv_enrichment[i],
                         ts(seen_last)))  # fmt: skip
        by_asn[a.net.asn] = by_asn.get(a.net.asn, 0) + a.sessions
    top = max((k for k in by_asn if k is not None), key=lambda k: by_asn[k], default=None)
    rep.top_asn = top
    rep.top_asn_share = by_asn.get(top, 0) / max(n_sessions, 1)
    return inv_rows, ses_rows


_INV_COLS = (
    "ip_address", "current_asn", "first_seen", "last_seen", "session_count", "enrichment", "enrichment_updated_at",
)  # fmt: skip
_SES_COLS = (
    "session_id", "source_ip", "first_event_at", "last_event_at", "event_count", "command_count", "file_downloads",
    "login_attempts", "risk_score", "snapshot_asn", "snapshot_country",
)  # fmt: skip


def _insert_sqlite(
    conn: Connection, inv: Table, ses: Table, inv_rows: Sequence[_InvRow], ses_rows: Sequence[_SesRow]
) -> None:
    """executemany through the DBAPI cursor of the INSERTs SQLAlchemy
    compiles (its per-row processing would triple the time). Timestamps are
    generated in SQLAlchemy's SQLite DATETIME text form."""
    raw = conn.connection.driver_connection
    assert raw is not None
    cur = raw.cursor()
    cur.executemany(_positional_insert(conn, inv, _INV_COLS), inv_rows)
    sql = _positional_insert(conn, ses, _SES_COLS)
    chunk = 200_000
    for i in range(0, len(ses_rows), chunk):
        cur.executemany(sql, ses_rows[i : i + chunk])
    cur.close()


def _positional_insert(conn: Connection, table: Table, cols: Sequence[str]) -> str:
    """``INSERT INTO table (cols…) VALUES (?, …)`` compiled for the
    connection's dialect (qmark for sqlite3), parameters in ``cols`` order."""
    stmt = sa.insert(table).values({c: sa.bindparam(c) for c in cols})
    compiled = stmt.compile(dialect=conn.dialect)
    assert list(compiled.positiontup or ()) == list(cols), compiled.positiontup
    return str(compiled)


def _copy_pg(
    conn: Connection, inv: Table, ses: Table, inv_rows: Sequence[_InvRow], ses_rows: Sequence[_SesRow]
) -> None:
    """COPY FROM STDIN (CSV) through psycopg2 (or psycopg 3). COPY has no
    SQLAlchemy construct: the statement names the Table's quoted name."""
    raw: Any = conn.connection.driver_connection
    cur = raw.cursor()
    quote = conn.dialect.identifier_preparer.quote

    def copy(table: Table, cols: Sequence[str], rows: Sequence[Tuple[Any, ...]], ts_cols: Sequence[int]) -> None:
        sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in cols)}) FROM STDIN WITH (FORMAT csv)"
        chunk = 100_000
        for i in range(0, len(rows), chunk):
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            for r in rows[i : i + chunk]:
                if ts_cols:
                    r = tuple((v + "+00" if j in ts_cols and v is not None else v) for j, v in enumerate(r))
                w.writerow(r)
            buf.seek(0)
            if hasattr(cur, "copy_expert"):  # psycopg2
                cur.copy_expert(sql, buf)
            else:  # psycopg 3
                with cur.copy(sql) as cp:
                    cp.write(buf.getvalue())

    copy(inv, _INV_COLS, inv_rows, (2, 3, 6))
    copy(ses, _SES_COLS, ses_rows, (2, 3))
    cur.close()
