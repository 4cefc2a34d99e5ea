"""ipclassifier: label IP addresses as tor, cloud, datacenter, residential or
unknown, in-process, with the Go engine loaded through ctypes.

    >>> from ipclassifier import create_ip_classifier
    >>> with create_ip_classifier(data_dir="/tmp/ipc") as c:   # doctest: +SKIP
    ...     c.update_all_sources()
    ...     c.classify("52.94.76.1").ip_type
    <IPType.CLOUD: 'cloud'>

The library (libipclassifier.so) is loaded on first use, not at import.
"""

from typing import Any

from ._columns import Columns
from ._native import ClassifierError
from ._version import __version__
from .classifier import (
    UPSTREAM_CLOUD_PROVIDERS,
    IPClassifier,
    build_config,
    classification_disabled,
    create_ip_classifier,
)
from .types import CacheClearReport, Evidence, IPClassification, IPType

__all__ = [
    "IPType",
    "IPClassification",
    "IPClassifier",
    "Columns",
    "create_ip_classifier",
    "build_config",
    "classification_disabled",
    "ClassifierError",
    "CacheClearReport",
    "Evidence",
    "SourceUpdateError",
    "UPSTREAM_CLOUD_PROVIDERS",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # SourceUpdateError subclasses requests.RequestException when requests
    # is installed: made on first use, so that importing ipclassifier does
    # not import requests.
    if name == "SourceUpdateError":
        from . import _errors

        return _errors.SourceUpdateError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
