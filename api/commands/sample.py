"""``tanlu sample``: list sample cities, or download one from its public source."""
from __future__ import annotations

import argparse
import sys

from graphs.errors import InputFileError
from graphs.samples import SAMPLES, fetch_sample

from .. import settings

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sample", help="list or download sample cities")
    p.add_argument("action", choices=("list", "fetch"))
    p.add_argument("name", nargs="?", help="sample city (for fetch)")
    p.add_argument("--dest", help="folder to download into (default: $TANLU_SAMPLE_DIR)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        for city in SAMPLES.values():
            print(f"{city.name:14} {city.description} (runs {city.date})")
        return 0
    if not args.name:
        raise InputFileError("sample fetch needs a city name", field="name")
    dest = settings.sample_dir(args.dest)
    if dest is None:
        raise InputFileError("sample fetch needs --dest or TANLU_SAMPLE_DIR", field="dest")
    for path in fetch_sample(args.name, dest):
        print(f"ok {path}", file=sys.stderr)
    return 0
