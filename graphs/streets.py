"""Street layers (walk, bike, car) from OSM: osmnx-style graphs compiled to CSR layers."""
from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
from tqdm import tqdm

from .access import NEITHER, Directions, travel_directions
from .charging import charging_stations_from_features
from .errors import OsmError
from .modes import STREET_LAYERS
from .network import ChargingStations, StreetLayer
from .osm_reader import WayPiece, read_osm

__all__ = ["WALK_SPEED_KPH", "BIKE_SPEED_KPH", "CAR_HIGHWAY_SPEEDS_KPH", "CAR_FALLBACK_SPEED_KPH",
           "StreetsResult", "build_streets", "build_layer_graph", "graph_to_street_layer"]

WALK_SPEED_KPH = 4.8
BIKE_SPEED_KPH = 15.0
#: Car speeds for ways without a usable ``maxspeed`` (urban free-flow, km/h).
CAR_HIGHWAY_SPEEDS_KPH = {
    "motorway": 100.0, "motorway_link": 60.0, "trunk": 80.0, "trunk_link": 50.0,
    "primary": 60.0, "primary_link": 40.0, "secondary": 50.0, "secondary_link": 40.0,
    "tertiary": 40.0, "tertiary_link": 30.0, "unclassified": 30.0, "residential": 30.0,
    "living_street": 10.0, "service": 15.0, "road": 30.0, "track": 15.0,
}
CAR_FALLBACK_SPEED_KPH = 30.0
CRS = "epsg:4326"
_SUMMED_EDGE_ATTRS = {"length": sum, "travel_time": sum}
#: OSM tags copied onto edges (as osmnx's ``useful_tags_way``).
EDGE_TAGS = ("highway", "name", "maxspeed", "ref", "lanes", "junction", "service", "bridge",
             "tunnel", "access", "width")


@dataclass(frozen=True)
class StreetsResult:
    """The street part of a network: graphs to inspect, compiled layers, charging, counts."""

    graphs: dict[str, nx.MultiDiGraph]
    layers: dict[str, StreetLayer]
    charging: ChargingStations
    report: dict[str, int]


def build_streets(osm_path: str | os.PathLike, *, walk_speed_kph: float = WALK_SPEED_KPH,
                  bike_speed_kph: float = BIKE_SPEED_KPH, progress: bool = False) -> StreetsResult:
    """Build the walk, bike and car layers and the charging stations of an OSM file.

    Each layer keeps its largest strongly connected component (so any snapped origin reaches
    any snapped destination); ``report`` counts the nodes dropped as islands, the ways read
    and clipped and the edges per layer.

    Raises
    ------
    OsmError
        If the file is missing, not an OSM file, or has no street any layer may use.
    """
    data = read_osm(osm_path, progress=progress)
    if not data.pieces:
        raise OsmError(f"{osm_path}: contains no streets (no highway=* way)", path=str(osm_path))
    speeds = {"walk": walk_speed_kph, "bike": bike_speed_kph, "car": None}
    report = dict(data.report)
    graphs, layers = {}, {}
    for layer in tqdm(STREET_LAYERS, disable=not progress, desc="street layers"):
        G, dropped = build_layer_graph(data.pieces, layer, speed_kph=speeds[layer])
        graphs[layer] = G
        layers[layer] = graph_to_street_layer(G, layer)
        report[f"{layer}_nodes"] = layers[layer].n_nodes
        report[f"{layer}_edges"] = layers[layer].n_edges
        report[f"{layer}_island_nodes_dropped"] = dropped
    if not any(layer.n_edges for layer in layers.values()):
        raise OsmError(f"{osm_path}: contains no street usable on foot, by bike or by car",
                       path=str(osm_path))
    charging = charging_stations_from_features(data.charging)
    report["charging_stations"] = int(charging.osmid.shape[0])
    return StreetsResult(graphs=graphs, layers=layers, charging=charging, report=report)


def build_layer_graph(pieces: list[WayPiece], layer: str, *,
                      speed_kph: float | None) -> tuple[nx.MultiDiGraph, int]:
    """One layer as a simplified osmnx graph, and the number of island nodes dropped.

    ``speed_kph`` is the constant speed of walk and bike; None derives car speeds from
    ``maxspeed`` with :data:`CAR_HIGHWAY_SPEEDS_KPH` as defaults.
    """
    G = nx.MultiDiGraph(crs=CRS)
    for piece in pieces:
        directions = travel_directions(piece.tags, layer)
        if directions != NEITHER:
            _add_piece(G, piece, directions)
    if G.number_of_edges() == 0:
        return G, 0
    n_nodes = G.number_of_nodes()
    G = ox.truncate.largest_component(G, strongly=True)
    dropped = n_nodes - G.number_of_nodes()
    G = ox.distance.add_edge_lengths(G)
    _add_travel_times(G, speed_kph)  # per OSM segment, before simplify merges unlike ways
    G = ox.simplify_graph(G, remove_rings=False, edge_attr_aggs=_SUMMED_EDGE_ATTRS)
    for _, _, data in G.edges(data=True):
        if isinstance(data["speed_kph"], list):  # merged segments: the path's mean speed
            data["speed_kph"] = float(data["length"] / data["travel_time"] * 3.6)
    return G, dropped


