"""Fastest paths on a street layer: CSR arrays compiled once, a numba Dijkstra / A* per query."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix

from graphs.geodesy import local_xy
from graphs.network import StreetLayer

from ._heap import heap_pop as _pop
from ._heap import heap_push as _push
from ._landmarks import LANDMARK_COUNT, LandmarkTables, landmark_tables, no_landmarks
from .errors import NoRouteError

__all__ = ["LayerGraph", "ShortestPathTree", "StreetPath", "compile_layer", "search",
           "path_to", "route", "route_within", "edge_between", "settled_nodes"]

#: Zero-length OSM edges exist (duplicated nodes); they weigh this much so every edge counts.
MIN_WEIGHT = 1e-3
#: The A* lower bound is scaled down by this much so float rounding cannot make it overestimate.
_HEURISTIC_MARGIN = 1.0 - 1e-6


@dataclass(frozen=True, eq=False)
class LayerGraph:
    """A street layer as CSR matrices weighted by ``length_m`` or ``duration_s``.

    Parallel edges keep the cheapest one; ``edge_of`` maps each CSR entry back to its edge.
    ``node_x``/``node_y`` are metres in a local equirectangular projection and
    ``cost_per_m`` the largest ratio of straight-line metres to weight over all edges
    (inverted), so ``cost_per_m x`` straight-line distance is a consistent A* lower bound.
    ``landmark_count`` landmarks (``planner._landmarks``) tighten that bound for one-to-one
    routes; their tables are computed on the first route (:meth:`landmarks`).
    """

    layer: StreetLayer
    weight: str
    csr: csr_matrix
    edge_of: np.ndarray
    reverse_csr: csr_matrix
    node_x: np.ndarray
    node_y: np.ndarray
    cost_per_m: float
    landmark_count: int = LANDMARK_COUNT
    _tables: list = field(default_factory=list, repr=False)  # [LandmarkTables] once computed
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def landmarks(self) -> LandmarkTables:
        """The layer's landmark tables, computed on first use (thread-safe, once)."""
        if not self._tables:
            with self._lock:
                if not self._tables:
                    self._tables.append(landmark_tables(
                        self.csr, self.reverse_csr, self.node_x, self.node_y,
                        count=self.landmark_count))
        return self._tables[0]


@dataclass(frozen=True, eq=False)
class ShortestPathTree:
    """Dijkstra result from one node; with ``reverse`` it holds distances *to* that node."""

    source: int
    dist: np.ndarray
    pred: np.ndarray
    reverse: bool
    #: what a query's legs derive from the tree, kept for its other journeys (per query)
    memo: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class StreetPath:
    """Edges of a path in travel order with their total length and default duration."""

    nodes: tuple[int, ...]
    edges: tuple[int, ...]
    length_m: float
    duration_s: float


def compile_layer(layer: StreetLayer, *, weight: str,
                  landmarks: int = LANDMARK_COUNT) -> LayerGraph:
    """CSR matrices of ``layer`` weighted by ``"length"`` or ``"duration"``; ``landmarks``: how
    many ALT landmarks routes on it use (0: the straight-line bound alone)."""
    values = layer.edge_length_m if weight == "length" else layer.edge_duration_s
    values = np.maximum(values.astype(np.float64), MIN_WEIGHT)
    tail, head = layer.edge_tail.astype(np.int64), layer.edge_head.astype(np.int64)
    keep = tail != head
    edges = np.nonzero(keep)[0]
    order = np.lexsort((values[edges], head[edges], tail[edges]))
    edges = edges[order]
    t, h = tail[edges], head[edges]
    first = np.ones(len(edges), bool)
    first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
    edges, t, h = edges[first], t[first], h[first]
    n = layer.n_nodes
    indptr = np.concatenate([[0], np.cumsum(np.bincount(t, minlength=n))])
    csr = csr_matrix((values[edges], h, indptr), shape=(n, n))
    csr.has_sorted_indices = True
    xy = local_xy(layer.node_lat, layer.node_lon, float(np.mean(layer.node_lat)) if n else 0.0)
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    straight = np.hypot(x[t] - x[h], y[t] - y[h])
    metres_per_cost = float((straight / values[edges]).max()) if len(edges) else 0.0
    cost_per_m = _HEURISTIC_MARGIN / metres_per_cost if metres_per_cost > 0 else 0.0
    return LayerGraph(layer=layer, weight=weight, csr=csr, edge_of=edges.astype(np.int64),
                      reverse_csr=csr.transpose().tocsr(), node_x=x, node_y=y,
                      cost_per_m=cost_per_m, landmark_count=int(landmarks))


