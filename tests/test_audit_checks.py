"""audit.checks: each plausibility rule fires exactly where its threshold says."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from audit import checks
from audit.checks import apply_checks
from graphs.geodesy import haversine_m

TZ = "America/Sao_Paulo"


def _frame(**columns) -> pd.DataFrame:
    n = max(len(v) for v in columns.values() if isinstance(v, list))
    start = pd.Timestamp("2019-05-13T08:00", tz=TZ)
    base = {
        "row": list(range(1, n + 1)), "trip_id": [f"t{i}" for i in range(n)],
        "user_id": [f"u{i}" for i in range(n)], "claimed_mode": ["walk"] * n,
        "started_at": [start] * n, "ended_at": [start + pd.Timedelta(minutes=30)] * n,
        "status": ["ok"] * n, "expected_distance_m": [1000.0] * n,
        "expected_duration_s": [750.0] * n, "transit_wait_s": [math.nan] * n,
        "recorded_duration_s": [1800.0] * n, "implied_speed_kph": [2.0] * n,
        "claimed_distance_m": [math.nan] * n, "claimed_points": [math.nan] * n,
        "points_due": [0.0] * n,
    }
    base.update(columns)
    frame = pd.DataFrame(base)
    for name in ("started_at", "ended_at"):
        frame[name] = pd.to_datetime(frame[name]).dt.tz_convert(TZ)
    return frame


def test_haversine_matches_a_known_distance():
    # one degree of latitude is about 111.2 km on the mean-radius sphere
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(-30.0, -51.2, -30.0, -51.2) == 0.0


def test_too_fast_uses_the_fastest_claimed_mode():
    limit_walk = checks.MAX_SPEED_KPH["walk"]
    frame = _frame(claimed_mode=["walk", "walk", "walk+bus", "bike"],
                   implied_speed_kph=[limit_walk - 0.1, limit_walk + 0.1, limit_walk + 5, 41.0])
    fired = checks.check_too_fast(frame).notna().tolist()
    assert fired == [False, True, False, 41.0 > checks.MAX_SPEED_KPH["bike"]]


def test_faster_than_planner_needs_ratio_and_slack():
    ratio = checks.MIN_DURATION_RATIO["walk"]
    slack = checks.MIN_DURATION_SLACK_S
    frame = _frame(expected_duration_s=[3000.0, 3000.0, 200.0, 3000.0],
                   recorded_duration_s=[3000 * ratio + 1, 3000 * ratio - 1, 20.0, 3000 * 0.3],
                   claimed_mode=["walk", "walk", "walk", "bike"])
    reasons = checks.check_faster_than_planner(frame)
    # row 3 is short: it fires only if it is also more than the absolute slack below
    expected = [False, True, 200 - 20 > slack, 0.3 < checks.MIN_DURATION_RATIO["bike"]]
    assert reasons.notna().tolist() == expected
    assert "planner's fastest 50.0 min" in reasons.iloc[1]


def test_no_service_for_transit_claims_only():
    frame = _frame(claimed_mode=["walk+bus", "walk+bus", "walk+bus", "walk", "transit"],
                   status=["ok", "ok", "no_route", "no_route", "ok"],
                   transit_wait_s=[300.0, checks.MAX_TRANSIT_WAIT_S + 1, math.nan, math.nan, 10.0])
    assert checks.check_no_service(frame).notna().tolist() == [False, True, True, False, False]
    assert checks.check_no_route(frame).notna().tolist() == [False, False, False, True, False]


def test_distance_mismatch_ratio_and_slack():
    frame = _frame(expected_distance_m=[1000.0, 1000.0, 1000.0, 200.0, 1000.0, 1000.0],
                   claimed_distance_m=[1500.0, 1700.0, 500.0, 400.0, math.nan, 590.0])
    got = checks.check_distance_mismatch(frame).notna().tolist()
    # 1.7 > MAX; 0.5 < MIN; 400/200 = 2 but only 200 m off (< slack); missing: never
    assert got == [False, True, True, False, False, True]


def test_points_inflated_above_due_plus_slack():
    frame = _frame(points_due=[10.0, 10.0, 100.0, 0.0],
                   claimed_points=[11.0, 11.5, 104.0, math.nan])
    assert checks.check_points_inflated(frame).notna().tolist() == [False, True, False, False]


def test_duplicate_trip_id_flags_later_rows_only():
    frame = _frame(trip_id=["a", "b", "a", "a"], user_id=["u1", "u2", "u3", "u4"])
    reasons = checks.check_duplicate_trip_id(frame)
    assert reasons.notna().tolist() == [False, False, True, True]
    assert reasons.iloc[2] == "trip_id already used on row 1"


def test_overlapping_trips_of_one_user():
    t = pd.Timestamp("2019-05-13T08:00", tz=TZ)
    m = pd.Timedelta(minutes=1)
    frame = _frame(
        user_id=["u", "u", "u", "v", "u"],
        started_at=[t + 60 * m, t, t + 29 * m + 30 * pd.Timedelta(seconds=1), t + 5 * m, t + 100 * m],
        ended_at=[t + 90 * m, t + 30 * m, t + 50 * m, t + 6 * m, t + 110 * m])
    # row 2 (08:00-08:30) is first; row 3 starts 08:29:30, within the 60 s slack; row 1 starts
    # 09:00 after 08:50: fine; row 5 at 09:40 overlaps row 1 (until 09:30)? no: fine.
    assert checks.check_overlapping_trip(frame).notna().tolist() == [False] * 5
    frame.loc[4, "started_at"] = t + 80 * m                  # inside row 1's 09:00-09:30
    assert checks.check_overlapping_trip(frame).notna().tolist() == [False] * 4 + [True]


def test_apply_checks_joins_codes_in_order_and_sets_flagged():
    frame = _frame(trip_id=["a", "a"], implied_speed_kph=[3.0, 50.0],
                   claimed_points=[math.nan, 99.0])
    out = apply_checks(frame)
    assert out["flags"].tolist() == ["", "duplicate_trip_id;too_fast;points_inflated"]
    assert out["flagged"].tolist() == [False, True]
    assert out["reasons"].iloc[1].count("; ") == 2
    assert set(checks.FLAG_CODES) >= set(out["flags"].iloc[1].split(";"))


def test_implied_speed_edge_cases():
    speed = checks.implied_speed_kph(np.array([1000.0, 0.0, 1000.0]), np.array([360.0, 0.0, 0.0]))
    assert speed[0] == pytest.approx(10.0) and math.isnan(speed[1]) and math.isinf(speed[2])
