"""Carbon-inclusion points: versioned rule sets (TOML data) and the award of points to a trip."""
from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from graphs.modes import MODES

from .errors import PointsRulesError
from .model import PointsAward

__all__ = [
    "SCHEMES",
    "DEFAULT_POINTS_RULES",
    "PILE_MODES",
    "PointsRules",
    "share_points",
    "load_points_rules",
    "award_points",
    "apply_daily_cap",
    "points_for_steps",
    "POINTS_PRESETS",
]

SCHEMES = ("per_gram", "flat_per_ride", "per_km")
#: Rule sets shipped in ``planner/data/points_<name>.toml``.
POINTS_PRESETS = ("default", "flat_per_ride", "hubei-tantan", "zhengzhou", "shenzhen-per-km")
DEFAULT_POINTS_RULES = "default"
#: Modes that earn points only when charged at a public charging pile (phase-two scenario).
PILE_MODES = ("car_bev",)

_DATA_DIR = Path(__file__).parent / "data"
_FIELDS = {"id", "version", "title", "scheme", "source", "notes", "eligible_modes",
           "grams_per_point", "points_per_ride", "min_distance_m", "max_points_per_trip",
           "max_points_per_day", "baseline_mode", "points_per_km", "points_per_step",
           "step_length_m", "sources"}


class LegLike(Protocol):
    """What ``award_points`` reads from a leg (``planner.model.Leg`` and
    ``planner.accounting.LegAmount`` satisfy it; read-only, so frozen dataclasses do)."""

    @property
    def mode(self) -> str: ...

    @property
    def distance_m(self) -> float: ...

    @property
    def co2e_g(self) -> float: ...


@dataclass(frozen=True)
class PointsRules:
    """A carbon-points rule set.

    ``scheme`` is ``"per_gram"`` (``floor(reduction_g / grams_per_point)``), ``"flat_per_ride"``
    (fixed points per qualifying leg by mode) or ``"per_km"`` (points per km of each qualifying
    leg by mode). ``points_per_step`` is the step-based walking option (points per step walked,
    :func:`points_for_steps`); with ``step_length_m`` a trip's walk legs also earn it. Caps of
    ``None`` mean no cap.
    """

    id: str
    version: str
    title: str
    scheme: str
    source: str
    eligible_modes: frozenset[str]
    grams_per_point: float | None = None
    points_per_ride: Mapping[str, float] = field(default_factory=dict)
    min_distance_m: Mapping[str, float] = field(default_factory=dict)
    max_points_per_trip: float | None = None
    max_points_per_day: float | None = None
    baseline_mode: str = "car_petrol"
    notes: str = ""
    points_per_km: Mapping[str, float] = field(default_factory=dict)
    points_per_step: float | None = None
    step_length_m: float | None = None
    sources: Mapping[str, str] = field(default_factory=dict)  # clause quoted per number

    @property
    def label(self) -> str:
        """``"<id>@<version>"``: how plans name the rule set."""
        return f"{self.id}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready rules (``/v1/points/rules``)."""
        return {
            "id": self.id, "version": self.version, "label": self.label, "title": self.title,
            "scheme": self.scheme, "source": self.source, "notes": self.notes,
            "eligible_modes": sorted(self.eligible_modes), "grams_per_point": self.grams_per_point,
            "points_per_ride": dict(self.points_per_ride),
            "min_distance_m": dict(self.min_distance_m),
            "max_points_per_trip": self.max_points_per_trip,
            "max_points_per_day": self.max_points_per_day,
            "baseline_mode": self.baseline_mode, "pile_modes": list(PILE_MODES),
            "points_per_km": dict(self.points_per_km), "points_per_step": self.points_per_step,
            "step_length_m": self.step_length_m, "sources": dict(self.sources),
        }


