"""Street layers from OSM: hand-written fixtures and the real Porto Alegre / São Paulo extracts."""
from __future__ import annotations

import bz2
import math
import shutil
from pathlib import Path

import numpy as np
import osmium
import osmnx as ox
import pytest

from graphs.errors import OsmError
from graphs.network import StreetLayer
from graphs.access import ACCESS_TAG_KEYS, travel_directions
from graphs._osmnx_streets import graph_to_street_layer
from graphs.streets import WALK_SPEED_KPH, StreetsResult, build_streets

EARTH_RADIUS_M = 6_371_009.0  # the mean radius osmnx uses for great-circle lengths
MILE_KM = 1.609344
CITIES = {"porto-alegre": "poa_osm.pbf", "sao-paulo": "spo_osm.pbf"}


# ---- independent checks ---------------------------------------------------------------------

def polyline_length_m(lonlat: np.ndarray) -> float:
    """Great-circle (haversine) length of a lon/lat polyline."""
    lon, lat = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    a = (np.sin(np.diff(lat) / 2) ** 2
         + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2)
    return float(np.sum(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))))


def assert_csr_invariants(layer: StreetLayer) -> None:
    n, m = layer.n_nodes, layer.n_edges
    assert layer.indptr.shape == (n + 1,) and layer.indptr[0] == 0 and layer.indptr[-1] == m
    assert np.all(np.diff(layer.indptr) >= 0)
    assert np.all(np.diff(layer.edge_tail) >= 0)
    for u in range(n):
        assert np.all(layer.edge_tail[layer.indptr[u]:layer.indptr[u + 1]] == u)
    assert layer.edge_head.min() >= 0 and layer.edge_head.max() < n
    assert len(np.unique(layer.node_osmid)) == n
    assert np.all(layer.edge_length_m >= 0) and np.all(layer.edge_duration_s >= 0)
    assert layer.edge_name.min() >= -1 and layer.edge_name.max() < len(layer.names)
    gi = layer.geometry_indptr
    assert gi.shape == (m + 1,) and gi[0] == 0 and gi[-1] == len(layer.geometry_lonlat)
    assert np.all(np.diff(gi) >= 2)
    first, last = layer.geometry_lonlat[gi[:-1]], layer.geometry_lonlat[gi[1:] - 1]
    np.testing.assert_array_equal(first[:, 0], layer.node_lon[layer.edge_tail])
    np.testing.assert_array_equal(first[:, 1], layer.node_lat[layer.edge_tail])
    np.testing.assert_array_equal(last[:, 0], layer.node_lon[layer.edge_head])
    np.testing.assert_array_equal(last[:, 1], layer.node_lat[layer.edge_head])


def assert_lengths_are_great_circle(layer: StreetLayer) -> None:
    gi = layer.geometry_indptr
    expected = [polyline_length_m(layer.geometry_lonlat[gi[e]:gi[e + 1]])
                for e in range(layer.n_edges)]
    np.testing.assert_allclose(layer.edge_length_m, expected, rtol=1e-5, atol=1e-3)


def segment_pairs(layer: StreetLayer) -> set[tuple]:
    """Every directed segment (consecutive polyline points) of a layer, coordinates rounded."""
    pts = [tuple(p) for p in np.round(layer.geometry_lonlat, 7)]
    pairs = set()
    gi = layer.geometry_indptr
    for e in range(layer.n_edges):
        pairs.update(zip(pts[gi[e]:gi[e + 1] - 1], pts[gi[e] + 1:gi[e + 1]]))
    return pairs


def edge_ids(layer: StreetLayer, tail_osmid: int, head_osmid: int) -> list[int]:
    index = {int(o): i for i, o in enumerate(layer.node_osmid)}
    if tail_osmid not in index or head_osmid not in index:
        return []
    u, v = index[tail_osmid], index[head_osmid]
    return [e for e in range(layer.indptr[u], layer.indptr[u + 1]) if layer.edge_head[e] == v]


def graph_way_ids(G) -> set[int]:
    ids = set()
    for _, _, osmid in G.edges(data="osmid"):
        ids.update(osmid if isinstance(osmid, list) else [osmid])
    return ids


def canonical_edges(layer: StreetLayer) -> tuple[list[tuple[int, int, str, tuple]], np.ndarray]:
    """Edges as (tail osmid, head osmid, name, polyline) sorted, and their (length, time) rows."""
    names = np.append(layer.names, "").astype(str)
    gi, pts = layer.geometry_indptr, np.round(layer.geometry_lonlat, 9)
    rows = [(int(layer.node_osmid[layer.edge_tail[e]]), int(layer.node_osmid[layer.edge_head[e]]),
             str(names[layer.edge_name[e]]), tuple(map(tuple, pts[gi[e]:gi[e + 1]])))
            for e in range(layer.n_edges)]
    order = sorted(range(len(rows)), key=rows.__getitem__)
    values = np.stack([layer.edge_length_m, layer.edge_duration_s], axis=1).astype(float)
    return [rows[i] for i in order], values[order]


