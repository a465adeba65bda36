"""Fastest paths on a street layer: CSR matrices compiled once, scipy Dijkstra per query."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from graphs.network import StreetLayer

from .errors import NoRouteError

__all__ = ["LayerGraph", "ShortestPathTree", "StreetPath", "compile_layer", "search",
           "path_to", "route", "edge_between"]

#: Zero-length OSM edges exist (duplicated nodes); scipy would read a 0 weight as "no edge".
MIN_WEIGHT = 1e-3
#: A first, bounded search explores up to this multiple of the straight-line distance ...
DETOUR_BOUND = 3.0
#: ... plus this much (metres, or seconds at 4 m/s for driving); unbounded if that fails.
BOUND_SLACK_M = 2_000.0
_BOUND_SPEED_MPS = 4.0


@dataclass(frozen=True, eq=False)
class LayerGraph:
    """A street layer as CSR matrices weighted by ``length_m`` or ``duration_s``.

    Parallel edges keep the cheapest one; ``edge_of`` maps each CSR entry back to its edge.
    """

    layer: StreetLayer
    weight: str
    csr: csr_matrix
    edge_of: np.ndarray
    reverse_csr: csr_matrix


@dataclass(frozen=True, eq=False)
class ShortestPathTree:
    """Dijkstra result from one node; with ``reverse`` it holds distances *to* that node."""

    source: int
    dist: np.ndarray
    pred: np.ndarray
    reverse: bool


@dataclass(frozen=True)
class StreetPath:
    """Edges of a path in travel order with their total length and default duration."""

    nodes: tuple[int, ...]
    edges: tuple[int, ...]
    length_m: float
    duration_s: float


def compile_layer(layer: StreetLayer, *, weight: str) -> LayerGraph:
    """CSR matrices of ``layer`` weighted by ``"length"`` or ``"duration"``."""
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
    return LayerGraph(layer=layer, weight=weight, csr=csr, edge_of=edges.astype(np.int64),
                      reverse_csr=csr.transpose().tocsr())


def search(graph: LayerGraph, source: int, *, limit: float = np.inf,
           reverse: bool = False) -> ShortestPathTree:
    """Dijkstra from ``source`` (to it with ``reverse``), stopping beyond ``limit``."""
    matrix = graph.reverse_csr if reverse else graph.csr
    dist, pred = dijkstra(matrix, directed=True, indices=int(source), return_predecessors=True,
                          limit=float(limit))
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
    chain = [int(node)]
    while chain[-1] != tree.source:
        chain.append(int(tree.pred[chain[-1]]))
    nodes = chain if tree.reverse else chain[::-1]
    edges = tuple(edge_between(graph, u, v) for u, v in zip(nodes[:-1], nodes[1:]))
    layer = graph.layer
    idx = np.asarray(edges, np.int64)
    return StreetPath(nodes=tuple(nodes), edges=edges,
                      length_m=float(layer.edge_length_m[idx].astype(np.float64).sum()),
                      duration_s=float(layer.edge_duration_s[idx].astype(np.float64).sum()))


def edge_between(graph: LayerGraph, u: int, v: int) -> int:
    """The edge ``u -> v`` the search used (the cheapest of parallel edges)."""
    a, b = graph.csr.indptr[u], graph.csr.indptr[u + 1]
    i = a + int(np.searchsorted(graph.csr.indices[a:b], v))
    if i >= b or graph.csr.indices[i] != v:
        raise NoRouteError(f"no edge {u} -> {v} on layer {graph.layer.name}")
    return int(graph.edge_of[i])


def route(graph: LayerGraph, source: int, target: int, *, crow_m: float) -> StreetPath:
    """Fastest path ``source -> target``: a bounded search first, unbounded if needed.

    Raises
    ------
    NoRouteError
        If ``target`` cannot be reached from ``source`` on this layer.
    """
    bound = DETOUR_BOUND * crow_m + BOUND_SLACK_M
    if graph.weight == "duration":
        bound /= _BOUND_SPEED_MPS
    tree = search(graph, source, limit=bound)
    if not np.isfinite(tree.dist[target]):
        tree = search(graph, source)
    return path_to(graph, tree, target)
