"""GTFS-Realtime on Porto Alegre: feeds built here as protobufs for real EPTC trips.

Oracles: the scheduled plan (which trip the planner takes without the feed), the raw stop
times of the timetable (scheduled = feed times, expected = scheduled + delay), and the FIFO
invariant of every day pattern checked directly on the arrays.
"""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from google.transit import gtfs_realtime_pb2 as rt

from planner import Planner, make_query
from planner.realtime import RealtimeError, RealtimeState, apply_feeds, decode_feed

TZ = ZoneInfo("America/Sao_Paulo")
WHEN = datetime(2019, 5, 13, 12, 30, tzinfo=TZ)
FEED = "poa_eptc"
ORIGIN_STOP, DESTINATION_STOP = "poa_eptc:5752", "poa_eptc:2340"  # along line T9


def _feed(*, at: datetime = WHEN, delays=(), cancel=(), closed_stops=(), closed_routes=(),
          period=None, added=(), new_trips=(), duplicated=(), unscheduled=()) -> bytes:
    """A FeedMessage: ``delays`` of (trip, stop, seconds); ids feed-prefixed (prefix stripped)."""
    msg = rt.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    msg.header.timestamp = int(at.timestamp())
    own = lambda full: full.split(":", 1)[1]  # noqa: E731
    for i, (trip, stop, seconds) in enumerate(delays):
        tu = msg.entity.add(id=f"d{i}").trip_update
        tu.trip.trip_id = own(trip)
        stu = tu.stop_time_update.add(stop_id=own(stop))
        stu.arrival.delay = seconds
        stu.departure.delay = seconds
    for i, trip in enumerate(cancel):
        tu = msg.entity.add(id=f"c{i}").trip_update
        tu.trip.trip_id = own(trip)
        tu.trip.schedule_relationship = rt.TripDescriptor.CANCELED
    for i, trip in enumerate(added):  # ADDED without a route: refused
        tu = msg.entity.add(id=f"a{i}").trip_update
        tu.trip.trip_id = trip
        tu.trip.schedule_relationship = rt.TripDescriptor.ADDED
    for i, trip in enumerate(unscheduled):
        tu = msg.entity.add(id=f"u{i}").trip_update
        tu.trip.trip_id = own(trip)
        tu.trip.schedule_relationship = rt.TripDescriptor.UNSCHEDULED
    for i, (trip, route, times) in enumerate(new_trips):  # times: (stop, arrival, departure)
        tu = msg.entity.add(id=f"n{i}").trip_update
        tu.trip.trip_id, tu.trip.route_id = trip, own(route)
        tu.trip.schedule_relationship = rt.TripDescriptor.NEW
        for stop, arrival, departure in times:
            stu = tu.stop_time_update.add(stop_id=own(stop))
            stu.arrival.time, stu.departure.time = arrival, departure
    for i, (template, copy, start_date, start_time) in enumerate(duplicated):
        tu = msg.entity.add(id=f"p{i}").trip_update
        tu.trip.trip_id = own(template)
        tu.trip.schedule_relationship = rt.TripDescriptor.DUPLICATED
        tu.trip_properties.trip_id = copy
        tu.trip_properties.start_date = start_date
        tu.trip_properties.start_time = start_time
    for i, (stop_or_route, kind) in enumerate([(s, "stop") for s in closed_stops]
                                              + [(r, "route") for r in closed_routes]):
        alert = msg.entity.add(id=f"x{i}").alert
        if period is not None:
            alert.active_period.add(start=int(period[0].timestamp()), end=int(period[1].timestamp()))
        entity = alert.informed_entity.add()
        setattr(entity, f"{kind}_id", own(stop_or_route))
    return msg.SerializeToString()


@pytest.fixture(scope="module")
def planner(poa_network):
    return Planner(poa_network)


