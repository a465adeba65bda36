"""McRAPTOR on hand-made lines: slower-but-greener rides survive; pickup/drop-off rules hold."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from graphs.factors import load_factor_table
from planner import NoRouteError, Planner, make_query
from planner.pareto import elapsed_s, pareto_front
from planner_toy import N, SPACING_M, line_network, node_lonlat

TZ = ZoneInfo("America/Sao_Paulo")


def _at(h: int, m: int, s: int = 0) -> datetime:
    return datetime(2019, 5, 13, h, m, s, tzinfo=TZ)


def _query(**kw):
    o, d = node_lonlat(0, 0), node_lonlat(0, N - 1)
    base = dict(origin=(o[1], o[0]), destination=(d[1], d[0]), when=datetime(2019, 5, 13, 8, 5),
                modes={"transit"}, max_walk_m=0)
    base.update(kw)
    return make_query(**base)


# A bus that is fast (60 s per stop) and a metro that is slow (120 s per stop) but greener.
BUS_METRO = [("B", "bus", [8 * 3600 + 600, 8 * 3600 + 1200], 60),
             ("M", "metro", [8 * 3600 + 600], 120)]


def test_a_slower_greener_metro_is_kept_beside_the_faster_bus():
    plan = Planner(line_network(BUS_METRO)).plan(_query())
    rides = {it.legs[0].mode: it for it in plan.itineraries}
    assert set(rides) == {"bus", "metro"}
    bus, metro = rides["bus"], rides["metro"]
    # hand-computed: both leave A0 at 08:10; bus reaches A5 after 5 x 60 s, metro after 5 x 120 s
    assert (bus.departure, bus.arrival) == (_at(8, 10), _at(8, 15))
    assert (metro.departure, metro.arrival) == (_at(8, 10), _at(8, 20))
    # an earliest-arrival (single-criterion) RAPTOR would return the bus only
    assert metro.arrival > bus.arrival
    table = load_factor_table("cn")
    km = (N - 1) * SPACING_M / 1000
    assert bus.co2e_g == pytest.approx(table.g_per_pkm("bus") * km, rel=1e-6)
    assert metro.co2e_g == pytest.approx(table.g_per_pkm("metro") * km, rel=1e-6)
    assert metro.co2e_g < bus.co2e_g
    # within the default budget (max(1.5 x 10 min, 10 + 15 min)) the metro is recommended
    assert plan.itineraries[plan.fastest] is bus
    assert plan.itineraries[plan.lowest_carbon] is metro
    assert plan.itineraries[plan.recommended] is metro
    assert elapsed_s(metro, plan.query) <= plan.time_budget_s


def test_a_tight_budget_recommends_the_bus_but_still_shows_the_metro():
    plan = Planner(line_network(BUS_METRO)).plan(_query(time_budget_s=12 * 60))
    assert plan.itineraries[plan.recommended].legs[0].mode == "bus"
    assert plan.itineraries[plan.lowest_carbon].legs[0].mode == "metro"


def test_arrive_by_keeps_the_slower_greener_metro_too():
    plan = Planner(line_network(BUS_METRO)).plan(_query(when=datetime(2019, 5, 13, 8, 30),
                                                        arrive_by=True))
    # the 08:20 bus (A5 at 08:25) leaves later than the 08:10 metro (A5 at 08:20)
    departures = {it.legs[0].mode: it.departure for it in plan.itineraries}
    assert departures == {"bus": _at(8, 20), "metro": _at(8, 10)}
    assert plan.itineraries[plan.recommended].legs[0].mode == "metro"


BUS = [("A", "bus", [8 * 3600 + i * 600 for i in range(4)], 90)]  # 08:00 .. 08:30, 7.5 min ride


def _flags(*, no_pickup=(), no_dropoff=()):
    """All-allowed flags except (trip, position) pairs; trips of BUS are 0..3 (08:00 .. 08:30)."""
    pickup = np.ones(len(BUS[0][2]) * N, bool)
    dropoff = pickup.copy()
    for trip, pos in no_pickup:
        pickup[trip * N + pos] = False
    for trip, pos in no_dropoff:
        dropoff[trip * N + pos] = False
    return {"stop_time_pickup_ok": pickup, "stop_time_dropoff_ok": dropoff}


def _ride(network, **kw):
    (it,) = Planner(network).plan(_query(**kw)).itineraries
    (leg,) = it.legs
    return leg


def test_no_boarding_where_pickup_is_not_allowed():
    assert _ride(line_network(BUS)).departure == _at(8, 10)
    leg = _ride(line_network(BUS, flags=_flags(no_pickup=[(1, 0)])))
    assert leg.departure == _at(8, 20) and leg.trip_id == "toy:A-0500"


def test_no_alighting_where_drop_off_is_not_allowed():
    leg = _ride(line_network(BUS, flags=_flags(no_dropoff=[(1, N - 1)])))
    assert leg.departure == _at(8, 20)
    # the 08:10 trip may still be ridden past a no-drop-off stop to one that allows it
    o = node_lonlat(0, 1)
    leg = _ride(line_network(BUS, flags=_flags(no_dropoff=[(1, 3)])), origin=(o[1], o[0]))
    assert leg.departure == _at(8, 11, 30) and leg.to_place.stop_id == f"toy:A{N - 1}"


def test_arrive_by_respects_pickup_and_drop_off():
    when = dict(when=datetime(2019, 5, 13, 8, 30), arrive_by=True)
    assert _ride(line_network(BUS), **when).departure == _at(8, 20)
    assert _ride(line_network(BUS, flags=_flags(no_pickup=[(2, 0)])), **when).departure \
        == _at(8, 10)
    assert _ride(line_network(BUS, flags=_flags(no_dropoff=[(2, N - 1)])), **when).departure \
        == _at(8, 10)
    # nowhere to alight: no journey at all
    with pytest.raises(NoRouteError):
        Planner(line_network(BUS, flags=_flags(no_dropoff=[(t, N - 1) for t in range(4)]))
                ).plan(_query())


# ------------------------------------------------------------ what makes it fast, checked
def test_the_kernel_reads_one_named_timetable_and_compiles_once():
    """Day tables of both directions give the kernel the same types: no recompiles per query."""
    from planner import raptor

    planner = Planner(line_network(BUS_METRO))
    planner.plan(_query())
    planner.plan(_query(when=datetime(2019, 5, 13, 8, 30), arrive_by=True))
    day = planner.transit.day(_at(8, 5).date(), False)
    assert isinstance(day.kernel, raptor.Timetable)
    assert day.kernel.dp_stops is day.dp_stops  # a view of the day table, not a copy
    assert len(raptor._mc_raptor.signatures) == 1


@pytest.fixture(scope="module")
def poa_planner(poa_network):
    return Planner(poa_network)


@pytest.mark.parametrize("layer", ["walk", "bike", "car"])
def test_a_star_routes_cost_what_scipy_dijkstra_finds(poa_planner, layer):
    """The numba A* (straight-line bound) against scipy's plain Dijkstra on the same CSR."""
    from scipy.sparse.csgraph import dijkstra

    from planner.street_search import route

    graph = poa_planner.graphs[layer]
    nodes = poa_planner.snappers[layer].nodes
    rng = np.random.default_rng(7)
    for a, b in rng.choice(nodes, (15, 2)):
        expected = dijkstra(graph.csr, indices=int(a))[int(b)]
        path = route(graph, int(a), int(b))
        cost = sum(graph.csr[u, v] for u, v in zip(path.nodes[:-1], path.nodes[1:]))
        assert cost == pytest.approx(expected, rel=1e-9, abs=1e-6)


