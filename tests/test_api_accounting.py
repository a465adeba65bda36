"""Carbon accounting over HTTP: the grid, methodology and rules every answer names."""
from __future__ import annotations

import pytest

from api.app import create_app
from graphs.factors import load_grid


@pytest.fixture(scope="module")
def client(poa_network):
    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()


def test_factors_name_the_grid_and_its_clause(client):
    table = client.get("/v1/factors").get_json()
    grid = table["grid"]
    national = load_grid("national")
    assert grid["label"] == national.label == "cn-mee-nbs-2023/national"
    assert grid["g_per_kwh"] == 530.6 and grid["verified"] is True and "0.5306" in grid["clause"]
    car_bev = table["factors"]["car_bev"]
    assert car_bev["inputs"]["grid_g_per_kwh"]["grid"] is True
    assert car_bev["g_per_pkm"] == pytest.approx(0.15 * grid["g_per_kwh"], abs=0.0051)


CENTRO = "-30.0277,-51.2287"
FAR_NORTH = "-30.0000,-51.1500"
WHEN = "2019-05-06T08:00:00"


@pytest.fixture(scope="module")
def choosy(poa_network, tmp_path_factory):
    """An operator who allows shenzhen-2021 on request and lists one pile at FAR_NORTH."""
    piles = tmp_path_factory.mktemp("piles") / "piles.csv"
    piles.write_text("id,name,lat,lon,operator\nPOA-1,Estacionamento Norte,-30.0001,-51.1501,"
                     "CEEE\n", encoding="utf-8")
    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network,
                       "TANLU_ALLOWED_METHODOLOGIES": ("shenzhen-2021",),
                       "TANLU_PILE_LIST": piles}).test_client()


def _plan(client, **params):
    response = client.get("/v1/plan", query_string={"from": CENTRO, "to": FAR_NORTH, "at": WHEN,
                                                     **params} if "at" not in params else
                          {"from": CENTRO, "to": FAR_NORTH, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_plan_names_methodology_grid_factor_table_and_rules(client):
    plan = _plan(client)
    assert plan["methodology"] == "tanlu-car@2026.1"
    assert plan["grid"] == "cn-mee-nbs-2023/national"
    assert plan["factor_table"].startswith("cn@") and plan["points_rules"]
    for itinerary in plan["itineraries"]:
        expected = max(0.0, plan["baseline"]["co2e_g"] - itinerary["co2e_g"])
        assert itinerary["reduction_g"] == pytest.approx(expected)
        assert "car_petrol" in itinerary["reduction_explanation"]


def test_a_methodology_the_operator_did_not_allow_is_refused(client):
    response = client.get("/v1/plan", query_string={"from": CENTRO, "to": FAR_NORTH, "at": WHEN,
                                                    "methodology": "shenzhen-2021"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "methodology_not_allowed" and error["field"] == "methodology"
    # a file path is never loaded from a request
    response = client.get("/v1/plan", query_string={"from": CENTRO, "to": FAR_NORTH, "at": WHEN,
                                                    "methodology": "/etc/passwd"})
    assert response.status_code == 400


def test_shenzhen_on_request_credits_bus_and_metro_km_only(choosy):
    plan = _plan(choosy, methodology="shenzhen-2021", modes="walk,transit",
                 at="2019-05-13T12:30:00")
    assert plan["methodology"] == "shenzhen-2021@2021.1"
    credits = {"bus": 26.9, "metro": 46.7}
    for itinerary in plan["itineraries"]:
        expected = sum(credits.get(leg["mode"], 0.0) * leg["distance_m"] / 1000
                       for leg in itinerary["legs"])
        assert itinerary["reduction_g"] == pytest.approx(expected)
    assert any(it["reduction_g"] > 0 for it in plan["itineraries"])


def test_methodology_endpoint_lists_default_and_allowed(choosy):
    data = choosy.get("/v1/methodology").get_json()
    assert data["default"]["label"] == "tanlu-car@2026.1"
    assert data["allowed"] == ["shenzhen-2021@2021.1", "tanlu-car@2026.1"]


def test_points_for_legs_follow_the_requested_methodology(choosy):
    body = {"legs": [{"mode": "walk", "distance_m": 300}, {"mode": "bus", "distance_m": 10_000}],
            "methodology": "shenzhen-2021"}
    data = choosy.post("/v1/points", json=body).get_json()
    assert data["reduction_g"] == pytest.approx(269.0)
    assert data["methodology"] == "shenzhen-2021@2021.1" and data["grid"]
    body["baseline_co2e_g"] = 2000
    response = choosy.post("/v1/points", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "methodology"


def test_ev_trip_to_a_listed_pile_earns_points_and_names_it(choosy, client):
    plan = _plan(choosy, modes="car_bev")
    (itinerary,) = plan["itineraries"]
    assert itinerary["pile"]["id"] == "POA-1" and itinerary["pile"]["end"] == "destination"
    assert itinerary["pile"]["distance_m"] < 200
    assert itinerary["points"]["points"] > 0 and "POA-1" in itinerary["points"]["explanation"]
    # the same trip on a server whose pile list (the OSM stations: none here) has no pile nearby
    (elsewhere,) = _plan(client, modes="car_bev")["itineraries"]
    assert elsewhere["pile"] is None and elsewhere["points"]["points"] == 0
    # the operator-trusted flag still works
    (trusted,) = _plan(client, modes="car_bev", chargedAtPublicPile="true")["itineraries"]
    assert trusted["points"]["points"] > 0 and trusted["pile"] is None


def test_carpool_divides_the_car_legs_co2e(client):
    (solo,) = _plan(client, modes="car_petrol")["itineraries"]
    shared = _plan(client, modes="car_petrol", passengers=3)
    (three,) = shared["itineraries"]
    assert shared["query"]["passengers"] == 3
    assert three["co2e_g"] == pytest.approx(solo["co2e_g"] / 3)
    assert three["legs"][0]["co2e_g_per_pkm"] == pytest.approx(161.56 / 3)
    assert shared["baseline"]["co2e_g"] == pytest.approx(_plan(client)["baseline"]["co2e_g"])
    assert three["reduction_g"] == pytest.approx(shared["baseline"]["co2e_g"] - three["co2e_g"])
    response = client.get("/v1/plan", query_string={"from": CENTRO, "to": FAR_NORTH, "at": WHEN,
                                                    "modes": "car_petrol", "passengers": 10})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "passengers"


def test_bikeshare_is_planned_on_the_bike_layer(client):
    (bike,) = _plan(client, modes="bike")["itineraries"]
    (shared,) = _plan(client, modes="bikeshare")["itineraries"]
    assert shared["modes"] == ["bikeshare"]
    assert shared["distance_m"] == pytest.approx(bike["distance_m"])
    assert shared["legs"][0]["co2e_factor"] == "bikeshare"


def test_embed_footer_names_the_methodology_and_grid(client):
    page = client.get("/embed", query_string={"from": CENTRO, "to": FAR_NORTH, "at": WHEN})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "tanlu-car@2026.1" in text and "cn-mee-nbs-2023/national" in text


def test_an_unusable_operator_methodology_fails_at_start(poa_network):
    from planner.errors import MethodologyError

    with pytest.raises(MethodologyError, match="copy this file"):
        create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network,
                    "TANLU_METHODOLOGY": "db33-1312-2023"})
