"""McRAPTOR core (numba): Pareto bags over (arrival time, CO2e) per round on a day timetable.

The search runs on a :class:`planner._daytable.DayTable` (patterns of one service date, times in
seconds of that day). Round ``k`` holds journeys with ``k`` vehicle trips; a label of round ``k``
is kept only if no label of rounds ``0..k`` at the same stop and no destination label dominates
it, so the result is Pareto-optimal over (arrival, CO2e, transfers) up to the tolerance below.
Arrive-by queries run this same kernel on the time-reversed table (see ``_daytable``).
Riders board only where ``dp_board_ok`` and alight only where ``dp_alight_ok`` (GTFS
``pickup_type``/``drop_off_type`` 1; the day table splits patterns so these are per position).

Label fields (``int32``): arrival, kind (0 access, 1 ride, 2 ride then footpath), day trip,
day pattern, board position, alight position, parent slot in round ``k - 1`` at the boarding
stop. Footpath labels copy their ride's fields so that no pointer ever refers to a slot of the
round being built (slots of earlier rounds never move).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .pareto import TRANSFER_CO2E_G, TRANSFER_CO2E_REL

__all__ = ["mc_raptor", "BAG_CAPACITY", "DEST_CAPACITY", "CO2E_TOLERANCE_REL",
           "CO2E_TOLERANCE_G", "N_FIELDS", "F_ARR", "F_KIND", "F_TRIP", "F_PATTERN",
           "F_BOARD", "F_ALIGHT", "F_PARENT", "D_ROUND", "D_STOP"]

#: Labels per stop and round; beyond this the slowest non-greenest label is evicted.
BAG_CAPACITY = 8
#: Destination labels kept over all rounds.
DEST_CAPACITY = 64
#: Epsilon-dominance: a later label must be greener by more than 2 % + 1 g to survive. This keeps
#: bags small (bus alternatives differ by a few grams) without hiding a real low-carbon option.
CO2E_TOLERANCE_REL = 0.02
CO2E_TOLERANCE_G = 1.0
# Each extra vehicle must buy more: a label with ``d`` more trips than a label arriving no
# later survives only if it is greener by more than ``d`` x TRANSFER_CO2E_* (planner.pareto's
# rule for itineraries, one constant for both). Arrival stays exact.

N_FIELDS = 7
F_ARR, F_KIND, F_TRIP, F_PATTERN, F_BOARD, F_ALIGHT, F_PARENT = range(7)
D_ROUND, D_STOP = 7, 8

_KIND_ACCESS, _KIND_RIDE, _KIND_FOOT = 0, 1, 2


@njit(cache=True)
def _covers(a1, c1, a2, c2):
    """True if label (a1, c1) epsilon-dominates (a2, c2)."""
    return a1 <= a2 and c1 <= c2 * (1.0 + CO2E_TOLERANCE_REL) + CO2E_TOLERANCE_G


@njit(cache=True)
def _covers_fewer(a1, c1, a2, c2, extra):
    """Like ``_covers`` for a label with ``extra`` fewer trips than (a2, c2)."""
    return a1 <= a2 and c1 <= (c2 * (1.0 + CO2E_TOLERANCE_REL + extra * TRANSFER_CO2E_REL)
                               + CO2E_TOLERANCE_G + extra * TRANSFER_CO2E_G)


_NEVER = 2_000_000_000


@njit(cache=True)
def _times(a, kind, mt):
    """(egress time, boarding-ready time) of a label: only ride labels may end a journey, and
    only they need the stop's minimum transfer time before boarding again."""
    if kind == _KIND_RIDE:
        return a, a + mt
    return _NEVER, a


@njit(cache=True)
def _label_covers(a1, kind1, c1, a2, kind2, c2, mt, extra):
    e1, r1 = _times(a1, kind1, mt)
    e2, r2 = _times(a2, kind2, mt)
    return e1 <= e2 and _covers_fewer(r1, c1, r2, c2, extra)


@njit(cache=True)
def _bag_insert(k, s, a, c, kind, trip, pat, bpos, apos, pslot, L_n, L_int, L_co2, mt):
    for r in range(k + 1):
        for j in range(L_n[r, s]):
            if _label_covers(L_int[r, s, j, 0], L_int[r, s, j, 1], L_co2[r, s, j], a, kind, c,
                             mt, k - r):
                return False
    n = L_n[k, s]
    w = 0
    for j in range(n):
        if _label_covers(a, kind, c, L_int[k, s, j, 0], L_int[k, s, j, 1], L_co2[k, s, j], mt, 0):
            continue
        if w != j:
            L_int[k, s, w, :] = L_int[k, s, j, :]
            L_co2[k, s, w] = L_co2[k, s, j]
        w += 1
    cap = L_int.shape[2]
    if w >= cap:
        w = _victim(L_int[k, s, :, 0], L_co2[k, s, :], cap, a)
        if w < 0:
            L_n[k, s] = cap
            return False
    else:
        L_n[k, s] = w + 1
    L_int[k, s, w, 0] = a
    L_int[k, s, w, 1] = kind
    L_int[k, s, w, 2] = trip
    L_int[k, s, w, 3] = pat
    L_int[k, s, w, 4] = bpos
    L_int[k, s, w, 5] = apos
    L_int[k, s, w, 6] = pslot
    L_co2[k, s, w] = c
    return True


