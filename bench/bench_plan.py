"""Plan latency on Porto Alegre beside cafein (a Rust RAPTOR on PyPI), same process, same pairs.

Both engines load the same OSM extract and GTFS feeds, then answer the same seeded
origin-destination pairs at 2019-05-13 12:30, interleaved pair by pair (tanlu walk+transit,
cafein walk+transit, tanlu default modes) so machine noise hits all three alike. cafein runs
with tanlu's walking speed, walking limit and ride limit and returns geometries, as tanlu does.
Prints p50/p95 of each and the ratios the targets are stated in:

- walk+transit: p50 <= 0.7x cafein's, p95 <= 1.0x cafein's;
- default modes (walk, bike, transit + car baseline): p50 <= 1.0x cafein's walk+transit;
- with ``--own-bike``, default modes plus ``bike+transit`` (own bike parked at a station) are
  timed too, interleaved: p50 <= 1.5x default modes without it (and ``walk,bike+transit``
  beside walk+transit, where no bike street option bounds the transit search);
- with ``--park-ride``, ``walk,car_petrol+transit`` (park-and-ride, ``planner.park_ride``)
  beside walk+transit, interleaved;
- with ``--bikeshare`` (a synthetic city-wide GBFS feed from ``bench/gen_gbfs.py``, or
  ``--gbfs DIR``), ``walk,bikeshare+transit`` and default modes plus ``bikeshare+transit`` are
  timed too, interleaved, with the feed's compile time; the default modes stay as they are
  (the shared-bike search runs only when asked for).

Usage (cafein is the ``bench`` extra: ``pip install -e .[bench]``)::

    TANLU_SAMPLE_DIR=../shared/data python bench/bench_plan.py          # builds first
    python bench/bench_plan.py --network poa.tanlu [--pairs 40] [--repeat 2] [--no-cafein]
                               [--own-bike] [--park-ride] [--bikeshare [--gbfs DIR]]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphs.artifact import load_network  # noqa: E402
from graphs.geodesy import haversine_m  # noqa: E402
from planner import NoRouteError, Planner, make_query  # noqa: E402
from planner.model import MAX_TRANSFERS, MAX_WALK_M, WALK_SPEED_MPS  # noqa: E402
from planner.park_ride import MAX_PASSES  # noqa: E402

WHEN = datetime(2019, 5, 13, 12, 30)
SEED = 20190513
CITY = "porto-alegre"
FEEDS = ("poa_eptc.zip", "poa_trensurb.zip")
OSM = "poa_osm.pbf"


def _sample_dir() -> Path:
    sample = os.environ.get("TANLU_SAMPLE_DIR")
    if not sample:
        sys.exit("set TANLU_SAMPLE_DIR to the sample data folder")
    return Path(sample) / CITY


def _network(args):
    if args.network:
        return load_network(args.network)
    from graphs.build import build_network

    city = _sample_dir()
    out = Path(tempfile.mkdtemp()) / "poa.tanlu"
    build_network(osm_path=city / OSM, gtfs_paths=[city / f for f in FEEDS], factors="cn",
                  out_path=out)
    return load_network(out)


def _pairs(n: int, walk) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Random points within 150 m of a walk node, at least 1 km apart."""
    rng = np.random.default_rng(SEED)
    out = []
    while len(out) < n:
        i, j = rng.integers(0, walk.n_nodes, 2)
        jitter = rng.normal(0, 0.0007, 4)
        o = (walk.node_lat[i] + jitter[0], walk.node_lon[i] + jitter[1])
        d = (walk.node_lat[j] + jitter[2], walk.node_lon[j] + jitter[3])
        if haversine_m(*o, *d) >= 1000:
            out.append((tuple(map(float, o)), tuple(map(float, d))))
    return out


class _Cafein:
    """cafein's door-to-door search with tanlu's walking and ride limits."""

    def __init__(self) -> None:
        from cafein import TransportNetwork

        city = _sample_dir()
        self.kmph = WALK_SPEED_MPS * 3.6
        self.minutes = MAX_WALK_M / WALK_SPEED_MPS / 60.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its notes on blank stop times and far stops
            self.net = TransportNetwork.from_gtfs(
                [str(city / f) for f in FEEDS], osm_pbf=str(city / OSM),
                walking_speed_kmph=self.kmph, max_walking_time=self.minutes)

    def plan(self, o, d):
        try:
            return self.net.route_between_coordinates(
                o, d, departure=WHEN.strftime("%Y-%m-%d %H:%M"), max_rides=MAX_TRANSFERS + 1,
                walking_speed_kmph=self.kmph, max_walking_time=self.minutes)
        except ValueError:  # a point beyond its snap distance
            return None


