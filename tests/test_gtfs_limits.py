"""GTFS build amplification is refused (issue 16, item 5): zip bombs, huge fields, member
paths outside the zip's root, duplicated stop times."""
from __future__ import annotations

import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from graphs.errors import GtfsError
from graphs.gtfs import GtfsLimits, read_feed


def _zip(fixtures_dir: Path, out: Path, *, replace: dict[str, bytes] | None = None,
         prefix: str = "", extra: dict[str, bytes] | None = None) -> Path:
    """The tiny fixture feed as a zip, with some files replaced or members added."""
    replace = replace or {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted((fixtures_dir / "gtfs_tiny").iterdir()):
            zf.writestr(prefix + f.name, replace.get(f.name, f.read_bytes()))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return out


def test_zip_bomb_stops_at_the_file_limit_without_inflating(fixtures_dir: Path,
                                                           tmp_path: Path) -> None:
    stops = (fixtures_dir / "gtfs_tiny" / "stops.txt").read_bytes()
    bomb = stops + b"\n" * (64 << 20)  # 64 MiB of blank lines deflate to ~64 KiB
    path = _zip(fixtures_dir, tmp_path / "bomb.zip", replace={"stops.txt": bomb})
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(GtfsError, match=r"stops.txt is larger than the file limit"):
        read_feed(path, limits=GtfsLimits(max_file_bytes=4 << 20))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 16 << 20, "reading must stop at the limit, not inflate everything"
    assert time.perf_counter() - started < 5


def test_total_limit_counts_every_file(fixtures_dir: Path, tmp_path: Path) -> None:
    path = _zip(fixtures_dir, tmp_path / "ok.zip")
    assert read_feed(path).stops.shape[0] > 0
    with pytest.raises(GtfsError, match="feed total limit"):
        read_feed(path, limits=GtfsLimits(max_total_bytes=600))


def test_huge_field_is_refused_with_line_and_field(fixtures_dir: Path, tmp_path: Path) -> None:
    stops = (fixtures_dir / "gtfs_tiny" / "stops.txt").read_bytes()
    long_row = b"X" * 5000 + b",Long,-30.0,-51.2,0,\n"
    path = _zip(fixtures_dir, tmp_path / "long.zip", replace={"stops.txt": stops + long_row})
    lines = stops.count(b"\n") + 1
    with pytest.raises(GtfsError, match=rf"stops.txt line {lines}, field stop_id: longer than"):
        read_feed(path)


def test_member_outside_root_cannot_replace_a_file(fixtures_dir: Path, tmp_path: Path) -> None:
    evil = b"stop_id,stop_name,stop_lat,stop_lon\nEVIL,Evil,0,0\n"
    path = _zip(fixtures_dir, tmp_path / "evil.zip",
                extra={"../../other/stops.txt": evil, "sub/stops.txt": evil})
    feed = read_feed(path)
    assert "EVIL" not in set(feed.stops["stop_id"])


def test_single_top_folder_is_accepted(fixtures_dir: Path, tmp_path: Path) -> None:
    path = _zip(fixtures_dir, tmp_path / "nested.zip", prefix="feed/")
    assert "A" in set(read_feed(path).stops["stop_id"])


def test_two_top_folders_are_not_guessed_between(fixtures_dir: Path, tmp_path: Path) -> None:
    stops = (fixtures_dir / "gtfs_tiny" / "stops.txt").read_bytes()
    path = _zip(fixtures_dir, tmp_path / "two.zip", prefix="a/", extra={"b/stops.txt": stops})
    with pytest.raises(GtfsError, match="required file agency.txt is missing"):
        read_feed(path)


def test_duplicated_stop_times_are_an_error_naming_the_row(fixtures_dir: Path,
                                                           tmp_path: Path) -> None:
    stop_times = (fixtures_dir / "gtfs_tiny" / "stop_times.txt").read_bytes()
    first_row = stop_times.splitlines()[1]
    path = _zip(fixtures_dir, tmp_path / "dup.zip",
                replace={"stop_times.txt": stop_times.rstrip(b"\n") + b"\n" + first_row + b"\n"})
    line = stop_times.rstrip(b"\n").count(b"\n") + 2
    with pytest.raises(GtfsError, match=rf"stop_times.txt line {line}, field stop_sequence"):
        read_feed(path)
