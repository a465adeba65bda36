"""Snap a coordinate to the nearest node of a street layer (KD-tree, local metric projection)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from graphs.geodesy import haversine_m, local_xy
from graphs.network import StreetLayer

__all__ = ["Snapper", "SnapCache", "build_snapper"]


@dataclass(frozen=True, eq=False)
class Snapper:
    """Nearest-node lookup restricted to the layer's largest strongly connected component.

    Snapping into a one-way dead end or an island would make most trips impossible (the OSRM
    and Valhalla practice is the same), so only nodes of the main component are candidates.
    """

    layer: str
    nodes: np.ndarray      # int32 candidate node indices
    tree: cKDTree
    lat0_deg: float
    node_lon: np.ndarray
    node_lat: np.ndarray

    def nearest(self, lat: float, lon: float) -> tuple[int, float]:
        """``(node, distance_m)`` of the nearest candidate node (great-circle distance)."""
        # one element through the batch path: numpy scalar arithmetic (``x ** 2`` on a float64
        # scalar) can differ from the array loops in the last bit
        nodes, dist = self.nearest_many(np.array([lat], float), np.array([lon], float))
        return int(nodes[0]), float(dist[0])

    def nearest_many(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`nearest` of many points in one KD-tree query: ``(nodes, distances_m)``,
        element for element equal to :meth:`nearest` (same projection, same great circle)."""
        lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
        if lat.size == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        if len(self.nodes) == 0:  # a layer without streets: nothing to snap to
            return np.full(lat.shape, -1, np.int64), np.zeros(lat.shape)
        _, i = self.tree.query(local_xy(lat, lon, self.lat0_deg))
        nodes = self.nodes[np.asarray(i, np.int64)].astype(np.int64)
        return nodes, np.asarray(haversine_m(lat, lon, self.node_lat[nodes], self.node_lon[nodes]))


class SnapCache:
    """Snaps already made, keyed by ``(layer, lat, lon)`` with the exact coordinates.

    A batch of queries (one audit chunk) shares one: a point seen before is not snapped
    again, and :meth:`prime` snaps every point of the batch in one KD-tree query per layer.
    Exact keys, not rounded ones: a rounded key would hand a point its neighbour's snap.
    """

    def __init__(self) -> None:
        self._found: dict[tuple[str, float, float], tuple[int, float]] = {}

    def __len__(self) -> int:
        return len(self._found)

    def prime(self, snappers, lat, lon) -> None:
        """Snap the points ``(lat[i], lon[i])`` on every snapper's layer now."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        for snapper in snappers:
            self._snap(snapper, [(snapper.layer, a, b)
                                 for a, b in zip(lat.tolist(), lon.tolist(), strict=True)])

    def nearest(self, snapper: Snapper, lat: float, lon: float) -> tuple[int, float]:
        """``snapper.nearest(lat, lon)``, made once per point and layer."""
        return self.nearest_many(snapper, ((lat, lon),))[0]

    def nearest_many(self, snapper: Snapper,
                     points: Sequence[tuple[float, float]]) -> list[tuple[int, float]]:
        """:meth:`nearest` of each ``(lat, lon)``; the points not seen before are snapped in
        one KD-tree query (a query's two ends: one query per layer, not two)."""
        keys = [(snapper.layer, float(lat), float(lon)) for lat, lon in points]
        missing = [key for key in keys if key not in self._found]
        if missing:
            self._snap(snapper, missing)
        return [self._found[key] for key in keys]

    def _snap(self, snapper: Snapper, keys: list[tuple[str, float, float]]) -> None:
        nodes, dist = snapper.nearest_many(np.array([key[1] for key in keys], float),
                                           np.array([key[2] for key in keys], float))
        for key, node, d in zip(keys, nodes.tolist(), dist.tolist(), strict=True):
            self._found[key] = (node, d)


def build_snapper(layer: StreetLayer) -> Snapper:
    """Index the main component of ``layer`` (built once per Planner)."""
    n = layer.n_nodes
    graph = csr_matrix((np.ones(layer.n_edges), layer.edge_head.astype(np.int64),
                        layer.indptr.astype(np.int64)), shape=(n, n))
    graph.sum_duplicates()  # parallel edges: scipy's strong-components pass may not terminate
    _, labels = connected_components(graph, directed=True, connection="strong")
    main = np.argmax(np.bincount(labels)) if n else 0
    nodes = np.nonzero(labels == main)[0].astype(np.int32) if n else np.zeros(0, np.int32)
    lat0 = float(np.mean(layer.node_lat)) if n else 0.0
    xy = local_xy(layer.node_lat[nodes], layer.node_lon[nodes], lat0)
    return Snapper(layer=layer.name, nodes=nodes, tree=cKDTree(xy), lat0_deg=lat0,
                   node_lon=layer.node_lon, node_lat=layer.node_lat)
