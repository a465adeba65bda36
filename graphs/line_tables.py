"""Operator line tables (lines + headways, as Chinese operators hand them over) -> GTFS tables.

A line table lists each line's stops in order with coordinates; a headway table gives, per line,
direction and service day type, time bands with a headway. tanlu turns them into GTFS tables
(stops, routes, one template trip per band with its frequencies.txt row, calendar) and compiles
those with the GTFS pipeline, so the planner gets the same ``Timetable`` as from a feed. The
tables can also be written as a GTFS zip (``tanlu lines to-gtfs``) for other tools.

Columns (English or Chinese header; order free, extra columns ignored):

lines: ``line_id`` 线路, ``line_name`` 线路名称, ``mode`` 方式, ``direction`` 方向,
``stop_seq`` 站序, ``stop_name`` 站名, ``lon`` 经度, ``lat`` 纬度, optional
``minutes_from_first`` 运行时间 (minutes from the first stop's departure).
headways: ``line_id`` 线路, ``direction`` 方向, ``days`` 日期类型
(daily 每日 | weekday 工作日 | weekend 周末 | holiday 节假日), ``start_time`` 首班/开始时间,
``end_time`` 末班/结束时间, ``headway_min`` 发车间隔.

A band runs departures ``start_time, start_time + headway, ...`` before ``end_time``; the
latest band of a line, direction and day type also departs at its ``end_time`` (the last
departure, 末班) when the headway lands on it. ``holiday`` bands become a GTFS service with no
weekday that runs on no date until dates are added (calendar_dates.txt): tanlu has no public
holiday calendar, and China's moves working days around holidays each year.
"""
from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from .crs import Crs, parse_crs, to_wgs84
from .errors import LineTableError, ModeError
from .frequencies import format_hms
from .geodesy import geodesic_m, local_xy
from .linking import DETOUR_FACTOR, LINK_MAX_M
from .modes import TRANSIT_MODES, parse_mode
from .network import StreetLayer
from .tables import FIRST_DATA_ROW, read_table

__all__ = [
    "DAY_TYPES",
    "DEFAULT_TIMEZONE",
    "HEADWAY_COLUMNS",
    "LINE_COLUMNS",
    "OPERATING_SPEED_KPH",
    "STREET_MODES",
    "VALID_FROM",
    "VALID_TO",
    "LineTables",
    "line_tables_to_gtfs",
    "read_line_tables",
    "write_gtfs_zip",
]

#: Average operating speed (stops and dwell included) used when ``minutes_from_first`` is
#: absent. GB 50220-95 (城市道路交通规划设计规范) table 3.1.3, 公共交通方式运送速度:
#: bus 16-25 km/h, tram 14-18, medium-capacity rail 20-35, high-capacity rail (metro) 30-40.
#: tanlu takes the middle of each range; suburban rail is the top of the high-capacity range.
OPERATING_SPEED_KPH = {"bus": 20.0, "tram": 16.0, "metro": 35.0, "rail": 40.0}
#: Modes that run on streets: their hop distance is the shortest car-layer path when the
#: build has one, else the straight line times linking.DETOUR_FACTOR. Rail modes use the
#: straight line (tracks are near-straight between stations).
STREET_MODES = ("bus", "tram")
#: Timezone of the GTFS agency when the build has no GTFS feed to take it from.
DEFAULT_TIMEZONE = "Asia/Shanghai"
#: Service period of the calendar written for line tables (they carry no validity dates) when
#: no GTFS feed of the same build gives one.
VALID_FROM, VALID_TO = "20000101", "20991231"

LINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "line_id": ("line_id", "线路", "线路编号", "线路id"),
    "line_name": ("line_name", "线路名称", "线路名"),
    "mode": ("mode", "方式", "交通方式"),
    "direction": ("direction", "方向"),
    "stop_seq": ("stop_seq", "站序"),
    "stop_name": ("stop_name", "站名", "站点名称"),
    "lon": ("lon", "经度"),
    "lat": ("lat", "纬度"),
    "minutes_from_first": ("minutes_from_first", "运行时间"),
}
HEADWAY_COLUMNS: dict[str, tuple[str, ...]] = {
    "line_id": ("line_id", "线路", "线路编号", "线路id"),
    "direction": ("direction", "方向"),
    "days": ("days", "日期类型"),
    "start_time": ("start_time", "首班", "开始时间"),
    "end_time": ("end_time", "末班", "结束时间"),
    "headway_min": ("headway_min", "发车间隔"),
}
_OPTIONAL = {"minutes_from_first"}
#: Day types and their GTFS weekday flags (monday..sunday).
DAY_TYPES: dict[str, tuple[int, ...]] = {
    "daily": (1, 1, 1, 1, 1, 1, 1), "weekday": (1, 1, 1, 1, 1, 0, 0),
    "weekend": (0, 0, 0, 0, 0, 1, 1), "holiday": (0, 0, 0, 0, 0, 0, 0),
}
_DAY_ALIASES = {"每日": "daily", "每天": "daily", "全周": "daily", "工作日": "weekday",
                "周末": "weekend", "双休日": "weekend", "节假日": "holiday"}
_ROUTE_TYPES = {"tram": 0, "metro": 1, "rail": 2, "bus": 3, "ferry": 4, "cable": 6}
_TIME_RE = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")


@dataclass(frozen=True, eq=False)
class LineTables:
    """A validated line table and headway table; coordinates already WGS-84.

    ``stops`` has one row per line stop (``line_id, line_name, mode, direction, stop_seq,
    stop_name, lon, lat, minutes_from_first`` (NaN if absent), ``row``); ``headways`` one row
    per band (``line_id, direction, days, start_s, end_s, headway_s, row``).
    """

    name: str
    lines_path: Path
    headways_path: Path
    stops: pd.DataFrame
    headways: pd.DataFrame
    crs: Crs
    encodings: tuple[str, str]
    report: dict[str, Any] = field(default_factory=dict)


def read_line_tables(lines_path: str | os.PathLike, headways_path: str | os.PathLike, *,
                     crs: Crs | str = Crs.WGS84, encoding: str | None = None,
                     name: str | None = None) -> LineTables:
    """Read and validate a line table and its headway table; convert coordinates to WGS-84.

    Raises
    ------
    LineTableError
        Naming file, row (header is row 1) and field of the first bad value, a missing
        column, a line without headways or a headway row naming no line.
    CrsError
        If ``crs`` is not a known system.
    """
    crs = parse_crs(crs)
    lines = read_table(lines_path, encoding=encoding)
    heads = read_table(headways_path, encoding=encoding)
    stops = _line_stops(lines.path, _rename(lines.path, lines.frame, LINE_COLUMNS), crs)
    headways = _headways(heads.path, _rename(heads.path, heads.frame, HEADWAY_COLUMNS))
    _check_pairs(lines.path, heads.path, stops, headways)
    return LineTables(name=name or Path(lines_path).stem, lines_path=lines.path,
                      headways_path=heads.path, stops=stops, headways=headways, crs=crs,
                      encodings=(lines.encoding, heads.encoding))


# -- validation -------------------------------------------------------------------------------

def _fail(path: Path, frame: pd.DataFrame, bad: np.ndarray, column: str, problem: str) -> None:
    if not np.any(bad):
        return
    i = int(np.flatnonzero(bad)[0])
    row = i + FIRST_DATA_ROW
    value = frame[column].iloc[i] if column in frame.columns else ""
    raise LineTableError(f"{path}: row {row}, field {column}: {value!r} {problem}",
                         path=str(path), row=row, field=column)


