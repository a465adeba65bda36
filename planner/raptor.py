"""McRAPTOR core (numba): Pareto bags over (arrival time, CO2e) per round on a day timetable.

The search runs on a :class:`Timetable` (the day patterns of one service date, times in seconds
of that day, compiled by ``planner._daytable``) for one :class:`Search` (access and egress walks,
start time, limits). Round ``k`` holds journeys with ``k`` vehicle trips; a label of round ``k``
is kept only if no label of rounds ``0..k`` at the same stop and no destination label dominates
it, so the result is Pareto-optimal over (arrival, CO2e, transfers) up to the tolerance below.
Labels are also dropped when a destination label covers them even with a lower bound on the
time still to come added (target pruning; a range search adds one on the CO2e).
``mc_raptor_range`` runs the same rounds for every departure of a window (range McRAPTOR).
Arrive-by queries run this same kernel on the time-reversed table (see ``_daytable``).
Riders board only where ``dp_board_ok`` and alight only where ``dp_alight_ok`` (GTFS
``pickup_type``/``drop_off_type`` 1; the day table splits patterns so these are per position).

A label is a row of ``N_FIELDS`` ``int32`` fields named by the ``F_*`` constants: arrival,
kind (``KIND_ACCESS``, ``KIND_RIDE``, ``KIND_FOOT`` = a ride then a footpath), day trip, day
pattern, board position, alight position, parent slot in round ``k - 1`` at the boarding stop,
and the run that made it (``F_RUN``: 0 in a single search, the departure's run in
``mc_raptor_range``); its CO2e is kept beside it in a ``float64`` array. Footpath labels copy
their ride's fields so that no pointer ever refers to a slot of the round being built (slots of
earlier rounds never move). Destination labels add ``D_ROUND`` and ``D_STOP`` (round and final stop).
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
from numba import njit

from .pareto import LATER_CO2E_G, LATER_CO2E_REL, TRANSFER_CO2E_G, TRANSFER_CO2E_REL

__all__ = ["Timetable", "Search", "Labels", "mc_raptor", "mc_raptor_range", "earliest_trip",
           "departure_events", "footpath_s", "BAG_CAPACITY", "DEST_CAPACITY",
           "CO2E_TOLERANCE_REL", "CO2E_TOLERANCE_G", "N_FIELDS", "F_ARR", "F_KIND", "F_TRIP",
           "F_PATTERN", "F_BOARD", "F_ALIGHT", "F_PARENT", "F_RUN", "D_ROUND", "D_STOP",
           "N_DEST_FIELDS", "KIND_ACCESS", "KIND_RIDE", "KIND_FOOT", "Workspace",
           "new_workspace", "workspace_for"]

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

#: Label fields (columns of ``Labels.fields`` and of the first columns of ``Labels.dest_fields``).
F_ARR, F_KIND, F_TRIP, F_PATTERN, F_BOARD, F_ALIGHT, F_PARENT, F_RUN = range(8)
N_FIELDS = 8
#: Extra destination-label fields: the round (vehicles used) and the stop left on foot.
D_ROUND, D_STOP = N_FIELDS, N_FIELDS + 1
N_DEST_FIELDS = N_FIELDS + 2
#: Label kinds (``F_KIND``).
KIND_ACCESS, KIND_RIDE, KIND_FOOT = 0, 1, 2

_NEVER = 2_000_000_000

# The hot loops (pattern scans, footpaths, a search's rounds, a range run) compile without
# numba's reference counting (``_nrt=False``, numba's switch for code that allocates nothing:
# see ``numba.extending.register_jitable``): with it every helper handed a tuple of arrays
# (bags, bounds, the search) counted a reference to each of its arrays per call, a quarter of
# the search's time. They and what they call must not allocate (no new arrays, no slice
# copies; views are fine).
# (a private option, absent from numba's type hints: pyproject pins numba to versions that have it)
_without_refcounts = njit(cache=True, _nrt=False)  # type: ignore[call-overload]


class Timetable(NamedTuple):
    """The day timetable as the kernel reads it; field meanings as in ``_daytable.DayTable``.

    ``P`` day patterns, ``S`` stops; positions of pattern ``p`` are rows
    ``dp_stop_indptr[p]:dp_stop_indptr[p + 1]`` of the ``dp_*`` position arrays.
    """

    dp_stop_indptr: np.ndarray    # int64 (P + 1,)
    dp_stops: np.ndarray          # int32 stop at each position
    dp_board_ok: np.ndarray       # bool per position
    dp_alight_ok: np.ndarray      # bool per position
    dp_cum_m: np.ndarray          # float64 metres from the pattern's first stop
    dp_factor: np.ndarray         # float64 (P,) g CO2e per passenger-km
    dp_trip_indptr: np.ndarray    # int64 (P + 1,) trips of each pattern, FIFO
    trip_time_base: np.ndarray    # int64 row of a trip's first position in st_arr / st_dep
    st_arr: np.ndarray            # int32 arrival, seconds of the day
    st_dep: np.ndarray            # int32 departure, seconds of the day
    stop_dp_indptr: np.ndarray    # int64 (S + 1,) day patterns serving each stop ...
    stop_dp: np.ndarray           # int32 ... the pattern ...
    stop_dp_pos: np.ndarray       # int32 ... and the stop's position in it
    fp_indptr: np.ndarray         # int64 (S + 1,) stop-to-stop footpaths
    fp_target: np.ndarray         # int32
    fp_distance_m: np.ndarray     # float64
    min_transfer_s: np.ndarray    # int32 (S,) minimum time to change vehicles at a stop
    hop_in_indptr: np.ndarray     # int64 (S + 1,) hops into each stop ...
    hop_in_tail: np.ndarray       # int32 ... from this stop ...
    hop_in_s: np.ndarray          # int32 ... in at least this many seconds (any trip of the day)
    dp_hop_s: np.ndarray          # int32 per position: fastest time to the next (0 at the last)
    fp_in_indptr: np.ndarray      # int64 (S + 1,) footpaths into each stop ...
    fp_in_tail: np.ndarray        # int32 ... from this stop ...
    fp_in_distance_m: np.ndarray  # float64 ... this long


class Search(NamedTuple):
    """One query's inputs: walks to and from stops, start time and limits."""

    access_s: np.ndarray          # int32 (S,) seconds from the start to each stop, -1 none
    egress_s: np.ndarray          # int32 (S,) seconds from each stop to the destination, -1 none
    allowed: np.ndarray           # bool (P,) day patterns the query may ride
    start_s: int                  # seconds of the day
    max_arrival_s: int            # labels arriving at a stop later are dropped
    max_destination_s: int        # journeys reaching the destination later are dropped
    max_rounds: int               # vehicles per journey
    walk_speed_mps: float         # on footpaths
    max_walk_m: float             # per footpath


class Labels(NamedTuple):
    """The kernel's result: bags per (round, stop) and the destination bag."""

    size: np.ndarray              # int32 (rounds + 1, S) labels in each bag
    fields: np.ndarray            # int32 (rounds + 1, S, BAG_CAPACITY, N_FIELDS)
    co2e_g: np.ndarray            # float64 (rounds + 1, S, BAG_CAPACITY)
    dest_size: int                # destination labels
    dest_fields: np.ndarray       # int32 (DEST_CAPACITY, N_DEST_FIELDS)
    dest_co2e_g: np.ndarray       # float64 (DEST_CAPACITY,)


