"""Transit itineraries: walking access/egress to stops, McRAPTOR, and legs rebuilt from labels."""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numba import njit

from graphs.network import Network, Timetable

from . import raptor
from ._calendar import at_seconds, seconds_of_day, service_date_range
from ._daytable import DayTable, compile_day_table, reverse_day_table
from .access import StreetAccess, StreetEgress
from .itineraries import (
    DESTINATION_NAME,
    ORIGIN_NAME,
    as_line,
    draws_street_geometry,
    street_geometry,
    street_line,
    walk_leg,
)
from .model import Leg, Place, Query
from .street_search import LayerGraph, ShortestPathTree, path_to, route_within

if TYPE_CHECKING:
    from .realtime import RealtimeState

__all__ = ["TransitRouter", "stop_walk_distances", "MAX_TRANSIT_DURATION_S", "DAY_CACHE_SIZE",
           "RIDE_GEOMETRY_CACHE_SIZE", "RIDE_LEG_CACHE_SIZE", "TRANSFER_LINE_CACHE_SIZE"]

#: Journeys longer than this (door to door, seconds) are not searched for.
MAX_TRANSIT_DURATION_S = 4 * 3600
#: Service dates whose compiled tables stay in memory (forward and reversed each).
DAY_CACHE_SIZE = 4
#: Ride polylines (pattern, board, alight) kept between queries.
RIDE_GEOMETRY_CACHE_SIZE = 4096
#: Ride legs (a ride of a trip on a service date) kept between queries.
RIDE_LEG_CACHE_SIZE = 4096
#: Transfer walk lines (from stop, to stop) kept between queries; they depend on the network only.
TRANSFER_LINE_CACHE_SIZE = 8192
#: Access and egress walks shorter than this (a stop at the door) are left out of the legs.
MIN_WALK_LEG_M = 1.0
_TRANSFER_GEOMETRY_FACTOR = 2.0  # transfer paths are looked up within this x footpath length


@dataclass(frozen=True)
class _Ride:
    pattern: int
    trip: int
    offset_s: int
    board: int     # position in the original pattern
    alight: int
    departure_s: int = 0    # as the day table says (realtime or scheduled), seconds of the day
    arrival_s: int = 0
    realtime: bool = False
    new_id: str | None = None   # a trip a realtime feed added (``trip`` is a scheduled template)


@dataclass(frozen=True)
class _RouteFacts:
    """What a ride leg shows of its route (``TransitRouter._route``): numpy strings cost about
    a microsecond each to read, five per ride leg before."""

    mode: str
    g_per_pkm: float
    factor: str       # the leg's ``co2e_factor``
    route_id: str
    short_name: str | None


@dataclass(frozen=True)
class _Foot:
    from_stop: int
    to_stop: int


@dataclass(frozen=True)
class Journey:
    """A transit journey in travel order: first/last stop and rides and transfers between."""

    first_stop: int
    last_stop: int
    steps: tuple


def stop_walk_distances(timetable: Timetable, tree: ShortestPathTree, *, snap_m: float,
                        max_walk_m: float) -> np.ndarray:
    """Metres walked between the query point and each stop (-1 beyond ``max_walk_m``)."""
    return _stop_walk_m(timetable.stop_walk_node, timetable.stop_link_distance_m, tree.dist,
                        float(snap_m), float(max_walk_m))


@njit(cache=True)
def _stop_walk_m(node, link_m, dist, snap_m, max_walk_m):
    """Per stop, tree metres to its walk node + its link + the snap, in that order of
    additions (one pass: the numpy masks cost more than the sums on a city's stops)."""
    out = np.full(len(node), -1.0)
    for i in range(len(node)):
        if node[i] >= 0:
            d = np.float64(dist[node[i]]) + np.float64(link_m[i]) + snap_m
            if np.isfinite(d) and d <= max_walk_m:
                out[i] = d
    return out


