"""Reach maps: from one origin and start time, every stop and street node reachable within a
time budget, with its earliest arrival and the lowest CO2e of reaching it within the budget.

Pipeline: snap the origin; walk (and ride an own bike) from it; seed the stops' access labels;
one multi-criteria round-based pass over the day timetable (``planner._reach_kernel``, exact
Pareto bags over arrival and CO2e); one walk from every stop label to the street nodes
(Dijkstra per CO2e group, greenest first); H3 cells merged into time and CO2e bands
(``planner.reach_bands``).

Rules (see docs/planner.md, "Reach maps"): access and transfer walks are bounded by
``max_walk_m`` as in plans; the last walk, from the origin or from any stop reached, only by the
budget. Walking and own-bike riding count 0 g CO2e (every shipped factor table says so; a table
that does not gets a notice). The transfer count is not limited: rounds run until no stop's
bag changes.
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from graphs.modes import TRANSIT
from graphs.network import Timetable

from . import model
from ._calendar import seconds_of_day
from ._reach_kernel import MAX_REACH_ROUNDS, ReachBags, ReachSearch, reach_pass, spread_walk
from .access import ParkingStops, bike_access, parking_stops
from .errors import CodedText, OutsideCoverageError, QueryError
from .model import Query
from .query import localize, make_query
from .reach_bands import (
    CO2E_BANDS_G,
    H3_RESOLUTION,
    CellIndex,
    ReachBand,
    cell_index,
    cell_values,
    co2e_bands,
    time_bands,
)
from .street_search import search
from .transit import stop_walk_distances

if TYPE_CHECKING:
    from .engine import Planner

__all__ = ["ReachQuery", "ReachedStop", "ReachedNodes", "Reach", "make_reach_query", "reach_map",
           "MAX_REACH_MINUTES", "REACH_MINUTES", "BAND_MINUTES", "MAX_BAND_MINUTES",
           "REACH_MODES", "REACH_STREET_MODES", "REACH_ACCESS_MODES", "CO2E_BANDS_G",
           "H3_RESOLUTION"]

#: Longest time budget (minutes): a reach map of two hours covers a whole city.
MAX_REACH_MINUTES = 120
#: Default time budget and time-band width (minutes).
REACH_MINUTES = 30
BAND_MINUTES = 10
MAX_BAND_MINUTES = 60
#: Default modes: walking and transit (the low-carbon way most people can take).
REACH_MODES = frozenset({"walk", TRANSIT})
#: Street modes a reach map may use (cars are the baseline, not a way to reach) ...
REACH_STREET_MODES = ("walk", "bike")
#: ... and those that may reach transit (``bike+transit``: own bike parked at a station).
REACH_ACCESS_MODES = ("bike",)
_FIRST_CAPACITY = 64  # labels per stop bag (5 MB on Porto Alegre; a pass costs what the bags
#                      hold, not their room); grown and rerun on overflow (exactness kept) ...
_GROWTH = 2          # ... by this factor; a planner remembers what each budget needed


@dataclass(frozen=True)
class ReachQuery:
    """A validated reach request: the trip options of ``query`` (its destination is unused),
    the budget and the width of the time bands (minutes)."""

    query: Query
    minutes: float
    band_minutes: float = BAND_MINUTES


@dataclass(frozen=True)
class ReachedStop:
    """A transit stop reached within the budget."""

    stop_id: str
    name: str
    lat: float
    lon: float
    arrival: datetime
    minutes: float            # after the start
    co2e_g: float             # lowest CO2e of any way arriving within the budget


@dataclass(frozen=True, eq=False)
class ReachedNodes:
    """Reached nodes of one street layer (indices into it) with their minutes and CO2e."""

    layer: str
    node: np.ndarray          # int32
    minutes: np.ndarray       # float64 after the start
    co2e_g: np.ndarray        # float64 lowest within the budget


@dataclass(frozen=True)
class Reach:
    """A reach map: stops and street nodes reached, and their H3 cells in bands."""

    query: ReachQuery
    start: datetime
    stops: tuple[ReachedStop, ...]
    nodes: tuple[ReachedNodes, ...]
    time_bands: tuple[ReachBand, ...]
    co2e_bands: tuple[ReachBand, ...]
    resolution: int
    factor_table: str
    rounds: int               # transit rounds the pass ran (0 without transit)
    notices: tuple[str, ...] = ()


def make_reach_query(*, origin: tuple[float, float], when: datetime,  # noqa: PLR0913 - one keyword per option
                     minutes: float = REACH_MINUTES, modes: Iterable[str] = REACH_MODES,
                     transit_modes: Iterable[str] | None = None,
                     access_modes: Iterable[str] = (),
                     walk_speed_mps: float = model.WALK_SPEED_MPS,
                     bike_speed_mps: float = model.BIKE_SPEED_MPS,
                     max_walk_m: float = model.MAX_WALK_M, max_snap_m: float = model.MAX_SNAP_M,
                     band_minutes: float = BAND_MINUTES,
                     timezone: str | None = None) -> ReachQuery:
    """A validated reach query from typed values (as ``make_query``; ``modes`` may name
    ``walk``, ``bike``, ``transit`` and single transit modes, ``access_modes`` ``bike``).

    Raises
    ------
    QueryError
        Naming the field (``minutes``, ``band_minutes``, ``modes``, ...) and its allowed range.
    """
    query = make_query(origin=origin, destination=origin, when=when, modes=modes,
                       transit_modes=transit_modes, access_modes=access_modes,
                       walk_speed_mps=walk_speed_mps, bike_speed_mps=bike_speed_mps,
                       max_walk_m=max_walk_m, max_snap_m=max_snap_m, timezone=timezone)
    street = sorted(query.modes - {TRANSIT} - set(REACH_STREET_MODES))
    street += [f"{m}+transit" for m in sorted(query.access_modes - set(REACH_ACCESS_MODES))]
    if street:
        raise QueryError(f"a reach map cannot use {', '.join(street)}; modes must be among "
                         f"{', '.join(REACH_STREET_MODES)}, transit, single transit modes "
                         f"and bike+transit",
                         field="modes")
    return ReachQuery(query=query,
                      minutes=_whole("minutes", minutes, 1, MAX_REACH_MINUTES),
                      band_minutes=_whole("band_minutes", band_minutes, 1, MAX_BAND_MINUTES))


def _whole(name: str, value, low: int, high: int) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise QueryError(f"{name} must be a whole number of minutes in [{low}, {high}], "
                         f"got {value!r}", field=name)
    if not (low <= value <= high) or value != int(value):
        raise QueryError(f"{name} must be a whole number of minutes in [{low}, {high}], "
                         f"got {value!r}", field=name)
    return float(value)


@dataclass(frozen=True, eq=False)
class _Prepared:
    """What reach maps need from a planner beyond its own caches (built on first use)."""

    cells: CellIndex
    parking: ParkingStops | None
    #: bag capacity the last pass of each budget (minutes) needed: the next starts there
    capacity: dict[float, int] = field(default_factory=dict)


_PREPARED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _prepared(planner: Planner) -> _Prepared:
    with _LOCK:
        found = _PREPARED.get(planner)
        if found is None:
            streets = planner.network.streets
            layers = {name: (streets[name].node_lat, streets[name].node_lon)
                      for name in REACH_STREET_MODES if name in streets}
            tt = planner.network.timetable
            parking = (parking_stops(tt, planner.snappers["bike"])
                       if tt is not None and "bike" in planner.snappers else None)
            found = _PREPARED[planner] = _Prepared(cell_index(layers), parking)
        return found


def reach_map(planner: Planner, request: ReachQuery) -> Reach:
    """The reach map of ``request`` on the planner's network.

    Raises
    ------
    OutsideCoverageError
        If the origin is beyond ``max_snap_m`` of every street layer the modes need.
    """
    q = replace(request.query, when=localize(request.query.when, planner.tz))
    prepared = _prepared(planner)
    walking = "walk" in q.modes or TRANSIT in q.modes
    layers = (["walk"] if walking else []) + (
        ["bike"] if "bike" in q.modes or "bike" in q.access_modes else [])
    snaps = _snap(planner, q, layers)
    budget_s = request.minutes * 60.0
    notices: list[str] = []
    for mode in ("walk", "bike"):
        if float(planner.factors.g_per_pkm(mode)) != 0.0:
            notices.append(CodedText(f"the factor table gives {mode} a CO2e factor; reach maps "
                                     f"count walking and cycling as 0 g", "reach_street_co2e",
                                     mode=mode))
    nodes: list[ReachedNodes] = []
    stops: tuple[ReachedStop, ...] = ()
    rounds = 0
    if "bike" in q.modes and "bike" in snaps:
        nodes.append(_bike_nodes(planner, q, snaps["bike"], budget_s))
    if walking and "walk" in snaps:
        walked, stops, rounds = _walk_and_transit(planner, q, snaps, budget_s, prepared,
                                                  notices)
        nodes.append(walked)
    return _assemble(planner, request, q, nodes, stops, prepared, rounds, notices)


def _snap(planner: Planner, q: Query, layers: list[str]) -> dict[str, tuple[int, float]]:
    out = {}
    nearest = float("inf")
    for name in layers:
        if name not in planner.snappers:
            continue
        node, dist = planner.snappers[name].nearest(q.origin_lat, q.origin_lon)
        nearest = min(nearest, dist)
        if dist <= q.max_snap_m:
            out[name] = (node, dist)
    if not out:
        raise OutsideCoverageError(
            f"origin ({q.origin_lat:.5f}, {q.origin_lon:.5f}) is outside the network's area: "
            f"nearest usable street is {nearest:,.0f} m away (max_snap_m={q.max_snap_m:g})",
            field="origin", code="outside_network",
            params={"lat": q.origin_lat, "lon": q.origin_lon, "distance_m": nearest,
                    "max_snap_m": q.max_snap_m, "swapped": False})
    return out


def _bike_nodes(planner: Planner, q: Query, snap: tuple[int, float],
                budget_s: float) -> ReachedNodes:
    node, snap_m = snap
    limit = max(0.0, budget_s * q.bike_speed_mps - snap_m)
    tree = search(planner.graphs["bike"], node, limit=limit)
    reached = np.nonzero(np.isfinite(tree.dist))[0].astype(np.int32)
    minutes = (tree.dist[reached] + snap_m) / q.bike_speed_mps / 60.0
    return ReachedNodes("bike", reached, minutes, np.zeros(len(reached)))


def _walk_and_transit(planner: Planner, q: Query, snaps, budget_s: float, prepared: _Prepared,
                      notices: list[str]) -> tuple[ReachedNodes, tuple[ReachedStop, ...], int]:
    """Stops by transit and walk nodes by walking (from the origin or any reached stop)."""
    walk = planner.graphs["walk"]
    node, snap_m = snaps["walk"]
    start_s, service_date = _start_seconds(planner, q)
    deadline = start_s + budget_s
    src_node = [node]
    src_time = [start_s + snap_m / q.walk_speed_mps]
    src_co2 = [0.0]
    bags, tt = _transit(planner, q, snaps, deadline, prepared, notices, start_s, service_date)
    stop_arr = stop_co2 = None
    if tt is not None:  # without transit, the stops one walks to
        stop_arr, stop_co2 = np.full(tt.n_stops, np.inf), np.full(tt.n_stops, np.inf)
    if bags is not None and tt is not None:
        stop_arr, stop_co2, (s, arr, co2) = _stop_labels(bags)
        linked = tt.stop_walk_node[s] >= 0
        s, arr, co2 = s[linked], arr[linked], co2[linked]
        src_node += tt.stop_walk_node[s].tolist()
        src_time += (arr + tt.stop_link_distance_m[s] / q.walk_speed_mps).tolist()
        src_co2 += co2.tolist()
    order = np.lexsort((np.asarray(src_time), np.asarray(src_co2)))
    csr = walk.csr
    time, co2 = spread_walk(csr.indptr, csr.indices, csr.data,
                            np.asarray(src_node, np.int32)[order],
                            np.asarray(src_time, np.float64)[order],
                            np.asarray(src_co2, np.float64)[order], float(deadline),
                            float(q.walk_speed_mps))
    reached = np.nonzero(np.isfinite(time))[0].astype(np.int32)
    walked = ReachedNodes("walk", reached, (time[reached] - start_s) / 60.0, co2[reached])
    stops: tuple[ReachedStop, ...] = ()
    if stop_arr is not None and tt is not None:
        stops = _reached_stops(planner, q, tt, stop_arr, stop_co2, time, co2, start_s, deadline)
    return walked, stops, 0 if bags is None else bags.rounds


def _start_seconds(planner: Planner, q: Query):
    service_date = q.when.astimezone(planner.tz).date()
    return seconds_of_day(q.when, service_date, planner.tz), service_date


def _transit(planner: Planner, q: Query, snaps, deadline: float, prepared: _Prepared,  # noqa: PLR0917
             notices: list[str], start_s: int, service_date) -> tuple[ReachBags | None, Timetable | None]:
    """The transit pass's bags (None without transit)."""
    router, tt = planner.transit, planner.network.timetable
    if TRANSIT not in q.modes:
        return None, tt
    if router is None or tt is None:
        notices.append(CodedText("no transit: the network has no timetable", "no_timetable"))
        return None, tt
    notices.extend(router.realtime_notices())
    if not router.covers(service_date):
        notices.append(CodedText(
            f"no transit: date {service_date} is outside the feeds' service dates "
            f"({router.first_date}..{router.last_date})", "no_transit_date",
            date=str(service_date), first=str(router.first_date), last=str(router.last_date)))
        return None, tt
    node, snap_m = snaps["walk"]
    tree = search(planner.graphs["walk"], node, limit=max(0.0, q.max_walk_m - snap_m))
    access_m = stop_walk_distances(tt, tree, snap_m=snap_m, max_walk_m=q.max_walk_m)
    stops = np.nonzero(access_m >= 0)[0]
    seed_stop = [stops]
    seed_s = [np.ceil(access_m[stops] / q.walk_speed_mps)]
    if "bike" in q.access_modes and "bike" in snaps and prepared.parking is not None:
        bike = bike_access(planner.graphs["bike"], prepared.parking, tt.n_stops,
                           origin_node=snaps["bike"][0], snap_m=snaps["bike"][1],
                           speed_mps=q.bike_speed_mps)
        by_bike = np.nonzero(bike.seconds >= 0)[0]
        seed_stop.append(by_bike)
        seed_s.append(bike.seconds[by_bike].astype(np.float64))
    seeds = np.concatenate(seed_stop).astype(np.int32)
    day = router.day(service_date, False)
    allowed = (np.ones(len(day.dp_pattern), np.bool_) if q.transit_modes is None
               else np.isin(day.dp_mode, sorted(q.transit_modes)))
    search_ = ReachSearch(seed_stop=seeds,
                          seed_arr=(start_s + np.concatenate(seed_s)).astype(np.int32),
                          seed_co2e_g=np.zeros(len(seeds)), allowed=allowed,
                          deadline_s=int(deadline), walk_speed_mps=float(q.walk_speed_mps),
                          max_walk_m=float(q.max_walk_m), max_rounds=MAX_REACH_ROUNDS,
                          capacity=_start_capacity(prepared, deadline - start_s))
    bags = run_pass(day.kernel, search_)
    prepared.capacity[deadline - start_s] = bags.arr.shape[1]
    return bags, tt


