"""The :class:`Planner`: per-network caches built once, and the plan pipeline of one query."""
from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from graphs.gbfs import GbfsFeed
from graphs.geodesy import haversine_m
from graphs.modes import CAR_MODES, MODES
from graphs.network import Network

from ._share_legs import ShareQuery
from ._sources import points_rules_of
from .access import ParkingStops, bike_access, parking_stops
from .baseline import plan_baseline
from .bike_on_board import StopBikeNodes, bike_on_board_options, stop_bike_nodes
from .bikeshare import MAX_SHARE_WALK_M, RIDE_NOTE, ShareSystem, compile_share_system
from .errors import CodedText, NoRouteError, OutsideCoverageError, QueryError
from .itineraries import assemble_itinerary, street_leg, without_street_geometry
from .methodology import Methodology, methodology_of, reduction_for_legs
from .model import Baseline, Leg, Plan, Query
from .pareto import covering_leg, pareto_front, tag
from .park_ride import ParkRide, charge_evidence
from .piles import DEFAULT_PILE_DISTANCE_M, PileEvidence, PileList, pile_evidence, piles_from_stations
from .points import PILE_MODES, award_points
from .query import localize
from .snap import SnapCache, Snapper, build_snapper
from .street_search import LayerGraph, StreetPath, compile_layer, route, search
from .transit import TransitRouter, stop_walk_distances
from .window import window_front, window_journeys, window_tag

__all__ = ["Planner", "plan_trip", "swapped_hint"]

_WALK_TOLERANCE_M = 0.5  # float32 edge lengths re-added in another order
_LAYER_WEIGHT = {"walk": "length", "bike": "length", "car": "duration"}
_BIKE_MODES = ("bike", "ebike", "bikeshare")
_CAR_MODES = frozenset(CAR_MODES)


@dataclass(frozen=True)
class _Snap:
    node: int
    distance_m: float


class _Snaps:
    """A query's snaps by ``(end, layer)``: both ends of a layer snapped together (one KD-tree
    query) on first use of the layer, kept within ``max_snap_m`` (``get`` gives None beyond
    it, as for a layer the network lacks)."""

    def __init__(self, snappers: dict[str, Snapper], query: Query,
                 cache: SnapCache | None) -> None:
        self._snappers = snappers
        self._ends = ((query.origin_lat, query.origin_lon),
                      (query.destination_lat, query.destination_lon))
        self._max_snap_m = query.max_snap_m
        self._cache = SnapCache() if cache is None else cache  # a batch's, or this query's own
        self._layers: dict[str, dict[str, tuple[int, float]]] = {}
        self._snaps: dict[tuple[str, str], _Snap | None] = {}

    def nearest(self, end: str, layer: str) -> tuple[int, float]:
        """``(node, distance_m)`` of the nearest node of ``layer`` to ``end``, at any distance."""
        found = self._layers.get(layer)
        if found is None:
            origin, destination = self._cache.nearest_many(self._snappers[layer], self._ends)
            found = self._layers[layer] = {"origin": origin, "destination": destination}
        return found[end]

    def get(self, key: tuple[str, str]) -> _Snap | None:
        if key in self._snaps:
            return self._snaps[key]
        end, layer = key
        snap = None
        if layer in self._snappers:
            node, dist = self.nearest(end, layer)
            snap = _Snap(node, dist) if dist <= self._max_snap_m else None
        self._snaps[key] = snap
        return snap

    def __getitem__(self, key: tuple[str, str]) -> _Snap:
        snap = self.get(key)
        if snap is None:
            raise KeyError(key)
        return snap


