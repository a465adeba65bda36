"""The compiled network: street layers, timetable and charging stations as flat arrays.

These are the structures queries run on. They are built once (``graphs.build``), saved in the
artifact (``graphs.artifact``) and never changed afterwards. Arrays only, so that the artifact
can be written and read with ``numpy`` and no pickle. The networkx graphs users inspect are
built from OSM first and compiled into these; ``graphs.export`` turns them back into graphs.

Conventions: coordinates are WGS84 lon/lat in degrees; times of day are seconds after the
service day's noon minus 12 h (GTFS convention, may exceed 86 400); every ``*_indptr`` is a
CSR offset array of length ``n + 1``; ``-1`` means "none" in index arrays.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .errors import ArtifactError
from .factors import FactorTable, factor_table_from_dict
from .gbfs import GbfsFeed, gbfs_from_documents

__all__ = ["StreetLayer", "Timetable", "ChargingStations", "Parkings", "PARKING_KINDS", "Network",
           "manifest_timezone", "manifest_bbox"]


@dataclass(frozen=True, eq=False)
class StreetLayer:
    """One street layer (``walk``, ``bike`` or ``car``) as a CSR graph.

    Edges are sorted by tail node; the out-edges of node ``u`` are
    ``indptr[u]:indptr[u + 1]``. Edge ``e`` goes ``edge_tail[e] -> edge_head[e]``.
    ``edge_duration_s`` is the travel time at the build's default speed for walk and bike
    (queries rescale by length for other speeds) and from ``maxspeed`` for cars.
    """

    name: str
    node_osmid: np.ndarray        # int64 (n,)
    node_lon: np.ndarray          # float64 (n,)
    node_lat: np.ndarray          # float64 (n,)
    indptr: np.ndarray            # int64 (n + 1,)
    edge_tail: np.ndarray         # int32 (m,)
    edge_head: np.ndarray         # int32 (m,)
    edge_length_m: np.ndarray     # float32 (m,)
    edge_duration_s: np.ndarray   # float32 (m,)
    edge_name: np.ndarray         # int32 (m,) index into ``names``, -1 for unnamed
    names: np.ndarray             # str (k,)
    geometry_indptr: np.ndarray   # int64 (m + 1,) rows of ``geometry_lonlat`` per edge
    geometry_lonlat: np.ndarray   # float64 (g, 2) edge polylines, tail to head

    @property
    def n_nodes(self) -> int:
        return int(self.node_lon.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_head.shape[0])


@dataclass(frozen=True, eq=False)
class Timetable:
    """All GTFS feeds of a network merged into one RAPTOR-ready timetable.

    Ids are prefixed with the feed name (``"eptc:1511"``) so feeds never collide.
    Trips are grouped into *patterns* (same route, same stop sequence, no overtaking) and
    sorted by departure within each pattern; the stop times of trip ``t`` are
    ``stop_time_*[trip_stop_time_indptr[t] : trip_stop_time_indptr[t + 1]]``, one per
    stop of its pattern. Frequency-based trips are expanded to concrete trips at build time.
    """

    feed_names: np.ndarray            # str (f,)
    # stops
    stop_id: np.ndarray               # str (s,) feed-prefixed
    stop_name: np.ndarray             # str (s,)
    stop_lon: np.ndarray              # float64 (s,)
    stop_lat: np.ndarray              # float64 (s,)
    stop_parent: np.ndarray           # int32 (s,) parent station index or -1
    stop_feed: np.ndarray             # int16 (s,)
    stop_min_transfer_s: np.ndarray   # int32 (s,) minimum time to change vehicles at the stop
    # routes
    route_id: np.ndarray              # str (r,) feed-prefixed
    route_short_name: np.ndarray      # str (r,)
    route_long_name: np.ndarray       # str (r,)
    route_type: np.ndarray            # int32 (r,) as in the feed
    route_mode: np.ndarray            # str (r,) a transit mode of ``graphs.modes``
    route_feed: np.ndarray            # int16 (r,)
    route_co2e_g_per_pkm: np.ndarray  # float64 (r,) per passenger-km, exactly as the factor table says
    route_co2e_source: np.ndarray     # str (r,) "factor:<key>" or "emissions.txt"
    # patterns
    pattern_route: np.ndarray         # int32 (p,)
    pattern_stop_indptr: np.ndarray   # int64 (p + 1,)
    pattern_stops: np.ndarray         # int32 (sum of pattern lengths,) stop indices
    # float32, aligned with pattern_stops: metres from the previous stop (0 first)
    pattern_hop_distance_m: np.ndarray
    pattern_distance_source: np.ndarray  # str (p,) "shape_dist_traveled" | "shape" | "straight_line"
    pattern_trip_indptr: np.ndarray   # int64 (p + 1,) trips of each pattern
    # int64 (len(pattern_stops) + 1,) polyline rows, aligned with pattern_stops
    hop_geometry_indptr: np.ndarray
    hop_geometry_lonlat: np.ndarray   # float64 (g, 2) polyline from the previous stop to this one
    # trips (sorted by pattern, then by departure from the first stop)
    trip_id: np.ndarray               # str (t,) feed-prefixed; expanded frequency trips get "#HH:MM:SS"
    trip_service: np.ndarray          # int32 (t,) index into service_id
    trip_headsign: np.ndarray         # str (t,)
    trip_is_frequency: np.ndarray     # bool (t,)
    trip_stop_time_indptr: np.ndarray  # int64 (t + 1,)
    stop_time_arrival_s: np.ndarray   # int32
    stop_time_departure_s: np.ndarray  # int32
    stop_time_is_interpolated: np.ndarray  # bool: time not in the feed, interpolated by distance
    # services: service_active[v, d] says whether service v runs on service_first_date + d days
    service_id: np.ndarray            # str (v,) feed-prefixed
    service_first_date: str           # "YYYY-MM-DD"
    service_active: np.ndarray        # bool (v, days)
    # footpaths between nearby stops (walking transfers), CSR over stops
    footpath_indptr: np.ndarray       # int64 (s + 1,)
    footpath_target: np.ndarray       # int32
    footpath_duration_s: np.ndarray   # int32
    footpath_distance_m: np.ndarray   # float32
    # links of stops to the walking layer
    stop_walk_node: np.ndarray        # int32 (s,) node of the walk layer, -1 if unlinked
    stop_link_distance_m: np.ndarray  # float32 (s,) metres from the stop to that node
    # GTFS pickup_type / drop_off_type = 1: riders may not board / alight at this stop time
    # (the vehicle still passes with these times). Aligned with stop_time_*; None when
    # constructing means "allowed everywhere" and is replaced by all-True arrays.
    stop_time_pickup_ok: np.ndarray = None   # type: ignore[assignment]  # bool
    stop_time_dropoff_ok: np.ndarray = None  # type: ignore[assignment]  # bool
    # int8 (t,) GTFS trips.txt bikes_allowed: 0 no information, 1 allowed, 2 not allowed; the
    # trips of one pattern agree. None when constructing (and in artifacts written before it
    # was kept) means 0 everywhere.
    trip_bikes_allowed: np.ndarray = None    # type: ignore[assignment]  # int8

    def __post_init__(self) -> None:
        if self.trip_bikes_allowed is None:
            unknown = np.zeros(self.trip_service.shape[0], np.int8)
            unknown.flags.writeable = False
            object.__setattr__(self, "trip_bikes_allowed", unknown)
        for name in ("stop_time_pickup_ok", "stop_time_dropoff_ok"):
            if getattr(self, name) is None:
                allowed = np.ones(self.stop_time_arrival_s.shape[0], bool)
                allowed.flags.writeable = False
                object.__setattr__(self, name, allowed)  # frozen: set once, here

    @property
    def n_stops(self) -> int:
        return int(self.stop_lon.shape[0])

    @property
    def n_trips(self) -> int:
        return int(self.trip_service.shape[0])


@dataclass(frozen=True, eq=False)
class ChargingStations:
    """EV charging points (``amenity=charging_station``) for the charging-pile scenario."""

    osmid: np.ndarray      # int64 (c,)
    lon: np.ndarray        # float64 (c,)
    lat: np.ndarray        # float64 (c,)
    name: np.ndarray       # str (c,)
    operator: np.ndarray   # str (c,)
    capacity: np.ndarray   # int32 (c,) sockets, -1 unknown


#: ``Parkings.kind`` codes: an OSM ``amenity=bicycle_parking``, ``amenity=parking`` or
#: ``amenity=parking_entrance`` (the way into an underground or multi-storey car park).
PARKING_KINDS = ("bicycle_parking", "parking", "parking_entrance")


@dataclass(frozen=True, eq=False)
class Parkings:
    """Bicycle and car parkings from OSM (``graphs._parking_build``), for park-and-ride access.

    ``park_ride`` is the OSM ``park_ride`` tag: 1 for any value but ``no``, 0 for ``no`` and -1
    when absent. Ids as in :class:`ChargingStations` (ways negated).
    """

    osmid: np.ndarray      # int64 (n,)
    kind: np.ndarray       # int8 (n,) index into PARKING_KINDS
    lon: np.ndarray        # float64 (n,)
    lat: np.ndarray        # float64 (n,)
    name: np.ndarray       # str (n,)
    park_ride: np.ndarray  # int8 (n,) 1 yes, 0 no, -1 untagged
    capacity: np.ndarray   # int32 (n,) spaces, -1 unknown

    def __len__(self) -> int:
        return int(self.osmid.shape[0])

    @classmethod
    def empty(cls) -> Parkings:
        """No parkings (an artifact written before parkings were kept, or a file with none)."""
        return cls(osmid=np.zeros(0, np.int64), kind=np.zeros(0, np.int8),
                   lon=np.zeros(0), lat=np.zeros(0), name=np.zeros(0, dtype="<U1"),
                   park_ride=np.zeros(0, np.int8), capacity=np.zeros(0, np.int32))


@dataclass(frozen=True, eq=False)
class Network:
    """Everything a query needs, as loaded from one artifact.

    ``manifest`` holds the format version, input checksums, build options, the full emission
    factor table (with sources) and coverage (bounding box, service dates).
    """

    manifest: dict[str, Any]
    streets: dict[str, StreetLayer]
    timetable: Timetable | None
    charging_stations: ChargingStations
    extra: dict[str, Any] = field(default_factory=dict)
    parkings: Parkings = field(default_factory=Parkings.empty)
    #: the GBFS files baked in by ``tanlu build --gbfs`` (file name -> bytes, as fetched)
    gbfs_files: dict[str, bytes] = field(default_factory=dict)

    @property
    def timezone(self) -> str:
        """IANA timezone of the feeds (service days and query times); ``UTC`` without transit."""
        return manifest_timezone(self.manifest)

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        """``(west, south, east, north)`` of the street network in WGS84 degrees, if recorded."""
        return manifest_bbox(self.manifest)

    @cached_property
    def gbfs(self) -> GbfsFeed | None:
        """The bike-share snapshot of :attr:`gbfs_files`, parsed once (None without one).

        Raises
        ------
        GbfsError
            If the files are not a valid GBFS 2.3/3.0 snapshot.
        """
        return gbfs_from_documents(self.gbfs_files) if self.gbfs_files else None

    @cached_property
    def factors(self) -> FactorTable:
        """The emission factor table the network was built with, parsed once per network.

        Raises
        ------
        ArtifactError
            If the manifest holds no factor table.
        """
        data = self.manifest.get("factors")
        if data is None:
            raise ArtifactError("network manifest has no 'factors' table; rebuild with `tanlu build`")
        return factor_table_from_dict(data)


def manifest_timezone(manifest: dict[str, Any]) -> str:
    """The network's IANA timezone as its manifest records it (``UTC`` when it has no feeds)."""
    return str(manifest.get("timezone") or "UTC")


def manifest_bbox(manifest: dict[str, Any]) -> tuple[float, float, float, float] | None:
    """``(west, south, east, north)`` of the street network from a manifest, if recorded."""
    bbox = (manifest.get("coverage") or {}).get("bbox")
    return (float(bbox[0]), float(bbox[1]), float(bbox[2]), float(bbox[3])) if bbox else None
