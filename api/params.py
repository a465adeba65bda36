"""Parse and validate HTTP parameters (query string or JSON body) into planner options.

One table, :data:`PLAN_PARAMETERS`, drives parsing, the error messages and the OpenAPI
document, so the three cannot disagree. Query parameters use camelCase names (as in
OpenTripPlanner); points are ``"lat,lon"`` strings in the query string and either that string
or ``{"lat": ..., "lon": ...}`` in a JSON body.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from graphs.crs import Crs, parse_crs, to_wgs84
from graphs.errors import CrsError
from graphs.modes import (
    ALL_MODE_NAMES,
    MODES,
    TRANSIT_MODES,
    ModeError,
    parse_mode,
    parse_modes,
    parse_trip_modes,
)
from planner import model
from planner.engine import swapped_hint
from planner.errors import OutsideCoverageError, QueryError
from planner.query import RANGES, check_service_date, parse_point, parse_when, with_own_bike
from planner.reach import (
    BAND_MINUTES,
    MAX_BAND_MINUTES,
    MAX_REACH_MINUTES,
    REACH_MINUTES,
    REACH_ACCESS_MODES,
    REACH_MODES,
    REACH_STREET_MODES,
)

from .coverage import Coverage
from .errors import ApiError
from .i18n import LANGUAGES, normalize_language

__all__ = ["Param", "PLAN_PARAMETERS", "ALL_MODE_NAMES", "MAX_LEGS",
           "MAX_LEG_DISTANCE_M", "parse_plan_params", "parse_points_legs", "parse_mode_name",
           "parse_language", "parse_crs_param", "request_crs",
           "parse_bool", "parse_number", "REACH_PARAMETERS", "REACH_MODE_NAMES",
           "parse_reach_params"]

MAX_LIST_ITEMS = 20
MAX_VALUE_CHARS = 120        # longer strings are refused before parsing
MAX_LEGS = 50
MAX_LEG_DISTANCE_M = 1_000_000.0
_ECHO_CHARS = 40             # how much of a bad value an error message repeats
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Param:
    """One HTTP parameter: its kind, the planner option it sets, its range and meaning."""

    name: str
    # point | datetime | boolean | modes | transit_modes | number | integer | language | crs
    kind: str
    option: str | None        # keyword of planner.make_query (None: not a planner option)
    description: str
    minimum: float | None = None
    maximum: float | None = None
    default: Any = None
    unit: str = ""
    required: bool = False
    example: Any = None
    scale: float = 1.0        # planner option = parameter x scale (minutes -> seconds)


def _ranged(name: str, kind: str, option: str, description: str, default: Any,
            unit: str = "") -> Param:
    low, high = RANGES[option]  # the planner's ranges: one place says what is allowed
    return Param(name, kind, option, description, low, high, default, unit)


PLAN_PARAMETERS: tuple[Param, ...] = (
    Param("from", "point", "origin", "Origin as \"lat,lon\" (degrees, in `crs`).",
          required=True, example="-30.0277,-51.2287"),
    Param("to", "point", "destination", "Destination as \"lat,lon\" (degrees, in `crs`).",
          required=True, example="-30.0346,-51.2177"),
    Param("crs", "crs", None,
          "Coordinate system of `from` and `to` and of every coordinate in the answer "
          "(places, geometry, polylines): `wgs84` (GPS, default), `gcj02` (AMap/Gaode, "
          "Tencent) or `bd09` (Baidu). The answer's top-level `crs` says which.",
          default="wgs84", example="gcj02"),
    Param("at", "datetime", "when",
          "Departure time (arrival time with arriveBy), ISO 8601. Without a UTC offset it is "
          "the network's local time. Default: now. When the trip may use transit it must fall "
          "within the service dates of /v1/coverage.", example="2019-05-06T08:00:00-03:00"),
    Param("arriveBy", "boolean", "arrive_by", "Treat `at` as the latest arrival time.",
          default=False),
    Param("modes", "modes", "modes",
          "Comma-separated modes the trip may use; `transit` means every transit mode, a "
          "single transit mode (`bus`) allows transit narrowed to it; `bike+transit` allows "
          "transit reached by own bike (parked at the station or carried on board), "
          "`bikeshare+transit` shared bikes (GBFS) to and from transit (`bikeshare` alone: a "
          "shared-bike trip), `car_petrol+transit` (any car fuel) park-and-ride, "
          "`car_bev+transit` an EV left at a charging pile near a station, `taxi+transit` a "
          "drop-off at the station (any car with `dropOff=true`).",
          default=",".join(sorted(model.DEFAULT_MODES)), example="walk,transit"),
    Param("ownBike", "boolean", "own_bike",
          "The traveller has a bike: adds `bike+transit` when the trip may use transit.",
          default=False),
    Param("dropOff", "boolean", "drop_off",
          "Kiss-and-ride: the car of a `car_*+transit` mode drops the traveller at the station "
          "instead of parking near it (its CO2e: the traveller's ride, one way).",
          default=False),
    Param("transitModes", "transit_modes", "transit_modes",
          "Comma-separated transit modes to allow (narrows `transit`). Default: all.",
          example="bus,metro"),
    _ranged("walkSpeed", "number", "walk_speed_mps", "Walking speed.", model.WALK_SPEED_MPS,
            " m/s"),
    _ranged("bikeSpeed", "number", "bike_speed_mps", "Cycling speed.", model.BIKE_SPEED_MPS,
            " m/s"),
    _ranged("ebikeSpeed", "number", "ebike_speed_mps", "E-bike speed.", model.EBIKE_SPEED_MPS,
            " m/s"),
    _ranged("maxWalkDistance", "number", "max_walk_m",
            "Longest walk of each access, egress or transfer.", model.MAX_WALK_M, " m"),
    _ranged("maxTransfers", "integer", "max_transfers", "Most vehicle changes.",
            model.MAX_TRANSFERS),
    _ranged("maxSnapDistance", "number", "max_snap_m",
            "How far `from` and `to` may lie from the nearest street.", model.MAX_SNAP_M, " m"),
    _ranged("budgetFactor", "number", "budget_factor",
            "The recommendation may take up to this times the fastest option's time (counted "
            "from `at`, waiting included), or that time plus budgetSlack, whichever is longer.",
            model.BUDGET_FACTOR),
    _ranged("budgetSlack", "number", "budget_slack_s",
            "Extra time the recommendation may take over the fastest.", model.BUDGET_SLACK_S,
            " s"),
    _ranged("budget", "integer", "time_budget_s",
            "Explicit time budget of the recommendation; overrides budgetFactor and "
            "budgetSlack.", None, " s"),
    _ranged("passengers", "integer", "passengers",
            "People sharing each car leg (carpool, 合乘): its CO2e is divided among them; the "
            "baseline stays a solo car.", model.PASSENGERS),
    Param("methodology", "methodology", None,
          "Carbon-accounting methodology of reduction_g and points (`<id>` of a preset or "
          "`<id>@<version>`); only those the operator allows (`TANLU_ALLOWED_METHODOLOGIES`). "
          "Default: the operator's.", example="shenzhen-2021"),
    Param("window", "integer", "window_s",
          "Departure window: also plan every departure up to this many minutes after `at` "
          "and return the Pareto set over all of them (each itinerary has its own departure; "
          "the recommendation's budget counts from each one's own departure). Not with "
          "arriveBy. 0: the one departure time.", 0, model.MAX_WINDOW_S / 60, 0, " min",
          example=60, scale=60.0),
    Param("chargedAtPublicPile", "boolean", "charged_at_public_pile",
          "The traveller's electric car (`car_bev`) was charged at a public charging pile: "
          "only then do its itineraries earn points.", default=False),
    Param("lang", "language", None,
          "Language of messages: `en` or `zh` (Simplified Chinese). Default: Accept-Language, "
          "else English.", example="zh"),
)
_BY_NAME = {p.name: p for p in PLAN_PARAMETERS}
_PLAN = _BY_NAME

#: Modes a reach map may name: its street modes, ``transit`` and single transit modes.
REACH_MODE_NAMES = (*REACH_STREET_MODES, "transit", *TRANSIT_MODES)

#: Parameters of ``GET /v1/reach`` (and ``/embed?reach=1``); shared ones as in /v1/plan.
REACH_PARAMETERS: tuple[Param, ...] = (
    Param("from", "point", "origin", "Origin as \"lat,lon\" (degrees, in `crs`).",
          required=True, example="-30.0277,-51.2287"),
    Param("crs", "crs", None,
          "Coordinate system of `from` and of every coordinate in the answer (polygons, "
          "stops): `wgs84` (default), `gcj02` or `bd09`. The answer's top-level `crs` says "
          "which.", default="wgs84", example="gcj02"),
    Param("at", "datetime", "when",
          "Start time, ISO 8601 (network-local without a UTC offset). Default: now. With "
          "transit it must fall within the service dates of /v1/coverage.",
          example="2019-05-13T12:30:00-03:00"),
    Param("minutes", "integer", "minutes",
          f"Time budget: everything reachable within this many minutes of `at` "
          f"(at most {MAX_REACH_MINUTES}).", 1, MAX_REACH_MINUTES, REACH_MINUTES, " min",
          example=30),
    Param("bandMinutes", "integer", "band_minutes",
          "Width of the time bands (polygons of 0-10, 10-20, ... minutes).", 1,
          MAX_BAND_MINUTES, BAND_MINUTES, " min"),
    Param("modes", "reach_modes", "modes",
          "Comma-separated: `walk`, `bike` (own bike all the way), `transit` (every transit "
          "mode; walking to and between stops included), single transit modes (`bus`), "
          "`bike+transit` (own bike to a rail or metro station).",
          default=",".join(sorted(REACH_MODES)), example="walk,transit"),
    Param("ownBike", "boolean", "own_bike",
          "The traveller has a bike: adds `bike+transit` when transit is allowed.",
          default=False),
    _PLAN["transitModes"], _PLAN["walkSpeed"], _PLAN["bikeSpeed"],
    _ranged("maxWalkDistance", "number", "max_walk_m",
            "Longest walk to a first stop and between stops (the last walk is bounded by "
            "the time budget only).", model.MAX_WALK_M, " m"),
    _PLAN["maxSnapDistance"],
    Param("nodes", "boolean", "nodes",
          "Also return every reached street node as a Point (earliest minutes, lowest CO2e).",
          default=False),
    _PLAN["lang"],
)
_REACH_BY_NAME = {p.name: p for p in REACH_PARAMETERS}


def parse_plan_params(source: Mapping[str, Any], *, coverage: Coverage | None, tz: tzinfo,
                      now: datetime | None = None, allow_unknown: bool = False) -> dict[str, Any]:
    """Validate ``source`` (query string or JSON object) into ``planner.make_query`` keywords.

    Returns ``origin`` and ``destination`` as ``(lat, lon)``, ``when`` (aware, in ``tz``) and
    every other option present in ``source``; absent options keep the planner's defaults.

    Raises
    ------
    ApiError
        Naming the first bad parameter and its allowed range (400), or ``outside_coverage``
        (422) for a point outside the network's bounding box.
    """
    if not allow_unknown:
        _reject_unknown(source, _BY_NAME)
    options = _parse_all(PLAN_PARAMETERS, source, tz, points=("origin", "destination"))
    snap_m = options.get("max_snap_m", model.MAX_SNAP_M)
    for name, option in (("from", "origin"), ("to", "destination")):
        _check_in_coverage(options[option], name, coverage, snap_m)
    return _finish(options, source, coverage, tz, now)


def parse_reach_params(source: Mapping[str, Any], *, coverage: Coverage | None, tz: tzinfo,
                       now: datetime | None = None,
                       allow_unknown: bool = False) -> dict[str, Any]:
    """Validate a /v1/reach query into ``planner.reach.make_reach_query`` keywords (and
    ``nodes``), with the errors of :func:`parse_plan_params`.

    Raises
    ------
    ApiError
        Naming the first bad parameter (400), or ``outside_coverage`` (422).
    """
    if not allow_unknown:
        _reject_unknown(source, _REACH_BY_NAME)
    options = {"modes": REACH_MODES, **_parse_all(REACH_PARAMETERS, source, tz,
                                                   points=("origin",))}
    _check_in_coverage(options["origin"], "from", coverage,
                       options.get("max_snap_m", model.MAX_SNAP_M))
    return _finish(options, source, coverage, tz, now)


def _finish(options: dict[str, Any], source: Mapping[str, Any], coverage: Coverage | None,
            tz: tzinfo, now: datetime | None) -> dict[str, Any]:
    """The last steps of both parsers: an own bike's access mode, the time (now when absent)
    and the feeds' service dates."""
    if options.pop("own_bike", False):
        access = with_own_bike(options.get("access_modes", ()),
                               options.get("modes", model.DEFAULT_MODES),
                               options.get("transit_modes"))
        if access:
            options["access_modes"] = access
    if "when" not in options:
        options["when"] = (now or datetime.now(tz)).astimezone(tz)
    if coverage is not None:
        _check_service_date(options, coverage, source.get("at"))
    return options


