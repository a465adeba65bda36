"""Park-and-ride, EV-to-pile and drop-off access to transit: a car leg to a site near a station.

``car_petrol+transit`` (any fuel of ``graphs.modes.CAR_MODES`` but the taxi) drives from the
origin to a car parking near a rail or metro station, parks (:data:`PARK_CAR_S`) and walks to
the platform; ``car_bev+transit`` drives to a public charging pile near a station instead, plugs
in (:data:`PLUG_S`) and rides on while the car charges (the phase-two pile scenario of
``planner.points``: the leg earns points because it ends at a public pile); ``taxi+transit``
is dropped off at the station (kiss-and-ride, :data:`DROP_OFF_S`), and so is any car with
``Query.drop_off`` (a friend or family member drives the traveller to the station).

Which sites serve a station (the rule, since OSM rarely says ``park_ride=yes``):

- a parking tagged ``park_ride`` (not ``no``) within :data:`PARK_RIDE_TAGGED_RADIUS_M` of a stop
  of a rail or metro pattern (``planner.access.PARKING_MODES``);
- any other public car parking (``amenity=parking`` or ``parking_entrance``, not
  ``park_ride=no``) within :data:`PARK_RIDE_RADIUS_M` of such a stop;
- a pile of the planner's pile list (the artifact's ``amenity=charging_station`` or an operator
  list) within :data:`PARK_RIDE_RADIUS_M` of such a stop;
- a drop-off is at the stop itself (its nearest car-layer node).

Search: the McRAPTOR kernel takes access as seconds per stop and gives access no CO2e, so a
car access runs as its own pass (car seconds at the served stops, walking egress) and the legs
then carry the car's CO2e into the itinerary front (``planner.pareto``), like every other
option. Within one pass a journey from a site reached by a longer drive that arrives no later
hides one from a site reached by a shorter drive (less CO2e); so up to :data:`MAX_PASSES`
passes run, each without the first stops of the previous pass's journeys and without every
stop whose drive is no shorter than the longest drive of those journeys (their journeys could
only be hidden by ones that also drive less). The front is exact when the passes end before
:data:`MAX_PASSES` (no stop left); otherwise journeys a further pass would find are left out.

Drop-off CO2e: tanlu counts the taxi leg at the taxi factor of the factor table, once (the
passenger-km the traveller asked for); a private car dropping the traveller off likewise, at
its fuel's factor: the driver's way back is the driver's own trip, not the traveller's
passenger-km (no published methodology we have read counts it; docs/planner.md).
OpenTripPlanner's Digitransit emission module
(``DigitransitEmissionsService.getEmissionsForItinerary``) counts only the transit legs of an
itinerary that has any, so its drop-off leg emits nothing; tanlu's factor tables leave taxi
empty running out (``scope = "... empty running excluded"`` in ``graphs/data/factors``), and so
does this leg.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from graphs.geodesy import haversine_m
from graphs.modes import CAR_MODES
from graphs.network import PARKING_KINDS, Network, Parkings, Timetable

from .access import PARKING_MODES
from .itineraries import CAR_CONNECTOR_SPEED_MPS, street_geometry, street_leg, walk_leg
from .model import Leg, Place, Query
from .piles import Pile, PileEvidence, PileList
from .snap import Snapper
from .street_search import LayerGraph, ShortestPathTree, path_to, route_within, search
from .transit import TransitRouter, stop_walk_distances

__all__ = ["ParkRide", "Sites", "CarAccess", "charge_evidence", "park_sites", "pile_sites",
           "drop_off_sites", "car_access", "station_stops", "site_kind_of", "PARK_RIDE_RADIUS_M",
           "PARK_RIDE_TAGGED_RADIUS_M", "PARK_CAR_S", "PLUG_S", "DROP_OFF_S", "MAX_CAR_ACCESS_S",
           "MAX_PASSES", "PARK", "CHARGE", "DROP_OFF"]

#: An untagged public car parking this close to a rail/metro stop serves it (metres, crow-fly).
PARK_RIDE_RADIUS_M = 500.0
#: A parking tagged ``park_ride`` this close to a rail/metro stop serves it.
PARK_RIDE_TAGGED_RADIUS_M = 1000.0
#: Seconds to find a space, park and leave the car park.
PARK_CAR_S = 300
#: Seconds to plug an EV in at the pile.
PLUG_S = 180
#: Seconds to stop and get out of the car at the station.
DROP_OFF_S = 60
#: Longest drive to a site (seconds on the car layer).
MAX_CAR_ACCESS_S = 45 * 60
#: Kernel passes per query (see the module docstring).
MAX_PASSES = 3
#: ``Leg.note`` of the car leg: where the car stays.
PARK, CHARGE, DROP_OFF = "park", "charge", "drop-off"
_WALK_SEARCH_FACTOR = 1.6  # a site's walk to its stops is searched within this x the radius
_CAR_PARKING_KINDS = (PARKING_KINDS.index("parking"), PARKING_KINDS.index("parking_entrance"))


@dataclass(frozen=True, eq=False)
class Sites:
    """Where a car may be left near stations, and the walk from each site to the stops it serves.

    Built once per network and kind. ``pair_*`` rows pair a site with a stop it serves.
    """

    kind: str                # PARK, CHARGE or DROP_OFF
    ref: np.ndarray          # str (n,) "osm:node/123", "osm:way/45", a pile id, or a stop id
    name: np.ndarray         # str (n,)
    lat: np.ndarray          # float64 (n,)
    lon: np.ndarray          # float64 (n,)
    car_node: np.ndarray     # int32 (n,) nearest car-layer node
    car_link_m: np.ndarray   # float64 (n,) metres between the site and that node
    walk_node: np.ndarray    # int32 (n,) nearest walk-layer node
    pair_site: np.ndarray    # int32 (m,)
    pair_stop: np.ndarray    # int32 (m,)
    pair_walk_m: np.ndarray  # float64 (m,) metres walked from the site to the stop

    def __len__(self) -> int:
        return int(self.ref.shape[0])


def site_kind_of(mode: str, *, drop_off: bool = False) -> str:
    """The site a car of ``mode`` is left at: a pile for ``car_bev``, none for a taxi or a car
    that only drops the traveller off (``Query.drop_off``)."""
    if drop_off or mode == "taxi":
        return DROP_OFF
    return CHARGE if mode == "car_bev" else PARK


def station_stops(timetable: Timetable) -> np.ndarray:
    """Stops of rail and metro patterns (sorted int32)."""
    tt = timetable
    lengths = np.diff(tt.pattern_stop_indptr)
    keep = np.repeat(np.isin(tt.route_mode[tt.pattern_route], PARKING_MODES), lengths)
    return np.unique(tt.pattern_stops[keep]).astype(np.int32)


def park_sites(parkings: Parkings, timetable: Timetable, car: Snapper, walk: Snapper,
               walk_graph: LayerGraph) -> Sites:
    """Car parkings serving rail/metro stops under the module's rule."""
    car_kind = np.isin(parkings.kind, _CAR_PARKING_KINDS) & (parkings.park_ride != 0)
    radius = np.where(parkings.park_ride == 1, PARK_RIDE_TAGGED_RADIUS_M, PARK_RIDE_RADIUS_M)
    ids = [f"osm:node/{i}" if i >= 0 else f"osm:way/{-i}" for i in parkings.osmid.tolist()]
    return _sites(PARK, np.array(ids, dtype=str)[car_kind], parkings.name[car_kind].astype(str),
                  parkings.lat[car_kind], parkings.lon[car_kind], radius[car_kind],
                  timetable, car, walk, walk_graph)


