"""Link transit stops to the walking layer and join nearby stops by footpaths."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from .geodesy import geodesic_m, local_xy
from .network import StreetLayer

__all__ = [
    "StopLinks",
    "Footpaths",
    "link_stops",
    "build_footpaths",
    "LINK_MAX_M",
    "FOOTPATH_MAX_M",
    "WALK_SPEED_MPS",
    "DETOUR_FACTOR",
    "LINKED",
    "NO_WALK_LAYER",
    "OUTSIDE_STREETS",
    "TOO_FAR",
]

#: A stop farther than this from every walk-layer node stays unlinked.
LINK_MAX_M = 300.0
#: Stops closer than this (straight line) are joined by a footpath.
FOOTPATH_MAX_M = 400.0
#: Default walking speed, 4.7 km/h.
WALK_SPEED_MPS = 1.3
#: Walking distance over straight-line distance. Street networks are typically 1.2-1.4 times
#: longer than the crow flies; 1.3 keeps footpath times from being optimistic.
DETOUR_FACTOR = 1.3

LINKED = "linked"
NO_WALK_LAYER = "no_walk_layer"
OUTSIDE_STREETS = "outside_street_extract"
TOO_FAR = "too_far_from_streets"


@dataclass(frozen=True, eq=False)
class StopLinks:
    """Nearest walk-layer node of each stop (``-1`` when unlinked) and why not."""

    node: np.ndarray        # int32 (s,)
    distance_m: np.ndarray  # float32 (s,), NaN when unlinked
    reason: np.ndarray      # str (s,): LINKED, NO_WALK_LAYER, OUTSIDE_STREETS or TOO_FAR


@dataclass(frozen=True, eq=False)
class Footpaths:
    """Walking transfers between stops as CSR over stops."""

    indptr: np.ndarray      # int64 (s + 1,)
    target: np.ndarray      # int32
    duration_s: np.ndarray  # int32
    distance_m: np.ndarray  # float32


def link_stops(stop_lon: np.ndarray, stop_lat: np.ndarray, walk_layer: StreetLayer | None, *,
               max_link_m: float = LINK_MAX_M) -> StopLinks:
    """Link each stop to its nearest walk-layer node within ``max_link_m``.

    Stops outside the bounding box of the layer's nodes are ``OUTSIDE_STREETS`` (the extract
    does not cover them; linking them to the border would invent a walk), stops inside it but
    farther than ``max_link_m`` from any node are ``TOO_FAR``.
    """
    stop_lon, stop_lat = np.asarray(stop_lon, float), np.asarray(stop_lat, float)
    n = len(stop_lon)
    node = np.full(n, -1, np.int32)
    distance = np.full(n, np.nan, np.float32)
    if walk_layer is None or walk_layer.n_nodes == 0:
        return StopLinks(node, distance, np.full(n, NO_WALK_LAYER, dtype=object).astype(str))
    reason = np.full(n, TOO_FAR, dtype=object)
    lon, lat = walk_layer.node_lon, walk_layer.node_lat
    inside = ((stop_lon >= lon.min()) & (stop_lon <= lon.max())
              & (stop_lat >= lat.min()) & (stop_lat <= lat.max()))
    reason[~inside] = OUTSIDE_STREETS
    lat0 = float(np.mean(lat))
    tree = cKDTree(local_xy(lat, lon, lat0))
    candidates = np.flatnonzero(inside)
    # The local projection is slightly off; the geodesic check below decides.
    found_m, found = tree.query(local_xy(stop_lat[candidates], stop_lon[candidates], lat0),
                                k=1, distance_upper_bound=max_link_m * 1.01)
    hit = np.isfinite(found_m)
    stops_hit, nodes_hit = candidates[hit], found[hit]
    exact = geodesic_m(stop_lat[stops_hit], stop_lon[stops_hit], lat[nodes_hit], lon[nodes_hit])
    ok = exact <= max_link_m
    node[stops_hit[ok]] = nodes_hit[ok]
    distance[stops_hit[ok]] = exact[ok]
    reason[stops_hit[ok]] = LINKED
    return StopLinks(node, distance, reason.astype(str))


def build_footpaths(stop_lon: np.ndarray, stop_lat: np.ndarray, *,
                    eligible: np.ndarray | None = None,
                    walk_speed_mps: float = WALK_SPEED_MPS,
                    max_distance_m: float = FOOTPATH_MAX_M,
                    detour_factor: float = DETOUR_FACTOR,
                    extra_from: np.ndarray | None = None, extra_to: np.ndarray | None = None,
                    extra_duration_s: np.ndarray | None = None,
                    forbidden_from: np.ndarray | None = None,
                    forbidden_to: np.ndarray | None = None) -> Footpaths:
    """Footpaths between stops within ``max_distance_m`` in a straight line, both directions.

    Walking distance is the straight-line (geodesic) distance times ``detour_factor``, and the
    duration that distance at ``walk_speed_mps``, rounded up. ``extra_*`` add directed
    transfers (from transfers.txt); their duration is used where >= 0, else estimated the same
    way, and they replace a computed footpath between the same stops. Only ``eligible`` stops
    (boarding points, not stations) get computed footpaths. ``forbidden_*`` are directed pairs
    with no footpath at all (transfers.txt ``transfer_type`` 3, "not possible").
    """
    stop_lon, stop_lat = np.asarray(stop_lon, float), np.asarray(stop_lat, float)
    n = len(stop_lon)
    eligible = np.ones(n, bool) if eligible is None else np.asarray(eligible, bool)
    candidates = np.flatnonzero(eligible)
    pairs = np.zeros((0, 2), np.int64)
    if len(candidates) > 1:
        lat0 = float(np.mean(stop_lat[candidates]))
        tree = cKDTree(local_xy(stop_lat[candidates], stop_lon[candidates], lat0))
        pairs = candidates[tree.query_pairs(max_distance_m * 1.01, output_type="ndarray")]
    straight = geodesic_m(stop_lat[pairs[:, 0]], stop_lon[pairs[:, 0]],
                          stop_lat[pairs[:, 1]], stop_lon[pairs[:, 1]])
    keep = straight <= max_distance_m
    pairs, straight = pairs[keep], straight[keep]
    source = np.r_[pairs[:, 0], pairs[:, 1]]
    target = np.r_[pairs[:, 1], pairs[:, 0]]
    walk_m = np.r_[straight, straight] * detour_factor
    duration = np.ceil(walk_m / walk_speed_mps)
    if extra_from is not None and len(extra_from):
        extra_from = np.asarray(extra_from, np.int64)
        extra_to = np.asarray(extra_to, np.int64)
        extra_walk_m = detour_factor * geodesic_m(stop_lat[extra_from], stop_lon[extra_from],
                                                  stop_lat[extra_to], stop_lon[extra_to])
        given = np.asarray(extra_duration_s, float)
        extra_duration = np.where(given >= 0, given, np.ceil(extra_walk_m / walk_speed_mps))
        # Put the given transfers first so that de-duplication keeps them.
        source, target = np.r_[extra_from, source], np.r_[extra_to, target]
        walk_m = np.r_[extra_walk_m, walk_m]
        duration = np.r_[extra_duration, duration]
    _, first = np.unique(source * n + target, return_index=True)  # sorted by source, target
    kept = first
    if forbidden_from is not None and len(forbidden_from):
        forbidden = (np.asarray(forbidden_from, np.int64) * n
                     + np.asarray(forbidden_to, np.int64))
        kept = first[~np.isin(source[first] * n + target[first], forbidden)]
    source, target, walk_m, duration = source[kept], target[kept], walk_m[kept], duration[kept]
    indptr = np.r_[0, np.cumsum(np.bincount(source, minlength=n))].astype(np.int64)
    return Footpaths(indptr, target.astype(np.int32), duration.astype(np.int32),
                     walk_m.astype(np.float32))
