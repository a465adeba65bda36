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
    "DerivationInput",
    "Factor",
    "FactorTable",
    "load_factor_table",
    "factor_table_from_dict",
]

PRESETS = ("cn", "uk", "eu")
DEFAULT_FACTOR_TABLE = "cn"
UNIT = "g CO2e per passenger-km"
#: Every mode of ``graphs.modes`` must have a factor; these sub-keys may be added where known.
FACTOR_KEYS = tuple(MODES)
OPTIONAL_FACTOR_KEYS = ("bus_diesel", "bus_hybrid", "bus_electric")
#: A derived value must equal its recomputed formula within this many grams (tables round to 0.01 g).
DERIVATION_TOLERANCE_G = 0.0051

_PRESET_DIR = Path(__file__).parent / "data" / "factors"
_HEADER_FIELDS = ("id", "version", "title", "region", "unit")
_ENTRY_FIELDS = {"g_per_pkm", "source", "year", "scope", "derivation", "inputs", "occupancy",
                 "notes"}
_INPUT_FIELDS = {"value", "factor", "source", "year", "unit"}
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
            "factors": {key: _factor_to_dict(f) for key, f in self.entries.items()},
        }


def load_factor_table(name_or_path: str | os.PathLike[str] = DEFAULT_FACTOR_TABLE) -> FactorTable:
    """Load a preset (``"cn"``, ``"uk"``, ``"eu"``) or a user's TOML table, and check it.

    Raises
    ------
    FactorTableError
        If the file is missing or not TOML, or an entry lacks ``source``/``year``/``scope``, has a
        negative value, an unknown key, or a derivation whose arithmetic does not give its value.
    """
    path = _resolve(name_or_path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise FactorTableError(f"{path}: no such factor table (presets: {', '.join(PRESETS)})",
                               path=str(path)) from None
    except tomllib.TOMLDecodeError as err:
        raise FactorTableError(f"{path}: not valid TOML: {err}", path=str(path)) from err
    return _table_from_data(data, origin=str(path))


def factor_table_from_dict(data: Mapping[str, Any]) -> FactorTable:
    """Rebuild (and re-check) a table from ``FactorTable.to_dict()`` output."""
    return _table_from_data(data, origin="<dict>")


def _resolve(name_or_path: str | os.PathLike[str]) -> Path:
    if isinstance(name_or_path, str) and name_or_path in PRESETS:
        return _PRESET_DIR / f"{name_or_path}.toml"
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
    values = {key: _number(entry, "g_per_pkm", origin, key) for key, entry in raw.items()
              if isinstance(entry, Mapping)}
    entries = {key: _parse_entry(key, entry, values, origin) for key, entry in raw.items()}
    return FactorTable(id=data["id"], version=str(data["version"]), title=data["title"],
                       region=data["region"], entries=entries, unit=UNIT)


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


def _parse_entry(key: str, entry: Any, values: Mapping[str, float], origin: str) -> Factor:
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
    inputs = _parse_inputs(entry.get("inputs"), values, where, origin, key)
    if inputs:
        if derivation is None:
            raise FactorTableError(f"{where}: inputs given without a derivation formula",
                                   path=origin, field=f"{key}.derivation")
        _verify(derivation, inputs, value, where, origin, key)
    return Factor(key=key, g_per_pkm=value, source=source, year=year, scope=scope,
                  derivation=derivation, occupancy=occupancy, notes=str(entry.get("notes", "")),
                  inputs=inputs)


def _parse_inputs(raw: Any, values: Mapping[str, float], where: str, origin: str,
                  key: str) -> tuple[DerivationInput, ...]:
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
    if item.factor is not None:
        out["factor"] = item.factor
    else:
        out["value"] = item.value
    if item.year is not None:
        out["year"] = item.year
    if item.unit:
        out["unit"] = item.unit
    return out
