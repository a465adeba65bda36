"""The recorded-trips input: reading CSV/parquet, required columns, and row validation.

Whole-file problems (unreadable file, missing required column) raise :class:`AuditInputError`;
bad *rows* never raise: :func:`validate_trips` splits them into an errors frame with the input
row number and a reason, so that ``rows in = valid rows + error rows`` always holds.

Row numbers are 1-based positions of the data rows (the first row after a CSV header is row 1,
on file line 2).
"""
from __future__ import annotations

import csv
import gzip
import io
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from graphs.crs import to_wgs84
from graphs.errors import InputFileError
from graphs.modes import ACCESS_MODES, TRANSIT, TRANSIT_MODES, ModeError, parse_modes
from graphs.tables import EXCEL_SUFFIXES, FIRST_DATA_ROW, decode_text, read_table

from .errors import AuditInputError

__all__ = [
    "REQUIRED_COLUMNS", "OPTIONAL_COLUMNS", "NUMERIC_OPTIONAL_COLUMNS", "FLAG_OPTIONAL_COLUMNS",
    "TRUE_TEXTS", "FALSE_TEXTS", "TIME_COLUMNS", "COORDINATE_COLUMNS",
    "MODE_SEPARATOR", "ROW_COLUMN", "LINE_COLUMN", "LINE_ATTR", "ERROR_COLUMNS",
    "RESERVED_COLUMNS", "ValidatedTrips", "read_trips", "check_columns", "split_claimed_mode",
    "parse_times",
    "claimed_mode_to_query_modes", "claimed_access_modes", "validate_trips",
]

