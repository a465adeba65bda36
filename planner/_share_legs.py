"""The legs of shared-bike chains (walk, rent, ride, return, walk) and one query's searches.

:class:`ShareQuery` runs the searches of :mod:`planner.bikeshare` for one query and turns the
chains they chose into legs with street geometry; ``planner.transit`` calls it through its
``share=`` hook, ``planner.engine`` for the ``bikeshare`` mode alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from graphs.network import Timetable

from .bikeshare import (
    MAX_SHARE_ACCESS_RIDE_M,
    MAX_SHARE_RIDE_M,
    RENT_NOTE,
    RENT_S,
    RETURN_NOTE,
    RETURN_S,
    RIDE_NOTE,
    SHARE_MODE,
    STATION_STOP_M,
    ShareChain,
    ShareSystem,
    share_access,
    share_egress,
    share_trip,
)
from .itineraries import DESTINATION_NAME, ORIGIN_NAME, polyline, street_geometry, walk_leg
from .model import Leg, Place, Query
from .street_search import LayerGraph, ShortestPathTree, path_to, route_within

__all__ = ["ShareQuery", "ChainEnds", "chain_legs", "walk_geometry", "tree_geometry"]


@dataclass(frozen=True)
class ChainEnds:
    """Where a chain starts and ends (origin or stop; stop or destination) and its paths."""

    start: Place
    end: Place
    walk_in: tuple           # geometry
    ride: tuple
    walk_out: tuple


def chain_legs(system: ShareSystem, chain: ShareChain, ends: ChainEnds, *, query: Query,
               g_per_pkm: float, walk_g_per_pkm: float, depart: datetime | None = None,
               arrive: datetime | None = None) -> list[Leg]:
    """Walk, rent, ride, return, walk legs of ``chain`` leaving at ``depart`` (or arriving at
    ``arrive``); walks shorter than a metre are left out."""
    ws = query.walk_speed_mps
    total = chain.seconds(ws)
    if depart is not None:
        t = depart
    elif arrive is not None:
        t = arrive - timedelta(seconds=total)
    else:
        raise ValueError("chain_legs needs depart or arrive")
    p, pk = chain.pickup, system.pickups
    pickup = Place(name=str(pk.names[p]), lat=float(pk.lat[p]), lon=float(pk.lon[p]),
                   station_id=str(system.pickup_station[p]) or None)
    if chain.dropoff >= 0:
        r = system.returns
        dropoff = Place(name=str(r.names[chain.dropoff]), lat=float(r.lat[chain.dropoff]),
                        lon=float(r.lon[chain.dropoff]),
                        station_id=str(r.ids[chain.dropoff]))
    else:
        dropoff = ends.end
    vehicle = str(system.pickup_vehicle[p]) or None
    key = str(system.pickup_factor[p])
    legs: list[Leg] = []

    def add(leg: Leg) -> None:
        nonlocal t
        legs.append(leg)
        t = leg.arrival

    if chain.walk_in_m >= 1.0:
        add(walk_leg(ends.start, pickup, distance_m=chain.walk_in_m,
                     duration_s=chain.walk_in_m / ws, departure=t, geometry=ends.walk_in,
                     g_per_pkm=walk_g_per_pkm))
    at_pickup = ((pickup.lon, pickup.lat), (pickup.lon, pickup.lat))
    add(_still(pickup, t, RENT_S, RENT_NOTE, key=key, g_per_pkm=g_per_pkm, vehicle=vehicle,
               geometry=at_pickup))
    ride_s = chain.ride_m / chain.speed_mps
    add(Leg(mode=SHARE_MODE, from_place=pickup, to_place=dropoff, departure=t,
            arrival=t + timedelta(seconds=ride_s), distance_m=chain.ride_m,
            co2e_g=g_per_pkm * chain.ride_m / 1000.0, co2e_g_per_pkm=g_per_pkm,
            co2e_factor=key, geometry=ends.ride, note=RIDE_NOTE, vehicle_id=vehicle))
    at_dropoff = ((dropoff.lon, dropoff.lat), (dropoff.lon, dropoff.lat))
    add(_still(dropoff, t, RETURN_S, RETURN_NOTE, key=key, g_per_pkm=g_per_pkm, vehicle=vehicle,
               geometry=at_dropoff))
    if chain.walk_out_m >= 1.0:
        add(walk_leg(dropoff, ends.end, distance_m=chain.walk_out_m,
                     duration_s=chain.walk_out_m / ws, departure=t, geometry=ends.walk_out,
                     g_per_pkm=walk_g_per_pkm))
    return legs


def _still(place: Place, when: datetime, seconds: int, note: str, *, key: str, g_per_pkm: float,
           vehicle: str | None, geometry: tuple) -> Leg:
    return Leg(mode=SHARE_MODE, from_place=place, to_place=place, departure=when,
               arrival=when + timedelta(seconds=seconds), distance_m=0.0, co2e_g=0.0,
               co2e_g_per_pkm=g_per_pkm, co2e_factor=key, geometry=geometry, note=note,
               vehicle_id=vehicle)


def walk_geometry(walk: LayerGraph, source: int, target: int, start: tuple, end: tuple,
                  limit_m: float) -> tuple:
    """The walking line between two walk-layer nodes (straight if none within ``limit_m``)."""
    if source < 0 or target < 0:
        return polyline(np.array([start, end], float))
    path = route_within(walk, source, target, limit=limit_m)
    if path is None:
        return polyline(np.array([start, end], float))
    return street_geometry(walk.layer, path.edges, start, end)


def tree_geometry(graph: LayerGraph, tree: ShortestPathTree, node: int, start: tuple,
                  end: tuple) -> tuple:
    """The line of the tree path between its source and ``node`` (travel order)."""
    path = path_to(graph, tree, node)
    return street_geometry(graph.layer, path.edges, start, end)


class ShareQuery:
    """One query's shared-bike searches and the legs of the chains they chose.

    ``origin_tree`` walks from the origin, ``destination_tree`` (reversed) to the destination;
    both must reach at least :data:`MAX_SHARE_WALK_M`. ``whole_trip``: the door-to-door ride
    (:meth:`trip_legs`) will be asked for, so the rides from the origin's bikes are searched
    to :data:`MAX_SHARE_RIDE_M`.
    """

    def __init__(self, system: ShareSystem, *, walk: LayerGraph, bike: LayerGraph, query: Query,
                 timetable: Timetable | None, origin_tree: ShortestPathTree, origin_snap_m: float,
                 destination_tree: ShortestPathTree, destination_snap_m: float,
                 destination_bike: tuple[int, float], factors, whole_trip: bool = False) -> None:
        self.system, self.walk, self.bike, self.query = system, walk, bike, query
        self.factors, self.walk_g_per_pkm = factors, float(factors.g_per_pkm("walk"))
        self.timetable = timetable
        self.origin_tree, self.destination_tree = origin_tree, destination_tree
        self.destination_bike = destination_bike
        self.origin = Place(ORIGIN_NAME, query.origin_lat, query.origin_lon)
        self.destination = Place(DESTINATION_NAME, query.destination_lat, query.destination_lon)
        n_stops = 0 if timetable is None else timetable.n_stops
        self.access = share_access(system, bike=bike, origin_tree=origin_tree,
                                   origin_snap_m=origin_snap_m, query=query, n_stops=n_stops,
                                   search_m=MAX_SHARE_RIDE_M if whole_trip
                                   else MAX_SHARE_ACCESS_RIDE_M)
        self.egress = share_egress(system, bike=bike, destination_tree=destination_tree,
                                   destination_snap_m=destination_snap_m,
                                   destination_node=destination_bike[0],
                                   destination_link_m=destination_bike[1], query=query,
                                   n_stops=n_stops,
                                   destination=(query.destination_lat, query.destination_lon))
        self.destination_snap_m = destination_snap_m

    # places and lines
    def _pickup_xy(self, p: int) -> tuple[float, float]:
        pk = self.system.pickups
        return float(pk.lon[p]), float(pk.lat[p])

    def _return_xy(self, k: int) -> tuple[float, float]:
        r = self.system.returns
        return float(r.lon[k]), float(r.lat[k])

    def _stop_xy(self, stop: int) -> tuple[float, float]:
        tt = self.timetable
        assert tt is not None
        return float(tt.stop_lon[stop]), float(tt.stop_lat[stop])

    def _walk_from_origin(self, p: int) -> tuple:
        o = (self.origin.lon, self.origin.lat)
        return tree_geometry(self.walk, self.origin_tree, int(self.system.pickups.walk_node[p]),
                             o, self._pickup_xy(p))

    def _walk_to_destination(self, k: int) -> tuple:
        d = (self.destination.lon, self.destination.lat)
        return tree_geometry(self.walk, self.destination_tree,
                             int(self.system.returns.walk_node[k]), self._return_xy(k), d)

    def emits_as_walking(self) -> bool:
        """True if every bike offered emits what walking does per km (0 g in the shipped
        tables, unless an e-bike): then the quicker of walking and a shared bike per stop keeps
        the transit search's Pareto front exact."""
        keys = set(self.system.pickup_factor.tolist())
        return all(float(self.factors.g_per_pkm(k)) == self.walk_g_per_pkm for k in keys)

    def _g(self, p: int) -> float:
        return float(self.factors.g_per_pkm(str(self.system.pickup_factor[p])))

    def access_legs(self, stop: int, stop_place: Place, board: datetime) -> list[Leg]:
        """The chain from the origin to ``stop``, ending at ``board``."""
        chain = self.access.chains[stop]
        tree, tt = self.access.trees[chain.pickup], self.timetable
        assert tt is not None
        start, stop_xy = self._pickup_xy(chain.pickup), self._stop_xy(stop)
        if chain.dropoff >= 0:
            end = self._return_xy(chain.dropoff)
            ride = tree_geometry(self.bike, tree, int(self.system.returns.bike_node[chain.dropoff]),
                                 start, end)
            walk_out = walk_geometry(self.walk, int(self.system.returns.walk_node[chain.dropoff]),
                                     int(tt.stop_walk_node[stop]), end, stop_xy,
                                     2 * STATION_STOP_M)
        else:
            ride = tree_geometry(self.bike, tree, int(self.system.stop_bike_node[stop]), start,
                                 stop_xy)
            walk_out = ()
        ends = ChainEnds(self.origin, stop_place, self._walk_from_origin(chain.pickup), ride,
                         walk_out)
        return chain_legs(self.system, chain, ends, query=self.query, g_per_pkm=self._g(chain.pickup),
                          walk_g_per_pkm=self.walk_g_per_pkm, arrive=board)

    def egress_legs(self, stop: int, stop_place: Place, alight: datetime) -> list[Leg]:
        """The chain from ``stop`` (left at ``alight``) to the destination."""
        chain = self.egress.chains[stop]
        tt = self.timetable
        assert tt is not None
        pickup_xy, stop_xy = self._pickup_xy(chain.pickup), self._stop_xy(stop)
        walk_in = walk_geometry(self.walk, int(tt.stop_walk_node[stop]),
                                int(self.system.pickups.walk_node[chain.pickup]), stop_xy,
                                pickup_xy, 2 * STATION_STOP_M)
        d = (self.destination.lon, self.destination.lat)
        node = int(self.system.pickups.bike_node[chain.pickup])
        if chain.dropoff >= 0:
            ride = tree_geometry(self.bike, self.egress.trees[chain.dropoff], node, pickup_xy,
                                 self._return_xy(chain.dropoff))
            walk_out = self._walk_to_destination(chain.dropoff)
        else:
            ride = tree_geometry(self.bike, self.egress.trees[-1], node, pickup_xy, d)
            walk_out = ()
        ends = ChainEnds(stop_place, self.destination, walk_in, ride, walk_out)
        return chain_legs(self.system, chain, ends, query=self.query, g_per_pkm=self._g(chain.pickup),
                          walk_g_per_pkm=self.walk_g_per_pkm, depart=alight)

    def trip_legs(self) -> list[Leg] | None:
        """The quickest shared ride door to door (``bikeshare`` alone), or None."""
        q = self.query
        chain = share_trip(self.system, self.access, destination_tree=self.destination_tree,
                           destination_snap_m=self.destination_snap_m,
                           destination_node=self.destination_bike[0],
                           destination_link_m=self.destination_bike[1], query=q,
                           destination=(q.destination_lat, q.destination_lon))
        if chain is None:
            return None
        tree = self.access.trees[chain.pickup]
        start, d = self._pickup_xy(chain.pickup), (self.destination.lon, self.destination.lat)
        if chain.dropoff >= 0:
            end = self._return_xy(chain.dropoff)
            ride = tree_geometry(self.bike, tree, int(self.system.returns.bike_node[chain.dropoff]),
                                 start, end)
            walk_out = self._walk_to_destination(chain.dropoff)
        else:
            ride = tree_geometry(self.bike, tree, self.destination_bike[0], start, d)
            walk_out = ()
        ends = ChainEnds(self.origin, self.destination, self._walk_from_origin(chain.pickup),
                         ride, walk_out)
        g, walk_g = self._g(chain.pickup), self.walk_g_per_pkm
        if q.arrive_by:
            return chain_legs(self.system, chain, ends, query=q, g_per_pkm=g,
                              walk_g_per_pkm=walk_g, arrive=q.when)
        return chain_legs(self.system, chain, ends, query=q, g_per_pkm=g,
                          walk_g_per_pkm=walk_g, depart=q.when)