def _check_in_coverage(point: tuple[float, float], name: str, coverage: Coverage | None,
                       snap_m: float) -> None:
    lat, lon = point
    if coverage is None or coverage.contains(lat, lon, margin_m=snap_m):
        return
    west, south, east, north = coverage.bbox
    hint = swapped_hint(lat, lon, coverage.bbox)
    raise ApiError("outside_coverage", field=name,
                   detail=f"{lat:.6f},{lon:.6f} is not within the bounding box "
                          f"{_bbox_text(coverage)} (+{snap_m:g} m){hint}",
                   detail_code="bbox",
                   detail_params={"lat": lat, "lon": lon, "west": west, "south": south,
                                  "east": east, "north": north, "snap_m": snap_m,
                                  "swapped": bool(hint)})


def parse_points_legs(body: Mapping[str, Any]) -> list[tuple[str, float]]:
    """``body["legs"]`` as ``(mode, distance_m)`` pairs.

    Raises
    ------
    ApiError
        ``invalid_legs`` for a malformed list, ``unknown_mode`` for a mode not in graphs.modes.
    """
    legs = body.get("legs")
    if not isinstance(legs, list) or not 1 <= len(legs) <= MAX_LEGS:
        raise _legs_error("legs")
    parsed = []
    for i, leg in enumerate(legs):
        field = f"legs[{i}]"
        if not isinstance(leg, Mapping) or set(leg) - {"mode", "distance_m"}:
            raise _legs_error(field)
        mode = parse_mode_name(leg.get("mode"), f"{field}.mode", tuple(MODES))
        distance_m = parse_number(leg.get("distance_m"), f"{field}.distance_m", 0.0,
                                  MAX_LEG_DISTANCE_M, " m")
        parsed.append((mode, distance_m))
    return parsed