TIME_COLUMNS = ("started_at", "ended_at")
COORDINATE_COLUMNS = ("origin_lat", "origin_lon", "dest_lat", "dest_lon")
REQUIRED_COLUMNS = ("trip_id", "user_id", *TIME_COLUMNS, *COORDINATE_COLUMNS, "claimed_mode")
#: Optional numeric claims (NaN when absent or blank).
NUMERIC_OPTIONAL_COLUMNS = ("claimed_distance_m", "claimed_points")
#: Optional flags (False when absent or blank): an EV trip (``car_bev``) earns points only when
#: charged at a public charging pile (``planner.points.PILE_MODES``).
FLAG_OPTIONAL_COLUMNS = ("charged_at_public_pile",)
OPTIONAL_COLUMNS = (*NUMERIC_OPTIONAL_COLUMNS, *FLAG_OPTIONAL_COLUMNS)
#: Spellings accepted in a flag column (case-insensitive); blank means false.
TRUE_TEXTS = ("true", "1", "yes", "y", "t")
FALSE_TEXTS = ("false", "0", "no", "n", "f")
#: Joins the canonical modes of a normalised multi-mode claim: ``walk+bus``.
MODE_SEPARATOR = "+"
ROW_COLUMN = "row"
#: Errors column: the file line where the bad record starts (CSV; the sheet row for .xlsx;
#: empty for parquet). Differs from ``row + 1`` once a quoted field spans lines.
LINE_COLUMN = "line"
ERROR_COLUMNS = (ROW_COLUMN, LINE_COLUMN, "trip_id", "field", "reason")
#: ``DataFrame.attrs`` key where :func:`read_trips` keeps each row's first file line.
LINE_ATTR = "tanlu_lines"
#: Names the audit adds to results; an input column with one of these names is refused.
RESERVED_COLUMNS = (
    ROW_COLUMN, "status", "itinerary_modes", "expected_distance_m", "expected_duration_s",
    "expected_arrival_s",
    "recorded_duration_s", "implied_speed_kph", "transit_wait_s",
    "co2e_g", "baseline_distance_m", "baseline_co2e_g", "baseline_method", "reduction_g",
    "points_raw", "points_due", "flagged", "flags", "reasons", "local_date",
)
_BAD_LINE = "\x00tanlu-bad-line:"
_OFFSET_AT_END = re.compile(r"(?:Z|[+-]\d\d(?::?\d\d)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class ValidatedTrips:
    """Typed valid rows (``trips``) and rejected rows (``errors``, :data:`ERROR_COLUMNS`).

    ``trips`` has :data:`ROW_COLUMN`, the required columns parsed (times as timezone-aware
    datetimes in the network's timezone, ``claimed_mode`` normalised), the numeric optional
    columns as floats (NaN when absent), the flag columns as bools (False when absent or blank)
    and every extra input column untouched.
    """

    trips: pd.DataFrame
    errors: pd.DataFrame
    n_rows: int
    #: First file line of each input row (index ``row - 1``; nullable ints, NA for parquet).
    lines: pd.api.extensions.ExtensionArray | None = None


def read_trips(path: str | os.PathLike) -> pd.DataFrame:
    """Read a trips file (``.csv``, ``.csv.gz``, ``.xlsx`` or ``.parquet``), CSV cells as text.

    CSV text is decoded as ``graphs.tables`` decodes every user table (UTF-8, UTF-8 with BOM,
    GB18030/GBK) and parsed record by record with strict quoting, so every record of the file
    becomes exactly one row: a record with more or fewer fields than the header is kept as a
    row whose every field is a marker (:func:`validate_trips` reports it with its row and line
    number); blank lines are not records. The file line where each row starts is kept in
    ``frame.attrs[LINE_ATTR]`` (spreadsheet row for ``.xlsx``; absent for parquet).

    Raises
    ------
    AuditInputError
        If the file is missing, unreadable, of an unknown format, lacks a required column, or is
        structurally broken (an unterminated quote, text after a closing quote, a NUL byte):
        the message names the line where the broken record starts.
    """
    path = Path(path)
    if not path.is_file():
        raise AuditInputError(f"{path}: no such trips file", path=str(path))
    if _is_parquet(path):
        try:
            check_columns(pq.read_schema(path).names, path=path)
            return pd.read_parquet(path)
        except (OSError, ValueError) as err:
            if isinstance(err, AuditInputError):
                raise
            raise AuditInputError(f"{path}: not a readable parquet file ({err})",
                                  path=str(path)) from err
    if path.suffix.lower() in EXCEL_SUFFIXES:
        try:
            table = read_table(path).frame
        except InputFileError as err:
            raise AuditInputError(str(err), path=str(path)) from err
        check_columns(table.columns, path=path)
        frame = table.where(table != "", np.nan)
        frame.attrs[LINE_ATTR] = np.arange(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame),
                                           dtype=np.int64)
        return frame
    return _read_csv_strict(path)


def _read_csv_strict(path: Path) -> pd.DataFrame:
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise AuditInputError(f"{path}: not a readable CSV file ({err})", path=str(path)) from err
    try:
        text, _ = decode_text(path, data=data)
    except InputFileError as err:
        raise AuditInputError(str(err), path=str(path), field=err.field) from err
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        header = next(reader, None)
        if header is None:
            raise AuditInputError(f"{path}: the file is empty (a header row is needed)",
                                  path=str(path))
        duplicates = sorted({c for c in header if header.count(c) > 1})
        if duplicates:
            raise AuditInputError(f"{path}: duplicate column names in the header: "
                                  f"{', '.join(map(repr, duplicates))}", path=str(path))
        check_columns(header, path=path)
        width = len(header)
        start = reader.line_num + 1
        for record in reader:
            if record:  # a blank line is not a record
                lines.append(start)
                records.append(record if len(record) == width
                               else [f"{_BAD_LINE}{len(record)}"] * width)
            start = reader.line_num + 1
    except csv.Error as err:
        why = ("unterminated quoted field (the quote opened here is never closed)"
               if "unexpected end of data" in str(err) else f"broken CSV record ({err})")
        raise AuditInputError(f"{path}: line {start}: {why}", path=str(path), row=start) from err
    frame = pd.DataFrame(records, columns=header, dtype=object) if records else \
        pd.DataFrame({name: pd.Series(dtype=object) for name in header})
    frame = frame.where(frame != "", np.nan)
    frame.attrs[LINE_ATTR] = np.asarray(lines, dtype=np.int64)
    return frame


