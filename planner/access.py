"""Access to transit by own bike: ridden from the origin to a stop and parked there.

The kernel (:mod:`planner.raptor`) takes access as seconds per stop and does not count access
CO2e, so a bike access joins the walk access per stop: a stop reached sooner by bike than on
foot starts its journeys with the bike leg. Walking and cycling both emit nothing in the
factor tables tanlu ships, so taking the quicker of the two per stop keeps the Pareto front
(time x CO2e x transfers) exact; a factor table giving the bike a CO2e would make the bike leg
count in the itinerary's total, though not inside the search.

Where a bike may be parked: at any stop within :data:`BIKE_PARKING_RADIUS_M` of an OSM
``amenity=bicycle_parking`` of the artifact (``graphs.network.Parkings``; the leg's stop then
names it in ``Place.ref``), and, where the data has no such parking, under the documented rule
that **stations of rail and metro** (:data:`PARKING_MODES`: stops served by a pattern of those
modes) have parking and bus stops do not. Locking the bike takes :data:`PARK_S`. Egress by
bike (bike carried on board, ``bikes_allowed``) is not offered yet.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

import numpy as np

from graphs.geodesy import haversine_m, local_xy
from graphs.network import PARKING_KINDS, Parkings, Timetable

from .itineraries import street_geometry
from .model import Leg, Place
from .snap import Snapper
from .street_search import LayerGraph, ShortestPathTree, path_to, search

__all__ = ["StreetAccess", "StreetEgress", "ParkingStops", "BikeAccess", "parking_stops", "bike_access",
           "PARKING_MODES", "PARK_S", "MAX_BIKE_ACCESS_M", "PARK_NOTE", "BIKE_PARKING_RADIUS_M"]

#: Transit modes whose stops are assumed to have bike parking (no OSM parking in the artifact).
PARKING_MODES = ("metro", "rail")
#: Seconds to park and lock the bike at the stop, added to the ride.
PARK_S = 60
#: Longest bike ride to a stop (metres, snap and stop link included).
MAX_BIKE_ACCESS_M = 5000.0
#: ``Leg.note`` of a bike access leg: the bike is parked at the stop where the leg ends.
PARK_NOTE = "park"
#: An OSM bicycle parking this close to a stop (metres, crow-fly) gives the stop bike parking.
BIKE_PARKING_RADIUS_M = 150.0


class StreetAccess(Protocol):
    """What the transit router needs of an access other than walking (bike, car): seconds from
    the origin to each stop, whether a stop's access is taken instead of the walk, and its leg."""

    @property
    def seconds(self) -> np.ndarray:
        """int32 (n_stops,) seconds from the origin to each stop, -1 where out of reach."""

    def faster_than(self, stop: int, walk_s: int) -> bool: ...

    def leg(self, stop: int, *, origin: Place, stop_place: Place, board: datetime,
            g_per_pkm: float) -> Leg: ...


class StreetEgress(Protocol):
    """An egress other than walking (a bike carried on board, ``planner.bike_on_board``):
    seconds from each stop to the destination and the leg from a stop."""

    @property
    def seconds(self) -> np.ndarray:
        """int32 (n_stops,) seconds from each stop to the destination, -1 where out of reach."""

    def egress_leg(self, stop: int, *, stop_place: Place, destination: Place,
                   alight: datetime) -> Leg: ...


@dataclass(frozen=True, eq=False)
class ParkingStops:
    """Stops where a bike may be parked, with their bike-layer node (built once per network)."""

    stops: np.ndarray      # int32 stop indices
    node: np.ndarray       # int32 node of the bike layer nearest each stop (main component)
    link_m: np.ndarray     # float64 metres between the stop and that node
    #: str per stop: the OSM bicycle parking used ("osm:node/123"), "" under the rail/metro rule
    ref: np.ndarray | None = None


def parking_stops(timetable: Timetable, snapper: Snapper,
                  parkings: Parkings | None = None) -> ParkingStops:
    """Stops near an OSM bicycle parking, and the stops of rail and metro patterns, with their
    nearest bike-layer nodes."""
    tt = timetable
    pattern_mode = tt.route_mode[tt.pattern_route]
    lengths = np.diff(tt.pattern_stop_indptr)
    keep = np.repeat(np.isin(pattern_mode, PARKING_MODES), lengths)
    ref = dict.fromkeys(np.unique(tt.pattern_stops[keep]).tolist(), "")
    ref.update(_osm_bike_parking(tt, parkings))
    stops = np.array(sorted(ref), dtype=np.int32)
    if len(stops) == 0 or len(snapper.nodes) == 0:
        return ParkingStops(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0),
                            np.zeros(0, dtype=str))
    lat, lon = tt.stop_lat[stops].astype(float), tt.stop_lon[stops].astype(float)
    _, i = snapper.tree.query(local_xy(lat, lon, snapper.lat0_deg))
    node = snapper.nodes[np.asarray(i)].astype(np.int32)
    link = np.asarray(haversine_m(lat, lon, snapper.node_lat[node], snapper.node_lon[node]),
                      dtype=np.float64)
    return ParkingStops(stops=stops, node=node, link_m=link,
                        ref=np.array([ref[int(s)] for s in stops], dtype=str))


