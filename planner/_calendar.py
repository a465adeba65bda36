"""Service days: which trips run on a date, and where a service day's clock starts."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

import numpy as np

from graphs.calendar import trips_active_on
from graphs.network import Timetable

__all__ = ["day_zero_utc", "trips_active", "service_date_range", "seconds_of_day", "at_seconds"]


@lru_cache(maxsize=64)  # a few dates per process; every ride leg asks twice (5 us -> 1 us)
def day_zero_utc(service_date: date, tz: tzinfo) -> datetime:
    """The instant GTFS times of ``service_date`` count from: local noon minus 12 h, in UTC."""
    noon = datetime.combine(service_date, time(12), tzinfo=tz)
    return noon.astimezone(UTC) - timedelta(hours=12)


def seconds_of_day(when: datetime, service_date: date, tz: tzinfo) -> int:
    """``when`` as GTFS seconds of ``service_date`` (may be negative or pass 86 400)."""
    return int(round((when - day_zero_utc(service_date, tz)).total_seconds()))


def at_seconds(service_date: date, seconds: int, tz: tzinfo) -> datetime:
    """The local, timezone-aware instant of GTFS time ``seconds`` on ``service_date``."""
    return (day_zero_utc(service_date, tz) + timedelta(seconds=int(seconds))).astimezone(tz)


def service_date_range(timetable: Timetable) -> tuple[date, date]:
    """First and last date of the feeds' calendars (a date inside may still have no service)."""
    first = date.fromisoformat(str(timetable.service_first_date))
    return first, first + timedelta(days=int(timetable.service_active.shape[1]) - 1)


def trips_active(timetable: Timetable, service_date: date) -> np.ndarray:
    """Boolean mask over trips running on ``service_date`` (the build layer owns the rules)."""
    return trips_active_on(timetable, service_date)
