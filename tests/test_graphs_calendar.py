"""Service calendars: exact dates from calendar.txt and calendar_dates.txt."""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphs.calendar import services_active_on, trips_active_on
from graphs.timetable import compile_timetable


class FlatFactors:
    def g_per_pkm(self, key: str) -> float:
        return 10.0


@pytest.fixture(scope="module")
def tiny(fixtures_dir: Path):
    return compile_timetable([fixtures_dir / "gtfs_tiny"], factors=FlatFactors())


@pytest.fixture(scope="module")
def poa(sample_dir: Path):
    city = sample_dir / "porto-alegre"
    return compile_timetable([city / "poa_eptc.zip", city / "poa_trensurb.zip"],
                             factors=FlatFactors())


def active_services(timetable, date: dt.date) -> set[str]:
    return set(timetable.service_id[services_active_on(timetable, date)])


def test_tiny_calendar_exact(tiny) -> None:
    timetable, report = tiny
    assert report["service_dates"] == {"first": "2024-01-01", "last": "2024-02-10"}
    assert timetable.service_active.shape == (2, 41)
    assert active_services(timetable, dt.date(2024, 1, 1)) == {"gtfs_tiny:WK"}   # Monday
    assert active_services(timetable, dt.date(2024, 1, 2)) == set()              # WK removed
    assert active_services(timetable, dt.date(2024, 1, 3)) == {"gtfs_tiny:WK", "gtfs_tiny:WE"}
    assert active_services(timetable, dt.date(2024, 1, 6)) == {"gtfs_tiny:WE"}   # Saturday
    assert active_services(timetable, dt.date(2024, 2, 1)) == set()              # past end_date
    assert active_services(timetable, dt.date(2024, 2, 10)) == {"gtfs_tiny:WE"}  # added
    assert active_services(timetable, dt.date(2023, 12, 31)) == set()            # before range
    assert active_services(timetable, dt.date(2030, 1, 1)) == set()
    trips = trips_active_on(timetable, dt.date(2024, 1, 6))
    assert set(timetable.trip_id[trips]) == {f"gtfs_tiny:F1#{t}" for t in
                                             ("10:00:00", "10:20:00", "10:40:00", "25:00:00",
                                              "25:15:00")}


def independent_active(calendar: pd.DataFrame, dates: pd.DataFrame, day: dt.date) -> set[str]:
    """Straight from the GTFS reference, one service at a time."""
    key = day.strftime("%Y%m%d")
    weekday = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
               "sunday")[day.weekday()]
    active = set()
    for row in calendar.itertuples():
        if row.start_date <= key <= row.end_date and getattr(row, weekday) == "1":
            active.add(row.service_id)
    for row in dates.itertuples():
        if row.date == key:
            if row.exception_type == "1":
                active.add(row.service_id)
            else:
                active.discard(row.service_id)
    return active


def read_raw(path: Path, name: str) -> pd.DataFrame:
    with zipfile.ZipFile(path) as zf:
        if name not in zf.namelist():
            return pd.DataFrame(columns=["service_id", "date", "exception_type"])
        return pd.read_csv(zf.open(name), dtype=str, keep_default_na=False)


@pytest.mark.parametrize("day", [dt.date(2019, 5, 13), dt.date(2019, 4, 19),
                                 dt.date(2019, 5, 18), dt.date(2019, 7, 16)])
def test_eptc_trips_active_match_raw_calendar(poa, sample_dir: Path, day: dt.date) -> None:
    timetable, _ = poa
    path = sample_dir / "porto-alegre" / "poa_eptc.zip"
    services = independent_active(read_raw(path, "calendar.txt"),
                                  read_raw(path, "calendar_dates.txt"), day)
    trips = read_raw(path, "trips.txt")
    expected = set("poa_eptc:" + trips.loc[trips["service_id"].isin(services), "trip_id"])
    active = trips_active_on(timetable, day)
    got = {t for t in timetable.trip_id[active] if t.startswith("poa_eptc:")}
    assert got == expected
    if day == dt.date(2019, 5, 13):
        assert len(got) > 1000


def test_poa_date_range_spans_both_feeds(poa) -> None:
    timetable, report = poa
    assert report["service_dates"] == {"first": "2019-03-01", "last": "2019-12-31"}
    assert timetable.service_first_date == "2019-03-01"
    n_days = (dt.date(2019, 12, 31) - dt.date(2019, 3, 1)).days + 1
    assert timetable.service_active.shape[1] == n_days
    # Trensurb runs on a Sunday in March, before EPTC's calendar starts
    sunday = services_active_on(timetable, dt.date(2019, 3, 3))
    assert set(timetable.service_id[sunday]) == {"poa_trensurb:SU"}
    assert np.array_equal(trips_active_on(timetable, dt.date(2019, 3, 3)),
                          timetable.trip_service == np.flatnonzero(sunday)[0])
