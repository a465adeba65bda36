"""Read and validate GTFS feeds (zips or folders) into typed pandas tables."""
from __future__ import annotations

import contextlib
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from .calendar import WEEKDAYS
from .errors import GtfsError
from .modes import route_type_to_mode

__all__ = ["GtfsFeed", "GtfsLimits", "read_feed", "feed_name_from_path", "parse_gtfs_times",
           "REQUIRED_COLUMNS", "MAX_FILE_BYTES", "MAX_TOTAL_BYTES", "MAX_FIELD_CHARS"]

#: Largest decompressed size of one GTFS file (a large city's stop_times.txt is a few hundred MB).
MAX_FILE_BYTES = 1 << 30
#: Largest decompressed size of all the files of one feed read together.
MAX_TOTAL_BYTES = 2 << 30
#: Longest value of one CSV field (ids, names, URLs are far shorter).
MAX_FIELD_CHARS = 1000


@dataclass(frozen=True)
class GtfsLimits:
    """Size limits that stop a small hostile zip from amplifying into a huge build.

    Files are read in chunks and reading stops as soon as a limit is passed, so a zip bomb is
    never inflated whole.
    """

    max_file_bytes: int = MAX_FILE_BYTES
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_field_chars: int = MAX_FIELD_CHARS

_CHUNK = 1 << 20

#: Columns each file must have; a file listed here with ``None`` is optional as a whole.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "agency.txt": ("agency_timezone",),
    "stops.txt": ("stop_id", "stop_lat", "stop_lon"),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar.txt": ("service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                     "saturday", "sunday", "start_date", "end_date"),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
    "frequencies.txt": ("trip_id", "start_time", "end_time", "headway_secs"),
    "shapes.txt": ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
    "transfers.txt": ("from_stop_id", "to_stop_id", "transfer_type"),
    "emissions.txt": ("route_id", "avg_co2_per_vehicle_per_km", "avg_passenger_count"),
}
_ALWAYS_REQUIRED = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
_TIME_RE = r"^\s*(\d{1,3}):([0-5]\d):([0-5]\d)\s*$"
_DATE_RE = r"^\s*(\d{4})(\d{2})(\d{2})\s*$"
_FIRST_DATA_LINE = 2  # the header is line 1
#: pickup_type / drop_off_type values: 0 regular, 1 none, 2 phone the agency, 3 ask the driver.
BOARDING_TYPES = (0, 1, 2, 3)
#: transfers.txt columns that restrict a row to some routes or trips.
TRANSFER_QUALIFIERS = ("from_route_id", "to_route_id", "from_trip_id", "to_trip_id")
#: transfer_type: changing between the two stops is not possible.
TRANSFER_NOT_POSSIBLE = 3
#: The value that forbids boarding (pickup_type) or alighting (drop_off_type) at a stop time.
NO_BOARDING = 1


@dataclass(frozen=True, eq=False)
class GtfsFeed:
    """One validated feed; columns are typed, ids are still unprefixed.

    ``stop_times`` has ``arrival_s``/``departure_s`` (int64, -1 where the feed gives no time),
    ``pickup_ok``/``dropoff_ok`` (bool: False where pickup_type/drop_off_type is 1) and ``line``
    (the row's line number in stop_times.txt). Optional tables are empty frames.
    """

    name: str
    path: Path
    timezone: str
    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    frequencies: pd.DataFrame
    shapes: pd.DataFrame
    transfers: pd.DataFrame
    emissions: pd.DataFrame
    report: dict = field(default_factory=dict)


def feed_name_from_path(path: str | os.PathLike) -> str:
    """The feed name used as id prefix: the zip's or folder's stem (``poa_eptc.zip`` -> ``poa_eptc``).
    """
    path = Path(path)
    return path.stem if path.suffix.lower() == ".zip" else path.name


