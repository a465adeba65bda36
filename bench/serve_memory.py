"""Memory of ``tanlu serve`` per process: RSS, PSS and USS from /proc/PID/smaps_rollup.

    python bench/serve_memory.py --network wuxi=wuxi.tanlu --network poa=poa.tanlu [--workers 2]

Starts the server on loopback, plans ``--plans`` random trips per city (to fill the planners'
caches), then prints one line per process (master and workers). PSS shares each page among the
processes mapping it, USS counts only the process's private pages: with memory-mapped
artifacts the arrays are shared page-cache pages, so they leave USS.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from serve_helpers import get, serving  # noqa: E402


def rollup(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])  # kB
    return {"rss": fields["Rss"], "pss": fields["Pss"],
            "uss": fields["Private_Clean"] + fields["Private_Dirty"],
            "shared": fields["Shared_Clean"] + fields["Shared_Dirty"]}


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", action="append", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--plans", type=int, default=40)
    parser.add_argument("--reload", action="store_true",
                        help="then replace each artifact by a copy of itself (a new inode), "
                             "so every worker reloads it, and measure again")
    args = parser.parse_args()
    log = Path("/tmp/tanlu-serve-memory.log")
    with serving([arg for n in args.network for arg in ("--network", n)]
                 + ["--workers", str(args.workers)], log) as port:
        cities = json.loads(get(port, "/v1/cities")[1])["cities"]
        plan_some(port, cities, args.plans)
        report(port)
        if args.reload:
            for spec in args.network:
                path = Path(spec.partition("=")[2] or spec)
                shutil.copyfile(path, path.with_name(path.name + ".new"))
                os.replace(path.with_name(path.name + ".new"), path)
            time.sleep(8)  # reload interval (2 s) + load and warm-up in each worker
            plan_some(port, cities, args.plans)
            print("after every worker reloaded every city:")
            report(port)


def plan_some(port: int, cities: list[dict], count: int) -> None:
    rng = random.Random(1)
    for city in cities:
        west, south, east, north = city["bbox"]
        for _ in range(count):
            a = (rng.uniform(south, north), rng.uniform(west, east))
            b = (rng.uniform(south, north), rng.uniform(west, east))
            get(port, f"/v1/{city['name']}/plan?from={a[0]},{a[1]}&to={b[0]},{b[1]}"
                      f"&at=2019-05-06T08:00:00")


def report(port: int) -> None:
    master = next(int(line.split()[0]) for line in
                  subprocess.run(["ps", "-eo", "pid,args"], text=True,
                                 capture_output=True).stdout.splitlines()
                  if "api.cli serve" in line and str(port) in line)
    print(f"{'process':8} {'RSS MB':>8} {'PSS MB':>8} {'USS MB':>8} {'shared MB':>9}")
    for name, pid in [("master", master)] + [("worker", p) for p in children(master)]:
        m = rollup(pid)
        print(f"{name:8} {m['rss'] / 1024:8.1f} {m['pss'] / 1024:8.1f} "
              f"{m['uss'] / 1024:8.1f} {m['shared'] / 1024:9.1f}")


if __name__ == "__main__":
    main()
