"""GTFS-Realtime: decode TripUpdates and Alerts and apply them to a day table.

The schedule is never changed: applying a feed builds a *new* immutable ``DayTable`` from the
scheduled one. Rules (documented in docs/planner.md, "Realtime"):

- Ids in a feed are that GTFS feed's own ids; they are prefixed with the feed's name in the
  network (``poa_eptc:1511``) before lookup.
- A TripUpdate applies to the trip instance of its ``start_date``; without one, to the instance
  of the service date being planned. ``CANCELED`` and ``DELETED`` remove the trip. Stop time
  updates are matched by ``stop_id`` (in travel order); a delay or absolute time holds from its
  stop until the next update (GTFS-RT propagation); ``NO_DATA`` returns to the schedule;
  ``SKIPPED`` forbids boarding and alighting there. Times are then made non-decreasing.
- New trips: ``NEW`` (and the deprecated ``ADDED``) give a trip of ``route_id`` with an
  absolute time at every stop; it runs the scheduled pattern of that route whose stops are
  exactly its stops (a trip on stops no pattern of the route has is counted, not applied).
  ``DUPLICATED`` copies the scheduled trip ``trip_id`` to ``trip_properties.start_date`` and
  ``start_time`` under ``trip_properties.trip_id``, then applies its stop time updates.
  ``UNSCHEDULED`` and ``REPLACEMENT`` are counted, not applied.
- Alerts close stops (no boarding or alighting for trips passing while a period is active)
  and routes (trips starting while a period is active are removed). An alert without
  ``active_period`` is active all the time.
- A day pattern keeps its trips FIFO: trips whose flags differ go to separate day patterns, and
  a delayed trip that would overtake (or be overtaken) is moved to another day pattern
  (greedy chains by first departure), so the earliest trip stays the best to board.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo

import numpy as np

from graphs.network import Timetable

from ._calendar import day_zero_utc
from ._daytable import DayTable, _assemble, reverse_day_table
from .errors import PlannerError

__all__ = ["RealtimeError", "StopChange", "TripChange", "Closure", "RealtimeFeed", "decode_feed",
           "RealtimeState", "apply_feeds", "ApplyStats", "MAX_FEED_BYTES"]

#: Feeds larger than this are refused (a whole city's TripUpdates are a few MB).
MAX_FEED_BYTES = 64 * 1024 * 1024


class RealtimeError(PlannerError, ValueError):
    """A GTFS-Realtime feed cannot be decoded or is not usable."""


@dataclass(frozen=True)
class StopChange:
    """One StopTimeUpdate: a delay or absolute time (POSIX) for arrival/departure, or a skip."""

    stop_id: str
    arrival_delay: int | None = None
    arrival_time: int | None = None
    departure_delay: int | None = None
    departure_time: int | None = None
    skipped: bool = False
    no_data: bool = False


@dataclass(frozen=True)
class TripChange:
    """One TripUpdate (feed-prefixed ids).

    ``trip_id`` is the scheduled trip changed, cancelled or copied (``DUPLICATED``), or the new
    trip's own id (``NEW``/``ADDED``: ``new`` is set and ``route_id`` names its route).
    """

    trip_id: str
    start_date: date | None
    cancelled: bool = False
    stops: tuple[StopChange, ...] = ()
    new: bool = False
    route_id: str | None = None
    copy_id: str | None = None          # DUPLICATED: the copy's own trip id ...
    copy_start_s: int | None = None     # ... and its first departure, seconds of start_date


@dataclass(frozen=True)
class Closure:
    """An alert's closed stop or route (feed-prefixed id) with its active periods (POSIX)."""

    kind: str                 # "stop" | "route"
    entity_id: str
    periods: tuple[tuple[int, int], ...] = ()   # (start, end); 0 means open-ended

    def active(self, t: np.ndarray) -> np.ndarray:
        """Whether the closure holds at POSIX times ``t``."""
        if not self.periods:
            return np.ones(np.shape(t), bool)
        out = np.zeros(np.shape(t), bool)
        for start, end in self.periods:
            out |= (t >= start) & ((end == 0) | (t <= end))
        return out


@dataclass(frozen=True)
class RealtimeFeed:
    """A decoded feed snapshot."""

    name: str
    timestamp: datetime            # the header timestamp (UTC)
    trips: tuple[TripChange, ...]
    closures: tuple[Closure, ...]
    not_applied: int = 0           # UNSCHEDULED / REPLACEMENT trips, entities without trip


