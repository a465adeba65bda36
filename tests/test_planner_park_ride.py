"""Parkings at build and park-and-ride / EV-to-pile / drop-off access to transit (Porto Alegre)."""
from __future__ import annotations

import collections
import math
from datetime import datetime, timedelta

import numpy as np
import osmium
import pytest

from graphs._parking_build import parkings_from_features
from graphs.artifact import load_network, save_network
from graphs.errors import ArtifactError
from graphs.geodesy import haversine_m
from graphs.modes import parse_trip_modes
from graphs.network import PARKING_KINDS, Network
from graphs.osm_reader import OsmFeature
from planner.access import BIKE_PARKING_RADIUS_M, parking_stops
from planner.engine import Planner
from planner.itineraries import CAR_CONNECTOR_SPEED_MPS
from planner.park_ride import (
    CHARGE,
    DROP_OFF,
    PARK,
    PARK_CAR_S,
    PARK_RIDE_RADIUS_M,
    PLUG_S,
    station_stops,
)
from planner.piles import load_pile_csv
from planner.points import load_points_rules
from planner.query import make_query
from planner.street_search import route

TZ = "America/Sao_Paulo"
WHEN = datetime(2019, 5, 13, 8, 0)  # a Monday in the feeds' service range
# Menino Deus (south of downtown) to 800 m east of Trensurb's Sao Pedro station: driving to the
# PopCenter car park at Mercado station and riding the train north beats the bus
ORIGIN = (-30.060, -51.225)
DESTINATION = (-30.0085, -51.2040)
POPCENTER = "osm:node/1420489528"  # amenity=parking_entrance, 216 spaces, 330 m from Mercado


def _osm_counts(path) -> collections.Counter:
    """Independent count of the parking tags of an OSM file (osmium directly, every object)."""
    counts: collections.Counter = collections.Counter()
    for obj in osmium.FileProcessor(str(path)).with_filter(osmium.filter.KeyFilter("amenity")):
        tags = dict(obj.tags)
        if tags["amenity"] in PARKING_KINDS and tags.get("access") not in ("private", "no"):
            counts[tags["amenity"]] += 1
        counts["park_ride"] += "park_ride" in tags
    return counts


def test_parkings_kept_at_build_match_the_osm_file(poa_network, sample_dir):
    counts = _osm_counts(sample_dir / "porto-alegre" / "poa_osm.pbf")
    parkings = poa_network.parkings
    for code, kind in enumerate(PARKING_KINDS):
        assert int((parkings.kind == code).sum()) == counts[kind], kind
    # the extract has 4 bicycle parkings, 4 car parkings and 37 public car-park entrances, and
    # no park_ride tag: the distance rule of planner.park_ride is what finds its P+R sites
    assert len(parkings) == 45 and counts["park_ride"] == 0
    assert (parkings.park_ride == -1).all()
    i = int(np.nonzero(parkings.osmid == 1420489528)[0][0])
    assert str(parkings.name[i]) == "PopCenter" and int(parkings.capacity[i]) == 216
    report = poa_network.manifest["report"]["streets"]
    assert report["bicycle_parking"] == 4 and report["park_ride_tagged"] == 0


def test_parking_features_rules():
    square = ((0.0, 0.0), (0.001, 0.0), (0.001, 0.001), (0.0, 0.001), (0.0, 0.0))
    features = [
        OsmFeature("node", 5, {"amenity": "bicycle_parking", "capacity": "12"}, ((1.0, 2.0),)),
        OsmFeature("way", 7, {"amenity": "parking", "park_ride": "train", "name": "P+R"}, square),
        OsmFeature("node", 8, {"amenity": "parking", "access": "private"}, ((1.0, 2.0),)),
        OsmFeature("node", 9, {"amenity": "parking_entrance", "park_ride": "no"}, ((3.0, 4.0),)),
        OsmFeature("way", 10, {"amenity": "parking"}, ()),  # no node inside the file
    ]
    p = parkings_from_features(features)
    assert p.osmid.tolist() == [-7, 5, 9]
    assert [PARKING_KINDS[k] for k in p.kind] == ["parking", "bicycle_parking", "parking_entrance"]
    assert p.park_ride.tolist() == [1, -1, 0] and p.capacity.tolist() == [-1, 12, -1]
    assert (p.lon[0], p.lat[0]) == pytest.approx((0.0005, 0.0005))


