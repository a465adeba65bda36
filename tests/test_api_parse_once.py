"""One parser per value at the HTTP and CLI edges: synonyms, the service-date rule shared by
/v1/plan and `tanlu plan`, the swapped lat/lon hint, extreme dates and lone surrogates (400,
never 500), the favicon and the CLI's default time in the network's timezone."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from api.app import create_app
from api.cli import main

FROM, TO = "-30.0277,-51.2287", "-30.0346,-51.2177"
SWAPPED_FROM = "-51.2287,-30.0277"
IN_SERVICE = "2019-05-13T08:00"
OUT_OF_SERVICE = "2030-05-13T08:00"


@pytest.fixture(scope="module")
def client(poa_network):
    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()


def _error(response) -> dict:
    assert response.status_code < 500, response.get_data(as_text=True)
    return response.get_json()["error"]


def _cli_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return err.splitlines()[-1]


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59", "0001-01-01", "0001-01-01T00:00:00+14:00"])
def test_extreme_dates_are_400_naming_at_everywhere(client, at):
    plan = client.get("/v1/plan", query_string={"from": FROM, "to": TO, "at": at,
                                                "modes": "walk"})
    assert plan.status_code == 400 and _error(plan)["field"] == "at"
    posted = client.post("/v1/plan", json={"from": FROM, "to": TO, "at": at, "modes": "walk"})
    assert posted.status_code == 400 and _error(posted)["field"] == "at"
    points = client.post("/v1/points", json={"from": FROM, "to": TO, "at": at, "mode": "walk"})
    assert points.status_code == 400 and _error(points)["field"] == "at"
    embed = client.get("/embed", query_string={"from": FROM, "to": TO, "at": at})
    assert embed.status_code == 400
    assert "at" in embed.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/v1/plan", "/v1/points"])
def test_a_lone_surrogate_in_a_json_body_is_400(client, path):
    for body in ('{"from": "\\ud800", "to": "-30.03,-51.22"}', '{"\\udfff": 1}',
                 '{"legs": [{"mode": "\\ud800walk", "distance_m": 5}]}'):
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 400
        assert _error(response)["code"] == "invalid_json"


def test_favicon_is_not_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 204


def test_mode_synonyms_over_http_answer_with_canonical_names(client):
    words = client.get("/v1/plan", query_string={"from": FROM, "to": TO, "at": IN_SERVICE,
                                                 "modes": "步行,Bicycle,公交"})
    canonical = client.get("/v1/plan", query_string={"from": FROM, "to": TO, "at": IN_SERVICE,
                                                     "modes": "walk,bike,bus"})
    assert words.status_code == canonical.status_code == 200
    assert words.get_json() == canonical.get_json()
    modes = {leg["mode"] for it in words.get_json()["itineraries"] for leg in it["legs"]}
    assert modes <= {"walk", "bike", "bus"}
    bad = client.get("/v1/plan", query_string={"from": FROM, "to": TO, "modes": "walk,飞机"})
    error = _error(bad)
    assert bad.status_code == 400 and error["code"] == "unknown_mode" and "飞机" in error["message"]
    legs = client.post("/v1/points", json={"legs": [{"mode": "公交车", "distance_m": 5000}]})
    assert legs.status_code == 200 and legs.get_json()["legs"][0]["mode"] == "bus"
    trip = client.post("/v1/points", json={"from": FROM, "to": TO, "at": IN_SERVICE,
                                           "mode": "骑行"})
    assert trip.status_code == 200 and trip.get_json()["mode"] == "bike"


@pytest.mark.parametrize("modes, refused", [
    ("walk,bike,transit", True), ("walk,bus", True), ("transit", True), ("walk,bike", False)])
def test_cli_refuses_a_date_outside_service_exactly_when_http_does(client, poa_artifact, capsys,
                                                                   modes, refused):
    http = client.get("/v1/plan", query_string={"from": FROM, "to": TO, "at": OUT_OF_SERVICE,
                                                "modes": modes})
    code = main(["plan", "--network", str(poa_artifact), "--from", FROM, "--to", TO,
                 "--at", OUT_OF_SERVICE, "--modes", modes])
    assert (http.status_code == 400) is refused
    assert (code == 2) is refused
    if refused:
        assert _error(http)["code"] == "date_out_of_service"
        line = _cli_error(capsys)
        assert "--at" in line and "service dates" in line
    else:
        assert http.status_code == 200
        capsys.readouterr()


def test_swapped_lat_lon_gets_a_hint_over_http_and_cli(client, poa_artifact, capsys):
    http = client.get("/v1/plan", query_string={"from": SWAPPED_FROM, "to": TO, "at": IN_SERVICE})
    error = _error(http)
    assert http.status_code == 422 and "did you swap lat and lon" in error["message"]
    assert main(["plan", "--network", str(poa_artifact), "--from", SWAPPED_FROM, "--to", TO,
                 "--at", IN_SERVICE, "--modes", "walk"]) == 2
    assert "did you swap lat and lon" in _cli_error(capsys)
    # a point that is merely far away gets no such hint
    http = client.get("/v1/plan", query_string={"from": "10.0,10.0", "to": TO, "at": IN_SERVICE})
    assert "swap" not in _error(http)["message"]


def test_cli_without_at_plans_now_in_the_networks_timezone(poa_network):
    from api.cli import build_parser
    from api.commands.plan import _options

    # the real parser, so options added to `tanlu plan` later get their defaults here too
    args = build_parser().parse_args(["plan", "--network", "unused.tanlu", "--from", FROM,
                                      "--to", TO, "--modes", "步行"])
    now = datetime(2019, 5, 13, 15, 0, tzinfo=timezone.utc)   # 12:00 in Porto Alegre
    options = _options(args, poa_network.timezone, now=now)
    assert options["when"] == now
    assert options["when"].tzinfo == ZoneInfo(poa_network.timezone)
    assert (options["when"].hour, options["when"].utcoffset().total_seconds()) == (12, -3 * 3600)
    assert options["modes"] == ("walk",)
    assert options["origin"] == (-30.0277, -51.2287)


def test_cli_plan_accepts_synonyms_and_prints_canonical_names(poa_artifact, capsys):
    assert main(["plan", "--network", str(poa_artifact), "--from", FROM, "--to", TO,
                 "--at", IN_SERVICE, "--modes", "Walking,骑行"]) == 0
    plan = json.loads(capsys.readouterr().out)
    used = {leg["mode"] for it in plan["itineraries"] for leg in it["legs"]}
    assert "bike" in used and used <= {"walk", "bike"}     # walk may be dominated by the bike
    assert main(["plan", "--network", str(poa_artifact), "--from", FROM, "--to", TO,
                 "--modes", "walk,hovercraft"]) == 2
    line = _cli_error(capsys)
    assert "--modes" in line and "hovercraft" in line
