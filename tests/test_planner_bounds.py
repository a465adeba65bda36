"""The kernel's target-pruning bounds by vehicles left (``raptor._time_left_by_vehicles``).

Two oracles on Porto Alegre searches captured from the walk+transit plans of
``bench/bench_plan.py``'s seeded pairs (``bench/bench_kernel.py`` captures them):

- the bounds' own definition, computed forwards by a plain Bellman-Ford over vehicles from a
  few sampled stops (the kernel's sweep runs backwards from the destination for all stops at
  once): the fastest ride time (each position's fastest hop, no waiting) and the least CO2e
  with at most ``j`` vehicles must equal the bound of a label of round ``max_rounds - j``;
- the timetable: a connection scan limited to ``j`` vehicles from the same stops at a real
  time never reaches the destination before the time bound says, nor the kernel's own
  journeys from there with less CO2e than the CO2e bound.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from bench_scripts import bench_script

from planner import raptor

SEED = 20261204
BIG = 10**8  # a horizon no bound reaches


@pytest.fixture(scope="module")
def searches(poa_network):
    """(timetable, search) of the first walk+transit plans of ``bench_plan.py``'s pairs."""
    return bench_script("bench_kernel").captured_searches(poa_network, 8)[:6]


def _bounds(tt, q, horizon: int = BIG):
    """``(ride, ready, ride_g, ready_g)`` by round and stop (``_NEVER``/inf out of reach), the
    same from the sweeps over every pattern and stop and from those over the stops in reach
    (on a workspace a search of the other half of the samples used before)."""
    shape = (q.access_s.shape[0], tt.dp_stop_indptr.shape[0] - 1, q.max_rounds)
    every = raptor._time_left_by_vehicles(tt, q, horizon, raptor.new_workspace(*shape, False))
    _USED.setdefault(shape, raptor.new_workspace(*shape, True))
    reach = raptor._time_left_by_vehicles(tt, q, horizon, _USED[shape])
    for a, b in zip(every, reach, strict=True):
        assert np.array_equal(a, b)
    return tuple(rows.copy() for rows in every)


_USED: dict = {}  # one reused in-reach workspace per shape


def _walk_s(tt, q, e: int) -> int:
    return max(math.ceil(tt.fp_distance_m[e] / q.walk_speed_mps), int(tt.min_transfer_s[tt.fp_target[e]]))


def _forward(tt, q, source: int, vehicles: int) -> tuple[float, float]:
    """Least ride time (fastest hops, no waiting) and least CO2e from boarding at ``source``
    to the destination with at most ``vehicles`` vehicles: Bellman-Ford over vehicles, each
    criterion on its own (a bound per criterion)."""
    best_t = best_g = math.inf
    ready_t, ready_g = {source: 0.0}, {source: 0.0}  # ready to board, per stop
    for _ in range(vehicles):
        off_t: dict[int, float] = {}
        off_g: dict[int, float] = {}
        for s in set(ready_t) | set(ready_g):
            for e in range(tt.stop_dp_indptr[s], tt.stop_dp_indptr[s + 1]):
                p, pos = int(tt.stop_dp[e]), int(tt.stop_dp_pos[e])
                a, b = int(tt.dp_stop_indptr[p]), int(tt.dp_stop_indptr[p + 1])
                if (not q.allowed[p] or not tt.dp_board_ok[a + pos]
                        or tt.dp_trip_indptr[p + 1] <= tt.dp_trip_indptr[p]):
                    continue
                t, g0 = ready_t.get(s, math.inf), ready_g.get(s, math.inf)
                f = tt.dp_factor[p] / 1000.0
                for row in range(a + pos + 1, b):
                    t += int(tt.dp_hop_s[row - 1])
                    if not tt.dp_alight_ok[row]:
                        continue
                    u = int(tt.dp_stops[row])
                    off_t[u] = min(off_t.get(u, math.inf), t)
                    g = g0 + f * (tt.dp_cum_m[row] - tt.dp_cum_m[a + pos])
                    off_g[u] = min(off_g.get(u, math.inf), g)
        ready_t, ready_g = {}, {}
        for u in off_t:
            if q.egress_s[u] >= 0:
                best_t = min(best_t, off_t[u] + q.egress_s[u])
                best_g = min(best_g, off_g[u])
            for v, add in [(u, 0), *((int(tt.fp_target[e]), _walk_s(tt, q, e))
                                     for e in range(tt.fp_indptr[u], tt.fp_indptr[u + 1])
                                     if tt.fp_distance_m[e] <= q.max_walk_m)]:
                ready_t[v] = min(ready_t.get(v, math.inf), off_t[u] + add)
                ready_g[v] = min(ready_g.get(v, math.inf), off_g[u])
    return best_t, best_g


