"""Benchmark: audited trips per second on 1 process, on every local core, on a LocalCluster.

Usage:
  TANLU_SAMPLE_DIR=../shared/data python bench/bench_audit.py --network poa.tanlu \
      [--rows 10000] [--trips trips.parquet] [--repeat 3] [--chunk-size 1000]

Without --trips, bench/gen_trips.py writes --rows seeded Porto Alegre trips first. Every run
starts from scratch (no resume) and includes worker start-up and network loading, as a user
would see it. Prints the median and p95 (of --repeat runs) of trips per second and the speed-up
over one process.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", required=True)
    parser.add_argument("--trips", help="trips file (default: generate --rows trips)")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    network = Path(args.network)
    with tempfile.TemporaryDirectory(prefix="tanlu-bench-audit-") as tmp:
        folder = Path(tmp)
        trips = Path(args.trips) if args.trips else folder / "trips.parquet"
        if not args.trips:
            from gen_trips import generate_trips, write_trips

            started = time.perf_counter()
            write_trips(generate_trips(network, rows=args.rows, seed=1), trips)
            print(f"generated {args.rows:,} trips in {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)
        setups = {"1 process": dict(workers=1),
                  f"{args.workers} local processes": dict(workers=args.workers)}
        rates: dict[str, list[float]] = {name: [] for name in setups}
        rates[f"LocalCluster ({args.workers} workers)"] = []
        for _ in range(args.repeat):
            for name, options in setups.items():
                rates[name].append(_time_run(trips, network, folder,
                                             chunk_size=args.chunk_size, **options))
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                              dashboard_address=":0") as cluster, Client(cluster) as client:
                rates[f"LocalCluster ({args.workers} workers)"].append(
                    _time_run(trips, network, folder, chunk_size=args.chunk_size, client=client))
    base = statistics.median(rates["1 process"])
    print(f"audit of {trips.name}: trips per second over {args.repeat} run(s), "
          f"chunk size {args.chunk_size}, {os.cpu_count()} cores")
    print(f"{'setup':32} {'median':>10} {'p95':>10} {'speed-up':>9}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:32} {median:10.1f} {_p95(values):10.1f} {median / base:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
