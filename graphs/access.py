"""Access rules: which street layer may use an OSM way, and in which directions.

Pure functions over a way's tag dict, so every rule is unit-testable without a file. The
access hierarchy is OSM's: a more specific key overrides a general one
(``access`` < ``vehicle`` < ``bicycle``; ``access`` < ``vehicle`` < ``motor_vehicle`` <
``motorcar``; ``access`` < ``foot``). See https://wiki.openstreetmap.org/wiki/Key:access.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

__all__ = [
    "Directions", "BOTH", "FORWARD", "BACKWARD", "NEITHER",
    "is_allowed", "is_walkable", "is_bikeable", "is_drivable",
    "car_directions", "bike_directions", "travel_directions", "ACCESS_TAG_KEYS",
]

Tags = Mapping[str, str]


class Directions(NamedTuple):
    """Whether a layer may travel a way along (``forward``) and against its node order."""

    forward: bool
    backward: bool


BOTH = Directions(True, True)
FORWARD = Directions(True, False)
BACKWARD = Directions(False, True)
NEITHER = Directions(False, False)

#: Highway values no layer uses: not built, not a public road, or not a way one travels.
EXCLUDED_HIGHWAYS = frozenset({
    "construction", "proposed", "planned", "abandoned", "disused", "razed", "no", "raceway",
    "bus_guideway", "busway", "escape", "rest_area", "services", "bus_stop", "elevator",
})
#: Highway values each layer uses unless a tag forbids it.
DEFAULT_HIGHWAYS = {
    "walk": frozenset({
        "footway", "path", "pedestrian", "steps", "living_street", "residential", "service",
        "track", "unclassified", "road", "tertiary", "tertiary_link", "secondary",
        "secondary_link", "primary", "primary_link", "bridleway", "corridor", "platform",
    }),
    "bike": frozenset({
        "cycleway", "path", "living_street", "residential", "service", "track", "unclassified",
        "road", "tertiary", "tertiary_link", "secondary", "secondary_link", "primary",
        "primary_link", "trunk", "trunk_link",
    }),
    "car": frozenset({
        "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
        "secondary", "secondary_link", "tertiary", "tertiary_link", "unclassified",
        "residential", "living_street", "service", "road",
    }),
}
#: Highway values a layer uses only with an explicit grant (``bicycle=yes`` on a footway, ...);
#: cars never use footways, whatever their tags (OSRM's car profile does the same).
GRANTABLE_HIGHWAYS = {
    "walk": frozenset({"motorway", "motorway_link", "trunk", "trunk_link", "cycleway"}),
    "bike": frozenset({"footway", "pedestrian", "steps", "bridleway", "corridor", "platform",
                       "motorway", "motorway_link"}),
    "car": frozenset({"track"}),
}
#: Walkable trunk roads: only with a sidewalk (or an explicit ``foot=yes``).
SIDEWALK_HIGHWAYS = frozenset({"trunk", "trunk_link"})
SIDEWALK_VALUES = frozenset({"yes", "both", "left", "right"})
#: Access keys from general to specific, per layer.
ACCESS_KEYS = {
    "walk": ("access", "foot"),
    "bike": ("access", "vehicle", "bicycle"),
    "car": ("access", "vehicle", "motor_vehicle", "motorcar"),
}
DENY_VALUES = frozenset({"no", "private", "agricultural", "forestry", "military", "emergency",
                         "delivery", "use_sidepath"})
GRANT_VALUES = frozenset({"yes", "designated", "permissive", "destination", "customers",
                          "official"})
IMPLIED_ONEWAY_HIGHWAYS = frozenset({"motorway", "motorway_link"})
ROUNDABOUT_JUNCTIONS = frozenset({"roundabout", "circular"})
_ONEWAY_VALUES = {
    "yes": FORWARD, "true": FORWARD, "1": FORWARD, "-1": BACKWARD, "reverse": BACKWARD,
    "no": BOTH, "false": BOTH, "0": BOTH, "reversible": NEITHER, "alternating": NEITHER,
}
_CONTRAFLOW_KEYS = ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both")
#: Every key the rules below read: ways that agree on these get the same answers, so a build
#: evaluates the rules once per distinct combination (a test checks this on real extracts).
ACCESS_TAG_KEYS = frozenset(
    {"highway", "area", "service", "oneway", "oneway:bicycle", "junction", "sidewalk",
     "sidewalk:left", "sidewalk:right", "sidewalk:both"}
    | {key for keys in ACCESS_KEYS.values() for key in keys}
    | set(_CONTRAFLOW_KEYS) | {f"{key}:oneway" for key in _CONTRAFLOW_KEYS})


def _value(tags: Tags, key: str) -> str | None:
    """A tag's first value (``"yes;no"`` -> ``"yes"``), lower-cased, or None."""
    raw = tags.get(key)
    return None if raw is None else raw.split(";")[0].strip().lower()