def decode_feed(name: str, data: bytes) -> RealtimeFeed:
    """Decode a GTFS-Realtime ``FeedMessage`` of feed ``name``.

    Raises
    ------
    RealtimeError
        The bytes are not a FeedMessage, too large, or lack the header timestamp.
    """
    from google.protobuf.message import DecodeError
    from google.transit import gtfs_realtime_pb2 as rt

    if len(data) > MAX_FEED_BYTES:
        raise RealtimeError(f"realtime feed {name}: {len(data)} bytes, over {MAX_FEED_BYTES}")
    message = rt.FeedMessage()
    try:
        message.ParseFromString(data)
    except (DecodeError, RuntimeWarning, ValueError) as err:
        raise RealtimeError(f"realtime feed {name}: not a GTFS-Realtime FeedMessage ({err})") \
            from err
    if not message.HasField("header") or not message.header.timestamp:
        raise RealtimeError(f"realtime feed {name}: header timestamp missing")
    prefix = f"{name}:"
    trips, closures, not_applied = [], [], 0
    for entity in message.entity:
        if entity.HasField("trip_update"):
            change = _trip_change(entity.trip_update, prefix, rt)
            if change is None:
                not_applied += 1
            else:
                trips.append(change)
        if entity.HasField("alert"):
            closures.extend(_closures(entity.alert, prefix))
    stamp = datetime.fromtimestamp(message.header.timestamp, UTC)
    return RealtimeFeed(name=name, timestamp=stamp, trips=tuple(trips),
                        closures=tuple(closures), not_applied=not_applied)


def _trip_change(update, prefix: str, rt) -> TripChange | None:
    trip = update.trip
    rel = trip.schedule_relationship
    TD = rt.TripDescriptor
    if not trip.trip_id or rel not in (TD.SCHEDULED, TD.CANCELED, TD.DELETED, TD.NEW, TD.ADDED,
                                       TD.DUPLICATED):
        return None  # UNSCHEDULED, REPLACEMENT: no trip instance to change or add
    start = _date(trip.start_date) if trip.start_date else None
    if trip.start_date and start is None:
        return None
    new = rel in (TD.NEW, TD.ADDED)
    if new and not trip.route_id:
        return None  # a new trip names its route
    copy_id = copy_start_s = None
    if rel == TD.DUPLICATED:
        props = update.trip_properties
        copy_start_s = _clock_s(props.start_time) if props.start_time else None
        if not props.trip_id or copy_start_s is None:
            return None
        copy_id = prefix + props.trip_id
        start = _date(props.start_date) if props.start_date else start
    STU = rt.TripUpdate.StopTimeUpdate
    stops = []
    for stu in update.stop_time_update:
        if not stu.stop_id:
            continue  # stop_sequence alone is not matched (the network keeps no sequences)
        arr, dep = stu.arrival, stu.departure
        stops.append(StopChange(
            stop_id=prefix + stu.stop_id,
            arrival_delay=arr.delay if stu.HasField("arrival") and arr.HasField("delay") else None,
            arrival_time=arr.time if stu.HasField("arrival") and arr.time else None,
            departure_delay=dep.delay if stu.HasField("departure") and dep.HasField("delay")
            else None,
            departure_time=dep.time if stu.HasField("departure") and dep.time else None,
            skipped=stu.schedule_relationship == STU.SKIPPED,
            no_data=stu.schedule_relationship == STU.NO_DATA))
    return TripChange(trip_id=prefix + trip.trip_id, start_date=start,
                      cancelled=rel in (TD.CANCELED, TD.DELETED), stops=tuple(stops), new=new,
                      route_id=prefix + trip.route_id if new else None, copy_id=copy_id,
                      copy_start_s=copy_start_s)


