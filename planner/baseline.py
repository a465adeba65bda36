"""The baseline: the same trip by private petrol car, which every reduction and award is measured against.

Every kind of baseline is computed here and nowhere else, as one :class:`~planner.model.Baseline`
value object whose ``method`` names how:

=================== ==================================================================
``car_network``     a planned trip: fastest path on the driving layer + snap connectors
``crow_fly_detour`` a planned trip without a car path: straight line x detour factor
``same_distance``   given legs: their summed distance by petrol car
``given``           given legs with a baseline the caller measured (``co2e_g`` only)
=================== ==================================================================

:func:`plan_baseline` and :func:`legs_baseline` are the two entry points (the planner and
``planner.accounting`` call them); a published methodology that defines the baseline
differently replaces these two functions, nothing else.
"""
from __future__ import annotations

from typing import Protocol

from .itineraries import CAR_CONNECTOR_SPEED_MPS
from .model import BASELINE_MODE, Baseline
from .street_search import StreetPath

__all__ = [
    "BASELINE_METHODS", "CROW_FLY_DETOUR_FACTOR", "CROW_FLY_SPEED_MPS",
    "plan_baseline", "legs_baseline", "car_baseline", "crow_fly_baseline",
    "same_distance_baseline", "given_baseline",
]

#: Values of ``Baseline.method``, in the order of the table above.
BASELINE_METHODS = ("car_network", "crow_fly_detour", "same_distance", "given")
#: Road distance / straight-line distance used when the driving layer has no path. Urban
#: circuity is typically 1.2-1.4 (Ballou et al. 2002; Boeing 2019 measured ~1.3 for US cities).
CROW_FLY_DETOUR_FACTOR = 1.3
#: Average urban driving speed for that fallback (30 km/h).
CROW_FLY_SPEED_MPS = 30 / 3.6


class FactorLookup(Protocol):
    """What the baseline reads from a factor table (``graphs.factors.FactorTable`` satisfies it)."""

    def g_per_pkm(self, key: str) -> float: ...


def plan_baseline(car_path: StreetPath | None, *, crow_m: float, connector_m: float,
                  factors: FactorLookup) -> Baseline:
    """The baseline of a planned trip: ``car_network`` if a car path exists, else ``crow_fly_detour``.

    Parameters
    ----------
    car_path
        Fastest path on the driving layer between the snapped ends, or ``None``.
    crow_m
        Straight-line distance between the trip's ends.
    connector_m
        Both ends' snap distances to the driving layer (ignored without a car path).
    factors
        The network's factor table.
    """
    g_per_pkm = float(factors.g_per_pkm(BASELINE_MODE))
    if car_path is None:
        return crow_fly_baseline(crow_m, g_per_pkm=g_per_pkm)
    return car_baseline(car_path, connector_m=connector_m, g_per_pkm=g_per_pkm,
                        duration_s=car_path.duration_s + connector_m / CAR_CONNECTOR_SPEED_MPS)


def legs_baseline(distance_m: float, *, factors: FactorLookup,
                  given_co2e_g: float | None = None) -> Baseline:
    """The baseline of given legs: ``given`` if the caller measured one, else ``same_distance``."""
    if given_co2e_g is not None:
        return given_baseline(given_co2e_g, distance_m=distance_m)
    return same_distance_baseline(distance_m, g_per_pkm=float(factors.g_per_pkm(BASELINE_MODE)))


def car_baseline(path: StreetPath, *, connector_m: float, duration_s: float,
                 g_per_pkm: float) -> Baseline:
    """Baseline from the fastest path on the driving layer (``car_network``)."""
    distance_m = path.length_m + connector_m
    return Baseline(mode=BASELINE_MODE, distance_m=distance_m, duration_s=duration_s,
                    co2e_g=g_per_pkm * distance_m / 1000.0, co2e_g_per_pkm=g_per_pkm,
                    method="car_network")


def crow_fly_baseline(crow_m: float, *, g_per_pkm: float) -> Baseline:
    """Baseline from the straight-line distance x :data:`CROW_FLY_DETOUR_FACTOR` (``crow_fly_detour``)."""
    distance_m = crow_m * CROW_FLY_DETOUR_FACTOR
    return Baseline(mode=BASELINE_MODE, distance_m=distance_m,
                    duration_s=distance_m / CROW_FLY_SPEED_MPS,
                    co2e_g=g_per_pkm * distance_m / 1000.0, co2e_g_per_pkm=g_per_pkm,
                    method="crow_fly_detour")


def same_distance_baseline(distance_m: float, *, g_per_pkm: float) -> Baseline:
    """Baseline of given legs: their total distance by petrol car (``same_distance``; no duration)."""
    return Baseline(mode=BASELINE_MODE, distance_m=distance_m, duration_s=None,
                    co2e_g=g_per_pkm * distance_m / 1000.0, co2e_g_per_pkm=g_per_pkm,
                    method="same_distance")


def given_baseline(co2e_g: float, *, distance_m: float) -> Baseline:
    """A baseline the caller measured (``given``): its CO2e only, no mode, factor or duration."""
    return Baseline(mode=None, distance_m=distance_m, duration_s=None, co2e_g=co2e_g,
                    co2e_g_per_pkm=None, method="given")
