"""``tanlu serve`` as a real process: gunicorn on loopback, /readyz, /v1/plan, JSON access log
with request ids, gunicorn's own errors in the JSON shape, slow clients, metrics, and one-line
exit 2 for unusable settings."""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from serve_helpers import PROCESSES, ROOT, free_port, get, serving

PLAN = "/v1/plan?from=-30.0277,-51.2287&to=-30.0346,-51.2077&at=2019-05-06T08:00:00"


@pytest.fixture(scope="module")
def server(poa_artifact, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(["--network", str(poa_artifact), "--workers", "2", "--threads", "4"], log_path,
                 env={"TANLU_FRAME_ANCESTORS": "https://www.example.gov.cn"}) as port:
        yield port, log_path


def test_serve_answers_plans_and_logs_each_request_as_json(server):
    port, log_path = server
    status, body = get(port, PLAN, headers={"X-Request-Id": "trace-42.a"})
    assert status == 200, body
    plan = json.loads(body)
    assert plan["itineraries"] and plan["baseline"]["mode"] == "car_petrol"
    status, body = get(port, "/v1/plan?from=91,0&to=0,0")
    error = json.loads(body)["error"]
    assert status == 400 and error["field"] == "from" and len(error["request_id"]) == 32
    status, _ = get(port, PLAN.replace("/v1/plan", "/embed"))
    assert status == 200
    time.sleep(0.5)  # the access line is written after the response
    lines = [json.loads(line) for line in log_path.read_text().splitlines()
             if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "tanlu.access"
              and line["path"] == "/v1/plan"]
    assert [line["status"] for line in access[-2:]] == [200, 400]
    assert access[-2]["request_id"] == "trace-42.a"
    assert access[-1]["request_id"] == error["request_id"]
    assert all(line["duration_ms"] >= 0 and line["request_id"] for line in access)

    # the slow first start says what it is doing before it does it
    text = log_path.read_text()
    loading, compiling = text.find("loading network"), text.find("compiling search kernels")
    assert 0 <= loading < compiling < text.find('"/v1/plan"'), text[:500]

def test_a_too_long_request_line_gets_the_json_error_shape(server):
    port, _ = server
    status, body = get(port, "/v1/plan?from=" + "1" * 5000)
    assert status == 414
    error = json.loads(body)["error"]
    assert error["code"] == "uri_too_long" and "4094" in error["message"]


def _slowloris_headers(port: int, stop: threading.Event) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        while not stop.wait(0.3):
            sock.sendall(b"X-a: b\r\n")


def _slowloris_body(port: int, stop: threading.Event) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /v1/plan HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100000\r\n\r\n{")
        while not stop.wait(0.3):
            sock.sendall(b" ")


def test_slow_clients_do_not_stop_the_server_answering(server):
    port, _ = server
    stop = threading.Event()
    slow = [threading.Thread(target=f, args=(port, stop), daemon=True)
            for f in (_slowloris_headers, _slowloris_body)]
    for thread in slow:
        thread.start()
    try:
        time.sleep(0.5)
        latencies = []
        deadline = time.monotonic() + 7  # past gthread's 5 s wait for a first byte
        while time.monotonic() < deadline:
            start = time.monotonic()
            status, _ = get(port, "/healthz", timeout=5)
            latencies.append(time.monotonic() - start)
            assert status == 200
            time.sleep(0.1)
        assert max(latencies) < 1.0, max(latencies)
        assert all(thread.is_alive() for thread in slow)  # they were dawdling all along
    finally:
        stop.set()


def test_metrics_add_up_the_workers(server):
    port, _ = server
    for _ in range(6):
        assert get(port, "/v1/coverage")[0] == 200
    assert get(port, "/v1/nowhere")[0] == 404
    status, body = get(port, "/metrics")
    text = body.decode()
    assert status == 200
    count = [line for line in text.splitlines()
             if line.startswith('tanlu_http_requests_total{endpoint="/v1/coverage"')]
    assert count and float(count[0].split()[-1]) >= 6  # from both workers, added up
    assert 'tanlu_http_errors_total{code="not_found",status="404"}' in text
    assert 'tanlu_plans_total{city="poa",mode=' in text
    assert "tanlu_http_request_duration_seconds_bucket" in text


def test_workers_restarted_by_hup_keep_answering_and_counting(server):
    port, log_path = server
    booted = log_path.read_text().count("Booting worker")
    PROCESSES[port].send_signal(signal.SIGHUP)  # gunicorn: graceful restart of the workers
    deadline = time.monotonic() + 60
    while log_path.read_text().count("Booting worker") < booted + 2:
        assert time.monotonic() < deadline, "the workers were not restarted"
        time.sleep(0.2)
    time.sleep(1)  # the old workers have exited (they once took the metrics folder along)
    statuses = [get(port, "/v1/coverage")[0] for _ in range(6)]
    status, body = get(port, "/metrics")
    assert statuses == [200] * 6 and status == 200 and b"tanlu_http_requests_total" in body


def _run_serve(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", *args, "--port", str(free_port())],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})))


def _assert_one_line_exit_2(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    # start-up progress lines ("tanlu serve: loading network ...") may come first
    lines = [line for line in result.stderr.strip().splitlines() if not line.endswith(" ...")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(word in lines[0] for word in words), lines[0]


def test_serve_refuses_a_missing_network(tmp_path):
    _assert_one_line_exit_2(_run_serve(["--network", str(tmp_path / "none.tanlu")]),
                            "none.tanlu")


@pytest.mark.parametrize("variable, value", [
    ("TANLU_MAX_BODY_BYTES", "abc"), ("TANLU_KEYS_FILE", "/nonexistent/keys.toml"),
])
def test_unusable_settings_are_one_line_and_exit_2(poa_artifact, variable, value):
    _assert_one_line_exit_2(_run_serve(["--network", str(poa_artifact)], {variable: value}),
                            variable)


def test_bad_city_names_are_one_line_and_exit_2(poa_artifact):
    _assert_one_line_exit_2(
        _run_serve(["--network", f"a={poa_artifact}", "--network", f"a={poa_artifact}"]),
        "given twice")
    _assert_one_line_exit_2(_run_serve(["--network", f"plan={poa_artifact}"]), "plan")


def test_a_network_with_a_bad_timezone_is_one_line_and_exit_2(poa_network, tmp_path):
    from graphs.artifact import save_network

    bad = dataclasses.replace(poa_network, manifest=dict(poa_network.manifest,
                                                         timezone="Mars/Olympus"))
    path = save_network(bad, tmp_path / "mars.tanlu")
    _assert_one_line_exit_2(_run_serve(["--network", str(path)]), "Mars/Olympus")