def load_points_rules(name_or_path: str | os.PathLike[str] = DEFAULT_POINTS_RULES) -> PointsRules:
    """Load a preset (:data:`POINTS_PRESETS`: ``planner/data/points_<name>.toml``) or a file.

    Raises
    ------
    PointsRulesError
        If the file is missing or not TOML, or a field is missing or out of range; the message
        names the file and the field.
    """
    path = _resolve(name_or_path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise PointsRulesError(f"{path}: no such points rule file") from None
    except tomllib.TOMLDecodeError as err:
        raise PointsRulesError(f"{path}: not valid TOML: {err}") from err
    return _rules_from_data(data, origin=str(path))


def award_points(legs: Sequence[LegLike], *, baseline_co2e_g: float | None = None,  # noqa: PLR0913 - one keyword per accounting input
                 reduction_g: float | None = None, rules: PointsRules,
                 charged_at_public_pile: bool = False,
                 leg_reduction_g: Sequence[float] | None = None) -> PointsAward:
    """Points one itinerary earns: never negative, zero without a reduction, capped per trip.

    Give either ``reduction_g`` (the itinerary's reduction under a methodology,
    ``planner.methodology.reduction_for_legs``) or ``baseline_co2e_g`` (the same trip by
    ``rules.baseline_mode``; the reduction is then baseline minus the legs' emissions). An EV trip
    (``car_bev``) qualifies only if ``charged_at_public_pile``. Under ``per_gram`` a trip with
    any leg of a non-qualifying mode earns nothing; under ``flat_per_ride`` and ``per_km`` such
    legs simply earn nothing. Legs shorter than ``min_distance_m`` of their mode earn nothing on
    their own.

    ``per_leg`` of the award shares the points among the legs (:func:`share_points`): under
    ``flat_per_ride`` and ``per_km`` each leg's own ride or kilometre points (walk legs share
    the step points by distance), under ``per_gram`` each leg's part of the reduction,
    ``leg_reduction_g`` (from the methodology, ``Reduction.per_leg_g``) or else the baseline
    spread over the legs by distance minus the leg's own emissions.

    Raises
    ------
    PointsRulesError
        If neither or both of ``reduction_g`` and ``baseline_co2e_g`` are given.
    """
    itinerary_g = math.fsum(leg.co2e_g for leg in legs)
    if (reduction_g is None) == (baseline_co2e_g is None):
        raise PointsRulesError("award_points needs exactly one of reduction_g and baseline_co2e_g")
    if reduction_g is None:
        assert baseline_co2e_g is not None
        reduction_g = max(0.0, baseline_co2e_g - itinerary_g)
    reduction_g = max(0.0, float(reduction_g))
    blocked = [leg.mode for leg in legs if not _mode_qualifies(leg.mode, rules, charged_at_public_pile)]
    # a leg without distance (renting or returning a shared bike, planner.bikeshare) is no ride
    qualifying = [leg for leg in legs if leg.mode not in blocked and leg.distance_m > 0
                  and leg.distance_m >= rules.min_distance_m.get(leg.mode, 0.0)]

    weights = _leg_weights(legs, qualifying, rules, reduction_g=reduction_g,
                           leg_reduction_g=leg_reduction_g)

    def award(points: float, why: str) -> PointsAward:
        cap = rules.max_points_per_trip
        capped = cap is not None and points > cap
        note = ""
        if cap is not None and capped:
            points, note = cap, f"; capped at {cap:g} per trip"
        return PointsAward(points=float(points), reduction_g=reduction_g, rules_id=rules.label,
                           rule=rules.scheme, capped=capped, explanation=why + note,
                           per_leg=share_points(float(points), weights))

    if reduction_g <= 0:
        if baseline_co2e_g is None:
            return award(0.0, f"no reduction (itinerary {itinerary_g:.0f} g)")
        return award(0.0, f"no reduction: itinerary {itinerary_g:.0f} g >= baseline {baseline_co2e_g:.0f} g")
    if not qualifying:
        return award(0.0, _no_qualifying_reason(legs, blocked, rules))
    if rules.scheme == "per_gram":
        if blocked:
            return award(0.0, f"{', '.join(sorted(set(blocked)))} leg(s) not eligible under "
                              f"{rules.label}")
        grams = rules.grams_per_point
        if grams is None:  # load_points_rules refuses this; a hand-built PointsRules may not
            raise PointsRulesError(f"{rules.label}: per_gram needs grams_per_point")
        return award(float(math.floor(reduction_g / grams)),
                     f"floor({reduction_g:.0f} g / {grams:g} g per point)")
    steps = _step_points(qualifying, rules)
    if rules.scheme == "per_km":
        parts = [(leg.mode, leg.distance_m / 1000.0, rules.points_per_km.get(leg.mode, 0.0))
                 for leg in qualifying if leg.mode in rules.points_per_km]
        per_km = float(math.floor(math.fsum(km * rate for _, km, rate in parts) + steps[0]))
        why = " + ".join(f"{mode} {km:.2f} km x {rate:g}" for mode, km, rate in parts) + steps[1]
        return award(per_km, f"floor({why or '0'})")
    rides = [(leg.mode, rules.points_per_ride.get(leg.mode, 0.0)) for leg in qualifying]
    return award(math.fsum(p for _, p in rides) + steps[0],
                 " + ".join(f"{mode} {p:g}" for mode, p in rides) + steps[1])


def share_points(points: float, weights: Sequence[float]) -> tuple[float, ...]:
    """``points`` shared among legs in proportion to their ``weights`` (negative ones count 0),
    summing exactly to ``points``.

    Whole points stay whole: each leg gets the floor of its quota and the points left go to
    the largest remainders (first leg first on ties), the largest-remainder (Hamilton) rule.
    Fractional totals are shared in proportion, the last weighted leg taking the rounding.
    """
    w = [max(0.0, float(x)) for x in weights]
    total = math.fsum(w)
    if points == 0 or total <= 0:
        return tuple(0.0 for _ in w)
    quotas = [points * x / total for x in w]
    if float(points).is_integer():
        shares = [float(math.floor(q)) for q in quotas]
        left = int(round(points - math.fsum(shares)))
        order = sorted(range(len(w)), key=lambda i: (-(quotas[i] - shares[i]), i))
        for i in order[:left]:
            shares[i] += 1.0
        return tuple(shares)
    last = max(i for i, x in enumerate(w) if x > 0)
    quotas[last] = points - math.fsum(q for i, q in enumerate(quotas) if i != last)
    return tuple(quotas)


def _leg_weights(legs: Sequence[LegLike], qualifying: Sequence[LegLike], rules: PointsRules, *,
                 reduction_g: float, leg_reduction_g: Sequence[float] | None) -> list[float]:
    """What each leg contributes to the award under ``rules.scheme`` (see ``award_points``)."""
    if rules.scheme == "per_gram":
        if leg_reduction_g is not None:
            return [float(x) for x in leg_reduction_g]
        distance = math.fsum(leg.distance_m for leg in legs)
        if distance <= 0:
            return [0.0 for _ in legs]
        baseline = reduction_g + math.fsum(leg.co2e_g for leg in legs)
        return [baseline * leg.distance_m / distance - leg.co2e_g for leg in legs]
    counted = {id(leg) for leg in qualifying}
    steps = _step_points(qualifying, rules)[0]
    walked = math.fsum(leg.distance_m for leg in qualifying if leg.mode == "walk")
    out = []
    for leg in legs:
        if id(leg) not in counted:
            out.append(0.0)
            continue
        own = (leg.distance_m / 1000.0 * rules.points_per_km.get(leg.mode, 0.0)
               if rules.scheme == "per_km" else rules.points_per_ride.get(leg.mode, 0.0))
        if leg.mode == "walk" and walked > 0:
            own += steps * leg.distance_m / walked
        out.append(own)
    return out


def points_for_steps(steps: float, rules: PointsRules) -> float:
    """Points for ``steps`` walked under the step-based walking option (e.g. a day's step count).

    Raises
    ------
    PointsRulesError
        If the rule set has no ``points_per_step`` or ``steps`` is negative.
    """
    if rules.points_per_step is None:
        raise PointsRulesError(f"{rules.label} has no step-based walking points (points_per_step)")
    if isinstance(steps, bool) or not math.isfinite(steps) or steps < 0:
        raise PointsRulesError(f"steps must be a number >= 0, got {steps!r}")
    return float(steps) * rules.points_per_step


def _step_points(legs: Sequence[LegLike], rules: PointsRules) -> tuple[float, str]:
    """Step points of a trip's walk legs (only when the rules give a step length)."""
    if rules.points_per_step is None or rules.step_length_m is None:
        return 0.0, ""
    walked_m = math.fsum(leg.distance_m for leg in legs if leg.mode == "walk")
    if walked_m <= 0:
        return 0.0, ""
    steps = walked_m / rules.step_length_m
    return steps * rules.points_per_step, (f" + walk {steps:.0f} steps x "
                                           f"{rules.points_per_step:g}")


def apply_daily_cap(points: Sequence[float], rules: PointsRules) -> list[float]:
    """Cap one user's trips of one day, in trip order, at ``rules.max_points_per_day``."""
    cap = rules.max_points_per_day
    if cap is None:
        return [float(p) for p in points]
    result, remaining = [], float(cap)
    for p in points:
        granted = min(max(0.0, float(p)), remaining)
        result.append(granted)
        remaining -= granted
    return result


def _mode_qualifies(mode: str, rules: PointsRules, charged_at_public_pile: bool) -> bool:
    if mode not in rules.eligible_modes:
        return False
    return charged_at_public_pile or mode not in PILE_MODES


def _no_qualifying_reason(legs: Sequence[LegLike], blocked: list[str], rules: PointsRules) -> str:
    if any(mode in PILE_MODES for mode in blocked) and any(m in rules.eligible_modes for m in PILE_MODES):
        return "car_bev earns points only when charged at a public charging pile"
    if blocked:
        return f"{', '.join(sorted(set(blocked)))} not eligible under {rules.label}"
    return "every leg is shorter than its minimum distance" if legs else "no legs"


def _resolve(name_or_path: str | os.PathLike[str]) -> Path:
    if isinstance(name_or_path, str) and (_DATA_DIR / f"points_{name_or_path}.toml").is_file():
        return _DATA_DIR / f"points_{name_or_path}.toml"
    return Path(name_or_path)


def _rules_from_data(data: Mapping[str, Any], *, origin: str) -> PointsRules:
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise PointsRulesError(f"{origin}: unknown field {unknown[0]!r}")
    for name in ("id", "version", "title", "scheme", "source"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            raise PointsRulesError(f"{origin}: missing or empty field {name!r}")
    scheme = data["scheme"]
    if scheme not in SCHEMES:
        raise PointsRulesError(f"{origin}: scheme must be one of {SCHEMES}, got {scheme!r}")
    eligible = data.get("eligible_modes")
    if not isinstance(eligible, list) or not eligible:
        raise PointsRulesError(f"{origin}: eligible_modes must be a non-empty list of modes")
    _check_modes(eligible, origin, "eligible_modes")
    per_ride = _mode_numbers(data.get("points_per_ride", {}), origin, "points_per_ride")
    per_km = _mode_numbers(data.get("points_per_km", {}), origin, "points_per_km")
    grams = data.get("grams_per_point")
    if scheme == "per_gram" or grams is not None:
        grams = _positive(grams, origin, "grams_per_point")
    if scheme == "flat_per_ride" and not per_ride:
        raise PointsRulesError(f"{origin}: flat_per_ride needs a [points_per_ride] table")
    if scheme == "per_km" and not per_km:
        raise PointsRulesError(f"{origin}: per_km needs a [points_per_km] table")
    sources = data.get("sources", {})
    if not isinstance(sources, Mapping) or not all(isinstance(v, str) for v in sources.values()):
        raise PointsRulesError(f"{origin}: sources must be a table of name = \"clause\"")
    baseline = data.get("baseline_mode", "car_petrol")
    _check_modes([baseline], origin, "baseline_mode")
    return PointsRules(
        id=data["id"], version=data["version"], title=data["title"], scheme=scheme,
        source=data["source"], notes=str(data.get("notes", "")), eligible_modes=frozenset(eligible),
        grams_per_point=None if grams is None else float(grams), points_per_ride=per_ride,
        min_distance_m=_mode_numbers(data.get("min_distance_m", {}), origin, "min_distance_m"),
        max_points_per_trip=_optional_cap(data, "max_points_per_trip", origin),
        max_points_per_day=_optional_cap(data, "max_points_per_day", origin),
        baseline_mode=baseline, points_per_km=per_km,
        points_per_step=_optional_cap(data, "points_per_step", origin),
        step_length_m=_optional_cap(data, "step_length_m", origin), sources=dict(sources))


def _check_modes(modes: Sequence[Any], origin: str, name: str) -> None:
    for mode in modes:
        if mode not in MODES:
            raise PointsRulesError(f"{origin}: {name} has unknown mode {mode!r} (known: "
                                   f"{', '.join(MODES)})")


def _mode_numbers(table: Any, origin: str, name: str) -> dict[str, float]:
    if not isinstance(table, Mapping):
        raise PointsRulesError(f"{origin}: {name} must be a table of mode = number")
    _check_modes(list(table), origin, name)
    return {mode: _non_negative(value, origin, f"{name}.{mode}") for mode, value in table.items()}


def _optional_cap(data: Mapping[str, Any], name: str, origin: str) -> float | None:
    return None if data.get(name) is None else _positive(data[name], origin, name)


def _non_negative(value: Any, origin: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0:
        raise PointsRulesError(f"{origin}: {name} must be a number >= 0, got {value!r}")
    return float(value)


def _positive(value: Any, origin: str, name: str) -> float:
    if _non_negative(value, origin, name) <= 0:
        raise PointsRulesError(f"{origin}: {name} must be > 0, got {value!r}")
    return float(value)
