"""The embeddable page's view of a plan: what the map draws and the list shows, in one language."""
from __future__ import annotations

from typing import Any

from graphs.modes import MODES
from planner.model import Itinerary, Leg, Plan

from .i18n import leg_end_label, leg_label, mode_label, place_name

__all__ = ["plan_to_view", "format_co2e", "format_points", "COORDINATE_DECIMALS",
           "FALLBACK_COLOR", "DASHED_MODES", "LEG_END_MARKS", "STATION_COLORS", "reach_to_view"]

COORDINATE_DECIMALS = 6     # about 0.1 m
FALLBACK_COLOR = "#555555"
#: Modes drawn with a dashed line (on the map and in the legend).
DASHED_MODES = frozenset({"walk"})
#: Markers of the legs spent at a bike-share station (``Leg.note``; the ride between them is
#: drawn in the ``bikeshare`` mode's colour).
STATION_COLORS = {"rent": "#33691e", "return": "#6d4c41"}
_TAG_ORDER = ("recommended", "fastest", "lowest_carbon")
#: The mark drawn where a leg ends by ``Leg.note``: icon and colour (car parked, EV left at a
#: pile, dropped at the station, bike taken on board).
LEG_END_MARKS = {"park": ("P", "#1565c0"), "charge": ("⚡", "#00897b"),
                 "drop-off": ("⇣", "#6d4c41"), "on-board": ("🚲", "#2e9e44")}


def plan_to_view(plan: Plan, *, lang: str) -> dict[str, Any]:
    """Itineraries with their legs (``[lat, lon]`` lines, colour, label) and the car baseline.

    The recommended itinerary comes first so the page shows it without any script.
    """
    order = [plan.recommended] + [i for i in range(len(plan.itineraries))
                                  if i != plan.recommended]
    baseline = {"co2e_g": plan.baseline.co2e_g, "distance_m": plan.baseline.distance_m,
                "duration_s": plan.baseline.duration_s, "mode": plan.baseline.mode,
                "duration_min": round(plan.baseline.duration_s / 60.0),
                "label": mode_label(plan.baseline.mode, lang)}
    itineraries = [_itinerary(plan, plan.itineraries[i], i, lang) for i in order]
    return {"itineraries": itineraries, "legend": _legend(itineraries),
            "baseline": baseline, "factor_table": plan.factor_table,
            "grid": plan.grid, "methodology": plan.methodology,
            "points_rules": plan.points_rules}


