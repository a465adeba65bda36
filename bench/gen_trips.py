"""Generate realistic recorded trips for the audit (Porto Alegre by default), seeded.

Usage:
  python bench/gen_trips.py --network poa.tanlu --rows 100000 --out trips.parquet [--seed 1]

Honest trips come from real planner itineraries between transit stops and street nodes of the
network's coverage (walk, bike, e-bike, bus, rail, car, taxi) at plausible times on one service
day (Monday 2019-05-13: EPTC buses run 11:20-17:50), recorded with a little slack and claimed
points that respect the daily cap. A share of rows is planted implausible (too fast, wrong
distance, inflated points, transit at 03:00, duplicate trip ids, overlapping trips) and a share
malformed (bad time, end before start, outside coverage, unknown mode, empty user). The column
``planted`` says which (carried through the audit untouched), so results can be scored.

Planning every row of a million would take hours, so a pool of itineraries (``--pool``) is
planned once and rows reuse it with fresh users, ids and recording noise.
"""
from __future__ import annotations

import argparse
import heapq
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit.checks import MAX_SPEED_KPH  # noqa: E402
from audit.evaluate import PlannerEvaluator, TripInput  # noqa: E402
from graphs.artifact import load_network, read_manifest  # noqa: E402
from planner.points import apply_daily_cap, load_points_rules  # noqa: E402

DATE = "2019-05-13"
POOL_SIZE = 400
SHARE_IMPLAUSIBLE = 0.10
SHARE_MALFORMED = 0.02
#: Honest claims by mode (claimed_mode, weight, usual distance range in km).
HONEST_MODES = (("walk", 0.25, (0.4, 2.5)), ("bike", 0.15, (1.0, 7.0)),
                ("ebike", 0.05, (1.5, 9.0)), ("walk+bus", 0.30, (1.5, 9.0)),
                ("car_petrol", 0.15, (1.0, 12.0)), ("taxi", 0.05, (1.0, 10.0)),
                ("walk+rail", 0.05, (2.0, 12.0)))
#: Hours of the day honest trips start (bus and rail inside EPTC's sample service window).
STREET_HOURS = (6.5, 21.5)
TRANSIT_HOURS = (11.4, 17.3)
PLANTED = ("too_fast", "wrong_distance", "inflated_points", "night_transit",
           "duplicate_id", "overlapping")
COLUMNS = ("trip_id", "user_id", "started_at", "ended_at", "origin_lat", "origin_lon",
           "dest_lat", "dest_lon", "claimed_mode", "claimed_distance_m", "claimed_points",
           "planted")
MALFORMED = ("bad_time", "end_before_start", "outside_coverage", "unknown_mode", "empty_user")


@dataclass(frozen=True)
class Template:
    """One honest planned trip: where, when, how, and the planner's facts."""

    claimed_mode: str
    origin: tuple[float, float]
    dest: tuple[float, float]
    start: pd.Timestamp
    arrival_s: float      # recorded start -> itinerary arrival
    distance_m: float
    points: float


def generate_trips(network_path: str | Path, *, rows: int, seed: int = 0, date: str = DATE,
                   pool_size: int = POOL_SIZE, share_implausible: float = SHARE_IMPLAUSIBLE,
                   share_malformed: float = SHARE_MALFORMED, rules: str = "default",
                   progress: bool = False) -> pd.DataFrame:
    """``rows`` recorded trips (times as ISO 8601 text) with a ``planted`` label column."""
    rng = np.random.default_rng(seed)
    manifest = read_manifest(network_path)
    pool = plan_pool(network_path, size=min(pool_size, rows), rng=rng, date=date,
                     tz=manifest["timezone"], rules=rules, progress=progress)
    kinds = _kinds(rows, rng, share_implausible, share_malformed)
    records = [_honest(pool[p], rng) for p in rng.integers(0, len(pool), rows)]
    for i, rec in enumerate(records):
        rec["trip_id"] = f"trip-{seed}-{i:07d}"
    _assign_users(records, rng)
    honest = [i for i, kind in enumerate(kinds) if kind == "honest"]
    for i, kind in enumerate(kinds):
        if kind in PLANTED:
            _plant(records, i, kind, rng, honest)
    _claim_points(records, load_points_rules(rules))
    for i, kind in enumerate(kinds):
        if kind == "inflated_points":
            records[i]["claimed_points"] = float(round(records[i]["claimed_points"] * 3 + 50))
        elif kind in MALFORMED:
            _malform(records[i], kind, rng)
    frame = pd.DataFrame.from_records(records)
    for name in ("started_at", "ended_at"):
        frame[name] = [v.isoformat() if isinstance(v, pd.Timestamp) else v for v in frame[name]]
    return frame[list(COLUMNS)]


