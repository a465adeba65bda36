"""ALT landmark tables of a street layer: A* lower bounds from the triangle inequality.

Goldberg & Harrelson (2005), "Computing the shortest path: A* search meets graph theory". For
each landmark ``L`` the tables hold ``d(L, v)`` and ``d(v, L)`` for every node ``v``; then
``d(v, t) >= d(L, t) - d(L, v)`` and ``d(v, t) >= d(v, L) - d(t, L)``, and the largest of these
over the landmarks is a consistent A* lower bound (for exact distances). The tables are stored
as float32; ``margin`` is subtracted from every bound so their rounding cannot make a bound
overestimate (the search also reopens a node should rounding leave it inconsistent, so paths
stay exactly the Dijkstra ones).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

__all__ = ["LANDMARK_COUNT", "LandmarkTables", "landmark_tables", "no_landmarks"]

#: Landmarks per layer: each costs two one-to-all Dijkstras at compile time and 8 bytes a node.
LANDMARK_COUNT = 8
#: ``margin`` = the largest finite table value x this: two float32 roundings (2 x 2^-24 relative
#: each) with room to spare for float64 summation differences between scipy and the A*.
_MARGIN_PER_COST = 2.0 ** -20


@dataclass(frozen=True, eq=False)
class LandmarkTables:
    """Distances from and to ``nodes`` (the landmarks) over one weighted street layer.

    ``from_landmark[v, i]`` is ``d(nodes[i], v)`` and ``to_landmark[v, i]`` is ``d(v, nodes[i])``
    (float32, node-major so one node's values share a cache line; ``inf`` where unreachable);
    ``margin`` is subtracted from every bound derived from them.
    """

    nodes: np.ndarray
    from_landmark: np.ndarray
    to_landmark: np.ndarray
    margin: float

    @property
    def nbytes(self) -> int:
        return int(self.from_landmark.nbytes + self.to_landmark.nbytes)


def no_landmarks(n_nodes: int = 0) -> LandmarkTables:
    """Tables with no landmark: the ALT bound is then 0 (plain A* / Dijkstra)."""
    empty = np.zeros((n_nodes, 0), np.float32)
    return LandmarkTables(nodes=np.zeros(0, np.int64), from_landmark=empty, to_landmark=empty,
                          margin=0.0)


def landmark_tables(csr: csr_matrix, reverse_csr: csr_matrix, node_x: np.ndarray,
                    node_y: np.ndarray, *, count: int = LANDMARK_COUNT) -> LandmarkTables:
    """Tables of ``count`` landmarks chosen farthest-first on the layer ``csr``.

    The first landmark is the node farthest (``d(c, v) + d(v, c)``) from the node ``c``
    nearest the layer's centroid; each next one maximises the smallest round-trip distance to
    the landmarks chosen so far, which spreads them around the rim of the network where their
    bounds are tightest. Nodes unreachable both ways are never chosen. ``reverse_csr`` is the
    transpose of ``csr`` (distances *to* a node); ``node_x``/``node_y`` are planar metres.
    """
    n = csr.shape[0]
    count = min(int(count), n)
    if count <= 0:
        return no_landmarks(n)
    centre = int(np.argmin(np.hypot(node_x - node_x.mean(), node_y - node_y.mean())))
    score = _round_trip(csr, reverse_csr, centre)[0]
    nodes = np.empty(count, np.int64)
    from_landmark = np.empty((n, count), np.float32)
    to_landmark = np.empty((n, count), np.float32)
    largest = 0.0
    for i in range(count):
        finite = np.isfinite(score)
        if not finite.any():
            count = i
            break
        node = int(np.argmax(np.where(finite, score, -1.0)))
        total, forward, backward = _round_trip(csr, reverse_csr, node)
        nodes[i] = node
        from_landmark[:, i], to_landmark[:, i] = forward, backward
        largest = max(largest, _largest_finite(forward), _largest_finite(backward))
        score = total if i == 0 else np.minimum(score, total)
    return LandmarkTables(nodes=nodes[:count],
                          from_landmark=np.ascontiguousarray(from_landmark[:, :count]),
                          to_landmark=np.ascontiguousarray(to_landmark[:, :count]),
                          margin=largest * _MARGIN_PER_COST)


def _round_trip(csr: csr_matrix, reverse_csr: csr_matrix,
                node: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(d(node, v) + d(v, node), d(node, v), d(v, node))`` for every node ``v``."""
    forward = dijkstra(csr, directed=True, indices=node)
    backward = dijkstra(reverse_csr, directed=True, indices=node)
    return forward + backward, forward, backward


def _largest_finite(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else 0.0
