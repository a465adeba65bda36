"""api.errors through the test client: every bad request gets 4xx and the one JSON shape."""
from __future__ import annotations

import io
import json

import pytest
from api_fakes import IN_SERVICE, make_fake_app, plan_query

from api.app import create_app
from api.i18n import LANGUAGES

SHAPE_KEYS = {"code", "message", "field", "request_id"}


@pytest.fixture(scope="module")
def client():
    return make_fake_app().test_client()


def error_of(response, status: int, code: str, field: str | None = None) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == SHAPE_KEYS
    assert body["error"]["code"] == code
    assert body["error"]["field"] == field
    assert body["error"]["message"]
    return body["error"]["message"]


def test_malformed_coordinates(client):
    text = error_of(client.get("/v1/plan", query_string=plan_query(**{"from": "-30.1"})), 400,
                    "invalid_coordinates", "from")
    assert "[-90, 90]" in text and "-30.1" in text


def test_out_of_range_number_names_field_and_range(client):
    text = error_of(client.get("/v1/plan", query_string=plan_query(maxTransfers="99")), 400,
                    "invalid_integer", "maxTransfers")
    assert "between 0 and 8" in text


def test_point_outside_coverage_is_422(client):
    error_of(client.get("/v1/plan", query_string=plan_query(to="39.9,116.4")), 422,
             "outside_coverage", "to")


def test_planner_snap_failure_is_422_naming_the_parameter(client):
    # The fake planner raises OutsideCoverageError(field="origin") east of -51.20.
    error_of(client.get("/v1/plan", query_string=plan_query(**{"from": "-30.02,-51.195"})),
             422, "outside_coverage", "from")


def test_unparseable_and_out_of_service_dates(client):
    error_of(client.get("/v1/plan", query_string=plan_query(at="next tuesday")), 400,
             "invalid_datetime", "at")
    text = error_of(client.get("/v1/plan", query_string=plan_query(at="2030-01-01T08:00")),
                    400, "date_out_of_service", "at")
    assert "2019-05-01" in text and "2019-05-31" in text


def test_unknown_modes(client):
    text = error_of(client.get("/v1/plan", query_string=plan_query(modes="walk,hovercraft")),
                    400, "unknown_mode", "modes")
    assert "hovercraft" in text and "bus" in text


def test_no_route_is_422(client):
    error_of(client.get("/v1/plan", query_string=plan_query(modes="ferry")), 422, "no_route")


def test_malformed_json_and_non_object_bodies(client):
    error_of(client.post("/v1/plan", data="{\"from\": ", content_type="application/json"),
             400, "invalid_json")
    error_of(client.post("/v1/plan", data=b"\xff\xfe\x00", content_type="application/json"),
             400, "invalid_json")
    error_of(client.post("/v1/plan", json=["-30,-51"]), 400, "body_not_object")
    error_of(client.post("/v1/plan", json={}), 400, "missing_parameter", "from")


def test_oversized_body_is_413():
    client = make_fake_app(TANLU_MAX_BODY_BYTES=1024).test_client()
    body = json.dumps({**plan_query(), "_padding": "x" * 2000})
    error_of(client.post("/v1/plan", data=body, content_type="application/json"), 413,
             "payload_too_large")


def test_oversized_chunked_body_is_413_not_a_truncated_parse():
    client = make_fake_app(TANLU_MAX_BODY_BYTES=1024).test_client()
    body = json.dumps({**plan_query(), "_padding": "x" * 2000}).encode()
    chunked = {"wsgi.input_terminated": True}  # no Content-Length, as gunicorn passes chunks
    response = client.post("/v1/points", input_stream=io.BytesIO(body), environ_base=chunked,
                           headers={"Transfer-Encoding": "chunked"})
    error_of(response, 413, "payload_too_large")
    small = json.dumps(plan_query()).encode()
    response = client.post("/v1/plan", input_stream=io.BytesIO(small), environ_base=chunked,
                           headers={"Transfer-Encoding": "chunked"})
    assert response.status_code == 200, response.get_json()


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/v1/plan")
    error_of(response, 405, "method_not_allowed")
    assert {"GET", "POST"} <= set(response.headers["Allow"].replace(" ", "").split(","))
    error_of(client.post("/v1/factors"), 405, "method_not_allowed")


def test_unknown_path_is_404(client):
    text = error_of(client.get("/v2/plan"), 404, "not_found")
    assert "/v2/plan" in text


def test_without_network_ready_and_data_endpoints_are_503():
    client = create_app({"TESTING": True}).test_client()
    assert client.get("/healthz").status_code == 200
    for path in ("/readyz", "/v1/factors", "/v1/coverage", "/v1/points/rules"):
        error_of(client.get(path), 503, "not_ready")
    error_of(client.get("/v1/plan", query_string=plan_query()), 503, "not_ready")


def test_messages_in_chinese_by_parameter_or_accept_language(client):
    query = plan_query(modes="walk,hovercraft")
    english = error_of(client.get("/v1/plan", query_string=query), 400, "unknown_mode", "modes")
    chinese = error_of(client.get("/v1/plan", query_string={**query, "lang": "zh"}), 400,
                       "unknown_mode", "modes")
    by_header = error_of(client.get("/v1/plan", query_string=query,
                                    headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}),
                         400, "unknown_mode", "modes")
    assert "未知出行方式" in chinese and chinese == by_header and "unknown mode" in english
    in_body = error_of(client.post("/v1/plan", json={**query, "lang": "zh"}), 400,
                       "unknown_mode", "modes")
    assert in_body == chinese


def test_every_error_code_has_both_languages():
    from api.errors import ERROR_STATUSES
    from api.i18n import _MESSAGES

    for code in ERROR_STATUSES:
        assert set(_MESSAGES[code]) == set(LANGUAGES), code


def test_bugs_are_json_500_without_traceback(caplog):
    app = make_fake_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    text = error_of(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True) and "Traceback" not in text
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)


def test_valid_request_reaches_the_planner(client):
    response = client.get("/v1/plan", query_string={**plan_query(), "at": IN_SERVICE})
    assert response.status_code == 200


def test_planner_field_errors_name_the_http_parameter(poa_network):
    """A planner QueryError names a make_query field; the answer names the parameter that set it
    (window_s -> window: this mapping once lacked it)."""
    real = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()
    query = {"from": "-30.0277,-51.2287", "to": "-30.0600,-51.1750", "at": "2019-05-13T12:30",
             "window": "60", "arriveBy": "true"}
    error_of(real.get("/v1/plan", query_string=query), 400, "invalid_parameter", "window")


def test_every_planner_field_maps_to_a_real_parameter():
    from api.errors import _query_field_to_param
    from api.params import PLAN_PARAMETERS, REACH_PARAMETERS

    names = {p.name for p in (*PLAN_PARAMETERS, *REACH_PARAMETERS)}
    mapping = _query_field_to_param()
    assert set(mapping.values()) <= names
    assert {p.option for p in (*PLAN_PARAMETERS, *REACH_PARAMETERS) if p.option} <= set(mapping)
