"""Build a network artifact from OSM, GTFS feeds and an emission factor table."""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .artifact import FORMAT_VERSION, save_network
from .errors import LineTableError
from .factors import DEFAULT_FACTOR_TABLE, load_factor_table
from .feed_merge import merge_feeds
from .hashing import file_sha256
from .line_tables import (
    DEFAULT_TIMEZONE,
    VALID_FROM,
    VALID_TO,
    LineTables,
    line_tables_to_gtfs,
    write_gtfs_zip,
)
from .linking import FOOTPATH_MAX_M, LINK_MAX_M
from .network import Network, StreetLayer, Timetable
from .streets import BIKE_SPEED_KPH, WALK_SPEED_KPH, build_streets
from .timetable import CompiledFeed, FactorSource, compile_feeds

__all__ = ["TANLU_VERSION", "build_network"]

TANLU_VERSION = "0.1.0"


# Every input and option of a build, keyword-only (PLR0913).
def build_network(*, osm_path: str | os.PathLike, gtfs_paths: Sequence[str | os.PathLike] = (),  # noqa: PLR0913
                  line_tables: Sequence[LineTables] = (), lines_timezone: str | None = None,
                  factors: str | os.PathLike = DEFAULT_FACTOR_TABLE, grid: str | None = None,
                  out_path: str | os.PathLike | None = None,
                  walk_speed_kph: float = WALK_SPEED_KPH, bike_speed_kph: float = BIKE_SPEED_KPH,
                  max_link_m: float = LINK_MAX_M, footpath_max_m: float = FOOTPATH_MAX_M,
                  progress: bool = False,
                  gbfs_files: Mapping[str, bytes] | None = None) -> Network:
    """Build the street layers, the timetable and the manifest; save them if ``out_path``.

    ``grid`` picks the electricity grid of the factor table (``graphs.factors.grid_names()``);
    every electricity-derived factor is re-derived from it and the grid is recorded.
    ``line_tables`` (read with :func:`graphs.line_tables.read_line_tables`) are turned into
    GTFS feeds once the street layers exist (bus running times follow the car layer) and
    compiled like the ``gtfs_paths`` feeds. Their times are local to the GTFS feeds'
    timezone, else to ``lines_timezone`` (default ``DEFAULT_TIMEZONE``, Asia/Shanghai).
    ``gbfs_files`` (``graphs.gbfs.read_gbfs_documents``) is a bike-share snapshot baked into
    the artifact (validated: ``GbfsError``), with the OSM ``amenity=bicycle_rental`` nodes
    added as stations (``graphs._bikeshare_build``).

    Raises
    ------
    InputFileError
        (or its subclasses OsmError, GtfsError, FactorTableError) naming the bad input.
    """
    started = time.perf_counter()
    table = load_factor_table(factors, grid=grid)
    # Feeds first: a broken feed is reported in seconds, before the slow street step.
    feeds = compile_feeds(list(gtfs_paths), factors=table, progress=progress)
    streets = build_streets(osm_path, walk_speed_kph=walk_speed_kph,
                            bike_speed_kph=bike_speed_kph, progress=progress)
    feeds += _compile_line_tables(line_tables, feeds, streets.layers.get("car"), table,
                                  lines_timezone)
    steps = tqdm(total=2, desc="merging feeds, linking stops", unit=" steps",
                 disable=not progress)
    timetable: Timetable | None = None
    transit_report: dict[str, Any] = {}
    if feeds:
        timetable, transit_report = merge_feeds(
            feeds, walk_layer=streets.layers["walk"],
            walk_speed_mps=walk_speed_kph / 3.6, max_link_m=max_link_m,
            footpath_max_m=footpath_max_m)
    steps.update()
    options = {"walk_speed_kph": walk_speed_kph, "bike_speed_kph": bike_speed_kph,
               "max_link_m": max_link_m, "footpath_max_m": footpath_max_m}
    manifest = {
        "tanlu_version": TANLU_VERSION,
        "format_version": FORMAT_VERSION,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": [_describe_input(osm_path, "osm")]
                  + [_describe_input(p, "gtfs") for p in gtfs_paths]
                  + [_describe_input(p, kind) for t in line_tables
                     for p, kind in ((t.lines_path, "lines"), (t.headways_path, "headways"))],
        "factor_table": table.label,
        "factors": table.to_dict(),
        "grid": None if table.grid is None else table.grid.label,
        "build_options": options,
        "timezone": transit_report.get("timezone", "UTC"),
        "coverage": _coverage(streets.layers["walk"], transit_report),
        "report": {"streets": streets.report, "transit": transit_report,
                   "line_tables": {t.name: {"crs": t.crs.value, "encodings": list(t.encodings),
                                            **t.report} for t in line_tables}},
    }
    manifest["build_seconds"] = round(time.perf_counter() - started, 2)
    if streets.bike_rental:  # OSM bike-share stations join the snapshot (or are one)
        from ._bikeshare_build import with_osm_rentals

        gbfs_files = with_osm_rentals(gbfs_files, streets.bike_rental,
                                      built_at=datetime.now(UTC))
    network = Network(manifest=manifest, streets=dict(streets.layers), timetable=timetable,
                      charging_stations=streets.charging, parkings=streets.parkings,
                      gbfs_files=dict(gbfs_files or {}))
    if network.gbfs is not None:
        manifest["gbfs"] = _describe_gbfs(network.gbfs)
    if out_path is not None:
        steps.set_description(f"writing {Path(out_path).name}")
        save_network(network, out_path)
    steps.update()
    steps.close()
    return network


