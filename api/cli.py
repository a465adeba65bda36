"""The ``tanlu`` command line: one sub-command per module in ``api.commands``.

Every expected failure (bad input, corrupt artifact, no route) ends with a one-line message on
stderr and exit code 2; only bugs produce a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from graphs.errors import TanluError

__all__ = ["EXIT_USAGE", "build_parser", "main"]

EXIT_USAGE = 2
_COMMANDS = ("build", "inspect", "export", "sample", "plan", "reach", "serve", "audit", "lines")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="tanlu", description="Lowest-carbon trip planning with carbon-inclusion points.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMANDS:
        importlib.import_module(f"api.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TanluError as err:
        print(f"tanlu {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"tanlu {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`tanlu plan ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
