"""Service calendars: which GTFS services run on which dates (calendar + calendar_dates)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .network import Timetable

if TYPE_CHECKING:  # pandas is imported where a calendar is built: the query side does not need it
    import pandas as pd

#: The GTFS calendar.txt day columns, Monday first (``datetime.date.weekday`` order).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

__all__ = ["ServiceCalendar", "build_service_calendar", "services_active_on", "trips_active_on"]


@dataclass(frozen=True, eq=False)
class ServiceCalendar:
    """Services of several feeds (ids already feed-prefixed) over one common date range.

    ``active[v, d]`` says whether service ``v`` runs on ``first_date + d`` days.
    """

    service_id: np.ndarray  # str (v,), sorted
    first_date: dt.date
    active: np.ndarray      # bool (v, days)

    @property
    def last_date(self) -> dt.date:
        return self.first_date + dt.timedelta(days=max(self.active.shape[1] - 1, 0))


def build_service_calendar(calendars: Sequence[pd.DataFrame],
                           calendar_dates: Sequence[pd.DataFrame]) -> ServiceCalendar:
    """Build the ``service_active`` matrix over every date from the earliest to the latest date.

    ``calendars`` and ``calendar_dates`` are the feeds' typed tables (see ``graphs.gtfs``) with
    feed-prefixed ``service_id``. A service runs on a date if the date lies in its
    ``start_date..end_date`` and its weekday is set, or calendar_dates adds it (type 1), and
    calendar_dates does not remove it (type 2).
    """
    import pandas as pd

    calendar = pd.concat(list(calendars), ignore_index=True)
    dates = pd.concat(list(calendar_dates), ignore_index=True)
    service_id = np.array(sorted(set(calendar["service_id"]) | set(dates["service_id"])),
                          dtype=object).astype(str)
    all_dates = np.concatenate([calendar["start_date"].to_numpy("datetime64[D]"),
                                calendar["end_date"].to_numpy("datetime64[D]"),
                                dates["date"].to_numpy("datetime64[D]")])
    if len(all_dates) == 0:
        return ServiceCalendar(service_id, dt.date(1970, 1, 1),
                               np.zeros((len(service_id), 0), dtype=bool))
    first, last = all_dates.min(), all_dates.max()
    n_days = int((last - first).astype(int)) + 1
    active = np.zeros((len(service_id), n_days), dtype=bool)
    day = np.arange(n_days)
    weekday = (day + _weekday(first)) % 7  # 0 = Monday
    if len(calendar):
        rows = np.searchsorted(service_id, calendar["service_id"].to_numpy(str))
        start = (calendar["start_date"].to_numpy("datetime64[D]") - first).astype(int)
        end = (calendar["end_date"].to_numpy("datetime64[D]") - first).astype(int)
        pattern = calendar[list(WEEKDAYS)].to_numpy(bool)          # (c, 7)
        runs = ((day >= start[:, None]) & (day <= end[:, None])
                & pattern[:, weekday])                              # (c, days)
        np.logical_or.at(active, rows, runs)
    if len(dates):
        rows = np.searchsorted(service_id, dates["service_id"].to_numpy(str))
        offsets = (dates["date"].to_numpy("datetime64[D]") - first).astype(int)
        kind = dates["exception_type"].to_numpy()
        active[rows[kind == 1], offsets[kind == 1]] = True
        active[rows[kind == 2], offsets[kind == 2]] = False
    return ServiceCalendar(service_id, _to_date(first), active)


def services_active_on(timetable: Timetable, date: dt.date) -> np.ndarray:
    """Boolean mask over ``timetable.service_id``: services running on ``date`` (local date).

    Dates outside the timetable's range have no active service.
    """
    offset = (date - dt.date.fromisoformat(timetable.service_first_date)).days
    if not 0 <= offset < timetable.service_active.shape[1]:
        return np.zeros(timetable.service_active.shape[0], dtype=bool)
    return timetable.service_active[:, offset].copy()


def trips_active_on(timetable: Timetable, date: dt.date) -> np.ndarray:
    """Boolean mask over the timetable's trips: trips whose service runs on ``date``."""
    return services_active_on(timetable, date)[timetable.trip_service]


def _weekday(day: np.datetime64) -> int:
    return _to_date(day).weekday()


def _to_date(day: np.datetime64) -> dt.date:
    return dt.date.fromisoformat(str(day.astype("datetime64[D]")))
