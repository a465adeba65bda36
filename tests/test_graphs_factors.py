"""Emission factor tables: presets complete and sourced, derivations re-computed, bad tables rejected."""
from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import pytest

from graphs.errors import FactorTableError
from graphs.factors import (PRESET_ALIASES, PRESETS, FactorTable, factor_table_from_dict, grid_names,
                            load_factor_table, load_grid)
from graphs.modes import MODES

PRESET_DIR = Path(__file__).parents[1] / "graphs" / "data" / "factors"
GRID_DIR = Path(__file__).parents[1] / "graphs" / "data" / "grids"
DOC = Path(__file__).parents[1] / "docs" / "emission-factors.md"


def _raw(name: str) -> dict:
    with (PRESET_DIR / f"{PRESET_ALIASES.get(name, name)}.toml").open("rb") as handle:
        return tomllib.load(handle)


def _raw_grid(name: str) -> float:
    with (GRID_DIR / "cn-2023.toml").open("rb") as handle:
        return tomllib.load(handle)["grids"][name]["g_per_kwh"]


def _recompute(formula: str, inputs: dict, factors: dict, grid: float | None = None) -> float:
    """Independent check: Python's own evaluator over the raw TOML numbers."""
    names = {name: (factors[spec["factor"]]["g_per_pkm"] if "factor" in spec else
                    grid if spec.get("grid") else spec["value"])
             for name, spec in inputs.items()}
    return eval(formula, {"__builtins__": {}}, names)  # noqa: S307 - formulas from our own data


@pytest.mark.parametrize("name", PRESETS)
def test_preset_has_every_mode_with_source_year_scope(name):
    table = load_factor_table(name)
    assert isinstance(table, FactorTable)
    assert table.label == f"{table.id}@{table.version}"
    assert set(MODES) <= set(table.entries)
    for key, factor in table.entries.items():
        assert factor.key == key
        assert factor.g_per_pkm >= 0
        assert factor.source.strip() and factor.scope.strip()
        assert 1990 <= factor.year <= 2100


@pytest.mark.parametrize("name", PRESETS)
def test_preset_derivations_match_values(name):
    data = _raw(name)
    raw = data["factors"]
    grid = _raw_grid(data["grid"]) if "grid" in data else None
    derived = [key for key, entry in raw.items() if "inputs" in entry]
    assert derived, "each preset derives at least one value"
    for key in derived:
        entry = raw[key]
        value = _recompute(entry["derivation"], entry["inputs"], raw, grid)
        assert math.isclose(value, entry["g_per_pkm"], abs_tol=0.0051), key
        for spec in entry["inputs"].values():
            assert "factor" in spec or spec.get("grid") is True or spec["source"].strip()


@pytest.mark.parametrize("name", PRESETS)
def test_walk_and_bike_are_zero_and_scope_says_what_is_excluded(name):
    table = load_factor_table(name)
    for key in ("walk", "bike"):
        assert table.g_per_pkm(key) == 0.0
        assert "excluded" in table.factor(key).scope


def test_uk_values_are_desnz_kg_converted_to_grams():
    table = load_factor_table("uk")
    published_kg = {"bus": 0.10385, "tram": 0.0286, "metro": 0.0278, "rail": 0.03546,
                    "ferry": 0.01871, "taxi": 0.14861, "car_petrol": 0.16272,
                    "car_diesel": 0.17304, "car_hybrid": 0.12825, "car_bev": 0.04047}
    for key, kg in published_kg.items():
        assert table.g_per_pkm(key) == pytest.approx(kg * 1000, abs=1e-9), key
        assert f"{kg}" in table.factor(key).source or table.factor(key).inputs, key


def test_cn_electric_modes_use_one_grid_factor():
    raw = _raw("cn")["factors"]
    assert all(raw[key]["inputs"]["grid_g_per_kwh"] == {"grid": True} for key in ("ebike", "car_bev"))
    table = load_factor_table("cn")
    assert table.grid.name == "national" and table.grid.g_per_kwh == 530.6
    assert table.g_per_pkm("car_bev") == pytest.approx(0.15 * 530.6, abs=0.005)


def _clause_number(clause: str, name_zh: str) -> float:
    """Independent oracle: the grid's kg/kWh read out of its quoted sentence ("A、B分别为x、y")."""
    if "分别为" not in clause:
        return float(clause.split("为")[-1].split("kg")[0])
    names = clause.split("年", 1)[1].split("电力")[0].split("、")
    numbers = clause.split("分别为")[1].split("kg")[0].split("、")
    return float(numbers[names.index(name_zh)])


