"""The one JSON shape of a plan, shared by the CLI and the HTTP API."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import polyline

from planner.accounting import LegsAccount
from planner.model import Baseline, Itinerary, Leg, Place, Plan, PointsAward, Query

__all__ = ["plan_to_dict", "itinerary_to_dict", "leg_to_dict", "query_to_dict", "baseline_to_dict",
           "points_to_dict", "legs_account_to_dict", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
#: Decimal digits of ``polyline6`` (also used by api._crs_out to re-encode converted lines).
POLYLINE_PRECISION = 6
_POLYLINE_PRECISION = POLYLINE_PRECISION


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """A JSON-ready dict of ``plan``: query echo, itineraries, baseline, tags and provenance."""
    return {
        "schema_version": SCHEMA_VERSION,
        "query": query_to_dict(plan.query),
        "itineraries": [itinerary_to_dict(it) for it in plan.itineraries],
        "recommended": plan.recommended, "fastest": plan.fastest,
        "lowest_carbon": plan.lowest_carbon,
        "time_budget_s": plan.time_budget_s,
        "baseline": baseline_to_dict(plan.baseline),
        "factor_table": plan.factor_table, "grid": plan.grid or None,
        "methodology": plan.methodology, "points_rules": plan.points_rules,
        "notices": list(plan.notices),
    }


def query_to_dict(query: Query) -> dict[str, Any]:
    """The query as it was planned (with defaults filled in)."""
    return {
        "from": {"lat": query.origin_lat, "lon": query.origin_lon},
        "to": {"lat": query.destination_lat, "lon": query.destination_lon},
        "at": _iso(query.when), "arrive_by": query.arrive_by, "modes": sorted(query.modes),
        "transit_modes": sorted(query.transit_modes) if query.transit_modes else None,
        "walk_speed_mps": query.walk_speed_mps, "bike_speed_mps": query.bike_speed_mps,
        "ebike_speed_mps": query.ebike_speed_mps, "max_walk_m": query.max_walk_m,
        "max_transfers": query.max_transfers, "max_snap_m": query.max_snap_m,
        "budget_factor": query.budget_factor, "budget_slack_s": query.budget_slack_s,
        "time_budget_s": query.time_budget_s, "window_s": query.window_s,
        "charged_at_public_pile": query.charged_at_public_pile,
        "passengers": query.passengers,
        "access_modes": sorted(query.access_modes),
        "drop_off": query.drop_off,
    }


def itinerary_to_dict(itinerary: Itinerary) -> dict[str, Any]:
    """One itinerary with totals, tags, points and legs."""
    return {
        "tags": sorted(itinerary.tags),
        "departure": _iso(itinerary.departure), "arrival": _iso(itinerary.arrival),
        "duration_s": itinerary.duration_s, "distance_m": itinerary.distance_m,
        "co2e_g": itinerary.co2e_g, "transfers": itinerary.transfers,
        "reduction_g": itinerary.reduction_g,
        "reduction_explanation": itinerary.reduction_explanation,
        "modes": list(itinerary.modes),
        "points": points_to_dict(itinerary.points),
        "pile": None if itinerary.pile is None else itinerary.pile.to_dict(),
        "legs": [leg_to_dict(leg, points=p)
                 for leg, p in zip(itinerary.legs, _per_leg(itinerary.points, itinerary.legs),
                                   strict=True)],
    }


def _per_leg(award: PointsAward, legs) -> tuple[float, ...]:
    return award.per_leg if len(award.per_leg) == len(legs) else tuple(0.0 for _ in legs)


def leg_to_dict(leg: Leg, *, points: float = 0.0) -> dict[str, Any]:
    """One leg with its share of the itinerary's ``points``; ``geometry`` is a GeoJSON
    LineString (lon, lat), also as polyline6 (lat, lon)."""
    coords = [[lon, lat] for lon, lat in leg.geometry]
    return {
        "points": points, "mode": leg.mode, "from": place_to_dict(leg.from_place), "to": place_to_dict(leg.to_place),
        "departure": _iso(leg.departure), "arrival": _iso(leg.arrival),
        "duration_s": leg.duration_s, "distance_m": leg.distance_m, "co2e_g": leg.co2e_g,
        "co2e_g_per_pkm": leg.co2e_g_per_pkm, "co2e_factor": leg.co2e_factor,
        "route_id": leg.route_id, "route_short_name": leg.route_short_name,
        "headsign": leg.headsign, "trip_id": leg.trip_id,
        "realtime": leg.realtime,
        "scheduled_departure": _iso(leg.scheduled_departure) if leg.scheduled_departure else None,
        "scheduled_arrival": _iso(leg.scheduled_arrival) if leg.scheduled_arrival else None,
        "departure_delay_s": leg.departure_delay_s, "arrival_delay_s": leg.arrival_delay_s,
        "note": leg.note, "vehicle_id": leg.vehicle_id,
        "geometry": {"type": "LineString", "coordinates": coords},
        "polyline6": polyline.encode([(lat, lon) for lon, lat in leg.geometry],
                                     _POLYLINE_PRECISION),
    }


def place_to_dict(place: Place) -> dict[str, Any]:
    out = {"name": place.name, "lat": place.lat, "lon": place.lon, "stop_id": place.stop_id}
    if place.ref is not None:  # a parking or pile (planner.park_ride); stops and ends have none
        out["ref"] = place.ref
    if place.station_id is not None:  # a bike-share station (planner.bikeshare)
        out["station_id"] = place.station_id
    return out


def baseline_to_dict(baseline: Baseline) -> dict[str, Any]:
    return {"mode": baseline.mode, "distance_m": baseline.distance_m,
            "duration_s": baseline.duration_s, "co2e_g": baseline.co2e_g,
            "co2e_g_per_pkm": baseline.co2e_g_per_pkm, "method": baseline.method}


def legs_account_to_dict(account: LegsAccount) -> dict[str, Any]:
    """``POST /v1/points`` for given legs: each leg's CO2e, the totals, baseline and points."""
    legs = [{"mode": leg.mode, "distance_m": leg.distance_m, "co2e_g_per_pkm": leg.co2e_g_per_pkm,
             "co2e_g": leg.co2e_g, "co2e_factor": leg.co2e_factor, "points": points}
            for leg, points in zip(account.legs, _per_leg(account.points, account.legs),
                                   strict=True)]
    return {"legs": legs, "co2e_g": account.co2e_g, "distance_m": account.distance_m,
            "baseline": baseline_to_dict(account.baseline), "reduction_g": account.reduction_g,
            "reduction_explanation": account.reduction_explanation,
            "points": points_to_dict(account.points), "factor_table": account.factor_table,
            "grid": account.grid or None, "methodology": account.methodology,
            "points_rules": account.points_rules}


def points_to_dict(award: PointsAward) -> dict[str, Any]:
    return {"points": award.points, "reduction_g": award.reduction_g, "rules_id": award.rules_id,
            "rule": award.rule, "capped": award.capped, "explanation": award.explanation,
            "per_leg": list(award.per_leg)}


def _iso(when: datetime) -> str:
    """ISO 8601 with the UTC offset, to the second."""
    return when.replace(microsecond=0).isoformat()
