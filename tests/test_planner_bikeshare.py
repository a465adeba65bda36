"""Shared bikes (``bikeshare``, ``bikeshare+transit``) on Porto Alegre with GBFS feeds."""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from graphs.gbfs import read_gbfs
from graphs.geodesy import haversine_m
from graphs.modes import parse_trip_modes
from planner.bikeshare import RENT_NOTE, RENT_S, RETURN_NOTE, RETURN_S, RIDE_NOTE, factor_key_of
from planner.engine import Planner
from planner.query import make_query
from tests.gbfs_feeds import square_zone, write_feed

FIXTURE = Path(__file__).parent / "fixtures" / "gbfs_poa"
WHEN = datetime(2019, 5, 13, 8, 0)
TZ = "America/Sao_Paulo"
# 1.2 km east of Trensurb's Sao Pedro station (free bike b-101 of the fixture 180 m away), to
# the Mercado station downtown
EAST_OF_SAO_PEDRO = (-30.0064, -51.1985)
MERCADO = (-30.0275, -51.2270)
# near Sao Pedro station, to 2.5 km south-east of Mercado (no Trensurb station near)
NEAR_SAO_PEDRO = (-30.0075, -51.2100)
SOUTH_EAST = (-30.0330, -51.2150)
# generated stations: at Mercado (rent), near SOUTH_EAST (B) and at SOUTH_EAST (C)
STATION_A = ("A", "Mercado bikes", -30.0260, -51.2280)
STATION_B = ("B", "Near destination", -30.0318, -51.2160)
STATION_C = ("C", "At destination", -30.0328, -51.2152)


@pytest.fixture(scope="module")
def planner(poa_network):
    return Planner(poa_network)


def _plan(planner, origin, destination, *, modes="walk,bikeshare+transit", rules=None, **kw):
    names, access = parse_trip_modes(modes)
    q = make_query(origin=origin, destination=destination, when=WHEN, modes=names,
                   access_modes=access, timezone=TZ, **kw)
    return q, planner.plan(q, rules=rules)


def _shared(it):
    return [leg for leg in it.legs if leg.note in (RENT_NOTE, RIDE_NOTE, RETURN_NOTE)]


def _rides(it):
    return [leg for leg in it.legs if leg.trip_id is not None]


def _check_chain(it, query):
    """Legs follow each other in time and space; rent and return take their fixed times."""
    for a, b in zip(it.legs, it.legs[1:], strict=False):
        assert a.arrival <= b.departure + timedelta(seconds=1)
        assert haversine_m(a.to_place.lat, a.to_place.lon, b.from_place.lat, b.from_place.lon) < 1
    for leg in it.legs:
        if leg.note == RENT_NOTE:
            assert leg.duration_s == RENT_S and leg.distance_m == 0 and leg.co2e_g == 0
        if leg.note == RETURN_NOTE:
            assert leg.duration_s == RETURN_S and leg.distance_m == 0
        if leg.note == RIDE_NOTE:
            speed = query.ebike_speed_mps if leg.co2e_factor == "ebike" else query.bike_speed_mps
            assert leg.duration_s == pytest.approx(leg.distance_m / speed, abs=1e-3)
            lon, lat = leg.geometry[0]
            assert (lat, lon) == pytest.approx((leg.from_place.lat, leg.from_place.lon))


def test_factor_keys_of_vehicle_types():
    assert factor_key_of("bicycle", "human") == "bikeshare"
    assert factor_key_of("bicycle", "electric_assist") == "ebike"
    assert factor_key_of("scooter_standing", "electric") == "escooter"
    assert factor_key_of("car", "combustion") is None
    assert factor_key_of(None, None) == "bikeshare"


def test_compile_uses_only_rentable_bikes_and_free_docks(planner):
    system = planner.set_bikeshare(read_gbfs(FIXTURE / "v2.3"), live=True)
    # Rodoviaria has no bike (not rented from), Sao Pedro no free dock (not returned to);
    # b-103 is reserved
    assert set(system.pickups.ids) == {"poa-mr", "poa-sp", "b-101", "b-102"}
    assert set(system.returns.ids) == {"poa-mr", "poa-rd"}
    factor = dict(zip(system.pickups.ids, system.pickup_factor, strict=True))
    assert factor["b-102"] == "ebike" and factor["b-101"] == "bikeshare"
    assert system.notices() == ()  # live, every type has a factor


