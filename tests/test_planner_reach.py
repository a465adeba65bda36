"""Reach maps on Porto Alegre against independent computations.

- a multi-criteria connection scan (CSA) over the day's connections, written here, gives every
  stop's earliest arrival and lowest CO2e within the budget (all labels kept, no rounds);
- scipy's Dijkstra from a super-source (one edge per stop label, weighted by its arrival) gives
  every street node's earliest arrival, and per sampled node the lowest CO2e that still walks
  there in time;
- the reach map must list exactly the stops and nodes the oracle reaches, with equal times and
  CO2e; H3 cells are checked against shapely; bad requests raise QueryError naming the field.
"""
from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from planner import Planner, QueryError
from planner.reach import MAX_REACH_MINUTES, make_reach_query, reach_map

TZ = ZoneInfo("America/Sao_Paulo")
WHEN = datetime(2019, 5, 13, 12, 30, tzinfo=TZ)
WALK_MPS = 1.33


@pytest.fixture(scope="module")
def planner(poa_network):
    return Planner(poa_network)


def _origins(poa_network, n: int, seed: int) -> list[tuple[float, float]]:
    """Walk nodes of linked stops (in the main component): origins where transit matters."""
    tt, walk = poa_network.timetable, poa_network.streets["walk"]
    nodes = np.unique(tt.stop_walk_node[tt.stop_walk_node >= 0])
    rng = np.random.default_rng(seed)
    picked = rng.choice(nodes, n, replace=False)
    return [(float(walk.node_lat[i]), float(walk.node_lon[i])) for i in picked]


# ------------------------------------------------------------------------------ the oracle
def _connections(day, start_s: int, deadline_s: int):
    """(dep, arr, trip, pos, u, v, co2e_g, board_ok, alight_ok) of every hop of the day table
    leaving within [start, deadline], sorted by departure (then arrival, trip, position)."""
    rows = []
    for p in range(len(day.dp_pattern)):
        a, b = int(day.dp_stop_indptr[p]), int(day.dp_stop_indptr[p + 1])
        stops, cum = day.dp_stops[a:b], day.dp_cum_m[a:b]
        f = float(day.dp_factor[p]) / 1000.0
        for t in range(int(day.dp_trip_indptr[p]), int(day.dp_trip_indptr[p + 1])):
            r = int(day.trip_time_base[t])
            dep, arr = day.st_dep[r:r + b - a], day.st_arr[r:r + b - a]
            for i in np.nonzero((dep[:-1] >= start_s) & (dep[:-1] <= deadline_s))[0]:
                rows.append((int(dep[i]), int(arr[i + 1]), t, int(i), int(stops[i]),
                             int(stops[i + 1]), f * float(cum[i + 1] - cum[i]),
                             bool(day.dp_board_ok[a + i]), bool(day.dp_alight_ok[a + i + 1])))
    rows.sort(key=lambda row: row[:4])
    return rows


def _csa(connections, seeds, deadline_s, min_transfer, footpaths):
    """Every label (arrival, ready, CO2e) at each stop by a plain multi-criteria connection
    scan: a trip carries the lowest CO2e of anyone aboard; a label no better than another in
    all three criteria is not stored (footpaths are walked from every alighting anyway)."""
    labels: dict[int, list] = {}

    def add(s, arr, ready, co2):
        bag = labels.setdefault(s, [])
        if not any(a <= arr and r <= ready and c <= co2 for a, r, c in bag):
            bag.append((arr, ready, co2))

    for s, arr in seeds:
        add(s, arr, arr, 0.0)
    aboard: dict[int, float] = {}
    for dep, arr, trip, _, u, v, co2, board_ok, alight_ok in connections:
        c = aboard.get(trip, math.inf)
        if board_ok:
            c = min([c] + [lc for _, r, lc in labels.get(u, ()) if r <= dep])
        if c == math.inf:
            continue
        c += co2
        aboard[trip] = c
        if alight_ok and arr <= deadline_s:
            add(v, arr, arr + int(min_transfer[v]), c)
            for w, d in footpaths.get(v, ()):
                a = arr + max(math.ceil(d / WALK_MPS), int(min_transfer[w]))
                if a <= deadline_s:
                    add(w, a, a, c)
    return labels


