"""Linking stops to the walk layer and footpaths between stops, checked by brute force."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from graphs.linking import (DETOUR_FACTOR, LINK_MAX_M, NO_WALK_LAYER, OUTSIDE_STREETS, TOO_FAR,
                            build_footpaths, link_stops)
from graphs.network import StreetLayer
from graphs.timetable import compile_timetable

GEOD = Geod(ellps="WGS84")
# The Porto Alegre OSM extract's extent (see the sample's SOURCE.md).
POA_LON = (-51.2664, -51.1322)
POA_LAT = (-30.1133, -29.9876)


class Factors:
    def g_per_pkm(self, key: str) -> float:
        return 50.0


def grid_layer(lon_range, lat_range, step_deg: float, *, hole=None) -> StreetLayer:
    """A walk layer of grid nodes (edges to the east and north neighbours), optionally with a
    rectangular hole ``(lon0, lon1, lat0, lat1)`` without nodes."""
    lons = np.linspace(*lon_range, int(np.ceil((lon_range[1] - lon_range[0]) / step_deg)) + 1)
    lats = np.linspace(*lat_range, int(np.ceil((lat_range[1] - lat_range[0]) / step_deg)) + 1)
    step_lon, step_lat = lons[1] - lons[0], lats[1] - lats[0]
    lon, lat = (a.ravel() for a in np.meshgrid(lons, lats))
    if hole is not None:
        keep = ~((lon > hole[0]) & (lon < hole[1]) & (lat > hole[2]) & (lat < hole[3]))
        lon, lat = lon[keep], lat[keep]
    n = len(lon)
    column = np.rint((lon - lons[0]) / step_lon).astype(int)
    row = np.rint((lat - lats[0]) / step_lat).astype(int)
    index = {(c, r): i for i, (c, r) in enumerate(zip(column, row))}
    tail, head = [], []
    for i, (c, r) in enumerate(zip(column, row)):
        for dc, dr in ((1, 0), (0, 1)):
            j = index.get((c + dc, r + dr))
            if j is not None:
                tail += [i, j]
                head += [j, i]
    order = np.argsort(tail, kind="stable")
    tail, head = np.array(tail)[order], np.array(head)[order]
    length = GEOD.inv(lon[tail], lat[tail], lon[head], lat[head])[2]
    geometry = np.stack([np.column_stack([lon[tail], lat[tail]]),
                         np.column_stack([lon[head], lat[head]])], axis=1).reshape(-1, 2)
    return StreetLayer(
        name="walk", node_osmid=np.arange(n, dtype=np.int64), node_lon=lon, node_lat=lat,
        indptr=np.r_[0, np.cumsum(np.bincount(tail, minlength=n))].astype(np.int64),
        edge_tail=tail.astype(np.int32), edge_head=head.astype(np.int32),
        edge_length_m=length.astype(np.float32), edge_duration_s=(length / 1.3).astype(np.float32),
        edge_name=np.full(len(tail), -1, np.int32), names=np.array([], dtype=str),
        geometry_indptr=np.arange(0, 2 * len(tail) + 1, 2, dtype=np.int64),
        geometry_lonlat=geometry)


@pytest.fixture(scope="module")
def poa_grid() -> StreetLayer:
    return grid_layer(POA_LON, POA_LAT, 0.002)


@pytest.fixture(scope="module")
def poa_linked(sample_dir: Path, poa_grid: StreetLayer):
    city = sample_dir / "porto-alegre"
    return compile_timetable([city / "poa_eptc.zip", city / "poa_trensurb.zip"],
                             factors=Factors(), walk_layer=poa_grid)


def test_eptc_stops_outside_the_extract_cannot_link(poa_linked, poa_grid, sample_dir) -> None:
    tt, report = poa_linked
    with zipfile.ZipFile(sample_dir / "porto-alegre" / "poa_eptc.zip") as zf:
        stops = pd.read_csv(zf.open("stops.txt"), dtype={"stop_id": str})
    lat, lon = stops["stop_lat"].to_numpy(), stops["stop_lon"].to_numpy()
    outside = ((lat < POA_LAT[0]) | (lat > POA_LAT[1]) | (lon < POA_LON[0]) | (lon > POA_LON[1]))
    assert (lat < -30.113).sum() > 100
    counts = report["feeds"]["poa_eptc"]
    assert counts["unlinked_stops"].get(OUTSIDE_STREETS, 0) == outside.sum()
    assert counts["linked_stops"] == (~outside).sum()  # a 0.002 deg grid is within 300 m
    node = dict(zip(tt.stop_id, tt.stop_walk_node))
    for stop_id, is_outside in zip(stops["stop_id"], outside):
        assert (node["poa_eptc:" + stop_id] < 0) == is_outside
    south = tt.stop_lat < -30.1133
    assert (tt.stop_walk_node[south] == -1).all()


def test_links_are_the_nearest_node(poa_linked, poa_grid) -> None:
    tt, _ = poa_linked
    linked = np.flatnonzero(tt.stop_walk_node >= 0)
    assert (tt.stop_link_distance_m[linked] <= LINK_MAX_M).all()
    rng = np.random.default_rng(1)
    for s in rng.choice(linked, 150, replace=False):
        n = poa_grid.n_nodes
        d = GEOD.inv(np.full(n, tt.stop_lon[s]), np.full(n, tt.stop_lat[s]),
                     poa_grid.node_lon, poa_grid.node_lat)[2]
        assert tt.stop_link_distance_m[s] == pytest.approx(d.min(), abs=0.5)
        assert d[tt.stop_walk_node[s]] == pytest.approx(d.min(), abs=0.5)


def test_too_far_inside_a_hole_and_no_layer() -> None:
    layer = grid_layer((0.0, 0.1), (0.0, 0.1), 0.001, hole=(0.03, 0.07, 0.03, 0.07))
    lon = np.array([0.05, 0.0305, 0.2, 0.01])
    lat = np.array([0.05, 0.05, 0.05, 0.01])
    links = link_stops(lon, lat, layer, max_link_m=300)
    assert links.reason.tolist() == [TOO_FAR, "linked", OUTSIDE_STREETS, "linked"]
    assert links.node[0] == -1 and links.node[1] >= 0 and np.isnan(links.distance_m[0])
    none = link_stops(lon, lat, None)
    assert (none.node == -1).all() and set(none.reason) == {NO_WALK_LAYER}


def test_footpaths_match_brute_force() -> None:
    rng = np.random.default_rng(7)
    lon = -51.2 + rng.uniform(0, 0.02, 300)
    lat = -30.0 + rng.uniform(0, 0.02, 300)
    paths = build_footpaths(lon, lat, walk_speed_mps=1.25, max_distance_m=400)
    got = {}
    for s in range(len(lon)):
        for k in range(paths.indptr[s], paths.indptr[s + 1]):
            got[(s, int(paths.target[k]))] = (paths.duration_s[k], paths.distance_m[k])
    expected = {}
    for s in range(len(lon)):
        d = GEOD.inv(np.full(len(lon), lon[s]), np.full(len(lon), lat[s]), lon, lat)[2]
        for t in np.flatnonzero((d <= 400) & (np.arange(len(lon)) != s)):
            expected[(s, int(t))] = d[t] * DETOUR_FACTOR
    assert set(got) == set(expected)
    for key, walk_m in expected.items():
        duration, distance = got[key]
        assert distance == pytest.approx(walk_m, rel=1e-5)
        assert duration == int(np.ceil(walk_m / 1.25))
        assert got[key[::-1]] == got[key]  # symmetric


def test_given_transfers_override_and_stations_excluded() -> None:
    lon = np.array([0.0, 0.001, 0.002, 0.0])
    lat = np.zeros(4)
    eligible = np.array([True, True, True, False])  # stop 3 is a station
    paths = build_footpaths(lon, lat, eligible=eligible, extra_from=np.array([0, 3]),
                            extra_to=np.array([1, 2]), extra_duration_s=np.array([15, -1]))
    pairs = {(s, int(t)): int(d) for s in range(4)
             for t, d in zip(paths.target[paths.indptr[s]:paths.indptr[s + 1]],
                             paths.duration_s[paths.indptr[s]:paths.indptr[s + 1]])}
    assert pairs[(0, 1)] == 15                        # from transfers.txt
    assert pairs[(1, 0)] > 15                         # the reverse stays estimated
    assert (3, 0) not in pairs and (0, 3) not in pairs
    assert (3, 2) in pairs                            # a given transfer from the station
