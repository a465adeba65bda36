"""Plan latency on Porto Alegre: 200 seeded origin-destination pairs, 2019-05-13 12:30.

Prints load and first-query (compile) times, p50/p95/max plan latency after warm-up, peak
memory, and a plain networkx Dijkstra (walk layer, one shortest path per pair) on the same
pairs with the ratio. Usage::

    TANLU_SAMPLE_DIR=/work/shared/data python bench/bench_plan.py          # builds first
    python bench/bench_plan.py --network poa.tanlu [--pairs 200] [--modes walk,transit]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphs.artifact import load_network  # noqa: E402
from graphs.geodesy import haversine_m  # noqa: E402
from graphs.modes import parse_modes  # noqa: E402
from planner import NoRouteError, Planner, make_query  # noqa: E402

BBOX = (-51.2664, -30.1133, -51.1322, -29.9876)  # OSM extract: lon, lat min / max
WHEN = datetime(2019, 5, 13, 12, 30)
SEED = 20190513


def _network(args):
    if args.network:
        return load_network(args.network)
    sample = os.environ.get("TANLU_SAMPLE_DIR")
    if not sample:
        sys.exit("set TANLU_SAMPLE_DIR or pass --network")
    from graphs.build import build_network

    city = Path(sample) / "porto-alegre"
    out = Path(tempfile.mkdtemp()) / "poa.tanlu"
    build_network(osm_path=city / "poa_osm.pbf",
                  gtfs_paths=[city / "poa_eptc.zip", city / "poa_trensurb.zip"],
                  factors="cn", out_path=out)
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


def _percentiles(values: list[float]) -> str:
    v = np.asarray(values) * 1000
    return (f"p50 {np.percentile(v, 50):7.1f} ms   p95 {np.percentile(v, 95):7.1f} ms   "
            f"max {v.max():7.1f} ms")


def _networkx_baseline(network, pairs) -> list[float]:
    import networkx as nx

    from graphs.export import street_layer_to_graph

    walk = network.streets["walk"]
    G = street_layer_to_graph(walk)
    xy = np.column_stack([walk.node_lon, walk.node_lat])
    times = []
    for o, d in pairs:
        started = time.perf_counter()
        a = int(np.argmin(((xy - (o[1], o[0])) ** 2).sum(axis=1)))
        b = int(np.argmin(((xy - (d[1], d[0])) ** 2).sum(axis=1)))
        try:
            nx.shortest_path(G, int(walk.node_osmid[a]), int(walk.node_osmid[b]), weight="length")
        except nx.NetworkXNoPath:
            pass
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network")
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--modes", default="walk,bike,transit,car_petrol")
    args = parser.parse_args()

    started = time.perf_counter()
    network = _network(args)
    loaded = time.perf_counter()
    planner = Planner(network)
    ready = time.perf_counter()
    pairs = _pairs(args.pairs, network.streets["walk"])
    queries = [make_query(origin=o, destination=d, when=WHEN, modes=parse_modes(args.modes))
               for o, d in pairs]
    first = time.perf_counter()
    _plan(planner, queries[0])  # JIT (cached on disk after the first run) + day table
    warm = time.perf_counter()
    times, options, failures = [], [], 0
    for q in queries:
        t0 = time.perf_counter()
        plan = _plan(planner, q)
        times.append(time.perf_counter() - t0)
        if plan is None:
            failures += 1
        else:
            options.append(len(plan.itineraries))
    arrive = [make_query(origin=o, destination=d, when=datetime(2019, 5, 13, 13, 30),
                         arrive_by=True,
                         modes=parse_modes(args.modes)) for o, d in pairs[:50]]
    arrive_times = []
    for q in arrive:
        t0 = time.perf_counter()
        _plan(planner, q)
        arrive_times.append(time.perf_counter() - t0)
    planner_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    nx_times = _networkx_baseline(network, pairs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"network: {network.manifest.get('factor_table')}, walk nodes "
          f"{network.streets['walk'].n_nodes}, stops {network.timetable.n_stops}, "
          f"trips {network.timetable.n_trips}")
    print(f"load artifact {loaded - started:6.2f} s   Planner() {ready - loaded:6.2f} s   "
          f"first plan (JIT + day table) {warm - first:6.2f} s")
    print(f"plan  depart-at  {len(times)} pairs, modes {args.modes}: {_percentiles(times)}")
    print(f"plan  arrive-by  {len(arrive_times)} pairs:                 {_percentiles(arrive_times)}")
    print(f"networkx Dijkstra, walk layer only, same pairs:  {_percentiles(nx_times)}")
    print(f"ratio p50 planner (all modes + transit) / networkx (walk only): "
          f"{np.median(times) / np.median(nx_times):.2f}")
    print(f"itineraries per plan: mean {np.mean(options):.1f}, max {max(options)}; "
          f"no route: {failures}")
    print(f"peak memory (ru_maxrss): {planner_peak_mb:.0f} MB after planning, "
          f"{peak_mb:.0f} MB with the networkx graph")


def _plan(planner, query):
    try:
        return planner.plan(query)
    except NoRouteError:
        return None


if __name__ == "__main__":
    main()