@njit(cache=True)
def _victim(arr, co2, n, a):
    """Slot to overwrite in a full bag: the latest label that is neither fastest nor greenest."""
    fastest = 0
    greenest = 0
    for j in range(n):
        if arr[j] < arr[fastest]:
            fastest = j
        if co2[j] < co2[greenest]:
            greenest = j
    victim = -1
    for j in range(n):
        if j == fastest or j == greenest:
            continue
        if victim < 0 or arr[j] > arr[victim]:
            victim = j
    if victim >= 0 and arr[victim] < a:
        return -1
    return victim


@njit(cache=True)
def _dest_covers(D_n, D_int, D_co2, a, c, k):
    for i in range(D_n[0]):
        if _covers_fewer(D_int[i, 0], D_co2[i], a, c, k - D_int[i, D_ROUND]):
            return True
    return False


@njit(cache=True)
def _dest_insert(k, s, a, c, label, D_n, D_int, D_co2):
    if _dest_covers(D_n, D_int, D_co2, a, c, k):
        return
    w = 0
    for i in range(D_n[0]):
        if D_int[i, D_ROUND] == k and _covers(a, c, D_int[i, 0], D_co2[i]):
            continue
        if w != i:
            D_int[w, :] = D_int[i, :]
            D_co2[w] = D_co2[i]
        w += 1
    if w >= D_int.shape[0]:
        w = _victim(D_int[:, 0], D_co2, D_int.shape[0], a)
        if w < 0:
            D_n[0] = D_int.shape[0]
            return
    else:
        D_n[0] = w + 1
    D_int[w, :N_FIELDS] = label
    D_int[w, 0] = a
    D_int[w, D_ROUND] = k
    D_int[w, D_STOP] = s
    D_co2[w] = c


@njit(cache=True)
def _earliest_trip(t0, t1, trip_time_base, st_dep, pos, ready):
    lo = t0
    hi = t1
    while lo < hi:
        mid = (lo + hi) // 2
        if st_dep[trip_time_base[mid] + pos] >= ready:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, nogil=True)
def mc_raptor(dp_stop_indptr, dp_stops, dp_board_ok, dp_alight_ok, dp_cum_m, dp_factor,
              dp_allowed, dp_trip_indptr,
              trip_time_base, st_arr, st_dep, stop_dp_indptr, stop_dp, stop_dp_pos,
              fp_indptr, fp_target, fp_distance_m, min_transfer_s,
              access_s, egress_s, start_s, max_arrival_s, max_rounds, walk_speed_mps, max_walk_m):
    """Multi-criteria RAPTOR from ``access_s`` (seconds from ``start_s`` to each stop, -1 none).

    Returns the label arrays ``(L_n, L_int, L_co2)`` and the destination bag
    ``(D_n, D_int, D_co2)``; destination arrival includes ``egress_s`` of the final stop.
    """
    S = access_s.shape[0]
    P = dp_stop_indptr.shape[0] - 1
    K1 = max_rounds + 1
    L_n = np.zeros((K1, S), np.int32)
    L_int = np.empty((K1, S, BAG_CAPACITY, N_FIELDS), np.int32)
    L_co2 = np.empty((K1, S, BAG_CAPACITY), np.float64)
    D_n = np.zeros(1, np.int32)
    D_int = np.empty((DEST_CAPACITY, N_FIELDS + 2), np.int32)
    D_co2 = np.empty(DEST_CAPACITY, np.float64)
    marked_prev = np.zeros(S, np.bool_)
    for s in range(S):
        if access_s[s] >= 0:
            L_int[0, s, 0, 0] = start_s + access_s[s]
            L_int[0, s, 0, 1:] = -1
            L_int[0, s, 0, 1] = _KIND_ACCESS
            L_co2[0, s, 0] = 0.0
            L_n[0, s] = 1
            marked_prev[s] = True
    first_pos = np.full(P, -1, np.int32)
    queue = np.empty(P, np.int32)
    rcap = 2 * BAG_CAPACITY
    rb_trip = np.empty(rcap, np.int32)
    rb_base = np.empty(rcap, np.float64)
    rb_bpos = np.empty(rcap, np.int32)
    rb_pslot = np.empty(rcap, np.int32)
    label = np.empty(N_FIELDS, np.int32)
    ride_int = np.empty((BAG_CAPACITY, N_FIELDS), np.int32)
    ride_co2 = np.empty(BAG_CAPACITY, np.float64)
    for k in range(1, K1):
        nq = 0
        for s in range(S):
            if not marked_prev[s]:
                continue
            for e in range(stop_dp_indptr[s], stop_dp_indptr[s + 1]):
                p = stop_dp[e]
                if not dp_allowed[p]:
                    continue
                pos = stop_dp_pos[e]
                if first_pos[p] < 0:
                    queue[nq] = p
                    nq += 1
                    first_pos[p] = pos
                elif pos < first_pos[p]:
                    first_pos[p] = pos
        if nq == 0:
            break
        marked = np.zeros(S, np.bool_)
        for qi in range(nq):
            p = queue[qi]
            start = first_pos[p]
            first_pos[p] = -1
            base = dp_stop_indptr[p]
            n = dp_stop_indptr[p + 1] - base
            t0 = dp_trip_indptr[p]
            t1 = dp_trip_indptr[p + 1]
            f = dp_factor[p] / 1000.0
            rb_n = 0
            for pos in range(start, n):
                s = dp_stops[base + pos]
                cum = dp_cum_m[base + pos]
                for r in range(rb_n if dp_alight_ok[base + pos] else 0):
                    if rb_bpos[r] >= pos:
                        continue
                    a = st_arr[trip_time_base[rb_trip[r]] + pos]
                    if a > max_arrival_s:
                        continue
                    c = rb_base[r] + f * cum
                    if _dest_covers(D_n, D_int, D_co2, a, c, k):
                        continue
                    if _bag_insert(k, s, a, c, _KIND_RIDE, rb_trip[r], p, rb_bpos[r], pos,
                                   rb_pslot[r], L_n, L_int, L_co2, min_transfer_s[s]):
                        marked[s] = True
                        if egress_s[s] >= 0:
                            label[0] = a
                            label[1] = _KIND_RIDE
                            label[2] = rb_trip[r]
                            label[3] = p
                            label[4] = rb_bpos[r]
                            label[5] = pos
                            label[6] = rb_pslot[r]
                            _dest_insert(k, s, a + egress_s[s], c, label, D_n, D_int, D_co2)
                if not marked_prev[s] or pos == n - 1 or not dp_board_ok[base + pos]:
                    continue
                for j in range(L_n[k - 1, s]):
                    ready = L_int[k - 1, s, j, 0]
                    if L_int[k - 1, s, j, 1] == _KIND_RIDE:
                        ready += min_transfer_s[s]
                    t = _earliest_trip(t0, t1, trip_time_base, st_dep, pos, ready)
                    if t >= t1:
                        continue
                    b = L_co2[k - 1, s, j] - f * cum
                    rb_n = _route_insert(rb_n, t, b, pos, j, rb_trip, rb_base, rb_bpos, rb_pslot)
        _relax_footpaths(k, marked, fp_indptr, fp_target, fp_distance_m, min_transfer_s,
                         walk_speed_mps, max_walk_m, max_arrival_s, L_n, L_int, L_co2,
                         D_n, D_int, D_co2, ride_int, ride_co2)
        marked_prev = marked
    return L_n, L_int, L_co2, D_n, D_int, D_co2


