"""``tanlu inspect``: print what a network artifact holds."""
from __future__ import annotations

import argparse
import json

from graphs.artifact import read_manifest

__all__ = ["add_parser", "run", "summarize_manifest"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("inspect", help="show what a network artifact contains")
    p.add_argument("network", help="artifact written by `tanlu build`")
    p.add_argument("--json", action="store_true", help="print the whole manifest as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    manifest = read_manifest(args.network)
    if args.json:
        print(json.dumps(manifest, indent=2, ensure_ascii=False))
    else:
        print(summarize_manifest(manifest))
    return 0


def summarize_manifest(manifest: dict) -> str:
    """A short human-readable summary of an artifact's manifest."""
    cov = manifest.get("coverage", {})
    lines = [f"tanlu network (format {manifest['format_version']}, "
             f"tanlu {manifest.get('tanlu_version')}, built {manifest.get('built_at')})",
             f"factor table: {manifest.get('factor_table')}",
             f"timezone: {manifest.get('timezone')}",
             f"bbox (lon/lat): {cov.get('bbox')}",
             f"service dates: {cov.get('service_dates')}",
             "inputs:"]
    lines += [f"  {i['kind']:5} {i['name']}  {i['bytes']:,} B  sha256 {i['sha256'][:16]}…"
              for i in manifest.get("inputs", [])]
    lines.append("build options: " + ", ".join(f"{k}={v}" for k, v in
                                              manifest.get("build_options", {}).items()))
    report = manifest.get("report", {})
    for section, values in report.items():
        flat = {k: v for k, v in (values or {}).items() if isinstance(v, (int, float, str))}
        if flat:
            lines.append(f"{section}: " + ", ".join(f"{k}={v}" for k, v in flat.items()))
    return "\n".join(lines)
