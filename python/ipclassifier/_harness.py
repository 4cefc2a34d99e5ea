"""Run the evaluation harness, a Go program of its own
(``_lib/ipclassifier-validate``, built by build.sh from
classifier/validate/cmd/ipclassifier-validate): the library a host loads
carries none of it. The program measures an engine it opens from the
configuration it is given (the same data directory and cache tiers the
caller's classifier uses), or none for a real-data folder or AS-name runs.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
from typing import Any, Dict, Mapping, Optional

from ._native import INVALID_ARGUMENT, ClassifierError, built_file

__all__ = ["PROGRAM_NAME", "PROGRAM_ENV", "program_path", "needs_classifier", "run"]

PROGRAM_NAME = "ipclassifier-validate"
PROGRAM_ENV = "IPCLASSIFIER_VALIDATE_PROGRAM"


def program_path() -> str:
    """Where the program is: $IPCLASSIFIER_VALIDATE_PROGRAM, else the copy
    inside the package."""
    return built_file(PROGRAM_NAME, PROGRAM_ENV)


def needs_classifier(spec: Mapping[str, Any]) -> bool:
    """Whether measuring ``spec`` needs a classifier of the caller's: it does
    for labelled CSVs (``truth``), address lists (``addresses``) and
    ``samplers``, unless ``real_data``
    names a folder (measured with an engine of its own); ``asn_names`` runs
    score names alone. (validate.Spec.NeedsEngine in Go, which decides:
    this only lets a caller skip building a configuration.)"""
    return not spec.get("real_data") and bool(spec.get("truth") or spec.get("addresses") or spec.get("samplers"))


def run(spec: Mapping[str, Any], config: Optional[Mapping[str, Any]] = None, refresh: bool = False) -> Dict[str, Any]:
    """Measure as ``spec`` says (classifier/validate.Spec as a mapping) and
    return the outcome: ``report`` (per type, provider and origin;
    ``confusion``), ``asn_names``, ``targets``, ``targets_missed`` and
    ``markdown`` (all of it, rendered).

    ``config`` is the engine configuration (:func:`ipclassifier.build_config`,
    or a classifier's ``config``) of the engine to measure, for specs that
    need one (:func:`needs_classifier`); ``refresh`` refreshes its sources
    first. Warnings of the program (a failed source) are returned in
    ``outcome["warnings"]``.

    Raises:
        ClassifierError: a bad spec or an unreadable file it names (code
            INVALID_ARGUMENT), or a failed measurement (code None).
    """
    args = [program_path()]
    with contextlib.ExitStack() as stack:
        if config is not None:
            f = stack.enter_context(tempfile.NamedTemporaryFile("w", suffix=".json", prefix="ipclassifier-config-"))
            json.dump(dict(config), f)
            f.flush()
            args += ["-config", f.name]
        if refresh:
            args.append("-refresh")
        args.append("-")
        p = subprocess.run(args, input=json.dumps(dict(spec)), capture_output=True, text=True, check=False)
    message = p.stderr.strip().removeprefix(f"{PROGRAM_NAME}: ")
    if p.returncode == 2:
        raise ClassifierError(message, INVALID_ARGUMENT)
    if p.returncode != 0:
        raise ClassifierError(message or f"{PROGRAM_NAME} exited with status {p.returncode}")
    outcome: Dict[str, Any] = json.loads(p.stdout)
    warnings = [line.removeprefix("warning: ") for line in p.stderr.splitlines() if line.startswith("warning: ")]
    if warnings:
        outcome["warnings"] = warnings
    return outcome
