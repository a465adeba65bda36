"""Emission factor tables: versioned TOML data with a source for every value, loaded and checked."""
from __future__ import annotations

import ast
import math
import operator
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import FactorTableError
from .modes import MODES

__all__ = [
    "PRESETS",
    "DEFAULT_FACTOR_TABLE",
    "UNIT",
    "FACTOR_KEYS",
    "OPTIONAL_FACTOR_KEYS",
    "GRID_PRESETS",
    "DerivationInput",
    "Factor",
    "Grid",
    "FactorTable",
    "load_factor_table",
    "factor_table_from_dict",
    "load_grid",
    "grid_names",
]

PRESETS = ("cn", "uk", "uk-2025", "fr-ademe")
#: Short names that load a versioned preset: ``uk`` is the newest DESNZ set tanlu could read.
PRESET_ALIASES = {"uk": "uk-2025"}
#: Former preset names and what replaced them (loading one is an error that says so).
RENAMED_PRESETS = {"eu": "fr-ademe"}
DEFAULT_FACTOR_TABLE = "cn"
#: Grid factor sets (``graphs/data/grids/<name>.toml``); a table's ``grid`` header names a grid of one.
GRID_PRESETS = ("cn-2023",)
GRID_UNIT = "g CO2 per kWh"
UNIT = "g CO2e per passenger-km"
#: Every mode of ``graphs.modes`` must have a factor; these sub-keys may be added where known.
FACTOR_KEYS = tuple(MODES)
#: Keys a table may add beside one per mode: bus fuels, and shared e-scooters (GBFS scooters,
#: ``planner.bikeshare``: offered only where the table has a factor for them).
OPTIONAL_FACTOR_KEYS = ("bus_diesel", "bus_hybrid", "bus_electric", "escooter")
#: A derived value must equal its recomputed formula within this many grams (tables round to 0.01 g).
DERIVATION_TOLERANCE_G = 0.0051

_PRESET_DIR = Path(__file__).parent / "data" / "factors"
_GRID_DIR = Path(__file__).parent / "data" / "grids"
_HEADER_FIELDS = ("id", "version", "title", "region", "unit")
_GRID_FIELDS = {"name_zh", "g_per_kwh", "year", "verified", "clause", "notes", "source"}
_ENTRY_FIELDS = {"g_per_pkm", "source", "year", "scope", "derivation", "inputs", "occupancy",
                 "notes"}
_INPUT_FIELDS = {"value", "factor", "grid", "source", "year", "unit"}
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv}


@dataclass(frozen=True)
class DerivationInput:
    """One named input of a derived factor: a published number, or another entry of the table."""

    name: str
    value: float
    source: str
    year: int | None = None
    unit: str = ""
    factor: str | None = None  # set when the input is another factor of the same table
    grid: bool = False         # set when the input is the table's electricity grid factor


@dataclass(frozen=True)
class Grid:
    """One electricity CO2 factor (a national or regional grid) with the clause it is read from.

    ``verified`` is True only when the number was read in a published text (``clause`` quotes it).
    """

    name: str
    g_per_kwh: float
    year: int
    verified: bool
    clause: str
    source: str
    set_id: str
    name_zh: str = ""
    notes: str = ""

    @property
    def label(self) -> str:
        """``"<set>/<name>"``, e.g. ``"cn-mee-nbs-2023/east_china"``: how plans name the grid."""
        return f"{self.set_id}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready grid (artifact manifest, ``/v1/factors``); read back by the table loader."""
        return {"name": self.name, "label": self.label, "name_zh": self.name_zh,
                "g_per_kwh": self.g_per_kwh, "unit": GRID_UNIT, "year": self.year,
                "verified": self.verified, "clause": self.clause, "source": self.source,
                "set_id": self.set_id, "notes": self.notes}


@dataclass(frozen=True)
class Factor:
    """The emission of one mode per passenger-km, with where the number comes from."""

    key: str
    g_per_pkm: float
    source: str
    year: int
    scope: str
    derivation: str | None = None
    occupancy: float | None = None
    notes: str = ""
    inputs: tuple[DerivationInput, ...] = ()

    @property
    def is_derived(self) -> bool:
        """True when the value was computed by tanlu from the listed inputs."""
        return bool(self.inputs)


