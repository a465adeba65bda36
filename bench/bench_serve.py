"""Throughput and latency of ``tanlu serve``: 16 concurrent clients for 30 s, 1 vs 2 workers.

Starts the real server (a subprocess on loopback), waits for /readyz, then sends /v1/plan
requests for a fixed, seeded set of origin/destination pairs from a pool of client threads
in this process (the load comes from a separate process than the server). Every run is
bounded in time and in request count. Prints requests/s, p50/p95 latency and status counts
per worker count, medians over repeats, and the throughput ratio against one worker.

    TANLU_SAMPLE_DIR=../shared/data python bench/bench_serve.py            # builds Porto Alegre
    python bench/bench_serve.py --network poa.tanlu --workers 1 2 4 --duration 30
    python bench/bench_serve.py --network poa.tanlu --client wrk   # Debian's wrk (C, light)

The Python client threads need a good part of a core themselves; on a 2-core machine ``wrk``
(one thread, 16 connections) leaves more CPU to the server. wrk runs are bounded by time only.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_CLIENTS = 16
DEFAULT_DURATION_S = 30.0
DEFAULT_MAX_REQUESTS = 50_000
DEFAULT_PAIRS = 200
DEFAULT_TRIP_KM = (1.0, 8.0)
SEED = 20190506
STARTUP_TIMEOUT_S = 180


def main() -> int:
    args = _parse_args()
    network = Path(args.network) if args.network else _build_sample()
    paths = _request_paths(network, args.pairs)
    print(f"network {network} | {len(paths)} origin/destination pairs | {args.clients} clients "
          f"| {args.duration:g} s per run | at most {args.max_requests} requests per run")
    results: dict[int, list[dict]] = {}
    for workers in args.workers:
        for repeat in range(args.repeats):
            result = _run(network, workers, paths, args)
            results.setdefault(workers, []).append(result)
            print(f"workers={workers} run={repeat + 1}: {result['rps']:.1f} req/s, "
                  f"p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
                  f"{result['requests']} requests, statuses {dict(result['statuses'])}")
    _summary(results)
    return 0


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", help="artifact; default: build Porto Alegre from "
                                          "$TANLU_SAMPLE_DIR into a temporary folder")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS)
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S)
    parser.add_argument("--max-requests", type=int, default=DEFAULT_MAX_REQUESTS)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=DEFAULT_PAIRS)
    parser.add_argument("--client", choices=("threads", "wrk"), default="threads",
                        help="load generator: Python threads (default) or Debian's wrk")
    return parser.parse_args()


def _build_sample() -> Path:
    from api.settings import sample_dir
    from graphs.build import build_network

    city = (sample_dir() or ROOT.parent / "shared" / "data") / "porto-alegre"
    out = Path(tempfile.mkdtemp(prefix="tanlu-bench-")) / "poa.tanlu"
    print(f"building {out} from {city} ...", flush=True)
    build_network(osm_path=city / "poa_osm.pbf",
                  gtfs_paths=[city / "poa_eptc.zip", city / "poa_trensurb.zip"],
                  factors="cn", out_path=out)
    return out


def _request_paths(network: Path, pairs: int) -> list[str]:
    """Seeded trips between walk-layer nodes 1-8 km apart, 07:00-19:00 on weekdays in service."""
    import numpy as np

    from api.coverage import coverage_of
    from graphs.artifact import load_network

    net = load_network(network)
    walk = net.streets["walk"]
    first = coverage_of(net).first_service_date
    rng = random.Random(SEED)
    paths = []
    while len(paths) < pairs:
        a, b = rng.randrange(walk.n_nodes), rng.randrange(walk.n_nodes)
        dy = (walk.node_lat[a] - walk.node_lat[b]) * 111.32
        dx = (walk.node_lon[a] - walk.node_lon[b]) * 111.32 * np.cos(np.radians(walk.node_lat[a]))
        if not DEFAULT_TRIP_KM[0] <= float(np.hypot(dx, dy)) <= DEFAULT_TRIP_KM[1]:
            continue
        day = first.toordinal() + 7 + rng.randrange(5) if first else None
        at = (f"&at={type(first).fromordinal(day).isoformat()}T{rng.randrange(7, 19):02d}:"
              f"{rng.randrange(60):02d}") if first else ""
        paths.append(f"/v1/plan?from={walk.node_lat[a]:.6f},{walk.node_lon[a]:.6f}"
                     f"&to={walk.node_lat[b]:.6f},{walk.node_lon[b]:.6f}{at}")
    return paths


def _run(network: Path, workers: int, paths: list[str], args: argparse.Namespace) -> dict:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--network", str(network), "--host",
         "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log"],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port, server)
        for path in paths[:workers * 4]:   # every worker has planned once before timing
            _get(port, path)
        if args.client == "wrk":
            return _load_wrk(port, paths, args)
        return _load(port, paths, args)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _load(port: int, paths: list[str], args: argparse.Namespace) -> dict:
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    issued = iter(range(args.max_requests))
    started = time.perf_counter()
    deadline = started + args.duration

    def client(index: int) -> None:
        rng = random.Random(SEED + index)
        while time.perf_counter() < deadline:
            with lock:
                if next(issued, None) is None:
                    return
            path = paths[rng.randrange(len(paths))]
            t0 = time.perf_counter()
            try:
                status = _get(port, path)
            except OSError:
                status = "connection error"
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1

    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(client, range(args.clients)))
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"rps": len(ordered) / wall, "requests": len(ordered), "statuses": statuses,
            "p50_ms": 1000 * statistics.median(ordered),
            "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))]}


_WRK_SCRIPT = """
local paths = %s
math.randomseed(%d)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _load_wrk(port: int, paths: list[str], args: argparse.Namespace) -> dict:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    lua = "{" + ",".join(json.dumps(p) for p in paths) + "}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % (lua, SEED))
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{args.clients}", f"-d{int(args.duration)}s", "--timeout", "60s",
             "-s", script.name, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=args.duration + 120, check=True).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, duration_us, p50_us, p95_us, non_2xx, socket_errors = map(int, line.split()[1:])
    statuses = Counter({"2xx/3xx": requests - non_2xx, "other": non_2xx,
                        "socket errors": socket_errors})
    return {"rps": requests / (duration_us / 1e6), "requests": requests, "statuses": statuses,
            "p50_ms": p50_us / 1000, "p95_ms": p95_us / 1000}


def _summary(results: dict[int, list[dict]]) -> None:
    print("\nworkers  req/s (median)  p50 ms  p95 ms  req/s ratio vs first")
    base = None
    for workers, runs in results.items():
        rps = statistics.median(r["rps"] for r in runs)
        p50 = statistics.median(r["p50_ms"] for r in runs)
        p95 = statistics.median(r["p95_ms"] for r in runs)
        base = base or rps
        print(f"{workers:>7}  {rps:>14.1f}  {p50:>6.1f}  {p95:>6.1f}  {rps / base:>6.2f}")
    print(f"(machine: {os.cpu_count()} cores, shared by the server and these client threads)")


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"tanlu serve exited with {server.returncode}")
        try:
            if _get(port, "/readyz") == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("tanlu serve did not become ready")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
