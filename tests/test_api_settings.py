"""api.settings and the headers it drives: CSP frame-ancestors, CORS, body limit, tiles."""
from __future__ import annotations

from pathlib import Path

import pytest
from api_fakes import make_fake_app, plan_query

from api.settings import (DEFAULT_FRAME_ANCESTORS, DEFAULT_MAX_BODY_BYTES, DEFAULT_TILE_URL,
                          SettingsError, settings_from_env)


def test_defaults_without_variables():
    settings = settings_from_env({})
    assert settings.network_path is None and settings.tile_url == DEFAULT_TILE_URL
    assert settings.frame_ancestors == DEFAULT_FRAME_ANCESTORS == "'self'"
    assert settings.max_body_bytes == DEFAULT_MAX_BODY_BYTES and settings.cors_origins == ("*",)


def test_variables_are_read():
    settings = settings_from_env({
        "TANLU_NETWORK": "/srv/city.tanlu", "TANLU_TILE_URL": "https://tiles.example.cn/{z}/{x}/{y}.png",
        "TANLU_FRAME_ANCESTORS": "'self' https://www.example.gov.cn",
        "TANLU_CORS_ORIGINS": "https://a.example.cn, https://b.example.cn",
        "TANLU_MAX_BODY_BYTES": "2048", "TANLU_POINTS_RULES": "flat_per_ride"})
    assert settings.network_path == Path("/srv/city.tanlu")
    assert settings.cors_origins == ("https://a.example.cn", "https://b.example.cn")
    assert settings.max_body_bytes == 2048 and settings.points_rules == "flat_per_ride"
    assert settings_from_env({"TANLU_CORS_ORIGINS": ""}).cors_origins == ()


def test_accounting_variables_are_read():
    settings = settings_from_env({
        "TANLU_METHODOLOGY": "shenzhen-2021",
        "TANLU_ALLOWED_METHODOLOGIES": "tanlu-car, shenzhen-2021,",
        "TANLU_PILE_LIST": "/srv/piles.csv", "TANLU_PILE_DISTANCE_M": "150"})
    assert settings.methodology == "shenzhen-2021"
    assert settings.allowed_methodologies == ("tanlu-car", "shenzhen-2021")
    assert settings.pile_list == Path("/srv/piles.csv") and settings.pile_distance_m == 150.0
    defaults = settings_from_env({})
    assert defaults.methodology is None and defaults.allowed_methodologies == ()
    assert defaults.pile_list is None and defaults.pile_distance_m == 200.0


@pytest.mark.parametrize("name, value", [
    ("TANLU_MAX_BODY_BYTES", "lots"), ("TANLU_MAX_BODY_BYTES", "0"),
    ("TANLU_TILE_URL", "javascript:alert(1)"), ("TANLU_TILE_URL", "https://x/\"onload"),
    ("TANLU_FRAME_ANCESTORS", "'self'; script-src *"),
    ("TANLU_PILE_DISTANCE_M", "near"), ("TANLU_PILE_DISTANCE_M", "-5"),
    ("TANLU_PILE_DISTANCE_M", "inf"),
])
def test_unusable_values_name_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        settings_from_env({name: value})


def test_frame_ancestors_and_tile_origin_reach_the_embed_csp():
    client = make_fake_app(TANLU_FRAME_ANCESTORS="https://www.example.gov.cn",
                           TANLU_TILE_URL="https://{s}.tiles.example.cn/{z}/{x}/{y}.png"
                           ).test_client()
    response = client.get("/embed", query_string=plan_query())
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors https://www.example.gov.cn" in csp
    assert "img-src 'self' data: https://*.tiles.example.cn" in csp
    assert "script-src 'self';" in csp and "unsafe-eval" not in csp
    assert "https://{s}.tiles.example.cn/{z}/{x}/{y}.png" in response.get_data(as_text=True)


def test_cors_on_the_json_api_only_for_configured_origins():
    client = make_fake_app(TANLU_CORS_ORIGINS=("https://www.example.gov.cn",)).test_client()
    allowed = client.get("/v1/coverage", headers={"Origin": "https://www.example.gov.cn"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://www.example.gov.cn"
    other = client.get("/v1/coverage", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options("/v1/plan", headers={
        "Origin": "https://www.example.gov.cn", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    embed = client.get("/embed", query_string=plan_query(),
                       headers={"Origin": "https://www.example.gov.cn"})
    assert "Access-Control-Allow-Origin" not in embed.headers


def test_cors_disabled_with_no_origins():
    client = make_fake_app(TANLU_CORS_ORIGINS=()).test_client()
    response = client.get("/v1/coverage", headers={"Origin": "https://www.example.gov.cn"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_embed_never_reflects_parameters_unescaped():
    client = make_fake_app().test_client()
    evil = "\"><script>alert(1)</script>"
    page = client.get("/embed", query_string={**plan_query(), "from": evil})
    assert page.status_code == 400 and "<script>alert" not in page.get_data(as_text=True)
    assert "&lt;script&gt;" in page.get_data(as_text=True)
    ok = client.get("/embed", query_string=plan_query(utm_source=evil)).get_data(as_text=True)
    assert "<script>alert" not in ok
    # stop names with markup are escaped in the list and in the JSON data block
    assert "Stop <A>" not in ok and "Stop &lt;A&gt;" in ok and "Stop \\u003cA\\u003e" in ok


@pytest.mark.parametrize("path", ["/embed", "/v1/plan"])
def test_no_parameter_is_reflected_as_markup(path):
    client = make_fake_app().test_client()
    evil = "<script>alert(1)</script>'\"&"
    names = [*plan_query(), "arriveBy", "modes", "transitModes", "walkSpeed", "maxTransfers",
             "budget", "lang", "<b>"]
    for name in names:
        for language in ("en", "zh"):
            response = client.get(path, query_string={**plan_query(), name: evil},
                                  headers={"Accept-Language": language})
            text = response.get_data(as_text=True)
            ignored = path == "/embed" and name == "<b>"   # /embed ignores unknown names
            assert response.status_code == (200 if ignored else 400), (name, text)
            assert "<script>alert" not in text and "<b>" not in text, (name, text)
            if path == "/v1/plan":  # escaped as JSON \u003c: the data is unchanged
                assert response.get_json()["error"]["code"]
    missing = client.get("/<img src=x>").get_data(as_text=True)
    assert "<img" not in missing and "\\u003cimg" in missing