def read_feed(path: str | os.PathLike, *, name: str | None = None,
              limits: GtfsLimits | None = None) -> GtfsFeed:
    """Read and validate one GTFS feed (a ``.zip`` or a folder of ``.txt`` files).

    In a zip, the files must sit at the root (``stops.txt``) or, when the root has none, all in
    one top folder (``feed/stops.txt``); any other member (``../x/stops.txt``, ``a/b/stops.txt``)
    is ignored. ``limits`` bounds decompressed sizes and field lengths (:class:`GtfsLimits`).

    Raises
    ------
    GtfsError
        If the path is not a zip or folder, a required file or column is missing, or a value is
        malformed (time, date, number, coordinates, route_type), a limit is passed, or a
        (trip_id, stop_sequence) pair repeats; the message names the file, the line (header is
        line 1) and the field.
    """
    path = Path(path)
    limits = limits or GtfsLimits()
    budget = [limits.max_total_bytes]
    files = _list_files(path)
    for required in _ALWAYS_REQUIRED:
        if required not in files:
            raise GtfsError(f"{path}: required file {required} is missing", path=str(path))
    if "calendar.txt" not in files and "calendar_dates.txt" not in files:
        raise GtfsError(f"{path}: neither calendar.txt nor calendar_dates.txt is present",
                        path=str(path))
    tables = {name_: _read_table(path, name_, files, limits, budget)
              for name_ in REQUIRED_COLUMNS}
    report: dict = {}
    feed = GtfsFeed(
        name=name or feed_name_from_path(path), path=path,
        timezone=_timezone(path, tables["agency.txt"]),
        stops=_convert_stops(path, tables["stops.txt"], report),
        routes=_convert_routes(path, tables["routes.txt"]),
        trips=tables["trips.txt"],
        stop_times=_convert_stop_times(path, tables["stop_times.txt"]),
        calendar=_convert_calendar(path, tables["calendar.txt"]),
        calendar_dates=_convert_calendar_dates(path, tables["calendar_dates.txt"]),
        frequencies=_convert_frequencies(path, tables["frequencies.txt"]),
        shapes=_convert_shapes(path, tables["shapes.txt"]),
        transfers=_convert_transfers(path, tables["transfers.txt"]),
        emissions=_convert_emissions(path, tables["emissions.txt"]),
        report=report,
    )
    _check_unique(path, "trips.txt", feed.trips, "trip_id")
    _check_unique(path, "routes.txt", feed.routes, "route_id")
    return feed


# -- reading ----------------------------------------------------------------------------------

def _list_files(path: Path) -> dict[str, str]:
    """Map of GTFS file name -> member name (zip) or file path (folder)."""
    if path.is_dir():
        return {p.name: str(p) for p in path.iterdir() if p.suffix == ".txt"}
    if not path.exists():
        raise GtfsError(f"{path}: no such GTFS feed", path=str(path))
    if not zipfile.is_zipfile(path):
        raise GtfsError(f"{path}: not a zip file (a GTFS feed is a zip of .txt files)",
                        path=str(path))
    with zipfile.ZipFile(path) as zf:
        members = [m for m in zf.namelist() if m.endswith(".txt")]
    root = {m: m for m in members if "/" not in m and "\\" not in m}
    if root:
        return root
    # Some feeds nest their files in one top folder inside the zip: accept exactly that.
    nested = [m.split("/") for m in members]
    folders = {parts[0] for parts in nested if len(parts) == 2}
    if len(folders) != 1 or next(iter(folders)) in ("", ".", ".."):
        return {}
    return {parts[1]: "/".join(parts) for parts in nested
            if len(parts) == 2 and parts[0] in folders}


def _read_limited(path: Path, name: str, files: dict[str, str], limits: GtfsLimits,
                  budget: list[int]) -> bytes:
    """Read one file in chunks, stopping as soon as a size limit is passed."""
    limit = min(limits.max_file_bytes, budget[0])
    chunks, size = [], 0
    with contextlib.ExitStack() as stack:
        if path.is_dir():
            stream: IO[bytes] = stack.enter_context(open(files[name], "rb"))
        else:
            stream = stack.enter_context(
                stack.enter_context(zipfile.ZipFile(path)).open(files[name]))
        while chunk := stream.read(min(_CHUNK, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                which = ("file" if limit == limits.max_file_bytes else "feed total")
                raise GtfsError(f"{path}: {name} is larger than the {which} limit of "
                                f"{limit:,} bytes when decompressed", path=str(path))
    budget[0] -= size
    return b"".join(chunks)


def _read_table(path: Path, name: str, files: dict[str, str], limits: GtfsLimits,
                budget: list[int]) -> pd.DataFrame:
    columns = REQUIRED_COLUMNS[name]
    if name not in files:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    try:
        raw = _read_limited(path, name, files, limits, budget)
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False,
                            encoding="utf-8-sig", skipinitialspace=False)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError, zipfile.BadZipFile, OSError) as err:
        raise GtfsError(f"{path}: {name} cannot be read as CSV ({err})", path=str(path)) from err
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in columns:
        if column not in frame.columns:
            raise GtfsError(f"{path}: {name} lacks the required column {column}",
                            path=str(path), field=column)
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
        too_long = (frame[column].str.len() > limits.max_field_chars).to_numpy()
        if too_long.any():
            line = int(np.flatnonzero(too_long)[0]) + _FIRST_DATA_LINE
            raise GtfsError(f"{path}: {name} line {line}, field {column}: longer than "
                            f"{limits.max_field_chars} characters", path=str(path), row=line,
                            field=column)
    return frame


