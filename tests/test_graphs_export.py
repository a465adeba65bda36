"""Export: street layers back to osmnx graphs, networks to GeoPackage and GeoJSON."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pyogrio
import pytest

from graphs.export import export_layer_names, export_network, street_layer_to_graph
from graphs.network import Network, Timetable
from graphs.streets import StreetsResult, build_streets, graph_to_street_layer

S = np.array  # short for the hand-made arrays below


@pytest.fixture(scope="module")
def town(osm_dir: Path) -> StreetsResult:
    return build_streets(osm_dir / "small_town.osm")


def tiny_timetable() -> Timetable:
    """Three stops, one bus route, one pattern A -> B -> C; hop A-B has a shape, B-C none."""
    return Timetable(
        feed_names=S(["f"]), stop_id=S(["f:A", "f:B", "f:C"]), stop_name=S(["A", "B", "C"]),
        stop_lon=S([-51.2, -51.199, -51.198]), stop_lat=S([-30.0, -30.0, -29.999]),
        stop_parent=S([-1, -1, 0], dtype=np.int32), stop_feed=S([0, 0, 0], dtype=np.int16),
        stop_min_transfer_s=S([0, 0, 0], dtype=np.int32),
        route_id=S(["f:r1"]), route_short_name=S(["T1"]), route_long_name=S(["Centro"]),
        route_type=S([3], dtype=np.int32), route_mode=S(["bus"]),
        route_feed=S([0], dtype=np.int16), route_co2e_g_per_pkm=S([50.0], dtype=np.float32),
        route_co2e_source=S(["factor:bus"]),
        pattern_route=S([0], dtype=np.int32), pattern_stop_indptr=S([0, 3]),
        pattern_stops=S([0, 1, 2], dtype=np.int32),
        pattern_hop_distance_m=S([0, 120, 150], dtype=np.float32),
        pattern_distance_source=S(["shape"]), pattern_trip_indptr=S([0, 1]),
        hop_geometry_indptr=S([0, 0, 3, 3]),
        hop_geometry_lonlat=S([[-51.2, -30.0], [-51.1995, -30.0001], [-51.199, -30.0]]),
        trip_id=S(["f:t1"]), trip_service=S([0], dtype=np.int32), trip_headsign=S(["C"]),
        trip_is_frequency=S([False]), trip_stop_time_indptr=S([0, 3]),
        stop_time_arrival_s=S([100, 200, 300], dtype=np.int32),
        stop_time_departure_s=S([100, 200, 300], dtype=np.int32),
        stop_time_is_interpolated=S([False] * 3),
        service_id=S(["f:s"]), service_first_date="2024-01-01", service_active=S([[True]]),
        footpath_indptr=S([0, 0, 0, 0]), footpath_target=S([], dtype=np.int32),
        footpath_duration_s=S([], dtype=np.int32), footpath_distance_m=S([], dtype=np.float32),
        stop_walk_node=S([0, 1, -1], dtype=np.int32),
        stop_link_distance_m=S([1.5, 2.5, np.inf], dtype=np.float32),
    )


def make_network(town: StreetsResult, timetable: Timetable | None = None) -> Network:
    return Network(manifest={}, streets=dict(town.layers), timetable=timetable,
                   charging_stations=town.charging)


@pytest.mark.parametrize("mode", ["walk", "bike", "car"])
def test_street_layer_round_trips_through_a_graph(town: StreetsResult, mode: str) -> None:
    layer = town.layers[mode]
    G = street_layer_to_graph(layer)
    assert G.graph["crs"] == "epsg:4326"
    assert G.number_of_nodes() == layer.n_nodes and G.number_of_edges() == layer.n_edges
    nodes, edges = ox.graph_to_gdfs(G)
    assert edges["length"].sum() == pytest.approx(float(layer.edge_length_m.sum()), rel=1e-6)
    again = graph_to_street_layer(G, mode)
    for field in ("node_osmid", "node_lon", "node_lat", "indptr", "edge_tail", "edge_head",
                  "edge_length_m", "edge_duration_s", "edge_name", "names", "geometry_indptr",
                  "geometry_lonlat"):
        np.testing.assert_array_equal(getattr(again, field), getattr(layer, field), err_msg=field)


def test_graph_names_and_travel_times_match_the_build_graph(town: StreetsResult) -> None:
    G = street_layer_to_graph(town.layers["car"])
    built = town.graphs["car"]
    for u, v, data in G.edges(data=True):
        lengths = sorted(d["length"] for d in built[u][v].values())
        assert min(abs(data["length"] - x) for x in lengths) < 1e-3
    assert G.edges[4, 5, 0]["name"] == "Rua B"


def test_export_geopackage_without_timetable(town: StreetsResult, tmp_path: Path) -> None:
    network = make_network(town)
    out = export_network(network, tmp_path / "town.gpkg")
    assert out == [tmp_path / "town.gpkg"]
    names = [row[0] for row in pyogrio.list_layers(out[0])]
    assert names == ["walk_edges", "walk_nodes", "bike_edges", "bike_nodes", "car_edges",
                     "car_nodes", "charging_stations"] == export_layer_names(network)
    car = gpd.read_file(out[0], layer="car_edges")
    layer = town.layers["car"]
    assert len(car) == layer.n_edges
    np.testing.assert_allclose(car["length"], layer.edge_length_m, rtol=1e-6)
    gi = layer.geometry_indptr
    first = np.array([g.coords[0] for g in car.geometry])
    np.testing.assert_allclose(first, layer.geometry_lonlat[gi[:-1]])
    np.testing.assert_array_equal(car["u"], layer.node_osmid[layer.edge_tail])
    charging = gpd.read_file(out[0], layer="charging_stations")
    assert sorted(charging["capacity"]) == [-1, 4] and charging.crs.to_epsg() == 4326


def test_export_geojson_with_timetable(town: StreetsResult, tmp_path: Path) -> None:
    network = make_network(town, tiny_timetable())
    out = export_network(network, tmp_path / "town.geojson", layers=["car", "stops",
                                                                      "transit_hops"])
    assert [p.name for p in out] == ["town.car_edges.geojson", "town.car_nodes.geojson",
                                     "town.stops.geojson", "town.transit_hops.geojson"]
    assert not (tmp_path / "town.geojson").exists()
    stops = gpd.read_file(out[2])
    assert list(stops["parent_station"]) == ["", "", "f:A"]
    assert stops["link_distance_m"].isna().tolist() == [False, False, True]  # inf -> null
    hops = gpd.read_file(out[3])
    assert list(hops["from_stop_id"]) == ["f:A", "f:B"]
    assert list(hops["route_short_name"]) == ["T1", "T1"] and set(hops["mode"]) == {"bus"}
    assert len(hops.geometry[0].coords) == 3                     # along the hop shape
    assert list(hops.geometry[1].coords) == [(-51.199, -30.0), (-51.198, -29.999)]  # straight
    np.testing.assert_allclose(hops["distance_m"], [120, 150])


def test_export_refuses_bad_requests(town: StreetsResult, tmp_path: Path) -> None:
    network = make_network(town)
    with pytest.raises(ValueError, match="must end in .gpkg or .geojson"):
        export_network(network, tmp_path / "town.shp")
    with pytest.raises(ValueError, match="no layer 'stops'"):
        export_network(network, tmp_path / "town.gpkg", layers=["stops"])
    with pytest.raises(ValueError, match="no layer 'boat'"):
        export_network(network, tmp_path / "town.gpkg", layers=["boat"])


def test_export_real_network(poa_network: Network, tmp_path: Path) -> None:
    out = export_network(poa_network, tmp_path / "poa.gpkg", layers=["car", "transit_hops",
                                                                     "stops"])
    hops = gpd.read_file(out[0], layer="transit_hops")
    tt = poa_network.timetable
    assert len(hops) == len(tt.pattern_stops) - (len(tt.pattern_stop_indptr) - 1)
    assert set(hops["mode"]) <= {"bus", "metro", "rail", "tram"}
    assert len(gpd.read_file(out[0], layer="stops")) == tt.n_stops
    assert len(gpd.read_file(out[0], layer="car_edges")) == poa_network.streets["car"].n_edges


def test_exported_edges_and_hops_carry_co2e_per_passenger(poa_network, tmp_path):
    """CO2e columns equal factor x length, recomputed from the manifest's factor table."""
    import pyogrio

    from graphs.factors import factor_table_from_dict

    out = tmp_path / "co2.gpkg"
    export_network(poa_network, out, layers=["car", "transit_hops"])
    table = factor_table_from_dict(poa_network.manifest["factors"])
    car = pyogrio.read_dataframe(out, layer="car_edges")
    assert car["co2e_g_car_petrol"].to_numpy() == pytest.approx(
        car["length"].to_numpy() / 1000 * table.g_per_pkm("car_petrol"), rel=1e-6)
    assert (car["co2e_g_car_bev"] < car["co2e_g_car_petrol"]).all()
    hops = pyogrio.read_dataframe(out, layer="transit_hops")
    bus = hops[hops["mode"] == "bus"]
    assert bus["co2e_g"].to_numpy() == pytest.approx(
        bus["distance_m"].to_numpy() / 1000 * table.g_per_pkm("bus"), rel=1e-5)


def test_geopackage_layers_are_valid_for_gis(poa_network: Network, tmp_path: Path) -> None:
    """Each layer declares its geometry type (even when empty) and holds only valid geometry."""
    import pyogrio

    out = export_network(poa_network, tmp_path / "poa.gpkg")[0]
    expected = {name: "LineString" if name.endswith(("_edges", "_hops")) else "Point"
                for name in export_layer_names(poa_network)}
    assert dict(pyogrio.list_layers(out).tolist()) == expected
    assert poa_network.charging_stations.osmid.size == 0  # Porto Alegre's extract has none
    for name in expected:
        frame = gpd.read_file(out, layer=name)
        assert frame.crs.to_epsg() == 4326
        present = frame.geometry.dropna()
        assert present.is_valid.all() and not present.is_empty.any(), name