def check_columns(columns, *, path: str | os.PathLike = "trips") -> None:
    """Raise if a required column is missing or an input column clashes with a result column.

    Raises
    ------
    AuditInputError
        Naming the first missing required column (or the clashing one) and the file.
    """
    present = set(columns)
    for name in REQUIRED_COLUMNS:
        if name not in present:
            raise AuditInputError(
                f"{path}: missing required column {name!r} (required: {', '.join(REQUIRED_COLUMNS)})",
                path=str(path), field=name)
    for name in RESERVED_COLUMNS:
        if name in present:
            raise AuditInputError(
                f"{path}: input column {name!r} clashes with an audit result column; rename it",
                path=str(path), field=name)


def split_claimed_mode(text: str) -> tuple[str, ...]:
    """Canonical mode names of a claim, unique, in order: ``"Walk + 公交"`` -> ``("walk", "bus")``.

    Synonyms in English and Chinese are accepted (``graphs.modes.parse_modes``, the one parser).

    Raises
    ------
    ValueError
        (``graphs.modes.ModeError``) naming the unknown word and the allowed names.
    """
    return parse_modes(str(text))


def claimed_mode_to_query_modes(parts: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str] | None]:
    """The planner's ``modes`` and ``transit_modes`` for a claim.

    ``walk`` -> ({walk}, None); ``walk+bus`` -> ({transit}, {bus}); ``transit`` ->
    ({transit}, None) (every transit mode). A transit claim leaves ``walk`` out: the planner
    adds walking access, egress and transfers to transit itineraries anyway, and a walk-only
    option would push slower-than-walking transit rides out of the Pareto set.
    """
    transit = [p for p in parts if p in TRANSIT_MODES]
    has_transit = bool(transit) or TRANSIT in parts
    street = [p for p in parts if p not in TRANSIT_MODES and p != TRANSIT
              and not (has_transit and p == "walk")]
    modes = frozenset(street) | (frozenset({TRANSIT}) if has_transit else frozenset())
    transit_modes = frozenset(transit) if transit and TRANSIT not in parts else None
    return modes, transit_modes


def claimed_access_modes(parts: tuple[str, ...]) -> frozenset[str]:
    """Street modes of a transit claim that reached transit (``bike+metro`` -> ``{bike}``).

    A claim naming transit and a mode of ``graphs.modes.ACCESS_MODES`` is planned as the HTTP
    ``modes=bike+transit`` is: that mode reaches transit (parked, carried on board, driven to a
    park-and-ride or a pile) and is not a door-to-door option of its own.
    """
    if not (TRANSIT in parts or any(p in TRANSIT_MODES for p in parts)):
        return frozenset()
    return frozenset(p for p in parts if p in ACCESS_MODES)