def test_parkings_round_trip_and_tampered_parkings_are_refused(poa_network, tmp_path):
    path = save_network(poa_network, tmp_path / "poa.tanlu")
    loaded = load_network(path)
    for name in ("osmid", "kind", "lat", "lon", "name", "park_ride", "capacity"):
        assert np.array_equal(getattr(loaded.parkings, name), getattr(poa_network.parkings, name))
    bad = poa_network.parkings.kind.copy()
    bad[0] = 7
    tampered = Network(manifest=poa_network.manifest, streets=poa_network.streets,
                       timetable=poa_network.timetable,
                       charging_stations=poa_network.charging_stations,
                       parkings=type(poa_network.parkings)(**{
                           **{n: getattr(poa_network.parkings, n) for n in
                              ("osmid", "lon", "lat", "name", "park_ride", "capacity")},
                           "kind": bad}))
    with pytest.raises(ArtifactError, match="parkings/kind"):
        load_network(save_network(tampered, tmp_path / "bad.tanlu"))


@pytest.fixture(scope="module")
def planner(poa_network):
    return Planner(poa_network)


def test_park_sites_follow_the_distance_rule(planner, poa_network):
    tt, parkings = poa_network.timetable, poa_network.parkings
    stations = station_stops(tt)
    car = np.isin(parkings.kind, (1, 2))
    expected = set()
    for i in np.nonzero(car)[0]:  # brute force over every car parking and station
        d = haversine_m(float(parkings.lat[i]), float(parkings.lon[i]),
                        tt.stop_lat[stations].astype(float), tt.stop_lon[stations].astype(float))
        if (d <= PARK_RIDE_RADIUS_M).any():
            expected.add(f"osm:node/{int(parkings.osmid[i])}")
    sites = planner.park_ride.sites(PARK)
    assert set(sites.ref.tolist()) == expected == {POPCENTER, "osm:node/2128595774"}
    served = {str(tt.stop_id[s]) for s in sites.pair_stop}
    assert served == {"poa_trensurb:MR", "poa_trensurb:SP"}
    # the walk from a site to its stop is no shorter than the straight line
    for site, stop, walk_m in zip(sites.pair_site, sites.pair_stop, sites.pair_walk_m,
                                  strict=True):
        crow = haversine_m(float(sites.lat[site]), float(sites.lon[site]),
                           float(tt.stop_lat[stop]), float(tt.stop_lon[stop]))
        assert crow - 1.0 <= walk_m <= 3 * crow + 50


def test_bike_parking_from_osm_where_the_data_has_it(planner, poa_network):
    tt, parkings = poa_network.timetable, poa_network.parkings
    with_osm = parking_stops(tt, planner.snappers["bike"], parkings)
    rule_only = parking_stops(tt, planner.snappers["bike"])
    bike = np.nonzero(parkings.kind == 0)[0]
    near = set()
    for s in range(tt.n_stops):  # brute force: every stop against every bicycle parking
        d = haversine_m(float(tt.stop_lat[s]), float(tt.stop_lon[s]),
                        parkings.lat[bike], parkings.lon[bike])
        if (d <= BIKE_PARKING_RADIUS_M).any():
            near.add(s)
    assert near, "the extract's bicycle parkings lie near no stop any more"
    refs = dict(zip(with_osm.stops.tolist(), with_osm.ref.tolist(), strict=True))
    assert {s for s, r in refs.items() if r} == near
    assert set(with_osm.stops.tolist()) == set(rule_only.stops.tolist()) | near
    assert all(r.startswith("osm:node/") for s, r in refs.items() if s in near)


def _plan(planner, access, *, origin=ORIGIN, destination=DESTINATION, rules=None, **kw):
    q = make_query(origin=origin, destination=destination, when=WHEN, modes=("walk", "transit"),
                   access_modes=access, timezone=TZ, **kw)
    return q, planner.plan(q, rules=rules)


def _car_access(plan, note):
    return [it for it in plan.itineraries if it.legs[0].note == note]


