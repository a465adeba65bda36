"""``crs`` on every interface, end to end on poa-in-wuxi (a real network where GCJ-02 applies).

The oracle is the WGS-84 answer: a plan sent in GCJ-02 or BD-09 must snap to the same street
nodes and stops and give the same itineraries, and each of its coordinates must be the
transform (graphs.crs, itself tested against published pairs) of the WGS-84 answer's.
"""
from __future__ import annotations

import json

import numpy as np
import polyline
import pytest

from api.app import create_app
from api.cli import main
from graphs.crs import from_wgs84

# Porto Alegre's Praça da Alfândega -> Bom Fim, moved by the sample's +61.52, +171.52.
ORIGIN = (31.4923, 120.2913)
DESTINATION = (31.4854, 120.3123)
FAR = (31.5200, 120.3700)             # ~8 km north-east: bus or metro
WHEN = "2019-05-07T12:00:00"          # a Tuesday noon: bus transfers on this pair
COORD_TOL_DEG = 1e-6
#: polyline6 rounds each answer to 1e-6 deg: two roundings apart at most 1e-6 deg (+ float).
POLYLINE_TOL_DEG = 1.0e-6 + 1e-9


@pytest.fixture(scope="module")
def client(wuxi_network):
    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": wuxi_network}).test_client()


def _text(point, crs: str) -> str:
    lat, lon = from_wgs84(point[0], point[1], crs)
    return f"{float(lat):.10f},{float(lon):.10f}"