@pytest.fixture(scope="module")
def query(poa_network):
    tt = poa_network.timetable
    ids = list(tt.stop_id)
    o, d = ids.index(ORIGIN_STOP), ids.index(DESTINATION_STOP)
    return make_query(origin=(float(tt.stop_lat[o]), float(tt.stop_lon[o])),
                      destination=(float(tt.stop_lat[d]), float(tt.stop_lon[d])),
                      when=WHEN, modes={"transit"})


def _plan_with(planner, query, data: bytes | None):
    router = planner.transit
    router.realtime = None if data is None else RealtimeState(
        router.timetable, router.tz, feeds=(decode_feed(FEED, data),))
    try:
        return planner.plan(query)
    finally:
        router.realtime = None


def _rides(plan):
    return [leg for it in plan.itineraries for leg in it.legs if leg.trip_id]


def _first_ride(itinerary):
    return next(leg for leg in itinerary.legs if leg.trip_id)


def test_delay_makes_the_planner_take_another_trip(planner, query):
    scheduled = planner.plan(query)
    first = _first_ride(scheduled.itineraries[scheduled.fastest])
    assert not any(leg.realtime for leg in _rides(scheduled))
    live = _plan_with(planner, query, _feed(delays=[(first.trip_id, first.from_place.stop_id,
                                                     600)]))
    assert _first_ride(live.itineraries[live.fastest]).trip_id != first.trip_id
    for leg in _rides(live):  # if the delayed trip is still offered, it runs 10 min late
        if leg.trip_id == first.trip_id:
            assert leg.realtime and leg.departure_delay_s == 600


def test_expected_and_scheduled_times_on_the_leg(planner, query, poa_network):
    scheduled = planner.plan(query)
    direct = [it for it in scheduled.itineraries if it.transfers == 0]
    assert direct, "a one-bus option along T9 exists in the schedule"
    ride = _first_ride(direct[0])
    live = _plan_with(planner, query, _feed(delays=[(ride.trip_id, ride.from_place.stop_id, 30)]))
    same = [leg for leg in _rides(live) if leg.trip_id == ride.trip_id]
    assert same
    for leg in same:
        assert leg.realtime
        assert leg.scheduled_departure == ride.departure
        assert leg.departure - leg.scheduled_departure == timedelta(seconds=30)
        assert leg.arrival_delay_s == 30  # the delay holds to the end of the trip
    # the timetable itself is untouched
    assert planner.plan(query).itineraries[0].legs == scheduled.itineraries[0].legs


def test_cancelled_trip_never_offered(planner, query):
    scheduled = planner.plan(query)
    trips = {leg.trip_id for leg in _rides(scheduled)}
    live = _plan_with(planner, query, _feed(cancel=sorted(trips)))
    assert trips.isdisjoint(leg.trip_id for leg in _rides(live))
    arrive_by = make_query(origin=(query.origin_lat, query.origin_lon),
                           destination=(query.destination_lat, query.destination_lon),
                           when=WHEN + timedelta(minutes=45), arrive_by=True, modes={"transit"})
    live = _plan_with(planner, arrive_by, _feed(cancel=sorted(trips)))
    assert trips.isdisjoint(leg.trip_id for leg in _rides(live))


def test_closed_stop_alert(planner, query):
    scheduled = planner.plan(query)
    assert any(leg.from_place.stop_id == ORIGIN_STOP for leg in _rides(scheduled))
    live = _plan_with(planner, query, _feed(closed_stops=[ORIGIN_STOP]))
    for leg in _rides(live):
        assert ORIGIN_STOP not in (leg.from_place.stop_id, leg.to_place.stop_id)
    # an alert whose period has ended changes nothing
    past = (WHEN - timedelta(hours=5), WHEN - timedelta(hours=4))
    again = _plan_with(planner, query, _feed(closed_stops=[ORIGIN_STOP], period=past))
    assert [it.legs for it in again.itineraries] == [it.legs for it in scheduled.itineraries]


