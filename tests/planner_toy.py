"""A tiny hand-made network for planner tests: a street grid and a bus + metro timetable.

Grid: ``N x N`` nodes ``SPACING_M`` apart around Porto Alegre, two-way edges on every layer
(cars at ``CAR_SPEED_MPS``). Bus route "A" runs west to east along row 0 every 10 minutes
08:00-10:00 (stop at every node of the row); metro "M" runs south to north along the last
column every 6 minutes 08:00-10:00. They meet at the south-east corner (stop ``A5``/``M0``).
Services run Monday to Friday 2019-05-13 .. 2019-05-17.
"""
from __future__ import annotations

import math

import numpy as np

from graphs.factors import load_factor_table
from graphs.network import ChargingStations, Network, StreetLayer, Timetable

N = 6
SPACING_M = 500.0
LAT0, LON0 = -30.05, -51.22
CAR_SPEED_MPS = 10.0
MIN_TRANSFER_S = 60
BUS_HEADWAY_S, METRO_HEADWAY_S = 600, 360
BUS_HOP_S, METRO_HOP_S = 90, 60
_M_PER_DEG_LAT = 111_195.0


def node_lonlat(row: int, col: int) -> tuple[float, float]:
    """Lon/lat of grid node (row, col); rows go north, columns east."""
    lat = LAT0 + row * SPACING_M / _M_PER_DEG_LAT
    lon = LON0 + col * SPACING_M / (_M_PER_DEG_LAT * math.cos(math.radians(LAT0)))
    return lon, lat


def node_index(row: int, col: int) -> int:
    return row * N + col


def grid_layer(name: str) -> StreetLayer:
    edges = []
    for r in range(N):
        for c in range(N):
            for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                if 0 <= r + dr < N and 0 <= c + dc < N:
                    edges.append((node_index(r, c), node_index(r + dr, c + dc), r, c, dr))
    edges.sort()
    tail = np.array([e[0] for e in edges], np.int32)
    head = np.array([e[1] for e in edges], np.int32)
    lonlat = np.array([node_lonlat(r, c) for r in range(N) for c in range(N)])
    length = np.full(len(edges), SPACING_M, np.float32)
    speed = CAR_SPEED_MPS if name == "car" else 1.33
    names = np.array([f"Rua {r}" for r in range(N)] + [f"Avenida {c}" for c in range(N)])
    edge_name = np.array([e[2] if e[4] == 0 else N + (e[3]) for e in edges], np.int32)
    geometry = np.concatenate([[lonlat[t], lonlat[h]] for t, h in zip(tail, head)])
    return StreetLayer(
        name=name, node_osmid=np.arange(N * N, dtype=np.int64) + 1000,
        node_lon=lonlat[:, 0].copy(), node_lat=lonlat[:, 1].copy(),
        indptr=np.concatenate([[0], np.cumsum(np.bincount(tail, minlength=N * N))]).astype(np.int64),
        edge_tail=tail, edge_head=head, edge_length_m=length,
        edge_duration_s=(length / speed).astype(np.float32), edge_name=edge_name, names=names,
        geometry_indptr=np.arange(0, 2 * len(edges) + 1, 2, dtype=np.int64),
        geometry_lonlat=geometry)


