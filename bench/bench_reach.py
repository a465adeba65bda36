"""Reach-map latency on Porto Alegre, beside cafein's ``Catchment`` in the same process.

Both engines load the same OSM extract and GTFS feeds, then map everything reachable within
30 minutes of 2019-05-13 12:30 from the same seeded origins, interleaved origin by origin, with
tanlu's walking speed and walking limit, on H3 cells of resolution 9. tanlu computes two
criteria (earliest arrival and lowest CO2e) and both band sets; cafein's catchment is one
time-budget polygon (its only one-to-all isochrone; time axis). Prints p50/p95 of

- tanlu ``planner.reach.reach_map`` (search + bands), and with the GeoJSON of /v1/reach;
- cafein ``Catchment`` (budget 30 min, resolution 9);

the ratio, the target (tanlu 30-minute map p50 <= 200 ms) and how many cells each reaches.
With ``--long`` the 60- and 120-minute maps are timed too (tanlu only).

Usage (cafein is the ``bench`` extra: ``pip install -e .[bench]``)::

    TANLU_SAMPLE_DIR=../shared/data python bench/bench_reach.py          # builds first
    python bench/bench_reach.py --network poa.tanlu [--origins 24] [--no-cafein] [--long]
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_plan import _Cafein as _CafeinPlans  # noqa: E402
from bench_plan import _network  # noqa: E402

from api.reach_geojson import reach_to_geojson  # noqa: E402
from planner import Planner  # noqa: E402
from planner.reach import H3_RESOLUTION, make_reach_query, reach_map  # noqa: E402

WHEN = datetime(2019, 5, 13, 12, 30)
MINUTES = 30
SEED = 20190513
TARGET_P50_MS = 200.0


class _Cafein(_CafeinPlans):
    """cafein's door-to-door catchment with tanlu's walking speed and walking limit (the network
    as bench_plan loads it)."""

    def catchment(self, lat: float, lon: float):
        import geopandas as gpd
        from cafein.accessibility import Catchment
        from shapely.geometry import Point

        origin = gpd.GeoDataFrame({"id": ["o"]}, geometry=[Point(lon, lat)], crs="EPSG:4326")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Catchment(self.net, origin, departure=WHEN.isoformat(sep=" "),
                             budgets=(float(MINUTES),), resolution=H3_RESOLUTION,
                             walking_speed_kmph=self.kmph, max_walking_time=self.minutes)


def _origins(n: int, planner: Planner) -> list[tuple[float, float]]:
    """Seeded walk nodes of the main component, jittered by up to ~80 m."""
    walk = planner.network.streets["walk"]
    nodes = planner.snappers["walk"].nodes
    rng = np.random.default_rng(SEED)
    out = []
    for i in rng.choice(nodes, n, replace=False):
        jitter = rng.normal(0, 0.0004, 2)
        out.append((float(walk.node_lat[i] + jitter[0]), float(walk.node_lon[i] + jitter[1])))
    return out


def _timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - started, result


def _stats(name: str, seconds: list[float]) -> str:
    v = np.asarray(seconds) * 1000
    return (f"{name:<44} p50 {np.percentile(v, 50):7.1f} ms   p95 {np.percentile(v, 95):7.1f} ms"
            f"   max {v.max():7.1f} ms")


def _cafein_cells(frame) -> int:
    import h3

    if len(frame) == 0:
        return 0
    return len(h3.geo_to_cells(frame.geometry.iloc[0], H3_RESOLUTION))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", help="a built .tanlu artifact (default: build the sample)")
    parser.add_argument("--origins", type=int, default=24)
    parser.add_argument("--no-cafein", action="store_true", help="tanlu only")
    parser.add_argument("--long", action="store_true", help="also 60- and 120-minute maps")
    args = parser.parse_args()
    if args.origins < 20:
        sys.exit("--origins must be at least 20 (medians over fewer are noise)")

    network = _network(args)
    planner = Planner(network)
    peer = None
    if not args.no_cafein:
        try:
            peer = _Cafein()
        except ImportError as err:
            print(f"cafein not available ({err}); tanlu only")
    origins = _origins(args.origins, planner)
    queries = [make_reach_query(origin=o, when=WHEN, minutes=MINUTES) for o in origins]
    started = time.perf_counter()
    reach_map(planner, queries[0])  # JIT (cached on disk after the first run), day table, cells
    warm = time.perf_counter() - started
    for q in queries[:3]:
        reach_map(planner, q)
        if peer:
            peer.catchment(q.query.origin_lat, q.query.origin_lon)

    t_reach, t_json, t_peer, cells, peer_cells, stops = [], [], [], [], [], []
    for q in queries:
        seconds, reach = _timed(reach_map, planner, q)
        t_reach.append(seconds)
        cells.append(sum(b.cells for b in reach.time_bands))
        stops.append(len(reach.stops))
        seconds, _ = _timed(lambda q=q: reach_to_geojson(reach_map(planner, q)))
        t_json.append(seconds)
        if peer:
            seconds, frame = _timed(peer.catchment, q.query.origin_lat, q.query.origin_lon)
            t_peer.append(seconds)
            peer_cells.append(_cafein_cells(frame))

    print(f"network: walk nodes {network.streets['walk'].n_nodes}, stops "
          f"{network.timetable.n_stops}, trips {network.timetable.n_trips}; {len(queries)} "
          f"origins, {MINUTES}-minute maps at {WHEN:%Y-%m-%d %H:%M}, walk+transit, H3 "
          f"resolution {H3_RESOLUTION}; first map (JIT, day table, cells) {warm:.2f} s")
    print(_stats(f"tanlu reach_map {MINUTES} min (2 criteria)", t_reach))
    print(_stats("tanlu reach_map + GeoJSON (/v1/reach body)", t_json))
    p50 = float(np.percentile(t_reach, 50) * 1000)
    print(f"target: tanlu {MINUTES}-minute map p50 <= {TARGET_P50_MS:.0f} ms: "
          f"{'met' if p50 <= TARGET_P50_MS else 'NOT met'} ({p50:.1f} ms)")
    print(f"tanlu reached per origin: median {np.median(stops):.0f} stops, "
          f"{np.median(cells):.0f} cells")
    if peer:
        print(_stats(f"cafein Catchment {MINUTES} min (time only)", t_peer))
        ratio = np.percentile(t_reach, 50) / np.percentile(t_peer, 50)
        print(f"p50 ratio tanlu / cafein: {ratio:.2f}x")
        print(f"cafein reached per origin: median {np.median(peer_cells):.0f} cells (its street "
              "graph snaps onto edges and differs from tanlu's walk layer)")
    else:
        print("no peer timed (--no-cafein or cafein missing): cafein's Catchment is the "
              "one-to-all peer")
    if args.long:
        for minutes in (60, 120):
            longer = [make_reach_query(origin=o, when=WHEN, minutes=minutes) for o in origins]
            reach_map(planner, longer[0])
            times = [_timed(reach_map, planner, q)[0] for q in longer]
            print(_stats(f"tanlu reach_map {minutes} min", times))


if __name__ == "__main__":
    main()
