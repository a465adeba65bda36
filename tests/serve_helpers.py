"""Starting ``tanlu serve`` as a real process on loopback for tests, and plain HTTP helpers."""
from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 120
#: The server process of each port ``serving`` started (for tests that signal it).
PROCESSES: dict[int, subprocess.Popen] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, *, timeout: float = 30,
        headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextlib.contextmanager
def serving(args: Sequence[str], log_path: Path, *, env: dict[str, str] | None = None
            ) -> Iterator[int]:
    """Run ``tanlu serve ARGS --port P`` until it answers /readyz; yields the port."""
    port = free_port()
    log = open(log_path, "wb")
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", *args, "--host", "127.0.0.1",
         "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=full_env, cwd=ROOT)
    PROCESSES[port] = process
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if get(port, "/readyz", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "tanlu serve did not become ready"
            time.sleep(0.3)
        yield port
    finally:
        PROCESSES.pop(port, None)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextlib.contextmanager
def serving_in_thread(app, *, threaded: bool = False) -> Iterator[str]:
    """Serve a Flask ``app`` on a free local port in a daemon thread; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=threaded)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
