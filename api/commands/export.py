"""``tanlu export``: write a network's layers to GeoPackage or GeoJSON for QGIS."""
from __future__ import annotations

import argparse
import sys

from graphs.artifact import load_network
from graphs.errors import InputFileError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("export", help="export layers to GeoPackage (.gpkg) or GeoJSON")
    p.add_argument("network", help="artifact written by `tanlu build`")
    p.add_argument("--out", required=True, help="output .gpkg or .geojson path")
    p.add_argument("--crs", default="wgs84",
                   help="coordinate system of the written geometries: wgs84 (default, tagged "
                        "EPSG:4326), gcj02 or bd09 (no EPSG code: written without a CRS)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from graphs.export import export_network

    if not args.out.endswith((".gpkg", ".geojson")):
        raise InputFileError("--out must end in .gpkg or .geojson", field="out")
    from graphs.crs import parse_crs

    crs = parse_crs(args.crs)  # CrsError (a TanluError): one line, exit 2
    written = export_network(load_network(args.network), args.out, crs=crs)
    for path in written or [args.out]:
        print(f"wrote {path}", file=sys.stderr)
    return 0
