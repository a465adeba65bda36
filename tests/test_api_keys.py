"""API keys, rate limits (memory and a real Redis server), request ids and the error shape of
401 and 429, through the Flask test client on the fake network."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
from api_fakes import make_fake_app, plan_query
from serve_helpers import free_port

from api.keys import hash_key, load_keys
from api.settings import SettingsError

KEY = "wuxi-app-secret-0001"
OTHER_KEY = "poa-app-secret-000002"


@pytest.fixture
def keys_file(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text(f'''
[[client]]
name = "wuxi-app"
key = "{KEY}"
limit = "3/minute"

[[client]]
name = "poa-app"
key_sha256 = "{hash_key(OTHER_KEY)}"
''')
    return path


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert error["request_id"] == response.headers["X-Request-Id"]
    return error


def test_keys_file_is_read_and_hashes_compared(keys_file):
    clients = load_keys(keys_file)
    assert {c.name: c.limit for c in clients.values()} == {"wuxi-app": "3/minute",
                                                          "poa-app": None}
    assert clients[hash_key(KEY)].name == "wuxi-app"


@pytest.mark.parametrize("text, words", [
    ('[[client]]\nname = "a"\nkey = "short"\n', ["client 1", "16"]),
    ('[[client]]\nname = "a"\n', ["client 1", "exactly one"]),
    ('[[client]]\nname = "a"\nkey = "0123456789abcdefX"\nlimit = "often"\n', ["limit"]),
    ('[[client]]\nname = "a"\nkey = "0123456789abcdefX"\n'
     '[[client]]\nname = "b"\nkey = "0123456789abcdefX"\n', ["client 2", "repeats"]),
    ('[[client]]\nname = "a"\nkey = "0123456789abcdefX"\nrole = "admin"\n', ["role"]),
    ("not toml = = =", ["cannot read"]),
])
def test_bad_keys_files_name_the_entry(tmp_path, text, words):
    path = tmp_path / "keys.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as err:
        load_keys(path)
    assert all(word in str(err.value) for word in words), str(err.value)


def test_keys_are_optional_unless_required(keys_file):
    open_app = make_fake_app(TANLU_KEYS_FILE=keys_file).test_client()
    assert open_app.get("/v1/plan", query_string=plan_query()).status_code == 200
    error_of(open_app.get("/v1/plan", query_string=plan_query(),
                          headers={"X-API-Key": "not-a-key-of-this-server"}),
             401, "invalid_api_key")
    closed = make_fake_app(TANLU_KEYS_FILE=keys_file, TANLU_REQUIRE_KEY=True).test_client()
    error_of(closed.get("/v1/plan", query_string=plan_query()), 401, "missing_api_key")
    assert closed.get("/v1/plan", query_string=plan_query(),
                      headers={"Authorization": f"Bearer {OTHER_KEY}"}).status_code == 200
    assert closed.get("/healthz").status_code == 200  # probes stay open
    assert closed.get("/openapi.json").status_code == 200


def test_each_key_has_its_own_limit_and_429_says_when_to_retry(keys_file):
    client = make_fake_app(TANLU_KEYS_FILE=keys_file, TANLU_RATELIMIT_IP="5/minute").test_client()
    wuxi = {"X-API-Key": KEY}
    answers = [client.get("/v1/coverage", headers=wuxi) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert answers[-1].headers["X-RateLimit-Remaining"] == "0"
    refused = client.get("/v1/plan", query_string=plan_query(), headers=wuxi)
    error = error_of(refused, 429, "rate_limited")
    assert "3 per 1 minute" in error["message"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # the other key has no limit; anonymous requests count against the IP's 5/minute
    assert all(client.get("/v1/coverage", headers={"X-API-Key": OTHER_KEY}).status_code == 200
               for _ in range(8))
    anonymous = [client.get("/v1/coverage").status_code for _ in range(6)]
    assert anonymous == [200] * 5 + [429]
    assert client.get("/healthz").status_code == 200


def test_request_ids_are_echoed_if_sane_else_generated():
    client = make_fake_app().test_client()
    echoed = client.get("/v1/coverage", headers={"X-Request-Id": "edge-7f3a:42"})
    assert echoed.headers["X-Request-Id"] == "edge-7f3a:42"
    for insane in ("<script>", "x" * 200, "a b"):
        replaced = client.get("/v1/coverage", headers={"X-Request-Id": insane})
        assert len(replaced.headers["X-Request-Id"]) == 32
    error = error_of(client.get("/v1/plan", query_string=plan_query(walkSpeed="9"),
                                headers={"X-Request-Id": "given-1"}), 400, "invalid_number")
    assert error["request_id"] == "given-1"


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is missing: apt-get install redis-server (see .ci/run)")
    port = free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_limits_in_redis_are_shared_between_servers(redis_url):
    settings = {"TANLU_RATELIMIT_IP": "4/minute", "TANLU_RATELIMIT_STORAGE": redis_url}
    first, second = (make_fake_app(**settings).test_client() for _ in range(2))
    statuses = [c.get("/v1/coverage").status_code for c in (first, second, first, second)]
    assert statuses == [200] * 4
    error_of(second.get("/v1/coverage"), 429, "rate_limited")
    error_of(first.get("/v1/coverage"), 429, "rate_limited")
    alone = make_fake_app(TANLU_RATELIMIT_IP="4/minute").test_client()  # memory: its own count
    assert alone.get("/v1/coverage").status_code == 200


def test_browsers_may_send_keys_and_read_request_ids_and_limits():
    client = make_fake_app().test_client()
    preflight = client.options("/v1/poa/plan", headers={
        "Origin": "https://www.example.gov.cn", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "X-API-Key"})
    assert "x-api-key" in preflight.headers["Access-Control-Allow-Headers"].lower()
    response = client.get("/v1/coverage", headers={"Origin": "https://www.example.gov.cn"})
    exposed = response.headers["Access-Control-Expose-Headers"].lower()
    assert "x-request-id" in exposed and "retry-after" in exposed
