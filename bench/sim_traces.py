"""Simulate phone GPS traces and transit-card taps of real Porto Alegre plans, honest and fraudulent.

Usage:
  python bench/sim_traces.py --network poa.tanlu --trips 200 --out-dir sim/ [--seed 0]

Writes ``trips.csv`` (the audit's trips schema plus ``planted``; claimed points are the
planner's award for the plan, before any daily cap), ``traces.parquet`` (trip_id,
time, lat, lon, accuracy), ``taps.csv`` (card_id, time, stop_id, route_id) and
``truth.parquet`` (the true legs: trip_id, leg, mode, start, end, route_id, gtfs_trip_id,
board/alight stop ids, distance_m). Seeded and deterministic: the same network, seed and
counts give byte-identical tables.

Every trip is a real plan of ``planner.Planner`` on the network (the places, modes and hours of
``bench/gen_trips.py``), re-enacted in time and then "recorded" by a phone:

Motion model
  * walk 1.1-1.6 m/s per trip (transit access/transfer walks 1.35-1.6, so the planned
    connection is caught), bike 3.3-5.0 m/s, e-bike 5.0-6.8 m/s, each varied by a slow
    AR(1) factor (+-15 %) every 50 m; walkers pause 5-30 s at 20 % of 200 m marks, cyclists
    and cars at traffic lights (10-40 s) at 30-50 % of 400 m marks; cars drive the planned path
    at 1.0-1.5 x its free-flow time;
  * transit rides follow the GTFS hop geometry of the very trip the planner chose, at the
    timetable's times, dwelling 8-30 s at 70 % of intermediate stops (the dwell is taken
    from the scheduled hop time, so the vehicle is at every stop on time); riders reach the
    boarding stop 1-5 min early and wait there.

Recording (noise) model
  * sampling every 2, 3 or 5 s per trip with N(0, 0.25 s) jitter;
  * GPS error: AR(1)-correlated Gaussian per axis, sigma 5-10 m per trip, correlation time
    10 s (real fixes drift rather than jump); reported ``accuracy`` = 1.5 sigma +-20 %;
  * urban-canyon outliers: 2 % of fixes moved 40-150 m in a random direction (reported
    accuracy under-states them, as multipath does);
  * claimed times: start 0-20 s before the first fix, end 0-20 s after the last.

Fraud kinds (``planted`` column; ``honest`` otherwise)
  * ``bike_on_bus``: a real bus ride (walk+bus plan, bus trace, taps) claimed as ``bike``;
  * ``walk_teleport``: a walk whose middle 30-50 % of time is cut out, so the phone jumps;
  * ``spoofed``: a walk or bike plan replayed at exactly constant speed, fixes every exactly
    1 or 5 s, no GPS error, constant accuracy;
  * ``metro_no_tap``: a real Trensurb (rail) ride claimed ``walk+rail`` with no card tap;
  * ``outside_times``: a real walk or bike trace, claimed 30-90 min earlier or later.

Taps: every honest transit ride taps the card (``card_id`` = the trip's ``user_id``): bus riders
on board 0-60 s after departure with the route, rail riders at the station gate 60-240 s
before departure without one. A share of honest transit trips (``--share-taps-only``) has taps
but no trace, as when the app was off.
"""
from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_trips import DATE, STREET_HOURS, TRANSIT_HOURS, _pair, _places  # noqa: E402

from graphs.artifact import load_network  # noqa: E402
from graphs.geodesy import METRES_PER_DEGREE, local_xy  # noqa: E402
from graphs.modes import TRANSIT, TRANSIT_MODES  # noqa: E402
from planner import Planner, claim_itinerary, make_query  # noqa: E402
from planner.errors import PlannerError  # noqa: E402

#: Honest claims (claimed mode, weight, distance range in km).
HONEST_MODES = (("walk", 0.22, (0.4, 2.5)), ("bike", 0.15, (1.0, 7.0)),
                ("ebike", 0.08, (1.5, 9.0)), ("walk+bus", 0.30, (1.5, 9.0)),
                ("car_petrol", 0.12, (1.0, 12.0)), ("taxi", 0.05, (1.0, 10.0)),
                ("walk+rail", 0.08, (2.0, 15.0)))
