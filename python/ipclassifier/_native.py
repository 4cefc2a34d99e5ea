"""The one ctypes loader of libipclassifier.so (built by build.sh into
``ipclassifier/_lib/``).

It finds the library with :mod:`importlib.resources` (or the path in
``$IPCLASSIFIER_LIBRARY``), declares the argument and result types of every
export, checks at load what the library says of itself (the ``AbiInfo``
export: ABI version, engine version, the status codes by name and the record
fields) against what this package was written for, and maps status codes to
exceptions (:func:`check`). The library is loaded on
first use, not at import, so importing :mod:`ipclassifier` never starts the
Go runtime; that keeps a process free to ``fork()`` until it creates a
classifier.

C ABI (see capi/main.go and the generated libipclassifier.h, where the
status codes are defined once): every export returns an int32 status; outputs go
into caller-owned buffers ``(out, outCap, *outLen)``; on BUFFER_TOO_SMALL
``*outLen`` is the size needed and nothing was written; on any other error
``out`` holds the message.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import threading
import weakref
from ctypes import POINTER, c_char, c_char_p, c_int32, c_int64
from importlib import resources
from typing import Any, Callable, Dict, List, NoReturn, Optional, Protocol, Tuple

from . import _columns, _wire
from ._errors import ClassifierError
from ._version import __version__

__all__ = [
    "ClassifierError",
    "Library",
    "load",
    "check",
    "FORK_MESSAGE",
    "OK",
    "PARTIAL",
    "INVALID_ARGUMENT",
    "BUFFER_TOO_SMALL",
    "INVALID_HANDLE",
    "INVALID_IP",
    "INTERNAL",
    "OPEN_FAILED",
    "CLOSED",
]

#: The C ABI version this package speaks (IPC_ABI_VERSION in the header).
ABI_VERSION = 6

# Status codes of the C ABI (IPC_* in the header); checked at load.
OK = 0
PARTIAL = 1
INVALID_ARGUMENT = -1
BUFFER_TOO_SMALL = -2
INVALID_HANDLE = -3
INVALID_IP = -4
INTERNAL = -5
OPEN_FAILED = -6
CLOSED = -7

CODE_NAMES = {
    OK: "OK",
    PARTIAL: "PARTIAL",
    INVALID_ARGUMENT: "INVALID_ARGUMENT",
    BUFFER_TOO_SMALL: "BUFFER_TOO_SMALL",
    INVALID_HANDLE: "INVALID_HANDLE",
    INVALID_IP: "INVALID_IP",
    INTERNAL: "INTERNAL",
    OPEN_FAILED: "OPEN_FAILED",
    CLOSED: "CLOSED",
}

FORK_MESSAGE = "ipclassifier cannot be used in a child process after fork(); create the classifier after forking"

LIBRARY_NAME = "libipclassifier.so"
LIBRARY_ENV = "IPCLASSIFIER_LIBRARY"


class _Func(Protocol):
    argtypes: Any
    restype: Any

    def __call__(self, *args: Any) -> int: ...


_P64 = POINTER(c_int64)
_OUT = POINTER(c_char)  # accepts a (c_char * n) array: no copy, no conversion


class Library:
    """The loaded library and its typed exports."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pid = os.getpid()
        self.forked = False
        try:
            self.cdll = ctypes.CDLL(path)
        except OSError as e:
            raise ClassifierError(f"cannot load {path}: {e}") from e
        self.open_: _Func = self._fn("Open", c_char_p, c_int64, _P64, _OUT, c_int64, _P64)
        self.close: _Func = self._fn("Close", c_int64)
        self.classify: _Func = self._fn(
            "Classify", c_int64, c_char_p, c_int64, c_int64, c_char_p, c_int64, _OUT, c_int64, _P64
        )
        self.classify_keyed: _Func = self._fn(
            "ClassifyKeyed", c_int64, c_char_p, c_int64, c_int64, c_char_p, c_int64, c_int32, _OUT, c_int64, _P64
        )
        self.classify_batch: _Func = self._fn("ClassifyBatch", c_int64, c_char_p, c_int64, _OUT, c_int64, _P64)
        self.classify_columns: _Func = self._fn(
            "ClassifyColumns", c_int64, c_char_p, c_int64, c_int32, _OUT, c_int64, _P64
        )
        self.refresh: _Func = self._fn("Refresh", c_int64, c_char_p, c_int64, c_int32, _OUT, c_int64, _P64)
        self.stats: _Func = self._fn("Stats", c_int64, _OUT, c_int64, _P64)
        self.cache_cleanup: _Func = self._fn("CacheCleanup", c_int64, _OUT, c_int64, _P64)
        self.cache_clear: _Func = self._fn("CacheClear", c_int64, c_char_p, c_int64, _OUT, c_int64, _P64)
        self.version_: _Func = self._fn("Version", _OUT, c_int64, _P64)
        self.error_text: _Func = self._fn("ErrorText", c_int32, _OUT, c_int64, _P64)
        self.abi_info_: _Func = self._fn("AbiInfo", _OUT, c_int64, _P64)
        self.log_read: _Func = self._fn("LogRead", c_int32, _OUT, c_int64, _P64)
        self.import_snapshot: _Func = self._fn(
            "ImportSnapshot", c_int64, c_char_p, c_int64, c_char_p, c_int64, c_char_p, c_int64, _OUT, c_int64, _P64
        )
        # Hot path only: a second handle on ClassifyKeyed WITHOUT argtypes,
        # which saves ctypes a from_param() call per argument (~25 ns each).
        # Every argument passed to it must already have its exact C type:
        # c_int64 instances for the int64_t parameters, a Python int for
        # the int32_t (ctypes passes an int as a C int), bytes for char*, a
        # c_char array for out and ctypes.pointer(c_int64) for outLen.
        # IPClassifier.classify is its only caller.
        self.classify_untyped: _Func = self.cdll._FuncPtr(("ClassifyKeyed", self.cdll))
        self.classify_untyped.restype = c_int32

    def _fn(self, name: str, *argtypes: Any) -> _Func:
        try:
            f: _Func = getattr(self.cdll, name)
        except AttributeError as e:
            raise ClassifierError(f"{self.path} has no export {name}: rebuild it with build.sh") from e
        f.argtypes = list(argtypes)
        f.restype = c_int32
        return f

    def check_usable(self) -> None:
        """Raise RuntimeError in a child process forked after the library
        (and so the Go runtime) was loaded."""
        if self.forked or os.getpid() != self.pid:
            self.forked = True
            raise RuntimeError(FORK_MESSAGE)

    def version(self) -> str:
        rc, data = call(self.version_)
        return data.decode()

    def abi_info(self) -> Dict[str, Any]:
        """What the library says of itself: ``abi``, ``version``,
        ``fields`` (the record layout), ``columns`` and ``columns_magic``
        (the columnar batch), ``head_size`` (ClassifyKeyed's head),
        ``error_mark`` and ``codes``."""
        _, data = call(self.abi_info_)
        info: Dict[str, Any] = json.loads(data)
        return info

    def code_text(self, code: int) -> str:
        try:
            _, data = call(self.error_text, code)
            return data.decode(errors="replace")
        except Exception:  # pragma: no cover - best effort while reporting another error
            return CODE_NAMES.get(code, f"status {code}")


