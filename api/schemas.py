"""JSON Schemas (draft 2020-12, as OpenAPI 3.1 uses) of the API's response bodies."""
from __future__ import annotations

from typing import Any

from planner.baseline import BASELINE_METHODS

__all__ = ["SCHEMAS"]

_NUMBER = {"type": "number"}
_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_NUMBER = {"type": ["number", "null"]}
_DATES = {"type": ["object", "null"], "required": ["start", "end"],
          "properties": {"start": {"type": "string", "format": "date"},
                         "end": {"type": "string", "format": "date"}}}
_BBOX = {"type": "array", "items": _NUMBER, "minItems": 4, "maxItems": 4,
         "description": "[west, south, east, north] in WGS84 degrees"}

_POINTS_AWARD = {
    "type": "object",
    "required": ["points", "reduction_g", "rules_id", "rule", "capped", "explanation",
                 "per_leg"],
    "properties": {"points": _NUMBER, "reduction_g": _NUMBER, "rules_id": _STRING,
                   "rule": _STRING, "capped": {"type": "boolean"}, "explanation": _STRING,
                   "per_leg": {"type": "array", "items": _NUMBER,
                               "description": "the points shared among the legs, in leg order; "
                                              "they sum to points (largest remainder)"}},
}

_GEOMETRY = {"type": "object", "required": ["type", "coordinates"],
             "properties": {"type": {"enum": ["Point", "Polygon", "MultiPolygon"]},
                            "coordinates": {"type": "array"}}}
_REACH_FEATURE = {
    "type": "object", "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"const": "Feature"}, "geometry": _GEOMETRY,
        "properties": {
            "type": "object", "required": ["kind"],
            "description": "time_band / co2e_band: low, high (null: open), unit (min, g), "
                           "cells (H3), color; stop: stop_id, name, arrival, minutes, "
                           "co2e_g; node: layer, minutes, co2e_g",
            "properties": {"kind": {"enum": ["time_band", "co2e_band", "stop", "node"]},
                           "low": _NUMBER, "high": _NULLABLE_NUMBER,
                           "unit": {"enum": ["min", "g"]}, "cells": {"type": "integer"},
                           "color": {"type": "string", "pattern": "^#[0-9a-f]{6}$"},
                           "stop_id": _STRING, "name": _STRING, "arrival": _STRING,
                           "minutes": _NUMBER, "co2e_g": _NUMBER, "layer": _STRING}}}}

