"""The CLI: build, inspect, export and sample end to end; bad input exits 2 with one line."""
from __future__ import annotations

import json

import pytest

from api.cli import main


def _one_line_error(capsys) -> str:
    """The error message: one line, last on stderr (progress bars may come before it)."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith("tanlu ") and ": error: " in last
    return last


def test_inspect_prints_the_manifest(poa_artifact, capsys):
    assert main(["inspect", str(poa_artifact)]) == 0
    out = capsys.readouterr().out
    assert "factor table: cn@" in out and "poa_eptc.zip" in out
    assert main(["inspect", "--json", str(poa_artifact)]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert {i["name"] for i in manifest["inputs"]} == {"poa_osm.pbf", "poa_eptc.zip",
                                                      "poa_trensurb.zip"}


@pytest.mark.parametrize("argv, needle", [
    (["inspect", "absent.tanlu"], "no such network artifact"),
    (["build", "--out", "x.tanlu"], "--osm is required"),
    (["build", "--osm", "nowhere.osm.pbf", "--out", "x.tanlu"], "nowhere.osm.pbf"),
    (["build", "--sample", "lima", "--sample-dir", ".", "--out", "x.tanlu"], "unknown sample city"),
    (["build", "--osm", "a.pbf", "--walk-speed-kph", "-3", "--out", "x.tanlu"], "walk-speed-kph"),
])
def test_bad_input_exits_2_with_one_line(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert needle in _one_line_error(capsys)


def test_build_refuses_a_file_that_is_not_osm(tmp_path, capsys):
    bogus = tmp_path / "city.osm.pbf"
    bogus.write_bytes(b"this is not a protobuf")
    assert main(["build", "--osm", str(bogus), "--out", str(tmp_path / "x.tanlu")]) == 2
    assert "city.osm.pbf" in _one_line_error(capsys)


def test_build_refuses_a_broken_gtfs(sample_dir, tmp_path, capsys):
    bogus = tmp_path / "feed.zip"
    bogus.write_text("not a zip")
    argv = ["build", "--osm", str(sample_dir / "porto-alegre" / "poa_osm.pbf"),
            "--gtfs", str(bogus), "--out", str(tmp_path / "x.tanlu"), "--quiet"]
    assert main(argv) == 2
    assert "feed.zip" in _one_line_error(capsys)


def test_export_geopackage_has_every_layer(poa_artifact, tmp_path, capsys):
    import pyogrio

    out = tmp_path / "poa.gpkg"
    assert main(["export", str(poa_artifact), "--out", str(out)]) == 0
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert {"walk_edges", "car_edges", "stops", "charging_stations"} <= layers


def test_sample_list(capsys):
    assert main(["sample", "list"]) == 0
    assert "porto-alegre" in capsys.readouterr().out