def _timetable(factors) -> Timetable:
    bus_nodes = [node_index(0, c) for c in range(N)]
    metro_nodes = [node_index(r, N - 1) for r in range(N)]
    stop_nodes = bus_nodes + metro_nodes
    stop_ids = [f"toy:A{c}" for c in range(N)] + [f"toy:M{r}" for r in range(N)]
    lonlat = np.array([node_lonlat(*divmod(n, N)) for n in stop_nodes])
    s = len(stop_nodes)
    a5, m0 = N - 1, N
    patterns = [list(range(N)), list(range(N, 2 * N))]
    trips, times = [], []
    for p, (headway, hop) in enumerate(((BUS_HEADWAY_S, BUS_HOP_S), (METRO_HEADWAY_S, METRO_HOP_S))):
        for start in range(8 * 3600, 10 * 3600 + 1, headway):
            trips.append(p)
            times.append([start + i * hop for i in range(N)])
    n_trips = len(trips)
    arr = np.array(times, np.int32).ravel()
    dep = arr.copy()
    dep_stop_hold = 20  # vehicles dwell 20 s after arriving, except at the first stop
    arr_adj = arr.copy().reshape(n_trips, N)
    arr_adj[:, 1:] -= dep_stop_hold
    bus, metro = factors.g_per_pkm("bus"), factors.g_per_pkm("metro")
    days = 7
    active = np.zeros((1, days), bool)
    active[0, :5] = True
    return Timetable(
        feed_names=np.array(["toy"]), stop_id=np.array(stop_ids),
        stop_name=np.array([f"Stop {x.split(':')[1]}" for x in stop_ids]),
        stop_lon=lonlat[:, 0].copy(), stop_lat=lonlat[:, 1].copy(),
        stop_parent=np.full(s, -1, np.int32), stop_feed=np.zeros(s, np.int16),
        stop_min_transfer_s=np.full(s, MIN_TRANSFER_S, np.int32),
        route_id=np.array(["toy:A", "toy:M"]), route_short_name=np.array(["A", "M1"]),
        route_long_name=np.array(["Avenida A", "Metro 1"]), route_type=np.array([3, 1], np.int32),
        route_mode=np.array(["bus", "metro"]), route_feed=np.zeros(2, np.int16),
        route_co2e_g_per_pkm=np.array([bus, metro], np.float64),
        route_co2e_source=np.array(["factor:bus", "factor:metro"]),
        pattern_route=np.array([0, 1], np.int32),
        pattern_stop_indptr=np.array([0, N, 2 * N], np.int64),
        pattern_stops=np.array(patterns[0] + patterns[1], np.int32),
        pattern_hop_distance_m=np.array(([0.0] + [SPACING_M] * (N - 1)) * 2, np.float32),
        pattern_distance_source=np.array(["straight_line"] * 2),
        pattern_trip_indptr=np.array([0, trips.count(0), n_trips], np.int64),
        hop_geometry_indptr=np.zeros(2 * N + 1, np.int64), hop_geometry_lonlat=np.zeros((0, 2)),
        trip_id=np.array([f"toy:{'A' if p == 0 else 'M'}-{i}" for i, p in enumerate(trips)]),
        trip_service=np.zeros(n_trips, np.int32),
        trip_headsign=np.array(["Leste" if p == 0 else "Norte" for p in trips]),
        trip_is_frequency=np.zeros(n_trips, bool),
        trip_stop_time_indptr=np.arange(0, n_trips * N + 1, N, dtype=np.int64),
        stop_time_arrival_s=arr_adj.ravel().astype(np.int32), stop_time_departure_s=dep,
        stop_time_is_interpolated=np.zeros(n_trips * N, bool),
        service_id=np.array(["toy:WK"]), service_first_date="2019-05-13", service_active=active,
        footpath_indptr=np.concatenate([[0], np.cumsum([1 if i in (a5, m0) else 0
                                                        for i in range(s)])]).astype(np.int64),
        footpath_target=np.array([m0, a5], np.int32),
        footpath_duration_s=np.array([0, 0], np.int32),
        footpath_distance_m=np.array([0.0, 0.0], np.float32),
        stop_walk_node=np.array(stop_nodes, np.int32),
        stop_link_distance_m=np.zeros(s, np.float32))


def toy_network() -> Network:
    """The toy network with the ``cn`` factor table in its manifest."""
    factors = load_factor_table("cn")
    charging = ChargingStations(
        osmid=np.zeros(0, np.int64), lon=np.zeros(0), lat=np.zeros(0), name=np.array([], str),
        operator=np.array([], str), capacity=np.zeros(0, np.int32))
    lon0, lat0 = node_lonlat(0, 0)
    lon1, lat1 = node_lonlat(N - 1, N - 1)
    manifest = {"timezone": "America/Sao_Paulo", "factor_table": factors.label,
                "factors": factors.to_dict(), "coverage": {"bbox": [lon0, lat0, lon1, lat1]}}
    return Network(manifest=manifest,
                   streets={name: grid_layer(name) for name in ("walk", "bike", "car")},
                   timetable=_timetable(factors), charging_stations=charging)