def _footpaths(day, max_walk_m):
    out: dict[int, list] = {}
    for s in range(len(day.fp_indptr) - 1):
        a, b = day.fp_indptr[s], day.fp_indptr[s + 1]
        out[s] = [(int(w), float(d)) for w, d in zip(day.fp_target[a:b], day.fp_distance_m[a:b], strict=True)
                  if d <= max_walk_m]
    return out


class Oracle:
    """Stop and node arrivals and CO2e of one reach request, computed independently."""

    def __init__(self, planner, network, origin, minutes, max_walk_m=1500.0, when=WHEN):
        walk, tt = planner.graphs["walk"], network.timetable
        node, snap_m = planner.snappers["walk"].nearest(*origin)
        day = planner.transit.day(when.date(), False)
        start = when.hour * 3600 + when.minute * 60  # no DST in May: GTFS seconds = wall clock
        self.start, self.deadline = start, start + minutes * 60
        self.csr = csr_matrix((walk.csr.data, walk.csr.indices, walk.csr.indptr),
                              shape=walk.csr.shape)
        origin_m = dijkstra(self.csr, indices=node, limit=max_walk_m)
        stop_m = snap_m + origin_m[np.maximum(tt.stop_walk_node, 0)] + tt.stop_link_distance_m
        ok = (tt.stop_walk_node >= 0) & (stop_m <= max_walk_m)
        seeds = [(int(s), start + math.ceil(stop_m[s] / WALK_MPS)) for s in np.nonzero(ok)[0]]
        labels = _csa(_connections(day, start, self.deadline), seeds, self.deadline,
                      day.min_transfer_s, _footpaths(day, max_walk_m))
        self.labels = labels
        # street sources: the origin (0 g) and every stop label, each at its node
        self.sources = [(node, start + snap_m / WALK_MPS, 0.0)] + [
            (int(tt.stop_walk_node[s]), a + float(tt.stop_link_distance_m[s]) / WALK_MPS, c)
            for s, bag in labels.items() if tt.stop_walk_node[s] >= 0 for a, _, c in bag]
        self.node_time = self._earliest(self.sources)
        self.tt = tt

    def _earliest(self, sources):
        """Earliest arrival at every node from timed sources: Dijkstra from a super-source."""
        n = self.csr.shape[0]
        t0 = min(t for _, t, _ in sources)
        rows = np.full(len(sources), n)
        cols = np.array([v for v, _, _ in sources])
        data = np.array([(t - t0) * WALK_MPS + 1e-9 for _, t, _ in sources])
        dist = dijkstra(_min_duplicates(self.csr.tocoo(), rows, cols, data, n), indices=n)[:n]
        return t0 + (dist - 1e-9) / WALK_MPS

    def node_co2(self, node: int) -> float:
        """Lowest CO2e of a source that walks to ``node`` within the deadline."""
        back = dijkstra(self.csr.T.tocsr(), indices=node)
        best = math.inf
        for v, t, c in self.sources:
            if t + back[v] / WALK_MPS <= self.deadline + 1e-6:
                best = min(best, c)
        return best

    def stops(self) -> dict[int, float]:
        """Earliest arrival at each reached stop, by a label or walking to it."""
        tt = self.tt
        out = {}
        for s in range(tt.n_stops):
            arr = min((a for a, _, _ in self.labels.get(s, [])), default=math.inf)
            w = int(tt.stop_walk_node[s])
            if w >= 0:
                arr = min(arr, self.node_time[w] + float(tt.stop_link_distance_m[s]) / WALK_MPS)
            if arr <= self.deadline:
                out[s] = arr
        return out


