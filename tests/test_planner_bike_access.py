"""Own bike as access to transit (``bike+transit``): mode syntax, query, planner on Porto Alegre."""
from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from graphs.geodesy import haversine_m
from graphs.modes import ModeError, parse_modes, parse_trip_modes
from planner.access import PARK_NOTE, PARK_S, parking_stops
from planner.engine import Planner
from planner.errors import QueryError
from planner.query import make_query

# 1.2 km east of Trensurb's Sao Pedro station, to the Mercado station (downtown)
ORIGIN = (-30.0064, -51.1985)
DESTINATION = (-30.0275, -51.2270)
WHEN = datetime(2019, 5, 13, 8, 0)  # a Monday in the feeds' service range
TZ = "America/Sao_Paulo"


def test_plus_transit_is_one_entry_and_audit_claims_keep_their_meaning():
    assert parse_trip_modes("walk,bike+transit") == (("walk", "transit"), ("bike",))
    assert parse_trip_modes("步行、骑行+公共交通") == (("walk", "transit"), ("bike",))
    assert parse_trip_modes(["bicycle + public transport"]) == (("transit",), ("bike",))
    # a '+'-joined claim of two modes is still a list of modes
    assert parse_trip_modes("walk+bus") == (("walk", "bus"), ())
    assert parse_modes("walk+bus") == ("walk", "bus")
    assert parse_modes("bike+transit") == ("bike", "transit")  # audit reading, unchanged
    # walking is always the access; a car by fuel is park-and-ride (planner.park_ride)
    assert parse_trip_modes("walk+transit") == (("walk", "transit"), ())
    assert parse_trip_modes("car+transit") == (("transit",), ("car_petrol",))
    with pytest.raises(ModeError):
        parse_trip_modes("bike+transit,scooter")
    with pytest.raises(ModeError):
        parse_trip_modes("walk,,bike+transit")


def test_make_query_types_access_modes():
    q = make_query(origin=ORIGIN, destination=DESTINATION, when=WHEN, modes=("walk",),
                   access_modes=("bike",), timezone=TZ)
    assert q.access_modes == frozenset({"bike"}) and "transit" in q.modes
    plain = make_query(origin=ORIGIN, destination=DESTINATION, when=WHEN, timezone=TZ)
    assert plain.access_modes == frozenset()
    with pytest.raises(QueryError) as err:
        make_query(origin=ORIGIN, destination=DESTINATION, when=WHEN, access_modes=("bus",))
    assert err.value.field == "access_modes"
    with pytest.raises(QueryError):
        make_query(origin=ORIGIN, destination=DESTINATION, when=WHEN, access_modes="bike")


@pytest.fixture(scope="module")
def planner(poa_network):
    return Planner(poa_network)


def _plan(planner, access=(), **kw):
    q = make_query(origin=ORIGIN, destination=DESTINATION, when=WHEN, modes=("walk", "transit"),
                   access_modes=access, timezone=TZ, **kw)
    return q, planner.plan(q)


def _rides(it):
    return [leg for leg in it.legs if leg.trip_id is not None]


def test_parking_rule_is_rail_and_metro_stations_only(planner, poa_network):
    tt = poa_network.timetable
    parking = parking_stops(tt, planner.snappers["bike"])
    ids = {str(tt.stop_id[s]) for s in parking.stops}
    assert ids and all(i.startswith("poa_trensurb:") for i in ids)  # Trensurb is the only rail
    assert "poa_trensurb:SP" in ids and "poa_trensurb:MR" in ids


def test_bike_and_rail_dominates_walk_and_rail_and_stays_in_the_front(planner):
    _, walk_plan = _plan(planner)
    walk_rail = [it for it in walk_plan.itineraries
                 if it.legs[0].mode == "walk" and any(leg.mode == "rail" for leg in _rides(it))]
    assert walk_rail, "the walk+rail itinerary this test compares against is gone"
    query, bike_plan = _plan(planner, access=("bike",))
    bike_rail = [it for it in bike_plan.itineraries
                 if it.legs[0].mode == "bike" and any(leg.mode == "rail" for leg in _rides(it))]
    assert bike_rail
    best_walk = min(walk_rail, key=lambda it: it.duration_s)
    best_bike = min(bike_rail, key=lambda it: it.duration_s)
    assert best_bike.duration_s < best_walk.duration_s - 60
    assert best_bike.co2e_g <= best_walk.co2e_g + 1e-9
    assert best_bike.transfers <= best_walk.transfers
    # walk+rail from the same station is dominated and left out of the front
    assert not any(it.legs[0].mode == "walk" and _rides(it)
                   and _rides(it)[0].from_place == _rides(best_bike)[0].from_place
                   and it.duration_s >= best_bike.duration_s
                   and it.co2e_g >= best_bike.co2e_g for it in bike_plan.itineraries)
    bike = best_bike.legs[0]
    ride = best_bike.legs[1]
    assert bike.note == PARK_NOTE and bike.to_place == ride.from_place
    assert ride.from_place.stop_id.startswith("poa_trensurb:")
    assert bike.arrival == ride.departure and bike.departure >= query.when
    # an independent bound: the ride is no shorter than the straight line to the station
    crow = haversine_m(ORIGIN[0], ORIGIN[1], bike.to_place.lat, bike.to_place.lon)
    assert crow <= bike.distance_m <= 3 * crow
    assert bike.duration_s == math.ceil(bike.distance_m / query.bike_speed_mps) + PARK_S
    assert bike.co2e_g == pytest.approx(bike.co2e_g_per_pkm * bike.distance_m / 1000)