def _fail(path: Path, name: str, frame: pd.DataFrame, bad: np.ndarray, column: str,
          problem: str) -> None:
    """Raise for the first row flagged in ``bad``, naming file, line and field."""
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    line = i + _FIRST_DATA_LINE
    value = frame[column].iloc[i] if column in frame.columns else ""
    raise GtfsError(f"{path}: {name} line {line}, field {column}: {value!r} {problem}",
                    path=str(path), row=line, field=column)


def _to_float(path, name, frame, column, *, required=True) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if required:
        _fail(path, name, frame, bad, column, "is not a number")
    return values


def _to_int(path, name, frame, column, *, default: int | None = None) -> np.ndarray:
    text = frame[column] if column in frame.columns else pd.Series([""] * len(frame))
    empty = (text == "").to_numpy()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values != np.round(values))
    if default is not None:
        bad &= ~empty
        values = np.where(empty, default, values)
    _fail(path, name, frame, bad, column, "is not an integer")
    return values.astype(np.int64)


def parse_gtfs_times(text: pd.Series, *, path: str | os.PathLike = "", file: str = "",
                     column: str = "", allow_empty: bool = True) -> np.ndarray:
    """Parse ``H:MM:SS`` strings (hours may pass 24) to seconds; empty -> -1.

    Raises
    ------
    GtfsError
        On the first malformed value (e.g. ``25:61:00``), naming file, line and field.
    """
    # Times repeat a lot (130k EPTC rows, ~1k distinct values): parse each distinct one once.
    codes, uniques = pd.factorize(text.to_numpy(dtype=object))
    parts = pd.Series(uniques, dtype=object).astype(str).str.extract(_TIME_RE)
    empty = (text == "").to_numpy()
    bad = parts[0].isna().to_numpy()[codes] & ~(empty & allow_empty)
    _fail(Path(path), file, text.to_frame(column), bad, column, "is not a time H:MM:SS")
    numbers = parts.fillna("0").astype(np.int64).to_numpy()
    seconds = (numbers[:, 0] * 3600 + numbers[:, 1] * 60 + numbers[:, 2])[codes]
    return np.where(empty, -1, seconds)


def _to_dates(path, name, frame, column) -> np.ndarray:
    parts = frame[column].str.extract(_DATE_RE)
    ok = parts[0].notna().to_numpy()
    _fail(path, name, frame, ~ok, column, "is not a date YYYYMMDD")
    dates = pd.to_datetime(frame[column], format="%Y%m%d", errors="coerce")
    _fail(path, name, frame, dates.isna().to_numpy(), column, "is not a valid date")
    return dates.to_numpy().astype("datetime64[D]")


def _check_unique(path: Path, name: str, frame: pd.DataFrame, column: str) -> None:
    duplicated = frame[column].duplicated().to_numpy()
    _fail(path, name, frame, duplicated, column, "is a duplicate id")


# -- conversions ------------------------------------------------------------------------------

def _timezone(path: Path, agency: pd.DataFrame) -> str:
    zones = sorted(set(agency["agency_timezone"]) - {""})
    if not zones:
        raise GtfsError(f"{path}: agency.txt line 2, field agency_timezone: no timezone given",
                        path=str(path), row=2, field="agency_timezone")
    if len(zones) > 1:
        raise GtfsError(f"{path}: agency.txt, field agency_timezone: agencies disagree {zones}",
                        path=str(path), field="agency_timezone")
    return zones[0]


