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
    assert "grid: cn-mee-nbs-2023/national 全国 530.6 g CO2 per kWh (2023, verified)" in out
    assert main(["inspect", "--json", str(poa_artifact)]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert {i["name"] for i in manifest["inputs"]} == {"poa_osm.pbf", "poa_eptc.zip",
                                                      "poa_trensurb.zip"}


def test_inspect_shows_layers_transit_links_and_factors(poa_network, poa_artifact, capsys):
    """Every number is checked against the loaded arrays, not against the manifest."""
    import numpy as np

    assert main(["inspect", str(poa_artifact)]) == 0
    out = capsys.readouterr().out
    for name, layer in poa_network.streets.items():
        assert f"{name:5} {layer.n_nodes:>9,} nodes {layer.n_edges:>9,} edges" in out
    tt = poa_network.timetable
    assert f"transit: {tt.n_stops:,} stops" in out and f"{tt.n_trips:,} trips" in out
    linked = int((tt.stop_walk_node >= 0).sum())
    assert "service dates: 2019-03-01 .. 2019-12-31" in out
    assert f": {linked:,}; unlinked {tt.n_stops - linked:,} (outside_street_extract" in out
    assert f"footpaths: {len(tt.footpath_target):,}" in out
    factors = poa_network.manifest["factors"]["factors"]
    for mode in ("walk", "bus", "metro", "car_bev"):
        assert f"  {mode:14} {factors[mode]['g_per_pkm']:>8} (" in out
    assert np.isfinite(tt.stop_link_distance_m[tt.stop_walk_node >= 0]).all()


def _broken_tiny_feed(fixtures_dir, tmp_path, file, old, new):
    import shutil

    feed = tmp_path / "feed"
    shutil.copytree(fixtures_dir / "gtfs_tiny", feed)
    if new is None:
        (feed / file).unlink()
    else:
        text = (feed / file).read_text()
        assert old in text
        (feed / file).write_text(text.replace(old, new, 1))
    return feed


@pytest.mark.parametrize("file, old, new, needle", [
    ("stop_times.txt", None, None, "required file stop_times.txt is missing"),
    ("trips.txt", "service_id", "service", "trips.txt lacks the required column service_id"),
    ("stop_times.txt", "T1,,,B,2", "T1,8:7:00,,B,2",
     "stop_times.txt line 3, field arrival_time: '8:7:00' is not a time"),
    ("stops.txt", "B,Bravo,-30.0000,-51.1990", "B,Bravo,,",
     "stops.txt line 4, field stop_lat: '' is not a latitude"),
])
def test_broken_feed_through_the_cli_names_file_row_field(fixtures_dir, osm_dir, tmp_path, capsys,
                                                                   file, old, new, needle):
    feed = _broken_tiny_feed(fixtures_dir, tmp_path, file, old, new)
    argv = ["build", "--osm", str(osm_dir / "small_town.osm"), "--gtfs", str(feed),
            "--out", str(tmp_path / "x.tanlu"), "--quiet"]
    assert main(argv) == 2
    assert needle in _one_line_error(capsys)
    assert not (tmp_path / "x.tanlu").exists()


@pytest.mark.parametrize("fixture, needle", [
    ("no_streets.osm", "contains no streets"),
    ("only_unusable_streets.osm", "contains no street usable on foot, by bike or by car"),
])
def test_osm_without_streets_through_the_cli(osm_dir, tmp_path, capsys, fixture, needle):
    argv = ["build", "--osm", str(osm_dir / fixture), "--out", str(tmp_path / "x.tanlu"),
            "--quiet"]
    assert main(argv) == 2
    assert f"{fixture}: {needle}" in _one_line_error(capsys)


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


def test_plan_piped_into_a_closed_reader_stops_quietly(poa_artifact):
    """`tanlu plan ... | head` must not print a BrokenPipeError traceback."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "api.cli", "plan", "--network", str(poa_artifact),
            "--from", "-30.0277,-51.2287", "--to", "-30.0600,-51.1750",
            "--at", "2019-05-13T12:30", "--modes", "walk,transit,car_petrol"]
    # This plan's JSON (~70 kB) overfills the 64 kB pipe, so the writer is still writing when
    # the reader closes: the broken pipe is certain, not a race.
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) in (0, 141)
    assert "Traceback" not in stderr


def test_build_refuses_an_unknown_grid_before_reading_inputs(tmp_path, capsys):
    code = main(["build", "--osm", str(tmp_path / "absent.osm.pbf"), "--grid", "mars",
                 "--out", str(tmp_path / "x.tanlu")])
    assert code == 2
    err = capsys.readouterr().err
    assert "mars" in err and "east_china" in err and "Traceback" not in err


def test_build_refuses_the_renamed_eu_preset(tmp_path, capsys):
    code = main(["build", "--osm", str(tmp_path / "absent.osm.pbf"), "--factors", "eu",
                 "--out", str(tmp_path / "x.tanlu")])
    assert code == 2
    assert "fr-ademe" in capsys.readouterr().err


_POA_TRIP = ["--from", "-30.0277,-51.2287", "--to", "-30.0000,-51.1500",
             "--at", "2019-05-13T12:30:00"]


def test_plan_with_a_methodology_names_it_and_follows_it(poa_artifact, capsys):
    assert main(["plan", "--network", str(poa_artifact), *_POA_TRIP, "--modes", "walk,transit",
                 "--methodology", "shenzhen-2021", "--rules", "shenzhen-per-km"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["methodology"] == "shenzhen-2021@2021.1"
    assert plan["points_rules"] == "shenzhen-per-km@2021.1"
    for itinerary in plan["itineraries"]:
        km = {m: sum(leg["distance_m"] for leg in itinerary["legs"] if leg["mode"] == m) / 1000
              for m in ("bus", "metro")}
        assert itinerary["reduction_g"] == pytest.approx(26.9 * km["bus"] + 46.7 * km["metro"])
        assert itinerary["points"]["points"] == int(26.9 * km["bus"] + 46.7 * km["metro"])


@pytest.mark.parametrize(("extra", "needle"), [
    (["--methodology", "db11-3043-2024"], "--methodology: methodology db11-3043-2024@2024.1 "
                                          "cannot be used as shipped"),
    (["--methodology", "nowhere.toml"], "no such methodology"),
    (["--passengers", "0"], "--passengers"),
    (["--passengers", "two"], "--passengers"),
    (["--pile-distance", "-3"], "--pile-distance"),
])
def test_plan_accounting_options_fail_in_one_line(poa_artifact, capsys, extra, needle):
    assert main(["plan", "--network", str(poa_artifact), *_POA_TRIP, *extra]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and err.count("\n") == 1


def test_plan_with_a_bad_pile_list_names_the_row(poa_artifact, tmp_path, capsys):
    piles = tmp_path / "piles.csv"
    piles.write_text("id,name,lat,lon\nA,x,-30.0,-51.15\nB,y,-95,-51.2\n", encoding="utf-8")
    assert main(["plan", "--network", str(poa_artifact), *_POA_TRIP, "--modes", "car_bev",
                 "--pile-list", str(piles)]) == 2
    assert "row 3: lat -95.0 is outside" in capsys.readouterr().err


def test_plan_table_names_grid_and_methodology(poa_artifact, capsys):
    assert main(["plan", "--network", str(poa_artifact), *_POA_TRIP, "--modes", "car_bev",
                 "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert "grid cn-mee-nbs-2023/national; methodology tanlu-car@2026.1" in out


def test_plan_names_the_pile_that_made_an_ev_trip_eligible(poa_artifact, tmp_path, capsys):
    piles = tmp_path / "piles.csv"
    piles.write_text("id,name,lat,lon\nPOA-1,Estacionamento Norte,-30.0001,-51.1501\n",
                     encoding="utf-8")
    assert main(["plan", "--network", str(poa_artifact), *_POA_TRIP, "--modes", "car_bev",
                 "--format", "table", "--pile-list", str(piles)]) == 0
    out = capsys.readouterr().out
    assert "pile: POA-1 Estacionamento Norte (" in out and "m from the destination)" in out
    assert main(["plan", "--network", str(poa_artifact), *_POA_TRIP, "--modes", "car_bev",
                 "--pile-list", str(piles), "--pile-distance", "5"]) == 0
    (itinerary,) = json.loads(capsys.readouterr().out)["itineraries"]
    assert itinerary["pile"] is None and itinerary["points"]["points"] == 0
