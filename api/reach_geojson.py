"""The one JSON shape of a reach map: a GeoJSON FeatureCollection, shared by HTTP and the CLI.

Features, in drawing order: the time bands (``kind: "time_band"``, nearest first), the CO2e
bands (``kind: "co2e_band"``, greenest first), the reached stops (``kind: "stop"``) and, on
request, the reached street nodes (``kind: "node"``). Each band carries the colour the embed
draws it in, so every client shows the same map. The collection's foreign members (RFC 7946
section 6.1) echo the query and the provenance.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from graphs.network import Network
from planner.reach import Reach
from planner.reach_bands import ReachBand

__all__ = ["reach_to_geojson", "TIME_COLORS", "CO2E_COLORS", "band_color"]

#: Time bands shade from the first colour (nearest) to the second (the budget's edge).
TIME_COLORS = ("#1a9850", "#fee08b")
#: CO2e bands shade from the first colour (0 g: walking, cycling) to the second (the most).
CO2E_COLORS = ("#2c7bb6", "#d7191c")
_DECIMALS = 6  # about 0.1 m


def reach_to_geojson(reach: Reach, *, network: Network | None = None,
                     nodes: bool = False) -> dict[str, Any]:
    """A JSON-ready FeatureCollection of ``reach`` (``nodes``: also every reached street node,
    whose coordinates come from ``network``'s layers)."""
    q = reach.query.query
    features = [_band(b, i, len(reach.time_bands), TIME_COLORS)
                for i, b in enumerate(reach.time_bands)]
    features += [_band(b, i, len(reach.co2e_bands), CO2E_COLORS)
                 for i, b in enumerate(reach.co2e_bands)]
    features += [{"type": "Feature",
                  "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                  "properties": {"kind": "stop", "stop_id": s.stop_id, "name": s.name,
                                 "arrival": _iso(s.arrival), "minutes": round(s.minutes, 3),
                                 "co2e_g": round(s.co2e_g, 3)}} for s in reach.stops]
    if nodes and network is not None:
        features += _nodes(reach, network)
    return {
        "type": "FeatureCollection",
        "query": {"from": {"lat": q.origin_lat, "lon": q.origin_lon}, "at": _iso(q.when),
                  "minutes": reach.query.minutes, "band_minutes": reach.query.band_minutes,
                  "modes": sorted(q.modes), "access_modes": sorted(q.access_modes),
                  "transit_modes": sorted(q.transit_modes) if q.transit_modes else None,
                  "walk_speed_mps": q.walk_speed_mps, "bike_speed_mps": q.bike_speed_mps,
                  "max_walk_m": q.max_walk_m},
        "summary": {"stops": len(reach.stops),
                    "nodes": int(sum(len(n.node) for n in reach.nodes)),
                    "cells": int(sum(b.cells for b in reach.time_bands)),
                    "resolution": reach.resolution, "rounds": reach.rounds},
        "factor_table": reach.factor_table,
        "notices": list(reach.notices),
        "features": features,
    }


def band_color(index: int, count: int, colors: tuple[str, str]) -> str:
    """Colour ``index`` of ``count`` shades between the two hex colours."""
    a, b = (tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in colors)
    t = index / (count - 1) if count > 1 else 0.0
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def _band(band: ReachBand, index: int, count: int, colors: tuple[str, str]) -> dict[str, Any]:
    unit = "min" if band.kind == "time" else "g"
    high = None if math.isinf(band.high) else band.high
    return {"type": "Feature", "geometry": _rounded(band.geometry),
            "properties": {"kind": f"{band.kind}_band", "low": band.low, "high": high,
                           "unit": unit, "cells": band.cells,
                           "color": band_color(index, count, colors)}}


def _rounded(geometry: dict) -> dict:
    def walk(value):
        if isinstance(value, list) and value and isinstance(value[0], float):
            return [round(v, _DECIMALS) for v in value]
        return [walk(v) for v in value]
    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def _nodes(reach: Reach, network: Network) -> list[dict[str, Any]]:
    out = []
    for reached in reach.nodes:
        layer = network.streets[reached.layer]
        lat = layer.node_lat[reached.node].tolist()
        lon = layer.node_lon[reached.node].tolist()
        for i, (y, x) in enumerate(zip(lat, lon, strict=True)):
            out.append({"type": "Feature",
                        "geometry": {"type": "Point",
                                     "coordinates": [round(x, _DECIMALS), round(y, _DECIMALS)]},
                        "properties": {"kind": "node", "layer": reached.layer,
                                       "minutes": round(float(reached.minutes[i]), 3),
                                       "co2e_g": round(float(reached.co2e_g[i]), 3)}})
    return out


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")
