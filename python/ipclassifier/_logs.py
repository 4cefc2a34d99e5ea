"""The engine's logs, in the host's :mod:`logging`.

The Go side queues its log records (bounded; see the ``LogRead`` export)
instead of writing to the process's stderr; this module drains the queue
into ``logging.getLogger("ipclassifier")``: from a daemon thread about once
a second, and at once after the calls that log most (refresh, close), so a
host's handlers, levels and formats apply. The queue accepts records at the
logger's effective level, so ``logging.getLogger("ipclassifier").setLevel
(logging.DEBUG)`` brings the engine's debug records too. Records dropped
because the queue was full are reported as one warning with their count
(and counted in :func:`dropped_total`).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Dict, Optional

from . import _native

__all__ = ["LOGGER", "drain", "start", "dropped_total"]

LOGGER = logging.getLogger("ipclassifier")

_POLL_SECONDS = 1.0
_lock = threading.Lock()
_dropped = 0
_thread: Optional[threading.Thread] = None


def _py_level(go_level: int) -> int:
    """slog level (-4 debug, 0 info, 4 warn, 8 error) → logging level."""
    return max(logging.DEBUG, min(logging.CRITICAL, int(logging.INFO + 2.5 * go_level)))


def _go_level(py_level: int) -> int:
    return int(round((py_level - logging.INFO) / 2.5))


def _emit(rec: Dict[str, Any]) -> None:
    level = _py_level(int(rec.get("levelno", 0)))
    if not LOGGER.isEnabledFor(level):
        return
    attrs: Dict[str, Any] = rec.get("attrs") or {}
    msg = str(rec.get("msg", ""))
    if attrs:
        msg += " " + " ".join(f"{k}={v}" for k, v in attrs.items())
    record = LOGGER.makeRecord(LOGGER.name, level, "(go)", 0, msg, (), None, extra={"go_attrs": attrs})
    LOGGER.handle(record)


def drain(lib: Optional["_native.Library"] = None) -> None:
    """Move the queued records of the engine into the logger (no-op before
    the library is loaded or in a forked child)."""
    global _dropped
    lib = lib or _native.loaded()
    if lib is None or lib.forked:
        return
    with _lock:  # one reader at a time keeps the records in order
        _, data = _native.call(lib.log_read, _go_level(LOGGER.getEffectiveLevel()), size=1 << 16)
        out = json.loads(data)
        for rec in out.get("records") or ():
            _emit(rec)
        dropped = int(out.get("dropped") or 0)
        if dropped:
            _dropped += dropped
            LOGGER.warning("%d log records of the engine were dropped: its queue was full", dropped)


def dropped_total() -> int:
    """Records dropped by the engine's full log queue in this process so far."""
    return _dropped


def _poll(lib: "_native.Library") -> None:
    stop = threading.Event()
    while not lib.forked:
        stop.wait(_POLL_SECONDS)
        try:
            drain(lib)
        except Exception:  # pragma: no cover - never let the drainer die loudly at exit
            return


def start(lib: "_native.Library") -> None:
    """Start the daemon thread draining the queue (once per process)."""
    global _thread
    if _thread is None or not _thread.is_alive():
        _thread = threading.Thread(target=_poll, args=(lib,), name="ipclassifier-logs", daemon=True)
        _thread.start()