def assert_same_as_osmnx_route(result: StreetsResult) -> None:
    """The compiled layers equal the networkx + osmnx.simplify_graph build of the same pieces."""
    for name, G in result.graphs.items():
        compiled, reference = result.layers[name], graph_to_street_layer(G, name)
        np.testing.assert_array_equal(compiled.node_osmid, reference.node_osmid)
        np.testing.assert_array_equal(compiled.node_lon, reference.node_lon)
        rows_c, values_c = canonical_edges(compiled)
        rows_r, values_r = canonical_edges(reference)
        assert rows_c == rows_r, name  # same directed edges, names and geometry
        np.testing.assert_allclose(values_c, values_r, rtol=1e-6, atol=1e-6)


# ---- hand-written fixtures ------------------------------------------------------------------

@pytest.fixture(scope="module")
def town(osm_dir: Path) -> StreetsResult:
    return build_streets(osm_dir / "small_town.osm")


def test_town_report_counts(town: StreetsResult) -> None:
    assert town.report["ways_read"] == 14  # every highway=* way, the building excluded
    assert town.report["ways_clipped"] == 0 and town.report["nodes_missing"] == 0
    assert town.report["walk_island_nodes_dropped"] == 2    # the island street 20-21
    assert town.report["car_island_nodes_dropped"] == 3     # island + motorway dead end 11
    for layer in ("walk", "bike", "car"):
        assert town.report[f"{layer}_edges"] == town.layers[layer].n_edges
        assert town.report[f"{layer}_nodes"] == town.graphs[layer].number_of_nodes()


def test_town_compiled_equals_osmnx_route(town: StreetsResult) -> None:
    assert_same_as_osmnx_route(town)


def test_clipped_compiled_equals_osmnx_route(osm_dir: Path) -> None:
    assert_same_as_osmnx_route(build_streets(osm_dir / "clipped.osm"))


@pytest.mark.parametrize("layer", ["walk", "bike", "car"])
def test_town_layers_are_valid_csr(town: StreetsResult, layer: str) -> None:
    assert_csr_invariants(town.layers[layer])
    assert_lengths_are_great_circle(town.layers[layer])


def test_town_way_membership(town: StreetsResult) -> None:
    walk, bike, car = (graph_way_ids(town.graphs[k]) for k in ("walk", "bike", "car"))
    assert {106, 113, 115} <= walk and not {109, 110, 111, 112, 114} & walk
    assert {113, 105} <= bike and not {106, 115, 109} & bike
    assert 109 not in car  # the motorway leads only out of the network: not strongly connected
    assert not {106, 113, 115, 110, 111, 112} & car


def test_town_oneway(town: StreetsResult) -> None:
    car, bike, walk = town.layers["car"], town.layers["bike"], town.layers["walk"]
    assert edge_ids(car, 4, 5) and not edge_ids(car, 5, 4)        # Rua B, oneway=yes
    assert edge_ids(car, 9, 8) and not edge_ids(car, 8, 9)        # Rua C, oneway=-1
    assert edge_ids(car, 2, 5) and not edge_ids(car, 5, 2)        # Rua E, oneway=yes ...
    assert edge_ids(bike, 2, 5) and edge_ids(bike, 5, 2)          # ... with cycleway=opposite_lane
    assert edge_ids(walk, 5, 4) and edge_ids(walk, 8, 9)          # walking ignores oneway


def test_town_speeds(town: StreetsResult, osm_dir: Path) -> None:
    car, walk = town.layers["car"], town.layers["walk"]
    avenida = edge_ids(car, 6, 9)[0]   # maxspeed "50 mph"
    rua_e = edge_ids(car, 2, 5)[0]     # maxspeed "BR:urban": tertiary default 40 km/h
    assert car.edge_duration_s[avenida] == pytest.approx(
        car.edge_length_m[avenida] / (50 * MILE_KM / 3.6), rel=1e-4)
    assert car.edge_duration_s[rua_e] == pytest.approx(car.edge_length_m[rua_e] / (40 / 3.6),
                                                       rel=1e-5)
    np.testing.assert_allclose(walk.edge_duration_s, walk.edge_length_m / (WALK_SPEED_KPH / 3.6),
                               rtol=1e-5)
    faster = build_streets(osm_dir / "small_town.osm", walk_speed_kph=6.0, bike_speed_kph=20)
    np.testing.assert_allclose(faster.layers["walk"].edge_duration_s,
                               faster.layers["walk"].edge_length_m / (6.0 / 3.6), rtol=1e-5)
    np.testing.assert_allclose(faster.layers["bike"].edge_duration_s,
                               faster.layers["bike"].edge_length_m / (20 / 3.6), rtol=1e-5)


