"""Benchmark GTFS-Realtime: time to apply a feed of N trip updates, and plan latency with it.

Feeds are generated here (a delay at the first stop of N trips of the day, every third one
cancelled instead) for a built Porto Alegre artifact:

    python -m api.cli build --sample porto-alegre --out /tmp/poa.tanlu
    python bench/bench_realtime.py /tmp/poa.tanlu
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from google.transit import gtfs_realtime_pb2 as rt

from graphs.artifact import load_network
from planner import Planner, make_query
from planner.realtime import RealtimeState, apply_feeds, decode_feed

TZ = ZoneInfo("America/Sao_Paulo")
WHEN = datetime(2019, 5, 13, 12, 30, tzinfo=TZ)
PAIRS = [((-30.056324, -51.173766), (-30.029275, -51.187291)),
         ((-30.0277, -51.2287), (-30.0346, -51.2077)),
         ((-30.0277, -51.2287), (-30.0050, -51.1900))]


def make_feed(tt, trips: np.ndarray) -> bytes:
    msg = rt.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    msg.header.timestamp = int(WHEN.timestamp())
    pattern_of = np.searchsorted(tt.pattern_trip_indptr, trips, side="right") - 1
    for i, (t, p) in enumerate(zip(trips, pattern_of, strict=True)):
        feed, own = str(tt.trip_id[t]).split(":", 1)
        tu = msg.entity.add(id=str(i)).trip_update
        tu.trip.trip_id = own
        if i % 3 == 2:
            tu.trip.schedule_relationship = rt.TripDescriptor.CANCELED
            continue
        stop = str(tt.stop_id[tt.pattern_stops[tt.pattern_stop_indptr[p]]]).split(":", 1)[1]
        stu = tu.stop_time_update.add(stop_id=stop)
        stu.departure.delay = 60 * (1 + i % 10)
    return msg.SerializeToString()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("network")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    network = load_network(args.network)
    planner = Planner(network)
    router = planner.transit
    tt = router.timetable
    day = router.scheduled_day(WHEN.date(), False)
    today = np.unique(day.trip_original[(day.trip_offset_s == 0)])
    today = today[[str(tt.trip_id[t]).startswith("poa_eptc:") for t in today]]
    queries = [make_query(origin=o, destination=d, when=WHEN, modes={"transit"}) for o, d in PAIRS]
    for q in queries:  # warm: kernels compiled, scheduled tables built
        planner.plan(q)
    print(f"{len(today)} EPTC trips run on {WHEN.date()}; {args.repeat} repeats, "
          f"medians (the machine is shared: noisy)")
    for n in (100, 1000, len(today)):
        trips = np.random.default_rng(0).choice(today, size=min(n, len(today)), replace=False)
        data = make_feed(tt, trips)
        decode_s, apply_s = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            feed = decode_feed("poa_eptc", data)
            t1 = time.perf_counter()
            apply_feeds(tt, day, (feed,), router.tz)
            apply_s.append(time.perf_counter() - t1)
            decode_s.append(t1 - t0)
        print(f"N={len(trips):5d}: feed {len(data) / 1024:7.1f} KiB, decode "
              f"{statistics.median(decode_s) * 1e3:7.1f} ms, apply "
              f"{statistics.median(apply_s) * 1e3:7.1f} ms")
    latency = {}
    for label, state in (("schedule", None), ("realtime", RealtimeState(
            tt, router.tz, feeds=(decode_feed("poa_eptc", make_feed(tt, today)),)))):
        router.realtime = state
        for q in queries:  # the first plan builds the realtime table: not timed
            planner.plan(q)
        times = []
        for _ in range(args.repeat):
            for q in queries:
                t0 = time.perf_counter()
                planner.plan(q)
                times.append(time.perf_counter() - t0)
        latency[label] = statistics.median(times)
        print(f"plan p50 with {label:8s}: {latency[label] * 1e3:7.1f} ms ({len(times)} plans)")
    router.realtime = None
    print(f"ratio realtime/schedule: {latency['realtime'] / latency['schedule']:.2f}")


if __name__ == "__main__":
    main()
