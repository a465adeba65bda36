"""Point-to-point street searches: ALT landmarks beside the straight-line A*, same process.

For each street layer (walk, bike, car) two ``LayerGraph``s are compiled from the same layer:
one with ``planner._landmarks.LANDMARK_COUNT`` landmarks (what the planner uses) and one with
none (the straight-line bound alone, the A* before landmarks). Both route the same pairs,
interleaved pair by pair (which goes first alternates), several passes: the 40 origin-destination pairs of
``bench/bench_plan.py`` snapped to the layer as the planner snaps them, and ``--long`` pairs
drawn among random node pairs at least ``--long-km`` km apart (straight line). Prints per
layer and pair set the settled nodes and the time p50/p95 of each, their ratio, how many paths
differ (must be 0: same cost, same tie rule) and the landmark tables' compute time and size.

With ``--plans``, whole plans too: two ``Planner``s on the same network, one whose layers have
landmarks and one without, plan the ``bench_plan.py`` queries (walk+transit and default modes),
interleaved query by query, ``--repeat`` passes; prints p50/p95 of each (thread CPU time, less
noisy than wall time on a shared machine) and how many plans differ (must be 0).

With ``--against REV``, ``--check`` seeded random node pairs per layer are routed by this code
and by ``route_within`` of ``git show REV:planner/street_search.py`` (its own ``compile_layer``),
interleaved: prints how many costs and paths differ (a differing path of the same cost, summed
edge by edge in travel order, is a tie; of another cost, an error) and both times.

Usage::

    python bench/bench_streets.py --network poa.tanlu [--pairs 40] [--long 40] [--repeat 5]
                                  [--plans] [--against main --check 3000]
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from bench_plan import WHEN, _pairs, _plan  # noqa: E402

from graphs.artifact import load_network  # noqa: E402
from graphs.geodesy import haversine_m  # noqa: E402
from planner import Planner, make_query  # noqa: E402
from planner.snap import build_snapper  # noqa: E402
from planner.street_search import compile_layer, route_within, settled_nodes  # noqa: E402

WEIGHTS = {"walk": "length", "bike": "length", "car": "duration"}


def _long_pairs(layer, n: int, min_km: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out: list[tuple[int, int]] = []
    while len(out) < n:
        a, b = (int(v) for v in rng.integers(0, layer.n_nodes, 2))
        if haversine_m(layer.node_lat[a], layer.node_lon[a], layer.node_lat[b],
                       layer.node_lon[b]) >= min_km * 1000:
            out.append((a, b))
    return np.asarray(out, np.int64)


def _timed(graph, s: int, t: int, search=route_within) -> float:
    started = time.perf_counter()
    search(graph, s, t)
    return time.perf_counter() - started


def _compare(name: str, alt, plain, pairs: np.ndarray, repeat: int) -> None:
    t_alt: list[float] = []
    t_plain: list[float] = []
    for k in range(repeat):
        for i, (s, t) in enumerate(pairs):
            # alternate which goes first: the second search of a pair finds its rows in cache
            runs = [(plain, t_plain), (alt, t_alt)][:: 1 if (i + k) % 2 else -1]
            for graph, times in runs:
                times.append(_timed(graph, int(s), int(t)))
    n_alt = np.array([settled_nodes(alt, int(s), int(t)) for s, t in pairs])
    n_plain = np.array([settled_nodes(plain, int(s), int(t)) for s, t in pairs])
    differ = sum(route_within(alt, int(s), int(t)) != route_within(plain, int(s), int(t))
                 for s, t in pairs)
    a, p = np.asarray(t_alt) * 1000, np.asarray(t_plain) * 1000
    print(f"{name:<22} settled p50 {np.median(n_plain):8.0f} -> {np.median(n_alt):7.0f}"
          f"  p95 {np.percentile(n_plain, 95):8.0f} -> {np.percentile(n_alt, 95):7.0f}"
          f" | ms p50 {np.median(p):6.3f} -> {np.median(a):6.3f} ({np.median(a) / np.median(p):.2f}x)"
          f"  p95 {np.percentile(p, 95):6.3f} -> {np.percentile(a, 95):6.3f}"
          f" ({np.percentile(a, 95) / np.percentile(p, 95):.2f}x) | paths differ {differ}")


def _plans(network, points, repeat: int) -> None:
    """Whole plans, a planner with landmarks beside one without, interleaved."""
    alt = Planner(network)
    with mock.patch("planner.engine.compile_layer", partial(compile_layer, landmarks=0)):
        plain = Planner(network)
    assert plain.graphs["walk"].landmark_count == 0 < alt.graphs["walk"].landmark_count
    sets = {"walk+transit": [make_query(origin=o, destination=d, when=WHEN,
                                        modes=("walk", "transit")) for o, d in points],
            "default modes": [make_query(origin=o, destination=d, when=WHEN) for o, d in points]}
    for planner in (alt, plain):
        _plan(planner, sets["default modes"][0])  # JIT, day tables, landmark tables
    for name, queries in sets.items():
        t_alt: list[float] = []
        t_plain: list[float] = []
        differ = sum(_plan(alt, q) != _plan(plain, q) for q in queries)
        for k in range(repeat):
            for i, q in enumerate(queries):
                runs = [(plain, t_plain), (alt, t_alt)][:: 1 if (i + k) % 2 else -1]
                for planner, times in runs:
                    started = time.thread_time()
                    _plan(planner, q)
                    times.append(time.thread_time() - started)
        a, p = np.asarray(t_alt) * 1000, np.asarray(t_plain) * 1000
        print(f"plans {name:<15} CPU ms p50 {np.median(p):6.2f} -> {np.median(a):6.2f} "
              f"({np.median(a) / np.median(p):.2f}x)  p95 {np.percentile(p, 95):6.2f} -> "
              f"{np.percentile(a, 95):6.2f} ({np.percentile(a, 95) / np.percentile(p, 95):.2f}x)"
              f"  mean {p.mean():6.2f} -> {a.mean():6.2f} | plans differ {differ}")


def _module_of(rev: str):
    """``planner/street_search.py`` at ``rev``, loaded as a module outside the repo."""
    source = subprocess.run(["git", "-C", str(ROOT.parent), "show",
                             f"{rev}:planner/street_search.py"],
                            check=True, capture_output=True, text=True).stdout
    source = source.replace("from ._", "from planner._").replace("from .errors",
                                                                 "from planner.errors")
    path = Path(tempfile.mkdtemp()) / "street_search_against.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("street_search_against", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _cost(graph, path) -> float:
    """The path's weight, added edge by edge in travel order as the searches add."""
    total = 0.0
    for u, v in zip(path.nodes[:-1], path.nodes[1:], strict=True):
        total += graph.csr[u, v]
    return total


