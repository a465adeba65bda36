"""The fast paths of the rest of a plan (snapping, sums, stop distances) against the plain
computations they replace; tests/test_plan_equivalence.py checks whole plans."""
from __future__ import annotations

import numpy as np
import pytest

from planner import Planner
from planner.itineraries import numpy_sum
from planner.snap import SnapCache
from planner.street_search import search
from planner.transit import _walk_seconds, stop_walk_distances


@pytest.mark.parametrize("n", [0, 1, 2, 5, 7, 8, 9, 12, 16, 17, 40])
def test_numpy_sum_is_numpy_bit_for_bit(n):
    rng = np.random.default_rng(n)
    for _ in range(300):
        scale = 10.0 ** rng.integers(-3, 7, n)
        values = (rng.random(n) * scale).tolist()
        got = numpy_sum(values)
        assert got == float(np.sum(values)) and type(got) is float


def test_a_queries_two_ends_snap_as_one_point_at_a_time(poa_network):
    planner = Planner(poa_network)
    rng = np.random.default_rng(7)
    west, south, east, north = poa_network.manifest["coverage"]["bbox"]
    points = list(zip(rng.uniform(south, north, 400).tolist(),
                      rng.uniform(west, east, 400).tolist(), strict=True))
    for snapper in planner.snappers.values():
        cache = SnapCache()
        for a, b in zip(points[::2], points[1::2], strict=True):
            assert cache.nearest_many(snapper, (a, b)) == [snapper.nearest(*a),
                                                           snapper.nearest(*b)]
        assert len(cache) == len(points)
        assert cache.nearest_many(snapper, (points[0], points[0])) == [snapper.nearest(*points[0])] * 2


def test_stop_walk_distances_and_seconds_equal_the_array_formulas(poa_network):
    planner = Planner(poa_network)
    tt = poa_network.timetable
    walk = planner.graphs["walk"]
    for source, snap_m, limit in ((5, 12.5, 1500.0), (9000, 0.0, 800.0), (123, 3.25, np.inf)):
        tree = search(walk, source, limit=limit)
        got = stop_walk_distances(tt, tree, snap_m=snap_m, max_walk_m=limit)
        node = tt.stop_walk_node
        want = np.full(tt.n_stops, np.inf)
        linked = node >= 0
        want[linked] = tree.dist[node[linked]] + tt.stop_link_distance_m[linked] + snap_m
        want[~np.isfinite(want) | (want > limit)] = -1.0
        assert (got >= 0).sum() > 10
        assert got.tolist() == want.tolist()
        seconds = np.full(tt.n_stops, -1, np.int32)
        ok = got >= 0
        seconds[ok] = np.ceil(got[ok] / 1.33).astype(np.int32)
        assert _walk_seconds(got, 1.33).tolist() == seconds.tolist()