def _parse_all(params: tuple[Param, ...], source: Mapping[str, Any], tz: tzinfo, *,
               points: tuple[str, ...]) -> dict[str, Any]:
    """Every given parameter of ``params`` parsed (a required one missing: 400), the ``points``
    options converted once from the request's ``crs`` to WGS-84, as all of tanlu works in."""
    options: dict[str, Any] = {}
    for param in params:
        value = source.get(param.name)
        if value is None or (isinstance(value, str) and value.strip() == ""):
            if param.required:
                raise ApiError("missing_parameter", field=param.name)
            continue
        options.update(_parse_one(param, value, tz))
    crs = request_crs(source)
    if crs is not Crs.WGS84:
        for option in points:
            lat, lon = to_wgs84(*options[option], crs)
            options[option] = (float(lat), float(lon))
    return options


def parse_mode_name(value: Any, field: str, allowed: tuple[str, ...] = ALL_MODE_NAMES) -> str:
    """One mode word (synonyms allowed, see graphs.modes) as its canonical name in ``allowed``.

    Raises
    ------
    ApiError
        ``unknown_mode`` naming the word and listing ``allowed``.
    """
    try:
        mode = parse_mode(value)
    except ModeError:
        mode = None
    if mode not in allowed:
        raise ApiError("unknown_mode", field=field, value=_echo(value), allowed=", ".join(allowed))
    return mode


