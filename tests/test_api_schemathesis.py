"""schemathesis against /openapi.json on the real Porto Alegre network, in bounded time: every
documented operation (each also under /v1/{city}) gets a few generated requests, valid and
not, and none may be answered with a 5xx.

Generating query strings for the GET plan operations (about 20 constrained parameters) takes
schemathesis 5-40 s per example, so those get a few invalid ones only (the spec's examples and
tests/test_api_fuzz.py's hypothesis query strings cover the rest); their POST twins take the
same options as a JSON body and get both kinds."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

#: Examples per operation: about 30 operations, well under a minute on the 2-core machine.
EXAMPLES = 6
SLOW_TO_GENERATE = ("/v1/plan", "/v1/{city}/plan", "/embed")
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                   phases=[Phase.explicit, Phase.generate],
                   suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def api_schema(poa_artifact):
    from api.app import create_app

    app = create_app({"TESTING": True, "TANLU_NETWORKS": [f"poa={poa_artifact}"],
                      "TANLU_RELOAD_INTERVAL_S": 0.0})
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema").exclude(
    method="GET", path=list(SLOW_TO_GENERATE))


@schema.parametrize()
@BOUNDED
def test_no_server_errors(case):
    case.call_and_validate(checks=[not_a_server_error])


@pytest.mark.parametrize("path", SLOW_TO_GENERATE)
def test_no_server_errors_on_get_plan_operations(api_schema, path):
    operation = api_schema[path]["GET"]
    statuses = []

    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @settings(BOUNDED, max_examples=2)
    def invalid(case):
        response = case.call()
        statuses.append(response.status_code)
        not_a_server_error_free(response)

    invalid()
    assert statuses and all(400 <= status < 500 for status in statuses), statuses


def not_a_server_error_free(response) -> None:
    assert response.status_code < 500, response.text[:500]