def _min_duplicates(coo, rows, cols, data, n):
    """The street graph plus super-source edges, keeping the cheapest of parallel edges."""
    r = np.concatenate([coo.row, rows])
    c = np.concatenate([coo.col, cols])
    d = np.concatenate([coo.data, data])
    order = np.lexsort((d, c, r))
    r, c, d = r[order], c[order], d[order]
    first = np.ones(len(r), bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    return csr_matrix((d[first], (r[first], c[first])), shape=(n + 1, n + 1))


# ------------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("seed,minutes,when", [
    (1, 30, WHEN), (2, 20, WHEN), (3, 45, WHEN),
    (8, 40, datetime(2019, 5, 13, 15, 40, tzinfo=TZ)),
])
def test_stops_and_nodes_equal_a_connection_scan(planner, poa_network, seed, minutes, when):
    (origin,) = _origins(poa_network, 1, seed)
    reach = reach_map(planner, make_reach_query(origin=origin, when=when, minutes=minutes))
    oracle = Oracle(planner, poa_network, origin, minutes, when=when)
    tt = poa_network.timetable
    index = {str(stop_id): i for i, stop_id in enumerate(tt.stop_id)}
    got = {index[s.stop_id]: s for s in reach.stops}
    expected = oracle.stops()
    # every stop listed is reachable, and nothing reachable is left out
    assert set(got) == set(expected), (origin, set(got) ^ set(expected))
    assert any(c > 0 for bag in oracle.labels.values() for _, _, c in bag)  # rides were taken
    for s, arr in expected.items():
        assert got[s].minutes * 60 == pytest.approx(arr - oracle.start, abs=1e-3), s
        assert got[s].minutes <= minutes
    # lowest CO2e: stops reached by a label only get the label's (the walk check is costly)
    rng = np.random.default_rng(seed)
    for s in rng.choice(sorted(expected), min(40, len(expected)), replace=False):
        bag = oracle.labels.get(int(s), [])
        w = int(tt.stop_walk_node[s])
        co2 = min((c for _, _, c in bag), default=math.inf)
        if w >= 0:
            walked = oracle.node_time[w] + float(tt.stop_link_distance_m[s]) / WALK_MPS
            if walked <= oracle.deadline:
                co2 = min(co2, oracle.node_co2(w))
        assert got[int(s)].co2e_g == pytest.approx(co2, abs=1e-6), s
    # street nodes: the same set, the same earliest arrivals
    (walked,) = [n for n in reach.nodes if n.layer == "walk"]
    reached = np.nonzero(oracle.node_time <= oracle.deadline)[0]
    assert set(walked.node.tolist()) == set(reached.tolist())
    order = np.argsort(walked.node)
    np.testing.assert_allclose(walked.minutes[order] * 60,
                               oracle.node_time[walked.node[order]] - oracle.start, atol=1e-3)
    for i in rng.choice(len(walked.node), 15, replace=False):
        assert walked.co2e_g[i] == pytest.approx(oracle.node_co2(int(walked.node[i])), abs=1e-6)