class Planner:
    """Answers queries on one network; CSR matrices, KD-trees and day tables are built once.

    Safe to share between threads: queries allocate their own search state and the day-table
    cache is locked while a new service date is compiled.
    """

    def __init__(self, network: Network, *, piles: PileList | None = None,
                 pile_distance_m: float = DEFAULT_PILE_DISTANCE_M) -> None:
        """``piles``: the public charging piles that count as EV evidence (default: the
        artifact's OSM charging stations) within ``pile_distance_m`` of a trip's end."""
        self.network = network
        self.piles = piles if piles is not None else piles_from_stations(network.charging_stations)
        self.pile_distance_m = float(pile_distance_m)
        self.tz = ZoneInfo(network.timezone)
        self.factors = network.factors
        self.graphs: dict[str, LayerGraph] = {
            name: compile_layer(layer, weight=_LAYER_WEIGHT.get(name, "length"))
            for name, layer in network.streets.items()}
        self.snappers: dict[str, Snapper] = {
            name: build_snapper(layer) for name, layer in network.streets.items()}
        self.transit = (TransitRouter(network, self.graphs["walk"], self.tz)
                        if network.timetable is not None and "walk" in self.graphs else None)
        self.bbox = network.bbox
        self._parking: ParkingStops | None = None  # bike parking stops, built on first use
        self.park_ride = ParkRide(network, self.graphs, self.snappers, self.piles)
        self._stop_bike: StopBikeNodes | None = None  # stops on the bike layer, on first use
        #: shared bikes in force (``planner.bikeshare``); replaced whole, in one assignment, by
        #: :meth:`set_bikeshare` (a live feed's poller) — the artifact's snapshot is compiled by
        #: :meth:`share_system` on first use
        self.bikeshare: ShareSystem | None = None
        self._gbfs_snapshot = network.gbfs
        self._no_bikeshare: tuple[str, ...] = ()  # why a configured feed is unavailable
        self._default_rules = points_rules_of(None)  # parsed once, not per query

    def set_bikeshare(self, feed: GbfsFeed | None, *, live: bool,
                      notices: tuple[str, ...] = ()) -> ShareSystem | None:
        """Compile ``feed`` (None: no shared bikes) and put it in force for new queries.

        ``notices`` (e.g. a live feed fell back to its last good snapshot; with ``feed`` None,
        why shared bikes are unavailable) go into every answer that asks for shared bikes.
        """
        system = None
        self._no_bikeshare = tuple(notices) if feed is None else ()
        if feed is not None and "walk" in self.graphs and "bike" in self.graphs:
            system = compile_share_system(
                feed, walk=self.graphs["walk"], bike=self.graphs["bike"], snappers=self.snappers,
                timetable=self.network.timetable, factor_keys=frozenset(self.factors.entries),
                live=live, extra_notices=notices)
        self._gbfs_snapshot = None
        self.bikeshare = system
        return system

    def share_system(self) -> ShareSystem | None:
        """The shared bikes in force, compiling the artifact's snapshot on first use (a server
        calls it while warming up, so no request pays for the compilation)."""
        if self._gbfs_snapshot is not None and self.bikeshare is None:
            self.set_bikeshare(self._gbfs_snapshot, live=False)
        return self.bikeshare

    def plan(self, query: Query, *, rules: Any = None,
             methodology: Methodology | str | None = None, geometry: bool = True,
             snap_cache: SnapCache | None = None) -> Plan:
        """Pareto-optimal itineraries for ``query`` with the car baseline, reductions and points.

        ``methodology`` (a :class:`~planner.methodology.Methodology`, preset name or TOML path;
        default ``tanlu-car``) gives each itinerary's ``reduction_g``; points follow it.
        ``geometry=False`` leaves street and walk lines empty (callers that never draw them);
        ``snap_cache`` reuses snaps across the queries of a batch. Neither changes a number.

        Raises
        ------
        OutsideCoverageError
            If an end point is beyond ``max_snap_m`` of every street layer the query needs,
            or only transit is allowed and the date is outside the feeds' service dates.
        NoRouteError
            If no allowed mode connects the two points.
        MethodologyError
            If the methodology cannot be used as shipped (it lacks the operator's numbers).
        """
        if not geometry:
            with without_street_geometry():
                return self.plan(query, rules=rules, methodology=methodology,
                                 snap_cache=snap_cache)
        query = self._localized(query)
        rule_set = self._default_rules if rules is None else points_rules_of(rules)
        method = methodology_of(methodology)
        method.require_usable()
        notices: list[str] = []
        snaps = self._snap_all(query, snap_cache)
        crow_m = float(haversine_m(query.origin_lat, query.origin_lon,
                                   query.destination_lat, query.destination_lon))
        car_path = self._street_path("car", snaps)
        baseline = self._baseline(car_path, snaps, crow_m)
        options: list[list[Leg]] = []
        options += self._street_options(query, snaps, crow_m, car_path, notices)
        if "transit" in query.modes:
            faster = covering_leg(options)
            options += self._transit_options(query, snaps, notices, faster)
            options += self._car_access_options(query, snaps, faster)
            options += self._bike_on_board_options(query, snaps, faster)
        if not options:
            raise NoRouteError(self._no_route_message(query, notices), code="no_route",
                               params={"modes": sorted(query.modes), "notices": list(notices)})
        itineraries = [self._account(legs, query, baseline, rule_set, method) for legs in options]
        if query.window_s > 0:
            front, recommended, fastest, lowest, budget = window_tag(
                window_front(itineraries, query), query)
        else:
            front, recommended, fastest, lowest, budget = tag(pareto_front(itineraries, query),
                                                              query)
        if method.unverified:
            notices.append(f"methodology {method.label} uses values not read in a published text: "
                           f"{', '.join(method.unverified)}")
        grid = self.factors.grid
        return Plan(query=query, itineraries=tuple(front), baseline=baseline,
                    recommended=recommended, fastest=fastest, lowest_carbon=lowest,
                    time_budget_s=budget, factor_table=str(self.factors.label),
                    points_rules=rule_set.label, notices=tuple(notices),
                    methodology=method.label, grid="" if grid is None else grid.label)

    def _account(self, legs: list[Leg], query: Query, baseline: Baseline, rules: Any,
                 method: Methodology):
        """One option's itinerary: the methodology's reduction, the pile evidence, the points."""
        reduction = reduction_for_legs(legs, methodology=method, factors=self.factors,
                                       car_distance_m=baseline.distance_m)
        evidence = self._pile_evidence(legs, query)
        award = award_points(legs, reduction_g=reduction.reduction_g, rules=rules,
                             charged_at_public_pile=query.charged_at_public_pile
                             or evidence is not None, leg_reduction_g=reduction.per_leg_g)
        if evidence is not None:
            pile = " ".join(filter(None, (evidence.pile.id, evidence.pile.name)))
            award = replace(award, explanation=f"{award.explanation}; public pile {pile} "
                                               f"{evidence.distance_m:.0f} m from the "
                                               f"{evidence.end}")
        return assemble_itinerary(legs, baseline_co2e_g=baseline.co2e_g, points=award,
                                  reduction_g=reduction.reduction_g,
                                  reduction_explanation=reduction.explanation, pile=evidence)

    def _pile_evidence(self, legs: list[Leg], query: Query) -> PileEvidence | None:
        if not any(leg.mode in PILE_MODES for leg in legs):
            return None
        charged = charge_evidence(legs, source=self.piles.source)  # EV left at a pile (P+R)
        if charged is not None:
            return charged
        return pile_evidence(self.piles, origin=(query.origin_lat, query.origin_lon),
                             destination=(query.destination_lat, query.destination_lon),
                             max_distance_m=self.pile_distance_m)

    # -- inputs ---------------------------------------------------------------------------
    def _localized(self, query: Query) -> Query:
        if not isinstance(query.when, datetime):
            raise QueryError("when must be a datetime", field="when")
        when = localize(query.when, self.tz)
        return query if when is query.when else replace(query, when=when)

    @property
    def service_dates(self) -> tuple[date | None, date | None]:
        """First and last date of the feeds' service (``(None, None)`` without transit)."""
        if self.transit is None:
            return None, None
        return self.transit.first_date, self.transit.last_date

    def _needed_layers(self, query: Query) -> set[str]:
        layers = {layer for m in query.modes if m in MODES and (layer := MODES[m].layer)}
        if "transit" in query.modes:
            layers.add("walk")
        if query.access_modes & {"bike", "bikeshare"}:
            layers.add("bike")
        if query.access_modes & _CAR_MODES:
            layers |= {"car", "walk"}
        return layers & set(self.graphs)

    def _snap_all(self, query: Query, cache: SnapCache | None = None) -> _Snaps:
        """Snap both ends on the layers the query needs within ``max_snap_m`` (refusing
        points far from all of them); other layers are snapped when first asked for."""
        needed = self._needed_layers(query)
        snaps = _Snaps(self.snappers, query, cache)
        for end, lat, lon in (("origin", query.origin_lat, query.origin_lon),
                              ("destination", query.destination_lat, query.destination_lon)):
            nearest = min((snaps.nearest(end, name)[1] for name in self.snappers
                           if name in needed), default=float("inf"))
            if nearest > query.max_snap_m:
                raise OutsideCoverageError(
                    self._coverage_message(end, lat, lon, nearest, query), field=end,
                    code="outside_network",
                    params={"lat": lat, "lon": lon, "distance_m": nearest,
                            "max_snap_m": query.max_snap_m,
                            "swapped": bool(swapped_hint(lat, lon, self.bbox))})
        return snaps

    def _coverage_message(self, end: str, lat: float, lon: float, dist: float,
                          query: Query) -> str:
        area = ""
        if self.bbox:
            area = (f"; the network covers lon {self.bbox[0]:.4f}..{self.bbox[2]:.4f}, "
                    f"lat {self.bbox[1]:.4f}..{self.bbox[3]:.4f}")
        return (f"{end} ({lat:.5f}, {lon:.5f}) is outside the network's area: nearest usable "
                f"street is {dist:,.0f} m away (max_snap_m={query.max_snap_m:g}){area}"
                f"{swapped_hint(lat, lon, self.bbox)}")

    # -- street modes ------------------------------------------------------------------
    def _street_path(self, layer: str, snaps) -> StreetPath | None:
        o, d = snaps.get(("origin", layer)), snaps.get(("destination", layer))
        if o is None or d is None:
            return None
        try:
            return route(self.graphs[layer], o.node, d.node)
        except NoRouteError:
            return None

    def _baseline(self, car_path: StreetPath | None, snaps, crow_m: float) -> Baseline:
        connector_m = (snaps[("origin", "car")].distance_m + snaps[("destination", "car")].distance_m
                       if car_path is not None else 0.0)
        return plan_baseline(car_path, crow_m=crow_m, connector_m=connector_m, factors=self.factors)

    def _street_options(self, query: Query, snaps, crow_m: float,
                        car_path: StreetPath | None, notices: list[str]) -> list[list[Leg]]:
        out: list[list[Leg]] = []
        bike_path = (self._street_path("bike", snaps)
                     if any(m in query.modes for m in _BIKE_MODES) else None)
        walk_path = (self._street_path("walk", snaps) if "walk" in query.modes else None)
        speeds = {"walk": query.walk_speed_mps, "bike": query.bike_speed_mps,
                  "bikeshare": query.bike_speed_mps, "ebike": query.ebike_speed_mps}
        for mode in sorted(query.modes):
            if mode == "bikeshare" and (self.share_system() is not None or self._no_bikeshare):
                trip = self._share_trip(query, snaps, notices)
                if trip is not None:
                    out.append(trip)
                continue
            if mode == "walk":
                path, layer = walk_path, "walk"
            elif mode in _BIKE_MODES:
                path, layer = bike_path, "bike"
            elif mode in CAR_MODES:
                path, layer = car_path, "car"
            else:
                continue
            if path is None:
                continue
            out.append([self._street_leg(mode, layer, path, snaps, query, speeds.get(mode))])
        return out

    def _share_query(self, query: Query, snaps, system: ShareSystem, *, origin_tree=None,
                     destination_tree=None) -> ShareQuery | None:
        """Shared-bike searches of one query (walk trees to ``MAX_SHARE_WALK_M`` if not given)."""
        o, d = snaps.get(("origin", "walk")), snaps.get(("destination", "walk"))
        db = snaps.get(("destination", "bike"))
        if o is None or d is None:
            return None
        walk = self.graphs["walk"]
        if origin_tree is None:
            origin_tree = search(walk, o.node, limit=max(0.0, MAX_SHARE_WALK_M - o.distance_m))
        if destination_tree is None:
            destination_tree = search(walk, d.node, reverse=True,
                                      limit=max(0.0, MAX_SHARE_WALK_M - d.distance_m))
        return ShareQuery(system, walk=walk, bike=self.graphs["bike"], query=query,
                          timetable=self.network.timetable, origin_tree=origin_tree,
                          origin_snap_m=o.distance_m, destination_tree=destination_tree,
                          destination_snap_m=d.distance_m,
                          destination_bike=(db.node, db.distance_m) if db else (-1, 0.0),
                          factors=self.factors, whole_trip="bikeshare" in query.modes)

    def _share_trip(self, query: Query, snaps, notices: list[str]) -> list[Leg] | None:
        """The door-to-door shared ride (``bikeshare``) with the feed in force, or None."""
        system = self.bikeshare
        if system is None:
            notices.extend(self._no_bikeshare)
            return None
        notices.extend(n for n in system.notices() if n not in notices)
        sq = self._share_query(query, snaps, system)
        return None if sq is None else sq.trip_legs()

    def _street_leg(self, mode: str, layer: str, path: StreetPath, snaps, query: Query,
                    speed: float | None) -> Leg:
        o, d = snaps[("origin", layer)], snaps[("destination", layer)]
        leg = street_leg(mode, self.network.streets[layer], path,
                         origin=(query.origin_lat, query.origin_lon),
                         destination=(query.destination_lat, query.destination_lon),
                         connector_m=o.distance_m + d.distance_m, speed_mps=speed,
                         departure=query.when, factor_key=mode,
                         g_per_pkm=self._g_per_pkm(mode, query))
        if query.arrive_by:
            shift = leg.arrival - query.when
            leg = replace(leg, departure=leg.departure - shift, arrival=query.when)
        return leg

    def _g_per_pkm(self, mode: str, query: Query) -> float:
        """The mode's factor; a car leg shared by ``query.passengers`` people (合乘) divides it."""
        g = float(self.factors.g_per_pkm(mode))
        return g / query.passengers if mode in CAR_MODES else g

    # -- transit ---------------------------------------------------------------------------
    def _transit_options(self, query: Query, snaps, notices: list[str],
                         faster: Leg | None) -> list[list[Leg]]:
        """Transit journeys; with ``faster`` (a clean street option) only those that beat it."""
        if self.transit is None:
            notices.append(CodedText("no transit: the network has no timetable",
                                     "no_timetable"))
            return []
        notices.extend(self.transit.realtime_notices())
        service_date = query.when.date()
        if not self.transit.covers(service_date):
            message = (f"date {service_date} is outside the feeds' service dates "
                       f"({self.transit.first_date}..{self.transit.last_date})")
            dates = {"date": str(service_date), "first": str(self.transit.first_date),
                     "last": str(self.transit.last_date)}
            if not (query.modes - {"transit"}):
                raise OutsideCoverageError(message, field="date", code="date_outside_service",
                                           params=dates)
            notices.append(CodedText(f"no transit: {message}", "no_transit_date", **dates))
            return []
        o, d = snaps.get(("origin", "walk")), snaps.get(("destination", "walk"))
        tt = self.network.timetable
        if o is None or d is None or tt is None:
            return []
        walk = self.graphs["walk"]
        origin_tree = search(walk, o.node, limit=max(0.0, query.max_walk_m - o.distance_m))
        destination_tree = search(walk, d.node, reverse=True,
                                  limit=max(0.0, query.max_walk_m - d.distance_m))
        access = stop_walk_distances(tt, origin_tree, snap_m=o.distance_m,
                                     max_walk_m=query.max_walk_m)
        egress = stop_walk_distances(tt, destination_tree, snap_m=d.distance_m,
                                     max_walk_m=query.max_walk_m)
        g_walk = float(self.factors.g_per_pkm("walk"))
        bike = self._bike_access(query, snaps)
        g_bike = float(self.factors.g_per_pkm("bike")) if bike is not None else 0.0
        out = []
        within_s = None if faster is None else faster.duration_s
        share = self._transit_share(query, snaps, notices, origin_tree, destination_tree)
        # shared bikes emitting what walking emits join the walk access of one search (the
        # quicker per stop, as for the own bike); otherwise a second search finds their journeys
        joined = share if share is not None and share.emits_as_walking() else None
        found: list[tuple[Query, Any, ShareQuery | None, bool]]
        if query.window_s > 0:
            pairs, _ = window_journeys(self.transit, query, access, egress, within_s=within_s,
                                       bike=bike, street_g_per_pkm=max(g_walk, g_bike))
            found = [(at, j, None, False) for at, j in pairs]
        else:
            found = [(query, j, joined, False) for j in self.transit.journeys(
                query, access, egress, within_s=within_s, bike=bike, share=joined)]
        if share is not None and joined is None:
            found += [(query, j, share, True) for j in self.transit.journeys(
                query, access, egress, within_s=within_s, bike=bike, share=share)]
        for at, journey, sq, second in found:
            legs = self.transit.legs(journey, at, origin_tree=origin_tree,
                                     destination_tree=destination_tree,
                                     origin_snap_m=o.distance_m, destination_snap_m=d.distance_m,
                                     walk_g_per_pkm=g_walk, bike=bike, bike_g_per_pkm=g_bike,
                                     share=sq)
            if second and not any(leg.note == RIDE_NOTE for leg in legs):
                continue  # the walking journey, found by the first search
            if _within_limits(legs, at):
                out.append(legs)
        if not out:
            notices.append(CodedText(
                f"no transit journey within {query.max_walk_m:g} m of walking on {service_date}"
                + ("" if faster is None else f" arrives before {faster.mode} would"),
                "no_transit_journey", max_walk_m=query.max_walk_m, date=str(service_date),
                faster=None if faster is None else faster.mode))
        return out

    def _transit_share(self, query: Query, snaps, notices: list[str], origin_tree,
                       destination_tree) -> ShareQuery | None:
        """Shared-bike access and egress of ``bikeshare+transit``, or None."""
        if "bikeshare" not in query.access_modes:
            return None
        system = self.share_system()
        if system is None and self._no_bikeshare:
            notices.extend(self._no_bikeshare)
            return None
        if system is None:
            notices.append(CodedText("no shared bikes: the network has no GBFS feed (tanlu build "
                                     "--gbfs, tanlu serve --gbfs)", "no_gbfs"))
            return None
        if query.window_s > 0:
            notices.append(CodedText("shared bikes are not planned in departure windows",
                                     "no_gbfs_window"))
            return None
        notices.extend(n for n in system.notices() if n not in notices)
        return self._share_query(query, snaps, system, origin_tree=origin_tree,
                                 destination_tree=destination_tree)

    def _bike_access(self, query: Query, snaps):
        """Own-bike rides from the origin to parking stops (``bike+transit``), or None."""
        tt = self.network.timetable
        if "bike" not in query.access_modes or "bike" not in self.graphs or tt is None:
            return None
        o = snaps.get(("origin", "bike"))
        if o is None:
            return None
        if self._parking is None:
            self._parking = parking_stops(tt, self.snappers["bike"], self.network.parkings)
        return bike_access(self.graphs["bike"], self._parking, tt.n_stops,
                           origin_node=o.node, snap_m=o.distance_m,
                           speed_mps=query.bike_speed_mps)

    def _car_access_options(self, query: Query, snaps, faster: Leg | None) -> list[list[Leg]]:
        """Park-and-ride, EV-to-pile and drop-off itineraries (``car_petrol+transit`` ...)."""
        if (not query.access_modes & _CAR_MODES or self.transit is None
                or not self.transit.covers(query.when.date())):
            return []
        o, d = snaps.get(("origin", "car")), snaps.get(("destination", "walk"))
        if o is None or d is None:
            return []
        factors = {m: self._g_per_pkm(m, query) for m in query.access_modes & _CAR_MODES}
        factors["walk"] = float(self.factors.g_per_pkm("walk"))
        found = self.park_ride.options(
            self.transit, query, origin_car=(o.node, o.distance_m),
            destination_walk=(d.node, d.distance_m),
            within_s=None if faster is None else faster.duration_s, g_per_pkm=factors)
        return [legs for legs in found if _within_limits(legs, query)]

    def _bike_on_board_options(self, query: Query, snaps,
                               faster: Leg | None) -> list[list[Leg]]:
        """``bike+transit`` with the bike carried on trips that allow it (``bikes_allowed``)."""
        tt = self.network.timetable
        if ("bike" not in query.access_modes or self.transit is None or tt is None
                or not self.transit.covers(query.when.date())):
            return []
        o, d = snaps.get(("origin", "bike")), snaps.get(("destination", "bike"))
        if o is None or d is None:
            return []
        if self._stop_bike is None:
            self._stop_bike = stop_bike_nodes(tt, self.snappers["bike"])
        found = bike_on_board_options(
            self.transit, query, graph=self.graphs["bike"], walk=self.graphs["walk"],
            stops=self._stop_bike, origin=(o.node, o.distance_m),
            destination=(d.node, d.distance_m),
            within_s=None if faster is None else faster.duration_s,
            g_bike=float(self.factors.g_per_pkm("bike")),
            g_walk=float(self.factors.g_per_pkm("walk")))
        return [legs for legs in found if _within_limits(legs, query)]

    def _no_route_message(self, query: Query, notices: list[str]) -> str:
        modes = ",".join(sorted(query.modes))
        why = f" ({'; '.join(notices)})" if notices else ""
        return (f"no itinerary by {modes} from ({query.origin_lat:.5f}, {query.origin_lon:.5f}) "
                f"to ({query.destination_lat:.5f}, {query.destination_lon:.5f}){why}")


