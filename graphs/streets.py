"""Street layers (walk, bike, car) from OSM, compiled straight to CSR layers.

The build (``graphs._compile_streets``) never makes a networkx graph; the osmnx-style graphs
users inspect are built on demand (``StreetsResult.graphs``) by ``graphs._osmnx_streets``,
which is also the oracle the compiled layers are tested against.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from ._compile_streets import compile_layer, way_arrays
from ._parking_build import parkings_from_features
from .charging import charging_stations_from_features
from .errors import OsmError
from .modes import STREET_LAYERS
from .network import PARKING_KINDS, ChargingStations, Parkings, StreetLayer
from .osm_reader import OsmFeature, WayPiece, read_osm

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "BIKE_SPEED_KPH",
    "CAR_FALLBACK_SPEED_KPH",
    "CAR_HIGHWAY_SPEEDS_KPH",
    "WALK_SPEED_KPH",
    "StreetsResult",
    "build_streets",
]

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
#: OSM tags copied onto edges (as osmnx's ``useful_tags_way``).
EDGE_TAGS = ("highway", "name", "maxspeed", "ref", "lanes", "junction", "service", "bridge",
             "tunnel", "access", "width")


@dataclass(frozen=True)
class StreetsResult:
    """The street part of a network: compiled layers, charging stations, counts.

    ``graphs`` are the osmnx-style graphs of the same layers (with OSM way ids, ``highway``,
    ``oneway``, ...), built from ``pieces`` by the osmnx route on first access only.
    """

    layers: dict[str, StreetLayer]
    charging: ChargingStations
    report: dict[str, int]
    pieces: list[WayPiece] = field(repr=False, default_factory=list)
    speeds_kph: dict[str, float | None] = field(repr=False, default_factory=dict)
    parkings: Parkings = field(default_factory=Parkings.empty)
    #: ``amenity=bicycle_rental`` nodes (bike-share stations; ``graphs._bikeshare_build``)
    bike_rental: list[OsmFeature] = field(repr=False, default_factory=list)

    @cached_property
    def graphs(self) -> dict[str, nx.MultiDiGraph]:
        from ._osmnx_streets import build_layer_graph

        return {layer: build_layer_graph(self.pieces, layer, speed_kph=self.speeds_kph[layer])[0]
                for layer in STREET_LAYERS}


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
    ways = way_arrays(data.pieces)
    layers = {}
    for layer in tqdm(STREET_LAYERS, disable=not progress, desc="street layers"):
        layers[layer], dropped = compile_layer(ways, layer, speed_kph=speeds[layer],
                                               highway_kph=CAR_HIGHWAY_SPEEDS_KPH,
                                               fallback_kph=CAR_FALLBACK_SPEED_KPH)
        report[f"{layer}_nodes"] = layers[layer].n_nodes
        report[f"{layer}_edges"] = layers[layer].n_edges
        report[f"{layer}_island_nodes_dropped"] = dropped
    if not any(layer.n_edges for layer in layers.values()):
        raise OsmError(f"{osm_path}: contains no street usable on foot, by bike or by car",
                       path=str(osm_path))
    charging = charging_stations_from_features(data.charging)
    report["charging_stations"] = int(charging.osmid.shape[0])
    parkings = parkings_from_features(data.parking)
    for code, kind in enumerate(PARKING_KINDS):
        report[kind] = int((parkings.kind == code).sum())
    report["park_ride_tagged"] = int((parkings.park_ride >= 0).sum())
    report["bicycle_rentals"] = len(data.bike_rental)
    return StreetsResult(layers=layers, charging=charging, report=report, pieces=data.pieces,
                         speeds_kph=speeds, parkings=parkings, bike_rental=data.bike_rental)


def __getattr__(name: str) -> Any:
    """The osmnx route (``build_layer_graph``, ``graph_to_street_layer``), imported on use."""
    if name in ("build_layer_graph", "graph_to_street_layer"):
        from . import _osmnx_streets

        return getattr(_osmnx_streets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
