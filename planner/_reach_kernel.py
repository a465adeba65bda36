"""Reach-map kernels (numba): a one-to-all (arrival, CO2e) round-based pass over a day
timetable, and the walk from every reached stop to the street nodes.

The transit pass is McRAPTOR without a destination: every stop keeps one Pareto bag of
labels over (arrival, boarding-ready time, CO2e) across all rounds, with exact dominance (no
tolerance, no transfer criterion), so the bag's minimum arrival is the stop's earliest arrival
and its minimum CO2e the lowest CO2e of any journey arriving within the deadline (a ride
label is dominated only by ride labels: only rides walk footpaths on). Rounds run until no bag
changes. A label is a row of the ``L_*`` fields; ``READY`` is when a rider
standing there may board (a ride label adds the stop's minimum transfer time, as in
``planner.raptor``). A full bag or riding set sets the overflow flag instead of dropping a
label, so the caller can rerun with room to spare (the answer is then still exact).

``planner.raptor.mc_raptor`` cannot be reused: it prunes every label that cannot reach a
destination's egress stops, and a reach map has no destination.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ._heap import heap_pop, heap_push
from .raptor import earliest_trip, footpath_s

__all__ = ["ReachSearch", "ReachBags", "reach_pass", "spread_walk", "MAX_REACH_ROUNDS",
           "KIND_ACCESS", "KIND_RIDE", "KIND_FOOT"]

#: Rounds (vehicles) after which the pass stops even if bags still change (never reached on
#: Porto Alegre within 120 minutes: the pass converges after a handful of rounds).
MAX_REACH_ROUNDS = 32
#: Label kinds: the access walk or ride from the origin, a ride, a ride then a footpath.
KIND_ACCESS, KIND_RIDE, KIND_FOOT = 0, 1, 2


class ReachSearch(NamedTuple):
    """One reach pass's inputs (seeds are the access labels: stop, arrival, CO2e)."""

    seed_stop: np.ndarray         # int32
    seed_arr: np.ndarray          # int32 seconds of the day
    seed_co2e_g: np.ndarray       # float64
    allowed: np.ndarray           # bool (P,) day patterns the query may ride
    deadline_s: int               # labels arriving later are dropped
    walk_speed_mps: float         # on footpaths
    max_walk_m: float             # per footpath
    max_rounds: int
    capacity: int                 # labels per stop bag


class ReachBags(NamedTuple):
    """The pass's result: each stop's Pareto bag and how the pass ended."""

    size: np.ndarray              # int32 (S,)
    arr: np.ndarray               # int32 (S, capacity) arrival, seconds of the day
    ready: np.ndarray             # int32 (S, capacity) earliest boarding there
    co2e_g: np.ndarray            # float64 (S, capacity)
    kind: np.ndarray              # int8 (S, capacity) KIND_*
    overflow: bool                # a bag or riding set was full: rerun with more capacity
    rounds: int                   # rounds run
    converged: bool               # the last round changed no bag


class _Bag(NamedTuple):
    size: np.ndarray
    arr: np.ndarray
    ready: np.ndarray
    co2: np.ndarray
    kind: np.ndarray
    round_: np.ndarray
    flags: np.ndarray             # [overflow]


@njit(cache=True)
def _insert(bag, s, arr, ready, co2, kind, k):  # noqa: PLR0917 - numba's njit takes no keyword-only arguments
    """Add a label at stop ``s`` unless a label there is no worse in all three criteria;
    drop the labels it dominates. Only a ride label may walk a footpath on, so only a ride
    label dominates one. True if added."""
    n = bag.size[s]
    ride = kind == KIND_RIDE
    for j in range(n):
        if (bag.arr[s, j] <= arr and bag.ready[s, j] <= ready and bag.co2[s, j] <= co2
                and (bag.kind[s, j] == KIND_RIDE or not ride)):
            return False
    w = 0
    for j in range(n):
        if (arr <= bag.arr[s, j] and ready <= bag.ready[s, j] and co2 <= bag.co2[s, j]
                and (ride or bag.kind[s, j] != KIND_RIDE)):
            continue
        if w != j:
            bag.arr[s, w] = bag.arr[s, j]
            bag.ready[s, w] = bag.ready[s, j]
            bag.co2[s, w] = bag.co2[s, j]
            bag.kind[s, w] = bag.kind[s, j]
            bag.round_[s, w] = bag.round_[s, j]
        w += 1
    if w >= bag.arr.shape[1]:
        bag.size[s] = w
        bag.flags[0] = True
        return False
    bag.arr[s, w] = arr
    bag.ready[s, w] = ready
    bag.co2[s, w] = co2
    bag.kind[s, w] = kind
    bag.round_[s, w] = k
    bag.size[s] = w + 1
    return True