@pytest.mark.parametrize("name", grid_names())
def test_each_grid_is_the_number_of_its_quoted_clause(name):
    grid = load_grid(name)
    assert grid.verified and grid.year == 2023
    assert grid.g_per_kwh == pytest.approx(_clause_number(grid.clause, grid.name_zh) * 1000, abs=1e-9)


def test_the_announcement_grids_are_all_there():
    assert set(grid_names()) == {"national", "north_china", "northeast", "east_china",
                                 "central_china", "northwest", "south", "southwest"}
    assert load_grid("east_china").g_per_kwh == 550.0   # the figure for Wuxi


@pytest.mark.parametrize("name", grid_names())
def test_grid_rederives_every_electricity_factor(name):
    raw = _raw("cn")["factors"]
    table = load_factor_table("cn", grid=name)
    grid = _raw_grid(name)
    assert table.grid.name == name
    for key in ("ebike", "car_bev"):
        expected = _recompute(raw[key]["derivation"], raw[key]["inputs"], raw, grid)
        assert table.g_per_pkm(key) == pytest.approx(expected, abs=0.0051), key
    for key in ("bus", "metro", "car_petrol"):  # not electricity-derived in cn: unchanged
        assert table.g_per_pkm(key) == load_factor_table("cn").g_per_pkm(key)
    assert factor_table_from_dict(json.loads(json.dumps(table.to_dict()))) == table


def test_east_china_car_bev_is_energy_times_0_55():
    assert load_factor_table("cn", grid="east_china").g_per_pkm("car_bev") == 82.5


def test_grid_errors_name_the_choices():
    with pytest.raises(FactorTableError, match="east_china"):
        load_factor_table("cn", grid="mars")
    with pytest.raises(FactorTableError, match="no 'grid' header"):
        load_factor_table("uk", grid="east_china")


def test_eu_was_renamed_fr_ademe():
    with pytest.raises(FactorTableError, match="fr-ademe"):
        load_factor_table("eu")
    table = load_factor_table("fr-ademe")
    assert table.region == "FR" and table.id == "fr-ademe"


def test_fr_ademe_is_the_october_2025_impact_co2_release():
    table = load_factor_table("fr-ademe")
    assert table.g_per_pkm("bus") == 113.5 and "0.1135" in table.factor("bus").source
    assert "43739" in table.factor("bus").source
    # e-scooters are their own row since that release (id 17, Base Empreinte 28329)
    scooter = table.factor("escooter")
    assert scooter.g_per_pkm == 2.0 and "Trottinette" in scooter.source
    assert "28329" in scooter.source and "0.002 kg" in scooter.source


def test_uk_is_the_2025_set_and_selectable_by_year():
    assert load_factor_table("uk") == load_factor_table("uk-2025")
    assert "2025" in load_factor_table("uk").title
    assert "not a year" in load_factor_table("uk").factor("ferry").notes


def test_uk_ebike_uses_desnz_2025_uk_electricity():
    raw = _raw("uk")["factors"]["ebike"]
    grid = raw["inputs"]["grid_g_per_kwh"]
    assert grid["value"] == pytest.approx(0.17700 * 1000) and grid["year"] == 2025
    assert "2025" in grid["source"] and "0.17700" in grid["source"]
    assert "UNVERIFIED" not in grid["source"]
    assert raw["year"] == 2025
    assert load_factor_table("uk").g_per_pkm("ebike") == pytest.approx(0.012 * 177.0, abs=0.0051)


def test_cn_bus_is_the_published_beijing_value():
    factor = load_factor_table("cn").factor("bus")
    assert factor.g_per_pkm == 56.2 and not factor.inputs
    assert "56.2" in factor.source and "104976" in factor.source


def _doc_rows() -> dict[str, dict[str, list[str]]]:
    """Rows of the preset tables of docs/emission-factors.md, by table label then key."""
    rows: dict[str, dict[str, list[str]]] = {}
    label = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("### `") and line.endswith(")"):
            label = line.rsplit("(", 1)[1].rstrip(")")
            rows[label] = {}
        elif line.startswith("#"):
            label = None
        elif label and line.startswith("| ") and not line.startswith(("| key", "|---")):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[label][cells[0]] = cells
    return rows


@pytest.mark.parametrize("name", PRESETS)
def test_docs_table_lists_every_value_with_year_and_unverified_mark(name):
    table = load_factor_table(name)
    rows = _doc_rows()[table.label]
    assert set(rows) == set(table.entries)
    for key, factor in table.entries.items():
        value, year = rows[key][1], rows[key][3]
        assert float(value.split()[0]) == factor.g_per_pkm, key
        assert int(year) == factor.year, key
        assert ("UNVERIFIED" in value) == ("UNVERIFIED" in factor.notes), key


