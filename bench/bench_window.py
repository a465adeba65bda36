"""Departure windows on Porto Alegre: a 60-minute window against one query, same pairs, same
process (the issue asks for a window at most 5x one query), and the range search against the
per-departure passes it replaced (``window_journeys_by_passes``), interleaved per pair.

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

import planner.engine as engine  # noqa: E402
from bench.bench_plan import _network, _pairs  # noqa: E402
from planner import Planner, make_query  # noqa: E402
from planner.errors import NoRouteError  # noqa: E402
from planner.window import window_journeys, window_journeys_by_passes  # noqa: E402

WHEN = datetime(2019, 5, 13, 12, 30)
WINDOW_MIN = 60


def _timed(planner: Planner, query, search=window_journeys):
    engine.window_journeys = search  # the engine's window search, swapped for the old one
    try:
        t = time.perf_counter()
        plan = planner.plan(query)
        return time.perf_counter() - t, plan
    finally:
        engine.window_journeys = window_journeys


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--window", type=int, default=WINDOW_MIN, help="minutes")
    ap.add_argument("--no-passes", action="store_true", help="skip the old per-departure passes")
    args = ap.parse_args()
    network = _network(args)
    planner = Planner(network)
    pairs = _pairs(args.n, network.streets["walk"])
    single, window, passes, sizes = [], [], [], []
    for o, d in pairs:
        kw = dict(origin=o, destination=d, when=WHEN, modes=("walk", "transit"),
                  timezone=network.timezone)
        one, many = make_query(**kw), make_query(**kw, window_s=args.window * 60.0)
        try:
            planner.plan(one)  # warm the day table and the JIT
            planner.plan(many)
        except NoRouteError:
            continue
        single.append(_timed(planner, one)[0])
        elapsed, plan = _timed(planner, many)
        window.append(elapsed)
        sizes.append(len(plan.itineraries))
        if not args.no_passes:
            passes.append(_timed(planner, many, window_journeys_by_passes)[0])
    med = statistics.median
    ratio = [w / s for w, s in zip(window, single, strict=True)]
    print(f"{len(single)} pairs, window {args.window} min")
    print(f"one query          p50 {med(single) * 1e3:7.1f} ms")
    print(f"window (range)     p50 {med(window) * 1e3:7.1f} ms  "
          f"(itineraries p50 {med(sizes):.0f}, max {max(sizes)})")
    print(f"ratio window / one query: p50 {med(ratio):.1f}x  "
          f"(ratio of p50s {med(window) / med(single):.1f}x; target <= 5x)")
    if passes:
        speedup = [p / w for p, w in zip(passes, window, strict=True)]
        print(f"window (passes)    p50 {med(passes) * 1e3:7.1f} ms  "
              f"({med(passes) / med(single):.1f}x one query)")
        print(f"ratio passes / range: p50 {med(speedup):.1f}x  "
              f"(min {min(speedup):.1f}x, max {max(speedup):.1f}x)")


if __name__ == "__main__":
    main()
