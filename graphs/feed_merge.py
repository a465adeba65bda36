"""Merge compiled GTFS feeds into one ``Timetable``: FIFO patterns, services, links, footpaths."""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .calendar import build_service_calendar
from .frequencies import rows_of
from .gtfs import TRANSFER_NOT_POSSIBLE
from .linking import DETOUR_FACTOR, FOOTPATH_MAX_M, LINK_MAX_M, WALK_SPEED_MPS, build_footpaths, link_stops
from .network import StreetLayer, Timetable
from .shapes import HopMeasure

__all__ = ["merge_feeds", "CompiledFeed", "DEFAULT_MIN_TRANSFER_S"]

#: Time to change vehicles at a stop when transfers.txt says nothing.
DEFAULT_MIN_TRANSFER_S = 60


@dataclass(frozen=True, eq=False)
class CompiledFeed:
    """One feed's trips with clean, interpolated and expanded stop times (ids prefixed)."""

    name: str
    stops: pd.DataFrame           # stop_id (prefixed), name, lat, lon, location_type, parent
    routes: pd.DataFrame          # route_id (prefixed), names, route_type, route_mode, co2e, source
    trip_id: np.ndarray           # str (t,)
    trip_route: np.ndarray        # int64 (t,) index into routes
    trip_service: np.ndarray      # str (t,) prefixed service id
    trip_headsign: np.ndarray     # str (t,)
    trip_is_frequency: np.ndarray  # bool (t,)
    trip_measure: np.ndarray      # int64 (t,) index into measures
    trip_distance_source: np.ndarray  # str (t,)
    indptr: np.ndarray            # int64 (t + 1,)
    stop: np.ndarray              # int64 stop index per stop time
    arrival_s: np.ndarray
    departure_s: np.ndarray
    is_interpolated: np.ndarray
    pickup_ok: np.ndarray         # bool: boarding allowed (pickup_type != 1)
    dropoff_ok: np.ndarray        # bool: alighting allowed (drop_off_type != 1)
    distance_m: np.ndarray        # metres from the trip's first stop
    measures: list[HopMeasure]
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    transfers: pd.DataFrame       # from/to stop index, transfer_type, min_transfer_s
    report: dict[str, Any]
    #: int8 (t,) GTFS trips.txt ``bikes_allowed``: 0 no information, 1 allowed, 2 not allowed
    trip_bikes_allowed: np.ndarray = None  # type: ignore[assignment]  # None: all 0


def merge_feeds(compiled: Sequence[CompiledFeed], *,
                walk_layer: StreetLayer | None = None,
                walk_speed_mps: float = WALK_SPEED_MPS, max_link_m: float = LINK_MAX_M,
                footpath_max_m: float = FOOTPATH_MAX_M, detour_factor: float = DETOUR_FACTOR,
                min_transfer_s: int = DEFAULT_MIN_TRANSFER_S) -> tuple[Timetable, dict[str, Any]]:
    """Merge compiled feeds into one ``Timetable``, linked to ``walk_layer``, plus a report."""
    started = time.perf_counter()
    timetable, report = _merge(list(compiled), walk_layer=walk_layer,
                               walk_speed_mps=walk_speed_mps, max_link_m=max_link_m,
                               footpath_max_m=footpath_max_m, detour_factor=detour_factor,
                               min_transfer_s=min_transfer_s)
    report["timezone"] = compiled[0].report["timezone"] if compiled else None
    report["compile_s"] = round(time.perf_counter() - started
                                + sum(c.report.get("compile_s", 0) for c in compiled), 3)
    return timetable, report


