"""Throwaway servers for the Python suite, from scripts/test-servers.sh
(the launcher the Go suite and CI use too), and a tiny Redis client.

* :func:`launch` — ``test-servers.sh run DIR SERVICE…`` as a subprocess: it
  starts the servers, prints their URLs and ``ready``, and stops them (and
  removes DIR) when its stdin closes — at exit of this process, however it
  exits. Exit status 3 means the server cannot run here (binary or OS user
  missing): the caller skips, saying why, or fails when
  ``IPCLASSIFIER_REQUIRE_SERVERS=1``.
* :func:`redis_url` — ``$IPCLASSIFIER_TEST_REDIS_URL`` if set, else a
  throwaway Redis (started once per process), else the calling test skips
  (or fails, see above). PostgreSQL: cowrie_fixtures.postgres_url / pg_url.
* :class:`Resp` — a minimal RESP client (socket only: the tests need no
  Python Redis package) to look at and delete our keys behind the
  classifier's back.
* :func:`dead_redis_url` — a loopback URL where nothing listens.
* :func:`settle` — wait until a classifier's cache writes are in the tiers.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlparse

REQUIRE_SERVERS = os.environ.get("IPCLASSIFIER_REQUIRE_SERVERS", "") in ("1", "true", "yes")
KEY_PREFIX = "ip_classification:"  # the L1 key prefix (classifier/internal/cache)
LAUNCHER = Path(__file__).resolve().parent.parent / "scripts" / "test-servers.sh"
UNAVAILABLE = 3  # the launcher's exit status when a server cannot run here


class LaunchError(RuntimeError):
    """The launcher failed to start a server that should run here."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dead_redis_url() -> str:
    """A Redis URL on a loopback port nothing listens on."""
    return f"redis://127.0.0.1:{_free_port()}/0"


class Resp:
    """Just enough of the Redis protocol for tests: one command at a time."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        u = urlparse(url)
        self.sock = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=timeout)
        self.buf = b""
        if u.password:
            self.command("AUTH", u.password)
        db = (u.path or "/0").lstrip("/") or "0"
        if db != "0":
            self.command("SELECT", db)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Resp":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def command(self, *args: str) -> object:
        parts = [f"*{len(args)}\r\n".encode()]
        for a in args:
            b = a.encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
        self.sock.sendall(b"".join(parts))
        return self._reply()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self) -> object:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return int(rest) if kind == b":" else rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(65536)
            data, self.buf = self.buf[:n], self.buf[n + 2 :]
            return data.decode()
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise RuntimeError(f"unexpected RESP reply {line!r}")

    def our_keys(self) -> List[str]:
        keys: List[str] = []
        cursor = "0"
        while True:
            reply = self.command("SCAN", cursor, "MATCH", KEY_PREFIX + "*", "COUNT", "1000")
            cursor, batch = reply  # type: ignore[misc]
            keys.extend(batch)
            if cursor == "0":
                return keys

    def delete_ours(self) -> int:
        """Delete every ip_classification:* key; returns how many."""
        keys = self.our_keys()
        for i in range(0, len(keys), 500):
            self.command("UNLINK", *keys[i : i + 500])
        return len(keys)


class Launched:
    """One ``test-servers.sh run`` watchdog: the URLs it exported; closing
    its stdin (:meth:`stop`, or this process ending) stops its servers."""

    def __init__(self, proc: "subprocess.Popen[str]", env: Dict[str, str]) -> None:
        self.proc = proc
        self.env = env

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.proc.kill()
                self.proc.wait()


def launch(*args: str, timeout: float = 180) -> Tuple[Optional[Launched], str]:
    """(servers, "") once ``test-servers.sh run DIR *args`` is ready, or
    (None, why) when a server cannot run here. Raises LaunchError when one
    that can run failed to start."""
    work = tempfile.mkdtemp(prefix="ipc-servers-")  # the launcher removes it
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            ["bash", str(LAUNCHER), "run", work, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
        )  # fmt: skip
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        env: Dict[str, str] = {}
        ready = False
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                line = line.strip()
                if line == "ready":
                    ready = True
                    break
                key, sep, value = line.removeprefix("export ").partition("=")
                if sep:
                    env[key] = value.strip("'")
        finally:
            timer.cancel()
        if ready:
            servers = Launched(proc, env)
            atexit.register(servers.stop)
            return servers, ""
        code = proc.wait()
        log.seek(0)
        reason = log.read().strip()
    if code == UNAVAILABLE:
        return None, reason
    raise LaunchError(f"scripts/test-servers.sh run {' '.join(args)} exited {code}: {reason}")


_lock = threading.Lock()
_server: Optional[Tuple[Optional[str], str, bool]] = None  # (url, why there is none, whether that is a failure)


def find_redis_url() -> Tuple[Optional[str], str, bool]:
    """(url, "", False), or (None, why there is none, whether the launcher
    failed rather than found no server to run); starts the server once."""
    global _server
    env = os.environ.get("IPCLASSIFIER_TEST_REDIS_URL")
    if env:
        return env, "", False
    with _lock:
        if _server is None:
            try:
                servers, reason = launch("redis")
            except LaunchError as e:
                _server = (None, str(e), True)
            else:
                url = servers.env.get("IPCLASSIFIER_TEST_REDIS_URL") if servers else None
                _server = (url, "" if url else f"no Redis: IPCLASSIFIER_TEST_REDIS_URL is unset and {reason}", False)
        return _server


def redis_url() -> str:
    """The test Redis URL; skips the calling test (or fails under
    IPCLASSIFIER_REQUIRE_SERVERS=1) when there is none, fails when the
    launcher could not start it."""
    import pytest

    url, reason, failed = find_redis_url()
    if url is None:
        if failed:
            pytest.fail(reason)
        if REQUIRE_SERVERS:
            pytest.fail(f"Redis required (IPCLASSIFIER_REQUIRE_SERVERS=1): {reason}")
        pytest.skip(reason)
    return url


def settle(c: Any, within: float = 30.0) -> None:
    """Wait until the engine's write-behind queues are empty: classify only
    queues its cache writes (close() flushes; a running classifier writes
    them in the background)."""
    deadline = time.monotonic() + within
    while any(c.get_stats()["cache"][t]["queued"] for t in ("l1", "l2", "l3")):
        assert time.monotonic() < deadline, "the cache writers did not drain"
        time.sleep(0.01)
