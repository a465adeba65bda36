"""Turn street paths and transit journeys into legs and itineraries with totals."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

import numpy as np
from numba import njit

from graphs.network import StreetLayer

from .model import Itinerary, Leg, Place, PointsAward
from .street_search import StreetPath

__all__ = ["street_geometry", "street_line", "draws_street_geometry", "without_street_geometry",
           "polyline", "as_line", "street_name", "street_leg", "walk_leg",
           "assemble_itinerary", "numpy_sum", "CAR_CONNECTOR_SPEED_MPS", "ORIGIN_NAME", "DESTINATION_NAME"]

#: Speed on the short straight connectors between a query point and its snapped car node.
CAR_CONNECTOR_SPEED_MPS = 5.0
ORIGIN_NAME = "Origin"
DESTINATION_NAME = "Destination"
_NAME_LOOKAHEAD = 3  # edges scanned for a street name at either end of a path
#: False inside :func:`without_street_geometry`: street lines are left empty.
_STREET_GEOMETRY: ContextVar[bool] = ContextVar("street_geometry", default=True)


@contextmanager
def without_street_geometry() -> Iterator[None]:
    """Within the block (this thread or task only), :func:`street_geometry` returns ``()``.

    For callers that read a plan's numbers and never its lines (the batch audit): drawing
    street, access, egress and transfer walks was 8 % of an audited trip. Nothing else changes.
    """
    token = _STREET_GEOMETRY.set(False)
    try:
        yield
    finally:
        _STREET_GEOMETRY.reset(token)


def draws_street_geometry() -> bool:
    """False inside :func:`without_street_geometry` (this thread or task)."""
    return _STREET_GEOMETRY.get()


def street_geometry(layer: StreetLayer, edges, start=None, end=None) -> tuple:
    """Polyline (lon, lat) of ``edges``, optionally from ``start`` and to ``end`` points
    (``()`` inside :func:`without_street_geometry`)."""
    if not _STREET_GEOMETRY.get():
        return ()
    return street_line(layer, edges, start, end)


def street_line(layer: StreetLayer, edges, start=None, end=None) -> tuple:
    """:func:`street_geometry`, drawn whatever the context (for lines cached across queries)."""
    sx, sy = (0.0, 0.0) if start is None else start
    ex, ey = (0.0, 0.0) if end is None else end
    x, y = _line_xy(layer.geometry_indptr, layer.geometry_lonlat, np.asarray(edges, np.int64),
                    float(sx), float(sy), float(ex), float(ey), start is not None,
                    end is not None)
    return as_line(x, y)


def as_line(x: np.ndarray, y: np.ndarray) -> tuple:
    """Points already without consecutive repeats (lon ``x``, lat ``y``) as :func:`polyline`
    gives them: ``(lon, lat)`` tuples, a single point doubled."""
    if len(x) == 0:
        return ()
    if len(x) == 1:
        x, y = np.repeat(x, 2), np.repeat(y, 2)
    return tuple(zip(x.tolist(), y.tolist(), strict=True))


@njit(cache=True)
def _line_xy(indptr, lonlat, edges, sx, sy, ex, ey, has_start, has_end):  # noqa: PLR0917 - numba's njit takes no keyword-only arguments
    """The start point, the rows of ``edges`` and the end point, each row kept where it
    differs from the row before it (as :func:`polyline` keeps them)."""
    total = int(has_start) + int(has_end)
    for e in edges:
        total += indptr[e + 1] - indptr[e]
    x = np.empty(total, np.float64)
    y = np.empty(total, np.float64)
    n = 0
    px, py = 0.0, 0.0
    first = True
    if has_start:
        x[0], y[0] = sx, sy
        px, py, n, first = sx, sy, 1, False
    for e in edges:
        for r in range(indptr[e], indptr[e + 1]):
            qx, qy = lonlat[r, 0], lonlat[r, 1]
            if first or qx != px or qy != py:
                x[n], y[n] = qx, qy
                n += 1
            px, py, first = qx, qy, False
    if has_end and (first or ex != px or ey != py):
        x[n], y[n] = ex, ey
        n += 1
    return x[:n], y[:n]


def polyline(points: np.ndarray) -> tuple:
    """``(n, 2)`` points as a tuple of ``(lon, lat)`` floats without consecutive repeats;
    a single point is doubled so that every line has two."""
    if len(points) == 0:
        return ()
    keep = np.ones(len(points), bool)
    keep[1:] = (points[1:] != points[:-1]).any(axis=1)
    points = points[keep]
    if len(points) == 1:
        points = np.concatenate([points, points])
    return tuple(zip(points[:, 0].tolist(), points[:, 1].tolist(), strict=True))


def street_name(layer: StreetLayer, edges, *, at_end: bool, default: str) -> str:
    """Name of the first named edge near the start (or end) of a path."""
    # the first or last few edges only (a street path has hundreds: no copy of them all)
    seq = edges[:-_NAME_LOOKAHEAD - 1:-1] if at_end else edges[:_NAME_LOOKAHEAD]
    for e in seq:
        i = int(layer.edge_name[e])
        if i >= 0 and str(layer.names[i]):
            return str(layer.names[i])
    return default


# One keyword per field of the leg (PLR0913): all keyword-only after the path.
def street_leg(mode: str, layer: StreetLayer, path: StreetPath, *, origin: tuple[float, float],  # noqa: PLR0913
               destination: tuple[float, float], connector_m: float, speed_mps: float | None,
               departure: datetime, factor_key: str, g_per_pkm: float,
               from_name: str | None = None, to_name: str | None = None,
               from_stop: Place | None = None, to_stop: Place | None = None) -> Leg:
    """One street leg; ``origin``/``destination`` are (lat, lon) of its ends.

    ``speed_mps`` None means the layer's own durations (cars); connectors (snap distances
    and stop links) then run at :data:`CAR_CONNECTOR_SPEED_MPS`.
    """
    distance_m = path.length_m + connector_m
    if speed_mps is None:
        duration_s = path.duration_s + connector_m / CAR_CONNECTOR_SPEED_MPS
    else:
        duration_s = distance_m / speed_mps
    start = (origin[1], origin[0])
    end = (destination[1], destination[0])
    from_place = from_stop or Place(
        name=from_name or street_name(layer, path.edges, at_end=False, default=ORIGIN_NAME),
        lat=origin[0], lon=origin[1])
    to_place = to_stop or Place(
        name=to_name or street_name(layer, path.edges, at_end=True, default=DESTINATION_NAME),
        lat=destination[0], lon=destination[1])
    return Leg(mode=mode, from_place=from_place, to_place=to_place, departure=departure,
               arrival=departure + timedelta(seconds=duration_s), distance_m=distance_m,
               co2e_g=g_per_pkm * distance_m / 1000.0, co2e_g_per_pkm=g_per_pkm,
               co2e_factor=factor_key,
               geometry=street_geometry(layer, path.edges, start, end))


def walk_leg(from_place: Place, to_place: Place, *, distance_m: float, duration_s: float,
             departure: datetime, geometry: tuple, g_per_pkm: float) -> Leg:
    """A walking leg whose distance and geometry were found elsewhere (footpath, access)."""
    return Leg(mode="walk", from_place=from_place, to_place=to_place, departure=departure,
               arrival=departure + timedelta(seconds=duration_s), distance_m=distance_m,
               co2e_g=g_per_pkm * distance_m / 1000.0, co2e_g_per_pkm=g_per_pkm,
               co2e_factor="walk", geometry=geometry)


def assemble_itinerary(legs, *, baseline_co2e_g: float, points: PointsAward,
                       reduction_g: float | None = None, reduction_explanation: str = "",
                       pile=None) -> Itinerary:
    """Itinerary with summed totals; transfers count vehicle changes.

    ``reduction_g`` is the methodology's reduction (``planner.methodology``); without it, the
    baseline minus the itinerary's CO2e.
    """
    legs = tuple(legs)
    co2e_g = numpy_sum([leg.co2e_g for leg in legs])
    rides = sum(1 for leg in legs if leg.trip_id is not None)
    return Itinerary(legs=legs, co2e_g=co2e_g,
                     distance_m=numpy_sum([leg.distance_m for leg in legs]),
                     transfers=max(0, rides - 1),
                     reduction_g=(max(0.0, baseline_co2e_g - co2e_g) if reduction_g is None
                                  else reduction_g),
                     points=points, reduction_explanation=reduction_explanation, pile=pile)


#: Below this many items numpy's float sum adds them one by one in order (its pairwise
#: summation, ``pairwise_sum`` in numpy's loops, starts at 8 items).
_NUMPY_SEQUENTIAL_SUM = 8


def numpy_sum(values: list[float]) -> float:
    """``float(np.sum(values))`` bit for bit, without an array for the usual short list.

    An itinerary's totals have always been numpy's sums; a leg list is a few items, where
    building the array cost more than the additions (tests/test_planner_rest.py checks the
    two agree on random lists on both sides of the threshold).
    """
    if len(values) >= _NUMPY_SEQUENTIAL_SUM:
        return float(np.sum(values))
    total = 0.0
    for value in values:
        total += value
    return float(total)
