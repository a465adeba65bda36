"""Chinese coordinate systems: WGS-84 <-> GCJ-02 <-> BD-09, vectorised over numpy arrays.

Chinese map SDKs and apps use shifted coordinates: GCJ-02 (AMap/Gaode, Tencent, Apple Maps in
China) and BD-09 (Baidu, a further shift of GCJ-02). Everything inside tanlu is WGS-84; these
functions convert at the edges. Argument order is (lat, lon), as in every tanlu geodesy helper;
scalars and arrays of any shape are accepted and float64 arrays are returned.

The forward transforms are the well-known public algorithm (as in eviltransform, coordtransform
and PRCoords): an analytic offset of a few hundred metres computed on the Krasovsky 1940
ellipsoid. The official implementation adds a small pseudo-random noise that no public
implementation reproduces; against real AMap/Baidu output the public algorithm agrees to
about a metre.

**Outside China.** WGS-84 <-> GCJ-02 is the identity for points outside the rough bounding box
lon 72.004..137.8347, lat 0.8293..55.8271 (bounds included): the rule of eviltransform,
coordtransform and PRCoords, so that coordinates exchanged with those tools agree point for
point. A polygon of China's border would be more exact near the borders (the box also covers
e.g. Seoul, Hanoi and Ulaanbaatar, which real Chinese apps may show unshifted), but every
common library and most app back ends use this box, and a tanlu city lies far inside it. The
forward transform tests the box on the WGS-84 input, the inverse on the GCJ-02 input. The
GCJ-02 <-> BD-09 step is applied everywhere (as in those libraries), so outside the box BD-09
is the BD shift of WGS-84.

**Inverses** are not the one-step approximation (error up to several metres): they iterate
``w <- w - (forward(w) - target)`` from the one-step guess until every point's residual is
below :data:`INVERSE_TOLERANCE_DEG` (about 0.01 mm) or :data:`INVERSE_MAX_ITERATIONS` steps;
the offset's derivative is tiny, so 3-5 steps suffice.
"""
from __future__ import annotations

from enum import StrEnum

import numpy as np

from .errors import CrsError

__all__ = [
    "CHINA_BBOX",
    "INVERSE_MAX_ITERATIONS",
    "INVERSE_TOLERANCE_DEG",
    "Crs",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "is_in_china",
    "parse_crs",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]


class Crs(StrEnum):
    """A coordinate system tanlu accepts and answers in; the value is its canonical name."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


#: (min lon, min lat, max lon, max lat): outside it WGS-84 and GCJ-02 coincide.
CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)
#: Residual (degrees) at which the iterative inverses stop: 1e-10 deg is about 0.01 mm.
INVERSE_TOLERANCE_DEG = 1e-10
#: Upper bound on inverse iterations (convergence takes 3-5 in practice).
INVERSE_MAX_ITERATIONS = 30

# Krasovsky 1940 ellipsoid, used by the GCJ-02 algorithm.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
# BD-09: pi * 3000 / 180 and the constant shift (degrees).
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006

_ALIASES = {"wgs84": Crs.WGS84, "epsg4326": Crs.WGS84, "gcj02": Crs.GCJ02, "bd09": Crs.BD09,
            "bd09ll": Crs.BD09}


def parse_crs(value: str | Crs) -> Crs:
    """The :class:`Crs` named by ``value`` (case, ``-``, ``_`` and ``:`` ignored: ``GCJ-02``).

    Raises
    ------
    CrsError
        If ``value`` names no known system; the message quotes it and lists the allowed names.
    """
    if isinstance(value, Crs):
        return value
    key = str(value).strip().lower().replace("-", "").replace("_", "").replace(":", "")
    try:
        return _ALIASES[key]
    except KeyError:
        allowed = "|".join(c.value for c in Crs)
        raise CrsError(f"crs {value!r} is not a known coordinate system ({allowed})",
                       field="crs") from None


def is_in_china(lat, lon) -> np.ndarray:
    """True where (lat, lon) is inside :data:`CHINA_BBOX` (where GCJ-02 shifts points)."""
    lat, lon = _arrays(lat, lon)
    min_lon, min_lat, max_lon, max_lat = CHINA_BBOX
    return (lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)


def wgs84_to_gcj02(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 (lat, lon) of WGS-84 points; unchanged outside :data:`CHINA_BBOX`."""
    lat, lon = _arrays(lat, lon)
    inside = is_in_china(lat, lon)
    dlat, dlon = _gcj_offset(lat, lon)
    return np.where(inside, lat + dlat, lat), np.where(inside, lon + dlon, lon)