@njit(cache=True, nogil=True)
def reach_pass(tt, q):
    """Every stop's Pareto bag over (arrival, ready, CO2e) within ``q.deadline_s``.

    Parameters
    ----------
    tt : planner.raptor.Timetable
        The day timetable (only its pattern, trip, stop-index and footpath arrays are read).
    q : ReachSearch
        Access labels, allowed patterns, deadline, footpath limits, rounds and bag size.

    Returns
    -------
    tuple
        The fields of :class:`ReachBags`.
    """
    S = tt.stop_dp_indptr.shape[0] - 1
    P = tt.dp_stop_indptr.shape[0] - 1
    cap = q.capacity
    bag = _Bag(np.zeros(S, np.int32), np.empty((S, cap), np.int32), np.empty((S, cap), np.int32),
               np.empty((S, cap), np.float64), np.empty((S, cap), np.int8),
               np.empty((S, cap), np.int32), np.zeros(1, np.bool_))
    marked = np.zeros(S, np.bool_)
    for i in range(q.seed_stop.shape[0]):
        a = q.seed_arr[i]
        if a <= q.deadline_s and _insert(bag, q.seed_stop[i], a, a, q.seed_co2e_g[i],
                                         KIND_ACCESS, 0):
            marked[q.seed_stop[i]] = True
    first_pos = np.full(P, -1, np.int32)
    queue = np.empty(P, np.int32)
    ride_trip = np.empty(2 * cap, np.int32)
    ride_base = np.empty(2 * cap, np.float64)
    ride_board = np.empty(2 * cap, np.int32)
    k = 0
    converged = True
    while marked.any():
        if k >= q.max_rounds:
            converged = False
            break
        k += 1
        nq = _collect(tt, q, marked, first_pos, queue)
        new = np.zeros(S, np.bool_)
        for qi in range(nq):
            p = queue[qi]
            start = first_pos[p]
            first_pos[p] = -1
            _scan(tt, q, k, p, start, bag, marked, new, ride_trip, ride_base, ride_board)
        _footpaths(tt, q, k, bag, new)
        marked = new
    return (bag.size, bag.arr, bag.ready, bag.co2, bag.kind, bag.flags[0], k, converged)


@njit(cache=True)
def _collect(tt, q, marked, first_pos, queue):
    """Queue the allowed patterns through marked stops, each from its earliest marked position."""
    nq = 0
    for s in range(marked.shape[0]):
        if not marked[s]:
            continue
        for e in range(tt.stop_dp_indptr[s], tt.stop_dp_indptr[s + 1]):
            p = tt.stop_dp[e]
            if not q.allowed[p]:
                continue
            pos = tt.stop_dp_pos[e]
            if first_pos[p] < 0:
                queue[nq] = p
                nq += 1
                first_pos[p] = pos
            elif pos < first_pos[p]:
                first_pos[p] = pos
    return nq


@njit(cache=True)
def _scan(tt, q, k, p, start, bag, marked, new, ride_trip, ride_base, ride_board):  # noqa: PLR0917
    """Round ``k`` along day pattern ``p`` from ``start``: alight the trips being ridden, then
    board from the labels the previous round added at the stop."""
    base = tt.dp_stop_indptr[p]
    n = tt.dp_stop_indptr[p + 1] - base
    t0, t1 = tt.dp_trip_indptr[p], tt.dp_trip_indptr[p + 1]
    f = tt.dp_factor[p] / 1000.0
    rn = 0
    for pos in range(start, n):
        s = tt.dp_stops[base + pos]
        cum = tt.dp_cum_m[base + pos]
        if tt.dp_alight_ok[base + pos]:
            for r in range(rn):
                if ride_board[r] >= pos:
                    continue
                a = tt.st_arr[tt.trip_time_base[ride_trip[r]] + pos]
                if a > q.deadline_s:
                    continue
                if _insert(bag, s, a, a + tt.min_transfer_s[s], ride_base[r] + f * cum,
                           KIND_RIDE, k):
                    new[s] = True
        if not marked[s] or pos == n - 1 or not tt.dp_board_ok[base + pos]:
            continue
        for j in range(bag.size[s]):
            if bag.round_[s, j] != k - 1:
                continue
            t = earliest_trip(t0, t1, tt.trip_time_base, tt.st_dep, pos, bag.ready[s, j])
            if t >= t1 or tt.st_dep[tt.trip_time_base[t] + pos] > q.deadline_s:
                continue
            rn = _ride(ride_trip, ride_base, ride_board, rn, t, bag.co2[s, j] - f * cum, pos,
                       bag.flags)