class _Bags(NamedTuple):
    size: np.ndarray
    fields: np.ndarray
    co2: np.ndarray


class _Left(NamedTuple):
    alight: np.ndarray            # int64 (S,) lower bound on the seconds to a last alighting
    ride: np.ndarray              # int64 (K1, S) ... to the destination from a ride label of
    #                               round k (egress walk included; ``_time_left_by_vehicles``)
    ready: np.ndarray             # int64 (K1, S) ... from a label of round k that must board
    #                               (access and footpath labels)
    ride_g: np.ndarray            # float64 (K1, S) ... on the CO2e still to be emitted, as ride
    ready_g: np.ndarray           # float64 (K1, S) ... and ready


@njit(cache=True, inline='always')
def _covers(a1, c1, a2, c2):
    """True if label (a1, c1) epsilon-dominates (a2, c2)."""
    return a1 <= a2 and c1 <= c2 * (1.0 + CO2E_TOLERANCE_REL) + CO2E_TOLERANCE_G


@njit(cache=True, inline='always')
def _covers_fewer(a1, c1, a2, c2, extra):
    """Like ``_covers`` for a label with ``extra`` fewer trips than (a2, c2)."""
    return a1 <= a2 and c1 <= (c2 * (1.0 + CO2E_TOLERANCE_REL + extra * TRANSFER_CO2E_REL)
                               + CO2E_TOLERANCE_G + extra * TRANSFER_CO2E_G)


@njit(cache=True, inline='always')
def _times(a, kind, mt):
    """(egress time, boarding-ready time) of a label: only ride labels may end a journey, and
    only they need the stop's minimum transfer time before boarding again."""
    if kind == KIND_RIDE:
        return a, a + mt
    return _NEVER, a


@njit(cache=True, inline='always')
def _label_covers(a1, kind1, c1, a2, kind2, c2, mt, extra):  # noqa: PLR0917 - numba's njit takes no keyword-only arguments
    e1, r1 = _times(a1, kind1, mt)
    e2, r2 = _times(a2, kind2, mt)
    return e1 <= e2 and _covers_fewer(r1, c1, r2, c2, extra)


@njit(cache=True, inline='always')
def _bag_insert(bags, k, s, label, c, mt):
    """Insert ``label`` (CO2e ``c``) at stop ``s`` in round ``k`` unless rounds ``0..k`` cover it;
    drop the labels of round ``k`` it covers. True if inserted."""
    if _bag_covers(bags, k, s, label[F_ARR], label[F_KIND], c, mt):
        return False
    return _bag_put(bags, k, s, label, c, mt)


@njit(cache=True, inline='always')
def _bag_covers(bags, k, s, a, kind, c, mt):  # noqa: PLR0917 - numba's njit takes no keyword-only arguments
    """True if a label of rounds ``0..k`` at stop ``s`` covers arriving at ``a`` (``kind``)
    with ``c`` in round ``k``."""
    n_, f_, c_ = bags.size, bags.fields, bags.co2
    for r in range(k + 1):
        for j in range(n_[s, r]):
            if _label_covers(f_[s, r, j, F_ARR], f_[s, r, j, F_KIND], c_[s, r, j], a, kind, c,
                             mt, k - r):
                return True
    return False


@njit(cache=True, inline='always')
def _bag_put(bags, k, s, label, c, mt):
    """``_bag_insert`` of a label no label of rounds ``0..k`` covers."""
    n_, f_, c_ = bags.size, bags.fields, bags.co2
    a, kind = label[F_ARR], label[F_KIND]
    w = 0
    for j in range(n_[s, k]):
        if _label_covers(a, kind, c, f_[s, k, j, F_ARR], f_[s, k, j, F_KIND], c_[s, k, j], mt, 0):
            continue
        if w != j:
            for x in range(N_FIELDS):
                f_[s, k, w, x] = f_[s, k, j, x]
            c_[s, k, w] = c_[s, k, j]
        w += 1
    cap = f_.shape[2]
    if w >= cap:
        w = _victim(f_[s, k, :, F_ARR], c_[s, k, :], cap, a)
        if w < 0:
            n_[s, k] = cap
            return False
    else:
        n_[s, k] = w + 1
    for x in range(N_FIELDS):
        f_[s, k, w, x] = label[x]
    c_[s, k, w] = c
    return True


@njit(cache=True, inline='always')
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
        if j in (fastest, greenest):
            continue
        if victim < 0 or arr[j] > arr[victim]:
            victim = j
    if victim >= 0 and arr[victim] < a:
        return -1
    return victim


@njit(cache=True, inline='always')
def _dest_covers(dest, a, c, k, run):
    """True if a destination label covers arriving at ``a`` with ``c`` after ``k`` vehicles.

    Only labels of rounds <= k count, the ones a single pass has when it reaches round k (a
    range search also keeps the labels of more rounds of later runs). A label of an earlier
    run of a range search (it leaves later) covers with the window's margins
    (``pareto.LATER_CO2E_*`` and ``TRANSFER_CO2E_*`` per extra vehicle): the window's front
    (``window.window_front``) would drop what it covers anyway.
    """
    if a < dest.size[1]:  # earlier than every destination label
        return False
    f_, c_ = dest.fields, dest.co2
    for i in range(dest.size[0]):
        extra = k - f_[i, D_ROUND]
        if extra < 0 or f_[i, F_ARR] > a:
            continue
        if f_[i, F_RUN] == run:
            if _covers_fewer(f_[i, F_ARR], c_[i], a, c, extra):
                return True
        elif c_[i] <= (c * (1.0 + LATER_CO2E_REL + extra * TRANSFER_CO2E_REL)
                       + LATER_CO2E_G + extra * TRANSFER_CO2E_G):
            return True
    return False


@njit(cache=True)
def _dest_insert(dest, k, s, a, c, label):
    """Add ``label`` ending at stop ``s`` as a destination arrival ``a`` unless covered."""
    if _dest_covers(dest, a, c, k, label[F_RUN]):
        return
    f_, c_ = dest.fields, dest.co2
    w = 0
    for i in range(dest.size[0]):
        if f_[i, D_ROUND] == k and _covers(a, c, f_[i, F_ARR], c_[i]):
            continue
        if w != i:
            for x in range(N_DEST_FIELDS):
                f_[w, x] = f_[i, x]
            c_[w] = c_[i]
        w += 1
    if w >= f_.shape[0]:
        w = _victim(f_[:, F_ARR], c_, f_.shape[0], a)
        if w < 0:
            dest.size[0] = f_.shape[0]
            return
    else:
        dest.size[0] = w + 1
    for x in range(N_FIELDS):
        f_[w, x] = label[x]
    f_[w, F_ARR] = a
    f_[w, D_ROUND] = k
    f_[w, D_STOP] = s
    c_[w] = c
    earliest = _NEVER
    for i in range(dest.size[0]):
        earliest = min(earliest, f_[i, F_ARR])
    dest.size[1] = earliest


