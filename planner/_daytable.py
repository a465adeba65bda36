"""The timetable of one service date, flattened for the RAPTOR kernel (and its time reversal).

Trips of the previous and next service days are included with their time shift (a bus leaving
at 25:10 yesterday runs at 01:10 today). Each (pattern, day) group becomes a *day pattern*;
groups of one pattern are merged when the merge keeps trips FIFO (no overtaking), which is
the usual case, so the kernel scans each pattern once. Trips whose GTFS ``pickup_type`` /
``drop_off_type`` forbid boarding or alighting at different stops go to separate day patterns
(as OpenTripPlanner's stop patterns do): within one, the earliest trip is then always the best
to board, which RAPTOR relies on.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import numpy as np

from graphs.network import Timetable

from . import raptor
from ._calendar import day_zero_utc, trips_active

__all__ = ["DayTable", "compile_day_table", "reverse_day_table", "NEXT_DAY_HORIZON_S"]

#: Trips of the next service day are kept if they start within this many seconds of its start.
NEXT_DAY_HORIZON_S = 12 * 3600


@dataclass(frozen=True, eq=False)
class DayTable:
    """Day patterns and trips of one service date, times in seconds of that day.

    With ``reversed=True`` stops run backwards and times are negated (``-departure`` becomes
    the arrival), so an arrive-by query is an earliest-arrival search on this table;
    ``dp_position_map`` maps a position back to the original pattern position.
    """

    service_date: date
    reversed: bool
    dp_pattern: np.ndarray        # int32 (p,) original pattern
    dp_route: np.ndarray          # int32 (p,)
    dp_mode: np.ndarray           # str (p,)
    dp_stop_indptr: np.ndarray    # int64 (p + 1,)
    dp_stops: np.ndarray          # int32
    dp_board_ok: np.ndarray       # bool, aligned with dp_stops: riders may board there
    dp_alight_ok: np.ndarray      # bool, aligned with dp_stops: riders may alight there
    dp_cum_m: np.ndarray          # float64 cumulative metres along the day pattern
    dp_factor: np.ndarray         # float64 g CO2e per passenger-km
    dp_trip_indptr: np.ndarray    # int64 (p + 1,)
    trip_original: np.ndarray     # int32 (day trips,) original trip index
    trip_offset_s: np.ndarray     # int32 (day trips,) shift added to the trip's feed times
    trip_time_base: np.ndarray    # int64 (day trips,) row of the first position in st_*
    st_arr: np.ndarray            # int32
    st_dep: np.ndarray            # int32
    stop_dp_indptr: np.ndarray    # int64 (s + 1,)
    stop_dp: np.ndarray           # int32
    stop_dp_pos: np.ndarray       # int32
    fp_indptr: np.ndarray         # int64 (s + 1,)
    fp_target: np.ndarray         # int32
    fp_distance_m: np.ndarray     # float64
    min_transfer_s: np.ndarray    # int32 (s,) minimum time to change vehicles at each stop
    trip_realtime: np.ndarray | None = None  # bool (day trips,): times from a realtime feed
    # str (day trips,): a realtime trip's own id where it is not in the schedule (NEW/ADDED and
    # DUPLICATED trips run a scheduled trip's pattern; ``trip_original`` is that trip), else ""
    trip_new_id: np.ndarray | None = None

    @cached_property
    def kernel(self) -> raptor.Timetable:
        """The arrays the RAPTOR kernel reads, as its one named input."""
        bounds = _bound_graph(self)
        return raptor.Timetable(**{name: getattr(self, name) for name in raptor.Timetable._fields
                                   if name not in bounds}, **bounds)

    def trip_id(self, timetable: Timetable, trip: int) -> str:
        """The id of day trip ``trip``: its realtime id if the feed added it, else the schedule's."""
        if self.trip_new_id is not None and self.trip_new_id[trip]:
            return str(self.trip_new_id[trip])
        return str(timetable.trip_id[int(self.trip_original[trip])])

    def new_trip(self, trip: int) -> str | None:
        """The realtime id of day trip ``trip`` if a feed added it (None for scheduled trips)."""
        if self.trip_new_id is None or not self.trip_new_id[trip]:
            return None
        return str(self.trip_new_id[trip])

    def position_in_pattern(self, dp: int, pos: int) -> int:
        """Position of day-pattern position ``pos`` in the original pattern."""
        if not self.reversed:
            return pos
        n = int(self.dp_stop_indptr[dp + 1] - self.dp_stop_indptr[dp])
        return n - 1 - pos