def validate_trips(raw: pd.DataFrame, *, timezone: str,
                   bbox: tuple[float, float, float, float] | None = None,
                   crs: str = "wgs84") -> ValidatedTrips:
    """Parse and check every row; split valid rows from bad ones.

    Parameters
    ----------
    raw
        The frame from :func:`read_trips` (required columns present).
    timezone
        IANA name of the network's timezone: times without an offset are local times there.
    bbox
        Coverage ``(min_lon, min_lat, max_lon, max_lat)``; points outside are bad rows.
    crs
        Coordinate system of the coordinate columns (``wgs84``, ``gcj02``, ``bd09``); the valid
        trips hold them converted to WGS-84 (error rows keep the values as given).
    """
    n = len(raw)
    rows = np.arange(1, n + 1, dtype=np.int64)
    parsed = {}
    reason = pd.Series(pd.NA, index=raw.index, dtype="object")
    field = pd.Series(pd.NA, index=raw.index, dtype="object")
    checks = []  # (mask, field, reason-or-series) in priority order, first match wins

    bad_line = _bad_line_mask(raw)
    if bad_line.any():
        counts = raw["trip_id"].where(bad_line, "").astype(str).str.slice(len(_BAD_LINE))
        checks.append((bad_line, "*", "record has " + counts + " fields, the header has "
                       + str(len(raw.columns))))
    for name in ("trip_id", "user_id"):
        checks.append((_is_blank(raw[name]), name, f"{name} is empty"))
    for name in TIME_COLUMNS:
        parsed[name] = parse_times(raw[name], timezone)
        checks.append((parsed[name].isna(), name,
                       f"{name} is not an ISO 8601 date-time (or does not exist in {timezone})"))
    checks.append((parsed["ended_at"] < parsed["started_at"], "ended_at",
                   "ended_at is before started_at"))
    for name in COORDINATE_COLUMNS:
        parsed[name] = pd.to_numeric(raw[name], errors="coerce").astype("float64")
        limit = 90.0 if name.endswith("lat") else 180.0
        checks.append((~parsed[name].between(-limit, limit), name,
                       f"{name} is not a number in [-{limit:g}, {limit:g}]"))
    for end in ("origin", "dest"):  # converted once, here: inside tanlu all is WGS-84
        lat, lon = to_wgs84(parsed[f"{end}_lat"].to_numpy(), parsed[f"{end}_lon"].to_numpy(),
                            crs)
        parsed[f"{end}_lat"] = pd.Series(lat, index=raw.index, dtype="float64")
        parsed[f"{end}_lon"] = pd.Series(lon, index=raw.index, dtype="float64")
    if bbox is not None:
        for end in ("origin", "dest"):
            lat, lon = parsed[f"{end}_lat"], parsed[f"{end}_lon"]
            outside = ~(lon.between(bbox[0], bbox[2]) & lat.between(bbox[1], bbox[3]))
            checks.append((outside, f"{end}_lat", f"{end} is outside the network's coverage "
                           f"(lon {bbox[0]:.4f}..{bbox[2]:.4f}, lat {bbox[1]:.4f}..{bbox[3]:.4f})"))
    parsed["claimed_mode"], mode_reason = _parse_modes(raw["claimed_mode"])
    checks.append((mode_reason.notna(), "claimed_mode", mode_reason))
    for name in NUMERIC_OPTIONAL_COLUMNS:
        if name not in raw.columns:
            parsed[name] = pd.Series(np.nan, index=raw.index, dtype="float64")
            continue
        parsed[name] = pd.to_numeric(raw[name], errors="coerce").astype("float64")
        bad = (parsed[name].isna() & ~_is_blank(raw[name])) | (parsed[name] < 0)
        checks.append((bad, name, f"{name} is not a non-negative number"))
    for name in FLAG_OPTIONAL_COLUMNS:
        if name not in raw.columns:
            parsed[name] = pd.Series(False, index=raw.index, dtype="bool")
            continue
        parsed[name], bad = _parse_flags(raw[name])
        checks.append((bad, name, f"{name} is not true/false "
                       f"({'/'.join(TRUE_TEXTS)} or {'/'.join(FALSE_TEXTS)}, blank = false)"))

    for mask, name, text in reversed(checks):
        mask = mask.fillna(True).to_numpy(dtype=bool) if hasattr(mask, "fillna") else mask
        field[mask] = name
        reason[mask] = text[mask] if isinstance(text, pd.Series) else text
    bad = reason.notna().to_numpy()
    lines = raw.attrs.get(LINE_ATTR)
    lines = pd.array(lines if lines is not None and len(lines) == n else [pd.NA] * n,
                     dtype="Int64")
    return ValidatedTrips(trips=_valid_frame(raw, parsed, rows, ~bad),
                          errors=_error_frame(raw, rows, lines, bad, field, reason), n_rows=n,
                          lines=lines)


