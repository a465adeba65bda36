"""``tanlu serve`` as a real process: gunicorn on loopback, /readyz, /v1/plan, access log."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = 120
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture
def server(poa_artifact, tmp_path):
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")
    env = dict(os.environ, PYTHONPATH=str(ROOT), TANLU_FRAME_ANCESTORS="https://www.example.gov.cn")
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--network", str(poa_artifact),
         "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if get(port, "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "tanlu serve did not become ready"
            time.sleep(0.5)
        yield port, tmp_path / "serve.log"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_serve_answers_plans_and_logs_each_request(server):
    port, log_path = server
    status, body = get(port, "/v1/plan?from=-30.0277,-51.2287&to=-30.0346,-51.2077"
                             "&at=2019-05-06T08:00:00")
    assert status == 200, body
    plan = json.loads(body)
    assert plan["itineraries"] and plan["baseline"]["mode"] == "car_petrol"
    status, body = get(port, "/v1/plan?from=91,0&to=0,0")
    assert status == 400 and json.loads(body)["error"]["field"] == "from"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/embed?from=-30.0277,-51.2287&to=-30.0346,-51.2077"
                        "&at=2019-05-06T08:00:00")
    response = conn.getresponse()
    response.read()
    conn.close()
    assert "frame-ancestors https://www.example.gov.cn" in response.getheader(
        "Content-Security-Policy")
    time.sleep(0.5)  # the access log is written after the response
    lines = [line for line in log_path.read_text().splitlines() if "GET /v1/plan" in line]
    assert len(lines) == 2 and all(line.rstrip().endswith("ms") for line in lines), lines
    # the slow first start says what it is doing before it does it
    text = log_path.read_text()
    loading, compiling = text.find("loading network"), text.find("compiling search kernels")
    assert 0 <= loading < compiling < text.find("GET /v1/plan"), text[:500]


def test_serve_refuses_a_missing_network(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--network", str(tmp_path / "none.tanlu"),
         "--port", str(free_port())],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert result.returncode == 2
    assert "none.tanlu" in result.stderr and "Traceback" not in result.stderr
