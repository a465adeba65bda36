"""The OpenAPI document is valid, matches the server's routes and parameters, and real
responses validate against its schemas."""
from __future__ import annotations

import jsonschema
import pytest
from api_fakes import make_fake_app, plan_query
from openapi_spec_validator import validate

from api.app import create_app
from api.params import PLAN_PARAMETERS

WHEN = "2019-05-06T08:00:00"
CENTRO, BOM_FIM = "-30.0277,-51.2287", "-30.0346,-51.2077"


@pytest.fixture(scope="module")
def client(poa_network):
    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()


@pytest.fixture(scope="module")
def spec(client) -> dict:
    return client.get("/openapi.json").get_json()


def validator(spec: dict, schema: dict) -> jsonschema.Draft202012Validator:
    root = dict(schema, components=spec["components"])
    return jsonschema.Draft202012Validator(root,
                                           format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def response_schema(spec: dict, path: str, method: str, status: int) -> dict:
    response = spec["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response["content"]["application/json"]["schema"]


def check(spec: dict, path: str, method: str, response) -> None:
    schema = response_schema(spec, path, method, response.status_code)
    validator(spec, schema).validate(response.get_json())


def test_document_is_valid_openapi_31(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_documented_paths_are_the_servers(client, spec):
    app = client.application
    served = {(rule.rule.replace("<city>", "{city}"), method.lower())
              for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}
              if rule.endpoint not in ("static", "docs.index")}
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert served == documented


def test_documented_parameters_are_the_accepted_ones(spec):
    names = [p["name"] for p in spec["paths"]["/v1/plan"]["get"]["parameters"]]
    assert names == [p.name for p in PLAN_PARAMETERS]
    body = spec["components"]["schemas"]["PlanRequest"]
    assert list(body["properties"]) == names


def test_real_responses_validate(client, spec):
    checks = [
        ("/v1/plan", "get", client.get("/v1/plan", query_string={"from": CENTRO, "to": BOM_FIM,
                                                                  "at": WHEN})),
        ("/v1/plan", "post", client.post("/v1/plan", json={"from": CENTRO, "to": BOM_FIM,
                                                            "at": WHEN, "modes": ["bus"]})),
        ("/v1/points", "post", client.post("/v1/points", json={
            "legs": [{"mode": "bus", "distance_m": 5200}]})),
        ("/v1/points", "post", client.post("/v1/points", json={
            "from": CENTRO, "to": BOM_FIM, "at": WHEN, "mode": "bus"})),
        ("/v1/coverage", "get", client.get("/v1/coverage")),
        ("/v1/factors", "get", client.get("/v1/factors")),
        ("/v1/points/rules", "get", client.get("/v1/points/rules")),
        ("/v1/methodology", "get", client.get("/v1/methodology")),
        ("/healthz", "get", client.get("/healthz")),
        ("/readyz", "get", client.get("/readyz")),
        ("/v1/plan", "get", client.get("/v1/plan", query_string={"from": "x"})),
        ("/v1/plan", "get", client.get("/v1/plan", query_string={"from": CENTRO,
                                                                  "to": "-35,-51"})),
        ("/v1/plan", "post", client.post("/v1/plan", data="{", content_type="application/json")),
    ]
    statuses = set()
    for path, method, response in checks:
        statuses.add(response.status_code)
        check(spec, path, method, response)
    assert statuses == {200, 400, 422}


def test_documented_request_bodies_accept_what_the_server_accepts(spec):
    plan_body = validator(spec, {"$ref": "#/components/schemas/PlanRequest"})
    plan_body.validate({"from": CENTRO, "to": {"lat": -30.0, "lon": -51.2}, "at": WHEN,
                        "modes": ["walk", "bus"], "walkSpeed": 1.2, "arriveBy": True})
    points_body = validator(spec, {"$ref": "#/components/schemas/PointsRequest"})
    points_body.validate({"legs": [{"mode": "bus", "distance_m": 10}]})
    points_body.validate({"from": CENTRO, "to": BOM_FIM, "mode": "bike"})
    points_body.validate({"legs": [{"mode": "car_bev", "distance_m": 4000}],
                          "charged_at_public_pile": True})
    points_body.validate({"from": CENTRO, "to": BOM_FIM, "mode": "car_bev",
                          "charged_at_public_pile": True})
    with pytest.raises(jsonschema.ValidationError):
        points_body.validate({"legs": [{"mode": "car_bev", "distance_m": 4000}],
                              "charged_at_public_pile": "sometimes"})
    with pytest.raises(jsonschema.ValidationError):
        plan_body.validate({"from": CENTRO, "to": BOM_FIM, "colour": "green"})


def test_error_responses_of_every_kind_validate(spec):
    client = make_fake_app(TANLU_MAX_BODY_BYTES=256).test_client()
    for response, path, method in (
            (client.get("/v1/plan", query_string=plan_query(modes="ferry")), "/v1/plan", "get"),
            (client.post("/v1/plan", data="x" * 1000), "/v1/plan", "post"),
            (client.post("/v1/points", json={"legs": 3}), "/v1/points", "post")):
        check(spec, path, method, response)
    assert client.get("/nowhere").status_code == 404


def test_docs_page_lists_every_operation(client, spec):
    response = client.get("/docs")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "cdn" not in html.lower()
    for path, operations in spec["paths"].items():
        for op in operations.values():
            assert f'id="{op["operationId"]}"' in html and path in html
    assert "maxWalkDistance" in html