def _most_specific_access(tags: Tags, layer: str) -> str | None:
    for key in reversed(ACCESS_KEYS[layer]):
        value = _value(tags, key)
        if value is not None:
            return value
    return None


def _is_granted(tags: Tags, layer: str) -> bool:
    """An explicit mode-specific grant (``foot=yes``, ``bicycle=designated``, ...)."""
    keys = ACCESS_KEYS[layer][1:]  # ``access=yes`` alone does not open a footway to bikes
    return any(_value(tags, key) in GRANT_VALUES for key in keys)


def _has_sidewalk(tags: Tags) -> bool:
    if _value(tags, "sidewalk") in SIDEWALK_VALUES:
        return True
    return any(_value(tags, f"sidewalk:{side}") == "yes" for side in ("left", "right", "both"))


def is_allowed(tags: Tags, layer: str) -> bool:
    """Whether ``layer`` (``walk``, ``bike`` or ``car``) may use the way at all.

    Raises
    ------
    KeyError
        If ``layer`` is not a street layer.
    """
    highway = _value(tags, "highway")
    defaults = DEFAULT_HIGHWAYS[layer]
    if highway is None or highway in EXCLUDED_HIGHWAYS or _value(tags, "area") == "yes":
        return False
    if _most_specific_access(tags, layer) in DENY_VALUES:
        return False
    if layer == "car" and _value(tags, "service") == "emergency_access":
        return False
    if highway in defaults:
        return True
    if layer == "walk" and highway in SIDEWALK_HIGHWAYS and _has_sidewalk(tags):
        return True
    return highway in GRANTABLE_HIGHWAYS[layer] and _is_granted(tags, layer)


def is_walkable(tags: Tags) -> bool:
    """Whether pedestrians may use the way (footways, paths, steps, most roads)."""
    return is_allowed(tags, "walk")


def is_bikeable(tags: Tags) -> bool:
    """Whether cyclists may ride the way (cycleways, roads, ``bicycle=yes`` footways)."""
    return is_allowed(tags, "bike")


def is_drivable(tags: Tags) -> bool:
    """Whether private cars may use the way."""
    return is_allowed(tags, "car")


def car_directions(tags: Tags) -> Directions:
    """Car directions from ``oneway``; roundabouts and motorways are one-way by default."""
    explicit = _ONEWAY_VALUES.get(_value(tags, "oneway") or "")
    if explicit is not None:
        return explicit
    if (_value(tags, "junction") in ROUNDABOUT_JUNCTIONS
            or _value(tags, "highway") in IMPLIED_ONEWAY_HIGHWAYS):
        return FORWARD
    return BOTH


def bike_directions(tags: Tags) -> Directions:
    """Bike directions: ``oneway:bicycle`` first, then contraflow cycleways, then car rules."""
    explicit = _ONEWAY_VALUES.get(_value(tags, "oneway:bicycle") or "")
    if explicit is not None:
        return explicit
    for key in _CONTRAFLOW_KEYS:
        if (_value(tags, key) or "").startswith("opposite"):
            return BOTH
        if _value(tags, f"{key}:oneway") in ("-1", "no"):
            return BOTH
    return car_directions(tags)


def travel_directions(tags: Tags, layer: str) -> Directions:
    """Directions ``layer`` may travel the way in; :data:`NEITHER` if it may not use it.

    Walking ignores ``oneway``.
    """
    if not is_allowed(tags, layer):
        return NEITHER
    if layer == "walk":
        return BOTH
    return car_directions(tags) if layer == "car" else bike_directions(tags)
