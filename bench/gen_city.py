"""Generate a synthetic city of a given scale: a street grid as .osm.pbf and a bus GTFS over it.

Usage::

    python bench/gen_city.py --scale 16 --out /tmp/city16     # writes city.osm.pbf, bus.zip

Scale 1 is about Porto Alegre's sample: ~48 000 directed walk edges and ~145 000 stop times;
scale ``s`` multiplies both by about ``s`` (the grid side grows with ``sqrt(s)``).

Streets: an ``n x n`` grid (``n = 110 * sqrt(scale)``) of 110 m blocks south-east of Porto
Alegre's centre, with one shape node inside each block side (so the build has degree-2 chains
to contract). Each row and column is drawn as OSM ways of 8 blocks that share their end
intersections (so ways are split at shared nodes, as in real extracts), tagged as OSM tags
streets: every 10th line ``highway=primary`` (``maxspeed=60``, an "Avenida"), every 5th
``secondary``, the rest ``residential``; every 3rd residential line is one-way, alternating
``oneway=yes`` / ``oneway=-1``; every 7th residential line is a ``footway`` (no cars, no bikes).
Node ids, way ids and names are deterministic.

Transit: one bus route per primary row and column, both directions, stops every 4 blocks,
80 s between stops, a trip every 9 minutes from 05:00 to 23:00, every day of 2019
(``calendar.txt``); ``agency_timezone`` America/Sao_Paulo.
"""
from __future__ import annotations

import argparse
import csv
import io
import math
import zipfile
from pathlib import Path

import osmium

BLOCK_M = 110.0
BASE_SIDE = 110            # intersections per side at scale 1
WAY_BLOCKS = 8
ORIGIN_LON, ORIGIN_LAT = -51.25, -30.10
STOP_EVERY_BLOCKS = 4
HOP_S = 80
HEADWAY_S = 9 * 60
SERVICE_START_S, SERVICE_END_S = 5 * 3600, 23 * 3600
DEG_LAT_M = 110_574.0


def grid_side(scale: float) -> int:
    """Intersections per side for ``scale`` (edges grow with the square of the side)."""
    return max(10, round(BASE_SIDE * math.sqrt(scale)))


def _lonlat(n: int) -> tuple[list[float], list[float]]:
    """Coordinates of the ``2n - 1`` grid lines (intersections and mid-block shape points)."""
    dlat = BLOCK_M / 2 / DEG_LAT_M
    dlon = BLOCK_M / 2 / (DEG_LAT_M * math.cos(math.radians(ORIGIN_LAT)))
    return ([ORIGIN_LON + i * dlon for i in range(2 * n - 1)],
            [ORIGIN_LAT - j * dlat for j in range(2 * n - 1)])


def _node_id(i: int, j: int, n: int) -> int:
    """Id of the point at half-block coordinates (i, j); ids grow with j then i."""
    return 1 + j * (2 * n - 1) + i


def _line_tags(k: int, vertical: bool) -> dict[str, str]:
    axis = "Rua Norte" if vertical else "Rua Leste"
    if k % 10 == 0:
        return {"highway": "primary", "maxspeed": "60", "name": f"Avenida {'NS' if vertical else 'LO'} {k}"}
    if k % 5 == 0:
        return {"highway": "secondary", "name": f"{axis} {k}"}
    if k % 7 == 0:
        return {"highway": "footway"}
    tags = {"highway": "residential", "name": f"{axis} {k}"}
    if k % 3 == 0:
        tags["oneway"] = "yes" if k % 2 else "-1"
    return tags


def write_osm(path: Path, n: int) -> int:
    """Write the grid; returns the number of ways."""
    lons, lats = _lonlat(n)
    ways = 0
    with osmium.SimpleWriter(str(path)) as writer:
        for j in range(2 * n - 1):
            for i in range(2 * n - 1):
                if i % 2 and j % 2:
                    continue  # block interiors: no node
                writer.add_node(osmium.osm.mutable.Node(
                    id=_node_id(i, j, n), location=(lons[i], lats[j]), version=1))
        for vertical in (False, True):
            for k in range(n):
                tags = _line_tags(k, vertical)
                for start in range(0, n - 1, WAY_BLOCKS):
                    stop = min(start + WAY_BLOCKS, n - 1)
                    steps = range(2 * start, 2 * stop + 1)
                    refs = [_node_id(2 * k, s, n) if vertical else _node_id(s, 2 * k, n)
                            for s in steps]
                    ways += 1
                    writer.add_way(osmium.osm.mutable.Way(id=ways, nodes=refs, tags=tags,
                                                          version=1))
    return ways


def _csv(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def write_gtfs(path: Path, n: int) -> int:
    """Write the bus feed; returns the number of stop times."""
    lons, lats = _lonlat(n)
    stops, routes, trips = [["stop_id", "stop_name", "stop_lat", "stop_lon"]], [
        ["route_id", "agency_id", "route_short_name", "route_long_name", "route_type"]], [
        ["route_id", "service_id", "trip_id", "direction_id"]]
    stop_times = io.StringIO()
    stop_times.write("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n")
    count, seen = 0, set()
    for vertical in (False, True):
        for k in range(0, n, 10):
            route = f"{'NS' if vertical else 'LO'}{k}"
            routes.append([route, "A", route, f"Avenida {route}", 3])
            line = []
            for s in range(0, n, STOP_EVERY_BLOCKS):
                i, j = (2 * k, 2 * s) if vertical else (2 * s, 2 * k)
                stop = f"S{i}_{j}"
                if stop not in seen:  # crossing lines share the stop
                    seen.add(stop)
                    stops.append([stop, f"Parada {i}/{j}", f"{lats[j] - 0.00005:.7f}",
                                  f"{lons[i] + 0.00005:.7f}"])
                line.append(stop)
            for direction, sequence in enumerate((line, line[::-1])):
                for t, start in enumerate(range(SERVICE_START_S, SERVICE_END_S, HEADWAY_S)):
                    trip = f"{route}_{direction}_{t}"
                    trips.append([route, "ALL", trip, direction])
                    for q, stop in enumerate(sequence):
                        when = _hms(start + q * HOP_S)
                        stop_times.write(f"{trip},{when},{when},{stop},{q + 1}\n")
                    count += len(sequence)
    files = {
        "agency.txt": _csv([["agency_id", "agency_name", "agency_url", "agency_timezone"],
                            ["A", "Synthetic Bus", "https://example.org", "America/Sao_Paulo"]]),
        "stops.txt": _csv(stops), "routes.txt": _csv(routes), "trips.txt": _csv(trips),
        "stop_times.txt": stop_times.getvalue(),
        "calendar.txt": _csv([["service_id", "monday", "tuesday", "wednesday", "thursday",
                               "friday", "saturday", "sunday", "start_date", "end_date"],
                              ["ALL", 1, 1, 1, 1, 1, 1, 1, "20190101", "20191231"]]),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return count


def generate(scale: float, out: Path) -> dict[str, float]:
    """Write ``out/city.osm.pbf`` and ``out/bus.zip`` for ``scale``; returns what was written."""
    out.mkdir(parents=True, exist_ok=True)
    n = grid_side(scale)
    osm, gtfs = out / "city.osm.pbf", out / "bus.zip"
    osm.unlink(missing_ok=True)
    ways = write_osm(osm, n)
    stop_times = write_gtfs(gtfs, n)
    return {"scale": scale, "side": n, "ways": ways, "stop_times": stop_times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(generate(args.scale, args.out))


if __name__ == "__main__":
    main()
