"""A tiny hand-made network and plan function for tests of the HTTP edge (no build, no planner).

The network is a 4-node walk layer around central Porto Alegre with a timetable whose only
service runs 2019-05-01..2019-05-31; the plan function answers with a walk-bus-walk itinerary
and a car itinerary built from ``planner.model`` value objects.
"""
from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import numpy as np

from graphs.network import ChargingStations, Network, StreetLayer, Timetable
from planner.errors import NoRouteError, OutsideCoverageError
from planner.model import Baseline, Itinerary, Leg, Place, Plan, PointsAward, Query

BBOX = (-51.25, -30.06, -51.19, -30.01)  # west, south, east, north
ORIGIN = "-30.0277,-51.2287"
DESTINATION = "-30.0346,-51.2077"
IN_SERVICE = "2019-05-06T08:00:00-03:00"
SERVICE_START, SERVICE_END = "2019-05-01", "2019-05-31"
CAR_G_PER_PKM = 180.0
BUS_G_PER_PKM = 60.0


class FakeRules:
    """Stands in for planner.points.PointsRules: one point per 100 g saved."""

    label = "fake@1"

    def to_dict(self) -> dict[str, Any]:
        return {"id": "fake", "version": "1", "rule": "per_gram", "points_per_g": 0.01}


def fake_network() -> Network:
    west, south, east, north = BBOX
    lon = np.array([west, east, east, west])
    lat = np.array([south, south, north, north])
    walk = StreetLayer(
        name="walk", node_osmid=np.arange(4, dtype=np.int64), node_lon=lon, node_lat=lat,
        indptr=np.array([0, 1, 2, 3, 4], dtype=np.int64),
        edge_tail=np.arange(4, dtype=np.int32), edge_head=np.array([1, 2, 3, 0], np.int32),
        edge_length_m=np.full(4, 5000, np.float32), edge_duration_s=np.full(4, 3700, np.float32),
        edge_name=np.full(4, -1, np.int32), names=np.array([], dtype=str),
        geometry_indptr=np.zeros(5, np.int64), geometry_lonlat=np.zeros((0, 2)))
    empty = {f.name: np.zeros(0) for f in dataclasses.fields(Timetable)}
    days = 31
    timetable = Timetable(**{**empty, "feed_names": np.array(["eptc", "trensurb"]),
                             "route_mode": np.array(["bus", "metro"]),
                             "service_id": np.array(["eptc:weekday"]),
                             "service_first_date": SERVICE_START,
                             "service_active": np.ones((1, days), dtype=bool)})
    charging = ChargingStations(*(np.zeros(0) for _ in range(6)))
    manifest = {"tanlu_version": "0.1.0", "format_version": 1, "built_at": "2019-05-01T00:00:00",
                "timezone": "America/Sao_Paulo", "factor_table": "cn@test",
                "factors": {"id": "cn", "version": "test", "factors": {}},
                "coverage": {"bbox": list(BBOX)}, "layers": ["walk"],
                "inputs": [{"kind": "osm", "name": "poa.pbf", "sha256": "0" * 64}]}
    return Network(manifest=manifest, streets={"walk": walk}, timetable=timetable,
                   charging_stations=charging)


def fake_plan(options: dict[str, Any]) -> Plan:
    """A plan for ``options`` (``planner.make_query`` keywords) that never looks at a graph.

    ``modes={"ferry"}`` raises NoRouteError; an origin east of -51.20 raises
    OutsideCoverageError (as a snap failure would).
    """
    if options.get("modes") == frozenset({"ferry"}):
        raise NoRouteError("no ferry serves these points")
    (o_lat, o_lon), (d_lat, d_lon) = options["origin"], options["destination"]
    if o_lon > -51.20:
        raise OutsideCoverageError("origin is 800 m from the nearest street (limit 500 m)",
                                   field="origin")
    query = Query(origin_lat=o_lat, origin_lon=o_lon, destination_lat=d_lat,
                  destination_lon=d_lon, when=options["when"])
    a = Place("Origin", query.origin_lat, query.origin_lon)
    s1 = Place("Stop <A> & \"B\"", query.origin_lat, query.origin_lon + 0.002, "eptc:1")
    s2 = Place("Stop C", query.destination_lat, query.destination_lon - 0.002, "eptc:2")
    b = Place("Destination", query.destination_lat, query.destination_lon)
    t0 = query.when
    walk1 = _leg("walk", a, s1, t0, 240, 200, 0.0)
    bus = _leg("bus", s1, s2, t0 + timedelta(seconds=300), 900, 2100, BUS_G_PER_PKM,
               route_short_name="T5", headsign="Centro")
    walk2 = _leg("walk", s2, b, t0 + timedelta(seconds=1200), 240, 200, 0.0)
    car = _leg("car_petrol", a, b, t0, 600, 2600, CAR_G_PER_PKM)
    baseline = Baseline("car_petrol", 2600, 600, CAR_G_PER_PKM * 2.6, CAR_G_PER_PKM, "car_network")
    transit = _itinerary((walk1, bus, walk2), baseline, {"recommended", "lowest_carbon"})
    driving = _itinerary((car,), baseline, {"fastest"})
    return Plan(query=query, itineraries=(transit, driving), baseline=baseline, recommended=0,
                fastest=1, lowest_carbon=0, time_budget_s=1800, factor_table="cn@test",
                points_rules="fake@1")


def _leg(mode: str, start: Place, end: Place, departure, duration_s: float, distance_m: float,
         g_per_pkm: float, **extra: Any) -> Leg:
    line = ((start.lon, start.lat), ((start.lon + end.lon) / 2, start.lat), (end.lon, end.lat))
    return Leg(mode=mode, from_place=start, to_place=end, departure=departure,
               arrival=departure + timedelta(seconds=duration_s), distance_m=distance_m,
               co2e_g=g_per_pkm * distance_m / 1000, co2e_g_per_pkm=g_per_pkm,
               co2e_factor=mode, geometry=line, **extra)


def _itinerary(legs: tuple[Leg, ...], baseline: Baseline, tags: set[str]) -> Itinerary:
    co2e_g = sum(leg.co2e_g for leg in legs)
    reduction_g = baseline.co2e_g - co2e_g
    return Itinerary(legs=legs, co2e_g=co2e_g, distance_m=sum(leg.distance_m for leg in legs),
                     transfers=0, reduction_g=reduction_g,
                     points=PointsAward(points=round(reduction_g * 0.01, 1),
                                        reduction_g=reduction_g, rules_id="fake",
                                        rule="per_gram"),
                     tags=frozenset(tags))


def make_fake_app(**config: Any):
    """The app on the fake network with the fake planner and rules; ``config`` adds settings."""
    from api.app import create_app

    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": fake_network(),
                       "TANLU_PLAN": fake_plan, "TANLU_RULES": FakeRules(), **config})


def plan_query(**extra: str) -> dict[str, str]:
    """Query-string parameters of a valid plan request on the fake network."""
    return {"from": ORIGIN, "to": DESTINATION, "at": IN_SERVICE, **extra}
