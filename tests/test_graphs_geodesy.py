"""graphs.geodesy: the one home of distance maths, (lat, lon) order everywhere."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from graphs.geodesy import bearing_deg, geodesic_m, haversine_m, local_xy
from graphs.hashing import file_sha256


def test_haversine_quarter_meridian_and_one_degree():
    # pi/2 x R: from the equator to the pole; 1 degree of arc is R x pi / 180.
    assert haversine_m(0.0, 0.0, 90.0, 0.0) == pytest.approx(6_371_008.8 * np.pi / 2)
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(111_195.08, abs=0.01)
    assert haversine_m(-30.0, -51.2, -30.0, -51.2) == 0.0


def test_argument_order_is_lat_lon():
    # At 60 degrees north one degree of longitude is half a degree of latitude.
    lon_step = haversine_m(60.0, 10.0, 60.0, 11.0)
    lat_step = haversine_m(60.0, 10.0, 61.0, 10.0)
    assert lon_step == pytest.approx(lat_step / 2, rel=2e-3)
    assert geodesic_m(60.0, 10.0, 60.0, 11.0) == pytest.approx(55_799.0, rel=1e-3)


def test_vectorised_shapes():
    lat = np.array([0.0, 10.0, -30.0])
    out = haversine_m(lat, 0.0, lat + 1.0, 0.0)
    assert out.shape == (3,)
    assert geodesic_m(lat, np.zeros(3), lat, np.ones(3)).shape == (3,)
    assert geodesic_m(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)).shape == (0,)


def test_wgs84_geodesic_on_the_equator():
    # One degree of longitude on the equator of the WGS84 ellipsoid: a x pi / 180.
    assert float(geodesic_m(0.0, 0.0, 0.0, 1.0)) == pytest.approx(6_378_137.0 * np.pi / 180,
                                                                    abs=0.01)


def test_local_projection_matches_great_circle_within_a_city():
    rng = np.random.default_rng(1)
    lat = -30.03 + rng.uniform(-0.2, 0.2, 50)
    lon = -51.2 + rng.uniform(-0.2, 0.2, 50)
    xy = local_xy(lat, lon, -30.03)
    planar = np.hypot(*(xy[1:] - xy[:-1]).T)
    sphere = haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])
    assert np.allclose(planar, sphere, rtol=5e-3)


@pytest.mark.parametrize(("lat2", "lon2", "expected"),
                         [(1.0, 0.0, 0.0), (0.0, 1.0, 90.0), (-1.0, 0.0, 180.0),
                          (0.0, -1.0, 270.0)])
def test_bearing_compass_points(lat2, lon2, expected):
    assert float(bearing_deg(0.0, 0.0, lat2, lon2)) == pytest.approx(expected)


def test_file_sha256(tmp_path):
    data = b"tanlu" * 300_000
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