def test_overtaking_trip_keeps_patterns_fifo(planner, poa_network):
    """Delay every other trip of the day by 40 min: many overtake; each day pattern stays FIFO."""
    router = planner.transit
    day = router.scheduled_day(WHEN.date(), False)
    trips = [str(poa_network.timetable.trip_id[t]) for t in day.trip_original[::2]
             if str(poa_network.timetable.trip_id[t]).startswith(FEED)]
    tt = poa_network.timetable
    data = _feed(delays=[(t, _first_stop(tt, t), 2400) for t in trips[:400]])
    table, stats = apply_feeds(tt, day, (decode_feed(FEED, data),), router.tz)
    assert stats.updated > 300 and stats.not_applied == 0
    assert len(table.trip_original) == len(day.trip_original)
    assert len(table.dp_pattern) > len(day.dp_pattern)  # overtakers moved out
    for p in range(len(table.dp_pattern)):
        n = int(table.dp_stop_indptr[p + 1] - table.dp_stop_indptr[p])
        t0, t1 = table.dp_trip_indptr[p], table.dp_trip_indptr[p + 1]
        rows = table.trip_time_base[t0:t1][:, None] + np.arange(n)[None, :]
        assert (np.diff(table.st_dep[rows], axis=0) >= 0).all()
        assert (np.diff(table.st_arr[rows], axis=0) >= 0).all()
    moved = table.trip_realtime.sum()
    assert moved == stats.updated


def _first_stop(tt, trip_id: str) -> str:
    t = list(tt.trip_id).index(trip_id)
    pattern = int(np.searchsorted(tt.pattern_trip_indptr, t, side="right") - 1)
    return str(tt.stop_id[tt.pattern_stops[tt.pattern_stop_indptr[pattern]]])


def test_unknown_and_unusable_trips_are_counted_not_applied(planner, query):
    router = planner.transit
    day = router.scheduled_day(WHEN.date(), False)
    direct = next(it for it in planner.plan(query).itineraries if it.transfers == 0)
    ride = _first_ride(direct)
    data = _feed(added=["NEW-1"],  # no route
                 cancel=["poa_eptc:no-such-trip"], unscheduled=[ride.trip_id],
                 new_trips=[("NEW-2", ride.route_id,  # stops no pattern of the route has
                             [(ORIGIN_STOP, 1, 2), (DESTINATION_STOP, 3, 4)])])
    feed = decode_feed(FEED, data)
    table, stats = apply_feeds(router.timetable, day, (feed,), router.tz)
    assert stats.not_applied == 4 and stats.cancelled == 0 and stats.added == 0
    assert table.trip_new_id is None


def _trip_times(tt, trip_id: str):
    """(stop ids, arrival, departure seconds of the day) of scheduled trip ``trip_id``."""
    t = list(tt.trip_id).index(trip_id)
    rows = np.arange(tt.trip_stop_time_indptr[t], tt.trip_stop_time_indptr[t + 1])
    p = int(np.searchsorted(tt.pattern_trip_indptr, t, side="right") - 1)
    stops = [str(tt.stop_id[s]) for s in
             tt.pattern_stops[tt.pattern_stop_indptr[p]:tt.pattern_stop_indptr[p + 1]]]
    return stops, tt.stop_time_arrival_s[rows].astype(int), tt.stop_time_departure_s[rows].astype(int)


def test_new_trip_is_offered_with_its_own_id(planner, query, poa_network):
    """A NEW trip on T9's stops, leaving a minute before the scheduled direct trip and running
    30% faster, is the direct option: its leg carries the feed's id and no scheduled time."""
    tt = poa_network.timetable
    direct = next(it for it in planner.plan(query).itineraries if it.transfers == 0)
    ride = _first_ride(direct)
    stops, arr, dep = _trip_times(tt, ride.trip_id)
    at = stops.index(ride.from_place.stop_id)
    leave = int((ride.departure - timedelta(minutes=1)).timestamp())
    fast = lambda t: leave + int(0.7 * (t - dep[at]))  # noqa: E731
    times = [(s, fast(a), fast(d)) for s, a, d in zip(stops, arr, dep, strict=True)]
    live = _plan_with(planner, query, _feed(new_trips=[("NEW-1", ride.route_id, times)]))
    legs = [leg for leg in _rides(live) if leg.trip_id == "poa_eptc:NEW-1"]
    assert legs, "the added trip beats every scheduled direct trip"
    leg = legs[0]
    assert leg.realtime and leg.scheduled_departure is None and leg.departure_delay_s is None
    assert leg.departure == datetime.fromtimestamp(leave, TZ)
    assert leg.arrival < ride.arrival  # from the stop where the scheduled T9 trip was taken