def call(fn: _Func, *args: Any, size: int = 4096) -> Tuple[int, bytes]:
    """Call an export whose last three parameters are (out, outCap, *outLen),
    growing the buffer on BUFFER_TOO_SMALL. Returns (status, output); raises
    for a negative status (see :func:`check`)."""
    n = c_int64(0)
    while True:
        buf = (c_char * max(size, 1))()
        rc: int = fn(*args, buf, size, n)
        if rc == BUFFER_TOO_SMALL and n.value > size:
            size = n.value
            continue
        data = bytes(memoryview(buf)[: n.value])
        if rc < 0:
            check(rc, data)
        return rc, data


def check(code: int, message: bytes, what: str = "") -> NoReturn:
    """Raise the exception for a negative status: INVALID_IP → ValueError
    (the Go message names the input), everything else → ClassifierError
    with the Go message (or the code's text when there is none)."""
    text = message.decode("utf-8", errors="replace")
    if code == INVALID_IP:
        raise ValueError(text or f"invalid IP address {what!r}")
    if not text:
        text = CODE_NAMES.get(code, "error") + (f" ({what})" if what else "")
        if _lib is not None:
            text = _lib.code_text(code)
    raise ClassifierError(text, code)


# ---------------------------------------------------------------------------
# Loading

_lib: Optional[Library] = None
_lock = threading.Lock()
_files = contextlib.ExitStack()  # keeps an extracted library alive (zip installs)

