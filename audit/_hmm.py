"""Numba kernel of the street map matcher: Viterbi over candidate edges, bounded Dijkstra transitions.

Newson & Krumm (2009): the emission log-probability of a candidate is ``-0.5 (d / sigma)^2``
(``d`` the fix's distance to the edge); the transition log-probability between candidates of
consecutive fixes is ``-|route - straight| / beta``, where ``route`` is the shortest network
distance between the two positions on their edges and ``straight`` the distance between the
fixes. Routes are searched with Dijkstra from the previous candidate, bounded by
``straight x ROUTE_FACTOR + ROUTE_SLACK_M``; when no candidate is reachable the chain breaks
and restarts (the caller bridges breaks by the straight line).
"""
from __future__ import annotations

import heapq

import numpy as np
from numba import njit

__all__ = ["BETA_M", "ROUTE_FACTOR", "ROUTE_SLACK_M", "viterbi_distance"]

ROUTE_FACTOR = 2.0
ROUTE_SLACK_M = 150.0
BETA_M = 20.0


@njit(cache=True)
def viterbi_distance(indptr, head, tail, length, cand_edge, cand_dist, cand_u,  # noqa: PLR0917
                     straight, sigma):
    """Matched metres and break count of one leg.

    ``cand_*`` are ``(n, K)`` (edge ``-1`` pads); every row has at least one candidate;
    ``straight[i]`` is the distance from fix ``i - 1`` to fix ``i``.
    Returns ``(route_metres, straight_metres_over_breaks, breaks)``.
    """
    n, k = cand_edge.shape
    n_nodes = indptr.shape[0] - 1
    node_dist = np.full(n_nodes, np.inf)
    touched = np.empty(n_nodes, np.int64)
    score = np.full(k, -np.inf)
    back = np.full((n, k), -1, np.int64)
    step_len = np.zeros((n, k))
    for j in range(k):
        if cand_edge[0, j] >= 0:
            score[j] = -0.5 * (cand_dist[0, j] / sigma) ** 2
    route_total = 0.0
    bridge_total = 0.0
    breaks = 0
    run_start = 0
    for i in range(1, n):
        new = np.full(k, -np.inf)
        limit = straight[i] * ROUTE_FACTOR + ROUTE_SLACK_M
        for p in range(k):
            e1 = cand_edge[i - 1, p]
            if e1 < 0 or not np.isfinite(score[p]):
                continue
            u1 = cand_u[i - 1, p]
            n_touched = _dijkstra(indptr, head, length, int(head[e1]),
                                  (1.0 - u1) * length[e1], limit, node_dist, touched)
            for j in range(k):
                e2 = cand_edge[i, j]
                if e2 < 0:
                    continue
                u2 = cand_u[i, j]
                if e2 == e1 and u2 >= u1:
                    route = (u2 - u1) * length[e1]
                else:
                    route = node_dist[tail[e2]] + u2 * length[e2]
                if not np.isfinite(route) or route > limit:
                    continue
                value = (score[p] - abs(route - straight[i]) / BETA_M
                         - 0.5 * (cand_dist[i, j] / sigma) ** 2)
                if value > new[j]:
                    new[j] = value
                    back[i, j] = p
                    step_len[i, j] = route
            for t in range(n_touched):
                node_dist[touched[t]] = np.inf
        if not np.isfinite(new).any():        # no connection: close the run and restart
            route_total += _backtrack(back, step_len, score, run_start, i - 1)
            bridge_total += straight[i]
            breaks += 1
            run_start = i
            for j in range(k):
                new[j] = (-0.5 * (cand_dist[i, j] / sigma) ** 2 if cand_edge[i, j] >= 0
                          else -np.inf)
        score = new
    route_total += _backtrack(back, step_len, score, run_start, n - 1)
    return route_total, bridge_total, breaks


@njit(cache=True)
def _backtrack(back, step_len, score, first, last):  # noqa: PLR0917
    j = int(np.argmax(score))
    total = 0.0
    for i in range(last, first, -1):
        total += step_len[i, j]
        j = back[i, j]
        if j < 0:
            break
    return total


@njit(cache=True)
def _dijkstra(indptr, head, length, source, start, limit, node_dist, touched):  # noqa: PLR0917
    """Distances from ``source`` (already ``start`` metres in) up to ``limit``; returns count touched."""
    n_touched = 0
    node_dist[source] = start
    touched[n_touched] = source
    n_touched += 1
    heap = [(start, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > node_dist[u] or d > limit:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = head[e]
            nd = d + length[e]
            if nd < node_dist[v] and nd <= limit:
                if node_dist[v] == np.inf:
                    touched[n_touched] = v
                    n_touched += 1
                node_dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return n_touched
