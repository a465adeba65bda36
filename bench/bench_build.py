"""Benchmark: build time, artifact size, load time and peak memory for a sample city.

Usage: TANLU_SAMPLE_DIR=../shared/data python bench/bench_build.py [--city porto-alegre] [--repeat 5]

Each measurement runs in a fresh child process so that peak RSS (ru_maxrss) belongs to that step
alone. Prints medians and the ratio to the targets (load < 2 s, memory < 1 GiB).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

LOAD_TARGET_S = 2.0
MEMORY_TARGET_MB = 1024.0

_CHILD = r"""
import json, resource, sys, time
step, city, folder, out = sys.argv[1:5]
t0 = time.perf_counter()
if step == "build":
    from graphs.build import build_network
    from graphs.samples import sample_paths
    osm, gtfs = sample_paths(city, folder)
    build_network(osm_path=osm, gtfs_paths=gtfs, factors="cn", out_path=out)
else:
    from graphs.artifact import load_network
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    load_network(out)
seconds = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))
"""


def _run(step: str, city: str, folder: str, out: str) -> dict:
    result = subprocess.run([sys.executable, "-c", _CHILD, step, city, folder, out],
                            check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", default="porto-alegre")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sample-dir", default=os.environ.get("TANLU_SAMPLE_DIR"))
    args = parser.parse_args()
    if not args.sample_dir:
        sys.exit("set TANLU_SAMPLE_DIR or pass --sample-dir")
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / f"{args.city}.tanlu")
        builds = [_run("build", args.city, args.sample_dir, out) for _ in range(max(1, args.repeat // 2))]
        size_mb = Path(out).stat().st_size / 1e6
        loads = [_run("load", args.city, args.sample_dir, out) for _ in range(args.repeat)]
    build_s = statistics.median(b["seconds"] for b in builds)
    build_mb = max(b["peak_mb"] for b in builds)
    load_s = statistics.median(r["seconds"] for r in loads)
    load_p95 = sorted(r["seconds"] for r in loads)[int(0.95 * (len(loads) - 1))]
    load_mb = max(r["peak_mb"] for r in loads)
    print(f"city: {args.city}")
    print(f"build:    median {build_s:7.2f} s   peak RSS {build_mb:7.1f} MB  (n={len(builds)})")
    print(f"artifact: {size_mb:7.2f} MB")
    print(f"load:     median {load_s:7.3f} s   p95 {load_p95:.3f} s   peak RSS {load_mb:7.1f} MB"
          f"  (n={len(loads)})")
    print(f"ratios:   load/target {load_s / LOAD_TARGET_S:.2f}   "
          f"load peak/target {load_mb / MEMORY_TARGET_MB:.2f}   "
          f"build peak/target {build_mb / MEMORY_TARGET_MB:.2f}")


if __name__ == "__main__":
    main()
