"""Planner behaviour on a hand-made grid + bus/metro network with hand-computed answers."""
from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import polyline
import pytest

from api.serialize import plan_to_dict
from graphs.factors import factor_table_from_dict
from planner import NoRouteError, OutsideCoverageError, Planner, make_query, plan_trip
from planner.baseline import CROW_FLY_DETOUR_FACTOR
from planner.pareto import dominates, elapsed_s
from graphs.geodesy import haversine_m
from planner_toy import MIN_TRANSFER_S, N, SPACING_M, node_lonlat, toy_network

TZ = ZoneInfo("America/Sao_Paulo")


@pytest.fixture(scope="module")
def toy():
    return toy_network()


@pytest.fixture(scope="module")
def planner(toy):
    return Planner(toy)


def _point(row, col):
    lon, lat = node_lonlat(row, col)
    return (lat, lon)


def _at(hhmm: str, day: int = 13) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(2019, 5, day, h, m, tzinfo=TZ)


def _query(**kw):
    base = dict(origin=_point(0, 0), destination=_point(N - 1, N - 1), when=datetime(2019, 5, 13, 8, 5))
    base.update(kw)
    return make_query(**base)


def test_bus_then_metro_with_minimum_transfer_time(planner, toy):
    plan = planner.plan(_query(modes={"transit"}, max_walk_m=0))
    (it,) = plan.itineraries
    bus, walk, metro = it.legs
    # bus leaves A0 at 08:10 (first after 08:05), 5 hops of 90 s, arrives 20 s early: 08:17:10;
    # the metro at 08:18 is missed by the 60 s transfer time: next metro 08:24, 5 x 60 s - 20 s
    assert (bus.mode, bus.route_short_name, bus.headsign) == ("bus", "A", "Leste")
    assert bus.departure == _at("08:10") and bus.arrival == _at("08:17") + timedelta(seconds=10)
    assert walk.mode == "walk" and walk.from_place.stop_id == "toy:A5"
    assert metro.departure == _at("08:24") and metro.arrival == _at("08:28") + timedelta(seconds=40)
    assert metro.departure - bus.arrival >= timedelta(seconds=MIN_TRANSFER_S)
    table = factor_table_from_dict(toy.manifest["factors"])
    assert bus.distance_m == pytest.approx(5 * SPACING_M)
    assert bus.co2e_g == pytest.approx(table.g_per_pkm("bus") * 2.5, rel=1e-6)
    assert metro.co2e_g == pytest.approx(table.g_per_pkm("metro") * 2.5, rel=1e-6)
    assert it.co2e_g == pytest.approx(bus.co2e_g + metro.co2e_g)
    assert it.transfers == 1
    assert bus.trip_id in set(toy.timetable.trip_id)


def test_arrive_by_takes_the_latest_connection(planner):
    plan = planner.plan(_query(modes={"transit"}, max_walk_m=0, when=datetime(2019, 5, 13, 9, 0),
                               arrive_by=True))
    (it,) = plan.itineraries
    # latest metro reaching M5 by 09:00 leaves M0 08:54; the bus must reach A5 60 s before:
    # the 08:40 bus (A5 at 08:47:10); the 08:50 bus would arrive 08:57:10
    assert it.arrival == _at("08:58") + timedelta(seconds=40)
    assert it.departure == _at("08:40")
    assert it.arrival <= plan.query.when


def test_more_walking_buys_less_carbon_and_front_is_non_dominated(planner):
    plan = planner.plan(_query(modes={"walk", "transit"}))
    front = plan.itineraries
    assert len(front) > 1
    for a in front:
        for b in front:
            assert not dominates(a, b, plan.query)
    for it in front:
        for leg in it.legs:
            if leg.mode == "walk" and len(it.legs) > 1:
                assert leg.distance_m <= plan.query.max_walk_m + 1e-6
        assert it.legs[0].departure >= plan.query.when