def _rename(path: Path, frame: pd.DataFrame, columns: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    found = {}
    lowered = {c.lower(): c for c in frame.columns}
    for canonical, names in columns.items():
        hit = next((lowered[n] for n in names if n in lowered), None)
        if hit is not None:
            found[hit] = canonical
        elif canonical not in _OPTIONAL:
            raise LineTableError(f"{path}: lacks the column {canonical} "
                                 f"({' / '.join(names[1:])})", path=str(path), field=canonical)
    out = frame[list(found)].rename(columns=found)
    out["row"] = np.arange(len(out)) + FIRST_DATA_ROW
    return out


def _number(path, frame, column, problem="is not a number") -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
    _fail(path, frame, ~np.isfinite(values), column, problem)
    return values


def _line_mode(text: str) -> str | None:
    """Canonical transit mode of a mode cell (any synonym of ``graphs.modes``), else None."""
    try:
        mode = parse_mode(text)
    except ModeError:
        return None
    return mode if mode in TRANSIT_MODES else None


def _line_stops(path: Path, frame: pd.DataFrame, crs: Crs) -> pd.DataFrame:
    for column in ("line_id", "direction", "stop_name"):
        _fail(path, frame, (frame[column] == "").to_numpy(), column, "is empty")
    modes = frame["mode"].map(_line_mode)
    allowed = "|".join(TRANSIT_MODES)
    _fail(path, frame, modes.isna().to_numpy(), "mode", f"is not a transit mode ({allowed})")
    seq = _number(path, frame, "stop_seq", "is not a whole number")
    _fail(path, frame, seq != np.round(seq), "stop_seq", "is not a whole number")
    lon, lat = _number(path, frame, "lon"), _number(path, frame, "lat")
    _fail(path, frame, np.abs(lon) > 180, "lon", "is not a longitude")
    _fail(path, frame, np.abs(lat) > 90, "lat", "is not a latitude")
    lat, lon = to_wgs84(lat, lon, crs)
    minutes = np.full(len(frame), np.nan)
    if "minutes_from_first" in frame.columns:
        given = (frame["minutes_from_first"] != "").to_numpy()
        minutes = pd.to_numeric(frame["minutes_from_first"], errors="coerce").to_numpy(float)
        _fail(path, frame, given & ~(minutes >= 0), "minutes_from_first",
              "is not a number of minutes >= 0")
    stops = pd.DataFrame({
        "line_id": frame["line_id"], "line_name": frame.get("line_name", frame["line_id"]),
        "mode": modes, "direction": frame["direction"], "stop_seq": seq.astype(np.int64),
        "stop_name": frame["stop_name"], "lon": lon, "lat": lat,
        "minutes_from_first": minutes, "row": frame["row"]})
    stops = stops.sort_values(["line_id", "direction", "stop_seq"], kind="stable")
    _check_lines(path, stops)
    return stops.reset_index(drop=True)


def _check_lines(path: Path, stops: pd.DataFrame) -> None:
    def fail(rows: pd.Series, column: str, problem: str) -> None:
        row = int(rows.iloc[0])
        value = str(stops.loc[rows.index[0], column])
        raise LineTableError(f"{path}: row {row}, field {column}: {value!r} {problem}",
                             path=str(path), row=row, field=column)

    keys = ["line_id", "direction"]
    dup = stops.duplicated(keys + ["stop_seq"])
    if dup.any():
        fail(stops.loc[dup, "row"], "stop_seq", "repeats a stop_seq of the same line and "
                                                "direction")
    for column in ("mode", "line_name"):
        varies = stops.groupby("line_id")[column].transform("nunique") > 1
        if varies.any():
            fail(stops.loc[varies, "row"], column, "differs between rows of the same line")
    size = stops.groupby(keys)["stop_seq"].transform("size")
    if (size < 2).any():
        fail(stops.loc[size < 2, "row"], "line_id", "has a direction with fewer than 2 stops")
    minutes = stops["minutes_from_first"]
    has = minutes.notna()
    partial = has.groupby([stops[k] for k in keys]).transform("nunique") > 1
    if partial.any():
        fail(stops.loc[partial & ~has, "row"], "minutes_from_first",
             "is empty while other stops of the line give it (give all or none)")
    step = minutes.groupby([stops[k] for k in keys]).diff()
    if (step < 0).any():
        fail(stops.loc[step < 0, "row"], "minutes_from_first", "is less than the previous "
                                                                "stop's")
    speedless = stops["mode"].map(lambda m: m not in OPERATING_SPEED_KPH) & ~has
    if speedless.any():
        fail(stops.loc[speedless, "row"], "minutes_from_first",
             "is needed: tanlu has no operating speed for this line's mode")


def _parse_time(text: pd.Series) -> np.ndarray:
    """``H:MM`` or ``H:MM:SS`` (full-width colon allowed; hours may pass 24) -> seconds."""
    parts = text.str.extract(_TIME_RE)
    h, m = pd.to_numeric(parts[0]), pd.to_numeric(parts[1])
    s = pd.to_numeric(parts[2]).fillna(0)
    seconds = (h * 3600 + m * 60 + s).to_numpy(float)
    return np.where((m >= 60).to_numpy() | (s >= 60).to_numpy(), np.nan, seconds)


def _headways(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("line_id", "direction"):
        _fail(path, frame, (frame[column] == "").to_numpy(), column, "is empty")
    raw_days = frame["days"].str.lower()
    days = raw_days.map(lambda d: d if d in DAY_TYPES else _DAY_ALIASES.get(d))
    _fail(path, frame, days.isna().to_numpy(), "days",
          "is not a day type (daily|weekday|weekend|holiday)")
    start, end = _parse_time(frame["start_time"]), _parse_time(frame["end_time"])
    _fail(path, frame, np.isnan(start), "start_time", "is not a time H:MM or H:MM:SS")
    _fail(path, frame, np.isnan(end), "end_time", "is not a time H:MM or H:MM:SS")
    _fail(path, frame, end < start, "end_time", "is before start_time")
    headway = _number(path, frame, "headway_min")
    _fail(path, frame, ~((headway >= 1) & (headway <= 24 * 60)), "headway_min",
          "is not a headway in minutes (1..1440)")
    return pd.DataFrame({"line_id": frame["line_id"], "direction": frame["direction"],
                         "days": days, "start_s": start.astype(np.int64),
                         "end_s": end.astype(np.int64),
                         "headway_s": np.round(headway * 60).astype(np.int64),
                         "row": frame["row"]})


def _check_pairs(lines_path: Path, headways_path: Path, stops: pd.DataFrame,
                 headways: pd.DataFrame) -> None:
    line_keys = set(zip(stops["line_id"], stops["direction"], strict=True))
    for key, row in zip(zip(headways["line_id"], headways["direction"], strict=True), headways["row"],
                        strict=True):
        if key not in line_keys:
            raise LineTableError(f"{headways_path}: row {row}, field line_id: line {key[0]!r} "
                                 f"direction {key[1]!r} is not in {lines_path.name}",
                                 path=str(headways_path), row=int(row), field="line_id")
    served = set(zip(headways["line_id"], headways["direction"], strict=True))
    for key, row in zip(zip(stops["line_id"], stops["direction"], strict=True), stops["row"], strict=False):
        if key not in served:
            raise LineTableError(f"{lines_path}: row {row}, field line_id: line {key[0]!r} "
                                 f"direction {key[1]!r} has no row in {headways_path.name}",
                                 path=str(lines_path), row=int(row), field="line_id")


# -- to GTFS ----------------------------------------------------------------------------------

def line_tables_to_gtfs(tables: LineTables, *, car_layer: StreetLayer | None = None,
                        timezone: str = DEFAULT_TIMEZONE,
                        valid: tuple[str, str] = (VALID_FROM, VALID_TO),
                        max_link_m: float = LINK_MAX_M) -> dict[str, pd.DataFrame]:
    """GTFS tables (file name -> frame of strings) of validated line tables.

    Running times are ``minutes_from_first`` where given, else hop distance over
    :data:`OPERATING_SPEED_KPH`; hop distances of :data:`STREET_MODES` are shortest paths on
    ``car_layer`` when both stops lie within ``max_link_m`` of it. Which source each hop used
    is counted in ``tables.report["hop_time_sources"]``. ``valid`` is the calendar's
    ``(start_date, end_date)`` as ``YYYYMMDD``.
    """
    stops = tables.stops
    stop_key = list(zip(stops["stop_name"], stops["lat"].round(6), stops["lon"].round(6), strict=True))
    position = {key: i for i, key in enumerate(dict.fromkeys(stop_key))}
    unique = list(position)
    stop_index = np.array([position[key] for key in stop_key], dtype=np.int64)
    offsets_s, sources = _running_times(stops, car_layer, max_link_m)
    tables.report["hop_time_sources"] = sources
    tables.report["operating_speed_kph"] = {m: OPERATING_SPEED_KPH[m]
                                           for m in sorted(set(stops["mode"]))
                                           if m in OPERATING_SPEED_KPH}
    gtfs_stops = pd.DataFrame({
        "stop_id": [f"S{i + 1}" for i in range(len(unique))],
        "stop_name": [u[0] for u in unique],
        "stop_lat": [f"{u[1]:.6f}" for u in unique],
        "stop_lon": [f"{u[2]:.6f}" for u in unique]})
    lines = stops.drop_duplicates("line_id")
    routes = pd.DataFrame({
        "route_id": lines["line_id"], "agency_id": "A", "route_short_name": lines["line_id"],
        "route_long_name": lines["line_name"],
        "route_type": lines["mode"].map(_ROUTE_TYPES).astype(str)})
    trips, stop_times, frequencies = _trips(tables, stop_index, offsets_s)
    used_days = sorted(set(tables.headways["days"]), key=list(DAY_TYPES).index)
    weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    calendar = pd.DataFrame([{"service_id": d, **dict(zip(weekdays, map(str, DAY_TYPES[d]), strict=True)),
                              "start_date": valid[0], "end_date": valid[1]}
                             for d in used_days])
    agency = pd.DataFrame([{"agency_id": "A", "agency_name": tables.name,
                            "agency_url": "https://example.invalid/", "agency_timezone": timezone}])
    tables.report["holiday_bands_without_dates"] = int((tables.headways["days"] == "holiday").sum())
    return {"agency.txt": agency, "stops.txt": gtfs_stops, "routes.txt": routes,
            "trips.txt": trips, "stop_times.txt": stop_times, "frequencies.txt": frequencies,
            "calendar.txt": calendar}


def _trips(tables: LineTables, stop_index: np.ndarray, offsets_s: np.ndarray):
    stops, headways = tables.stops, tables.headways
    groups = {key: np.flatnonzero((stops["line_id"] == key[0]) & (stops["direction"] == key[1]))
              for key in dict.fromkeys(zip(stops["line_id"], stops["direction"], strict=True))}
    direction_id: dict[tuple[str, str], int] = {}
    for line, direction in groups:
        direction_id[(line, direction)] = sum(1 for k in direction_id if k[0] == line) % 2
    last_end = headways.groupby(["line_id", "direction", "days"])["end_s"].transform("max")
    trips, times, freqs = [], [], []
    for i, band in enumerate(headways.itertuples(index=False)):
        key = (band.line_id, band.direction)
        rows = groups[key]
        trip_id = f"{band.line_id}|{band.direction}|{band.days}|{i + 1}"
        headsign = stops["stop_name"].iloc[rows[-1]]
        trips.append({"route_id": band.line_id, "service_id": band.days, "trip_id": trip_id,
                      "trip_headsign": headsign, "direction_id": str(direction_id[key])})
        clock = format_hms(band.start_s + offsets_s[rows])
        times.append(pd.DataFrame({"trip_id": trip_id, "arrival_time": clock,
                                   "departure_time": clock,
                                   "stop_id": [f"S{j + 1}" for j in stop_index[rows]],
                                   "stop_sequence": np.arange(1, len(rows) + 1).astype(str)}))
        # the latest band of its day type includes its end_time, the last departure (末班)
        end = band.end_s + (1 if band.end_s == last_end.iloc[i] else 0)
        freqs.append({"trip_id": trip_id, "start_time": format_hms(np.array([band.start_s]))[0],
                      "end_time": format_hms(np.array([end]))[0], "headway_secs": str(band.headway_s),
                      "exact_times": "1"})
    return pd.DataFrame(trips), pd.concat(times, ignore_index=True), pd.DataFrame(freqs)


def _running_times(stops: pd.DataFrame, car_layer: StreetLayer | None,
                   max_link_m: float) -> tuple[np.ndarray, dict[str, int]]:
    """Seconds from each line direction's first stop, and how many hops used each source."""
    lon, lat = stops["lon"].to_numpy(float), stops["lat"].to_numpy(float)
    same = ((stops["line_id"] == stops["line_id"].shift())
            & (stops["direction"] == stops["direction"].shift())).to_numpy()
    prev = np.r_[0, np.arange(len(stops) - 1)]
    straight = geodesic_m(lat[prev], lon[prev], lat, lon)
    street_mode = stops["mode"].isin(STREET_MODES).to_numpy()
    given = stops["minutes_from_first"].notna().to_numpy()
    hop_m = np.where(street_mode, straight * DETOUR_FACTOR, straight)
    source = np.where(street_mode, f"straight_line_x{DETOUR_FACTOR}", "straight_line")
    want = same & street_mode & ~given
    if car_layer is not None and want.any():
        street_m = _street_distances(car_layer, lon, lat, prev, want, max_link_m)
        found = np.isfinite(street_m)
        hop_m = np.where(found, street_m, hop_m)
        source = np.where(found, "car_layer_path", source)
    speed_mps = stops["mode"].map(OPERATING_SPEED_KPH).to_numpy(float) / 3.6
    hop_s = np.where(same, hop_m / speed_mps, 0.0)
    group = np.cumsum(~same)
    from_speed = np.round(pd.Series(hop_s).groupby(group).cumsum().to_numpy())
    from_table = np.round(np.nan_to_num(stops["minutes_from_first"].to_numpy(float)) * 60)
    offsets = np.where(given, from_table, from_speed).astype(np.int64)
    source = np.where(given, "minutes_from_first", source)
    names, counts = np.unique(source[same], return_counts=True)
    return offsets, dict(zip(names.tolist(), map(int, counts), strict=True))


def _street_distances(layer: StreetLayer, lon: np.ndarray, lat: np.ndarray, prev: np.ndarray,
                      want: np.ndarray, max_link_m: float) -> np.ndarray:
    """Car-layer shortest path (m) from stop ``prev[i]`` to stop ``i`` where ``want``; inf if
    either stop is farther than ``max_link_m`` from the layer or no path exists."""
    lat0 = float(np.mean(layer.node_lat))
    tree = cKDTree(local_xy(layer.node_lat, layer.node_lon, lat0))
    gap_m, node = tree.query(local_xy(lat, lon, lat0))
    near = gap_m <= max_link_m
    out = np.full(len(lon), np.inf)
    hops = np.flatnonzero(want & near & near[prev])
    if len(hops) == 0:
        return out
    # csr_matrix would sum parallel edges: keep the shortest of each (tail, head)
    order = np.lexsort((layer.edge_length_m, layer.edge_head, layer.edge_tail))
    tail, head = layer.edge_tail[order], layer.edge_head[order]
    first = np.r_[True, (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])]
    graph = csr_matrix((layer.edge_length_m[order][first].astype(float),
                        (tail[first], head[first])), shape=(layer.n_nodes,) * 2)
    sources = np.unique(node[prev[hops]])
    for chunk in np.array_split(sources, max(1, len(sources) // 200)):
        dist = dijkstra(graph, indices=chunk, limit=50_000.0)
        row = pd.Index(chunk).get_indexer(node[prev[hops]])
        inside = row >= 0
        out[hops[inside]] = dist[row[inside], node[hops[inside]]]
    # joining the street at each end is part of the ride
    return out + np.where(np.isfinite(out), gap_m + gap_m[prev], 0.0)


def write_gtfs_zip(tables: dict[str, pd.DataFrame], out_path: str | os.PathLike) -> Path:
    """Write GTFS tables (file name -> frame) as a zip of UTF-8 CSV files."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, frame in tables.items():
            zf.writestr(name, frame.to_csv(index=False, lineterminator="\n"))
    return out_path
