"""The GBFS reader (graphs.gbfs) on the hand-written Porto Alegre fixture, 2.3 and 3.0."""
from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from graphs.errors import GraphsError
from graphs.gbfs import GbfsError, read_gbfs

FIXTURE = Path(__file__).parent / "fixtures" / "gbfs_poa"
# Trensurb stations (stop_lat, stop_lon of poa_trensurb.zip stops.txt)
TRENSURB = {"poa-mr": (-30.0262849537, -51.2282682008), "poa-rd": (-30.0224034752, -51.2199497815),
            "poa-sp": (-30.0064762425, -51.2094251697)}
UTC_11 = datetime(2019, 5, 13, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize("version", ["v2.3", "v3.0"])
def test_both_versions_read_alike(version):
    feed = read_gbfs(FIXTURE / version)
    assert feed.version == version[1:]
    assert feed.last_updated == UTC_11 - timedelta(minutes=1)  # the vehicle file, 07:59 local
    assert feed.ttl_s == 30
    # earliest last_updated + ttl: status 11:00 + 30 s, vehicles 10:59 + 60 s
    assert feed.expires_at == UTC_11
    assert not feed.is_stale(UTC_11) and feed.is_stale(UTC_11 + timedelta(seconds=1))
    by_id = {s.station_id: s for s in feed.stations}
    assert set(by_id) == set(TRENSURB)
    assert by_id["poa-mr"].name == "Estação Mercado"
    assert (by_id["poa-mr"].bikes_available, by_id["poa-mr"].docks_available) == (5, 7)
    assert by_id["poa-rd"].bikes_available == 0
    assert by_id["poa-sp"].docks_available == 0 and not by_id["poa-sp"].is_returning
    free = {v.vehicle_id: v for v in feed.vehicles if v.lat is not None}
    assert set(free) == {"b-101", "b-102", "b-103"}
    assert free["b-103"].is_reserved and free["b-102"].vehicle_type_id == "ebike"


def test_fixture_stations_are_near_real_stops():
    from graphs.geodesy import haversine_m

    for station in read_gbfs(FIXTURE / "v2.3").stations:
        lat, lon = TRENSURB[station.station_id]
        assert haversine_m(station.lat, station.lon, lat, lon) < 60


def test_files_given_one_by_one_and_information_alone():
    feed = read_gbfs([FIXTURE / "v2.3" / "station_information.json"])
    assert feed.vehicles == () and feed.stations[0].bikes_available is None
    assert feed.files == ("station_information.json",)
    assert feed.expires_at == UTC_11 + timedelta(seconds=60)
    only_bikes = read_gbfs([FIXTURE / "v3.0" / "vehicle_status.json"])
    # without station_information the docked b-104's station cannot be checked; it is kept
    assert only_bikes.stations == () and len(only_bikes.vehicles) == 4


def _copy(tmp_path: Path, version: str = "v2.3") -> Path:
    folder = tmp_path / version
    shutil.copytree(FIXTURE / version, folder)
    return folder


def _edit(folder: Path, name: str, change) -> None:
    path = folder / name
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("name, change, field", [
    ("station_information.json", lambda d: d["data"]["stations"][1].update(lat=95),
     "data.stations[1].lat"),
    ("station_information.json", lambda d: d["data"]["stations"][0].pop("station_id"),
     "data.stations[0].station_id"),
    ("station_information.json", lambda d: d["data"]["stations"][2].update(station_id="poa-mr"),
     "data.stations[2].station_id"),
    ("station_information.json", lambda d: d.pop("ttl"), "ttl"),
    ("station_information.json", lambda d: d.update(last_updated="yesterday"), "last_updated"),
    ("station_information.json", lambda d: d.update(version="1.1"), "version"),
    ("station_status.json", lambda d: d["data"]["stations"][0].update(num_bikes_available=-1),
     "data.stations[0].num_bikes_available"),
    ("station_status.json", lambda d: d["data"]["stations"][1].update(station_id="nowhere"),
     "data.stations[1].station_id"),
    ("station_status.json", lambda d: d["data"]["stations"][0].update(is_renting="yes"),
     "data.stations[0].is_renting"),
    ("free_bike_status.json", lambda d: d["data"].pop("bikes"), "data.bikes"),
    ("free_bike_status.json", lambda d: d["data"]["bikes"][0].update(lon=None),
     "data.bikes[0].lon"),
    ("free_bike_status.json", lambda d: d.update(version="3.0"), "version"),
    ("free_bike_status.json", lambda d: d["data"]["bikes"][1].update(station_id="poa-xx"),
     "data.bikes[1].station_id"),
])
def test_errors_name_file_and_field(tmp_path, name, change, field):
    folder = _copy(tmp_path)
    _edit(folder, name, change)
    with pytest.raises(GbfsError) as err:
        read_gbfs(folder)
    assert isinstance(err.value, GraphsError) and isinstance(err.value, ValueError)
    assert err.value.field == field
    assert field in str(err.value)
    assert str(err.value).startswith(name) or "different versions" in str(err.value)


def test_v3_names_must_be_localised_and_rfc3339_needs_an_offset(tmp_path):
    folder = _copy(tmp_path, "v3.0")
    _edit(folder, "station_information.json",
          lambda d: d["data"]["stations"][0].update(name="Mercado"))
    with pytest.raises(GbfsError, match=r"data\.stations\[0\]\.name"):
        read_gbfs(folder)
    folder = _copy(tmp_path / "b", "v3.0")
    _edit(folder, "vehicle_status.json", lambda d: d.update(last_updated="2019-05-13T07:59:00"))
    with pytest.raises(GbfsError, match="vehicle_status.json: last_updated"):
        read_gbfs(folder)


def test_unreadable_and_missing_files(tmp_path):
    folder = _copy(tmp_path)
    (folder / "station_status.json").write_text("{not json")
    with pytest.raises(GbfsError, match="station_status.json: not readable JSON"):
        read_gbfs(folder)
    (folder / "station_status.json").write_text("[1, 2]")
    with pytest.raises(GbfsError, match="top level"):
        read_gbfs(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GbfsError, match="no station_information.json"):
        read_gbfs(tmp_path / "empty")
    with pytest.raises(GbfsError, match="no such folder"):
        read_gbfs(tmp_path / "missing")
    with pytest.raises(GbfsError, match="not a GBFS file"):
        read_gbfs([tmp_path / "stops.txt"])
    with pytest.raises(GbfsError, match="no such file"):
        read_gbfs([tmp_path / "station_information.json"])


def test_osm_bicycle_rental_nodes_join_the_snapshot(tmp_path, osm_dir):
    """An OSM bike-share station is read with the streets and baked as a docking station."""
    import re

    from graphs._bikeshare_build import with_osm_rentals
    from graphs.build import build_network
    from graphs.gbfs import gbfs_from_documents, read_gbfs_documents
    from graphs.osm_reader import OsmFeature

    text = (osm_dir / "small_town.osm").read_text(encoding="utf-8")
    first = text.index("<node ")
    node = ('<node id="990001" lat="{lat}" lon="{lon}" version="1">'
            '<tag k="amenity" v="bicycle_rental"/><tag k="name" v="Praça"/>'
            '<tag k="capacity" v="12"/></node>\n')
    lat, lon = map(float, re.search(r'lat="([-\d.]+)" lon="([-\d.]+)"', text[first:]).groups())
    osm = tmp_path / "town.osm"
    osm.write_text(text[:first] + node.format(lat=lat, lon=lon) + text[first:], encoding="utf-8")
    network = build_network(osm_path=osm)
    (station,) = network.gbfs.stations
    assert (station.station_id, station.name, station.capacity) == ("osm:node/990001", "Praça", 12)
    assert station.bikes_available is None  # OSM has no status: assumed available, said so
    assert network.manifest["report"]["streets"]["bicycle_rentals"] == 1
    # merged into a 3.0 feed (a localised name); a node at a GBFS station is that station
    files = read_gbfs_documents(FIXTURE / "v3.0")
    at_mercado = OsmFeature("node", 1, {"amenity": "bicycle_rental"}, ((-51.22801, -30.02601),))
    elsewhere = OsmFeature("node", 2, {"name": "Nova"}, ((-51.20, -30.03),))
    merged = gbfs_from_documents(with_osm_rentals(files, [at_mercado, elsewhere],
                                                  built_at=UTC_11))
    assert [s.station_id for s in merged.stations][-1] == "osm:node/2"
    assert len(merged.stations) == len(gbfs_from_documents(files).stations) + 1