@njit(cache=True, inline='always')
def footpath_s(distance_m, walk_speed_mps, min_transfer_s):
    """Seconds a footpath of ``distance_m`` takes when changing vehicles at a stop whose minimum
    transfer time is ``min_transfer_s`` (the walk, but never less than that time); the plan,
    bound and reach kernels' one rule."""
    return max(np.int32(np.ceil(distance_m / walk_speed_mps)), min_transfer_s)


@njit(cache=True, inline='always')
def earliest_trip(t0, t1, trip_time_base, st_dep, pos, ready):
    """The first trip of ``t0:t1`` (FIFO) leaving position ``pos`` at or after ``ready``
    (``t1``: none); the plan, window and reach kernels' one trip search."""
    lo = t0
    hi = t1
    while lo < hi:
        mid = (lo + hi) // 2
        if st_dep[trip_time_base[mid] + pos] >= ready:
            hi = mid
        else:
            lo = mid + 1
    return lo


def mc_raptor(tt, q, workspace=None):
    """Multi-criteria RAPTOR over one day timetable.

    Parameters
    ----------
    tt : Timetable
        The day's patterns, trips, stop index, footpaths and minimum transfer times.
    q : Search
        Access and egress walks in seconds per stop (-1 where out of reach), start time,
        latest arrival, the number of rounds (vehicles) and the footpath walking limits.
    workspace : Workspace, optional
        The bounds' arrays to reuse (default: this thread's, see :func:`workspace_for`).

    Returns
    -------
    tuple
        ``(size, fields, co2e_g, dest_size, dest_fields, dest_co2e_g)`` as in
        :class:`Labels`: the bags of every round and stop, and the destination bag whose
        arrivals include the final stop's egress walk. Follow ``F_PARENT`` slots back through
        the rounds to rebuild a journey.
    """
    return _mc_raptor(tt, q, workspace if workspace is not None else workspace_for(tt, q))


@njit(cache=True, nogil=True)
def _mc_raptor(tt, q, ws):
    """:func:`mc_raptor` on the bounds' arrays of ``ws``."""
    S = q.access_s.shape[0]
    state = _new_state(tt, q)
    ride, ready, ride_g, ready_g = _time_left_by_vehicles(tt, q, q.max_destination_s - q.start_s,
                                                          ws)
    # the last alighting precedes the destination: its bound matters only if the destination
    # may be reached after max_arrival_s (a covering street option's bound is usually sooner)
    to_alight = (_time_left(tt, q, q.max_arrival_s - q.start_s)
                 if q.max_destination_s > q.max_arrival_s else np.zeros(S, np.int64))
    left = _Left(to_alight, ride, ready, ride_g, ready_g)
    for s in range(S):
        if q.access_s[s] >= 0 and _access_label(state, q, left, s, 0):
            _mark(state, 0, s)
    _rounds(tt, q, state, left, 0, -1)
    bags, dest = state.bags, state.dest
    # views in the documented (round, stop) order
    return (bags.size.T, bags.fields.transpose((1, 0, 2, 3)), bags.co2.transpose((1, 0, 2)),
            dest.size[0], dest.fields, dest.co2)


@njit(cache=True, nogil=True)
def mc_raptor_range(tt, q, last_start_s, max_duration_s, last_destination_s, ws):  # noqa: PLR0913,PLR0917 - numba's njit takes no keyword-only arguments
    """Range McRAPTOR: the journeys of every departure in ``[q.start_s, last_start_s]``.

    The departures that matter are those of the trips at the access stops minus the access
    time (``departure_events``). They run latest first, one RAPTOR run each, on bags kept from
    run to run (Delling et al., "Round-Based Public Transit Routing", rRAPTOR): a label of a
    later run leaves no earlier, so it prunes the labels of earlier runs it covers in arrival,
    CO2e and trips. A run boards and walks on only from its own labels, marks only the stops
    of its departure, and reports the destination labels it added; a destination label is
    unwound at the end of its run (later runs move slots).

    Parameters
    ----------
    tt : Timetable
        As for :func:`mc_raptor`.
    q : Search
        The search of the earliest departure ``q.start_s``; each run uses it with its own start,
        ``max_arrival_s = start + max_duration_s`` and ``max_destination_s`` = the smaller of
        ``max_arrival_s`` plus the longest egress walk and ``last_destination_s``.
    last_start_s : int
        The latest departure from the origin (seconds of the day).
    max_duration_s, last_destination_s : int
        Bounds of each run, as above.
    ws : Workspace
        The bounds' arrays (:func:`workspace_for`).

    Returns
    -------
    tuple
        ``(runs, n, dest_fields, dest_co2e_g, chain)``: the runs made and ``n`` journeys;
        for each its destination label (``N_DEST_FIELDS``), its CO2e and its labels by round
        (``chain[i, r]`` is the label of round ``r``, round 0 the access label; their
        ``F_PARENT`` slots are stale, follow the rounds instead).
    """
    S = q.access_s.shape[0]
    K1 = q.max_rounds + 1
    state = _new_state(tt, q)
    ride, ready, ride_g, ready_g = _time_left_by_vehicles(tt, q, q.max_destination_s - q.start_s,
                                                          ws)
    left = _Left(_time_left(tt, q, q.max_arrival_s - q.start_s), ride, ready, ride_g,
                 ready_g)
    ev_t, ev_s, ev_p, ev_pos = departure_events(tt, q, last_start_s)
    access = np.nonzero(q.access_s >= 0)[0]
    max_egress = 0
    for s in range(S):
        max_egress = max(max_egress, q.egress_s[s])
    n = 0
    out_co2 = np.empty(16, np.float64)
    out_dest = np.empty((16, N_DEST_FIELDS), np.int32)
    out_chain = np.empty((16, K1, N_FIELDS), np.int32)
    i = 0
    run = 0
    while i < ev_t.shape[0]:
        t = ev_t[i]
        run += 1
        arrival_s = int(t) + max_duration_s
        qt = Search(q.access_s, q.egress_s, q.allowed, int(t), int(arrival_s),
                    int(min(arrival_s + max_egress, last_destination_s)), q.max_rounds,
                    q.walk_speed_mps, q.max_walk_m)
        i = _run_departure(tt, qt, state, left, run, access, ev_t, ev_s, ev_p, ev_pos, i)
        dest = state.dest
        for d in range(dest.size[0]):
            if dest.fields[d, F_RUN] != run:
                continue
            if n == out_co2.shape[0]:
                out_co2, out_dest, out_chain = _grow(out_co2, out_dest, out_chain)
            out_co2[n] = dest.co2[d]
            out_dest[n, :] = dest.fields[d, :]
            _chain(tt, state.bags, dest.fields[d], out_chain[n])
            n += 1
    return run, n, out_dest[:n], out_co2[:n], out_chain[:n]


@_without_refcounts
def _run_departure(tt, q, st, left, run, access, ev_t, ev_s, ev_p, ev_pos, i):  # noqa: PLR0913,PLR0917 - numba's njit takes no keyword-only arguments
    """One run of ``mc_raptor_range``: the access labels at ``q.start_s``, the events
    ``i..`` that leave then, and the rounds; returns the index of the next event. (One
    compiled call without reference counting: a run's work is often small, and counting
    references to the search's arrays on every call cost more than the run.)"""
    t = ev_t[i]
    for stop in access:
        _access_label(st, q, left, stop, run)
    nq = 0  # round 1 scans only the patterns of this departure (others board as before)
    while i < ev_t.shape[0] and ev_t[i] == t:
        if st.bags.size[ev_s[i], 0] > 0:
            _mark(st, 0, ev_s[i])
            nq = _queue(st, nq, ev_p[i], ev_pos[i])
        i += 1
    _rounds(tt, q, st, left, run, nq)
    return i


