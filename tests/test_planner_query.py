"""make_query validates every option and names the field and its allowed range."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from planner import QueryError, make_query
from planner.query import RANGES

O, D = (-30.03, -51.22), "-30.06,-51.17"


def test_defaults_and_parsing():
    q = make_query(origin=O, destination=D, when="2019-05-13T12:30")
    assert (q.destination_lat, q.destination_lon) == (-30.06, -51.17)
    assert q.when == datetime(2019, 5, 13, 12, 30) and q.when.tzinfo is None
    assert q.modes == {"walk", "bike", "transit"} and q.transit_modes is None
    assert q.charged_at_public_pile is False


def test_timezone_applies_to_naive_times_only():
    q = make_query(origin=O, destination=D, when="2019-05-13T12:30",
                   timezone="America/Sao_Paulo")
    assert q.when.utcoffset() == timedelta(hours=-3)
    q = make_query(origin=O, destination=D, when="2019-05-13T12:30+00:00",
                   timezone="America/Sao_Paulo")
    assert q.when.utcoffset() == timedelta(0)


def test_single_transit_modes_narrow_transit():
    q = make_query(origin=O, destination=D, when="2019-05-13T12:30", modes="walk,bus")
    assert q.modes == {"walk", "transit"} and q.transit_modes == {"bus"}
    q = make_query(origin=O, destination=D, when="2019-05-13T12:30", modes=["transit"],
                   transit_modes="rail,bus")
    assert q.transit_modes == {"rail", "bus"}


@pytest.mark.parametrize("kw, field", [
    ({"origin": (91, 0)}, "origin"),
    ({"origin": "abc"}, "origin"),
    ({"destination": (0, 181)}, "destination"),
    ({"destination": (float("nan"), 0)}, "destination"),
    ({"when": "13/05/2019"}, "when"),
    ({"modes": "walk,hovercraft"}, "modes"),
    ({"modes": ""}, "modes"),
    ({"transit_modes": "bus,spaceship"}, "transit_modes"),
    ({"max_transfers": 2.5}, "max_transfers"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"charged_at_public_pile": "yes"}, "charged_at_public_pile"),
])
def test_bad_options_name_their_field(kw, field):
    options = dict(origin=O, destination=D, when="2019-05-13T12:30")
    options.update(kw)
    with pytest.raises(QueryError) as err:
        make_query(**options)
    assert err.value.field == field
    assert field in str(err.value) or "mode" in str(err.value) or "LAT,LON" in str(err.value)


@pytest.mark.parametrize("name", sorted(RANGES))
def test_numeric_ranges_are_enforced_with_the_range_in_the_message(name):
    low, high = RANGES[name]
    options = dict(origin=O, destination=D, when="2019-05-13T12:30")
    make_query(**options, **{name: low})
    make_query(**options, **{name: high})
    with pytest.raises(QueryError, match=rf"{name} must be in \[{low:g}, {high:g}\]") as err:
        make_query(**options, **{name: high + 1})
    assert err.value.field == name
    with pytest.raises(QueryError):
        make_query(**options, **{name: "lots"})
