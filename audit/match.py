"""Match evidence to the network: trace stretches to timetable trips, taps to trips, street legs to streets.

Transit: a trace rode trip T of the day's timetable from stop A to stop B when it passes
within :data:`STOP_RADIUS_M` of T's stops in T's order, each at the time T is there (within
:data:`SCHEDULE_TOLERANCE_S`), at least :data:`MIN_STOP_SHARE` of the stops from A to B, and
stays near T's route shape (median :data:`MAX_SHAPE_DISTANCE_M`) in between. The timetable is
the planner's own day table for the service date (previous-day trips past midnight included).

Streets: a street leg is matched to its street layer with a small hidden-Markov map matcher
(Newson & Krumm 2009): candidates are layer edges within :data:`CANDIDATE_RADIUS_M` of
fixes taken every :data:`MATCH_SPACING_M`; emission ~ Gaussian in the distance to the edge;
transitions scored by how far the network distance (bounded Dijkstra) differs from the
straight-line one (``audit._hmm``). The matched distance is the length of
the matched edge sequence; where the matcher must restart (no connected candidates), the gap
is bridged by the straight line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from scipy.spatial import cKDTree

from graphs.network import StreetLayer

from .segment import SPEED_WINDOW_S, WALK_MAX_MPS, Kinematics, spike_mask, to_local_xy

__all__ = [
    "AT_STOP_M",
    "CANDIDATE_RADIUS_M",
    "GPS_SIGMA_M",
    "MATCH_SPACING_M",
    "MAX_FIX_TO_STREET_M",
    "MAX_SHAPE_DISTANCE_M",
    "MAX_VEHICLE_DISTANCE_M",
    "MIN_RIDE_M",
    "MIN_STOP_SHARE",
    "ON_FOOT_WINDOW_S",
    "SCHEDULE_TOLERANCE_S",
    "STOP_RADIUS_M",
    "TAP_WINDOW_S",
    "Ride",
    "StreetMatcher",
    "TapMatch",
    "TransitMatcher",
]

STOP_RADIUS_M = 60.0
SCHEDULE_TOLERANCE_S = 60.0
MIN_STOP_SHARE = 0.6
MAX_SHAPE_DISTANCE_M = 35.0
#: ... and rides *with* the vehicle: the median distance of the fixes from where the timetable
#: puts the vehicle at their times stays below this (m; dwell and small delays stay inside);
#: a rider waiting at a stop while buses pass, or a walker along a bus corridor, does not.
MAX_VEHICLE_DISTANCE_M = 200.0
#: A ride begins and ends on foot (a change of mode passes through walking): the median
#: speed over this many seconds before boarding and after alighting is at most walking speed
#: (``audit.segment.WALK_MAX_MPS``). A cyclist or car keeping pace with a bus fails it.
ON_FOOT_WINDOW_S = 60.0
#: ... and is at the boarding stop when the vehicle leaves and at the alighting stop when it
#: arrives: the trace, interpolated to those times, within this distance (m) of the stop.
AT_STOP_M = 100.0
#: Shorter rides (m) are not told apart from walking past stops as buses pass.
MIN_RIDE_M = 300.0
_STOPS_PER_FIX = 8
#: Longest dwell assumed when looking up stop times by departure (s).
_MAX_DWELL_S = 600.0
#: Passes of nearby stops may come a few fixes out of order (a stop across the street).
_ORDER_SLACK_FIXES = 3
#: A tap at a stop matches a trip leaving there within this window (s) around the tap:
#: on-board validators tap after departure, station gates before.
TAP_WINDOW_S = (-600.0, 300.0)
CANDIDATE_RADIUS_M = 60.0
MATCH_SPACING_M = 40.0
GPS_SIGMA_M = 8.0
#: A fix farther than this from every street (5 sigma) is left out of the match: an outlier
#: the spike filter missed would otherwise drag the path on a detour to a street near it.
MAX_FIX_TO_STREET_M = 40.0


@dataclass(frozen=True)
class Ride:
    """A stretch of trace matched to one timetable trip."""

    mode: str
    route_id: str
    route_short_name: str
    trip_id: str
    board_stop: str
    alight_stop: str
    board_s: float          # scheduled departure, seconds of the service day
    alight_s: float         # scheduled arrival
    distance_m: float       # along the pattern
    stops_hit: int
    stops_total: int
    shape_distance_m: float  # median distance of the fixes from the route shape
    geometry: tuple[tuple[float, float], ...]

    @property
    def confidence(self) -> float:
        share = self.stops_hit / max(1, self.stops_total)
        closeness = max(0.0, 1.0 - self.shape_distance_m / (2 * MAX_SHAPE_DISTANCE_M))
        return round(min(1.0, 0.5 * share + 0.5 * closeness), 3)


@dataclass(frozen=True)
class TapMatch:
    """A tap matched to the trip that left its stop (or ran its route) nearest in time."""

    mode: str
    route_id: str
    trip_id: str
    stop_id: str
    departure_s: float
    offset_s: float          # tap time minus departure


class TransitMatcher:
    """Timetable matching on the planner's day tables (one per service date, cached there)."""

    def __init__(self, planner) -> None:
        self.planner = planner
        self.router = planner.transit
        tt = planner.network.timetable
        self.timetable = tt
        self.tz = planner.tz
        self._origin = (float(np.mean(tt.stop_lat)), float(np.mean(tt.stop_lon)))
        sx, sy = to_local_xy(tt.stop_lat, tt.stop_lon, self._origin)
        self._stop_tree = cKDTree(np.column_stack([sx, sy]))
        self.stop_index = {str(s): i for i, s in enumerate(tt.stop_id)}
        self.route_index = {str(r): i for i, r in enumerate(tt.route_id)}
        self._indexes: dict[tuple, _StopTimes] = {}

    def day_zero(self, service_date: date) -> float:
        """Epoch seconds of the service day's zero (noon minus 12 h), as the planner counts."""
        from planner._calendar import day_zero_utc

        return day_zero_utc(service_date, self.tz).timestamp()

    def _stop_times(self, day) -> _StopTimes:
        """Every stop time of a day table, grouped by stop and sorted by departure (cached)."""
        key = (day.service_date, day.reversed)
        if key not in self._indexes:
            self._indexes = {key: _StopTimes.of(day, self.timetable.n_stops)}
        return self._indexes[key]

    def covers(self, service_date: date) -> bool:
        return self.router is not None and self.router.covers(service_date)

    # -- rides from a trace -----------------------------------------------------------------
    def rides(self, k: Kinematics, t_day: np.ndarray, service_date: date, *,
              tapped_routes: frozenset[str] = frozenset()) -> list[Ride]:
        """Non-overlapping rides of the trace (``t_day``: its times in seconds of the day).

        Where candidates overlap, a route the traveller's card tapped wins, then the one
        passing most stops, nearest the shape, closest to schedule.
        """
        if not self.covers(service_date) or len(k) < 2:
            return []
        day = self.router.day(service_date, False)
        visits = self._visits(k)
        candidates = self._candidates(day, visits, t_day, k)
        rides: list[Ride] = []
        candidates = [((c[1].route_id in tapped_routes, *c[0]), c[1]) for c in candidates]
        for _, ride in sorted(candidates, key=lambda c: c[0], reverse=True):
            if any(ride.board_s < r.alight_s and r.board_s < ride.alight_s for r in rides):
                continue
            rides.append(ride)
        return sorted(rides, key=lambda r: r.board_s)

    def _visits(self, k: Kinematics) -> list[tuple[int, int, int]]:
        """``(stop, first fix, last fix)`` of each pass within STOP_RADIUS_M of a stop.

        Fixes of one pass may miss the radius for up to two fixes (noise) without ending it.
        """
        x, y = to_local_xy(k.lat, k.lon, self._origin)
        _, idx = self._stop_tree.query(np.column_stack([x, y]), k=_STOPS_PER_FIX,
                                       distance_upper_bound=STOP_RADIUS_M)
        fix, column = np.nonzero(idx < self.timetable.n_stops)
        if not len(fix):
            return []
        stop = idx[fix, column].astype(np.int64)
        order = np.lexsort((fix, stop))
        fix, stop = fix[order], stop[order]
        new = np.ones(len(fix), bool)
        new[1:] = (stop[1:] != stop[:-1]) | (fix[1:] - fix[:-1] > 3)
        starts = np.flatnonzero(new)
        ends = np.concatenate([starts[1:] - 1, [len(fix) - 1]])
        visits = sorted(zip(fix[starts].tolist(), stop[starts].tolist(), fix[ends].tolist(),
                            strict=True))
        return [(s, a, b) for a, s, b in visits]

    def _candidates(self, day, visits, t_day, k: Kinematics) -> list[tuple[tuple, Ride]]:
        hits: dict[tuple[int, int], list[tuple[int, int, int, float]]] = {}
        index = self._stop_times(day)
        for stop, a, b in visits:
            ta, tb = float(t_day[a]), float(t_day[b])
            first, last = int(index.indptr[stop]), int(index.indptr[stop + 1])
            deps = index.dep[first:last]
            lo = first + int(np.searchsorted(deps, ta - SCHEDULE_TOLERANCE_S, side="left"))
            hi = first + int(np.searchsorted(deps, tb + SCHEDULE_TOLERANCE_S + _MAX_DWELL_S,
                                             side="right"))
            # offset: how far the vehicle's time at the stop lies outside the visit
            offset = np.maximum(0.0, np.maximum(ta - index.dep[lo:hi], index.arr[lo:hi] - tb))
            for i in np.flatnonzero(offset <= SCHEDULE_TOLERANCE_S):
                row = lo + int(i)
                hits.setdefault((int(index.dp[row]), int(index.trip[row])), []).append(
                    (int(index.pos[row]), a, b, float(offset[i])))
        out = []
        for (dp, trip), found in hits.items():
            chain = _chain(found)
            if len(chain) < 2:
                continue
            row = int(day.trip_time_base[trip])
            # the rider is on foot before boarding and after alighting; a walker near the
            # route, or a rider of another vehicle on the same road, may pass more of this
            # trip's stops as it passes: cut the chain at the first stop left on foot
            before = [_on_foot(k, t_day, day.st_dep[row + h[0]] - SPEED_WINDOW_S
                               - ON_FOOT_WINDOW_S, day.st_dep[row + h[0]] - SPEED_WINDOW_S)
                      for h in chain]
            after = [_on_foot(k, t_day, day.st_arr[row + h[0]] + SPEED_WINDOW_S,
                              day.st_arr[row + h[0]] + SPEED_WINDOW_S + ON_FOOT_WINDOW_S)
                     for h in chain]
            for first in (i for i in range(len(chain) - 1) if before[i]):
                found_last = next((j for j in range(first + 1, len(chain)) if after[j]), None)
                if found_last is None:
                    break
                last = found_last
                part = chain[first:last + 1]
                board, alight = part[0][0], part[-1][0]
                if len(part) < MIN_STOP_SHARE * (alight - board + 1):
                    continue
                ride = self._ride(day, dp, trip, board=board, alight=alight, n_hit=len(part),
                                  t_day=t_day, k=k)
                if ride is None or ride.distance_m < MIN_RIDE_M:
                    continue
                error = sum(h[3] for h in part) / len(part)
                out.append(((len(part), -ride.shape_distance_m, -error), ride))
                break
        return out

    def _ride(self, day, dp: int, trip: int, *, board: int, alight: int, n_hit: int,
              t_day: np.ndarray, k: Kinematics) -> Ride | None:
        tt = self.timetable
        pattern = int(day.dp_pattern[dp])
        base = int(tt.pattern_stop_indptr[pattern])
        route = int(day.dp_route[dp])
        row = int(day.trip_time_base[trip])
        board_s, alight_s = float(day.st_dep[row + board]), float(day.st_arr[row + alight])
        stops = tt.pattern_stops[base + board: base + alight + 1]
        geometry = [(float(tt.stop_lon[stops[0]]), float(tt.stop_lat[stops[0]]))]
        geometry_stops = [0]          # index in ``geometry`` of each stop from board to alight
        for pos in range(board + 1, alight + 1):
            a, b = tt.hop_geometry_indptr[base + pos], tt.hop_geometry_indptr[base + pos + 1]
            geometry += [(float(p[0]), float(p[1])) for p in tt.hop_geometry_lonlat[a:b]]
            stop = int(tt.pattern_stops[base + pos])
            geometry.append((float(tt.stop_lon[stop]), float(tt.stop_lat[stop])))
            geometry_stops.append(len(geometry) - 1)
        inside = (t_day >= board_s) & (t_day <= alight_s)
        # speeds are windowed (audit.segment.SPEED_WINDOW_S): look past the vehicle's own motion
        before = board_s - SPEED_WINDOW_S
        after = alight_s + SPEED_WINDOW_S
        if inside.sum() < 2 or not (_on_foot(k, t_day, before - ON_FOOT_WINDOW_S, before)
                                    and _on_foot(k, t_day, after, after + ON_FOOT_WINDOW_S)):
            return None
        if float(np.median(k.speed_mps[inside])) <= WALK_MAX_MPS:
            return None           # at walking pace a timetable ride cannot be told from a walk
        if not (self._at(k, t_day, board_s, int(stops[0]))
                and self._at(k, t_day, alight_s, int(stops[-1]))):
            return None
        shape = np.asarray(geometry)
        px, py = to_local_xy(shape[:, 1], shape[:, 0], self._origin)
        fx, fy = to_local_xy(k.lat[inside], k.lon[inside], self._origin)
        distance = float(np.median(_point_polyline_distance(fx, fy, px, py)))
        if distance > MAX_SHAPE_DISTANCE_M:
            return None
        vehicle = self._vehicle_xy(day, row, board=board, alight=alight, px=px, py=py,
                                   geometry_stops=geometry_stops, times=t_day[inside])
        if np.median(np.hypot(fx - vehicle[0], fy - vehicle[1])) > MAX_VEHICLE_DISTANCE_M:
            return None
        hop = tt.pattern_hop_distance_m[base + board + 1: base + alight + 1].astype(float)
        return Ride(mode=str(day.dp_mode[dp]), route_id=str(tt.route_id[route]),
                    route_short_name=str(tt.route_short_name[route]),
                    trip_id=day.trip_id(tt, trip),
                    board_stop=str(tt.stop_id[stops[0]]), alight_stop=str(tt.stop_id[stops[-1]]),
                    board_s=board_s, alight_s=alight_s, distance_m=float(hop.sum()),
                    stops_hit=n_hit, stops_total=int(alight - board + 1),
                    shape_distance_m=distance, geometry=tuple(geometry))

    def _at(self, k: Kinematics, t_day: np.ndarray, when: float, stop: int) -> bool:
        """Whether the trace, interpolated to ``when``, is within AT_STOP_M of ``stop``."""
        tt = self.timetable
        lat = float(np.interp(when, t_day, k.lat))
        lon = float(np.interp(when, t_day, k.lon))
        x, y = to_local_xy([lat, float(tt.stop_lat[stop])], [lon, float(tt.stop_lon[stop])],
                           self._origin)
        return math.hypot(x[1] - x[0], y[1] - y[0]) <= AT_STOP_M

    @staticmethod
    def _vehicle_xy(day, row: int, *, board: int, alight: int, px, py, geometry_stops, times):
        """Where the timetable puts the vehicle at ``times``: along the shape, at its stops on time."""
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(px), np.diff(py)))])
        knots_t, knots_s = [], []
        for k, pos in enumerate(range(board, alight + 1)):
            s = cum[geometry_stops[k]]
            arr, dep = float(day.st_arr[row + pos]), float(day.st_dep[row + pos])
            if pos > board:
                knots_t.append(arr)
                knots_s.append(s)
            if pos < alight and (pos == board or dep > arr):
                knots_t.append(dep)
                knots_s.append(s)
        along = np.interp(times, knots_t, knots_s)
        return np.interp(along, cum, px), np.interp(along, cum, py)

    # -- taps ---------------------------------------------------------------------------------
    def match_tap(self, stop_id: str, route_id: str, t_day: float,
                  service_date: date) -> TapMatch | None:
        """The trip leaving the tap's stop (on the tap's route, if given) nearest the tap."""
        if not self.covers(service_date):
            return None
        day = self.router.day(service_date, False)
        tt = self.timetable
        stop = self.stop_index.get(stop_id)
        route = self.route_index.get(route_id) if route_id else None
        best = None
        stops = [stop] if stop is not None else []
        if stop is None and route is not None:   # route only: any stop of the route
            for dp in map(int, np.flatnonzero(day.dp_route == route)):
                t0, t1 = int(day.dp_trip_indptr[dp]), int(day.dp_trip_indptr[dp + 1])
                a, b = int(day.dp_stop_indptr[dp]), int(day.dp_stop_indptr[dp + 1])
                for pos in range(b - a):
                    best = _best_tap(best, day, tt, dp=dp, pos=pos, t0=t0, t1=t1, t_day=t_day,
                                     stop=int(day.dp_stops[a + pos]))
            return best
        for s in stops:
            for j in range(int(day.stop_dp_indptr[s]), int(day.stop_dp_indptr[s + 1])):
                dp, pos = int(day.stop_dp[j]), int(day.stop_dp_pos[j])
                if route is not None and int(day.dp_route[dp]) != route:
                    continue
                t0, t1 = int(day.dp_trip_indptr[dp]), int(day.dp_trip_indptr[dp + 1])
                best = _best_tap(best, day, tt, dp=dp, pos=pos, t0=t0, t1=t1, t_day=t_day,
                                 stop=s)
        return best


