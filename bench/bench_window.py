"""Departure windows on Porto Alegre: a 60-minute window against one query, same pairs, same
process (the ratio is what the issue asks for: a window should cost at most 5x one query).

    TANLU_SAMPLE_DIR=../shared/data python bench/bench_window.py [--network poa.tanlu] [--n 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_plan import _network, _pairs  # noqa: E402
from planner import Planner, make_query  # noqa: E402
from planner.errors import NoRouteError  # noqa: E402
from planner.window import window_journeys  # noqa: E402,F401  (the code being measured)

WHEN = datetime(2019, 5, 13, 12, 30)
WINDOW_MIN = 60


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--window", type=int, default=WINDOW_MIN, help="minutes")
    args = ap.parse_args()
    network = _network(args)
    planner = Planner(network)
    pairs = _pairs(args.n, network.streets["walk"])
    single, window, sizes = [], [], []
    for o, d in pairs:
        kw = dict(origin=o, destination=d, when=WHEN, modes=("walk", "transit"),
                  timezone=network.timezone)
        one, many = make_query(**kw), make_query(**kw, window_s=args.window * 60.0)
        try:
            planner.plan(one)  # warm the day table and the JIT
        except NoRouteError:
            continue
        t = time.perf_counter()
        planner.plan(one)
        single.append(time.perf_counter() - t)
        t = time.perf_counter()
        plan = planner.plan(many)
        window.append(time.perf_counter() - t)
        sizes.append(len(plan.itineraries))
    ratio = [w / s for w, s in zip(window, single, strict=True)]
    med = statistics.median
    print(f"{len(single)} pairs, window {args.window} min")
    print(f"one query      p50 {med(single) * 1e3:7.1f} ms")
    print(f"window query   p50 {med(window) * 1e3:7.1f} ms  "
          f"(itineraries p50 {med(sizes):.0f}, max {max(sizes)})")
    print(f"ratio window / one query: p50 {med(ratio):.1f}x  "
          f"(ratio of p50s {med(window) / med(single):.1f}x; target <= 5x)")


if __name__ == "__main__":
    main()
