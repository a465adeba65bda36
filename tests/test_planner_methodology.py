"""Methodologies: published figures reproduced, the formulas checked by hand, bad files refused."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from graphs.factors import load_factor_table
from planner.errors import MethodologyError
from planner.methodology import (
    DEFAULT_METHODOLOGY,
    METHODOLOGY_PRESETS,
    load_methodology,
    methodology_of,
    reduction_for_legs,
)

DATA = Path(__file__).parents[1] / "planner" / "data" / "methodologies"
CN = load_factor_table("cn")


@dataclass(frozen=True)
class _Leg:
    mode: str
    distance_m: float
    co2e_g: float


def _leg(mode: str, km: float) -> _Leg:
    return _Leg(mode, km * 1000.0, km * CN.g_per_pkm(mode))


@pytest.mark.parametrize("name", METHODOLOGY_PRESETS)
def test_presets_load_with_sources_and_clauses(name):
    m = load_methodology(name)
    assert m.label == f"{m.id}@{m.version}" and m.id == name
    assert m.source.strip() and m.clause.strip()
    for value in (*m.baseline_mix.values(), *m.reduction_g_per_pkm.values()):
        assert value.source.strip() and value.clause.strip() and value.verified in (True, False)
    assert m.to_dict()["label"] == m.label


def test_default_is_the_petrol_car_baseline():
    m = methodology_of(None)
    assert m.id == DEFAULT_METHODOLOGY == "tanlu-car"
    assert m.kind == "baseline_mode" and m.baseline_mode == "car_petrol"


@pytest.mark.parametrize(("mode", "published"), [("bus", 26.9), ("metro", 46.7)])
def test_shenzhen_reproduces_its_published_per_km_reductions(mode, published):
    """深圳商报 2022-09-23: 每人每公里可减少26.9克 (纯电动公交) / 46.7克 (地铁)."""
    m = load_methodology("shenzhen-2021")
    for km in (0.8, 7.3, 23.0):
        result = reduction_for_legs([_leg(mode, km)], methodology=m, factors=CN)
        assert round(result.reduction_g / km, 1) == published  # to the published precision
        assert result.baseline_co2e_g is None and result.methodology == "shenzhen-2021@2021.1"


def test_shenzhen_credits_only_bus_and_metro_legs():
    m = load_methodology("shenzhen-2021")
    legs = [_leg("walk", 0.4), _leg("bus", 5.0), _leg("metro", 10.0), _leg("bike", 2.0)]
    result = reduction_for_legs(legs, methodology=m, factors=CN)
    assert result.reduction_g == pytest.approx(5.0 * 26.9 + 10.0 * 46.7)
    assert "bike, walk not credited" in result.explanation
    car = reduction_for_legs([_leg("car_petrol", 10.0)], methodology=m, factors=CN)
    assert car.reduction_g == 0.0


def test_tanlu_car_is_petrol_car_route_minus_itinerary():
    m = load_methodology("tanlu-car")
    legs = [_leg("walk", 0.5), _leg("bus", 10.0)]
    result = reduction_for_legs(legs, methodology=m, factors=CN, car_distance_m=12_000)
    assert result.baseline_co2e_g == pytest.approx(12 * 161.56)
    assert result.reduction_g == pytest.approx(12 * 161.56 - 10 * 56.2)
    with pytest.raises(MethodologyError, match="car distance"):
        reduction_for_legs(legs, methodology=m, factors=CN)


def test_tanlu_car_reduction_is_never_negative():
    m = load_methodology("tanlu-car")
    legs = [_leg("car_petrol", 20.0)]
    assert reduction_for_legs(legs, methodology=m, factors=CN, car_distance_m=12_000).reduction_g == 0


@pytest.mark.parametrize("name", ["db11-3043-2024", "db33-1312-2023"])
def test_mix_methodologies_refuse_to_run_without_the_operators_mix(name):
    m = load_methodology(name)
    assert m.needs and not m.baseline_mix
    with pytest.raises(MethodologyError, match="copy this file"):
        reduction_for_legs([_leg("bus", 5.0)], methodology=m, factors=CN, car_distance_m=6000)


def _filled(tmp_path: Path, name: str, mix: dict[str, float]) -> Path:
    text = (DATA / f"{name}.toml").read_text(encoding="utf-8")
    for mode, share in mix.items():
        text += (f"\n[baseline_mix.{mode}]\nvalue = {share}\nsource = 'test city survey'\n"
                 "clause = 'test'\nyear = 2024\nverified = false\n")
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_db11_formula_1_with_an_operators_high_carbon_mix(tmp_path):
    m = load_methodology(_filled(tmp_path, "db11-3043-2024", {"car_petrol": 3, "taxi": 1}))
    assert not m.needs and m.unverified == ("baseline_mix.car_petrol", "baseline_mix.taxi")
    legs = [_leg("walk", 0.3), _leg("metro", 8.0)]
    result = reduction_for_legs(legs, methodology=m, factors=CN, car_distance_m=9_000)
    # BE = EF x BD, EF = (3 x car + 1 x taxi) / 4 over the car route; PE = the legs' factors x km
    ef = (3 * CN.g_per_pkm("car_petrol") + CN.g_per_pkm("taxi")) / 4
    assert result.baseline_co2e_g == pytest.approx(ef * 9.0)
    assert result.reduction_g == pytest.approx(ef * 9.0 - 8.0 * CN.g_per_pkm("metro"))


def test_db33_combined_level_over_the_itinerary_distance(tmp_path):
    mix = {"car_petrol": 30, "bus": 25, "metro": 15, "ebike": 20, "walk": 10}
    m = load_methodology(_filled(tmp_path, "db33-1312-2023", mix))
    legs = [_leg("walk", 1.0), _leg("bus", 4.0)]
    result = reduction_for_legs(legs, methodology=m, factors=CN)
    level = math.fsum(share * CN.g_per_pkm(mode) for mode, share in mix.items()) / 100
    assert result.baseline_co2e_g == pytest.approx(level * 5.0)
    assert result.reduction_g == pytest.approx(level * 5.0 - 4.0 * 56.2)
    # a trip by car alone emits more than the combined level: no reduction, never negative
    car = reduction_for_legs([_leg("car_petrol", 5.0)], methodology=m, factors=CN)
    assert car.reduction_g == 0.0


@pytest.mark.parametrize(("old", "new", "needle"), [
    ('kind = "per_km_reduction"', 'kind = "magic"', "kind"),
    ("[reduction_g_per_pkm.bus]", "[reduction_g_per_pkm.hovercraft]", "hovercraft"),
    ("value = 26.9", "value = -1", "value"),
    ("verified = true\n\n[reduction_g_per_pkm.metro]", "\n[reduction_g_per_pkm.metro]",
     "verified"),
    ('clause = "市民乘坐纯电动公共汽车出行', 'clauses = "x', "clause"),
    ('region = "CN-GD-SZ (Shenzhen)"', 'region = "x"\ncolour = "red"', "colour"),
])
def test_malformed_methodology_names_file_and_field(tmp_path, old, new, needle):
    text = (DATA / "shenzhen-2021.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "m.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(MethodologyError) as info:
        load_methodology(path)
    assert str(path) in str(info.value) and needle in str(info.value)


def test_missing_methodology_lists_presets(tmp_path):
    with pytest.raises(MethodologyError, match="shenzhen-2021"):
        load_methodology(tmp_path / "absent.toml")
    with pytest.raises(ValueError):
        load_methodology(tmp_path / "absent.toml")
