"""Charging-pile evidence: operator CSV and OSM stations, nearest pile checked by brute force."""
from __future__ import annotations

import math

import numpy as np
import pytest

from planner.errors import PileListError
from planner.piles import load_pile_csv, pile_evidence, piles_from_stations


def _great_circle_m(lat1, lon1, lat2, lon2):
    """Independent oracle: spherical law of cosines (not the planner's haversine)."""
    p1, p2, dl = map(math.radians, (lat1, lat2, lon2 - lon1))
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6_371_008.8 * math.acos(max(-1.0, min(1.0, c)))


CSV = """id,name,lat,lon,operator
WX-001,太湖广场充电站,31.5610,120.3000,国网
WX-002,火车站停车场,31.5890,120.3010,特来电
WX-003,,31.5000,120.2000,
"""


def _csv(tmp_path, text=CSV):
    path = tmp_path / "piles.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_pile_at_the_destination_is_named(tmp_path):
    piles = load_pile_csv(_csv(tmp_path))
    assert len(piles) == 3 and piles.source == "operator list piles.csv"
    dest = (31.5615, 120.3004)
    evidence = pile_evidence(piles, origin=(31.60, 120.40), destination=dest)
    assert evidence is not None and evidence.end == "destination"
    assert evidence.pile.id == "WX-001" and evidence.pile.name == "太湖广场充电站"
    assert evidence.distance_m == pytest.approx(_great_circle_m(*dest, 31.5610, 120.3000), abs=0.01)
    assert evidence.to_dict()["operator"] == "国网"


def test_origin_counts_when_no_pile_near_the_destination(tmp_path):
    piles = load_pile_csv(_csv(tmp_path))
    evidence = pile_evidence(piles, origin=(31.5891, 120.3011), destination=(31.70, 120.50))
    assert evidence is not None and evidence.end == "origin" and evidence.pile.id == "WX-002"


def test_no_pile_within_the_distance_is_no_evidence(tmp_path):
    piles = load_pile_csv(_csv(tmp_path))
    far = (31.5610 + 0.003, 120.3000)  # about 334 m north of WX-001
    assert pile_evidence(piles, origin=(0.0, 0.0), destination=far) is None
    assert pile_evidence(piles, origin=(0.0, 0.0), destination=far, max_distance_m=400) is not None


def test_nearest_matches_brute_force_on_random_points(tmp_path):
    piles = load_pile_csv(_csv(tmp_path))
    rng = np.random.default_rng(7)
    for lat, lon in zip(rng.uniform(31.45, 31.65, 50), rng.uniform(120.15, 120.45, 50)):
        pile, distance = piles.nearest(float(lat), float(lon))
        expected = min((_great_circle_m(lat, lon, float(a), float(b)), str(i))
                       for i, a, b in zip(piles.ids, piles.lat, piles.lon))
        assert pile.id == expected[1] and distance == pytest.approx(expected[0], abs=0.01)


@pytest.mark.parametrize(("text", "needle"), [
    ("id,name,lat\nA,x,1\n", "missing column 'lon'"),
    ("id,name,lat,lon\nA,x,91,0\n", "row 2: lat 91.0 is outside"),
    ("id,name,lat,lon\nA,x,1,abc\n", "row 2: lon 'abc' is not a number"),
    ("id,name,lat,lon\nA,x,1,1\n,y,2,2\n", "row 3: empty id"),
    ("id,name,lat,lon\nA,x,1,1\nA,y,2,2\n", "row 3: duplicate id 'A' (first on row 2)"),
])
def test_bad_pile_lists_name_the_row(tmp_path, text, needle):
    with pytest.raises(PileListError) as info:
        load_pile_csv(_csv(tmp_path, text))
    assert needle in str(info.value)


def test_missing_pile_list(tmp_path):
    with pytest.raises(PileListError, match="no such pile list"):
        load_pile_csv(tmp_path / "absent.csv")


def test_osm_stations_are_a_pile_list_with_osm_ids():
    from graphs.network import ChargingStations

    stations = ChargingStations(
        osmid=np.array([42, -7], dtype=np.int64), lon=np.array([-51.23, -51.20]),
        lat=np.array([-30.03, -30.05]), name=np.array(["Posto A", ""], dtype=str),
        operator=np.array(["CEEE", ""], dtype=str), capacity=np.array([2, -1], dtype=np.int32))
    piles = piles_from_stations(stations)
    assert list(piles.ids) == ["osm:node/42", "osm:way/7"]
    evidence = pile_evidence(piles, origin=(-30.0501, -51.2001), destination=(0.0, 0.0))
    assert evidence is not None and evidence.end == "origin" and evidence.pile.id == "osm:way/7"
    assert evidence.pile.source == "osm amenity=charging_station"


def test_the_poa_artifact_pile_list_is_empty_and_says_no_evidence(poa_network):
    """The Porto Alegre extract has no amenity=charging_station: no EV points from it."""
    piles = piles_from_stations(poa_network.charging_stations)
    assert len(piles) == len(poa_network.charging_stations.osmid) == 0
    assert pile_evidence(piles, origin=(-30.03, -51.23), destination=(-30.05, -51.2)) is None
