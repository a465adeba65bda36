"""Point-to-point street searches (ALT A*) against scipy's Dijkstra, an independent oracle.

The oracle's path follows the tie rule of ``street_search._shortest_paths`` from scipy's
distances: from the target, step back to the smallest node ``u`` with
``dist[u] + w(u, v) == dist[v]`` (float-equal; the kernel and scipy both add edge weights in
float64 along the path, so their distances are bit-equal).
"""
from __future__ import annotations

import threading

import numpy as np
import pytest
from planner_toy import N, grid_layer
from scipy.sparse.csgraph import dijkstra

from graphs.network import StreetLayer
from planner.errors import NoRouteError
from planner.street_search import (
    LayerGraph,
    ShortestPathTree,
    _shortest_paths,
    compile_layer,
    path_to,
    route,
    route_within,
    settled_nodes,
)

SEED = 20261203
WEIGHTS = {"walk": "length", "bike": "length", "car": "duration"}


def _oracle_path(graph: LayerGraph, dist: np.ndarray, source: int, target: int) -> list[int]:
    """Nodes of the tie-rule path ``source -> target`` from one-to-all distances ``dist``."""
    into = graph.reverse_csr  # into[v] lists the predecessors u of v with w(u, v)
    nodes = [target]
    v = target
    while v != source:
        a, b = into.indptr[v], into.indptr[v + 1]
        tight = [int(u) for u, w in zip(into.indices[a:b], into.data[a:b], strict=True)
                 if dist[u] + w == dist[v]]
        assert tight, f"no predecessor of {v} at its cost"
        v = min(tight)
        nodes.append(v)
    return nodes[::-1]


def _check_pairs(graph: LayerGraph, sources: np.ndarray, targets: np.ndarray) -> int:
    """Every ``route_within`` of the pairs equals the oracle (cost to the bit, path, reach);
    returns how many pairs were reachable."""
    table = dijkstra(graph.csr, indices=sources)
    reached = 0
    for row, s in enumerate(sources):
        for t in targets[row]:
            expected = table[row, t]
            path = route_within(graph, int(s), int(t))
            if not np.isfinite(expected):
                assert path is None
                with pytest.raises(NoRouteError):
                    route(graph, int(s), int(t))
                continue
            reached += 1
            assert path is not None
            assert list(path.nodes) == _oracle_path(graph, table[row], int(s), int(t))
            cost, steps = 0.0, (list(path.nodes[:-1]), list(path.nodes[1:]))
            for w in np.asarray(graph.csr[steps]).ravel() if steps[0] else ():
                cost += w  # left to right, as both searches add
            assert cost == expected
    return reached


@pytest.fixture(scope="module")
def poa_graphs(poa_network) -> dict[str, LayerGraph]:
    return {name: compile_layer(layer, weight=WEIGHTS[name])
            for name, layer in poa_network.streets.items()}


@pytest.mark.parametrize("layer", ["walk", "bike", "car"])
def test_routes_equal_scipy_dijkstra_on_porto_alegre(poa_graphs, layer):
    graph = poa_graphs[layer]
    rng = np.random.default_rng(SEED)
    n = graph.csr.shape[0]
    sources = rng.choice(n, 12, replace=False)
    assert _check_pairs(graph, sources, rng.integers(0, n, (12, 12))) == 144


@pytest.mark.parametrize("layer", ["walk", "bike", "car"])
def test_landmark_bounds_are_lower_bounds(poa_graphs, layer):
    """The tables are scipy's distances from and to each landmark (as float32), and the bound
    they give never exceeds the true cost; it is tighter than the straight line."""
    graph = poa_graphs[layer]
    tables = graph.landmarks()
    k = len(tables.nodes)
    assert k == graph.landmark_count and len(set(tables.nodes.tolist())) == k
    forward = dijkstra(graph.csr, indices=tables.nodes)
    backward = dijkstra(graph.reverse_csr, indices=tables.nodes)
    assert np.array_equal(tables.from_landmark, forward.T.astype(np.float32))
    assert np.array_equal(tables.to_landmark, backward.T.astype(np.float32))
    rng = np.random.default_rng(SEED)
    targets = rng.choice(graph.csr.shape[0], 20, replace=False)
    truth = dijkstra(graph.reverse_csr, indices=targets)  # d(v, t) for every v
    for row, t in enumerate(targets):
        bound = np.maximum(
            (tables.from_landmark[t][None, :] - tables.from_landmark).max(axis=1),
            (tables.to_landmark - tables.to_landmark[t][None, :]).max(axis=1)) - tables.margin
        assert (bound <= truth[row]).all()
        line = graph.cost_per_m * np.hypot(graph.node_x - graph.node_x[t],
                                           graph.node_y - graph.node_y[t])
        assert bound.mean() > line.mean()


@pytest.mark.parametrize("layer", ["walk", "car"])
def test_landmarks_settle_fewer_nodes_for_the_same_path(poa_network, poa_graphs, layer):
    graph = poa_graphs[layer]
    plain = compile_layer(poa_network.streets[layer], weight=WEIGHTS[layer], landmarks=0)
    rng = np.random.default_rng(SEED)
    fewer = 0
    for s, t in rng.integers(0, graph.csr.shape[0], (30, 2)):
        a, b = route_within(graph, int(s), int(t)), route_within(plain, int(s), int(t))
        assert a == b
        fewer += settled_nodes(graph, int(s), int(t)) < settled_nodes(plain, int(s), int(t))
    assert fewer >= 25


