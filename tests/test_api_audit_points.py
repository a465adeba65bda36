"""One trip, two interfaces: POST /v1/points and the audit's per-trip evaluator give the same
itinerary, CO2e, baseline and points (both call planner.accounting on the real Porto Alegre network)."""
from __future__ import annotations

import pandas as pd
import pytest

from api.app import create_app
from audit.evaluate import PlannerEvaluator, TripInput

TZ = "America/Sao_Paulo"
WHEN = "2019-05-06T08:00:00"          # a Monday inside both feeds' service dates
CENTRO = (-30.0277, -51.2287)
BOM_FIM = (-30.0346, -51.2077)
FAR_NORTH = (-30.0000, -51.1500)


@pytest.fixture(scope="module")
def client(poa_network):
    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()


@pytest.fixture(scope="module")
def evaluator(poa_artifact):
    return PlannerEvaluator.for_network(poa_artifact)


@pytest.mark.parametrize(("mode", "origin", "destination", "pile"), [
    ("bus", CENTRO, BOM_FIM, False),
    ("transit", CENTRO, BOM_FIM, False),
    ("bike", CENTRO, BOM_FIM, False),
    ("car_bev", CENTRO, FAR_NORTH, True),     # the planner's pile award, not a second one
    ("car_bev", CENTRO, FAR_NORTH, False),
])
def test_points_endpoint_and_audit_agree(client, evaluator, mode, origin, destination, pile):
    response = client.post("/v1/points", json={
        "from": f"{origin[0]},{origin[1]}", "to": f"{destination[0]},{destination[1]}",
        "at": WHEN, "mode": mode, "charged_at_public_pile": pile})
    assert response.status_code == 200, response.get_data(as_text=True)
    api = response.get_json()
    started = pd.Timestamp(WHEN, tz=TZ)
    audit = evaluator(TripInput(row=0, started_at=started, ended_at=started + pd.Timedelta("1h"),
                                origin_lat=origin[0], origin_lon=origin[1],
                                dest_lat=destination[0], dest_lon=destination[1],
                                claimed_mode=mode, charged_at_public_pile=pile))
    assert audit["status"] == "ok"
    assert audit["itinerary_modes"] == "+".join(api["itinerary"]["modes"])
    assert audit["expected_duration_s"] == api["itinerary"]["duration_s"]
    assert audit["co2e_g"] == api["co2e_g"]
    assert audit["baseline_co2e_g"] == api["baseline"]["co2e_g"]
    assert audit["baseline_distance_m"] == api["baseline"]["distance_m"]
    assert audit["baseline_method"] == api["baseline"]["method"]
    assert audit["reduction_g"] == api["reduction_g"]
    assert audit["points_raw"] == api["points"]["points"]
    if mode == "car_bev":
        assert (api["points"]["points"] > 0) is pile


def test_given_legs_and_a_planned_trip_share_the_leg_arithmetic(client):
    planned = client.post("/v1/points", json={"from": "-30.0277,-51.2287", "to": "-30.0346,-51.2077",
                                               "at": WHEN, "mode": "bus"}).get_json()
    legs = [{"mode": leg["mode"], "distance_m": leg["distance_m"]}
            for leg in planned["itinerary"]["legs"]]
    given = client.post("/v1/points", json={"legs": legs,
                                            "baseline_co2e_g": planned["baseline"]["co2e_g"]})
    given = given.get_json()
    # Porto Alegre's feeds have no emissions.txt: every leg is priced by the factor table
    assert all(leg["co2e_factor"] == leg["mode"] for leg in planned["itinerary"]["legs"])
    assert given["baseline"]["method"] == "given"
    assert given["co2e_g"] == pytest.approx(planned["co2e_g"])
    assert given["reduction_g"] == pytest.approx(planned["reduction_g"])
    assert given["points"]["points"] == planned["points"]["points"] > 0