def line_network(lines: list[tuple[str, str, list[int], int]], *,
                 flags: dict[str, np.ndarray] | None = None) -> Network:
    """The toy grid with ``lines`` all running west to east along row 0 (stops ``A0..A5``).

    Each line is ``(short name, transit mode, first-stop departures in s, seconds per hop)``;
    every trip calls at every stop, with no dwell. ``flags`` may set the timetable's
    ``stop_time_pickup_ok``/``stop_time_dropoff_ok`` (rows: trips in line order, N per trip).
    """
    factors = load_factor_table("cn")
    base = toy_network()
    stop_nodes = [node_index(0, c) for c in range(N)]
    lonlat = np.array([node_lonlat(0, c) for c in range(N)])
    trip_ids, headsigns, times = [], [], []
    for short, _, starts, hop in lines:
        for start in starts:
            trip_ids.append(f"toy:{short}-{start // 60:04d}")
            headsigns.append(f"{short} Leste")
            times.append([start + i * hop for i in range(N)])
    n_routes, n_trips = len(lines), len(times)
    stop_times = np.array(times, np.int32).ravel()
    trip_counts = [len(starts) for _, _, starts, _ in lines]
    active = np.zeros((1, 7), bool)
    active[0, :5] = True
    tt = Timetable(
        feed_names=np.array(["toy"]), stop_id=np.array([f"toy:A{c}" for c in range(N)]),
        stop_name=np.array([f"Stop A{c}" for c in range(N)]),
        stop_lon=lonlat[:, 0].copy(), stop_lat=lonlat[:, 1].copy(),
        stop_parent=np.full(N, -1, np.int32), stop_feed=np.zeros(N, np.int16),
        stop_min_transfer_s=np.full(N, MIN_TRANSFER_S, np.int32),
        route_id=np.array([f"toy:{line[0]}" for line in lines]),
        route_short_name=np.array([line[0] for line in lines]),
        route_long_name=np.array([line[0] for line in lines]),
        route_type=np.array([3 if line[1] == "bus" else 1 for line in lines], np.int32),
        route_mode=np.array([line[1] for line in lines]),
        route_feed=np.zeros(n_routes, np.int16),
        route_co2e_g_per_pkm=np.array([factors.g_per_pkm(line[1]) for line in lines], np.float64),
        route_co2e_source=np.array([f"factor:{line[1]}" for line in lines]),
        pattern_route=np.arange(n_routes, dtype=np.int32),
        pattern_stop_indptr=np.arange(0, N * n_routes + 1, N, dtype=np.int64),
        pattern_stops=np.tile(np.arange(N, dtype=np.int32), n_routes),
        pattern_hop_distance_m=np.array(([0.0] + [SPACING_M] * (N - 1)) * n_routes, np.float32),
        pattern_distance_source=np.array(["straight_line"] * n_routes),
        pattern_trip_indptr=np.concatenate([[0], np.cumsum(trip_counts)]).astype(np.int64),
        hop_geometry_indptr=np.zeros(N * n_routes + 1, np.int64),
        hop_geometry_lonlat=np.zeros((0, 2)),
        trip_id=np.array(trip_ids), trip_service=np.zeros(n_trips, np.int32),
        trip_headsign=np.array(headsigns), trip_is_frequency=np.zeros(n_trips, bool),
        trip_stop_time_indptr=np.arange(0, n_trips * N + 1, N, dtype=np.int64),
        stop_time_arrival_s=stop_times.copy(), stop_time_departure_s=stop_times.copy(),
        stop_time_is_interpolated=np.zeros(n_trips * N, bool),
        service_id=np.array(["toy:WK"]), service_first_date="2019-05-13", service_active=active,
        footpath_indptr=np.zeros(N + 1, np.int64), footpath_target=np.zeros(0, np.int32),
        footpath_duration_s=np.zeros(0, np.int32), footpath_distance_m=np.zeros(0, np.float32),
        stop_walk_node=np.array(stop_nodes, np.int32), stop_link_distance_m=np.zeros(N, np.float32),
        **(flags or {}))
    return Network(manifest=base.manifest, streets=base.streets, timetable=tt,
                   charging_stations=base.charging_stations)