def _legend(itineraries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each mode (and bike-share station marker) drawn on the page once, in first-seen order:
    colour, label, dashed or not."""
    seen: dict[str, dict[str, Any]] = {}
    for itinerary in itineraries:
        for leg in itinerary["legs"]:  # a bike-share station's marker is its own entry
            seen.setdefault(leg["station"] or leg["mode"],
                            {"mode": leg["mode"], "label": leg["label"], "color": leg["color"],
                             "dashed": leg["mode"] in DASHED_MODES})
    return list(seen.values())


def _itinerary(plan: Plan, itinerary: Itinerary, index: int, lang: str) -> dict[str, Any]:
    tags = [tag for tag in _TAG_ORDER if tag in itinerary.tags
            or (tag, index) in (("recommended", plan.recommended), ("fastest", plan.fastest),
                                ("lowest_carbon", plan.lowest_carbon))]
    return {
        "index": index,
        "tags": tags,
        "duration_min": round(itinerary.duration_s / 60.0),
        "departure": itinerary.departure.strftime("%H:%M"),
        "arrival": itinerary.arrival.strftime("%H:%M"),
        "co2e_g": itinerary.co2e_g,
        "baseline_co2e_g": plan.baseline.co2e_g,
        "reduction_g": itinerary.reduction_g,
        "reduction_pct": _percent(itinerary.reduction_g, plan.baseline.co2e_g),
        "points": itinerary.points.points,
        "transfers": itinerary.transfers,
        "modes": [mode_label(m, lang) for m in _distinct(itinerary.modes)],
        "legs": [_leg(leg, lang) for leg in itinerary.legs],
    }


def _leg(leg: Leg, lang: str) -> dict[str, Any]:
    mode = MODES.get(leg.mode)
    line = [[round(lat, COORDINATE_DECIMALS), round(lon, COORDINATE_DECIMALS)]
            for lon, lat in leg.geometry]
    if len(line) < 2:  # a leg without geometry: draw the straight line between its ends
        line = [[leg.from_place.lat, leg.from_place.lon], [leg.to_place.lat, leg.to_place.lon]]
    station = leg.note if leg.note in STATION_COLORS else None
    return {"mode": leg.mode, "label": leg_label(leg.mode, leg.note, lang),
            "dashed": leg.mode in DASHED_MODES, "station": station,
            "color": STATION_COLORS[station] if station else mode.color if mode else FALLBACK_COLOR,
            "route": leg.route_short_name or "", "headsign": leg.headsign or "",
            "from": place_name(leg.from_place.name, lang),
            "to": place_name(leg.to_place.name, lang),
            "departure": leg.departure.strftime("%H:%M"),
            "duration_min": round(leg.duration_s / 60.0), "distance_m": round(leg.distance_m),
            "co2e_g": leg.co2e_g, "line": line, "end": _leg_end(leg, lang)}


def _leg_end(leg: Leg, lang: str) -> dict[str, str] | None:
    """The mark where a car is parked or charged, a traveller dropped, a bike taken on board."""
    if leg.note not in LEG_END_MARKS:
        return None
    icon, color = LEG_END_MARKS[leg.note]
    return {"note": leg.note, "icon": icon, "color": color,
            "label": leg_end_label(leg.note, lang),
            "place": place_name(leg.to_place.name, lang)}


def _percent(part: float, whole: float) -> int:
    return round(100.0 * part / whole) if whole > 0 else 0


def _distinct(items: tuple[str, ...]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def format_co2e(co2e_g: float) -> str:
    """``850 g`` below a kilogram, ``1.25 kg`` above."""
    return f"{co2e_g:.0f} g" if abs(co2e_g) < 1000 else f"{co2e_g / 1000:.2f} kg"


def format_points(points: float) -> str:
    """Whole points without decimals, others with one."""
    return f"{points:.0f}" if float(points).is_integer() else f"{points:.1f}"


def reach_to_view(answer: dict[str, Any], *, lang: str, ui: dict[str, str]) -> dict[str, Any]:
    """What the reach page draws: the bands of each view (GeoJSON features with their
    colours), their legend labels, the stops as ``[lat, lon, minutes, co2e_g, name]`` and the
    origin, from a (converted) ``api.reach_geojson`` answer."""
    bands: dict[str, list[dict[str, Any]]] = {"time": [], "co2e": []}
    legend: dict[str, list[dict[str, str]]] = {"time": [], "co2e": []}
    stops = []
    for feature in answer["features"]:
        p = feature["properties"]
        if p["kind"] in ("time_band", "co2e_band"):
            view = p["kind"].removesuffix("_band")
            bands[view].append(feature)
            legend[view].append({"color": p["color"], "label": _band_label(p, ui)})
        elif p["kind"] == "stop":
            lon, lat = feature["geometry"]["coordinates"]
            stops.append([round(lat, COORDINATE_DECIMALS), round(lon, COORDINATE_DECIMALS),
                          p["minutes"], p["co2e_g"], p["name"]])
    origin = answer["query"]["from"]
    return {"bands": bands, "legend": legend, "stops": stops,
            "origin": [origin["lat"], origin["lon"]], "minutes": answer["query"]["minutes"],
            "summary": answer["summary"], "factor_table": answer["factor_table"],
            "notices": answer["notices"]}


def _band_label(p: dict[str, Any], ui: dict[str, str]) -> str:
    if p["unit"] == "min":
        return f"{p['low']:g}–{p['high']:g} {ui['minutes']}"
    if p["high"] == 0:
        return f"0 g ({ui['reach_zero']})"
    if p["high"] is None:
        return f"> {format_co2e(p['low'])}"
    return f"{format_co2e(p['low'])}–{format_co2e(p['high'])}"
