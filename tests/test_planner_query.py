"""make_query takes typed values, validates every option and names the field and its range;
the shared edge parsers (points, times, the service-date rule) behave the same for every caller."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from planner import OutsideCoverageError, QueryError, make_query
from planner.query import (RANGES, check_service_date, localize, parse_point, parse_when,
                           select_modes)

O, D = (-30.03, -51.22), (-30.06, -51.17)
WHEN = datetime(2019, 5, 13, 12, 30)


def test_defaults_and_parsing():
    q = make_query(origin=O, destination=D, when=WHEN)
    assert (q.destination_lat, q.destination_lon) == (-30.06, -51.17)
    assert q.when == datetime(2019, 5, 13, 12, 30) and q.when.tzinfo is None
    assert q.modes == {"walk", "bike", "transit"} and q.transit_modes is None
    assert q.charged_at_public_pile is False


def test_timezone_applies_to_naive_times_only():
    q = make_query(origin=O, destination=D, when=WHEN,
                   timezone="America/Sao_Paulo")
    assert q.when.utcoffset() == timedelta(hours=-3)
    q = make_query(origin=O, destination=D,
                   when=datetime(2019, 5, 13, 12, 30, tzinfo=ZoneInfo("UTC")),
                   timezone="America/Sao_Paulo")
    assert q.when.utcoffset() == timedelta(0)


def test_single_transit_modes_narrow_transit():
    q = make_query(origin=O, destination=D, when=WHEN, modes={"walk", "bus"})
    assert q.modes == {"walk", "transit"} and q.transit_modes == {"bus"}
    q = make_query(origin=O, destination=D, when=WHEN, modes=["transit"],
                   transit_modes=("rail", "bus"))
    assert q.transit_modes == {"rail", "bus"}


@pytest.mark.parametrize("kw, field", [
    ({"origin": (91, 0)}, "origin"),
    ({"origin": "abc"}, "origin"),
    ({"destination": (0, 181)}, "destination"),
    ({"destination": (float("nan"), 0)}, "destination"),
    ({"origin": "-30.03,-51.22"}, "origin"),
    ({"when": "2019-05-13T12:30"}, "when"),
    ({"when": datetime(9999, 12, 31, 23, 59, 59)}, "when"),
    ({"when": datetime(1, 1, 1)}, "when"),
    ({"modes": {"walk", "hovercraft"}}, "modes"),
    ({"modes": "walk"}, "modes"),
    ({"modes": ()}, "modes"),
    ({"modes": {"bicycle"}}, "modes"),
    ({"transit_modes": {"bus", "spaceship"}}, "transit_modes"),
    ({"max_transfers": 2.5}, "max_transfers"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"charged_at_public_pile": "yes"}, "charged_at_public_pile"),
])
def test_bad_options_name_their_field(kw, field):
    options = dict(origin=O, destination=D, when=WHEN)
    options.update(kw)
    with pytest.raises(QueryError) as err:
        make_query(**options)
    assert err.value.field == field
    assert field in str(err.value) or "mode" in str(err.value) or "LAT,LON" in str(err.value)


@pytest.mark.parametrize("name", sorted(RANGES))
def test_numeric_ranges_are_enforced_with_the_range_in_the_message(name):
    low, high = RANGES[name]
    options = dict(origin=O, destination=D, when=WHEN)
    make_query(**options, **{name: low})
    make_query(**options, **{name: high})
    with pytest.raises(QueryError, match=rf"{name} must be in \[{low:g}, {high:g}\]") as err:
        make_query(**options, **{name: high + 1})
    assert err.value.field == name
    with pytest.raises(QueryError):
        make_query(**options, **{name: "lots"})


def test_parse_point_reads_text_and_mappings_once_for_every_interface():
    assert parse_point(" -30.06 , -51.17 ", field="from") == (-30.06, -51.17)
    assert parse_point({"lat": "-30.06", "lon": -51.17}, field="from") == (-30.06, -51.17)
    for bad in ("abc", "1,2,3", "nan,0", "0x1,2", "true,1", "91,0", "", "1e999,0"):
        with pytest.raises(QueryError) as err:
            parse_point(bad, field="from")
        assert err.value.field == "from"


def test_parse_when_and_localize_share_one_rule():
    tz = ZoneInfo("America/Sao_Paulo")
    naive = parse_when("2019-05-13T12:30", tz)
    assert naive == datetime(2019, 5, 13, 12, 30, tzinfo=tz)
    aware = parse_when("2019-05-13T12:30+00:00", tz)
    assert aware.tzinfo is tz and aware.hour == 9
    assert localize(datetime(2019, 5, 13, 12, 30), tz) == naive
    for text in ("9999-12-31T23:59:59", "0001-01-01", "9999-12-31T23:59:59+14:00", "13/05/2019"):
        with pytest.raises(QueryError) as err:
            parse_when(text, tz, field="at")
        assert err.value.field == "at"


def test_select_modes():
    assert select_modes({"walk", "bus"}) == ({"walk", "transit"}, {"bus"})
    assert select_modes({"transit", "bus"}) == ({"transit"}, set())
    assert select_modes({"bike"}) == ({"bike"}, set())


def test_service_date_rule_applies_exactly_when_transit_may_be_used():
    first, last = date(2019, 5, 1), date(2019, 5, 31)
    late = datetime(2020, 1, 1, 8)
    check_service_date(late, {"walk", "bike"}, None, first, last)        # no transit: fine
    check_service_date(datetime(2019, 5, 2), {"transit"}, None, first, last)
    check_service_date(late, {"transit"}, None, None, None)               # no timetable
    for modes, transit in (({"walk", "transit"}, None), ({"walk", "bus"}, None),
                           ({"walk"}, {"bus"})):
        with pytest.raises(OutsideCoverageError, match="2019-05-01..2019-05-31") as err:
            check_service_date(late, modes, transit, first, last)
        assert err.value.field == "when"