def _start_capacity(prepared: _Prepared, budget_s: float) -> int:
    """The largest bag a pass of this budget or a shorter one needed before (bags only grow
    with the budget), so repeated requests rarely rerun."""
    return max((c for b, c in list(prepared.capacity.items()) if b <= budget_s),
               default=_FIRST_CAPACITY)


def run_pass(tt, search_: ReachSearch) -> ReachBags:
    """``reach_pass`` rerun with larger bags until no bag overflows (so the bags are exact)."""
    while True:
        bags = ReachBags(*reach_pass(tt, search_))
        if not bags.overflow:
            return bags
        search_ = search_._replace(capacity=_GROWTH * search_.capacity)


def _stop_labels(bags: ReachBags):
    """Per stop: earliest arrival and lowest CO2e of its bag (inf where empty), and every
    label as flat (stop, arrival, CO2e) arrays."""
    size = bags.size
    S, cap = bags.arr.shape
    valid = np.arange(cap)[None, :] < size[:, None]
    arr = np.where(valid, bags.arr, np.iinfo(np.int32).max).astype(np.float64)
    co2 = np.where(valid, bags.co2e_g, np.inf)
    stop_arr = arr.min(axis=1)
    stop_arr[size == 0] = np.inf
    s, j = np.nonzero(valid)
    return stop_arr, co2.min(axis=1), (s.astype(np.int32), bags.arr[s, j].astype(np.float64),
                                       bags.co2e_g[s, j])