def test_street_modes_distance_duration_and_geometry(planner, toy):
    plan = planner.plan(_query(modes={"walk", "car_petrol"}, time_budget_s=3 * 3600))
    by_mode = {it.legs[0].mode: it for it in plan.itineraries}
    walk, car = by_mode["walk"].legs[0], by_mode["car_petrol"].legs[0]
    manhattan = 2 * (N - 1) * SPACING_M
    assert walk.distance_m == pytest.approx(manhattan)
    assert walk.duration_s == pytest.approx(manhattan / 1.33)
    assert car.duration_s == pytest.approx(manhattan / 10.0)
    table = factor_table_from_dict(toy.manifest["factors"])
    assert car.co2e_g == pytest.approx(table.g_per_pkm("car_petrol") * manhattan / 1000)
    assert walk.geometry[0] == pytest.approx(node_lonlat(0, 0))
    assert walk.geometry[-1] == pytest.approx(node_lonlat(N - 1, N - 1))
    line = sum(haversine_m(a[1], a[0], b[1], b[0]) for a, b in zip(walk.geometry, walk.geometry[1:]))
    assert line == pytest.approx(manhattan, rel=1e-3)
    assert walk.from_place.name.startswith(("Rua", "Avenida"))
    # a 3 h budget lets the 0-g walk be recommended
    assert plan.itineraries[plan.recommended].legs[0].mode == "walk"


def test_a_slow_zero_carbon_walk_is_not_recommended_beyond_the_budget(planner):
    plan = planner.plan(_query(modes={"walk", "car_petrol"}, time_budget_s=40 * 60))
    recommended = plan.itineraries[plan.recommended]
    assert recommended.legs[0].mode == "car_petrol"
    assert "recommended" in recommended.tags and "fastest" in recommended.tags
    lowest = plan.itineraries[plan.lowest_carbon]
    assert lowest.legs[0].mode == "walk" and elapsed_s(lowest, plan.query) > 40 * 60


def test_default_budget_is_max_of_factor_and_slack(planner):
    plan = planner.plan(_query(modes={"walk", "bike", "car_petrol"}))
    fastest = elapsed_s(plan.itineraries[plan.fastest], plan.query)
    assert plan.time_budget_s == pytest.approx(max(1.5 * fastest, fastest + 900))
    recommended = plan.itineraries[plan.recommended]
    within = [it for it in plan.itineraries if elapsed_s(it, plan.query) <= plan.time_budget_s]
    assert recommended.co2e_g == min(it.co2e_g for it in within)
    assert recommended.legs[0].mode == "bike"


def test_equal_time_greener_car_dominates(planner):
    plan = planner.plan(_query(modes={"car_petrol", "car_bev"}))
    assert [it.legs[0].mode for it in plan.itineraries] == ["car_bev"]


def test_baseline_and_points_reduction(planner):
    plan = planner.plan(_query(modes={"bike"}))
    manhattan = 2 * (N - 1) * SPACING_M
    assert plan.baseline.method == "car_network"
    assert plan.baseline.distance_m == pytest.approx(manhattan)
    (it,) = plan.itineraries
    assert it.reduction_g == pytest.approx(plan.baseline.co2e_g)
    assert it.points.points > 0
    assert plan.factor_table.startswith("cn@") and "@" in plan.points_rules


def test_crow_fly_baseline_without_a_driving_layer(toy):
    no_car = dataclasses.replace(toy, streets={k: v for k, v in toy.streets.items() if k != "car"})
    plan = Planner(no_car).plan(_query(modes={"walk"}))
    crow = haversine_m(*_point(0, 0), *_point(N - 1, N - 1))
    assert plan.baseline.method == "crow_fly_detour"
    assert plan.baseline.distance_m == pytest.approx(crow * CROW_FLY_DETOUR_FACTOR)


def test_trips_of_the_previous_service_day_after_midnight(toy):
    tt = toy.timetable
    late = dataclasses.replace(tt, stop_time_arrival_s=tt.stop_time_arrival_s + 16 * 3600,
                               stop_time_departure_s=tt.stop_time_departure_s + 16 * 3600)
    network = dataclasses.replace(toy, timetable=late)
    # Tuesday 00:05: Monday's bus of "24:10" is today's 00:10
    plan = Planner(network).plan(_query(modes={"transit"}, max_walk_m=0,
                                        when=datetime(2019, 5, 14, 0, 5)))
    bus = plan.itineraries[0].legs[0]
    assert bus.departure == datetime(2019, 5, 14, 0, 10, tzinfo=TZ)


def test_transit_modes_narrow_the_search(planner):
    plan = planner.plan(_query(modes={"walk", "transit"}, transit_modes={"bus"}))
    modes = {leg.mode for it in plan.itineraries for leg in it.legs}
    assert "metro" not in modes
    with pytest.raises(NoRouteError):
        planner.plan(_query(modes={"transit"}, transit_modes={"bus"}, max_walk_m=0))


