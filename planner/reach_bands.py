"""Reach-map polygons: reached street nodes binned into H3 cells, merged by time and CO2e band.

Each H3 cell (resolution :data:`H3_RESOLUTION`, hexagons about 0.1 km2) takes the earliest
arrival and the lowest CO2e of the reached nodes inside it; the cells of one band are merged
into one (multi)polygon with ``h3.cells_to_h3shape``. Cells partition the plane, so the bands
are disjoint rings without any polygon difference, and a band's area is its cell count times a
near-constant cell area, so the map does not flatter sparse areas (see docs/planner.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import h3.api.basic_int as h3
import numpy as np

__all__ = ["ReachBand", "CellIndex", "cell_index", "time_bands", "co2e_bands", "H3_RESOLUTION",
           "CO2E_BANDS_G"]

#: H3 resolution of the cells (9: edge about 200 m, a few minutes' walk across).
H3_RESOLUTION = 9
#: Upper edges (g CO2e) of the CO2e bands; the first band is exactly 0 g (walking or cycling
#: only), the last is open. 100 g is about 1.8 km by bus on the China factor table.
CO2E_BANDS_G = (0.0, 100.0, 200.0, 400.0)


@dataclass(frozen=True)
class ReachBand:
    """One band of a reach map: the cells whose value lies in ``(low, high]`` (``[0, high]``
    for the first band) merged into a GeoJSON ``Polygon``/``MultiPolygon`` (lon, lat)."""

    kind: str                 # "time" (minutes after the start) or "co2e" (g)
    low: float
    high: float               # math.inf for the open last CO2e band
    cells: int
    geometry: dict


@dataclass(frozen=True, eq=False)
class CellIndex:
    """The H3 cell of every node of the street layers reach maps use (built once)."""

    cells: dict[str, np.ndarray]   # layer name -> uint64 (n_nodes,)


def cell_index(layers: dict[str, tuple[np.ndarray, np.ndarray]], *,
               resolution: int = H3_RESOLUTION) -> CellIndex:
    """Cells of the nodes of each layer given as ``{name: (lat, lon)}``."""
    out = {}
    for name, (lat, lon) in layers.items():
        out[name] = np.fromiter((h3.latlng_to_cell(a, b, resolution)
                                 for a, b in zip(lat.tolist(), lon.tolist(), strict=True)),
                                dtype=np.uint64, count=len(lat))
    return CellIndex(out)


def cell_values(cells: np.ndarray, minutes: np.ndarray,
                co2e_g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct cells with the least minutes and the least CO2e of their nodes."""
    unique, inverse = np.unique(cells, return_inverse=True)
    best_min = np.full(len(unique), np.inf)
    best_co2 = np.full(len(unique), np.inf)
    np.minimum.at(best_min, inverse, minutes)
    np.minimum.at(best_co2, inverse, co2e_g)
    return unique, best_min, best_co2


def time_bands(cells: np.ndarray, minutes: np.ndarray, *, budget_min: float,
               step_min: float) -> list[ReachBand]:
    """Bands ``(0, step], (step, 2 step], ..., (.., budget]`` (minutes after the start)."""
    edges = [min(step_min * i, budget_min) for i in range(1, math.ceil(budget_min / step_min) + 1)]
    return _bands("time", cells, minutes, [0.0, *edges])


def co2e_bands(cells: np.ndarray, co2e_g: np.ndarray, *,
               edges_g: tuple[float, ...] = CO2E_BANDS_G) -> list[ReachBand]:
    """Bands ``[0, 0], (0, e1], ..., (e_last, inf)`` of the cells' lowest CO2e."""
    return _bands("co2e", cells, co2e_g, [0.0, *edges_g[1:], math.inf], zero_band=True)


def _bands(kind: str, cells: np.ndarray, value: np.ndarray, edges: list[float], *,
           zero_band: bool = False) -> list[ReachBand]:
    out = []
    bounds = ([(0.0, 0.0)] if zero_band else []) + list(zip(edges[:-1], edges[1:], strict=True))
    for i, (low, high) in enumerate(bounds):
        inside = value <= high
        if i > 0:  # the first band is closed below: [0, high]
            inside &= value > low
        chosen = cells[inside]
        if len(chosen) == 0:
            continue
        shape = h3.cells_to_h3shape(chosen.tolist(), tight=True)
        out.append(ReachBand(kind=kind, low=low, high=high, cells=len(chosen),
                             geometry=_geojson(shape.__geo_interface__)))
    return out


def _geojson(geo: dict) -> dict:
    """h3's ``__geo_interface__`` (tuples) as plain GeoJSON lists."""
    def rings(polygon):
        return [[[float(x), float(y)] for x, y in ring] for ring in polygon]

    if geo["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": rings(geo["coordinates"])}
    return {"type": "MultiPolygon", "coordinates": [rings(p) for p in geo["coordinates"]]}