def plan_pool(network_path, *, size: int, rng: np.random.Generator, date: str, tz: str,
              rules: str, progress: bool = False) -> list[Template]:
    """Plan ``size`` honest trips between stops and street nodes inside the coverage."""
    network = load_network(network_path)
    places = _places(network, network.manifest["coverage"]["bbox"])
    evaluator = PlannerEvaluator.for_network(network_path, rules=rules)
    names = [m for m, _, _ in HONEST_MODES]
    weights = np.array([w for _, w, _ in HONEST_MODES])
    pool: list[Template] = []
    attempts = 0
    while len(pool) < size and attempts < 50 * size:
        attempts += 1
        k = rng.choice(len(names), p=weights / weights.sum())
        mode, (low_km, high_km) = names[k], HONEST_MODES[k][2]
        origin, dest = _pair(places, rng, low_km, high_km)
        if origin is None:
            continue
        hours = TRANSIT_HOURS if "+" in mode else STREET_HOURS
        start = (pd.Timestamp(date, tz=tz) + pd.Timedelta(hours=rng.uniform(*hours))).floor("s")
        facts = evaluator(TripInput(0, start, start, origin[0], origin[1], dest[0], dest[1], mode))
        if facts["status"] != "ok" or not facts["transit_wait_s"] <= 1800 and "+" in mode:
            continue
        pool.append(Template(mode, origin, dest, start, facts["expected_arrival_s"],
                             facts["expected_distance_m"], facts["points_raw"]))
        if progress and len(pool) % 100 == 0:
            print(f"planned {len(pool)}/{size} honest trips", file=sys.stderr)
    if not pool:
        raise RuntimeError("no honest trip could be planned on this network")
    return pool


