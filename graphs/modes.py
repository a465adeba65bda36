"""Travel modes: the one place that says which modes exist, their layer and GTFS route types."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Mode",
    "MODES",
    "STREET_LAYERS",
    "TRANSIT_MODES",
    "CAR_MODES",
    "route_type_to_mode",
    "is_transit_mode",
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


MODES: dict[str, Mode] = {m.name: m for m in (
    Mode("walk", "walk", "Walk", "步行", "#4a4a4a"),
    Mode("bike", "bike", "Bike", "自行车", "#2e9e44"),
    Mode("ebike", "bike", "E-bike", "电动自行车", "#57b85b"),
    Mode("bikeshare", "bike", "Shared bike", "共享单车", "#9acd32"),
    Mode("car_petrol", "car", "Car (petrol)", "汽油车", "#c0392b"),
    Mode("car_diesel", "car", "Car (diesel)", "柴油车", "#a93226"),
    Mode("car_hybrid", "car", "Car (hybrid)", "混合动力车", "#d35400"),
    Mode("car_bev", "car", "Car (battery-electric)", "纯电动车", "#1f77b4"),
    Mode("taxi", "car", "Taxi", "出租车", "#f1c40f"),
    Mode("bus", None, "Bus", "公交", "#e67e22"),
    Mode("tram", None, "Tram", "有轨电车", "#8e44ad"),
    Mode("metro", None, "Metro", "地铁", "#2980b9"),
    Mode("rail", None, "Suburban rail", "市郊铁路", "#16a085"),
    Mode("ferry", None, "Ferry", "轮渡", "#00a8cc"),
    Mode("cable", None, "Cable car / funicular", "索道", "#7f8c8d"),
)}

TRANSIT_MODES = tuple(name for name, m in MODES.items() if m.layer is None)
CAR_MODES = tuple(name for name, m in MODES.items() if m.layer == "car")

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


def is_transit_mode(mode: str) -> bool:
    """True for modes served by timetabled public transport."""
    return mode in TRANSIT_MODES
