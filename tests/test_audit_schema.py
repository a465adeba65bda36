"""audit.schema: required columns, row validation, accounting of every input row."""
from __future__ import annotations

import pandas as pd
import pytest
from audit_fakes import BBOX, TIMEZONE, trip_rows

from audit.errors import AuditInputError
from graphs.errors import InputFileError
from audit.schema import (REQUIRED_COLUMNS, claimed_mode_to_query_modes, read_trips,
                          split_claimed_mode, validate_trips)


def _validate(frame: pd.DataFrame):
    return validate_trips(frame, timezone=TIMEZONE, bbox=BBOX)


@pytest.mark.parametrize("missing", REQUIRED_COLUMNS)
def test_missing_required_column_is_named(tmp_path, missing):
    path = tmp_path / "trips.csv"
    trip_rows(3).drop(columns=[missing]).to_csv(path, index=False)
    with pytest.raises(AuditInputError, match=f"missing required column '{missing}'") as info:
        read_trips(path)
    assert info.value.field == missing and str(path) in str(info.value)


def test_input_column_clashing_with_a_result_column_is_refused(tmp_path):
    path = tmp_path / "trips.csv"
    trip_rows(2).assign(flagged="x").to_csv(path, index=False)
    with pytest.raises(AuditInputError, match="'flagged' clashes"):
        read_trips(path)


@pytest.mark.parametrize("column, value, field, needle", [
    ("started_at", "yesterday", "started_at", "not an ISO 8601"),
    ("ended_at", "2019-05-13T06:00:00", "ended_at", "before started_at"),
    ("origin_lat", "north", "origin_lat", "not a number"),
    ("dest_lon", "-200", "dest_lon", "not a number in [-180, 180]"),
    ("origin_lat", "-35.0", "origin_lat", "outside the network's coverage"),
    ("claimed_mode", "hoverboard", "claimed_mode", "unknown mode 'hoverboard'"),
    ("claimed_mode", "walk+jetpack", "claimed_mode", "unknown mode 'jetpack'"),
    ("claimed_mode", None, "claimed_mode", "claimed_mode is empty"),
    ("user_id", " ", "user_id", "user_id is empty"),
    ("trip_id", None, "trip_id", "trip_id is empty"),
    ("claimed_distance_m", "far", "claimed_distance_m", "not a non-negative number"),
    ("claimed_points", "-3", "claimed_points", "not a non-negative number"),
    ("charged_at_public_pile", "maybe", "charged_at_public_pile", "is not true/false"),
])
def test_bad_row_goes_to_errors_with_row_and_reason(column, value, field, needle):
    frame = trip_rows(6)
    if column not in frame.columns:
        frame[column] = ""
    frame.loc[2, column] = value
    result = _validate(frame)
    assert len(result.trips) + len(result.errors) == 6
    assert result.errors["row"].tolist() == [3]   # 1-based: third data row
    assert result.errors["field"].tolist() == [field]
    assert needle in result.errors["reason"].iloc[0]
    assert 3 not in result.trips["row"].tolist()


def test_valid_rows_are_typed_and_extra_columns_untouched():
    frame = trip_rows(4)
    frame.loc[1, "claimed_mode"] = " Walk + BUS "
    result = _validate(frame)
    assert result.errors.empty
    trips = result.trips
    assert trips["row"].tolist() == [1, 2, 3, 4]
    assert str(trips["started_at"].dt.tz) == TIMEZONE
    assert trips["claimed_mode"].iloc[1] == "walk+bus"
    assert trips["device"].tolist() == frame["device"].tolist()
    assert trips["claimed_points"].isna().all()           # empty optional field -> NaN
    assert trips["origin_lat"].dtype == "float64"


def test_times_with_offsets_are_converted_and_naive_times_are_local():
    frame = trip_rows(2)
    frame.loc[0, "started_at"] = "2019-05-13T10:00:00Z"          # 07:00 in Porto Alegre (UTC-3)
    frame.loc[0, "ended_at"] = "2019-05-13T07:30:00"
    trips = _validate(frame).trips
    assert trips["started_at"].iloc[0] == pd.Timestamp("2019-05-13T07:00", tz=TIMEZONE)
    assert trips["ended_at"].iloc[0] == pd.Timestamp("2019-05-13T10:30", tz="UTC")