def _merge(feeds: list[CompiledFeed], *, walk_layer: StreetLayer | None,
           walk_speed_mps: float, max_link_m: float, footpath_max_m: float,
           detour_factor: float, min_transfer_s: int) -> tuple[Timetable, dict[str, Any]]:
    stop_offset = np.cumsum([0] + [len(f.stops) for f in feeds])
    route_offset = np.cumsum([0] + [len(f.routes) for f in feeds])
    measure_offset = np.cumsum([0] + [len(f.measures) for f in feeds])
    stops = pd.concat([f.stops.assign(parent=np.where(f.stops["parent"] >= 0,
                                                      f.stops["parent"] + stop_offset[i], -1),
                                      feed=i)
                       for i, f in enumerate(feeds)], ignore_index=True)
    routes = pd.concat([f.routes.assign(feed=i) for i, f in enumerate(feeds)], ignore_index=True)
    measures = [m for f in feeds for m in f.measures]
    calendar = build_service_calendar([f.calendar for f in feeds],
                                      [f.calendar_dates for f in feeds])
    trip_route = np.concatenate([f.trip_route + route_offset[i] for i, f in enumerate(feeds)])
    trip_measure = np.concatenate([f.trip_measure + measure_offset[i]
                                   for i, f in enumerate(feeds)])
    stop = np.concatenate([f.stop + stop_offset[i] for i, f in enumerate(feeds)])
    indptr = np.r_[0, np.cumsum(np.concatenate([np.diff(f.indptr) for f in feeds]))]
    arrival = np.concatenate([f.arrival_s for f in feeds])
    departure = np.concatenate([f.departure_s for f in feeds])

    bikes = np.concatenate([np.zeros(len(f.trip_id), np.int8) if f.trip_bikes_allowed is None
                            else f.trip_bikes_allowed for f in feeds]).astype(np.int8)
    # a pattern's trips agree on bikes_allowed, so a bike-on-board search can pick patterns
    pattern_of_trip, trip_order = _patterns(trip_route, indptr, stop, arrival, departure,
                                            bikes_allowed=bikes)
    n_patterns = int(pattern_of_trip.max()) + 1 if len(pattern_of_trip) else 0
    rows = rows_of(indptr, trip_order)
    lengths = np.diff(indptr)[trip_order]
    trip_indptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    sorted_pattern = pattern_of_trip[trip_order]
    pattern_trip_indptr = np.searchsorted(sorted_pattern,
                                          np.arange(n_patterns + 1)).astype(np.int64)
    first_trip = trip_order[pattern_trip_indptr[:-1]]

    distance = np.concatenate([f.distance_m for f in feeds])
    pattern_rows = rows_of(indptr, first_trip)
    pattern_lengths = np.diff(indptr)[first_trip]
    pattern_stop_indptr = np.r_[0, np.cumsum(pattern_lengths)].astype(np.int64)
    hop = np.diff(distance[pattern_rows], prepend=0.0)
    hop[pattern_stop_indptr[:-1]] = 0.0
    geometry_indptr, geometry = _hop_geometry([measures[m] for m in trip_measure[first_trip]])

    sources = np.concatenate([f.trip_distance_source for f in feeds])
    trip_service = np.searchsorted(calendar.service_id,
                                   np.concatenate([f.trip_service for f in feeds]))
    n_stops = len(stops)
    min_transfer = _min_transfer(stops, feeds, stop_offset, min_transfer_s)
    links, link_report = _link(stops, walk_layer, max_link_m)
    footpaths, footpath_report = _footpaths(stops, feeds, stop_offset, walk_speed_mps,
                                            footpath_max_m, detour_factor)
    timetable = Timetable(
        feed_names=np.array([f.name for f in feeds], dtype=str),
        stop_id=stops["stop_id"].to_numpy(str), stop_name=stops["stop_name"].to_numpy(str),
        stop_lon=stops["stop_lon"].to_numpy(np.float64),
        stop_lat=stops["stop_lat"].to_numpy(np.float64),
        stop_parent=stops["parent"].to_numpy(np.int32),
        stop_feed=stops["feed"].to_numpy(np.int16),
        stop_min_transfer_s=min_transfer.astype(np.int32),
        route_id=routes["route_id"].to_numpy(str),
        route_short_name=routes["route_short_name"].to_numpy(str),
        route_long_name=routes["route_long_name"].to_numpy(str),
        route_type=routes["route_type"].to_numpy(np.int32),
        route_mode=routes["route_mode"].to_numpy(str),
        route_feed=routes["feed"].to_numpy(np.int16),
        route_co2e_g_per_pkm=routes["co2e_g_per_pkm"].to_numpy(np.float64),
        route_co2e_source=routes["co2e_source"].to_numpy(str),
        pattern_route=trip_route[first_trip].astype(np.int32),
        pattern_stop_indptr=pattern_stop_indptr,
        pattern_stops=stop[pattern_rows].astype(np.int32),
        pattern_hop_distance_m=hop.astype(np.float32),
        pattern_distance_source=sources[first_trip].astype(str),
        pattern_trip_indptr=pattern_trip_indptr,
        hop_geometry_indptr=geometry_indptr, hop_geometry_lonlat=geometry,
        trip_id=np.concatenate([f.trip_id for f in feeds])[trip_order].astype(str),
        trip_service=trip_service[trip_order].astype(np.int32),
        trip_headsign=np.concatenate([f.trip_headsign for f in feeds])[trip_order].astype(str),
        trip_is_frequency=np.concatenate([f.trip_is_frequency for f in feeds])[trip_order],
        trip_bikes_allowed=bikes[trip_order],
        trip_stop_time_indptr=trip_indptr,
        stop_time_arrival_s=arrival[rows].astype(np.int32),
        stop_time_departure_s=departure[rows].astype(np.int32),
        stop_time_is_interpolated=np.concatenate([f.is_interpolated for f in feeds])[rows],
        stop_time_pickup_ok=np.concatenate([f.pickup_ok for f in feeds])[rows],
        stop_time_dropoff_ok=np.concatenate([f.dropoff_ok for f in feeds])[rows],
        service_id=calendar.service_id.astype(str),
        service_first_date=calendar.first_date.isoformat(),
        service_active=calendar.active,
        footpath_indptr=footpaths[0], footpath_target=footpaths[1],
        footpath_duration_s=footpaths[2], footpath_distance_m=footpaths[3],
        stop_walk_node=links.node, stop_link_distance_m=links.distance_m,
    )
    report = {
        "feeds": {f.name: f.report for f in feeds},
        "service_dates": {"first": calendar.first_date.isoformat(),
                          "last": calendar.last_date.isoformat()},
        "totals": {"stops": n_stops, "routes": len(routes), "patterns": n_patterns,
                   "trips": len(trip_order), "stop_times": len(rows),
                   "services": len(calendar.service_id)},
        "pattern_distance_sources": dict(zip(*[a.tolist() for a in np.unique(
            timetable.pattern_distance_source, return_counts=True)], strict=True)),
        "linking": link_report,
        "footpaths": footpath_report,
    }
    for i, f in enumerate(feeds):
        in_feed = slice(stop_offset[i], stop_offset[i + 1])
        f.report["linked_stops"] = int((links.node[in_feed] >= 0).sum())
        f.report["unlinked_stops"] = {reason: int((links.reason[in_feed] == reason).sum())
                                      for reason in link_report["unlinked"]}
    return timetable, report


