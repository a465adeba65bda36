"""JSON Schemas (draft 2020-12, as OpenAPI 3.1 uses) of the API's response bodies."""
from __future__ import annotations

from typing import Any

__all__ = ["SCHEMAS"]

_NUMBER = {"type": "number"}
_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_DATES = {"type": ["object", "null"], "required": ["start", "end"],
          "properties": {"start": {"type": "string", "format": "date"},
                         "end": {"type": "string", "format": "date"}}}
_BBOX = {"type": "array", "items": _NUMBER, "minItems": 4, "maxItems": 4,
         "description": "[west, south, east, north] in WGS84 degrees"}

_POINTS_AWARD = {
    "type": "object", "required": ["points", "reduction_g", "rules_id", "rule"],
    "properties": {"points": _NUMBER, "reduction_g": _NUMBER, "rules_id": _STRING,
                   "rule": _STRING, "capped": {"type": "boolean"}, "explanation": _STRING},
}

SCHEMAS: dict[str, Any] = {
    "LatLon": {"type": "object", "additionalProperties": False, "required": ["lat", "lon"],
               "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                              "lon": {"type": "number", "minimum": -180, "maximum": 180}}},
    "PointsAward": _POINTS_AWARD,
    "Plan": {
        "type": "object", "required": ["itineraries", "baseline"],
        "description": "api.serialize.plan_to_dict: itineraries (legs with CO2e and "
                       "geometry), car baseline, tags, factor table and points rules used.",
        "properties": {
            "itineraries": {"type": "array", "minItems": 1,
                            "items": {"$ref": "#/components/schemas/Itinerary"}},
            "baseline": {"type": "object", "required": ["mode", "co2e_g"],
                         "properties": {"mode": _STRING, "co2e_g": _NUMBER,
                                        "distance_m": _NUMBER, "duration_s": _NUMBER}},
        },
    },
    "Itinerary": {
        "type": "object", "required": ["legs", "co2e_g"],
        "properties": {"legs": {"type": "array", "minItems": 1,
                                "items": {"$ref": "#/components/schemas/Leg"}},
                       "co2e_g": _NUMBER, "distance_m": _NUMBER, "duration_s": _NUMBER,
                       "reduction_g": _NUMBER,
                       "tags": {"type": "array", "items": {
                           "enum": ["recommended", "fastest", "lowest_carbon"]}}},
    },
    "Leg": {
        "type": "object", "required": ["mode", "co2e_g", "distance_m"],
        "properties": {"mode": _STRING, "co2e_g": _NUMBER, "distance_m": _NUMBER,
                       "co2e_g_per_pkm": _NUMBER, "co2e_factor": _STRING},
    },
    "PointsResult": {
        "type": "object", "required": ["co2e_g", "distance_m", "baseline", "reduction_g",
                                       "points", "factor_table", "points_rules"],
        "properties": {
            "co2e_g": _NUMBER, "distance_m": _NUMBER, "reduction_g": _NUMBER,
            "mode": _STRING, "factor_table": _STRING, "points_rules": _STRING,
            "points": {"$ref": "#/components/schemas/PointsAward"},
            "baseline": {"type": "object", "required": ["co2e_g", "method"],
                         "properties": {"mode": _NULLABLE_STRING, "co2e_g": _NUMBER,
                                        "distance_m": _NUMBER, "method": _STRING}},
            "legs": {"type": "array", "items": {
                "type": "object", "required": ["mode", "distance_m", "co2e_g"],
                "properties": {"mode": _STRING, "distance_m": _NUMBER, "co2e_g": _NUMBER,
                               "co2e_g_per_pkm": _NUMBER, "co2e_factor": _STRING}}},
            "itinerary": {"$ref": "#/components/schemas/Itinerary"},
        },
    },
    "PointsRules": {"type": "object", "description": "planner.points rules (PointsRules.to_dict)"},
    "FactorTable": {"type": "object",
                    "description": "graphs.factors table (FactorTable.to_dict): every factor "
                                   "with its value, source, year and scope"},
    "Coverage": {
        "type": "object", "required": ["type", "bbox", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"}, "bbox": _BBOX,
            "geometry": {"type": "object", "required": ["type", "coordinates"],
                         "properties": {"type": {"const": "Polygon"},
                                        "coordinates": {"type": "array"}}},
            "properties": {"type": "object",
                           "required": ["service_dates", "feeds", "modes", "timezone"],
                           "properties": {"service_dates": _DATES,
                                          "feeds": {"type": "array", "items": _STRING},
                                          "modes": {"type": "array", "items": _STRING},
                                          "timezone": _STRING}},
        },
    },
    "Health": {"type": "object", "required": ["status"],
               "properties": {"status": {"const": "ok"}}},
    "Ready": {
        "type": "object", "required": ["status", "network"],
        "properties": {"status": {"const": "ready"},
                       "network": {"type": "object",
                                   "required": ["bbox", "service_dates", "feeds", "inputs"],
                                   "properties": {"bbox": _BBOX, "service_dates": _DATES,
                                                  "feeds": {"type": "array"},
                                                  "inputs": {"type": "array"},
                                                  "timezone": _NULLABLE_STRING,
                                                  "factor_table": _NULLABLE_STRING,
                                                  "built_at": _NULLABLE_STRING}}},
    },
}
