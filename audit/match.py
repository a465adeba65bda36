"""Match evidence to the network: trace stretches to timetable trips, taps to trips, street legs to streets.

Transit: a trace rode trip T of the day's timetable from stop A to stop B when it passes
within :data:`STOP_RADIUS_M` of T's stops in T's order, each at the time T is there (within
:data:`SCHEDULE_TOLERANCE_S`), at least :data:`MIN_STOP_SHARE` of the stops from A to B, and
stays near T's route shape (median :data:`MAX_SHAPE_DISTANCE_M`) in between. The timetable is
the planner's own day table for the service date (previous-day trips past midnight included).

Streets: a street leg is matched to its street layer with a small hidden-Markov map matcher
(Newson & Krumm 2009): candidates are layer edges within :data:`CANDIDATE_RADIUS_M` of
fixes taken every :data:`MATCH_SPACING_M`; emission ~ Gaussian in the distance to the edge;
transitions allowed along the graph within :data:`MAX_HOPS` edges, scored by how far the
network distance differs from the straight-line one. The matched distance is the length of
the matched edge sequence; where the matcher must restart (no connected candidates), the gap
is bridged by the straight line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone as dt_timezone

import numpy as np
from scipy.spatial import cKDTree

from graphs.network import StreetLayer

from .segment import WALK_MAX_MPS, Kinematics, to_local_xy

__all__ = [
    "STOP_RADIUS_M", "SCHEDULE_TOLERANCE_S", "MIN_STOP_SHARE", "MAX_SHAPE_DISTANCE_M",
    "MAX_VEHICLE_DISTANCE_M", "ON_FOOT_WINDOW_S", "AT_STOP_M", "MIN_RIDE_M",
    "TAP_WINDOW_S", "CANDIDATE_RADIUS_M", "MATCH_SPACING_M", "MAX_HOPS", "GPS_SIGMA_M",
    "Ride", "TapMatch", "TransitMatcher", "StreetMatcher",
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
_TRIMS = ((0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (2, 0))
#: A tap at a stop matches a trip leaving there within this window (s) around the tap:
#: on-board validators tap after departure, station gates before.
TAP_WINDOW_S = (-600.0, 300.0)
CANDIDATE_RADIUS_M = 60.0
MATCH_SPACING_M = 40.0
MAX_HOPS = 6
GPS_SIGMA_M = 8.0


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

    def day_zero(self, service_date: date) -> float:
        """Epoch seconds of the service day's zero (noon minus 12 h), as the planner counts."""
        from planner._calendar import day_zero_utc

        return day_zero_utc(service_date, self.tz).timestamp()

    def covers(self, service_date: date) -> bool:
        return self.router is not None and self.router.covers(service_date)

    # -- rides from a trace -----------------------------------------------------------------
    def rides(self, k: Kinematics, t_day: np.ndarray, service_date: date) -> list[Ride]:
        """Non-overlapping rides of the trace (``t_day``: its times in seconds of the day)."""
        if not self.covers(service_date) or len(k) < 2:
            return []
        day = self.router.day(service_date, False)
        visits = self._visits(k)
        candidates = self._candidates(day, visits, t_day, k)
        rides: list[Ride] = []
        for score, ride in sorted(candidates, key=lambda c: c[0], reverse=True):
            if any(ride.board_s < r.alight_s and r.board_s < ride.alight_s for r in rides):
                continue
            rides.append(ride)
        return sorted(rides, key=lambda r: r.board_s)

    def _visits(self, k: Kinematics) -> list[tuple[int, int, int]]:
        """``(stop, first fix, last fix)`` of each pass within STOP_RADIUS_M of a stop."""
        x, y = to_local_xy(k.lat, k.lon, self._origin)
        near = self._stop_tree.query_ball_point(np.column_stack([x, y]), STOP_RADIUS_M)
        open_: dict[int, list[int]] = {}
        out = []
        for i, stops in enumerate(near):
            current = set(stops)
            for stop in list(open_):
                if stop not in current and i - open_[stop][1] > 2:
                    a, b = open_.pop(stop)
                    out.append((stop, a, b))
            for stop in current:
                if stop in open_:
                    open_[stop][1] = i
                else:
                    open_[stop] = [i, i]
        out += [(stop, a, b) for stop, (a, b) in open_.items()]
        return sorted(out, key=lambda v: (v[1], v[0]))

    def _candidates(self, day, visits, t_day, k: Kinematics) -> list[tuple[tuple, Ride]]:
        hits: dict[tuple[int, int], list[tuple[int, int, float]]] = {}
        for v, (stop, a, b) in enumerate(visits):
            ta, tb = float(t_day[a]), float(t_day[b])
            for j in range(int(day.stop_dp_indptr[stop]), int(day.stop_dp_indptr[stop + 1])):
                dp, pos = int(day.stop_dp[j]), int(day.stop_dp_pos[j])
                t0, t1 = int(day.dp_trip_indptr[dp]), int(day.dp_trip_indptr[dp + 1])
                rows = day.trip_time_base[t0:t1] + pos
                arr, dep = day.st_arr[rows].astype(float), day.st_dep[rows].astype(float)
                # offset: how far the vehicle's time at the stop lies outside the visit
                offset = np.maximum(0.0, np.maximum(ta - dep, arr - tb))
                for trip in np.flatnonzero(offset <= SCHEDULE_TOLERANCE_S):
                    hits.setdefault((dp, t0 + int(trip)), []).append((pos, v, float(offset[trip])))
        out = []
        for (dp, trip), found in hits.items():
            chain = _chain(found)
            # a walker near the route may also pass the stop before boarding or after
            # alighting while the vehicle is there: try the chain without such end hits
            for cut_front, cut_back in _TRIMS:
                part = chain[cut_front:len(chain) - cut_back]
                if len(part) < 2:
                    continue
                board, alight = part[0][0], part[-1][0]
                if len(part) < MIN_STOP_SHARE * (alight - board + 1):
                    continue
                ride = self._ride(day, dp, trip, board, alight, len(part), t_day, k)
                if ride is None or ride.distance_m < MIN_RIDE_M:
                    continue
                error = sum(h[2] for h in part) / len(part)
                out.append(((len(part), -ride.shape_distance_m, -error), ride))
                break
        return out

    def _ride(self, day, dp, trip, board, alight, n_hit, t_day, k: Kinematics) -> Ride | None:
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
            geometry += [tuple(map(float, p)) for p in tt.hop_geometry_lonlat[a:b]]
            stop = int(tt.pattern_stops[base + pos])
            geometry.append((float(tt.stop_lon[stop]), float(tt.stop_lat[stop])))
            geometry_stops.append(len(geometry) - 1)
        inside = (t_day >= board_s) & (t_day <= alight_s)
        if inside.sum() < 2 or not (_on_foot(k, t_day, board_s - ON_FOOT_WINDOW_S, board_s - 5)
                                    and _on_foot(k, t_day, alight_s + 5,
                                                 alight_s + ON_FOOT_WINDOW_S)):
            return None
        if not (self._at(k, t_day, board_s, int(stops[0]))
                and self._at(k, t_day, alight_s, int(stops[-1]))):
            return None
        shape = np.asarray(geometry)
        px, py = to_local_xy(shape[:, 1], shape[:, 0], self._origin)
        fx, fy = to_local_xy(k.lat[inside], k.lon[inside], self._origin)
        distance = float(np.median(_point_polyline_distance(fx, fy, px, py)))
        if distance > MAX_SHAPE_DISTANCE_M:
            return None
        vehicle = self._vehicle_xy(day, row, board, alight, base, px, py, geometry_stops,
                                   t_day[inside])
        if np.median(np.hypot(fx - vehicle[0], fy - vehicle[1])) > MAX_VEHICLE_DISTANCE_M:
            return None
        hop = tt.pattern_hop_distance_m[base + board + 1: base + alight + 1].astype(float)
        return Ride(mode=str(day.dp_mode[dp]), route_id=str(tt.route_id[route]),
                    route_short_name=str(tt.route_short_name[route]),
                    trip_id=str(tt.trip_id[int(day.trip_original[trip])]),
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
    def _vehicle_xy(day, row, board, alight, base, px, py, geometry_stops, times):
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
            dps = np.flatnonzero(day.dp_route == route)
            for dp in dps:
                t0, t1 = int(day.dp_trip_indptr[dp]), int(day.dp_trip_indptr[dp + 1])
                a, b = int(day.dp_stop_indptr[dp]), int(day.dp_stop_indptr[dp + 1])
                for pos in range(b - a):
                    best = _best_tap(best, day, tt, dp, pos, t0, t1, t_day, int(day.dp_stops[a + pos]))
            return best
        for s in stops:
            for j in range(int(day.stop_dp_indptr[s]), int(day.stop_dp_indptr[s + 1])):
                dp, pos = int(day.stop_dp[j]), int(day.stop_dp_pos[j])
                if route is not None and int(day.dp_route[dp]) != route:
                    continue
                t0, t1 = int(day.dp_trip_indptr[dp]), int(day.dp_trip_indptr[dp + 1])
                best = _best_tap(best, day, tt, dp, pos, t0, t1, t_day, s)
        return best


def _best_tap(best, day, tt, dp, pos, t0, t1, t_day, stop) -> TapMatch | None:
    rows = day.trip_time_base[t0:t1] + pos
    dep = day.st_dep[rows].astype(float)
    offset = t_day - dep
    ok = np.flatnonzero((offset >= TAP_WINDOW_S[0]) & (offset <= TAP_WINDOW_S[1]))
    for i in ok:
        if best is None or abs(offset[i]) < abs(best.offset_s):
            route = int(day.dp_route[dp])
            best = TapMatch(mode=str(day.dp_mode[dp]), route_id=str(tt.route_id[route]),
                            trip_id=str(tt.trip_id[int(day.trip_original[t0 + int(i)])]),
                            stop_id=str(tt.stop_id[stop]), departure_s=float(dep[i]),
                            offset_s=float(offset[i]))
    return best


def _on_foot(k: Kinematics, t_day: np.ndarray, t0: float, t1: float) -> bool:
    """Median speed within ``[t0, t1]`` at most walking speed (true when no fix is there)."""
    inside = (t_day >= t0) & (t_day <= t1)
    return not inside.any() or float(np.median(k.speed_mps[inside])) <= WALK_MAX_MPS


def _chain(found: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Hits in pattern order whose visits also come in time order (one hit per position)."""
    best: dict[int, tuple[int, int, float]] = {}
    for pos, visit, offset in found:
        if pos not in best or offset < best[pos][2]:
            best[pos] = (pos, visit, offset)
    chain: list[tuple[int, int, float]] = []
    for hit in sorted(best.values()):
        if not chain or hit[1] >= chain[-1][1]:
            chain.append(hit)
    return chain


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
    return when.astimezone(dt_timezone.utc).timestamp()


class StreetMatcher:
    """Hidden-Markov map matching of street legs to one street layer (see the module doc)."""

    def __init__(self, layer: StreetLayer) -> None:
        self.layer = layer
        self.origin = (float(np.mean(layer.node_lat)), float(np.mean(layer.node_lon)))
        nx_, ny_ = to_local_xy(layer.node_lat, layer.node_lon, self.origin)
        self.node_x, self.node_y = nx_, ny_
        tail, head = layer.edge_tail.astype(np.int64), layer.edge_head.astype(np.int64)
        self.tail, self.head = tail, head
        self.length = layer.edge_length_m.astype(float)
        # index edges by points every ~25 m along their straight chord
        ax, ay, bx, by = nx_[tail], ny_[tail], nx_[head], ny_[head]
        pieces = np.maximum(1, np.ceil(np.hypot(bx - ax, by - ay) / 25.0)).astype(int)
        edge_of = np.repeat(np.arange(len(tail)), pieces + 1)
        frac = np.concatenate([np.linspace(0, 1, p + 1) for p in pieces]) if len(tail) else []
        frac = np.asarray(frac, float)
        self._sample_edge = edge_of
        self._tree = cKDTree(np.column_stack([ax[edge_of] + frac * (bx - ax)[edge_of],
                                              ay[edge_of] + frac * (by - ay)[edge_of]]))
        self.out_edges = layer.indptr.astype(np.int64)

    def match(self, lat: np.ndarray, lon: np.ndarray) -> tuple[float, list[int], float]:
        """``(distance_m, matched edges, share of fixes matched)`` of one street leg."""
        x, y = to_local_xy(lat, lon, self.origin)
        keep = _thin(x, y, MATCH_SPACING_M)
        x, y = x[keep], y[keep]
        if len(x) < 2:
            return 0.0, [], 0.0
        candidates = [self._candidates(px, py) for px, py in zip(x, y)]
        runs, breaks, matched = self._viterbi(x, y, candidates)
        distance = sum(d for _, d in runs)
        distance += sum(math.hypot(bx - ax, by - ay) for (ax, ay), (bx, by) in breaks)
        edges = [e for run, _ in runs for e in run]
        return distance, list(dict.fromkeys(edges)), matched / len(x)

    def _candidates(self, px: float, py: float) -> list[tuple[int, float, float]]:
        """``(edge, distance to it, fraction along it)`` within CANDIDATE_RADIUS_M, nearest 6."""
        found = self._tree.query_ball_point((px, py), CANDIDATE_RADIUS_M)
        edges = np.unique(self._sample_edge[found]) if found else np.zeros(0, int)
        out = []
        for e in edges:
            ax, ay = self.node_x[self.tail[e]], self.node_y[self.tail[e]]
            bx, by = self.node_x[self.head[e]], self.node_y[self.head[e]]
            dx, dy = bx - ax, by - ay
            u = min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / max(dx * dx + dy * dy, 1e-9)))
            out.append((int(e), math.hypot(px - ax - u * dx, py - ay - u * dy), u))
        out.sort(key=lambda c: c[1])
        return out[:6]

    def _route(self, e1: int, u1: float, e2: int, u2: float) -> tuple[float, list[int]] | None:
        """Shortest distance from a point on ``e1`` to one on ``e2`` within MAX_HOPS edges."""
        if e1 == e2 and u2 >= u1:
            return (u2 - u1) * self.length[e1], []
        start = (1 - u1) * self.length[e1]
        frontier = {int(self.head[e1]): (start, [])}
        best = None
        for _ in range(MAX_HOPS):
            nxt: dict[int, tuple[float, list[int]]] = {}
            for node, (dist, path) in frontier.items():
                if node == self.tail[e2]:
                    total = dist + u2 * self.length[e2]
                    if best is None or total < best[0]:
                        best = (total, path)
                for e in range(self.out_edges[node], self.out_edges[node + 1]):
                    head = int(self.head[e])
                    d = dist + self.length[e]
                    if head not in nxt or d < nxt[head][0]:
                        nxt[head] = (d, path + [e])
            frontier = nxt
            if best is not None and min((d for d, _ in frontier.values()), default=math.inf) > best[0]:
                break
        return best

    def _viterbi(self, x, y, candidates):
        """Best candidate sequence per connected run; ``(edges, metres)`` per run and the breaks."""
        runs: list[tuple[list[int], float]] = []
        breaks = []
        matched = 0
        history: list = []     # per fix of the current run: (candidates, back-pointers)
        scores = np.zeros(0)
        last = None            # index of the last fix with candidates
        for i, cands in enumerate(candidates):
            if not cands:
                continue
            matched += 1
            emission = np.array([-0.5 * (d / GPS_SIGMA_M) ** 2 for _, d, _ in cands])
            new = np.full(len(cands), -np.inf)
            back: list[tuple[int, list[int], float]] = [(-1, [], 0.0)] * len(cands)
            if history:
                straight = math.hypot(x[i] - x[last], y[i] - y[last])
                for j, (e2, _, u2) in enumerate(cands):
                    for p, (e1, _, u1) in enumerate(history[-1][0]):
                        route = self._route(e1, u1, e2, u2)
                        if route is None:
                            continue
                        score = scores[p] - abs(route[0] - straight) / 20.0 + emission[j]
                        if score > new[j]:
                            new[j], back[j] = score, (p, route[1], route[0])
            if not np.isfinite(new).any():          # first fix, or no connection: restart
                if history:
                    runs.append(_backtrack(history, scores))
                    breaks.append(((x[last], y[last]), (x[i], y[i])))
                history, new = [], emission
                back = [(-1, [], 0.0)] * len(cands)
            history.append((cands, back))
            scores, last = new, i
        if history:
            runs.append(_backtrack(history, scores))
        return runs, breaks, matched


def _backtrack(history, scores) -> tuple[list[int], float]:
    """Edges and metres of the best path through one run of ``history``."""
    j = int(np.argmax(scores))
    edges: list[int] = [history[-1][0][j][0]]
    metres = 0.0
    for i in range(len(history) - 1, 0, -1):
        p, path, dist = history[i][1][j]
        edges = [history[i - 1][0][p][0]] + path + edges
        metres += dist
        j = p
    return edges, metres


def _thin(x: np.ndarray, y: np.ndarray, spacing: float) -> np.ndarray:
    """Indices of fixes at least ``spacing`` metres apart (first and last kept)."""
    keep = [0]
    for i in range(1, len(x)):
        if math.hypot(x[i] - x[keep[-1]], y[i] - y[keep[-1]]) >= spacing:
            keep.append(i)
    if keep[-1] != len(x) - 1:
        keep.append(len(x) - 1)
    return np.asarray(keep)