def pile_sites(piles: PileList, timetable: Timetable, car: Snapper, walk: Snapper,
               walk_graph: LayerGraph) -> Sites:
    """Public charging piles serving rail/metro stops."""
    return _sites(CHARGE, piles.ids.astype(str), piles.names.astype(str), piles.lat, piles.lon,
                  np.full(len(piles), PARK_RIDE_RADIUS_M), timetable, car, walk, walk_graph)


def drop_off_sites(timetable: Timetable, car: Snapper) -> Sites:
    """Every rail/metro stop as its own drop-off site (walk: from the kerb to the stop)."""
    tt = timetable
    stops = station_stops(tt)
    lat, lon = tt.stop_lat[stops].astype(np.float64), tt.stop_lon[stops].astype(np.float64)
    node, link = _nodes(car, lat, lon)
    ok = node >= 0
    n = int(ok.sum())
    return Sites(kind=DROP_OFF, ref=tt.stop_id[stops][ok].astype(str),
                 name=tt.stop_name[stops][ok].astype(str), lat=lat[ok], lon=lon[ok],
                 car_node=node[ok], car_link_m=link[ok], walk_node=np.full(n, -1, np.int32),
                 pair_site=np.arange(n, dtype=np.int32), pair_stop=stops[ok],
                 pair_walk_m=np.zeros(n))


