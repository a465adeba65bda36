"""Benchmark: tanlu's build beside cafein's (Rust RAPTOR on PyPI), and worker start-up.

Usage::

    TANLU_SAMPLE_DIR=../shared/data python bench/bench_build.py [--city porto-alegre]
        [--pairs 5] [--loads 5] [--no-cafein]

Build: paired whole-process runs alternating tanlu / cafein (so machine noise hits both alike),
each a fresh ``python -c`` that imports its library, reads the same OSM extract and GTFS feeds
and writes its artifact (``tanlu build`` / ``TransportNetwork.from_gtfs(...).save``). Wall time
is measured by this parent from spawn to exit; peak memory is the peak of the summed RSS of the
child and any process it starts (sampled every 10 ms with psutil, so shared pages count twice:
an upper bound) and of their PSS (every 100 ms) (shared pages split between the processes sharing them: what
the tree really holds), with the kernel's ``ru_maxrss`` of the main process beside them. Prints medians and the ratios
tanlu / cafein; the targets are build wall <= 1.0x and peak memory <= 1.0x cafein's.

Worker start-up: fresh processes that do what a gunicorn or Dask worker does before its first
query, ``import planner, api.wsgi`` then ``load_network``; prints import and load medians.
Needs the ``bench`` extra (cafein, psutil).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
LOAD_TARGET_S = 2.0

_TANLU = r"""
import sys
from graphs.build import build_network
from graphs.samples import sample_paths
osm, gtfs = sample_paths(sys.argv[1], sys.argv[2])
build_network(osm_path=osm, gtfs_paths=gtfs, factors="cn", out_path=sys.argv[3])
"""
_CAFEIN = r"""
import sys, warnings
from graphs.samples import sample_paths
osm, gtfs = sample_paths(sys.argv[1], sys.argv[2])
warnings.simplefilter("ignore")  # its notes on blank stop times and far stops
from cafein import TransportNetwork
TransportNetwork.from_gtfs([str(p) for p in gtfs], osm_pbf=str(osm)).save(sys.argv[3])
"""
_WORKER = r"""
import json, sys, time
t0 = time.perf_counter()
import planner, api.wsgi
from graphs.artifact import load_network
t1 = time.perf_counter()
load_network(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1}))
"""


def run_measured(code: str, *args: str) -> dict:
    """Run ``python -c code args``; wall seconds, peak tree RSS (MB) and its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched, peak, peak_pss, tick = psutil.Process(proc.pid), 0, 0, 0
    while True:  # reap with wait4 ourselves: it returns the child's own rusage
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            tree = [watched, *watched.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
            if tick % 10 == 0:  # PSS walks every mapping (smaps): sampled 10x less often
                peak_pss = max(peak_pss, sum(p.memory_full_info().pss for p in tree))
        except psutil.Error:
            pass  # exited between listing and reading
        tick += 1
        time.sleep(0.01)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    if proc.returncode:
        raise RuntimeError(f"child failed ({proc.returncode}):\n{err[-2000:]}")
    return {"seconds": wall, "peak_mb": peak / 2**20, "pss_mb": peak_pss / 2**20,
            "maxrss_mb": usage.ru_maxrss / 1024, "stdout": out}


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def bench_builds(city: str, folder: str, pairs: int, *, with_cafein: bool,
                 tmp: Path) -> dict[str, list[dict]]:
    programs = {"tanlu": _TANLU}
    if with_cafein:
        programs["cafein"] = _CAFEIN
    rows: dict[str, list[dict]] = {name: [] for name in programs}
    for i in range(pairs):
        names = list(programs)
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            target = tmp / f"{city}.{name}"
            row = run_measured(programs[name], city, folder, str(target))
            row["bytes"] = target.stat().st_size
            rows[name].append(row)
            print(f"  run {i + 1} {name:6s} {row['seconds']:6.2f} s  peak tree RSS "
                  f"{row['peak_mb']:5.0f} MB, PSS {row['pss_mb']:5.0f} MB, main process "
                  f"ru_maxrss {row['maxrss_mb']:5.0f} MB", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", default="porto-alegre")
    parser.add_argument("--pairs", type=int, default=5, help="tanlu/cafein build pairs")
    parser.add_argument("--loads", type=int, default=5, help="worker start-ups")
    parser.add_argument("--no-cafein", action="store_true")
    parser.add_argument("--sample-dir", default=os.environ.get("TANLU_SAMPLE_DIR"))
    args = parser.parse_args()
    if not args.sample_dir:
        sys.exit("set TANLU_SAMPLE_DIR or pass --sample-dir")
    print(f"city {args.city}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        rows = bench_builds(args.city, args.sample_dir, args.pairs, tmp=Path(folder),
                            with_cafein=not args.no_cafein)
        artifact = Path(folder) / f"{args.city}.tanlu"
        workers = [json.loads(run_measured(_WORKER, str(artifact))["stdout"].splitlines()[-1])
                   for _ in range(args.loads)]
    tanlu, cafein = rows["tanlu"], rows.get("cafein", [])
    for name, runs in rows.items():
        print(f"{name:9s} build median {median(runs, 'seconds'):6.2f} s   peak tree RSS "
              f"{median(runs, 'peak_mb'):5.0f} MB, PSS {median(runs, 'pss_mb'):5.0f} MB, "
              f"ru_maxrss {median(runs, 'maxrss_mb'):5.0f} MB   artifact "
              f"{runs[-1]['bytes'] / 1e6:.1f} MB (n={len(runs)})")
    if cafein:
        ratios = [t["seconds"] / c["seconds"] for t, c in zip(tanlu, cafein)]
        memory = ", ".join(f"{label} {median(tanlu, key) / median(cafein, key):.2f}x"
                           for label, key in (("tree PSS", "pss_mb"), ("tree RSS", "peak_mb"),
                                              ("ru_maxrss", "maxrss_mb")))
        print(f"ratio tanlu/cafein: build wall "
              f"{median(tanlu, 'seconds') / median(cafein, 'seconds'):.2f}x (median of paired "
              f"ratios {statistics.median(ratios):.2f}x; target <= 1.0x); peak memory {memory} "
              "(target <= 1.0x)")
    print(f"worker start-up: import planner+api.wsgi median {median(workers, 'import_s'):.2f} s,"
          f" load_network median {median(workers, 'load_s'):.3f} s "
          f"(load target {LOAD_TARGET_S:.0f} s; n={len(workers)})")


if __name__ == "__main__":
    main()