def test_co2e_per_leg_sums_to_the_total_and_bike_trips_earn_points(planner):
    _, plan = _plan(planner, access=("bike",))
    for it in plan.itineraries:
        assert math.fsum(leg.co2e_g for leg in it.legs) == pytest.approx(it.co2e_g)
        assert it.reduction_g == pytest.approx(max(0.0, plan.baseline.co2e_g - it.co2e_g))
        assert it.points.points >= 0
    biked = [it for it in plan.itineraries if it.legs[0].mode == "bike"]
    assert biked and all(it.points.points > 0 for it in biked)


def test_default_modes_have_no_bike_access_unless_asked(planner):
    q = make_query(origin=ORIGIN, destination=DESTINATION, when=WHEN, timezone=TZ)
    plan = planner.plan(q)
    assert not any(leg.note == PARK_NOTE for it in plan.itineraries for leg in it.legs)
    assert not any(it.legs[0].mode == "bike" and len(it.legs) > 1 for it in plan.itineraries)


def test_arrive_by_with_bike_access(planner):
    q, plan = _plan(planner, access=("bike",), arrive_by=True)
    biked = [it for it in plan.itineraries if it.legs[0].note == PARK_NOTE]
    assert biked
    for it in biked:
        assert it.legs[-1].arrival <= q.when + timedelta(seconds=1)
        assert it.legs[0].arrival == it.legs[1].departure
        for a, b in zip(it.legs, it.legs[1:], strict=False):
            assert a.arrival <= b.departure + timedelta(seconds=1)


def test_http_and_cli_surface(poa_artifact, capsys):
    from zoneinfo import ZoneInfo

    from api.cli import main
    from api.params import parse_plan_params, parse_reach_params

    base = {"from": "{:f},{:f}".format(*ORIGIN), "to": "{:f},{:f}".format(*DESTINATION),
            "at": WHEN.isoformat()}
    tz = ZoneInfo(TZ)
    assert parse_plan_params({**base, "modes": "walk,bike+transit"}, coverage=None,
                             tz=tz)["access_modes"] == {"bike"}
    assert parse_plan_params({**base, "ownBike": "true"}, coverage=None,
                             tz=tz)["access_modes"] == {"bike"}
    assert "access_modes" not in parse_plan_params({**base, "ownBike": "true", "modes": "walk"},
                                                   coverage=None, tz=tz)
    assert "access_modes" not in parse_plan_params(base, coverage=None, tz=tz)
    # /v1/reach follows the same rule (its default modes include transit)
    reach = {"from": base["from"], "at": base["at"]}
    assert parse_reach_params({**reach, "ownBike": "true"}, coverage=None,
                              tz=tz)["access_modes"] == {"bike"}
    assert "access_modes" not in parse_reach_params({**reach, "ownBike": "true", "modes": "walk"},
                                                    coverage=None, tz=tz)
    code = main(["plan", "--network", str(poa_artifact), "--from", "{:f},{:f}".format(*ORIGIN),
                 "--to", "{:f},{:f}".format(*DESTINATION), "--at", WHEN.isoformat(), "--own-bike"])
    out = capsys.readouterr().out
    assert code == 0 and '"note": "park"' in out and '"access_modes": [\n   "bike"' in out
    code = main(["plan", "--network", str(poa_artifact), "--from", "{:f},{:f}".format(*ORIGIN),
                 "--to", "{:f},{:f}".format(*DESTINATION), "--modes", "rocket+transit"])
    assert code == 2 and "rocket" in capsys.readouterr().err


def test_http_plan_with_own_bike(poa_network):
    from api.app import create_app

    client = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()
    base = {"from": "{:f},{:f}".format(*ORIGIN), "to": "{:f},{:f}".format(*DESTINATION),
            "at": WHEN.isoformat()}
    for extra in ({"ownBike": "true"}, {"modes": "walk,bike+transit"}):
        answer = client.get("/v1/plan", query_string={**base, **extra})
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert body["query"]["access_modes"] == ["bike"]
        parked = [leg for it in body["itineraries"] for leg in it["legs"] if leg["note"] == "park"]
        assert parked and all(leg["mode"] == "bike" and leg["to"]["stop_id"] for leg in parked)
    answer = client.get("/v1/plan", query_string={**base, "modes": "walk,rocket+transit"})
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "unknown_mode"
    assert answer.get_json()["error"]["field"] == "modes"


def test_departure_window_keeps_bike_access(planner):
    q, plan = _plan(planner, access=("bike",), window_s=1200.0)
    biked = [it for it in plan.itineraries if it.legs[0].note == PARK_NOTE]
    assert biked
    for it in biked:  # every option of the window leaves within it, the bike leg included
        assert q.when - timedelta(seconds=1) <= it.legs[0].departure
        assert it.legs[0].departure <= q.when + timedelta(seconds=1200 + 1)
        assert it.legs[0].arrival == it.legs[1].departure
