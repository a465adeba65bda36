"""Shared bikes (GBFS): walk to a bike, rent it, ride, return it, walk on.

A :class:`ShareSystem` is one GBFS snapshot (:class:`graphs.gbfs.GbfsFeed`) compiled onto a
planner's street layers once per snapshot: where each bike can be rented (a docking station
with a bike available and renting, or a free-floating vehicle neither reserved nor disabled),
where it can be returned (a station with a free dock and returning; a free-floating vehicle
anywhere its geofencing zones let a ride end), and which transit stops are a short walk from
each station or vehicle. A query then finds, per stop, the quickest shared-bike chain from the
origin (access) and to the destination (egress), and the quickest chain door to door (the
``bikeshare`` mode alone).

Assumptions (named constants, quoted in docs/planner.md): unlocking takes :data:`RENT_S` and
docking or locking :data:`RETURN_S`; a traveller walks at most :data:`MAX_SHARE_WALK_M` to a
bike or from where it is returned, and rides at most :data:`MAX_SHARE_RIDE_M` door to door
(:data:`MAX_SHARE_ACCESS_RIDE_M` to or from transit). Availability is
the snapshot's: with a live feed (``tanlu serve --gbfs``) the last good poll, i.e. the time of
the query; with a snapshot baked into the artifact (``tanlu build --gbfs``) the counts of that
snapshot stand for the time of the query, and every answer says so in a notice. A station
without ``station_status`` counts as having bikes and docks (capacity unknown, same notice).

Vehicles ride on the bike layer with their own factor key: ``bikeshare`` for a human-powered
bicycle, ``ebike`` for an electric-assist one, ``escooter`` for a scooter. A vehicle whose key
is not in the network's factor table (only ``fr-ademe`` has ``escooter``) is not offered: the
table is the one home of CO2e numbers and none is invented here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from graphs.gbfs import GbfsFeed, GbfsZoneRule
from graphs.network import Timetable

from .errors import CodedText
from .model import Query
from .snap import Snapper
from .street_search import LayerGraph, ShortestPathTree, search

__all__ = ["ShareSystem", "ShareSide", "ShareChain", "compile_share_system", "share_access",
           "share_egress", "share_trip", "factor_key_of", "RENT_S", "RETURN_S",
           "MAX_SHARE_WALK_M", "MAX_SHARE_RIDE_M", "MAX_SHARE_ACCESS_RIDE_M", "STATION_STOP_M",
           "MAX_PICKUPS", "MAX_RETURNS", "RENT_NOTE", "RIDE_NOTE", "RETURN_NOTE", "SHARE_MODE"]

#: Seconds to find, scan and unlock a bike (an assumption: no published figure).
RENT_S = 60
#: Seconds to dock or lock the bike and end the ride (an assumption).
RETURN_S = 60
#: Longest walk to a bike, and from where it is returned (metres, snap included).
MAX_SHARE_WALK_M = 500.0
#: Longest shared-bike ride door to door (``bikeshare``; metres, links included).
MAX_SHARE_RIDE_M = 8000.0
#: Longest shared-bike ride to or from transit (``bikeshare+transit``): about 16 min at the
#: default bike speed; each search from a bike is bounded by it, so it sets the query's cost.
MAX_SHARE_ACCESS_RIDE_M = 4000.0
#: Longest walk between a station (or a free vehicle) and a transit stop.
STATION_STOP_M = 400.0
#: Bikes near the origin tried per query (nearest on foot first), and return points near the
#: destination; each costs one bounded Dijkstra on the bike layer.
MAX_PICKUPS = 4
MAX_RETURNS = 4
#: ``Leg.note`` of the three legs of a shared ride; all three have mode :data:`SHARE_MODE`.
RENT_NOTE, RIDE_NOTE, RETURN_NOTE = "rent", "ride", "return"
SHARE_MODE = "bikeshare"
_ELECTRIC = ("electric_assist", "electric")
_SCOOTERS = ("scooter", "scooter_standing", "scooter_seated")
#: factor keys of vehicles ridden at the e-bike speed (``Query.ebike_speed_mps``)
_ELECTRIC_KEYS = ("ebike", "escooter")


def factor_key_of(form_factor: str | None, propulsion_type: str | None) -> str | None:
    """The factor key of a GBFS vehicle type (None: not a bike or scooter, not offered).

    ``bicycle``/``cargo_bicycle`` ridden by ``human`` -> ``bikeshare``; with electric assist ->
    ``ebike``; a scooter -> ``escooter``; no type given -> ``bikeshare``.
    """
    if form_factor is None:
        return SHARE_MODE
    if form_factor in ("bicycle", "cargo_bicycle"):
        return "ebike" if propulsion_type in _ELECTRIC else SHARE_MODE
    if form_factor in _SCOOTERS:
        return "escooter"
    return None


@dataclass(frozen=True, eq=False)
class _Points:
    """Stations or vehicles with their street nodes (walk and bike layers)."""

    ids: np.ndarray          # str station_id or vehicle_id
    names: np.ndarray        # str
    lat: np.ndarray
    lon: np.ndarray
    walk_node: np.ndarray    # int32
    walk_link_m: np.ndarray
    bike_node: np.ndarray
    bike_link_m: np.ndarray
    # transit stops within STATION_STOP_M on foot: pairs (point, stop, metres)
    pair_point: np.ndarray
    pair_stop: np.ndarray
    pair_m: np.ndarray


@dataclass(frozen=True, eq=False)
class ShareSystem:
    """A GBFS snapshot compiled onto a planner's layers (built once per snapshot)."""

    feed: GbfsFeed
    live: bool
    pickups: _Points
    pickup_docked: np.ndarray     # bool: rented at a station (returned at a station)
    pickup_station: np.ndarray    # str station_id ("" for a free vehicle)
    pickup_vehicle: np.ndarray    # str vehicle_id ("" at a station)
    pickup_factor: np.ndarray     # str factor key
    pickup_type: np.ndarray       # str vehicle_type_id ("" unknown)
    returns: _Points              # stations with a free dock
    stop_bike_node: np.ndarray    # int32 per transit stop (-1 none)
    stop_bike_link_m: np.ndarray
    #: per vehicle type id: bool per stop, True where a free ride may end
    stop_end_allowed: dict[str, np.ndarray]
    skipped: dict[str, int] = field(default_factory=dict)  # factor key -> vehicles not offered
    extra_notices: tuple[str, ...] = ()  # e.g. a live feed fell back to its last good snapshot

    def notices(self) -> tuple[str, ...]:
        """What an answer must say about this snapshot (assumed availability, skipped types)."""
        out = list(self.extra_notices)
        if not self.live:
            when = f"{self.feed.last_updated:%Y-%m-%d %H:%M}"
            out.append(CodedText(f"shared-bike availability from a snapshot of {when} UTC, "
                                 f"assumed at the query time", "bikeshare_snapshot", when=when))
        for key, count in sorted(self.skipped.items()):
            out.append(CodedText(f"{count} shared {key} vehicle(s) not offered: the factor "
                                 f"table has no '{key}' factor", "bikeshare_skipped",
                                 count=count, key=key))
        return tuple(out)

    def end_allowed(self, vehicle_type: str, lat: float, lon: float) -> bool:
        """Whether a free ride of ``vehicle_type`` may end at (lat, lon) (geofencing)."""
        if not self.feed.zones and not self.feed.global_rules:
            return True
        return _end_allowed(self.feed, vehicle_type, np.array([lon]), np.array([lat]))[0]


