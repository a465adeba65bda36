"""Export a compiled network to GIS files (GeoPackage, GeoJSON) and street layers to graphs."""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from .crs import Crs, from_wgs84, parse_crs
from .factors import FactorTable
from .modes import MODES
from .network import ChargingStations, Network, StreetLayer, Timetable

__all__ = ["street_layer_to_graph", "export_network", "export_layer_names"]

CRS = "epsg:4326"
GPKG_SUFFIX = ".gpkg"
GEOJSON_SUFFIX = ".geojson"


def street_layer_to_graph(layer: StreetLayer, *,
                          factors: FactorTable | None = None) -> nx.MultiDiGraph:
    """A compiled layer as an osmnx-style graph (nodes keyed by OSM id, ``x``/``y`` lon/lat).

    Edges carry ``length`` (m), ``travel_time`` (s), ``geometry`` and ``name`` where named,
    so ``osmnx.graph_to_gdfs`` and networkx algorithms work on it; with ``factors``, also
    ``co2e_g_<mode>`` (grams per passenger) for each mode that travels on the layer.
    """
    G = nx.MultiDiGraph(crs=CRS, name=layer.name)
    osmids = layer.node_osmid.tolist()
    G.add_nodes_from((osmid, {"x": float(x), "y": float(y)})
                     for osmid, x, y in zip(osmids, layer.node_lon, layer.node_lat, strict=True))
    co2e = _edge_co2e_columns(layer, factors)
    for e, line in enumerate(_edge_lines(layer)):
        data = {"length": float(layer.edge_length_m[e]),
                "travel_time": float(layer.edge_duration_s[e]), "geometry": line}
        data.update((key, float(values[e])) for key, values in co2e.items())
        if layer.edge_name[e] >= 0:
            data["name"] = str(layer.names[layer.edge_name[e]])
        G.add_edge(osmids[layer.edge_tail[e]], osmids[layer.edge_head[e]], **data)
    return G


def _edge_lines(layer: StreetLayer) -> np.ndarray:
    sizes = np.diff(layer.geometry_indptr)
    indices = np.repeat(np.arange(layer.n_edges), sizes)
    return shapely.linestrings(layer.geometry_lonlat, indices=indices)


def _frame(columns: dict[str, np.ndarray], geometry: np.ndarray) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({name: _nullable(values) for name, values in columns.items()})
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=CRS))


def _nullable(values: np.ndarray) -> np.ndarray | pd.Series:
    """Non-finite floats (an unlinked stop's ``inf`` distance) as nulls GIS formats accept."""
    if values.dtype.kind != "f" or np.isfinite(values).all():
        return values
    return pd.Series(values.astype(float)).where(np.isfinite(values)).astype("Float64")


def _edges_frame(layer: StreetLayer, factors: FactorTable | None) -> gpd.GeoDataFrame:
    names = np.append(layer.names, "").astype(str)  # index -1 picks the appended ""
    columns = {"u": layer.node_osmid[layer.edge_tail], "v": layer.node_osmid[layer.edge_head],
               "name": names[layer.edge_name], "length": layer.edge_length_m.astype(float),
               "travel_time": layer.edge_duration_s.astype(float)}
    columns.update(_edge_co2e_columns(layer, factors))
    return _frame(columns, _edge_lines(layer))


def _edge_co2e_columns(layer: StreetLayer, factors: FactorTable | None) -> dict[str, np.ndarray]:
    """Grams CO2e per passenger on each edge, one column per mode that uses the layer."""
    if factors is None:
        return {}
    length_km = layer.edge_length_m.astype(float) / 1000.0
    return {f"co2e_g_{mode}": length_km * factors.g_per_pkm(mode)
            for mode, m in MODES.items() if m.layer == layer.name}


def _nodes_frame(layer: StreetLayer) -> gpd.GeoDataFrame:
    return _frame({"osmid": layer.node_osmid, "x": layer.node_lon, "y": layer.node_lat},
                  shapely.points(layer.node_lon, layer.node_lat))