@dataclass(frozen=True, eq=False)
class _StopTimes:
    """A day table's stop times as flat arrays, grouped by stop (CSR) and sorted by departure."""

    indptr: np.ndarray     # (s + 1,)
    dp: np.ndarray
    pos: np.ndarray
    trip: np.ndarray       # day-trip index
    arr: np.ndarray        # float64 seconds of the day
    dep: np.ndarray

    @classmethod
    def of(cls, day, n_stops: int) -> _StopTimes:
        parts: dict[str, list[np.ndarray]] = {name: [] for name in ("stop", "dp", "pos", "trip")}
        for dp in range(len(day.dp_pattern)):
            a, b = int(day.dp_stop_indptr[dp]), int(day.dp_stop_indptr[dp + 1])
            t0, t1 = int(day.dp_trip_indptr[dp]), int(day.dp_trip_indptr[dp + 1])
            if b == a or t1 == t0:
                continue
            parts["stop"].append(np.tile(day.dp_stops[a:b], t1 - t0))
            parts["pos"].append(np.tile(np.arange(b - a), t1 - t0))
            parts["trip"].append(np.repeat(np.arange(t0, t1), b - a))
            parts["dp"].append(np.full((b - a) * (t1 - t0), dp))
        if not parts["stop"]:
            empty = np.zeros(0, np.int64)
            return cls(np.zeros(n_stops + 1, np.int64), empty, empty, empty,
                       np.zeros(0), np.zeros(0))
        stop, dps, pos, trip = (np.concatenate(parts[n]).astype(np.int64)
                                for n in ("stop", "dp", "pos", "trip"))
        rows = day.trip_time_base[trip] + pos
        arr, dep = day.st_arr[rows].astype(float), day.st_dep[rows].astype(float)
        order = np.lexsort((dep, stop))
        indptr = np.searchsorted(stop[order], np.arange(n_stops + 1)).astype(np.int64)
        return cls(indptr, dps[order], pos[order], trip[order], arr[order], dep[order])


