"""Check a loaded artifact's arrays before any query indexes into them.

An artifact is an untrusted file: a tampered index array would make a query read out of bounds
(numpy raises, but compiled kernels segfault) or loop for minutes. Every check here is one
vectorised numpy pass, so validation costs a small fraction of loading.

Checked: the kind (int/float/str/bool) and shape of every array against the dataclasses of
:mod:`graphs.network`; every CSR offset array starts at 0, never decreases and ends at the
length of the array it indexes; every index array lies in range (``-1`` allowed where it means
"none"); stop times are non-negative with arrival <= departure; each trip has as many stop
times as its pattern has stops.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ArtifactError

__all__ = ["validate_street_layer", "validate_timetable", "validate_charging", "validate_parkings"]


def _kind(prefix: str, name: str, array: Any, kind: str, ndim: int = 1) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise ArtifactError(f"{prefix}/{name}: expected an array, got {type(array).__name__}")
    if array.ndim != ndim:
        raise ArtifactError(f"{prefix}/{name}: expected {ndim} dimension(s), got shape "
                            f"{array.shape}")
    if array.size and array.dtype.kind not in kind:
        raise ArtifactError(f"{prefix}/{name}: wrong dtype {array.dtype}")
    return array


def _length(prefix: str, name: str, array: np.ndarray, n: int) -> None:
    if array.shape[0] != n:
        raise ArtifactError(f"{prefix}/{name}: expected length {n}, got {array.shape[0]}")


def _in_range(prefix: str, name: str, array: np.ndarray, n: int, *, allow_none: bool = False
              ) -> None:
    if array.size == 0:
        return
    low = -1 if allow_none else 0
    if int(array.min()) < low or int(array.max()) >= n:
        raise ArtifactError(f"{prefix}/{name}: index out of range [{low}, {n})")


def _csr(prefix: str, name: str, indptr: np.ndarray, rows: int, target_len: int) -> None:
    _length(prefix, name, indptr, rows + 1)
    if int(indptr[0]) != 0 or int(indptr[-1]) != target_len:
        raise ArtifactError(f"{prefix}/{name}: offsets must run from 0 to {target_len}")
    if indptr.size > 1 and bool((np.diff(indptr) < 0).any()):
        raise ArtifactError(f"{prefix}/{name}: offsets decrease")


_INT, _FLOAT, _STR, _BOOL = "iu", "f", "U", "b"


def validate_street_layer(prefix: str, layer: Any) -> None:
    """Raise :class:`ArtifactError` naming the first inconsistent array of a street layer."""
    a = {n: getattr(layer, n) for n in (
        "node_osmid", "node_lon", "node_lat", "indptr", "edge_tail", "edge_head",
        "edge_length_m", "edge_duration_s", "edge_name", "names", "geometry_indptr")}
    kinds = dict(node_osmid=_INT, node_lon=_FLOAT, node_lat=_FLOAT, indptr=_INT,
                 edge_tail=_INT, edge_head=_INT, edge_length_m=_FLOAT,
                 edge_duration_s=_FLOAT, edge_name=_INT, names=_STR, geometry_indptr=_INT)
    for name, kind in kinds.items():
        _kind(prefix, name, a[name], kind)
    geometry = _kind(prefix, "geometry_lonlat", layer.geometry_lonlat, _FLOAT, ndim=2)
    if geometry.shape[1] != 2:
        raise ArtifactError(f"{prefix}/geometry_lonlat: expected shape (g, 2)")
    n, m = a["node_lon"].shape[0], a["edge_head"].shape[0]
    for name in ("node_osmid", "node_lat"):
        _length(prefix, name, a[name], n)
    for name in ("edge_tail", "edge_length_m", "edge_duration_s", "edge_name"):
        _length(prefix, name, a[name], m)
    _csr(prefix, "indptr", a["indptr"], n, m)
    _csr(prefix, "geometry_indptr", a["geometry_indptr"], m, geometry.shape[0])
    _in_range(prefix, "edge_tail", a["edge_tail"], n)
    _in_range(prefix, "edge_head", a["edge_head"], n)
    _in_range(prefix, "edge_name", a["edge_name"], a["names"].shape[0], allow_none=True)
    for name in ("edge_length_m", "edge_duration_s"):
        if a[name].size and not bool((a[name] >= 0).all()):  # also refuses NaN
            raise ArtifactError(f"{prefix}/{name}: negative or NaN values")


_TIMETABLE_KINDS = dict(
    feed_names=_STR, stop_id=_STR, stop_name=_STR, stop_lon=_FLOAT, stop_lat=_FLOAT,
    stop_parent=_INT, stop_feed=_INT, stop_min_transfer_s=_INT,
    route_id=_STR, route_short_name=_STR, route_long_name=_STR, route_type=_INT,
    route_mode=_STR, route_feed=_INT, route_co2e_g_per_pkm=_FLOAT, route_co2e_source=_STR,
    pattern_route=_INT, pattern_stop_indptr=_INT, pattern_stops=_INT,
    pattern_hop_distance_m=_FLOAT, pattern_distance_source=_STR, pattern_trip_indptr=_INT,
    hop_geometry_indptr=_INT,
    trip_id=_STR, trip_service=_INT, trip_headsign=_STR, trip_is_frequency=_BOOL,
    trip_bikes_allowed=_INT, trip_stop_time_indptr=_INT, stop_time_arrival_s=_INT, stop_time_departure_s=_INT,
    stop_time_is_interpolated=_BOOL, stop_time_pickup_ok=_BOOL, stop_time_dropoff_ok=_BOOL,
    service_id=_STR, footpath_indptr=_INT, footpath_target=_INT, footpath_duration_s=_INT,
    footpath_distance_m=_FLOAT, stop_walk_node=_INT, stop_link_distance_m=_FLOAT,
)

# (array, length-key): every array of a group has the group's length
_GROUPS = {
    "stop_id": ("stop_name", "stop_lon", "stop_lat", "stop_parent", "stop_feed",
                "stop_min_transfer_s", "stop_walk_node", "stop_link_distance_m"),
    "route_id": ("route_short_name", "route_long_name", "route_type", "route_mode",
                 "route_feed", "route_co2e_g_per_pkm", "route_co2e_source"),
    "pattern_route": ("pattern_distance_source",),
    "pattern_stops": ("pattern_hop_distance_m",),
    "trip_id": ("trip_service", "trip_headsign", "trip_is_frequency", "trip_bikes_allowed"),
    "stop_time_arrival_s": ("stop_time_departure_s", "stop_time_is_interpolated",
                            "stop_time_pickup_ok", "stop_time_dropoff_ok"),
    "footpath_target": ("footpath_duration_s", "footpath_distance_m"),
}


def validate_timetable(timetable: Any, walk_nodes: int | None) -> None:
    """Raise :class:`ArtifactError` naming the first inconsistent array of the timetable.

    ``walk_nodes`` is the node count of the walk layer (``None``: no walk layer, so every
    ``stop_walk_node`` must be -1).
    """
    p = "timetable"
    a = {name: _kind(p, name, getattr(timetable, name), kind)
         for name, kind in _TIMETABLE_KINDS.items()}
    active = _kind(p, "service_active", timetable.service_active, _BOOL, ndim=2)
    geometry = _kind(p, "hop_geometry_lonlat", timetable.hop_geometry_lonlat, _FLOAT, ndim=2)
    if geometry.shape[1] != 2:
        raise ArtifactError(f"{p}/hop_geometry_lonlat: expected shape (g, 2)")
    for key, members in _GROUPS.items():
        for name in members:
            _length(p, name, a[name], a[key].shape[0])
    s, r = a["stop_id"].shape[0], a["route_id"].shape[0]
    n_pat, t = a["pattern_route"].shape[0], a["trip_id"].shape[0]
    n_ps, n_st = a["pattern_stops"].shape[0], a["stop_time_arrival_s"].shape[0]
    _length(p, "service_active", active, a["service_id"].shape[0])
    _csr(p, "pattern_stop_indptr", a["pattern_stop_indptr"], n_pat, n_ps)
    _csr(p, "pattern_trip_indptr", a["pattern_trip_indptr"], n_pat, t)
    _csr(p, "hop_geometry_indptr", a["hop_geometry_indptr"], n_ps, geometry.shape[0])
    _csr(p, "trip_stop_time_indptr", a["trip_stop_time_indptr"], t, n_st)
    _csr(p, "footpath_indptr", a["footpath_indptr"], s, a["footpath_target"].shape[0])
    _in_range(p, "stop_parent", a["stop_parent"], s, allow_none=True)
    _in_range(p, "stop_feed", a["stop_feed"], a["feed_names"].shape[0])
    _in_range(p, "route_feed", a["route_feed"], a["feed_names"].shape[0])
    _in_range(p, "pattern_route", a["pattern_route"], r)
    _in_range(p, "pattern_stops", a["pattern_stops"], s)
    _in_range(p, "trip_service", a["trip_service"], a["service_id"].shape[0])
    _in_range(p, "trip_bikes_allowed", a["trip_bikes_allowed"], 3)  # GTFS 0, 1, 2
    _in_range(p, "footpath_target", a["footpath_target"], s)
    _in_range(p, "stop_walk_node", a["stop_walk_node"], walk_nodes or 0, allow_none=True)
    trip_len = np.diff(a["trip_stop_time_indptr"])
    pattern_len = np.repeat(np.diff(a["pattern_stop_indptr"]), np.diff(a["pattern_trip_indptr"]))
    if not np.array_equal(trip_len, pattern_len):
        raise ArtifactError(f"{p}/trip_stop_time_indptr: a trip's stop count differs from "
                            "its pattern's")
    arrival, departure = a["stop_time_arrival_s"], a["stop_time_departure_s"]
    if arrival.size and int(arrival.min()) < 0:
        raise ArtifactError(f"{p}/stop_time_arrival_s: negative times")
    if departure.size and int(departure.min()) < 0:
        raise ArtifactError(f"{p}/stop_time_departure_s: negative times")
    if bool((arrival > departure).any()):
        raise ArtifactError(f"{p}/stop_time_arrival_s: arrival after departure")
    for name in ("stop_min_transfer_s", "footpath_duration_s"):
        if a[name].size and int(a[name].min()) < 0:
            raise ArtifactError(f"{p}/{name}: negative values")


def validate_charging(stations: Any) -> None:
    """Raise :class:`ArtifactError` naming the first inconsistent charging-station array."""
    p = "charging"
    kinds = dict(osmid=_INT, lon=_FLOAT, lat=_FLOAT, name=_STR, operator=_STR, capacity=_INT)
    arrays = {name: _kind(p, name, getattr(stations, name), kind)
              for name, kind in kinds.items()}
    for name, array in arrays.items():
        _length(p, name, array, arrays["osmid"].shape[0])


def validate_parkings(parkings: Any) -> None:
    """Raise :class:`ArtifactError` naming the first inconsistent parking array."""
    p = "parkings"
    kinds = dict(osmid=_INT, kind=_INT, lon=_FLOAT, lat=_FLOAT, name=_STR, park_ride=_INT,
                 capacity=_INT)
    arrays = {name: _kind(p, name, getattr(parkings, name), kind)
              for name, kind in kinds.items()}
    for name, array in arrays.items():
        _length(p, name, array, arrays["osmid"].shape[0])
    _in_range(p, "kind", arrays["kind"], 3)  # graphs.network.PARKING_KINDS
    _in_range(p, "park_ride", arrays["park_ride"], 2, allow_none=True)
    lon, lat = arrays["lon"], arrays["lat"]
    if lon.size and not (np.isfinite(lon).all() and np.isfinite(lat).all()
                         and np.abs(lon).max() <= 180.0 and np.abs(lat).max() <= 90.0):
        raise ArtifactError(f"{p}/lon: coordinates outside WGS84 degrees")