def test_scooters_are_not_offered_without_a_factor(planner, tmp_path):
    feed = write_feed(tmp_path, vehicles=[("s1", -30.0066, -51.1990, "sc"),
                                          ("b1", -30.0066, -51.1991, "bk")],
                      types=[("sc", "scooter_standing", "electric"), ("bk", "bicycle", "human")])
    assert "escooter" not in planner.factors.entries  # cn: no published e-scooter row
    system = planner.set_bikeshare(read_gbfs(feed), live=False)
    assert list(system.pickups.ids) == ["b1"]
    notices = system.notices()
    assert any("snapshot" in n for n in notices)
    assert any("escooter" in n and "1 shared" in n for n in notices)


def test_scooters_are_offered_with_a_published_factor(poa_network, tmp_path):
    """fr-ademe carries ADEME's e-scooter row (2.0 g/pkm): with it a shared scooter is ridden,
    its leg counted at that factor."""
    from graphs.factors import load_factor_table

    ademe = Planner(poa_network)
    ademe.factors = load_factor_table("fr-ademe")
    assert ademe.factors.g_per_pkm("escooter") == 2.0
    feed = write_feed(tmp_path, vehicles=[("s1", -30.0066, -51.1990, "sc")],
                      types=[("sc", "scooter_standing", "electric")])
    system = ademe.set_bikeshare(read_gbfs(feed), live=True)
    assert list(system.pickups.ids) == ["s1"] and system.notices() == ()
    _, plan = _plan(ademe, EAST_OF_SAO_PEDRO, MERCADO, modes="walk,bikeshare")
    rides = [leg for it in plan.itineraries for leg in it.legs if leg.note == RIDE_NOTE]
    assert rides and all(leg.vehicle_id == "s1" for leg in rides)
    for leg in rides:
        assert leg.co2e_factor == "escooter"
        assert leg.co2e_g == pytest.approx(2.0 * leg.distance_m / 1000.0)


def test_bikeshare_transit_is_in_the_front_and_beats_walk_transit(planner):
    planner.set_bikeshare(read_gbfs(FIXTURE / "v2.3"), live=True)
    _, walk_plan = _plan(planner, EAST_OF_SAO_PEDRO, MERCADO, modes="walk,transit")
    q, plan = _plan(planner, EAST_OF_SAO_PEDRO, MERCADO)
    shared = [it for it in plan.itineraries if _shared(it) and _rides(it)]
    assert shared, "no bikeshare+transit itinerary in the Pareto set"
    walked = [it for it in walk_plan.itineraries if _rides(it)]
    best_shared = min(shared, key=lambda it: it.duration_s)
    best_walked = min(walked, key=lambda it: it.duration_s)
    assert best_shared.duration_s < best_walked.duration_s - 60
    assert best_shared.co2e_g <= best_walked.co2e_g + 1e-9
    rent, ride, back = _shared(best_shared)[:3]
    assert rent.vehicle_id == "b-101" and ride.vehicle_id == "b-101"  # the free bike nearby
    assert (rent.note, ride.note, back.note) == (RENT_NOTE, RIDE_NOTE, RETURN_NOTE)
    # a free bike is left at the stop; the ride then boards there
    assert back.to_place.lat == pytest.approx(_rides(best_shared)[0].from_place.lat)
    assert best_shared.legs[0].departure >= q.when
    for it in plan.itineraries:
        _check_chain(it, q)


