"""A Redis server for the cache-tier tests and benchmarks (PostgreSQL is
cowrie_fixtures.postgres_url / pg_url: reuse them, not a second copy).

* :func:`redis_url` — ``$IPCLASSIFIER_TEST_REDIS_URL`` if set, else a
  throwaway ``redis-server`` on a free loopback port (no persistence, its
  files in a temporary directory, stopped at exit), else the calling test
  skips saying why — or fails when ``IPCLASSIFIER_REQUIRE_SERVERS=1``.
  Started once per process.
* :class:`Resp` — a minimal RESP client (socket only: the tests need no
  Python Redis package) to look at and delete our keys behind the
  classifier's back.
* :func:`dead_redis_url` — a loopback URL where nothing listens.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from typing import List, Optional, Tuple
from urllib.parse import urlparse

REQUIRE_SERVERS = os.environ.get("IPCLASSIFIER_REQUIRE_SERVERS", "") in ("1", "true", "yes")
KEY_PREFIX = "ip_classification:"  # the L1 key prefix (classifier/cache)


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


class RedisServer:
    """A throwaway redis-server: loopback, free port, no persistence."""

    def __init__(self) -> None:
        self.url: Optional[str] = None
        self.reason = ""
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.tmpdir: Optional[str] = None
        binary = shutil.which("redis-server")
        if binary is None:
            self.reason = "no Redis: IPCLASSIFIER_TEST_REDIS_URL is unset and redis-server is not installed"
            return
        self.tmpdir = tempfile.mkdtemp(prefix="ipc-redis-")
        port = _free_port()
        args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", self.tmpdir, "--save", "",
                "--appendonly", "no", "--protected-mode", "no", "--logfile", os.path.join(self.tmpdir, "redis.log")]  # fmt: skip
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with Resp(url, timeout=1) as r:
                    if r.command("PING") == "PONG":
                        self.url = url
                        atexit.register(self.stop)
                        return
            except (OSError, ConnectionError):
                time.sleep(0.05)
        err = b""
        if self.proc.poll() is not None and self.proc.stderr is not None:
            err = self.proc.stderr.read()
        self.reason = f"could not start a throwaway redis-server: {err.decode(errors='replace').strip()[:300]}"
        self.stop()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None


_lock = threading.Lock()
_server: Optional[Tuple[Optional[str], str]] = None  # (url, reason)


def find_redis_url() -> Tuple[Optional[str], str]:
    """(url, "") or (None, why there is none); starts the server once."""
    global _server
    env = os.environ.get("IPCLASSIFIER_TEST_REDIS_URL")
    if env:
        return env, ""
    with _lock:
        if _server is None:
            s = RedisServer()
            _server = (s.url, s.reason)
        return _server


def redis_url() -> str:
    """The test Redis URL; skips the calling test (or fails under
    IPCLASSIFIER_REQUIRE_SERVERS=1) when there is none."""
    import pytest

    url, reason = find_redis_url()
    if url is None:
        if REQUIRE_SERVERS:
            pytest.fail(f"Redis required (IPCLASSIFIER_REQUIRE_SERVERS=1): {reason}")
        pytest.skip(reason)
    return url
