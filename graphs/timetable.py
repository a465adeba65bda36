"""Compile GTFS feeds into one RAPTOR-ready ``Timetable`` (patterns, trips, stop times)."""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from tqdm import tqdm

from .calendar import build_service_calendar
from .errors import GtfsError
from .frequencies import expand_frequencies, rows_of
from .gtfs import GtfsFeed, read_feed
from .linking import (DETOUR_FACTOR, FOOTPATH_MAX_M, LINK_MAX_M, WALK_SPEED_MPS, build_footpaths,
                      link_stops)
from .network import StreetLayer, Timetable
from .shapes import HopMeasure, distance_unit_factor, measure_stop_sequence, shape_lines

__all__ = ["compile_timetable", "compile_feeds", "merge_feeds", "compile_feed", "CompiledFeed",
           "DEFAULT_MIN_TRANSFER_S", "FactorSource"]

#: Time to change vehicles at a stop when transfers.txt says nothing.
DEFAULT_MIN_TRANSFER_S = 60


class FactorSource(Protocol):
    """Anything with ``g_per_pkm(mode)``, e.g. ``graphs.factors.FactorTable``."""

    def g_per_pkm(self, key: str) -> float: ...


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
    distance_m: np.ndarray        # metres from the trip's first stop
    measures: list[HopMeasure]
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    transfers: pd.DataFrame       # from/to stop index, transfer_type, min_transfer_s
    report: dict[str, Any]


def compile_timetable(feed_paths: Sequence[str | os.PathLike], *, factors: FactorSource,
                      walk_layer: StreetLayer | None = None,
                      feed_names: Sequence[str] | None = None,
                      walk_speed_mps: float = WALK_SPEED_MPS, max_link_m: float = LINK_MAX_M,
                      footpath_max_m: float = FOOTPATH_MAX_M,
                      detour_factor: float = DETOUR_FACTOR,
                      min_transfer_s: int = DEFAULT_MIN_TRANSFER_S,
                      progress: bool = False) -> tuple[Timetable, dict[str, Any]]:
    """Read, validate and merge GTFS feeds into one ``Timetable``, plus a report dict.

    Feed names (id prefixes) are the zips' stems unless ``feed_names`` are given. Stops are
    linked to ``walk_layer`` (all unlinked when it is None) and footpaths join stops within
    ``footpath_max_m``. The same as :func:`merge_feeds` of :func:`compile_feeds`.

    Raises
    ------
    GtfsError
        If a feed is malformed, two feeds share a name, or the feeds' timezones disagree.
    """
    compiled = compile_feeds(feed_paths, factors=factors, feed_names=feed_names,
                             progress=progress)
    return merge_feeds(compiled, factors=factors, walk_layer=walk_layer,
                       walk_speed_mps=walk_speed_mps, max_link_m=max_link_m,
                       footpath_max_m=footpath_max_m, detour_factor=detour_factor,
                       min_transfer_s=min_transfer_s)


def compile_feeds(feed_paths: Sequence[str | os.PathLike], *, factors: FactorSource,
                  feed_names: Sequence[str] | None = None,
                  progress: bool = False) -> list[CompiledFeed]:
    """Read, validate and compile each feed on its own (no street network needed).

    Split from :func:`merge_feeds` so a build can reject a broken feed before the slow
    street-network step.

    Raises
    ------
    GtfsError
        If a feed is malformed, two feeds share a name, or the feeds' timezones disagree.
    """
    names = list(feed_names) if feed_names is not None else [None] * len(feed_paths)
    if len(names) != len(feed_paths):
        raise GtfsError("feed_names must name every feed in feed_paths", field="feed_names")
    compiled, zones = [], {}
    for path, name in tqdm(list(zip(feed_paths, names)), desc="GTFS feeds", disable=not progress):
        started = time.perf_counter()
        feed = read_feed(path, name=name)
        if feed.name in zones:
            raise GtfsError(f"{path}: two feeds are named {feed.name!r}; give feed_names",
                            path=str(path))
        zones[feed.name] = feed.timezone
        compiled.append(compile_feed(feed, factors=factors))
        compiled[-1].report.update(timezone=feed.timezone,
                                   compile_s=round(time.perf_counter() - started, 3))
    if len(set(zones.values())) > 1:
        raise GtfsError(f"feeds are in different timezones {zones}; tanlu needs one timezone "
                        "per network", field="agency_timezone")
    return compiled