def _osm_bike_parking(tt: Timetable, parkings: Parkings | None) -> dict[int, str]:
    """Stop -> the nearest OSM bicycle parking within :data:`BIKE_PARKING_RADIUS_M`."""
    if parkings is None or tt.n_stops == 0:
        return {}
    out: dict[int, str] = {}
    stop_lat, stop_lon = tt.stop_lat.astype(np.float64), tt.stop_lon.astype(np.float64)
    best = np.full(tt.n_stops, np.inf)
    for i in np.nonzero(parkings.kind == PARKING_KINDS.index("bicycle_parking"))[0]:
        d = haversine_m(float(parkings.lat[i]), float(parkings.lon[i]), stop_lat, stop_lon)
        osmid = int(parkings.osmid[i])
        for stop in np.nonzero((d <= BIKE_PARKING_RADIUS_M) & (d < best))[0].tolist():
            best[stop] = d[stop]
            out[stop] = f"osm:node/{osmid}" if osmid >= 0 else f"osm:way/{-osmid}"
    return out


@dataclass(frozen=True, eq=False)
class BikeAccess:
    """One query's bike rides from the origin to parking stops."""

    graph: LayerGraph
    parking: ParkingStops
    tree: ShortestPathTree
    snap_m: float
    speed_mps: float
    seconds: np.ndarray    # int32 (n_stops,) ride + parking seconds to each stop, -1 none
    distance_m: np.ndarray  # float64 (n_stops,) metres ridden, -1 none

    def faster_than(self, stop: int, walk_s: int) -> bool:
        """True if the bike reaches ``stop`` (parked) sooner than ``walk_s`` (-1: no walk)."""
        bike = int(self.seconds[stop])
        return bike >= 0 and (walk_s < 0 or bike < walk_s)

    def leg(self, stop: int, *, origin: Place, stop_place: Place, board: datetime,
            g_per_pkm: float) -> Leg:
        """The bike leg from the origin to ``stop`` ending (bike parked) at ``board``."""
        k = int(np.searchsorted(self.parking.stops, stop))
        path = path_to(self.graph, self.tree, int(self.parking.node[k]))
        distance_m = float(self.distance_m[stop])
        geometry = street_geometry(self.graph.layer, path.edges, (origin.lon, origin.lat),
                                   (stop_place.lon, stop_place.lat))
        if self.parking.ref is not None and self.parking.ref[k]:
            stop_place = replace(stop_place, ref=str(self.parking.ref[k]))
        return Leg(mode="bike", from_place=origin, to_place=stop_place,
                   departure=board - timedelta(seconds=int(self.seconds[stop])), arrival=board,
                   distance_m=distance_m, co2e_g=g_per_pkm * distance_m / 1000.0,
                   co2e_g_per_pkm=g_per_pkm, co2e_factor="bike", geometry=geometry,
                   note=PARK_NOTE)


def bike_access(graph: LayerGraph, parking: ParkingStops, n_stops: int, *, origin_node: int,
                snap_m: float, speed_mps: float,
                max_m: float = MAX_BIKE_ACCESS_M) -> BikeAccess:
    """Bounded Dijkstra on the bike layer from the origin to the parking stops within ``max_m``."""
    tree = search(graph, origin_node, limit=max(0.0, max_m - snap_m))
    distance = np.full(n_stops, -1.0)
    seconds = np.full(n_stops, -1, np.int32)
    if len(parking.stops):
        ridden = tree.dist[parking.node] + parking.link_m + snap_m
        ok = np.isfinite(ridden) & (ridden <= max_m)
        stops = parking.stops[ok]
        distance[stops] = ridden[ok]
        seconds[stops] = np.ceil(ridden[ok] / speed_mps).astype(np.int32) + PARK_S
    return BikeAccess(graph=graph, parking=parking, tree=tree, snap_m=snap_m,
                      speed_mps=speed_mps, seconds=seconds, distance_m=distance)