def test_park_and_ride_ends_at_a_real_parking_and_sums_per_leg(planner, poa_network):
    query, plan = _plan(planner, ("car_petrol",), rules="flat_per_ride")
    found = _car_access(plan, PARK)
    assert found, "no park-and-ride itinerary in the front"
    it = found[0]
    drive, walk, ride = it.legs[0], it.legs[1], it.legs[2]
    assert drive.mode == "car_petrol" and drive.to_place.ref == POPCENTER
    assert drive.to_place.name == "PopCenter"
    assert walk.mode == "walk" and ride.trip_id is not None and ride.mode == "rail"
    assert ride.from_place.stop_id == "poa_trensurb:MR"
    # timing: drive, park, walk, board
    assert drive.departure >= query.when
    assert drive.arrival + timedelta(seconds=PARK_CAR_S) <= walk.departure + timedelta(seconds=1)
    assert walk.arrival <= ride.departure
    # the drive is the car layer's fastest path to the car park's nearest node (independent
    # A* route), plus the snap connectors
    snaps = planner._snap_all(planner._localized(query))
    sites = planner.park_ride.sites(PARK)
    k = int(np.nonzero(sites.ref == POPCENTER)[0][0])
    path = route(planner.graphs["car"], snaps[("origin", "car")].node, int(sites.car_node[k]))
    connector = snaps[("origin", "car")].distance_m + float(sites.car_link_m[k])
    assert drive.distance_m == pytest.approx(path.length_m + connector, rel=1e-6)
    assert drive.duration_s == pytest.approx(
        path.duration_s + connector / CAR_CONNECTOR_SPEED_MPS, abs=1.0)
    g = float(poa_network.factors.g_per_pkm("car_petrol"))
    assert drive.co2e_g == pytest.approx(g * drive.distance_m / 1000.0)
    # per-leg CO2e and points add up to the itinerary's
    assert math.fsum(leg.co2e_g for leg in it.legs) == pytest.approx(it.co2e_g)
    rules = load_points_rules("flat_per_ride")
    per_leg = [rules.points_per_ride.get(leg.mode, 0.0) for leg in it.legs
               if leg.mode in rules.eligible_modes
               and leg.distance_m >= rules.min_distance_m.get(leg.mode, 0.0)]
    assert it.points.points == pytest.approx(math.fsum(per_leg))


def test_park_and_ride_beside_the_car_in_one_front(planner):
    q = make_query(origin=ORIGIN, destination=DESTINATION, when=WHEN,
                   modes=("walk", "transit", "car_petrol"), access_modes=("car_petrol",),
                   timezone=TZ)
    plan = planner.plan(q)
    car = [it for it in plan.itineraries if len(it.legs) == 1 and it.legs[0].mode == "car_petrol"]
    pr = _car_access(plan, PARK)
    assert car and pr
    assert pr[0].co2e_g < car[0].co2e_g and pr[0].duration_s > car[0].duration_s
    assert pr[0].reduction_g > 0


def test_ev_to_pile_charges_while_riding_and_earns_points(poa_network, tmp_path):
    # the Porto Alegre extract has no amenity=charging_station: an operator's pile list with
    # one pile 120 m from Mercado station stands in (the pile-list path of planner.piles)
    piles = tmp_path / "piles.csv"
    piles.write_text("id,name,lat,lon,operator\nPOA-7,Pile at Mercado,-30.0255,-51.2275,CEEE\n",
                     encoding="utf-8")
    planner = Planner(poa_network, piles=load_pile_csv(piles))
    _, plan = _plan(planner, ("car_bev",))
    found = _car_access(plan, CHARGE)
    assert found
    it = found[0]
    drive, walk = it.legs[0], it.legs[1]
    assert drive.mode == "car_bev" and drive.to_place.ref == "POA-7"
    assert drive.to_place.name == "Pile at Mercado"
    assert walk.departure >= drive.arrival + timedelta(seconds=PLUG_S - 1)
    assert it.pile is not None and it.pile.pile.id == "POA-7" and it.pile.end == "station"
    assert it.points.points > 0  # car_bev counts: it was charged at a public pile
    assert math.fsum(leg.co2e_g for leg in it.legs) == pytest.approx(it.co2e_g)
    # without the pile list there is no EV-to-pile itinerary
    _, bare = _plan(Planner(poa_network), ("car_bev",))
    assert not _car_access(bare, CHARGE)


def test_taxi_drop_off_at_the_station(planner):
    _, plan = _plan(planner, ("taxi",), origin=(-30.030, -51.180),
                    destination=(-30.0275, -51.2270))
    found = _car_access(plan, DROP_OFF)
    assert found
    drop, ride = found[0].legs[0], found[0].legs[1]
    assert drop.mode == "taxi" and drop.to_place.stop_id == ride.from_place.stop_id
    assert ride.from_place.stop_id.startswith("poa_trensurb:") and ride.trip_id is not None
    assert drop.to_place.ref == ride.from_place.stop_id