def test_egress_returns_only_where_a_dock_is_free(planner, tmp_path):
    stations = [(*STATION_A, 5, 7), (*STATION_B, 0, 4), (*STATION_C, 3, 0)]
    planner.set_bikeshare(read_gbfs(write_feed(tmp_path / "full", stations=stations)), live=True)
    q, plan = _plan(planner, NEAR_SAO_PEDRO, SOUTH_EAST)
    egress = [it for it in plan.itineraries if _rides(it) and _shared(it)]
    assert egress
    returned = {leg.to_place.station_id for it in egress for leg in it.legs
                if leg.note == RETURN_NOTE}
    assert returned == {"B"}  # C, closer to the destination, has no free dock
    for it in egress:
        _check_chain(it, q)
        assert it.legs.index(_shared(it)[0]) > it.legs.index(_rides(it)[-1])  # after the train
    # with a dock free at C the same trip ends there, and sooner
    stations[2] = (*STATION_C, 3, 2)
    planner.set_bikeshare(read_gbfs(write_feed(tmp_path / "free", stations=stations)), live=True)
    _, freed = _plan(planner, NEAR_SAO_PEDRO, SOUTH_EAST)
    returned = {leg.to_place.station_id for it in freed.itineraries for leg in it.legs
                if leg.note == RETURN_NOTE}
    assert "C" in returned
    assert min(it.duration_s for it in freed.itineraries if _shared(it)) < min(
        it.duration_s for it in egress)


def test_a_station_without_bikes_is_not_rented_from(planner, tmp_path):
    # A (at Mercado) is empty; D at Rodoviaria station has bikes
    stations = [(*STATION_A, 0, 7), ("D", "Rodoviaria bikes", -30.0220, -51.2205, 4, 6),
                (*STATION_B, 0, 4), (*STATION_C, 0, 2)]
    planner.set_bikeshare(read_gbfs(write_feed(tmp_path / "a", stations=stations)), live=True)
    _, plan = _plan(planner, NEAR_SAO_PEDRO, SOUTH_EAST)
    rented = {leg.from_place.station_id for it in plan.itineraries for leg in it.legs
              if leg.note == RENT_NOTE}
    assert rented == {"D"}
    stations[1] = ("D", "Rodoviaria bikes", -30.0220, -51.2205, 0, 6)
    planner.set_bikeshare(read_gbfs(write_feed(tmp_path / "b", stations=stations)), live=True)
    _, plan = _plan(planner, NEAR_SAO_PEDRO, SOUTH_EAST)
    assert not any(_shared(it) for it in plan.itineraries)


def test_co2e_per_leg_sums_to_the_total_and_points_count_rides_once(planner, tmp_path):
    planner.set_bikeshare(read_gbfs(FIXTURE / "v2.3"), live=True)
    rules = tmp_path / "per_km.toml"
    rules.write_text('id = "t"\nversion = "1"\ntitle = "t"\nscheme = "per_km"\nsource = "test"\n'
                     'eligible_modes = ["walk", "bikeshare", "rail"]\n'
                     '[points_per_km]\nbikeshare = 10\nrail = 20\n', encoding="utf-8")
    _, plan = _plan(planner, EAST_OF_SAO_PEDRO, MERCADO, rules=rules)
    factors = planner.factors
    checked = 0
    for it in plan.itineraries:
        assert math.fsum(leg.co2e_g for leg in it.legs) == pytest.approx(it.co2e_g)
        for leg in _shared(it):
            g = factors.g_per_pkm(leg.co2e_factor)
            assert leg.co2e_g == pytest.approx(g * leg.distance_m / 1000)
        if it.points.points > 0:
            # per_km: floor of each riding leg's km x rate; renting and returning are no rides
            km = {m: sum(leg.distance_m for leg in it.legs if leg.mode == m) / 1000
                  for m in ("bikeshare", "rail")}
            assert it.points.points == math.floor(10 * km["bikeshare"] + 20 * km["rail"])
            assert it.points.explanation.count("bikeshare") == (1 if _shared(it) else 0)
            checked += 1
    assert checked