def _samples(tt, q, rng, n: int) -> list[int]:
    served = np.flatnonzero(np.diff(tt.stop_dp_indptr) > 0)
    return [int(s) for s in rng.choice(served, n, replace=False)]


def test_bounds_equal_their_definition_computed_forwards(searches):
    rng = np.random.default_rng(SEED)
    checked = reachable = 0
    for tt, q in searches[:3]:
        ride, ready, ride_g, ready_g = _bounds(tt, q)
        K = q.max_rounds
        for s in _samples(tt, q, rng, 4):
            for j in (1, 2, 3):
                want_t, want_g = _forward(tt, q, s, j)
                got_t = ready[K - j, s]
                if want_t == math.inf:
                    assert got_t == raptor._NEVER and ready_g[K - j, s] == math.inf
                    continue
                assert got_t == want_t, (s, j)
                assert ready_g[K - j, s] == pytest.approx(want_g, rel=1e-8, abs=1e-6)
                assert ready_g[K - j, s] <= want_g  # never rounded above
                checked += 1
                reachable += want_t < BIG
    assert checked >= 20 and reachable >= 20
    # with no vehicle left only the egress walk remains; after a ride, also a change
    for tt, q in searches:
        ride, ready, _, _ = _bounds(tt, q)
        K = q.max_rounds
        egress = np.where(q.egress_s >= 0, q.egress_s, raptor._NEVER)
        assert np.array_equal(ride[K], egress)
        assert (ready[K] == raptor._NEVER).all()
        assert (ride[1:K] <= ride[2:K + 1]).all() and (ride[1:K] <= egress).all()