def test_bands_partition_the_reached_cells(planner, poa_network):
    import h3
    from shapely.geometry import Point, shape

    (origin,) = _origins(poa_network, 1, 4)
    reach = reach_map(planner, make_reach_query(origin=origin, when=WHEN, minutes=30,
                                                band_minutes=10))
    assert [(b.low, b.high) for b in reach.time_bands] == [(0, 10), (10, 20), (20, 30)]
    assert sum(b.cells for b in reach.time_bands) == sum(b.cells for b in reach.co2e_bands)
    shapes = [shape(b.geometry) for b in reach.time_bands]
    for a in range(len(shapes)):
        assert shapes[a].is_valid
        for b in range(a + 1, len(shapes)):
            assert shapes[a].intersection(shapes[b]).area < 1e-12  # disjoint rings
    # every reached node lies in the band of its own minutes (H3 cell of the node checked
    # against shapely: the cell polygon contains the node)
    (walked,) = [n for n in reach.nodes if n.layer == "walk"]
    layer = poa_network.streets["walk"]
    rng = np.random.default_rng(4)
    for i in rng.choice(len(walked.node), 30, replace=False):
        lat, lon = float(layer.node_lat[walked.node[i]]), float(layer.node_lon[walked.node[i]])
        cell = h3.latlng_to_cell(lat, lon, reach.resolution)
        hexagon = shape({"type": "Polygon", "coordinates": [[(x, y) for y, x in
                                                             h3.cell_to_boundary(cell)]]})
        assert hexagon.buffer(1e-9).contains(Point(lon, lat))
        inside = [b for b, s in zip(reach.time_bands, shapes, strict=True) if s.buffer(1e-9).contains(
            Point(lon, lat))]
        assert len(inside) == 1 and inside[0].low <= walked.minutes[i] + 1e-9
    # H3's cell areas at this resolution: about 0.1 km2, as h3 documents (checked with shapely)
    cell = h3.latlng_to_cell(*origin, reach.resolution)
    assert 0.07 < h3.cell_area(cell, "km^2") < 0.13
    assert {h3.latlng_to_cell(*h3.cell_to_latlng(c), reach.resolution)
            for c in h3.grid_disk(cell, 1)} == set(h3.grid_disk(cell, 1))


def test_walk_only_and_bike_reach_no_stop_by_vehicle(planner, poa_network):
    (origin,) = _origins(poa_network, 1, 5)
    walk = reach_map(planner, make_reach_query(origin=origin, when=WHEN, minutes=15,
                                               modes={"walk"}))
    assert walk.rounds == 0 and walk.stops and all(s.co2e_g == 0 for s in walk.stops)
    (walked,) = walk.nodes
    at = dict(zip(walked.node.tolist(), walked.minutes.tolist(), strict=True))
    tt = poa_network.timetable
    index = {str(stop_id): i for i, stop_id in enumerate(tt.stop_id)}
    for stop in walk.stops:  # a stop walked to: its node's minutes plus the link
        s = index[stop.stop_id]
        link_min = float(tt.stop_link_distance_m[s]) / WALK_MPS / 60
        assert stop.minutes == pytest.approx(at[int(tt.stop_walk_node[s])] + link_min, abs=1e-6)
    assert all(b.high == 0.0 for b in walk.co2e_bands)
    bike = reach_map(planner, make_reach_query(origin=origin, when=WHEN, minutes=15,
                                               modes={"walk", "bike"}))
    assert sum(b.cells for b in bike.time_bands) > sum(b.cells for b in walk.time_bands)
    # the bike nodes are those scipy's Dijkstra rides to within 15 minutes, at the same times
    graph = planner.graphs["bike"]
    node, snap_m = planner.snappers["bike"].nearest(*origin)
    seconds = (dijkstra(csr_matrix((graph.csr.data, graph.csr.indices, graph.csr.indptr),
                                   shape=graph.csr.shape), indices=node) + snap_m) / 4.2
    (ridden,) = [n for n in bike.nodes if n.layer == "bike"]
    assert set(ridden.node.tolist()) == set(np.nonzero(seconds <= 15 * 60 + 1e-6)[0].tolist())
    np.testing.assert_allclose(ridden.minutes * 60, seconds[ridden.node], atol=1e-6)
    assert (ridden.co2e_g == 0).all()
    both = reach_map(planner, make_reach_query(origin=origin, when=WHEN, minutes=15,
                                               modes={"walk", "transit"}))
    assert sum(b.cells for b in both.time_bands) >= sum(b.cells for b in walk.time_bands)


def test_own_bike_to_a_station_reaches_at_least_as_much(planner, poa_network):
    (origin,) = _origins(poa_network, 1, 6)
    plain = reach_map(planner, make_reach_query(origin=origin, when=WHEN, minutes=40))
    bike = reach_map(planner, make_reach_query(origin=origin, when=WHEN, minutes=40,
                                               access_modes={"bike"}))
    plain_at = {s.stop_id: s.minutes for s in plain.stops}
    bike_at = {s.stop_id: s.minutes for s in bike.stops}
    assert set(plain_at) <= set(bike_at)
    assert all(bike_at[s] <= m + 1e-9 for s, m in plain_at.items())


