"""The audit follows the chosen methodology, agrees with POST /v1/points under it, and refuses
an unusable one before any trip."""
from __future__ import annotations

import pandas as pd
import pytest

from api.app import create_app
from audit.evaluate import PlannerEvaluator, TripInput
from planner.errors import MethodologyError

TZ = "America/Sao_Paulo"
WHEN = "2019-05-13T12:30:00"          # the sample's buses run 11:20-17:50
CENTRO = (-30.0277, -51.2287)
FAR_NORTH = (-30.0000, -51.1500)


def test_audit_and_points_endpoint_agree_under_shenzhen(poa_artifact, poa_network):
    client = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network,
                         "TANLU_ALLOWED_METHODOLOGIES": ("shenzhen-2021",)}).test_client()
    api = client.post("/v1/points", json={
        "from": f"{CENTRO[0]},{CENTRO[1]}", "to": f"{FAR_NORTH[0]},{FAR_NORTH[1]}", "at": WHEN,
        "mode": "bus", "methodology": "shenzhen-2021"}).get_json()
    assert api["methodology"] == "shenzhen-2021@2021.1"
    bus_km = sum(leg["distance_m"] for leg in api["itinerary"]["legs"]
                 if leg["mode"] == "bus") / 1000
    assert bus_km > 0 and api["reduction_g"] == pytest.approx(26.9 * bus_km)
    evaluator = PlannerEvaluator.for_network(poa_artifact, methodology="shenzhen-2021")
    started = pd.Timestamp(WHEN, tz=TZ)
    audit = evaluator(TripInput(row=0, started_at=started, ended_at=started + pd.Timedelta("1h"),
                                origin_lat=CENTRO[0], origin_lon=CENTRO[1],
                                dest_lat=FAR_NORTH[0], dest_lon=FAR_NORTH[1], claimed_mode="bus"))
    assert audit["reduction_g"] == api["reduction_g"]
    assert audit["points_raw"] == api["points"]["points"]


def test_methodology_changes_the_fingerprint_so_resumed_chunks_are_not_reused(poa_artifact):
    car = PlannerEvaluator.for_network(poa_artifact)
    shenzhen = PlannerEvaluator.for_network(poa_artifact, methodology="shenzhen-2021")
    assert car.fingerprint != shenzhen.fingerprint
    assert "tanlu-car@" in car.fingerprint and "shenzhen-2021@" in shenzhen.fingerprint


def test_an_unusable_methodology_is_refused_before_any_trip(poa_artifact):
    with pytest.raises(MethodologyError, match="copy this file"):
        PlannerEvaluator.for_network(poa_artifact, methodology="db11-3043-2024")
