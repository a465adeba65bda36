"""Points presets of published programmes: each reproduces the amounts its source publishes."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from planner.errors import PointsRulesError
from planner.points import (
    POINTS_PRESETS,
    award_points,
    load_points_rules,
    points_for_steps,
)


@dataclass(frozen=True)
class _Leg:
    mode: str
    distance_m: float
    co2e_g: float


@pytest.mark.parametrize("name", POINTS_PRESETS)
def test_every_preset_loads_with_a_source(name):
    rules = load_points_rules(name)
    assert rules.source.strip()
    data = rules.to_dict()
    assert data["label"] == rules.label and "sources" in data


def test_hubei_bus_and_metro_rides_earn_the_published_52_and_137():
    """湖北日报 2022-02-17: 打卡 52 points per bus ride, 137 per metro ride."""
    rules = load_points_rules("hubei-tantan")
    bus = award_points([_Leg("bus", 6000, 337.2)], reduction_g=500.0, rules=rules)
    metro = award_points([_Leg("metro", 9000, 289.0)], reduction_g=800.0, rules=rules)
    both = award_points([_Leg("bus", 3000, 168.6), _Leg("metro", 9000, 289.0)], reduction_g=900.0,
                        rules=rules)
    assert (bus.points, metro.points, both.points) == (52.0, 137.0, 189.0)
    assert rules.grams_per_point == 1  # 碳积分以1:1兑换为碳减排量


def test_hubei_steps_reproduce_the_reporters_7250_steps_145_points():
    assert points_for_steps(7250, load_points_rules("hubei-tantan")) == pytest.approx(145.0)


def test_hubei_walk_legs_earn_no_step_points_without_a_published_step_length():
    rules = load_points_rules("hubei-tantan")
    assert rules.step_length_m is None
    award = award_points([_Leg("walk", 2000, 0.0), _Leg("bus", 5000, 281.0)], reduction_g=400.0,
                         rules=rules)
    assert award.points == 52.0


def test_step_points_on_walk_legs_when_the_operator_gives_a_step_length(tmp_path):
    preset = Path(__file__).parents[1] / "planner" / "data" / "points_hubei-tantan.toml"
    text = preset.read_text(encoding="utf-8").replace(
        "points_per_step = 0.02", "points_per_step = 0.02\nstep_length_m = 0.5")
    path = tmp_path / "r.toml"
    path.write_text(text, encoding="utf-8")
    award = award_points([_Leg("walk", 1000, 0.0)], reduction_g=100.0,
                         rules=load_points_rules(path))
    assert award.points == pytest.approx(1000 / 0.5 * 0.02)


def test_steps_need_the_option_and_a_count():
    with pytest.raises(PointsRulesError, match="points_per_step"):
        points_for_steps(100, load_points_rules("zhengzhou"))
    with pytest.raises(PointsRulesError):
        points_for_steps(-1, load_points_rules("hubei-tantan"))


def test_zhengzhou_bus_ride_earns_10_and_metro_nothing():
    rules = load_points_rules("zhengzhou")
    award = award_points([_Leg("bus", 4000, 224.8), _Leg("metro", 5000, 160.0)], reduction_g=300.0,
                         rules=rules)
    assert award.points == 10.0


def test_shenzhen_per_km_is_the_published_reduction_at_one_point_per_gram():
    rules = load_points_rules("shenzhen-per-km")
    award = award_points([_Leg("walk", 300, 0.0), _Leg("metro", 10_000, 321.1),
                          _Leg("bus", 2_000, 112.4)], reduction_g=521.0, rules=rules)
    assert award.points == float(int(10 * 46.7 + 2 * 26.9))  # 520, rounded down


def test_no_reduction_means_no_points_under_every_preset():
    for name in POINTS_PRESETS:
        award = award_points([_Leg("bus", 5000, 281.0)], reduction_g=0.0,
                             rules=load_points_rules(name))
        assert award.points == 0.0, name


def test_award_needs_exactly_one_of_reduction_and_baseline():
    rules = load_points_rules("zhengzhou")
    with pytest.raises(PointsRulesError):
        award_points([_Leg("bus", 5000, 281.0)], rules=rules)
    with pytest.raises(PointsRulesError):
        award_points([_Leg("bus", 5000, 281.0)], rules=rules, reduction_g=1.0, baseline_co2e_g=2.0)