FRAUD_KINDS = ("bike_on_bus", "walk_teleport", "spoofed", "metro_no_tap", "outside_times")
SHARE_FRAUD = 0.3
SHARE_TAPS_ONLY = 0.1
SAMPLING_S = (2.0, 3.0, 5.0)
SAMPLING_JITTER_S = 0.25
GPS_SIGMA_M = (5.0, 10.0)
GPS_CORRELATION_S = 10.0
OUTLIER_SHARE = 0.02
OUTLIER_M = (40.0, 150.0)
WALK_MPS = (1.1, 1.6)
CONNECTING_WALK_MPS = (1.35, 1.6)
BIKE_MPS = (3.3, 5.0)
EBIKE_MPS = (5.0, 6.8)
CAR_SLOWDOWN = (1.0, 1.5)
DWELL_S = (8.0, 30.0)
DWELL_SHARE = 0.7
WAIT_AT_STOP_S = (60.0, 300.0)
_SPEEDS = {"walk": WALK_MPS, "bike": BIKE_MPS, "ebike": EBIKE_MPS}


@dataclass
class TrueLeg:
    """One leg as it really happened: a polyline in local metres and a time -> distance profile."""

    mode: str
    xy: np.ndarray                 # (n, 2) metres around the trip's origin
    knots_t: np.ndarray            # seconds since the trip's day zero, increasing
    knots_s: np.ndarray            # metres along ``xy`` at those times
    route_id: str = ""
    gtfs_trip_id: str = ""
    board_stop: str = ""
    alight_stop: str = ""
    stop_events: list = field(default_factory=list)   # (stop_id, time) taps could use

    @property
    def start(self) -> float:
        return float(self.knots_t[0])

    @property
    def end(self) -> float:
        return float(self.knots_t[-1])


def simulate(network_path: str | Path, *, trips: int, seed: int = 0, date: str = DATE,
             share_fraud: float = SHARE_FRAUD, share_taps_only: float = SHARE_TAPS_ONLY,
             progress: bool = False) -> dict[str, pd.DataFrame]:
    """Simulated ``trips``, ``traces``, ``taps`` and ``truth`` tables (see the module doc)."""
    rng = np.random.default_rng(seed)
    network = load_network(network_path)
    planner = Planner(network)
    sim = _Simulator(network, planner, rng, date)
    places = _places(network, network.bbox)
    kinds = ["honest" if rng.random() >= share_fraud else str(rng.choice(FRAUD_KINDS))
             for _ in range(trips)]
    out = {"trips": [], "traces": [], "taps": [], "truth": []}
    attempts = 0
    i = 0
    while i < trips and attempts < 40 * trips:
        attempts += 1
        made = sim.trip(f"sim-{seed}-{i:05d}", kinds[i], places,
                        taps_only=kinds[i] == "honest" and rng.random() < share_taps_only)
        if made is None:
            continue
        for key, rows in made.items():
            out[key].extend(rows)
        i += 1
        if progress and i % 50 == 0:
            print(f"simulated {i}/{trips} trips", file=sys.stderr)
    if i < trips:
        raise RuntimeError(f"only {i} of {trips} trips could be planned on this network")
    tables = {key: pd.DataFrame.from_records(rows) for key, rows in out.items()}
    tables["taps"] = tables["taps"].reindex(columns=["card_id", "time", "stop_id", "route_id"])
    return tables