class TransitRouter:
    """Per-network transit state: day tables in a small LRU, search and leg reconstruction."""

    def __init__(self, network: Network, walk: LayerGraph, tz: tzinfo, *,
                 cache_size: int = DAY_CACHE_SIZE) -> None:
        tt = network.timetable
        if tt is None:
            raise ValueError("a TransitRouter needs a network with a timetable")
        self.timetable: Timetable = tt
        self.walk = walk
        self.tz = tz
        self.first_date, self.last_date = service_date_range(tt)
        self._cache_size = cache_size
        self._days: OrderedDict[tuple[date, bool], DayTable] = OrderedDict()
        self._lock = threading.RLock()  # web workers may share one Planner across threads
        #: ``planner.realtime.RealtimeState`` in force; replaced whole, in one assignment
        self.realtime: RealtimeState | None = None
        hop = tt.pattern_hop_distance_m.astype(np.float64)
        first = np.zeros(len(hop), bool)
        first[tt.pattern_stop_indptr[:-1][np.diff(tt.pattern_stop_indptr) > 0]] = True
        hop = np.where(first, 0.0, hop)
        cum = np.cumsum(hop)
        # journeys of one query (and nearby queries) share rides: their lines are built once
        self._hop_geometry = lru_cache(maxsize=RIDE_GEOMETRY_CACHE_SIZE)(self._ride_geometry)
        self._ride_legs = lru_cache(maxsize=RIDE_LEG_CACHE_SIZE)(self._ride_leg)
        self._transfer_lines = lru_cache(maxsize=TRANSFER_LINE_CACHE_SIZE)(self._transfer_line)
        self._places: dict[int, Place] = {}  # stop -> its Place (a dict store is atomic)
        self._routes: dict[int, _RouteFacts] = {}  # route -> what its ride legs show
        self._stop_xy = np.column_stack([tt.stop_lon, tt.stop_lat]).astype(np.float64)
        self._cum_m = cum - np.repeat(cum[tt.pattern_stop_indptr[:-1]] if len(cum) else cum[:0],
                                      np.diff(tt.pattern_stop_indptr))

    def forget_ride_lines(self) -> None:
        """Empty the caches of ride lines, ride legs and transfer lines (benchmarks that must
        not reuse a previous pass)."""
        self._hop_geometry.cache_clear()
        self._ride_legs.cache_clear()
        self._transfer_lines.cache_clear()

    def covers(self, service_date: date) -> bool:
        """True if ``service_date`` lies within the feeds' overall service range."""
        return self.first_date <= service_date <= self.last_date

    def day(self, service_date: date, reversed_: bool) -> DayTable:
        """The (optionally time-reversed) table of a service date, realtime feeds applied."""
        realtime = self.realtime  # read once: a poller may swap it meanwhile
        if realtime is not None:
            return realtime.day(service_date, reversed_, self.scheduled_day)
        return self.scheduled_day(service_date, reversed_)

    def realtime_notices(self) -> tuple[str, ...]:
        """Notices of the realtime state in force (stale or broken feeds, what was applied)."""
        realtime = self.realtime
        return () if realtime is None else realtime.notices

    def scheduled_day(self, service_date: date, reversed_: bool) -> DayTable:
        """The compiled (optionally time-reversed) scheduled table of a service date, cached."""
        key = (service_date, reversed_)
        with self._lock:
            if key in self._days:
                self._days.move_to_end(key)
                return self._days[key]
            table = (reverse_day_table(self.scheduled_day(service_date, False)) if reversed_
                     else compile_day_table(self.timetable, service_date, self.tz))
            self._days[key] = table
            while len(self._days) > 2 * self._cache_size:
                self._days.popitem(last=False)
            return table

    def journeys(self, query: Query, access_m: np.ndarray, egress_m: np.ndarray, *,  # noqa: PLR0913
                 within_s: float | None = None,
                 bike: StreetAccess | None = None, egress: StreetEgress | None = None,
                 patterns: np.ndarray | None = None,
                 share: ShareLike | None = None) -> list[Journey]:
        """Pareto journeys (arrival or departure, CO2e, transfers) of the query's service date
        whose last vehicle arrives at most ``MAX_TRANSIT_DURATION_S`` after the query time (the
        egress walk may end later) and, given ``within_s``, that reach the destination at most
        ``within_s`` after the query time (the duration of a street option that covers slower
        journeys, see ``pareto.covering_leg``). ``bike`` (own bike to parking stops) replaces
        the walk at the stops it reaches sooner; ``share`` (shared bikes, ``planner.bikeshare``)
        likewise at either end.
        """
        inputs = self.search_inputs(query, access_m, egress_m, within_s=within_s, bike=bike,
                                    egress=egress, patterns=patterns, share=share)
        if inputs is None:
            return []
        day, search = inputs
        labels = raptor.Labels(*raptor.mc_raptor(day.kernel, search))
        fields = labels.fields
        return [self.unwind(day, labels.dest_fields[i], lambda k, s, slot: fields[k, s, slot])
                for i in range(int(labels.dest_size))]

    def search_inputs(self, query: Query, access_m: np.ndarray, egress_m: np.ndarray, *,  # noqa: PLR0913
                      within_s: float | None = None, bike: StreetAccess | None = None,
                      egress: StreetEgress | None = None, patterns: np.ndarray | None = None,
                      share: ShareLike | None = None) -> tuple[DayTable, raptor.Search] | None:
        """The day table and the kernel's :class:`raptor.Search` of ``journeys`` (same
        arguments; None when nothing can be found: no allowed pattern, no stop within reach
        of an end)."""
        local = query.when.astimezone(self.tz)
        service_date = local.date()
        day = self.day(service_date, query.arrive_by)
        start_s = seconds_of_day(query.when, service_date, self.tz)
        access_s = _walk_seconds(access_m, float(query.walk_speed_mps))
        egress_s = _walk_seconds(egress_m, float(query.walk_speed_mps))
        if bike is not None:
            sooner = (bike.seconds >= 0) & ((access_s < 0) | (bike.seconds < access_s))
            access_s = np.where(sooner, bike.seconds, access_s).astype(np.int32)
        if egress is not None:
            sooner = (egress.seconds >= 0) & ((egress_s < 0) | (egress.seconds < egress_s))
            egress_s = np.where(sooner, egress.seconds, egress_s).astype(np.int32)
        if share is not None:
            access_s = _sooner(share.access.seconds, access_s)
            egress_s = _sooner(share.egress.seconds, egress_s)
        if query.arrive_by:
            start_s, access_s, egress_s = -start_s, egress_s, access_s
        allowed = (np.ones(len(day.dp_pattern), np.bool_) if query.transit_modes is None
                   else np.isin(day.dp_mode, sorted(query.transit_modes)))
        if patterns is not None:
            allowed &= patterns[day.dp_pattern]
        if not allowed.any() or (access_s < 0).all() or (egress_s < 0).all():
            return None
        max_arrival_s = start_s + MAX_TRANSIT_DURATION_S  # of the last vehicle
        max_destination_s = max_arrival_s + int(egress_s.max())
        if within_s is not None and math.isfinite(within_s):
            max_destination_s = min(max_destination_s, start_s + _horizon_s(within_s))
        return day, raptor.Search(access_s=access_s, egress_s=egress_s, allowed=allowed,
                                  start_s=int(start_s),
                                  max_arrival_s=int(max_arrival_s),
                                  max_destination_s=int(max_destination_s),
                                  max_rounds=int(query.max_transfers) + 1,
                                  walk_speed_mps=float(query.walk_speed_mps),
                                  max_walk_m=float(query.max_walk_m))

    def unwind(self, day: DayTable, entry: np.ndarray,
               label_of: Callable[[int, int, int], np.ndarray]) -> Journey:
        """Follow a destination label's parents back to round 0 and express the chain in
        travel order; ``label_of(k, stop, slot)`` is the label of round ``k`` it points to."""
        fields = entry.tolist()  # Python ints: a numpy scalar per field read costs more
        k, s = fields[raptor.D_ROUND], fields[raptor.D_STOP]
        end_stop = s
        steps: list[_Foot | _Ride] = []
        while fields[raptor.F_KIND] != raptor.KIND_ACCESS:
            dp, trip = fields[raptor.F_PATTERN], fields[raptor.F_TRIP]
            base = int(day.dp_stop_indptr[dp])
            bpos, apos = fields[raptor.F_BOARD], fields[raptor.F_ALIGHT]
            alight_stop = int(day.dp_stops[base + apos])
            if fields[raptor.F_KIND] == raptor.KIND_FOOT:
                steps.append(_Foot(alight_stop, s))
            b, a = day.position_in_pattern(dp, bpos), day.position_in_pattern(dp, apos)
            row = int(day.trip_time_base[trip])
            dep_s, arr_s = int(day.st_dep[row + bpos]), int(day.st_arr[row + apos])
            if day.reversed:  # times negated, board and alight swapped
                dep_s, arr_s = -int(day.st_arr[row + apos]), -int(day.st_dep[row + bpos])
            steps.append(_Ride(pattern=int(day.dp_pattern[dp]), trip=int(day.trip_original[trip]),
                               offset_s=int(day.trip_offset_s[trip]),
                               board=min(a, b), alight=max(a, b), departure_s=dep_s,
                               arrival_s=arr_s, realtime=day.trip_realtime is not None
                               and bool(day.trip_realtime[trip]), new_id=day.new_trip(trip)))
            s = int(day.dp_stops[base + bpos])
            fields = label_of(k - 1, s, fields[raptor.F_PARENT]).tolist()
            k -= 1
        if day.reversed:  # the chain already runs in travel order; walks run backwards
            steps = [_Foot(x.to_stop, x.from_stop) if isinstance(x, _Foot) else x for x in steps]
            return Journey(first_stop=end_stop, last_stop=s, steps=tuple(steps))
        return Journey(first_stop=s, last_stop=end_stop, steps=tuple(steps[::-1]))

    def legs(self, journey: Journey, query: Query, *, origin_tree: ShortestPathTree,
             destination_tree: ShortestPathTree, origin_snap_m: float,
             destination_snap_m: float, walk_g_per_pkm: float,
             bike: StreetAccess | None = None, bike_g_per_pkm: float = 0.0,
             egress: StreetEgress | None = None, share: ShareLike | None = None) -> list[Leg]:
        """Access walk (or ``bike`` ride where the search took it), rides, transfer walks and
        egress walk (or ``egress`` ride where it reaches the last stop) with times and
        geometry; ``share`` gives the shared-bike legs at either end where the search took
        them."""
        tt = self.timetable
        service_date = query.when.astimezone(self.tz).date()
        speed = query.walk_speed_mps
        ride_of = {i: self._ride_legs(step, service_date)
                   for i, step in enumerate(journey.steps) if isinstance(step, _Ride)}
        rides: list[Leg] = []
        for i, step in enumerate(journey.steps):
            if isinstance(step, _Foot):  # after a ride; first in arrive-by journeys: before one
                rides.append(self._foot_leg(step, rides[i - 1].arrival, speed, walk_g_per_pkm)
                             if i > 0 else self._foot_leg(step, ride_of[1].departure, speed,
                                                          walk_g_per_pkm, backwards=True))
            else:
                rides.append(ride_of[i])
        origin = Place(ORIGIN_NAME, query.origin_lat, query.origin_lon)
        destination = Place(DESTINATION_NAME, query.destination_lat, query.destination_lon)
        first, last = journey.first_stop, journey.last_stop
        node_in = int(tt.stop_walk_node[first])
        searched_m = (origin_snap_m + float(origin_tree.dist[node_in])
                      + float(tt.stop_link_distance_m[first])) if node_in >= 0 else math.inf
        searched_s = (_walk_s(searched_m, speed)
                      if searched_m <= query.max_walk_m else -1)  # as the search saw it
        head: list[Leg] = []
        in_s = searched_s  # the search's access at the first stop: walk, own bike, share
        if bike is not None and int(bike.seconds[first]) >= 0:
            in_s = int(bike.seconds[first]) if in_s < 0 else min(in_s, int(bike.seconds[first]))
        if share is not None and share.access.faster_than(first, in_s):
            head = share.access_legs(first, rides[0].from_place, rides[0].departure)
            access = head[0]
        elif bike is not None and bike.faster_than(first, searched_s):
            access = bike.leg(first, origin=origin, stop_place=rides[0].from_place,
                              board=rides[0].departure, g_per_pkm=bike_g_per_pkm)
        else:
            access_m, geometry_in = self._end_walk(origin_tree, first, origin_snap_m,
                                                   (origin.lon, origin.lat), to_stop=True)
            access_s = _walk_s(access_m, speed)
            leave = rides[0].departure - _seconds(access_s)
            access = walk_leg(origin, rides[0].from_place, distance_m=access_m,
                              duration_s=float(access_s), departure=leave, geometry=geometry_in,
                              g_per_pkm=walk_g_per_pkm)
        tail: list[Leg] = []
        if share is not None:  # the search's egress at the last stop: walk, own bike, share
            node_out = int(tt.stop_walk_node[last])
            out_m = (destination_snap_m + float(destination_tree.dist[node_out])
                     + float(tt.stop_link_distance_m[last])) if node_out >= 0 else math.inf
            out_s = _walk_s(out_m, speed) if out_m <= query.max_walk_m else -1
            if egress is not None and int(egress.seconds[last]) >= 0:
                out_s = int(egress.seconds[last]) if out_s < 0 else min(
                    out_s, int(egress.seconds[last]))
            if share.egress.faster_than(last, out_s):
                tail = share.egress_legs(last, rides[-1].to_place, rides[-1].arrival)
        if tail:
            out = tail[-1]
        elif egress is not None and int(egress.seconds[last]) >= 0:
            out = egress.egress_leg(last, stop_place=rides[-1].to_place,
                                    destination=destination, alight=rides[-1].arrival)
        else:
            egress_m, geometry_out = self._end_walk(destination_tree, last, destination_snap_m,
                                                    (destination.lon, destination.lat),
                                                    to_stop=False)
            out = walk_leg(rides[-1].to_place, destination, distance_m=egress_m,
                           duration_s=float(_walk_s(egress_m, speed)),
                           departure=rides[-1].arrival, geometry=geometry_out,
                           g_per_pkm=walk_g_per_pkm)
        # a walk at either end shorter than MIN_WALK_LEG_M is left out (shared-bike legs are
        # kept: renting and returning have no distance)
        short = [leg for leg, shared in ((access, head), (out, tail)) if not shared]
        return [leg for leg in (*(head or [access]), *rides, *(tail or [out]))
                if leg.trip_id is not None or leg.distance_m >= MIN_WALK_LEG_M
                or all(leg is not end for end in short)]

    def _end_walk(self, tree: ShortestPathTree, stop: int, snap_m: float,
                  end: tuple[float, float], *, to_stop: bool) -> tuple[float, tuple]:
        """Metres and line of the walk between a query end (``end``, lon/lat, snapped
        ``snap_m`` from the tree's source) and ``stop``, along ``tree``; kept on the tree, as
        a query's journeys share their first and last stops."""
        key = ("end walk", stop, end, snap_m, draws_street_geometry())
        found = tree.memo.get(key)
        if found is None:
            tt = self.timetable
            path = path_to(self.walk, tree, int(tt.stop_walk_node[stop]))
            distance_m = snap_m + path.length_m + float(tt.stop_link_distance_m[stop])
            start, finish = (end, self._stop_lonlat(stop)) if to_stop else (
                self._stop_lonlat(stop), end)
            found = tree.memo[key] = (distance_m, street_geometry(self.walk.layer, path.edges,
                                                                  start, finish))
        return found

    def _stop_place(self, stop: int) -> Place:
        place = self._places.get(stop)
        if place is None:
            tt = self.timetable
            place = self._places[stop] = Place(
                name=str(tt.stop_name[stop]), lat=float(tt.stop_lat[stop]),
                lon=float(tt.stop_lon[stop]), stop_id=str(tt.stop_id[stop]))
        return place

    def _stop_lonlat(self, stop: int) -> tuple[float, float]:
        return float(self.timetable.stop_lon[stop]), float(self.timetable.stop_lat[stop])

    def _ride_leg(self, ride: _Ride, service_date: date) -> Leg:
        tt = self.timetable
        row = int(tt.trip_stop_time_indptr[ride.trip])
        dep = int(tt.stop_time_departure_s[row + ride.board]) + ride.offset_s
        arr = int(tt.stop_time_arrival_s[row + ride.alight]) + ride.offset_s
        base = int(tt.pattern_stop_indptr[ride.pattern])
        distance_m = float(self._cum_m[base + ride.alight] - self._cum_m[base + ride.board])
        scheduled_departure = scheduled_arrival = None
        if ride.realtime:  # expected times from the feed; the schedule's kept beside them
            if ride.new_id is None:  # a trip the feed added has no schedule
                scheduled_departure = at_seconds(service_date, dep, self.tz)
                scheduled_arrival = at_seconds(service_date, arr, self.tz)
            dep, arr = ride.departure_s, ride.arrival_s
        route = self._route(int(tt.pattern_route[ride.pattern]))
        return Leg(mode=route.mode,
                   from_place=self._stop_place(int(tt.pattern_stops[base + ride.board])),
                   to_place=self._stop_place(int(tt.pattern_stops[base + ride.alight])),
                   departure=at_seconds(service_date, dep, self.tz),
                   arrival=at_seconds(service_date, arr, self.tz), distance_m=distance_m,
                   co2e_g=route.g_per_pkm * distance_m / 1000.0, co2e_g_per_pkm=route.g_per_pkm,
                   co2e_factor=route.factor,
                   geometry=self._hop_geometry(base, ride.board, ride.alight),
                   route_id=route.route_id, route_short_name=route.short_name,
                   headsign=str(tt.trip_headsign[ride.trip]) or None,
                   trip_id=ride.new_id or str(tt.trip_id[ride.trip]),
                   scheduled_departure=scheduled_departure,
                   scheduled_arrival=scheduled_arrival, realtime=ride.realtime)

    def _route(self, route: int) -> _RouteFacts:
        """What a ride leg shows of its route, read from the timetable once per route."""
        facts = self._routes.get(route)
        if facts is None:
            tt = self.timetable
            facts = self._routes[route] = _RouteFacts(
                mode=str(tt.route_mode[route]),
                g_per_pkm=float(tt.route_co2e_g_per_pkm[route]),
                factor=str(tt.route_co2e_source[route]).removeprefix("factor:"),
                route_id=str(tt.route_id[route]),
                short_name=str(tt.route_short_name[route]) or None)
        return facts

    def _ride_geometry(self, base: int, board: int, alight: int) -> tuple:
        """The ride's line: the boarding stop, then each hop's shape, or the next stop where a
        hop has none, without consecutive repeats."""
        tt = self.timetable
        return as_line(*_ride_xy(tt.hop_geometry_indptr, tt.hop_geometry_lonlat,
                                 tt.pattern_stops, self._stop_xy, base + board, base + alight))

    def _foot_leg(self, foot: _Foot, when, speed: float, g_per_pkm: float, *,
                  backwards: bool = False) -> Leg:
        """Transfer walk starting at ``when`` (ending at it with ``backwards``)."""
        distance_m, line = self._transfer_lines(foot.from_stop, foot.to_stop)
        duration_s = float(math.ceil(distance_m / speed))
        departure = when - _seconds(duration_s) if backwards else when
        if line is None:  # no street path: a straight line
            geometry = (self._stop_lonlat(foot.from_stop), self._stop_lonlat(foot.to_stop))
        else:
            geometry = line if draws_street_geometry() else ()
        return walk_leg(self._stop_place(foot.from_stop), self._stop_place(foot.to_stop),
                        distance_m=distance_m, duration_s=duration_s, departure=departure,
                        geometry=geometry, g_per_pkm=g_per_pkm)

    def _transfer_line(self, from_stop: int, to_stop: int) -> tuple[float, tuple | None]:
        """A footpath's metres and street line; no line (None) if either stop is off the walk
        layer or no path costs at most ``_TRANSFER_GEOMETRY_FACTOR`` x its length + 100 m.
        Cached across queries: it depends on the network alone."""
        tt = self.timetable
        a, b = tt.footpath_indptr[from_stop], tt.footpath_indptr[from_stop + 1]
        hit = np.nonzero(tt.footpath_target[a:b] == to_stop)[0]
        distance_m = float(tt.footpath_distance_m[a + hit[0]])
        u, v = int(tt.stop_walk_node[from_stop]), int(tt.stop_walk_node[to_stop])
        if u < 0 or v < 0:
            return distance_m, None
        path = route_within(self.walk, u, v,
                            limit=_TRANSFER_GEOMETRY_FACTOR * distance_m + 100.0)
        if path is None:
            return distance_m, None
        return distance_m, street_line(self.walk.layer, path.edges, self._stop_lonlat(from_stop),
                                       self._stop_lonlat(to_stop))


