"""Access rules over tag dicts: which layer may use a way and in which directions."""
from __future__ import annotations

import pytest

from graphs.access import (BACKWARD, BOTH, FORWARD, NEITHER, bike_directions, car_directions,
                           is_allowed, is_bikeable, is_drivable, is_walkable, travel_directions)

# (tags, walk, bike, car)
ACCESS_CASES = [
    ({"highway": "footway"}, True, False, False),
    ({"highway": "footway", "bicycle": "yes"}, True, True, False),
    ({"highway": "footway", "bicycle": "designated"}, True, True, False),
    ({"highway": "path"}, True, True, False),
    ({"highway": "path", "bicycle": "no"}, True, False, False),
    ({"highway": "pedestrian"}, True, False, False),
    ({"highway": "steps"}, True, False, False),
    ({"highway": "living_street"}, True, True, True),
    ({"highway": "residential"}, True, True, True),
    ({"highway": "service"}, True, True, True),
    ({"highway": "service", "service": "emergency_access"}, True, True, False),
    ({"highway": "track"}, True, True, False),
    ({"highway": "track", "motor_vehicle": "yes"}, True, True, True),
    ({"highway": "cycleway"}, False, True, False),
    ({"highway": "footway", "motor_vehicle": "yes", "bicycle": "yes"}, True, True, False),
    ({"highway": "pedestrian", "motorcar": "yes"}, True, False, False),
    ({"highway": "steps", "bicycle": "yes"}, True, True, False),
    ({"highway": "motorway", "foot": "yes", "bicycle": "yes"}, True, True, True),
    ({"highway": "unknown_value", "foot": "yes"}, False, False, False),
    ({"highway": "cycleway", "foot": "designated"}, True, True, False),
    ({"highway": "motorway"}, False, False, True),
    ({"highway": "motorway_link"}, False, False, True),
    ({"highway": "trunk"}, False, True, True),
    ({"highway": "trunk_link"}, False, True, True),
    ({"highway": "trunk", "sidewalk": "both"}, True, True, True),
    ({"highway": "trunk", "sidewalk:right": "yes"}, True, True, True),
    ({"highway": "trunk", "sidewalk": "separate"}, False, True, True),
    ({"highway": "trunk", "foot": "yes"}, True, True, True),
    ({"highway": "trunk", "bicycle": "no"}, False, False, True),
    ({"highway": "primary", "foot": "no"}, False, True, True),
    ({"highway": "primary", "foot": "use_sidepath", "bicycle": "use_sidepath"}, False, False, True),
    ({"highway": "residential", "access": "no"}, False, False, False),
    ({"highway": "residential", "access": "private"}, False, False, False),
    ({"highway": "residential", "access": "private", "foot": "yes"}, True, False, False),
    ({"highway": "residential", "access": "no", "bicycle": "permissive"}, False, True, False),
    ({"highway": "residential", "access": "no", "motor_vehicle": "destination"}, False, False, True),
    ({"highway": "residential", "access": "destination"}, True, True, True),
    ({"highway": "residential", "motor_vehicle": "no"}, True, True, False),
    ({"highway": "residential", "vehicle": "no"}, True, False, False),
    ({"highway": "residential", "vehicle": "no", "bicycle": "yes"}, True, True, False),
    ({"highway": "residential", "motor_vehicle": "no", "motorcar": "yes"}, True, True, True),
    ({"highway": "residential", "access": "agricultural"}, False, False, False),
    ({"highway": "residential", "access": "yes;no"}, True, True, True),  # first value counts
    ({"highway": "Residential", "ACCESS": "no"}, True, True, True),    # keys are case-sensitive
    ({"highway": "pedestrian", "area": "yes"}, False, False, False),
    ({"highway": "construction", "construction": "residential"}, False, False, False),
    ({"highway": "proposed"}, False, False, False),
    ({"highway": "raceway"}, False, False, False),
    ({"highway": "busway"}, False, False, False),
    ({"highway": "platform"}, True, False, False),
    ({"highway": "corridor"}, True, False, False),
    ({"highway": "bridleway"}, True, False, False),
    ({"building": "yes"}, False, False, False),
    ({}, False, False, False),
]