def _best_tap(best, day, tt, *, dp: int, pos: int, t0: int, t1: int, t_day: float,
              stop: int) -> TapMatch | None:
    rows = day.trip_time_base[t0:t1] + pos
    dep = day.st_dep[rows].astype(float)
    offset = t_day - dep
    ok = np.flatnonzero((offset >= TAP_WINDOW_S[0]) & (offset <= TAP_WINDOW_S[1]))
    for i in ok:
        if best is None or abs(offset[i]) < abs(best.offset_s):
            route = int(day.dp_route[dp])
            best = TapMatch(mode=str(day.dp_mode[dp]), route_id=str(tt.route_id[route]),
                            trip_id=day.trip_id(tt, t0 + int(i)),
                            stop_id=str(tt.stop_id[stop]), departure_s=float(dep[i]),
                            offset_s=float(offset[i]))
    return best


def _on_foot(k: Kinematics, t_day: np.ndarray, t0: float, t1: float) -> bool:
    """Median speed within ``[t0, t1]`` at most walking speed (true when no fix is there)."""
    inside = (t_day >= t0) & (t_day <= t1)
    return not inside.any() or float(np.median(k.speed_mps[inside])) <= WALK_MAX_MPS


def _chain(found: list[tuple[int, int, int, float]]) -> list[tuple[int, int, int, float]]:
    """Hits ``(pos, first fix, last fix, offset)`` in pattern order whose passes come in time
    order (a pass may overlap the previous one: nearby stops), one hit per position."""
    best: dict[int, tuple[int, int, int, float]] = {}
    for hit in found:
        if hit[0] not in best or hit[3] < best[hit[0]][3]:
            best[hit[0]] = hit
    hits = sorted(best.values())
    length = [1] * len(hits)
    parent = [-1] * len(hits)
    for i, hit in enumerate(hits):          # longest chain: O(n^2) over a few dozen stops
        for j in range(i):
            if hit[2] + _ORDER_SLACK_FIXES >= hits[j][1] and length[j] + 1 > length[i]:
                length[i], parent[i] = length[j] + 1, j
    if not hits:
        return []
    i = max(range(len(hits)), key=lambda n: length[n])
    chain = []
    while i >= 0:
        chain.append(hits[i])
        i = parent[i]
    return chain[::-1]