@dataclass(frozen=True)
class FactorTable:
    """A versioned emission factor table (one preset or a user's file)."""

    id: str
    version: str
    title: str
    region: str
    entries: Mapping[str, Factor] = field(default_factory=dict)
    unit: str = UNIT
    grid: Grid | None = None  # the electricity factor every ``grid`` input of the table uses

    @property
    def label(self) -> str:
        """``"<id>@<version>"``: how plans and artifacts name the table."""
        return f"{self.id}@{self.version}"

    def factor(self, key: str) -> Factor:
        """The factor of ``key``.

        Raises
        ------
        FactorTableError
            If the table has no such key; the message lists the known keys.
        """
        try:
            return self.entries[key]
        except KeyError:
            known = ", ".join(sorted(self.entries))
            raise FactorTableError(f"factor table {self.label} has no key {key!r}; known keys: {known}",
                                   field=key) from None

    def g_per_pkm(self, key: str) -> float:
        """Grams CO2e per passenger-km of ``key`` (raises FactorTableError if unknown)."""
        return self.factor(key).g_per_pkm

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (artifact manifest, ``/v1/factors``); inverse of ``factor_table_from_dict``."""
        return {
            "id": self.id, "version": self.version, "title": self.title, "region": self.region,
            "unit": self.unit, "label": self.label,
            "grid": None if self.grid is None else self.grid.to_dict(),
            "factors": {key: _factor_to_dict(f) for key, f in self.entries.items()},
        }


def load_factor_table(name_or_path: str | os.PathLike[str] = DEFAULT_FACTOR_TABLE, *,
                      grid: str | None = None) -> FactorTable:
    """Load a preset (``"cn"``, ``"uk"``, ``"uk-2025"``, ``"fr-ademe"``) or a TOML table, and check it.

    ``grid`` names a grid of the table's grid set (for ``cn``: ``national``, ``north_china``,
    ``northeast``, ``east_china``, ``central_china``, ``northwest``, ``south``, ``southwest``);
    every electricity-derived factor is then re-derived from that grid's factor.

    Raises
    ------
    FactorTableError
        If the file is missing or not TOML, or an entry lacks ``source``/``year``/``scope``, has a
        negative value, an unknown key, or a derivation whose arithmetic does not give its value;
        if ``grid`` is not a grid of the table's set, or the table has no grid-derived factor.
    """
    data = _read_toml(_resolve(name_or_path), what="factor table")
    if grid is not None:
        data = _with_grid(data, grid, origin=str(_resolve(name_or_path)))
    return _table_from_data(data, origin=str(_resolve(name_or_path)))


def factor_table_from_dict(data: Mapping[str, Any]) -> FactorTable:
    """Rebuild (and re-check) a table from ``FactorTable.to_dict()`` output."""
    return _table_from_data(data, origin="<dict>")


def grid_names(set_name: str = GRID_PRESETS[0]) -> tuple[str, ...]:
    """The grid names of a grid set, e.g. ``("national", "north_china", ...)``."""
    return tuple(_grid_set(set_name)[1])


def load_grid(name: str, *, set_name: str = GRID_PRESETS[0]) -> Grid:
    """One grid of a grid set (``graphs/data/grids/<set_name>.toml``).

    Raises
    ------
    FactorTableError
        If the set has no such grid; the message lists the grids it has.
    """
    _, grids, origin = _grid_set(set_name)
    if name not in grids:
        raise FactorTableError(f"unknown grid {name!r} (grids of {set_name}: {', '.join(grids)})",
                               path=origin, field="grid")
    return grids[name]


def _read_toml(path: Path, *, what: str) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise FactorTableError(f"{path}: no such {what} (presets: {', '.join(PRESETS)})",
                               path=str(path)) from None
    except tomllib.TOMLDecodeError as err:
        raise FactorTableError(f"{path}: not valid TOML: {err}", path=str(path)) from err


def _grid_set(set_name: str) -> tuple[str, dict[str, Grid], str]:
    path = _GRID_DIR / f"{set_name}.toml" if set_name in GRID_PRESETS else Path(set_name)
    data = _read_toml(path, what="grid set")
    origin = str(path)
    if data.get("unit") != GRID_UNIT or not isinstance(data.get("grids"), Mapping):
        raise FactorTableError(f"{origin}: a grid set needs unit = {GRID_UNIT!r} and [grids.<name>]",
                               path=origin, field="grids")
    set_id = str(data.get("id", set_name))
    source = str(data.get("source", ""))
    grids = {name: _grid_from_data({**spec, "name": name, "set_id": set_id,
                                    "source": spec.get("source", source)}, origin)
             for name, spec in data["grids"].items()}
    return set_id, grids, origin


def _grid_from_data(spec: Any, origin: str) -> Grid:
    if not isinstance(spec, Mapping):
        raise FactorTableError(f"{origin}: grid must be a table", path=origin, field="grid")
    name = str(spec.get("name", ""))
    where = f"{origin}: grids.{name}"
    extra = sorted(set(spec) - _GRID_FIELDS - {"name", "set_id", "label", "unit"})
    if extra:
        raise FactorTableError(f"{where}: unknown field {extra[0]!r}", path=origin,
                               field=f"grid.{extra[0]}")
    value = _number(spec, "g_per_kwh", origin, f"grid.{name}", where=where)
    if value <= 0:
        raise FactorTableError(f"{where}.g_per_kwh must be > 0", path=origin, field="grid.g_per_kwh")
    if not isinstance(spec.get("verified"), bool):
        raise FactorTableError(f"{where}: 'verified' must be true or false", path=origin,
                               field="grid.verified")
    return Grid(name=name, g_per_kwh=value, year=_year(spec.get("year"), where, origin, "grid.year"),
                verified=spec["verified"], clause=_text(spec, "clause", where, origin, "grid"),
                source=_text(spec, "source", where, origin, "grid"),
                set_id=str(spec.get("set_id", "")), name_zh=str(spec.get("name_zh", "")),
                notes=str(spec.get("notes", "")))


def _table_grid(data: Mapping[str, Any], origin: str) -> Grid | None:
    """The table's grid: a name of its ``grid_set`` (TOML header) or an embedded dict (manifest)."""
    raw = data.get("grid")
    if raw is None:
        return None
    if isinstance(raw, Mapping):
        return _grid_from_data(raw, origin)
    if not isinstance(raw, str):
        raise FactorTableError(f"{origin}: header 'grid' must be a grid name", path=origin,
                               field="grid")
    return load_grid(raw, set_name=str(data.get("grid_set", GRID_PRESETS[0])))