@njit(cache=True)
def _route_insert(rb_n, t, b, pos, slot, rb_trip, rb_base, rb_bpos, rb_pslot):
    for r in range(rb_n):
        if rb_trip[r] <= t and rb_base[r] <= b + CO2E_TOLERANCE_G:
            return rb_n
    w = 0
    for r in range(rb_n):
        if t <= rb_trip[r] and b <= rb_base[r] + CO2E_TOLERANCE_G:
            continue
        if w != r:
            rb_trip[w] = rb_trip[r]
            rb_base[w] = rb_base[r]
            rb_bpos[w] = rb_bpos[r]
            rb_pslot[w] = rb_pslot[r]
        w += 1
    if w >= rb_trip.shape[0]:
        return w  # full: keep the earlier boardings
    rb_trip[w] = t
    rb_base[w] = b
    rb_bpos[w] = pos
    rb_pslot[w] = slot
    return w + 1


@njit(cache=True)
def _relax_footpaths(k, marked, fp_indptr, fp_target, fp_distance_m, min_transfer_s,
                     walk_speed_mps, max_walk_m, max_arrival_s, L_n, L_int, L_co2,
                     D_n, D_int, D_co2, ride_int, ride_co2):
    sources = np.nonzero(marked)[0]
    for s in sources:
        m = 0
        for j in range(L_n[k, s]):
            if L_int[k, s, j, 1] == _KIND_RIDE:
                ride_int[m, :] = L_int[k, s, j, :]
                ride_co2[m] = L_co2[k, s, j]
                m += 1
        for e in range(fp_indptr[s], fp_indptr[s + 1]):
            d = fp_distance_m[e]
            if d > max_walk_m:
                continue
            t = fp_target[e]
            # changing vehicles takes at least the target stop's minimum transfer time
            walk_s = max(np.int32(np.ceil(d / walk_speed_mps)), min_transfer_s[t])
            for j in range(m):
                a = ride_int[j, 0] + walk_s
                c = ride_co2[j]
                if a > max_arrival_s or _dest_covers(D_n, D_int, D_co2, a, c, k):
                    continue
                if _bag_insert(k, t, a, c, _KIND_FOOT, ride_int[j, 2], ride_int[j, 3],
                               ride_int[j, 4], ride_int[j, 5], ride_int[j, 6], L_n, L_int, L_co2,
                               min_transfer_s[t]):
                    # no egress after a footpath: walking on from the alighting stop is
                    # already an egress of that stop, within max_walk_m
                    marked[t] = True