def _scan(tt, q, source: int, start_s: int, vehicles: int) -> int:
    """Earliest destination arrival from boarding at ``source`` at ``start_s`` with at most
    ``vehicles`` vehicles on the day's trips: one pass over the trips per vehicle, footpaths
    and changes at a stop as the kernel walks them."""
    n_stops = q.egress_s.shape[0]
    ready = np.full(n_stops, np.iinfo(np.int64).max // 2)
    ready[source] = start_s
    best = math.inf
    for _ in range(vehicles):
        alight = np.full(n_stops, np.iinfo(np.int64).max // 2)
        for p in range(tt.dp_stop_indptr.shape[0] - 1):
            if not q.allowed[p]:
                continue
            a, b = int(tt.dp_stop_indptr[p]), int(tt.dp_stop_indptr[p + 1])
            stops = tt.dp_stops[a:b]
            for trip in range(tt.dp_trip_indptr[p], tt.dp_trip_indptr[p + 1]):
                base = int(tt.trip_time_base[trip])
                dep, arr = tt.st_dep[base:base + b - a], tt.st_arr[base:base + b - a]
                boarded = (tt.dp_board_ok[a:b] & (ready[stops] <= dep))[:-1]
                if not boarded.any():
                    continue
                first = int(np.argmax(boarded))
                later = np.arange(first + 1, b - a)
                later = later[tt.dp_alight_ok[a + later]]
                np.minimum.at(alight, stops[later], arr[later])
        egress = q.egress_s >= 0
        if egress.any():
            best = min(best, float((alight[egress] + q.egress_s[egress]).min()))
        ready = alight + tt.min_transfer_s
        for u in np.flatnonzero(alight < np.iinfo(np.int64).max // 2):
            for e in range(tt.fp_indptr[u], tt.fp_indptr[u + 1]):
                if tt.fp_distance_m[e] <= q.max_walk_m:
                    v = int(tt.fp_target[e])
                    ready[v] = min(ready[v], alight[u] + _walk_s(tt, q, e))
    return best


def test_no_journey_on_the_timetable_beats_the_bounds(searches):
    rng = np.random.default_rng(SEED + 1)
    reached = journeys = 0
    for tt, q in searches[3:5]:
        _, ready, _, ready_g = _bounds(tt, q)
        K = q.max_rounds
        for s in _samples(tt, q, rng, 3):
            start_s = int(q.start_s) + int(rng.integers(0, 3600))
            for j in (1, 3):
                arrival = _scan(tt, q, s, start_s, j)
                assert arrival >= start_s + ready[K - j, s], (s, j)
                reached += arrival < math.inf
            # the kernel's own journeys from s (boarding there): no greener than the bound
            access = np.full_like(q.access_s, -1)
            access[s] = 0
            one = q._replace(access_s=access, start_s=start_s, max_arrival_s=start_s + 4 * 3600,
                             max_destination_s=start_s + 5 * 3600)
            result = raptor.mc_raptor(tt, one)
            for i in range(result[3]):
                assert result[5][i] >= ready_g[0, s] - 1e-9
                journeys += 1
    assert reached >= 3 and journeys >= 3


def test_a_horizon_keeps_the_bounds_within_it_and_cuts_the_rest(searches):
    """With the search's horizon the time bounds are those without one, cut at it; the CO2e
    bounds are no lower (rides too slow to count are left out) and infinite where the time
    bound is cut."""
    cut = 0
    for tt, q in searches:
        horizon = int(q.max_destination_s - q.start_s)
        near, far = _bounds(tt, q, horizon), _bounds(tt, q)
        for got, want in zip(near[:2], far[:2], strict=True):
            assert np.array_equal(got, np.where(want <= horizon, want, raptor._NEVER))
        for g_near, g_far, t_near in zip(near[2:], far[2:], near[:2], strict=True):
            finite = t_near < raptor._NEVER
            assert (g_near[finite] >= g_far[finite]).all()
            assert np.isinf(g_near[~finite]).all()
        cut += (near[0] == raptor._NEVER).sum() - (far[0] == raptor._NEVER).sum()
    assert cut > 0  # the horizon left some stops out of reach


def test_searches_keep_the_same_journeys_on_a_reused_in_reach_workspace(searches):
    """The kernel with bounds swept over the stops in reach (large networks), on one
    workspace reused from search to search, finds the journeys it finds with the plain
    sweeps (Porto Alegre is below ``IN_REACH_MIN_STOPS``, so both are forced here)."""
    reused = None
    for tt, q in searches:
        shape = (q.access_s.shape[0], tt.dp_stop_indptr.shape[0] - 1, q.max_rounds)
        reused = reused or raptor.new_workspace(*shape, True)
        plain = raptor.mc_raptor(tt, q, raptor.new_workspace(*shape, False))
        in_reach = raptor.mc_raptor(tt, q, reused)
        n = int(plain[3])
        assert n == int(in_reach[3]) > 0
        assert np.array_equal(plain[4][:n], in_reach[4][:n])
        assert np.array_equal(plain[5][:n], in_reach[5][:n])
        assert np.array_equal(plain[0], in_reach[0])  # the same labels kept everywhere


def test_a_thread_keeps_one_workspace_per_network_size_and_vehicles(searches):
    """Day tables come and go (realtime feeds): a thread reuses its workspace for a network
    and number of vehicles, replaces it only by a larger one for a table with more patterns,
    and the plain sweeps get no rows at all."""
    tt, q = searches[0]
    small = raptor.workspace_for(tt, q)
    assert not small.in_reach_sweeps[0] and small.ride.size == 0 and small.active.size == 0
    big = q._replace(access_s=np.full(raptor.IN_REACH_MIN_STOPS, -1, np.int32))
    patterns = tt.dp_stop_indptr.shape[0] - 1
    first = raptor.workspace_for(tt, big)
    assert first.in_reach_sweeps[0] and first.ride.shape == (q.max_rounds + 1,
                                                             raptor.IN_REACH_MIN_STOPS)
    fewer = tt._replace(dp_stop_indptr=tt.dp_stop_indptr[:-1])
    assert raptor.workspace_for(fewer, big) is first
    more = tt._replace(dp_stop_indptr=np.zeros(patterns + 11, np.int64))
    grown = raptor.workspace_for(more, big)
    assert grown is not first and grown.active.shape[0] == patterns + 10
    assert raptor.workspace_for(tt, big) is grown
    assert raptor.workspace_for(tt, q._replace(max_rounds=q.max_rounds - 1)) is not small


def test_on_board_bounds_equal_their_definition_and_no_real_ride_beats_them(searches):
    """A trip ridden along a pattern is dropped once its on-board bound is covered
    (``raptor._on_board_bounds``): from a departure at a position, the fastest hops to any
    later alighting plus that stop's ride bound, and the least CO2e there. Checked against
    the definition summed position by position, and against every trip's real times."""
    rng = np.random.default_rng(SEED + 1)
    checked = 0
    for tt, q in searches[:3]:
        ride, ready, ride_g, ready_g = _bounds(tt, q)
        left = raptor._Left(raptor._time_left(tt, q, BIG), ride, ready, ride_g, ready_g)
        st = raptor._new_state(tt, q)
        runnable = [p for p in range(tt.dp_stop_indptr.shape[0] - 1)
                    if tt.dp_trip_indptr[p + 1] > tt.dp_trip_indptr[p]]
        for p in rng.choice(runnable, 6, replace=False):
            a, b = int(tt.dp_stop_indptr[p]), int(tt.dp_stop_indptr[p + 1])
            f = tt.dp_factor[p] / 1000.0
            for k in range(1, q.max_rounds + 1):
                start = int(rng.integers(0, b - a))
                raptor._on_board_bounds(tt, k, int(p), start, left, st)
                for pos in range(start, b - a):
                    want_t, want_g, hops = raptor._NEVER, math.inf, 0
                    for later in range(pos + 1, b - a):
                        hops += int(tt.dp_hop_s[a + later - 1])
                        s = int(tt.dp_stops[a + later])
                        if tt.dp_alight_ok[a + later] and ride[k, s] < raptor._NEVER:
                            want_t = min(want_t, hops + int(ride[k, s]))
                            want_g = min(want_g, f * tt.dp_cum_m[a + later] + ride_g[k, s])
                    assert st.on_board_s[pos - start] == want_t, (p, k, pos)
                    assert st.on_board_g[pos - start] == want_g, (p, k, pos)
                    for trip in range(tt.dp_trip_indptr[p], tt.dp_trip_indptr[p + 1]):
                        row = tt.trip_time_base[trip]
                        for later in range(pos + 1, b - a):
                            s = int(tt.dp_stops[a + later])
                            if tt.dp_alight_ok[a + later] and ride[k, s] < raptor._NEVER:
                                assert (tt.st_dep[row + pos] + st.on_board_s[pos - start]
                                        <= tt.st_arr[row + later] + ride[k, s])
                    checked += 1
    assert checked >= 200


@pytest.mark.parametrize("n", [0, 1, 2, 7, 64, 513])
def test_marked_stops_are_sorted_in_place_without_touching_the_rest(n):
    """The kernel sorts a round's marked stops in place (``raptor._heapsort``: numba's own
    sort allocates, which the reference-count-free rounds must not)."""
    rng = np.random.default_rng(n)
    a = rng.permutation(4 * n + 3).astype(np.int32)
    want = np.concatenate([np.sort(a[:n]), a[n:]])
    raptor._heapsort(a, n)
    assert np.array_equal(a, want)