def test_town_names(town: StreetsResult) -> None:
    car = town.layers["car"]
    assert car.names[car.edge_name[edge_ids(car, 4, 5)[0]]] == "Rua B"
    walk = town.layers["walk"]
    assert walk.edge_name[edge_ids(walk, 5, 9)[0]] == -1  # the unnamed sidewalk
    assert list(walk.names) == sorted(walk.names)


def test_town_graphs_follow_osmnx_conventions(town: StreetsResult) -> None:
    for layer, G in town.graphs.items():
        assert G.graph["crs"] == "epsg:4326"
        assert all({"x", "y"} <= set(d) for _, d in G.nodes(data=True))
        for _, _, d in G.edges(data=True):
            assert {"osmid", "highway", "length", "travel_time", "oneway", "reversed"} <= set(d)
        nodes, edges = ox.graph_to_gdfs(G)
        assert len(edges) == town.layers[layer].n_edges and len(nodes) == G.number_of_nodes()
    car = town.graphs["car"]
    assert not car.edges[4, 5, 0]["oneway"] is False and car.edges[4, 5, 0]["oneway"]
    assert car.edges[4, 7, 0]["oneway"] is False
    assert {car.edges[4, 7, 0]["reversed"], car.edges[7, 4, 0]["reversed"]} == {False, True}


def test_town_charging_stations(town: StreetsResult) -> None:
    c = town.charging
    assert list(c.osmid) == [-200, 30]  # way ids negated
    assert list(c.capacity) == [-1, 4] and list(c.name) == ["Garagem", "Eletroposto Centro"]
    assert list(c.operator) == ["", "CEEE"]
    assert (c.lon[0], c.lat[0]) == pytest.approx((-51.2009, -30.0009), abs=1e-9)  # square centre
    assert (c.lon[1], c.lat[1]) == pytest.approx((-51.1995, -29.9995), abs=1e-9)


def _to_pbf(src: Path, out: Path) -> Path:
    with osmium.SimpleWriter(str(out)) as writer:
        for obj in osmium.FileProcessor(str(src)):
            writer.add(obj)
    return out


def test_osm_bz2_and_pbf_give_the_same_layers(town: StreetsResult, osm_dir: Path,
                                              tmp_path: Path) -> None:
    src = osm_dir / "small_town.osm"
    compressed = tmp_path / "small_town.osm.bz2"
    compressed.write_bytes(bz2.compress(src.read_bytes()))
    for path in (compressed, _to_pbf(src, tmp_path / "small_town.osm.pbf")):
        other = build_streets(path)
        assert other.report == town.report
        for name, layer in town.layers.items():
            np.testing.assert_array_equal(other.layers[name].node_osmid, layer.node_osmid)
            np.testing.assert_array_equal(other.layers[name].edge_head, layer.edge_head)
            np.testing.assert_array_equal(other.layers[name].geometry_lonlat,
                                          layer.geometry_lonlat)


def test_clipped_fixture_is_split_and_counted(osm_dir: Path) -> None:
    result = build_streets(osm_dir / "clipped.osm")
    assert result.report["ways_clipped"] == 2          # ways 1 and 2
    assert result.report["nodes_missing"] == 3         # 99, 97, 98
    assert result.report["ways_dropped_clipped"] == 1  # way 2: no node in the file
    assert result.report["way_pieces"] == 3            # 1-2, 3-4-5 (of way 1) and 5-6
    car = result.layers["car"]
    assert set(car.node_osmid) == {3, 6}  # 1-2 is an island; 4 and 5 are interstitial
    assert not edge_ids(car, 2, 3) and result.report["car_island_nodes_dropped"] == 2


# ---- bad input ------------------------------------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.osm.pbf"
    with pytest.raises(OsmError, match="nowhere.osm.pbf: no such OSM file") as info:
        build_streets(path)
    assert info.value.path == str(path) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(("name", "message"), [
    ("not_osm.osm", "not a readable OSM file"),
    ("no_streets.osm", "contains no streets"),
    ("only_unusable_streets.osm", "no street usable"),
])
def test_bad_fixtures(osm_dir: Path, name: str, message: str) -> None:
    with pytest.raises(OsmError, match=message) as info:
        build_streets(osm_dir / name)
    assert str(info.value).startswith(str(osm_dir / name))
    assert "\n" not in str(info.value)


