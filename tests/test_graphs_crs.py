"""WGS-84 <-> GCJ-02 <-> BD-09: published reference pairs, round trips, the outside-China rule."""
from __future__ import annotations

import numpy as np
import pytest

from graphs.crs import (
    CHINA_BBOX,
    Crs,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    is_in_china,
    parse_crs,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from graphs.errors import CrsError

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1, lon1, lat2, lon2):
    """Independent great-circle distance (not the project's helper), metres."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


# wandergis/coordtransform, test/app.js (input lng 116.404, lat 39.915; results quoted there as
# [lng, lat]). Also the expected values of hutool's CoordinateUtilTest, which cites that file.
WANDERGIS_INPUT = (39.915, 116.404)
WANDERGIS_WGS84_TO_GCJ02 = (39.91640428150164, 116.41024449916938)
WANDERGIS_GCJ02_TO_BD09 = (39.92133699351021, 116.41036949371029)
WANDERGIS_BD09_TO_GCJ02_ONE_STEP = (39.90865673957631, 116.39762729119315)
WANDERGIS_GCJ02_TO_WGS84_ONE_STEP = (39.91359571849836, 116.39775550083061)

# googollee/eviltransform, python/test.py TESTS (wgsLat, wgsLng, gcjLat, gcjLng). eviltransform
# computes with the WGS-84 semi-major axis 6378137 m where the original algorithm (and
# coordtransform, PRCoords, tanlu) uses Krasovsky's 6378245 m: its points differ by a few cm.
EVILTRANSFORM_TESTS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),   # shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),   # shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),   # beijing
]


def test_wgs84_to_gcj02_matches_coordtransform_to_the_last_digits():
    lat, lon = wgs84_to_gcj02(*WANDERGIS_INPUT)
    assert (float(lat), float(lon)) == pytest.approx(WANDERGIS_WGS84_TO_GCJ02, abs=1e-12)


def test_gcj02_to_bd09_matches_coordtransform():
    lat, lon = gcj02_to_bd09(*WANDERGIS_INPUT)
    assert (float(lat), float(lon)) == pytest.approx(WANDERGIS_GCJ02_TO_BD09, abs=1e-12)


def test_inverses_are_exact_where_the_published_one_step_is_metres_off():
    lat, lon = gcj02_to_wgs84(*WANDERGIS_INPUT)
    # The iterated inverse maps back onto the input to well under a millimetre ...
    assert haversine_m(*wgs84_to_gcj02(lat, lon), *WANDERGIS_INPUT) < 1e-3
    # ... while coordtransform's one-step value is centimetres off here (metres elsewhere:
    # see the grid test below), and near ours.
    one_step = haversine_m(lat, lon, *WANDERGIS_GCJ02_TO_WGS84_ONE_STEP)
    assert 0.01 < one_step < 1
    assert haversine_m(*wgs84_to_gcj02(*WANDERGIS_GCJ02_TO_WGS84_ONE_STEP),
                       *WANDERGIS_INPUT) > 0.01
    lat, lon = bd09_to_gcj02(*WANDERGIS_INPUT)
    assert haversine_m(*gcj02_to_bd09(lat, lon), *WANDERGIS_INPUT) < 1e-3
    assert haversine_m(lat, lon, *WANDERGIS_BD09_TO_GCJ02_ONE_STEP) < 0.5


@pytest.mark.parametrize("wgs_lat, wgs_lon, gcj_lat, gcj_lon", EVILTRANSFORM_TESTS)
def test_eviltransform_pairs_within_its_ellipsoid_difference(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    assert haversine_m(*wgs84_to_gcj02(wgs_lat, wgs_lon), gcj_lat, gcj_lon) < 0.1
    assert haversine_m(*gcj02_to_wgs84(gcj_lat, gcj_lon), wgs_lat, wgs_lon) < 0.1


def test_agrees_with_prcoords_over_china():
    prcoords = pytest.importorskip("prcoords")
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(18, 53, 200), rng.uniform(74, 134, 200)
    g_lat, g_lon = wgs84_to_gcj02(lat, lon)
    b_lat, b_lon = wgs84_to_bd09(lat, lon)
    for i in range(len(lat)):
        g = prcoords.wgs_gcj((lat[i], lon[i]))
        b = prcoords.wgs_bd((lat[i], lon[i]))
        assert (g_lat[i], g_lon[i]) == pytest.approx((g.lat, g.lon), abs=1e-11)
        assert (b_lat[i], b_lon[i]) == pytest.approx((b.lat, b.lon), abs=1e-11)


def _china_grid():
    min_lon, min_lat, max_lon, max_lat = CHINA_BBOX
    # 0.05 deg inside the box: a point shifted across the box edge does not come back (the
    # inverse tests the box on its own input, as the documented rule says).
    lon, lat = np.meshgrid(np.linspace(min_lon + 0.05, max_lon - 0.05, 120),
                           np.linspace(min_lat + 0.05, max_lat - 0.05, 100))
    return lat.ravel(), lon.ravel()


@pytest.mark.parametrize("forward, inverse", [(wgs84_to_gcj02, gcj02_to_wgs84),
                                              (wgs84_to_bd09, bd09_to_wgs84),
                                              (gcj02_to_bd09, bd09_to_gcj02)])
def test_round_trips_over_a_grid_of_china_within_half_a_metre(forward, inverse):
    lat, lon = _china_grid()
    shifted = forward(lat, lon)
    assert np.median(haversine_m(*shifted, lat, lon)) > 100  # the transform does move points
    back_lat, back_lon = inverse(*shifted)
    assert float(np.max(haversine_m(back_lat, back_lon, lat, lon))) <= 0.5
    # and the other way round: inverse first
    again = forward(*inverse(lat, lon))
    assert float(np.max(haversine_m(*again, lat, lon))) <= 0.5


def test_one_step_inverse_would_be_metres_off_somewhere_in_china():
    lat, lon = _china_grid()
    f_lat, f_lon = wgs84_to_gcj02(lat, lon)
    one_step = haversine_m(2 * lat - f_lat, 2 * lon - f_lon, *gcj02_to_wgs84(lat, lon))
    assert float(np.max(one_step)) > 2  # about 4.9 m at worst on this grid


def test_round_trip_is_in_fact_sub_millimetre_in_wuxi():
    lat, lon = np.meshgrid(np.linspace(31.40, 31.53, 30), np.linspace(120.25, 120.39, 30))
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))
    assert float(np.max(haversine_m(*back, lat, lon))) < 1e-3


@pytest.mark.parametrize("lat, lon", [(-30.03, -51.23), (60.17, 24.94), (51.5, -0.12),
                                      (0.5, 100.0), (40.0, 71.9), (56.0, 120.0),
                                      (35.0, 138.0)])
def test_points_outside_the_china_box_are_unchanged(lat, lon):
    assert not is_in_china(lat, lon)
    for func in (wgs84_to_gcj02, gcj02_to_wgs84):
        out = func(lat, lon)
        assert (float(out[0]), float(out[1])) == (lat, lon)
    assert to_wgs84(lat, lon, "gcj02") == (lat, lon)


def test_box_edges_are_inside():
    min_lon, min_lat, max_lon, max_lat = CHINA_BBOX
    assert is_in_china([min_lat, max_lat], [min_lon, max_lon]).all()
    lat, lon = wgs84_to_gcj02(max_lat, max_lon)
    assert (float(lat), float(lon)) != (max_lat, max_lon)


def test_arrays_keep_their_shape_and_mix_inside_and_outside():
    lat = np.array([[31.5, -30.0], [39.9, 51.5]])
    lon = np.array([[120.3, -51.2], [116.4, -0.1]])
    out_lat, out_lon = wgs84_to_gcj02(lat, lon)
    assert out_lat.shape == (2, 2)
    assert out_lat[0, 1] == -30.0 and out_lon[1, 1] == -0.1
    assert out_lat[0, 0] != 31.5


def test_to_and_from_wgs84_dispatch_on_the_crs():
    lat, lon = 31.48, 120.31
    for crs in Crs:
        there = from_wgs84(lat, lon, crs)
        assert haversine_m(*to_wgs84(*there, crs), lat, lon) < 1e-3
    assert from_wgs84(lat, lon, "wgs84") == (lat, lon)
    assert haversine_m(*from_wgs84(lat, lon, "bd09"), *wgs84_to_bd09(lat, lon)) == 0


@pytest.mark.parametrize("text, expected", [("wgs84", Crs.WGS84), ("WGS-84", Crs.WGS84),
                                            ("gcj02", Crs.GCJ02), (" GCJ-02 ", Crs.GCJ02),
                                            ("bd09", Crs.BD09), ("BD_09", Crs.BD09),
                                            (Crs.BD09, Crs.BD09)])
def test_parse_crs(text, expected):
    assert parse_crs(text) is expected


@pytest.mark.parametrize("bad", ["", "mars", "epsg:3857", "gcj"])
def test_parse_crs_error_names_the_value_and_the_choices(bad):
    with pytest.raises(CrsError, match=f"{bad!r}.*wgs84|gcj02|bd09") as info:
        parse_crs(bad)
    assert info.value.field == "crs"
    assert isinstance(info.value, ValueError)
