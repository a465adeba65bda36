"""The osmnx/networkx street-layer build: the reference the compiled build is tested against.

``build_layer_graph`` is how tanlu built layers before ``graphs._compile_streets``: networkx
graph per layer, ``osmnx.truncate.largest_component``, ``osmnx.simplify_graph``. It is kept for
users who want the inspectable osmnx graph (with OSM way ids, ``highway``, ``oneway``) and as an
independent oracle in the tests; the build itself no longer calls it.
"""
from __future__ import annotations

from itertools import pairwise
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox

from .access import NEITHER, Directions, travel_directions
from .network import StreetLayer
from .osm_reader import WayPiece
from .streets import CAR_FALLBACK_SPEED_KPH, CAR_HIGHWAY_SPEEDS_KPH, CRS, EDGE_TAGS

__all__ = ["build_layer_graph", "graph_to_street_layer"]

_SUMMED_EDGE_ATTRS = {"length": sum, "travel_time": sum}


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
    for node, (lon, lat) in zip(piece.node_ids, piece.lonlat, strict=True):
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