def test_empty_and_misnamed_files(osm_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    with pytest.raises(OsmError, match="empty.osm.pbf: not a readable OSM file"):
        build_streets(empty)
    misnamed = tmp_path / "town.txt"
    shutil.copy(osm_dir / "small_town.osm", misnamed)
    with pytest.raises(OsmError, match="town.txt: not an OSM file"):
        build_streets(misnamed)


# ---- real extracts --------------------------------------------------------------------------

@pytest.fixture(scope="module", params=sorted(CITIES))
def city(request: pytest.FixtureRequest, sample_dir: Path) -> tuple[Path, StreetsResult]:
    path = sample_dir / request.param / CITIES[request.param]
    return path, build_streets(path)


def _raw_ways(path: Path) -> list[tuple[int, dict[str, str], list[tuple[float, float]]]]:
    ways = []
    for obj in osmium.FileProcessor(str(path)).with_locations():
        if obj.is_way() and "highway" in obj.tags:
            coords = [(round(n.lon, 7), round(n.lat, 7)) for n in obj.nodes if n.location.valid()]
            ways.append((obj.id, dict(obj.tags), coords))
    return ways


def test_city_layers_build(city: tuple[Path, StreetsResult]) -> None:
    _, result = city
    for name, layer in result.layers.items():
        assert layer.n_edges > 1000, name
        assert_csr_invariants(layer)
        assert_lengths_are_great_circle(layer)
    assert result.layers["walk"].n_edges > result.layers["car"].n_edges


def test_city_compiled_equals_osmnx_route(city: tuple[Path, StreetsResult]) -> None:
    """On the real extracts: same nodes, edges (access directions), lengths, times, names."""
    assert_same_as_osmnx_route(city[1])


def test_access_tag_keys_decide_directions(city: tuple[Path, StreetsResult]) -> None:
    """The build evaluates access once per distinct ACCESS_TAG_KEYS restriction: that is exact."""
    for _, tags, _ in _raw_ways(city[0]):
        restricted = {k: v for k, v in tags.items() if k in ACCESS_TAG_KEYS}
        for layer in ("walk", "bike", "car"):
            assert travel_directions(restricted, layer) == travel_directions(tags, layer), tags


def test_city_walk_has_footways_cars_lack(city: tuple[Path, StreetsResult]) -> None:
    path, result = city
    footways = {wid for wid, tags, _ in _raw_ways(path) if tags["highway"] == "footway"}
    assert len(footways & graph_way_ids(result.graphs["walk"])) > 0.5 * len(footways)
    assert not footways & graph_way_ids(result.graphs["car"])


def test_city_car_layer_respects_oneway(city: tuple[Path, StreetsResult]) -> None:
    path, result = city
    pairs = segment_pairs(result.layers["car"])
    checked = 0
    for _, tags, coords in _raw_ways(path):
        is_oneway = tags.get("oneway", "yes" if tags.get("junction") == "roundabout" else "")
        if is_oneway != "yes" or tags["highway"] not in ("primary", "secondary", "tertiary",
                                                          "residential"):
            continue
        forward = list(zip(coords[:-1], coords[1:]))
        if forward and all(p in pairs for p in forward):
            checked += 1
            assert not any((b, a) in pairs for a, b in forward), tags
    assert checked > 100
    two_way = [c for _, t, c in _raw_ways(path) if t["highway"] == "residential"
               and not {"oneway", "junction"} & set(t) and list(zip(c[:-1], c[1:]))[0] in pairs]
    assert all((c[1], c[0]) in pairs for c in two_way) and len(two_way) > 100


def test_city_clipped_extract_builds_and_counts(sample_dir: Path, tmp_path: Path) -> None:
    """Drop every node outside a window of Porto Alegre, keep all ways: a real clipped extract."""
    src, out = sample_dir / "porto-alegre" / "poa_osm.pbf", tmp_path / "clipped.osm.pbf"
    kept: set[int] = set()
    with osmium.SimpleWriter(str(out)) as writer:
        for obj in osmium.FileProcessor(str(src)):
            if obj.is_node():
                if not (-51.23 < obj.location.lon < -51.18 and -30.06 < obj.location.lat < -30.02):
                    continue
                kept.add(obj.id)
            writer.add(obj)
    clipped, missing = 0, set()
    for obj in osmium.FileProcessor(str(out), osmium.osm.WAY):
        if "highway" in obj.tags:
            refs = {n.ref for n in obj.nodes} - kept
            clipped += bool(refs)
            missing |= refs
    result = build_streets(out)
    assert clipped > 100
    assert result.report["ways_clipped"] == clipped
    assert result.report["nodes_missing"] == len(missing)
    for layer in result.layers.values():
        assert layer.n_edges > 0
        assert_csr_invariants(layer)
        lon, lat = layer.node_lon, layer.node_lat
        assert np.all((lon > -51.23) & (lon < -51.18) & (lat > -30.06) & (lat < -30.02))
    assert math.isfinite(float(result.layers["car"].edge_duration_s.sum()))
