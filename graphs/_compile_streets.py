"""Compile OSM way pieces straight into :class:`StreetLayer` arrays (no networkx graph).

The result equals what the osmnx route gives (``graphs._osmnx_streets``: networkx graph,
``osmnx.truncate.largest_component(strongly=True)``, ``add_edge_lengths``, speeds,
``osmnx.simplify_graph(remove_rings=False)``) -- same nodes, edges, lengths, times and names --
but vectorised: segments as numpy arrays, strongly connected components with
``scipy.sparse.csgraph``, degree-2 chains traced for all chains at once, one step per
round. A test compares both on real OSM files.

osmnx's rules this mirrors (``osmnx.simplification``):

* a node is an *endpoint* (kept) if it has a self-loop, no in- or no out-edge, or not exactly
  two distinct neighbours with total degree 2 (one-way chain) or 4 (two-way chain);
* each chain from an endpoint through non-endpoints becomes one edge whose length and travel
  time are sums, whose geometry is the chain's nodes and whose name is the set of the
  segments' names; where a chain segment has parallel edges only the first one (key 0) counts;
* edges between two endpoints stay as they are, parallel edges included.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .access import ACCESS_TAG_KEYS, travel_directions
from .network import StreetLayer
from .osm_reader import WayPiece

__all__ = ["EARTH_RADIUS_M", "WayArrays", "compile_layer", "way_arrays"]

#: Mean earth radius osmnx uses for great-circle lengths (m).
EARTH_RADIUS_M = 6_371_009.0
MILE_KM = 1.60934  # osmnx's mph conversion factor
_MAXSPEED = re.compile(r"^([0-9][\.,0-9]*?)(?:[ ]?(?:km/h|kmh|kph|mph|knots))?$")


@dataclass(frozen=True)
class WayArrays:
    """Way pieces as flat arrays: node refs of piece ``p`` are ``ref_node[offsets[p]:offsets[p+1]]``."""

    node_osmid: np.ndarray  # int64 (n,) sorted unique OSM node ids
    node_lon: np.ndarray    # float64 (n,)
    node_lat: np.ndarray    # float64 (n,)
    ref_node: np.ndarray    # int64 (r,) index into node_* per node reference
    offsets: np.ndarray     # int64 (p + 1,)
    tags: Sequence[Mapping[str, str]]
    access_class: np.ndarray  # int64 (p,) index into access_tags
    access_tags: Sequence[Mapping[str, str]]  # distinct restrictions of tags to ACCESS_TAG_KEYS


def way_arrays(pieces: Sequence[WayPiece]) -> WayArrays:
    """Flatten the reader's pieces once; every layer compiles from the same arrays."""
    sizes = np.fromiter((len(p.node_ids) for p in pieces), np.int64, len(pieces))
    offsets = np.zeros(len(pieces) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    refs = np.fromiter((n for p in pieces for n in p.node_ids), np.int64, int(offsets[-1]))
    lonlat = np.fromiter((c for p in pieces for xy in p.lonlat for c in xy), np.float64,
                         2 * int(offsets[-1])).reshape(-1, 2)
    osmid, first, inverse = np.unique(refs, return_index=True, return_inverse=True)
    classes: dict[tuple[tuple[str, str], ...], int] = {}
    access_class = np.fromiter(
        (classes.setdefault(tuple(sorted((k, v) for k, v in p.tags.items()
                                         if k in ACCESS_TAG_KEYS)), len(classes))
         for p in pieces), np.int64, len(pieces))
    return WayArrays(node_osmid=osmid, node_lon=lonlat[first, 0], node_lat=lonlat[first, 1],
                     ref_node=inverse.astype(np.int64), offsets=offsets,
                     tags=[p.tags for p in pieces], access_class=access_class,
                     access_tags=[dict(key) for key in classes])


def great_circle_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
                   lon2: np.ndarray) -> np.ndarray:
    """Haversine distance in metres, term for term as ``osmnx.distance.great_circle``."""
    y1, y2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dx = np.deg2rad(lon2) - np.deg2rad(lon1)
    h = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin(dx / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.minimum(1, h))) * EARTH_RADIUS_M


