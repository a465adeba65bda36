"""Trip accounting: CO2e, baseline and points of given legs, and the itinerary that stands for a claim.

The HTTP API (``POST /v1/points``, both forms) and the batch audit call these functions, so the
same trip gets the same CO2e, baseline and points from either.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from graphs.modes import TRANSIT as _TRANSIT
from graphs.modes import TRANSIT_MODES

from .baseline import FactorLookup, legs_baseline
from .errors import MethodologyError, NoRouteError
from .methodology import Methodology, methodology_of, reduction_for_legs
from .model import Baseline, Itinerary, Plan, PointsAward
from .points import PointsRules, award_points

__all__ = [
    "LegAmount",
    "LegsAccount",
    "account_legs",
    "claim_itinerary",
    "claims_transit",
    "leg_amounts",
    "uses_only_claimed_modes",
]


@dataclass(frozen=True)
class LegAmount:
    """One given leg (mode and distance) and its CO2e by the network's factor table."""

    mode: str
    distance_m: float
    co2e_g: float
    co2e_g_per_pkm: float
    co2e_factor: str          # the factor-table key that produced co2e_g


@dataclass(frozen=True)
class LegsAccount:
    """CO2e, baseline, reduction and points of given legs (what ``POST /v1/points`` answers)."""

    legs: tuple[LegAmount, ...]
    co2e_g: float
    distance_m: float
    baseline: Baseline
    reduction_g: float        # the methodology's reduction, as for an itinerary
    points: PointsAward
    factor_table: str         # "<id>@<version>"
    points_rules: str         # "<id>@<version>"
    methodology: str = ""     # "<id>@<version>"
    grid: str = ""            # "<grid set>/<grid>", "" if the table has none
    reduction_explanation: str = ""


def leg_amounts(legs: Iterable[tuple[str, float]], *, factors: FactorLookup) -> tuple[LegAmount, ...]:
    """``(mode, distance_m)`` pairs with their CO2e: ``g_per_pkm(mode) x distance_m / 1000``."""
    out = []
    for mode, distance_m in legs:
        per_pkm = float(factors.g_per_pkm(mode))
        out.append(LegAmount(mode=mode, distance_m=float(distance_m),
                             co2e_g=per_pkm * float(distance_m) / 1000.0,
                             co2e_g_per_pkm=per_pkm, co2e_factor=mode))
    return tuple(out)


def account_legs(legs: Iterable[tuple[str, float]], *, factors: FactorLookup, rules: PointsRules,
                 factor_table: str, baseline_co2e_g: float | None = None,
                 charged_at_public_pile: bool = False,
                 methodology: Methodology | str | None = None) -> LegsAccount:
    """CO2e, baseline and points of given legs.

    Parameters
    ----------
    legs
        ``(mode, distance_m)`` pairs, modes of ``graphs.modes``, already validated.
    factors
        The network's factor table; ``factor_table`` is its ``"<id>@<version>"`` label.
    rules
        The points rule set.
    baseline_co2e_g
        A baseline the caller measured (``given``); ``None`` for the legs' total distance by
        petrol car (``same_distance``). See ``planner.baseline.legs_baseline``.
    charged_at_public_pile
        A ``car_bev`` leg earns points only if true (``planner.points.award_points``).
    methodology
        The carbon-accounting methodology (default ``tanlu-car``); the given legs' summed
        distance stands for the car route. A measured ``baseline_co2e_g`` applies only to a
        ``baseline_mode`` methodology.

    Raises
    ------
    MethodologyError
        If ``baseline_co2e_g`` is given with a methodology whose baseline is not one mode, or
        the methodology lacks the operator's numbers.
    """
    method = methodology_of(methodology)
    amounts = leg_amounts(legs, factors=factors)
    distance_m = math.fsum(leg.distance_m for leg in amounts)
    co2e_g = math.fsum(leg.co2e_g for leg in amounts)
    baseline = legs_baseline(distance_m, factors=factors, given_co2e_g=baseline_co2e_g)
    if baseline_co2e_g is not None:
        if method.kind != "baseline_mode":
            raise MethodologyError(f"baseline_co2e_g applies to a methodology whose baseline is one "
                                   f"mode; {method.label} ({method.kind}) computes its own")
        method.require_usable()
        reduction_g = max(0.0, baseline.co2e_g - co2e_g)
        per_leg: tuple[float, ...] | None = None  # award_points spreads the given baseline
        why = f"given baseline {baseline.co2e_g:.0f} g; legs {co2e_g:.0f} g"
    else:
        reduction = reduction_for_legs(amounts, methodology=method, factors=factors,
                                       car_distance_m=distance_m)
        reduction_g, why = reduction.reduction_g, reduction.explanation
        per_leg = reduction.per_leg_g
    award = award_points(amounts, reduction_g=reduction_g, rules=rules,
                         charged_at_public_pile=charged_at_public_pile, leg_reduction_g=per_leg)
    grid = getattr(factors, "grid", None)
    return LegsAccount(legs=amounts, co2e_g=co2e_g, distance_m=distance_m, baseline=baseline,
                       reduction_g=reduction_g, points=award, factor_table=factor_table,
                       points_rules=rules.label, methodology=method.label,
                       grid="" if grid is None else grid.label, reduction_explanation=why)


def claims_transit(claimed: Iterable[str]) -> bool:
    """Whether a claim names ``"transit"`` or a transit mode (``bus``, ``metro``, ...)."""
    return any(mode == _TRANSIT or mode in TRANSIT_MODES for mode in claimed)


def uses_only_claimed_modes(leg_modes: Iterable[str], claimed: Iterable[str]) -> bool:
    """Whether an itinerary's legs fit a claim (the rule of :func:`claim_itinerary`).

    Every leg is on a claimed mode or walks (``"transit"`` allows every transit mode); and
    unless the claim is walking alone, at least one leg is on a claimed mode other than walking,
    so a walk-only itinerary never stands for a bus, bike or car trip.
    """
    claimed = frozenset(claimed)
    leg_modes = frozenset(leg_modes)
    transit = frozenset(TRANSIT_MODES) if _TRANSIT in claimed else frozenset()
    riding = (claimed - {"walk", _TRANSIT}) | transit
    if not leg_modes <= riding | {"walk"}:
        return False
    return not riding or bool(leg_modes & riding)


def claim_itinerary(plan: Plan, claimed: Iterable[str]) -> Itinerary:
    """The itinerary of ``plan`` that stands for a trip claimed on ``claimed`` modes.

    The rule (one for the HTTP API and the audit): among the itineraries that
    :func:`uses_only_claimed_modes`, the fastest; on equal duration the lower CO2e, then the
    plan's order. Its points are the planner's award (``Query.charged_at_public_pile`` included).

    Raises
    ------
    NoRouteError
        If no itinerary of the plan fits the claim (walking was quicker than any bus, say).
    """
    claimed = tuple(claimed)
    fitting = [it for it in plan.itineraries if uses_only_claimed_modes(it.modes, claimed)]
    if not fitting:
        raise NoRouteError(f"no itinerary uses only {'+'.join(claimed)} (and walking)")
    return min(fitting, key=lambda it: (it.duration_s, it.co2e_g))
