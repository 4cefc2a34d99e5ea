"""Tags and evidence beyond the five types: through ctypes, the CLI and
every cache tier (a real Redis, SQLite and PostgreSQL files/servers, a
directory)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from cache_servers import Resp, redis_url, settle
from cowrie_fixtures import pg_url  # noqa: F401  (pytest fixture)
from ipclassifier import Evidence, IPType


def test_a_tor_exit_on_a_hosting_network_says_both(loaded: Any) -> None:
    r = loaded.classify("185.220.101.1", asn=24940, as_name="Hetzner Online GmbH")
    assert r.ip_type is IPType.TOR
    assert r.tags == ("tor_exit",)
    assert r.evidence[0] == Evidence("tor_bulk_list", "tor", IPType.TOR, None, "185.220.101.1/32", "tor_exit")
    hosting = [e for e in r.evidence if e.source == "hosting_asn_list"]
    assert hosting == [
        Evidence("hosting_asn_list", "datacenter/x4bnet-asn", IPType.DATACENTER, "Hetzner Online GmbH", "AS24940", None)
    ]


def test_a_scanner_is_tagged_and_keeps_the_type_of_its_network(loaded: Any) -> None:
    home = loaded.classify("80.128.3.4")  # DTAG, residential by its AS name
    assert home.ip_type is IPType.RESIDENTIAL
    assert home.tags == ("scanner:example-uni",)
    assert [(e.source, e.ip_type, e.tag) for e in home.evidence] == [
        ("mass_scanner_list", None, "scanner:example-uni"),
        ("asn_name_heuristic", IPType.RESIDENTIAL, None),
    ]
    nobody = loaded.classify("162.142.125.10")
    assert (nobody.ip_type, nobody.tags) == (IPType.UNKNOWN, ("scanner:censys",))


def test_provider_lists_name_the_provider_and_tag(loaded: Any) -> None:
    bot = loaded.classify("66.249.66.1")
    assert (bot.ip_type, bot.provider, bot.tags) == (IPType.DATACENTER, "google", ("crawler:googlebot",))
    relay = loaded.classify("172.224.226.5")
    assert (relay.provider, relay.tags) == ("apple", ("privacy_relay",))
    vpn = loaded.classify("185.159.157.9")
    assert (vpn.provider, vpn.tags) == ("protonvpn", ("vpn",))
    assert [e.snapshot for e in vpn.evidence] == ["ipranges/protonvpn-ipv4", "datacenter/x4bnet-vpn-ipv4"]
    plain = loaded.classify("198.51.100.7")
    assert (plain.tags, plain.evidence) == ((), ())


def test_bulk_answers_and_to_dict_carry_them(loaded: Any) -> None:
    answers = loaded.bulk_classify(["185.220.101.1", "162.142.125.10", "66.249.66.1"])
    assert [a.tags for a in answers.values()] == [("tor_exit",), ("scanner:censys",), ("crawler:googlebot",)]
    d = answers["162.142.125.10"].to_dict()
    assert d["tags"] == ["scanner:censys"]
    assert d["evidence"] == [
        {"source": "mass_scanner_list", "snapshot": "scanners/maltrail", "ip_type": None, "provider": "censys",
         "matched_prefix": "162.142.125.10/32", "tag": "scanner:censys"}
    ]  # fmt: skip
    json.dumps(d)


def test_cli_prints_tags_and_evidence(fixture_server: Any, tmp_path: Path) -> None:
    opts = fixture_server.cli_options(tmp_path / "d")

    def cli(*args: str) -> str:
        run = [sys.executable, "-m", "ipclassifier", *opts, "--no-cache", *args]
        return subprocess.run(run, check=True, capture_output=True, text=True, timeout=120).stdout

    cli("refresh")
    table = cli("classify", "185.220.101.1")
    assert "TAGS" in table.splitlines()[0] and table.splitlines()[1].rstrip().endswith("tor_exit")
    got = json.loads(cli("classify", "-f", "jsonl", "162.142.125.10"))
    assert got["tags"] == ["scanner:censys"] and got["evidence"][0]["source"] == "mass_scanner_list"
    header, row = cli("classify", "-f", "csv", "88.198.7.7").splitlines()[:2]
    assert header.endswith(",tags,evidence,as_of,history_short")
    assert "scanner:stretchoid" in row and '""source"": ""mass_scanner_list""' in row


@pytest.mark.parametrize("tier", ["l1", "l2-sqlite", "l2-postgresql", "l3"])
def test_every_cache_tier_keeps_tags_and_evidence(
    make_classifier: Callable[..., Any], tmp_path: Path, tier: str, request: pytest.FixtureRequest
) -> None:
    kw: Any = {"cache_dir": None}
    if tier == "l1":
        url = redis_url()
        with Resp(url) as r:
            r.delete_ours()
        kw.update(enable_redis=True, redis_url=url)
    elif tier == "l2-sqlite":
        kw["db_engine"] = f"sqlite:///{tmp_path / 'l2.sqlite'}"
    elif tier == "l2-postgresql":
        kw["db_engine"] = request.getfixturevalue("pg_url")
    else:
        kw["cache_dir"] = str(tmp_path / "l3")
    c = make_classifier(enable_cache=True, **kw)
    c.update_all_sources()
    ip = "185.220.101.1"
    first = c.classify(ip, asn=24940, as_name="Hetzner Online GmbH")
    assert first.cache_tier is None
    settle(c)
    again = c.classify(ip, asn=24940, as_name="Hetzner Online GmbH")
    assert again.cache_tier == tier[:2]
    assert (again.tags, again.evidence) == (first.tags, first.evidence)
    assert [e.source for e in again.evidence] == ["tor_bulk_list", "hosting_asn_list", "asn_name_heuristic"]