def test_duplicated_trip_runs_at_its_new_start(planner, query, poa_network):
    tt = poa_network.timetable
    direct = next(it for it in planner.plan(query).itineraries if it.transfers == 0)
    ride = _first_ride(direct)
    stops, arr, dep = _trip_times(tt, ride.trip_id)
    at = stops.index(ORIGIN_STOP)
    board = int((WHEN + timedelta(seconds=90) - datetime(2019, 5, 13, tzinfo=TZ)).total_seconds())
    assert board < int((ride.departure - datetime(2019, 5, 13, tzinfo=TZ)).total_seconds())
    start = board - int(dep[at] - dep[0])
    clock = f"{start // 3600:02d}:{start // 60 % 60:02d}:{start % 60:02d}"
    live = _plan_with(planner, query, _feed(duplicated=[(ride.trip_id, "DUP-1", "20190513",
                                                         clock)]))
    legs = [leg for leg in _rides(live) if leg.trip_id == "poa_eptc:DUP-1"]
    assert legs and legs[0].departure == WHEN + timedelta(seconds=90)
    i, j = stops.index(legs[0].from_place.stop_id), stops.index(legs[0].to_place.stop_id)
    assert (legs[0].arrival - legs[0].departure).total_seconds() == arr[j] - dep[i]
    # the copied trip itself still runs: one more trip in the day table, none replaced
    router = planner.transit
    day = router.scheduled_day(WHEN.date(), False)
    table, stats = apply_feeds(tt, day, (decode_feed(FEED, _feed(duplicated=[
        (ride.trip_id, "DUP-1", "20190513", clock)])),), router.tz)
    assert stats.added == 1 and len(table.trip_original) == len(day.trip_original) + 1
    assert sorted(table.trip_original.tolist()) == sorted(
        [*day.trip_original.tolist(), list(tt.trip_id).index(ride.trip_id)])


@pytest.mark.parametrize("data", [b"\xff\x00garbage" * 10, b""])
def test_broken_feed_refused(data):
    with pytest.raises(RealtimeError):
        decode_feed(FEED, data)


class _OneCity:
    """What the poller needs of ``api.cities.Cities``: one city and its plan function."""

    def __init__(self, planner):
        self.plan = lambda options: None
        self.plan.planner = planner

    def names(self):
        return ["default"]

    def get(self, name=None):
        return self


def test_poller_broken_and_stale_feeds_fall_back_with_notice(planner, query, tmp_path):
    from api.realtime import RealtimePoller, parse_realtime_specs

    path = tmp_path / "feed.pb"
    scheduled = planner.plan(query)
    first = _first_ride(scheduled.itineraries[scheduled.fastest])
    poller = RealtimePoller(_OneCity(planner), parse_realtime_specs([f"{FEED}={path}"]),
                            interval_s=30)
    try:
        path.write_bytes(b"\x12garbage\x00\xff")
        poller.poll_once(now=WHEN)
        plan = planner.plan(query)
        assert any("unavailable" in n for n in plan.notices)
        assert [it.legs for it in plan.itineraries] == [it.legs for it in scheduled.itineraries]
        path.write_bytes(_feed(cancel=[first.trip_id]))
        poller.poll_once(now=WHEN)
        plan = planner.plan(query)
        assert not plan.notices and first.trip_id not in {leg.trip_id for leg in _rides(plan)}
        path.write_bytes(b"not a feed")  # a broken fetch keeps the last good snapshot ...
        poller.poll_once(now=WHEN + timedelta(seconds=30))
        plan = planner.plan(query)
        assert any("last fetch failed" in n for n in plan.notices)
        assert first.trip_id not in {leg.trip_id for leg in _rides(plan)}
        poller.poll_once(now=WHEN + timedelta(minutes=10))  # ... until it is stale
        plan = planner.plan(query)
        assert any("stale" in n for n in plan.notices)
        assert [it.legs for it in plan.itineraries] == [it.legs for it in scheduled.itineraries]
    finally:
        planner.transit.realtime = None