def _compile_line_tables(line_tables: Sequence[LineTables], feeds: list[CompiledFeed],
                         car_layer: StreetLayer | None,
                         factors: FactorSource, lines_timezone: str | None) -> list[CompiledFeed]:
    """Line tables -> GTFS zips in a scratch folder -> the same compile path as GTFS feeds.

    Raises
    ------
    LineTableError
        If a line table's name (its file stem, the id prefix) is already a feed's name, or
        ``lines_timezone`` differs from the GTFS feeds' timezone.
    """
    if not line_tables:
        return []
    taken = {f.name for f in feeds}
    for t in line_tables:
        if t.name in taken:
            raise LineTableError(f"{t.lines_path}: the line table name {t.name!r} is already "
                                 "used by another feed or line table; rename the file",
                                 path=str(t.lines_path), field="lines")
        taken.add(t.name)
    timezone = feeds[0].report["timezone"] if feeds else lines_timezone or DEFAULT_TIMEZONE
    if lines_timezone is not None and lines_timezone != timezone:
        raise LineTableError(f"line tables' timezone {lines_timezone} differs from the GTFS "
                             f"feeds' {timezone}; a network has one timezone",
                             field="timezone")
    valid = _feed_period(feeds)
    with tempfile.TemporaryDirectory(prefix="tanlu-lines-") as scratch:
        paths = [write_gtfs_zip(line_tables_to_gtfs(t, car_layer=car_layer, timezone=timezone,
                                                    valid=valid),
                                Path(scratch) / f"{t.name}.zip") for t in line_tables]
        return compile_feeds(paths, factors=factors)


def _feed_period(feeds: list[CompiledFeed]) -> tuple[str, str]:
    """(first, last) service date of the GTFS feeds as YYYYMMDD, or the line-table default.

    Line tables carry no validity dates; taking the feeds' period keeps the network's service
    dates (and "date outside the feeds' service dates" notices) those of the real feeds.
    """
    dates = [d for f in feeds
             for d in (*f.calendar["start_date"], *f.calendar["end_date"],
                       *f.calendar_dates["date"])]
    if not dates:
        return VALID_FROM, VALID_TO
    days = np.array(dates, dtype="datetime64[D]")
    return (str(days.min()).replace("-", ""), str(days.max()).replace("-", ""))


def _describe_gbfs(feed) -> dict[str, object]:
    """What the manifest says of a baked GBFS snapshot (``tanlu inspect`` shows it)."""
    return {"version": feed.version, "last_updated": feed.last_updated.isoformat(),
            "files": list(feed.files), "stations": len(feed.stations),
            "vehicles": len(feed.vehicles)}


def _describe_input(path: str | os.PathLike, kind: str) -> dict[str, Any]:
    path = Path(path)
    return {"kind": kind, "name": path.name, "bytes": path.stat().st_size,
            "sha256": file_sha256(path)}


def _coverage(walk: StreetLayer, transit_report: dict[str, Any]) -> dict[str, Any]:
    """Bounding box of the walking network and the service dates of the feeds."""
    bbox = [float(np.min(walk.node_lon)), float(np.min(walk.node_lat)),
            float(np.max(walk.node_lon)), float(np.max(walk.node_lat))]
    return {"bbox": bbox,
            "service_dates": transit_report.get("service_dates"),
            "feeds": sorted(transit_report.get("feeds", {}))}
