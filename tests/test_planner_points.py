"""Points rules: each scheme, caps, zero reduction, ineligible modes and the public-pile EV case.

Expected points are computed by hand here from the raw TOML numbers, not from the module.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from graphs.factors import load_factor_table
from planner.errors import PointsRulesError
from planner.model import PointsAward
from planner.points import apply_daily_cap, award_points, load_points_rules

DATA_DIR = Path(__file__).parents[1] / "planner" / "data"


@dataclass(frozen=True)
class L:
    """The three attributes award_points reads."""

    mode: str
    distance_m: float
    co2e_g: float


def _toml(path: Path) -> dict:
    with path.open("rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(scope="module")
def per_gram(fixtures_dir):
    return load_points_rules(fixtures_dir / "points_per_gram.toml")


@pytest.fixture(scope="module")
def flat(fixtures_dir):
    return load_points_rules(fixtures_dir / "points_flat.toml")


def test_per_gram_floor_of_reduction(per_gram, fixtures_dir):
    raw = _toml(fixtures_dir / "points_per_gram.toml")
    legs = [L("walk", 450, 0.0), L("bus", 4000, 4 * 50.0), L("walk", 200, 0.0)]
    baseline = 5 * 200.0          # 5 km by a 200 g/km petrol car
    award = award_points(legs, baseline_co2e_g=baseline, rules=per_gram)
    assert isinstance(award, PointsAward)
    assert award.reduction_g == 1000 - 200
    assert award.points == min(math.floor(800 / raw["grams_per_point"]), raw["max_points_per_trip"])
    assert award.points == 30 and award.capped          # floor(800 / 25) = 32 > cap 30
    assert award.rule == "per_gram" and award.rules_id == "fixture-per-gram@1"


def test_per_gram_below_cap_is_not_capped(per_gram):
    award = award_points([L("metro", 3000, 60.0)], baseline_co2e_g=600.0, rules=per_gram)
    assert award.points == math.floor((600 - 60) / 25) == 21
    assert not award.capped


@pytest.mark.parametrize("itinerary_g", [500.0, 700.0])
def test_zero_or_negative_reduction_earns_nothing(per_gram, flat, itinerary_g):
    for rules in (per_gram, flat):
        award = award_points([L("bus", 3000, itinerary_g)], baseline_co2e_g=500.0, rules=rules)
        assert award.points == 0 and award.reduction_g == 0


def test_per_gram_ineligible_mode_voids_the_trip(per_gram):
    legs = [L("taxi", 2000, 300.0), L("metro", 8000, 160.0)]
    award = award_points(legs, baseline_co2e_g=2000.0, rules=per_gram)
    assert award.points == 0 and award.reduction_g == 2000 - 460
    assert "taxi" in award.explanation


def test_short_walk_alone_earns_nothing(per_gram):
    award = award_points([L("walk", 399, 0.0)], baseline_co2e_g=80.0, rules=per_gram)
    assert award.points == 0 and award.reduction_g == 80


def test_flat_per_ride_sums_qualifying_legs(flat, fixtures_dir):
    ride = _toml(fixtures_dir / "points_flat.toml")["points_per_ride"]
    legs = [L("walk", 900, 0.0), L("bus", 3000, 150.0), L("walk", 100, 0.0),
            L("taxi", 1000, 150.0)]
    award = award_points(legs, baseline_co2e_g=1500.0, rules=flat)
    assert award.points == ride["walk"] + ride["bus"]   # short walk and taxi earn nothing
    assert award.rule == "flat_per_ride" and not award.capped


def test_flat_per_ride_trip_cap(flat, fixtures_dir):
    raw = _toml(fixtures_dir / "points_flat.toml")
    legs = [L("bus", 3000, 150.0), L("metro", 5000, 100.0), L("metro", 5000, 100.0)]
    award = award_points(legs, baseline_co2e_g=3000.0, rules=flat)
    uncapped = raw["points_per_ride"]["bus"] + 2 * raw["points_per_ride"]["metro"]
    assert uncapped > raw["max_points_per_trip"]
    assert award.points == raw["max_points_per_trip"] and award.capped


def test_daily_cap_in_trip_order(per_gram, flat):
    assert apply_daily_cap([30, 15, 10, 5], per_gram) == [30, 15, 5, 0]      # cap 50
    assert apply_daily_cap([20, 20, 20], flat) == [20, 10, 0]                # cap 30
    assert apply_daily_cap([], flat) == []


def test_daily_cap_never_negative(per_gram):
    assert apply_daily_cap([-3, 60], per_gram) == [0, 50]


def test_ev_charged_at_public_pile_earns_against_petrol_baseline():
    """Phase two: a BEV trip charged at a public pile, measured against a petrol car (cn factors)."""
    rules = load_points_rules("default")
    raw_rules = _toml(DATA_DIR / "points_default.toml")
    raw_factors = _toml(Path(__file__).parents[1] / "graphs/data/factors/cn.toml")["factors"]
    km = 12.0
    bev_g = km * raw_factors["car_bev"]["g_per_pkm"]
    petrol_g = km * raw_factors["car_petrol"]["g_per_pkm"]
    expected = min(math.floor((petrol_g - bev_g) / raw_rules["grams_per_point"]),
                   raw_rules["max_points_per_trip"])
    assert expected > 0
    legs = [L("car_bev", km * 1000, bev_g)]
    at_pile = award_points(legs, baseline_co2e_g=petrol_g, rules=rules, charged_at_public_pile=True)
    assert at_pile.points == expected
    assert at_pile.reduction_g == pytest.approx(petrol_g - bev_g)
    at_home = award_points(legs, baseline_co2e_g=petrol_g, rules=rules)
    assert at_home.points == 0
    assert at_home.reduction_g == pytest.approx(petrol_g - bev_g)
    assert "pile" in at_home.explanation


def test_ev_flat_ride_only_at_pile(flat, fixtures_dir):
    ride = _toml(fixtures_dir / "points_flat.toml")["points_per_ride"]
    legs = [L("car_bev", 10_000, 600.0)]
    assert award_points(legs, baseline_co2e_g=2000.0, rules=flat,
                        charged_at_public_pile=True).points == ride["car_bev"]
    assert award_points(legs, baseline_co2e_g=2000.0, rules=flat).points == 0


def test_default_bus_and_metro_trip_with_cn_factors():
    table = load_factor_table("cn")
    rules = load_points_rules()
    legs = [L("walk", 600, 0.0), L("bus", 5000, 5 * table.g_per_pkm("bus")),
            L("metro", 7000, 7 * table.g_per_pkm("metro"))]
    baseline = 11.0 * table.g_per_pkm("car_petrol")
    itinerary = 5 * 56.2 + 7 * 32.11
    assert award_points(legs, baseline_co2e_g=baseline, rules=rules).points == \
        min(math.floor((11 * 161.56 - itinerary) / 10), 200)


@pytest.mark.parametrize("name", ["default", "flat_per_ride"])
def test_presets_load_and_serialize(name):
    rules = load_points_rules(name)
    data = rules.to_dict()
    assert data["label"] == rules.label == f"{rules.id}@{rules.version}"
    assert data["scheme"] in ("per_gram", "flat_per_ride") and data["source"]
    assert "car_bev" in data["eligible_modes"]


@pytest.mark.parametrize(("old", "new", "field"), [
    ('scheme = "per_gram"', 'scheme = "lottery"', "scheme"),
    ("grams_per_point = 25", "grams_per_point = 0", "grams_per_point"),
    ("grams_per_point = 25\n", "", "grams_per_point"),
    ('"metro", "car_bev"]', '"metro", "jetpack"]', "eligible_modes"),
    ("max_points_per_trip = 30", "max_points_per_trip = -5", "max_points_per_trip"),
    ("walk = 400", "walk = -1", "min_distance_m.walk"),
    ('source = "test fixture"\n', "", "source"),
    ("max_points_per_day = 50", "max_points_per_day = 50\nbonus = 3", "bonus"),
])
def test_malformed_rules_name_the_field(fixtures_dir, tmp_path, old, new, field):
    text = (fixtures_dir / "points_per_gram.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PointsRulesError) as info:
        load_points_rules(path)
    assert field in str(info.value) and str(path) in str(info.value)


def test_flat_without_amounts_and_missing_file(fixtures_dir, tmp_path):
    text = (fixtures_dir / "points_flat.toml").read_text(encoding="utf-8")
    path = tmp_path / "flat.toml"
    path.write_text(text[:text.index("[points_per_ride]")], encoding="utf-8")
    with pytest.raises(PointsRulesError, match="points_per_ride"):
        load_points_rules(path)
    with pytest.raises(PointsRulesError, match="no such"):
        load_points_rules(tmp_path / "absent.toml")
