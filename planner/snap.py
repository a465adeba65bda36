"""Snap a coordinate to the nearest node of a street layer (KD-tree, local metric projection)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from graphs.geodesy import haversine_m, local_xy
from graphs.network import StreetLayer

__all__ = ["Snapper", "build_snapper"]


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
        _, i = self.tree.query(local_xy([lat], [lon], self.lat0_deg)[0])
        node = int(self.nodes[int(i)])
        return node, float(haversine_m(lat, lon, self.node_lat[node], self.node_lon[node]))


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
