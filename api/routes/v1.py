"""The JSON API: /v1/plan, /v1/factors, /v1/points, /v1/points/rules, /v1/coverage."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request

from graphs.modes import TRANSIT_MODES
from planner.points import award_points
from planner.model import BASELINE_MODE

from ..coverage import coverage_to_geojson
from ..errors import ApiError
from ..params import (ALL_MODE_NAMES, parse_bool, parse_number,
                      parse_plan_params, parse_points_legs)
from ..serialize import baseline_to_dict, itinerary_to_dict, plan_to_dict, points_to_dict
from ..state import AppState, ready_state
from ._request import json_body

__all__ = ["blueprint", "POINTS_TRIP_KEYS"]

blueprint = Blueprint("v1", __name__, url_prefix="/v1")

#: Keys of a POST /v1/points body describing legs (snake_case, like the plan JSON).
POINTS_LEGS_KEYS = ("legs", "baseline_co2e_g", "charged_at_public_pile", "lang")
#: Keys of a POST /v1/points body describing a trip to plan (camelCase, like /v1/plan).
POINTS_TRIP_KEYS = ("from", "to", "at", "mode", "charged_at_public_pile", "lang")
MAX_BASELINE_CO2E_G = 10_000_000.0
_CACHE_SECONDS = 300


@blueprint.get("/plan")
def plan_get() -> Response:
    return _plan(request.args.to_dict(flat=True))


@blueprint.post("/plan")
def plan_post() -> Response:
    return _plan(json_body())


@blueprint.get("/factors")
def factors() -> Response:
    state = ready_state()
    return _cached(jsonify(state.network.manifest.get("factors", {})))


@blueprint.get("/points/rules")
def points_rules() -> Response:
    state = ready_state()
    return _cached(jsonify(state.points_rules.to_dict()))


@blueprint.get("/coverage")
def coverage() -> Response:
    state = ready_state()
    return _cached(jsonify(coverage_to_geojson(state.coverage)))


@blueprint.post("/points")
def points() -> Response:
    state = ready_state()
    body = json_body()
    if "legs" in body:
        return jsonify(_points_for_legs(state, body))
    if "from" in body or "to" in body:
        return jsonify(_points_for_trip(state, body))
    raise ApiError("missing_parameter", field="legs")


def _plan(source: Mapping[str, Any]) -> Response:
    state = ready_state()
    plan = state.plan(parse_plan_params(source, coverage=state.coverage, tz=state.timezone))
    return jsonify(plan_to_dict(plan))


def _points_for_legs(state: AppState, body: Mapping[str, Any]) -> dict[str, Any]:
    _reject_unknown(body, POINTS_LEGS_KEYS)
    legs = parse_points_legs(body)
    table = state.network.factors
    total_m = sum(distance_m for _, distance_m in legs)
    described = [_leg_emissions(table, mode, distance_m) for mode, distance_m in legs]
    if body.get("baseline_co2e_g") is not None:
        baseline_g = parse_number(body["baseline_co2e_g"], "baseline_co2e_g", 0.0,
                                  MAX_BASELINE_CO2E_G, " g")
        baseline = {"mode": None, "distance_m": total_m, "co2e_g": baseline_g,
                    "method": "given"}
    else:
        per_pkm = table.g_per_pkm(BASELINE_MODE)
        baseline = {"mode": BASELINE_MODE, "distance_m": total_m,
                    "co2e_g": per_pkm * total_m / 1000.0, "co2e_g_per_pkm": per_pkm,
                    "method": "same_distance"}
    charged = parse_bool(body.get("charged_at_public_pile", False), "charged_at_public_pile")
    award = award_points([_Leg(**leg) for leg in described], baseline_co2e_g=baseline["co2e_g"],
                         rules=state.points_rules, charged_at_public_pile=charged)
    co2e_g = sum(leg["co2e_g"] for leg in described)
    return {"legs": described, "co2e_g": co2e_g, "distance_m": total_m, "baseline": baseline,
            "reduction_g": baseline["co2e_g"] - co2e_g, "points": points_to_dict(award),
            "factor_table": table.label, "points_rules": _rules_label(state.points_rules)}


def _points_for_trip(state: AppState, body: Mapping[str, Any]) -> dict[str, Any]:
    _reject_unknown(body, POINTS_TRIP_KEYS)
    mode = body.get("mode", "")
    if not isinstance(mode, str) or mode not in ALL_MODE_NAMES:
        raise ApiError("unknown_mode", field="mode", value=str(mode)[:40],
                       allowed=", ".join(ALL_MODE_NAMES))
    source = {key: body[key] for key in ("from", "to", "at", "lang") if key in body}
    source.update(_modes_for(mode))
    charged = parse_bool(body.get("charged_at_public_pile", False), "charged_at_public_pile")
    options = parse_plan_params(source, coverage=state.coverage, tz=state.timezone)
    options["charged_at_public_pile"] = charged  # the planner awards EV points with it
    plan = state.plan(options)
    chosen = _fastest_using(plan, mode)
    award = chosen.points
    return {"mode": mode, "itinerary": itinerary_to_dict(chosen),
            "co2e_g": chosen.co2e_g, "distance_m": chosen.distance_m,
            "baseline": baseline_to_dict(plan.baseline),
            "reduction_g": chosen.reduction_g, "points": points_to_dict(award),
            "factor_table": plan.factor_table, "points_rules": plan.points_rules}


def _fastest_using(plan: Any, mode: str) -> Any:
    """The fastest itinerary with a leg on ``mode`` (any transit mode for ``transit``).

    Raises
    ------
    ApiError
        ``no_route`` (422) if no itinerary uses it (walking was quicker than any bus, say).
    """
    wanted = set(TRANSIT_MODES) if mode == "transit" else {mode}
    using = [it for it in plan.itineraries if wanted & set(it.modes)]
    if not using:
        raise ApiError("no_route", detail=f"no itinerary uses {mode}")
    return min(using, key=lambda it: it.duration_s)


def _modes_for(mode: str) -> dict[str, str]:
    """The plan options of a one-mode trip (the planner adds walks to and from transit)."""
    return {"modes": mode}


@dataclass(frozen=True)
class _Leg:
    """A described leg, as ``planner.points.award_points`` reads it."""

    mode: str
    distance_m: float
    co2e_g: float
    co2e_g_per_pkm: float
    co2e_factor: str


def _leg_emissions(table: Any, mode: str, distance_m: float) -> dict[str, Any]:
    per_pkm = table.g_per_pkm(mode)
    return {"mode": mode, "distance_m": distance_m, "co2e_g_per_pkm": per_pkm,
            "co2e_g": per_pkm * distance_m / 1000.0, "co2e_factor": mode}


def _rules_label(rules: Any) -> str:
    label = getattr(rules, "label", None)
    return label if isinstance(label, str) else str(getattr(rules, "id", ""))


def _reject_unknown(body: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in body:
        if key not in allowed:
            raise ApiError("unknown_parameter", field=str(key)[:40], allowed=", ".join(allowed))


def _cached(response: Response) -> Response:
    response.cache_control.public = True
    response.cache_control.max_age = _CACHE_SECONDS
    response.add_etag()
    return response.make_conditional(request)

