"""Plausibility rules: pure, vectorised checks of recorded trips against the planner's answer.

Each ``check_*`` takes a frame of audited trips and returns a Series aligned with it holding a
human-readable reason where the rule fires and ``None`` elsewhere; :func:`apply_checks` runs
them all and writes ``flags`` (codes joined by ``;``), ``reasons`` and ``flagged``.
Thresholds are the module constants below; docs/audit.md explains each one.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from graphs.modes import TRANSIT, TRANSIT_MODES, parse_modes

from .schema import ROW_COLUMN

__all__ = [
    "MAX_SPEED_KPH", "MIN_DURATION_RATIO", "DEFAULT_MIN_DURATION_RATIO", "MIN_DURATION_SLACK_S",
    "MAX_TRANSIT_WAIT_S", "DISTANCE_RATIO_MIN", "DISTANCE_RATIO_MAX", "DISTANCE_SLACK_M",
    "POINTS_SLACK", "POINTS_RELATIVE_SLACK", "OVERLAP_SLACK_S", "FLAG_CODES", "FLAG_SEPARATOR",
    "implied_speed_kph", "check_too_fast", "check_faster_than_planner",
    "check_no_service", "check_no_route", "check_distance_mismatch", "check_points_inflated",
    "check_duplicate_trip_id", "check_overlapping_trip", "duplicate_mask", "apply_checks",
]

#: Highest plausible average speed per claimed mode (km/h) over the network distance; a claim
#: of several modes uses the fastest of them. Generous on purpose: a flag must mean "impossible".
MAX_SPEED_KPH: dict[str, float] = {
    "walk": 12.0, "bike": 40.0, "ebike": 45.0, "bikeshare": 40.0,
    "car_petrol": 130.0, "car_diesel": 130.0, "car_hybrid": 130.0, "car_bev": 130.0,
    "taxi": 130.0, "bus": 80.0, "tram": 70.0, "metro": 100.0, "rail": 160.0,
    "ferry": 60.0, "cable": 50.0, TRANSIT: 160.0,
}
#: A recorded duration below this share of the planner's fastest itinerary for the claimed
#: modes is implausible (the planner assumes 4.8 km/h walking, 15 km/h cycling, speed limits
#: for cars and the timetable for transit). A multi-mode claim uses its most lenient mode.
MIN_DURATION_RATIO: dict[str, float] = {"bike": 0.4, "ebike": 0.4, "bikeshare": 0.4, "walk": 0.5}
DEFAULT_MIN_DURATION_RATIO = 0.6
#: ... and at least this many seconds below it (GPS clocks and short trips are noisy).
MIN_DURATION_SLACK_S = 120.0
#: A transit claim is "no service" when the first transit vehicle of the planner's itinerary
#: leaves more than this after the recorded start (or there is no such itinerary at all).
MAX_TRANSIT_WAIT_S = 3600.0
#: Claimed distance / network distance outside [MIN, MAX] and off by more than SLACK metres.
DISTANCE_RATIO_MIN = 0.6
DISTANCE_RATIO_MAX = 1.6
DISTANCE_SLACK_M = 300.0
#: Claimed points may exceed points due by max(SLACK, RELATIVE_SLACK x due) (rounding).
POINTS_SLACK = 1.0
POINTS_RELATIVE_SLACK = 0.05
#: Two trips of one user overlap when the later starts this much before the earlier ends.
OVERLAP_SLACK_S = 60.0
#: Every flag code, in the order they appear in ``flags``.
FLAG_CODES = ("duplicate_trip_id", "overlapping_trip", "no_service", "no_route", "too_fast",
              "faster_than_planner", "distance_mismatch", "points_inflated")
FLAG_SEPARATOR = ";"


def implied_speed_kph(distance_m, duration_s) -> np.ndarray:
    """Average speed; ``inf`` for a positive distance in zero time, NaN for 0 m in 0 s."""
    distance = np.asarray(distance_m, float)
    duration = np.asarray(duration_s, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return distance / duration * 3.6


def check_too_fast(trips: pd.DataFrame) -> pd.Series:
    """Implied speed (network distance, else crow-fly, over recorded time) above the mode's max."""
    limit = trips["claimed_mode"].map(_claim_max_speed).astype(float)
    speed = trips["implied_speed_kph"].astype(float)
    fires = speed > limit
    return _reasons(fires, lambda: (
        "implied speed " + _fmt(speed[fires], 1) + " km/h is above the "
        + trips["claimed_mode"][fires].astype(str) + " maximum of " + _fmt(limit[fires], 0)
        + " km/h"))