def _with_grid(data: Mapping[str, Any], name: str, *, origin: str) -> dict[str, Any]:
    """A copy of the raw table on grid ``name``, every derived value recomputed in dependency order."""
    if data.get("grid") is None:
        raise FactorTableError(f"{origin}: this table has no electricity-derived factors on a grid "
                               "(no 'grid' header), so a grid cannot be chosen", path=origin,
                               field="grid")
    grid = load_grid(name, set_name=str(data.get("grid_set", GRID_PRESETS[0])))
    out = {**data, "grid": name}
    raw = {key: dict(entry) for key, entry in data.get("factors", {}).items()
           if isinstance(entry, Mapping)}
    values = {key: entry.get("g_per_pkm") for key, entry in raw.items()}
    for _ in range(len(raw)):  # a chain of references is at most as long as the table
        changed = False
        for key, entry in raw.items():
            inputs = entry.get("inputs")
            if not isinstance(inputs, Mapping) or not isinstance(entry.get("derivation"), str):
                continue
            names: dict[str, float] = {}
            for n, spec in inputs.items():
                if not isinstance(spec, Mapping):
                    continue  # reported with its field by _table_from_data
                number = (grid.g_per_kwh if spec.get("grid") else
                          values.get(spec["factor"]) if "factor" in spec else spec.get("value"))
                if isinstance(number, (int, float)) and not isinstance(number, bool):
                    names[n] = float(number)
            try:
                value = round(_evaluate(ast.parse(entry["derivation"], mode="eval").body,
                                        names), 2)
            except (SyntaxError, ValueError, KeyError, TypeError, ZeroDivisionError):
                continue  # reported with its field by _table_from_data
            if value != values[key]:
                values[key], entry["g_per_pkm"], changed = value, value, True
        if not changed:
            break
    out["factors"] = raw
    return out


def _resolve(name_or_path: str | os.PathLike[str]) -> Path:
    if isinstance(name_or_path, str) and name_or_path in RENAMED_PRESETS:
        new = RENAMED_PRESETS[name_or_path]
        raise FactorTableError(f"factor preset {name_or_path!r} was renamed {new!r} (its values "
                               "are all French ADEME values); use --factors " + new,
                               path=name_or_path, field="factors")
    if isinstance(name_or_path, str) and name_or_path in PRESETS:
        name = PRESET_ALIASES.get(name_or_path, name_or_path)
        return _PRESET_DIR / f"{name}.toml"
    return Path(name_or_path)


