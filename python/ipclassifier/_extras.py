"""Optional dependencies, named by the pip extra that installs them.

The core package (loader, classifier, types, the classify/refresh/stats/
cache commands) needs nothing outside the standard library. The rest is
behind extras of the distribution (pyproject.toml):

* ``cowrie`` — the cowrieprocessor backfill and demo database (SQLAlchemy 2,
  psycopg2; tqdm for the progress bar)
* ``metrics`` — the Prometheus exposition (prometheus_client)
* ``validate`` — ``validate --plot`` (matplotlib)

:func:`require` imports what a feature needs or raises :class:`MissingExtra`
saying which extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingExtra", "require"]


class MissingExtra(ImportError):
    """A feature's optional dependency is not installed. The message says
    which ``pip install 'ipclassifier[EXTRA]'`` brings it."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs the {extra!r} extra ({module} is not installed): pip install 'ipclassifier[{extra}]'",
            name=module,
        )
        self.feature = feature
        self.extra = extra
        self.module = module


def require(feature: str, extra: str, module: str) -> ModuleType:
    """Import ``module`` for ``feature``, or raise :class:`MissingExtra`
    naming ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingExtra(feature, extra, module) from e
