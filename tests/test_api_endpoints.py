"""Every endpoint through the Flask test client on the real Porto Alegre network.

Checks are independent of the server's arithmetic where they can be: leg CO2e against the
factor table the server publishes, points against the published rules, coverage against the
network's arrays.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from api.app import create_app

CENTRO = "-30.0277,-51.2287"          # Praça da Alfândega
BOM_FIM = "-30.0346,-51.2077"
FAR_NORTH = "-30.0000,-51.1500"       # ~6 km further, reached by bus or car
WHEN = "2019-05-06T08:00:00"          # a Monday inside both feeds' service dates


@pytest.fixture(scope="module")
def client(poa_network):
    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()


@pytest.fixture(scope="module")
def factors(client) -> dict[str, float]:
    table = client.get("/v1/factors").get_json()
    return {key: entry["g_per_pkm"] for key, entry in table["factors"].items()}


@pytest.fixture(scope="module")
def plan(client) -> dict:
    response = client.get("/v1/plan", query_string={"from": CENTRO, "to": FAR_NORTH,
                                                     "at": WHEN})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_health_and_readiness(client, poa_network):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ready"
    network = ready["network"]
    assert network["service_dates"] == {"start": "2019-03-01", "end": "2019-12-31"}
    assert {i["name"] for i in network["inputs"]} >= {"poa_osm.pbf", "poa_eptc.zip"}
    assert network["timezone"] == "America/Sao_Paulo"


def test_coverage_matches_the_network_arrays(client, poa_network):
    feature = client.get("/v1/coverage").get_json()
    walk = poa_network.streets["walk"]
    expected = [walk.node_lon.min(), walk.node_lat.min(), walk.node_lon.max(),
                walk.node_lat.max()]
    assert np.allclose(feature["bbox"], expected)
    assert feature["geometry"]["type"] == "Polygon"
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5
    props = feature["properties"]
    assert set(props["feeds"]) == set(poa_network.timetable.feed_names.tolist())
    assert {"walk", "bike", "car_petrol", "bus"} <= set(props["modes"])
    assert props["service_dates"]["start"] == "2019-03-01"


def test_factors_have_sources(client, factors):
    table = client.get("/v1/factors").get_json()
    assert factors["car_petrol"] > factors["bus"] > 0 and factors["walk"] == 0
    assert all(entry.get("source") for entry in table["factors"].values())
    response = client.get("/v1/factors")
    again = client.get("/v1/factors", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_points_rules(client):
    rules = client.get("/v1/points/rules").get_json()
    assert rules["scheme"] in ("per_gram", "flat_per_ride") and rules["label"]


def test_plan_get_totals_add_up_and_use_the_published_factors(plan, factors):
    assert plan["itineraries"]
    for itinerary in plan["itineraries"]:
        legs = itinerary["legs"]
        assert math.isclose(itinerary["co2e_g"], sum(leg["co2e_g"] for leg in legs),
                            rel_tol=1e-9, abs_tol=1e-6)
        assert math.isclose(itinerary["reduction_g"],
                            plan["baseline"]["co2e_g"] - itinerary["co2e_g"], abs_tol=1e-6)
        for leg in legs:
            if leg["co2e_factor"] in factors:
                expected = factors[leg["co2e_factor"]] * leg["distance_m"] / 1000
                assert math.isclose(leg["co2e_g"], expected, rel_tol=1e-6, abs_tol=1e-6)
            coords = leg["geometry"]["coordinates"]
            assert len(coords) >= 2 and all(-52 < lon < -51 and -31 < lat < -29
                                            for lon, lat in coords)
    tags = {tag for it in plan["itineraries"] for tag in it["tags"]}
    assert {"recommended", "fastest", "lowest_carbon"} <= tags
    assert "recommended" in plan["itineraries"][plan["recommended"]]["tags"]
    baseline = plan["baseline"]
    assert math.isclose(baseline["co2e_g"],
                        factors["car_petrol"] * baseline["distance_m"] / 1000, rel_tol=1e-6)


def test_plan_post_gives_the_same_plan(client, plan):
    posted = client.post("/v1/plan", json={"from": {"lat": -30.0277, "lon": -51.2287},
                                           "to": FAR_NORTH, "at": WHEN})
    assert posted.status_code == 200
    assert posted.get_json()["itineraries"] == plan["itineraries"]


def test_plan_options_reach_the_planner(client):
    body = client.get("/v1/plan", query_string={"from": CENTRO, "to": BOM_FIM, "at": WHEN,
                                                "modes": "walk", "walkSpeed": "1.0"}).get_json()
    assert body["query"]["modes"] == ["walk"] and body["query"]["walk_speed_mps"] == 1.0
    assert all(set(it["modes"]) == {"walk"} for it in body["itineraries"])


def test_points_for_legs_recomputed_from_the_published_tables(client, factors):
    rules = client.get("/v1/points/rules").get_json()
    legs = [{"mode": "bus", "distance_m": 5200}, {"mode": "walk", "distance_m": 400}]
    body = client.post("/v1/points", json={"legs": legs}).get_json()
    co2e_g = factors["bus"] * 5.2
    baseline_g = factors["car_petrol"] * 5.6
    assert math.isclose(body["co2e_g"], co2e_g) and math.isclose(body["baseline"]["co2e_g"],
                                                                 baseline_g)
    if rules["scheme"] == "per_gram":
        expected = math.floor((baseline_g - co2e_g) / rules["grams_per_point"])
        if rules.get("max_points_per_trip") is not None:
            expected = min(expected, rules["max_points_per_trip"])
        assert body["points"]["points"] == expected


def test_points_with_a_given_baseline(client):
    body = client.post("/v1/points", json={"legs": [{"mode": "metro", "distance_m": 1000}],
                                           "baseline_co2e_g": 0}).get_json()
    assert body["baseline"]["method"] == "given" and body["points"]["points"] == 0


def test_points_for_a_planned_trip(client):
    response = client.post("/v1/points", json={"from": CENTRO, "to": BOM_FIM, "at": WHEN,
                                               "mode": "bus"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert "bus" in body["itinerary"]["modes"]
    assert body["points"] == body["itinerary"]["points"]


def test_ev_points_only_when_charged_at_a_public_pile(client, factors):
    rules = client.get("/v1/points/rules").get_json()
    assert "car_bev" in rules["eligible_modes"] and rules["scheme"] == "per_gram"
    legs = [{"mode": "car_bev", "distance_m": 4000}]
    plain = client.post("/v1/points", json={"legs": legs}).get_json()
    charged = client.post("/v1/points", json={"legs": legs, "charged_at_public_pile": True})
    assert charged.status_code == 200, charged.get_data(as_text=True)
    reduction_g = (factors["car_petrol"] - factors["car_bev"]) * 4.0
    expected = min(math.floor(reduction_g / rules["grams_per_point"]),
                   rules["max_points_per_trip"])
    assert expected > 0 and plain["points"]["points"] == 0
    assert "pile" in plain["points"]["explanation"]
    assert charged.get_json()["points"]["points"] == expected


def test_ev_trip_planned_and_charged_at_a_public_pile(client):
    trip = {"from": CENTRO, "to": FAR_NORTH, "at": WHEN, "mode": "car_bev"}
    plain = client.post("/v1/points", json=trip).get_json()
    charged = client.post("/v1/points", json={**trip, "charged_at_public_pile": "true"})
    assert charged.status_code == 200, charged.get_data(as_text=True)
    charged = charged.get_json()
    assert plain["points"]["points"] == 0 and charged["points"] == charged["itinerary"]["points"]
    same = {key for key in plain["itinerary"] if key not in ("points", "legs")}
    assert all(charged["itinerary"][key] == plain["itinerary"][key] for key in same)
    unpointed = lambda it: [{k: v for k, v in leg.items() if k != "points"}  # noqa: E731
                            for leg in it["legs"]]
    assert unpointed(charged["itinerary"]) == unpointed(plain["itinerary"])
    reduction_g = charged["baseline"]["co2e_g"] - charged["co2e_g"]
    rules = client.get("/v1/points/rules").get_json()
    assert charged["points"]["points"] == min(math.floor(reduction_g / rules["grams_per_point"]),
                                              rules["max_points_per_trip"]) > 0
    query = {"from": CENTRO, "to": FAR_NORTH, "at": WHEN, "modes": "car_bev"}
    planned = client.get("/v1/plan", query_string={**query, "chargedAtPublicPile": "true"})
    assert planned.status_code == 200, planned.get_data(as_text=True)
    planned = planned.get_json()
    assert planned["query"]["charged_at_public_pile"] is True
    assert max(it["points"]["points"] for it in planned["itineraries"]) > 0
    bad = client.post("/v1/points", json={**trip, "charged_at_public_pile": "maybe"})
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "charged_at_public_pile"


def test_points_errors(client):
    for body, field in (({"legs": [{"mode": "rocket", "distance_m": 1}]}, "legs[0].mode"),
                        ({"legs": [{"mode": "bus", "distance_m": "far"}]},
                         "legs[0].distance_m"),
                        ({"nothing": 1}, "legs"),
                        ({"from": CENTRO, "to": BOM_FIM, "mode": "jetpack"}, "mode"),
                        ({"legs": [{"mode": "bus", "distance_m": 1}], "colour": 1}, "colour")):
        response = client.post("/v1/points", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["field"] == field


def test_no_route_and_outside_coverage_on_real_data(client):
    far = client.get("/v1/plan", query_string={"from": CENTRO, "to": "-30.5,-51.2", "at": WHEN})
    assert far.status_code == 422 and far.get_json()["error"]["code"] == "outside_coverage"
    # a point inside the bounding box but on the Guaíba, far from any street
    lake = client.get("/v1/plan", query_string={"from": "-30.08,-51.26", "to": CENTRO,
                                                "at": WHEN, "maxSnapDistance": "50"})
    assert lake.status_code == 422, lake.get_data(as_text=True)
    assert lake.get_json()["error"]["code"] in ("outside_coverage", "no_route")


def test_embed_renders_the_recommended_itinerary(client, plan):
    response = client.get("/embed", query_string={"from": CENTRO, "to": FAR_NORTH, "at": WHEN,
                                                  "lang": "zh"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert 'id="tanlu-data" type="application/json"' in html and "推荐" in html
    recommended = plan["itineraries"][plan["recommended"]]
    assert f'{recommended["points"]["points"]:.0f} 积分' in html