def parse_maxspeed_kph(value: str | None) -> float:
    """A ``maxspeed`` tag in km/h as osmnx's ``_clean_maxspeed`` reads it; NaN if unusable."""
    if value is None:
        return np.nan
    try:
        speeds = [float(_MAXSPEED.match(v).group(1).replace(",", "."))  # type: ignore[union-attr]
                  for v in value.split("|")]
    except (ValueError, AttributeError):
        from osmnx.routing import _IMPLICIT_MAXSPEEDS  # "BR:urban" etc.: osmnx's table

        implicit = _IMPLICIT_MAXSPEEDS.get(value)
        return np.nan if implicit is None else float(implicit)
    factor = MILE_KM if "mph" in value.lower() else 1.0
    return float(np.mean([s * factor for s in speeds]))


@dataclass(frozen=True)
class _Segments:
    """Directed OSM segments of one layer in networkx insertion order (node indices)."""

    u: np.ndarray
    v: np.ndarray
    piece: np.ndarray


def _layer_segments(ways: WayArrays, layer: str) -> _Segments:
    """Segments as ``_add_piece`` of the osmnx route adds them: forward run, then reverse copies."""
    directions = [travel_directions(tags, layer) for tags in ways.access_tags]
    forward = np.array([d.forward for d in directions], bool)[ways.access_class]
    backward = np.array([d.backward for d in directions], bool)[ways.access_class]
    n_refs = ways.ref_node.shape[0]
    starts = np.ones(max(n_refs - 1, 0), bool)
    starts[ways.offsets[1:-1] - 1] = False  # ref i -> i + 1 crosses into the next piece
    i = np.flatnonzero(starts)
    piece = np.repeat(np.arange(len(ways.tags)), np.diff(ways.offsets))[i]
    a, b = ways.ref_node[i], ways.ref_node[i + 1]
    fwd, both = forward[piece], forward[piece] & backward[piece]
    used = fwd | backward[piece]
    u = np.concatenate([np.where(fwd, a, b)[used], b[both]])
    v = np.concatenate([np.where(fwd, b, a)[used], a[both]])
    pieces = np.concatenate([piece[used], piece[both]])
    block = np.concatenate([np.zeros(used.sum(), np.int8), np.ones(both.sum(), np.int8)])
    rank = np.concatenate([np.where(fwd, i, -i)[used], i[both]])
    order = np.lexsort((rank, block, pieces))
    return _Segments(u=u[order], v=v[order], piece=pieces[order])


def _largest_strong_component(seg: _Segments, n_nodes: int) -> tuple[np.ndarray, int]:
    """Node mask of the largest strongly connected component, and the layer nodes dropped."""
    present = np.zeros(n_nodes, bool)
    present[seg.u] = present[seg.v] = True
    graph = csr_matrix((np.ones(seg.u.shape[0], np.int8), (seg.u, seg.v)),
                       shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=True, connection="strong")
    counts = np.bincount(labels[present])
    keep = present & (labels == int(np.argmax(counts)))
    return keep, int(present.sum() - keep.sum())


def _segment_speeds_kph(ways: WayArrays, piece: np.ndarray, *, highway_kph: Mapping[str, float],
                        fallback_kph: float) -> np.ndarray:
    """Car speeds as ``osmnx.routing.add_edge_speeds`` with ``hwy_speeds`` and ``fallback``."""
    used = np.flatnonzero(np.bincount(piece, minlength=len(ways.tags)))
    maxspeed = np.full(len(ways.tags), np.nan)
    highway = np.empty(len(ways.tags), object)
    for p in used.tolist():
        maxspeed[p] = parse_maxspeed_kph(ways.tags[p].get("maxspeed"))
        highway[p] = ways.tags[p].get("highway")
    speed = maxspeed[piece]
    missing = np.isnan(speed)
    for value in set(highway[piece[missing]].tolist()):
        in_type = highway[piece] == value
        if value in highway_kph:
            default = highway_kph[value]
        else:  # osmnx: the mean observed speed of that highway type, else the fallback
            observed = speed[in_type & ~missing]
            default = float(np.mean(observed)) if observed.size else fallback_kph
        speed[in_type & missing] = default
    return speed


