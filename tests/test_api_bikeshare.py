"""Shared bikes over HTTP and the CLI: live GBFS polling, fallback notices, JSON legs, errors."""
from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_api_openapi import check

from api.app import create_app
from api.gbfs_live import GbfsPoller, GbfsSource, fetch_gbfs, parse_gbfs_specs
from api.settings import SettingsError
from graphs.gbfs import GbfsError
from tests.gbfs_feeds import write_feed

FIXTURE = Path(__file__).parent / "fixtures" / "gbfs_poa"
BASE = {"from": "-30.006400,-51.198500", "to": "-30.027500,-51.227000",
        "at": "2019-05-13T08:00:00", "modes": "walk,bikeshare+transit"}
FETCHED = datetime(2019, 5, 13, 11, 0, 10, tzinfo=UTC)  # 10 s after the fixture's snapshot


def _app(poa_network, location):
    """A server polling ``location`` (the wall clock decides staleness)."""
    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network,
                       "TANLU_GBFS": [str(location)]})


def _polled(poa_network, location, now=FETCHED):
    """A server whose poller fetched ``location`` at ``now`` (the fixture's time)."""
    from api.state import EXTENSION_KEY

    app = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network})
    poller = GbfsPoller(app.extensions[EXTENSION_KEY], parse_gbfs_specs([str(location)]))
    poller.poll_once(now)
    return app.test_client(), poller


def _shared_legs(body):
    return [leg for it in body["itineraries"] for leg in it["legs"]
            if leg["note"] in ("rent", "ride", "return")]


def test_specs_and_fetch_errors(tmp_path):
    assert parse_gbfs_specs(["poa=/data/gbfs"]) == [GbfsSource("poa", "/data/gbfs")]
    assert parse_gbfs_specs(["https://x.org/gbfs.json?a=b"]) == [
        GbfsSource(None, "https://x.org/gbfs.json?a=b")]
    with pytest.raises(SettingsError):
        parse_gbfs_specs(["poa="])
    with pytest.raises(SettingsError):
        parse_gbfs_specs(["/a", "/b"])
    with pytest.raises(GbfsError):
        fetch_gbfs(str(tmp_path / "missing"))
    with pytest.raises(GbfsError):  # a refused connection is an error, never a traceback
        fetch_gbfs("http://127.0.0.1:9/gbfs.json", timeout_s=2)


def test_plan_json_has_rent_ride_return_with_ids(poa_network, tmp_path):
    feed = shutil.copytree(FIXTURE / "v2.3", tmp_path / "feed")
    client, _ = _polled(poa_network, feed)
    answer = client.get("/v1/plan", query_string=BASE)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["query"]["access_modes"] == ["bikeshare"]
    legs = _shared_legs(body)
    assert {leg["note"] for leg in legs} == {"rent", "ride", "return"}
    assert all(leg["mode"] == "bikeshare" and leg["vehicle_id"] for leg in legs
               if leg["from"].get("station_id") is None)
    for it in body["itineraries"]:
        assert sum(leg["co2e_g"] for leg in it["legs"]) == pytest.approx(it["co2e_g"])
    spec = client.get("/openapi.json").get_json()
    check(spec, "/v1/plan", "get", answer)
    # the spec documents the new fields
    leg_schema = spec["components"]["schemas"]["Leg"]["properties"]
    assert "vehicle_id" in leg_schema and "rent" in leg_schema["note"]["description"]
    assert "station_id" in spec["components"]["schemas"]["Place"]["properties"]


def test_broken_feed_falls_back_to_the_last_good_with_a_notice(poa_network, tmp_path, caplog):
    feed = shutil.copytree(FIXTURE / "v2.3", tmp_path / "feed")
    client, poller = _polled(poa_network, feed)
    before = client.get("/v1/plan", query_string=BASE).get_json()
    assert _shared_legs(before)
    (feed / "station_status.json").write_text("{not json", encoding="utf-8")
    poller.poll_once(FETCHED + timedelta(minutes=1))
    answer = client.get("/v1/plan", query_string=BASE)
    assert answer.status_code == 200
    body = answer.get_json()
    assert any("last fetch failed" in n and "station_status.json" in n for n in body["notices"])
    assert _shared_legs(body) == _shared_legs(before)  # the last good snapshot still plans
    assert any("gbfs" in r.name and "station_status.json" in r.getMessage()
               for r in caplog.records)
    # repaired: the notice goes away
    shutil.copy(FIXTURE / "v2.3" / "station_status.json", feed / "station_status.json")
    poller.poll_once(FETCHED + timedelta(minutes=2))
    body = client.get("/v1/plan", query_string=BASE).get_json()
    assert not any("shared bikes" in n for n in body["notices"])


def test_a_feed_never_good_means_no_shared_bikes_and_a_notice(poa_network, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "free_bike_status.json").write_text(json.dumps({"version": "2.3"}), encoding="utf-8")
    client = _app(poa_network, bad).test_client()
    for modes in ("walk,bikeshare+transit", "bikeshare,walk"):
        answer = client.get("/v1/plan", query_string={**BASE, "modes": modes})
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert any("shared bikes unavailable" in n for n in body["notices"])
        assert not _shared_legs(body)


