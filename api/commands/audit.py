"""``tanlu audit``: recompute emissions, savings, points and plausibility of recorded trips."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audit.errors import AuditInputError
from audit.evaluate import DEFAULT_RULES
from audit.runner import CHUNK_SIZE
from audit.traces import CRS_NAMES

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "audit", help="audit recorded trips: CO2e, savings, points due, plausibility flags",
        description="Audit recorded trips (CSV or parquet, schema in docs/audit.md) against a "
                    "network: one result row per trip, bad rows to an errors file.")
    p.add_argument("trips", help="recorded trips, .csv or .parquet")
    p.add_argument("--network", required=True, help="artifact written by `tanlu build`")
    p.add_argument("--out", required=True, help="results to write (.parquet)")
    p.add_argument("--errors", help="error rows (.csv or .parquet; default <out>.errors.csv)")
    p.add_argument("--report", help="small HTML report with charts")
    p.add_argument("--summary", help="summary JSON")
    p.add_argument("--rules", default=DEFAULT_RULES,
                   help="points rules: a preset (default, flat_per_ride, hubei-tantan, "
                        "zhengzhou, shenzhen-per-km) or a TOML path")
    p.add_argument("--methodology", default=None,
                   help="carbon-accounting methodology: a preset (tanlu-car, shenzhen-2021, ...) "
                        "or a TOML path (default tanlu-car)")
    p.add_argument("--chunk-size", type=int, default=CHUNK_SIZE,
                   help=f"input rows per unit of work and of resume (default {CHUNK_SIZE})")
    p.add_argument("--workers", type=int, default=None,
                   help="local processes (default: every core; 1 = no pool)")
    p.add_argument("--scheduler", help="run on a Dask cluster: tcp://HOST:PORT")
    p.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="reuse finished chunks of an interrupted run (default: yes)")
    p.add_argument("--traces", help="GPS fixes of the trips (.csv, .parquet or .gpx: trip_id, "
                                    "time, lat, lon[, accuracy]): audit on evidence")
    p.add_argument("--taps", help="transit-card taps (.csv or .parquet: card_id, time, "
                                  "stop_id and/or route_id)")
    p.add_argument("--crs", choices=CRS_NAMES, default="wgs84",
                   help="coordinate system of --traces and of the trips' origin/dest columns, "
                        "in and out (the results' columns are in it too; default wgs84)")
    p.add_argument("--realtime", action="append", default=[], metavar="FEED=FILE",
                   help="archived GTFS-Realtime snapshot of the network's GTFS feed FEED: "
                        "claims are checked against what ran (applied before evaluating); "
                        "repeatable")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from audit.report import summarize, write_report, write_summary
    from audit.runner import run_audit

    if args.chunk_size < 1:
        raise AuditInputError(f"--chunk-size must be >= 1, got {args.chunk_size}",
                              field="chunk-size")
    if args.workers is not None and args.workers < 1:
        raise AuditInputError(f"--workers must be >= 1, got {args.workers}", field="workers")
    if args.scheduler and not args.scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise AuditInputError(f"--scheduler must look like tcp://HOST:PORT, got {args.scheduler!r}",
                              field="scheduler")
    from graphs.artifact import read_manifest
    from planner.methodology import methodology_of

    method = methodology_of(args.methodology)
    method.require_usable()
    manifest = read_manifest(args.network)
    realtime = _realtime_snapshots(args.realtime)
    outcome = run_audit(args.trips, args.network, args.out, rules=args.rules,
                        methodology=args.methodology, realtime=realtime,
                        errors_path=args.errors, chunk_size=args.chunk_size,
                        workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                        progress=not args.quiet, traces=args.traces, taps=args.taps,
                        crs=args.crs)
    about = {"trips": Path(args.trips).name, "network": Path(args.network).name,
             "factor table": manifest.get("factor_table"), "grid": manifest.get("grid") or "-",
             "methodology": method.label, "rules": args.rules, "crs": args.crs}
    summary = summarize(outcome.results, outcome.errors, n_rows=outcome.n_rows, about=about)
    if outcome.evidence_intake:
        summary.setdefault("evidence", {})["intake"] = dict(outcome.evidence_intake)
    if args.summary:
        write_summary(summary, args.summary)
    if args.report:
        write_report(summary, args.report)
    reused = f", {outcome.chunks_reused} of {outcome.chunks_total} chunks resumed" \
        if outcome.chunks_reused else ""
    print(f"audited {outcome.n_rows:,} rows: {len(outcome.results):,} trips "
          f"({summary['flagged']['count']:,} flagged), {len(outcome.errors):,} error rows "
          f"-> {outcome.results_path}, {outcome.errors_path}{reused}", file=sys.stderr)
    if outcome.evidence_intake:
        print("evidence: " + ", ".join(f"{k.replace('_', ' ')} {v:,}"
                                       for k, v in outcome.evidence_intake.items()),
              file=sys.stderr)
    return 0


def _realtime_snapshots(specs: list[str]) -> tuple[tuple[str, bytes], ...]:
    """``FEED=FILE`` snapshots, read and decoded now so a bad file ends the command (exit 2)."""
    from planner.realtime import decode_feed

    from ..realtime import fetch_feed_bytes, parse_realtime_specs

    out = []
    for source in parse_realtime_specs(specs):
        if source.city is not None:
            raise AuditInputError(f"--realtime: expected FEED=FILE, got {source.city}:...",
                                  field="realtime")
        data = fetch_feed_bytes(source.location)
        decode_feed(source.feed, data)
        out.append((source.feed, data))
    return tuple(out)