def _stops_frame(tt: Timetable) -> gpd.GeoDataFrame:
    parent = np.append(tt.stop_id, "").astype(str)[tt.stop_parent]
    return _frame({"stop_id": tt.stop_id, "stop_name": tt.stop_name, "parent_station": parent,
                   "feed": tt.feed_names[tt.stop_feed], "walk_node": tt.stop_walk_node,
                   "link_distance_m": tt.stop_link_distance_m.astype(float)},
                  shapely.points(tt.stop_lon, tt.stop_lat))


def _transit_hops_frame(tt: Timetable) -> gpd.GeoDataFrame:
    """One row per hop (consecutive stops of a pattern), drawn along the hop geometry."""
    sizes = np.diff(tt.pattern_stop_indptr)
    pattern = np.repeat(np.arange(len(sizes)), sizes)
    hop = np.flatnonzero(np.arange(len(tt.pattern_stops)) > tt.pattern_stop_indptr[pattern])
    from_stop, to_stop = tt.pattern_stops[hop - 1], tt.pattern_stops[hop]
    route = tt.pattern_route[pattern[hop]]
    lines = [_hop_line(tt, int(i), int(a), int(b))
             for i, a, b in zip(hop, from_stop, to_stop, strict=True)]
    return _frame({"pattern": pattern[hop], "route_id": tt.route_id[route],
                   "route_short_name": tt.route_short_name[route], "mode": tt.route_mode[route],
                   "from_stop_id": tt.stop_id[from_stop], "to_stop_id": tt.stop_id[to_stop],
                   "distance_m": tt.pattern_hop_distance_m[hop].astype(float),
                   "co2e_g": (tt.pattern_hop_distance_m[hop].astype(float) / 1000.0
                              * tt.route_co2e_g_per_pkm[route])},
                  np.array(lines, dtype=object))


def _hop_line(tt: Timetable, hop: int, from_stop: int,
              to_stop: int) -> shapely.LineString | None:
    """The hop's polyline; a straight line where it has none or collapses to a point (two
    stops projected onto the same point of a shape); None (null geometry) if that collapses too.
    A one-point line is invalid and GIS tools flag it."""
    coords = tt.hop_geometry_lonlat[tt.hop_geometry_indptr[hop]:tt.hop_geometry_indptr[hop + 1]]
    if len(coords) < 2 or (coords == coords[0]).all():
        coords = np.array([(tt.stop_lon[from_stop], tt.stop_lat[from_stop]),
                           (tt.stop_lon[to_stop], tt.stop_lat[to_stop])])
    if (coords == coords[0]).all():
        return None
    return shapely.LineString(coords)


def _charging_frame(cs: ChargingStations) -> gpd.GeoDataFrame:
    return _frame({"osmid": cs.osmid, "name": cs.name, "operator": cs.operator,
                   "capacity": cs.capacity}, shapely.points(cs.lon, cs.lat))


def _layer_builders(network: Network) -> dict[str, Callable[[], gpd.GeoDataFrame]]:
    builders: dict[str, Callable[[], gpd.GeoDataFrame]] = {}
    factors = network.factors if "factors" in network.manifest else None
    for mode, layer in network.streets.items():
        builders[f"{mode}_edges"] = partial(_edges_frame, layer, factors)
        builders[f"{mode}_nodes"] = partial(_nodes_frame, layer)
    if network.timetable is not None:
        builders["stops"] = partial(_stops_frame, network.timetable)
        builders["transit_hops"] = partial(_transit_hops_frame, network.timetable)
    builders["charging_stations"] = lambda: _charging_frame(network.charging_stations)
    return builders


def _geometry_type(layer: str) -> str:
    """Declared so that an empty layer (no charging stations) still opens as points in QGIS."""
    return "LineString" if layer.endswith(("_edges", "_hops")) else "Point"


def export_layer_names(network: Network) -> list[str]:
    """The layers :func:`export_network` can write for ``network``."""
    return list(_layer_builders(network))