def search(graph: LayerGraph, source: int, *, limit: float = np.inf,
           reverse: bool = False) -> ShortestPathTree:
    """Dijkstra from ``source`` (to it with ``reverse``); nodes costing more than ``limit``
    stay unreached (``inf``), as with scipy's ``dijkstra(limit=)``."""
    matrix = graph.reverse_csr if reverse else graph.csr
    none = _NO_LANDMARKS
    dist, pred, _ = _shortest_paths(matrix.indptr, matrix.indices, matrix.data, int(source), -1,
                                    float(limit), graph.node_x, graph.node_y, 0.0,
                                    none.from_landmark, none.to_landmark, 0.0)
    return ShortestPathTree(source=int(source), dist=dist, pred=pred, reverse=reverse)


def path_to(graph: LayerGraph, tree: ShortestPathTree, node: int) -> StreetPath:
    """The path between the tree's source and ``node``, in travel order.

    Raises
    ------
    NoRouteError
        If ``node`` was not reached.
    """
    if not np.isfinite(tree.dist[node]):
        raise NoRouteError(f"no {graph.layer.name} path between nodes {tree.source} and {node}")
    m = graph.csr
    nodes, idx = _unwind(tree.pred, tree.source, int(node), tree.reverse, m.indptr, m.indices,
                         graph.edge_of)
    if (idx < 0).any():
        raise NoRouteError(f"no edge on the path on layer {graph.layer.name}")
    edges = tuple(idx.tolist())
    layer = graph.layer
    return StreetPath(nodes=tuple(nodes.tolist()), edges=edges,
                      length_m=float(layer.edge_length_m[idx].astype(np.float64).sum()),
                      duration_s=float(layer.edge_duration_s[idx].astype(np.float64).sum()))


@njit(cache=True)
def _unwind(pred, source, node, reverse, indptr, indices, edge_of):  # noqa: PLR0917 - numba's njit takes no keyword-only arguments
    """Nodes of the tree path between ``source`` and ``node`` in travel order, and the edge
    of each step (-1 where the CSR has none)."""
    n = 1
    u = node
    while u != source:
        u = pred[u]
        n += 1
    nodes = np.empty(n, np.int64)
    u = node
    for i in range(n):
        nodes[i if reverse else n - 1 - i] = u
        if i < n - 1:
            u = pred[u]
    edges = np.empty(n - 1, np.int64)
    for i in range(n - 1):
        a, b, v = indptr[nodes[i]], indptr[nodes[i] + 1], nodes[i + 1]
        j = a + np.searchsorted(indices[a:b], v)
        edges[i] = edge_of[j] if j < b and indices[j] == v else -1
    return nodes, edges


def edge_between(graph: LayerGraph, u: int, v: int) -> int:
    """The edge ``u -> v`` the search used (the cheapest of parallel edges)."""
    a, b = graph.csr.indptr[u], graph.csr.indptr[u + 1]
    i = a + int(np.searchsorted(graph.csr.indices[a:b], v))
    if i >= b or graph.csr.indices[i] != v:
        raise NoRouteError(f"no edge {u} -> {v} on layer {graph.layer.name}")
    return int(graph.edge_of[i])


def route(graph: LayerGraph, source: int, target: int) -> StreetPath:
    """Fastest path ``source -> target`` (A* towards ``target``).

    Raises
    ------
    NoRouteError
        If ``target`` cannot be reached from ``source`` on this layer.
    """
    path = route_within(graph, source, target)
    if path is None:
        raise NoRouteError(f"no {graph.layer.name} path between nodes {source} and {target}")
    return path


def route_within(graph: LayerGraph, source: int, target: int, *,
                 limit: float = np.inf) -> StreetPath | None:
    """Fastest path ``source -> target`` if it costs at most ``limit``, else None."""
    dist, pred, _ = _route_arrays(graph, source, target, limit)
    if not np.isfinite(dist[target]):
        return None
    return path_to(graph, ShortestPathTree(int(source), dist, pred, False), int(target))


def settled_nodes(graph: LayerGraph, source: int, target: int, *,
                  limit: float = np.inf) -> int:
    """How many nodes the A* of ``route_within`` settles (a measure for benchmarks)."""
    return int(_route_arrays(graph, source, target, limit)[2])


def _route_arrays(graph: LayerGraph, source: int, target: int,
                  limit: float) -> tuple[np.ndarray, np.ndarray, int]:
    tables = graph.landmarks() if graph.landmark_count > 0 else _NO_LANDMARKS
    m = graph.csr
    return _shortest_paths(m.indptr, m.indices, m.data, int(source), int(target), float(limit),
                           graph.node_x, graph.node_y, graph.cost_per_m, tables.from_landmark,
                           tables.to_landmark, tables.margin)


