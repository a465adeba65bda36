"""Growth curve: build time, peak memory, artifact size, load time and plan latency vs city size.

Usage::

    TANLU_SAMPLE_DIR=../shared/data python bench/bench_scale.py [--scales 1 4 16 64]
        [--pairs 30] [--work /tmp/tanlu-scale] [--no-sample]

Rows: the Porto Alegre sample, then synthetic cities from ``bench/gen_city.py`` at each scale
(about ``scale`` times the sample's walk edges and stop times; generated once into ``--work``
and reused). Each step runs in a fresh process: the build (wall from spawn to exit, peak summed
RSS and PSS of the process tree, as in ``bench_build.py``), then one process that loads the artifact
(``load_network``) and plans ``--pairs`` seeded origin-destination pairs at least 1 km apart at
2019-05-13 12:30, walk+transit and default modes (after two warm-up plans), with the
``planner`` API: once for pairs anywhere in the city (trips grow with the city) and once for
"local" pairs 1 to ``--local-km`` km apart (the same trip lengths at every size, so only the
network's size changes). With ``--audit-rows N``, a third process writes N ``bench/gen_trips.py``
trips (not timed) and audits them on one process (``run_audit``, start-up included). The growth exponent ``b`` of ``metric ~ size^b`` is a least-squares fit of
log(metric) on log(walk edges) over the synthetic rows: 1.0 is linear.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from bench_build import run_measured
from gen_city import generate

_BUILD = r"""
import json, sys
from graphs.build import build_network
n = build_network(osm_path=sys.argv[1], gtfs_paths=sys.argv[3:], factors="cn", out_path=sys.argv[2])
print(json.dumps({"walk_edges": n.streets["walk"].n_edges,
                  "stop_times": int(n.timetable.stop_time_arrival_s.shape[0])}))
"""
_QUERY = r"""
import json, sys, time
from datetime import datetime
import numpy as np
t0 = time.perf_counter()
from graphs.artifact import load_network
from planner import NoRouteError, Planner, make_query
from graphs.geodesy import haversine_m
t1 = time.perf_counter()
network = load_network(sys.argv[1])
t2 = time.perf_counter()
planner = Planner(network)
WHEN = datetime(2019, 5, 13, 12, 30)
walk, rng = network.streets["walk"], np.random.default_rng(20190513)
def draw(n, max_m):
    out = []
    while len(out) < n:
        i, j = rng.integers(0, walk.n_nodes, 2)
        o, d = (walk.node_lat[i], walk.node_lon[i]), (walk.node_lat[j], walk.node_lon[j])
        if 1000 <= haversine_m(*o, *d) <= max_m:
            out.append((tuple(map(float, o)), tuple(map(float, d))))
    return out
pairs = draw(int(sys.argv[2]), float("inf"))
local = draw(int(sys.argv[2]), float(sys.argv[3]) * 1000)
def timed(modes, pairs=pairs):
    out = []
    for o, d in pairs:
        q = make_query(origin=o, destination=d, when=WHEN, modes=modes)
        s = time.perf_counter()
        try:
            planner.plan(q)
        except NoRouteError:
            pass
        out.append(time.perf_counter() - s)
    return out
for modes in (("walk", "transit"), None):  # warm-up: JIT (disk-cached) and day tables
    q = make_query(origin=pairs[0][0], destination=pairs[0][1], when=WHEN,
                   **({"modes": modes} if modes else {}))
    planner.plan(q)
transit = timed(("walk", "transit"))
default = timed(("walk", "bike", "transit", "car_petrol"))
transit_local = timed(("walk", "transit"), local)
default_local = timed(("walk", "bike", "transit", "car_petrol"), local)
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "transit": transit,
                  "default": default, "transit_local": transit_local,
                  "default_local": default_local}))
"""


_AUDIT = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from gen_trips import generate_trips, write_trips
from audit.runner import run_audit
network, rows, folder = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
trips = folder / "trips.parquet"
write_trips(generate_trips(network, rows=rows, seed=1, pool_size=min(200, rows)), trips)
started = time.perf_counter()
run_audit(trips, network, folder / "results.parquet", resume=False, workers=1)
print(json.dumps({"trips_per_s": rows / (time.perf_counter() - started)}))
"""