def parse_crs_param(value: Any, field: str = "crs") -> Crs:
    """``crs`` as a :class:`graphs.crs.Crs` (``wgs84``, ``gcj02``, ``bd09``; ``GCJ-02`` too).

    Raises
    ------
    ApiError
        ``invalid_crs`` naming ``field`` for anything else.
    """
    try:
        if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
            raise CrsError(f"{value!r}", field=field)
        return parse_crs(value)
    except CrsError as err:
        raise ApiError("invalid_crs", field=field, value=_echo(value),
                       allowed=", ".join(c.value for c in Crs)) from err


def request_crs(source: Mapping[str, Any]) -> Crs:
    """The ``crs`` of a query string or JSON body (``wgs84`` when absent or empty).

    Raises
    ------
    ApiError
        ``invalid_crs`` for an unknown system.
    """
    value = source.get("crs")
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return Crs.WGS84
    return parse_crs_param(value)


def parse_language(value: Any) -> str:
    """``lang`` as ``"en"`` or ``"zh"``.

    Raises
    ------
    ApiError
        ``invalid_language`` for anything else.
    """
    found = normalize_language(value) if isinstance(value, str) else None
    if found is None:
        raise ApiError("invalid_language", field="lang", value=_echo(value),
                       allowed=", ".join(LANGUAGES))
    return found