def test_an_expired_snapshot_is_not_installed(poa_network, tmp_path):
    # last_updated a day before the fixture's: long expired when fetched
    stale = write_feed(tmp_path / "stale", vehicles=[("b1", -30.0066, -51.1990)],
                       last_updated=1557745200 - 86400)
    client = _app(poa_network, stale).test_client()
    body = client.get("/v1/plan", query_string=BASE).get_json()
    assert any("expired" in n for n in body["notices"]) and not _shared_legs(body)


def test_http_and_cli_errors(poa_network, poa_artifact, tmp_path, capsys):
    from api.cli import main

    client, _ = _polled(poa_network, FIXTURE / "v3.0")
    answer = client.get("/v1/plan", query_string={**BASE, "modes": "walk,scooter+transit"})
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "modes"
    with pytest.raises(SettingsError):
        create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network,
                    "TANLU_GBFS": ["nowhere=" + str(FIXTURE / "v3.0")]})
    code = main(["plan", "--network", str(poa_artifact), "--from", BASE["from"], "--to",
                 BASE["to"], "--at", BASE["at"], "--modes", "walk,bikeshare+transit"])
    out = capsys.readouterr()
    assert code == 0 and "GBFS" in out.out  # the artifact has no snapshot: a notice


def test_snapshot_baked_into_the_artifact_round_trips_and_is_validated(poa_network, tmp_path):
    import dataclasses
    import zipfile

    from graphs.artifact import load_network, save_network
    from graphs.errors import ArtifactError
    from graphs.gbfs import read_gbfs_documents
    from planner.engine import Planner
    from planner.query import make_query

    files = read_gbfs_documents(FIXTURE / "v3.0")
    baked = dataclasses.replace(poa_network, gbfs_files=files)
    path = save_network(baked, tmp_path / "poa.tanlu")
    loaded = load_network(path)
    assert loaded.gbfs_files == files and loaded.gbfs.version == "3.0"
    q = make_query(origin=(-30.0064, -51.1985), destination=(-30.0275, -51.2270),
                   when=datetime(2019, 5, 13, 8, 0), modes=("walk", "transit"),
                   access_modes=("bikeshare",), timezone="America/Sao_Paulo")
    plan = Planner(loaded).plan(q)
    assert any(leg.note == "rent" for it in plan.itineraries for leg in it.legs)
    assert any("snapshot of 2019-05-13 10:59 UTC" in n for n in plan.notices)  # assumed, said
    # a server compiles the baked snapshot while warming up, not on its first request
    from api.state import make_state, warm_up

    state = make_state(loaded)
    assert state.plan.planner.bikeshare is None
    warm_up(state)
    assert state.plan.planner.bikeshare is not None
    # an artifact whose GBFS member was tampered with is refused like any bad input
    bad = tmp_path / "bad.tanlu"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "gbfs/station_status.json":
                data = data.replace(b'"num_vehicles_available": 5', b'"num_vehicles_available": -5')
            dst.writestr(info, data)
    with pytest.raises(ArtifactError, match="num_vehicles_available"):
        load_network(bad)


def test_build_refuses_a_bad_gbfs_before_building(tmp_path, capsys, sample_dir):
    from api.cli import main

    bad = tmp_path / "gbfs"
    bad.mkdir()
    (bad / "station_information.json").write_text("[]", encoding="utf-8")
    code = main(["build", "--sample", "porto-alegre", "--sample-dir", str(sample_dir),
                 "--gbfs", str(bad), "--out", str(tmp_path / "x.tanlu"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "station_information.json" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.tanlu").exists()


def test_notices_in_chinese(poa_network, tmp_path):
    feed = write_feed(tmp_path / "snap", vehicles=[("b1", -30.0066, -51.1990, "sc")],
                      types=[("sc", "scooter_standing", "electric")])
    client, poller = _polled(poa_network, feed)
    body = client.get("/v1/plan", query_string={**BASE, "lang": "zh"}).get_json()
    assert any("未纳入" in n for n in body["notices"])  # the scooter has no factor
    shutil.rmtree(feed)
    poller.poll_once(FETCHED + timedelta(minutes=1))
    body = client.get("/v1/plan", query_string={**BASE, "lang": "zh"}).get_json()
    assert any("最近一次获取失败" in n for n in body["notices"]), body["notices"]


def test_a_reloaded_city_gets_the_feed_at_the_next_check(poa_network, tmp_path):
    from api.state import EXTENSION_KEY
    from planner.engine import Planner

    app = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network})
    poller = GbfsPoller(app.extensions[EXTENSION_KEY], parse_gbfs_specs([str(FIXTURE / "v2.3")]))
    poller.poll_once(FETCHED)
    state = app.extensions[EXTENSION_KEY].get(None)
    state.plan.planner = fresh = Planner(poa_network)  # as api.cities does on a rebuilt file
    poller.poll_once(FETCHED + timedelta(seconds=1))  # not due, but the planner is new
    assert fresh.bikeshare is not None and len(fresh.bikeshare.pickups.ids) == 4