def _plan(client, crs: str, to=FAR, **extra) -> dict:
    query = {"from": _text(ORIGIN, crs), "to": _text(to, crs), "at": WHEN,
             "modes": "walk,transit", **extra}
    if crs != "wgs84" or extra.pop("explicit", False):
        query["crs"] = crs
    response = client.get("/v1/plan", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _summary(plan: dict) -> list:
    """What must not change with the coordinate system: modes, routes, stops, times, CO2e."""
    return [[(leg["mode"], leg["route_id"], leg["from"]["stop_id"], leg["to"]["stop_id"],
              leg["departure"], leg["arrival"], round(leg["co2e_g"], 3),
              round(leg["distance_m"], 2)) for leg in it["legs"]]
            for it in plan["itineraries"]]


@pytest.fixture(scope="module")
def wgs_plan(client) -> dict:
    plan = _plan(client, "wgs84")
    assert plan["crs"] == "wgs84"
    assert any(place["stop_id"] for it in plan["itineraries"] for leg in it["legs"]
               for place in (leg["from"], leg["to"])), \
        "the pair should use transit (stops)"
    return plan


def _points(plan: dict) -> list[tuple[float, float]]:
    """Every (lat, lon) of a plan answer, in a fixed order (polylines excluded)."""
    out = [(plan["query"]["from"]["lat"], plan["query"]["from"]["lon"]),
           (plan["query"]["to"]["lat"], plan["query"]["to"]["lon"])]
    for it in plan["itineraries"]:
        for leg in it["legs"]:
            out += [(leg["from"]["lat"], leg["from"]["lon"]), (leg["to"]["lat"], leg["to"]["lon"])]
            out += [(lat, lon) for lon, lat in leg["geometry"]["coordinates"]]
    return out


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_shifted_plan_equals_the_wgs84_plan(client, wgs_plan, crs):
    shifted = _plan(client, crs)
    assert shifted["crs"] == crs
    assert _summary(shifted) == _summary(wgs_plan)
    # same street nodes: the snapped ends of the first and last legs are the same points
    expected = np.array(_points(wgs_plan))
    got = np.array(_points(shifted))
    assert got.shape == expected.shape
    want_lat, want_lon = from_wgs84(expected[:, 0], expected[:, 1], crs)
    assert np.max(np.abs(got[:, 0] - want_lat)) <= COORD_TOL_DEG
    assert np.max(np.abs(got[:, 1] - want_lon)) <= COORD_TOL_DEG
    # the shift is real (hundreds of metres), so comparing would catch a missed field
    assert np.max(np.abs(got - expected)) > 1e-3
    for it_w, it_s in zip(wgs_plan["itineraries"], shifted["itineraries"], strict=True):
        for leg_w, leg_s in zip(it_w["legs"], it_s["legs"], strict=True):
            line_w = np.array(polyline.decode(leg_w["polyline6"], 6))
            line_s = np.array(polyline.decode(leg_s["polyline6"], 6))
            lat, lon = from_wgs84(line_w[:, 0], line_w[:, 1], crs)
            assert np.max(np.abs(line_s[:, 0] - lat)) <= POLYLINE_TOL_DEG
            assert np.max(np.abs(line_s[:, 1] - lon)) <= POLYLINE_TOL_DEG


def test_post_and_explicit_wgs84_agree(client, wgs_plan):
    body = {"from": {"lat": ORIGIN[0], "lon": ORIGIN[1]}, "to": _text(FAR, "wgs84"),
            "at": WHEN, "modes": "walk,transit", "crs": "WGS-84"}
    response = client.post("/v1/plan", json=body)
    assert response.status_code == 200 and response.get_json()["crs"] == "wgs84"
    gcj = dict(body, crs="gcj02", **{"from": _text(ORIGIN, "gcj02"), "to": _text(FAR, "gcj02")})
    answer = client.post("/v1/plan", json=gcj).get_json()
    assert answer["crs"] == "gcj02" and _summary(answer) == _summary(wgs_plan)


def test_points_for_a_trip_answers_in_crs(client):
    body = {"from": _text(ORIGIN, "bd09"), "to": _text(DESTINATION, "bd09"), "at": WHEN,
            "mode": "bike", "crs": "bd09"}
    shifted = client.post("/v1/points", json=body)
    assert shifted.status_code == 200, shifted.get_data(as_text=True)
    plain = client.post("/v1/points", json=dict(body, crs="wgs84", **{
        "from": _text(ORIGIN, "wgs84"), "to": _text(DESTINATION, "wgs84")})).get_json()
    shifted = shifted.get_json()
    assert shifted["crs"] == "bd09" and plain["crs"] == "wgs84"
    # the round trip moves the origin by ~1e-10 deg: equal to float noise
    assert shifted["points"]["points"] == plain["points"]["points"]
    assert shifted["co2e_g"] == pytest.approx(plain["co2e_g"], rel=1e-9)
    assert shifted["reduction_g"] == pytest.approx(plain["reduction_g"], rel=1e-6)
    leg_s, leg_w = shifted["itinerary"]["legs"][0], plain["itinerary"]["legs"][0]
    lat, lon = from_wgs84(leg_w["from"]["lat"], leg_w["from"]["lon"], "bd09")
    assert abs(leg_s["from"]["lat"] - lat) <= COORD_TOL_DEG
    assert abs(leg_s["from"]["lon"] - lon) <= COORD_TOL_DEG


@pytest.mark.parametrize("where", ["get", "post", "points", "embed"])
def test_bad_crs_is_a_400_naming_crs(client, where):
    point = _text(ORIGIN, "wgs84")
    if where == "get":
        response = client.get("/v1/plan", query_string={"from": point, "to": point,
                                                         "crs": "mars"})
    elif where == "post":
        response = client.post("/v1/plan", json={"from": point, "to": point, "crs": 42})
    elif where == "points":
        response = client.post("/v1/points", json={"from": point, "to": point, "mode": "walk",
                                                   "crs": "utm"})
    else:
        response = client.get("/embed", query_string={"from": point, "to": point,
                                                      "crs": "mars"})
        assert response.status_code == 400 and "crs" in response.get_data(as_text=True)
        return
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_crs" and error["field"] == "crs"
    assert "gcj02" in error["message"]


def test_openapi_documents_crs(client):
    spec = client.get("/openapi.json").get_json()
    params = {p["name"]: p for p in spec["paths"]["/v1/plan"]["get"]["parameters"]}
    assert params["crs"]["schema"]["enum"] == ["wgs84", "gcj02", "bd09"]


def test_embed_draws_in_the_tile_crs(wuxi_network):
    def lines(tile_crs: str | None, **extra) -> np.ndarray:
        config = {"TESTING": True, "TANLU_LOADED_NETWORK": wuxi_network}
        if tile_crs:
            config["TANLU_TILE_CRS"] = tile_crs
        client = create_app(config).test_client()
        query = {"from": _text(ORIGIN, extra.get("crs", "wgs84")),
                 "to": _text(FAR, extra.get("crs", "wgs84")), "at": WHEN, **extra}
        page = client.get("/embed", query_string=query).get_data(as_text=True)
        data = json.loads(page.split('<script id="tanlu-data" type="application/json">')[1]
                          .split("</script>")[0])
        assert data["tiles"]["crs"] == (tile_crs or "wgs84")
        return np.array([p for it in data["view"]["itineraries"] for leg in it["legs"]
                         for p in leg["line"]])

    wgs = lines(None)
    gcj = lines("gcj02")
    lat, lon = from_wgs84(wgs[:, 0], wgs[:, 1], "gcj02")
    assert np.max(np.abs(gcj[:, 0] - lat)) <= 1e-6 and np.max(np.abs(gcj[:, 1] - lon)) <= 1e-6
    # points sent in GCJ-02 on a WGS-84-tiled page: the same route, drawn in WGS-84
    assert np.max(np.abs(lines(None, crs="gcj02") - wgs)) <= 1e-6


def test_tile_crs_setting_is_checked():
    from api.settings import SettingsError, settings_from_env

    assert settings_from_env({"TANLU_TILE_CRS": "GCJ-02"}).tile_crs == "gcj02"
    with pytest.raises(SettingsError, match="TANLU_TILE_CRS"):
        settings_from_env({"TANLU_TILE_CRS": "mercator"})


def test_cli_plan_crs(wuxi_artifact, capsys):
    def run(crs: str) -> dict:
        code = main(["plan", "--network", str(wuxi_artifact), "--from", _text(ORIGIN, crs),
                     "--to", _text(DESTINATION, crs), "--at", WHEN, "--modes", "walk,bike",
                     "--crs", crs])
        assert code == 0
        return json.loads(capsys.readouterr().out)

    wgs, gcj = run("wgs84"), run("gcj02")
    assert gcj["crs"] == "gcj02" and _summary(gcj) == _summary(wgs)
    expected, got = np.array(_points(wgs)), np.array(_points(gcj))
    lat, lon = from_wgs84(expected[:, 0], expected[:, 1], "gcj02")
    assert np.max(np.abs(got[:, 0] - lat)) <= COORD_TOL_DEG
    assert np.max(np.abs(got[:, 1] - lon)) <= COORD_TOL_DEG
    assert main(["plan", "--network", str(wuxi_artifact), "--from", _text(ORIGIN, "wgs84"),
                 "--to", _text(DESTINATION, "wgs84"), "--crs", "mars"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--crs" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_cli_audit_crs(wuxi_artifact, tmp_path, capsys, crs):
    """Trips recorded in GCJ-02/BD-09 audit as the same trips in WGS-84; the results' coordinate
    columns are in the input's system and the summary says which."""
    import pandas as pd

    pairs = [(ORIGIN, DESTINATION, "bike"), (ORIGIN, FAR, "walk+bus"), (DESTINATION, ORIGIN, "walk")]

    def write(system: str) -> tuple:
        rows = ["trip_id,user_id,started_at,ended_at,origin_lat,origin_lon,dest_lat,dest_lon,"
                "claimed_mode"]
        for i, (a, b, mode) in enumerate(pairs):
            rows.append(f"t{i},u{i},{WHEN},2019-05-07T12:40:00,{_text(a, system)},"
                        f"{_text(b, system)},{mode}")
        rows.append(f"bad,u9,{WHEN},2019-05-07T12:40:00,91,120,31.5,120.3,walk")
        path = tmp_path / f"{system}.csv"
        path.write_text("\n".join(rows) + "\n")
        out, summary = tmp_path / f"{system}.parquet", tmp_path / f"{system}.json"
        assert main(["audit", str(path), "--network", str(wuxi_artifact), "--out", str(out),
                     "--summary", str(summary), "--workers", "1", "--quiet", "--crs",
                     system]) == 0
        return pd.read_parquet(out), json.loads(summary.read_text()), path

    wgs, _, _ = write("wgs84")
    shifted, summary, path = write(crs)
    assert summary["about"]["crs"] == crs
    assert len(shifted) == len(pairs) == len(wgs)
    for column in ("co2e_g", "points_due", "baseline_co2e_g", "flagged"):
        np.testing.assert_allclose(shifted[column].astype(float), wgs[column].astype(float),
                                   rtol=1e-6)
    given = pd.read_csv(path).iloc[:len(pairs)]
    for column in ("origin_lat", "origin_lon", "dest_lat", "dest_lon"):
        np.testing.assert_allclose(shifted[column], given[column], atol=1e-9)
    with pytest.raises(SystemExit) as exited:   # argparse's choices: exit 2 naming --crs
        main(["audit", str(path), "--network", str(wuxi_artifact), "--out",
              str(tmp_path / "x.parquet"), "--crs", "mars"])
    assert exited.value.code == 2 and "--crs" in capsys.readouterr().err


def test_cli_export_crs(wuxi_artifact, tmp_path, capsys):
    """GeoJSON stops in GCJ-02 are the transform of the WGS-84 export's, written without a CRS."""
    def stops(crs: str) -> dict:
        out = tmp_path / f"{crs}.geojson"
        assert main(["export", str(wuxi_artifact), "--out", str(out), "--crs", crs]) == 0
        capsys.readouterr()
        return json.loads((tmp_path / f"{crs}.stops.geojson").read_text())

    wgs, gcj = stops("wgs84"), stops("gcj02")
    a = np.array([f["geometry"]["coordinates"] for f in wgs["features"]])
    b = np.array([f["geometry"]["coordinates"] for f in gcj["features"]])
    lat, lon = from_wgs84(a[:, 1], a[:, 0], "gcj02")
    assert np.max(np.abs(b[:, 0] - lon)) <= 1e-7 and np.max(np.abs(b[:, 1] - lat)) <= 1e-7
    assert np.max(np.abs(b - a)) > 1e-3
    assert "crs" not in gcj
    assert main(["export", str(wuxi_artifact), "--out", str(tmp_path / "x.gpkg"),
                 "--crs", "mars"]) == 2