def parse_bool(value: Any, field: str) -> bool:
    """JSON ``true``/``false`` or the strings true/false/1/0/yes/no/on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ApiError("invalid_boolean", field=field, value=_echo(value))


def parse_number(value: Any, field: str, minimum: float, maximum: float, unit: str = "", *,
                 integer: bool = False) -> float:
    """A finite number in ``[minimum, maximum]`` from a JSON number or a decimal string."""
    code = "invalid_integer" if integer else "invalid_number"
    number = _to_number(value)
    if (number is None or not minimum <= number <= maximum
            or (integer and number != math.floor(number))):
        raise ApiError(code, field=field, value=_echo(value), min=_fmt(minimum),
                       max=_fmt(maximum), unit=unit)
    return number


def _parse_one(param: Param, value: Any, tz: tzinfo) -> dict[str, Any]:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        value = value[:MAX_VALUE_CHARS] + "…"
        if param.kind in ("number", "integer"):
            return {param.option: parse_number(None, param.name, param.minimum, param.maximum)}
    kind = param.kind
    if kind == "point":
        return {param.option: _parse_point(value, param.name)}
    if kind == "datetime":
        return {param.option: _parse_datetime(value, param.name, tz)}
    if kind == "boolean":
        return {param.option: parse_bool(value, param.name)}
    if kind in ("modes", "reach_modes"):
        modes, access = _parse_trip_modes(value, param.name)
        if kind == "reach_modes":
            allowed = (*REACH_MODE_NAMES, *(f"{m}+transit" for m in REACH_ACCESS_MODES))
            for name in [*sorted(modes), *(f"{m}+transit" for m in sorted(access))]:
                if name not in allowed:
                    raise ApiError("unknown_mode", field=param.name, value=_echo(name),
                                   allowed=", ".join(allowed))
        return {param.option: modes, **({"access_modes": access} if access else {})}
    if kind in ("modes", "transit_modes"):
        allowed = ALL_MODE_NAMES if kind == "modes" else TRANSIT_MODES
        return {param.option: _parse_names(value, param.name, allowed)}
    if kind in ("number", "integer"):
        number = parse_number(value, param.name, param.minimum, param.maximum, param.unit,
                              integer=kind == "integer")
        value = int(number) if kind == "integer" else number
        return {param.option: value * param.scale if param.scale != 1.0 else value}
    if kind == "methodology":
        if not isinstance(value, str):
            raise ApiError("methodology_not_allowed", field=param.name, value=_echo(value),
                           allowed="")
        return {"methodology": value.strip()}
    if kind == "crs":
        parse_crs_param(value, param.name)
        return {}
    parse_language(value)
    return {}


def _parse_point(value: Any, field: str) -> tuple[float, float]:
    try:
        return parse_point(value, field=field)
    except QueryError as err:
        raise ApiError("invalid_coordinates", field=field, value=_echo(value)) from err


def _parse_datetime(value: Any, field: str, tz: tzinfo) -> datetime:
    try:
        return parse_when(value, tz, field=field)
    except QueryError as err:
        raise ApiError("invalid_datetime", field=field, value=_echo(value)) from err


def _parse_names(value: Any, field: str, allowed: tuple[str, ...]) -> frozenset[str]:
    """Mode words (synonyms allowed, see graphs.modes) as canonical names within ``allowed``."""
    if isinstance(value, str):
        count = len(re.split(r"[,+、]", value))
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        count = len(value)
    else:
        count = 0
    if not 1 <= count <= MAX_LIST_ITEMS:
        raise ApiError("invalid_list", field=field, value=_echo(value), max=MAX_LIST_ITEMS)
    try:
        names = parse_modes(value)
    except ModeError as err:
        if err.token == "":
            raise ApiError("invalid_list", field=field, value=_echo(value),
                           max=MAX_LIST_ITEMS) from err
        raise ApiError("unknown_mode", field=field, value=_echo(err.token),
                       allowed=", ".join(allowed)) from err
    for name in names:
        if name not in allowed:
            raise ApiError("unknown_mode", field=field, value=_echo(name),
                           allowed=", ".join(allowed))
    return frozenset(names)


def _parse_trip_modes(value: Any, field: str) -> tuple[frozenset[str], frozenset[str]]:
    """``modes`` with ``X+transit`` entries as (mode names, access modes), see graphs.modes."""
    _parse_names(value, field, ALL_MODE_NAMES)  # list shape and every word: errors named here
    modes, access = parse_trip_modes(value)
    return frozenset(modes), frozenset(access)


def _check_service_date(options: Mapping[str, Any], coverage: Coverage, raw: Any) -> None:
    when = options["when"]
    first, last = coverage.first_service_date, coverage.last_service_date
    try:
        check_service_date(when, options.get("modes", model.DEFAULT_MODES),
                           options.get("transit_modes"), first, last)
    except OutsideCoverageError as err:
        shown = raw if isinstance(raw, str) and raw.strip() else when.isoformat()
        raise ApiError("date_out_of_service", field="at", value=_echo(shown),
                       first=str(first), last=str(last)) from err


def _reject_unknown(source: Mapping[str, Any], known: Mapping[str, Param]) -> None:
    for name in source:
        if name not in known and not str(name).startswith("_"):
            raise ApiError("unknown_parameter", field=_echo(name), allowed=", ".join(known))


def _legs_error(field: str) -> ApiError:
    return ApiError("invalid_legs", field=field, max=MAX_LEGS,
                    max_distance_m=_fmt(MAX_LEG_DISTANCE_M))


def _to_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value) if not isinstance(value, int) or abs(value) < 1e300 else math.inf
    elif isinstance(value, str) and _NUMBER.match(value.strip()):
        number = float(value.strip())
    else:
        return None
    return number if math.isfinite(number) else None


def _echo(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _ECHO_CHARS else text[:_ECHO_CHARS] + "…"


def _fmt(number: float | None) -> str:
    return "?" if number is None else f"{number:g}"


def _bbox_text(coverage: Coverage) -> str:
    west, south, east, north = coverage.bbox
    return f"lat {south:.4f}..{north:.4f}, lon {west:.4f}..{east:.4f}"
