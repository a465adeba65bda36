"""Benchmark: audited trips per second on 1 process, local processes, and Dask clusters.

Usage:
  TANLU_SAMPLE_DIR=../shared/data python bench/bench_audit.py --network poa.tanlu \
      [--rows 10000] [--trips trips.parquet] [--distinct] [--repeat 1] [--chunk-size 1000] \
      [--workers 1,2,4] [--no-external] [--no-per-trip]

Without --trips, bench/gen_trips.py writes --rows seeded Porto Alegre trips first (from a
pool of 400 planned trips, so queries repeat); --distinct keeps only the first row of each
query (start, ends, claimed mode), which leaves the batching nothing to share but snaps. Every
run starts from scratch (no resume) and includes worker start-up and network loading, as a user
would see it (the Dask workers load the network in the warm-up plugin, inside the timed run).

On one process it times the batched chunk path and the per-trip path (``batched=False``, one
full plan per row: the reference) in turn, --repeat times each, and prints their ratio: on a
machine shared with other work, the ratio is the figure to trust.

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


def _distinct_queries(trips: Path, folder: Path) -> Path:
    """The rows of ``trips`` whose query (start, ends, claimed mode) no earlier row asks."""
    import pandas as pd

    frame = pd.read_parquet(trips) if trips.suffix == ".parquet" else pd.read_csv(trips)
    query = ["started_at", "origin_lat", "origin_lon", "dest_lat", "dest_lon", "claimed_mode"]
    out = folder / "distinct.parquet"
    frame[~frame.duplicated(query)].astype({"started_at": str}).to_parquet(out, index=False)
    return out


def _interleaved(trips: Path, network: Path, chunk_size: int) -> tuple:
    """Evaluation alone (no start-up, reading or checks), chunk by chunk: the per-trip and the
    batched path on each chunk in turn, alternating which goes first, so both see the same
    load. Returns trips per second (per-trip, batched), trips per CPU-second (per-trip,
    batched) and the number of valid trips."""
    from dataclasses import replace

    from audit.evaluate import TRIP_INPUT_COLUMNS, PlannerEvaluator, evaluate_chunk
    from audit.schema import read_trips, validate_trips
    from graphs.artifact import read_manifest
    from graphs.network import manifest_bbox, manifest_timezone

    manifest = read_manifest(network)
    valid = validate_trips(read_trips(trips), timezone=manifest_timezone(manifest),
                           bbox=manifest_bbox(manifest)).trips[list(TRIP_INPUT_COLUMNS)]
    batched = PlannerEvaluator.for_network(network)
    per_trip = replace(batched, batched=False)
    batched.warm_up()
    evaluate_chunk(valid.head(50), per_trip)     # day tables and ride lines of the day
    seconds = {False: 0.0, True: 0.0}
    cpu = {False: 0.0, True: 0.0}
    for k, start in enumerate(range(0, len(valid), chunk_size)):
        chunk = valid.iloc[start:start + chunk_size]
        for evaluator in ((per_trip, batched) if k % 2 == 0 else (batched, per_trip)):
            started, cpu_started = time.perf_counter(), time.process_time()
            evaluate_chunk(chunk, evaluator)
            seconds[evaluator.batched] += time.perf_counter() - started
            cpu[evaluator.batched] += time.process_time() - cpu_started
    n = len(valid)
    return n / seconds[False], n / seconds[True], n / cpu[False], n / cpu[True], n


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished (reaped) child processes."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _worker_cpu_s(client) -> float:
    """CPU seconds used so far by the Dask workers' processes (0 without a client)."""
    if client is None:
        return 0.0
    return float(sum(client.run(_cpu_s).values()))


def _time_run(trips: Path, network: Path, folder: Path, **options) -> tuple[float, float]:
    """(trips per second of wall time, trips per CPU-second of every process involved)."""
    client = options.get("client")
    cpu_before = _cpu_s() + _worker_cpu_s(client)
    started = time.perf_counter()
    outcome = run_audit(trips, network, folder / "results.parquet", resume=False, **options)
    elapsed = time.perf_counter() - started
    cpu = _cpu_s() + _worker_cpu_s(client) - cpu_before
    return outcome.n_rows / elapsed, outcome.n_rows / cpu


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
    parser.add_argument("--distinct", action="store_true",
                        help="keep only the first row of each repeated query")
    parser.add_argument("--no-per-trip", action="store_true",
                        help="skip the per-trip reference run on one process")
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
        if args.distinct:
            trips = _distinct_queries(trips, folder)
        rates: dict[tuple[str, int], list[float]] = {}
        cpu_rates: dict[tuple[str, int], list[float]] = {}
        paired = []
        if not args.no_per_trip:
            paired.append(_interleaved(trips, network, args.chunk_size))
            print(f"  evaluation only, chunks alternating: per trip {paired[-1][0]:.1f}, "
                  f"batched {paired[-1][1]:.1f} trips/s", file=sys.stderr)

        def timed(name: str, n: int, **options) -> None:
            rate, per_cpu = _time_run(trips, network, folder, chunk_size=args.chunk_size,
                                      **options)
            rates.setdefault((name, n), []).append(rate)
            cpu_rates.setdefault((name, n), []).append(per_cpu)
            print(f"  {name} x{n}: {rate:.1f} trips/s, {per_cpu:.1f} trips per CPU-second",
                  file=sys.stderr)

        for _ in range(args.repeat):
            if not args.no_per_trip:
                timed("1 process, per trip", 1, workers=1, batched=False)
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
          f"chunk size {args.chunk_size}, {cores} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    for per_trip, batched, per_trip_cpu, batched_cpu, n in paired:
        print(f"evaluation only ({n:,} valid trips, chunks alternating between the two paths "
              f"in one process): per trip {per_trip:.1f} trips/s ({per_trip_cpu:.1f} per "
              f"CPU-second), batched {batched:.1f} trips/s ({batched_cpu:.1f} per CPU-second); "
              f"batched / per-trip {batched / per_trip:.2f}x wall, "
              f"{batched_cpu / per_trip_cpu:.2f}x CPU")
    if ("1 process, per trip", 1) in rates:
        pairs = [b / a for a, b in zip(rates[("1 process, per trip", 1)],
                                       rates[("1 process, no pool", 1)], strict=True)]
        print(f"batched / per-trip on one process (paired runs): median "
              f"{statistics.median(pairs):.2f}x, runs {', '.join(f'{p:.2f}x' for p in pairs)}")
    print(f"{'setup':28} {'workers':>7} {'median':>9} {'p95':>9} {'speed-up':>9} "
          f"{'eff/worker':>10} {'per CPU-s':>10}")
    for (name, n), values in rates.items():
        median = statistics.median(values)
        note = "  (oversubscribed: more workers than cores)" if n > cores else ""
        print(f"{name:28} {n:7d} {median:9.1f} {_p95(values):9.1f} {median / base:8.2f}x "
              f"{median / base / n:9.0%} {statistics.median(cpu_rates[(name, n)]):10.1f}{note}")
    print("per CPU-s: trips per CPU-second of the driver and every worker process (start-up "
          "included); on a busy machine it is the per-core rate the wall clock hides")
    return 0


if __name__ == "__main__":
    sys.exit(main())
