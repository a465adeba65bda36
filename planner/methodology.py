"""Carbon-accounting methodologies: which baseline a trip's reduction is measured against, as data."""
from __future__ import annotations

import functools
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphs.modes import MODES

from .baseline import FactorLookup
from .errors import MethodologyError
from .points import LegLike

__all__ = [
    "KINDS",
    "DISTANCES",
    "DEFAULT_METHODOLOGY",
    "METHODOLOGY_PRESETS",
    "MethodologyValue",
    "Methodology",
    "Reduction",
    "load_methodology",
    "methodology_of",
    "reduction_for_legs",
]

#: ``baseline_mode``: the same trip by one mode (tanlu's petrol car); ``baseline_mix``: a
#: share-weighted factor of several modes x a distance (DB11/T 3043 formula (1), DB33/T 1312
#: 3.2); ``per_km_reduction``: a published reduction per passenger-km of each mode (Shenzhen 2021).
KINDS = ("baseline_mode", "baseline_mix", "per_km_reduction")
#: Which distance a baseline is taken over: the car's route, or the itinerary's own legs.
DISTANCES = ("car_route", "itinerary")
DEFAULT_METHODOLOGY = "tanlu-car"
METHODOLOGY_PRESETS = ("tanlu-car", "shenzhen-2021", "db11-3043-2024", "db33-1312-2023")

_DATA_DIR = Path(__file__).parent / "data" / "methodologies"
_FIELDS = {"id", "version", "title", "kind", "region", "year", "source", "clause", "notes",
           "baseline_mode", "distance", "baseline_mix", "reduction_g_per_pkm", "needs"}
_VALUE_FIELDS = {"value", "unit", "source", "clause", "year", "verified", "notes"}


@dataclass(frozen=True)
class MethodologyValue:
    """One number of a methodology, with where it is published and whether it was read there."""

    name: str
    value: float
    source: str
    clause: str
    year: int
    verified: bool
    unit: str = ""
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "unit": self.unit, "source": self.source,
                "clause": self.clause, "year": self.year, "verified": self.verified,
                "notes": self.notes}