def _sites(kind: str, ref, name, lat, lon, radius, timetable: Timetable,  # noqa: PLR0913, PLR0917 - one argument per site column and per layer it is snapped to
           car: Snapper, walk: Snapper, walk_graph: LayerGraph) -> Sites:
    """Sites within ``radius`` of a station stop, with their walks on the walk layer."""
    tt = timetable
    stops = station_stops(tt)
    lat, lon = np.asarray(lat, np.float64), np.asarray(lon, np.float64)
    keep: list[int] = []
    pairs: list[tuple[int, int, float]] = []
    car_node, car_link = _nodes(car, lat, lon)
    walk_node, walk_link = _nodes(walk, lat, lon)
    for i in range(len(lat)):
        if car_node[i] < 0 or walk_node[i] < 0 or len(stops) == 0:
            continue
        near = stops[haversine_m(lat[i], lon[i], tt.stop_lat[stops].astype(np.float64),
                                 tt.stop_lon[stops].astype(np.float64)) <= radius[i]]
        near = near[tt.stop_walk_node[near] >= 0]
        if len(near) == 0:
            continue
        tree = search(walk_graph, int(walk_node[i]), limit=_WALK_SEARCH_FACTOR * radius[i])
        walked = (walk_link[i] + tree.dist[tt.stop_walk_node[near]]
                  + tt.stop_link_distance_m[near].astype(np.float64))
        ok = np.isfinite(walked)
        if not ok.any():
            continue
        site = len(keep)
        keep.append(i)
        pairs += [(site, int(s), float(m)) for s, m in zip(near[ok], walked[ok], strict=True)]
    k = np.array(keep, dtype=np.int64)
    columns = list(zip(*pairs, strict=True)) if pairs else [(), (), ()]
    return Sites(kind=kind, ref=np.asarray(ref, dtype=str)[k], name=np.asarray(name, dtype=str)[k],
                 lat=lat[k], lon=lon[k], car_node=car_node[k], car_link_m=car_link[k],
                 walk_node=walk_node[k], pair_site=np.array(columns[0], np.int32),
                 pair_stop=np.array(columns[1], np.int32),
                 pair_walk_m=np.array(columns[2], np.float64))


@dataclass(frozen=True, eq=False)
class CarAccess:
    """One query's drives from the origin to sites, as access seconds per stop for the kernel.

    A ``planner.access.StreetAccess`` (``seconds``, ``faster_than``, ``leg``), so the transit
    router runs it as the access of a pass; :meth:`split` then adds the walk from the site to
    the platform after the drive the router's legs start with.
    """

    mode: str
    sites: Sites
    graph: LayerGraph
    walk: LayerGraph
    tree: ShortestPathTree
    snap_m: float
    walk_speed_mps: float
    g_per_pkm: float
    stop_walk_node: np.ndarray  # int32 (n_stops,) the timetable's walk node of each stop
    walk_g_per_pkm: float
    seconds: np.ndarray      # int32 (n_stops,) drive + stop + walk seconds, -1 none
    site_of: np.ndarray      # int32 (n_stops,) the site used for each stop, -1 none
    drive_s: np.ndarray      # float64 (n_sites,) seconds driven to each site (inf: none)
    drive_m: np.ndarray      # float64 (n_sites,) metres driven to each site (inf: none)

    @property
    def stop_s(self) -> int:
        """Seconds between the car's arrival at the site and walking off."""
        return {PARK: PARK_CAR_S, CHARGE: PLUG_S, DROP_OFF: DROP_OFF_S}[self.sites.kind]

    def next_pass(self, used) -> CarAccess:
        """The access of the next pass: the ``used`` first stops closed, and every stop whose
        drive is no shorter than the longest drive to them (its journeys could only be hidden
        by journeys that also drive less, which the pass already found)."""
        used = np.asarray(sorted(used), dtype=np.int64)
        seconds = self.seconds.copy()
        if len(used):
            longest = float(self.drive_m[self.site_of[used]].max())
            seconds[used] = -1
            seconds[(seconds >= 0) & (self.drive_m[np.maximum(self.site_of, 0)] >= longest)] = -1
        return replace(self, seconds=seconds)

    def faster_than(self, stop: int, walk_s: int) -> bool:
        """A car pass never has walking access: its journeys start with the drive."""
        return int(self.seconds[stop]) >= 0

    def leg(self, stop: int, *, origin: Place, stop_place: Place, board: datetime,
            g_per_pkm: float) -> Leg:
        """The drive to the site serving ``stop``, leaving ``seconds[stop]`` before ``board``;
        :meth:`split` adds the walk. ``g_per_pkm`` (the router's bike factor) is not used."""
        site = int(self.site_of[stop])
        path = path_to(self.graph, self.tree, int(self.sites.car_node[site]))
        departure = board - timedelta(seconds=int(self.seconds[stop]))
        leg = street_leg(self.mode, self.graph.layer, path,
                         origin=(origin.lat, origin.lon),
                         destination=(float(self.sites.lat[site]), float(self.sites.lon[site])),
                         connector_m=self.snap_m + float(self.sites.car_link_m[site]),
                         speed_mps=None, departure=departure, factor_key=self.mode,
                         g_per_pkm=self.g_per_pkm)
        name = str(self.sites.name[site]) or _UNNAMED[self.sites.kind]
        to_place = Place(name=name, lat=float(self.sites.lat[site]),
                         lon=float(self.sites.lon[site]),
                         stop_id=stop_place.stop_id if self.sites.kind == DROP_OFF else None,
                         ref=str(self.sites.ref[site]))
        return replace(leg, from_place=origin, to_place=to_place, note=self.sites.kind)

    def split(self, legs: list[Leg], stop: int) -> list[Leg]:
        """Insert the walk from the site to ``stop`` (the first ride's) after the drive."""
        drive, first_ride = legs[0], legs[1]
        if self.sites.kind == DROP_OFF:
            return legs
        site = int(self.site_of[stop])
        walk_m = float(self.sites.pair_walk_m[(self.sites.pair_site == site)
                                              & (self.sites.pair_stop == stop)][0])
        duration_s = float(np.ceil(walk_m / self.walk_speed_mps))
        a = (drive.to_place.lon, drive.to_place.lat)
        b = (first_ride.from_place.lon, first_ride.from_place.lat)
        path = route_within(self.walk, int(self.sites.walk_node[site]),
                            int(self.stop_walk_node[stop]), limit=2.0 * walk_m + 100.0)
        geometry = (a, b) if path is None else street_geometry(self.walk.layer, path.edges, a, b)
        walk = walk_leg(drive.to_place, first_ride.from_place, distance_m=walk_m,
                        duration_s=duration_s,
                        departure=first_ride.departure - timedelta(seconds=duration_s),
                        geometry=geometry, g_per_pkm=self.walk_g_per_pkm)
        return [drive, walk, *legs[1:]]