def test_ebike_share_uses_the_ebike_factor(planner, tmp_path):
    feed = write_feed(tmp_path, vehicles=[("e1", -30.0066, -51.1990, "eb")],
                      types=[("eb", "bicycle", "electric_assist")])
    planner.set_bikeshare(read_gbfs(feed), live=True)
    q, plan = _plan(planner, EAST_OF_SAO_PEDRO, MERCADO, modes="bikeshare")
    (it,) = plan.itineraries
    ride = next(leg for leg in it.legs if leg.note == RIDE_NOTE)
    assert ride.co2e_factor == "ebike" and ride.vehicle_id == "e1"
    assert ride.co2e_g == pytest.approx(planner.factors.g_per_pkm("ebike") * ride.distance_m / 1000)
    assert ride.co2e_g > 0
    _check_chain(it, q)


def test_bikeshare_alone_dockless_and_geofenced(planner, tmp_path):
    bike = ("b1", -30.0066, -51.1990)
    planner.set_bikeshare(read_gbfs(write_feed(tmp_path / "open", vehicles=[bike])), live=True)
    q, plan = _plan(planner, EAST_OF_SAO_PEDRO, MERCADO, modes="bikeshare")
    (it,) = plan.itineraries
    assert [leg.note for leg in it.legs] == [None, RENT_NOTE, RIDE_NOTE, RETURN_NOTE]
    assert it.legs[0].mode == "walk" and it.legs[-1].to_place.lat == MERCADO[0]
    crow = haversine_m(bike[1], bike[2], *MERCADO)
    assert crow <= it.legs[2].distance_m <= 2 * crow
    _check_chain(it, q)
    # a zone where no ride may end covers the destination: the free bike cannot be left there
    zone = square_zone(*MERCADO, 0.003, ride_allowed=False)
    fenced = write_feed(tmp_path / "fenced", vehicles=[bike], zones=[zone])
    planner.set_bikeshare(read_gbfs(fenced), live=True)
    q = make_query(origin=EAST_OF_SAO_PEDRO, destination=MERCADO, when=WHEN,
                   modes=("bikeshare", "walk"), timezone=TZ)
    plan = planner.plan(q)
    assert not any(_shared(it) for it in plan.itineraries)


def test_arrive_by_and_no_feed(planner, poa_network):
    planner.set_bikeshare(read_gbfs(FIXTURE / "v3.0"), live=True)
    q, plan = _plan(planner, EAST_OF_SAO_PEDRO, MERCADO, arrive_by=True)
    shared = [it for it in plan.itineraries if _shared(it)]
    assert shared
    for it in shared:
        assert it.legs[-1].arrival <= q.when + timedelta(seconds=1)
        _check_chain(it, q)
    bare = Planner(poa_network)  # the artifact has no GBFS snapshot
    _, plan = _plan(bare, EAST_OF_SAO_PEDRO, MERCADO)
    assert any("GBFS" in n for n in plan.notices)
    assert not any(_shared(it) for it in plan.itineraries)


def test_one_search_for_bikes_emitting_as_walking_keeps_the_front(planner, monkeypatch):
    """Human-powered shared bikes (0 g, as walking) join the walk access of one search; the
    front equals the one of two searches (walk access, then shared bikes) merged."""
    from planner._share_legs import ShareQuery

    feed = read_gbfs(FIXTURE / "v2.3")
    human = type(feed)(**{**feed.__dict__, "vehicles": tuple(
        v for v in feed.vehicles if v.vehicle_type_id != "ebike")})
    planner.set_bikeshare(human, live=True)

    def front(plan):
        return sorted((round(it.duration_s), round(it.co2e_g, 6), it.transfers)
                      for it in plan.itineraries)

    for origin, destination in ((EAST_OF_SAO_PEDRO, MERCADO), (MERCADO, EAST_OF_SAO_PEDRO)):
        _, joined = _plan(planner, origin, destination)
        with monkeypatch.context() as m:
            m.setattr(ShareQuery, "emits_as_walking", lambda self: False)
            _, separate = _plan(planner, origin, destination)
        assert front(joined) == front(separate)
        if origin == EAST_OF_SAO_PEDRO:  # (no bike near Sao Pedro station returns east of it)
            assert any(_shared(it) for it in joined.itineraries)