def measure(name: str, osm: Path, gtfs: list[Path], out: Path, pairs: int,  # noqa: PLR0913
            audit_rows: int = 0, local_km: float = 6.0) -> dict:
    build = run_measured(_BUILD, str(osm), str(out), *map(str, gtfs))
    sizes = json.loads(build["stdout"].splitlines()[-1])
    query = json.loads(run_measured(_QUERY, str(out), str(pairs), str(local_km)
                                    )["stdout"].splitlines()[-1])
    row = {"name": name, **sizes, "build_s": build["seconds"], "build_mb": build["peak_mb"],
           "build_pss_mb": build["pss_mb"],
           "artifact_mb": out.stat().st_size / 1e6, "load_s": query["load_s"]}
    for key in ("transit", "default", "transit_local", "default_local"):
        ms = np.asarray(query[key]) * 1000
        row[f"{key}_p50_ms"], row[f"{key}_p95_ms"] = np.percentile(ms, [50, 95]).tolist()
    row["audit_per_s"] = float("nan")
    if audit_rows:
        folder = out.parent / f"audit-{out.stem}"
        folder.mkdir(exist_ok=True)
        audit = run_measured(_AUDIT, str(out), str(audit_rows), str(folder), str(ROOT))
        row["audit_per_s"] = json.loads(audit["stdout"].splitlines()[-1])["trips_per_s"]
    return row


COLUMNS = [("walk_edges", "walk edges", "{:>10d}"), ("stop_times", "stop times", "{:>10d}"),
           ("build_s", "build s", "{:>8.1f}"), ("build_mb", "RSS MB", "{:>8.0f}"),
           ("build_pss_mb", "PSS MB", "{:>8.0f}"),
           ("artifact_mb", "artifact MB", "{:>11.1f}"), ("load_s", "load s", "{:>7.2f}"),
           ("transit_p50_ms", "w+t p50 ms", "{:>10.1f}"), ("transit_p95_ms", "w+t p95 ms", "{:>10.1f}"),
           ("default_p50_ms", "all p50 ms", "{:>10.1f}"), ("default_p95_ms", "all p95 ms", "{:>10.1f}"),
           ("transit_local_p50_ms", "local w+t p50", "{:>13.1f}"),
           ("default_local_p50_ms", "local all p50", "{:>13.1f}"),
           ("audit_per_s", "audit trips/s", "{:>13.0f}")]


def print_table(rows: list[dict]) -> None:
    print(f"{'network':<14}" + "".join(f" {title:>{len(fmt.format(0))}}" for _, title, fmt in COLUMNS))
    for row in rows:
        print(f"{row['name']:<14}" + "".join(" " + fmt.format(row[key]) for key, _, fmt in COLUMNS))


def print_exponents(rows: list[dict]) -> None:
    if len(rows) < 2:
        return
    x = np.log([r["walk_edges"] for r in rows])
    fits = []
    for key, title, _ in COLUMNS[2:]:
        values = [r[key] for r in rows]
        if not np.all(np.isfinite(values)):
            continue
        slope = np.polyfit(x, np.log(np.maximum(values, 1e-9)), 1)[0]
        fits.append(f"{title.strip()} {slope:.2f}")
    print("growth exponent b (metric ~ walk_edges^b, synthetic rows): " + ", ".join(fits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--work", type=Path, default=Path("/tmp/tanlu-scale"))
    parser.add_argument("--no-sample", action="store_true")
    parser.add_argument("--local-km", type=float, default=6.0,
                        help="the second pair set: trips 1 km to this long at every size")
    parser.add_argument("--audit-rows", type=int, default=0,
                        help="also audit this many bench/gen_trips.py trips on one process")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    rows = []
    sample = os.environ.get("TANLU_SAMPLE_DIR")
    if sample and not args.no_sample:
        sys.path.insert(0, str(ROOT.parent))
        from graphs.samples import sample_paths

        osm, gtfs = sample_paths("porto-alegre", sample)
        args.work.mkdir(parents=True, exist_ok=True)
        rows.append(measure("porto-alegre", Path(osm), list(map(Path, gtfs)),
                            args.work / "poa.tanlu", args.pairs, args.audit_rows,
                            args.local_km))
        print_table(rows[-1:])
    synthetic = []
    for scale in args.scales:
        folder = args.work / f"x{scale:g}"
        if not (folder / "bus.zip").exists():
            started = time.perf_counter()
            info = generate(scale, folder)
            print(f"generated x{scale:g} {info} in {time.perf_counter() - started:.0f} s", flush=True)
        synthetic.append(measure(f"synthetic x{scale:g}", folder / "city.osm.pbf",
                                 [folder / "bus.zip"], folder / "city.tanlu", args.pairs,
                                 args.audit_rows, args.local_km))
        print_table(synthetic[-1:])
        sys.stdout.flush()
    print()
    print_table(rows + synthetic)
    print_exponents(synthetic)


if __name__ == "__main__":
    main()