class _Simulator:
    def __init__(self, network, planner: Planner, rng: np.random.Generator, date: str) -> None:
        self.network = network
        self.planner = planner
        self.rng = rng
        self.tz = network.timezone
        self.day0 = pd.Timestamp(date, tz=self.tz)
        tt = network.timetable
        self.trip_index = {str(t): i for i, t in enumerate(tt.trip_id)}
        self.stop_index = {str(s): i for i, s in enumerate(tt.stop_id)}

    # -- one trip -------------------------------------------------------------------------
    def trip(self, trip_id: str, kind: str, places, *, taps_only: bool = False):
        rng = self.rng
        claimed = {"bike_on_bus": "walk+bus", "metro_no_tap": "walk+rail",
                   "walk_teleport": "walk", "spoofed": str(rng.choice(["walk", "bike"])),
                   "outside_times": str(rng.choice(["walk", "bike"]))}.get(kind)
        if claimed is None:
            names = [m for m, _, _ in HONEST_MODES]
            weights = np.array([w for _, w, _ in HONEST_MODES])
            claimed = names[rng.choice(len(names), p=weights / weights.sum())]
        low, high = dict((m, r) for m, _, r in HONEST_MODES)[claimed]
        if kind == "walk_teleport":
            low, high = 1.5, 3.0
        origin, dest = _pair(places, rng, low, high)
        if origin is None:
            return None
        hours = TRANSIT_HOURS if "+" in claimed else STREET_HOURS
        start = (self.day0 + pd.Timedelta(hours=rng.uniform(*hours))).floor("s")
        itinerary = self._plan(claimed, origin, dest, start)
        if itinerary is None:
            return None
        legs = self._enact(itinerary, spoofed=kind == "spoofed")
        if legs is None:
            return None
        origin_xy = (origin[0], origin[1])
        times, points, accuracy = self._record(legs, spoofed=kind == "spoofed")
        if kind == "walk_teleport":
            times, points, accuracy = _teleport(times, points, accuracy, rng)
        lat, lon = _to_latlon(points, origin_xy)
        t_first, t_last = float(times[0]), float(times[-1])
        claim_start = t_first - rng.uniform(0, 20)
        claim_end = t_last + rng.uniform(0, 20)
        if kind == "outside_times":
            shift = rng.uniform(30, 90) * 60 * rng.choice([-1, 1])
            claim_start, claim_end = claim_start + shift, claim_end + shift
        user = f"user-{trip_id}"
        claim_mode = "bike" if kind == "bike_on_bus" else claimed
        record = {
            "trip_id": trip_id, "user_id": user,
            "started_at": self._at(claim_start, whole=True).isoformat(),
            "ended_at": self._at(claim_end, whole=True).isoformat(),
            "origin_lat": origin[0], "origin_lon": origin[1],
            "dest_lat": dest[0], "dest_lon": dest[1], "claimed_mode": claim_mode,
            "claimed_distance_m": float(round(itinerary.distance_m)),
            "claimed_points": float(itinerary.points.points),
            "planted": kind}
        stamps = [self._at(t) for t in times]
        traces = [] if taps_only else [
            {"trip_id": trip_id, "time": s, "lat": float(a), "lon": float(o), "accuracy": float(c)}
            for s, a, o, c in zip(stamps, lat, lon, accuracy, strict=True)]
        taps = [] if kind == "metro_no_tap" else self._taps(legs, user)
        truth = [{"trip_id": trip_id, "leg": k, "mode": leg.mode,
                  "start": self._at(leg.start), "end": self._at(leg.end),
                  "route_id": leg.route_id, "gtfs_trip_id": leg.gtfs_trip_id,
                  "board_stop": leg.board_stop, "alight_stop": leg.alight_stop,
                  "distance_m": float(leg.knots_s[-1]), "has_trace": not taps_only}
                 for k, leg in enumerate(legs)]
        return {"trips": [record], "traces": traces, "taps": taps, "truth": truth}

    def _plan(self, claimed: str, origin, dest, start: pd.Timestamp):
        parts = claimed.split("+")
        transit = [p for p in parts if p in TRANSIT_MODES]
        modes = [TRANSIT] if transit else parts
        try:
            query = make_query(origin=origin, destination=dest, when=start.to_pydatetime(),
                               modes=modes, transit_modes=transit or None)
            plan = self.planner.plan(query)
            chosen = claim_itinerary(plan, parts)
        except PlannerError:
            return None
        if transit and (chosen.legs[0].departure - start.to_pydatetime()).total_seconds() > 1800:
            return None
        return chosen

    def _at(self, seconds: float, *, whole: bool = False) -> pd.Timestamp:
        ms = round(float(seconds) * (1 if whole else 1000))
        delta = pd.Timedelta(seconds=ms) if whole else pd.Timedelta(milliseconds=ms)
        return (self.day0 + delta).tz_convert(self.tz)

    # -- motion ---------------------------------------------------------------------------
    def _enact(self, itinerary, *, spoofed: bool) -> list[TrueLeg] | None:
        """True legs in time: rides on their timetable, walks fitted around them."""
        legs = itinerary.legs
        origin = (legs[0].from_place.lat, legs[0].from_place.lon)
        out: list[TrueLeg | None] = [None] * len(legs)
        rides = [i for i, leg in enumerate(legs) if leg.trip_id]
        for i in rides:
            out[i] = self._ride(legs[i], origin)
            if out[i] is None:
                return None
        clock = (legs[0].departure - self.day0.to_pydatetime()).total_seconds()
        for i, leg in enumerate(legs):
            if out[i] is not None:
                clock = out[i].end
                continue
            xy = _to_xy(leg.geometry, origin)
            connecting = bool(rides)
            speed_range = CONNECTING_WALK_MPS if connecting and leg.mode == "walk" else None
            knots_t, knots_s = self._street_knots(leg.mode, xy, leg.duration_s,
                                                  speed_range=speed_range, spoofed=spoofed)
            nxt = next((out[j] for j in range(i + 1, len(legs)) if out[j] is not None), None)
            if i == 0:
                begin = (nxt.start - self.rng.uniform(*WAIT_AT_STOP_S) - knots_t[-1]
                         if nxt is not None else clock)
            else:
                begin = clock + self.rng.uniform(5, 20)
            knots_t = knots_t + begin
            if nxt is not None:       # wait for the vehicle at the stop
                if knots_t[-1] > nxt.start - 5:
                    return None       # this connection cannot be made on foot
                knots_t = np.append(knots_t, nxt.start)
                knots_s = np.append(knots_s, knots_s[-1])
            out[i] = TrueLeg(leg.mode, xy, knots_t, knots_s)
            clock = float(knots_t[-1])
        return out  # type: ignore[return-value]

    def _street_knots(self, mode: str, xy: np.ndarray, planned_s: float, *,
                      speed_range=None, spoofed: bool = False):
        rng = self.rng
        length = _length(xy)
        if mode in _SPEEDS or spoofed:
            speed = rng.uniform(*(speed_range or _SPEEDS.get(mode, WALK_MPS)))
        else:                 # cars: the planned free-flow profile, slowed by traffic
            speed = length / max(planned_s, 1.0) / rng.uniform(*CAR_SLOWDOWN)
        if spoofed:
            return np.array([0.0, length / speed]), np.array([0.0, length])
        piece = 50.0
        pause_every, pause_share, pause_s = ((200.0, 0.2, (5.0, 30.0)) if mode == "walk" else
                                             (400.0, 0.3 if mode in _SPEEDS else 0.5,
                                              (10.0, 40.0)))
        if speed_range is not None:
            pause_share = 0.0
        t, s, factor = 0.0, 0.0, 0.0
        ts, ss = [0.0], [0.0]
        next_pause = pause_every
        while s < length - 1e-6:
            factor = 0.7 * factor + rng.normal(0, 0.15 * math.sqrt(1 - 0.49))
            step = min(piece, length - s)
            t += step / (speed * float(np.clip(1 + factor, 0.6, 1.4)))
            s += step
            ts.append(t)
            ss.append(s)
            if s >= next_pause and s < length - 1:
                next_pause += pause_every
                if rng.random() < pause_share:
                    t += rng.uniform(*pause_s)
                    ts.append(t)
                    ss.append(s)
        return np.array(ts), np.array(ss)

    def _ride(self, leg, origin) -> TrueLeg | None:
        """The ride on its GTFS trip: hop geometry, scheduled times, dwell at stops."""
        tt = self.network.timetable
        trip = self.trip_index.get(leg.trip_id)
        if trip is None:
            return None
        pattern = int(np.searchsorted(tt.pattern_trip_indptr, trip, side="right") - 1)
        base = int(tt.pattern_stop_indptr[pattern])
        stops = [str(tt.stop_id[s]) for s in
                 tt.pattern_stops[base:int(tt.pattern_stop_indptr[pattern + 1])]]
        board = stops.index(leg.from_place.stop_id)
        alight = board + 1 + stops[board + 1:].index(leg.to_place.stop_id)
        row = int(tt.trip_stop_time_indptr[trip])
        day0 = self.day0.to_pydatetime()
        shift = (leg.departure - day0).total_seconds() - int(tt.stop_time_departure_s[row + board])
        geometry = [(float(tt.stop_lon[tt.pattern_stops[base + board]]),
                     float(tt.stop_lat[tt.pattern_stops[base + board]]))]
        stop_s, times = [0.0], [float(tt.stop_time_departure_s[row + board]) + shift]
        for pos in range(board + 1, alight + 1):
            a, b = tt.hop_geometry_indptr[base + pos], tt.hop_geometry_indptr[base + pos + 1]
            stop = int(tt.pattern_stops[base + pos])
            hop = ([tuple(map(float, p)) for p in tt.hop_geometry_lonlat[a:b]] if b > a else [])
            geometry.extend(hop + [(float(tt.stop_lon[stop]), float(tt.stop_lat[stop]))])
            stop_s.append(_length(_to_xy(geometry, origin)))
            column = tt.stop_time_arrival_s if pos == alight else tt.stop_time_departure_s
            times.append(float(column[row + pos]) + shift)
        xy = _to_xy(geometry, origin)
        knots_t, knots_s = [times[0]], [0.0]
        for k in range(1, len(times)):
            hop_s = times[k] - times[k - 1]
            dwell = 0.0
            if k < len(times) - 1 and self.rng.random() < DWELL_SHARE:
                dwell = min(self.rng.uniform(*DWELL_S), 0.5 * hop_s)
            knots_t += [times[k] - dwell, times[k]] if dwell > 0 else [times[k]]
            knots_s += [stop_s[k], stop_s[k]] if dwell > 0 else [stop_s[k]]
        if np.any(np.diff(knots_t) < 0):
            return None
        return TrueLeg(leg.mode, xy, np.array(knots_t), np.array(knots_s),
                       route_id=leg.route_id or "", gtfs_trip_id=leg.trip_id,
                       board_stop=leg.from_place.stop_id, alight_stop=leg.to_place.stop_id,
                       stop_events=[(leg.from_place.stop_id, times[0])])

    # -- recording ------------------------------------------------------------------------
    def _record(self, legs: list[TrueLeg], *, spoofed: bool):
        rng = self.rng
        t0, t1 = legs[0].start, legs[-1].end
        if spoofed:
            step = float(rng.choice([1.0, 5.0]))
            times = np.arange(math.ceil(t0), t1, step)
        else:
            step = float(rng.choice(SAMPLING_S))
            gaps = np.clip(step + rng.normal(0, SAMPLING_JITTER_S, int((t1 - t0) / step) + 2),
                           0.5 * step, 2 * step)
            times = t0 + rng.uniform(0, step) + np.concatenate([[0.0], np.cumsum(gaps)])
            times = np.round(times[times <= t1], 3)
        points = _positions(legs, times)
        if spoofed:
            return times, points, np.full(len(times), 5.0)
        sigma = rng.uniform(*GPS_SIGMA_M)
        noise = np.zeros_like(points)
        previous = rng.normal(0, sigma, 2)
        for k in range(len(times)):
            rho = math.exp(-(times[k] - times[k - 1]) / GPS_CORRELATION_S) if k else 0.0
            previous = rho * previous + math.sqrt(1 - rho * rho) * rng.normal(0, sigma, 2)
            noise[k] = previous
        accuracy = 1.5 * sigma * rng.uniform(0.8, 1.2, len(times))
        outlier = rng.random(len(times)) < OUTLIER_SHARE
        angle = rng.uniform(0, 2 * math.pi, len(times))
        jump = rng.uniform(*OUTLIER_M, len(times))
        noise[outlier, 0] += jump[outlier] * np.cos(angle[outlier])
        noise[outlier, 1] += jump[outlier] * np.sin(angle[outlier])
        accuracy[outlier] = jump[outlier] * rng.uniform(0.2, 0.6, outlier.sum())
        return times, points + noise, np.round(accuracy, 1)

    def _taps(self, legs: list[TrueLeg], user: str) -> list[dict]:
        taps = []
        for leg in legs:
            if not leg.gtfs_trip_id:
                continue
            stop, departure = leg.stop_events[0]
            if leg.mode == "bus":
                time, route = departure + self.rng.uniform(0, 60), leg.route_id
            else:
                time, route = departure - self.rng.uniform(60, 240), ""
            taps.append({"card_id": user, "time": self._at(time).isoformat(), "stop_id": stop,
                         "route_id": route})
        return taps