@njit(cache=True)
def _ride(ride_trip, ride_base, ride_board, rn, t, b, pos, flags):  # noqa: PLR0917
    """Ride trip ``t`` (CO2e base ``b``) unless an earlier-or-same trip no dirtier is ridden."""
    for r in range(rn):
        if ride_trip[r] <= t and ride_base[r] <= b:
            return rn
    w = 0
    for r in range(rn):
        if t <= ride_trip[r] and b <= ride_base[r]:
            continue
        if w != r:
            ride_trip[w] = ride_trip[r]
            ride_base[w] = ride_base[r]
            ride_board[w] = ride_board[r]
        w += 1
    if w >= ride_trip.shape[0]:
        flags[0] = True
        return w
    ride_trip[w] = t
    ride_base[w] = b
    ride_board[w] = pos
    return w + 1


@njit(cache=True)
def _footpaths(tt, q, k, bag, new):
    """Walk from stops given a ride label in round ``k`` to their footpath neighbours."""
    cap = bag.arr.shape[1]
    arr = np.empty(cap, np.int32)
    co2 = np.empty(cap, np.float64)
    for s in np.nonzero(new)[0]:
        m = 0
        for j in range(bag.size[s]):
            if bag.round_[s, j] == k and bag.kind[s, j] == KIND_RIDE:
                arr[m] = bag.arr[s, j]
                co2[m] = bag.co2[s, j]
                m += 1
        for e in range(tt.fp_indptr[s], tt.fp_indptr[s + 1]):
            d = tt.fp_distance_m[e]
            if d > q.max_walk_m:
                continue
            t = tt.fp_target[e]
            walk_s = footpath_s(d, q.walk_speed_mps, tt.min_transfer_s[t])
            for j in range(m):
                a = arr[j] + walk_s
                if a <= q.deadline_s and _insert(bag, t, a, a, co2[j], KIND_FOOT, k):
                    new[t] = True


@njit(cache=True, nogil=True)
def spread_walk(indptr, indices, length_m, src_node, src_time, src_co2e_g, deadline_s,  # noqa: PLR0917
                speed_mps):  # numba's njit takes no keyword-only arguments
    """Earliest arrival and lowest CO2e at every street node walking from the sources.

    ``src_*`` are sources sorted by CO2e (ascending): a node's lowest CO2e within the deadline
    is that of the first CO2e group whose multi-source Dijkstra (on top of the arrivals of the
    greener groups) reaches it in time; its earliest arrival is the final distance. Returns
    ``(time, co2e_g)``, ``inf`` where not reached by ``deadline_s``.
    """
    n = indptr.shape[0] - 1
    m = src_node.shape[0]
    time = np.full(n, np.inf)
    co2 = np.full(n, np.inf)
    key = np.empty(indices.shape[0] + m + 1, np.float64)
    node = np.empty(indices.shape[0] + m + 1, np.int32)
    i = 0
    while i < m:
        c = src_co2e_g[i]
        size = 0
        j = i
        while j < m and src_co2e_g[j] == c:
            v, t = src_node[j], src_time[j]
            if t < time[v] and t <= deadline_s:
                time[v] = t
                size = heap_push(key, node, size, t, v)
            j += 1
        while size > 0:
            du, u = key[0], node[0]
            size = heap_pop(key, node, size)
            if du > time[u]:
                continue  # a stale entry: u was improved since
            if c < co2[u]:
                co2[u] = c
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                t = du + length_m[e] / speed_mps
                if t < time[v] and t <= deadline_s:
                    time[v] = t
                    size = heap_push(key, node, size, t, v)
        i = j
    return time, co2
