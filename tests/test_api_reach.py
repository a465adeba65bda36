"""GET /v1/reach and ``tanlu reach``: the GeoJSON shape (against the OpenAPI schema and the
planner's own result), crs, the city prefix, and bad input as 400 / exit 2 naming the field."""
from __future__ import annotations

import json
from datetime import datetime

import jsonschema
import numpy as np
import pytest

from api.app import create_app
from api.cli import main
from planner import Planner
from planner.reach import MAX_REACH_MINUTES, make_reach_query, reach_map

CENTRO = "-30.0277,-51.2287"
AT = "2019-05-13T12:30"


@pytest.fixture(scope="module")
def client(poa_network):
    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network}).test_client()


@pytest.fixture(scope="module")
def spec(client):
    return client.get("/openapi.json").get_json()


def _validate(spec, body):
    schema = dict(spec["components"]["schemas"]["Reach"], components=spec["components"])
    jsonschema.Draft202012Validator(schema).validate(body)


def test_reach_answer_is_the_planners_reach_as_geojson(client, spec, poa_network):
    response = client.get("/v1/reach", query_string={"from": CENTRO, "at": AT, "minutes": 20,
                                                     "bandMinutes": 5})
    assert response.status_code == 200
    body = response.get_json()
    _validate(spec, body)
    reach = reach_map(Planner(poa_network), make_reach_query(
        origin=(-30.0277, -51.2287), when=datetime.fromisoformat(AT), minutes=20,
        band_minutes=5, timezone="America/Sao_Paulo"))
    kinds = [f["properties"]["kind"] for f in body["features"]]
    assert kinds == (["time_band"] * len(reach.time_bands) + ["co2e_band"] * len(reach.co2e_bands)
                     + ["stop"] * len(reach.stops))
    bands = [f["properties"] for f in body["features"] if f["properties"]["kind"] == "time_band"]
    assert [(b["low"], b["high"], b["cells"]) for b in bands] == [
        (b.low, b.high, b.cells) for b in reach.time_bands]
    assert [b["high"] for b in bands] == [5, 10, 15, 20][:len(bands)]
    stops = {f["properties"]["stop_id"]: f for f in body["features"]
             if f["properties"]["kind"] == "stop"}
    assert set(stops) == {s.stop_id for s in reach.stops}
    for s in reach.stops[::50]:
        got = stops[s.stop_id]
        assert got["geometry"]["coordinates"] == [s.lon, s.lat]
        assert got["properties"]["minutes"] == pytest.approx(s.minutes, abs=1e-3)
        assert got["properties"]["co2e_g"] == pytest.approx(s.co2e_g, abs=1e-3)
        assert got["properties"]["minutes"] <= 20
    assert body["summary"]["stops"] == len(reach.stops) and body["crs"] == "wgs84"
    assert body["query"]["modes"] == ["transit", "walk"]


def test_nodes_are_listed_on_request(client):
    body = client.get("/v1/reach", query_string={"from": CENTRO, "at": AT, "minutes": 5,
                                                 "modes": "walk", "nodes": "true"}).get_json()
    nodes = [f for f in body["features"] if f["properties"]["kind"] == "node"]
    assert len(nodes) == body["summary"]["nodes"] > 0
    assert all(f["properties"]["minutes"] <= 5 and f["properties"]["co2e_g"] == 0 for f in nodes)
    stops = [f for f in body["features"] if f["properties"]["kind"] == "stop"]
    assert len(stops) == body["summary"]["stops"] > 0  # stops walked to, at 0 g
    assert all(f["properties"]["co2e_g"] == 0 and f["properties"]["minutes"] <= 5 for f in stops)


def test_crs_converts_every_coordinate(wuxi_network):
    """In Wuxi (China) gcj02 moves points by hundreds of metres: stops and polygons follow."""
    from graphs.crs import Crs, from_wgs84, to_wgs84

    client = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": wuxi_network}).test_client()
    coverage = client.get("/v1/coverage").get_json()
    west, south, east, north = coverage["bbox"]
    lat, lon = (south + north) / 2, (west + east) / 2
    query = {"from": f"{lat},{lon}", "at": AT, "minutes": 15}
    plain = client.get("/v1/reach", query_string=query).get_json()
    g_lat, g_lon = from_wgs84(np.array([lat]), np.array([lon]), Crs.GCJ02)
    gcj = client.get("/v1/reach", query_string={**query, "from": f"{g_lat[0]},{g_lon[0]}",
                                                "crs": "gcj02"}).get_json()
    assert gcj["crs"] == "gcj02" and gcj["summary"] == plain["summary"]
    a = [f for f in plain["features"] if f["properties"]["kind"] == "stop"][0]
    b = [f for f in gcj["features"] if f["properties"]["kind"] == "stop"][0]
    assert a["properties"]["stop_id"] == b["properties"]["stop_id"]
    x, y = b["geometry"]["coordinates"]
    back = to_wgs84(np.array([y]), np.array([x]), Crs.GCJ02)
    assert [float(back[1][0]), float(back[0][0])] == pytest.approx(a["geometry"]["coordinates"],
                                                                   abs=1e-5)
    assert abs(x - a["geometry"]["coordinates"][0]) > 1e-4  # really moved
    ring = gcj["features"][0]["geometry"]["coordinates"]
    assert ring != plain["features"][0]["geometry"]["coordinates"]