def compile_share_system(feed: GbfsFeed, *, walk: LayerGraph, bike: LayerGraph,
                         snappers: dict[str, Snapper], timetable: Timetable | None,
                         factor_keys: set[str] | frozenset[str], live: bool,
                         extra_notices: tuple[str, ...] = ()) -> ShareSystem:
    """Compile ``feed`` for queries; ``factor_keys`` are the keys of the network's table."""
    types = {t.vehicle_type_id: factor_key_of(t.form_factor, t.propulsion_type)
             for t in feed.vehicle_types}
    rows: list[tuple] = []  # (id, name, lat, lon, docked, station, vehicle, key, type)
    skipped: dict[str, int] = {}
    for s in feed.stations:
        if s.is_renting and (s.bikes_available is None or s.bikes_available > 0):
            rows.append((s.station_id, s.name, s.lat, s.lon, True, s.station_id, "",
                         SHARE_MODE, ""))
    for v in feed.vehicles:
        if v.lat is None or v.lon is None or v.is_reserved or v.is_disabled:
            continue  # a vehicle at a station is counted by the station's status
        key = types.get(v.vehicle_type_id or "", SHARE_MODE) if feed.vehicle_types else SHARE_MODE
        if key is None:
            continue
        if key not in factor_keys:
            skipped[key] = skipped.get(key, 0) + 1
            continue
        rows.append((v.vehicle_id, v.vehicle_id, v.lat, v.lon, False, "", v.vehicle_id, key,
                     v.vehicle_type_id or ""))
    docks = [s for s in feed.stations
             if s.is_returning and (s.docks_available is None or s.docks_available > 0)]
    pickups = _points([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                      [r[3] for r in rows], walk=walk, bike=bike, snappers=snappers,
                      timetable=timetable, reverse=True)
    returns = _points([s.station_id for s in docks], [s.name for s in docks],
                      [s.lat for s in docks], [s.lon for s in docks], walk=walk, bike=bike,
                      snappers=snappers, timetable=timetable, reverse=False)
    stop_lat = np.zeros(0) if timetable is None else timetable.stop_lat.astype(float)
    stop_lon = np.zeros(0) if timetable is None else timetable.stop_lon.astype(float)
    stop_node, stop_link = _nodes(snappers["bike"], stop_lat, stop_lon)
    end_allowed = {vtype: _end_allowed(feed, vtype, stop_lon, stop_lat)
                   for vtype in sorted({r[8] for r in rows if not r[4]})}
    return ShareSystem(feed=feed, live=live, pickups=pickups,
                       pickup_docked=np.array([r[4] for r in rows], bool),
                       pickup_station=np.array([r[5] for r in rows], dtype=object),
                       pickup_vehicle=np.array([r[6] for r in rows], dtype=object),
                       pickup_factor=np.array([r[7] for r in rows], dtype=object),
                       pickup_type=np.array([r[8] for r in rows], dtype=object),
                       returns=returns, stop_bike_node=stop_node, stop_bike_link_m=stop_link,
                       stop_end_allowed=end_allowed, skipped=skipped,
                       extra_notices=tuple(extra_notices))


def _points(ids, names, lat, lon, *, walk: LayerGraph, bike: LayerGraph, snappers,
            timetable: Timetable | None, reverse: bool) -> _Points:
    """Points snapped on both layers, with the stops within :data:`STATION_STOP_M` on foot
    (walking from the stop to the point with ``reverse``, else from the point to the stop)."""
    lat_a, lon_a = np.asarray(lat, float), np.asarray(lon, float)
    walk_node, walk_link = _nodes(snappers["walk"], lat_a, lon_a)
    bike_node, bike_link = _nodes(snappers["bike"], lat_a, lon_a)
    pp: list[np.ndarray] = []
    ps: list[np.ndarray] = []
    pm: list[np.ndarray] = []
    if timetable is not None:
        stop_node = timetable.stop_walk_node
        linked = np.nonzero(stop_node >= 0)[0]
        for i in range(len(ids)):
            if walk_node[i] < 0:
                continue
            tree = search(walk, int(walk_node[i]), limit=STATION_STOP_M, reverse=reverse)
            metres = (tree.dist[stop_node[linked]] + timetable.stop_link_distance_m[linked]
                      + walk_link[i])
            near = np.isfinite(metres) & (metres <= STATION_STOP_M)
            pp.append(np.full(int(near.sum()), i, np.int32))
            ps.append(linked[near].astype(np.int32))
            pm.append(metres[near].astype(np.float64))

    def cat(parts: list[np.ndarray], dtype) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    return _Points(ids=np.array(ids, dtype=object), names=np.array(names, dtype=object),
                   lat=lat_a, lon=lon_a, walk_node=walk_node, walk_link_m=walk_link,
                   bike_node=bike_node, bike_link_m=bike_link, pair_point=cat(pp, np.int32),
                   pair_stop=cat(ps, np.int32), pair_m=cat(pm, np.float64))


def _rule_for(rules: tuple[GbfsZoneRule, ...], vehicle_type: str) -> GbfsZoneRule | None:
    for rule in rules:
        if rule.vehicle_type_ids is None or vehicle_type in rule.vehicle_type_ids:
            return rule
    return None


def _end_allowed(feed: GbfsFeed, vehicle_type: str, lon: np.ndarray,
                 lat: np.ndarray) -> np.ndarray:
    """True where a free ride of ``vehicle_type`` may end: the first zone containing the point
    with a rule for the type decides, else the global rules, else allowed (GBFS 2.3/3.0)."""
    glob = _rule_for(feed.global_rules, vehicle_type)
    allowed = np.full(len(lon), glob is None or (glob.ride_end_allowed
                                                 and not glob.station_parking))
    decided = np.zeros(len(lon), bool)
    for zone in feed.zones:
        rule = _rule_for(zone.rules, vehicle_type)
        if rule is None:
            continue
        shape = shapely.MultiPolygon([shapely.Polygon(rings[0], rings[1:])
                                      for rings in zone.polygons])
        inside = shapely.contains_xy(shape, lon, lat) & ~decided
        allowed[inside] = rule.ride_end_allowed and not rule.station_parking
        decided |= inside
    return allowed


# -- one query --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShareChain:
    """One shared ride: walk to the bike, rent, ride, return, walk on (metres of each part)."""

    pickup: int              # index into ShareSystem.pickups
    dropoff: int             # index into ShareSystem.returns, -1: a free vehicle left at the end
    walk_in_m: float
    ride_m: float
    walk_out_m: float
    speed_mps: float

    def seconds(self, walk_speed_mps: float) -> float:
        """Door to door: walks, unlocking, riding and returning."""
        return ((self.walk_in_m + self.walk_out_m) / walk_speed_mps + RENT_S
                + self.ride_m / self.speed_mps + RETURN_S)


class _Chains:
    """The chosen chain per stop, as columns (a chain object is made only for a leg)."""

    _COLUMNS = (("pickup", np.int64), ("dropoff", np.int64), ("walk_in_m", float),
                ("ride_m", float), ("walk_out_m", float), ("speed_mps", float))

    def __init__(self, n_stops: int) -> None:
        self.best = np.full(n_stops, np.inf)
        self.columns = {name: np.zeros(n_stops, dtype) for name, dtype in self._COLUMNS}

    def __getitem__(self, stop: int) -> ShareChain:
        if not np.isfinite(self.best[stop]):
            raise KeyError(stop)
        c = self.columns
        return ShareChain(int(c["pickup"][stop]), int(c["dropoff"][stop]),
                          float(c["walk_in_m"][stop]), float(c["ride_m"][stop]),
                          float(c["walk_out_m"][stop]), float(c["speed_mps"][stop]))

    def keep_best(self, stops: np.ndarray, seconds: np.ndarray, ok, **values) -> None:
        """Per stop, keep the quickest of ``seconds`` (where ``ok``) and its chain's
        ``values`` (arrays aligned with ``stops``, or scalars)."""
        ok = np.asarray(ok, bool) & np.isfinite(seconds)
        idx = np.nonzero(ok)[0]
        if not len(idx):
            return
        order = idx[np.lexsort((seconds[idx], stops[idx]))]
        first = np.ones(len(order), bool)
        first[1:] = stops[order][1:] != stops[order][:-1]
        k = order[first]
        at = stops[k]
        better = seconds[k] < self.best[at]
        k, at = k[better], at[better]
        self.best[at] = seconds[k]
        for name, value in values.items():
            self.columns[name][at] = np.broadcast_to(value, stops.shape)[k]


@dataclass(frozen=True, eq=False)
class ShareSide:
    """Shared-bike chains to (access) or from (egress) each transit stop of one query."""

    seconds: np.ndarray      # int32 per stop, -1 none
    chains: _Chains
    trees: dict[int, ShortestPathTree]   # bike trees by pickup (access) / dropoff (egress)
    walk_m: dict[int, float] = field(default_factory=dict)  # pickup (dropoff) -> metres on foot

    def faster_than(self, stop: int, walk_s: int) -> bool:
        """True if the shared bike reaches (leaves) ``stop`` sooner than walking ``walk_s``."""
        share = int(self.seconds[stop])
        return share >= 0 and (walk_s < 0 or share < walk_s)


def _speed(system: ShareSystem, p: int, query: Query) -> float:
    return query.ebike_speed_mps if system.pickup_factor[p] in _ELECTRIC_KEYS \
        else query.bike_speed_mps


def _near(tree: ShortestPathTree, points: _Points, snap_m: float, limit_m: float) -> np.ndarray:
    """(index, metres) of points within ``limit_m`` on foot of the tree's end, nearest first."""
    ok = points.walk_node >= 0
    metres = np.full(len(points.ids), np.inf)
    metres[ok] = tree.dist[points.walk_node[ok]] + points.walk_link_m[ok] + snap_m
    idx = np.nonzero(metres <= limit_m)[0]
    idx = idx[np.argsort(metres[idx], kind="stable")]
    return np.column_stack([idx, metres[idx]]) if len(idx) else np.zeros((0, 2))


def share_access(system: ShareSystem, *, bike: LayerGraph, origin_tree: ShortestPathTree,
                 origin_snap_m: float, query: Query, n_stops: int,
                 search_m: float = MAX_SHARE_ACCESS_RIDE_M) -> ShareSide:
    """The quickest shared-bike chain from the origin to each stop (rides of at most
    :data:`MAX_SHARE_ACCESS_RIDE_M` from the :data:`MAX_PICKUPS` bikes nearest on foot; the
    trees reach ``search_m``, longer for a door-to-door ride)."""
    chains = _Chains(n_stops)
    trees: dict[int, ShortestPathTree] = {}
    walked: dict[int, float] = {}
    ws = query.walk_speed_mps
    limit = min(MAX_SHARE_WALK_M, query.max_walk_m)
    for p_f, walk_m in _near(origin_tree, system.pickups, origin_snap_m, limit)[:MAX_PICKUPS]:
        p = int(p_f)
        if system.pickups.bike_node[p] < 0:
            continue
        walked[p] = float(walk_m)
        tree = trees[p] = search(bike, int(system.pickups.bike_node[p]), limit=search_m)
        speed = _speed(system, p, query)
        head_s = walk_m / ws + RENT_S + RETURN_S
        link = system.pickups.bike_link_m[p]
        if system.pickup_docked[p]:
            r = system.returns
            ride = np.full(len(r.ids), np.inf)
            ok = r.bike_node >= 0
            ride[ok] = tree.dist[r.bike_node[ok]] + r.bike_link_m[ok] + link
            ride_pair = ride[r.pair_point]
            total = head_s + ride_pair / speed + r.pair_m / ws
            chains.keep_best(r.pair_stop, total, ride_pair <= MAX_SHARE_ACCESS_RIDE_M, pickup=p,
                             dropoff=r.pair_point, walk_in_m=walk_m, ride_m=ride_pair,
                             walk_out_m=r.pair_m, speed_mps=speed)
        else:
            stops = np.nonzero(system.stop_bike_node >= 0)[0]
            ride = tree.dist[system.stop_bike_node[stops]] + system.stop_bike_link_m[stops] + link
            allowed = system.stop_end_allowed.get(str(system.pickup_type[p]))
            ok = (ride <= MAX_SHARE_ACCESS_RIDE_M) & (True if allowed is None else allowed[stops])
            chains.keep_best(stops, head_s + ride / speed, ok, pickup=p, dropoff=-1,
                             walk_in_m=walk_m, ride_m=ride, walk_out_m=0.0, speed_mps=speed)
    return ShareSide(seconds=_whole_seconds(chains.best), chains=chains, trees=trees,
                     walk_m=walked)


def share_egress(system: ShareSystem, *, bike: LayerGraph, destination_tree: ShortestPathTree,
                 destination_snap_m: float, destination_node: int, destination_link_m: float,
                 query: Query, n_stops: int,
                 destination: tuple[float, float]) -> ShareSide:
    """The quickest shared-bike chain from each stop to the destination: a bike rented a walk
    from the stop, returned at one of the :data:`MAX_RETURNS` stations nearest the destination
    on foot, or (a free vehicle) at the destination where its zones allow."""
    ws = query.walk_speed_mps
    r = system.returns
    p = system.pickups
    n_p = len(p.ids)
    after = np.full(n_p, np.inf)            # seconds from renting at p to the destination
    choice_r = np.full(n_p, -2, np.int64)
    choice_ride = np.zeros(n_p)
    choice_walk = np.zeros(n_p)
    trees: dict[int, ShortestPathTree] = {}
    speed = np.where(np.isin(system.pickup_factor, _ELECTRIC_KEYS), query.ebike_speed_mps,
                     query.bike_speed_mps)
    ok_p = p.bike_node >= 0
    limit = min(MAX_SHARE_WALK_M, query.max_walk_m)
    for r_f, walk_m in _near(destination_tree, r, destination_snap_m, limit)[:MAX_RETURNS]:
        k = int(r_f)
        if r.bike_node[k] < 0:
            continue
        tree = trees[k] = search(bike, int(r.bike_node[k]), limit=MAX_SHARE_ACCESS_RIDE_M, reverse=True)
        ride = np.full(n_p, np.inf)
        ride[ok_p] = tree.dist[p.bike_node[ok_p]] + p.bike_link_m[ok_p] + r.bike_link_m[k]
        ride[~system.pickup_docked | (ride > MAX_SHARE_ACCESS_RIDE_M)] = np.inf
        total = RENT_S + ride / speed + RETURN_S + walk_m / ws
        better = total < after
        after[better], choice_r[better] = total[better], k
        choice_ride[better], choice_walk[better] = ride[better], walk_m
    free = ~system.pickup_docked & ok_p
    if free.any() and destination_node >= 0:
        tree = trees[-1] = search(bike, destination_node, limit=MAX_SHARE_ACCESS_RIDE_M, reverse=True)
        ride = np.full(n_p, np.inf)
        ride[free] = tree.dist[p.bike_node[free]] + p.bike_link_m[free] + destination_link_m
        allowed = np.zeros(n_p, bool)
        for vtype in np.unique(system.pickup_type[free]):  # geofencing: one test per type
            if system.end_allowed(str(vtype), *destination):
                allowed |= free & (system.pickup_type == vtype)
        ride[~allowed | (ride > MAX_SHARE_ACCESS_RIDE_M)] = np.inf
        total = RENT_S + ride / speed + RETURN_S
        better = total < after
        after[better], choice_r[better] = total[better], -1
        choice_ride[better], choice_walk[better] = ride[better], 0.0
    chains = _Chains(n_stops)
    pp = p.pair_point
    chains.keep_best(p.pair_stop, p.pair_m / ws + after[pp], True, pickup=pp,
                     dropoff=choice_r[pp], walk_in_m=p.pair_m, ride_m=choice_ride[pp],
                     walk_out_m=choice_walk[pp], speed_mps=speed[pp])
    return ShareSide(seconds=_whole_seconds(chains.best), chains=chains, trees=trees)


def share_trip(system: ShareSystem, access: ShareSide, *, destination_tree: ShortestPathTree,
               destination_snap_m: float, destination_node: int, destination_link_m: float,
               query: Query, destination: tuple[float, float]) -> ShareChain | None:
    """The quickest door-to-door shared ride among the pickups ``access`` searched from."""
    ws = query.walk_speed_mps
    r = system.returns
    limit = min(MAX_SHARE_WALK_M, query.max_walk_m)
    near_r = _near(destination_tree, r, destination_snap_m, limit)[:MAX_RETURNS]
    best: ShareChain | None = None
    for p, tree in access.trees.items():
        walk_in = access.walk_m[p]
        speed = _speed(system, p, query)
        link = float(system.pickups.bike_link_m[p])
        options = []
        if system.pickup_docked[p]:
            for k_f, walk_out in near_r:
                k = int(k_f)
                if r.bike_node[k] >= 0:
                    ride = float(tree.dist[r.bike_node[k]]) + link + float(r.bike_link_m[k])
                    options.append(ShareChain(p, k, walk_in, ride, float(walk_out), speed))
        elif destination_node >= 0 and system.end_allowed(str(system.pickup_type[p]),
                                                          *destination):
            ride = float(tree.dist[destination_node]) + link + destination_link_m
            options.append(ShareChain(p, -1, walk_in, ride, 0.0, speed))
        for chain in options:
            if chain.ride_m <= MAX_SHARE_RIDE_M and (
                    best is None or chain.seconds(ws) < best.seconds(ws)):
                best = chain
    return best


def _whole_seconds(best: np.ndarray) -> np.ndarray:
    out = np.full(len(best), -1, np.int32)
    ok = np.isfinite(best)
    out[ok] = np.ceil(best[ok]).astype(np.int32)
    return out


def _nodes(snapper: Snapper, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest node (int32, -1 on a layer without streets) and metres to it, of each point."""
    node, link = snapper.nearest_many(lat, lon)
    return node.astype(np.int32), np.asarray(link, np.float64)
