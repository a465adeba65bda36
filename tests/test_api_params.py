"""api.params: query strings and JSON bodies into planner options, errors naming the field."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from api.coverage import Coverage
from api.errors import ApiError
from api.i18n import message
from api.params import PLAN_PARAMETERS, parse_bool, parse_language, parse_plan_params, parse_points_legs
from planner.query import RANGES

TZ = ZoneInfo("America/Sao_Paulo")
COVERAGE = Coverage(bbox=(-51.25, -30.06, -51.19, -30.01), first_service_date=date(2019, 5, 1),
                    last_service_date=date(2019, 5, 31), feeds=("eptc",),
                    modes=("walk", "bus"), timezone="America/Sao_Paulo")
BASE = {"from": "-30.0277,-51.2287", "to": "-30.0346,-51.2077", "at": "2019-05-06T08:00:00"}


def parse(**changes):
    source = {k: v for k, v in {**BASE, **changes}.items() if v is not None}
    return parse_plan_params(source, coverage=COVERAGE, tz=TZ)


def error_of(**changes) -> ApiError:
    with pytest.raises(ApiError) as info:
        parse(**changes)
    return info.value


def test_valid_query_string_becomes_make_query_keywords():
    options = parse(arriveBy="true", modes="walk,bus", walkSpeed="1.1", maxTransfers="2",
                    budget="1800", lang="zh-CN")
    assert options["origin"] == (-30.0277, -51.2287)
    assert options["destination"] == (-30.0346, -51.2077)
    assert options["when"] == datetime(2019, 5, 6, 8, 0, tzinfo=TZ)
    assert options["arrive_by"] is True
    assert options["modes"] == frozenset({"walk", "bus"})
    assert options["walk_speed_mps"] == 1.1
    assert options["max_transfers"] == 2 and isinstance(options["max_transfers"], int)
    assert options["time_budget_s"] == 1800
    assert "lang" not in options and "bike_speed_mps" not in options


def test_json_values_and_point_objects_are_accepted():
    options = parse(**{"from": {"lat": -30.03, "lon": -51.23}, "arriveBy": False,
                       "modes": ["walk", "transit"], "walkSpeed": 1.5})
    assert options["origin"] == (-30.03, -51.23)
    assert options["arrive_by"] is False
    assert options["modes"] == frozenset({"walk", "transit"})


def test_offsets_are_converted_to_the_network_timezone():
    options = parse(at="2019-05-06T11:00:00Z")
    assert options["when"].utcoffset() == timedelta(hours=-3)
    assert options["when"].astimezone(timezone.utc).hour == 11


def test_missing_at_means_now_in_the_network_timezone():
    now = datetime(2019, 5, 10, 12, 0, tzinfo=timezone.utc)
    source = {k: v for k, v in BASE.items() if k != "at"}
    options = parse_plan_params(source, coverage=COVERAGE, tz=TZ, now=now)
    assert options["when"] == now and options["when"].tzinfo is TZ


@pytest.mark.parametrize("field, value, code", [
    ("from", None, "missing_parameter"),
    ("to", "", "missing_parameter"),
    ("from", "-30.0", "invalid_coordinates"),
    ("from", "91,-51", "invalid_coordinates"),
    ("to", "-30,-181", "invalid_coordinates"),
    ("from", "nan,nan", "invalid_coordinates"),
    ("from", "-30,inf", "invalid_coordinates"),
    ("from", "a,b", "invalid_coordinates"),
    ("from", "1,2,3", "invalid_coordinates"),
    ("from", {"lat": True, "lon": 1}, "invalid_coordinates"),
    ("at", "tomorrow", "invalid_datetime"),
    ("at", "2019-13-01T00:00", "invalid_datetime"),
    ("at", 20190506, "invalid_datetime"),
    ("at", "2020-01-01T08:00", "date_out_of_service"),
    ("arriveBy", "maybe", "invalid_boolean"),
    ("modes", "walk,teleport", "unknown_mode"),
    ("modes", "walk,,bus", "invalid_list"),
    ("modes", [1, 2], "invalid_list"),
    ("transitModes", "walk", "unknown_mode"),
    ("walkSpeed", "fast", "invalid_number"),
    ("walkSpeed", "1e9", "invalid_number"),
    ("walkSpeed", True, "invalid_number"),
    ("maxTransfers", "1.5", "invalid_integer"),
    ("maxTransfers", "-1", "invalid_integer"),
    ("budget", "59", "invalid_integer"),
    ("lang", "fr", "invalid_language"),
    ("form", "x", "unknown_parameter"),
])
def test_bad_values_name_their_field(field, value, code):
    err = error_of(**{field: value})
    assert err.code == code and err.status == 400
    assert err.field == field
    assert field in message(code, "en", err.params)


def test_range_errors_quote_the_allowed_range():
    err = error_of(walkSpeed="9")
    low, high = RANGES["walk_speed_mps"]
    text = message(err.code, "en", err.params)
    assert f"between {low:g} and {high:g} m/s" in text and "got 9" in text
    assert f"{low:g} 到 {high:g} m/s" in message(err.code, "zh", err.params)


def test_ranges_are_the_planners():
    for param in PLAN_PARAMETERS:
        if param.option in RANGES:
            # in the parameter's unit: window is in minutes, window_s in seconds
            scaled = (param.minimum * param.scale, param.maximum * param.scale)
            assert scaled == RANGES[param.option], param.name


def test_points_outside_the_bounding_box_are_422():
    err = error_of(to="-29.0,-51.2")
    assert (err.code, err.status, err.field) == ("outside_coverage", 422, "to")


def test_service_dates_do_not_bind_trips_without_transit():
    options = parse(at="2020-01-01T08:00", modes="walk,bike")
    assert options["when"].year == 2020
    assert error_of(at="2020-01-01T08:00", modes="walk,bus").code == "date_out_of_service"


def test_long_values_are_refused_and_not_echoed_whole():
    err = error_of(walkSpeed="1" * 10_000)
    assert err.code == "invalid_number"
    assert len(message(err.code, "en", err.params)) < 300


def test_underscore_parameters_are_ignored_as_cache_busters():
    assert parse(_="12345")["origin"] == (-30.0277, -51.2287)


def test_points_legs():
    body = {"legs": [{"mode": "bus", "distance_m": 5200}, {"mode": "walk", "distance_m": "300"}]}
    assert parse_points_legs(body) == [("bus", 5200.0), ("walk", 300.0)]
    for bad, field in (({"legs": []}, "legs"), ({"legs": "bus"}, "legs"),
                       ({"legs": [{"mode": "bus"}]}, "legs[0].distance_m"),
                       ({"legs": [{"mode": "rocket", "distance_m": 1}]}, "legs[0].mode"),
                       ({"legs": [{"mode": "bus", "distance_m": -1}]}, "legs[0].distance_m"),
                       ({"legs": [{"mode": "bus", "distance_m": 1, "x": 1}]}, "legs[0]")):
        with pytest.raises(ApiError) as info:
            parse_points_legs(bad)
        assert info.value.field == field and info.value.status == 400


def test_booleans_and_languages():
    assert parse_bool("YES", "x") is True and parse_bool("0", "x") is False
    assert parse_language("zh_Hans") == "zh" and parse_language("en-GB") == "en"
    with pytest.raises(ApiError):
        parse_language(["zh"])
