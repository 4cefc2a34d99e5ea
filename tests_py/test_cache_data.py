"""A cached answer never outlives the data it came from (across processes).

Fresh data dir: classify(X) → unknown (cached in L2 and L3); refresh("tor")
adds X; classify(X) → tor, not the cached unknown. Another process sharing
the tiers but holding other snapshots never serves this one's answers, and
one holding the same snapshots does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List

from cache_servers import settle
from ipclassifier import IPType

TOR_IP = "185.220.101.1"


def cli_classify(server: Any, data_dir: Path, tiers: List[str], ip: str) -> Dict[str, Any]:
    """classify ip in another process (the command line), on these tiers."""
    cmd = [sys.executable, "-m", "ipclassifier", *server.cli_options(data_dir), *tiers, "classify", "-f", "jsonl", ip]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    answer: Dict[str, Any] = json.loads(p.stdout)
    return answer


def test_an_unknown_cached_before_a_refresh_is_not_served_after_it(
    make_classifier: Callable[..., Any], fixture_server: Any, tmp_path: Path
) -> None:
    l2, l3 = tmp_path / "l2.sqlite", tmp_path / "l3"
    tiers = ["--db", f"sqlite:///{l2}", "--cache-dir", str(l3)]
    c = make_classifier(enable_cache=True, db_engine=f"sqlite:///{l2}", cache_dir=str(l3))
    assert c.classify(TOR_IP).ip_type is IPType.UNKNOWN
    settle(c)
    assert c.classify(TOR_IP).cache_tier == "l2"  # cached: same data, served

    assert c.refresh("tor")["failed"] == 0
    after = c.classify(TOR_IP)
    assert (after.ip_type, after.cache_tier) == (IPType.TOR, None)
    assert c.get_stats()["cache_outdated"] == 1
    settle(c)
    assert c.classify(TOR_IP).cache_tier == "l2"

    # Another process, no snapshots: this one's tor answer is not its data's answer.
    other = cli_classify(fixture_server, tmp_path / "other-data", tiers, TOR_IP)
    assert (other["ip_type"], other["cache_tier"]) == ("unknown", None)
    # Another process on the same snapshots shares the answers (after the
    # other one overwrote them: recomputed once, then served).
    same = [cli_classify(fixture_server, tmp_path / "data", tiers, TOR_IP) for _ in range(2)]
    assert [(a["ip_type"], a["cache_tier"]) for a in same] == [("tor", None), ("tor", "l2")]
