"""Evidence-audit benchmark: leg-mode and route accuracy, flag precision/recall, throughput.

Usage:
  python bench/bench_traces.py --network poa.tanlu [--trips 300] [--seed 1] [--sim-dir DIR]

Simulates trips with ``bench/sim_traces.py`` (or reuses ``--sim-dir``), audits them with their
traces and taps in one process, and prints:

* leg modes right on honest traced trips (each true leg against the matched leg overlapping it
  most in time), transit legs on the right route and trip, and distance errors;
* per fraud kind the share flagged with the expected code, all frauds flagged (recall), the
  share of evidence-flagged trips that are frauds (precision) and honest trips flagged;
* throughput of the evidence stage (traces per second, one core) beside the planner stage.

Timings are wall-clock on a shared machine: read them as orders of magnitude.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sim_traces import simulate, write_simulation  # noqa: E402

from audit.evaluate import PlannerEvaluator  # noqa: E402
from audit.evidence import EvidenceAuditor  # noqa: E402
from audit.runner import audit_trips  # noqa: E402
from graphs.artifact import read_manifest  # noqa: E402
from graphs.network import manifest_bbox, manifest_timezone  # noqa: E402

#: The evidence flag each planted fraud must raise.
EXPECTED_FLAG = {"bike_on_bus": "mode_contradicted", "walk_teleport": "teleport",
                 "spoofed": "spoofing", "metro_no_tap": "no_tap",
                 "outside_times": "outside_claimed_times"}


class _TimedAuditor(EvidenceAuditor):
    seconds = 0.0

    def apply(self, results, errors, **options):
        start = time.perf_counter()
        out = super().apply(results, errors, **options)
        self.seconds = time.perf_counter() - start
        return out


def run(network: str | Path, sim_dir: str | Path, out_dir: str | Path) -> tuple[pd.DataFrame, dict]:
    """Audit a simulation folder with its evidence; results and timings."""
    sim_dir, out_dir = Path(sim_dir), Path(out_dir)
    manifest = read_manifest(network)
    evaluator = PlannerEvaluator.for_network(network)
    evidence = _TimedAuditor(evaluator.network_path, evaluator.network_sha256,
                             rules=evaluator.rules, traces_path=sim_dir / "traces.parquet",
                             taps_path=sim_dir / "taps.csv")
    evidence.warm_up()
    start = time.perf_counter()
    outcome = audit_trips(sim_dir / "trips.csv", out_dir / "results.parquet", evaluator=evaluator,
                          timezone=manifest_timezone(manifest), bbox=manifest_bbox(manifest),
                          workers=1, resume=False, evidence=evidence)
    total = time.perf_counter() - start
    return outcome.results, {"total_s": total, "evidence_s": evidence.seconds,
                             "errors": len(outcome.errors)}


def score(results: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Accuracy of matched legs against the true legs, and flag precision/recall."""
    honest = results[(results["planted"] == "honest") & (results["evidence"] == "trace")]
    legs = truth[truth["trip_id"].isin(honest["trip_id"]) & truth["has_trace"]]
    matched = {row.trip_id: pd.read_json(_io(row.matched_legs)) if row.matched_legs else None
               for row in honest.itertuples(index=False)}
    right = route_right = trip_right = transit = 0
    distance_error = {"street": [], "transit": []}
    for leg in legs.itertuples(index=False):
        found = _overlapping(matched.get(leg.trip_id), leg.start, leg.end)
        if found is None:
            continue
        right += found["mode"] == leg.mode
        if leg.gtfs_trip_id:
            transit += 1
            route_right += found["route_id"] == leg.route_id
            trip_right += found["trip_id"] == leg.gtfs_trip_id
        if found["mode"] == leg.mode and leg.distance_m > 200:
            kind = "transit" if leg.gtfs_trip_id else "street"
            distance_error[kind].append(abs(found["distance_m"] - leg.distance_m) / leg.distance_m)
    flagged = results["evidence_flags"] != ""
    fraud = results["planted"] != "honest"
    per_kind = {}
    for kind, code in EXPECTED_FLAG.items():
        rows = results[results["planted"] == kind]
        hit = rows["evidence_flags"].map(lambda f, c=code: c in f.split(";"))
        per_kind[kind] = (int(hit.sum()), len(rows))
    return {
        "legs": len(legs), "legs_mode_right": right / max(1, len(legs)),
        "transit_legs": transit, "route_right": route_right / max(1, transit),
        "trip_right": trip_right / max(1, transit),
        "street_distance_error_median": _median(distance_error["street"]),
        "transit_distance_error_median": _median(distance_error["transit"]),
        "frauds": int(fraud.sum()), "recall": float((flagged & fraud).sum() / max(1, fraud.sum())),
        "precision": float((flagged & fraud).sum() / max(1, flagged.sum())),
        "honest": int((~fraud).sum()),
        "honest_flagged": float((flagged & ~fraud).sum() / max(1, (~fraud).sum())),
        "honest_flagged_any_check": float((results["flagged"] & ~fraud).sum()
                                          / max(1, (~fraud).sum())),
        "per_kind": per_kind,
    }