@njit(cache=True)
def _grow(co2, dest, chain):
    m = 2 * co2.shape[0]
    co2_2 = np.empty(m, co2.dtype)
    dest2 = np.empty((m, dest.shape[1]), dest.dtype)
    chain2 = np.empty((m, chain.shape[1], chain.shape[2]), chain.dtype)
    co2_2[:co2.shape[0]] = co2
    dest2[:dest.shape[0]] = dest
    chain2[:chain.shape[0]] = chain
    return co2_2, dest2, chain2


@njit(cache=True)
def _chain(tt, bags, entry, out):
    """Copy a destination label's labels round by round into ``out`` (rows ``0..round``)."""
    k = entry[D_ROUND]
    s = entry[D_STOP]
    out[k, :] = entry[:N_FIELDS]
    label = out[k]
    while k > 0:
        s = tt.dp_stops[tt.dp_stop_indptr[label[F_PATTERN]] + label[F_BOARD]]
        out[k - 1, :] = bags.fields[s, k - 1, label[F_PARENT]]
        k -= 1
        label = out[k]


@njit(cache=True)
def departure_events(tt, q, last_start_s):
    """Departures from the origin that reach a trip just in time at an access stop, latest
    first: for each allowed trip leaving access stop ``s`` (where it may be boarded) in
    ``[q.start_s + access_s[s], last_start_s + access_s[s]]``, the time ``departure -
    access_s[s]``, the stop, the day pattern and the stop's position in it (four arrays)."""
    S = q.access_s.shape[0]
    n = 0
    ev = np.empty((64, 4), np.int32)
    for s in range(S):
        acc = q.access_s[s]
        if acc < 0:
            continue
        for e in range(tt.stop_dp_indptr[s], tt.stop_dp_indptr[s + 1]):
            p = tt.stop_dp[e]
            pos = tt.stop_dp_pos[e]
            row = tt.dp_stop_indptr[p] + pos
            if not q.allowed[p] or not tt.dp_board_ok[row] or row == tt.dp_stop_indptr[p + 1] - 1:
                continue
            t0, t1 = tt.dp_trip_indptr[p], tt.dp_trip_indptr[p + 1]
            j = earliest_trip(t0, t1, tt.trip_time_base, tt.st_dep, pos, q.start_s + acc)
            while j < t1:
                dep = tt.st_dep[tt.trip_time_base[j] + pos]
                if dep > last_start_s + acc:
                    break
                if n == ev.shape[0]:
                    grown = np.empty((2 * n, 4), np.int32)
                    grown[:n] = ev
                    ev = grown
                ev[n, 0] = dep - acc
                ev[n, 1] = s
                ev[n, 2] = p
                ev[n, 3] = pos
                n += 1
                j += 1
    order = np.argsort(-ev[:n, 0], kind="mergesort")
    ev = ev[order]
    return ev[:, 0], ev[:, 1], ev[:, 2], ev[:, 3]


class _Riding(NamedTuple):
    """Trips being ridden along a pattern scan: a small Pareto set over (trip, CO2e base)."""

    trip: np.ndarray
    base: np.ndarray              # CO2e at boarding minus the pattern's cumulative CO2e there
    board: np.ndarray             # board position
    parent: np.ndarray            # slot of the boarding label in round k - 1
    dead: np.ndarray              # bool: no later alighting can end within the limits


class _State(NamedTuple):
    """A search's bags and work arrays. Stops marked in a round are kept twice: a flag per
    stop and a list (``marks[r]``, ``n_marks[r]`` of row ``r``); rows 0 and 1 alternate as the
    previous and the current round, and are left empty after a run."""

    bags: _Bags
    dest: _Bags
    marked: np.ndarray            # bool (2, S)
    marks: np.ndarray             # int32 (2, S)
    n_marks: np.ndarray           # int32 (2,)
    first_pos: np.ndarray         # int32 (P,) -1, or the first marked position of a pattern
    last_pos: np.ndarray          # int32 (P,) its last marked position (if queued)
    queue: np.ndarray             # int32 (P,) patterns to scan this round
    riding: _Riding
    label: np.ndarray             # int32 (N_FIELDS,) the label being built
    rides: _Bags                  # ride labels of one stop, for its footpaths
    on_board_s: np.ndarray        # int64 (longest pattern,) ``_on_board_bounds`` of a scan ...
    on_board_g: np.ndarray        # float64 ... time and CO2e


@njit(cache=True)
def _new_state(tt, q):
    S = q.access_s.shape[0]
    P = tt.dp_stop_indptr.shape[0] - 1
    K1 = q.max_rounds + 1
    longest = np.max(np.diff(tt.dp_stop_indptr)) if P else 1
    # stop-major: a bag insert reads the rounds 0..k of one stop
    bags = _Bags(np.zeros((S, K1), np.int32),
                 np.empty((S, K1, BAG_CAPACITY, N_FIELDS), np.int32),
                 np.empty((S, K1, BAG_CAPACITY), np.float64))
    dest = _Bags(np.array([0, _NEVER], np.int32),
                 np.empty((DEST_CAPACITY, N_DEST_FIELDS), np.int32),
                 np.empty(DEST_CAPACITY, np.float64))
    riding = _Riding(np.empty(2 * BAG_CAPACITY, np.int32), np.empty(2 * BAG_CAPACITY, np.float64),
                     np.empty(2 * BAG_CAPACITY, np.int32), np.empty(2 * BAG_CAPACITY, np.int32),
                     np.zeros(2 * BAG_CAPACITY, np.bool_))
    rides = _Bags(np.zeros(1, np.int32), np.empty((BAG_CAPACITY, N_FIELDS), np.int32),
                  np.empty(BAG_CAPACITY, np.float64))
    return _State(bags, dest, np.zeros((2, S), np.bool_), np.empty((2, S), np.int32),
                  np.zeros(2, np.int32), np.full(P, -1, np.int32), np.empty(P, np.int32),
                  np.empty(P, np.int32),
                  riding, np.empty(N_FIELDS, np.int32), rides,
                  np.empty(longest, np.int64), np.empty(longest, np.float64))


@njit(cache=True, inline='always')
def _mark(st, r, s):
    if not st.marked[r, s]:
        st.marked[r, s] = True
        st.marks[r, st.n_marks[r]] = s
        st.n_marks[r] += 1


@njit(cache=True, inline='always')
def _unmark(st, r):
    for i in range(st.n_marks[r]):
        st.marked[r, st.marks[r, i]] = False
    st.n_marks[r] = 0


@njit(cache=True, inline='always')
def _marked_stops(st, r):
    """Stops marked in row ``r``, ascending (the order of a scan over all stops): the row
    sorted in place (a view of it; marks added later lie beyond it)."""
    n = st.n_marks[r]
    _heapsort(st.marks[r], n)
    return st.marks[r, :n]