def check_faster_than_planner(trips: pd.DataFrame) -> pd.Series:
    """Recorded duration far below the planner's fastest itinerary for the claimed modes."""
    ratio = trips["claimed_mode"].map(_claim_min_ratio).astype(float)
    recorded = trips["recorded_duration_s"].astype(float)
    fastest = trips["expected_duration_s"].astype(float)
    fires = (recorded < ratio * fastest) & (fastest - recorded > MIN_DURATION_SLACK_S)
    return _reasons(fires, lambda: (
        "recorded " + _fmt(recorded[fires] / 60, 1) + " min is below "
        + _fmt(ratio[fires] * 100, 0) + "% of the planner's fastest "
        + _fmt(fastest[fires] / 60, 1) + " min for " + trips["claimed_mode"][fires].astype(str)))


def check_no_service(trips: pd.DataFrame) -> pd.Series:
    """A transit claim when no service ran: no transit itinerary, or none leaving soon enough."""
    transit = trips["claimed_mode"].map(_claim_has_transit).astype(bool)
    wait = trips["transit_wait_s"].astype(float)
    no_itinerary = transit & (trips["status"] == "no_route")
    late = transit & (wait > MAX_TRANSIT_WAIT_S)
    fires = no_itinerary | late
    started = trips["started_at"].dt.strftime("%Y-%m-%d %H:%M")

    def text() -> pd.Series:
        base = "no " + trips["claimed_mode"][fires].astype(str) + " service at " + started[fires]
        detail = pd.Series(": the planner finds no itinerary using it", index=base.index)
        late_here = late[fires]
        detail[late_here] = (": the first vehicle leaves "
                             + _fmt(wait[fires][late_here] / 60, 0) + " min later")
        return base + detail

    return _reasons(fires, text)


def check_no_route(trips: pd.DataFrame) -> pd.Series:
    """A street-mode claim the planner cannot route at all (disconnected or forbidden streets)."""
    transit = trips["claimed_mode"].map(_claim_has_transit).astype(bool)
    fires = ~transit & (trips["status"] == "no_route")
    return _reasons(fires, lambda: "the planner finds no " + trips["claimed_mode"][fires].astype(str)
                    + " route between origin and destination")