def merge_feeds(compiled: Sequence[CompiledFeed], *, factors: FactorSource,
                walk_layer: StreetLayer | None = None,
                walk_speed_mps: float = WALK_SPEED_MPS, max_link_m: float = LINK_MAX_M,
                footpath_max_m: float = FOOTPATH_MAX_M, detour_factor: float = DETOUR_FACTOR,
                min_transfer_s: int = DEFAULT_MIN_TRANSFER_S) -> tuple[Timetable, dict[str, Any]]:
    """Merge compiled feeds into one ``Timetable``, linked to ``walk_layer``, plus a report."""
    started = time.perf_counter()
    timetable, report = _merge(list(compiled), factors=factors, walk_layer=walk_layer,
                               walk_speed_mps=walk_speed_mps, max_link_m=max_link_m,
                               footpath_max_m=footpath_max_m, detour_factor=detour_factor,
                               min_transfer_s=min_transfer_s)
    report["timezone"] = compiled[0].report["timezone"] if compiled else None
    report["compile_s"] = round(time.perf_counter() - started
                                + sum(c.report.get("compile_s", 0) for c in compiled), 3)
    return timetable, report


# -- one feed ---------------------------------------------------------------------------------

def compile_feed(feed: GtfsFeed, *, factors: FactorSource) -> CompiledFeed:
    """Clean one feed's trips, measure them, interpolate missing times, expand frequencies."""
    report: dict[str, Any] = dict(feed.report)
    prefix = feed.name + ":"
    stops = _stops(feed, prefix, report)
    routes = _routes(feed, prefix, factors)
    trips = _trips(feed, report)
    st, trips = _stop_times(feed, stops, trips, report)
    indptr = np.r_[0, np.cumsum(np.bincount(st["trip"], minlength=len(trips)))].astype(np.int64)
    stop = st["stop"].to_numpy(np.int64)

    measures, trip_measure = _measure_trips(feed, stops, trips, indptr, stop)
    distance, source, unit = _trip_distances(feed, st, indptr, measures, trip_measure)
    report["shape_dist_traveled_unit_m"] = unit
    arrival, departure, interpolated = _interpolate(st, indptr, distance)
    report["interpolated_times"] = int(interpolated.sum())

    keep = _monotone_trips(indptr, arrival, departure)
    report["trips_dropped_decreasing_times"] = int((~keep).sum())
    rows = rows_of(indptr, np.flatnonzero(keep))
    lengths = np.diff(indptr)[keep]
    trips = trips[keep].reset_index(drop=True)
    trip_measure, source = trip_measure[keep], source[keep]
    indptr = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    stop, arrival, departure = stop[rows], arrival[rows], departure[rows]
    interpolated, distance = interpolated[rows], distance[rows]

    expansion = expand_frequencies(trips["trip_id"].to_numpy(str), departure[indptr[:-1]],
                                   feed.frequencies)
    report["frequency_trips_expanded"] = int(np.unique(
        expansion.source[expansion.is_frequency]).size)
    report["frequency_trips_created"] = int(expansion.is_frequency.sum())
    rows = rows_of(indptr, expansion.source)
    lengths = np.diff(indptr)[expansion.source]
    shift = np.repeat(expansion.shift_s, lengths)
    t = trips.iloc[expansion.source]
    report.update(stops=len(stops), routes=len(routes), trips=len(expansion.source),
                  stop_times=len(rows))
    sources, counts = np.unique(source[expansion.source], return_counts=True)
    report["trip_distance_sources"] = dict(zip(sources.tolist(), counts.tolist()))
    return CompiledFeed(
        name=feed.name, stops=stops, routes=routes,
        trip_id=np.char.add(np.char.add(prefix, t["trip_id"].to_numpy(str)), expansion.suffix),
        trip_route=t["route"].to_numpy(np.int64),
        trip_service=np.char.add(prefix, t["service_id"].to_numpy(str)),
        trip_headsign=t["trip_headsign"].to_numpy(str),
        trip_is_frequency=expansion.is_frequency,
        trip_measure=trip_measure[expansion.source],
        trip_distance_source=source[expansion.source],
        indptr=np.r_[0, np.cumsum(lengths)].astype(np.int64),
        stop=stop[rows], arrival_s=arrival[rows] + shift, departure_s=departure[rows] + shift,
        is_interpolated=interpolated[rows], distance_m=distance[rows], measures=measures,
        calendar=feed.calendar.assign(service_id=prefix + feed.calendar["service_id"]),
        calendar_dates=feed.calendar_dates.assign(
            service_id=prefix + feed.calendar_dates["service_id"]),
        transfers=_transfers(feed, stops, report), report=report)