def _keys(itineraries):
    return sorted((it.departure, it.arrival, round(it.co2e_g, 6),
                   tuple(leg.trip_id for leg in it.legs)) for it in itineraries)


def test_stopping_the_transit_search_at_the_walk_keeps_the_front(poa_planner, poa_network):
    """walk+transit is searched only up to the walk's duration; the front must equal the
    front of a walk-only and a transit-only plan (searched for 4 h) put together."""
    walk = poa_network.streets["walk"]
    rng = np.random.default_rng(11)
    checked = 0
    while checked < 6:
        i, j = rng.choice(poa_planner.snappers["walk"].nodes, 2)
        o = (float(walk.node_lat[i]), float(walk.node_lon[i]))
        d = (float(walk.node_lat[j]), float(walk.node_lon[j]))
        plans = {}
        for modes in ("walk,transit", "walk", "transit"):
            try:
                plans[modes] = poa_planner.plan(make_query(origin=o, destination=d,
                                                           when=datetime(2019, 5, 13, 12, 30),
                                                           modes=modes.split(",")))
            except NoRouteError:
                plans[modes] = None
        if plans["transit"] is None or plans["walk"] is None:
            continue
        merged = pareto_front(plans["walk"].itineraries + plans["transit"].itineraries,
                              plans["walk,transit"].query)
        assert _keys(plans["walk,transit"].itineraries) == _keys(merged), (o, d)
        checked += 1
