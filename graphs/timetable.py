"""Compile GTFS feeds: read and clean each feed's trips, then merge them into one ``Timetable``.

Per-feed work (clean, measure, interpolate, expand frequencies) is here; merging the feeds into
patterns, services, stop links and footpaths is in :mod:`graphs.feed_merge`.
"""
from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd
from tqdm import tqdm

from .errors import GtfsError
from .feed_merge import DEFAULT_MIN_TRANSFER_S, CompiledFeed, merge_feeds
from .frequencies import expand_frequencies, rows_of
from .gtfs import GtfsFeed, read_feed
from .linking import DETOUR_FACTOR, FOOTPATH_MAX_M, LINK_MAX_M, WALK_SPEED_MPS
from .network import StreetLayer, Timetable
from .shapes import HopMeasure, distance_unit_factor, measure_stop_sequence, shape_lines

__all__ = ["compile_timetable", "compile_feeds", "merge_feeds", "compile_feed", "CompiledFeed",
           "DEFAULT_MIN_TRANSFER_S", "FactorSource"]


class FactorSource(Protocol):
    """Anything with ``g_per_pkm(mode)``, e.g. ``graphs.factors.FactorTable``."""

    def g_per_pkm(self, key: str) -> float: ...


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
    return merge_feeds(compiled, walk_layer=walk_layer,
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
    for path, name in tqdm(list(zip(feed_paths, names, strict=True)), desc="GTFS feeds",
                           disable=not progress):
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
    pickup, dropoff = st["pickup_ok"].to_numpy(bool), st["dropoff_ok"].to_numpy(bool)

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
    pickup, dropoff = pickup[rows], dropoff[rows]

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
                  stop_times=len(rows), stop_times_no_pickup=int((~pickup[rows]).sum()),
                  stop_times_no_drop_off=int((~dropoff[rows]).sum()))
    sources, counts = np.unique(source[expansion.source], return_counts=True)
    report["trip_distance_sources"] = dict(zip(sources.tolist(), counts.tolist(), strict=True))
    return CompiledFeed(
        name=feed.name, stops=stops, routes=routes,
        trip_id=np.char.add(np.char.add(prefix, t["trip_id"].to_numpy(str)), expansion.suffix),
        trip_route=t["route"].to_numpy(np.int64),
        trip_service=np.char.add(prefix, t["service_id"].to_numpy(str)),
        trip_headsign=t["trip_headsign"].to_numpy(str),
        trip_is_frequency=expansion.is_frequency,
        trip_bikes_allowed=t["bikes_allowed"].to_numpy(np.int8),
        trip_measure=trip_measure[expansion.source],
        trip_distance_source=source[expansion.source],
        indptr=np.r_[0, np.cumsum(lengths)].astype(np.int64),
        stop=stop[rows], arrival_s=arrival[rows] + shift, departure_s=departure[rows] + shift,
        is_interpolated=interpolated[rows], pickup_ok=pickup[rows], dropoff_ok=dropoff[rows],
        distance_m=distance[rows], measures=measures,
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
    for column in ("trip_headsign", "shape_id", "bikes_allowed"):
        if column not in trips.columns:
            trips[column] = ""
    trips["bikes_allowed"] = _bikes_allowed(feed, trips["bikes_allowed"])
    report["trips_bikes_allowed"] = int((trips["bikes_allowed"] == 1).sum())
    trips["route"] = pd.Index(feed.routes["route_id"]).get_indexer(trips["route_id"])
    services = set(feed.calendar["service_id"]) | set(feed.calendar_dates["service_id"])
    known_service = trips["service_id"].isin(services).to_numpy()
    report["trips_unknown_route"] = int((trips["route"] < 0).sum())
    report["trips_unknown_service"] = int((~known_service).sum())
    return trips[(trips["route"] >= 0).to_numpy() & known_service].reset_index(drop=True)


def _bikes_allowed(feed: GtfsFeed, column: pd.Series) -> np.ndarray:
    """GTFS ``bikes_allowed`` as int8 0 (empty or 0: no information), 1 or 2.

    Raises
    ------
    GtfsError
        Naming the line of the first value that is not empty, 0, 1 or 2.
    """
    text = column.fillna("").astype(str).str.strip()
    bad = ~text.isin(["", "0", "1", "2"]).to_numpy()
    if bad.any():
        line = int(np.flatnonzero(bad)[0]) + 2  # the header is line 1
        raise GtfsError(f"{feed.path}: trips.txt line {line}: bikes_allowed "
                        f"{text.iloc[line - 2]!r} is not 0, 1 or 2", path=str(feed.path),
                        field="bikes_allowed")
    return text.replace("", "0").astype(np.int8).to_numpy()


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
    return transfers.loc[known, ["from_stop", "to_stop", "transfer_type", "min_transfer_s",
                                 "is_stop_level"]]