@pytest.mark.parametrize("layer", ["walk", "car"])
def test_route_within_stops_at_the_limit(poa_graphs, layer):
    """A limit equal to the cost finds the path, one float below it finds none."""
    graph = poa_graphs[layer]
    rng = np.random.default_rng(SEED + 1)
    for s, t in rng.integers(0, graph.csr.shape[0], (40, 2)):
        if s == t:
            continue
        cost = dijkstra(graph.csr, indices=int(s))[t]
        full = route(graph, int(s), int(t))
        assert route_within(graph, int(s), int(t), limit=float(cost)) == full
        assert route_within(graph, int(s), int(t), limit=float(np.nextafter(cost, 0))) is None
        assert route_within(graph, int(s), int(t), limit=2 * float(cost)) == full


@pytest.mark.parametrize("landmarks", [0, 3, 8])
def test_ties_on_a_grid_follow_the_rule(landmarks):
    """On a grid every detour-free staircase costs the same: all bounds pick the rule's path."""
    for name in ("walk", "car"):
        graph = compile_layer(grid_layer(name), weight=WEIGHTS[name], landmarks=landmarks)
        every = np.arange(N * N)
        assert _check_pairs(graph, every, np.tile(every, (N * N, 1))) == N ** 4


def _random_layer(n: int, m: int, seed: int) -> StreetLayer:
    """A random directed street layer: one-way edges, several strong components, parallel and
    zero-length edges, lengths 1-1.5x the straight line."""
    rng = np.random.default_rng(seed)
    lat = -30.05 + rng.uniform(0, 0.02, n)
    lon = -51.2 + rng.uniform(0, 0.02, n)
    tail = rng.integers(0, n, m)
    head = np.where(rng.random(m) < 0.9, (tail + rng.integers(1, 6, m)) % n, rng.integers(0, n, m))
    tail[:5], head[:5] = tail[5:10], head[5:10]  # parallel edges
    order = np.argsort(tail, kind="stable")
    tail, head = tail[order].astype(np.int32), head[order].astype(np.int32)
    straight = np.hypot((lat[tail] - lat[head]) * 111_195,
                        (lon[tail] - lon[head]) * 111_195 * np.cos(np.radians(-30.05)))
    length = (straight * rng.uniform(1.0, 1.5, m)).astype(np.float32)
    length[rng.random(m) < 0.02] = 0.0
    lonlat = np.column_stack([lon, lat])
    return StreetLayer(
        name="walk", node_osmid=np.arange(n, dtype=np.int64), node_lon=lon, node_lat=lat,
        indptr=np.concatenate([[0], np.cumsum(np.bincount(tail, minlength=n))]).astype(np.int64),
        edge_tail=tail, edge_head=head, edge_length_m=length,
        edge_duration_s=(length / 1.33).astype(np.float32),
        edge_name=np.full(m, -1, np.int32), names=np.array([], dtype=str),
        geometry_indptr=np.arange(0, 2 * m + 1, 2, dtype=np.int64),
        geometry_lonlat=np.concatenate([lonlat[tail], lonlat[head]], axis=1).reshape(-1, 2))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_way_edges_and_unreachable_targets(seed):
    layer = _random_layer(300, 700, seed)
    graph = compile_layer(layer, weight="length", landmarks=6)
    every = np.arange(300)
    sources = every[::15]
    reached = _check_pairs(graph, sources, np.tile(every, (len(sources), 1)))
    assert 0 < reached < len(sources) * 300  # some targets are unreachable
    assert not np.isfinite(graph.landmarks().from_landmark).all()


def test_an_inconsistent_bound_still_gives_exact_paths():
    """With a bound that is admissible but not consistent (the exact cost to the target scaled
    by a random factor per node), reopened nodes keep the search exact."""
    layer = _random_layer(300, 900, 4)
    graph = compile_layer(layer, weight="length", landmarks=0)
    m = graph.csr
    rng = np.random.default_rng(SEED)
    for t in rng.choice(300, 10, replace=False):
        to_target = dijkstra(graph.reverse_csr, indices=int(t))
        scaled = (to_target * rng.uniform(0.3, 1.0, 300)).astype(np.float32)[:, None]
        never = np.full((300, 1), np.inf, np.float32)  # from-landmark terms: inf - inf, skipped
        for s in rng.choice(300, 10, replace=False):
            dist, pred, _ = _shortest_paths(m.indptr, m.indices, m.data, int(s), int(t), np.inf,
                                            graph.node_x, graph.node_y, 0.0, never,
                                            scaled, 0.0)
            expected = dijkstra(m, indices=int(s))
            assert dist[t] == expected[t] or not np.isfinite(expected[t])
            if np.isfinite(expected[t]):
                path = path_to(graph, ShortestPathTree(int(s), dist, pred, False), int(t))
                assert list(path.nodes) == _oracle_path(graph, expected, int(s), int(t))


def test_tables_are_computed_once_across_threads(poa_network):
    graph = compile_layer(poa_network.streets["car"], weight="duration")
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(graph.landmarks())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4 and all(t is seen[0] for t in seen)
