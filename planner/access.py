"""Access to transit by own bike: ridden from the origin to a stop and parked there.

The kernel (:mod:`planner.raptor`) takes access as seconds per stop and does not count access
CO2e, so a bike access joins the walk access per stop: a stop reached sooner by bike than on
foot starts its journeys with the bike leg. Walking and cycling both emit nothing in the
factor tables tanlu ships, so taking the quicker of the two per stop keeps the Pareto front
(time x CO2e x transfers) exact; a factor table giving the bike a CO2e would make the bike leg
count in the itinerary's total, though not inside the search.

Where a bike may be parked: the artifact carries no OSM ``amenity=bicycle_parking``, so the
documented rule is that **stations of rail and metro** (:data:`PARKING_MODES`: stops served by
a pattern of those modes) have parking, and bus stops do not. Locking the bike takes
:data:`PARK_S`. Egress by bike (bike carried on board, ``bikes_allowed``) is not offered yet.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from graphs.geodesy import haversine_m, local_xy
from graphs.network import Timetable

from .itineraries import street_geometry
from .model import Leg, Place
from .snap import Snapper
from .street_search import LayerGraph, ShortestPathTree, path_to, search

__all__ = ["ParkingStops", "BikeAccess", "parking_stops", "bike_access", "PARKING_MODES",
           "PARK_S", "MAX_BIKE_ACCESS_M", "PARK_NOTE"]

#: Transit modes whose stops are assumed to have bike parking (no OSM parking in the artifact).
PARKING_MODES = ("metro", "rail")
#: Seconds to park and lock the bike at the stop, added to the ride.
PARK_S = 60
#: Longest bike ride to a stop (metres, snap and stop link included).
MAX_BIKE_ACCESS_M = 5000.0
#: ``Leg.note`` of a bike access leg: the bike is parked at the stop where the leg ends.
PARK_NOTE = "park"


@dataclass(frozen=True, eq=False)
class ParkingStops:
    """Stops where a bike may be parked, with their bike-layer node (built once per network)."""

    stops: np.ndarray      # int32 stop indices
    node: np.ndarray       # int32 node of the bike layer nearest each stop (main component)
    link_m: np.ndarray     # float64 metres between the stop and that node


def parking_stops(timetable: Timetable, snapper: Snapper) -> ParkingStops:
    """The stops of rail and metro patterns and their nearest bike-layer nodes."""
    tt = timetable
    pattern_mode = tt.route_mode[tt.pattern_route]
    lengths = np.diff(tt.pattern_stop_indptr)
    keep = np.repeat(np.isin(pattern_mode, PARKING_MODES), lengths)
    stops = np.unique(tt.pattern_stops[keep]).astype(np.int32)
    if len(stops) == 0 or len(snapper.nodes) == 0:
        return ParkingStops(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    lat, lon = tt.stop_lat[stops].astype(float), tt.stop_lon[stops].astype(float)
    _, i = snapper.tree.query(local_xy(lat, lon, snapper.lat0_deg))
    node = snapper.nodes[np.asarray(i)].astype(np.int32)
    link = np.asarray(haversine_m(lat, lon, snapper.node_lat[node], snapper.node_lon[node]),
                      dtype=np.float64)
    return ParkingStops(stops=stops, node=node, link_m=link)


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