def _valid_frame(raw: pd.DataFrame, parsed: dict, rows: np.ndarray, keep: np.ndarray) -> pd.DataFrame:
    columns = {ROW_COLUMN: rows[keep]}
    for name in raw.columns:
        columns[name] = (parsed[name] if name in parsed else raw[name])[keep].to_numpy()
    for name in OPTIONAL_COLUMNS:
        columns.setdefault(name, parsed[name][keep].to_numpy())
    frame = pd.DataFrame(columns)
    for name in TIME_COLUMNS:  # keep the timezone that to_numpy drops
        frame[name] = parsed[name][keep].reset_index(drop=True)
    order = [ROW_COLUMN, *REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]
    return frame[order + [c for c in frame.columns if c not in order]]


def _error_frame(raw: pd.DataFrame, rows: np.ndarray, lines, bad: np.ndarray,
                 field: pd.Series, reason: pd.Series) -> pd.DataFrame:
    trip_id = raw["trip_id"][bad].astype("object").where(~_bad_line_mask(raw)[bad], None)
    return pd.DataFrame({
        ROW_COLUMN: rows[bad],
        LINE_COLUMN: lines[bad],
        "trip_id": trip_id.map(lambda v: None if pd.isna(v) else str(v)).to_numpy(dtype=object),
        "field": field[bad].astype(str).to_numpy(dtype=object),
        "reason": reason[bad].astype(str).to_numpy(dtype=object),
    })


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    with open(path, "rb") as handle:
        return handle.read(4) == b"PAR1"


def _bad_line_mask(raw: pd.DataFrame) -> pd.Series:
    column = raw["trip_id"]
    if column.dtype == object or pd.api.types.is_string_dtype(column):
        return column.astype(str).str.startswith(_BAD_LINE).fillna(False)
    return pd.Series(False, index=raw.index)


def _is_blank(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values.isna()
    return values.isna() | (values.astype(str).str.strip() == "")


def parse_times(values: pd.Series, timezone: str) -> pd.Series:
    """ISO 8601 texts (or datetimes) as datetimes in ``timezone``; NaT where unparseable."""
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is None:
            return values.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        return values.dt.tz_convert(timezone)
    text = values.astype(str).str.strip().where(values.notna(), "")
    aware = text.str.contains(_OFFSET_AT_END) & text.str.contains("T| ", regex=True)
    out = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[ns, {timezone}]")
    if aware.any():
        parsed = pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True)
        out[aware] = parsed.dt.tz_convert(timezone).astype(out.dtype)
    naive = ~aware & (text != "")
    if naive.any():
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        local = parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        out[naive] = local.astype(out.dtype)
    return out


def _parse_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Booleans (blank -> False) and a mask of values that are no known spelling."""
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).astype(bool), pd.Series(False, index=values.index)
    text = values.astype("object").map(
        lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    text = text.str.strip().str.lower()
    if pd.api.types.is_numeric_dtype(values):     # parquet 0/1 (possibly 1.0)
        text = text.str.replace(r"\.0+$", "", regex=True)
    flags = text.isin(TRUE_TEXTS)
    bad = ~(flags | text.isin(FALSE_TEXTS) | (text == ""))
    return flags.astype(bool), bad


def _parse_modes(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normalised claims (``Walk + bus`` -> ``walk+bus``) and a reason where a claim is unknown or empty."""
    normal, reason = {}, {}
    for text in values.dropna().unique():
        try:
            parts = split_claimed_mode(text)
        except ModeError as err:
            reason[text] = f"claimed_mode {_echo(text)}: {err}"
            continue
        normal[text] = MODE_SEPARATOR.join(parts)
    out = values.map(normal).astype("object")
    why = values.map(reason).astype("object")
    why[values.isna()] = "claimed_mode is empty"
    return out, why


def _echo(value, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
