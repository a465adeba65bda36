"""Departure windows: the window's front against single queries at sampled minutes (oracle)."""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from api.errors import ApiError
from api.params import parse_plan_params
from planner import Planner, make_query
from planner.errors import NoRouteError, QueryError
from planner.pareto import LATER_CO2E_G, LATER_CO2E_REL, TRANSFER_CO2E_G, TRANSFER_CO2E_REL

ORIGIN, DESTINATION = (-30.0277, -51.2287), (-30.0346, -51.1777)
WHEN = datetime(2019, 5, 13, 12, 30)
WINDOW_MIN = 30


@pytest.fixture(scope="module")
def planner(poa_network) -> Planner:
    return Planner(poa_network)


def _query(tz: tzinfo, when: datetime, window_s: float = 0.0):
    return make_query(origin=ORIGIN, destination=DESTINATION, when=when.replace(tzinfo=tz),
                      modes=("walk", "transit"), window_s=window_s)


def _as_good(a, b, ready: datetime) -> bool:
    """``a`` serves a traveller ready at ``ready`` at least as well as ``b`` does, within twice
    the front's CO2e tolerance (the kernel's and the window's epsilon rules may chain)."""
    extra = b.transfers - a.transfers
    if extra < 0:
        return False
    transit_a = any(leg.trip_id for leg in a.legs)
    if transit_a != any(leg.trip_id for leg in b.legs):
        return False
    one_s = timedelta(seconds=1)
    if transit_a:
        times_ok = a.departure >= ready - one_s and a.arrival <= b.arrival + one_s
    else:
        times_ok = a.duration_s <= b.duration_s + 1
    slack_rel = 2 * (LATER_CO2E_REL + TRANSFER_CO2E_REL * extra)
    slack_g = 2 * (LATER_CO2E_G + TRANSFER_CO2E_G * extra)
    return times_ok and a.co2e_g <= b.co2e_g * (1 + slack_rel) + slack_g


def test_window_front_covers_every_sampled_minute(planner):
    tz = planner.tz
    window = planner.plan(_query(tz, WHEN, WINDOW_MIN * 60.0))
    departures = {it.departure for it in window.itineraries if any(leg.trip_id for leg in it.legs)}
    assert len(departures) > 3  # the window really spans several departures
    end = WHEN.replace(tzinfo=tz) + timedelta(minutes=WINDOW_MIN)
    assert all(d <= end + timedelta(seconds=1) for d in departures)
    for minute in range(0, WINDOW_MIN + 1, 5):
        ready = WHEN.replace(tzinfo=tz) + timedelta(minutes=minute)
        single = planner.plan(_query(tz, ready.replace(tzinfo=None)))
        for b in single.itineraries:
            if any(leg.trip_id for leg in b.legs) and b.departure > end:
                continue  # leaves after the window closes
            assert any(_as_good(a, b, ready) for a in window.itineraries), (minute, b.departure,
                                                                           b.arrival, b.co2e_g)


def test_window_recommendation_counts_from_own_departure(planner):
    plan = planner.plan(_query(planner.tz, WHEN, WINDOW_MIN * 60.0))
    rec = plan.itineraries[plan.recommended]
    fastest = plan.itineraries[plan.fastest]
    assert fastest.duration_s == min(it.duration_s for it in plan.itineraries)
    fitting = [it for it in plan.itineraries if it.duration_s <= plan.time_budget_s + 1e-6]
    assert rec.co2e_g == min(it.co2e_g for it in fitting)
    assert plan.query.window_s == WINDOW_MIN * 60.0


def test_window_refused_out_of_range_and_with_arrive_by():
    tz = ZoneInfo("America/Sao_Paulo")
    with pytest.raises(QueryError, match="window_s"):
        _query(tz, WHEN, 181 * 60.0)
    with pytest.raises(QueryError, match="arrive_by"):
        make_query(origin=ORIGIN, destination=DESTINATION, when=WHEN.replace(tzinfo=tz),
                   arrive_by=True, window_s=600.0)


def test_window_http_parameter_in_minutes():
    tz = ZoneInfo("America/Sao_Paulo")
    base = {"from": "-30.0277,-51.2287", "to": "-30.0346,-51.1777", "at": "2019-05-13T12:30"}
    assert parse_plan_params({**base, "window": "60"}, coverage=None, tz=tz)["window_s"] == 3600
    with pytest.raises(ApiError) as err:
        parse_plan_params({**base, "window": "181"}, coverage=None, tz=tz)
    assert err.value.field == "window"