_UNNAMED = {PARK: "car park", CHARGE: "charging pile", DROP_OFF: "station"}


def car_access(mode: str, sites: Sites, graph: LayerGraph, walk: LayerGraph,  # noqa: PLR0913
               timetable: Timetable, *, origin_node: int, snap_m: float, walk_speed_mps: float,
               g_per_pkm: float, walk_g_per_pkm: float,
               max_s: float = MAX_CAR_ACCESS_S) -> CarAccess:
    """Bounded Dijkstra on the car layer (by duration) from the origin to the sites."""
    tree = search(graph, origin_node, limit=max_s)
    drive_s = (tree.dist[sites.car_node] + (snap_m + sites.car_link_m) / CAR_CONNECTOR_SPEED_MPS
               if len(sites) else np.zeros(0))
    stop_s = {PARK: PARK_CAR_S, CHARGE: PLUG_S, DROP_OFF: DROP_OFF_S}[sites.kind]
    total = np.ceil(drive_s[sites.pair_site] + stop_s
                    + sites.pair_walk_m / walk_speed_mps) if len(sites.pair_site) else np.zeros(0)
    drive_m = np.full(len(sites), np.inf)
    for site in np.flatnonzero(np.isfinite(drive_s)):  # the few sites reached
        drive_m[site] = (path_to(graph, tree, int(sites.car_node[site])).length_m + snap_m
                         + float(sites.car_link_m[site]))
    n_stops = timetable.n_stops
    seconds = np.full(n_stops, -1, np.int32)
    site_of = np.full(n_stops, -1, np.int32)
    for row in np.nonzero(np.isfinite(total))[0]:  # a few rows: the quickest site per stop
        stop = int(sites.pair_stop[row])
        if seconds[stop] < 0 or total[row] < seconds[stop]:
            seconds[stop] = int(total[row])
            site_of[stop] = int(sites.pair_site[row])
    return CarAccess(mode=mode, sites=sites, graph=graph, walk=walk, tree=tree, snap_m=snap_m,
                     walk_speed_mps=walk_speed_mps, g_per_pkm=g_per_pkm,
                     stop_walk_node=timetable.stop_walk_node, walk_g_per_pkm=walk_g_per_pkm,
                     seconds=seconds, site_of=site_of, drive_s=drive_s, drive_m=drive_m)