def gcj02_to_wgs84(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 (lat, lon) of GCJ-02 points, iterated to sub-millimetre; unchanged outside."""
    lat, lon = _arrays(lat, lon)
    inside = is_in_china(lat, lon)
    w_lat, w_lon = _invert(_gcj_forward, lat, lon)
    return np.where(inside, w_lat, lat), np.where(inside, w_lon, lon)


def gcj02_to_bd09(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (lat, lon) of GCJ-02 points (Baidu's public formula)."""
    lat, lon = _arrays(lat, lon)
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.sin(theta) + _BD_DLAT, z * np.cos(theta) + _BD_DLON


def bd09_to_gcj02(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 (lat, lon) of BD-09 points, iterated to sub-millimetre."""
    lat, lon = _arrays(lat, lon)
    return _invert(gcj02_to_bd09, lat, lon)


def wgs84_to_bd09(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (lat, lon) of WGS-84 points (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def bd09_to_wgs84(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 (lat, lon) of BD-09 points (via GCJ-02, both steps iterated)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))


def to_wgs84(lat, lon, crs: Crs | str) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 (lat, lon) of points given in ``crs``.

    Raises
    ------
    CrsError
        If ``crs`` is not a known system.
    """
    return _TO_WGS84[parse_crs(crs)](lat, lon)


def from_wgs84(lat, lon, crs: Crs | str) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) in ``crs`` of WGS-84 points.

    Raises
    ------
    CrsError
        If ``crs`` is not a known system.
    """
    return _FROM_WGS84[parse_crs(crs)](lat, lon)


# -- internals --------------------------------------------------------------------------------

def _arrays(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    lat_b, lon_b = np.broadcast_arrays(np.asarray(lat, dtype=np.float64),
                                       np.asarray(lon, dtype=np.float64))
    return np.array(lat_b), np.array(lon_b)  # writable copies, never views of the input


def _gcj_offset(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 in degrees (lat, lon), applied without the China test."""
    x, y = lon - 105.0, lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    wave_x = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    dlat_m = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
              + wave_x * 2.0 / 3.0
              + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
              + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon_m = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
              + wave_x * 2.0 / 3.0
              + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
              + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat_m * 180.0 / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon_m * 180.0 / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlat, dlon


def _gcj_forward(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlat, dlon = _gcj_offset(lat, lon)
    return lat + dlat, lon + dlon


def _invert(forward, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-point inverse of ``forward`` at (lat, lon), starting from the one-step guess."""
    f_lat, f_lon = forward(lat, lon)
    w_lat, w_lon = 2.0 * lat - f_lat, 2.0 * lon - f_lon
    for _ in range(INVERSE_MAX_ITERATIONS):
        f_lat, f_lon = forward(w_lat, w_lon)
        r_lat, r_lon = f_lat - lat, f_lon - lon
        w_lat, w_lon = w_lat - r_lat, w_lon - r_lon
        if max(float(np.max(np.abs(r_lat), initial=0.0)),
               float(np.max(np.abs(r_lon), initial=0.0))) < INVERSE_TOLERANCE_DEG:
            break
    return w_lat, w_lon


# one table per direction, so to_wgs84 and from_wgs84 cannot disagree on which systems exist
_TO_WGS84 = {Crs.WGS84: _arrays, Crs.GCJ02: gcj02_to_wgs84, Crs.BD09: bd09_to_wgs84}
_FROM_WGS84 = {Crs.WGS84: _arrays, Crs.GCJ02: wgs84_to_gcj02, Crs.BD09: wgs84_to_bd09}
