"""Build and validate a :class:`~planner.model.Query` from typed values, and the edge parsers.

``make_query`` takes typed values only (numbers, ``(lat, lon)`` tuples, datetimes, sets of
canonical mode names). The interfaces (HTTP, CLI, audit) turn their strings into those values
once, with the shared parsers here (:func:`parse_point`, :func:`parse_when`, :func:`localize`)
and ``graphs.modes.parse_modes``; :func:`check_service_date` is the one rule deciding when a
date outside the feeds is refused.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from graphs.modes import (
    ACCESS_MODES,
    ALL_MODE_NAMES,
    CAR_MODES,
    STREET_MODES,
    TRANSIT,
    TRANSIT_MODES,
)

from . import model
from .errors import OutsideCoverageError, QueryError
from .model import Query

__all__ = ["make_query", "parse_point", "parse_when", "localize", "select_modes",
           "may_use_transit", "with_own_bike", "check_service_date", "WHEN_YEARS", "STREET_MODES",
           "ALLOWED_MODES", "RANGES"]

#: Everything ``modes`` may name: street modes, ``transit`` and single transit modes.
ALLOWED_MODES = ALL_MODE_NAMES
#: Years a query time may fall in (first, last): beyond them date arithmetic overflows and no
#: timetable exists.
WHEN_YEARS = (1900, 2199)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

#: Allowed (inclusive) ranges of numeric options, quoted in error messages.
RANGES: dict[str, tuple[float, float]] = {
    "walk_speed_mps": (0.3, 3.0),
    "bike_speed_mps": (1.0, 12.0),
    "ebike_speed_mps": (1.0, 14.0),
    "max_walk_m": (0.0, 10_000.0),
    "max_transfers": (0, 8),
    "max_snap_m": (1.0, 5_000.0),
    "budget_factor": (1.0, 10.0),
    "budget_slack_s": (0.0, 4 * 3600.0),
    "time_budget_s": (60.0, 24 * 3600.0),
    "passengers": (1, model.MAX_PASSENGERS),
    "window_s": (0.0, model.MAX_WINDOW_S),
}


# The validating constructor of Query: one keyword per field (PLR0913).
def make_query(*, origin: tuple[float, float], destination: tuple[float, float],  # noqa: PLR0913
               when: datetime, arrive_by: bool = False,
               modes: Iterable[str] = model.DEFAULT_MODES,
               transit_modes: Iterable[str] | None = None,
               walk_speed_mps: float = model.WALK_SPEED_MPS,
               bike_speed_mps: float = model.BIKE_SPEED_MPS,
               ebike_speed_mps: float = model.EBIKE_SPEED_MPS,
               max_walk_m: float = model.MAX_WALK_M, max_transfers: int = model.MAX_TRANSFERS,
               max_snap_m: float = model.MAX_SNAP_M, budget_factor: float = model.BUDGET_FACTOR,
               budget_slack_s: float = model.BUDGET_SLACK_S, time_budget_s: float | None = None,
               charged_at_public_pile: bool = False, passengers: int = model.PASSENGERS,
               window_s: float = 0.0,
               access_modes: Iterable[str] = (), drop_off: bool = False,
               timezone: str | tzinfo | None = None) -> Query:
    """A validated query from typed values.

    ``origin``/``destination`` are ``(lat, lon)`` pairs of numbers. ``when`` is a datetime; a
    naive one is local to ``timezone`` if given, else to the network's timezone when the query
    is planned. ``modes`` and ``transit_modes`` are collections of canonical names
    (``graphs.modes.parse_modes`` turns user words into them); naming a single transit mode in
    ``modes`` (``bus``) allows transit narrowed to it. ``charged_at_public_pile`` says the
    traveller's electric car was charged at a public pile, so ``car_bev`` itineraries earn points
    (an operator-trusted declaration; the planner also looks for a pile near either end).
    ``passengers`` (a whole number) shares each car leg's CO2e among that many people
    (carpool, 合乘).
    ``window_s`` > 0 plans every departure from ``when`` to ``when + window_s`` (not with
    ``arrive_by``).
    ``access_modes`` are street modes of :data:`graphs.modes.ACCESS_MODES` that may reach transit
    (``bike+transit`` -> ``{"bike"}``); naming any adds ``transit`` to the modes.
    ``drop_off`` has the car access modes drop the traveller at the station (kiss-and-ride)
    instead of parking near it; it needs a car access mode.

    Raises
    ------
    QueryError
        Naming the field and its allowed range or values.
    """
    o_lat, o_lon = _point(origin, "origin")
    d_lat, d_lon = _point(destination, "destination")
    mode_set, narrowed = select_modes(_names(modes, "modes", ALLOWED_MODES))
    if transit_modes is not None:
        narrowed = set(_names(transit_modes, "transit_modes", TRANSIT_MODES)) | narrowed
        mode_set = mode_set | {TRANSIT}
    empty = isinstance(access_modes, (tuple, list, set, frozenset)) and not access_modes
    access = (frozenset() if empty
              else frozenset(_names(access_modes, "access_modes", ACCESS_MODES)))
    if access:
        mode_set = mode_set | {TRANSIT}
    dropped = _parse_bool(drop_off, "drop_off")
    if dropped and not access & set(CAR_MODES):
        raise QueryError("drop_off needs a car access mode (car_petrol+transit, ...)",
                         field="drop_off")
    numbers = {"walk_speed_mps": walk_speed_mps, "bike_speed_mps": bike_speed_mps,
               "ebike_speed_mps": ebike_speed_mps, "max_walk_m": max_walk_m,
               "max_snap_m": max_snap_m, "budget_factor": budget_factor,
               "budget_slack_s": budget_slack_s}
    for name, value in numbers.items():
        numbers[name] = _in_range(name, value)
    transfers = _in_range("max_transfers", max_transfers)
    if transfers != int(transfers):
        raise QueryError(f"max_transfers must be a whole number, got {max_transfers!r}",
                         field="max_transfers")
    budget = None if time_budget_s is None else _in_range("time_budget_s", time_budget_s)
    riders = _in_range("passengers", passengers)
    if riders != int(riders):
        raise QueryError(f"passengers must be a whole number, got {passengers!r}",
                         field="passengers")
    window = _in_range("window_s", window_s)
    arrive = _parse_bool(arrive_by, "arrive_by")
    if window > 0 and arrive:
        raise QueryError("window_s needs a departure time: it cannot be used with arrive_by",
                         field="window_s")
    if not isinstance(when, datetime):
        raise QueryError(f"when must be a datetime, got {type(when).__name__}", field="when")
    if when.tzinfo is None and timezone is not None:
        when = localize(when, _zone(timezone))
    _check_year(when, "when")
    return Query(origin_lat=o_lat, origin_lon=o_lon, destination_lat=d_lat,
                 destination_lon=d_lon, when=when,
                 arrive_by=arrive, window_s=window, modes=frozenset(mode_set),
                 transit_modes=frozenset(narrowed) if narrowed else None,
                 max_transfers=int(transfers), time_budget_s=budget,
                 charged_at_public_pile=_parse_bool(charged_at_public_pile,
                                                    "charged_at_public_pile"),
                 passengers=int(riders), access_modes=access, drop_off=dropped, **numbers)


def parse_point(value: str | Mapping, *, field: str) -> tuple[float, float]:
    """``(lat, lon)`` from a ``"lat,lon"`` string or a ``{"lat": .., "lon": ..}`` mapping.

    The one coordinate parser of every interface (HTTP, CLI, audit). Numbers are plain
    decimals (``1e3`` allowed; no NaN, infinity, hex or booleans).

    Raises
    ------
    QueryError
        If it is not two numbers with lat in [-90, 90] and lon in [-180, 180].
    """
    if isinstance(value, Mapping) and set(value) == {"lat", "lon"}:
        parts = [value["lat"], value["lon"]]
    elif isinstance(value, str) and value.count(",") == 1:
        parts = value.split(",")
    else:
        parts = []
    numbers = [_number(part) for part in parts]
    if len(numbers) != 2 or None in numbers:
        raise QueryError(f"{field} must be 'LAT,LON' (two numbers), got {_echo(value)}",
                         field=field)
    return _point((numbers[0], numbers[1]), field)


def parse_when(value: str, tz: tzinfo | str, *, field: str = "when") -> datetime:
    """An ISO 8601 date-time as an aware datetime in ``tz`` (naive texts are local to it).

    Raises
    ------
    QueryError
        If ``value`` is no ISO 8601 date-time or falls outside :data:`WHEN_YEARS`.
    """
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as err:
        raise QueryError(f"{field} must be an ISO 8601 date-time like 2019-05-13T12:30, "
                         f"got {_echo(value)}", field=field) from err
    return localize(parsed, _zone(tz), field=field)


def localize(when: datetime, tz: tzinfo, *, field: str = "when") -> datetime:
    """``when`` in ``tz``: a naive time is taken as local there, an aware one converted.

    The one time-zoning rule of HTTP, CLI, audit and the planner.

    Raises
    ------
    QueryError
        If ``when`` falls outside :data:`WHEN_YEARS` (where conversions would overflow).
    """
    _check_year(when, field)
    try:
        return when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)
    except (OverflowError, ValueError) as err:
        raise QueryError(f"{field} {when.isoformat()} cannot be expressed in {tz}",
                         field=field) from err


def select_modes(names: Iterable[str]) -> tuple[set[str], set[str]]:
    """Split canonical mode names into the mode set and the transit modes it narrows transit to.

    ``{walk, bus}`` -> ``({walk, transit}, {bus})``; ``{transit, bus}`` -> ``({transit}, set())``.
    """
    names = set(names)
    narrowed = names & set(TRANSIT_MODES)
    chosen = names - narrowed
    if narrowed:
        chosen.add(TRANSIT)
    return chosen, narrowed if narrowed and TRANSIT not in names else set()


def may_use_transit(modes: Iterable[str], transit_modes: Iterable[str] | None = None) -> bool:
    """True if a trip with these canonical modes may ride transit."""
    return transit_modes is not None or any(m == TRANSIT or m in TRANSIT_MODES for m in modes)


def with_own_bike(access_modes: Iterable[str], modes: Iterable[str],
                  transit_modes: Iterable[str] | None = None) -> frozenset[str]:
    """The access modes of a traveller who has a bike (HTTP ``ownBike``, CLI ``--own-bike``):
    ``bike`` (ridden to a station, ``bike+transit``) is added when the trip may ride transit."""
    access = frozenset(access_modes)
    return access | {"bike"} if may_use_transit(modes, transit_modes) else access


def check_service_date(when: datetime, modes: Iterable[str], transit_modes: Iterable[str] | None,
                       first: date | None, last: date | None) -> None:
    """Refuse a trip that may use transit on a date outside the feeds' service dates.

    The one rule of ``/v1/plan`` (400) and ``tanlu plan`` (exit 2): without it a walk-or-bus
    query on a date with no timetable silently loses its transit options.

    Raises
    ------
    OutsideCoverageError
        ``field="when"``, naming the service dates.
    """
    if first is None or last is None or not may_use_transit(modes, transit_modes):
        return
    if not first <= when.date() <= last:
        raise OutsideCoverageError(f"date {when.date()} is outside the feeds' service dates "
                                   f"({first}..{last}); pick a date in that range or leave "
                                   f"transit out of the modes", field="when")


def _parse_bool(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise QueryError(f"{name} must be true or false, got {value!r}", field=name)


def _in_range(name: str, value) -> float:
    low, high = RANGES[name]
    try:
        number = _real(value)
    except (TypeError, ValueError, OverflowError) as err:
        raise QueryError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}",
                         field=name) from err
    if not (low <= number <= high):
        raise QueryError(f"{name} must be in [{low:g}, {high:g}], got {value!r}", field=name)
    return number


def _point(value, field: str) -> tuple[float, float]:
    try:
        lat, lon = value
        lat, lon = _real(lat), _real(lon)
    except (TypeError, ValueError, OverflowError) as err:
        raise QueryError(f"{field} must be a (lat, lon) pair of numbers, got {_echo(value)}",
                         field=field) from err
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise QueryError(f"{field} must have lat in [-90, 90] and lon in [-180, 180], "
                         f"got {lat}, {lon}", field=field)
    return lat, lon


def _real(value) -> float:
    if isinstance(value, (bool, str)) or not isinstance(value, (int, float)):
        raise TypeError(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _number(value) -> float | None:
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        value = float(value.strip())
    try:
        return _real(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _names(value: Iterable[str], field: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise QueryError(f"{field} must be a collection of mode names (parse text with "
                         f"graphs.modes.parse_modes), got {_echo(value)}", field=field)
    names = tuple(value)
    if not names:
        raise QueryError(f"{field} must name at least one of {', '.join(allowed)}", field=field)
    for name in names:
        if name not in allowed:
            raise QueryError(f"unknown mode {_echo(name)}; {field} must be among "
                             f"{', '.join(allowed)}", field=field)
    return names


def _zone(tz: tzinfo | str) -> tzinfo:
    if not isinstance(tz, str):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise QueryError(f"timezone {tz!r} is not an IANA time zone", field="timezone") from err


def _check_year(when: datetime, field: str) -> None:
    first, last = WHEN_YEARS
    if not first <= when.year <= last:
        raise QueryError(f"{field} must fall in the years {first}..{last}, got "
                         f"{when.isoformat()}", field=field)


def _echo(value, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