def _unique_first(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and the index of each one's first occurrence (a stable sort:
    numpy's hash-based ``unique`` is several times slower on these int64 keys)."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    first = np.ones(ordered.shape[0], bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first], order[first]


def _endpoints(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """osmnx's ``_is_endpoint`` for every node at once."""
    in_degree, out_degree = np.bincount(v, minlength=n), np.bincount(u, minlength=n)
    loop = np.zeros(n, bool)
    loop[u[u == v]] = True
    other = u != v
    pairs, _ = _unique_first(np.concatenate([u[other] * n + v[other], v[other] * n + u[other]]))
    neighbours = np.bincount(pairs // n, minlength=n)
    degree = in_degree + out_degree
    chain = (neighbours == 2) & ((degree == 2) | (degree == 4))
    is_endpoint = loop | (in_degree == 0) | (out_degree == 0) | ~chain
    if not is_endpoint.any():  # a lone ring: osmnx keeps it unsimplified
        is_endpoint[:] = True
    return is_endpoint


def _trace_chains(pair_u: np.ndarray, pair_v: np.ndarray, indptr: np.ndarray,
                  is_endpoint: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chains from each endpoint through non-endpoints (osmnx ``_build_path``), vectorised.

    A pair ``a -> b`` into a non-endpoint ``b`` continues with ``b``'s out-pair whose head is
    not ``a`` (``b`` has exactly two neighbours); chains start at pairs out of an endpoint and
    are walked one step per round for all chains at once. Returns CSR
    ``(bounds, path_nodes, path_pairs)``: path ``k`` uses the pairs
    ``path_pairs[bounds[k]:bounds[k + 1]]`` and visits the nodes
    ``path_nodes[bounds[k] + k : bounds[k + 1] + k + 1]``.
    """
    m = pair_u.shape[0]
    head = pair_v
    out_count = indptr[head + 1] - indptr[head]
    first, second = indptr[head], np.minimum(indptr[head] + 1, m - 1)
    inner = ~is_endpoint[head]
    take_first = inner & (out_count >= 1) & (pair_v[np.minimum(first, m - 1)] != pair_u)
    take_second = inner & (out_count >= 2) & (pair_v[second] != pair_u)
    following = np.where(take_first, first, np.where(take_second, second, -1))
    starts = np.flatnonzero(is_endpoint[pair_u] & inner)
    chain = np.full(m, -1, np.int64)
    depth = np.zeros(m, np.int64)
    frontier, ids, step = starts, np.arange(starts.shape[0]), 0
    while frontier.shape[0]:
        chain[frontier], depth[frontier] = ids, step
        frontier = following[frontier]
        keep = frontier >= 0
        frontier, ids = frontier[keep], ids[keep]
        keep = chain[frontier] < 0  # never revisit (guards against malformed cycles)
        frontier, ids, step = frontier[keep], ids[keep], step + 1
    in_chain = np.flatnonzero(chain >= 0)
    path_pairs = in_chain[np.lexsort((depth[in_chain], chain[in_chain]))]
    bounds = np.zeros(starts.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(chain[in_chain], minlength=starts.shape[0]), out=bounds[1:])
    path_nodes = np.empty(path_pairs.shape[0] + starts.shape[0], np.int64)
    k = np.arange(starts.shape[0])
    path_nodes[bounds[:-1] + k] = pair_u[path_pairs[bounds[:-1]]] if path_pairs.size else 0
    rank = np.arange(path_pairs.shape[0]) + np.repeat(k + 1, np.diff(bounds))
    path_nodes[rank] = pair_v[path_pairs]
    return bounds, path_nodes, path_pairs


def _path_names(name_ids: np.ndarray, bounds: np.ndarray,
                names: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each path's name as an index into ``names`` (-1 none), or ``-2 - j`` for ``mixed[j]``.

    A path whose segments carry several names is named by their sorted set joined with
    ``"; "`` (osmnx keeps the list; the export joins it OSM-style).
    """
    starts = bounds[:-1]
    if not starts.size:
        return np.empty(0, np.int64), []
    valid = np.where(name_ids >= 0, name_ids, np.iinfo(np.int64).max)
    low, high = np.minimum.reduceat(valid, starts), np.maximum.reduceat(name_ids, starts)
    out = np.where(high >= 0, high, -1)
    mixed: list[str] = []
    for k in np.flatnonzero((high >= 0) & (low != high)).tolist():
        ids = set(name_ids[bounds[k]:bounds[k + 1]].tolist()) - {-1}
        out[k] = -2 - len(mixed)
        mixed.append("; ".join(sorted(str(names[i]) for i in ids)))
    return out, mixed


def compile_layer(ways: WayArrays, layer: str, *, speed_kph: float | None,
                  highway_kph: Mapping[str, float], fallback_kph: float) -> tuple[StreetLayer, int]:
    """One layer as a CSR :class:`StreetLayer`, and the number of island nodes dropped.

    ``speed_kph`` is the constant speed of walk and bike; None derives car speeds from
    ``maxspeed`` with ``highway_kph`` (then ``fallback_kph``) where it is missing.
    """
    seg = _layer_segments(ways, layer)
    if seg.u.shape[0] == 0:
        return _empty_layer(layer), 0
    n_all = ways.node_osmid.shape[0]
    keep, dropped = _largest_strong_component(seg, n_all)
    inside = keep[seg.u] & keep[seg.v]
    local = np.cumsum(keep) - 1
    u, v, piece = local[seg.u[inside]], local[seg.v[inside]], seg.piece[inside]
    lon, lat = ways.node_lon[keep], ways.node_lat[keep]
    n = int(keep.sum())
    length = great_circle_m(lat[u], lon[u], lat[v], lon[v])
    if speed_kph is None:
        speed = _segment_speeds_kph(ways, piece, highway_kph=highway_kph,
                                    fallback_kph=fallback_kph)
    else:
        speed = np.full(u.shape[0], float(speed_kph))
    duration = (length / 1000) / (speed / 3600)  # as osmnx's add_edge_travel_times
    name_of_piece, names = _piece_names(ways.tags, piece)
    seg_name = name_of_piece[piece]
    is_endpoint = _endpoints(u, v, n)

    # chains: over unique directed pairs, each standing for its first (key 0) segment
    pair_key, pair_seg = _unique_first(u * n + v)
    pair_u = pair_key // n
    indptr = np.searchsorted(pair_u, np.arange(n + 1)).astype(np.int64)
    bounds, path_nodes, path_pairs = _trace_chains(pair_u, pair_key % n, indptr, is_endpoint)
    path_seg = pair_seg[path_pairs]
    n_paths = bounds.shape[0] - 1
    node_bounds = bounds + np.arange(n_paths + 1)
    path_tail, path_head = path_nodes[node_bounds[:-1]], path_nodes[node_bounds[1:] - 1]
    direct = np.flatnonzero(is_endpoint[u] & is_endpoint[v])

    sums = np.add.reduceat if n_paths else (lambda a, b: a[:0])
    tail = np.concatenate([u[direct], path_tail])
    head = np.concatenate([v[direct], path_head])
    edge_length = np.concatenate([length[direct], sums(length[path_seg], bounds[:-1])])
    edge_duration = np.concatenate([duration[direct], sums(duration[path_seg], bounds[:-1])])
    path_names, mixed = _path_names(seg_name[path_seg], bounds, names)
    edge_names = _final_names(np.concatenate([seg_name[direct], path_names]), names, mixed)
    geometry_nodes = [np.stack([u[direct], v[direct]], axis=1).ravel(), path_nodes]
    sizes = np.concatenate([np.full(direct.shape[0], 2), np.diff(node_bounds)])
    return _assemble(layer, osmid=ways.node_osmid[keep], lon=lon, lat=lat, is_endpoint=is_endpoint,
                     tail=tail, head=head, length=edge_length, duration=edge_duration,
                     edge_names=edge_names, geometry_nodes=np.concatenate(geometry_nodes),
                     sizes=sizes), dropped


def _final_names(ids: np.ndarray, names: np.ndarray,
                 mixed: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Edge name codes into one sorted table of the names edges use: (codes, table)."""
    used = np.flatnonzero(np.bincount(ids[ids >= 0], minlength=names.shape[0]))
    table = np.array(sorted(set(names[used].tolist()) | set(mixed)), dtype=str)
    codes = np.full(ids.shape[0], -1, np.int64)
    if table.size:
        single = ids >= 0
        codes[single] = np.searchsorted(table, names.astype(str))[ids[single]]
        several = ids <= -2
        codes[several] = np.searchsorted(table, np.array(mixed, dtype=str))[-2 - ids[several]]
    return codes, table


def _empty_layer(layer: str) -> StreetLayer:
    none = np.empty(0, np.int32)
    return StreetLayer(name=layer, node_osmid=np.empty(0, np.int64), node_lon=np.empty(0),
                       node_lat=np.empty(0), indptr=np.zeros(1, np.int64), edge_tail=none,
                       edge_head=none, edge_length_m=np.empty(0, np.float32),
                       edge_duration_s=np.empty(0, np.float32), edge_name=none,
                       names=np.array([], dtype=str), geometry_indptr=np.zeros(1, np.int64),
                       geometry_lonlat=np.empty((0, 2)))


def _piece_names(tags: Sequence[Mapping[str, str]], piece: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Name index per piece (-1 without ``name``) and the sorted names of the used pieces."""
    used = np.flatnonzero(np.bincount(piece, minlength=len(tags))).tolist()
    raw = {p: tags[p]["name"] for p in used if "name" in tags[p]}
    names = np.array(sorted(set(raw.values())), dtype=object)
    index = {name: i for i, name in enumerate(names.tolist())}
    ids = np.full(len(tags), -1, np.int64)
    for p, name in raw.items():
        ids[p] = index[name]
    return ids, names


def _assemble(layer: str, *, osmid: np.ndarray, lon: np.ndarray, lat: np.ndarray,
              is_endpoint: np.ndarray, tail: np.ndarray, head: np.ndarray,
              length: np.ndarray, duration: np.ndarray,
              edge_names: tuple[np.ndarray, np.ndarray],
              geometry_nodes: np.ndarray, sizes: np.ndarray) -> StreetLayer:
    """Keep the endpoints, renumber, sort edges by (tail, head) and build the CSR layer."""
    renumber = np.cumsum(is_endpoint) - 1
    n = int(is_endpoint.sum())
    tail, head = renumber[tail], renumber[head]
    order = np.lexsort((head, tail))  # stable: parallel edges keep their build order
    geometry_start = np.concatenate([[0], np.cumsum(sizes)])
    taken = sizes[order]
    rows = (np.repeat(geometry_start[:-1][order] - np.concatenate([[0], np.cumsum(taken)[:-1]]),
                      taken) + np.arange(int(taken.sum())))
    points = geometry_nodes[rows]
    codes, names = edge_names
    tail_sorted = tail[order].astype(np.int32)
    return StreetLayer(
        name=layer,
        node_osmid=osmid[is_endpoint].astype(np.int64),
        node_lon=lon[is_endpoint], node_lat=lat[is_endpoint],
        indptr=np.searchsorted(tail_sorted, np.arange(n + 1)).astype(np.int64),
        edge_tail=tail_sorted,
        edge_head=head[order].astype(np.int32),
        edge_length_m=length[order].astype(np.float32),
        edge_duration_s=duration[order].astype(np.float32),
        edge_name=codes[order].astype(np.int32),
        names=names,
        geometry_indptr=np.concatenate([[0], np.cumsum(taken)]).astype(np.int64),
        geometry_lonlat=np.stack([lon[points], lat[points]], axis=1),
    )