def _against(network, rev: str, n: int) -> None:
    """This code's routes beside ``rev``'s on ``n`` seeded node pairs per layer."""
    other = _module_of(rev)
    for name, layer in network.streets.items():
        this = compile_layer(layer, weight=WEIGHTS[name])
        that = other.compile_layer(layer, weight=WEIGHTS[name])
        pairs = np.random.default_rng(11).integers(0, layer.n_nodes, (n, 2))
        this.landmarks()
        route_within(this, 0, 1)
        other.route_within(that, 0, 1)
        ties = errors = 0
        t_this: list[float] = []
        t_that: list[float] = []
        for i, (s, t) in enumerate(pairs):
            if i % 2:  # alternate which goes first (the second finds its rows in cache)
                t_that.append(_timed(that, int(s), int(t), other.route_within))
                t_this.append(_timed(this, int(s), int(t)))
            else:
                t_this.append(_timed(this, int(s), int(t)))
                t_that.append(_timed(that, int(s), int(t), other.route_within))
            a, b = route_within(this, int(s), int(t)), other.route_within(that, int(s), int(t))
            if (a is None) != (b is None) or (a is not None and a.edges != b.edges):
                same = a is not None and b is not None and _cost(this, a) == _cost(this, b)
                ties += same
                errors += not same
        a_ms, b_ms = np.asarray(t_this) * 1000, np.asarray(t_that) * 1000
        print(f"{name} vs {rev}: {n} node pairs, paths differ {ties + errors} (ties {ties}, "
              f"other cost {errors}); ms p50 {np.median(b_ms):.3f} -> {np.median(a_ms):.3f}, "
              f"p95 {np.percentile(b_ms, 95):.3f} -> {np.percentile(a_ms, 95):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", required=True, help="a built .tanlu artifact")
    parser.add_argument("--pairs", type=int, default=40, help="bench_plan.py pairs")
    parser.add_argument("--long", type=int, default=40, help="long random node pairs")
    parser.add_argument("--long-km", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=5, help="passes over the pairs")
    parser.add_argument("--plans", action="store_true", help="also time whole plans")
    parser.add_argument("--against", help="git revision whose street_search to check against")
    parser.add_argument("--check", type=int, default=3000, help="node pairs per layer")
    args = parser.parse_args()

    network = load_network(args.network)
    walk = network.streets["walk"]
    points = _pairs(args.pairs, walk)
    print(f"{args.network}: {args.pairs} bench_plan pairs, {args.long} pairs >= "
          f"{args.long_km:g} km; {args.repeat} passes, interleaved; 'plain' = straight-line "
          f"bound only -> ALT")
    for name, layer in network.streets.items():
        started = time.perf_counter()
        alt = compile_layer(layer, weight=WEIGHTS[name])
        tables = alt.landmarks()
        built = time.perf_counter() - started
        plain = compile_layer(layer, weight=WEIGHTS[name], landmarks=0)
        snapper = build_snapper(layer)
        lat = np.array([p[i][0] for p in points for i in (0, 1)])
        lon = np.array([p[i][1] for p in points for i in (0, 1)])
        nodes, _ = snapper.nearest_many(lat, lon)
        bench = np.asarray(nodes, np.int64).reshape(-1, 2)
        route_within(alt, int(bench[0, 0]), int(bench[0, 1]))  # JIT
        route_within(plain, int(bench[0, 0]), int(bench[0, 1]))
        print(f"{name}: {layer.n_nodes:,} nodes; compile + {len(tables.nodes)} landmark tables "
              f"{built:.2f} s, tables {tables.nbytes / 1e6:.1f} MB")
        _compare(f"  {name} bench pairs", alt, plain, bench, args.repeat)
        if args.long:
            _compare(f"  {name} >= {args.long_km:g} km", alt, plain,
                     _long_pairs(layer, args.long, args.long_km, 7), args.repeat)

    if args.plans:
        _plans(network, points, args.repeat)
    if args.against:
        _against(network, args.against, args.check)


if __name__ == "__main__":
    main()