def _places(network, bbox) -> np.ndarray:
    """(lat, lon) of transit stops inside the coverage plus a sample of walking nodes."""
    points = []
    tt = network.timetable
    if tt is not None:
        inside = ((tt.stop_lon >= bbox[0]) & (tt.stop_lon <= bbox[2]) & (tt.stop_lat >= bbox[1])
                  & (tt.stop_lat <= bbox[3]))
        points.append(np.column_stack([tt.stop_lat[inside], tt.stop_lon[inside]]))
    walk = network.streets["walk"]
    step = max(1, walk.n_nodes // 4000)
    points.append(np.column_stack([walk.node_lat[::step], walk.node_lon[::step]]))
    return np.concatenate(points)


def _pair(places: np.ndarray, rng, low_km: float, high_km: float):
    origin = places[rng.integers(len(places))]
    for _ in range(30):
        dest = places[rng.integers(len(places))]
        if low_km <= _km(origin, dest) <= high_km:
            return tuple(map(float, origin)), tuple(map(float, dest))
    return None, None


def _km(a, b) -> float:
    dlat = math.radians(b[0] - a[0])
    dlon = math.radians(b[1] - a[1]) * math.cos(math.radians(a[0]))
    return 6371.0 * math.hypot(dlat, dlon)


def _kinds(rows: int, rng, share_implausible: float, share_malformed: float) -> list[str]:
    u = rng.random(rows)
    kinds = np.full(rows, "honest", dtype=object)
    planted = u < share_implausible
    kinds[planted] = rng.choice(PLANTED, planted.sum())
    malformed = (u >= share_implausible) & (u < share_implausible + share_malformed)
    kinds[malformed] = rng.choice(MALFORMED, malformed.sum())
    if rows and kinds[0] in ("duplicate_id", "overlapping"):
        kinds[0] = "honest"     # a repeat needs an earlier trip
    return kinds.tolist()


def _honest(t: Template, rng) -> dict:
    """A recording of ``t``: up to 20% slower than planned, distance within GPS noise."""
    end = t.start + pd.Timedelta(seconds=round(t.arrival_s * rng.uniform(1.0, 1.2)
                                               + rng.uniform(0, 60)))
    return {"user_id": "", "started_at": t.start, "ended_at": end, "origin_lat": t.origin[0],
            "origin_lon": t.origin[1], "dest_lat": t.dest[0], "dest_lon": t.dest[1],
            "claimed_mode": t.claimed_mode,
            "claimed_distance_m": float(round(t.distance_m * rng.uniform(0.95, 1.12))),
            "points": t.points, "planted": "honest"}


def _assign_users(records: list[dict], rng) -> None:
    """Give every trip a user who is free then (no overlaps), a few trips per user."""
    order = sorted(range(len(records)), key=lambda i: (records[i]["started_at"], i))
    free: list[tuple[pd.Timestamp, int]] = []
    n_users = 0
    for i in order:
        rec = records[i]
        if free and free[0][0] <= rec["started_at"] and rng.random() < 0.8:
            _, user = heapq.heappop(free)
        else:
            user, n_users = n_users, n_users + 1
        rec["user_id"] = f"user-{user:06d}"
        gap = pd.Timedelta(minutes=int(rng.integers(5, 90)))
        heapq.heappush(free, (rec["ended_at"] + gap, user))


def _claim_points(records: list[dict], rules) -> None:
    """Claims as the rules grant them: raw points after the daily cap, per user in trip order."""
    frame = pd.DataFrame({"user": [r["user_id"] for r in records],
                          "start": [r["started_at"] for r in records],
                          "points": [r["points"] for r in records]})
    for _, group in frame.sort_values(["user", "start"], kind="stable").groupby("user", sort=False):
        for i, value in zip(group.index, apply_daily_cap(group["points"].tolist(), rules)):
            records[i]["claimed_points"] = float(value)


def _plant(records: list[dict], i: int, kind: str, rng, honest: list[int]) -> None:
    rec = records[i]
    rec["planted"] = kind
    duration = rec["ended_at"] - rec["started_at"]
    if kind == "too_fast":      # two to four times the claimed mode's speed limit
        limit_mps = max(MAX_SPEED_KPH.get(m, 80.0) for m in rec["claimed_mode"].split("+")) / 3.6
        seconds = rec["claimed_distance_m"] / (limit_mps * rng.uniform(2.0, 4.0))
        rec["ended_at"] = rec["started_at"] + pd.Timedelta(seconds=max(1, round(seconds)))
    elif kind == "wrong_distance":
        factor = float(rng.choice([2.5, 3.5, 0.2]))
        rec["claimed_distance_m"] = float(round(rec["claimed_distance_m"] * factor + 500))
    elif kind == "night_transit":
        rec["claimed_mode"] = "walk+bus"
        night = rec["started_at"].normalize() + pd.Timedelta(hours=3, minutes=int(rng.integers(40)))
        rec["started_at"], rec["ended_at"], rec["points"] = night, night + duration, 0.0
    elif kind in ("duplicate_id", "overlapping"):
        earlier = [j for j in honest if j < i] or [0]
        source = records[int(rng.choice(earlier))]
        for key in ("user_id", "started_at", "ended_at", "origin_lat", "origin_lon", "dest_lat",
                    "dest_lon", "claimed_mode", "claimed_distance_m"):
            rec[key] = source[key]
        rec["points"] = 0.0       # a repeat earns nothing
        if kind == "duplicate_id":
            rec["trip_id"] = source["trip_id"]
        else:                     # the same ride again a minute or two later, new id
            shift = pd.Timedelta(seconds=int(rng.integers(60, 180)))
            rec["started_at"], rec["ended_at"] = rec["started_at"] + shift, rec["ended_at"] + shift


def _malform(rec: dict, kind: str, rng) -> None:
    rec["planted"] = kind
    if kind == "bad_time":
        rec["started_at"] = "13/05/2019 25:61"
    elif kind == "end_before_start":
        rec["ended_at"] = rec["started_at"] - pd.Timedelta(minutes=int(rng.integers(1, 60)))
    elif kind == "outside_coverage":
        rec["origin_lat"], rec["origin_lon"] = -23.5505, -46.6333    # Sao Paulo
    elif kind == "unknown_mode":
        rec["claimed_mode"] = str(rng.choice(["hoverboard", "walk+teleport", "horse"]))
    elif kind == "empty_user":
        rec["user_id"] = ""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", required=True)
    parser.add_argument("--out", required=True, help=".csv or .parquet")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--date", default=DATE)
    parser.add_argument("--pool", type=int, default=POOL_SIZE)
    parser.add_argument("--share-implausible", type=float, default=SHARE_IMPLAUSIBLE)
    parser.add_argument("--share-malformed", type=float, default=SHARE_MALFORMED)
    args = parser.parse_args(argv)
    frame = generate_trips(args.network, rows=args.rows, seed=args.seed, date=args.date,
                           pool_size=args.pool, share_implausible=args.share_implausible,
                           share_malformed=args.share_malformed, progress=True)
    write_trips(frame, args.out)
    counts = frame["planted"].value_counts().to_dict()
    print(f"wrote {len(frame):,} trips to {args.out}: {counts}", file=sys.stderr)
    return 0


def write_trips(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write trips as CSV or parquet (by extension)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


if __name__ == "__main__":
    sys.exit(main())
