"""The poa-in-wuxi sample builds with ``--sample`` and plans like Porto Alegre, moved to Wuxi."""
from __future__ import annotations

from datetime import datetime

import pytest

from graphs.crs import is_in_china
from planner import Planner, make_query

# SOURCE.md of poa-in-wuxi: every coordinate moved by lat + 61.52, lon + 171.52.
SHIFT_LAT, SHIFT_LON = 61.52, 171.52
# Two points in central Porto Alegre (Centro Histórico -> Azenha), about 3 km apart.
POA_ORIGIN = (-30.0277, -51.2287)
POA_DESTINATION = (-30.0490, -51.2100)


def _in_wuxi(point):
    return (round(point[0] + SHIFT_LAT, 6), round(point[1] + SHIFT_LON, 6))


def test_wuxi_network_is_in_china_and_on_shanghai_time(wuxi_network):
    assert wuxi_network.timezone == "Asia/Shanghai"
    min_lon, min_lat, max_lon, max_lat = wuxi_network.bbox
    # The extent SOURCE.md states (lon 120.2558..120.3878, lat 31.4067..31.5220).
    assert (min_lon, min_lat, max_lon, max_lat) == pytest.approx(
        (120.2558, 31.4067, 120.3878, 31.5220), abs=1e-3)
    assert is_in_china([min_lat, max_lat], [min_lon, max_lon]).all()
    assert wuxi_network.timetable.n_stops > 4000
    names = [i["name"] for i in wuxi_network.manifest["inputs"]]
    assert names == ["wuxi_osm.pbf", "wuxi_bus.zip", "wuxi_metro.zip"]


def test_a_wuxi_trip_matches_the_same_trip_in_porto_alegre(wuxi_network, poa_network):
    when = datetime(2019, 5, 13, 8, 0)  # local wall clock in each city
    wuxi = Planner(wuxi_network).plan(make_query(
        origin=_in_wuxi(POA_ORIGIN), destination=_in_wuxi(POA_DESTINATION), when=when,
        modes=("transit",)))
    poa = Planner(poa_network).plan(make_query(
        origin=POA_ORIGIN, destination=POA_DESTINATION, when=when, modes=("transit",)))
    assert wuxi.itineraries[0].departure.tzinfo.key == "Asia/Shanghai"
    transit = [it for it in wuxi.itineraries if any(leg.route_id for leg in it.legs)]
    assert transit, [it.modes for it in wuxi.itineraries]
    # Same timetables at the same wall-clock time: the fastest transit option arrives at the
    # same local time within a few minutes (east-west walks are 1.5% shorter in Wuxi).
    def fastest_transit_arrival(plan):
        options = [it for it in plan.itineraries if any(leg.route_id for leg in it.legs)]
        arrival = min(it.arrival for it in options)
        return arrival.replace(tzinfo=None)
    gap_s = abs((fastest_transit_arrival(wuxi) - fastest_transit_arrival(poa)).total_seconds())
    assert gap_s <= 300
    # and rides the same lines (ids are unchanged, only the feed prefix differs)
    def lines(plan):
        return {leg.route_id.split(":", 1)[1] for it in plan.itineraries for leg in it.legs
                if leg.route_id}
    assert lines(wuxi) == lines(poa)
    assert isinstance(wuxi.itineraries[0].departure, datetime)
