"""Threads (ctypes drops the GIL) and fork (the Go runtime does not survive it)."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any, Dict, List, Tuple

import pytest

from ipclassifier import IPType

IPS = [
    "185.220.101.1", "3.5.141.7", "8.34.208.10", "104.16.1.1", "13.64.1.1", "5.9.1.1",
    "2a01:4f8::1", "2600:1f14::1", "198.51.100.7", "::ffff:3.5.140.1", "2606:4700::1", "51.68.3.3",
]  # fmt: skip


def key(r: Any) -> Tuple[Any, ...]:
    return (r.ip, r.ip_type, r.provider, r.region, r.service, r.confidence, r.source, r.matched_prefix, r.snapshot)


def test_threads_get_the_same_answers_as_one_thread(loaded: Any) -> None:
    expected = {ip: key(loaded.classify(ip)) for ip in IPS}
    errors: List[BaseException] = []
    mismatches: List[str] = []
    start = threading.Barrier(8)

    def work(seed: int) -> None:
        try:
            start.wait()
            for i in range(2000):
                ip = IPS[(seed + i) % len(IPS)]
                got = key(loaded.classify(ip))
                if got != expected[ip]:
                    mismatches.append(f"{ip}: {got} != {expected[ip]}")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "threads hung"
    assert not errors, errors
    assert not mismatches, mismatches[:5]
    assert loaded.get_stats()["lookups"] >= 16000


def test_threads_mixing_bulk_and_single(loaded: Any) -> None:
    results: Dict[int, Any] = {}

    def bulk(n: int) -> None:
        results[n] = loaded.bulk_classify(IPS * 50, as_list=True)

    threads = [threading.Thread(target=bulk, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for _ in range(500):
        assert loaded.classify("185.220.101.1").ip_type is IPType.TOR
    for t in threads:
        t.join(timeout=120)
    assert all([key(r) for r in results[n]] == [key(r) for r in results[0]] for n in results)


def _wait(pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        wpid, status = os.waitpid(pid, os.WNOHANG)
        if wpid:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("forked child hung")
        time.sleep(0.01)


def _in_child(fn: Any) -> int:
    """Run fn in a forked child; its exit code is 0 when fn returned True."""
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            signal.alarm(10)  # default action kills a hung child
            code = 0 if fn() else 1
        except BaseException:
            code = 4
        finally:
            os._exit(code)
    return _wait(pid, 30)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_gets_runtime_error_quickly(loaded: Any) -> None:
    assert loaded.classify("185.220.101.1").ip_type is IPType.TOR

    def child() -> bool:
        t0 = time.monotonic()
        try:
            loaded.classify("185.220.101.1")
        except RuntimeError as e:
            return "after fork" in str(e) and time.monotonic() - t0 < 1
        return False

    assert _in_child(child) == 0
    assert loaded.classify("185.220.101.1").ip_type is IPType.TOR  # the parent is unaffected


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_cannot_bulk_refresh_stats_or_create(loaded: Any, fixture_server: Any, tmp_path: Any) -> None:
    from ipclassifier import create_ip_classifier

    def expect_runtime_error(fn: Any) -> bool:
        try:
            fn()
        except RuntimeError as e:
            return "fork" in str(e)
        return False

    def child() -> bool:
        return (
            expect_runtime_error(lambda: loaded.bulk_classify(["1.2.3.4"]))
            and expect_runtime_error(loaded.get_stats)
            and expect_runtime_error(lambda: loaded.refresh("tor"))
            and expect_runtime_error(lambda: create_ip_classifier(data_dir=str(tmp_path / "x"), enable_cache=False))
        )

    assert _in_child(child) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_close_in_forked_child_does_not_touch_go(loaded: Any) -> None:
    def child() -> bool:
        loaded.close()  # must neither hang nor raise
        return loaded.closed

    assert _in_child(child) == 0
    assert not loaded.closed
    assert loaded.classify("3.5.140.1").provider == "aws"