def test_swap_under_concurrent_requests(planner, query):
    router = planner.transit
    scheduled = planner.plan(query)
    first = _first_ride(scheduled.itineraries[scheduled.fastest])
    states = [RealtimeState(router.timetable, router.tz, feeds=(decode_feed(FEED, _feed(
        delays=[(first.trip_id, first.from_place.stop_id, 60 * k)])),)) for k in range(1, 5)]
    errors, stop = [], threading.Event()

    def ask():
        while not stop.is_set():
            try:
                planner.plan(query)
            except Exception as err:  # noqa: BLE001 - collected for the assertion
                errors.append(err)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for state in states * 2:
            router.realtime = state
            planner.plan(query)
    finally:
        stop.set()
        for t in threads:
            t.join()
        router.realtime = None
    assert not errors


def test_decode_keeps_header_time():
    feed = decode_feed(FEED, _feed(at=WHEN))
    assert feed.timestamp == WHEN.astimezone(UTC)


def test_audit_replays_an_archived_feed(poa_artifact, planner, query):
    import pandas as pd

    from audit.evaluate import PlannerEvaluator, TripInput

    scheduled = planner.plan(query)
    trips = sorted({leg.trip_id for leg in _rides(scheduled)})
    started = pd.Timestamp(WHEN)
    trip = TripInput(row=0, started_at=started, ended_at=started + pd.Timedelta("1h"),
                     origin_lat=query.origin_lat, origin_lon=query.origin_lon,
                     dest_lat=query.destination_lat, dest_lon=query.destination_lon,
                     claimed_mode="bus")
    plain = PlannerEvaluator.for_network(poa_artifact)(trip)
    replay = PlannerEvaluator.for_network(poa_artifact, realtime=((FEED, _feed(cancel=trips)),))
    assert replay.fingerprint != PlannerEvaluator.for_network(poa_artifact).fingerprint
    replayed = replay(trip)
    assert plain["status"] == "ok"
    # every scheduled option was cancelled: what ran is slower (or nothing ran at all)
    assert replayed["status"] != "ok" or replayed["expected_duration_s"] > \
        plain["expected_duration_s"]


def test_http_plan_says_realtime_per_leg(poa_network, query, tmp_path):
    from api.app import create_app

    planner = Planner(poa_network)
    scheduled = planner.plan(query)
    ride = _first_ride(scheduled.itineraries[scheduled.fastest])
    path = tmp_path / "live.pb"
    path.write_bytes(_feed(at=datetime.now(UTC),
                           delays=[(ride.trip_id, ride.from_place.stop_id, 30)]))
    params = {"from": f"{query.origin_lat},{query.origin_lon}",
              "to": f"{query.destination_lat},{query.destination_lon}",
              "at": WHEN.isoformat(), "modes": "transit"}
    client = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network,
                         "TANLU_REALTIME": [f"{FEED}={path}"]}).test_client()
    body = client.get("/v1/plan", query_string=params).get_json()
    legs = [leg for it in body["itineraries"] for leg in it["legs"] if leg["trip_id"]]
    live = [leg for leg in legs if leg["realtime"]]
    assert live and all(leg["departure_delay_s"] == 30 for leg in live)
    assert all(leg["scheduled_departure"] is None for leg in legs if not leg["realtime"])
    path.write_bytes(b"\x00garbage")
    client = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network,
                         "TANLU_REALTIME": [f"{FEED}={path}"]}).test_client()
    response = client.get("/v1/plan", query_string=params)
    assert response.status_code == 200
    assert any("unavailable" in n for n in response.get_json()["notices"])