def _positions(legs: list[TrueLeg], times: np.ndarray) -> np.ndarray:
    out = np.empty((len(times), 2))
    starts = np.array([leg.start for leg in legs])
    which = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(legs) - 1)
    for k, leg in enumerate(legs):
        mask = which == k
        if not mask.any():
            continue
        s = np.interp(times[mask], leg.knots_t, leg.knots_s)
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(leg.xy, axis=0).T))])
        out[mask, 0] = np.interp(s, cum, leg.xy[:, 0])
        out[mask, 1] = np.interp(s, cum, leg.xy[:, 1])
    return out


def _teleport(times, points, accuracy, rng):
    """Cut the middle 30-50 % of the time out and close the gap in time, not in space."""
    span = times[-1] - times[0]
    cut_start = times[0] + span * rng.uniform(0.25, 0.35)
    cut_end = cut_start + span * rng.uniform(0.3, 0.5)
    keep = (times < cut_start) | (times > cut_end)
    after = times > cut_end
    step = float(np.median(np.diff(times)))
    new_times = times.copy()
    new_times[after] -= (cut_end - cut_start) - step
    return np.round(new_times[keep], 3), points[keep], accuracy[keep]


def _to_xy(geometry, origin) -> np.ndarray:
    lonlat = np.asarray(geometry, dtype=float).reshape(-1, 2)
    return local_xy(lonlat[:, 1], lonlat[:, 0], origin[0]) - local_xy(origin[0], origin[1],
                                                                       origin[0])


