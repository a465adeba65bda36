"""Points per leg: each itinerary's points shared among its legs, summing to the total.

Oracles: hand-computed largest-remainder shares; the rule sets' own per-ride and per-km rates
(a leg's share is exactly its rate when nothing is capped); the methodology's per-leg credits
(Shenzhen credits no walking, so walk legs get nothing); and the itinerary totals.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import pytest

from api.app import create_app
from planner import Planner, make_query
from planner.points import award_points, load_points_rules, share_points


@dataclass(frozen=True)
class _Leg:
    mode: str
    distance_m: float
    co2e_g: float


def test_whole_points_go_to_the_largest_remainders():
    # quotas 7 x (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4 -> floors 3, 2, 1 and the one left to 3.5
    assert share_points(7.0, [5, 3, 2]) == (4.0, 2.0, 1.0)
    # equal remainders: the first leg first
    assert share_points(1.0, [1, 1]) == (1.0, 0.0)
    assert share_points(3.0, [1, 1, 1]) == (1.0, 1.0, 1.0)


def test_negative_and_zero_weights_get_nothing():
    assert share_points(10.0, [-50.0, 0.0, 30.0, 10.0]) == (0.0, 0.0, 8.0, 2.0)
    assert share_points(0.0, [1.0, 2.0]) == (0.0, 0.0)
    assert share_points(5.0, [-1.0, 0.0]) == (0.0, 0.0)


def test_fractional_points_are_shared_in_proportion_and_sum_exactly():
    shares = share_points(2.5, [1.0, 3.0, 0.0])
    assert shares[0] == pytest.approx(0.625) and shares[2] == 0.0
    assert math.fsum(shares) == 2.5


def test_per_gram_shares_the_baseline_spread_by_distance():
    """tanlu-default: 1 point per 100 g. A 1 km walk and a 9 km bus (500 g) against a 2,000 g
    baseline: walk 200 - 0 = 200 g, bus 1,800 - 500 = 1,300 g; 15 points -> 2 and 13."""
    rules = load_points_rules("default")
    legs = [_Leg("walk", 1000, 0.0), _Leg("bus", 9000, 500.0)]
    award = award_points(legs, baseline_co2e_g=2000.0, rules=rules)
    assert award.points == math.floor(1500 / rules.grams_per_point)
    quotas = [award.points * 200 / 1500, award.points * 1300 / 1500]
    assert award.per_leg == share_points(award.points, [200, 1300])
    assert [math.floor(q) for q in quotas] == [math.floor(x) for x in award.per_leg]


def test_flat_per_ride_shares_are_the_published_ride_amounts():
    rules = load_points_rules("hubei-tantan")
    award = award_points([_Leg("walk", 400, 0.0), _Leg("bus", 3000, 168.6),
                          _Leg("metro", 9000, 289.0)], reduction_g=900.0, rules=rules)
    assert award.per_leg == (0.0, 52.0, 137.0) and award.points == 189.0


@pytest.fixture(scope="module")
def planner(poa_network):
    return Planner(poa_network)


PAIRS = [((-30.0277, -51.2287), (-29.9950, -51.1720)),   # Centro -> north, bus and Trensurb
         ((-30.0331, -51.2300), (-30.0600, -51.1750))]


@pytest.mark.parametrize("rules", ["default", "flat_per_ride", "hubei-tantan", "zhengzhou",
                                   "shenzhen-per-km"])
@pytest.mark.parametrize("methodology", ["tanlu-car", "shenzhen-2021"])
def test_every_itinerary_shares_its_points_among_its_legs(planner, rules, methodology):
    method_kinds = {"shenzhen-2021": "per_km_reduction"}
    rule_set = load_points_rules(rules)
    earned = []
    for origin, destination in PAIRS:
        query = make_query(origin=origin, destination=destination,
                           when=datetime(2019, 5, 13, 12, 30), modes=("walk", "transit"),
                           access_modes=("bike",))
        plan = planner.plan(query, rules=rule_set, methodology=methodology)
        for it in plan.itineraries:
            shares = it.points.per_leg
            assert len(shares) == len(it.legs)
            assert math.fsum(shares) == pytest.approx(it.points.points, abs=1e-9)
            assert all(x >= 0 for x in shares)
            for leg, share in zip(it.legs, shares, strict=True):
                if method_kinds.get(methodology) == "per_km_reduction" and \
                        rule_set.scheme == "per_gram" and leg.mode == "walk":
                    assert share == 0.0  # Shenzhen credits no walking
                if rule_set.scheme == "flat_per_ride" and not it.points.capped \
                        and it.points.points > 0 and leg.mode != "walk":
                    rides = (leg.mode in rule_set.eligible_modes and leg.distance_m > 0
                             and leg.distance_m >= rule_set.min_distance_m.get(leg.mode, 0.0))
                    assert share == (rule_set.points_per_ride.get(leg.mode, 0.0) if rides
                                     else 0.0)
            earned.append(it.points.points)
    assert max(earned) > 0  # not a vacuous check


def test_http_legs_carry_their_points(poa_network):
    client = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()
    body = client.get("/v1/plan?from=-30.0277,-51.2287&to=-29.9950,-51.1720"
                      "&at=2019-05-13T12:30:00&modes=walk,transit").get_json()
    assert body["itineraries"]
    for it in body["itineraries"]:
        assert [leg["points"] for leg in it["legs"]] == it["points"]["per_leg"]
        assert math.fsum(it["points"]["per_leg"]) == pytest.approx(it["points"]["points"])
    given = client.post("/v1/points", json={"legs": [{"mode": "walk", "distance_m": 800},
                                                     {"mode": "metro", "distance_m": 9000}]})
    data = given.get_json()
    assert given.status_code == 200, data
    assert math.fsum(leg["points"] for leg in data["legs"]) == pytest.approx(
        data["points"]["points"])