def _date(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _clock_s(text: str) -> int | None:
    """Seconds of ``HH:MM:SS`` (hours may pass 24, as in GTFS); None if malformed."""
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    h, m, sec = map(int, parts)
    return h * 3600 + m * 60 + sec if m < 60 and sec < 60 else None


def _closures(alert, prefix: str) -> list[Closure]:
    periods = tuple((int(p.start), int(p.end)) for p in alert.active_period)
    out = []
    for informed in alert.informed_entity:
        if informed.stop_id:
            out.append(Closure("stop", prefix + informed.stop_id, periods))
        elif informed.route_id:
            out.append(Closure("route", prefix + informed.route_id, periods))
    return out


@dataclass(frozen=True)
class ApplyStats:
    """What applying feeds to one service date did."""

    updated: int = 0          # trip instances with new times or skipped stops
    cancelled: int = 0
    added: int = 0            # NEW/ADDED and DUPLICATED trips put in the table
    closed_stops: int = 0
    closed_routes: int = 0
    not_applied: int = 0      # updates naming no known trip, stop or pattern, ...


@dataclass(frozen=True)
class _NewTrip:
    """A trip a feed adds, on scheduled pattern ``pattern`` (``template``: one of its trips)."""

    trip_id: str
    pattern: int
    template: int
    arr: np.ndarray           # int32 seconds of the day table's day
    dep: np.ndarray
    skip: np.ndarray          # bool: no boarding or alighting


def apply_feeds(tt: Timetable, day: DayTable, feeds: tuple[RealtimeFeed, ...],
                tz: tzinfo) -> tuple[DayTable, ApplyStats]:
    """The forward day table ``day`` with ``feeds`` applied, and what was done."""
    zero = int(day_zero_utc(day.service_date, tz).timestamp())
    trip_index = _trip_index(tt)
    stop_index = {str(s): i for i, s in enumerate(tt.stop_id)}
    route_index = {str(r): i for i, r in enumerate(tt.route_id)}
    counts = np.diff(day.dp_trip_indptr)
    dp_of_trip = np.repeat(np.arange(len(counts)), counts)
    by_original: dict[int, list[int]] = {}
    not_applied = sum(f.not_applied for f in feeds)
    changes = [c for f in feeds for c in f.trips if not c.new and c.copy_id is None]
    extra, refused = _new_trips(tt, day, [c for f in feeds for c in f.trips
                                          if c.new or c.copy_id is not None],
                                indexes=(trip_index, stop_index, route_index), zero=zero, tz=tz)
    not_applied += refused
    wanted = set()
    for change in changes:
        t = trip_index.get(change.trip_id)
        if t is None:
            not_applied += 1
        else:
            wanted.add(t)
    for i in np.nonzero(np.isin(day.trip_original, list(wanted)))[0]:
        by_original.setdefault(int(day.trip_original[i]), []).append(int(i))
    new_times: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # k -> arr, dep, skip
    cancelled: set[int] = set()
    for change in changes:
        t = trip_index.get(change.trip_id)
        if t is None:  # reported above as not applied
            continue
        ks = [k for k in by_original.get(t, ()) if _instance_date(day, k) ==
              (change.start_date or day.service_date)]
        for k in map(int, ks):
            if change.cancelled:
                cancelled.add(k)
                continue
            dp = int(dp_of_trip[k])
            result = _retime(day, dp, k, change, stop_index, zero)
            if result is None:
                not_applied += 1
            else:
                new_times[k] = result
    stop_closed = [(stop_index[c.entity_id], c) for f in feeds for c in f.closures
                   if c.kind == "stop" and c.entity_id in stop_index]
    route_closed = [(route_index[c.entity_id], c) for f in feeds for c in f.closures
                    if c.kind == "route" and c.entity_id in route_index]
    not_applied += sum(1 for f in feeds for c in f.closures
                       if c.entity_id not in (stop_index if c.kind == "stop" else route_index))
    touched = {int(dp_of_trip[k]) for k in (*new_times, *cancelled)}
    closed_stop_set = {s for s, _ in stop_closed}
    closed_route_set = {r for r, _ in route_closed}
    groups, flags, new_ids = [], [], []
    update = _Update(new_times, cancelled, stop_closed, route_closed, zero)
    for dp in range(len(counts)):
        a, b = day.dp_stop_indptr[dp], day.dp_stop_indptr[dp + 1]
        stops = day.dp_stops[a:b]
        added = extra.pop(int(day.dp_pattern[dp]), [])  # on the pattern's first day pattern
        if (dp not in touched and not added and int(day.dp_route[dp]) not in closed_route_set
                and not closed_stop_set.intersection(stops.tolist())):
            group = _group_of(day, dp)
            groups.append(group)
            flags.append(np.zeros(len(group[1]), bool))
            new_ids.append(np.full(len(group[1]), "", dtype=object))
            continue
        for group, realtime, ids in _regroup(tt, _group_of(day, dp), update, added,
                                             first_trip=int(day.dp_trip_indptr[dp])):
            groups.append(group)
            flags.append(realtime)
            new_ids.append(ids)
    for p, added in extra.items():  # patterns with no trip of their own that day
        for group, realtime, ids in _regroup(tt, _empty_group(tt, p), update, added):
            groups.append(group)
            flags.append(realtime)
            new_ids.append(ids)
    table = _assemble(tt, day.service_date, groups)
    ids = np.concatenate(new_ids).astype(np.str_) if new_ids else np.zeros(0, np.str_)
    table = replace(table, trip_realtime=np.concatenate(flags) if flags else np.zeros(0, bool),
                    trip_new_id=ids if ids.any() else None)
    stats = ApplyStats(updated=len(new_times), cancelled=len(cancelled),
                       added=int((ids != "").sum()), closed_stops=len(closed_stop_set),
                       closed_routes=len(closed_route_set), not_applied=not_applied)
    return table, stats


def _new_trips(tt: Timetable, day: DayTable, changes: list[TripChange], *, indexes: tuple,
               zero: int, tz: tzinfo) -> tuple[dict[int, list[_NewTrip]], int]:
    """The NEW/ADDED and DUPLICATED trips of ``changes`` by pattern, and how many were refused."""
    trip_index, stop_index, route_index = indexes
    out: dict[int, list[_NewTrip]] = {}
    refused = 0
    for change in changes:
        trip = _new_trip(tt, day, change, trip_index=trip_index, stop_index=stop_index,
                         route_index=route_index, zero=zero, tz=tz)
        if trip is None:
            refused += 1
        else:
            out.setdefault(trip.pattern, []).append(trip)
    return out, refused


def _new_trip(tt: Timetable, day: DayTable, change: TripChange, *, trip_index: dict,  # noqa: PLR0913 - the three id indexes travel together
              stop_index: dict, route_index: dict, zero: int, tz: tzinfo) -> _NewTrip | None:
    if change.copy_id is not None:  # DUPLICATED: the scheduled trip, moved, then updated
        t = trip_index.get(change.trip_id)
        if t is None or change.copy_start_s is None:
            return None
        p = int(np.searchsorted(tt.pattern_trip_indptr, t, side="right") - 1)
        rows = np.arange(tt.trip_stop_time_indptr[t], tt.trip_stop_time_indptr[t + 1])
        arr = tt.stop_time_arrival_s[rows].astype(np.int64)
        dep = tt.stop_time_departure_s[rows].astype(np.int64)
        start = change.start_date or day.service_date
        shift = (int(day_zero_utc(start, tz).timestamp()) - zero + change.copy_start_s
                 - int(dep[0]))
        stops = tt.pattern_stops[tt.pattern_stop_indptr[p]:tt.pattern_stop_indptr[p + 1]]
        moved = _propagate(stops, arr + shift, dep + shift, change, stop_index, zero)
        if moved is None:
            return None
        return _NewTrip(change.copy_id, p, t, *moved)
    r = route_index.get(change.route_id or "")
    stops = np.array([stop_index.get(sc.stop_id, -1) for sc in change.stops], np.int64)
    times = [(sc.arrival_time or sc.departure_time, sc.departure_time or sc.arrival_time)
             for sc in change.stops]
    if r is None or len(stops) < 2 or (stops < 0).any() or any(a is None for a, _ in times):
        return None
    arr = np.array([a for a, _ in times], np.int64) - zero
    dep = np.array([d for _, d in times], np.int64) - zero
    if (dep < arr).any() or (arr[1:] < dep[:-1]).any():
        return None  # a vehicle cannot leave before it arrives
    for pattern in np.nonzero(tt.pattern_route == r)[0]:
        lo, hi = int(tt.pattern_stop_indptr[pattern]), int(tt.pattern_stop_indptr[pattern + 1])
        if hi - lo == len(stops) and (tt.pattern_stops[lo:hi] == stops).all():
            skip = np.array([sc.skipped for sc in change.stops], bool)
            return _NewTrip(change.trip_id, int(pattern), int(tt.pattern_trip_indptr[pattern]),
                            arr.astype(np.int32), dep.astype(np.int32), skip)
    return None  # no pattern of the route runs exactly these stops


def _trip_index(tt: Timetable) -> dict[str, int]:
    cached = getattr(_trip_index, "_cache", None)
    if cached is not None and cached[0] is tt:
        return cached[1]
    index = {str(t): i for i, t in enumerate(tt.trip_id)}
    _trip_index._cache = (tt, index)  # type: ignore[attr-defined]
    return index


def _instance_date(day: DayTable, k: int) -> date:
    return day.service_date + timedelta(days=round(int(day.trip_offset_s[k]) / 86400))


def _group_of(day: DayTable, dp: int) -> tuple:
    a, b = day.dp_stop_indptr[dp], day.dp_stop_indptr[dp + 1]
    t0, t1 = day.dp_trip_indptr[dp], day.dp_trip_indptr[dp + 1]
    n = int(b - a)
    rows = day.trip_time_base[t0:t1][:, None] + np.arange(n)[None, :]
    return (int(day.dp_pattern[dp]), day.trip_original[t0:t1], day.trip_offset_s[t0:t1],
            day.st_arr[rows], day.st_dep[rows], day.dp_board_ok[a:b], day.dp_alight_ok[a:b])


def _empty_group(tt: Timetable, p: int) -> tuple:
    n = int(tt.pattern_stop_indptr[p + 1] - tt.pattern_stop_indptr[p])
    return (p, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros((0, n), np.int32),
            np.zeros((0, n), np.int32), np.ones(n, bool), np.ones(n, bool))


def _retime(day: DayTable, dp: int, k: int, change: TripChange, stop_index: dict,
            zero: int):
    """New (arrival, departure, skipped) of day trip ``k``; None if no stop matched."""
    a, b = day.dp_stop_indptr[dp], day.dp_stop_indptr[dp + 1]
    n = int(b - a)
    base = int(day.trip_time_base[k])
    return _propagate(day.dp_stops[a:b], day.st_arr[base:base + n].astype(np.int64),
                      day.st_dep[base:base + n].astype(np.int64), change, stop_index, zero)


def _propagate(stops: np.ndarray, arr: np.ndarray, dep: np.ndarray, change: TripChange,
               stop_index: dict, zero: int):
    """(arrival, departure, skipped) of a trip on ``stops`` after ``change``'s stop updates;
    None if it has updates and none names a stop of the trip."""
    n = len(stops)
    new_arr, new_dep = arr.copy(), dep.copy()
    skip = np.zeros(n, bool)
    pos, matched = 0, []
    for sc in change.stops:
        s = stop_index.get(sc.stop_id)
        hit: np.ndarray = np.nonzero(stops[pos:] == s)[0] if s is not None else np.zeros(0, int)
        if len(hit) == 0:
            continue
        pos += int(hit[0])
        matched.append((pos, sc))
    if not matched:
        return None if change.stops else (arr.astype(np.int32), dep.astype(np.int32), skip)
    delay = 0
    updates = dict(matched)
    for i in range(n):
        update = updates.get(i)
        if update is not None:
            sc = update
            if sc.no_data:
                delay = 0
            skip[i] = sc.skipped
            if sc.arrival_time is not None:
                delay = sc.arrival_time - zero - int(arr[i])
            elif sc.arrival_delay is not None:
                delay = sc.arrival_delay
            new_arr[i] = arr[i] + delay
            if sc.departure_time is not None:
                delay = sc.departure_time - zero - int(dep[i])
            elif sc.departure_delay is not None:
                delay = sc.departure_delay
            new_dep[i] = dep[i] + delay
        else:
            new_arr[i], new_dep[i] = arr[i] + delay, dep[i] + delay
    for i in range(n):  # a vehicle cannot leave before it arrives, nor arrive before leaving
        if i:
            new_arr[i] = max(new_arr[i], new_dep[i - 1])
        new_dep[i] = max(new_dep[i], new_arr[i])
    return new_arr.astype(np.int32), new_dep.astype(np.int32), skip


@dataclass(frozen=True)
class _Update:
    """The changes ``_regroup`` applies to every day pattern it rebuilds."""

    new_times: dict
    cancelled: set
    stop_closed: list
    route_closed: list
    zero: int


def _regroup(tt: Timetable, base: tuple, update: _Update, added: list[_NewTrip], *,
             first_trip: int = 0) -> list[tuple[tuple, np.ndarray, np.ndarray]]:
    """The trips of a day pattern (``base``, its first day trip ``first_trip``) after updates,
    plus ``added`` trips, as FIFO groups with uniform flags: (group, realtime, new ids)."""
    p, trips, offsets, arr, dep, board, alight = base
    ks = np.arange(first_trip, first_trip + len(trips))
    m = arr.shape[1]
    board_m = np.repeat(board[None, :], len(trips), 0)
    alight_m = np.repeat(alight[None, :], len(trips), 0)
    realtime = np.zeros(len(trips), bool)
    keep = np.ones(len(trips), bool)
    arr, dep = arr.copy(), dep.copy()
    for i, k in enumerate(ks):
        if int(k) in update.cancelled:
            keep[i] = False
        elif int(k) in update.new_times:
            arr[i], dep[i], skip = update.new_times[int(k)]
            board_m[i] &= ~skip
            alight_m[i] &= ~skip
            realtime[i] = True
    ids = np.full(len(trips), "", dtype=object)
    if added:
        rows = np.array([tt.trip_stop_time_indptr[t.template] for t in added])[:, None] \
            + np.arange(m)[None, :]
        skips = np.array([t.skip for t in added])
        trips = np.concatenate([trips, [t.template for t in added]]).astype(np.int32)
        offsets = np.concatenate([offsets, np.zeros(len(added), np.int32)])
        arr = np.concatenate([arr, [t.arr for t in added]])
        dep = np.concatenate([dep, [t.dep for t in added]])
        board_m = np.concatenate([board_m, np.asarray(tt.stop_time_pickup_ok, bool)[rows] & ~skips])
        alight_m = np.concatenate([alight_m,
                                   np.asarray(tt.stop_time_dropoff_ok, bool)[rows] & ~skips])
        realtime = np.concatenate([realtime, np.ones(len(added), bool)])
        keep = np.concatenate([keep, np.ones(len(added), bool)])
        ids = np.concatenate([ids, np.array([t.trip_id for t in added], dtype=object)])
    stops = tt.pattern_stops[tt.pattern_stop_indptr[p]:tt.pattern_stop_indptr[p + 1]]
    zero = update.zero
    for s, closure in update.stop_closed:
        at = np.nonzero(stops == s)[0]
        if len(at):
            hit = closure.active(dep[:, at] + zero)
            board_m[:, at] &= ~hit
            alight_m[:, at] &= ~closure.active(arr[:, at] + zero)
    for r, closure in update.route_closed:
        if int(tt.pattern_route[p]) == r:
            keep &= ~closure.active(dep[:, 0] + zero)
    sel = np.nonzero(keep)[0]
    if len(sel) == 0:
        return []
    signature = np.concatenate([board_m[sel], alight_m[sel]], axis=1)
    _, first, part = np.unique(signature, axis=0, return_index=True, return_inverse=True)
    part = part.ravel()
    out = []
    for j in np.argsort(first):
        idx = sel[part == j]
        idx = idx[np.lexsort((arr[idx, -1], dep[idx, 0]))]
        for chain in _fifo_chains(arr[idx], dep[idx]):
            c = idx[chain]
            group = (p, trips[c], offsets[c], arr[c], dep[c], board_m[c[0]], alight_m[c[0]])
            out.append((group, realtime[c], ids[c]))
    assert sum(len(g[1]) for g, _, _ in out) == len(sel) and m == arr.shape[1]
    return out


def _fifo_chains(arr: np.ndarray, dep: np.ndarray) -> list[np.ndarray]:
    """Split trips sorted by first departure into chains where none overtakes another."""
    chains: list[list[int]] = []
    for i in range(len(arr)):
        for chain in chains:
            last = chain[-1]
            if np.all(arr[i] >= arr[last]) and np.all(dep[i] >= dep[last]):
                chain.append(i)
                break
        else:
            chains.append([i])
    return [np.array(c, np.int64) for c in chains]


@dataclass(eq=False)
class RealtimeState:
    """Feeds in force for one network, and the day tables built from them (cached per date).

    Built whole and handed to ``TransitRouter.realtime`` in one assignment; never changed
    after, except its private table cache. ``notices`` go into every plan's notices.
    """

    timetable: Timetable
    tz: tzinfo
    feeds: tuple[RealtimeFeed, ...] = ()
    notices: tuple[str, ...] = ()
    stats: dict = field(default_factory=dict)
    _tables: dict = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def day(self, service_date: date, reversed_: bool,
            scheduled: Callable[[date, bool], DayTable]) -> DayTable:
        """The day table of ``service_date`` with the feeds applied (schedule without feeds)."""
        if not self.feeds:
            return scheduled(service_date, reversed_)
        key = (service_date, reversed_)
        with self._lock:  # re-entrant: the reversed table is built from the forward one
            table = self._tables.get(key)
            if table is None:
                if reversed_:
                    table = reverse_day_table(self.day(service_date, False, scheduled))
                else:
                    table, self.stats[service_date] = apply_feeds(
                        self.timetable, scheduled(service_date, False), self.feeds, self.tz)
                self._tables[key] = table
            return table
