"""Several cities in one ``tanlu serve`` and hot reload of a rebuilt artifact under load:
16 concurrent clients, no failed request, the old and then the new checksum in /v1/coverage."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import threading
import time
from collections import Counter

import pytest
from serve_helpers import get, serving

from graphs.hashing import file_sha256

CLIENTS = 16
TRIP = "from=-30.0277,-51.2287&to=-30.0346,-51.2077&at=2019-05-06T08:00:00"


@pytest.fixture(scope="module")
def two_cities(poa_artifact, poa_network, tmp_path_factory):
    """The Porto Alegre artifact served as ``poa`` (default) and as ``wx``, a re-saved copy
    with another manifest (so another checksum); reloads checked every 0.3 s."""
    from graphs.artifact import save_network

    folder = tmp_path_factory.mktemp("cities")
    poa = folder / "poa.tanlu"
    shutil.copyfile(poa_artifact, poa)
    other = dataclasses.replace(poa_network, manifest=dict(poa_network.manifest,
                                                           built_at="2000-01-01T00:00:00"))
    wx = save_network(other, folder / "wx.tanlu")
    with serving(["--network", f"poa={poa}", "--network", f"wx={wx}", "--workers", "2"],
                 folder / "serve.log", env={"TANLU_RELOAD_INTERVAL_S": "0.3"}) as port:
        yield port, poa, wx, folder


def test_cities_are_listed_and_served_under_their_prefix(two_cities):
    port, poa, wx, _ = two_cities
    status, body = get(port, "/v1/cities")
    listing = json.loads(body)
    assert status == 200 and listing["default"] == "poa"
    assert {c["name"]: c["artifact_sha256"] for c in listing["cities"]} == {
        "poa": file_sha256(poa), "wx": file_sha256(wx)}
    coverage = {path: json.loads(get(port, path)[1])["properties"]["artifact_sha256"]
                for path in ("/v1/coverage", "/v1/poa/coverage", "/v1/wx/coverage")}
    assert coverage == {"/v1/coverage": file_sha256(poa), "/v1/poa/coverage": file_sha256(poa),
                        "/v1/wx/coverage": file_sha256(wx)}
    status, body = get(port, f"/v1/wx/plan?{TRIP}")
    assert status == 200 and json.loads(body)["itineraries"]
    assert get(port, f"/embed?city=wx&{TRIP}")[0] == 200
    status, body = get(port, "/v1/lyon/plan?" + TRIP)
    error = json.loads(body)["error"]
    assert status == 404 and error["code"] == "unknown_city" and "poa, wx" in error["message"]
    assert get(port, f"/embed?city=lyon&{TRIP}")[0] == 404


def test_a_rebuilt_artifact_is_swapped_in_without_a_failed_request(two_cities, poa_network):
    from graphs.artifact import save_network

    port, poa, _, folder = two_cities
    old = file_sha256(poa)
    statuses: Counter[int | str] = Counter()
    seen: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client(number: int) -> None:
        while not stop.is_set():
            path = f"/v1/poa/plan?{TRIP}" if number % 4 == 0 else "/v1/coverage"
            try:
                status, body = get(port, path, timeout=30)
            except OSError as err:
                status, body = type(err).__name__, b""
            with lock:
                statuses[status] += 1
                if status == 200 and path == "/v1/coverage":
                    seen.append(json.loads(body)["properties"]["artifact_sha256"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        rebuilt = dataclasses.replace(poa_network, manifest=dict(
            poa_network.manifest, built_at="2030-01-01T00:00:00"))
        staged = save_network(rebuilt, folder / "poa.tanlu.new")
        new = file_sha256(staged)
        os.replace(staged, poa)  # what `tanlu build --out poa.tanlu` does
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until every worker answers with the new one
            time.sleep(0.5)
            with lock:
                if len(seen) > 40 and set(seen[-40:]) == {new}:
                    break
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert new != old
    assert set(statuses) == {200}, statuses
    assert old in seen and seen[-40:] == [new] * 40  # each worker swapped (at its own time)
    assert sum(statuses.values()) > 200