def _stops(feed: GtfsFeed, prefix: str, report: dict) -> pd.DataFrame:
    stops = feed.stops.copy()
    parent = pd.Index(stops["stop_id"]).get_indexer(stops["parent_station"])
    has_parent = (stops["parent_station"] != "").to_numpy()
    report["stops_unknown_parent"] = int((has_parent & (parent < 0)).sum())
    stops["parent"] = np.where(has_parent, parent, -1)
    stops["stop_id"] = prefix + stops["stop_id"]
    return stops


def _routes(feed: GtfsFeed, prefix: str, factors: FactorSource) -> pd.DataFrame:
    routes = feed.routes.copy()
    factor = {mode: float(factors.g_per_pkm(mode)) for mode in routes["route_mode"].unique()}
    routes["co2e_g_per_pkm"] = routes["route_mode"].map(factor).astype(float)
    routes["co2e_source"] = "factor:" + routes["route_mode"]
    emissions = feed.emissions.drop_duplicates("route_id", keep="last").set_index("route_id")
    per_pkm = emissions["g_per_vehicle_km"] / emissions["passengers"]
    matched = routes["route_id"].isin(per_pkm.index).to_numpy()
    routes.loc[matched, "co2e_g_per_pkm"] = per_pkm.reindex(routes["route_id"][matched]).to_numpy()
    routes.loc[matched, "co2e_source"] = "emissions.txt"
    routes["route_id"] = prefix + routes["route_id"]
    return routes


def _trips(feed: GtfsFeed, report: dict) -> pd.DataFrame:
    trips = feed.trips.copy()
    for column in ("trip_headsign", "shape_id"):
        if column not in trips.columns:
            trips[column] = ""
    trips["route"] = pd.Index(feed.routes["route_id"]).get_indexer(trips["route_id"])
    services = set(feed.calendar["service_id"]) | set(feed.calendar_dates["service_id"])
    known_service = trips["service_id"].isin(services).to_numpy()
    report["trips_unknown_route"] = int((trips["route"] < 0).sum())
    report["trips_unknown_service"] = int((~known_service).sum())
    return trips[(trips["route"] >= 0).to_numpy() & known_service].reset_index(drop=True)