SCHEMAS: dict[str, Any] = {
    "Reach": {
        "type": "object",
        "description": "api.reach_geojson.reach_to_geojson: a GeoJSON FeatureCollection of "
                       "time bands, CO2e bands (merged H3 cells), reached stops and (with "
                       "nodes=true) street nodes, with the query echoed.",
        "required": ["type", "query", "summary", "factor_table", "notices", "features", "crs"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "query": {"type": "object", "required": ["from", "at", "minutes", "modes"]},
            "summary": {"type": "object",
                        "required": ["stops", "nodes", "cells", "resolution", "rounds"],
                        "properties": {k: {"type": "integer"} for k in
                                       ("stops", "nodes", "cells", "resolution", "rounds")}},
            "factor_table": _STRING, "notices": {"type": "array", "items": _STRING},
            "features": {"type": "array", "items": _REACH_FEATURE},
            "crs": {"enum": ["wgs84", "gcj02", "bd09"]}}},
    "LatLon": {"type": "object", "additionalProperties": False, "required": ["lat", "lon"],
               "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                              "lon": {"type": "number", "minimum": -180, "maximum": 180}}},
    "PointsAward": _POINTS_AWARD,
    "Plan": {
        "type": "object",
        "description": "api.serialize.plan_to_dict: the query echoed, Pareto-optimal "
                       "itineraries (legs with CO2e and geometry), indexes of the recommended, "
                       "fastest and lowest-carbon ones, the car baseline and the factor table "
                       "and points rules used.",
        "required": ["schema_version", "query", "itineraries", "recommended", "fastest",
                     "lowest_carbon", "time_budget_s", "baseline", "factor_table",
                     "grid", "methodology", "points_rules", "notices"],
        "properties": {
            "schema_version": {"type": "integer"},
            "query": {"$ref": "#/components/schemas/PlanQuery"},
            "itineraries": {"type": "array", "minItems": 1,
                            "items": {"$ref": "#/components/schemas/Itinerary"}},
            "recommended": {"type": "integer", "minimum": 0},
            "fastest": {"type": "integer", "minimum": 0},
            "lowest_carbon": {"type": "integer", "minimum": 0},
            "time_budget_s": _NUMBER,
            "baseline": {"$ref": "#/components/schemas/Baseline"},
            "factor_table": {"type": "string", "description": "<id>@<version>"},
            "grid": {"type": ["string", "null"],
                     "description": "<grid set>/<grid> of the factor table (null: none)"},
            "methodology": {"type": "string",
                            "description": "<id>@<version> of the carbon-accounting "
                                           "methodology that gave each reduction_g"},
            "points_rules": {"type": "string", "description": "<id>@<version>"},
            "notices": {"type": "array", "items": _STRING},
            "crs": {"enum": ["wgs84", "gcj02", "bd09"],
                    "description": "coordinate system of every coordinate in the answer "
                                   "(the request's crs)"},
        },
    },
    "PlanQuery": {
        "type": "object",
        "required": ["from", "to", "at", "arrive_by", "modes", "transit_modes"],
        "properties": {
            "from": {"$ref": "#/components/schemas/LatLon"},
            "to": {"$ref": "#/components/schemas/LatLon"},
            "at": {"type": "string", "format": "date-time"}, "arrive_by": {"type": "boolean"},
            "modes": {"type": "array", "items": _STRING},
            "transit_modes": {"type": ["array", "null"], "items": _STRING},
            "charged_at_public_pile": {"type": "boolean"},
            "passengers": {"type": "integer", "minimum": 1},
            "access_modes": {"type": "array", "items": _STRING},
            "drop_off": {"type": "boolean"},
        },
    },
    "Itinerary": {
        "type": "object",
        "required": ["tags", "departure", "arrival", "duration_s", "distance_m", "co2e_g",
                     "transfers", "reduction_g", "modes", "points", "legs"],
        "properties": {
            "tags": {"type": "array",
                     "items": {"enum": ["recommended", "fastest", "lowest_carbon"]}},
            "departure": {"type": "string", "format": "date-time"},
            "arrival": {"type": "string", "format": "date-time"},
            "duration_s": _NUMBER, "distance_m": _NUMBER, "co2e_g": _NUMBER,
            "transfers": {"type": "integer", "minimum": 0}, "reduction_g": _NUMBER,
            "reduction_explanation": _STRING,
            "pile": {"type": ["object", "null"],
                     "description": "the public charging pile that made a car_bev leg eligible",
                     "properties": {"id": _STRING, "name": _STRING, "operator": _STRING,
                                    "lat": _NUMBER, "lon": _NUMBER, "source": _STRING,
                                    "distance_m": _NUMBER,
                                    "end": {"enum": ["destination", "origin"]}}},
            "modes": {"type": "array", "items": _STRING},
            "points": {"$ref": "#/components/schemas/PointsAward"},
            "legs": {"type": "array", "minItems": 1,
                     "items": {"$ref": "#/components/schemas/Leg"}},
        },
    },
    "Leg": {
        "type": "object",
        "required": ["mode", "from", "to", "departure", "arrival", "duration_s", "distance_m",
                     "co2e_g", "co2e_g_per_pkm", "co2e_factor", "route_id",
                     "route_short_name", "headsign", "trip_id", "realtime",
                     "scheduled_departure", "scheduled_arrival", "departure_delay_s",
                     "arrival_delay_s", "geometry", "polyline6", "points"],
        "properties": {
            "points": {"type": "number", "description": "this leg's share of the itinerary's "
                       "points (PointsAward.per_leg)"},
            "mode": _STRING, "from": {"$ref": "#/components/schemas/Place"},
            "to": {"$ref": "#/components/schemas/Place"},
            "departure": {"type": "string", "format": "date-time"},
            "arrival": {"type": "string", "format": "date-time"},
            "duration_s": _NUMBER, "distance_m": _NUMBER, "co2e_g": _NUMBER,
            "co2e_g_per_pkm": _NUMBER,
            "co2e_factor": {"type": "string",
                            "description": "factor-table key or \"emissions.txt\""},
            "route_id": _NULLABLE_STRING, "route_short_name": _NULLABLE_STRING,
            "headsign": _NULLABLE_STRING, "trip_id": _NULLABLE_STRING,
            "realtime": {"type": "boolean", "description": "departure and arrival are the "
                         "times expected by a GTFS-Realtime feed (else the timetable's)"},
            "scheduled_departure": {"type": ["string", "null"], "format": "date-time",
                                    "description": "the timetable's departure (realtime legs)"},
            "scheduled_arrival": {"type": ["string", "null"], "format": "date-time",
                                  "description": "the timetable's arrival (realtime legs)"},
            "departure_delay_s": {"type": ["number", "null"],
                                  "description": "expected minus scheduled departure"},
            "arrival_delay_s": {"type": ["number", "null"],
                                "description": "expected minus scheduled arrival"},
            "note": {"type": ["string", "null"],
                     "description": "\"park\": an own bike parked at the stop; \"rent\", "
                                    "\"ride\", \"return\": the legs of a shared bike "
                                    "(mode bikeshare; rent and return have no distance)"},
            "vehicle_id": {"type": ["string", "null"],
                           "description": "GBFS vehicle_id of a free-floating shared vehicle "
                                          "(rent, ride and return legs)"},
            "geometry": {"type": "object", "required": ["type", "coordinates"],
                         "properties": {"type": {"const": "LineString"},
                                        "coordinates": {"type": "array", "items": {
                                            "type": "array", "items": _NUMBER,
                                            "minItems": 2, "maxItems": 2}}}},
            "polyline6": {"type": "string",
                          "description": "the same line, encoded polyline at 1e-6 (lat, lon)"},
        },
    },
    "Place": {"type": "object", "required": ["name", "lat", "lon", "stop_id"],
              "properties": {"name": _STRING, "lat": _NUMBER, "lon": _NUMBER,
                             "stop_id": _NULLABLE_STRING,
                             "ref": {"type": "string", "description":
                                     "a parking's OSM id (osm:node/123, osm:way/45) or a "
                                     "pile's id where a car leg ends (planner.park_ride)"},
                             "station_id": {"type": "string",
                                            "description": "GBFS station_id of a bike-share "
                                                           "station (planner.bikeshare)"}}},
    "Baseline": {
        "type": "object",
        "required": ["mode", "distance_m", "duration_s", "co2e_g", "co2e_g_per_pkm", "method"],
        "description": "planner.baseline: a planned trip's baseline is car_network or "
                       "crow_fly_detour; given legs' is same_distance (no duration) or given "
                       "(the caller's co2e_g only)",
        "properties": {"mode": _NULLABLE_STRING, "distance_m": _NUMBER,
                       "duration_s": _NULLABLE_NUMBER, "co2e_g": _NUMBER,
                       "co2e_g_per_pkm": _NULLABLE_NUMBER,
                       "method": {"enum": list(BASELINE_METHODS)}},
    },
    "PointsResult": {
        "type": "object", "required": ["co2e_g", "distance_m", "baseline", "reduction_g",
                                       "points", "factor_table", "methodology",
                                       "points_rules"],
        "properties": {
            "co2e_g": _NUMBER, "distance_m": _NUMBER, "reduction_g": _NUMBER,
            "mode": _STRING, "factor_table": _STRING, "points_rules": _STRING,
            "methodology": _STRING, "grid": _NULLABLE_STRING,
            "reduction_explanation": _STRING,
            "points": {"$ref": "#/components/schemas/PointsAward"},
            "baseline": {"$ref": "#/components/schemas/Baseline"},
            "legs": {"type": "array", "items": {
                "type": "object", "required": ["mode", "distance_m", "co2e_g", "points"],
                "properties": {"mode": _STRING, "distance_m": _NUMBER, "co2e_g": _NUMBER,
                               "points": _NUMBER,
                               "co2e_g_per_pkm": _NUMBER, "co2e_factor": _STRING}}},
            "itinerary": {"$ref": "#/components/schemas/Itinerary"},
            "crs": {"enum": ["wgs84", "gcj02", "bd09"],
                    "description": "coordinate system of every coordinate in the answer "
                                   "(the request's crs)"},
        },
    },
    "PointsRules": {"type": "object", "description": "planner.points rules (PointsRules.to_dict)"},
    "Methodologies": {
        "type": "object", "required": ["default", "allowed"],
        "description": "planner.methodology: the operator's methodology (Methodology.to_dict, "
                       "every number with source, clause, year and verified flag) and the "
                       "labels a request may name with methodology=",
        "properties": {"default": {"type": "object"},
                       "allowed": {"type": "array", "items": _STRING}}},
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
