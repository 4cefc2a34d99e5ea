"""The exception of the engine and the loader (a module of its own so the
codec and the loader share it without importing each other)."""

from __future__ import annotations

from typing import Optional

__all__ = ["ClassifierError"]


class ClassifierError(RuntimeError):
    """An error reported by the Go engine (or the loader). ``code`` is the
    C ABI status code, ``None`` for errors raised on the Python side."""

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message)
        self.code = code