def test_optional_columns_may_be_absent():
    frame = trip_rows(3).drop(columns=["claimed_distance_m", "claimed_points"])
    trips = _validate(frame).trips
    assert trips["claimed_distance_m"].isna().all() and trips["claimed_points"].isna().all()
    assert trips["charged_at_public_pile"].dtype == bool
    assert not trips["charged_at_public_pile"].any()


def test_public_pile_flag_spellings_and_blank_is_false():
    frame = trip_rows(7)
    frame["charged_at_public_pile"] = ["true", "YES", " 1 ", "", "false", "0", None]
    result = _validate(frame)
    assert result.errors.empty
    assert result.trips["charged_at_public_pile"].tolist() == [True, True, True] + [False] * 4


def test_public_pile_flag_from_parquet_booleans(tmp_path):
    frame = trip_rows(3).assign(charged_at_public_pile=[True, False, True])
    frame.to_parquet(tmp_path / "t.parquet")
    trips = _validate(read_trips(tmp_path / "t.parquet")).trips
    assert trips["charged_at_public_pile"].tolist() == [True, False, True]


def test_ragged_csv_line_is_an_error_row_not_a_crash(tmp_path):
    path = tmp_path / "trips.csv"
    trip_rows(4).to_csv(path, index=False)
    lines = path.read_text().splitlines()
    lines[2] += ",surplus,fields"     # data row 2
    path.write_text("\n".join(lines) + "\n")
    result = _validate(read_trips(path))
    assert result.errors["row"].tolist() == [2]
    assert result.errors["reason"].iloc[0] == "record has 14 fields, the header has 12"
    assert result.errors["line"].tolist() == [3]
    assert result.trips["row"].tolist() == [1, 3, 4]


def test_parquet_input_with_typed_columns(tmp_path):
    frame = trip_rows(3)
    frame["started_at"] = pd.to_datetime(frame["started_at"])
    frame["origin_lat"] = frame["origin_lat"].astype(float)
    frame["trip_id"] = range(10, 13)
    path = tmp_path / "trips.parquet"
    frame.to_parquet(path)
    result = _validate(read_trips(path))
    assert result.errors.empty and result.trips["trip_id"].tolist() == [10, 11, 12]
    assert str(result.trips["started_at"].dt.tz) == TIMEZONE


def test_unreadable_file_raises_naming_it(tmp_path):
    with pytest.raises(AuditInputError, match="no such trips file") as info:
        read_trips(tmp_path / "absent.csv")
    # one input-file error type across packages: callers may catch graphs' InputFileError
    assert isinstance(info.value, InputFileError) and info.value.path == str(tmp_path / "absent.csv")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(AuditInputError, match="bad.parquet"):
        read_trips(bad)


@pytest.mark.parametrize("claim, modes, transit_modes", [
    ("walk", {"walk"}, None),
    ("walk+bus", {"transit"}, {"bus"}),
    ("car_petrol", {"car_petrol"}, None),
    ("transit", {"transit"}, None),
    ("walk+bus+metro", {"transit"}, {"bus", "metro"}),
    ("bike+transit+bus", {"bike", "transit"}, None),
])
def test_claim_to_planner_modes(claim, modes, transit_modes):
    got_modes, got_transit = claimed_mode_to_query_modes(split_claimed_mode(claim))
    assert got_modes == frozenset(modes)
    assert got_transit == (None if transit_modes is None else frozenset(transit_modes))


@pytest.mark.parametrize("claim, normal", [
    ("bicycle", "bike"), ("骑行", "bike"), ("公交", "bus"), ("步行+公交车", "walk+bus"),
    ("Cycling", "bike"), ("地铁", "metro"), ("网约车", "taxi"), ("walk + 轨道交通", "walk+metro"),
])
def test_claimed_mode_synonyms_are_accepted_and_stored_canonical(claim, normal):
    frame = trip_rows(2)
    frame.loc[0, "claimed_mode"] = claim
    result = _validate(frame)
    assert result.errors.empty
    assert result.trips["claimed_mode"].iloc[0] == normal
