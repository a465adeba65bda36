"""McRAPTOR kernel alone, paired against the kernel of another git revision on the same searches.

Captures the kernel inputs (day table, ``raptor.Search``) of ``bench_plan.py``'s seeded
walk+transit pairs on Porto Alegre by planning them once, then times the ``mc_raptor`` of the
working tree's ``planner/raptor.py`` and that of ``git show REV:planner/raptor.py``, both loaded
and compiled the same way, on each search, interleaved (the order alternates per search and
pass), and checks that both keep the same destination labels. Prints the p50/p95 of each (best
of ``--repeat`` per search) and the per-search ratio's median; ``--control`` adds a second
copy of the working tree's kernel, whose ratio to the first is what identical code measures.

Usage::

    python bench/bench_kernel.py --network poa.tanlu --against main~3 [--pairs 40] [--repeat 5]\
        [--control]
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_plan import WHEN, _pairs  # noqa: E402

from graphs.artifact import load_network  # noqa: E402
from planner import NoRouteError, Planner, make_query, raptor  # noqa: E402


def _kernel_of(rev: str | None, name: str):
    """``mc_raptor`` of ``planner/raptor.py`` at ``rev`` (None: the working tree's), loaded
    as a module ``name`` outside the repo: both sides of a comparison are loaded the same way
    and compiled in this process (the imported kernel, loaded from numba's cache, measured
    0.73x an identical copy of itself loaded like this: a bias, not a speed-up)."""
    if rev is None:
        source = (ROOT / "planner" / "raptor.py").read_text()
    else:
        source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:planner/raptor.py"],
                                check=True, capture_output=True, text=True).stdout
    source = source.replace("from ._heap import", "from planner._heap import")
    source = source.replace("from .pareto import", "from planner.pareto import")
    path = Path(tempfile.mkdtemp()) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.mc_raptor


def captured_searches(network, n: int) -> list:
    """The (timetable, search) of each walk+transit plan of ``bench_plan``'s pairs."""
    planner = Planner(network)
    captured = []
    kernel = raptor.mc_raptor

    def capture(tt, q):
        captured.append((tt, q))
        return kernel(tt, q)

    raptor.mc_raptor = capture
    try:
        for o, d in _pairs(n, network.streets["walk"]):
            with contextlib.suppress(NoRouteError):
                planner.plan(make_query(origin=o, destination=d, when=WHEN,
                                        modes=("walk", "transit")))
    finally:
        raptor.mc_raptor = kernel
    return captured


def _destinations(result) -> list:
    """Arrival, trip, pattern, board, alight, round, stop and CO2e of each destination label
    (the fields every revision has; 293606a had no run field)."""
    n = int(result[3])
    fields, co2 = result[4][:n], result[5][:n]
    return sorted((*map(int, fields[i, [0, 2, 3, 4, 5, -2, -1]]), round(float(co2[i]), 6))
                  for i in range(n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", required=True, help="a built .tanlu artifact")
    parser.add_argument("--against", required=True, help="git revision of the other kernel")
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5, help="passes over the searches")
    parser.add_argument("--control", action="store_true",
                        help="also time a second copy of this kernel: the ratio a comparison "
                             "of identical code gives (where the compiled code lies in memory "
                             "moves it by up to a quarter on this VM)")
    args = parser.parse_args()

    searches = captured_searches(load_network(args.network), args.pairs)
    kernels = {"this": _kernel_of(None, "raptor_this"),
               args.against: _kernel_of(args.against, "raptor_against")}
    if args.control:
        kernels["this again"] = _kernel_of(None, "raptor_control")
    same = 0
    for tt, q in searches:  # (also compiles both)
        same += _destinations(kernels["this"](tt, q)) == _destinations(kernels[args.against](tt, q))
    best = {name: np.full(len(searches), np.inf) for name in kernels}
    names = list(kernels)
    for r in range(args.repeat):
        for i, (tt, q) in enumerate(searches):
            for name in names if (i + r) % 2 == 0 else names[::-1]:
                started = time.perf_counter()
                kernels[name](tt, q)
                best[name][i] = min(best[name][i], time.perf_counter() - started)
    print(f"{len(searches)} walk+transit searches, best of {args.repeat} each, interleaved; "
          f"same destination labels: {same}/{len(searches)}")
    for name in names:
        v = best[name] * 1000
        print(f"kernel {name:<12} p50 {np.percentile(v, 50):6.2f} ms   "
              f"p95 {np.percentile(v, 95):6.2f} ms   total {v.sum():7.1f} ms")
    ratio = best["this"] / best[args.against]
    print(f"this / {args.against} per search: median {np.median(ratio):.3f} "
          f"(quartiles {np.percentile(ratio, 25):.3f}-{np.percentile(ratio, 75):.3f}), "
          f"total {best['this'].sum() / best[args.against].sum():.3f}")
    if args.control:
        control = best["this"] / best["this again"]
        print(f"control, this / this again (identical code): median {np.median(control):.3f} "
              f"(quartiles {np.percentile(control, 25):.3f}-{np.percentile(control, 75):.3f})")


if __name__ == "__main__":
    main()