def _table_from_data(data: Mapping[str, Any], *, origin: str) -> FactorTable:
    for name in _HEADER_FIELDS:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise FactorTableError(f"{origin}: missing or empty header field {name!r}",
                                   path=origin, field=name)
    if data["unit"] != UNIT:
        raise FactorTableError(f"{origin}: unit must be {UNIT!r}, got {data['unit']!r}",
                               path=origin, field="unit")
    raw = data.get("factors")
    if not isinstance(raw, Mapping) or not raw:
        raise FactorTableError(f"{origin}: no [factors.<key>] entries", path=origin, field="factors")
    _check_keys(raw, origin)
    grid = _table_grid(data, origin)
    values = {key: _number(entry, "g_per_pkm", origin, key) for key, entry in raw.items()
              if isinstance(entry, Mapping)}
    entries = {key: _parse_entry(key, entry, values, origin, grid) for key, entry in raw.items()}
    if grid is None and any(i.grid for f in entries.values() for i in f.inputs):
        raise FactorTableError(f"{origin}: an input uses the grid, but the header names no 'grid'",
                               path=origin, field="grid")
    return FactorTable(id=data["id"], version=str(data["version"]), title=data["title"],
                       region=data["region"], entries=entries, unit=UNIT, grid=grid)


def _check_keys(raw: Mapping[str, Any], origin: str) -> None:
    allowed = set(FACTOR_KEYS) | set(OPTIONAL_FACTOR_KEYS)
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise FactorTableError(f"{origin}: unknown factor key {unknown[0]!r} (allowed: "
                               f"{', '.join(sorted(allowed))})", path=origin, field=unknown[0])
    missing = [key for key in FACTOR_KEYS if key not in raw]
    if missing:
        raise FactorTableError(f"{origin}: missing factor for mode {missing[0]!r} (every mode of "
                               "graphs.modes needs one)", path=origin, field=missing[0])


def _parse_entry(key: str, entry: Any, values: Mapping[str, float], origin: str,
                 grid: Grid | None = None) -> Factor:
    where = f"{origin}: factors.{key}"
    if not isinstance(entry, Mapping):
        raise FactorTableError(f"{where} must be a table", path=origin, field=key)
    extra = sorted(set(entry) - _ENTRY_FIELDS)
    if extra:
        raise FactorTableError(f"{where}: unknown field {extra[0]!r}", path=origin,
                               field=f"{key}.{extra[0]}")
    value = values[key]
    if value < 0:
        raise FactorTableError(f"{where}.g_per_pkm is negative ({value})", path=origin,
                               field=f"{key}.g_per_pkm")
    source, scope = (_text(entry, name, where, origin, key) for name in ("source", "scope"))
    year = _year(entry.get("year"), where, origin, f"{key}.year")
    occupancy = entry.get("occupancy")
    if occupancy is not None:
        occupancy = _number(entry, "occupancy", origin, key)
        if occupancy <= 0:
            raise FactorTableError(f"{where}.occupancy must be > 0", path=origin,
                                   field=f"{key}.occupancy")
    derivation = entry.get("derivation")
    if derivation is not None and (not isinstance(derivation, str) or not derivation.strip()):
        raise FactorTableError(f"{where}.derivation must be a non-empty string", path=origin,
                               field=f"{key}.derivation")
    inputs = _parse_inputs(entry.get("inputs"), values, where, origin, key, grid)
    if inputs:
        if derivation is None:
            raise FactorTableError(f"{where}: inputs given without a derivation formula",
                                   path=origin, field=f"{key}.derivation")
        _verify(derivation, inputs, value, where, origin, key)
    return Factor(key=key, g_per_pkm=value, source=source, year=year, scope=scope,
                  derivation=derivation, occupancy=occupancy, notes=str(entry.get("notes", "")),
                  inputs=inputs)