_NO_LANDMARKS = no_landmarks()


@njit(cache=True, nogil=True)
def _shortest_paths(indptr, indices, weights, source, target, limit, x, y,  # noqa: PLR0913, PLR0917
                    cost_per_m, from_landmark, to_landmark, margin):  # numba: no keyword-only
    """Dijkstra from ``source`` over a CSR graph, A* when ``target >= 0``; returns
    ``(dist, pred, settled)``, ``pred`` -1 at the source and unreached nodes.

    The A* lower bound of node ``v`` is the largest of ``cost_per_m`` x straight-line metres to
    the target and, for each landmark column ``i`` of the tables (``planner._landmarks``),
    ``from[t, i] - from[v, i]`` and ``to[v, i] - to[t, i]``, less ``margin``. A node that cannot
    reach the target (an infinite bound) or only above ``limit`` is not queued. Should float
    rounding leave the bound inconsistent on an edge, the node it reaches is reopened, so the
    search stays exact; it stops once the target is settled (only the target's entries are final
    then).

    Ties (A* only): of the predecessors reaching a node at the same cost (float-equal), the one
    with the smallest index is kept, whenever it is relaxed. Every bound is strictly below the
    true cost (the margins), so every node of every cheapest path, and each of its equal-cost
    predecessors, is settled before the target: the target's path is then the one found by
    stepping back to the smallest such predecessor, whatever the bound and the heap order
    (Dijkstra, the straight-line A* and ALT agree). Trees (``target < 0``) keep the first
    predecessor found."""
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pred = np.full(n, -1, np.int32)
    done = np.zeros(n, np.bool_)
    heap_key = np.empty(indices.shape[0] + 1, np.float64)
    heap_node = np.empty(indices.shape[0] + 1, np.int32)
    tx = x[target] if target >= 0 else 0.0
    ty = y[target] if target >= 0 else 0.0
    k = from_landmark.shape[1] if target >= 0 else 0
    t_from = np.empty(k, np.float64)
    t_to = np.empty(k, np.float64)
    for i in range(k):
        t_from[i] = from_landmark[target, i]
        t_to[i] = to_landmark[target, i]
    dist[source] = 0.0
    settled = 0
    size = _push(heap_key, heap_node, 0, 0.0, source)
    while size > 0:
        u = heap_node[0]
        size = _pop(heap_key, heap_node, size)
        if done[u]:
            continue
        done[u] = True
        settled += 1
        if u == target:
            break
        du = dist[u]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = du + weights[e]
            if nd < dist[v] and nd <= limit:
                h = cost_per_m * np.hypot(x[v] - tx, y[v] - ty) if target >= 0 else 0.0
                if k > 0:
                    h = max(h, _landmark_bound(from_landmark, to_landmark, t_from, t_to, v,
                                               margin))
                    if nd + h > limit or h == np.inf:  # inf: v cannot reach the target
                        continue
                dist[v] = nd
                pred[v] = u
                done[v] = False  # reopened (only if rounding made the bound inconsistent)
                if size == heap_key.shape[0]:
                    heap_key, heap_node = _grown(heap_key, heap_node)
                size = _push(heap_key, heap_node, size, nd + h, v)
            elif nd == dist[v] and u < pred[v] and target >= 0:
                pred[v] = u  # the tie rule: of equal-cost predecessors, the smallest node
    return dist, pred, settled


@njit(cache=True, inline="always")
def _landmark_bound(from_landmark, to_landmark, t_from, t_to, v, margin):  # noqa: PLR0917
    """The ALT lower bound of ``d(v, t)`` less ``margin`` (NaN terms, inf - inf where neither
    ``v`` nor ``t`` is reachable from a landmark, are skipped by the comparisons)."""
    best = 0.0
    for i in range(t_from.shape[0]):
        a = t_from[i] - from_landmark[v, i]
        if a > best:
            best = a
        b = to_landmark[v, i] - t_to[i]
        if b > best:
            best = b
    return best - margin


@njit(cache=True)
def _grown(heap_key, heap_node):
    """The heap arrays at twice their size (reopened nodes can push more than one entry per
    edge)."""
    key = np.empty(2 * heap_key.shape[0], heap_key.dtype)
    node = np.empty(2 * heap_node.shape[0], heap_node.dtype)
    key[:heap_key.shape[0]] = heap_key
    node[:heap_node.shape[0]] = heap_node
    return key, node