@pytest.mark.parametrize(("tags", "walk", "bike", "car"), ACCESS_CASES)
def test_layer_access(tags: dict[str, str], walk: bool, bike: bool, car: bool) -> None:
    assert (is_walkable(tags), is_bikeable(tags), is_drivable(tags)) == (walk, bike, car)
    for layer, expected in (("walk", walk), ("bike", bike), ("car", car)):
        assert is_allowed(tags, layer) is expected
        assert (travel_directions(tags, layer) != NEITHER) is expected


def test_unknown_layer_is_refused() -> None:
    with pytest.raises(KeyError):
        is_allowed({"highway": "residential"}, "boat")


@pytest.mark.parametrize(("tags", "expected"), [
    ({"highway": "residential"}, BOTH),
    ({"highway": "residential", "oneway": "yes"}, FORWARD),
    ({"highway": "residential", "oneway": "true"}, FORWARD),
    ({"highway": "residential", "oneway": "1"}, FORWARD),
    ({"highway": "residential", "oneway": "-1"}, BACKWARD),
    ({"highway": "residential", "oneway": "reverse"}, BACKWARD),
    ({"highway": "residential", "oneway": "no"}, BOTH),
    ({"highway": "residential", "oneway": "reversible"}, NEITHER),
    ({"highway": "residential", "oneway": "alternating"}, NEITHER),
    ({"highway": "primary", "junction": "roundabout"}, FORWARD),
    ({"highway": "primary", "junction": "circular"}, FORWARD),
    ({"highway": "primary", "junction": "roundabout", "oneway": "no"}, BOTH),
    ({"highway": "motorway"}, FORWARD),
    ({"highway": "motorway_link"}, FORWARD),
    ({"highway": "motorway", "oneway": "no"}, BOTH),
    ({"highway": "trunk"}, BOTH),
    ({"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}, FORWARD),
])
def test_car_directions(tags: dict[str, str], expected: tuple[bool, bool]) -> None:
    assert car_directions(tags) == expected
    assert travel_directions(tags, "car") == expected


@pytest.mark.parametrize(("tags", "expected"), [
    ({"highway": "residential", "oneway": "yes"}, FORWARD),
    ({"highway": "residential", "oneway": "-1"}, BACKWARD),
    ({"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}, BOTH),
    ({"highway": "residential", "oneway:bicycle": "yes"}, FORWARD),
    ({"highway": "residential", "oneway": "yes", "cycleway": "opposite"}, BOTH),
    ({"highway": "residential", "oneway": "yes", "cycleway": "opposite_lane"}, BOTH),
    ({"highway": "residential", "oneway": "yes", "cycleway:left": "opposite_track"}, BOTH),
    ({"highway": "residential", "oneway": "yes", "cycleway:left": "lane",
      "cycleway:left:oneway": "-1"}, BOTH),
    ({"highway": "residential", "oneway": "yes", "cycleway:right": "lane"}, FORWARD),
    ({"highway": "primary", "junction": "roundabout"}, FORWARD),
    ({"highway": "cycleway", "oneway": "yes"}, FORWARD),
    ({"highway": "cycleway"}, BOTH),
])
def test_bike_directions(tags: dict[str, str], expected: tuple[bool, bool]) -> None:
    assert bike_directions(tags) == expected
    assert travel_directions(tags, "bike") == expected


@pytest.mark.parametrize("tags", [
    {"highway": "residential", "oneway": "yes"},
    {"highway": "residential", "oneway": "-1"},
    {"highway": "primary", "junction": "roundabout"},
    {"highway": "footway", "oneway": "yes"},
])
def test_walking_ignores_oneway(tags: dict[str, str]) -> None:
    assert travel_directions(tags, "walk") == BOTH


def test_directions_of_a_forbidden_way_are_neither() -> None:
    tags = {"highway": "footway", "oneway": "yes"}
    assert travel_directions(tags, "car") == NEITHER
    assert travel_directions({"highway": "motorway"}, "walk") == NEITHER