def test_arrive_by_park_and_ride(planner):
    q, plan = _plan(planner, ("car_petrol",), arrive_by=True)
    found = _car_access(plan, PARK)
    assert found
    for it in found:
        assert it.legs[-1].arrival <= q.when + timedelta(seconds=1)
        for a, b in zip(it.legs, it.legs[1:], strict=False):
            assert a.arrival <= b.departure + timedelta(seconds=1)


def test_car_access_modes_parse():
    assert parse_trip_modes("walk,car_bev+transit") == (("walk", "transit"), ("car_bev",))
    assert parse_trip_modes("电动汽车+公共交通") == (("transit",), ("car_bev",))
    assert parse_trip_modes("taxi+transit,car+transit") == (("transit",), ("taxi", "car_petrol"))


def test_http_and_cli_plan_park_and_ride(poa_network, poa_artifact, capsys):
    from api.app import create_app
    from api.cli import main

    client = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()
    frm, to = "{:f},{:f}".format(*ORIGIN), "{:f},{:f}".format(*DESTINATION)
    answer = client.get("/v1/plan", query_string={"from": frm, "to": to, "at": WHEN.isoformat(),
                                                  "modes": "walk,car_petrol+transit"})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["query"]["access_modes"] == ["car_petrol"]
    parked = [it["legs"][0] for it in body["itineraries"] if it["legs"][0]["note"] == "park"]
    assert parked and parked[0]["to"]["ref"] == POPCENTER and parked[0]["mode"] == "car_petrol"
    code = main(["plan", "--network", str(poa_artifact), "--from", frm, "--to", to,
                 "--at", WHEN.isoformat(), "--modes", "walk,car+transit"])
    out = capsys.readouterr().out
    assert code == 0 and '"note": "park"' in out and f'"ref": "{POPCENTER}"' in out


def test_audit_claims_of_combined_trips_are_planned_like_queries(poa_artifact):
    import pandas as pd

    from audit.evaluate import PlannerEvaluator, TripInput
    from audit.schema import claimed_access_modes

    assert claimed_access_modes(("car_bev", "transit")) == {"car_bev"}
    assert claimed_access_modes(("bike", "metro")) == {"bike"}
    assert claimed_access_modes(("bike", "walk")) == frozenset()  # no transit: a bike trip
    evaluate = PlannerEvaluator.for_network(poa_artifact)
    start = pd.Timestamp(WHEN, tz=TZ)
    trip = TripInput(row=2, started_at=start, ended_at=start + pd.Timedelta(minutes=40),
                     origin_lat=ORIGIN[0], origin_lon=ORIGIN[1], dest_lat=DESTINATION[0],
                     dest_lon=DESTINATION[1], claimed_mode="car_petrol+rail")
    got = evaluate(trip)
    assert got["status"] == "ok" and got["itinerary_modes"] == "car_petrol+walk+rail+walk"
    # the same trip planned through the query path: the same itinerary
    planner = Planner(load_network(poa_artifact))
    q = make_query(origin=ORIGIN, destination=DESTINATION, when=WHEN, modes=("transit",),
                   transit_modes=("rail",), access_modes=("car_petrol",), timezone=TZ)
    fastest = min(_car_access(planner.plan(q), PARK), key=lambda it: it.duration_s)
    assert got["co2e_g"] == pytest.approx(fastest.co2e_g)
    assert got["expected_duration_s"] == pytest.approx(fastest.duration_s)


def test_next_pass_keeps_only_stops_reached_by_a_shorter_drive(planner, poa_network):

    from planner.park_ride import car_access

    q = planner._localized(make_query(origin=ORIGIN, destination=DESTINATION, when=WHEN,
                                      timezone=TZ))
    o = planner._snap_all(q)[("origin", "car")]
    sites = planner.park_ride.sites(PARK)
    access = car_access("car_petrol", sites, planner.graphs["car"], planner.graphs["walk"],
                        poa_network.timetable, origin_node=o.node, snap_m=o.distance_m,
                        walk_speed_mps=1.33, g_per_pkm=100.0, walk_g_per_pkm=0.0)
    reached = np.flatnonzero(access.seconds >= 0)
    assert len(reached) == 2
    by_drive = sorted(reached.tolist(), key=lambda s: access.drive_m[access.site_of[s]])
    near, far = by_drive
    # journeys from the farther drive leave the nearer one to the next pass, not the reverse
    assert np.flatnonzero(access.next_pass({far}).seconds >= 0).tolist() == [near]
    assert not (access.next_pass({near}).seconds >= 0).any()
    # drive metres agree with an independent route to each site
    for s in reached:
        k = int(access.site_of[s])
        path = route(planner.graphs["car"], o.node, int(sites.car_node[k]))
        assert access.drive_m[k] == pytest.approx(path.length_m + o.distance_m
                                                  + float(sites.car_link_m[k]))