def _select(builders: dict, layers: Iterable[str] | None) -> list[str]:
    if layers is None:
        return list(builders)
    chosen: list[str] = []
    for name in layers:
        expanded = [f"{name}_edges", f"{name}_nodes"] if f"{name}_edges" in builders else [name]
        for layer in expanded:
            if layer not in builders:
                raise ValueError(f"layers: no layer {name!r} in this network "
                                 f"(available: {', '.join(builders)})")
            chosen += [layer] if layer not in chosen else []
    return chosen


def _in_crs(frame: gpd.GeoDataFrame, crs: Crs) -> gpd.GeoDataFrame:
    """``frame`` (EPSG:4326) with its geometry, and ``x``/``y`` columns, in ``crs``."""
    if crs is Crs.WGS84:
        return frame

    def shift(xy: np.ndarray) -> np.ndarray:
        lat, lon = from_wgs84(xy[:, 1], xy[:, 0], crs)
        return np.column_stack([lon, lat])

    geometry = shapely.transform(frame.geometry.to_numpy(), shift)
    out = gpd.GeoDataFrame(pd.DataFrame(frame.drop(columns=frame.geometry.name)),
                           geometry=gpd.GeoSeries(geometry, crs=None))
    if "x" in out.columns and "y" in out.columns:
        lat, lon = from_wgs84(out["y"].to_numpy(dtype="float64"),
                              out["x"].to_numpy(dtype="float64"), crs)
        out["x"], out["y"] = lon, lat
    return out


def export_network(network: Network, path: str | os.PathLike, *,
                   layers: Iterable[str] | None = None, crs: Crs | str = Crs.WGS84
                   ) -> list[Path]:
    """Write the network's layers as a GeoPackage or as GeoJSON files; return the paths.

    A ``.gpkg`` path gets one table per layer (``<mode>_edges``, ``<mode>_nodes``, ``stops``,
    ``transit_hops``, ``charging_stations``); a ``.geojson`` path ``out.geojson`` gets one file
    per layer next to it, ``out.<layer>.geojson``. ``layers`` picks layers by name; a street
    mode (``"car"``) stands for its edges and nodes. Transit layers need a timetable.

    ``crs`` (``wgs84``, ``gcj02``, ``bd09``) is the system of every written coordinate
    (geometries and the nodes' ``x``/``y``). WGS-84 layers are tagged EPSG:4326. GCJ-02 and
    BD-09 have no EPSG code: their layers are written **without** a CRS (GeoPackage SRS
    "undefined", GeoJSON without a ``crs`` member) rather than mislabelled as EPSG:4326, and
    GCJ-02/BD-09 GeoJSON is not RFC 7946 (which is WGS-84 only): load it against tiles of
    the same system (AMap/Tencent for GCJ-02, Baidu for BD-09).

    Raises
    ------
    ValueError
        If the suffix is neither ``.gpkg`` nor ``.geojson``, or a layer is not in the network.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (GPKG_SUFFIX, GEOJSON_SUFFIX):
        raise ValueError(f"{path}: export path must end in {GPKG_SUFFIX} or {GEOJSON_SUFFIX}")
    crs = parse_crs(crs)
    layer_builders = _layer_builders(network)
    chosen = _select(layer_builders, layers)
    builders = {name: (lambda build=build: _in_crs(build(), crs))
                for name, build in layer_builders.items()}
    with warnings.catch_warnings():
        # GCJ-02/BD-09 are written without a CRS on purpose (see above); pyogrio warns so
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        return _write(builders, chosen, path, suffix)


def _write(builders: dict, chosen: list[str], path: Path, suffix: str) -> list[Path]:
    if suffix == GPKG_SUFFIX:
        path.unlink(missing_ok=True)
        for name in chosen:
            builders[name]().to_file(path, layer=name, driver="GPKG", engine="pyogrio",
                                     geometry_type=_geometry_type(name))
        return [path]
    written = []
    for name in chosen:
        out = path.with_name(f"{path.stem}.{name}{GEOJSON_SUFFIX}")
        builders[name]().to_file(out, driver="GeoJSON", engine="pyogrio",
                                 geometry_type=_geometry_type(name))
        written.append(out)
    return written