def compile_day_table(timetable: Timetable, service_date: date, tz) -> DayTable:
    """Flatten the trips running on ``service_date`` (plus spill-overs) for the kernel."""
    zero = day_zero_utc(service_date, tz)
    days = []
    for delta in (-1, 0, 1):
        day = service_date + timedelta(days=delta)
        offset = int((day_zero_utc(day, tz) - zero).total_seconds())
        days.append((offset, trips_active(timetable, day)))
    groups = []  # (pattern, [trip indices], [offsets])
    tt = timetable
    for p in range(len(tt.pattern_route)):
        t0, t1 = int(tt.pattern_trip_indptr[p]), int(tt.pattern_trip_indptr[p + 1])
        trips, offsets = [], []
        for offset, active in days:
            idx = np.nonzero(active[t0:t1])[0] + t0
            if len(idx) == 0:
                continue
            idx = _within_day(tt, idx, offset)
            trips.append(idx)
            offsets.append(np.full(len(idx), offset, np.int32))
        if trips:
            for group in _fifo_groups(tt, p, trips, offsets):
                groups.extend(_split_by_boarding(tt, group))
    return _assemble(tt, service_date, groups)


def _split_by_boarding(tt: Timetable, group: tuple) -> list[tuple]:
    """Split a trip group by its (pickup allowed, drop-off allowed) flags per position;
    each part gets the flags as two extra members. Keeps the FIFO order within each part."""
    p, trips, offsets, arr, dep = group
    n = arr.shape[1]
    rows = tt.trip_stop_time_indptr[trips][:, None] + np.arange(n)[None, :]
    board = np.asarray(tt.stop_time_pickup_ok, bool)[rows]
    alight = np.asarray(tt.stop_time_dropoff_ok, bool)[rows]
    if board.all() and alight.all():  # the usual case, and groups left without trips
        return [(*group, np.ones(n, bool), np.ones(n, bool))]
    signature = np.concatenate([board, alight], axis=1)
    _, first, part = np.unique(signature, axis=0, return_index=True, return_inverse=True)
    part = part.ravel()
    return [(p, trips[part == k], offsets[part == k], arr[part == k], dep[part == k],
             board[first[k]], alight[first[k]]) for k in np.argsort(first)]


def _within_day(tt: Timetable, idx: np.ndarray, offset: int) -> np.ndarray:
    first = tt.stop_time_departure_s[tt.trip_stop_time_indptr[idx]] + offset
    last = tt.stop_time_arrival_s[tt.trip_stop_time_indptr[idx + 1] - 1] + offset
    if offset < 0:
        return idx[last >= 0]
    if offset > 0:
        return idx[first < offset + NEXT_DAY_HORIZON_S]
    return idx


def _times(tt: Timetable, trips: np.ndarray, offsets: np.ndarray, n: int):
    rows = tt.trip_stop_time_indptr[trips][:, None] + np.arange(n)[None, :]
    return (tt.stop_time_arrival_s[rows] + offsets[:, None],
            tt.stop_time_departure_s[rows] + offsets[:, None])


def _fifo_groups(tt: Timetable, p: int, trips: list, offsets: list) -> list:
    n = int(tt.pattern_stop_indptr[p + 1] - tt.pattern_stop_indptr[p])
    merged_trips = np.concatenate(trips)
    merged_offsets = np.concatenate(offsets)
    arr, dep = _times(tt, merged_trips, merged_offsets, n)
    order = np.lexsort((arr[:, -1], dep[:, 0]))
    arr, dep = arr[order], dep[order]
    if len(trips) == 1 or (np.all(np.diff(dep, axis=0) >= 0) and np.all(np.diff(arr, axis=0) >= 0)):
        return [(p, merged_trips[order], merged_offsets[order], arr, dep)]
    out = []
    for t, o in zip(trips, offsets, strict=True):
        a, d = _times(tt, t, o, n)
        order = np.lexsort((a[:, -1], d[:, 0]))
        out.append((p, t[order], o[order], a[order], d[order]))
    return out