class ShareLike(Protocol):
    """What the transit search needs of shared bikes (``planner.bikeshare.ShareQuery``)."""

    access: Any   # .seconds per stop (-1 none), .faster_than(stop, walk_s)
    egress: Any

    def access_legs(self, stop: int, stop_place: Place, board: Any) -> list[Leg]: ...

    def egress_legs(self, stop: int, stop_place: Place, alight: Any) -> list[Leg]: ...


@njit(cache=True)
def _ride_xy(indptr, lonlat, pattern_stops, stop_xy, first, last):  # noqa: PLR0917 - numba's njit takes no keyword-only arguments
    """Points of a ride from pattern position ``first`` to ``last``: the boarding stop, then
    the rows of each hop (its shape, or its stop where it has none), each kept where it
    differs from the row before it (as ``itineraries.polyline`` keeps them)."""
    total = 1
    for j in range(first + 1, last + 1):
        total += max(indptr[j + 1] - indptr[j], 1)
    x = np.empty(total, np.float64)
    y = np.empty(total, np.float64)
    px, py = stop_xy[pattern_stops[first], 0], stop_xy[pattern_stops[first], 1]
    x[0], y[0] = px, py
    n = 1
    for j in range(first + 1, last + 1):
        a, b = indptr[j], indptr[j + 1]
        if b == a:  # no shape: the stop itself
            qx, qy = stop_xy[pattern_stops[j], 0], stop_xy[pattern_stops[j], 1]
            if qx != px or qy != py:
                x[n], y[n] = qx, qy
                n += 1
            px, py = qx, qy
        for r in range(a, b):
            qx, qy = lonlat[r, 0], lonlat[r, 1]
            if qx != px or qy != py:
                x[n], y[n] = qx, qy
                n += 1
            px, py = qx, qy
    return x[:n], y[:n]


