"""The ctypes loader and the C ABI conventions."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any

import pytest

from ipclassifier import ClassifierError, __version__, _native


def test_library_version_matches_package() -> None:
    assert _native.load().version() == __version__


def test_library_ships_inside_the_package() -> None:
    path = _native.library_path()
    assert path.endswith("ipclassifier/_lib/libipclassifier.so")


def test_error_text_names_codes() -> None:
    lib = _native.load()
    assert lib.code_text(_native.INVALID_IP) == "invalid IP address"
    assert lib.code_text(_native.CLOSED) == "classifier is closed"
    assert "unknown status code 99" in lib.code_text(99)


def test_small_buffer_is_retried_with_the_size_needed(loaded: Any) -> None:
    rc, data = _native.call(loaded._lib.stats, loaded._h, size=8)
    assert rc == _native.OK and data.startswith(b"{") and len(data) > 8


def test_buffer_too_small_reports_size_and_writes_nothing(loaded: Any) -> None:
    buf = (ctypes.c_char * 4)(b"x", b"x", b"x", b"x")
    n = ctypes.c_int64(0)
    rc = loaded._lib.classify(loaded._h, b"3.5.140.1", 9, 0, None, 0, buf, 4, n)
    assert rc == _native.BUFFER_TOO_SMALL
    assert n.value > 4
    assert bytes(buf) == b"xxxx"


def test_invalid_handle_and_arguments() -> None:
    lib = _native.load()
    buf = (ctypes.c_char * 256)()
    n = ctypes.c_int64(0)
    assert lib.classify(987654, b"1.2.3.4", 7, 0, None, 0, buf, 256, n) == _native.INVALID_HANDLE
    assert b"invalid handle" in bytes(buf[: n.value])
    assert lib.classify(987654, None, 7, 0, None, 0, buf, 256, n) == _native.INVALID_ARGUMENT
    assert lib.classify(987654, b"1.2.3.4", -1, 0, None, 0, buf, 256, n) == _native.INVALID_ARGUMENT
    assert lib.classify(987654, b"1.2.3.4", 7, 0, None, 0, buf, 256, None) == _native.INVALID_ARGUMENT
    assert lib.close(987654) == _native.INVALID_HANDLE


def test_classify_keyed_checks_its_arguments_as_classify_does(loaded: Any) -> None:
    lib = _native.load()
    buf = (ctypes.c_char * 256)()
    n = ctypes.c_int64(0)
    keyed = lib.classify_keyed
    assert keyed(987654, b"1.2.3.4", 7, 0, None, 0, 0, buf, 256, n) == _native.INVALID_HANDLE
    assert keyed(987654, None, 7, 0, None, 0, 0, buf, 256, n) == _native.INVALID_ARGUMENT
    assert keyed(loaded._h, b"1.2.3.4", 7, 0, None, 5, 0, buf, 256, n) == _native.INVALID_ARGUMENT  # NULL, length 5
    assert keyed(loaded._h, b"1.2.3.4", 7, 2**33, None, 0, 0, buf, 256, n) == _native.INVALID_ARGUMENT
    assert b"asn out of range" in bytes(buf[: n.value])
    assert keyed(loaded._h, b"1.2.3.4", 7, 0, None, 0, 0, buf, 256, None) == _native.INVALID_ARGUMENT
    assert keyed(loaded._h, b"1.2.3", 5, 0, None, 0, 0, buf, 256, n) == _native.INVALID_IP
    assert b"1.2.3" in bytes(buf[: n.value])
    small = (ctypes.c_char * 8)()
    assert keyed(loaded._h, b"3.5.140.1", 9, 0, None, 0, 1, small, 8, n) == _native.BUFFER_TOO_SMALL
    assert n.value > 64  # the head and the record asked for
    with pytest.raises(ValueError, match="1.2.3"):
        loaded.classify("1.2.3")


def test_invalid_ip_code_maps_to_value_error() -> None:
    with pytest.raises(ValueError, match="1.2.3"):
        _native.check(_native.INVALID_IP, b'invalid IP address "1.2.3": too short')
    with pytest.raises(ClassifierError) as ei:
        _native.check(_native.INTERNAL, b"panic: boom")
    assert ei.value.code == _native.INTERNAL and "boom" in str(ei.value)


def test_batch_error_records_and_partial_status(loaded: Any) -> None:
    data = b"3.5.140.1\t16509\tAMAZON-02\nbad\n\t\n185.220.101.1\tx"
    buf = (ctypes.c_char * 4096)()
    n = ctypes.c_int64(0)
    rc = loaded._lib.classify_batch(loaded._h, data, len(data), buf, 4096, n)
    assert rc == _native.PARTIAL
    lines = bytes(buf[: n.value]).decode().split("\n")
    assert len(lines) == 4
    assert lines[0].split("\t")[:3] == ["3.5.140.1", "cloud", "aws"]
    assert lines[1].startswith("bad\t!error\t")
    assert lines[2].startswith("\t!error\t")
    assert lines[3].startswith("185.220.101.1\t!error\tinvalid asn")


def test_version_mismatch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    lib = _native.load()
    monkeypatch.setattr(_native, "_lib", None)
    monkeypatch.setattr(_native, "__version__", "0.0.0-other")
    with pytest.raises(ClassifierError, match="rebuild"):
        _native.load()
    monkeypatch.setattr(_native, "_lib", lib)


def test_abi_info_is_what_the_package_speaks() -> None:
    """AbiInfo: the ABI version, every status code by name (the same as the
    header's IPC_* defines), the record fields (the IPClassification
    attributes) and the error mark; the loader refuses a library that says
    otherwise."""
    import ctypes
    import dataclasses
    import re

    from ipclassifier import IPClassification, _columns, _native, _wire

    lib = _native.load()
    info = lib.abi_info()
    assert info["abi"] == _native.ABI_VERSION
    assert _native.abi_mismatches(info) == []
    assert tuple(info["fields"]) == _wire.FIELDS
    assert tuple(info["columns"]) == _columns.COLUMNS and info["columns_magic"].encode("latin-1") == _columns.MAGIC
    assert set(_wire.FIELDS) == {f.name for f in dataclasses.fields(IPClassification)}
    header = Path(lib.path).with_suffix(".h").read_text()
    defines = dict(re.findall(r"#define IPC_([A-Z_]+) (-?\d+)", header))
    assert int(defines.pop("ABI_VERSION")) == info["abi"]
    assert {k: int(v) for k, v in defines.items()} == info["codes"]
    assert {v: k for k, v in _native.CODE_NAMES.items()} == info["codes"]
    # What the loader says of a library that disagrees.
    other = dict(info, abi=1, fields=info["fields"][:5], codes=dict(info["codes"], CLOSED=-8), columns=["ip"])
    problems = _native.abi_mismatches(other)
    assert any(f"ABI 1, want {_native.ABI_VERSION}" in p for p in problems)
    assert any("columns ['ip']" in p for p in problems)
    assert any("status CLOSED is -8, want -7" in p for p in problems)
    assert any("record fields" in p for p in problems)
    # A newer library may append fields.
    assert _native.abi_mismatches(dict(info, fields=info["fields"] + ["later"])) == []
    # The export follows the conventions: too small a buffer gets the size needed.
    buf = (ctypes.c_char * 4)(b"x", b"x", b"x", b"x")
    n = ctypes.c_int64(0)
    assert lib.abi_info_(buf, 4, n) == _native.BUFFER_TOO_SMALL
    assert n.value > 4 and bytes(buf) == b"xxxx"
    assert lib.abi_info_(buf, 4, None) == _native.INVALID_ARGUMENT
