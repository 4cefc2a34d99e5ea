"""Command line: ``python -m ipclassifier`` (or ``ipclassifier``).

    ipclassifier [global options] classify IP... | -   [--format table|jsonl|csv] [--refresh]
    ipclassifier [global options] refresh [tor|cloud|datacenter|asn|all] [--force] [--summary]
    ipclassifier [global options] stats [--format json|prom]
    ipclassifier [global options] cache stats|cleanup|clear [--type TYPE]
    ipclassifier [global options] backfill --db URL …     (the cowrie extra)
    ipclassifier demo-db --db URL …                        (the cowrie extra)
    ipclassifier [global options] validate …               (--plot: the validate extra)

The core commands are :mod:`.commands`. The others come from command
modules found by name (:data:`COMMAND_MODULES`): each has a
``register(subparsers)`` that adds its parsers, every parser carrying
``set_defaults(run=handler)`` with ``handler(args, streams) -> exit
status`` (:class:`.options.Streams`). A command module imports only the
standard library and the core package, and checks its extra's packages
when it runs; a module that cannot be imported at all still answers for
its commands, saying which extra to install, instead of the whole command
line failing.

Exit status: 0 success; 1 an error (a missing extra included); 2 a usage
error; 130 interrupted. See each module for its own.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any, Optional, Sequence, TextIO, Tuple

from .._extras import MissingExtra
from .._native import ClassifierError
from .._version import __version__
from . import commands
from .options import Streams, add_global_options

__all__ = ["COMMAND_MODULES", "build_parser", "main", "main_exit"]

#: Optional command modules: (importlib name, the pip extra their
#: dependencies come from, the commands they add — named here so they can
#: answer even when the module cannot be imported).
COMMAND_MODULES: Tuple[Tuple[str, str, Tuple[str, ...]], ...] = (
    ("ipclassifier.cowrie.cli", "cowrie", ("backfill", "demo-db")),
    ("ipclassifier.validate.cli", "validate", ("validate",)),
)


def build_parser() -> argparse.ArgumentParser:
    """The ``ipclassifier`` parser: global options, the core commands and
    every command module's."""
    parser = argparse.ArgumentParser(
        prog="ipclassifier",
        description="Label IP addresses as tor, cloud, datacenter, residential or unknown.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    commands.register(sub)
    for module, extra, names in COMMAND_MODULES:
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            for name in names:
                _register_unavailable(sub, name, module, extra, e)
            continue
        mod.register(sub)
    return parser


def _register_unavailable(sub: Any, name: str, module: str, extra: str, error: ImportError) -> None:
    """A stand-in for a command whose module cannot be imported: it takes
    any arguments and says what to install."""
    why = f"{error.name} is not installed" if error.name and error.name != module else str(error)
    message = f"the {name} command is unavailable ({module}: {why}): pip install 'ipclassifier[{extra}]'"

    def run(args: argparse.Namespace, io: Streams) -> int:
        io.err.write(f"ipclassifier {name}: error: {message}\n")
        return 1

    p = sub.add_parser(name, help=f"(unavailable: pip install 'ipclassifier[{extra}]')", add_help=False)
    p.set_defaults(run=run, unavailable=True)


def main(argv: Optional[Sequence[str]] = None, stdin: Optional[TextIO] = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "unavailable", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    check = getattr(args, "check", None)
    problem: Optional[str] = check(args) if check is not None else None
    if problem:
        parser.error(problem)
    io = Streams(out=sys.stdout, err=sys.stderr, stdin=stdin or sys.stdin)
    try:
        return int(args.run(args, io))
    except BrokenPipeError:  # pragma: no cover - e.g. `| head`
        return 0
    except MissingExtra as e:
        io.err.write(f"ipclassifier {args.command}: error: {e}\n")
        return 1
    except (ClassifierError, ValueError, OSError) as e:
        io.err.write(f"ipclassifier: error: {e}\n")
        return 1
    except KeyboardInterrupt:
        return 130


def main_exit() -> None:
    """Console-script entry point."""
    sys.exit(main())
