"""Travel modes: the one vocabulary of tanlu.

Which modes exist, their street layer, labels, colours and GTFS route types; the ``transit``
keyword; and the one parser that turns what people write (``bicycle``, ``骑行``, ``walk+bus``)
into canonical names. Answers always use the canonical names.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .errors import ModeError

__all__ = [
    "Mode",
    "MODES",
    "STREET_LAYERS",
    "STREET_MODES",
    "TRANSIT_MODES",
    "CAR_MODES",
    "TRANSIT",
    "TRANSIT_SYNONYMS",
    "ALL_MODE_NAMES",
    "ModeError",
    "synonyms",
    "parse_mode",
    "parse_modes",
    "ACCESS_MODES",
    "parse_trip_modes",
    "route_type_to_mode",
]

#: Street layers built from OSM; every street mode travels on exactly one of them.
STREET_LAYERS = ("walk", "bike", "car")


@dataclass(frozen=True)
class Mode:
    """A way of travelling, with the street layer it uses (None for transit)."""

    name: str
    layer: str | None
    label_en: str
    label_zh: str
    color: str  # CSS colour used on maps, one per mode so legs are told apart
    #: Other words people use for it (English and Chinese). The canonical name and
    #: ``label_zh`` are accepted anyway; a word may name one mode only.
    synonyms: tuple[str, ...] = ()


MODES: dict[str, Mode] = {m.name: m for m in (
    Mode("walk", "walk", "Walk", "步行", "#4a4a4a",
         ("foot", "walking", "on foot", "走路")),
    Mode("bike", "bike", "Bike", "自行车", "#2e9e44",
         ("bicycle", "cycling", "cycle", "骑行", "单车")),
    Mode("ebike", "bike", "E-bike", "电动自行车", "#57b85b",
         ("e-bike", "electric bike", "电动车", "电单车")),
    Mode("bikeshare", "bike", "Shared bike", "共享单车", "#9acd32",
         ("shared bike", "bike share", "bike sharing", "共享自行车")),
    Mode("car_petrol", "car", "Car (petrol)", "汽油车", "#c0392b",
         ("car", "driving", "petrol car", "驾车", "私家车", "汽车")),
    Mode("car_diesel", "car", "Car (diesel)", "柴油车", "#a93226",
         ("diesel car",)),
    Mode("car_hybrid", "car", "Car (hybrid)", "混合动力车", "#d35400",
         ("hybrid car", "混动车")),
    Mode("car_bev", "car", "Car (battery-electric)", "纯电动车", "#1f77b4",
         ("electric car", "ev", "新能源车", "电动汽车")),
    Mode("taxi", "car", "Taxi", "出租车", "#f1c40f",
         ("cab", "ride hailing", "网约车", "的士")),
    Mode("bus", None, "Bus", "公交", "#e67e22",
         ("公交车", "巴士")),
    Mode("tram", None, "Tram", "有轨电车", "#8e44ad",
         ("streetcar",)),
    Mode("metro", None, "Metro", "地铁", "#2980b9",
         ("subway", "underground", "轨道交通")),
    Mode("rail", None, "Suburban rail", "市郊铁路", "#16a085",
         ("train", "suburban rail", "火车")),
    Mode("ferry", None, "Ferry", "轮渡", "#00a8cc",
         ("boat",)),
    Mode("cable", None, "Cable car / funicular", "索道", "#7f8c8d",
         ("cable car", "funicular", "缆车")),
)}

TRANSIT_MODES = tuple(name for name, m in MODES.items() if m.layer is None)
CAR_MODES = tuple(name for name, m in MODES.items() if m.layer == "car")
STREET_MODES = tuple(name for name, m in MODES.items() if m.layer is not None)
#: The keyword naming every transit mode at once (as in the planner's ``modes``).
TRANSIT = "transit"
TRANSIT_SYNONYMS = ("public transport", "公共交通")
#: Every name a mode list may hold after parsing: street modes, ``transit``, transit modes.
ALL_MODE_NAMES = (*STREET_MODES, TRANSIT, *TRANSIT_MODES)
#: Characters separating the names of a list: ``walk,bus``, ``walk+bus`` (audit claims),
#: ``步行、公交``.
_SEPARATORS = re.compile(r"[,+、]")

#: Street modes that may be written ``X+transit`` (access to transit by X): the own bike
#: (``planner.access``), a shared bike (``planner.bikeshare``: also from transit to the
#: destination), a car by fuel parked near a station, an EV left at a charging pile and a taxi
#: dropping the traveller at the station (``planner.park_ride``).
ACCESS_MODES = ("bike", "bikeshare", *CAR_MODES)
_ENTRY_SEPARATORS = re.compile(r"[,、]")

# GTFS basic route types (0-12) and the extended ("Hierarchical Vehicle Type") ranges.
_BASIC_ROUTE_TYPES = {
    0: "tram", 1: "metro", 2: "rail", 3: "bus", 4: "ferry", 5: "cable", 6: "cable",
    7: "cable", 11: "bus", 12: "metro",
}
_EXTENDED_RANGES = (  # (first, last, mode)
    (100, 199, "rail"),     # railway service
    (200, 299, "bus"),      # coach service
    (300, 399, "rail"),     # suburban railway (legacy HVT code)
    (400, 499, "metro"),    # urban railway / metro / underground / monorail
    (500, 599, "metro"),
    (600, 699, "metro"),
    (700, 799, "bus"),      # bus service
    (800, 899, "bus"),      # trolleybus
    (900, 999, "tram"),
    (1000, 1099, "ferry"),  # water transport
    (1200, 1299, "ferry"),  # ferry service
    (1300, 1399, "cable"),  # aerial lift
    (1400, 1499, "cable"),  # funicular
    (1500, 1599, "bus"),    # taxi services shared as demand-responsive transit
    (1700, 1799, "bus"),    # miscellaneous: treated as road transport
)


def route_type_to_mode(route_type: int) -> str:
    """Map a GTFS ``route_type`` (basic or extended) to a tanlu transit mode.

    Raises
    ------
    ValueError
        If the route type is neither a basic type nor in an extended range.
    """
    if route_type in _BASIC_ROUTE_TYPES:
        return _BASIC_ROUTE_TYPES[route_type]
    for first, last, mode in _EXTENDED_RANGES:
        if first <= route_type <= last:
            return mode
    raise ValueError(f"route_type {route_type} is not a GTFS route type (0-12 or 100-1799)")


def synonyms() -> dict[str, str]:
    """Every accepted word (normalised) -> its canonical name (or :data:`TRANSIT`)."""
    return dict(_synonym_table())


def parse_mode(token: str) -> str:
    """The canonical name of one mode word: case, width and spacing do not matter.

    ``"Bicycle"`` -> ``"bike"``, ``"公交车"`` -> ``"bus"``, ``"Public transport"`` -> ``"transit"``.

    Raises
    ------
    ModeError
        Naming the unknown word and listing the canonical names.
    """
    found = _synonym_table().get(_normalise(token)) if isinstance(token, str) else None
    if found is None:
        raise ModeError(token, ALL_MODE_NAMES)
    return found


def parse_modes(value: str | Iterable[str]) -> tuple[str, ...]:
    """Canonical names of a mode list, unique, in the order given.

    ``value`` is a string of names joined by ``,``, ``+`` or ``、`` (``"walk+bus"``,
    ``"步行、公交"``) or an iterable of such strings.

    Raises
    ------
    ModeError
        For an empty list, an empty name (``"walk,,bus"``) or an unknown word.
    """
    parts = [value] if isinstance(value, str) else list(value)
    names: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise ModeError(part, ALL_MODE_NAMES)
        names.extend(_parse_text(part))
    if not names:
        raise ModeError("", ALL_MODE_NAMES)
    return tuple(dict.fromkeys(names))


def parse_trip_modes(value: str | Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(modes, access_modes)`` of a query's mode list, where ``X+transit`` is one entry.

    Entries are separated by ``,`` or ``、`` only. An entry of exactly two names, X of
    :data:`ACCESS_MODES` and ``transit`` (``bike+transit``, ``骑行+公共交通``), allows transit
    reached by X: it adds ``transit`` to ``modes`` and X to ``access_modes``. Any other entry is
    read by :func:`parse_modes`, so ``walk+bus`` and ``walk+transit`` stay lists of modes as in
    audit claims, which keep using :func:`parse_modes`.

    Raises
    ------
    ModeError
        For an empty list or name, or an unknown word.
    """
    parts = [value] if isinstance(value, str) else list(value)
    modes: list[str] = []
    access: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise ModeError(part)
        for entry in _ENTRY_SEPARATORS.split(part):
            names = _parse_text(entry)
            if len(names) == 2 and names[1] == TRANSIT and names[0] in ACCESS_MODES \
                    and "+" in entry:
                access.append(names[0])
                modes.append(TRANSIT)
            else:
                modes.extend(names)
    if not modes:
        raise ModeError("", ALL_MODE_NAMES)
    return tuple(dict.fromkeys(modes)), tuple(dict.fromkeys(access))


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> tuple[str, ...]:
    return tuple(parse_mode(token) for token in _SEPARATORS.split(text))


def _normalise(word: str) -> str:
    folded = unicodedata.normalize("NFKC", word).casefold().replace("-", " ").replace("_", " ")
    return " ".join(folded.split())


@lru_cache(maxsize=1)
def _synonym_table() -> dict[str, str]:
    table: dict[str, str] = {}
    entries: list[tuple[str, tuple[str, ...]]] = [(TRANSIT, (TRANSIT, *TRANSIT_SYNONYMS))]
    entries += [(m.name, (m.name, m.label_zh, *m.synonyms)) for m in MODES.values()]
    for name, words in entries:
        for word in words:
            key = _normalise(word)
            if table.setdefault(key, name) != name:
                raise RuntimeError(f"mode word {word!r} names both {table[key]} and {name}")
    return table