def _add_piece(G: nx.MultiDiGraph, piece: WayPiece, directions: Directions) -> None:
    """Add a way piece as osmnx does: one edge per node pair, reversed copy if two-way."""
    for node, (lon, lat) in zip(piece.node_ids, piece.lonlat):
        G.add_node(node, x=lon, y=lat)
    attrs: dict[str, Any] = {key: piece.tags[key] for key in EDGE_TAGS if key in piece.tags}
    attrs["osmid"] = piece.way_id
    nodes = list(piece.node_ids) if directions.forward else list(reversed(piece.node_ids))
    edges = list(pairwise(nodes))
    is_oneway = not (directions.forward and directions.backward)
    G.add_edges_from(edges, **attrs, oneway=is_oneway, reversed=False)
    if not is_oneway:
        G.add_edges_from([(v, u) for u, v in edges], **attrs, oneway=False, reversed=True)


def _add_travel_times(G: nx.MultiDiGraph, speed_kph: float | None) -> None:
    if speed_kph is None:
        ox.routing.add_edge_speeds(G, hwy_speeds=CAR_HIGHWAY_SPEEDS_KPH,
                                   fallback=CAR_FALLBACK_SPEED_KPH)
        ox.routing.add_edge_travel_times(G)
        return
    speed_mps = float(speed_kph) / 3.6  # constant speed: skip osmnx's GeoDataFrame round trip
    for _, _, data in G.edges(data=True):
        data["speed_kph"] = float(speed_kph)
        data["travel_time"] = data["length"] / speed_mps


def _edge_name(data: dict[str, Any]) -> str:
    """An edge's name; merged edges with several names join them OSM-style with ``;``."""
    name = data.get("name", "")
    return "; ".join(sorted(set(name))) if isinstance(name, list) else str(name)


def _edge_coords(G: nx.MultiDiGraph, u: int, v: int, data: dict[str, Any]) -> np.ndarray:
    if "geometry" in data:
        return np.asarray(data["geometry"].coords, dtype=np.float64)
    return np.array([[G.nodes[u]["x"], G.nodes[u]["y"]], [G.nodes[v]["x"], G.nodes[v]["y"]]])


def graph_to_street_layer(G: nx.MultiDiGraph, name: str) -> StreetLayer:
    """Compile an osmnx-style graph to a CSR :class:`StreetLayer` (nodes by osmid, edges by tail)."""
    osmids = np.array(sorted(G.nodes), dtype=np.int64)
    index = {int(osmid): i for i, osmid in enumerate(osmids)}
    edges = sorted(G.edges(keys=True, data=True), key=lambda e: (index[e[0]], index[e[1]], e[2]))
    tail = np.array([index[u] for u, _, _, _ in edges], dtype=np.int32)
    head = np.array([index[v] for _, v, _, _ in edges], dtype=np.int32)
    edge_names = [_edge_name(d) for _, _, _, d in edges]
    names = sorted(set(edge_names) - {""})
    name_index = {n: i for i, n in enumerate(names)}
    coords = [_edge_coords(G, u, v, d) for u, v, _, d in edges]
    sizes = np.array([len(c) for c in coords], dtype=np.int64)
    return StreetLayer(
        name=name,
        node_osmid=osmids,
        node_lon=np.array([G.nodes[n]["x"] for n in osmids.tolist()], dtype=np.float64),
        node_lat=np.array([G.nodes[n]["y"] for n in osmids.tolist()], dtype=np.float64),
        indptr=np.searchsorted(tail, np.arange(len(osmids) + 1)).astype(np.int64),
        edge_tail=tail,
        edge_head=head,
        edge_length_m=np.array([d["length"] for *_, d in edges], dtype=np.float32),
        edge_duration_s=np.array([d["travel_time"] for *_, d in edges], dtype=np.float32),
        edge_name=np.array([name_index.get(n, -1) for n in edge_names], dtype=np.int32),
        names=np.array(names, dtype=str),
        geometry_indptr=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        geometry_lonlat=(np.concatenate(coords) if coords else np.empty((0, 2))),
    )