@njit(cache=True, inline='always')
def _heapsort(a, n):
    """Sort ``a[:n]`` in place without allocating (numba's own sort builds a list)."""
    for start in range(n // 2 - 1, -1, -1):
        _sift_down(a, start, n)
    for end in range(n - 1, 0, -1):
        a[0], a[end] = a[end], a[0]
        _sift_down(a, 0, end)


@njit(cache=True, inline='always')
def _sift_down(a, root, n):
    while True:
        child = 2 * root + 1
        if child >= n:
            return
        if child + 1 < n and a[child + 1] > a[child]:
            child += 1
        if a[root] >= a[child]:
            return
        a[root], a[child] = a[child], a[root]
        root = child


@njit(cache=True, inline='always')
def _access_label(st, q, left, s, run):
    """Round 0 at access stop ``s``: reached at ``q.start_s`` plus the access time, unless no
    journey through it can end within the limits; marked for round 1."""
    a = q.start_s + q.access_s[s]
    if _hopeless(q, left, s, a, left.ready[0, s]):
        st.bags.size[s, 0] = 0
        return False
    st.bags.fields[s, 0, 0, :] = -1
    st.bags.fields[s, 0, 0, F_ARR] = a
    st.bags.fields[s, 0, 0, F_KIND] = KIND_ACCESS
    st.bags.fields[s, 0, 0, F_RUN] = run
    st.bags.co2[s, 0, 0] = 0.0
    st.bags.size[s, 0] = 1
    return True


@_without_refcounts
def _rounds(tt, q, st, left, run, queued):  # noqa: PLR0917 - numba's njit takes no keyword-only arguments
    """Rounds 1.. of run ``run`` from the stops marked in row 0 (round 1 scans the ``queued``
    patterns already in the queue, or collects them if -1); only labels of this run board
    or walk on. Leaves both mark rows empty."""
    K1 = q.max_rounds + 1
    st.label[F_RUN] = run
    prev = 0
    for k in range(1, K1):
        cur = 1 - prev
        nq = queued if k == 1 and queued >= 0 else _collect_patterns(tt, q, st, prev)
        _scan_patterns(tt, q, k, nq, st, prev, cur, left, run)
        _unmark(st, prev)
        if nq == 0:
            break
        if k < K1 - 1:  # a footpath's only use is boarding in the next round
            _relax_footpaths(tt, q, k, st, cur, left, run, _marked_stops(st, cur))
        prev = cur
    _unmark(st, 0)
    _unmark(st, 1)


@njit(cache=True, inline='always')
def _collect_patterns(tt, q, st, prev):
    """Queue the allowed day patterns through stops marked last round, each from its
    earliest marked position; returns the queue length."""
    nq = 0
    for s in _marked_stops(st, prev):
        for e in range(tt.stop_dp_indptr[s], tt.stop_dp_indptr[s + 1]):
            if q.allowed[tt.stop_dp[e]]:
                nq = _queue(st, nq, tt.stop_dp[e], tt.stop_dp_pos[e])
    return nq


@njit(cache=True, inline='always')
def _queue(st, nq, p, pos):
    """Queue pattern ``p`` from position ``pos`` (or widen its marked span); new queue size."""
    if st.first_pos[p] < 0:
        st.queue[nq] = p
        st.first_pos[p] = pos
        st.last_pos[p] = pos
        return nq + 1
    st.first_pos[p] = min(st.first_pos[p], pos)
    st.last_pos[p] = max(st.last_pos[p], pos)
    return nq


@_without_refcounts
def _scan_patterns(tt, q, k, nq, st, prev, cur, left, run):  # noqa: PLR0917 - numba's njit takes no keyword-only arguments
    """Round ``k`` along the ``nq`` queued day patterns, each from its first marked position."""
    for qi in range(nq):
        p = st.queue[qi]
        start, last = st.first_pos[p], st.last_pos[p]
        st.first_pos[p] = -1
        _scan_pattern(tt, q, k, p, start, last, st, prev, cur, left, run)


@njit(cache=True, inline='always')
def _scan_pattern(tt, q, k, p, start, last, st, prev, cur, left, run):  # noqa: PLR0917 - numba's njit takes no keyword-only arguments
    """Round ``k`` along day pattern ``p`` from position ``start``: alight the trips being
    ridden at each stop, then board from the stop's labels of round ``k - 1`` of this run
    (marked stops lie at positions ``start..last``)."""
    bags, dest, riding, label = st.bags, st.dest, st.riding, st.label
    base = tt.dp_stop_indptr[p]
    n = tt.dp_stop_indptr[p + 1] - base
    t0 = tt.dp_trip_indptr[p]
    t1 = tt.dp_trip_indptr[p + 1]
    f = tt.dp_factor[p] / 1000.0
    rb_n = 0
    alive = 0  # riders not dead
    bounded = False  # on_board_* filled for this scan
    for pos in range(start, n):
        if pos > last and alive == 0:
            break
        s = tt.dp_stops[base + pos]
        cum = tt.dp_cum_m[base + pos]
        for r in range(rb_n if tt.dp_alight_ok[base + pos] else 0):
            if riding.board[r] >= pos or riding.dead[r]:
                continue
            a = tt.st_arr[tt.trip_time_base[riding.trip[r]] + pos]
            to_go = left.ride[k, s]
            c = riding.base[r] + f * cum
            if (_hopeless(q, left, s, a, to_go)
                    or _dest_covers(dest, a + to_go, c + left.ride_g[k, s], k, run)):
                # dropped here: will every later stop drop it too?
                if not bounded:
                    _on_board_bounds(tt, k, p, start, left, st)
                    bounded = True
                i = pos - start
                t_lb = tt.st_dep[tt.trip_time_base[riding.trip[r]] + pos] + st.on_board_s[i]
                g_lb = (riding.base[r] + st.on_board_g[i]) * (1.0 - 1e-9) - 1e-9
                if t_lb > q.max_destination_s or _dest_covers(dest, t_lb, g_lb, k, run):
                    riding.dead[r] = True
                    alive -= 1
                continue
            label[F_ARR] = a
            label[F_KIND] = KIND_RIDE
            label[F_TRIP] = riding.trip[r]
            label[F_PATTERN] = p
            label[F_BOARD] = riding.board[r]
            label[F_ALIGHT] = pos
            label[F_PARENT] = riding.parent[r]
            if _bag_insert(bags, k, s, label, c, tt.min_transfer_s[s]):
                _mark(st, cur, s)
                if 0 <= q.egress_s[s] <= q.max_destination_s - a:
                    _dest_insert(dest, k, s, a + q.egress_s[s], c, label)
        if not st.marked[prev, s] or pos == n - 1 or not tt.dp_board_ok[base + pos]:
            continue
        for j in range(bags.size[s, k - 1]):
            if bags.fields[s, k - 1, j, F_RUN] != run:
                continue
            ready = bags.fields[s, k - 1, j, F_ARR]
            if bags.fields[s, k - 1, j, F_KIND] == KIND_RIDE:
                ready += tt.min_transfer_s[s]
            t = earliest_trip(t0, t1, tt.trip_time_base, tt.st_dep, pos, ready)
            if t >= t1:
                continue
            b = bags.co2[s, k - 1, j] - f * cum
            rb_n, alive = _ride_insert(riding, rb_n, alive, t, b, pos, j)


@njit(cache=True, inline='always')
def _ride_insert(riding, rb_n, alive, t, b, pos, slot):  # noqa: PLR0913,PLR0917 - numba's njit takes no keyword-only arguments
    """Add boarding trip ``t`` unless an earlier-or-same trip no dirtier is already ridden,
    dead or not (so the trips boarded are those of a scan without dead ones); returns the
    riders and the live ones."""
    for r in range(rb_n):
        if riding.trip[r] <= t and riding.base[r] <= b + CO2E_TOLERANCE_G:
            return rb_n, alive
    w = 0
    for r in range(rb_n):
        if t <= riding.trip[r] and b <= riding.base[r] + CO2E_TOLERANCE_G:
            alive -= not riding.dead[r]
            continue
        if w != r:
            riding.trip[w] = riding.trip[r]
            riding.base[w] = riding.base[r]
            riding.board[w] = riding.board[r]
            riding.parent[w] = riding.parent[r]
            riding.dead[w] = riding.dead[r]
        w += 1
    if w >= riding.trip.shape[0]:
        return w, alive  # full: keep the earlier boardings
    riding.trip[w] = t
    riding.base[w] = b
    riding.board[w] = pos
    riding.parent[w] = slot
    riding.dead[w] = False
    return w + 1, alive + 1


@njit(cache=True, inline='always')
def _on_board_bounds(tt, k, p, start, left, st):
    """For a trip ridden in round ``k`` along pattern ``p``, by position ``pos >= start``
    (``st.on_board_*[pos - start]``): the least seconds from its departure at ``pos`` to the
    destination, alighting later (the fastest hops of the day, ``left.ride`` there), and the
    least cumulative CO2e at a later alighting plus ``left.ride_g`` there."""
    base = tt.dp_stop_indptr[p]
    f = tt.dp_factor[p] / 1000.0
    best = _NEVER
    best_g = np.inf
    for pos in range(tt.dp_stop_indptr[p + 1] - base - 1, start - 1, -1):
        row = base + pos
        best = min(best + tt.dp_hop_s[row], _NEVER)
        st.on_board_s[pos - start] = best
        st.on_board_g[pos - start] = best_g
        s = tt.dp_stops[row]
        if tt.dp_alight_ok[row] and left.ride[k, s] < _NEVER:
            best = min(best, left.ride[k, s])
            best_g = min(best_g, f * tt.dp_cum_m[row] + left.ride_g[k, s])


@_without_refcounts
def _relax_footpaths(tt, q, k, st, cur, left, run, stops):  # noqa: PLR0917 - numba's njit takes no keyword-only arguments
    """Walk from stops reached by a ride of this run in round ``k`` to their footpath
    neighbours."""
    bags, dest, rides, label = st.bags, st.dest, st.rides, st.label
    for s in stops:
        m = 0
        first = _NEVER
        for j in range(bags.size[s, k]):
            if bags.fields[s, k, j, F_KIND] == KIND_RIDE and bags.fields[s, k, j, F_RUN] == run:
                for x in range(N_FIELDS):
                    rides.fields[m, x] = bags.fields[s, k, j, x]
                rides.co2[m] = bags.co2[s, k, j]
                first = min(first, rides.fields[m, F_ARR])
                m += 1
        if m == 0:
            continue
        for e in range(tt.fp_indptr[s], tt.fp_indptr[s + 1]):
            d = tt.fp_distance_m[e]
            if d > q.max_walk_m:
                continue
            t = tt.fp_target[e]
            walk_s = footpath_s(d, q.walk_speed_mps, tt.min_transfer_s[t])
            to_go = left.ready[k, t]
            if _hopeless(q, left, t, first + walk_s, to_go):
                continue  # (no later ride fares better)
            mt = tt.min_transfer_s[t]
            for j in range(m):
                a = rides.fields[j, F_ARR] + walk_s
                c = rides.co2[j]
                # the stop's own labels reject most footpaths: ask them first
                if (_hopeless(q, left, t, a, to_go) or _bag_covers(bags, k, t, a, KIND_FOOT, c, mt)
                        or _dest_covers(dest, a + to_go, c + left.ready_g[k, t], k, run)):
                    continue
                for x in range(N_FIELDS):
                    label[x] = rides.fields[j, x]
                label[F_ARR] = a
                label[F_KIND] = KIND_FOOT
                if _bag_put(bags, k, t, label, c, mt):
                    # no egress after a footpath: walking on from the alighting stop is
                    # already an egress of that stop, within max_walk_m
                    _mark(st, cur, t)


@njit(cache=True, inline='always')
def _hopeless(q, left, s, a, to_go):
    """True if no journey through a label at stop ``s`` reached at ``a`` can end within the
    limits: its last vehicle would arrive after ``max_arrival_s`` or it would reach the
    destination after ``max_destination_s`` even at the bounds of ``left`` (``to_go``: the
    label's own, ``left.ride`` or ``left.ready`` of its round at ``s``)."""
    return a + left.alight[s] > q.max_arrival_s or a + to_go > q.max_destination_s


@njit(cache=True)
def _time_left(tt, q, horizon):
    """A lower bound on the seconds from each stop to alighting at a stop that has an egress
    walk: a Dijkstra (Dial's, on whole seconds) backwards from the egress stops over each
    hop's fastest time of the day and the footpaths (``_NEVER`` where even that is beyond
    ``horizon`` seconds).

    Any journey through a label arriving at ``a`` alights for the last time no earlier than
    ``a + left``, so a label is dropped when that lands past ``max_arrival_s``, which bounds
    the last alighting, not the destination (the bound must not count the egress walk; the
    destination has ``_time_left_by_vehicles``).
    """
    S = q.egress_s.shape[0]
    # Dial's buckets, one per second, reused round a ring as wide as the longest edge or seed:
    # the queue's keys never span more (bounded by ``horizon``)
    widest = np.int64(np.ceil(q.max_walk_m / q.walk_speed_mps))
    for e in range(tt.hop_in_s.shape[0]):
        widest = max(widest, tt.hop_in_s[e])
    for s in range(S):
        widest = max(widest, tt.min_transfer_s[s])
    left = np.full(S, _NEVER, np.int64)
    cap = S + tt.hop_in_tail.shape[0] + tt.fp_in_tail.shape[0] + 1
    _dial(tt, q, horizon, left, np.full(max(min(widest, horizon), 0) + 1, -1, np.int32),
          np.empty(cap, np.int32), np.empty(cap, np.int32), np.zeros(S, np.bool_))
    return left


@_without_refcounts
def _dial(tt, q, horizon, left, head, nxt, node, done):  # noqa: PLR0913,PLR0917 - numba's njit takes no keyword-only arguments
    """``_time_left``'s Dijkstra on integer seconds: bucket ``t % len(head)`` holds the stops
    queued at ``t`` (a list through ``nxt``/``node``; stale entries are skipped)."""
    n = 0
    for s in range(left.shape[0]):
        if q.egress_s[s] >= 0:
            left[s] = 0
            n = _bucket_push(head, nxt, node, n, 0, s)
    queued = n
    t = 0
    while queued > 0:
        b = t % head.shape[0]
        while head[b] >= 0:
            i = head[b]
            head[b] = nxt[i]
            queued -= 1
            v = node[i]
            if done[v] or left[v] != t:
                continue
            done[v] = True
            for e in range(tt.hop_in_indptr[v], tt.hop_in_indptr[v + 1]):
                u = tt.hop_in_tail[e]
                tu = t + tt.hop_in_s[e]
                if tu < left[u] and tu <= horizon:
                    left[u] = tu
                    n = _bucket_push(head, nxt, node, n, tu, u)
                    queued += 1
            for e in range(tt.fp_in_indptr[v], tt.fp_in_indptr[v + 1]):
                d = tt.fp_in_distance_m[e]
                if d > q.max_walk_m:
                    continue
                u = tt.fp_in_tail[e]
                tu = t + footpath_s(d, q.walk_speed_mps, tt.min_transfer_s[v])
                if tu < left[u] and tu <= horizon:
                    left[u] = tu
                    n = _bucket_push(head, nxt, node, n, tu, u)
                    queued += 1
        t += 1


@njit(cache=True, inline='always')
def _bucket_push(head, nxt, node, n, t, v):
    """Queue stop ``v`` at ``t`` as entry ``n`` of ``_dial``'s buckets; the next entry."""
    b = t % head.shape[0]
    node[n] = v
    nxt[n] = head[b]
    head[b] = n
    return n + 1


class Workspace(NamedTuple):
    """The bounds' arrays a search fills and the next search on the same thread reuses: the
    rows of ``_time_left_by_vehicles`` by stop (``_NEVER``/inf where clean) and the lists of
    the stops and patterns the last search wrote, which it cleans first. Only stops in a
    search's reach are touched, so its work follows the trip, not the city's size."""

    ride: np.ndarray              # int64 (K1, S)
    ready: np.ndarray             # int64 (K1, S)
    ride_g: np.ndarray            # float64 (K1, S)
    ready_g: np.ndarray           # float64 (K1, S)
    in_reach: np.ndarray          # bool (S,)
    stops: np.ndarray             # int32 (S,) stops written, in reach order
    active: np.ndarray            # bool (P,) day patterns swept
    patterns: np.ndarray          # int32 (P,) ... in order
    counts: np.ndarray            # int64 (2,) stops and patterns written
    #: bool (1,): sweep only what is in reach (large networks), else every pattern and stop
    in_reach_sweeps: np.ndarray


_WORKSPACES = threading.local()
#: From this many stops on, the bounds are swept only over the stops in a search's reach, on
#: a reused workspace: on Porto Alegre's 4,010 the plain sweeps over every pattern and stop
#: are faster (the bookkeeping costs more than it spares: kernel 1.4x slower, paired), on the
#: x64 synthetic city's 36,784 they cost 2-4 ms a query whatever the trip.
IN_REACH_MIN_STOPS = 10_000


def new_workspace(n_stops: int, n_patterns: int, rounds: int,
                  in_reach_sweeps: bool | None = None) -> Workspace:
    """Clean arrays for searches of ``rounds`` vehicles over ``n_stops`` stops; sweeps over
    the stops in reach from ``IN_REACH_MIN_STOPS`` stops on unless ``in_reach_sweeps`` says."""
    if in_reach_sweeps is None:
        in_reach_sweeps = n_stops >= IN_REACH_MIN_STOPS
    if not in_reach_sweeps:  # the plain sweeps allocate their own rows
        n_stops, n_patterns, rounds = 0, 0, 0
    return Workspace(np.full((rounds + 1, n_stops), _NEVER, np.int64),
                     np.full((rounds + 1, n_stops), _NEVER, np.int64),
                     np.full((rounds + 1, n_stops), np.inf), np.full((rounds + 1, n_stops), np.inf),
                     np.zeros(n_stops, np.bool_), np.empty(n_stops, np.int32),
                     np.zeros(n_patterns, np.bool_), np.empty(n_patterns, np.int32),
                     np.zeros(2, np.int64), np.array([in_reach_sweeps]))


def workspace_for(tt: Timetable, q: Search) -> Workspace:
    """This thread's workspace for searches like ``q`` on ``tt`` (kept per thread: the
    kernels release the GIL, so threads search at once): one per network size and number of
    vehicles, replaced by a larger one for a day table with more patterns (a realtime feed's
    tables come and go; their workspaces must not pile up)."""
    n_stops, n_patterns, rounds = (q.access_s.shape[0], tt.dp_stop_indptr.shape[0] - 1,
                                   int(q.max_rounds))
    kept = getattr(_WORKSPACES, "by_shape", None)
    if kept is None:
        kept = _WORKSPACES.by_shape = {}
    ws = kept.get((n_stops, rounds))
    if ws is None or (ws.in_reach_sweeps[0] and ws.active.shape[0] < n_patterns):
        ws = kept[(n_stops, rounds)] = new_workspace(n_stops, n_patterns, rounds)
    return ws


@njit(cache=True)
def _time_left_by_vehicles(tt, q, horizon, ws):
    """Lower bounds on the seconds and the CO2e from a label to the destination, by the
    vehicles it may still take: ``(ride, ready, ride_g, ready_g)``, each ``(max_rounds + 1,
    S)``, for a ride label of round ``k`` (it may walk out, change at the stop, or walk a
    footpath and board) and for a label of round ``k`` that must board (access, footpath);
    ``_NEVER`` (inf) where the destination cannot be reached with the vehicles left within
    ``horizon`` seconds. On a workspace with ``in_reach_sweeps`` the rows are ``ws``'s own
    (valid until its next search), else new arrays.

    With ``j`` vehicles left (``j = max_rounds - k``), after alighting at ``s``:
    ``A_j(s) = min(egress(s), B_j(s), footpath(s, u) + B_j(u))`` (``A_0`` = the egress walk;
    the kernel walks one footpath between vehicles); ready to board at ``s``: ``B_j(s)`` =
    the least, over allowed patterns boarding at ``s``, of the fastest ride (each hop's
    fastest time of the day, ``dp_hop_s``; waiting ignored) to a later alighting ``s'`` plus
    ``A_(j-1)(s')``: a backwards RAPTOR on those times, one sweep per vehicle along every
    pattern (or, from ``IN_REACH_MIN_STOPS`` stops on, along those through stops in reach;
    CO2e the same way, each ride's factor times its metres). With few vehicles left much of
    the city cannot reach the destination at all, which the static ``_time_left`` (any number
    of vehicles) cannot see; a journey through a label that arrives too late under these
    bounds never reaches the destination within the limits, so dropping it keeps the search
    exact.
    """
    S = q.egress_s.shape[0]
    if ws.in_reach_sweeps[0]:
        _clean(ws)
        _vehicle_sweeps(tt, q, horizon, ws)
        return ws.ride, ws.ready, ws.ride_g, ws.ready_g
    K1 = q.max_rounds + 1
    ride = np.full((K1, S), _NEVER, np.int64)
    ready = np.full((K1, S), _NEVER, np.int64)
    ride_g = np.full((K1, S), np.inf)
    ready_g = np.full((K1, S), np.inf)
    walk_s = np.empty(tt.fp_target.shape[0], np.int64)
    for e in range(walk_s.shape[0]):
        d = tt.fp_distance_m[e]
        walk_s[e] = (footpath_s(d, q.walk_speed_mps, tt.min_transfer_s[tt.fp_target[e]])
                     if d <= q.max_walk_m else _NEVER)
    _vehicle_sweeps_dense(tt, q, horizon, walk_s, ride, ready, ride_g, ready_g)
    return ride, ready, ride_g, ready_g


@_without_refcounts
def _clean(ws):
    """Put back ``_NEVER``/inf where the last search wrote bounds (``ws.counts``)."""
    for i in range(ws.counts[0]):
        s = ws.stops[i]
        ws.in_reach[s] = False
        for k in range(ws.ride.shape[0]):
            ws.ride[k, s] = _NEVER
            ws.ready[k, s] = _NEVER
            ws.ride_g[k, s] = np.inf
            ws.ready_g[k, s] = np.inf
    for i in range(ws.counts[1]):
        ws.active[ws.patterns[i]] = False
    ws.counts[0] = 0
    ws.counts[1] = 0


@njit(cache=True, inline='always')
def _reach(ws, s):
    """Count stop ``s`` in the search's reach (its bounds will be written)."""
    if not ws.in_reach[s]:
        ws.in_reach[s] = True
        ws.stops[ws.counts[0]] = s
        ws.counts[0] += 1


@_without_refcounts
def _vehicle_sweeps(tt, q, horizon, ws):
    """Fill ``_time_left_by_vehicles``'s rows on a clean ``ws``, last round first, sweeping
    only the patterns through stops already in reach and walking footpaths backwards from
    stops where a ride may start."""
    ride, ready, ride_g, ready_g = ws.ride, ws.ready, ws.ride_g, ws.ready_g
    S = q.egress_s.shape[0]
    K = ride.shape[0] - 1
    for s in range(S):
        if 0 <= q.egress_s[s] <= horizon:
            _reach(ws, s)
            ride[K, s] = q.egress_s[s]
            ride_g[K, s] = 0.0
    collected = 0
    for k in range(K - 1, -1, -1):
        for i in range(collected, ws.counts[0]):  # patterns through stops new in reach
            s = ws.stops[i]
            for e in range(tt.stop_dp_indptr[s], tt.stop_dp_indptr[s + 1]):
                p = tt.stop_dp[e]
                if (not ws.active[p] and q.allowed[p]
                        and tt.dp_trip_indptr[p + 1] > tt.dp_trip_indptr[p]):
                    ws.active[p] = True
                    ws.patterns[ws.counts[1]] = p
                    ws.counts[1] += 1
        collected = ws.counts[0]
        for pi in range(ws.counts[1]):  # B: board, ride, alight with the bound of round k + 1
            _sweep_pattern(tt, k, ws.patterns[pi], horizon, ride, ready, ride_g, ready_g, ws)
        if k == 0:
            break  # (round 0 holds access labels only)
        boarded = ws.counts[0]
        for i in range(boarded):  # A: walk out or change at the stop ...
            s = ws.stops[i]
            v = min(ride[K, s], ready[k, s])
            ride[k, s] = v if v <= horizon else _NEVER
            ride_g[k, s] = min(ride_g[K, s], ready_g[k, s])
        for i in range(boarded):  # ... or walk a footpath to a stop and board there
            u = ws.stops[i]
            b = ready[k, u]
            if b >= _NEVER:
                continue
            for e in range(tt.fp_in_indptr[u], tt.fp_in_indptr[u + 1]):
                d = tt.fp_in_distance_m[e]
                if d > q.max_walk_m:
                    continue
                s = tt.fp_in_tail[e]
                v = footpath_s(d, q.walk_speed_mps, tt.min_transfer_s[u]) + b
                _reach(ws, s)  # (also when too far: its CO2e bound counts every footpath)
                if v < ride[k, s] and v <= horizon:
                    ride[k, s] = v
                ride_g[k, s] = min(ride_g[k, s], ready_g[k, u])
        for i in range(ws.counts[0]):
            s = ws.stops[i]
            if ride[k, s] >= _NEVER:
                ride_g[k, s] = np.inf


@_without_refcounts
def _vehicle_sweeps_dense(tt, q, horizon, walk_s, ride, ready, ride_g, ready_g):  # noqa: PLR0913,PLR0917 - numba's njit takes no keyword-only arguments
    """Fill ``_time_left_by_vehicles``'s rows, last round first, sweeping every pattern and
    stop (``walk_s``: each footpath's seconds, ``_NEVER`` beyond the walking limit)."""
    S = q.egress_s.shape[0]
    K = ride.shape[0] - 1
    P = tt.dp_stop_indptr.shape[0] - 1
    for s in range(S):
        if 0 <= q.egress_s[s] <= horizon:
            ride[K, s] = q.egress_s[s]
            ride_g[K, s] = 0.0
    for k in range(K - 1, -1, -1):
        for p in range(P):  # B: board, ride, alight with the bound of round k + 1
            if q.allowed[p] and tt.dp_trip_indptr[p + 1] > tt.dp_trip_indptr[p]:
                _sweep_pattern(tt, k, p, horizon, ride, ready, ride_g, ready_g, None)
        if k == 0:
            break  # (round 0 holds access labels only)
        for s in range(S):  # A: walk out, change at the stop, or walk a footpath and board
            v = min(ride[K, s], ready[k, s])
            g = min(ride_g[K, s], ready_g[k, s])
            for e in range(tt.fp_indptr[s], tt.fp_indptr[s + 1]):
                u = tt.fp_target[e]
                if walk_s[e] < _NEVER:
                    v = min(v, walk_s[e] + ready[k, u])
                    g = min(g, ready_g[k, u])
            if v <= horizon:
                ride[k, s] = v
                ride_g[k, s] = g


@njit(cache=True, inline='always')
def _sweep_pattern(tt, k, p, horizon, ride, ready, ride_g, ready_g, ws):  # noqa: PLR0913,PLR0917 - numba's njit takes no keyword-only arguments
    """Both sweeps' step B along pattern ``p``: the bound of boarding at each position (ride
    on, alight later with the bound of round ``k + 1``); counts boarding stops in ``ws``'s
    reach unless ``ws`` is None."""
    base = tt.dp_stop_indptr[p]
    f = tt.dp_factor[p] / 1000.0
    best = _NEVER
    best_g = np.inf  # least of (cumulative CO2e at an alighting + its bound)
    for pos in range(tt.dp_stop_indptr[p + 1] - base - 1, -1, -1):
        row = base + pos
        s = tt.dp_stops[row]
        best += tt.dp_hop_s[row]
        if best > horizon:
            best = _NEVER
        elif tt.dp_board_ok[row]:
            if ws is not None:
                _reach(ws, s)
            ready[k, s] = min(ready[k, s], best)
            # (below the kernel's sums by a hair: a bound must never round above them)
            g = (best_g - f * tt.dp_cum_m[row]) * (1.0 - 1e-9) - 1e-9
            ready_g[k, s] = min(ready_g[k, s], max(g, 0.0))
        if tt.dp_alight_ok[row] and ride[k + 1, s] < _NEVER:
            best = min(best, ride[k + 1, s])
            best_g = min(best_g, f * tt.dp_cum_m[row] + ride_g[k + 1, s])
