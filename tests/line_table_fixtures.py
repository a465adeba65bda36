"""Line tables derived from a real GTFS feed (Trensurb), for the line-table tests.

For each route and direction: the stops of its most common stop pattern in order, with
``minutes_from_first`` from that pattern's median trip; headway bands from the real departures
at the first stop: consecutive departures with the same gap (whole minutes) form one band from
its first to its last departure. Weekday (Mon-Fri) services become ``weekday``; Saturday and
Sunday services are left out (``weekend`` would need one table for both days).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd


def _seconds(text: pd.Series) -> np.ndarray:
    parts = text.str.split(":", expand=True).astype(int)
    return (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy()


def derive_line_tables(feed: Path, out_dir: Path, *, with_minutes: bool = True,
                       weekday_service: str = "FULLW") -> tuple[Path, Path]:
    with zipfile.ZipFile(feed) as zf:
        read = lambda f: pd.read_csv(zf.open(f), dtype=str, keep_default_na=False)
        stops, routes, trips, st = (read("stops.txt"), read("routes.txt"), read("trips.txt"),
                                    read("stop_times.txt"))
    trips = trips[trips.service_id == weekday_service]
    st = st[st.trip_id.isin(trips.trip_id)].copy()
    st["t"] = _seconds(st.departure_time)
    st["seq"] = st.stop_sequence.astype(int)
    st = st.sort_values(["trip_id", "seq"])
    pattern = st.groupby("trip_id")["stop_id"].agg(tuple)
    trips = trips.set_index("trip_id").assign(pattern=pattern)
    stop_xy = stops.set_index("stop_id")
    line_rows, band_rows = [], []
    for (route, pat), group in trips.groupby(["route_id", "pattern"]):
        if len(group) < 0.1 * (trips.route_id == route).sum() or len(group) < 10:
            continue  # short-turn and rare patterns
        direction = f"{pat[0]}-{pat[-1]}"
        times = st[st.trip_id.isin(group.index)].pivot(index="trip_id", columns="seq",
                                                       values="t")
        offsets = (times.sub(times.iloc[:, 0], axis=0)).median().to_numpy()
        name = routes.set_index("route_id").loc[route, "route_long_name"]
        for k, stop in enumerate(pat):
            row = {"line_id": route, "line_name": name, "mode": "rail",
                   "direction": direction, "stop_seq": k + 1,
                   "stop_name": stop_xy.loc[stop, "stop_name"],
                   "lon": stop_xy.loc[stop, "stop_lon"], "lat": stop_xy.loc[stop, "stop_lat"]}
            if with_minutes:
                row["minutes_from_first"] = round(offsets[k] / 60, 2)
            line_rows.append(row)
        first = np.sort(times.iloc[:, 0].to_numpy())
        gaps = np.round(np.diff(first) / 60).astype(int)
        start = 0
        for i in range(1, len(first) + 1):
            if i == len(first) or (i < len(first) - 1 and gaps[i] != gaps[i - 1]):
                end = i if i < len(first) else len(first) - 1
                headway = gaps[start] if start < len(gaps) else 60
                band_rows.append({"line_id": route, "direction": direction, "days": "weekday",
                                  "start_time": _hms(first[start]), "end_time": _hms(first[end]),
                                  "headway_min": int(max(headway, 1))})
                start = end
    lines_path, headways_path = out_dir / "trensurb_lines.csv", out_dir / "trensurb_headways.csv"
    pd.DataFrame(line_rows).to_csv(lines_path, index=False)
    pd.DataFrame(band_rows).to_csv(headways_path, index=False)
    return lines_path, headways_path


def _hms(seconds: int) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