def test_dates_without_service(planner):
    with pytest.raises(OutsideCoverageError) as err:
        planner.plan(_query(modes={"transit"}, when=datetime(2020, 1, 1, 8, 5)))
    assert err.value.field == "date"
    plan = planner.plan(_query(modes={"walk", "transit"}, when=datetime(2020, 1, 1, 8, 5)))
    assert plan.notices and "outside the feeds' service dates" in plan.notices[0]
    with pytest.raises(NoRouteError, match="no itinerary"):  # Saturday: no service
        planner.plan(_query(modes={"transit"}, when=datetime(2019, 5, 18, 8, 5)))


def test_points_outside_the_network(planner):
    far = (_point(0, 0)[0] - 0.1, _point(0, 0)[1])
    with pytest.raises(OutsideCoverageError, match="outside the network's area") as err:
        planner.plan(_query(origin=far))
    assert err.value.field == "origin"


def test_plan_trip_caches_one_planner_per_network(toy):
    plan = plan_trip(toy, _query(modes={"walk"}))
    assert plan.itineraries and plan.itineraries[0].legs[0].mode == "walk"
    from planner.engine import _PLANNERS
    planner = _PLANNERS[toy]
    plan_trip(toy, _query(modes={"bike"}))
    assert _PLANNERS[toy] is planner


def test_naive_times_are_local_to_the_network(planner):
    plan = planner.plan(_query(modes={"walk"}))
    assert plan.query.when.utcoffset() == timedelta(hours=-3)


def test_plan_to_dict_shape(planner):
    plan = planner.plan(_query(modes={"walk", "transit", "car_petrol"}))
    data = json.loads(json.dumps(plan_to_dict(plan)))
    assert data["recommended"] == plan.recommended and data["time_budget_s"] > 0
    assert data["query"]["at"] == "2019-05-13T08:05:00-03:00"
    for it, source in zip(data["itineraries"], plan.itineraries):
        assert it["co2e_g"] == pytest.approx(sum(leg["co2e_g"] for leg in it["legs"]))
        for leg, obj in zip(it["legs"], source.legs):
            assert leg["geometry"]["type"] == "LineString"
            lon, lat = leg["geometry"]["coordinates"][0]
            assert -52 < lon < -51 and -31 < lat < -29
            decoded = polyline.decode(leg["polyline6"], 6)
            assert decoded[0] == pytest.approx((lat, lon), abs=1e-6)
            assert leg["departure"].endswith("-03:00")
            assert set(leg["from"]) == {"name", "lat", "lon", "stop_id"}
            assert leg["duration_s"] == pytest.approx(obj.duration_s)
    assert data["baseline"]["method"] == "car_network"
    assert data["factor_table"] == plan.factor_table