def _convert_stops(path: Path, stops: pd.DataFrame, report: dict) -> pd.DataFrame:
    name = "stops.txt"
    stops = stops.copy()
    _check_unique(path, name, stops, "stop_id")
    stops["location_type"] = _to_int(path, name, stops, "location_type", default=0)
    for column in ("parent_station", "stop_name"):
        if column not in stops.columns:
            stops[column] = ""
    # Only stops/platforms (0) and stations (1) matter for routing; entrances, generic nodes
    # and boarding areas (2-4) may lack coordinates and are dropped.
    kept = stops["location_type"].isin((0, 1)).to_numpy()
    report["stops_other_location_types_dropped"] = int((~kept).sum())
    lat = pd.to_numeric(stops["stop_lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(stops["stop_lon"], errors="coerce").to_numpy(dtype=float)
    _fail(path, name, stops, kept & ~(np.abs(lat) <= 90), "stop_lat",
          "is not a latitude (stops need coordinates)")
    _fail(path, name, stops, kept & ~(np.abs(lon) <= 180), "stop_lon",
          "is not a longitude (stops need coordinates)")
    _fail(path, name, stops, kept & (lat == 0) & (lon == 0), "stop_lat",
          "is 0 with stop_lon 0 (no real coordinates)")
    stops["stop_lat"], stops["stop_lon"] = lat, lon
    return stops.loc[kept, ["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type",
                            "parent_station"]].reset_index(drop=True)


def _convert_routes(path: Path, routes: pd.DataFrame) -> pd.DataFrame:
    routes = routes.copy()
    routes["route_type"] = _to_int(path, "routes.txt", routes, "route_type")
    modes = []
    for i, value in enumerate(routes["route_type"].to_numpy()):  # one row per route: small
        try:
            modes.append(route_type_to_mode(int(value)))
        except ValueError as err:
            line = i + _FIRST_DATA_LINE
            raise GtfsError(f"{path}: routes.txt line {line}, field route_type: {err}",
                            path=str(path), row=line, field="route_type") from err
    routes["route_mode"] = modes
    for column in ("route_short_name", "route_long_name"):
        if column not in routes.columns:
            routes[column] = ""
    return routes


def _convert_stop_times(path: Path, stop_times: pd.DataFrame) -> pd.DataFrame:
    name = "stop_times.txt"
    out = pd.DataFrame({"trip_id": stop_times["trip_id"], "stop_id": stop_times["stop_id"]})
    out["stop_sequence"] = _to_int(path, name, stop_times, "stop_sequence")
    arrival = parse_gtfs_times(stop_times["arrival_time"], path=path, file=name,
                               column="arrival_time")
    departure = parse_gtfs_times(stop_times["departure_time"], path=path, file=name,
                                 column="departure_time")
    # A time given only once stands for both.
    out["arrival_s"] = np.where(arrival < 0, departure, arrival)
    out["departure_s"] = np.where(departure < 0, arrival, departure)
    bad = (out["departure_s"] < out["arrival_s"]).to_numpy()
    _fail(path, name, stop_times, bad, "departure_time", "is before arrival_time")
    for column, flag in (("pickup_type", "pickup_ok"), ("drop_off_type", "dropoff_ok")):
        kind = _to_int(path, name, stop_times, column, default=0)
        _fail(path, name, stop_times, ~np.isin(kind, BOARDING_TYPES), column,
              "is not 0, 1, 2 or 3")
        out[flag] = kind != NO_BOARDING  # 2 and 3 need an arrangement but are possible
    if "shape_dist_traveled" in stop_times.columns:
        out["shape_dist_traveled"] = pd.to_numeric(stop_times["shape_dist_traveled"],
                                                   errors="coerce").to_numpy(dtype=float)
    else:
        out["shape_dist_traveled"] = np.nan
    out["line"] = np.arange(len(out), dtype=np.int64) + _FIRST_DATA_LINE
    repeated = out.duplicated(["trip_id", "stop_sequence"]).to_numpy()
    _fail(path, name, stop_times, repeated, "stop_sequence",
          "repeats an earlier row's (trip_id, stop_sequence)")
    return out


def _convert_calendar(path: Path, calendar: pd.DataFrame) -> pd.DataFrame:
    name = "calendar.txt"
    out = pd.DataFrame({"service_id": calendar["service_id"]})
    for day in WEEKDAYS:
        values = _to_int(path, name, calendar, day)
        _fail(path, name, calendar, ~np.isin(values, (0, 1)), day, "is not 0 or 1")
        out[day] = values.astype(bool)
    out["start_date"] = _to_dates(path, name, calendar, "start_date")
    out["end_date"] = _to_dates(path, name, calendar, "end_date")
    _fail(path, name, calendar, (out["end_date"] < out["start_date"]).to_numpy(), "end_date",
          "is before start_date")
    return out


def _convert_calendar_dates(path: Path, dates: pd.DataFrame) -> pd.DataFrame:
    name = "calendar_dates.txt"
    out = pd.DataFrame({"service_id": dates["service_id"]})
    out["date"] = _to_dates(path, name, dates, "date")
    out["exception_type"] = _to_int(path, name, dates, "exception_type")
    _fail(path, name, dates, ~out["exception_type"].isin((1, 2)).to_numpy(), "exception_type",
          "is not 1 (added) or 2 (removed)")
    return out


def _convert_frequencies(path: Path, frequencies: pd.DataFrame) -> pd.DataFrame:
    name = "frequencies.txt"
    out = pd.DataFrame({"trip_id": frequencies["trip_id"]})
    for column in ("start_time", "end_time"):
        out[column.replace("_time", "_s")] = parse_gtfs_times(
            frequencies[column], path=path, file=name, column=column, allow_empty=False)
    out["headway_s"] = _to_int(path, name, frequencies, "headway_secs")
    _fail(path, name, frequencies, (out["headway_s"] <= 0).to_numpy(), "headway_secs",
          "is not a positive number of seconds")
    _fail(path, name, frequencies, (out["end_s"] < out["start_s"]).to_numpy(), "end_time",
          "is before start_time")
    out["exact_times"] = _to_int(path, name, frequencies, "exact_times", default=0)
    return out


def _convert_shapes(path: Path, shapes: pd.DataFrame) -> pd.DataFrame:
    name = "shapes.txt"
    out = pd.DataFrame({"shape_id": shapes["shape_id"]})
    out["lat"] = _to_float(path, name, shapes, "shape_pt_lat")
    out["lon"] = _to_float(path, name, shapes, "shape_pt_lon")
    out["sequence"] = _to_int(path, name, shapes, "shape_pt_sequence")
    if "shape_dist_traveled" in shapes.columns:
        out["dist"] = pd.to_numeric(shapes["shape_dist_traveled"],
                                    errors="coerce").to_numpy(dtype=float)
    else:
        out["dist"] = np.nan
    return out.sort_values(["shape_id", "sequence"], kind="stable").reset_index(drop=True)


def _convert_transfers(path: Path, transfers: pd.DataFrame) -> pd.DataFrame:
    name = "transfers.txt"
    out = pd.DataFrame({"from_stop_id": transfers["from_stop_id"],
                        "to_stop_id": transfers["to_stop_id"]})
    out["transfer_type"] = _to_int(path, name, transfers, "transfer_type", default=0)
    out["min_transfer_s"] = _to_int(path, name, transfers, "min_transfer_time", default=-1)
    # A row naming routes or trips concerns only those vehicles, not every change between
    # the two stops.
    qualified = np.zeros(len(transfers), bool)
    for column in TRANSFER_QUALIFIERS:
        if column in transfers.columns:
            qualified |= (transfers[column] != "").to_numpy()
    out["is_stop_level"] = ~qualified
    return out


def _convert_emissions(path: Path, emissions: pd.DataFrame) -> pd.DataFrame:
    name = "emissions.txt"
    out = pd.DataFrame({"route_id": emissions["route_id"]})
    out["g_per_vehicle_km"] = _to_float(path, name, emissions, "avg_co2_per_vehicle_per_km")
    out["passengers"] = _to_float(path, name, emissions, "avg_passenger_count")
    _fail(path, name, emissions, ~(out["passengers"] > 0).to_numpy(), "avg_passenger_count",
          "is not a positive number")
    return out