def _bikeshare(planner, network, args) -> float:
    """Put the GBFS feed in force (generated unless ``--gbfs``); returns the compile seconds."""
    from gen_gbfs import write_city_gbfs

    from graphs.gbfs import read_gbfs

    folder = Path(args.gbfs) if args.gbfs else write_city_gbfs(
        network, Path(tempfile.mkdtemp()) / "gbfs", ebikes=args.ebikes)
    feed = read_gbfs(folder)
    started = time.perf_counter()
    planner.set_bikeshare(feed, live=True)
    return time.perf_counter() - started


def _plan(planner, query):
    try:
        return planner.plan(query)
    except NoRouteError:
        return None


def _timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def _stats(name: str, seconds: list[float]) -> str:
    v = np.asarray(seconds) * 1000
    return (f"{name:<34} p50 {np.percentile(v, 50):6.2f} ms   p95 {np.percentile(v, 95):6.2f} ms"
            f"   max {v.max():6.1f} ms")


def _ratio(name: str, a: list[float], b: list[float], q: float, target: float | None) -> str:
    r = np.percentile(a, q) / np.percentile(b, q)
    if target is None:  # the cost of asking for more, not a target
        return f"{name:<52} {r:5.2f}x"
    verdict = "met" if r <= target else "NOT met"
    return f"{name:<52} {r:5.2f}x  (target <= {target:.1f}x: {verdict})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", help="a built .tanlu artifact (default: build the sample)")
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=2, help="passes over the pairs")
    parser.add_argument("--no-cafein", action="store_true", help="tanlu only")
    parser.add_argument("--own-bike", action="store_true",
                        help="also time default modes + bike+transit (ownBike)")
    parser.add_argument("--park-ride", action="store_true",
                        help="also time walk,car_petrol+transit (park-and-ride)")
    parser.add_argument("--bikeshare", action="store_true",
                        help="also time bikeshare+transit (shared bikes of a GBFS feed)")
    parser.add_argument("--gbfs", help="GBFS folder for --bikeshare (default: bench/gen_gbfs.py)")
    parser.add_argument("--ebikes", type=float, default=0.3,
                        help="share of e-bikes in the generated feed (0: one search per query)")
    args = parser.parse_args()

    started = time.perf_counter()
    network = _network(args)
    loaded = time.perf_counter()
    planner = Planner(network)
    ready = time.perf_counter()
    peer = None if args.no_cafein else _Cafein()
    peer_ready = time.perf_counter()
    pairs = _pairs(args.pairs, network.streets["walk"])
    transit = [make_query(origin=o, destination=d, when=WHEN, modes=("walk", "transit"))
               for o, d in pairs]
    default = [make_query(origin=o, destination=d, when=WHEN) for o, d in pairs]
    own_bike = [make_query(origin=o, destination=d, when=WHEN, access_modes=("bike",))
                for o, d in pairs] if args.own_bike else []
    transit_bike = [make_query(origin=o, destination=d, when=WHEN, modes=("walk", "transit"),
                               access_modes=("bike",)) for o, d in pairs] if args.own_bike else []
    park_ride = [make_query(origin=o, destination=d, when=WHEN, modes=("walk", "transit"),
                            access_modes=("car_petrol",)) for o, d in pairs] if args.park_ride else []
    share = [make_query(origin=o, destination=d, when=WHEN, access_modes=("bikeshare",))
             for o, d in pairs] if args.bikeshare else []
    transit_share = [make_query(origin=o, destination=d, when=WHEN, modes=("walk", "transit"),
                                access_modes=("bikeshare",))
                     for o, d in pairs] if args.bikeshare else []
    compile_s = _bikeshare(planner, network, args) if args.bikeshare else 0.0
    arrive = [make_query(origin=o, destination=d, when=datetime(2019, 5, 13, 13, 30), arrive_by=True)
              for o, d in pairs]
    first = time.perf_counter()
    _plan(planner, default[0])  # JIT (cached on disk after the first run) + day tables
    _plan(planner, arrive[0])
    if own_bike:
        _plan(planner, own_bike[0])  # parking stops, built once per Planner
    if park_ride:
        _plan(planner, park_ride[0])  # car parks near stations, built once per Planner
    if share:
        _plan(planner, share[0])
    warm = time.perf_counter()
    for q in transit[:5]:
        _plan(planner, q)
        if peer:
            peer.plan((q.origin_lat, q.origin_lon), (q.destination_lat, q.destination_lon))

    t_transit, t_peer, t_default, t_arrive, t_bike, t_transit_bike = [], [], [], [], [], []
    t_park_ride: list[float] = []
    t_share, t_transit_share = [], []
    shared = 0
    found, options = 0, []
    for _ in range(args.repeat):
        if planner.transit is not None:  # a pass must not reuse the last pass's ride lines
            planner.transit.forget_ride_lines()
        for i, ((o, d), qt, qd, qa) in enumerate(zip(pairs, transit, default, arrive, strict=True)):
            t_transit.append(_timed(_plan, planner, qt))
            if peer:
                t_peer.append(_timed(peer.plan, o, d))
            t_default.append(_timed(_plan, planner, qd))
            t_arrive.append(_timed(_plan, planner, qa))
            if own_bike:
                t_bike.append(_timed(_plan, planner, own_bike[i]))
                t_transit_bike.append(_timed(_plan, planner, transit_bike[i]))
            if park_ride:
                t_park_ride.append(_timed(_plan, planner, park_ride[i]))
            if share:
                t_share.append(_timed(_plan, planner, share[i]))
                t_transit_share.append(_timed(_plan, planner, transit_share[i]))
    for q in transit:
        plan = _plan(planner, q)
        if plan is not None:
            found += 1
            options.append(len(plan.itineraries))

    print(f"network: walk nodes {network.streets['walk'].n_nodes}, stops "
          f"{network.timetable.n_stops}, trips {network.timetable.n_trips}; "
          f"{len(pairs)} pairs x {args.repeat} passes, interleaved")
    print(f"load artifact {loaded - started:.2f} s   Planner() {ready - loaded:.2f} s   "
          f"first plans (JIT + day tables) {warm - first:.2f} s"
          + (f"   cafein build {peer_ready - ready:.2f} s" if peer else ""))
    print(_stats("tanlu walk+transit", t_transit))
    if peer:
        print(_stats("cafein walk+transit", t_peer))
    print(_stats("tanlu default modes (+ car baseline)", t_default))
    print(_stats("tanlu default modes, arrive-by", t_arrive))
    if t_bike:
        print(_stats("tanlu default modes + bike+transit (ownBike)", t_bike))
        print(_ratio("default modes p50, ownBike / without", t_bike, t_default, 50, 1.5))
        print(_stats("tanlu walk,bike+transit", t_transit_bike))
        print(_ratio("walk+transit p50, with bike access / without", t_transit_bike, t_transit,
                     50, 1.5))
    if t_park_ride:
        print(_stats("tanlu walk,car_petrol+transit (P+R)", t_park_ride))
        ratio = np.percentile(t_park_ride, 50) / np.percentile(t_transit, 50)
        print(f"{'walk+transit p50, with P+R / without':<52} {ratio:5.2f}x  (up to "
              f"{MAX_PASSES} extra kernel passes)")
    if t_share:
        for q in transit_share:
            plan = _plan(planner, q)
            shared += plan is not None and any(
                leg.note == "ride" for it in plan.itineraries for leg in it.legs)
        print(f"bikeshare feed: compiled in {compile_s:.2f} s; walk,bikeshare+transit plans "
              f"with a shared ride in the Pareto set: {shared}/{len(pairs)}")
        print(_stats("tanlu default modes + bikeshare+transit", t_share))
        print(_ratio("default modes p50, bikeshare+transit / without", t_share, t_default,
                     50, None))
        print(_stats("tanlu walk,bikeshare+transit", t_transit_share))
        print(_ratio("walk+transit p50, with shared bikes / without", t_transit_share,
                     t_transit, 50, None))
    if peer:
        print(_ratio("walk+transit p50, tanlu / cafein", t_transit, t_peer, 50, 0.7))
        print(_ratio("walk+transit p95, tanlu / cafein", t_transit, t_peer, 95, 1.0))
        print(_ratio("default modes p50, tanlu / cafein walk+transit", t_default, t_peer, 50, 1.0))
    print(f"walk+transit plans found {found}/{len(pairs)}, itineraries per plan: mean "
          f"{np.mean(options):.1f}, max {max(options)}")
    print(f"peak memory (ru_maxrss, both engines): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