def test_cli_plan_json_and_errors(toy, tmp_path, capsys):
    from api.cli import main
    from graphs.artifact import save_network

    path = save_network(toy, tmp_path / "toy.tanlu")
    o, d = _point(0, 0), _point(N - 1, N - 1)
    args = ["plan", "--network", str(path), "--from", f"{o[0]},{o[1]}",
            "--to", f"{d[0]},{d[1]}", "--at", "2019-05-13T08:05"]
    assert main(args + ["--format", "json", "--modes", "walk,transit"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["itineraries"]
    assert main(args + ["--modes", "walk,zeppelin"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--modes" in err
    assert main(args + ["--max-walk-m", "-5"]) == 2
    assert "--max-walk-m" in capsys.readouterr().err
    assert main(args + ["--walk-speed", "fast"]) == 2
    assert "--walk-speed" in capsys.readouterr().err
    assert main(args + ["--format", "table"]) == 0
    assert "baseline car_petrol" in capsys.readouterr().out


@pytest.mark.parametrize("mode", ["ebike", "taxi", "car_diesel", "car_hybrid", "car_bev"])
def test_every_street_mode_plans_with_its_own_factor_and_speed(planner, toy, mode):
    plan = planner.plan(_query(modes={mode}, time_budget_s=3 * 3600))
    (it,) = plan.itineraries
    (leg,) = it.legs
    manhattan = 2 * (N - 1) * SPACING_M
    table = factor_table_from_dict(toy.manifest["factors"])
    assert leg.mode == mode and leg.co2e_factor == mode
    assert leg.distance_m == pytest.approx(manhattan)
    assert leg.co2e_g == pytest.approx(table.g_per_pkm(mode) * manhattan / 1000, rel=1e-6)
    speed = plan.query.ebike_speed_mps if mode == "ebike" else 10.0  # toy cars: 10 m/s
    assert leg.duration_s == pytest.approx(manhattan / speed)
    assert plan.baseline.mode == "car_petrol"
    assert it.reduction_g == pytest.approx(max(0.0, plan.baseline.co2e_g - leg.co2e_g))


def test_ebike_speed_is_the_query_option(planner):
    plan = planner.plan(_query(modes={"ebike"}, ebike_speed_mps=8.0))
    assert plan.itineraries[0].duration_s == pytest.approx(2 * (N - 1) * SPACING_M / 8.0)


def test_ev_charged_at_a_public_pile_earns_points_from_the_planner(planner, toy):
    from planner.points import load_points_rules

    rules = load_points_rules("default")
    table = factor_table_from_dict(toy.manifest["factors"])
    km = 2 * (N - 1) * SPACING_M / 1000
    expected = min(math.floor(km * (table.g_per_pkm("car_petrol") - table.g_per_pkm("car_bev"))
                              / rules.grams_per_point), rules.max_points_per_trip)
    assert expected > 0
    at_pile = planner.plan(_query(modes={"car_bev"}, charged_at_public_pile=True))
    at_home = planner.plan(_query(modes={"car_bev"}))
    assert at_pile.query.charged_at_public_pile and not at_home.query.charged_at_public_pile
    assert at_pile.itineraries[0].points.points == expected
    assert at_home.itineraries[0].points.points == 0
    assert at_home.itineraries[0].reduction_g == pytest.approx(at_pile.itineraries[0].reduction_g)
    petrol = planner.plan(_query(modes={"car_petrol"}, charged_at_public_pile=True))
    assert petrol.itineraries[0].points.points == 0  # the pile only matters for car_bev
    assert plan_to_dict(at_pile)["query"]["charged_at_public_pile"] is True


def test_every_result_names_its_factor_table_and_rules(planner, toy):
    plan = planner.plan(_query(modes={"walk", "transit"}), rules="flat_per_ride")
    assert plan.factor_table == toy.manifest["factor_table"]
    assert plan.points_rules == "tanlu-flat-per-ride@2025.1"
    for it in plan.itineraries:
        assert it.points.rules_id == plan.points_rules
        assert all(leg.co2e_factor in ("walk", "bus", "metro") for leg in it.legs)


def test_cli_defaults_modes_pile_option_and_table(toy, tmp_path, capsys):
    from api.cli import main
    from graphs.artifact import save_network

    path = save_network(toy, tmp_path / "toy.tanlu")
    o, d = _point(0, 0), _point(N - 1, N - 1)
    args = ["plan", "--network", str(path), "--from", f"{o[0]},{o[1]}",
            "--to", f"{d[0]},{d[1]}", "--at", "2019-05-13T08:05"]
    assert main(args) == 0  # JSON by default, car left out by default
    data = json.loads(capsys.readouterr().out)
    assert data["query"]["modes"] == ["bike", "transit", "walk"]
    assert not any(m.startswith("car") for it in data["itineraries"] for m in it["modes"])
    assert main(args + ["--modes", "car_bev", "--charged-at-public-pile"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"]["charged_at_public_pile"] is True
    assert data["itineraries"][0]["points"]["points"] > 0
    assert main(args + ["--modes", "ebike", "--ebike-speed", "8"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["itineraries"][0]["duration_s"] == pytest.approx(2 * (N - 1) * SPACING_M / 8)
    assert main(args + ["--ebike-speed", "99"]) == 2
    assert "--ebike-speed" in capsys.readouterr().err
    assert main(args + ["--rules", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--rules" in err
    assert main(args + ["--format", "table", "--modes", "walk,bike,transit,car_petrol"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, rows = lines[0], [ln for ln in lines[1:] if not ln.startswith(("baseline", "note"))]
    assert len(rows) > 1
    assert all(header.index("depart") == row.index(":") for row in rows)  # columns line up
    assert any("recommended" in ln for ln in rows)