# Objects to notify in a forked child (IPClassifier instances).
_fork_listeners: "weakref.WeakSet[Any]" = weakref.WeakSet()


def built_file(name: str, env_var: str) -> str:
    """Where a file build.sh puts in ``ipclassifier/_lib/`` is: $env_var,
    else the copy inside the package (extracted for zip installs)."""
    env = os.environ.get(env_var)
    if env:
        return env
    res = resources.files(__package__ or "ipclassifier").joinpath("_lib").joinpath(name)
    if not res.is_file():
        raise ClassifierError(
            f"{name} is not in the ipclassifier package ({res}); "
            "build it with `bash build.sh` from the repository root, or install the package with pip"
        )
    return str(_files.enter_context(resources.as_file(res)))


def library_path() -> str:
    """Where the library is: $IPCLASSIFIER_LIBRARY, else the copy inside the package."""
    return built_file(LIBRARY_NAME, LIBRARY_ENV)


def load() -> Library:
    """Load the library once per process and check its version."""
    global _lib
    lib = _lib
    if lib is not None:
        lib.check_usable()
        return lib
    with _lock:
        if _lib is None:
            lib = Library(library_path())
            got = lib.version()
            if got != __version__:
                raise ClassifierError(
                    f"{lib.path} is version {got} but the ipclassifier package is {__version__}: "
                    "rebuild the library with build.sh"
                )
            problems = abi_mismatches(lib.abi_info())
            if problems:
                raise ClassifierError(
                    f"{lib.path} does not speak this package's C ABI ({'; '.join(problems)}): "
                    "rebuild the library with build.sh"
                )
            _lib = lib
        return _lib


def abi_mismatches(info: Dict[str, Any]) -> List[str]:
    """How the library's AbiInfo differs from what this package expects
    (empty when they agree): the ABI version, every status code by name,
    the record fields (a newer library may append fields) and the error
    record's mark."""
    problems = []
    if info.get("abi") != ABI_VERSION:
        problems.append(f"ABI {info.get('abi')}, want {ABI_VERSION}")
    codes = info.get("codes") or {}
    for code, name in CODE_NAMES.items():
        if codes.get(name) != code:
            problems.append(f"status {name} is {codes.get(name)}, want {code}")
    fields = tuple(info.get("fields") or ())
    if fields[: len(_wire.FIELDS)] != _wire.FIELDS:
        problems.append(f"record fields {list(fields)}, want {list(_wire.FIELDS)} first")
    columns = tuple(info.get("columns") or ())
    if columns[: len(_columns.COLUMNS)] != _columns.COLUMNS:
        problems.append(f"columns {list(columns)}, want {list(_columns.COLUMNS)} first")
    if info.get("columns_magic", "").encode("latin-1") != _columns.MAGIC:
        problems.append(f"columns magic {info.get('columns_magic')!r}, want {_columns.MAGIC!r}")
    if info.get("head_size") != _wire.HEAD.size:
        problems.append(f"head of {info.get('head_size')} bytes, want {_wire.HEAD.size}")
    if info.get("error_mark") != _wire.ERROR_MARK:
        problems.append(f"error mark {info.get('error_mark')!r}, want {_wire.ERROR_MARK!r}")
    return problems


def loaded() -> Optional[Library]:
    """The library if it is loaded, else None (does not load it)."""
    return _lib


def on_fork_in_child(obj: Any) -> None:
    """Register obj (which must have ``_forked()``) to be told when this
    process forks; held weakly."""
    _fork_listeners.add(obj)


def _after_fork_in_child() -> None:
    if _lib is None:
        return  # the Go runtime never started here: a new classifier works
    _lib.forked = True
    for obj in list(_fork_listeners):
        forked: Optional[Callable[[], None]] = getattr(obj, "_forked", None)
        if forked is not None:
            forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
