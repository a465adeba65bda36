"""Answers in the caller's coordinate system: one conversion of a serialized answer.

Inside tanlu every coordinate is WGS-84 (``graphs.crs``). Input points are converted to
WGS-84 once, where they are parsed (``api.params``, the CLI commands); answers are serialized
in WGS-84 (``api.serialize``, ``api.embed_view``) and then :func:`convert_answer` converts
every coordinate in them, in one place, so that no field can be forgotten:

* any mapping holding numeric ``lat`` and ``lon`` (places, the query echo's ``from``/``to``,
  stops);
* GeoJSON geometries (``{"type": ..., "coordinates": ...}``, positions ``[lon, lat]``);
* ``polyline6`` strings (decoded, converted, re-encoded at the same precision);
* ``line`` lists of ``[lat, lon]`` pairs (the embed's view).

All points of one answer are converted in a single vectorised call.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import polyline

from graphs.crs import Crs, from_wgs84, parse_crs

from .serialize import POLYLINE_PRECISION

__all__ = ["convert_answer"]

_GEOJSON_TYPES = frozenset({"Point", "LineString", "MultiPoint", "MultiLineString", "Polygon",
                            "MultiPolygon"})


def convert_answer(answer: Any, crs: Crs | str) -> Any:
    """``answer`` (JSON-ready, WGS-84) with every coordinate converted to ``crs``, in place.

    A top-level mapping also gets ``"crs": "<name>"`` (``wgs84`` included), so the answer says
    which system its coordinates are in. Returns ``answer``.

    Raises
    ------
    CrsError
        If ``crs`` is not a known system.
    """
    crs = parse_crs(crs)
    if isinstance(answer, dict):
        answer["crs"] = crs.value
    if crs is Crs.WGS84:
        return answer
    lats: list[float] = []
    lons: list[float] = []
    setters: list[Callable[[np.ndarray, np.ndarray], None]] = []
    _collect(answer, lats, lons, setters)
    if not lats:
        return answer
    new_lat, new_lon = from_wgs84(np.asarray(lats), np.asarray(lons), crs)
    for setter in setters:  # a leg's polyline setter follows its geometry's (see below)
        setter(new_lat, new_lon)
    return answer


def _collect(node: Any, lats: list[float], lons: list[float],
             setters: list[Callable[[np.ndarray, np.ndarray], None]]) -> None:
    """Record each coordinate of ``node`` and a setter writing its converted value back."""
    if isinstance(node, list):
        for item in node:
            _collect(item, lats, lons, setters)
        return
    if not isinstance(node, dict):
        return
    if _number(node.get("lat")) and _number(node.get("lon")):
        start = len(lats)
        lats.append(float(node["lat"]))
        lons.append(float(node["lon"]))

        def set_place(lat: np.ndarray, lon: np.ndarray, node=node, i=start) -> None:
            node["lat"], node["lon"] = float(lat[i]), float(lon[i])
        setters.append(set_place)
    for key, value in sorted(node.items(), key=lambda item: item[0] == "polyline6"):
        if key == "coordinates" and node.get("type") in _GEOJSON_TYPES:
            _collect_positions(value, lats, lons, setters, lon_first=True)
        elif key == "line" and isinstance(value, list):
            _collect_positions(value, lats, lons, setters, lon_first=False)
        elif key == "polyline6" and isinstance(value, str):
            _collect_polyline(node, key, lats, lons, setters)
        elif isinstance(value, (dict, list)):
            _collect(value, lats, lons, setters)


def _collect_positions(positions: Any, lats: list[float], lons: list[float],
                       setters: list[Callable[[np.ndarray, np.ndarray], None]], *,
                       lon_first: bool) -> None:
    """Positions nested to any depth: ``[lon, lat]`` (GeoJSON) or ``[lat, lon]`` pairs."""
    if not isinstance(positions, list):
        return
    if len(positions) >= 2 and _number(positions[0]) and _number(positions[1]):
        a, b = float(positions[0]), float(positions[1])
        start = len(lats)
        lats.append(b if lon_first else a)
        lons.append(a if lon_first else b)

        def set_position(lat: np.ndarray, lon: np.ndarray, pos=positions, i=start) -> None:
            pos[0], pos[1] = ((float(lon[i]), float(lat[i])) if lon_first
                              else (float(lat[i]), float(lon[i])))
        setters.append(set_position)
        return
    for item in positions:
        _collect_positions(item, lats, lons, setters, lon_first=lon_first)


def _collect_polyline(node: dict, key: str, lats: list[float], lons: list[float],
                      setters: list[Callable[[np.ndarray, np.ndarray], None]]) -> None:
    geometry = node.get("geometry")
    if isinstance(geometry, dict) and geometry.get("type") == "LineString":
        # the polyline encodes the leg's geometry: re-encode it once that is converted
        # (setters run in order; the geometry's were queued while walking ``node``)
        def from_geometry(_lat: np.ndarray, _lon: np.ndarray, node=node) -> None:
            coords = node["geometry"]["coordinates"]
            node[key] = polyline.encode([(lat, lon) for lon, lat in coords], POLYLINE_PRECISION)
        setters.append(from_geometry)
        return
    points = polyline.decode(node[key], POLYLINE_PRECISION)
    start = len(lats)
    lats.extend(p[0] for p in points)
    lons.extend(p[1] for p in points)
    count = len(points)

    def set_polyline(lat: np.ndarray, lon: np.ndarray, node=node, i=start) -> None:
        pairs = list(zip(lat[i:i + count].tolist(), lon[i:i + count].tolist(), strict=True))
        node[key] = polyline.encode(pairs, POLYLINE_PRECISION)
    setters.append(set_polyline)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
