"""Benchmark: audited trips per second on 1 process, local processes, and Dask clusters.

Usage:
  TANLU_SAMPLE_DIR=../shared/data python bench/bench_audit.py --network poa.tanlu \
      [--rows 10000] [--trips trips.parquet] [--repeat 1] [--chunk-size 1000] \
      [--workers 1,2,4] [--no-external]

Without --trips, bench/gen_trips.py writes --rows seeded Porto Alegre trips first. Every run
starts from scratch (no resume) and includes worker start-up and network loading, as a user
would see it (the Dask workers load the network in the warm-up plugin, inside the timed run).

For each worker count N of --workers it times: N local processes (``--workers N``), a Dask
``LocalCluster`` of N single-thread worker processes, and (unless --no-external) a separately
started ``dask scheduler`` and ``dask worker --nworkers N --nthreads 1`` on 127.0.0.1, reached
through its address as ``tanlu audit --scheduler`` would. Prints the median and p95 (of
--repeat runs) of trips per second, the speed-up over one process (no pool) and the efficiency
per worker (speed-up / N). More workers than cores oversubscribe the machine: efficiency then
falls by construction (the bench says so in its output).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit.runner import run_audit  # noqa: E402


def _time_run(trips: Path, network: Path, folder: Path, **options) -> float:
    started = time.perf_counter()
    outcome = run_audit(trips, network, folder / "results.parquet", resume=False, **options)
    elapsed = time.perf_counter() - started
    return outcome.n_rows / elapsed


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@contextlib.contextmanager
def _local_cluster(n: int):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _external_cluster(n: int, folder: Path):
    """``dask scheduler`` + ``dask worker`` processes on 127.0.0.1, stopped afterwards."""
    from distributed import Client

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    address_file = folder / f"scheduler-{n}.json"
    address_file.unlink(missing_ok=True)
    log = open(folder / f"dask-{n}.log", "wb")  # noqa: SIM115 - closed below
    started = []
    try:
        started.append(subprocess.Popen(
            ["dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(address_file)], env=env, stdout=log, stderr=log))
        deadline = time.monotonic() + 60
        while not address_file.is_file():
            if time.monotonic() > deadline or started[0].poll() is not None:
                raise RuntimeError(f"dask scheduler did not start (see {log.name})")
            time.sleep(0.1)
        started.append(subprocess.Popen(
            ["dask", "worker", "--scheduler-file", str(address_file), "--nworkers", str(n),
             "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
            env=env, stdout=log, stderr=log))
        with Client(scheduler_file=str(address_file)) as client:
            client.wait_for_workers(n, timeout=120)
            yield client
    finally:
        for process in reversed(started):
            process.terminate()
        for process in reversed(started):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", required=True)
    parser.add_argument("--trips", help="trips file (default: generate --rows trips)")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=1_000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--no-external", action="store_true",
                        help="skip the separately started dask scheduler + workers")
    args = parser.parse_args(argv)
    counts = [int(v) for v in args.workers.split(",") if v.strip()]
    network = Path(args.network)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="tanlu-bench-audit-") as tmp:
        folder = Path(tmp)
        trips = Path(args.trips) if args.trips else folder / "trips.parquet"
        if not args.trips:
            from gen_trips import generate_trips, write_trips

            started = time.perf_counter()
            write_trips(generate_trips(network, rows=args.rows, seed=1), trips)
            print(f"generated {args.rows:,} trips in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
        rates: dict[tuple[str, int], list[float]] = {}

        def timed(name: str, n: int, **options) -> None:
            rate = _time_run(trips, network, folder, chunk_size=args.chunk_size, **options)
            rates.setdefault((name, n), []).append(rate)
            print(f"  {name} x{n}: {rate:.1f} trips/s", file=sys.stderr)

        for _ in range(args.repeat):
            timed("1 process, no pool", 1, workers=1)
            for n in counts:
                if n > 1:
                    timed("local processes", n, workers=n)
                with _local_cluster(n) as client:
                    timed("Dask LocalCluster", n, client=client)
                if not args.no_external:
                    with _external_cluster(n, folder) as client:
                        timed("dask scheduler + workers", n, client=client)
    base = statistics.median(rates[("1 process, no pool", 1)])
    print(f"audit of {trips.name}: trips per second over {args.repeat} run(s), "
          f"chunk size {args.chunk_size}, {cores} cores")
    print(f"{'setup':28} {'workers':>7} {'median':>9} {'p95':>9} {'speed-up':>9} "
          f"{'eff/worker':>10}")
    for (name, n), values in rates.items():
        median = statistics.median(values)
        note = "  (oversubscribed: more workers than cores)" if n > cores else ""
        print(f"{name:28} {n:7d} {median:9.1f} {_p95(values):9.1f} {median / base:8.2f}x "
              f"{median / base / n:9.0%}{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
