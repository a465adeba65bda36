"""Distance maths on the earth, in one argument order everywhere: ``(lat, lon)``.

Great-circle (haversine) distance on the mean-radius sphere, the WGS84 ellipsoidal geodesic
(pyproj, for build-time shape lengths), a local equirectangular projection for nearest-neighbour
searches within a city, and the initial bearing. All functions take scalars or numpy arrays
(broadcast element-wise) in degrees.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["EARTH_RADIUS_M", "METRES_PER_DEGREE", "haversine_m", "geodesic_m", "local_xy",
           "bearing_deg"]

#: IUGG mean earth radius (m), the sphere of :func:`haversine_m` and :func:`local_xy`.
EARTH_RADIUS_M = 6_371_008.8
#: Metres per degree of latitude (and of longitude at the equator) on that sphere.
METRES_PER_DEGREE = float(np.radians(1.0) * EARTH_RADIUS_M)


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres between ``(lat1, lon1)`` and ``(lat2, lon2)``.

    Returns a float for scalar input, else an array of the broadcast shape.
    """
    p1 = np.radians(np.asarray(lat1, dtype=float))
    p2 = np.radians(np.asarray(lat2, dtype=float))
    dlon = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def geodesic_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """WGS84 ellipsoidal geodesic distance in metres (pyproj), as an array.

    Used where a shape's length must match other tools to the metre; within a city it differs
    from :func:`haversine_m` by at most ~0.5 %.
    """
    lat1, lon1, lat2, lon2 = (np.asarray(a, dtype=float) for a in (lat1, lon1, lat2, lon2))
    if lat1.size == 0:
        return np.zeros(np.broadcast_shapes(lat1.shape, lon1.shape, lat2.shape, lon2.shape))
    return np.asarray(_wgs84().inv(lon1, lat1, lon2, lat2)[2], dtype=float)


def local_xy(lat, lon, lat0: float) -> np.ndarray:
    """Equirectangular metres ``(x, y)`` around latitude ``lat0`` (degrees), shape ``(n, 2)``.

    Distances in this plane are within 0.1 % of the great circle across a city (~50 km), which
    is what nearest-node and nearest-segment searches need.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    return np.column_stack([lon * METRES_PER_DEGREE * np.cos(np.radians(lat0)),
                            lat * METRES_PER_DEGREE])


def bearing_deg(lat1, lon1, lat2, lon2):
    """Initial great-circle bearing from point 1 to point 2, in degrees clockwise from north,
    in [0, 360)."""
    p1 = np.radians(np.asarray(lat1, dtype=float))
    p2 = np.radians(np.asarray(lat2, dtype=float))
    dlon = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    y = np.sin(dlon) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dlon)
    return np.degrees(np.arctan2(y, x)) % 360.0


@lru_cache(maxsize=1)
def _wgs84():
    from pyproj import Geod  # build-time only: keeps pyproj off the query path

    return Geod(ellps="WGS84")
