"""IPClassifier: the Python face of the Go engine.

Everything here is transport: build the JSON configuration, call the C ABI,
decode the record (:mod:`._wire`) or the columnar batch (:mod:`._columns`)
it returns into :class:`IPClassification`.
No classification logic.
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from ctypes import c_char, c_int64, pointer
from datetime import datetime, timezone
from pathlib import Path
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Literal,
    Mapping,
    NoReturn,
    Optional,
    Tuple,
    Union,
    overload,
)
from urllib.parse import parse_qsl, quote, unquote, urlencode

from . import _logs, _native
from ._columns import Columns, decode_columns
from ._errors import source_update_error
from ._native import BUFFER_TOO_SMALL, OK, PARTIAL, ClassifierError
from ._wire import TYPES, keyed
from .types import CacheClearReport, IPClassification, IPType

__all__ = [
    "IPClassifier",
    "create_ip_classifier",
    "build_config",
    "classification_disabled",
    "auto_refresh_default",
    "BulkItem",
    "UPSTREAM_CLOUD_PROVIDERS",
]

#: The providers upstream calls cloud (``cloud_label_providers=`` this gives
#: upstream's labels: DigitalOcean, Oracle, Linode and Vultr ranges are then
#: datacenter at 0.75).
UPSTREAM_CLOUD_PROVIDERS = ("aws", "azure", "gcp", "cloudflare")

#: One input of :meth:`IPClassifier.bulk_classify`: an IP string, or a tuple
#: ``(ip,)``, ``(ip, asn)`` or ``(ip, asn, as_name)``.
BulkItem = Union[
    str,
    Tuple[str],
    Tuple[str, Optional[int]],
    Tuple[str, Optional[int], Optional[str]],
    Tuple[str, Optional[int], Optional[str], Optional[datetime]],
]

_MAX_ASN = 0xFFFFFFFF


def _invalid_answer(item: str) -> IPClassification:
    """The answer bulk_classify(errors="unknown") gives an invalid input."""
    return IPClassification(
        ip_type=IPType.UNKNOWN,
        provider=None,
        confidence=0.0,
        source="invalid_ip",
        classified_at=datetime.now(timezone.utc),
        ip=item,
    )


# ---------------------------------------------------------------------------
# Per-thread buffers (ctypes releases the GIL: every thread needs its own)

_SINGLE_CAP = 4096
_BATCH_KEEP = 64 << 20  # do not keep batch buffers larger than this
_tls = threading.local()
# Bytes per row of a columnar batch to ask for first (see _columns_call).
_columns_per_row = 320
_COLUMNS_PER_ROW_MAX = 4096
_ZERO = c_int64(0)
_SINGLE_CAP_C = c_int64(_SINGLE_CAP)
# ctypes converts a c_int64 argument for free, an int costs a conversion:
# precompute the small lengths.
_NLENS = 256
_LENS = tuple(c_int64(i) for i in range(_NLENS))


class _Buf:
    __slots__ = ("raw", "arr", "n", "n_ptr")

    def __init__(self, size: int) -> None:
        self.raw = bytearray(size)
        self.arr = (c_char * size).from_buffer(self.raw)
        self.n = c_int64(0)
        self.n_ptr = pointer(self.n)


def _single_buf() -> _Buf:
    b: Optional[_Buf] = getattr(_tls, "single", None)
    if b is None:
        b = _tls.single = _Buf(_SINGLE_CAP)
    return b


def _batch_buf(size: int) -> _Buf:
    b: Optional[_Buf] = getattr(_tls, "batch", None)
    if b is None or len(b.raw) < size:
        b = _Buf(max(size, 1 << 16))
        if size <= _BATCH_KEEP:
            _tls.batch = b
    return b


# ---------------------------------------------------------------------------
# Configuration


def auto_refresh_default() -> bool:
    """Whether classifiers refresh their sources in the background when
    ``auto_refresh`` is not given: yes, unless $IPCLASSIFIER_AUTO_REFRESH is
    "0", "false", "no" or "off" (a host driven by a cron refresh)."""
    return os.environ.get("IPCLASSIFIER_AUTO_REFRESH", "").strip().lower() not in ("0", "false", "no", "off")


def classification_disabled() -> bool:
    """True when $DISABLE_IP_CLASSIFICATION is "true"/"1"/"yes": the host
    pipeline should skip its IP-classification pass. The classifier itself
    still works (create_ip_classifier does not look at it)."""
    return os.environ.get("DISABLE_IP_CLASSIFICATION", "").strip().lower() in ("1", "true", "yes", "on")


def _sqlalchemy_url(db_engine: Any) -> Any:
    """The SQLAlchemy URL object of an Engine, Connection or URL (None for
    anything else)."""
    if hasattr(db_engine, "drivername") and hasattr(db_engine, "database"):
        return db_engine  # already a URL
    sa_url = getattr(db_engine, "url", None)
    if sa_url is None:
        sa_url = getattr(getattr(db_engine, "engine", None), "url", None)
    return sa_url


def _database_url(db_engine: Any) -> Optional[str]:
    """The URL the Go SQL tier opens for db_engine — an SQLAlchemy Engine,
    Connection or URL object (its parts are read, never a rendered string),
    or a URL string (SQLAlchemy is not imported for it: see
    :func:`_plain_database_url`) — with SQLAlchemy's rules: a
    relative SQLite path is relative to the working directory, ``:memory:``
    or no database is an in-memory database (None: the classifier cannot
    share it, so there is no L2 tier), escapes are decoded, and query options
    are kept (SQLite's ``timeout`` in seconds becomes ``_busy_timeout``).
    PostgreSQL URLs are rebuilt from their parts (user and password escaped,
    port, ``host=/socket/dir``, ``sslmode`` and the other options). The
    driver suffix (``+psycopg2``) is dropped: Go uses its own drivers.

    Raises:
        ValueError: not SQLite or PostgreSQL, or an SQLite path Go cannot
            open (a ``file:`` URI, a ``?`` in the path).
        TypeError: db_engine is none of the above.
    """
    if isinstance(db_engine, (str, os.PathLike)):
        return _plain_database_url(os.fspath(db_engine))
    sa_url = _sqlalchemy_url(db_engine)
    if sa_url is None:
        raise TypeError(
            f"db_engine must be a database URL or an SQLAlchemy Engine/Connection/URL, got {type(db_engine).__name__}"
        )
    backend = str(sa_url.drivername).split("+", 1)[0]
    query = [(k, v) for k, vals in sa_url.query.items() for v in ((vals,) if isinstance(vals, str) else vals)]
    if backend == "sqlite":
        return _sqlite_url(sa_url.database, query)
    if backend in ("postgresql", "postgres"):
        return _postgres_url(sa_url.username, sa_url.password, sa_url.host, sa_url.port, sa_url.database, query)
    raise ValueError(f"db_engine: the L2 cache tier runs on SQLite or PostgreSQL, not {backend}")


def _sqlite_url(database: Optional[str], query: List[Tuple[str, str]]) -> Optional[str]:
    """Go's URL of the SQLite database SQLAlchemy would open (None: in memory)."""
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        raise ValueError(f"db_engine: SQLite URI filenames ({database!r}) are not supported; give a path")
    path = os.path.abspath(database)  # SQLAlchemy: relative to the working directory
    if "?" in path:
        raise ValueError(f"db_engine: the SQLite path {path!r} contains '?', which the cache tier cannot open")
    opts = [("_busy_timeout", str(int(float(v) * 1000))) if k == "timeout" else (k, v) for k, v in query]
    return "sqlite://" + path + ("?" + urlencode(opts) if opts else "")


def _postgres_url(
    user: Optional[str],
    password: Any,
    host: Optional[str],
    port: Optional[int],
    database: Optional[str],
    query: List[Tuple[str, str]],
) -> str:
    """A libpq URL of these parts, each escaped."""
    auth = ""
    if user is not None:
        auth = quote(user, safe="")
        if password is not None:
            auth += ":" + quote(str(password), safe="")
        auth += "@"
    netloc = host or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"  # IPv6
    if port is not None:
        netloc += f":{port}"
    url = f"postgresql://{auth}{netloc}/{quote(database or '', safe='')}"
    return url + ("?" + urlencode(query) if query else "")


def _plain_database_url(raw: str) -> Optional[str]:
    """_database_url of a URL string, read as SQLAlchemy's ``make_url``
    reads it (tests_py/test_db_urls.py checks they agree): SQLite by
    SQLAlchemy's rules (``sqlite://`` and ``sqlite:///:memory:`` in memory,
    ``sqlite:///rel.db`` relative to the working directory,
    ``sqlite:////abs.db`` absolute, escapes decoded, options kept);
    PostgreSQL as it is without its driver suffix (its escapes, port, host
    and options already are a libpq URL's, which is what Go reads)."""
    scheme, sep, rest = raw.partition("://")
    backend = scheme.split("+", 1)[0].lower()
    if not sep or backend not in ("sqlite", "postgresql", "postgres"):
        raise ValueError(f"db_engine: the L2 cache tier runs on SQLite or PostgreSQL URLs, got {scheme!r}")
    if backend != "sqlite":
        return "postgresql://" + rest
    path, _, q = rest.partition("?")
    database = unquote(path[1:] if path.startswith("/") else path)
    return _sqlite_url(database, parse_qsl(q, keep_blank_values=True))


def _host_sqlite(db_engine: Any) -> bool:
    """True when db_engine is an SQLite Engine/Connection of this process
    (not a URL) on a file: the host opens that file itself."""
    if db_engine is None or isinstance(db_engine, (str, os.PathLike)) or hasattr(db_engine, "drivername"):
        return False
    url = _database_url(db_engine)
    return url is not None and url.startswith("sqlite")


def _shares_sqlite(engine_sqlite: Mapping[str, Any]) -> bool:
    """Whether the engine runs on the same SQLite library as this process's
    ``sqlite3`` module, given the engine's ``get_stats()["sqlite"]``.

    It does when build.sh linked the system libsqlite3 (``linked`` is
    "system") and this process's sqlite3 reports the same
    ``sqlite_source_id()``: one copy of SQLite then tracks every
    connection to a file in the process. Otherwise the two copies do not
    see each other's POSIX locks, and sharing one SQLite file between the
    engine's SQL tier and the host in this process loses or hides writes
    (docs/cache.md)."""
    if engine_sqlite.get("linked") != "system":
        return False
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(":memory:")) as conn:
        (source_id,) = conn.execute("select sqlite_source_id()").fetchone()
    return bool(source_id == engine_sqlite.get("source_id"))


