"""The engine's logs reach Python's logging, not the process's stderr."""

from __future__ import annotations

import logging
import socket
from typing import Any, Callable

import pytest


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_engine_logs_go_to_the_ipclassifier_logger(
    make_classifier: Callable[..., Any], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """A Redis tier that is down is logged by the Go engine as a warning
    with its attributes; the record arrives on logging.getLogger("ipclassifier")
    and nothing is written to the file descriptors."""
    from ipclassifier import _logs

    caplog.set_level(logging.INFO, logger="ipclassifier")
    capfd.readouterr()
    c = make_classifier(enable_cache=True, enable_redis=True, redis_url=f"redis://127.0.0.1:{_dead_port()}/0")
    c.classify("192.0.2.1")
    c.close()  # drains the queue
    recs = [r for r in caplog.records if r.name == "ipclassifier" and "cache tier unavailable" in r.getMessage()]
    assert recs, [r.getMessage() for r in caplog.records]
    assert recs[0].levelno == logging.WARNING
    assert recs[0].go_attrs["tier"] == "l1"  # type: ignore[attr-defined]
    assert "tier=l1" in recs[0].getMessage()
    out, err = capfd.readouterr()
    assert "cache tier unavailable" not in out + err
    assert _logs.dropped_total() == 0


def test_the_queue_follows_the_logger_level(
    make_classifier: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """At ERROR the engine's warnings are not even queued: a later drain at
    INFO finds none of them."""
    from ipclassifier import _logs, _native

    assert [_logs._go_level(v) for v in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR)] == [-4, 0, 4, 8]
    assert [_logs._py_level(v) for v in (-4, 0, 4, 8)] == [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]
    lib = _native.load()
    caplog.set_level(logging.ERROR, logger="ipclassifier")
    _logs.drain(lib)  # the queue now takes errors only
    c = make_classifier(enable_cache=True, enable_redis=True, redis_url=f"redis://127.0.0.1:{_dead_port()}/0")
    c.classify("192.0.2.1")
    caplog.set_level(logging.INFO, logger="ipclassifier")
    c.close()
    assert not [r for r in caplog.records if "cache tier unavailable" in r.getMessage()]
