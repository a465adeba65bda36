"""Evidence intake: GPS trace points and transit-card taps read, validated, cleaned and joined to trips.

Traces (``.csv``, ``.csv.gz``, ``.parquet`` or ``.gpx``) hold one row per fix: ``trip_id``,
``time``, ``lat``, ``lon`` and optionally ``accuracy`` (metres, the phone's horizontal
accuracy) and ``speed`` (m/s, kept for reference). A GPX file's tracks are trips: the track
``<name>`` is the ``trip_id`` and every ``<trkpt>`` a fix (``<hdop>`` x 5 m as accuracy when
present). Taps (``.csv`` or ``.parquet``) hold ``card_id``, ``time`` and ``stop_id`` and/or
``route_id``.

A bad row goes to the errors output with its 1-based row number, ``field`` prefixed by the
file (``traces.time``, ``taps.stop_id``) and the reason; so does every fix of a trace whose
``trip_id`` is not a valid trip of the trips file. Cleaning, which drops fixes without
reporting them as errors (the counts are in :class:`ValidatedPoints`):

* **duplicates**: a second fix of the same trip at the same instant;
* **accuracy**: a fix whose reported accuracy is worse than :data:`MAX_ACCURACY_M`.

Gaps and outliers are evidence, not noise: :mod:`audit.segment` finds and reports them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from graphs.crs import Crs, to_wgs84

from .errors import AuditInputError
from .schema import ERROR_COLUMNS, LINE_COLUMN, ROW_COLUMN, parse_times

__all__ = [
    "CRS_NAMES",
    "GPX_HDOP_M",
    "MAX_ACCURACY_M",
    "TAP_COLUMNS",
    "TRACE_COLUMNS",
    "TRACE_OPTIONAL_COLUMNS",
    "ValidatedPoints",
    "epoch_seconds",
    "read_points",
    "validate_taps",
    "validate_traces",
]

TRACE_COLUMNS = ("trip_id", "time", "lat", "lon")
TRACE_OPTIONAL_COLUMNS = ("accuracy", "speed")
TAP_COLUMNS = ("card_id", "time")
#: Fixes reported less accurate than this (metres) are dropped while cleaning.
MAX_ACCURACY_M = 65.0
#: Metres of horizontal error per unit of GPX ``hdop`` (a common rule of thumb).
GPX_HDOP_M = 5.0
#: Coordinate systems ``--crs`` accepts (``gcj02``/``bd09``: China's obfuscated systems).
CRS_NAMES = tuple(c.value for c in Crs)


@dataclass(frozen=True)
class ValidatedPoints:
    """Clean rows (``points``), rejected rows (``errors``) and the cleaning counts."""

    points: pd.DataFrame
    errors: pd.DataFrame
    n_rows: int
    dropped_duplicates: int = 0
    dropped_inaccurate: int = 0


def read_points(path: str | os.PathLike, *, required: tuple[str, ...] = TRACE_COLUMNS,
                label: str = "traces") -> pd.DataFrame:
    """Read a traces or taps file as given (CSV fields as text; GPX as trace rows).

    Raises
    ------
    AuditInputError
        If the file is missing, unreadable or lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        raise AuditInputError(f"{path}: no such {label} file", path=str(path))
    try:
        if path.suffix.lower() == ".gpx":
            frame = _read_gpx(path)
        elif path.suffix.lower() in (".parquet", ".pq") or _starts_with(path, b"PAR1"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except AuditInputError:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise AuditInputError(f"{path}: not a readable {label} file ({err})",
                              path=str(path)) from err
    for name in required:
        if name not in frame.columns:
            raise AuditInputError(f"{path}: missing required column {name!r} "
                                  f"(required: {', '.join(required)})", path=str(path), field=name)
    return frame


def validate_traces(raw: pd.DataFrame, *, timezone: str, trip_ids, crs: str = "wgs84",
                    max_accuracy_m: float = MAX_ACCURACY_M) -> ValidatedPoints:
    """Parse, check and clean trace fixes; join them to the valid trips' ``trip_ids``.

    ``points`` has ``row``, ``trip_id`` (str), ``time`` (aware, ``timezone``), ``epoch_s``, ``lat``, ``lon``
    (WGS84 after converting from ``crs``), ``accuracy`` (NaN when absent), sorted by trip and
    time. ``trip_ids`` maps each valid trip id to True; ids of trips that went to the errors
    file map to False (their fixes are reported as such).
    """
    n = len(raw)
    reason = pd.Series(pd.NA, index=raw.index, dtype="object")
    field = pd.Series(pd.NA, index=raw.index, dtype="object")
    trip = _text(raw, "trip_id")
    time = parse_times(raw["time"], timezone)
    lat = pd.to_numeric(raw["lat"], errors="coerce").astype(float)
    lon = pd.to_numeric(raw["lon"], errors="coerce").astype(float)
    accuracy = (pd.to_numeric(raw["accuracy"], errors="coerce").astype(float)
                if "accuracy" in raw.columns else pd.Series(np.nan, index=raw.index))
    bad_accuracy = (accuracy < 0) | (accuracy.isna() & _present(raw, "accuracy"))
    known = trip.map(trip_ids)
    checks = [
        (trip == "", "traces.trip_id", "trip_id is empty"),
        (time.isna(), "traces.time", "time is not an ISO 8601 date-time"),
        (~lat.between(-90, 90), "traces.lat", "lat is not a number in [-90, 90]"),
        (~lon.between(-180, 180), "traces.lon", "lon is not a number in [-180, 180]"),
        (bad_accuracy, "traces.accuracy", "accuracy is not a non-negative number (metres)"),
        ((trip != "") & known.isna(), "traces.trip_id",
         "trace has no trip with this trip_id in the trips file"),
        (known.eq(False).fillna(False), "traces.trip_id",
         "the trace's trip is in the errors file (its own row was rejected)"),
    ]
    for mask, name, text in reversed(checks):
        mask = mask.fillna(True).to_numpy(dtype=bool)
        field[mask], reason[mask] = name, text
    bad = reason.notna().to_numpy()
    rows = np.arange(1, n + 1, dtype=np.int64)
    errors = _errors(rows[bad], trip[bad], field[bad], reason[bad])
    if crs != "wgs84":
        lat, lon = _to_wgs84(lat, lon, crs)
    points = pd.DataFrame({ROW_COLUMN: rows[~bad], "trip_id": trip[~bad].to_numpy(dtype=object),
                           "time": time[~bad].reset_index(drop=True),
                           "epoch_s": epoch_seconds(time[~bad]),
                           "lat": lat[~bad].to_numpy(), "lon": lon[~bad].to_numpy(),
                           "accuracy": accuracy[~bad].to_numpy()})
    points = points.sort_values(["trip_id", "time", ROW_COLUMN], kind="stable")
    duplicate = points.duplicated(["trip_id", "time"], keep="first").to_numpy()
    inaccurate = (points["accuracy"] > max_accuracy_m).to_numpy() & ~duplicate
    points = points[~duplicate & ~inaccurate].reset_index(drop=True)
    return ValidatedPoints(points=points, errors=errors, n_rows=n,
                           dropped_duplicates=int(duplicate.sum()),
                           dropped_inaccurate=int(inaccurate.sum()))


def validate_taps(raw: pd.DataFrame, *, timezone: str, stop_ids, route_ids) -> ValidatedPoints:
    """Parse and check taps: ``card_id``, ``time`` and a known ``stop_id`` and/or ``route_id``.

    ``points`` has ``row``, ``card_id``, ``time``, ``stop_id`` and ``route_id`` ("" when blank).
    Ids are the network's feed-prefixed ids (``poa_eptc:1844``).
    """
    n = len(raw)
    card = _text(raw, "card_id")
    time = parse_times(raw["time"], timezone)
    stop = _text(raw, "stop_id")
    route = _text(raw, "route_id")
    checks = [
        (card == "", "taps.card_id", "card_id is empty"),
        (time.isna(), "taps.time", "time is not an ISO 8601 date-time"),
        ((stop == "") & (route == ""), "taps.stop_id", "a tap needs a stop_id or a route_id"),
        ((stop != "") & ~stop.isin(stop_ids), "taps.stop_id", "stop_id is not a stop of the network"),
        ((route != "") & ~route.isin(route_ids), "taps.route_id",
         "route_id is not a route of the network"),
    ]
    reason = pd.Series(pd.NA, index=raw.index, dtype="object")
    field = pd.Series(pd.NA, index=raw.index, dtype="object")
    for mask, name, text in reversed(checks):
        mask = mask.fillna(True).to_numpy(dtype=bool)
        field[mask], reason[mask] = name, text
    bad = reason.notna().to_numpy()
    rows = np.arange(1, n + 1, dtype=np.int64)
    errors = _errors(rows[bad], pd.Series([None] * int(bad.sum()), dtype=object),
                     field[bad], reason[bad])
    taps = pd.DataFrame({ROW_COLUMN: rows[~bad], "card_id": card[~bad].to_numpy(dtype=object),
                         "time": time[~bad].reset_index(drop=True),
                         "epoch_s": epoch_seconds(time[~bad]),
                         "stop_id": stop[~bad].to_numpy(dtype=object),
                         "route_id": route[~bad].to_numpy(dtype=object)})
    return ValidatedPoints(points=taps.sort_values(["card_id", "time"], kind="stable")
                           .reset_index(drop=True), errors=errors, n_rows=n)


def epoch_seconds(times: pd.Series) -> np.ndarray:
    """Seconds since 1970 (float) of timezone-aware datetimes."""
    utc = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return utc.to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9


def _errors(rows, trip, field, reason) -> pd.DataFrame:
    return pd.DataFrame({
        ROW_COLUMN: np.asarray(rows, dtype=np.int64),
        LINE_COLUMN: pd.array([pd.NA] * len(rows), dtype="Int64"),  # file lines: trips only
        "trip_id": [None if (t is None or t == "") else str(t) for t in trip],
        "field": field.astype(str).to_numpy(dtype=object),
        "reason": reason.astype(str).to_numpy(dtype=object)})[list(ERROR_COLUMNS)]


def _text(raw: pd.DataFrame, name: str) -> pd.Series:
    if name not in raw.columns:
        return pd.Series("", index=raw.index, dtype=object)
    return _strip(raw[name])


def _strip(values: pd.Series) -> pd.Series:
    """Values as stripped text, "" where missing (object dtype)."""
    text = values.astype("object").where(values.notna(), "").astype(str).str.strip()
    return text.astype("object")


def _present(raw: pd.DataFrame, name: str) -> pd.Series:
    return _text(raw, name) != ""


def _to_wgs84(lat: pd.Series, lon: pd.Series, crs: str) -> tuple[pd.Series, pd.Series]:
    """Convert from China's GCJ-02 or BD-09 with ``graphs.crs`` (the one home of the transforms)."""
    new_lat, new_lon = to_wgs84(lat.to_numpy(), lon.to_numpy(), crs)
    return (pd.Series(np.asarray(new_lat, float), index=lat.index),
            pd.Series(np.asarray(new_lon, float), index=lon.index))


def _starts_with(path: Path, magic: bytes) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(magic)) == magic


def _read_gpx(path: Path) -> pd.DataFrame:
    import gpxpy
    import gpxpy.gpx

    try:
        with open(path, encoding="utf-8") as handle:
            gpx = gpxpy.parse(handle)
    except gpxpy.gpx.GPXException as err:
        raise AuditInputError(f"{path}: not a readable GPX file ({err})", path=str(path)) from err
    rows = []
    for track in gpx.tracks:
        for segment in track.segments:
            for point in segment.points:
                rows.append({"trip_id": track.name or "",
                             "time": point.time.isoformat() if point.time else "",
                             "lat": point.latitude, "lon": point.longitude,
                             "accuracy": (point.horizontal_dilution * GPX_HDOP_M
                                          if point.horizontal_dilution is not None else np.nan)})
    return pd.DataFrame(rows, columns=["trip_id", "time", "lat", "lon", "accuracy"])