def test_city_prefix(poa_artifact):
    client = create_app({"TESTING": True, "TANLU_NETWORKS": [f"poa={poa_artifact}"],
                         "TANLU_RELOAD_INTERVAL_S": 0.0}).test_client()
    response = client.get("/v1/poa/reach", query_string={"from": CENTRO, "at": AT,
                                                         "minutes": 5})
    assert response.status_code == 200 and response.get_json()["summary"]["stops"] > 0
    assert client.get("/v1/nowhere/reach", query_string={"from": CENTRO}).status_code == 404


@pytest.mark.parametrize("query,field,code", [
    ({"minutes": 0}, "minutes", "invalid_integer"),
    ({"minutes": MAX_REACH_MINUTES + 1}, "minutes", "invalid_integer"),
    ({"minutes": "2.5"}, "minutes", "invalid_integer"),
    ({"bandMinutes": 61}, "bandMinutes", "invalid_integer"),
    ({"modes": "car"}, "modes", "unknown_mode"),
    ({"modes": "walk,taxi"}, "modes", "unknown_mode"),
    ({"modes": "teleport"}, "modes", "unknown_mode"),
    ({"modes": "walk,car_petrol+transit"}, "modes", "unknown_mode"),
    ({"from": "1,2"}, "from", "outside_coverage"),
    ({"from": "nope"}, "from", "invalid_coordinates"),
    ({"at": "2030-01-01T08:00"}, "at", "date_out_of_service"),
    ({"to": CENTRO}, "to", "unknown_parameter"),
    ({"crs": "utm"}, "crs", "invalid_crs"),
])
def test_bad_parameters_are_400_naming_the_field(client, spec, query, field, code):
    response = client.get("/v1/reach", query_string={"from": CENTRO, "at": AT, **query})
    assert response.status_code == (422 if code == "outside_coverage" else 400)
    body = response.get_json()
    assert body["error"]["field"] == field and body["error"]["code"] == code
    jsonschema.Draft202012Validator(dict(spec["components"]["schemas"]["Error"])).validate(body)


# ---------------------------------------------------------------------------------- CLI
def test_cli_geojson_and_table(poa_artifact, capsys):
    args = ["reach", "--network", str(poa_artifact), "--from", CENTRO, "--at", AT,
            "--minutes", "10"]
    assert main(args) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["type"] == "FeatureCollection" and body["query"]["minutes"] == 10
    stops = [f for f in body["features"] if f["properties"]["kind"] == "stop"]
    assert len(stops) == body["summary"]["stops"] > 0
    assert main([*args, "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"reach from -30.02770,-51.22870 at 2019-05-13 12:30 within 10 min "
                          f"by transit,walk: {len(stops):,} stops")
    first = min(stops, key=lambda f: (f["properties"]["minutes"], f["properties"]["co2e_g"],
                                      f["properties"]["stop_id"]))
    assert first["properties"]["stop_id"] in out.splitlines()[out.splitlines().index(
        next(line for line in out.splitlines() if line.strip().startswith("arrive"))) + 1]


@pytest.mark.parametrize("extra,option", [
    (["--minutes", "0"], "--minutes"), (["--minutes", str(MAX_REACH_MINUTES + 1)], "--minutes"),
    (["--minutes", "ten"], "--minutes"), (["--modes", "car"], "--modes"),
    (["--modes", "rocket"], "--modes"), (["--modes", "walk,taxi+transit"], "--modes"), (["--band-minutes", "0"], "--band-minutes"),
    (["--format", "csv"], "--format"), (["--at", "2030-01-01T08:00"], "--at"),
    (["--from", "1,2"], "--from"), (["--crs", "utm"], "--crs"),
])
def test_cli_bad_input_exits_2_with_one_line(poa_artifact, capsys, extra, option):
    args = ["reach", "--network", str(poa_artifact), "--from", CENTRO, "--at", AT, *extra]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert err.startswith("tanlu reach: error: ") and option in err