def _sqlite_not_shared_message(engine_sqlite: Mapping[str, Any]) -> str:
    return (
        f"db_engine is an SQLite engine of this process, and the classifier runs on its own copy of SQLite "
        f"({engine_sqlite.get('linked', '?')} {engine_sqlite.get('version', '?')}), not on the one this process's "
        "sqlite3 module uses: two copies in one process do not see each other's file locks, so writes can be "
        "lost or seen late (docs/cache.md). Rebuild with the system SQLite (apt-get install libsqlite3-dev; "
        "bash build.sh), give the classifier its own SQLite file, or use PostgreSQL."
    )


#: The dated lists this package bundles (``make baseline``; see its NOTICE):
#: a classifier with no snapshot of its own starts from them. Pass
#: ``baseline_dir=""`` to start from nothing, or another directory.
BASELINE_DIR = Path(__file__).resolve().parent / "_baseline"


def build_config(
    cache_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
    db_engine: Any = None,
    enable_redis: bool = False,
    tor_url: Optional[str] = None,
    cloud_base_url: Optional[str] = None,
    datacenter_url: Optional[str] = None,
    *,
    redis_url: Optional[str] = None,
    data_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
    hosting_base_url: Optional[str] = None,
    enable_cache: bool = True,
    auto_refresh: Optional[bool] = None,
    **extra: Any,
) -> Dict[str, Any]:
    """The JSON configuration the Go engine reads (classifier.Config).

    Unset values are left out, so Go applies its environment overrides
    (TOR_BULK_LIST_URL, CLOUD_RANGES_BASE_URL, DATACENTER_RANGES_URL,
    HOSTING_RANGES_BASE_URL, IPCLASSIFIER_DATA_DIR) and then its defaults.
    ``extra`` holds further top-level keys (cloud_providers, tor_interval,
    http_timeout, attempts, backoff, user_agent, …); a ``cache`` mapping in
    it is merged into the cache section. Go rejects unknown keys.
    ``auto_refresh`` None means on unless $IPCLASSIFIER_AUTO_REFRESH is a
    false value (0, false, no, off).
    """
    cfg: Dict[str, Any] = {"auto_refresh": auto_refresh_default() if auto_refresh is None else bool(auto_refresh)}
    for key, value in (
        ("data_dir", data_dir),
        ("tor_url", tor_url),
        ("cloud_base_url", cloud_base_url),
        ("datacenter_url", datacenter_url),
        ("hosting_base_url", hosting_base_url),
    ):
        if value is not None:
            cfg[key] = os.fspath(value)
    cache: Dict[str, Any] = {}
    if enable_cache:
        if cache_dir is not None:
            cache["dir"] = os.fspath(cache_dir)
        if db_engine is not None:
            database_url = _database_url(db_engine)
            if database_url is not None:  # None: an in-memory SQLite database, nothing to share
                cache["database_url"] = database_url
        if enable_redis or redis_url:
            cache["redis_url"] = redis_url or "redis://localhost:6379/0"
        if cache_dir is None and db_engine is None:
            cache["default_tiers"] = True
    extra_cache = extra.pop("cache", None)
    if extra_cache:
        cache.update(extra_cache)
    cfg.update(extra)
    if "baseline_dir" not in cfg and BASELINE_DIR.is_dir():
        cfg["baseline_dir"] = str(BASELINE_DIR)
    cfg["cache"] = cache
    return cfg