class ParkRide:
    """A network's car-access sites, built on first use, and the car-access passes of a query."""

    def __init__(self, network: Network, graphs: dict[str, LayerGraph],
                 snappers: dict[str, Snapper], piles: PileList) -> None:
        self.network = network
        self.graphs = graphs
        self.snappers = snappers
        self.piles = piles
        self._sites: dict[str, Sites] = {}
        self._lock = threading.Lock()  # web workers share one Planner across threads

    def sites(self, kind: str) -> Sites:
        """The sites of ``kind`` (PARK, CHARGE, DROP_OFF), built once."""
        with self._lock:
            if kind not in self._sites:
                tt = self.network.timetable
                assert tt is not None
                car, walk = self.snappers["car"], self.snappers["walk"]
                self._sites[kind] = (
                    park_sites(self.network.parkings, tt, car, walk, self.graphs["walk"])
                    if kind == PARK else
                    pile_sites(self.piles, tt, car, walk, self.graphs["walk"]) if kind == CHARGE
                    else drop_off_sites(tt, car))
            return self._sites[kind]

    def options(self, router: TransitRouter, query: Query, *, origin_car: tuple[int, float],
                destination_walk: tuple[int, float], within_s: float | None,
                g_per_pkm: dict[str, float]) -> list[list[Leg]]:
        """Itineraries of each car access mode of ``query`` (``car_petrol+transit`` ...).

        ``origin_car`` and ``destination_walk`` are (node, snap metres); ``g_per_pkm`` holds
        the factor of each car mode (shared by the query's passengers) and of walking.
        """
        tt = self.network.timetable
        if tt is None:
            return []
        walk = self.graphs["walk"]
        node, snap_m = destination_walk
        destination_tree = search(walk, node, reverse=True,
                                  limit=max(0.0, query.max_walk_m - snap_m))
        egress = stop_walk_distances(tt, destination_tree, snap_m=snap_m,
                                     max_walk_m=query.max_walk_m)
        no_walk = np.full(tt.n_stops, -1.0)
        origin_tree = search(walk, 0, limit=0.0)  # legs() needs a tree; the car leg replaces it
        out: list[list[Leg]] = []
        for mode in sorted(query.access_modes & set(CAR_MODES)):
            sites = self.sites(site_kind_of(mode, drop_off=query.drop_off))
            access = car_access(mode, sites, self.graphs["car"], walk,
                                tt, origin_node=origin_car[0], snap_m=origin_car[1],
                                walk_speed_mps=query.walk_speed_mps, g_per_pkm=g_per_pkm[mode],
                                walk_g_per_pkm=g_per_pkm["walk"])
            for _ in range(MAX_PASSES):
                if not (access.seconds >= 0).any():
                    break
                found = router.journeys(query, no_walk, egress, within_s=within_s, bike=access)
                for journey in found:
                    legs = router.legs(journey, query, origin_tree=origin_tree,
                                       destination_tree=destination_tree, origin_snap_m=0.0,
                                       destination_snap_m=snap_m,
                                       walk_g_per_pkm=g_per_pkm["walk"], bike=access)
                    out.append(access.split(legs, journey.first_stop))
                if not found:
                    break
                access = access.next_pass({j.first_stop for j in found})
        return out


def charge_evidence(legs: list[Leg], *, source: str = "") -> PileEvidence | None:
    """The pile a ``car_bev`` leg of an EV-to-pile itinerary ends at, as points evidence.

    ``end`` is ``"station"`` and ``distance_m`` the crow-fly metres from the pile to the stop
    of the first ride: the car charges while the traveller rides on.
    """
    for i, leg in enumerate(legs):
        if leg.mode == "car_bev" and leg.note == CHARGE and leg.to_place.ref is not None:
            ride = next((x for x in legs[i + 1:] if x.trip_id is not None), None)
            at = leg.to_place
            pile = Pile(id=str(at.ref), name=at.name, lat=at.lat, lon=at.lon, source=source)
            distance = (0.0 if ride is None else
                        float(haversine_m(at.lat, at.lon, ride.from_place.lat,
                                          ride.from_place.lon)))
            return PileEvidence(pile=pile, distance_m=distance, end="station")
    return None


def _nodes(snapper: Snapper, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest node (int32, -1 on a layer without streets) and metres to it, of each point."""
    node, link = snapper.nearest_many(lat, lon)
    return node.astype(np.int32), np.asarray(link, np.float64)