def _sooner(other_s: np.ndarray, walk_s: np.ndarray) -> np.ndarray:
    """Per stop, ``other_s`` where it exists and beats walking (-1: none), else ``walk_s``."""
    sooner = (other_s >= 0) & ((walk_s < 0) | (other_s < walk_s))
    return np.where(sooner, other_s, walk_s).astype(np.int32)


def _horizon_s(within_s: float) -> int:
    """Whole seconds of timetable to search for journeys taking at most ``within_s``; one more
    second than the floor, as ``pareto_front`` compares times rounded to the millisecond."""
    return math.floor(within_s) + 1


def _walk_s(distance_m: float, speed_mps: float) -> int:
    """:func:`_walk_seconds` of one distance (the same ceiling of the same quotient)."""
    return math.ceil(distance_m / speed_mps) if distance_m >= 0 else -1


@njit(cache=True)
def _walk_seconds(distance_m, speed_mps):
    """Whole seconds to walk each distance (-1 where there is none: a negative distance); one
    compiled pass instead of five numpy calls, each slow on code evicted by the kernel."""
    out = np.full(len(distance_m), -1, np.int32)
    for i in range(len(distance_m)):
        if distance_m[i] >= 0:
            out[i] = np.int32(np.ceil(distance_m[i] / speed_mps))
    return out


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=float(value))