def _assemble(tt: Timetable, service_date: date, groups: list) -> DayTable:
    n_stops = tt.n_stops
    dp_pattern = np.array([g[0] for g in groups], np.int32)
    lengths = np.array([g[3].shape[1] for g in groups], np.int64)
    counts = np.array([len(g[1]) for g in groups], np.int64)
    dp_stop_indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    stops, cum = [], []
    for p in dp_pattern:
        a, b = tt.pattern_stop_indptr[p], tt.pattern_stop_indptr[p + 1]
        stops.append(tt.pattern_stops[a:b])
        hop = tt.pattern_hop_distance_m[a:b].astype(np.float64).copy()
        hop[0] = 0.0
        cum.append(np.cumsum(hop))
    trip_time_base = np.concatenate(
        [[0], np.cumsum(np.repeat(lengths, counts))[:-1]]).astype(np.int64) if counts.sum() else \
        np.zeros(0, np.int64)
    dp_route = tt.pattern_route[dp_pattern].astype(np.int32)
    return DayTable(
        service_date=service_date, reversed=False, dp_pattern=dp_pattern, dp_route=dp_route,
        dp_mode=np.asarray(tt.route_mode)[dp_route],
        dp_stop_indptr=dp_stop_indptr,
        dp_stops=_cat(stops, np.int32), dp_cum_m=_cat(cum, np.float64),
        dp_board_ok=_cat([g[5] for g in groups], np.bool_),
        dp_alight_ok=_cat([g[6] for g in groups], np.bool_),
        dp_factor=tt.route_co2e_g_per_pkm[dp_route].astype(np.float64),
        dp_trip_indptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        trip_original=_cat([g[1] for g in groups], np.int32),
        trip_offset_s=_cat([g[2] for g in groups], np.int32),
        trip_time_base=trip_time_base,
        st_arr=_cat([g[3].ravel() for g in groups], np.int32),
        st_dep=_cat([g[4].ravel() for g in groups], np.int32),
        **_stop_index(dp_stop_indptr, _cat(stops, np.int32), n_stops),
        fp_indptr=tt.footpath_indptr.astype(np.int64),
        fp_target=tt.footpath_target.astype(np.int32),
        fp_distance_m=tt.footpath_distance_m.astype(np.float64),
        min_transfer_s=tt.stop_min_transfer_s.astype(np.int32))


def _cat(parts: list, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def _stop_index(dp_stop_indptr: np.ndarray, dp_stops: np.ndarray, n_stops: int) -> dict:
    """CSR from stop to (day pattern, position) pairs."""
    dp_of = np.repeat(np.arange(len(dp_stop_indptr) - 1, dtype=np.int32), np.diff(dp_stop_indptr))
    pos = (np.arange(len(dp_stops)) - dp_stop_indptr[dp_of]).astype(np.int32)
    order = np.argsort(dp_stops, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(dp_stops, minlength=n_stops))])
    return {"stop_dp_indptr": indptr.astype(np.int64), "stop_dp": dp_of[order],
            "stop_dp_pos": pos[order]}


def _bound_graph(day: DayTable) -> dict:
    """What the kernel's lower bounds on the time and CO2e still to come read: each day
    pattern position's shortest time on to the next over the day's trips (``dp_hop_s``, for
    the bounds by vehicles left), and the same hops as edges *into* each stop (parallel hops
    of several patterns kept) with the footpaths (for the bound on the last alighting)."""
    n_stops = len(day.stop_dp_indptr) - 1
    tails, heads, secs = [], [], []
    # per position: the fastest time on to the next position (0 at a pattern's last)
    dp_hop_s = np.zeros(len(day.dp_stops), np.int32)
    for p in range(len(day.dp_pattern)):
        a, b = day.dp_stop_indptr[p], day.dp_stop_indptr[p + 1]
        t0, t1 = day.dp_trip_indptr[p], day.dp_trip_indptr[p + 1]
        if b - a < 2 or t1 <= t0:
            continue
        rows = day.trip_time_base[t0:t1][:, None] + np.arange(b - a)[None, :]
        tails.append(day.dp_stops[a:b - 1])
        heads.append(day.dp_stops[a + 1:b])
        secs.append((day.st_arr[rows[:, 1:]] - day.st_dep[rows[:, :-1]]).min(axis=0))
        dp_hop_s[a:b - 1] = np.maximum(secs[-1], 0)
    tail, head, sec = _cat(tails, np.int32), _cat(heads, np.int32), _cat(secs, np.int32)
    order = np.lexsort((sec, tail, head))
    tail, head, sec = tail[order], head[order], np.maximum(sec[order], 0)
    fp_tail = np.repeat(np.arange(n_stops, dtype=np.int32), np.diff(day.fp_indptr))
    fp_order = np.argsort(day.fp_target, kind="stable")
    return {"dp_hop_s": dp_hop_s,
            "hop_in_indptr": _indptr(head, n_stops), "hop_in_tail": tail, "hop_in_s": sec,
            "fp_in_indptr": _indptr(day.fp_target, n_stops), "fp_in_tail": fp_tail[fp_order],
            "fp_in_distance_m": day.fp_distance_m[fp_order]}


