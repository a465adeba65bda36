"""Build a network artifact from OSM, GTFS feeds and an emission factor table."""
from __future__ import annotations

import multiprocessing as mp
import os
import time
import warnings
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .artifact import FORMAT_VERSION, save_network
from .factors import DEFAULT_FACTOR_TABLE, load_factor_table
from .network import Network, StreetLayer
from .hashing import file_sha256
from .streets import BIKE_SPEED_KPH, WALK_SPEED_KPH, StreetsResult, build_streets
from .linking import FOOTPATH_MAX_M, LINK_MAX_M
from .feed_merge import merge_feeds
from .timetable import compile_feeds

__all__ = ["build_network", "TANLU_VERSION"]

TANLU_VERSION = "0.1.0"


def build_network(*, osm_path: str | os.PathLike, gtfs_paths: Sequence[str | os.PathLike] = (),
                  factors: str | os.PathLike = DEFAULT_FACTOR_TABLE,
                  out_path: str | os.PathLike | None = None,
                  walk_speed_kph: float = WALK_SPEED_KPH, bike_speed_kph: float = BIKE_SPEED_KPH,
                  max_link_m: float = LINK_MAX_M, footpath_max_m: float = FOOTPATH_MAX_M,
                  progress: bool = False) -> Network:
    """Build the street layers, the timetable and the manifest; save them if ``out_path``.

    Raises
    ------
    InputFileError
        (or its subclasses OsmError, GtfsError, FactorTableError) naming the bad input.
    """
    started = time.perf_counter()
    table = load_factor_table(factors)
    street_options = {"walk_speed_kph": walk_speed_kph, "bike_speed_kph": bike_speed_kph}
    background = _start_streets(osm_path, street_options) if gtfs_paths and not progress else None
    try:  # feeds first (or beside the streets): a broken feed is reported before streets end
        feeds = compile_feeds(list(gtfs_paths), factors=table, progress=progress)
    except BaseException:
        if background is not None:
            background.cancel()
        raise
    streets = _finish_streets(background, osm_path, street_options, progress=progress)
    steps = tqdm(total=2, desc="merging feeds, linking stops", unit=" steps",
                 disable=not progress)
    timetable, transit_report = None, {}
    if feeds:
        timetable, transit_report = merge_feeds(
            feeds, factors=table, walk_layer=streets.layers["walk"],
            walk_speed_mps=walk_speed_kph / 3.6, max_link_m=max_link_m,
            footpath_max_m=footpath_max_m)
    steps.update()
    options = {"walk_speed_kph": walk_speed_kph, "bike_speed_kph": bike_speed_kph,
               "max_link_m": max_link_m, "footpath_max_m": footpath_max_m}
    manifest = {
        "tanlu_version": TANLU_VERSION,
        "format_version": FORMAT_VERSION,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "inputs": [_describe_input(osm_path, "osm")]
                  + [_describe_input(p, "gtfs") for p in gtfs_paths],
        "factor_table": table.label,
        "factors": table.to_dict(),
        "build_options": options,
        "timezone": transit_report.get("timezone", "UTC"),
        "coverage": _coverage(streets.layers["walk"], transit_report),
        "report": {"streets": streets.report, "transit": transit_report},
    }
    manifest["build_seconds"] = round(time.perf_counter() - started, 2)
    network = Network(manifest=manifest, streets=dict(streets.layers), timetable=timetable,
                      charging_stations=streets.charging)
    if out_path is not None:
        steps.set_description(f"writing {Path(out_path).name}")
        save_network(network, out_path)
    steps.update()
    steps.close()
    return network


class _StreetsProcess:
    """:func:`build_streets` in a forked process, while the parent compiles the feeds."""

    def __init__(self, osm_path: str | os.PathLike, options: dict[str, float]) -> None:
        context = mp.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_streets_parts, args=(send, osm_path, options),
                                        daemon=True)
        with warnings.catch_warnings():  # Python >= 3.12 warns on fork with threads
            warnings.simplefilter("ignore", DeprecationWarning)
            self._process.start()
        send.close()

    def result(self) -> StreetsResult | None:
        """The layers, or None if the child failed (the caller rebuilds to raise the error)."""
        try:
            parts = self._receive.recv()
        except EOFError:  # the child died without an answer
            parts = None
        self._process.join()
        return None if parts is None else StreetsResult(*parts)

    def cancel(self) -> None:
        self._process.terminate()
        self._process.join()


def _start_streets(osm_path: str | os.PathLike,
                   options: dict[str, float]) -> _StreetsProcess | None:
    """Build the street layers beside the feeds when the machine has 2+ cores and fork."""
    if (os.cpu_count() or 1) < 2 or "fork" not in mp.get_all_start_methods():
        return None
    return _StreetsProcess(osm_path, options)


def _streets_parts(send: Any, osm_path: str | os.PathLike, options: dict[str, float]) -> None:
    """Child: send the picklable parts of :func:`build_streets` (not the pieces for ``graphs``)."""
    try:
        result = build_streets(osm_path, walk_speed_kph=options["walk_speed_kph"],
                               bike_speed_kph=options["bike_speed_kph"])
        send.send((result.layers, result.charging, result.report))
    except BaseException:  # noqa: BLE001 - the parent rebuilds to raise it with all its fields
        send.send(None)
    finally:
        send.close()


def _finish_streets(background: _StreetsProcess | None, osm_path: str | os.PathLike,
                    options: dict[str, float], *, progress: bool) -> StreetsResult:
    """The background result; on a failure there, the same build here, raising its error."""
    streets = background.result() if background is not None else None
    return streets or build_streets(osm_path, progress=progress,
                                    walk_speed_kph=options["walk_speed_kph"],
                                    bike_speed_kph=options["bike_speed_kph"])


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