def swapped_hint(lat: float, lon: float,
                 bbox: tuple[float, float, float, float] | None) -> str:
    """``"; did you swap lat and lon? ..."`` if (lon, lat) would fall in ``bbox``, else ``""``.

    ``bbox`` is ``(west, south, east, north)``. Shared by every place that refuses a point for
    being outside the network (the planner, the HTTP bounding-box check).
    """
    if bbox is None or not (-90.0 <= lon <= 90.0):
        return ""
    west, south, east, north = bbox
    if west <= lat <= east and south <= lon <= north and not (
            west <= lon <= east and south <= lat <= north):
        return (f"; did you swap lat and lon? ({lon:.5f}, {lat:.5f}) lies inside the network "
                f"(points are given as lat,lon)")
    return ""


def _within_limits(legs: list[Leg], query: Query) -> bool:
    """Guard the search's promises: walks within max_walk_m, times on the right side."""
    walks_ok = all(leg.distance_m <= query.max_walk_m + _WALK_TOLERANCE_M
                   for leg in legs if leg.mode == "walk")
    if query.arrive_by:
        return walks_ok and legs[-1].arrival <= query.when + timedelta(seconds=1)
    return walks_ok and legs[0].departure >= query.when - timedelta(seconds=1)


_PLANNERS: weakref.WeakKeyDictionary[Network, Planner] = weakref.WeakKeyDictionary()


def plan_trip(network: Network, query: Query, *, rules: Any = None,
              methodology: Methodology | str | None = None) -> Plan:
    """Plan ``query`` on ``network``, reusing one cached :class:`Planner` per network object."""
    planner = _PLANNERS.get(network)
    if planner is None:
        planner = _PLANNERS[network] = Planner(network)
    return planner.plan(query, rules=rules, methodology=methodology)