@pytest.mark.parametrize("options,field", [
    ({"minutes": 0}, "minutes"), ({"minutes": MAX_REACH_MINUTES + 1}, "minutes"),
    ({"minutes": 12.5}, "minutes"), ({"minutes": "30"}, "minutes"),
    ({"band_minutes": 0}, "band_minutes"), ({"modes": {"car_petrol"}}, "modes"),
    ({"modes": {"walk", "taxi"}}, "modes"), ({"modes": {"rocket"}}, "modes"),
    ({"access_modes": {"car_petrol"}}, "modes"),
])
def test_bad_requests_name_the_field(options, field):
    with pytest.raises(QueryError) as err:
        make_reach_query(origin=(-30.03, -51.22), when=WHEN, **options)
    assert err.value.field == field


def test_realtime_closure_reaches_what_a_scan_of_the_live_table_reaches(planner, poa_network):
    """With a feed closing the stops by the origin, the reach map follows the live day table
    (the oracle scans the same live table) and loses what only those stops gave."""
    from test_planner_realtime import FEED, _feed

    from planner.realtime import RealtimeState, decode_feed

    (origin,) = _origins(poa_network, 1, 7)
    request = make_reach_query(origin=origin, when=WHEN, minutes=25)
    scheduled = reach_map(planner, request)
    near = [s.stop_id for s in scheduled.stops if s.co2e_g == 0 and s.minutes < 8
            and s.stop_id.startswith(FEED)]
    router = planner.transit
    router.realtime = RealtimeState(router.timetable, router.tz,
                                    feeds=(decode_feed(FEED, _feed(closed_stops=near)),))
    try:
        live = reach_map(planner, request)
        oracle = Oracle(planner, poa_network, origin, 25)
        expected = oracle.stops()
    finally:
        router.realtime = None
    index = {str(stop_id): i for i, stop_id in enumerate(poa_network.timetable.stop_id)}
    got = {index[s.stop_id]: s.minutes * 60 for s in live.stops}
    assert set(got) == set(expected)
    for s, arr in expected.items():
        assert got[s] == pytest.approx(arr - oracle.start, abs=1e-3)
    before = {s.stop_id: s.minutes for s in scheduled.stops}
    after = {s.stop_id: s.minutes for s in live.stops}
    assert len(after) < len(before) or any(after[s] > before[s] + 1e-6 for s in after)


def test_a_pass_rerun_with_larger_bags_is_exact(planner, poa_network):
    """Bags of 2 labels overflow at once: the rerun must give the bags a roomy pass gives."""
    from planner._reach_kernel import ReachSearch
    from planner.reach import run_pass

    tt = poa_network.timetable
    day = planner.transit.day(WHEN.date(), False)
    start = 12 * 3600 + 30 * 60
    stops = np.nonzero(tt.stop_walk_node >= 0)[0][:40].astype(np.int32)
    search = ReachSearch(seed_stop=stops, seed_arr=np.full(len(stops), start + 300, np.int32),
                         seed_co2e_g=np.zeros(len(stops)),
                         allowed=np.ones(len(day.dp_pattern), bool), deadline_s=start + 2700,
                         walk_speed_mps=WALK_MPS, max_walk_m=1500.0, max_rounds=32, capacity=2)
    small, roomy = run_pass(day.kernel, search), run_pass(day.kernel,
                                                         search._replace(capacity=512))
    assert small.arr.shape[1] > 2 and not small.overflow and small.converged

    def labels(bags):
        return {(s, int(bags.arr[s, j]), int(bags.ready[s, j]), round(float(bags.co2e_g[s, j]), 6))
                for s in range(len(bags.size)) for j in range(bags.size[s])}
    assert labels(small) == labels(roomy)