def _patterns(trip_route: np.ndarray, indptr: np.ndarray, stop: np.ndarray,
              arrival: np.ndarray, departure: np.ndarray, *,
              bikes_allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pattern of each trip and the trip order (by pattern, then departure).

    Trips of one route with the same stop sequence (and ``bikes_allowed``) share a pattern
    unless one would overtake another (RAPTOR needs FIFO at every stop); then the later one
    opens a new pattern.
    """
    n_trips = len(trip_route)
    bikes = np.zeros(n_trips, np.int8) if bikes_allowed is None else bikes_allowed
    groups: dict[tuple[int, bytes, int], list[int]] = {}
    for t in range(n_trips):  # per trip
        groups.setdefault((int(trip_route[t]), stop[indptr[t]: indptr[t + 1]].tobytes(),
                           int(bikes[t])), []).append(t)
    pattern = np.empty(n_trips, np.int64)
    order: list[np.ndarray] = []
    next_pattern = 0
    for key in sorted(groups, key=lambda k: (k[0], groups[k][0])):
        members = np.array(groups[key])
        k = indptr[members[0] + 1] - indptr[members[0]]
        rows = rows_of(indptr, members).reshape(len(members), k)
        arr, dep = arrival[rows], departure[rows]
        members_order = np.lexsort((arr[:, -1], dep[:, 0]))
        lanes: list[list[int]] = []
        for j in members_order:  # greedy: first lane whose last trip this one does not overtake
            for lane in lanes:
                last = lane[-1]
                if (arr[j] >= arr[last]).all() and (dep[j] >= dep[last]).all():
                    lane.append(j)
                    break
            else:
                lanes.append([j])
        for lane in lanes:
            pattern[members[lane]] = next_pattern
            order.append(members[lane])
            next_pattern += 1
    trip_order = np.concatenate(order) if order else np.zeros(0, np.int64)
    return pattern, trip_order


def _hop_geometry(measures: list[HopMeasure]) -> tuple[np.ndarray, np.ndarray]:
    if not measures:
        return np.zeros(1, np.int64), np.zeros((0, 2))
    counts = np.concatenate([np.diff(m.geometry_indptr) for m in measures])
    coords = np.vstack([m.geometry_lonlat for m in measures])
    return np.r_[0, np.cumsum(counts)].astype(np.int64), coords.astype(np.float64)


def _min_transfer(stops: pd.DataFrame, feeds: list[CompiledFeed], stop_offset: np.ndarray,
                  default_s: int) -> np.ndarray:
    """Per-stop change time: transfers.txt (type 2, same stop; a station's applies to its
    children that have none of their own), else ``default_s``."""
    explicit = np.full(len(stops), -1, np.int64)
    for i, f in enumerate(feeds):
        t = f.transfers
        same = ((t["from_stop"] == t["to_stop"]) & (t["transfer_type"] == 2)
                & (t["min_transfer_s"] >= 0)).to_numpy()
        stops_i = t["from_stop"].to_numpy()[same] + stop_offset[i]
        explicit[stops_i] = t["min_transfer_s"].to_numpy()[same]
    parent = stops["parent"].to_numpy()
    inherit = (explicit < 0) & (parent >= 0)
    explicit[inherit] = explicit[parent[inherit]]
    return np.where(explicit >= 0, explicit, default_s)


def _link(stops: pd.DataFrame, walk_layer: StreetLayer | None, max_link_m: float):
    lon, lat = stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float)
    links = link_stops(lon, lat, walk_layer, max_link_m=max_link_m)
    reasons, counts = np.unique(links.reason[links.node < 0], return_counts=True)
    return links, {"linked": int((links.node >= 0).sum()), "max_link_m": max_link_m,
                   "unlinked": dict(zip(reasons.tolist(), counts.tolist(), strict=True))}


def _footpaths(stops: pd.DataFrame, feeds: list[CompiledFeed], stop_offset: np.ndarray,
               walk_speed_mps: float, max_distance_m: float, detour_factor: float):
    given = [f.transfers.assign(from_stop=f.transfers["from_stop"] + stop_offset[i],
                                to_stop=f.transfers["to_stop"] + stop_offset[i])
             for i, f in enumerate(feeds)]
    transfers = pd.concat(given, ignore_index=True) if given else pd.DataFrame()
    different = transfers["from_stop"] != transfers["to_stop"]
    between = transfers[different & transfers["transfer_type"].isin((0, 1, 2))]
    not_possible = transfers["transfer_type"] == TRANSFER_NOT_POSSIBLE
    forbidden = transfers[not_possible & different & transfers["is_stop_level"]]
    boarding = (stops["location_type"] == 0).to_numpy()
    footpaths = build_footpaths(
        stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float),
        eligible=boarding, walk_speed_mps=walk_speed_mps, max_distance_m=max_distance_m,
        detour_factor=detour_factor, extra_from=between["from_stop"].to_numpy(np.int64),
        extra_to=between["to_stop"].to_numpy(np.int64),
        extra_duration_s=between["min_transfer_s"].to_numpy(np.int64),
        forbidden_from=forbidden["from_stop"].to_numpy(np.int64),
        forbidden_to=forbidden["to_stop"].to_numpy(np.int64))
    report = {"pairs": int(len(footpaths.target)), "from_transfers_txt": int(len(between)),
              "not_possible_from_transfers_txt": int(len(forbidden)),
              # same-stop or route/trip-specific "not possible" rows: not representable per stop
              "not_possible_ignored": int(not_possible.sum() - len(forbidden)),
              "max_distance_m": max_distance_m, "detour_factor": detour_factor,
              "walk_speed_mps": walk_speed_mps}
    return (footpaths.indptr, footpaths.target, footpaths.duration_s,
            footpaths.distance_m), report