@pytest.mark.parametrize("name", PRESETS)
def test_unverified_inputs_are_flagged_in_notes_and_inherited(name):
    raw = _raw(name)["factors"]
    for key, entry in raw.items():
        inputs = entry.get("inputs", {}).values()
        if any("UNVERIFIED" in spec.get("source", "") for spec in inputs):
            assert "UNVERIFIED" in entry.get("notes", ""), key
        for spec in inputs:
            ref = spec.get("factor")
            if ref is not None and "UNVERIFIED" in raw[ref].get("notes", ""):
                assert "UNVERIFIED" in entry.get("notes", ""), f"{key} inherits from {ref}"


def test_docs_grid_table_matches_the_grids():
    text = DOC.read_text(encoding="utf-8")
    for name in grid_names():
        table = load_factor_table("cn", grid=name)
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        assert float(cells[2]) == load_grid(name).g_per_kwh
        assert float(cells[5]) == table.g_per_pkm("car_bev")
        assert float(cells[6]) == table.g_per_pkm("ebike")


def test_ev_beats_petrol_in_every_preset():
    for name in PRESETS:
        table = load_factor_table(name)
        assert table.g_per_pkm("car_bev") < table.g_per_pkm("car_petrol"), name


def test_default_table_is_cn():
    assert load_factor_table().id == "cn"


@pytest.mark.parametrize("name", PRESETS)
def test_round_trip_through_json(name):
    table = load_factor_table(name)
    data = json.loads(json.dumps(table.to_dict()))
    assert data["label"] == table.label
    assert factor_table_from_dict(data) == table


def test_unknown_key_lists_known_keys():
    table = load_factor_table("uk")
    with pytest.raises(FactorTableError) as info:
        table.g_per_pkm("hovercraft")
    assert "hovercraft" in str(info.value) and "car_petrol" in str(info.value)


def test_user_table_by_path(fixtures_dir):
    table = load_factor_table(fixtures_dir / "factors_valid.toml")
    assert table.label == "fixture@1"
    assert table.factor("car_bev").occupancy == 1.5
    assert table.g_per_pkm("car_bev") == pytest.approx(0.15 * 600 / 1.5)
    assert table.g_per_pkm("metro") == table.g_per_pkm("tram")


def _mutated(fixtures_dir: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = (fixtures_dir / "factors_valid.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "table.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "needle"), [
    ('[factors.bus]\ng_per_pkm = 50.0\nsource = "fixture"\n', "[factors.bus]\ng_per_pkm = 50.0\n",
     "bus"),
    ('[factors.bus]\ng_per_pkm = 50.0\nsource = "fixture"\nyear = 2024\n',
     '[factors.bus]\ng_per_pkm = 50.0\nsource = "fixture"\n', "bus.year"),
    ('year = 2024\nscope = "operation"\n\n[factors.tram]', 'year = 2024\n\n[factors.tram]',
     "bus.scope"),
    ("[factors.bus]\ng_per_pkm = 50.0", "[factors.bus]\ng_per_pkm = -1.0", "bus.g_per_pkm"),
    ("[factors.rail]", "[factors.rail]\nnotes = 'x'\n[factors.hovercraft]\ng_per_pkm = 1.0\n"
     "source = 'x'\nyear = 2024\nscope = 'x'\n[factors.rail_]", "hovercraft"),
    ("g_per_pkm = 60.0", "g_per_pkm = 61.0", "car_bev.derivation"),
    ('derivation = "tram"', 'derivation = "trams * 2"', "metro.derivation"),
    ('derivation = "tram"', 'derivation = "__import__(\'os\')"', "metro.derivation"),
])
def test_malformed_tables_name_file_and_field(fixtures_dir, tmp_path, old, new, needle):
    path = _mutated(fixtures_dir, tmp_path, old, new)
    with pytest.raises(FactorTableError) as info:
        load_factor_table(path)
    assert str(path) in str(info.value)
    assert needle.split(".")[0] in str(info.value)
    assert info.value.path == str(path)
    assert info.value.field is not None and info.value.field.startswith(needle.split(".")[0])


def test_missing_mode_is_an_error(fixtures_dir, tmp_path):
    text = (fixtures_dir / "factors_valid.toml").read_text(encoding="utf-8")
    start = text.index("[factors.ferry]")
    end = text.index("[factors.cable]")
    path = tmp_path / "t.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(FactorTableError, match="ferry"):
        load_factor_table(path)


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(FactorTableError, match="no such factor table"):
        load_factor_table(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("id = \n", encoding="utf-8")
    with pytest.raises(FactorTableError, match="not valid TOML"):
        load_factor_table(bad)


def test_factor_table_error_is_a_value_error():
    with pytest.raises(ValueError):
        factor_table_from_dict({"id": "x"})
