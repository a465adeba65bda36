"""Test doubles for the audit: a planner-free per-trip function and hand-made trip frames."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from graphs.geodesy import haversine_m
from audit.schema import MODE_SEPARATOR

TIMEZONE = "America/Sao_Paulo"
BBOX = (-51.27, -30.12, -51.13, -29.98)
DETOUR = 1.3
SPEED_MPS = {"walk": 1.33, "bike": 4.2, "ebike": 5.5, "car_petrol": 10.0, "bus": 6.0,
             "transit": 6.0}
G_PER_KM = {"walk": 0.0, "bike": 0.0, "ebike": 10.0, "car_petrol": 180.0, "bus": 60.0,
            "transit": 60.0}
GRAMS_PER_POINT = 100.0
DAILY_CAP = 10.0
SERVICE_HOURS = (6, 22)  # the fake's buses run 06:00-22:00


@dataclass(frozen=True)
class FakeEvaluator:
    """Straight line x detour at fixed speeds; buses only 06-22 h; 1 point per 100 g saved."""

    fingerprint: str = "fake-v1"
    fail_row: int = -1

    def cap_daily(self, points):
        out, total = [], 0.0
        for value in points:
            granted = max(0.0, min(value, DAILY_CAP - total))
            total += granted
            out.append(granted)
        return out

    def __call__(self, trip):
        if trip.row == self.fail_row:
            raise RuntimeError("boom")
        parts = trip.claimed_mode.split(MODE_SEPARATOR)
        distance = float(haversine_m(trip.origin_lat, trip.origin_lon, trip.dest_lat,
                                    trip.dest_lon)) * DETOUR
        main = max(parts, key=lambda p: SPEED_MPS.get(p, 6.0))
        transit = main in ("bus", "transit")
        if transit and not SERVICE_HOURS[0] <= trip.started_at.hour < SERVICE_HOURS[1]:
            return {"status": "no_route", "error_reason": "no service"}
        co2e = distance / 1000 * G_PER_KM.get(main, 60.0)
        baseline = distance / 1000 * G_PER_KM["car_petrol"]
        reduction = baseline - co2e
        return {"status": "ok", "itinerary_modes": main, "expected_distance_m": distance,
                "expected_duration_s": distance / SPEED_MPS.get(main, 6.0),
                "transit_wait_s": 120.0 if transit else math.nan, "co2e_g": co2e,
                "baseline_distance_m": distance, "baseline_co2e_g": baseline,
                "baseline_method": "fake", "reduction_g": reduction,
                "points_raw": round(reduction / GRAMS_PER_POINT, 2)}


def trip_rows(n: int = 30, *, seed: int = 0) -> pd.DataFrame:
    """``n`` honest trips of 5 users across two days, as text like a CSV would hold them."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        user = f"u{i % 5}"
        day = 13 + (i // 15)
        start = pd.Timestamp(2019, 5, day, 7) + pd.Timedelta(hours=(i % 15) // 5 * 3 + i % 5 * 0)
        start += pd.Timedelta(minutes=int(i % 5) * 7)
        lat, lon = -30.03 + rng.uniform(-0.03, 0.03), -51.20 + rng.uniform(-0.04, 0.04)
        dlat, dlon = lat + rng.uniform(-0.01, 0.01), lon + rng.uniform(-0.01, 0.01)
        mode = ("walk", "bike", "walk+bus")[i % 3]
        trip = FakeEvaluator()(_Trip(0, start, start, lat, lon, dlat, dlon, mode))
        end = start + pd.Timedelta(seconds=round(trip["expected_duration_s"] * 1.1) + 30)
        rows.append({"trip_id": f"t{i:04d}", "user_id": user, "started_at": start.isoformat(),
                     "ended_at": end.isoformat(), "origin_lat": f"{lat:.6f}",
                     "origin_lon": f"{lon:.6f}", "dest_lat": f"{dlat:.6f}",
                     "dest_lon": f"{dlon:.6f}", "claimed_mode": mode,
                     "claimed_distance_m": f"{trip['expected_distance_m']:.0f}",
                     "claimed_points": "", "device": f"d{i % 3}"})
    return pd.DataFrame(rows)


class _Trip:
    def __init__(self, row, started_at, ended_at, origin_lat, origin_lon, dest_lat, dest_lon,
                 claimed_mode):
        self.row, self.started_at, self.ended_at = row, started_at, ended_at
        self.origin_lat, self.origin_lon = origin_lat, origin_lon
        self.dest_lat, self.dest_lon, self.claimed_mode = dest_lat, dest_lon, claimed_mode
