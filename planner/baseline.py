"""The car baseline: the same trip by private petrol car, which points are measured against."""
from __future__ import annotations

from .model import BASELINE_MODE, Baseline
from .street_search import StreetPath

__all__ = ["car_baseline", "crow_fly_baseline", "CROW_FLY_DETOUR_FACTOR", "CROW_FLY_SPEED_MPS"]

#: Road distance / straight-line distance used when the driving layer has no path. Urban
#: circuity is typically 1.2-1.4 (Ballou et al. 2002; Boeing 2019 measured ~1.3 for US cities).
CROW_FLY_DETOUR_FACTOR = 1.3
#: Average urban driving speed for that fallback (30 km/h).
CROW_FLY_SPEED_MPS = 30 / 3.6


def car_baseline(path: StreetPath, *, connector_m: float, duration_s: float,
                 g_per_pkm: float) -> Baseline:
    """Baseline from the fastest path on the driving layer."""
    distance_m = path.length_m + connector_m
    return Baseline(mode=BASELINE_MODE, distance_m=distance_m, duration_s=duration_s,
                    co2e_g=g_per_pkm * distance_m / 1000.0, co2e_g_per_pkm=g_per_pkm,
                    method="car_network")


def crow_fly_baseline(crow_m: float, *, g_per_pkm: float) -> Baseline:
    """Baseline from the straight-line distance x :data:`CROW_FLY_DETOUR_FACTOR`."""
    distance_m = crow_m * CROW_FLY_DETOUR_FACTOR
    return Baseline(mode=BASELINE_MODE, distance_m=distance_m,
                    duration_s=distance_m / CROW_FLY_SPEED_MPS,
                    co2e_g=g_per_pkm * distance_m / 1000.0, co2e_g_per_pkm=g_per_pkm,
                    method="crow_fly_detour")
