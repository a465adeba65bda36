"""planner.baseline and planner.accounting: every baseline kind, given legs' CO2e and points, and
the one rule choosing the itinerary that stands for a claim.

Oracles are hand arithmetic on a made-up factor table (g per passenger-km), written out here.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from planner.accounting import account_legs, claim_itinerary, uses_only_claimed_modes
from planner.baseline import BASELINE_METHODS, CROW_FLY_SPEED_MPS, legs_baseline, plan_baseline
from planner.errors import NoRouteError
from planner.itineraries import CAR_CONNECTOR_SPEED_MPS
from planner.model import Baseline, Itinerary, Leg, Place, Plan, PointsAward
from planner.points import load_points_rules
from planner.query import make_query
from planner.street_search import StreetPath

G_PER_PKM = {"car_petrol": 180.0, "car_bev": 80.0, "bus": 60.0, "metro": 30.0, "walk": 0.0,
             "bike": 0.0, "bikeshare": 0.0, "taxi": 200.0}


class Factors:
    """A factor table with round numbers (the protocol planner.baseline reads)."""

    label = "test@1"

    def g_per_pkm(self, key: str) -> float:
        return G_PER_PKM[key]


@pytest.fixture(scope="module")
def rules():
    rules = load_points_rules("default")
    # the numbers the hand-computed points below assume (docs/points.md, default preset)
    assert rules.grams_per_point == 10 and rules.max_points_per_trip == 200
    assert rules.min_distance_m["walk"] == 500
    return rules


def test_car_network_baseline():
    path = StreetPath(nodes=(0, 1), edges=(0,), length_m=4000.0, duration_s=400.0)
    baseline = plan_baseline(path, crow_m=3000.0, connector_m=100.0, factors=Factors())
    assert baseline.method == "car_network" and baseline.mode == "car_petrol"
    assert baseline.distance_m == 4100.0
    assert baseline.co2e_g == pytest.approx(180.0 * 4.1)             # 738 g
    assert baseline.duration_s == pytest.approx(400.0 + 100.0 / CAR_CONNECTOR_SPEED_MPS)
    assert baseline.co2e_g_per_pkm == 180.0


def test_crow_fly_detour_baseline_without_a_car_path():
    baseline = plan_baseline(None, crow_m=1000.0, connector_m=55.0, factors=Factors())
    assert baseline.method == "crow_fly_detour" and baseline.mode == "car_petrol"
    assert baseline.distance_m == pytest.approx(1300.0)             # 1.3 x crow-fly
    assert baseline.co2e_g == pytest.approx(180.0 * 1.3)            # 234 g
    assert baseline.duration_s == pytest.approx(1300.0 / CROW_FLY_SPEED_MPS)
    assert CROW_FLY_SPEED_MPS == pytest.approx(30 / 3.6)


def test_same_distance_and_given_baselines():
    same = legs_baseline(5600.0, factors=Factors())
    assert (same.method, same.mode, same.duration_s) == ("same_distance", "car_petrol", None)
    assert same.co2e_g == pytest.approx(180.0 * 5.6)                # 1008 g
    given = legs_baseline(5600.0, factors=Factors(), given_co2e_g=500.0)
    assert (given.method, given.mode, given.co2e_g, given.co2e_g_per_pkm) == ("given", None, 500.0,
                                                                              None)
    assert {b.method for b in (same, given)} | {"car_network", "crow_fly_detour"} \
        == set(BASELINE_METHODS)


def test_a_shared_bike_ride_earns_points_like_an_own_bike(rules):
    """Carbon-inclusion programmes pay for shared-bike rides (骑行); the default rules must too."""
    shared = account_legs([("bikeshare", 3000.0)], factors=Factors(), rules=rules,
                          factor_table="test@1")
    own = account_legs([("bike", 3000.0)], factors=Factors(), rules=rules, factor_table="test@1")
    assert shared.points.points == own.points.points == pytest.approx(180.0 * 3.0 / 10)


def test_given_legs_against_the_same_distance(rules):
    account = account_legs([("bus", 5200.0), ("walk", 400.0)], factors=Factors(), rules=rules,
                           factor_table="test@1")
    assert [leg.co2e_g for leg in account.legs] == pytest.approx([60.0 * 5.2, 0.0])
    assert account.co2e_g == pytest.approx(312.0) and account.distance_m == 5600.0
    assert account.baseline.method == "same_distance"
    assert account.baseline.co2e_g == pytest.approx(1008.0)
    assert account.reduction_g == pytest.approx(1008.0 - 312.0)
    # the 400 m walk is below its 500 m minimum but does not void the bus: floor(696 / 10)
    assert account.points.points == 69
    assert (account.factor_table, account.points_rules) == ("test@1", rules.label)


def test_given_legs_against_a_given_baseline(rules):
    account = account_legs([("bus", 5200.0)], factors=Factors(), rules=rules,
                           factor_table="test@1", baseline_co2e_g=500.0)
    assert account.baseline.method == "given" and account.reduction_g == pytest.approx(188.0)
    assert account.points.points == 18                              # floor(188 / 10)
    none = account_legs([("bus", 5200.0)], factors=Factors(), rules=rules,
                        factor_table="test@1", baseline_co2e_g=100.0)
    assert none.reduction_g == 0 and none.points.points == 0        # never negative


def test_ev_legs_earn_points_only_at_a_public_pile(rules):
    legs = [("car_bev", 12_000.0)]
    home = account_legs(legs, factors=Factors(), rules=rules, factor_table="t")
    pile = account_legs(legs, factors=Factors(), rules=rules, factor_table="t",
                        charged_at_public_pile=True)
    assert home.reduction_g == pile.reduction_g == pytest.approx((180.0 - 80.0) * 12.0)
    assert home.points.points == 0 and pile.points.points == 120    # floor(1200 / 10)
    capped = account_legs([("car_bev", 40_000.0)], factors=Factors(), rules=rules,
                          factor_table="t", charged_at_public_pile=True)
    assert capped.points.points == 200 and capped.points.capped     # 400 capped at 200


# -- the claim rule -------------------------------------------------------------------------
T0 = datetime(2019, 5, 6, 8, 0, tzinfo=timezone(timedelta(hours=-3)))
HERE = Place("here", -30.0, -51.0)


def _itinerary(*legs: tuple[str, float, float]) -> Itinerary:
    """Itinerary of (mode, minutes, co2e_g) legs back to back from T0."""
    out, start = [], T0
    for mode, minutes, co2e_g in legs:
        end = start + timedelta(minutes=minutes)
        out.append(Leg(mode=mode, from_place=HERE, to_place=HERE, departure=start, arrival=end,
                       distance_m=1000.0, co2e_g=co2e_g, co2e_g_per_pkm=co2e_g,
                       co2e_factor=mode, geometry=((-51.0, -30.0), (-51.0, -30.0))))
        start = end
    co2e = math.fsum(c for _, _, c in legs)
    return Itinerary(legs=tuple(out), co2e_g=co2e, distance_m=1000.0 * len(out), transfers=0,
                     reduction_g=0.0, points=PointsAward(0.0, 0.0, "t", "per_gram"))


def _plan(*itineraries: Itinerary) -> Plan:
    query = make_query(origin=(-30.0, -51.0), destination=(-30.01, -51.0), when=T0)
    baseline = Baseline("car_petrol", 1300.0, 156.0, 234.0, 180.0, "crow_fly_detour")
    return Plan(query=query, itineraries=itineraries, baseline=baseline, recommended=0,
                fastest=0, lowest_carbon=0, time_budget_s=0.0, factor_table="t",
                points_rules="t")


def test_claim_rule_fastest_itinerary_on_only_the_claimed_modes():
    walk = _itinerary(("walk", 20, 0))
    bus = _itinerary(("walk", 5, 0), ("bus", 20, 60), ("walk", 5, 0))
    metro = _itinerary(("walk", 3, 0), ("metro", 10, 30), ("walk", 3, 0))
    bike = _itinerary(("bike", 12, 0))
    plan = _plan(walk, bus, metro, bike)
    assert claim_itinerary(plan, ("bus",)) is bus                  # walk-only never stands for a bus
    assert claim_itinerary(plan, ("transit",)) is metro            # any transit mode, fastest
    assert claim_itinerary(plan, ("walk", "bus")) is bus
    assert claim_itinerary(plan, ("walk",)) is walk
    assert claim_itinerary(plan, ("walk", "bike")) is bike
    assert claim_itinerary(_plan(walk, _itinerary(("bike", 25, 0))), ("walk", "bike")).modes \
        == ("bike",)                                               # the bike, though slower
    with pytest.raises(NoRouteError, match="taxi"):
        claim_itinerary(plan, ("taxi",))
    assert not uses_only_claimed_modes(("walk", "metro", "walk"), ("bus",))
    assert uses_only_claimed_modes(("walk", "metro", "bus", "walk"), ("bus", "metro"))
    assert not uses_only_claimed_modes(("walk",), ("transit",))


def test_claim_rule_breaks_ties_by_lower_co2e_then_plan_order():
    dirty = _itinerary(("walk", 2, 0), ("bus", 20, 90), ("walk", 3, 0))
    clean = _itinerary(("walk", 2, 0), ("bus", 20, 40), ("walk", 3, 0))
    same = _itinerary(("walk", 2, 0), ("bus", 20, 40), ("walk", 3, 0))
    assert claim_itinerary(_plan(dirty, clean, same), ("bus",)) is clean
