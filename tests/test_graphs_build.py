"""Whole builds of the sample cities: manifests that say what went in, and São Paulo's frequencies."""
from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
import pytest

from graphs.build import build_network
from graphs.calendar import trips_active_on
from graphs.factors import load_factor_table


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_porto_alegre_manifest_names_its_inputs_and_factors(poa_network, sample_dir):
    manifest = poa_network.manifest
    city = sample_dir / "porto-alegre"
    expected = {p.name: _sha256(p) for p in city.iterdir() if p.suffix in (".pbf", ".zip")}
    assert {i["name"]: i["sha256"] for i in manifest["inputs"]} == expected
    assert manifest["factor_table"] == load_factor_table("cn").label
    assert manifest["factors"]["factors"]["bus"]["source"]
    assert manifest["timezone"] == "America/Sao_Paulo"
    assert manifest["coverage"]["feeds"] == ["poa_eptc", "poa_trensurb"]
    # The walking network lies inside the OSM extract's published extent (SOURCE.md, rounded
    # to 4 decimals, hence the 0.0005 degree tolerance).
    west, south, east, north = manifest["coverage"]["bbox"]
    assert -51.2669 <= west < east <= -51.1317 and -30.1138 <= south < north <= -29.9871


def test_porto_alegre_layers_and_links_fit_together(poa_network):
    tt = poa_network.timetable
    walk = poa_network.streets["walk"]
    linked = tt.stop_walk_node >= 0
    assert linked.sum() > 2000
    assert tt.stop_walk_node[linked].max() < walk.n_nodes
    # Every linked stop is within the link distance of its node (checked on the coordinates).
    dlat = np.radians(walk.node_lat[tt.stop_walk_node[linked]] - tt.stop_lat[linked])
    dlon = np.radians(walk.node_lon[tt.stop_walk_node[linked]] - tt.stop_lon[linked])
    metres = 6_371_000 * np.hypot(dlat, dlon * np.cos(np.radians(tt.stop_lat[linked])))
    assert metres.max() <= poa_network.manifest["build_options"]["max_link_m"] + 1


def test_sao_paulo_builds_with_frequency_based_trips(sample_dir, tmp_path):
    city = sample_dir / "sao-paulo"
    network = build_network(osm_path=city / "spo_osm.pbf", gtfs_paths=[city / "spo_gtfs.zip"],
                            factors="uk", out_path=tmp_path / "spo.tanlu")
    tt = network.timetable
    assert tt.trip_is_frequency.all()  # every trip of this feed is headway-based
    active = trips_active_on(tt, date(2019, 5, 13))
    assert active.sum() > 1000
    assert set(tt.route_mode) >= {"bus", "metro", "rail"}
    assert network.manifest["factor_table"].startswith("uk-desnz-2025@")
    assert network.manifest["grid"] is None  # the uk table has no grid-derived factors
    assert (tmp_path / "spo.tanlu").stat().st_size > 0


def test_unknown_factor_preset_stops_the_build_before_reading_osm(tmp_path):
    from graphs.errors import FactorTableError

    with pytest.raises(FactorTableError, match="mars"):
        build_network(osm_path=tmp_path / "none.pbf", factors="mars")