def test_artifact_without_parkings_or_bikes_allowed_loads_with_none(poa_network, tmp_path):
    """Artifacts written before parkings and bikes_allowed were kept still load."""
    import json
    import zipfile

    path = save_network(poa_network, tmp_path / "new.tanlu")
    old = tmp_path / "old.tanlu"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(old, "w") as zout:
        for info in zin.infolist():
            if info.filename.startswith("parkings/") or "trip_bikes_allowed" in info.filename:
                continue
            data = zin.read(info.filename)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                del manifest["scalars"]["parkings"]
                data = json.dumps(manifest).encode()
            zout.writestr(info, data)
    loaded = load_network(old)
    assert len(loaded.parkings) == 0
    assert loaded.timetable.trip_bikes_allowed.shape == (loaded.timetable.n_trips,)
    assert (loaded.timetable.trip_bikes_allowed == 0).all()
    assert not Planner(loaded).park_ride.sites(PARK).ref.size


def test_tampered_bikes_allowed_is_refused(poa_network, tmp_path):
    from dataclasses import replace

    bad = poa_network.timetable.trip_bikes_allowed.copy()
    bad[0] = 9
    tampered = Network(manifest=poa_network.manifest, streets=poa_network.streets,
                       timetable=replace(poa_network.timetable, trip_bikes_allowed=bad),
                       charging_stations=poa_network.charging_stations,
                       parkings=poa_network.parkings)
    with pytest.raises(ArtifactError, match="trip_bikes_allowed"):
        load_network(save_network(tampered, tmp_path / "bad.tanlu"))


def test_private_car_drop_off_at_the_station(planner, poa_network):
    """dropOff: a car_petrol+transit query is dropped at the station like a taxi, and its car
    leg emits the petrol factor x its own distance once (the traveller's ride, one way)."""
    kw = {"origin": (-30.030, -51.180), "destination": (-30.0275, -51.2270)}
    _, plan = _plan(planner, ("car_petrol",), drop_off=True, **kw)
    found = _car_access(plan, DROP_OFF)
    assert found and not _car_access(plan, PARK)
    drop, ride = found[0].legs[0], found[0].legs[1]
    assert drop.mode == "car_petrol" and drop.to_place.stop_id == ride.from_place.stop_id
    assert ride.from_place.stop_id.startswith("poa_trensurb:")
    factor = poa_network.factors.g_per_pkm("car_petrol")
    assert drop.co2e_g == pytest.approx(factor * drop.distance_m / 1000.0)
    _, taxi = _plan(planner, ("taxi",), **kw)
    by_taxi = _car_access(taxi, DROP_OFF)[0].legs[0]
    assert by_taxi.to_place.stop_id == drop.to_place.stop_id
    assert by_taxi.distance_m == pytest.approx(drop.distance_m)  # same car layer, same drive


def test_drop_off_needs_a_car_access_mode(poa_network, poa_artifact, capsys):
    from api.app import create_app
    from api.cli import main
    from planner.errors import QueryError

    with pytest.raises(QueryError) as err:
        make_query(origin=ORIGIN, destination=DESTINATION, when=WHEN, drop_off=True,
                   access_modes=("bike",), timezone=TZ)
    assert err.value.field == "drop_off"
    client = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()
    frm, to = "{:f},{:f}".format(*ORIGIN), "{:f},{:f}".format(*DESTINATION)
    answer = client.get("/v1/plan", query_string={"from": frm, "to": to, "at": WHEN.isoformat(),
                                                  "modes": "walk,transit", "dropOff": "true"})
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "dropOff"
    ok = client.get("/v1/plan", query_string={"from": frm, "to": to, "at": WHEN.isoformat(),
                                              "modes": "walk,car_petrol+transit",
                                              "dropOff": "true"})
    assert ok.status_code == 200 and ok.get_json()["query"]["drop_off"] is True
    code = main(["plan", "--network", str(poa_artifact), "--from", frm, "--to", to,
                 "--at", WHEN.isoformat(), "--modes", "walk,transit", "--drop-off"])
    err_line = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err_line) == 1 and "--drop-off" in err_line[0]
