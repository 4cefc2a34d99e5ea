"""``backfill --progress``: tqdm on a terminal when it is installed, the
plain bar otherwise (a log, or no tqdm)."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pytest

from cowrie_fixtures import create_host_schema, insert_inventory, insert_sessions, session_types
from ipclassifier.cowrie.cli import ProgressBar, TqdmBar, progress_bar

pytest_plugins = ("cowrie_fixtures",)  # sqlite_url


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_log_gets_the_plain_bar_one_line_per_interval() -> None:
    log = io.StringIO()
    bar = progress_bar(log, "backfill")
    assert isinstance(bar, ProgressBar)
    bar.update(50, 200, "IPs", "sessions set 10", force=True)
    bar.update(60, 200)  # within the interval: nothing
    bar.update(200, 200, force=True)
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in log.getvalue()
    assert lines[0].startswith("backfill [######") and "50/200 IPs" in lines[0] and "sessions set 10" in lines[0]
    assert "100.0%" in lines[1] and "ETA 0:00:00" in lines[1]


def test_a_terminal_gets_tqdm_and_each_phase_its_own_total() -> None:
    pytest.importorskip("tqdm")
    term = Terminal()
    bar = progress_bar(term, "backfill")
    assert isinstance(bar, TqdmBar)
    bar.label = "backfill inventory"
    bar.update(100, 400, "IPs", "sessions set 7", force=True)
    bar.label = "backfill orphans"
    bar.update(3, 3, "IPs", force=True)
    bar.close()
    text = term.getvalue()
    assert "backfill inventory" in text and "100/400" in text and "sessions set 7" in text
    assert "backfill orphans" in text and "100%" in text and "3/3" in text


def test_a_terminal_without_tqdm_gets_the_plain_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `from tqdm import tqdm` raises ImportError
    term = Terminal()
    bar = progress_bar(term, "backfill")
    assert isinstance(bar, ProgressBar)
    bar.update(1, 2, force=True)
    bar.close()
    assert term.getvalue().startswith("\rbackfill [") and term.getvalue().endswith("\n")


def test_backfill_progress_on_a_terminal_draws_with_tqdm(fixture_server: Any, tmp_path: Path, sqlite_url: str) -> None:
    """The command as an operator runs it, stderr on a pseudo-terminal."""
    pytest.importorskip("tqdm")
    create_host_schema(sqlite_url)
    insert_inventory(sqlite_url, [{"ip_address": "185.220.101.1"}, {"ip_address": "3.5.140.1"}])
    insert_sessions(sqlite_url, [{"session_id": "a", "source_ip": "185.220.101.1"}])
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal 120 columns wide
    cmd = [sys.executable, "-m", "ipclassifier", *fixture_server.cli_options(tmp_path / "d"),
           "backfill", "--db", sqlite_url, "--progress", "--batch-size", "1"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    drawn = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        assert ready, "no output from the backfill within 120 s"
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower side closed: the process ended
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    out = proc.stdout.read() if proc.stdout else ""
    assert proc.wait(timeout=60) == 0, drawn.decode(errors="replace")
    text = drawn.decode(errors="replace")
    assert "backfill inventory" in text and "100%|" in text and "2/2" in text, text
    assert "coverage: 100.00%" in out
    assert session_types(sqlite_url) == {"a": "tor"}
