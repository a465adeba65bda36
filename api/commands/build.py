"""``tanlu build``: OSM + GTFS + emission factors -> one network artifact."""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from graphs.errors import InputFileError
from graphs.samples import sample_paths

from .. import settings

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("build", help="build a network artifact from OSM and GTFS",
                              description="Build a network artifact (.tanlu) from an OSM extract "
                                          "(.osm.pbf, .osm, .osm.bz2), GTFS feeds and operator "
                                          "line tables (--lines/--headways).")
    p.add_argument("--osm", help="OpenStreetMap extract")
    p.add_argument("--gtfs", action="append", default=[], help="GTFS zip (repeat for several)")
    p.add_argument("--lines", action="append", default=[], metavar="LINES.csv",
                   help="operator line table (CSV or .xlsx; repeat, each with its --headways)")
    p.add_argument("--headways", action="append", default=[], metavar="HEADWAYS.csv",
                   help="headway table of the --lines given at the same position")
    p.add_argument("--crs", default="wgs84",
                   help="coordinate system of the line tables' lon/lat: wgs84, gcj02, bd09")
    p.add_argument("--encoding", help="text encoding of CSV line tables "
                                      "(default: detect UTF-8, UTF-8 with BOM, GB18030/GBK)")
    p.add_argument("--timezone", help="IANA timezone of the line tables' times when no GTFS "
                                      "feed gives one (default Asia/Shanghai)")
    p.add_argument("--sample", help="build a sample city from TANLU_SAMPLE_DIR "
                                    "(porto-alegre, poa-in-wuxi, sao-paulo) instead of "
                                    "--osm/--gtfs")
    p.add_argument("--sample-dir", help="sample data folder (default: $TANLU_SAMPLE_DIR)")
    p.add_argument("--factors", default="cn",
                   help="emission factor table: a preset (cn, uk, uk-2025, fr-ademe) or a TOML path")
    p.add_argument("--grid", default=None,
                   help="electricity grid of the table (cn: national, north_china, northeast, "
                        "east_china, central_china, northwest, south, southwest); "
                        "electricity-derived factors are re-derived from it")
    p.add_argument("--gbfs", metavar="DIR_OR_URL",
                   help="bike-share snapshot baked into the artifact for shared bikes: a folder "
                        "of GBFS 2.3/3.0 files or a gbfs.json URL (its availability then stands "
                        "for every query's; `tanlu serve --gbfs` polls a live feed instead)")
    p.add_argument("--out", required=True, help="artifact to write, e.g. city.tanlu")
    p.add_argument("--walk-speed-kph", type=float, default=None)
    p.add_argument("--bike-speed-kph", type=float, default=None)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from graphs.build import build_network

    osm, gtfs = _inputs(args)
    _check_out(args.out)
    options = {k: v for k, v in (("walk_speed_kph", args.walk_speed_kph),
                                 ("bike_speed_kph", args.bike_speed_kph)) if v is not None}
    for name, value in options.items():
        if not 0 < value <= 60:
            raise InputFileError(f"--{name.replace('_', '-')} must be in (0, 60], got {value}",
                                 field=name)
    tables = read_line_table_args(args.lines, args.headways, crs=args.crs,
                                  encoding=args.encoding)
    if args.timezone is not None:
        check_timezone(args.timezone)
    gbfs_files = _gbfs_files(args.gbfs) if args.gbfs else None
    network = build_network(osm_path=osm, gtfs_paths=gtfs, line_tables=tables,
                            lines_timezone=args.timezone,
                            factors=args.factors, grid=args.grid, out_path=args.out,
                            progress=not args.quiet, gbfs_files=gbfs_files, **options)
    m = network.manifest
    layers = ", ".join(f"{n} {l.n_nodes:,} nodes/{l.n_edges:,} edges"
                       for n, l in network.streets.items())
    stops = network.timetable.n_stops if network.timetable is not None else 0
    trips = network.timetable.n_trips if network.timetable is not None else 0
    shared = m.get("gbfs")
    bikes = (f"; GBFS {shared['version']} of {shared['last_updated']}: {shared['stations']} "
             f"stations, {shared['vehicles']} vehicles" if shared else "")
    print(f"wrote {args.out}: {layers}; {stops:,} stops, {trips:,} trips; "
          f"factors {m['factor_table']}, grid {m['grid']}{bikes}; {m['build_seconds']} s",
          file=sys.stderr)
    return 0


def _gbfs_files(location: str) -> dict[str, bytes]:
    """The GBFS files at ``location``, validated before the (long) build starts.

    Raises
    ------
    GbfsError
        Unreadable or invalid.
    """
    from graphs.gbfs import gbfs_from_documents

    from ..gbfs_live import fetch_gbfs_documents

    files = fetch_gbfs_documents(location)
    gbfs_from_documents(files)
    return files


def read_line_table_args(lines: list[str], headways: list[str], *, crs: str,
                         encoding: str | None):
    """Validated line tables of repeated ``--lines``/``--headways`` options, paired by order.

    Raises
    ------
    InputFileError
        If the counts differ, or (LineTableError, CrsError) a table or the crs is bad.
    """
    from graphs.crs import parse_crs
    from graphs.line_tables import read_line_tables

    if len(lines) != len(headways):
        raise InputFileError(f"give one --headways for each --lines ({len(lines)} --lines, "
                             f"{len(headways)} --headways)", field="headways")
    system = parse_crs(crs)
    return [read_line_tables(l, h, crs=system, encoding=encoding)
            for l, h in zip(lines, headways)]


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA timezone.

    Raises
    ------
    InputFileError
        Naming the option otherwise.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputFileError(f"--timezone {name!r} is not an IANA timezone (e.g. Asia/Shanghai)",
                             field="timezone") from None
    return name


def _check_out(out: str) -> None:
    """Fail before a long build if the artifact could not be written afterwards."""
    path = Path(out)
    if path.is_dir():
        raise InputFileError(f"--out {out} is a folder; give a file name, e.g. city.tanlu",
                             field="out")
    folder = path.parent
    if not folder.is_dir():
        raise InputFileError(f"--out {out}: folder {folder} does not exist", field="out")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise InputFileError(f"--out {out}: cannot write in {folder} ({err.strerror})",
                             field="out") from err


def _inputs(args: argparse.Namespace):
    if args.sample:
        if args.osm or args.gtfs or args.lines:
            raise InputFileError("give either --sample or --osm/--gtfs/--lines, not both",
                                 field="sample")
        folder = settings.sample_dir(args.sample_dir)
        if folder is None:
            raise InputFileError("--sample needs the sample data folder: set TANLU_SAMPLE_DIR "
                                 "or pass --sample-dir", field="sample-dir")
        osm, gtfs = sample_paths(args.sample, folder)
        if osm is None:
            raise InputFileError(f"sample {args.sample} has no street extract; "
                                 "pass --osm with one", field="osm")
        return osm, gtfs
    if not args.osm:
        raise InputFileError("--osm is required (or --sample NAME)", field="osm")
    return args.osm, args.gtfs
