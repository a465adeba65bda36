"""``tanlu lines``: operator line tables -> a GTFS zip, to see what tanlu understood."""
from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("lines", help="convert operator line tables to GTFS",
                              description="Operator line tables (lines + headways, CSV or "
                                          ".xlsx, English or Chinese headers) as a GTFS zip.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    to_gtfs = actions.add_parser("to-gtfs", help="write the line tables as a GTFS zip")
    to_gtfs.add_argument("lines", help="line table: line_id/线路, stop_seq/站序, lon/经度 ...")
    to_gtfs.add_argument("headways", help="headway table: line_id, direction, days, "
                                          "start_time, end_time, headway_min")
    to_gtfs.add_argument("--crs", default="wgs84",
                         help="coordinate system of lon/lat: wgs84, gcj02, bd09 "
                              "(the GTFS is always WGS-84)")
    to_gtfs.add_argument("--encoding", help="CSV text encoding (default: detect)")
    to_gtfs.add_argument("--timezone", default=None,
                         help="agency timezone of the feed (default Asia/Shanghai)")
    to_gtfs.add_argument("--out", required=True, help="GTFS zip to write")
    to_gtfs.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from graphs.line_tables import DEFAULT_TIMEZONE, line_tables_to_gtfs, write_gtfs_zip

    from .build import check_timezone, read_line_table_args

    timezone = check_timezone(args.timezone or DEFAULT_TIMEZONE)
    (tables,) = read_line_table_args([args.lines], [args.headways], crs=args.crs,
                                     encoding=args.encoding)
    gtfs = line_tables_to_gtfs(tables, timezone=timezone)
    write_gtfs_zip(gtfs, args.out)
    hops = ", ".join(f"{k} {v}" for k, v in tables.report["hop_time_sources"].items())
    print(f"wrote {args.out}: {len(gtfs['stops.txt'])} stops, {len(gtfs['routes.txt'])} "
          f"lines, {len(gtfs['trips.txt'])} headway bands; hop times: {hops}", file=sys.stderr)
    return 0
