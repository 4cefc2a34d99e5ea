"""cowrieprocessor integration: enrichment Pass 4, the bulk-loader hook and
the backfill of ``session_summaries.snapshot_ip_type``.

    pip install 'ipclassifier[cowrie]'      # SQLAlchemy 2, psycopg2, tqdm

Three entry points, one set of rules:

* :class:`IPClassificationPass` — Pass 4 of the CascadeEnricher
  (:mod:`.enrichment`).
* :func:`fill_snapshot_ip_types` — the bulk loader's hook
  (:mod:`.enrichment`).
* :func:`backfill` — every ``ip_inventory`` row classified and every
  session typed, with set-based SQL (:mod:`.backfill_job`, SQLAlchemy).

Also here: :mod:`.demo_db` (a realistic cowrieprocessor database) and
:mod:`.cli` (the ``backfill`` and ``demo-db`` commands of
``python -m ipclassifier``).

Pass 4 and the loader hook are plain Python: ``import ipclassifier.cowrie``
works without SQLAlchemy, which is imported the first time a backfill name
(``backfill``, ``BackfillReport``, ``database_url``, …) is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, List

from ..classifier import classification_disabled
from .enrichment import (
    CLASSIFIED,
    DEFAULT_MAX_AGE,
    DISABLED,
    ENRICHMENT_KEY,
    FAILED,
    FRESH,
    INVALID,
    NO_IP,
    UNKNOWN,
    AsnInputs,
    IPClassificationPass,
    PassResult,
    SnapshotFill,
    asn_inputs,
    classification_record,
    fill_snapshot_ip_types,
    is_fresh,
    stored_ip_type,
)

if TYPE_CHECKING:  # pragma: no cover
    from .backfill_job import (
        BackfillError,
        BackfillProgress,
        BackfillReport,
        backfill,
        database_url,
        format_report,
    )

# Names of .backfill_job, imported on first use (they need SQLAlchemy).
_BACKFILL_NAMES = frozenset(
    {"BackfillError", "BackfillProgress", "BackfillReport", "backfill", "database_url", "format_report"}
)

__all__ = [
    "ENRICHMENT_KEY",
    "DEFAULT_MAX_AGE",
    "UNKNOWN",
    "CLASSIFIED",
    "FRESH",
    "DISABLED",
    "FAILED",
    "INVALID",
    "NO_IP",
    "classification_disabled",
    "AsnInputs",
    "asn_inputs",
    "classification_record",
    "is_fresh",
    "stored_ip_type",
    "PassResult",
    "IPClassificationPass",
    "SnapshotFill",
    "fill_snapshot_ip_types",
    "BackfillError",
    "BackfillProgress",
    "BackfillReport",
    "backfill",
    "database_url",
    "format_report",
]


def __getattr__(name: str) -> Any:
    if name in _BACKFILL_NAMES:
        value = getattr(importlib.import_module(".backfill_job", __name__), name)
        globals()[name] = value  # the next lookup is a plain attribute
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> List[str]:
    return sorted(set(globals()) | _BACKFILL_NAMES)
