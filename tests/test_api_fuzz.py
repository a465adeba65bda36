"""Property-based hammering: no input makes the server answer 5xx, and 4xx keep the one shape."""
from __future__ import annotations

import json

import pytest
from api_fakes import make_fake_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.params import PLAN_PARAMETERS

NAMES = [p.name for p in PLAN_PARAMETERS] + ["form", "_", "legs", "mode"]
WEST, SOUTH, EAST, NORTH = -51.2642, -30.1133, -51.1322, -29.9980   # Porto Alegre extract

text = st.text(max_size=40)
numbers = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True,
                                                            allow_infinity=True))
scalars = st.one_of(text, numbers, st.booleans(), st.none(),
                    st.sampled_from(["walk,transit", "bus", "1e309", "-0", "2019-05-06T08:00",
                                     "2019-02-30T08:00", "-30.03,-51.22", "true", "zh", " "]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)), max_leaves=12)
query_strings = st.dictionaries(st.sampled_from(NAMES) | text, scalars.map(str), max_size=8)
bodies = st.dictionaries(st.sampled_from(NAMES) | text, json_values, max_size=8)
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def fake_client():
    return make_fake_app().test_client()


@pytest.fixture(scope="module")
def real_client(poa_network):
    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()


def assert_handled(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400 and response.mimetype == "application/json":
        error = response.get_json()["error"]
        assert set(error) == {"code", "message", "field", "request_id"} and error["message"]


@FUZZ
@given(query=query_strings)
def test_plan_query_strings(fake_client, query):
    assert_handled(fake_client.get("/v1/plan", query_string=query))
    assert_handled(fake_client.get("/embed", query_string=query))


@FUZZ
@given(body=st.one_of(bodies, json_values))
def test_plan_and_points_bodies(fake_client, body):
    assert_handled(fake_client.post("/v1/plan", json=body))
    assert_handled(fake_client.post("/v1/points", json=body))


@FUZZ
@given(raw=st.binary(max_size=200), content_type=st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
def test_raw_bodies(fake_client, raw, content_type):
    assert_handled(fake_client.post("/v1/plan", data=raw, content_type=content_type))


@FUZZ
@given(path=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=30),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
def test_any_path_and_method(fake_client, path, method):
    assert_handled(fake_client.open("/" + path.lstrip("/"), method=method))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(o_lat=st.floats(SOUTH - 0.01, NORTH + 0.01), o_lon=st.floats(WEST - 0.01, EAST + 0.01),
       d_lat=st.floats(SOUTH - 0.01, NORTH + 0.01), d_lon=st.floats(WEST - 0.01, EAST + 0.01),
       hour=st.integers(0, 23), day=st.integers(1, 28),
       modes=st.sets(st.sampled_from(["walk", "bike", "ebike", "car_petrol", "car_bev", "taxi",
                                      "transit", "bus", "rail", "ferry"]), min_size=1),
       arrive_by=st.booleans(), max_transfers=st.integers(0, 8),
       max_walk=st.floats(0, 10_000))
def test_real_planner_never_fails_on_valid_input(real_client, o_lat, o_lon, d_lat, d_lon, hour,
                                                 day, modes, arrive_by, max_transfers,
                                                 max_walk):
    body = {"from": {"lat": o_lat, "lon": o_lon}, "to": f"{d_lat},{d_lon}",
            "at": f"2019-05-{day:02d}T{hour:02d}:15:00", "modes": sorted(modes),
            "arriveBy": arrive_by, "maxTransfers": max_transfers, "maxWalkDistance": max_walk}
    response = real_client.post("/v1/plan", data=json.dumps(body),
                                content_type="application/json")
    assert_handled(response)
    assert response.status_code in (200, 422), response.get_data(as_text=True)
