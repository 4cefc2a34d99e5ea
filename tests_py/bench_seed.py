"""The pure-Python design ipclassifier replaced, as the benchmark's baseline
(a script's module, not a test: conftest.py tells pytest to ignore bench_*).

The seed (cowrieprocessor's ip_classification) classified in Python: a set
of Tor exit addresses, one pytricia trie per cloud provider and one for the
datacenter lists, and regular expressions over the AS name, each answer a
frozen IPClassification. :class:`SeedClassifier` is that design over the
same snapshot files the engine reads, so ``make bench`` times both on the
same addresses in one run.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import pytricia

from ipclassifier import IPClassification, IPType

# The AS-name rules of the seed's residential heuristic, in its style.
_RESIDENTIAL = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(telecom|telekom|telecommunications?|broadband|cable|dsl|adsl|vdsl|fib(er|re)|ftth)\b",
        r"\b(mobile|wireless|cellular|lte|4g|5g|gsm)\b",
        r"\b(residential|home|consumer|subscriber|dial-?up|isp)\b",
        r"\b(comcast|verizon|charter|spectrum|orange|vodafone|telefonica|deutsche telekom)\b",
    )
]
_DATACENTER = re.compile(
    r"\b(hosting|host|datacenter|data ?center|server|vps|colo(cation)?|cloud|dedicated)\b", re.IGNORECASE
)


class SeedClassifier:
    """Tor set → cloud tries → datacenter trie → AS-name regexes → unknown."""

    def __init__(self, data: Path, providers: Dict[str, str]) -> None:
        lines = (data / "tor" / "torbulkexitlist").read_text().splitlines()
        self.tor = {line.strip() for line in lines if line.strip()}
        self.cloud: List[Tuple[str, "pytricia.PyTricia"]] = []
        for folder, provider in providers.items():
            d = data / "cloud-provider-ip-addresses" / folder
            path = d / f"{folder}_ips.csv"
            if not path.is_file():
                path = d / f"{folder}_ips.head60.csv"
            if not path.is_file():
                continue
            trie = pytricia.PyTricia(128)
            with path.open(newline="") as f:
                for row in csv.DictReader(f):
                    where = (row.get("region") or None, row.get("service") or None)
                    self._insert(trie, row.get("ip_address", ""), where)
            self.cloud.append((provider, trie))
        self.datacenter = pytricia.PyTricia(128)
        with (data / "server-ip-addresses" / "data" / "datacenters.csv").open(newline="") as f:
            for row in csv.DictReader(f):
                self._insert(self.datacenter, row.get("cidr", ""), row.get("vendor"))
        for name in ("ipv4.txt", "ipv6.txt"):
            path = data / "lists_vpn" / "output" / "datacenter" / name
            if path.is_file():
                for line in path.read_text().splitlines():
                    self._insert(self.datacenter, line.strip(), None)

    @staticmethod
    def _insert(trie: "pytricia.PyTricia", cidr: str, value: object) -> None:
        try:
            net = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            return
        if net.version == 4:  # one 128-bit trie: IPv4 as IPv4-mapped IPv6
            net = ipaddress.ip_network(f"::ffff:{net.network_address}/{96 + net.prefixlen}")
        trie[str(net)] = value

    def classify(self, ip: str, asn: Optional[int] = None, as_name: Optional[str] = None) -> IPClassification:
        addr = ipaddress.ip_address(ip)  # raises ValueError for a bad address, as the seed did
        now = datetime.now(timezone.utc)
        text = str(addr)
        if text in self.tor:
            return IPClassification(IPType.TOR, "tor", 0.95, "tor_bulk_list", now, ip=text)
        key = f"::ffff:{text}" if addr.version == 4 else text
        for provider, trie in self.cloud:
            hit = trie.get(key)
            if hit is not None:
                region, service = hit
                return IPClassification(IPType.CLOUD, provider, 0.99, f"cloud_ranges_{provider}", now, ip=text,
                                        region=region, service=service)  # fmt: skip
        if key in self.datacenter:
            return IPClassification(IPType.DATACENTER, self.datacenter.get(key), 0.75, "datacenter_community_lists",
                                    now, ip=text)  # fmt: skip
        if as_name:
            hits = sum(1 for p in _RESIDENTIAL if p.search(as_name))
            if hits:
                return IPClassification(IPType.RESIDENTIAL, as_name, min(0.8, 0.5 + 0.15 * hits), "asn_name_heuristic",
                                        now, ip=text)  # fmt: skip
            if _DATACENTER.search(as_name):
                return IPClassification(IPType.DATACENTER, as_name, 0.5, "asn_name_heuristic", now, ip=text)
        return IPClassification(IPType.UNKNOWN, None, 0.0, "none", now, ip=text)

    def bulk_classify(self, ips: Iterable[str]) -> Dict[str, IPClassification]:
        return {ip: self.classify(ip) for ip in ips}
