"""GTFS reading and validation: typed tables, feed names, errors naming file/line/field."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphs.errors import GtfsError
from graphs.gtfs import feed_name_from_path, parse_gtfs_times, read_feed
from graphs.modes import route_type_to_mode


def zip_feed(folder: Path, out: Path, *, replace: dict[str, str] | None = None,
             drop: tuple[str, ...] = ()) -> Path:
    """Zip a fixture folder, optionally replacing or dropping member files."""
    replace = replace or {}
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(folder.iterdir()):
            if path.name in drop or path.name in replace:
                continue
            zf.write(path, path.name)
        for name, text in replace.items():
            zf.writestr(name, text)
    return out


def edited(fixtures_dir: Path, name: str, old: str, new: str) -> str:
    text = (fixtures_dir / "gtfs_tiny" / name).read_text()
    assert old in text
    return text.replace(old, new, 1)


def test_reads_folder_and_zip_with_names(fixtures_dir: Path, tmp_path: Path) -> None:
    folder = fixtures_dir / "gtfs_tiny"
    feed = read_feed(folder)
    assert feed.name == "gtfs_tiny"
    zipped = read_feed(zip_feed(folder, tmp_path / "mini.zip"))
    assert zipped.name == "mini"
    assert read_feed(folder, name="other").name == "other"
    assert feed.timezone == "America/Sao_Paulo"
    assert len(feed.stops) == 6 and set(feed.stops["location_type"]) == {0, 1}
    t1 = feed.stop_times[feed.stop_times["trip_id"] == "T1"]
    assert t1["arrival_s"].tolist() == [8 * 3600, -1, -1, 8 * 3600 + 600]
    assert feed.frequencies["start_s"].tolist() == [36000, 90000]
    assert feed_name_from_path("/data/poa_eptc.zip") == "poa_eptc"


def test_parse_times_past_midnight() -> None:
    seconds = parse_gtfs_times(pd.Series(["25:10:05", "7:00:00", "", "00:00:59"]))
    assert seconds.tolist() == [90605, 25200, -1, 59]


def test_not_a_zip(tmp_path: Path) -> None:
    bogus = tmp_path / "feed.zip"
    bogus.write_text("hello")
    with pytest.raises(GtfsError, match="not a zip"):
        read_feed(bogus)


def test_missing_file_names_it(fixtures_dir: Path, tmp_path: Path) -> None:
    path = zip_feed(fixtures_dir / "gtfs_tiny", tmp_path / "f.zip", drop=("stop_times.txt",))
    with pytest.raises(GtfsError, match="stop_times.txt"):
        read_feed(path)


def test_missing_column_names_file_and_field(fixtures_dir: Path, tmp_path: Path) -> None:
    text = edited(fixtures_dir, "routes.txt", "route_type", "kind")
    path = zip_feed(fixtures_dir / "gtfs_tiny", tmp_path / "f.zip", replace={"routes.txt": text})
    with pytest.raises(GtfsError, match="routes.txt lacks the required column route_type") as err:
        read_feed(path)
    assert err.value.field == "route_type"


@pytest.mark.parametrize(("file", "old", "new", "line", "field"), [
    # T2's third stop is data row 7, i.e. line 8 of stop_times.txt
    ("stop_times.txt", "08:03:00,08:03:00", "25:61:00,08:03:00", 8, "arrival_time"),
    ("stop_times.txt", "T3,09:10:00,09:10:00,D,4", "T3,09:10:00,09:1x:00,D,4", 13,
     "departure_time"),
    ("stops.txt", "C,Charlie,-30.0000,", "C,Charlie,,", 5, "stop_lat"),
    ("stops.txt", "-51.1500", "east", 7, "stop_lon"),
    ("routes.txt", "R3,3,Three,1", "R3,3,Three,99", 4, "route_type"),
    ("calendar.txt", "20240131\nWE", "20241331\nWE", 2, "end_date"),
    ("calendar_dates.txt", "WE,20240103,1", "WE,20240103,3", 3, "exception_type"),
    ("frequencies.txt", "900,1", "0,1", 3, "headway_secs"),
    ("stop_times.txt", "M1,07:30:00,07:30:00,E,2", "M1,07:30:00,07:30:00,E,two", 17,
     "stop_sequence"),
])
def test_malformed_values_name_file_line_field(fixtures_dir: Path, tmp_path: Path, file: str,
                                               old: str, new: str, line: int,
                                               field: str) -> None:
    path = zip_feed(fixtures_dir / "gtfs_tiny", tmp_path / "f.zip",
                    replace={file: edited(fixtures_dir, file, old, new)})
    with pytest.raises(GtfsError) as err:
        read_feed(path)
    message = str(err.value)
    assert f"{file} line {line}, field {field}" in message
    assert (err.value.row, err.value.field) == (line, field)
    # the line number is the file's own: the edited line is the one that differs
    original = (fixtures_dir / "gtfs_tiny" / file).read_text().splitlines()
    broken = zipfile.ZipFile(path).read(file).decode().splitlines()
    assert [i + 1 for i, (a, b) in enumerate(zip(original, broken)) if a != b] == [line]


def test_folder_without_calendars(fixtures_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "nocal"
    shutil.copytree(fixtures_dir / "gtfs_tiny", folder)
    (folder / "calendar.txt").unlink()
    (folder / "calendar_dates.txt").unlink()
    with pytest.raises(GtfsError, match="calendar"):
        read_feed(folder)


def test_sample_feeds_read(sample_dir: Path) -> None:
    for path, n_stop_times in [
        (sample_dir / "porto-alegre" / "poa_eptc.zip", None),
        (sample_dir / "porto-alegre" / "poa_trensurb.zip", None),
        (sample_dir / "sao-paulo" / "spo_gtfs.zip", None),
        (sample_dir / "helsinki" / "hsl_gtfs.zip", None),
    ]:
        feed = read_feed(path)
        with zipfile.ZipFile(path) as zf:
            raw = pd.read_csv(zf.open("stop_times.txt"), dtype=str, keep_default_na=False)
        assert len(feed.stop_times) == len(raw)
        empty = (raw["arrival_time"].str.strip() == "") & (raw["departure_time"].str.strip() == "")
        assert ((feed.stop_times["arrival_s"] < 0).to_numpy() == empty.to_numpy()).all()
        assert feed.timezone in ("America/Sao_Paulo", "Europe/Helsinki")


def test_helsinki_route_types_map_to_modes(sample_dir: Path) -> None:
    feed = read_feed(sample_dir / "helsinki" / "hsl_gtfs.zip")
    expected = {700: "bus", 701: "bus", 702: "bus", 704: "bus", 0: "tram", 1: "metro",
                109: "rail", 4: "ferry"}
    seen = dict(zip(feed.routes["route_type"], feed.routes["route_mode"]))
    assert seen == expected
    assert all(route_type_to_mode(k) == v for k, v in expected.items())
    assert np.isin(feed.routes["route_type"], list(expected)).all()
