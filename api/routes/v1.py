"""The JSON API: /v1/plan, /v1/reach, /v1/factors, /v1/methodology, /v1/points,
/v1/points/rules, /v1/coverage."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request

from planner.accounting import account_legs, claim_itinerary

from .._crs_out import convert_answer
from ..coverage import coverage_to_geojson
from ..errors import ApiError, request_language
from ..i18n import localize_answer
from ..params import (parse_bool, parse_mode_name, parse_number,
                      parse_plan_params, parse_points_legs, parse_reach_params, request_crs)
from ..reach_geojson import reach_to_geojson
from ..serialize import (baseline_to_dict, itinerary_to_dict, legs_account_to_dict, plan_to_dict,
                         points_to_dict)
from ..state import AppState, ready_state
from ._request import json_body

__all__ = ["blueprint", "POINTS_TRIP_KEYS"]

blueprint = Blueprint("v1", __name__, url_prefix="/v1")

#: Keys of a POST /v1/points body describing legs (snake_case, like the plan JSON).
POINTS_LEGS_KEYS = ("legs", "baseline_co2e_g", "charged_at_public_pile", "methodology", "lang")
#: Keys of a POST /v1/points body describing a trip to plan (camelCase, like /v1/plan).
POINTS_TRIP_KEYS = ("from", "to", "at", "mode", "crs", "charged_at_public_pile", "methodology", "lang")
MAX_BASELINE_CO2E_G = 10_000_000.0
_CACHE_SECONDS = 300


@blueprint.get("/plan")
def plan_get() -> Response:
    return _plan(request.args.to_dict(flat=True))


@blueprint.post("/plan")
def plan_post() -> Response:
    return _plan(json_body())


@blueprint.get("/reach")
def reach() -> Response:
    """Everything reachable from ``from`` within ``minutes``: GeoJSON bands and stops."""
    state = ready_state()
    source = request.args.to_dict(flat=True)
    options = parse_reach_params(source, coverage=state.coverage, tz=state.timezone)
    nodes = options.pop("nodes", False)
    answer = reach_to_geojson(state.reach(options), network=state.network, nodes=nodes)
    return jsonify(localize_answer(convert_answer(answer, request_crs(source)),
                                   request_language()))


@blueprint.get("/factors")
def factors() -> Response:
    state = ready_state()
    return _cached(jsonify(state.network.manifest.get("factors", {})))


@blueprint.get("/points/rules")
def points_rules() -> Response:
    state = ready_state()
    return _cached(jsonify(state.points_rules.to_dict()))


@blueprint.get("/methodology")
def methodology() -> Response:
    state = ready_state()
    allowed = sorted({m.label for m in state.methodologies.values()})
    default = state.methodology.to_dict() if state.methodology is not None else None
    return _cached(jsonify({"default": default, "allowed": allowed}))


@blueprint.get("/coverage")
def coverage() -> Response:
    state = ready_state()
    return _cached(jsonify(coverage_to_geojson(state.coverage)))


@blueprint.post("/points")
def points() -> Response:
    state = ready_state()
    body = json_body()
    if "legs" in body:
        return jsonify(localize_answer(_points_for_legs(state, body), request_language()))
    if "from" in body or "to" in body:
        return jsonify(_points_for_trip(state, body))
    raise ApiError("missing_parameter", field="legs")


def _plan(source: Mapping[str, Any]) -> Response:
    state = ready_state()
    options = parse_plan_params(source, coverage=state.coverage, tz=state.timezone)
    _choose_methodology(state, options)
    answer = convert_answer(plan_to_dict(state.plan(options)), request_crs(source))
    return jsonify(localize_answer(answer, request_language()))


def _choose_methodology(state: AppState, options: dict[str, Any]) -> None:
    """Replace a requested methodology name by the loaded one, if the operator allows it."""
    if "methodology" in options:
        options["methodology"] = state.choose_methodology(options["methodology"])


def _points_for_legs(state: AppState, body: Mapping[str, Any]) -> dict[str, Any]:
    _reject_unknown(body, POINTS_LEGS_KEYS)
    legs = parse_points_legs(body)
    given = body.get("baseline_co2e_g")
    if given is not None:
        given = parse_number(given, "baseline_co2e_g", 0.0, MAX_BASELINE_CO2E_G, " g")
    charged = parse_bool(body.get("charged_at_public_pile", False), "charged_at_public_pile")
    method = state.choose_methodology(_methodology_name(body))
    factors = state.network.factors
    account = account_legs(legs, factors=factors, rules=state.points_rules,
                           factor_table=str(factors.label), baseline_co2e_g=given,
                           charged_at_public_pile=charged, methodology=method)
    return legs_account_to_dict(account)


def _points_for_trip(state: AppState, body: Mapping[str, Any]) -> dict[str, Any]:
    _reject_unknown(body, POINTS_TRIP_KEYS)
    mode = parse_mode_name(body.get("mode", ""), "mode")
    source = {key: body[key] for key in ("from", "to", "at", "crs", "lang") if key in body}
    source["modes"] = mode  # the planner adds walks to and from transit
    charged = parse_bool(body.get("charged_at_public_pile", False), "charged_at_public_pile")
    options = parse_plan_params(source, coverage=state.coverage, tz=state.timezone)
    options["charged_at_public_pile"] = charged  # the planner awards EV points with it
    if body.get("methodology") is not None:
        options["methodology"] = state.choose_methodology(_methodology_name(body))
    plan = state.plan(options)
    chosen = claim_itinerary(plan, (mode,))  # NoRouteError -> 422 no_route
    answer = {"mode": mode, "itinerary": itinerary_to_dict(chosen),
              "co2e_g": chosen.co2e_g, "distance_m": chosen.distance_m,
              "baseline": baseline_to_dict(plan.baseline),
              "reduction_g": chosen.reduction_g,
              "reduction_explanation": chosen.reduction_explanation,
              "points": points_to_dict(chosen.points),
              "pile": itinerary_to_dict(chosen)["pile"],
              "factor_table": plan.factor_table, "grid": plan.grid or None,
              "methodology": plan.methodology, "points_rules": plan.points_rules}
    return localize_answer(convert_answer(answer, request_crs(source)), request_language())


def _methodology_name(body: Mapping[str, Any]) -> str | None:
    value = body.get("methodology")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError("methodology_not_allowed", field="methodology", value=str(value)[:40],
                       allowed="")
    return value.strip()


def _reject_unknown(body: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in body:
        if key not in allowed:
            raise ApiError("unknown_parameter", field=str(key)[:40], allowed=", ".join(allowed))


def _cached(response: Response) -> Response:
    response.cache_control.public = True
    response.cache_control.max_age = _CACHE_SECONDS
    response.add_etag()
    return response.make_conditional(request)