def _point_polyline_distance(px, py, lx, ly) -> np.ndarray:
    """Distance of each point to a polyline (all in metres)."""
    if len(lx) < 2:
        return np.hypot(px - lx[0], py - ly[0])
    ax, ay = lx[:-1][None, :], ly[:-1][None, :]
    bx, by = lx[1:][None, :], ly[1:][None, :]
    dx, dy = bx - ax, by - ay
    length2 = np.maximum(dx * dx + dy * dy, 1e-9)
    u = np.clip(((px[:, None] - ax) * dx + (py[:, None] - ay) * dy) / length2, 0.0, 1.0)
    return np.min(np.hypot(px[:, None] - (ax + u * dx), py[:, None] - (ay + u * dy)), axis=1)


def epoch_seconds(when: datetime) -> float:
    """Seconds since 1970 of an aware datetime."""
    return when.astimezone(UTC).timestamp()


class StreetMatcher:
    """Hidden-Markov map matching of street legs to one street layer (see the module doc).

    Edges are indexed by points every :data:`_SAMPLE_SPACING_M` along their straight chord
    (tail to head) in a KD-tree; the Viterbi pass runs in ``audit._hmm`` (numba).
    """

    def __init__(self, layer: StreetLayer) -> None:
        self.layer = layer
        self.origin = (float(np.mean(layer.node_lat)), float(np.mean(layer.node_lon)))
        nx_, ny_ = to_local_xy(layer.node_lat, layer.node_lon, self.origin)
        self.indptr = layer.indptr.astype(np.int64)
        self.tail = layer.edge_tail.astype(np.int64)
        self.head = layer.edge_head.astype(np.int64)
        self.length = layer.edge_length_m.astype(np.float64)
        self.ax, self.ay = nx_[self.tail], ny_[self.tail]
        self.dx, self.dy = nx_[self.head] - self.ax, ny_[self.head] - self.ay
        pieces = np.maximum(1, np.ceil(np.hypot(self.dx, self.dy) / _SAMPLE_SPACING_M))
        pieces = pieces.astype(np.int64)
        counts = pieces + 1
        edge_of = np.repeat(np.arange(len(self.tail)), counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        frac = (np.arange(int(counts.sum())) - first) / np.repeat(pieces, counts)
        self._sample_edge = edge_of
        self._tree = cKDTree(np.column_stack([self.ax[edge_of] + frac * self.dx[edge_of],
                                              self.ay[edge_of] + frac * self.dy[edge_of]]))

    def match(self, lat: np.ndarray, lon: np.ndarray) -> tuple[float, float]:
        """``(distance_m, share of fixes near a street)`` of one street leg.

        Fixes farther than CANDIDATE_RADIUS_M from every edge are skipped; breaks in the
        matched chain are bridged by the straight line.
        """
        from ._hmm import viterbi_distance

        x, y = to_local_xy(lat, lon, self.origin)
        clean = ~spike_mask(x, y)
        x, y = x[clean], y[clean]
        keep = _thin(x, y, MATCH_SPACING_M)
        x, y = x[keep], y[keep]
        if len(x) < 2:
            return 0.0, 0.0
        edge, dist, u = self._candidates(x, y)
        near = dist[:, 0] <= MAX_FIX_TO_STREET_M     # farther: an outlier (or off the map)
        if near.sum() < 2:
            return float(np.hypot(np.diff(x), np.diff(y)).sum()), 0.0
        x, y, edge, dist, u = x[near], y[near], edge[near], dist[near], u[near]
        straight = np.concatenate([[0.0], np.hypot(np.diff(x), np.diff(y))])
        route, bridged, _ = viterbi_distance(self.indptr, self.head, self.tail, self.length,
                                             edge, dist, u, straight, GPS_SIGMA_M)
        return float(route + bridged), float(near.mean())

    def _candidates(self, x: np.ndarray, y: np.ndarray):
        """``(n, K)`` nearest distinct edges within CANDIDATE_RADIUS_M: ids (-1 pad), metres, fractions."""
        _, idx = self._tree.query(np.column_stack([x, y]), k=_QUERY_K,
                                  distance_upper_bound=CANDIDATE_RADIUS_M)
        valid = idx < len(self._sample_edge)
        edges = np.where(valid, self._sample_edge[np.minimum(idx, len(self._sample_edge) - 1)], -1)
        safe = np.maximum(edges, 0)
        ax, ay, dx, dy = self.ax[safe], self.ay[safe], self.dx[safe], self.dy[safe]
        u = np.clip(((x[:, None] - ax) * dx + (y[:, None] - ay) * dy)
                    / np.maximum(dx * dx + dy * dy, 1e-9), 0.0, 1.0)
        dist = np.hypot(x[:, None] - ax - u * dx, y[:, None] - ay - u * dy)
        dist = np.where(edges >= 0, dist, np.inf)
        order = np.argsort(dist, axis=1, kind="stable")
        edges = np.take_along_axis(edges, order, axis=1)
        dist = np.take_along_axis(dist, order, axis=1)
        u = np.take_along_axis(u, order, axis=1)
        earlier = np.tri(_QUERY_K, k=-1, dtype=bool)[None]      # [a, b]: b before a
        repeat = (edges[:, :, None] == edges[:, None, :]) & earlier
        keep = (edges >= 0) & ~repeat.any(axis=2)
        rank = np.cumsum(keep, axis=1) - 1
        keep &= rank < _CANDIDATES
        rows, cols = np.nonzero(keep)
        out_e = np.full((len(x), _CANDIDATES), -1, np.int64)
        out_d = np.full((len(x), _CANDIDATES), np.inf)
        out_u = np.zeros((len(x), _CANDIDATES))
        out_e[rows, rank[rows, cols]] = edges[rows, cols]
        out_d[rows, rank[rows, cols]] = dist[rows, cols]
        out_u[rows, rank[rows, cols]] = u[rows, cols]
        return out_e, out_d, out_u


_SAMPLE_SPACING_M = 25.0
_QUERY_K = 24
_CANDIDATES = 6


def _thin(x: np.ndarray, y: np.ndarray, spacing: float) -> np.ndarray:
    """Indices of fixes at least ``spacing`` metres apart (first and last kept)."""
    keep = [0]
    for i in range(1, len(x)):
        if math.hypot(x[i] - x[keep[-1]], y[i] - y[keep[-1]]) >= spacing:
            keep.append(i)
    if keep[-1] != len(x) - 1:
        keep.append(len(x) - 1)
    return np.asarray(keep)
