"""The OpenAPI 3.1 document of the HTTP API, generated from the same tables the server uses."""
from __future__ import annotations

from typing import Any

from graphs.modes import MODES, TRANSIT_MODES

from .errors import ERROR_STATUSES
from .params import (ALL_MODE_NAMES, MAX_LEG_DISTANCE_M, MAX_LEGS, PLAN_PARAMETERS,
                     REACH_MODE_NAMES, REACH_PARAMETERS, Param)
from .schemas import SCHEMAS

__all__ = ["build_openapi", "OPENAPI_VERSION", "API_VERSION"]

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
_JSON = "application/json"
_DESCRIPTION = (
    "Lowest-carbon door-to-door trip planning with carbon-inclusion points.\n\n"
    "Errors always have the shape `{\"error\": {\"code\", \"message\", \"field\"}}`; "
    "messages are in English or Simplified Chinese (`lang=zh` or `Accept-Language: zh`). "
    "400: a parameter is missing, malformed, out of range, an unknown mode, or `at` is "
    "outside the service dates. 422: `outside_coverage` (a point outside the network's "
    "bounding box, or farther than `maxSnapDistance` from a street) or `no_route`. "
    "413: body larger than the server's limit. 503: no network loaded.")


def build_openapi(*, max_body_bytes: int | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a JSON-ready dict)."""
    limit = f" (at most {max_body_bytes} bytes)" if max_body_bytes else ""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "tanlu trip planner API", "version": API_VERSION,
                 "description": _DESCRIPTION, "license": {"name": "MIT", "identifier": "MIT"}},
        "servers": [{"url": "/"}],
        "paths": _with_city_paths(_paths(limit)),
        "components": {"schemas": dict(SCHEMAS, Error=_ERROR_SCHEMA,
                                       PlanRequest=_plan_request_schema(),
                                       PointsRequest=_points_request_schema()),
                       "responses": _error_responses()},
    }


def _paths(limit: str) -> dict[str, Any]:
    plan_errors = _refs(400, 422, 503)
    return {
        "/v1/plan": {
            "get": {"summary": "Plan a trip (query string)", "operationId": "planGet",
                    "tags": ["planning"],
                    "parameters": [_query_parameter(p) for p in PLAN_PARAMETERS],
                    "responses": {"200": _ok("Plan", "Itineraries with CO2e, baseline and "
                                             "points; the recommended one tagged."),
                                  **plan_errors}},
            "post": {"summary": "Plan a trip (JSON body)", "operationId": "planPost",
                     "tags": ["planning"],
                     "requestBody": _body("PlanRequest", "The same options as the query "
                                          f"string{limit}."),
                     "responses": {"200": _ok("Plan", "As GET /v1/plan."), **plan_errors,
                                   **_refs(413)}},
        },
        "/v1/reach": {"get": {
            "summary": "Reach map: where one can be within a time budget, and at what CO2e",
            "operationId": "reach", "tags": ["planning"],
            "description": "Every stop and street node reachable from `from` within `minutes` "
                           "of `at`, with the earliest arrival and the lowest CO2e of reaching "
                           "it within the budget, as a GeoJSON FeatureCollection: H3 cells "
                           "merged into time bands and CO2e bands, and the reached stops as "
                           "points.",
            "parameters": [_query_parameter(p) for p in REACH_PARAMETERS],
            "responses": {"200": _ok("Reach", "Bands, stops (and nodes) as GeoJSON."),
                          **_refs(400, 422, 503)}}},
        "/v1/points": {"post": {
            "summary": "Points for a described trip", "operationId": "points",
            "tags": ["points"],
            "description": "Either `legs` (mode and distance of each leg; CO2e from the "
                           "factor table, baseline: car_petrol over the same distance unless "
                           "`baseline_co2e_g` is given) or `from`/`to`/`at`/`mode` (planned; "
                           "the fastest itinerary on that mode counts). An electric-car trip "
                           "(`car_bev`) earns points only with a public charging pile near either end "
                           "(named in `pile`) or `charged_at_public_pile: true`.",
            "requestBody": _body("PointsRequest", f"A trip description{limit}."),
            "responses": {"200": _ok("PointsResult", "CO2e, baseline, reduction and points."),
                          **_refs(400, 413, 422, 503)}}},
        "/v1/points/rules": {"get": _simple("The points rules in force", "pointsRules",
                                            "PointsRules", "points")},
        "/v1/methodology": {"get": _simple("The carbon-accounting methodology in force and those "
                                           "a request may choose", "methodology",
                                           "Methodologies", "points")},
        "/v1/factors": {"get": _simple("The emission factor table with sources", "factors",
                                       "FactorTable", "reference")},
        "/v1/coverage": {"get": _simple("Area (GeoJSON), service dates, feeds and modes",
                                        "coverage", "Coverage", "reference")},
        "/healthz": {"get": {"summary": "Liveness: the process answers",
                             "operationId": "healthz", "tags": ["operations"],
                             "responses": {"200": _ok("Health", "Alive.")}}},
        "/readyz": {"get": _simple("Readiness: a network is loaded (with its summary)",
                                   "readyz", "Ready", "operations")},
        "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                  "tags": ["operations"],
                                  "responses": {"200": {"description": "OpenAPI 3.1",
                                                        "content": {_JSON: {"schema": {
                                                            "type": "object"}}}}}}},
        "/docs": {"get": {"summary": "This document as a web page", "operationId": "docs",
                          "tags": ["operations"],
                          "responses": {"200": {"description": "HTML",
                                                "content": {"text/html": {"schema": {
                                                    "type": "string"}}}}}}},
        "/favicon.ico": {"get": {"summary": "No icon (browsers ask every site for one)",
                                 "operationId": "favicon", "tags": ["operations"],
                                 "responses": {"204": {"description": "No content."}}}},
        "/embed": {"get": {
            "summary": "Embeddable map page for an iframe", "operationId": "embed",
            "tags": ["embed"],
            "description": "Takes the /v1/plan query parameters. Draws the recommended "
                           "itinerary leg by leg in mode colours, lists the alternatives "
                           "(duration, CO2e, car baseline, points). With `reach=true` it takes "
                           "the /v1/reach parameters instead (`to` is then not needed) and "
                           "draws the reach map: H3 bands by time or, at a click, by CO2e, "
                           "and the reached stops. Bad parameters give an HTML error page with "
                           "the same status as the JSON API.",
            "parameters": [_query_parameter(p) for p in PLAN_PARAMETERS] + [
                _query_parameter(p) for p in _EMBED_REACH_PARAMETERS],
            "responses": {**{str(s): {"description": d, "content": {"text/html": {
                "schema": {"type": "string"}}}} for s, d in (
                    ("200", "The page"), ("400", "Bad parameter (HTML)"),
                    ("422", "Outside coverage or no route (HTML)"),
                    ("503", "No network loaded (HTML)"))}}}},
    }


#: Parameters /embed takes besides /v1/plan's: the reach switch and the reach-only ones.
_EMBED_REACH_PARAMETERS = (
    Param("reach", "boolean", None, "Draw the reach map of `from` (see /v1/reach) instead of "
          "a trip.", default=False),
    *(p for p in REACH_PARAMETERS if p.name in ("minutes", "bandMinutes")),
)

_CITY_PARAMETER = {"name": "city", "in": "path", "required": True,
                   "description": "A city this server answers for (see /v1/cities).",
                   "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{0,31}$"}}


def _with_city_paths(paths: dict[str, Any]) -> dict[str, Any]:
    """Each ``/v1/...`` operation again as ``/v1/{city}/...`` for a server of several cities;
    ``/v1/cities`` and ``/metrics``; the ``city`` parameter of ``/embed``."""
    out = dict(paths)
    for path, operations in paths.items():
        if not path.startswith("/v1/"):
            continue
        out["/v1/{city}" + path[3:]] = {
            method: {**op, "operationId": op["operationId"] + "City",
                     "parameters": [_CITY_PARAMETER, *op.get("parameters", [])],
                     "responses": {**op["responses"], **_refs(404)}}
            for method, op in operations.items()}
    out["/v1/cities"] = {"get": {
        "summary": "The cities this server answers for", "operationId": "cities",
        "tags": ["reference"], "responses": {"200": {"description": "Default city and each "
                                                     "city's artifact checksum and area",
                                                     "content": {_JSON: {"schema": {
                                                         "type": "object"}}}}}}}
    out["/metrics"] = {"get": {
        "summary": "Prometheus metrics", "operationId": "metrics", "tags": ["operations"],
        "responses": {"200": {"description": "Text exposition format",
                              "content": {"text/plain": {"schema": {"type": "string"}}}}}}}
    embed = out["/embed"]["get"]
    out["/embed"] = {"get": {**embed, "parameters": [
        *embed["parameters"], {**_CITY_PARAMETER, "in": "query", "required": False,
                               "description": "The city (default: the server's first)."}]}}
    return out


def _query_parameter(param: Param) -> dict[str, Any]:
    description = param.description
    if param.unit:
        description += f" Unit: {param.unit.strip()}."
    return {"name": param.name, "in": "query", "required": param.required,
            "description": description, "schema": _param_schema(param, query=True),
            **({"example": param.example} if param.example is not None else {})}


def _param_schema(param: Param, *, query: bool) -> dict[str, Any]:
    kind = param.kind
    if kind == "point":
        text = {"type": "string", "pattern": r"^\s*[-+]?[0-9.eE+-]+\s*,\s*[-+]?[0-9.eE+-]+\s*$"}
        if query:
            return text
        return {"oneOf": [text, {"$ref": "#/components/schemas/LatLon"}]}
    if kind == "datetime":  # not "format: date-time": that requires a UTC offset
        return {"type": "string", "examples": ["2019-05-06T08:00:00-03:00",
                                               "2019-05-06T08:00"]}
    if kind == "boolean":
        return {"type": "boolean", "default": param.default} if not query else {
            "type": "string", "enum": ["true", "false", "1", "0", "yes", "no", "on", "off"],
            "default": "false"}
    if kind in ("modes", "transit_modes", "reach_modes"):
        names = list({"modes": ALL_MODE_NAMES, "transit_modes": TRANSIT_MODES,
                      "reach_modes": REACH_MODE_NAMES}[kind])
        listed = {"type": "string", "description": "comma-separated: " + ", ".join(names)}
        if query:
            return listed
        return {"oneOf": [listed, {"type": "array", "items": {"enum": names}, "minItems": 1}]}
    if kind in ("number", "integer"):
        schema: dict[str, Any] = {"type": kind, "minimum": param.minimum,
                                  "maximum": param.maximum}
        if param.default is not None:
            schema["default"] = param.default
        return schema
    if kind == "methodology":
        return {"type": "string"}
    if kind == "crs":
        return {"type": "string", "enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"}
    return {"type": "string", "enum": ["en", "zh"]}


def _plan_request_schema() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False,
            "required": [p.name for p in PLAN_PARAMETERS if p.required],
            "properties": {p.name: dict(_param_schema(p, query=False),
                                        description=p.description)
                           for p in PLAN_PARAMETERS}}


def _points_request_schema() -> dict[str, Any]:
    legs = {"type": "object", "additionalProperties": False,
            "required": ["legs"],
            "properties": {
                "legs": {"type": "array", "minItems": 1, "maxItems": MAX_LEGS, "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["mode", "distance_m"],
                    "properties": {"mode": {"enum": list(MODES)},
                                   "distance_m": {"type": "number", "minimum": 0,
                                                  "maximum": MAX_LEG_DISTANCE_M}}}},
                "baseline_co2e_g": {"type": "number", "minimum": 0},
                "charged_at_public_pile": _PILE,
                "methodology": _METHODOLOGY,
                "lang": {"enum": ["en", "zh"]}}}
    by_name = {p.name: p for p in PLAN_PARAMETERS}
    trip = {"type": "object", "additionalProperties": False,
            "required": ["from", "to", "mode"],
            "properties": {"from": _param_schema(by_name["from"], query=False),
                           "to": _param_schema(by_name["to"], query=False),
                           "at": _param_schema(by_name["at"], query=False),
                           "mode": {"enum": list(ALL_MODE_NAMES)},
                           "crs": _param_schema(by_name["crs"], query=False),
                           "charged_at_public_pile": _PILE,
                           "methodology": _METHODOLOGY,
                           "lang": {"enum": ["en", "zh"]}}}
    return {"oneOf": [legs, trip]}


_METHODOLOGY = {"type": "string",
                "description": "Carbon-accounting methodology (only those the operator allows "
                               "with TANLU_ALLOWED_METHODOLOGIES); default: the operator's."}


_PILE = {"type": "boolean", "default": False,
         "description": "The electric car (`car_bev`) was charged at a public charging pile: "
                        "only then do its legs earn points (measured against the petrol-car "
                        "baseline)."}

_ERROR_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["error"],
    "properties": {"error": {
        "type": "object", "additionalProperties": False,
        "required": ["code", "message", "field"],
        "properties": {"code": {"enum": sorted(ERROR_STATUSES) + ["http_error"]},
                       "message": {"type": "string"},
                       "field": {"type": ["string", "null"]},
                       "request_id": {"type": ["string", "null"]}}}},
}
_ERROR_DESCRIPTIONS = {
    400: "Bad parameter, malformed JSON or a date outside the service dates",
    401: "Missing or unknown API key", 404: "Unknown path or city", 405: "Method not allowed",
    413: "Body too large", 414: "Request line too long", 429: "Rate limit used up "
    "(see Retry-After)", 431: "Request headers too large",
    422: "Outside coverage (outside_coverage) or no itinerary (no_route)",
    500: "Internal error (a bug; logged)", 503: "No network loaded",
}


def _error_responses() -> dict[str, Any]:
    return {str(status): {"description": text, "content": {_JSON: {"schema": {
        "$ref": "#/components/schemas/Error"}}}} for status, text in _ERROR_DESCRIPTIONS.items()}


def _refs(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": f"#/components/responses/{s}"} for s in statuses}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _body(schema: str, description: str) -> dict[str, Any]:
    return {"required": True, "description": description,
            "content": {_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _simple(summary: str, operation_id: str, schema: str, tag: str) -> dict[str, Any]:
    return {"summary": summary, "operationId": operation_id, "tags": [tag],
            "responses": {"200": _ok(schema, summary), **_refs(503)}}
