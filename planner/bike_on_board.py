"""Own bike carried on board: ridden to a stop, taken on trips that allow bikes, ridden on after.

``bike+transit`` offers this beside the bike parked at the station (``planner.access``): the
traveller cycles to any stop near the bike layer, boards only trips whose GTFS ``bikes_allowed``
is 1 (the build keeps it per trip and splits patterns by it, so the kernel's per-pattern mask is
exact), walks any transfer pushing the bike, and cycles from the last stop to the destination.
Trips with ``bikes_allowed`` 0 (no information) or 2 are not boarded with a bike. Boarding
with the bike takes :data:`BOARD_WITH_BIKE_S` (lifts, wide gates). Cycling emits what the
factor table gives ``bike`` (nothing in the shipped tables), so the pass keeps the kernel's
Pareto front exact, as for bike access.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from graphs.geodesy import haversine_m, local_xy
from graphs.network import Timetable

from .access import MAX_BIKE_ACCESS_M
from .itineraries import street_geometry
from .model import Leg, Place, Query
from .snap import Snapper
from .street_search import LayerGraph, ShortestPathTree, path_to, search
from .transit import TransitRouter

__all__ = ["StopBikeNodes", "BikeRide", "stop_bike_nodes", "bike_patterns", "bike_ride",
           "bike_on_board_options", "ON_BOARD_NOTE", "BOARD_WITH_BIKE_S", "MAX_STOP_BIKE_LINK_M"]

#: ``Leg.note`` of the bike leg to the first stop: the bike goes on board with the traveller.
ON_BOARD_NOTE = "on-board"
#: Seconds to take the bike through the station and on board (added to the ride to the stop).
BOARD_WITH_BIKE_S = 60
#: A stop farther than this from the bike layer is not reached by bike.
MAX_STOP_BIKE_LINK_M = 200.0


@dataclass(frozen=True, eq=False)
class StopBikeNodes:
    """Each stop's nearest bike-layer node (-1 beyond :data:`MAX_STOP_BIKE_LINK_M`)."""

    node: np.ndarray     # int32 (n_stops,)
    link_m: np.ndarray   # float64 (n_stops,)


def stop_bike_nodes(timetable: Timetable, snapper: Snapper) -> StopBikeNodes:
    """Link every stop to the bike layer (once per network)."""
    tt = timetable
    node = np.full(tt.n_stops, -1, np.int32)
    link = np.full(tt.n_stops, np.inf)
    if tt.n_stops and len(snapper.nodes):
        lat, lon = tt.stop_lat.astype(np.float64), tt.stop_lon.astype(np.float64)
        _, i = snapper.tree.query(local_xy(lat, lon, snapper.lat0_deg))
        nearest = snapper.nodes[np.asarray(i)].astype(np.int32)
        dist = np.asarray(haversine_m(lat, lon, snapper.node_lat[nearest],
                                      snapper.node_lon[nearest]), dtype=np.float64)
        ok = dist <= MAX_STOP_BIKE_LINK_M
        node[ok], link[ok] = nearest[ok], dist[ok]
    return StopBikeNodes(node=node, link_m=link)


def bike_patterns(timetable: Timetable) -> np.ndarray:
    """bool per pattern: its trips allow bikes (GTFS ``bikes_allowed`` = 1)."""
    tt = timetable
    has_trips = np.diff(tt.pattern_trip_indptr) > 0
    first = np.minimum(tt.pattern_trip_indptr[:-1], max(tt.n_trips - 1, 0))
    return has_trips & (tt.trip_bikes_allowed[first] == 1) if tt.n_trips else has_trips