def _io(text: str):
    from io import StringIO

    return StringIO(text)


def _overlapping(matched: pd.DataFrame | None, start, end):
    if matched is None or matched.empty:
        return None
    m_start = pd.to_datetime(matched["start"], utc=True, format="ISO8601")
    m_end = pd.to_datetime(matched["end"].replace("", None), utc=True, format="ISO8601")
    start, end = pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC")
    overlap = (np.minimum(m_end, end) - np.maximum(m_start, start)).dt.total_seconds()
    best = int(np.argmax(overlap.fillna(-1e9).to_numpy()))
    return matched.iloc[best] if overlap.iloc[best] > 0 else None


def _median(values) -> float:
    return float(np.median(values)) if values else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", required=True)
    parser.add_argument("--trips", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sim-dir", help="reuse (or write) the simulation here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sim_dir = Path(args.sim_dir or tmp)
        if not (sim_dir / "trips.csv").is_file():
            start = time.perf_counter()
            write_simulation(simulate(args.network, trips=args.trips, seed=args.seed), sim_dir)
            print(f"simulated {args.trips} trips in {time.perf_counter() - start:.1f} s")
        results, timing = run(args.network, sim_dir, tmp)
        truth = pd.read_parquet(sim_dir / "truth.parquet")
        fixes = len(pd.read_parquet(sim_dir / "traces.parquet"))
    s = score(results, truth)
    traced = int((results["evidence"] == "trace").sum())
    print(f"trips {len(results)} (traced {traced}, taps only "
          f"{int((results['evidence'] == 'taps').sum())}), fixes {fixes:,}")
    print(f"leg modes right (honest traces): {s['legs_mode_right']:.1%} of {s['legs']} legs")
    print(f"transit legs on the right route: {s['route_right']:.1%}, right trip: "
          f"{s['trip_right']:.1%} of {s['transit_legs']}")
    print(f"distance error (median |matched - true| / true): street "
          f"{s['street_distance_error_median']:.1%}, transit {s['transit_distance_error_median']:.1%}")
    for kind, (hit, n) in s["per_kind"].items():
        print(f"  {kind:14s} flagged {EXPECTED_FLAG[kind]:22s} {hit}/{n}")
    print(f"frauds flagged (recall): {s['recall']:.1%} of {s['frauds']}; precision "
          f"{s['precision']:.1%}; honest flagged by evidence {s['honest_flagged']:.1%} of "
          f"{s['honest']} (by any check {s['honest_flagged_any_check']:.1%})")
    print(f"evidence stage: {timing['evidence_s']:.1f} s = {traced / timing['evidence_s']:.1f} "
          f"traces/s ({fixes / timing['evidence_s']:,.0f} fixes/s) on one core; planner stage "
          f"{timing['total_s'] - timing['evidence_s']:.1f} s = "
          f"{len(results) / max(1e-9, timing['total_s'] - timing['evidence_s']):.1f} trips/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