def _indptr(sorted_keys: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.bincount(sorted_keys, minlength=n))]).astype(np.int64)


def reverse_day_table(day: DayTable) -> DayTable:
    """The time-reversed table: patterns backwards, times negated, footpaths transposed;
    boarding backwards is alighting forwards, so the two flags swap."""
    n_dp = len(day.dp_pattern)
    stops, cum, arr, dep, board, alight = [], [], [], [], [], []
    trip_original, trip_offset, trip_realtime, trip_new_id = [], [], [], []
    for p in range(n_dp):
        a, b = day.dp_stop_indptr[p], day.dp_stop_indptr[p + 1]
        n = b - a
        stops.append(day.dp_stops[a:b][::-1])
        board.append(day.dp_alight_ok[a:b][::-1])
        alight.append(day.dp_board_ok[a:b][::-1])
        c = day.dp_cum_m[a:b]
        cum.append((c[-1] - c)[::-1])
        t0, t1 = day.dp_trip_indptr[p], day.dp_trip_indptr[p + 1]
        rows = day.trip_time_base[t0:t1][:, None] + np.arange(n)[None, :]
        # reversed trip order keeps FIFO: the last trip to arrive is the first to "depart" backwards
        arr.append((-day.st_dep[rows][::-1, ::-1]).ravel())
        dep.append((-day.st_arr[rows][::-1, ::-1]).ravel())
        trip_original.append(day.trip_original[t0:t1][::-1])
        trip_offset.append(day.trip_offset_s[t0:t1][::-1])
        if day.trip_realtime is not None:
            trip_realtime.append(day.trip_realtime[t0:t1][::-1])
        if day.trip_new_id is not None:
            trip_new_id.append(day.trip_new_id[t0:t1][::-1])
    lengths = np.diff(day.dp_stop_indptr)
    counts = np.diff(day.dp_trip_indptr)
    dp_stops = _cat(stops, np.int32)
    n_stops = len(day.stop_dp_indptr) - 1
    src = np.repeat(np.arange(n_stops, dtype=np.int32), np.diff(day.fp_indptr))
    order = np.argsort(day.fp_target, kind="stable")
    fp_indptr = np.concatenate([[0], np.cumsum(np.bincount(day.fp_target, minlength=n_stops))])
    return DayTable(
        service_date=day.service_date, reversed=True, dp_pattern=day.dp_pattern,
        dp_route=day.dp_route, dp_mode=day.dp_mode, dp_stop_indptr=day.dp_stop_indptr,
        dp_stops=dp_stops, dp_board_ok=_cat(board, np.bool_), dp_alight_ok=_cat(alight, np.bool_),
        dp_cum_m=_cat(cum, np.float64), dp_factor=day.dp_factor,
        dp_trip_indptr=day.dp_trip_indptr, trip_original=_cat(trip_original, np.int32),
        trip_offset_s=_cat(trip_offset, np.int32),
        trip_time_base=np.concatenate([[0], np.cumsum(np.repeat(lengths, counts))[:-1]]
                                      ).astype(np.int64) if counts.sum() else np.zeros(0, np.int64),
        st_arr=_cat(arr, np.int32), st_dep=_cat(dep, np.int32),
        **_stop_index(day.dp_stop_indptr, dp_stops, n_stops),
        fp_indptr=fp_indptr.astype(np.int64), fp_target=src[order],
        fp_distance_m=day.fp_distance_m[order], min_transfer_s=day.min_transfer_s,
        trip_realtime=None if day.trip_realtime is None else _cat(trip_realtime, np.bool_),
        trip_new_id=None if day.trip_new_id is None else _cat(trip_new_id, np.str_))