def _parse_inputs(raw: Any, values: Mapping[str, float], where: str, origin: str,
                  key: str, grid: Grid | None = None) -> tuple[DerivationInput, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping) or not raw:
        raise FactorTableError(f"{where}.inputs must be a non-empty table", path=origin,
                               field=f"{key}.inputs")
    result = []
    for name, spec in raw.items():
        here, field_name = f"{where}.inputs.{name}", f"{key}.inputs.{name}"
        if not isinstance(spec, Mapping) or set(spec) - _INPUT_FIELDS:
            raise FactorTableError(f"{here} must be a table of {sorted(_INPUT_FIELDS)}",
                                   path=origin, field=field_name)
        ref = spec.get("factor")
        if spec.get("grid") is not None:
            if spec["grid"] is not True or ref is not None or "value" in spec:
                raise FactorTableError(f"{here}.grid must be true (and alone: no value, no factor)",
                                       path=origin, field=field_name)
            if grid is None:
                raise FactorTableError(f"{here} uses the grid, but the header names no 'grid'",
                                       path=origin, field="grid")
            result.append(DerivationInput(
                name=name, value=grid.g_per_kwh, unit=GRID_UNIT, year=grid.year, grid=True,
                source=f"grid {grid.label}: {grid.clause}"))
            continue
        if ref is not None:
            if ref not in values or ref == key:
                raise FactorTableError(f"{here}.factor {ref!r} is not another key of the table",
                                       path=origin, field=field_name)
            value, source = values[ref], spec.get("source", f"this table, factors.{ref}")
        else:
            value = _number(spec, "value", origin, field_name, where=here)
            source = _text(spec, "source", here, origin, field_name)
        year = spec.get("year")
        result.append(DerivationInput(
            name=name, value=value, source=str(source), unit=str(spec.get("unit", "")), factor=ref,
            year=None if year is None else _year(year, here, origin, f"{field_name}.year")))
    return tuple(result)


def _verify(formula: str, inputs: tuple[DerivationInput, ...], value: float, where: str,
            origin: str, key: str) -> None:
    names = {item.name: item.value for item in inputs}
    try:
        computed = _evaluate(ast.parse(formula, mode="eval").body, names)
    except (SyntaxError, ValueError, KeyError, ZeroDivisionError) as err:
        raise FactorTableError(f"{where}.derivation {formula!r} is not arithmetic over its inputs "
                               f"({err})", path=origin, field=f"{key}.derivation") from err
    if not math.isclose(computed, value, rel_tol=0.0, abs_tol=DERIVATION_TOLERANCE_G):
        raise FactorTableError(f"{where}: derivation {formula!r} gives {computed:.4f}, but "
                               f"g_per_pkm is {value}", path=origin, field=f"{key}.derivation")


def _evaluate(node: ast.AST, names: Mapping[str, float]) -> float:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_evaluate(node.left, names), _evaluate(node.right, names))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand, names)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise KeyError(f"unknown input {node.id!r}")
        return names[node.id]
    raise ValueError(f"unsupported expression {ast.dump(node)[:40]}")


def _number(entry: Mapping[str, Any], name: str, origin: str, key: str, *,
            where: str | None = None) -> float:
    value = entry.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        here = where or f"{origin}: factors.{key}"
        raise FactorTableError(f"{here}.{name} must be a finite number, got {value!r}",
                               path=origin, field=f"{key}.{name}" if where is None else key)
    return float(value)


def _text(entry: Mapping[str, Any], name: str, where: str, origin: str, key: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip():
        raise FactorTableError(f"{where}: missing or empty {name!r}", path=origin,
                               field=f"{key}.{name}")
    return value


def _year(value: Any, where: str, origin: str, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1990 <= value <= 2100:
        raise FactorTableError(f"{where}: 'year' must be an integer year, got {value!r}",
                               path=origin, field=field_name)
    return value


def _factor_to_dict(f: Factor) -> dict[str, Any]:
    out: dict[str, Any] = {"g_per_pkm": f.g_per_pkm, "source": f.source, "year": f.year,
                           "scope": f.scope}
    if f.derivation is not None:
        out["derivation"] = f.derivation
    if f.occupancy is not None:
        out["occupancy"] = f.occupancy
    if f.notes:
        out["notes"] = f.notes
    if f.inputs:
        out["inputs"] = {i.name: _input_to_dict(i) for i in f.inputs}
    return out


def _input_to_dict(item: DerivationInput) -> dict[str, Any]:
    out: dict[str, Any] = {"source": item.source}
    if item.grid:
        out["grid"] = True
        return out
    if item.factor is not None:
        out["factor"] = item.factor
    else:
        out["value"] = item.value
    if item.year is not None:
        out["year"] = item.year
    if item.unit:
        out["unit"] = item.unit
    return out