def test_cli_window(poa_artifact, capsys):
    from api.cli import main

    argv = ["plan", "--network", str(poa_artifact), "--from", "-30.0277,-51.2287",
            "--to", "-30.0346,-51.1777", "--at", "2019-05-13T12:30", "--modes", "walk,transit"]
    assert main([*argv, "--window", "181"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--window" in err
    assert main([*argv, "--window", "10"]) == 0
    out = capsys.readouterr().out
    assert '"window_s": 600.0' in out


# ------------------------------------------- the range search against the per-departure passes
RANGE_PAIRS = 10
RANGE_WINDOW_MIN = 20
#: the passes run over a longer window: they let journeys leaving after a window's end prune
#: the journeys just before it (dropped as too late afterwards); the range search does not
PASSES_EXTRA_MIN = 15


def _pairs(walk, n: int, seed: int = 13) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Seeded walk-node pairs 1.5 to 8 km apart (crow flies)."""
    from graphs.geodesy import haversine_m

    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        i, j = (int(x) for x in rng.integers(0, walk.n_nodes, 2))
        o = (float(walk.node_lat[i]), float(walk.node_lon[i]))
        d = (float(walk.node_lat[j]), float(walk.node_lon[j]))
        if 1500 <= haversine_m(*o, *d) <= 8000:
            out.append((o, d))
    return out


def _covered(b, front) -> bool:
    """Some itinerary of ``front`` leaves no earlier than ``b``, arrives no later (a street
    trip: takes no longer), with no more transfers and CO2e within twice the window's margins."""
    return any(_as_good(a, b, b.departure) for a in front)


def test_range_search_matches_the_per_departure_passes(planner, poa_network, monkeypatch):
    import planner.engine as engine
    from planner.window import window_journeys_by_passes

    tz = planner.tz
    start = WHEN.replace(tzinfo=tz)
    end = start + timedelta(minutes=RANGE_WINDOW_MIN)
    compared = 0
    for o, d in _pairs(poa_network.streets["walk"], RANGE_PAIRS):
        kw = dict(origin=o, destination=d, when=start, modes=("walk", "transit"))
        try:
            ranged = planner.plan(make_query(**kw, window_s=RANGE_WINDOW_MIN * 60.0)).itineraries
        except NoRouteError:
            continue
        with monkeypatch.context() as patch:
            patch.setattr(engine, "window_journeys", window_journeys_by_passes)
            passes = planner.plan(make_query(
                **kw, window_s=(RANGE_WINDOW_MIN + PASSES_EXTRA_MIN) * 60.0)).itineraries
        transit = [it for it in ranged if any(leg.trip_id for leg in it.legs)]
        assert all(it.departure <= end + timedelta(seconds=1) for it in transit)
        # nothing the passes find in the window is lost ...
        lost = [b for b in passes if b.departure <= end and not _covered(b, ranged)]
        assert not lost, (o, d, [(b.departure, b.arrival, b.co2e_g) for b in lost])
        # ... and nothing is found that the passes would drop
        extra = [a for a in ranged if not _covered(a, passes)]
        assert not extra, (o, d, [(a.departure, a.arrival, a.co2e_g) for a in extra])
        compared += len(transit) > 0
    assert compared >= RANGE_PAIRS // 2


def test_the_compiled_front_pass_keeps_what_the_plain_rule_keeps():
    """``window._kept`` (numba) against the greedy pass written out with the rule's Python
    function, on seeded keys with ties in departure, arrival, duration and CO2e."""
    from planner.window import _covers, _kept

    rule = getattr(_covers, "py_func", _covers)
    rng = np.random.default_rng(7)
    for _ in range(30):
        n = int(rng.integers(1, 120))
        dep = 1.5e9 + rng.integers(0, 40, n) * 60.0
        arr = dep + rng.integers(10, 50, n) * 60.0
        keys = [(bool(rng.random() < 0.1), float(d), float(a), float(a - d),
                 float(rng.choice([0.0, 50.0, 51.0, 120.0, 300.0]) + rng.integers(0, 3)),
                 int(rng.integers(0, 3))) for d, a in zip(dep, arr, strict=True)]
        keyed = [(k, i) for i, k in enumerate(keys)]
        order = sorted(keyed, key=lambda ki: (ki[0][3], round(ki[0][4], 6), ki[0][5], -ki[0][1]))
        want: list = []
        for key, i in order:
            if not any(rule(k, key) for k, _ in want):
                want.append((key, i))
        assert _kept(keyed) == want