def check_distance_mismatch(trips: pd.DataFrame) -> pd.Series:
    """Claimed distance far from the network distance of the planner's itinerary."""
    claimed = trips["claimed_distance_m"].astype(float)
    expected = trips["expected_distance_m"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = claimed / expected
    fires = (((ratio < DISTANCE_RATIO_MIN) | (ratio > DISTANCE_RATIO_MAX))
             & ((claimed - expected).abs() > DISTANCE_SLACK_M))
    return _reasons(fires, lambda: (
        "claimed distance " + _fmt(claimed[fires] / 1000, 2) + " km vs network "
        + _fmt(expected[fires] / 1000, 2) + " km (ratio " + _fmt(ratio[fires], 2) + ")"))


def check_points_inflated(trips: pd.DataFrame) -> pd.Series:
    """Claimed points above the points due (after the daily cap) beyond rounding slack."""
    claimed = trips["claimed_points"].astype(float)
    due = trips["points_due"].astype(float).fillna(0.0)
    slack = np.maximum(POINTS_SLACK, POINTS_RELATIVE_SLACK * due)
    fires = claimed > due + slack
    return _reasons(fires, lambda: (
        "claimed " + _fmt(claimed[fires], 1) + " points, due " + _fmt(due[fires], 1)))


def check_duplicate_trip_id(trips: pd.DataFrame) -> pd.Series:
    """Every occurrence of a ``trip_id`` after its first (by input row)."""
    ordered = trips.sort_values(ROW_COLUMN, kind="stable")
    repeated = ordered["trip_id"].duplicated(keep="first").reindex(trips.index)
    first_row = ordered.groupby("trip_id", sort=False)[ROW_COLUMN].transform("first").reindex(trips.index)
    return _reasons(repeated, lambda: "trip_id already used on row " + first_row[repeated].astype(str))


def check_overlapping_trip(trips: pd.DataFrame) -> pd.Series:
    """A trip of a user starting before an earlier-starting trip of the same user has ended."""
    ordered = trips.sort_values(["user_id", "started_at", ROW_COLUMN], kind="stable")
    end_s = _epoch_s(ordered["ended_at"])
    users = ordered["user_id"]
    previous_end = end_s.groupby(users, sort=False).cummax().groupby(users, sort=False).shift(1)
    fires = (_epoch_s(ordered["started_at"]) < previous_end - OVERLAP_SLACK_S)
    fires = fires.reindex(trips.index).fillna(False)
    return _reasons(fires, lambda: "overlaps an earlier trip of user "
                    + trips["user_id"][fires].astype(str))


def duplicate_mask(trips: pd.DataFrame) -> pd.Series:
    """True for trips that repeat another (same trip_id again, or overlapping in time)."""
    return check_duplicate_trip_id(trips).notna() | check_overlapping_trip(trips).notna()


_CHECKS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "duplicate_trip_id": check_duplicate_trip_id,
    "overlapping_trip": check_overlapping_trip,
    "no_service": check_no_service,
    "no_route": check_no_route,
    "too_fast": check_too_fast,
    "faster_than_planner": check_faster_than_planner,
    "distance_mismatch": check_distance_mismatch,
    "points_inflated": check_points_inflated,
}


def apply_checks(trips: pd.DataFrame) -> pd.DataFrame:
    """Return ``trips`` with ``flagged`` (bool), ``flags`` (codes) and ``reasons`` (text) added.

    ``trips`` needs the parsed input columns and the audit columns ``status``,
    ``expected_distance_m``, ``expected_duration_s``, ``transit_wait_s``,
    ``recorded_duration_s``, ``implied_speed_kph`` and ``points_due``.
    """
    n = len(trips)
    codes = np.full(n, "", dtype=object)
    texts = np.full(n, "", dtype=object)
    for code in FLAG_CODES:
        reasons = _CHECKS[code](trips)
        fires = reasons.notna().to_numpy()
        codes[fires] = codes[fires] + FLAG_SEPARATOR + code
        texts[fires] = texts[fires] + "; " + reasons[fires].astype(str).to_numpy(dtype=object)
    out = trips.copy()
    out["flags"] = pd.array([c[1:] for c in codes], dtype="str")
    out["reasons"] = pd.array([t[2:] for t in texts], dtype="str")
    out["flagged"] = out["flags"] != ""
    return out


def _reasons(fires: pd.Series, text: Callable[[], pd.Series]) -> pd.Series:
    fires = fires.fillna(False).astype(bool)
    out = pd.Series(None, index=fires.index, dtype=object)
    if fires.any():
        out[fires] = text().astype(object)
    return out


def _epoch_s(times: pd.Series) -> pd.Series:
    """Seconds since 1970 (float), whatever the datetime resolution."""
    return (times.dt.tz_convert("UTC") - pd.Timestamp(0, tz="UTC")).dt.total_seconds()


def _fmt(values: pd.Series, digits: int) -> pd.Series:
    return pd.Series([f"{v:.{digits}f}" for v in values.astype(float)], index=values.index,
                     dtype=object)


def _parts(claim: str) -> tuple[str, ...]:
    """Canonical modes of a claim (validated ones are already canonical; parsing is cached)."""
    return parse_modes(str(claim))


def _claim_max_speed(claim: str) -> float:
    return max(MAX_SPEED_KPH.get(p, MAX_SPEED_KPH[TRANSIT]) for p in _parts(claim))


def _claim_min_ratio(claim: str) -> float:
    return min(MIN_DURATION_RATIO.get(p, DEFAULT_MIN_DURATION_RATIO) for p in _parts(claim))


def _claim_has_transit(claim: str) -> bool:
    return any(p == TRANSIT or p in TRANSIT_MODES for p in _parts(claim))