# ---------------------------------------------------------------------------
# The classifier

_CLOSED_MESSAGE = "classifier is closed"


class IPClassifier:
    """Classifies IP addresses in-process through libipclassifier.so.

    Thread-safe: calls run in Go without the GIL. Not usable in a child
    process after ``fork()`` (calls raise RuntimeError); create classifiers
    after forking. Close it (or use ``with``) to release the cache
    connections.

    The keyword arguments are those of :func:`create_ip_classifier`;
    ``config`` passes a ready configuration mapping instead.
    """

    __slots__ = ("_lib", "_h", "_handle", "_state", "_fn", "_lock", "config", "__weakref__")

    def __init__(
        self,
        cache_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
        db_engine: Any = None,
        enable_redis: bool = False,
        tor_url: Optional[str] = None,
        cloud_base_url: Optional[str] = None,
        datacenter_url: Optional[str] = None,
        *,
        redis_url: Optional[str] = None,
        data_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
        hosting_base_url: Optional[str] = None,
        enable_cache: bool = True,
        auto_refresh: Optional[bool] = None,
        config: Optional[Mapping[str, Any]] = None,
        **extra: Any,
    ) -> None:
        self._h: Optional[c_int64] = None  # None = not usable (see _state)
        self._handle = 0
        self._state = "closed"
        if config is None:
            config = build_config(
                cache_dir=cache_dir,
                db_engine=db_engine,
                enable_redis=enable_redis,
                redis_url=redis_url,
                data_dir=data_dir,
                tor_url=tor_url,
                cloud_base_url=cloud_base_url,
                datacenter_url=datacenter_url,
                hosting_base_url=hosting_base_url,
                enable_cache=enable_cache,
                auto_refresh=auto_refresh,
                **extra,
            )
        self.config: Dict[str, Any] = dict(config)
        self._lock = threading.Lock()
        lib = self._lib = _native.load()
        _logs.start(lib)  # the engine's logs reach logging from now on
        self._fn = lib.classify_untyped
        data = json.dumps(self.config).encode()
        handle = c_int64(0)
        err = (c_char * 4096)()
        err_len = c_int64(0)
        rc = lib.open_(data, len(data), handle, err, 4096, err_len)
        if rc != OK:
            msg = bytes(memoryview(err)[: err_len.value]).decode(errors="replace")
            raise ClassifierError(msg or lib.code_text(rc), rc)
        self._handle = handle.value
        self._h = c_int64(handle.value)
        self._state = "open"
        _native.on_fork_in_child(self)
        if enable_cache and _host_sqlite(db_engine):
            engine_sqlite = self.get_stats().get("sqlite") or {}
            if not _shares_sqlite(engine_sqlite):
                warnings.warn(_sqlite_not_shared_message(engine_sqlite), RuntimeWarning, stacklevel=3)

    # -- lifecycle ---------------------------------------------------------

    def _forked(self) -> None:
        """Called in a forked child: the Go runtime is gone, never call it."""
        self._h = None
        self._state = "forked"

    def _unusable(self) -> NoReturn:
        if self._state == "forked":
            raise RuntimeError(_native.FORK_MESSAGE)
        raise ClassifierError(_CLOSED_MESSAGE, _native.CLOSED)

    def _handle_or_raise(self) -> c_int64:
        h = self._h
        if h is None:
            self._unusable()
        self._lib.check_usable()
        return h

    @property
    def closed(self) -> bool:
        """True after close() (or in a forked child)."""
        return self._h is None

    def close(self) -> None:
        """Write the answers still queued for the cache tiers (classify
        only queues them), then close the engine and its cache connections:
        answers a tier that is down cannot take are counted in its
        ``dropped`` stat. Idempotent. In a forked child it only forgets the
        handle."""
        with self._lock:
            h = self._h
            self._h = None
            if h is None:
                return
            self._state = "closed"
            lib = self._lib
            if lib.forked or os.getpid() != lib.pid:
                self._state = "forked"
                return
            rc = lib.close(h)
        _logs.drain(lib)
        if rc not in (OK, _native.INVALID_HANDLE):
            raise ClassifierError(f"close failed: {lib.code_text(rc)}", rc)

    def __enter__(self) -> "IPClassifier":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if getattr(self, "_h", None) is not None:
                self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"<IPClassifier handle={self._handle} {self._state}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("IPClassifier cannot be pickled: create one in each process (after fork)")

    def _raise(self, rc: int, message: bytes, what: str = "") -> NoReturn:
        """Raise for a failed call; a handle closed meanwhile reads as closed."""
        self._lib.check_usable()
        if rc == _native.INVALID_HANDLE and self._h is None:
            self._unusable()
        _native.check(rc, message, what)

    # -- classification ----------------------------------------------------

    def classify(
        self, ip: str, asn: Optional[int] = None, as_name: Optional[str] = None, *, at: Optional[datetime] = None
    ) -> IPClassification:
        """Classify one address.

        Args:
            ip: an IPv4 or IPv6 address (IPv4-mapped IPv6 is answered as IPv4).
            asn: the AS number, when known (feeds the residential heuristic).
            as_name: the AS name, when known (e.g. "Deutsche Telekom AG").
            at: answer as of this time (a datetime; naive means UTC) from
                the snapshot of each source in force then (the history:
                docs/history.md); ``as_of`` and ``history_short`` of the
                answer say which time and whether the history reached back.
                Such answers never touch the cache tiers. None: now.

        Raises:
            ValueError: ip is not an address (the message names it), or asn
                is out of range.
            TypeError: ip or as_name is not a str (bytes included), or asn
                is not an int.
            ClassifierError: the classifier is closed or the engine failed.
            RuntimeError: called in a child process after fork().
        """
        if at is not None:
            return self._classify_at(ip, asn, as_name, at)
        h = self._h
        if h is None:
            self._unusable()
        try:
            b = ip.encode()
        except AttributeError:
            raise TypeError(f"ip must be a str, got {type(ip).__name__}") from None
        except UnicodeEncodeError:
            raise ValueError(f"invalid IP address {ip!r}: not encodable as UTF-8") from None
        try:
            buf = _tls.single
        except AttributeError:
            buf = _single_buf()
        n = len(b)
        # Every argument has its exact C type: see Library.classify_untyped.
        if as_name is not None and type(as_name) is not str:
            as_name = _check_as_name(as_name)
        # The head of the answer, built from what was kept of its key, else
        # asked for again with the record (once per key: see _wire.keyed).
        if asn is None and not as_name:
            rc = self._fn(
                h, b, _LENS[n] if n < _NLENS else c_int64(n), _ZERO, None, _ZERO, 0, buf.arr, _SINGLE_CAP_C, buf.n_ptr
            )
            if rc:
                return self._classify_slow(rc, ip, b, None, None, buf)
            return keyed(buf.raw, buf.n.value, ip) or self._classify_again(ip, b, None, None, buf)
        nb = as_name.encode("utf-8", "replace") if as_name else None
        asn_c = c_int64(_check_asn(asn))
        rc = self._fn(h, b, c_int64(n), asn_c, nb, c_int64(len(nb) if nb else 0), 0, buf.arr, _SINGLE_CAP_C, buf.n_ptr)
        if rc:
            return self._classify_slow(rc, ip, b, asn, as_name, buf)
        return keyed(buf.raw, buf.n.value, ip) or self._classify_again(ip, b, asn, nb, buf)

    def _classify_at(self, ip: str, asn: Optional[int], as_name: Optional[str], at: datetime) -> IPClassification:
        if not isinstance(ip, str):
            raise TypeError(f"ip must be a str, got {type(ip).__name__}")
        if as_name is not None:
            as_name = _check_as_name(as_name)
        if asn is not None:
            _check_asn(asn)
        _, answers = self.classify_many([(ip, asn, as_name, at)])
        a = answers[0]
        if isinstance(a, str):
            raise ValueError(a)
        return a

    def _classify_again(
        self, ip: str, b: bytes, asn: Optional[int], nb: Optional[bytes], buf: _Buf
    ) -> IPClassification:
        """The answer whose head buf holds, for a key not kept here: asked
        again with its record (which keyed keeps), then built from the
        first head, so the answer is the one the first call made (and, with
        the cache tiers, wrote). When the data changed in between (another
        key), the second answer. nb is the AS name as sent."""
        first = buf.raw[: buf.n.value]  # a copy: buf is written again below
        h = self._handle_or_raise()
        rc = self._fn(
            h, b, c_int64(len(b)), c_int64(asn or 0), nb, c_int64(len(nb) if nb else 0), 1, buf.arr, _SINGLE_CAP_C,
            buf.n_ptr,
        )  # fmt: skip
        if rc == BUFFER_TOO_SMALL:  # the record is longer than the buffer: not expected
            second = self._record_again(ip, b, asn, nb, buf.n.value)
        elif rc:
            self._raise(rc, bytes(buf.raw[: buf.n.value]), ip)
        else:
            got = keyed(buf.raw, buf.n.value, ip)
            if got is None:
                raise ClassifierError("libipclassifier returned no record when asked for it")
            second = got
        return keyed(first, len(first), ip) or second

    def _record_again(self, ip: str, b: bytes, asn: Optional[int], nb: Optional[bytes], size: int) -> IPClassification:
        """The answer asked again with its record (ClassifyKeyed's again),
        in a buffer of size bytes."""
        h = self._handle_or_raise()
        _, data = _native.call(self._lib.classify_keyed, h, b, len(b), asn or 0, nb, len(nb) if nb else 0, 1, size=size)
        a = keyed(bytearray(data), len(data), ip)
        if a is None:
            raise ClassifierError("libipclassifier returned no record when asked for it")
        return a

    def _classify_slow(
        self, rc: int, ip: str, b: bytes, asn: Optional[int], as_name: Optional[str], buf: _Buf
    ) -> IPClassification:
        if rc == BUFFER_TOO_SMALL:  # an answer longer than 4 KiB: not expected; the call was counted
            nb = as_name.encode("utf-8", "replace") if as_name else None
            return self._record_again(ip, b, asn, nb, buf.n.value)
        self._raise(rc, bytes(buf.raw[: buf.n.value]), ip)

    @overload
    def bulk_classify(
        self,
        items: Iterable[BulkItem],
        *,
        errors: Literal["raise", "unknown"] = ...,
        as_list: Literal[False] = ...,
    ) -> Dict[str, IPClassification]: ...

    @overload
    def bulk_classify(
        self,
        items: Iterable[BulkItem],
        *,
        errors: Literal["raise", "unknown"] = ...,
        as_list: Literal[True],
    ) -> List[IPClassification]: ...

    def bulk_classify(
        self,
        items: Iterable[BulkItem],
        *,
        errors: Literal["raise", "unknown"] = "raise",
        as_list: bool = False,
    ) -> Union[Dict[str, IPClassification], List[IPClassification]]:
        """Classify many addresses in one call into the engine (one cache
        round trip per tier).

        Args:
            items: IP strings or ``(ip, asn, as_name)`` tuples (asn and
                as_name may be None, or left out), or ``(ip, asn, as_name,
                at)``: answered as of the datetime at (see ``classify``).
            errors: "raise" (default): any invalid item raises ValueError
                listing every offending value (after the valid ones were
                classified). "unknown": an invalid IP gets an UNKNOWN answer
                with source "invalid_ip" and the input as ``ip``; an invalid
                asn is ignored (treated as unknown), so a pipeline loses
                nothing.
            as_list: return the answers as a list in input order (one per
                item, duplicates included) instead of upstream's dict.

        Returns:
            ``{input ip: answer}`` as upstream returns (an IP given twice
            keeps its last answer), or the list.
        """
        if errors not in ("raise", "unknown"):
            raise ValueError(f'errors must be "raise" or "unknown", got {errors!r}')
        lenient = errors == "unknown"
        ips, cols, bad = self._columns_of(items, not lenient)
        if cols is None:
            return [] if as_list else {}
        if not bad and not cols.failed:  # the usual case: every answer is an IPClassification
            if as_list:
                return cols.answers()  # type: ignore[return-value]
            last = dict(zip(ips, range(len(ips))))  # the row of each input's last answer, as upstream keeps
            if len(last) == len(ips):  # no input twice: every row, no rows to pick
                return dict(zip(ips, cols.answers()))  # type: ignore[arg-type]
            return dict(zip(last, cols.answers(list(last.values()))))  # type: ignore[arg-type]
        answers = _answers(cols, bad)
        results: List[IPClassification] = []
        offending: List[str] = []
        for ip, a in zip(ips, answers):
            if isinstance(a, IPClassification):
                results.append(a)
            elif lenient:
                results.append(_invalid_answer(ip))
            else:
                offending.append(a)
        if offending:
            shown = "; ".join(offending[:20])
            more = f" (and {len(offending) - 20} more)" if len(offending) > 20 else ""
            raise ValueError(f"{len(offending)} invalid input(s) in bulk_classify: {shown}{more}")
        if not as_list:
            return dict(zip(ips, results))
        return results

    def classify_many(
        self, items: Iterable[BulkItem], *, strict_asn: bool = True
    ) -> Tuple[List[str], List[Union[IPClassification, str]]]:
        """The engine of bulk_classify: one C call, no exception for bad
        items. Returns the input IPs and, in the same order, an answer or
        the error message (naming the input) for each.

        With strict_asn False an invalid asn is dropped instead of failing
        its item.
        """
        ips, cols, bad = self._columns_of(items, strict_asn)
        return ips, [] if cols is None else _answers(cols, bad)

    def classify_columns(self, items: Iterable[BulkItem], *, evidence: bool = False) -> Columns:
        """Classify many addresses in one call into the engine and get the
        answers as typed columns, with no Python object per answer: for
        pipelines and DataFrames (``.to_arrow()``, ``.to_pandas()``,
        ``.to_polars()``; see :class:`~ipclassifier.Columns`).

        Args:
            items: as for :meth:`bulk_classify`. An invalid asn is ignored
                (treated as unknown).
            evidence: add the ``evidence`` column (a third of the engine's
                cost of the columns; frames leave it out, and
                :meth:`Columns.answers` needs it).

        Returns:
            One row per item, in input order. Nothing is raised for a bad
            item: its row has the message in the ``error`` column (and
            ``failed`` counts it).

        Raises:
            TypeError: an item is not an IP string or a tuple of one.
            ClassifierError: the classifier is closed or the engine failed.
        """
        h = self._handle_or_raise()
        ips, payload = self._payload(items, {}, False)
        return self._columns_call(h, payload, len(ips), evidence)

    def _columns_call(self, h: c_int64, payload: bytes, count: int, evidence: bool) -> Columns:
        """The columns of a ClassifyColumns call of count inputs (with the
        evidence column when evidence is true)."""
        # Per row: 17 codes or numbers of 4 bytes, 5 of 8, 2 bytes, the ip; per distinct answer its
        # strings (the evidence: a few hundred bytes). A buffer too small costs a second engine call,
        # so the size per row a batch needed is remembered for the next ones.
        global _columns_per_row
        size = len(payload) + count * _columns_per_row + (1 << 16)
        buf = _batch_buf(size)
        fn = self._lib.classify_columns
        rc = fn(h, payload, len(payload), evidence, buf.arr, len(buf.raw), buf.n)
        if rc == BUFFER_TOO_SMALL:  # again with the exact size
            need = buf.n.value
            _columns_per_row = min(max(_columns_per_row, need * 5 // (4 * count) + 1), _COLUMNS_PER_ROW_MAX)
            buf = _batch_buf(need)
            rc = fn(h, payload, len(payload), evidence, buf.arr, len(buf.raw), buf.n)
        if rc not in (OK, PARTIAL):
            self._raise(rc, bytes(buf.raw[: buf.n.value]))
        cols = decode_columns(bytes(memoryview(buf.raw)[: buf.n.value]))  # one copy: the columns own their block
        if len(cols) != count:
            raise ClassifierError(f"libipclassifier returned {len(cols)} rows for {count} inputs")
        return cols

    def _payload(self, items: Iterable[BulkItem], bad: Dict[int, str], strict_asn: bool) -> Tuple[List[str], bytes]:
        """The input IPs and the batch input of a ClassifyBatch or
        ClassifyColumns call (see _batch_payload)."""
        if not isinstance(items, list):
            items = list(items)
        try:  # fast path: bare IP strings (join refuses anything else, in C)
            joined = "\n".join(items)  # type: ignore[arg-type]
        except TypeError:
            return self._batch_payload(items, bad, strict_asn)
        if "\t" not in joined and joined.count("\n") == len(items) - 1:
            return items, (joined + "\n").encode("utf-8", "replace")  # type: ignore[return-value]
        return self._batch_payload(items, bad, strict_asn)

    def _columns_of(
        self, items: Iterable[BulkItem], strict_asn: bool
    ) -> Tuple[List[str], Optional[Columns], Dict[int, str]]:
        """The input IPs, the columns of their answers (None for no input)
        and the errors found here by index (they win over the row's)."""
        h = self._handle_or_raise()
        bad: Dict[int, str] = {}
        ips, payload = self._payload(items, bad, strict_asn)
        if not ips:
            return ips, None, bad
        return ips, self._columns_call(h, payload, len(ips), True), bad

    @staticmethod
    def _batch_payload(items: List[Any], bad: Dict[int, str], strict_asn: bool) -> Tuple[List[str], bytes]:
        """The ClassifyBatch input "ip\tasn\tas_name\n" per item; items that
        cannot be sent as they are get an entry in bad (and an empty line)."""
        ips: List[str] = []
        lines: List[str] = []
        for i, item in enumerate(items):
            if isinstance(item, str):
                ip, asn, name, at = item, None, None, None
            elif isinstance(item, (bytes, bytearray, memoryview)):
                raise TypeError(f"bulk_classify item {i}: ip must be a str, got {type(item).__name__} {item!r}")
            else:
                try:
                    ip = item[0]
                    asn = item[1] if len(item) > 1 else None
                    name = item[2] if len(item) > 2 else None
                    at = item[3] if len(item) > 3 else None
                except (TypeError, IndexError, KeyError):
                    raise TypeError(
                        f"bulk_classify item {i} must be an IP string or (ip, asn, as_name), got {item!r}"
                    ) from None
            if not isinstance(ip, str):
                raise TypeError(f"bulk_classify item {i}: ip must be a str, got {type(ip).__name__}")
            if name is not None and not isinstance(name, str):
                raise TypeError(f"bulk_classify item {i}: as_name must be a str, got {type(name).__name__}")
            ips.append(ip)
            if "\t" in ip or "\n" in ip:
                bad[i] = f"invalid IP address {ip!r}: contains a tab or newline"
                lines.append(ip.replace("\t", " ").replace("\n", " "))  # no address either: an error row
                continue
            asn_text = ""
            if asn is not None:
                try:
                    asn_text = str(_check_asn(asn))
                except (ValueError, TypeError) as e:
                    if strict_asn:
                        bad[i] = f"{ip}: {e}"
            if name and ("\t" in name or "\n" in name or "\r" in name):
                name = name.replace("\t", " ").replace("\n", " ").replace("\r", " ")
            if at is not None:
                lines.append(f"{ip}\t{asn_text}\t{name or ''}\t{_at_text(at, i)}")
            elif name:
                lines.append(f"{ip}\t{asn_text}\t{name}")
            elif asn_text:
                lines.append(f"{ip}\t{asn_text}")
            else:
                lines.append(ip)
        lines.append("")  # every line ends with "\n", so a last empty IP is still a line
        return ips, "\n".join(lines).encode("utf-8", "replace")

    # -- sources, stats, cache ---------------------------------------------

    def refresh(self, group: str = "all", force: bool = False) -> Dict[str, Any]:
        """Download the sources of group ("tor", "cloud", "datacenter",
        "asn" or "all") that are due (all of them with force) and return the
        report: ``{"group", "force", "seconds", "sources": [{"source",
        "status", "error", "entries", …}]}``. Status per source: "updated",
        "not_modified", "skipped" (not due), "adopted" (another process
        sharing the data directory, e.g. the refresh timer, saved a newer
        snapshot: loaded from disk, not downloaded) or "failed" (the
        previous data stays; ``failed`` counts them).

        Raises:
            ClassifierError: unknown group, closed classifier.
        """
        h = self._handle_or_raise()
        g = group.encode()
        try:
            _, data = _native.call(self._lib.refresh, h, g, len(g), 1 if force else 0, size=1 << 20)
        finally:
            _logs.drain(self._lib)
        report: Dict[str, Any] = json.loads(data)
        report["failed"] = sum(1 for s in report.get("sources") or () if s.get("status") == "failed")
        return report

    def import_snapshot(
        self, source: str, data: Union[bytes, str, "os.PathLike[str]"], date: datetime
    ) -> Dict[str, Any]:
        """Add a dated file of one source to the history, so answers as of
        that time (``classify(..., at=…)``) come from it: an operator seeds
        the history from archives. source names the source as in
        ``get_stats()["sources"]`` ("tor", "cloud/aws", "cloud/aws-official",
        …); data is the file's bytes or its path (gzip is fine); date is
        when the file was published (naive means UTC). The bytes are checked
        as a download is; the data answered now does not change. Returns
        ``{"source", "date", "sha256", "bytes", "entries", "added"}``
        (added is False when the history held these bytes at that date).

        Raises:
            ClassifierError: unknown source, a date in the future, bytes
                that are not a list of that source, the history not
                writable (the message says which), closed classifier.
            TypeError: date is not a datetime.
            OSError: data is a path that cannot be read.
        """
        h = self._handle_or_raise()
        if not isinstance(data, bytes):
            data = Path(data).read_bytes()
        s, d = source.encode(), _at_text(date).encode()
        try:
            _, out = _native.call(self._lib.import_snapshot, h, s, len(s), d, len(d), data, len(data))
        finally:
            _logs.drain(self._lib)
        report: Dict[str, Any] = json.loads(out)
        return report

    def update_all_sources(self, force: bool = False) -> Dict[str, Any]:
        """Refresh every source that is due (all with force): upstream's
        name and contract. Returns the report of :meth:`refresh` when every
        source succeeded.

        Raises:
            SourceUpdateError: some source failed (its previous data stays).
                It is a ``requests.RequestException`` when requests is
                installed (what upstream documents, so upstream's callers
                catch it), else an ``OSError``; ``.report`` is the refresh
                report, ``.failed`` its failed sources. Call
                :meth:`refresh` for the report without an exception.
            ClassifierError: closed classifier.
        """
        report = self.refresh("all", force)
        if report["failed"]:
            raise source_update_error(report)
        return report

    def get_stats(self) -> Dict[str, Any]:
        """The engine's counters and per-source data (Go Stats JSON), plus
        flat keys: the upstream classifications, cache_hits, cache_misses
        and {type}_matches, and per cache tier (l1 Redis, l2 SQL, l3
        files) {tier}_hits, {tier}_errors, {tier}_dropped (answers queued
        for the tier but never written), {tier}_queued (waiting in its
        write-behind queue) and the median / 99th percentile
        latency of its reads and writes in microseconds,
        {tier}_get_p50_us, {tier}_get_p99_us, {tier}_set_p50_us,
        {tier}_set_p99_us (0 for a tier that is off; the full counters are
        under "cache")."""
        h = self._handle_or_raise()
        _, data = _native.call(self._lib.stats, h, size=1 << 16)
        stats: Dict[str, Any] = json.loads(data)
        cache = stats.get("cache") or {}
        by_type = stats.get("by_type") or {}
        stats.setdefault("classifications", stats.get("lookups", 0))
        stats.setdefault("cache_hits", cache.get("cache_hits", 0))
        stats.setdefault("cache_misses", cache.get("cache_misses", 0))
        for tier in ("l1", "l2", "l3"):
            t = cache.get(tier) or {}
            stats.setdefault(f"{tier}_hits", cache.get(f"{tier}_hits", 0))
            stats.setdefault(f"{tier}_errors", t.get("errors", 0))
            stats.setdefault(f"{tier}_dropped", t.get("dropped", 0))
            stats.setdefault(f"{tier}_queued", t.get("queued", 0))
            for op in ("get", "set"):
                lat = t.get(f"{op}_latency") or {}
                stats.setdefault(f"{tier}_{op}_p50_us", lat.get("p50_us", 0.0))
                stats.setdefault(f"{tier}_{op}_p99_us", lat.get("p99_us", 0.0))
        for t in IPType:
            stats.setdefault(f"{t.value}_matches", by_type.get(t.value, 0))
        return stats

    def cache_stats(self) -> Dict[str, Any]:
        """The cache tier counters (hits/misses per tier)."""
        stats = self.get_stats().get("cache") or {}
        return dict(stats)

    def cache_cleanup(self) -> Dict[str, Any]:
        """Remove expired entries from the cache tiers (L2 rows, L3 files;
        Redis expires L1 keys itself) and return the report: ``l1_keys``,
        ``l2_rows``, ``l3_files``, ``l3_dirs``, ``l3_skipped`` and
        ``error``.

        A tier that fails as a whole does not stop the others: ``error``
        says which (it is None when every tier was cleaned) and the counts
        say what was removed.
        """
        h = self._handle_or_raise()
        _, data = _native.call(self._lib.cache_cleanup, h, size=1 << 16)
        report: Dict[str, Any] = json.loads(data)
        report["error"] = report.get("error") or None
        return report

    def cache_clear(self, ip_type: Union[IPType, str, None] = None) -> CacheClearReport:
        """Remove cached answers from every cache tier (L1 Redis, L2
        ``enrichment_cache`` rows of this service, L3 files), so that those
        addresses are classified again from the lists loaded now: every
        answer when ip_type is None, else only the answers of that type —
        ``cache_clear("unknown")`` after a list update gives the addresses
        no list knew a second look and keeps the other answers cached.

        A tier that fails as a whole does not stop the others: the report's
        ``error`` says which (it is None when every tier was cleared).

        Raises:
            ValueError: ip_type is not one of tor, cloud, datacenter,
                residential, unknown (nothing is cleared).
            ClassifierError: closed classifier.
        """
        t = _check_ip_type(ip_type)
        h = self._handle_or_raise()
        arg = t.encode()
        _, data = _native.call(self._lib.cache_clear, h, arg, len(arg), size=1 << 16)
        raw: Dict[str, Any] = json.loads(data)
        return CacheClearReport(
            ip_type=raw.get("ip_type"),
            l1_keys=int(raw.get("l1_keys", 0)),
            l2_rows=int(raw.get("l2_rows", 0)),
            l3_files=int(raw.get("l3_files", 0)),
            l3_dirs=int(raw.get("l3_dirs", 0)),
            l3_skipped=int(raw.get("l3_skipped", 0)),
            error=raw.get("error") or None,
        )


def _answers(cols: Columns, bad: Dict[int, str]) -> List[Union[IPClassification, str]]:
    """Every row's answer or message; an error found in Python (bad, by
    row) wins over the row's."""
    answers = cols.answers()
    for i, message in bad.items():
        answers[i] = message
    return answers


def _check_ip_type(ip_type: Union[IPType, str, None]) -> str:
    """ip_type's value ("" for None); ValueError naming it and the valid
    types when it is not one."""
    if ip_type is None:
        return ""
    if isinstance(ip_type, IPType):
        return ip_type.value
    if isinstance(ip_type, str) and ip_type in TYPES:
        return ip_type
    valid = ", ".join(t.value for t in IPType)
    raise ValueError(f"invalid ip_type {ip_type!r}: want one of {valid} (or None for every answer)")


def _at_text(at: Any, i: int = 0) -> str:
    """A time to answer as of, as the batch input takes it (RFC 3339 UTC);
    a naive datetime is UTC."""
    if type(at) is not datetime and not isinstance(at, datetime):
        raise TypeError(f"item {i}: at must be a datetime, got {type(at).__name__} {at!r}")
    if at.tzinfo is None:
        return at.isoformat() + "Z"
    if at.utcoffset() is None:  # a tzinfo that knows no offset: as naive
        return at.replace(tzinfo=None).isoformat() + "Z"
    return at.isoformat()


def _check_as_name(as_name: Any) -> Optional[str]:
    """as_name itself when it is a str or None; TypeError naming its type
    otherwise (bytes included: decode it first)."""
    if as_name is None or isinstance(as_name, str):
        return as_name
    raise TypeError(f"as_name must be a str, got {type(as_name).__name__}")


def _check_asn(asn: Any) -> int:
    """asn as an int in [0, 2**32-1] (None → 0, digit strings accepted)."""
    if asn is None:
        return 0
    if isinstance(asn, bool) or not isinstance(asn, (int, str)):
        raise TypeError(f"asn must be an int, got {type(asn).__name__}")
    try:
        value = int(asn)
    except ValueError:
        raise ValueError(f"invalid asn {asn!r}") from None
    if not 0 <= value <= _MAX_ASN:
        raise ValueError(f"asn out of range (0..{_MAX_ASN}): {asn!r}")
    return value


def create_ip_classifier(
    cache_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
    db_engine: Any = None,
    enable_redis: bool = False,
    tor_url: Optional[str] = None,
    cloud_base_url: Optional[str] = None,
    datacenter_url: Optional[str] = None,
    *,
    redis_url: Optional[str] = None,
    data_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
    hosting_base_url: Optional[str] = None,
    enable_cache: bool = True,
    auto_refresh: Optional[bool] = None,
    **extra: Any,
) -> IPClassifier:
    """Create an :class:`IPClassifier` (the upstream factory).

    The first six parameters are upstream's, in upstream's order, and take
    upstream's values; the others are keyword-only.

    Args:
        cache_dir: directory of the L3 file cache.
        db_engine: the L2 SQL cache: an SQLAlchemy Engine, Connection or URL
            (its URL object is read with SQLAlchemy's rules) or a URL string
            (``sqlite:///relative.db``, ``sqlite:////abs/path.db``,
            ``postgresql://…``); an in-memory SQLite database gives no L2
            tier.
        enable_redis: enable the L1 Redis cache at ``redis_url`` (default
            ``redis://localhost:6379/0``); a Redis that is down is skipped.
        tor_url, cloud_base_url, datacenter_url: source locations (http,
            https or file URLs); cloud_base_url is the base of the rezmoss
            layout (upstream's default), one of its files or a template with
            ``{folder}``/``{provider}``; datacenter_url is the CSV or its
            repository base (upstream's form: ``/data/datacenters.csv`` is
            appended). Unset: Go applies TOR_BULK_LIST_URL,
            CLOUD_RANGES_BASE_URL, DATACENTER_RANGES_URL, then the public
            defaults. An unusable URL raises ClassifierError naming it.
        redis_url: the L1 Redis URL (implies enable_redis).
        data_dir: where source snapshots persist (Go default:
            $IPCLASSIFIER_DATA_DIR, else ~/.cache/ipclassifier).
        hosting_base_url: base of the X4BNet hosting lists.
        enable_cache: False turns every cache tier off. True with neither
            cache_dir nor db_engine uses the embedded default (SQLite + files
            under data_dir).
        auto_refresh: refresh due sources in the background (at open, then
            on each source's interval; one process per data directory
            downloads, the others adopt its snapshots). None: on unless
            $IPCLASSIFIER_AUTO_REFRESH is 0/false/no/off. Turn it off for a
            host whose refresh runs from cron.
        **extra: further configuration keys (cloud_providers,
            cloud_label_providers, tor_interval, http_timeout, attempts,
            backoff, user_agent, cache={…}).

    ``DISABLE_IP_CLASSIFICATION`` does not stop this factory; the host checks
    :func:`classification_disabled` to skip its classification pass.
    """
    return IPClassifier(
        cache_dir=cache_dir,
        db_engine=db_engine,
        enable_redis=enable_redis,
        redis_url=redis_url,
        data_dir=data_dir,
        tor_url=tor_url,
        cloud_base_url=cloud_base_url,
        datacenter_url=datacenter_url,
        hosting_base_url=hosting_base_url,
        enable_cache=enable_cache,
        auto_refresh=auto_refresh,
        **extra,
    )