def _stop_times(feed: GtfsFeed, stops: pd.DataFrame, trips: pd.DataFrame,
                report: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sorted stop times of kept trips at known boarding stops; trips without usable times go."""
    st = feed.stop_times
    trip = pd.Index(trips["trip_id"]).get_indexer(st["trip_id"])
    stop = pd.Index(feed.stops["stop_id"]).get_indexer(st["stop_id"])
    at_station = np.zeros(len(st), bool)
    at_station[stop >= 0] = stops["location_type"].to_numpy()[stop[stop >= 0]] == 1
    report["stop_times_unknown_trip"] = int((trip < 0).sum())
    report["stop_times_unknown_stop"] = int(((trip >= 0) & (stop < 0)).sum())
    report["stop_times_at_stations"] = int(((trip >= 0) & at_station).sum())
    ok = (trip >= 0) & (stop >= 0) & ~at_station
    st = st.loc[ok].assign(trip=trip[ok], stop=stop[ok])
    order = np.lexsort((st["stop_sequence"].to_numpy(), st["trip"].to_numpy()))
    st = st.iloc[order].reset_index(drop=True)

    first = ~st["trip"].duplicated(keep="first").to_numpy()
    last = ~st["trip"].duplicated(keep="last").to_numpy()
    timed = (st["arrival_s"] >= 0).to_numpy()
    n_rows = np.bincount(st["trip"], minlength=len(trips))
    n_timed = np.bincount(st["trip"], weights=timed, minlength=len(trips))
    ends_untimed = np.zeros(len(trips), bool)
    ends_untimed[st["trip"].to_numpy()[(first | last) & ~timed]] = True
    report["trips_without_stop_times"] = int((n_rows == 0).sum())
    report["trips_single_stop"] = int((n_rows == 1).sum())
    report["trips_without_times"] = int(((n_rows > 1) & (n_timed == 0)).sum())
    report["trips_untimed_first_or_last_stop"] = int(((n_rows > 1) & (n_timed > 0)
                                                       & ends_untimed).sum())
    good = (n_rows > 1) & ~ends_untimed
    new_index = np.cumsum(good) - 1
    keep_rows = good[st["trip"].to_numpy()]
    st = st.loc[keep_rows].reset_index(drop=True)
    st["trip"] = new_index[st["trip"].to_numpy()]
    return st, trips[good].reset_index(drop=True)


def _measure_trips(feed: GtfsFeed, stops: pd.DataFrame, trips: pd.DataFrame,
                   indptr: np.ndarray, stop: np.ndarray) -> tuple[list[HopMeasure], np.ndarray]:
    """Measure each distinct (shape, stop sequence) once; trips share the result."""
    lines = shape_lines(feed.shapes)
    lonlat = stops[["stop_lon", "stop_lat"]].to_numpy(float)
    shape_ids = trips["shape_id"].to_numpy(str)
    keys: dict[tuple[str, bytes], int] = {}
    trip_measure = np.empty(len(trips), np.int64)
    measures: list[HopMeasure] = []
    for t in range(len(trips)):  # per trip, not per stop time
        sequence = stop[indptr[t]: indptr[t + 1]]
        key = (shape_ids[t], sequence.tobytes())
        if key not in keys:
            keys[key] = len(measures)
            measures.append(measure_stop_sequence(lonlat[sequence], lines.get(shape_ids[t])))
        trip_measure[t] = keys[key]
    return measures, trip_measure


def _trip_distances(feed: GtfsFeed, st: pd.DataFrame, indptr: np.ndarray,
                    measures: list[HopMeasure],
                    trip_measure: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Metres from each trip's first stop, per stop time, and the source per trip.

    shape_dist_traveled wins when every stop time of the trip has it; its unit (m or km) is
    detected by comparing spans with the measured geometry.
    """
    n_trips = len(indptr) - 1
    lengths = np.diff(indptr)
    along = np.concatenate([measures[m].along_m for m in trip_measure]) if n_trips else np.zeros(0)
    along = along - np.repeat(along[indptr[:-1]], lengths)
    sdt = st["shape_dist_traveled"].to_numpy(float)
    missing = np.bincount(np.repeat(np.arange(n_trips), lengths), weights=np.isnan(sdt),
                          minlength=n_trips)
    has_sdt = missing == 0
    sdt_from_first = sdt - np.repeat(sdt[indptr[:-1]], lengths)
    span_feed = sdt_from_first[indptr[1:] - 1] if n_trips else np.zeros(0)
    span_measured = along[indptr[1:] - 1] if n_trips else np.zeros(0)
    unit = distance_unit_factor(span_feed[has_sdt], span_measured[has_sdt])
    use_sdt = np.repeat(has_sdt, lengths)
    distance = np.where(use_sdt, sdt_from_first * unit, along)
    measure_source = np.array([m.source for m in measures] or [""], dtype=object)
    source = np.where(has_sdt, "shape_dist_traveled",
                      measure_source[trip_measure] if n_trips else "").astype(str)
    return distance, source, unit


def _interpolate(st: pd.DataFrame, indptr: np.ndarray,
                 distance: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill missing times linearly in distance between the timed neighbours.

    Every trip's first and last stops are timed (others were dropped), so neighbours never
    belong to another trip.
    """
    arrival = st["arrival_s"].to_numpy(np.int64)
    departure = st["departure_s"].to_numpy(np.int64)
    missing = arrival < 0
    if not missing.any():
        return arrival, departure, missing
    n = len(arrival)
    index = np.arange(n)
    previous = np.maximum.accumulate(np.where(~missing, index, 0))
    following = np.minimum.accumulate(np.where(~missing, index, n - 1)[::-1])[::-1]
    span = distance[following] - distance[previous]
    by_count = (index - previous) / np.maximum(following - previous, 1)
    by_distance = (distance - distance[previous]) / np.where(span > 0, span, 1)
    fraction = np.where(span > 0, by_distance, by_count).clip(0.0, 1.0)
    start, end = departure[previous], arrival[following]
    filled = np.rint(start + fraction * (end - start)).astype(np.int64)
    arrival = np.where(missing, filled, arrival)
    departure = np.where(missing, filled, departure)
    return arrival, departure, missing


def _monotone_trips(indptr: np.ndarray, arrival: np.ndarray, departure: np.ndarray) -> np.ndarray:
    """Trips whose times never go back (departure at a stop <= arrival at the next)."""
    n_trips = len(indptr) - 1
    back = np.zeros(len(arrival), bool)
    back[1:] = arrival[1:] < departure[:-1]
    back[indptr[:-1]] = False  # first stop of each trip compares with another trip
    bad = np.bincount(np.repeat(np.arange(n_trips), np.diff(indptr)), weights=back,
                      minlength=n_trips)
    return bad == 0


def _transfers(feed: GtfsFeed, stops: pd.DataFrame, report: dict) -> pd.DataFrame:
    index = pd.Index(feed.stops["stop_id"])
    transfers = feed.transfers.assign(
        from_stop=index.get_indexer(feed.transfers["from_stop_id"]),
        to_stop=index.get_indexer(feed.transfers["to_stop_id"]))
    known = (transfers["from_stop"] >= 0) & (transfers["to_stop"] >= 0)
    report["transfers_unknown_stop"] = int((~known).sum())
    return transfers.loc[known, ["from_stop", "to_stop", "transfer_type", "min_transfer_s"]]


# -- merging feeds ----------------------------------------------------------------------------

def _merge(feeds: list[CompiledFeed], *, factors: FactorSource, walk_layer: StreetLayer | None,
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

    pattern_of_trip, trip_order = _patterns(trip_route, indptr, stop, arrival, departure)
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
        route_co2e_g_per_pkm=routes["co2e_g_per_pkm"].to_numpy(np.float32),
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
        trip_stop_time_indptr=trip_indptr,
        stop_time_arrival_s=arrival[rows].astype(np.int32),
        stop_time_departure_s=departure[rows].astype(np.int32),
        stop_time_is_interpolated=np.concatenate([f.is_interpolated for f in feeds])[rows],
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
            timetable.pattern_distance_source, return_counts=True)])),
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
              arrival: np.ndarray, departure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pattern of each trip and the trip order (by pattern, then departure).

    Trips of one route with the same stop sequence share a pattern unless one would overtake
    another (RAPTOR needs FIFO at every stop); then the later one opens a new pattern.
    """
    n_trips = len(trip_route)
    groups: dict[tuple[int, bytes], list[int]] = {}
    for t in range(n_trips):  # per trip
        groups.setdefault((int(trip_route[t]), stop[indptr[t]: indptr[t + 1]].tobytes()),
                          []).append(t)
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
                   "unlinked": dict(zip(reasons.tolist(), counts.tolist()))}


def _footpaths(stops: pd.DataFrame, feeds: list[CompiledFeed], stop_offset: np.ndarray,
               walk_speed_mps: float, max_distance_m: float, detour_factor: float):
    given = [f.transfers.assign(from_stop=f.transfers["from_stop"] + stop_offset[i],
                                to_stop=f.transfers["to_stop"] + stop_offset[i])
             for i, f in enumerate(feeds)]
    transfers = pd.concat(given, ignore_index=True) if given else pd.DataFrame()
    between = transfers[(transfers["from_stop"] != transfers["to_stop"])
                        & transfers["transfer_type"].isin((0, 1, 2))]
    boarding = (stops["location_type"] == 0).to_numpy()
    footpaths = build_footpaths(
        stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float),
        eligible=boarding, walk_speed_mps=walk_speed_mps, max_distance_m=max_distance_m,
        detour_factor=detour_factor, extra_from=between["from_stop"].to_numpy(np.int64),
        extra_to=between["to_stop"].to_numpy(np.int64),
        extra_duration_s=between["min_transfer_s"].to_numpy(np.int64))
    report = {"pairs": int(len(footpaths.target)), "from_transfers_txt": int(len(between)),
              "max_distance_m": max_distance_m, "detour_factor": detour_factor,
              "walk_speed_mps": walk_speed_mps}
    return (footpaths.indptr, footpaths.target, footpaths.duration_s,
            footpaths.distance_m), report
