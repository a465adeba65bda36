"""Build and validate a :class:`~planner.model.Query` from user options."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from graphs.modes import MODES, TRANSIT_MODES

from . import model
from .errors import QueryError
from .model import Query

__all__ = ["make_query", "parse_point", "parse_modes", "STREET_MODES", "ALLOWED_MODES", "RANGES"]

STREET_MODES = tuple(name for name, m in MODES.items() if m.layer is not None)
#: Everything ``modes`` may name: street modes, ``transit`` and single transit modes.
ALLOWED_MODES = STREET_MODES + ("transit",) + TRANSIT_MODES

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
}


def make_query(*, origin, destination, when: datetime | str, arrive_by: bool = False,
               modes: Iterable[str] | str = model.DEFAULT_MODES,
               transit_modes: Iterable[str] | str | None = None,
               walk_speed_mps: float = model.WALK_SPEED_MPS,
               bike_speed_mps: float = model.BIKE_SPEED_MPS,
               ebike_speed_mps: float = model.EBIKE_SPEED_MPS,
               max_walk_m: float = model.MAX_WALK_M, max_transfers: int = model.MAX_TRANSFERS,
               max_snap_m: float = model.MAX_SNAP_M, budget_factor: float = model.BUDGET_FACTOR,
               budget_slack_s: float = model.BUDGET_SLACK_S, time_budget_s: float | None = None,
               charged_at_public_pile: bool = False, passengers: int = model.PASSENGERS,
               timezone: str | None = None) -> Query:
    """A validated query.

    ``origin``/``destination`` are ``(lat, lon)`` pairs or ``"lat,lon"`` strings. ``when`` is a
    datetime or ISO-8601 string; a naive time is local to ``timezone`` if given, else to the
    network's timezone when the query is planned. Naming a single transit mode in ``modes``
    (``bus``) allows transit narrowed to it. ``charged_at_public_pile`` says the traveller's
    electric car was charged at a public pile, so ``car_bev`` itineraries earn points (an
    operator-trusted declaration; the planner also looks for a pile near either end).
    ``passengers`` shares each car leg's CO2e among that many people (carpool, 合乘).

    Raises
    ------
    QueryError
        Naming the field and its allowed range or values.
    """
    o_lat, o_lon = parse_point(origin, field="origin")
    d_lat, d_lon = parse_point(destination, field="destination")
    mode_set, narrowed = parse_modes(modes)
    if transit_modes is not None:
        narrowed = _parse_transit_modes(transit_modes) | narrowed
        mode_set = mode_set | {"transit"}
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
    return Query(origin_lat=o_lat, origin_lon=o_lon, destination_lat=d_lat,
                 destination_lon=d_lon, when=_parse_when(when, timezone),
                 arrive_by=bool(arrive_by), modes=frozenset(mode_set),
                 transit_modes=frozenset(narrowed) if narrowed else None,
                 max_transfers=int(transfers), time_budget_s=budget,
                 charged_at_public_pile=_parse_bool(charged_at_public_pile,
                                                    "charged_at_public_pile"),
                 passengers=int(riders), **numbers)


def parse_point(value, *, field: str) -> tuple[float, float]:
    """``(lat, lon)`` from a pair or a ``"lat,lon"`` string, range-checked.

    Raises
    ------
    QueryError
        If it is not two numbers with lat in [-90, 90] and lon in [-180, 180].
    """
    parts = value.split(",") if isinstance(value, str) else value
    try:
        lat, lon = (float(v) for v in parts)
    except (TypeError, ValueError) as err:
        raise QueryError(f"{field} must be 'LAT,LON' (two numbers), got {value!r}",
                         field=field) from err
    if not (-90.0 <= lat <= 90.0) or not (-180.0 <= lon <= 180.0) or lat != lat or lon != lon:
        raise QueryError(f"{field} must have lat in [-90, 90] and lon in [-180, 180], "
                         f"got {lat}, {lon}", field=field)
    return lat, lon


def parse_modes(modes: Iterable[str] | str) -> tuple[set[str], set[str]]:
    """Split ``modes`` into the mode set and the transit modes it narrows transit to.

    Raises
    ------
    QueryError
        ``field="modes"`` for an unknown or empty mode list.
    """
    names = [m.strip() for m in (modes.split(",") if isinstance(modes, str) else modes)]
    names = [m for m in names if m]
    if not names:
        raise QueryError(f"modes must name at least one of {', '.join(ALLOWED_MODES)}",
                         field="modes")
    unknown = [m for m in names if m not in ALLOWED_MODES]
    if unknown:
        raise QueryError(f"unknown mode {unknown[0]!r}; modes must be among "
                         f"{', '.join(ALLOWED_MODES)}", field="modes")
    narrowed = {m for m in names if m in TRANSIT_MODES}
    chosen = {m for m in names if m not in TRANSIT_MODES}
    if narrowed:
        chosen.add("transit")
    return chosen, narrowed if narrowed and "transit" not in names else set()


def _parse_transit_modes(value: Iterable[str] | str) -> set[str]:
    names = {m.strip() for m in (value.split(",") if isinstance(value, str) else value)} - {""}
    bad = sorted(names - set(TRANSIT_MODES))
    if bad or not names:
        raise QueryError(f"transit_modes must be among {', '.join(TRANSIT_MODES)}, got "
                         f"{bad[0] if bad else 'nothing'!r}", field="transit_modes")
    return names


def _parse_bool(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    raise QueryError(f"{name} must be true or false, got {value!r}", field=name)


def _in_range(name: str, value) -> float:
    low, high = RANGES[name]
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise QueryError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}",
                         field=name) from err
    if not (low <= number <= high):
        raise QueryError(f"{name} must be in [{low:g}, {high:g}], got {value!r}", field=name)
    return number


def _parse_when(value: datetime | str, tz_name: str | None) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as err:
            raise QueryError(f"when must be an ISO-8601 date-time like 2019-05-13T12:30, "
                             f"got {value!r}", field="when") from err
    if not isinstance(value, datetime):
        raise QueryError(f"when must be a datetime, got {type(value).__name__}", field="when")
    if value.tzinfo is None and tz_name:
        try:
            value = value.replace(tzinfo=ZoneInfo(tz_name))
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise QueryError(f"timezone {tz_name!r} is not an IANA time zone",
                             field="timezone") from err
    return value
