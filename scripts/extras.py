#!/usr/bin/env python3
"""Print the pip arguments that install extras of pyproject.toml, so
``make deps`` and .ci/run install from the one list there.

    python scripts/extras.py test lint            # the requirements still missing (nothing when all are there)
    python scripts/extras.py --all test           # every requirement of the extras

``make deps`` runs ``pip install $(python scripts/extras.py test lint)``
when the output is not empty. Without a TOML reader (Python < 3.11 and no
``tomli``) it prints ``-e .[test,lint]``: pip then reads pyproject.toml
itself (and builds the package).

A requirement counts as installed when a distribution of that name is
(and, when ``packaging`` is importable, its version matches).
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _load() -> Dict[str, Any]:
    try:
        import tomllib as toml  # Python 3.11+
    except ImportError:
        import tomli as toml  # type: ignore[no-redef]
    with PYPROJECT.open("rb") as f:
        data: Dict[str, Any] = toml.load(f)
    return data


def _installed(requirement: str) -> bool:
    try:
        from packaging.requirements import Requirement
    except ImportError:  # name only
        name = requirement
        for sep in "<>=!~;[ ":
            name = name.split(sep, 1)[0]
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            return False
        return True
    req = Requirement(requirement)
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        return False
    return req.specifier.contains(version, prereleases=True)


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("extras", nargs="+", help="extras of [project.optional-dependencies]")
    ap.add_argument("--all", action="store_true", help="every requirement, installed or not")
    args = ap.parse_args(argv)
    try:
        optional = _load()["project"]["optional-dependencies"]
    except ImportError:
        print(f"-e .[{','.join(args.extras)}]")
        return 0
    wanted: List[str] = []
    for extra in args.extras:
        if extra not in optional:
            print(f"extras.py: pyproject.toml has no extra {extra!r} (it has {', '.join(sorted(optional))})",
                  file=sys.stderr)  # fmt: skip
            return 2
        wanted.extend(r for r in optional[extra] if r not in wanted)
    print(" ".join(r for r in wanted if args.all or not _installed(r)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