def _to_latlon(xy: np.ndarray, origin) -> tuple[np.ndarray, np.ndarray]:
    lat = origin[0] + xy[:, 1] / METRES_PER_DEGREE
    lon = origin[1] + xy[:, 0] / (METRES_PER_DEGREE * math.cos(math.radians(origin[0])))
    return np.round(lat, 7), np.round(lon, 7)


def _length(xy: np.ndarray) -> float:
    return float(np.hypot(*np.diff(xy, axis=0).T).sum()) if len(xy) > 1 else 0.0


def write_simulation(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> Path:
    """Write the four tables into ``out_dir`` (created)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables["trips"].to_csv(out / "trips.csv", index=False)
    tables["traces"].to_parquet(out / "traces.parquet", index=False)
    tables["taps"].to_csv(out / "taps.csv", index=False)
    tables["truth"].to_parquet(out / "truth.parquet", index=False)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--trips", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--date", default=DATE)
    parser.add_argument("--share-fraud", type=float, default=SHARE_FRAUD)
    parser.add_argument("--share-taps-only", type=float, default=SHARE_TAPS_ONLY)
    args = parser.parse_args(argv)
    tables = simulate(args.network, trips=args.trips, seed=args.seed, date=args.date,
                      share_fraud=args.share_fraud, share_taps_only=args.share_taps_only,
                      progress=True)
    out = write_simulation(tables, args.out_dir)
    counts = tables["trips"]["planted"].value_counts().to_dict()
    print(f"wrote {len(tables['trips'])} trips, {len(tables['traces']):,} fixes, "
          f"{len(tables['taps'])} taps to {out}: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