@dataclass(frozen=True)
class Methodology:
    """A versioned carbon-accounting methodology: the baseline and the reduction formula.

    ``needs`` is set when the published text leaves numbers to the operator (or they could not be
    read): such a methodology loads, but :func:`reduction_for_legs` refuses to use it until a
    copy with those numbers is supplied.
    """

    id: str
    version: str
    title: str
    kind: str
    region: str
    year: int
    source: str
    clause: str
    distance: str = "car_route"
    baseline_mode: str | None = None
    baseline_mix: Mapping[str, MethodologyValue] = field(default_factory=dict)
    reduction_g_per_pkm: Mapping[str, MethodologyValue] = field(default_factory=dict)
    needs: str = ""
    notes: str = ""

    @property
    def label(self) -> str:
        """``"<id>@<version>"``: how plans name the methodology."""
        return f"{self.id}@{self.version}"

    @property
    def unverified(self) -> tuple[str, ...]:
        """Names of the values not read in a published text (empty when all were)."""
        return tuple(f"{table}.{v.name}" for table, values in
                     (("baseline_mix", self.baseline_mix),
                      ("reduction_g_per_pkm", self.reduction_g_per_pkm))
                     for v in values.values() if not v.verified)

    def require_usable(self) -> None:
        """Raise MethodologyError when the file still lacks numbers its formula needs."""
        if self.needs:
            raise MethodologyError(f"methodology {self.label} cannot be used as shipped: "
                                   f"{self.needs}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready methodology (``/v1/methodology``, audit reports)."""
        return {
            "id": self.id, "version": self.version, "label": self.label, "title": self.title,
            "kind": self.kind, "region": self.region, "year": self.year, "source": self.source,
            "clause": self.clause, "distance": self.distance, "baseline_mode": self.baseline_mode,
            "baseline_mix": {k: v.to_dict() for k, v in self.baseline_mix.items()},
            "reduction_g_per_pkm": {k: v.to_dict() for k, v in self.reduction_g_per_pkm.items()},
            "needs": self.needs, "notes": self.notes, "unverified": list(self.unverified),
        }


@dataclass(frozen=True)
class Reduction:
    """A trip's emission reduction under a methodology, never negative, and how it was reached."""

    reduction_g: float
    baseline_co2e_g: float | None  # None under per_km_reduction (no baseline emission is formed)
    methodology: str
    explanation: str
    # each leg's part, in leg order: its credit (per_km_reduction), or the baseline spread over
    # the legs by distance minus the leg's emissions; sums to the reduction before the floor at 0
    per_leg_g: tuple[float, ...] = ()


def load_methodology(name_or_path: str | os.PathLike[str] = DEFAULT_METHODOLOGY) -> Methodology:
    """Load a preset (``planner/data/methodologies/<name>.toml``) or a TOML file, and check it.

    Raises
    ------
    MethodologyError
        If the file is missing or not TOML, a field is unknown or missing, a mode is unknown, or
        a value lacks its source, clause, year or verified flag; the message names file and field.
    """
    path = _resolve(name_or_path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise MethodologyError(f"{path}: no such methodology (presets: "
                               f"{', '.join(METHODOLOGY_PRESETS)})") from None
    except tomllib.TOMLDecodeError as err:
        raise MethodologyError(f"{path}: not valid TOML: {err}") from err
    return _from_data(data, origin=str(path))


def methodology_of(value: Methodology | str | os.PathLike[str] | None) -> Methodology:
    """``value`` loaded: a methodology as is, a preset name or TOML path, or the default.

    Presets are read once per process (they ship with tanlu); a path is read each time.
    """
    if isinstance(value, Methodology):
        return value
    name = DEFAULT_METHODOLOGY if value is None else value
    if isinstance(name, str) and name in METHODOLOGY_PRESETS:
        return _preset(name)
    return load_methodology(name)


@functools.lru_cache(maxsize=len(METHODOLOGY_PRESETS))
def _preset(name: str) -> Methodology:
    return load_methodology(name)


def reduction_for_legs(legs: Sequence[LegLike], *, methodology: Methodology,
                       factors: FactorLookup, car_distance_m: float | None = None) -> Reduction:
    """The reduction of one itinerary (its legs) under ``methodology``.

    ``car_distance_m`` is the same trip's driving distance (the plan's baseline), needed by
    methodologies whose baseline runs over the car route.

    Raises
    ------
    MethodologyError
        If the methodology still lacks numbers (``needs``), or needs the car distance and none
        is given.
    FactorTableError
        If the factor table has no factor for a baseline mode.
    """
    methodology.require_usable()
    itinerary_g = math.fsum(leg.co2e_g for leg in legs)
    if methodology.kind == "per_km_reduction":
        return _per_km(legs, methodology)
    distance_m = _distance(legs, methodology, car_distance_m)
    if methodology.kind == "baseline_mode":
        assert methodology.baseline_mode is not None  # checked by the loader
        g_per_pkm = factors.g_per_pkm(methodology.baseline_mode)
        how = f"{methodology.baseline_mode} {g_per_pkm:g} g/pkm"
    else:
        total = math.fsum(v.value for v in methodology.baseline_mix.values())
        g_per_pkm = math.fsum(v.value * factors.g_per_pkm(mode)
                              for mode, v in methodology.baseline_mix.items()) / total
        how = "mix " + " + ".join(f"{v.value / total:.3g} x {mode}"
                                  for mode, v in methodology.baseline_mix.items())
        how += f" = {g_per_pkm:.2f} g/pkm"
    baseline_g = g_per_pkm * distance_m / 1000.0
    legs_m = math.fsum(leg.distance_m for leg in legs)
    per_leg = tuple((baseline_g * leg.distance_m / legs_m if legs_m > 0 else 0.0) - leg.co2e_g
                    for leg in legs)
    return Reduction(
        reduction_g=max(0.0, baseline_g - itinerary_g), baseline_co2e_g=baseline_g,
        methodology=methodology.label, per_leg_g=per_leg,
        explanation=f"baseline {how} x {distance_m / 1000:.2f} km ({methodology.distance}) = "
                    f"{baseline_g:.0f} g; itinerary {itinerary_g:.0f} g")


def _per_km(legs: Sequence[LegLike], methodology: Methodology) -> Reduction:
    parts, total, per_leg = [], [], []
    for leg in legs:
        credit = methodology.reduction_g_per_pkm.get(leg.mode)
        per_leg.append(0.0)
        if credit is not None and leg.distance_m > 0:
            per_leg[-1] = credit.value * leg.distance_m / 1000.0
            total.append(per_leg[-1])
            parts.append(f"{leg.mode} {leg.distance_m / 1000:.2f} km x {credit.value:g} g/pkm")
    credited = {leg.mode for leg in legs} & set(methodology.reduction_g_per_pkm)
    uncredited = sorted({leg.mode for leg in legs} - credited)
    why = " + ".join(parts) if parts else "no leg of a credited mode"
    if uncredited:
        why += f"; {', '.join(uncredited)} not credited by {methodology.label}"
    return Reduction(reduction_g=math.fsum(total), baseline_co2e_g=None,
                     methodology=methodology.label, explanation=why, per_leg_g=tuple(per_leg))


def _distance(legs: Sequence[LegLike], methodology: Methodology,
              car_distance_m: float | None) -> float:
    if methodology.distance == "itinerary":
        return math.fsum(leg.distance_m for leg in legs)
    if car_distance_m is None:
        raise MethodologyError(f"methodology {methodology.label} measures the baseline over the "
                               "car route, but no car distance was given")
    return float(car_distance_m)


def _resolve(name_or_path: str | os.PathLike[str]) -> Path:
    if isinstance(name_or_path, str) and name_or_path in METHODOLOGY_PRESETS:
        return _DATA_DIR / f"{name_or_path}.toml"
    return Path(name_or_path)


def _from_data(data: Mapping[str, Any], *, origin: str) -> Methodology:
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise MethodologyError(f"{origin}: unknown field {unknown[0]!r}")
    for name in ("id", "version", "title", "kind", "region", "source", "clause"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise MethodologyError(f"{origin}: missing or empty field {name!r}")
    kind = data["kind"]
    if kind not in KINDS:
        raise MethodologyError(f"{origin}: kind must be one of {KINDS}, got {kind!r}")
    distance = data.get("distance", "car_route")
    if distance not in DISTANCES:
        raise MethodologyError(f"{origin}: distance must be one of {DISTANCES}, got {distance!r}")
    mix = _values(data.get("baseline_mix", {}), origin, "baseline_mix")
    credits = _values(data.get("reduction_g_per_pkm", {}), origin, "reduction_g_per_pkm")
    baseline_mode = data.get("baseline_mode")
    needs = "" if mix else str(data.get("needs", ""))  # a filled-in copy drops the need
    if kind == "baseline_mode":
        _check_mode(baseline_mode, origin, "baseline_mode")
    elif kind == "baseline_mix" and not mix and not needs:
        raise MethodologyError(f"{origin}: baseline_mix needs [baseline_mix.<mode>] shares (or a "
                               "'needs' field saying who must supply them)")
    elif kind == "per_km_reduction" and not credits:
        raise MethodologyError(f"{origin}: per_km_reduction needs [reduction_g_per_pkm.<mode>]")
    if mix and math.fsum(v.value for v in mix.values()) <= 0:
        raise MethodologyError(f"{origin}: baseline_mix shares must not all be 0")
    return Methodology(
        id=data["id"], version=data["version"], title=data["title"], kind=kind,
        region=data["region"], year=_year(data.get("year"), origin, "year"),
        source=data["source"], clause=data["clause"], distance=distance,
        baseline_mode=baseline_mode, baseline_mix=mix,
        reduction_g_per_pkm=credits, needs=needs, notes=str(data.get("notes", "")))


def _values(table: Any, origin: str, name: str) -> dict[str, MethodologyValue]:
    if not isinstance(table, Mapping):
        raise MethodologyError(f"{origin}: {name} must be a table of [{name}.<mode>] entries")
    out = {}
    for mode, spec in table.items():
        here = f"{name}.{mode}"
        _check_mode(mode, origin, here)
        if not isinstance(spec, Mapping):
            raise MethodologyError(f"{origin}: {here} must be a table")
        extra = sorted(set(spec) - _VALUE_FIELDS)
        if extra:
            raise MethodologyError(f"{origin}: {here}: unknown field {extra[0]!r}")
        value = spec.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value < 0:
            raise MethodologyError(f"{origin}: {here}.value must be a number >= 0, got {value!r}")
        for text in ("source", "clause"):
            if not isinstance(spec.get(text), str) or not spec[text].strip():
                raise MethodologyError(f"{origin}: {here}: missing or empty {text!r}")
        if not isinstance(spec.get("verified"), bool):
            raise MethodologyError(f"{origin}: {here}: 'verified' must be true or false")
        out[mode] = MethodologyValue(
            name=mode, value=float(value), source=spec["source"], clause=spec["clause"],
            year=_year(spec.get("year"), origin, f"{here}.year"), verified=spec["verified"],
            unit=str(spec.get("unit", "")), notes=str(spec.get("notes", "")))
    return out


def _check_mode(mode: Any, origin: str, name: str) -> None:
    if mode not in MODES:
        raise MethodologyError(f"{origin}: {name}: unknown mode {mode!r} (known: "
                               f"{', '.join(MODES)})")


def _year(value: Any, origin: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1990 <= value <= 2100:
        raise MethodologyError(f"{origin}: {name} must be an integer year, got {value!r}")
    return value