@dataclass(frozen=True, eq=False)
class BikeRide:
    """One query's bike rides between an end of the trip and the stops (to them, or from them
    with ``reverse``): the access and the egress of a bike-on-board pass."""

    graph: LayerGraph
    stops: StopBikeNodes
    tree: ShortestPathTree
    snap_m: float
    speed_mps: float
    g_per_pkm: float
    seconds: np.ndarray     # int32 (n_stops,) -1 none; boarding time included for access
    distance_m: np.ndarray  # float64 (n_stops,)

    def faster_than(self, stop: int, walk_s: int) -> bool:
        """The pass has no walking access: a reached stop always starts with the bike."""
        return int(self.seconds[stop]) >= 0

    def leg(self, stop: int, *, origin: Place, stop_place: Place, board: datetime,
            g_per_pkm: float) -> Leg:
        """The ride from the origin to ``stop``, the bike then taken on board at ``board``."""
        path = path_to(self.graph, self.tree, int(self.stops.node[stop]))
        geometry = street_geometry(self.graph.layer, path.edges, (origin.lon, origin.lat),
                                   (stop_place.lon, stop_place.lat))
        return self._leg(origin, stop_place, stop, board - timedelta(
            seconds=int(self.seconds[stop])), geometry, ON_BOARD_NOTE,
            arrival=board)

    def egress_leg(self, stop: int, *, stop_place: Place, destination: Place,
                   alight: datetime) -> Leg:
        """The ride from ``stop`` (off the vehicle at ``alight``) to the destination."""
        path = path_to(self.graph, self.tree, int(self.stops.node[stop]))
        geometry = street_geometry(self.graph.layer, path.edges,
                                   (stop_place.lon, stop_place.lat),
                                   (destination.lon, destination.lat))
        return self._leg(stop_place, destination, stop, alight, geometry, None)

    def _leg(self, start: Place, end: Place, stop: int, departure: datetime, geometry: tuple,
             note: str | None, *, arrival: datetime | None = None) -> Leg:
        distance_m = float(self.distance_m[stop])
        if arrival is None:
            arrival = departure + timedelta(seconds=int(self.seconds[stop]))
        return Leg(mode="bike", from_place=start, to_place=end, departure=departure,
                   arrival=arrival, distance_m=distance_m,
                   co2e_g=self.g_per_pkm * distance_m / 1000.0, co2e_g_per_pkm=self.g_per_pkm,
                   co2e_factor="bike", geometry=geometry, note=note)


def bike_ride(graph: LayerGraph, stops: StopBikeNodes, *, node: int, snap_m: float,  # noqa: PLR0913
              speed_mps: float, g_per_pkm: float, reverse: bool,
              max_m: float = MAX_BIKE_ACCESS_M) -> BikeRide:
    """Bounded Dijkstra on the bike layer from the origin (to the destination with
    ``reverse``) to every linked stop within ``max_m``."""
    tree = search(graph, node, limit=max(0.0, max_m - snap_m), reverse=reverse)
    distance = np.full(stops.node.shape[0], -1.0)
    seconds = np.full(stops.node.shape[0], -1, np.int32)
    linked = np.flatnonzero(stops.node >= 0)
    ridden = tree.dist[stops.node[linked]] + stops.link_m[linked] + snap_m
    ok = np.isfinite(ridden) & (ridden <= max_m)
    distance[linked[ok]] = ridden[ok]
    extra = 0 if reverse else BOARD_WITH_BIKE_S
    seconds[linked[ok]] = np.ceil(ridden[ok] / speed_mps).astype(np.int32) + extra
    return BikeRide(graph=graph, stops=stops, tree=tree, snap_m=snap_m, speed_mps=speed_mps,
                    g_per_pkm=g_per_pkm, seconds=seconds, distance_m=distance)


def bike_on_board_options(router: TransitRouter, query: Query, *, graph: LayerGraph,  # noqa: PLR0913
                          walk: LayerGraph, stops: StopBikeNodes, origin: tuple[int, float],
                          destination: tuple[int, float], within_s: float | None,
                          g_bike: float, g_walk: float) -> list[list[Leg]]:
    """Itineraries that carry the bike on board: ride, trips allowing bikes, ride.

    ``origin`` and ``destination`` are (bike-layer node, snap metres).
    """
    tt = router.timetable
    patterns = bike_patterns(tt)
    if not patterns.any():
        return []
    access = bike_ride(graph, stops, node=origin[0], snap_m=origin[1],
                       speed_mps=query.bike_speed_mps, g_per_pkm=g_bike, reverse=False)
    egress = bike_ride(graph, stops, node=destination[0], snap_m=destination[1],
                       speed_mps=query.bike_speed_mps, g_per_pkm=g_bike, reverse=True)
    if not (access.seconds >= 0).any() or not (egress.seconds >= 0).any():
        return []
    no_walk = np.full(tt.n_stops, -1.0)
    found = router.journeys(query, no_walk, no_walk, within_s=within_s, bike=access,
                            egress=egress, patterns=patterns)
    nowhere = search(walk, 0, limit=0.0)  # the legs come from the bike rides, not a walk tree
    return [router.legs(journey, query, origin_tree=nowhere, destination_tree=nowhere,
                        origin_snap_m=0.0, destination_snap_m=0.0, walk_g_per_pkm=g_walk,
                        bike=access, bike_g_per_pkm=g_bike, egress=egress)
            for journey in found]