def _reached_stops(planner: Planner, q: Query, tt: Timetable, stop_arr, stop_co2,  # noqa: PLR0917
                   node_time, node_co2, start_s: int, deadline: float) -> tuple[ReachedStop, ...]:
    """Each stop at the better of its labels and the walk to it from the street nodes."""
    arr, co2 = stop_arr.copy(), stop_co2.copy()
    node = tt.stop_walk_node
    linked = np.nonzero(node >= 0)[0]
    walked = node_time[node[linked]] + tt.stop_link_distance_m[linked] / q.walk_speed_mps
    ok = walked <= deadline
    arr[linked[ok]] = np.minimum(arr[linked[ok]], walked[ok])
    co2[linked[ok]] = np.minimum(co2[linked[ok]], node_co2[node[linked[ok]]])
    start = q.when
    out = []
    for s in np.nonzero(arr <= deadline)[0]:
        seconds = float(arr[s] - start_s)
        out.append(ReachedStop(stop_id=str(tt.stop_id[s]), name=str(tt.stop_name[s]),
                               lat=float(tt.stop_lat[s]), lon=float(tt.stop_lon[s]),
                               arrival=start + timedelta(seconds=round(seconds)),
                               minutes=seconds / 60.0, co2e_g=float(co2[s])))
    return tuple(sorted(out, key=lambda stop: (stop.minutes, stop.co2e_g, stop.stop_id)))


def _assemble(planner: Planner, request: ReachQuery, q: Query, nodes: list[ReachedNodes],  # noqa: PLR0917
              stops, prepared: _Prepared, rounds: int, notices: list[str]) -> Reach:
    if nodes:
        cells = np.concatenate([prepared.cells.cells[n.layer][n.node] for n in nodes])
        minutes = np.concatenate([n.minutes for n in nodes])
        co2 = np.concatenate([n.co2e_g for n in nodes])
    else:
        cells, minutes, co2 = np.zeros(0, np.uint64), np.zeros(0), np.zeros(0)
    unique, best_min, best_co2 = cell_values(cells, minutes, co2)
    return Reach(query=request, start=q.when, stops=stops, nodes=tuple(nodes),
                 time_bands=tuple(time_bands(unique, best_min, budget_min=request.minutes,
                                             step_min=request.band_minutes)),
                 co2e_bands=tuple(co2e_bands(unique, best_co2)), resolution=H3_RESOLUTION,
                 factor_table=str(planner.factors.label), rounds=rounds,
                 notices=tuple(notices))
