"""The exceptions of the engine and the loader (a module of its own so the
codec and the loader share it without importing each other)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Type

# SourceUpdateError is made on first use (module __getattr__, below).
__all__ = ["ClassifierError", "source_update_error"]


class ClassifierError(RuntimeError):
    """An error reported by the Go engine (or the loader). ``code`` is the
    C ABI status code, ``None`` for errors raised on the Python side."""

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message)
        self.code = code


_update_error: Optional[Type[OSError]] = None


def _update_error_class() -> Type[OSError]:
    """SourceUpdateError, made on first use: a subclass of
    ``requests.RequestException`` when requests can be imported (what
    upstream's ``update_all_sources`` documents raising), else of
    ``OSError`` (which RequestException is too). Made lazily so importing
    ipclassifier does not import requests."""
    global _update_error
    if _update_error is None:
        base: Type[OSError] = OSError
        try:
            from requests import RequestException  # type: ignore[import-untyped, unused-ignore]

            base = RequestException
        except ImportError:
            pass

        class SourceUpdateError(base):  # type: ignore[valid-type, misc]
            """update_all_sources(): some source could not be refreshed (its
            previous data stays). ``report`` is the refresh report,
            ``failed`` the report lines of the failed sources."""

            def __init__(self, report: Dict[str, Any]) -> None:
                self.report: Dict[str, Any] = report
                self.failed: List[Dict[str, Any]] = [
                    s for s in report.get("sources") or () if s.get("status") == "failed"
                ]
                names = ", ".join(f"{s.get('source')} ({s.get('error')})" for s in self.failed[:5])
                more = f" and {len(self.failed) - 5} more" if len(self.failed) > 5 else ""
                super().__init__(f"{len(self.failed)} source(s) failed to update: {names}{more}")

        SourceUpdateError.__module__ = "ipclassifier"
        _update_error = SourceUpdateError
    return _update_error


def source_update_error(report: Dict[str, Any]) -> OSError:
    """The SourceUpdateError for a refresh report with failed sources."""
    return _update_error_class()(report)


def __getattr__(name: str) -> Any:
    if name == "SourceUpdateError":
        return _update_error_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
