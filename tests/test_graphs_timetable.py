"""Compiling GTFS into the Timetable: ids, interpolation, patterns, frequencies, distances."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer

from graphs.errors import GtfsError
from graphs.network import Timetable
from graphs.timetable import DEFAULT_MIN_TRANSFER_S, compile_timetable

FACTORS = {"bus": 80.0, "tram": 30.0, "metro": 25.0, "rail": 35.0, "ferry": 100.0, "cable": 20.0}
GEOD = Geod(ellps="WGS84")


class Factors:
    def g_per_pkm(self, key: str) -> float:
        return FACTORS[key]


def compile_(paths, **kwargs):
    return compile_timetable(paths, factors=Factors(), **kwargs)


@pytest.fixture(scope="module")
def tiny(fixtures_dir: Path):
    return compile_([fixtures_dir / "gtfs_tiny"])


@pytest.fixture(scope="module")
def poa(sample_dir: Path):
    city = sample_dir / "porto-alegre"
    return compile_([city / "poa_eptc.zip", city / "poa_trensurb.zip"])


@pytest.fixture(scope="module")
def helsinki(sample_dir: Path):
    return compile_([sample_dir / "helsinki" / "hsl_gtfs.zip"])


@pytest.fixture(scope="module")
def sao_paulo(sample_dir: Path):
    return compile_([sample_dir / "sao-paulo" / "spo_gtfs.zip"])


def trip_rows(tt: Timetable, trip_id: str) -> slice:
    t = int(np.flatnonzero(tt.trip_id == trip_id)[0])
    return slice(tt.trip_stop_time_indptr[t], tt.trip_stop_time_indptr[t + 1])


def pattern_of_trip(tt: Timetable, trip_id: str) -> int:
    t = int(np.flatnonzero(tt.trip_id == trip_id)[0])
    return int(np.searchsorted(tt.pattern_trip_indptr, t, side="right") - 1)


def raw(path: Path, name: str) -> pd.DataFrame:
    with zipfile.ZipFile(path) as zf:
        return pd.read_csv(zf.open(name), dtype=str, keep_default_na=False)


def hms(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


# -- tiny hand-written feed -------------------------------------------------------------------

def test_tiny_ids_prefixed_and_stations_kept(tiny) -> None:
    tt, report = tiny
    assert tt.feed_names.tolist() == ["gtfs_tiny"]
    assert all(s.startswith("gtfs_tiny:") for s in tt.stop_id)
    station = int(np.flatnonzero(tt.stop_id == "gtfs_tiny:S")[0])
    alpha = int(np.flatnonzero(tt.stop_id == "gtfs_tiny:A")[0])
    assert tt.stop_parent[alpha] == station and tt.stop_parent[station] == -1
    assert station not in set(tt.pattern_stops)  # stations are not boarding points
    assert report["timezone"] == "America/Sao_Paulo"
    assert report["feeds"]["gtfs_tiny"]["interpolated_times"] == 4


def test_tiny_interpolation_by_distance(tiny) -> None:
    tt, _ = tiny
    rows = trip_rows(tt, "gtfs_tiny:T1")
    # A-B and B-C are 0.001 deg of longitude, C-D 0.002: B at 1/4 of the 600 s, C at 1/2
    assert tt.stop_time_arrival_s[rows].tolist() == [28800, 28950, 29100, 29400]
    assert tt.stop_time_is_interpolated[rows].tolist() == [False, True, True, False]


def test_tiny_overtaking_trip_gets_its_own_pattern(tiny) -> None:
    tt, _ = tiny
    assert pattern_of_trip(tt, "gtfs_tiny:T1") == pattern_of_trip(tt, "gtfs_tiny:T3")
    assert pattern_of_trip(tt, "gtfs_tiny:T2") != pattern_of_trip(tt, "gtfs_tiny:T1")
    p = pattern_of_trip(tt, "gtfs_tiny:T1")
    trips = tt.trip_id[tt.pattern_trip_indptr[p]: tt.pattern_trip_indptr[p + 1]]
    assert trips.tolist() == ["gtfs_tiny:T1", "gtfs_tiny:T3"]


def test_tiny_frequencies_expanded(tiny) -> None:
    tt, report = tiny
    expanded = sorted(t for t in tt.trip_id if t.startswith("gtfs_tiny:F1"))
    starts = ["10:00:00", "10:20:00", "10:40:00", "25:00:00", "25:15:00"]
    assert expanded == sorted(f"gtfs_tiny:F1#{s}" for s in starts)
    for start in starts:
        rows = trip_rows(tt, f"gtfs_tiny:F1#{start}")
        assert tt.stop_time_departure_s[rows].tolist() == [hms(start), hms(start) + 390]
        assert tt.stop_time_arrival_s[rows].tolist() == [hms(start), hms(start) + 360]
    assert "gtfs_tiny:F1" not in tt.trip_id
    assert report["feeds"]["gtfs_tiny"]["frequency_trips_expanded"] == 1
    assert tt.trip_is_frequency.sum() == 5


def test_tiny_shape_distance_and_geometry(tiny) -> None:
    tt, _ = tiny
    p = pattern_of_trip(tt, "gtfs_tiny:F1#10:00:00")
    assert tt.pattern_distance_source[p] == "shape"
    hop = tt.pattern_stop_indptr[p] + 1
    lons, lats = [-51.2000, -51.1980, -51.1960], [-30.0000, -29.9990, -30.0000]
    expected = GEOD.line_length(lons, lats)
    assert tt.pattern_hop_distance_m[hop] == pytest.approx(expected, rel=1e-4)
    geometry = tt.hop_geometry_lonlat[tt.hop_geometry_indptr[hop]: tt.hop_geometry_indptr[hop + 1]]
    assert np.allclose(geometry, np.column_stack([lons, lats]))
    # the first stop of a pattern has no hop
    first = tt.pattern_stop_indptr[p]
    assert tt.pattern_hop_distance_m[first] == 0
    assert tt.hop_geometry_indptr[first + 1] == tt.hop_geometry_indptr[first]
    q = pattern_of_trip(tt, "gtfs_tiny:T1")
    assert tt.pattern_distance_source[q] == "straight_line"


def test_tiny_emissions_and_transfers(tiny) -> None:
    tt, _ = tiny
    route = dict(zip(tt.route_id, zip(tt.route_co2e_g_per_pkm, tt.route_co2e_source)))
    assert route["gtfs_tiny:R1"] == (pytest.approx(80.0), "factor:bus")
    assert route["gtfs_tiny:R2"] == (pytest.approx(1000 / 20), "emissions.txt")
    assert route["gtfs_tiny:R3"] == (pytest.approx(25.0), "factor:metro")
    change = dict(zip(tt.stop_id, tt.stop_min_transfer_s))
    assert change["gtfs_tiny:S"] == 120 and change["gtfs_tiny:A"] == 120  # from its station
    assert change["gtfs_tiny:B"] == 30 and change["gtfs_tiny:C"] == DEFAULT_MIN_TRANSFER_S
    c, e = (int(np.flatnonzero(tt.stop_id == f"gtfs_tiny:{s}")[0]) for s in "CE")
    targets = tt.footpath_target[tt.footpath_indptr[c]: tt.footpath_indptr[c + 1]]
    durations = tt.footpath_duration_s[tt.footpath_indptr[c]: tt.footpath_indptr[c + 1]]
    assert durations[targets == e].tolist() == [600]


def test_timezones_must_agree(fixtures_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(fixtures_dir / "gtfs_tiny", other)
    agency = other / "agency.txt"
    agency.write_text(agency.read_text().replace("America/Sao_Paulo", "Europe/Helsinki"))
    with pytest.raises(GtfsError, match="timezone"):
        compile_([fixtures_dir / "gtfs_tiny", other])
    with pytest.raises(GtfsError, match="named"):
        compile_([fixtures_dir / "gtfs_tiny", fixtures_dir / "gtfs_tiny"])
    tt, _ = compile_([fixtures_dir / "gtfs_tiny", fixtures_dir / "gtfs_tiny"],
                     feed_names=["a", "b"])
    assert tt.n_stops == 12 and len(set(tt.stop_id)) == 12


def test_recoverable_problems_are_counted(fixtures_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "messy"
    shutil.copytree(fixtures_dir / "gtfs_tiny", folder)
    with open(folder / "stop_times.txt", "a") as f:
        f.write("T3,09:20:00,09:20:00,NOWHERE,5\n")          # unknown stop
        f.write("GHOST,09:20:00,09:20:00,A,1\n")             # unknown trip
    with open(folder / "trips.txt", "a") as f:
        f.write("R1,WK,UNTIMED,Delta,\n")
    with open(folder / "stop_times.txt", "a") as f:
        f.write("UNTIMED,,,A,1\nUNTIMED,,,B,2\n")
    tt, report = compile_([folder])
    counts = report["feeds"]["messy"]
    assert counts["stop_times_unknown_stop"] == 1
    assert counts["stop_times_unknown_trip"] == 1
    assert counts["trips_without_times"] == 1
    assert "messy:UNTIMED" not in tt.trip_id


# -- real feeds -------------------------------------------------------------------------------

def assert_fifo(tt: Timetable) -> None:
    for p in range(len(tt.pattern_route)):
        a, b = tt.pattern_trip_indptr[p], tt.pattern_trip_indptr[p + 1]
        k = tt.pattern_stop_indptr[p + 1] - tt.pattern_stop_indptr[p]
        rows = slice(tt.trip_stop_time_indptr[a], tt.trip_stop_time_indptr[b])
        assert tt.trip_stop_time_indptr[b] - tt.trip_stop_time_indptr[a] == (b - a) * k
        for times in (tt.stop_time_arrival_s[rows], tt.stop_time_departure_s[rows]):
            assert (np.diff(times.reshape(b - a, k), axis=0) >= 0).all(), p


def test_fifo_within_patterns(poa, helsinki, sao_paulo) -> None:
    for tt, _ in (poa, helsinki, sao_paulo):
        assert_fifo(tt)
        # every trip of a pattern stops at the pattern's stops
        assert len(tt.pattern_trip_indptr) == len(tt.pattern_route) + 1
        assert tt.pattern_trip_indptr[-1] == tt.n_trips


def test_poa_counts_match_raw_files(poa, sample_dir: Path) -> None:
    tt, report = poa
    city = sample_dir / "porto-alegre"
    for name in ("poa_eptc", "poa_trensurb"):
        stop_times = raw(city / f"{name}.zip", "stop_times.txt")
        trips = raw(city / f"{name}.zip", "trips.txt")
        stops = raw(city / f"{name}.zip", "stops.txt")
        counts = report["feeds"][name]
        assert counts["stop_times"] == len(stop_times)
        assert counts["trips"] == len(trips)
        assert counts["stops"] == len(stops)
        untimed = ((stop_times["arrival_time"] == "") & (stop_times["departure_time"] == "")).sum()
        assert counts["interpolated_times"] == untimed
    assert tt.stop_time_is_interpolated.sum() == report["feeds"]["poa_eptc"]["interpolated_times"]
    assert report["timezone"] == "America/Sao_Paulo"


def test_eptc_interpolated_times_between_timed_neighbours(poa) -> None:
    tt, _ = poa
    arrival, departure = tt.stop_time_arrival_s, tt.stop_time_departure_s
    interpolated = tt.stop_time_is_interpolated
    checked = 0
    for t in range(tt.n_trips):
        a, b = tt.trip_stop_time_indptr[t], tt.trip_stop_time_indptr[t + 1]
        flags = interpolated[a:b]
        if not flags.any():
            continue
        assert not flags[0] and not flags[-1]
        times = np.column_stack([arrival[a:b], departure[a:b]]).ravel()
        assert (np.diff(times) >= 0).all()
        timed = np.flatnonzero(~flags)
        for i in np.flatnonzero(flags):
            before = timed[timed < i].max()
            after = timed[timed > i].min()
            assert departure[a + before] <= arrival[a + i] <= arrival[a + after]
        checked += 1
    assert checked > 2000


def test_sao_paulo_frequency_trip_departures(sao_paulo, sample_dir: Path) -> None:
    tt, report = sao_paulo
    path = sample_dir / "sao-paulo" / "spo_gtfs.zip"
    frequencies = raw(path, "frequencies.txt")
    stop_times = raw(path, "stop_times.txt")
    trip = "CPTM L07-0"
    expected = []
    for row in frequencies[frequencies["trip_id"] == trip].itertuples():
        start, end, headway = hms(row.start_time), hms(row.end_time), int(row.headway_secs)
        expected.extend(range(start, end, headway))
    template = stop_times[stop_times["trip_id"] == trip].copy()
    template["seq"] = template["stop_sequence"].astype(int)
    template = template.sort_values("seq")
    offsets = np.array([hms(x) for x in template["departure_time"]])
    offsets -= offsets[0]
    ids = [t for t in tt.trip_id if t.startswith(f"spo_gtfs:{trip}#")]
    departures = []
    for trip_id in ids:
        rows = trip_rows(tt, trip_id)
        times = tt.stop_time_departure_s[rows]
        assert np.array_equal(times - times[0], offsets)
        h, m, s = divmod(times[0], 3600)[0], *divmod(divmod(times[0], 3600)[1], 60)
        assert trip_id.endswith(f"#{h:02d}:{m:02d}:{s:02d}")
        departures.append(int(times[0]))
    assert sorted(departures) == sorted(expected)
    n_rows_expected = sum(len(range(hms(r.start_time), hms(r.end_time), int(r.headway_secs)))
                          for r in frequencies.itertuples())
    assert report["feeds"]["spo_gtfs"]["frequency_trips_created"] == n_rows_expected


def test_eptc_hop_distance_against_shape(poa, sample_dir: Path) -> None:
    """Re-project stops on the raw shape with shapely in UTM 22S and compare hop lengths."""
    tt, _ = poa
    path = sample_dir / "porto-alegre" / "poa_eptc.zip"
    trips = raw(path, "trips.txt").set_index("trip_id")
    shapes = raw(path, "shapes.txt")
    shapes["seq"] = shapes["shape_pt_sequence"].astype(int)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:31982", always_xy=True)
    checked = agreed = 0
    for p in np.flatnonzero(tt.pattern_distance_source == "shape")[:40]:
        trip_id = tt.trip_id[tt.pattern_trip_indptr[p]]
        if not trip_id.startswith("poa_eptc:"):
            continue
        shape = shapes[shapes["shape_id"] == trips.loc[trip_id.split(":", 1)[1], "shape_id"]]
        shape = shape.sort_values("seq")
        x, y = to_utm.transform(shape["shape_pt_lon"].astype(float).to_numpy(),
                                shape["shape_pt_lat"].astype(float).to_numpy())
        line = shapely.LineString(np.column_stack([x, y]))
        stops = tt.pattern_stops[tt.pattern_stop_indptr[p]: tt.pattern_stop_indptr[p + 1]]
        sx, sy = to_utm.transform(tt.stop_lon[stops], tt.stop_lat[stops])
        points = shapely.points(sx, sy)
        along = shapely.line_locate_point(line, points)
        offset = shapely.distance(line, points)
        hops = tt.pattern_hop_distance_m[tt.pattern_stop_indptr[p]: tt.pattern_stop_indptr[p + 1]]
        for i in range(1, len(stops)):
            # only hops where the plain projection is unambiguous: near the shape, forward
            if offset[i - 1] > 20 or offset[i] > 20 or not 0 < along[i] - along[i - 1] < 3000:
                continue
            checked += 1
            agreed += abs(hops[i] - (along[i] - along[i - 1])) <= 0.005 * hops[i] + 2.0
    assert checked > 500
    assert agreed / checked > 0.98


def test_helsinki_distances_from_shape_dist_traveled_in_km(helsinki, sample_dir: Path) -> None:
    tt, report = helsinki
    assert report["feeds"]["hsl_gtfs"]["shape_dist_traveled_unit_m"] == 1000.0
    stop_times = raw(sample_dir / "helsinki" / "hsl_gtfs.zip", "stop_times.txt")
    stop_times["seq"] = stop_times["stop_sequence"].astype(int)
    by_trip = stop_times.sort_values(["trip_id", "seq"]).groupby("trip_id")
    for p in range(0, len(tt.pattern_route), 25):
        assert tt.pattern_distance_source[p] == "shape_dist_traveled"
        trip_id = tt.trip_id[tt.pattern_trip_indptr[p]].split(":", 1)[1].split("#")[0]
        sdt = by_trip.get_group(trip_id)["shape_dist_traveled"].astype(float).to_numpy()
        hops = tt.pattern_hop_distance_m[tt.pattern_stop_indptr[p]: tt.pattern_stop_indptr[p + 1]]
        assert np.allclose(hops[1:], np.diff(sdt) * 1000, atol=0.01)


def test_helsinki_modes(helsinki, sample_dir: Path) -> None:
    tt, _ = helsinki
    routes = raw(sample_dir / "helsinki" / "hsl_gtfs.zip", "routes.txt")
    mode_of_type = {"700": "bus", "701": "bus", "702": "bus", "704": "bus", "0": "tram",
                    "1": "metro", "109": "rail", "4": "ferry"}
    expected = dict(zip("hsl_gtfs:" + routes["route_id"], routes["route_type"].map(mode_of_type)))
    assert dict(zip(tt.route_id, tt.route_mode)) == expected
    assert set(tt.route_mode) == {"bus", "tram", "metro", "rail", "ferry"}
    for mode in ("bus", "tram", "metro", "rail", "ferry"):
        assert set(tt.route_co2e_g_per_pkm[tt.route_mode == mode]) == {FACTORS[mode]}
        assert set(tt.route_co2e_source[tt.route_mode == mode]) == {f"factor:{mode}"}


def test_no_pickup_and_no_drop_off_are_kept_per_stop_time(fixtures_dir: Path,
                                                          tmp_path: Path) -> None:
    """pickup_type/drop_off_type 1 mark stop times where riders may not board / alight."""
    folder = tmp_path / "flags"
    shutil.copytree(fixtures_dir / "gtfs_tiny", folder)
    flags = {("T2", "B"): ("1", ""), ("T2", "C"): ("", "1"), ("F1", "A"): ("0", "1"),
             ("T3", "D"): ("3", "2")}  # 2 and 3 need an arrangement but are possible
    lines = (folder / "stop_times.txt").read_text().splitlines()
    rows = [lines[0] + ",pickup_type,drop_off_type"]
    for line in lines[1:]:
        trip, _, _, stop, _ = line.split(",")
        rows.append(line + "," + ",".join(flags.get((trip, stop), ("", ""))))
    (folder / "stop_times.txt").write_text("\n".join(rows) + "\n")
    tt, report = compile_([folder])
    pickup, dropoff = tt.stop_time_pickup_ok, tt.stop_time_dropoff_ok
    assert pickup[trip_rows(tt, "flags:T2")].tolist() == [True, False, True, True]
    assert dropoff[trip_rows(tt, "flags:T2")].tolist() == [True, True, False, True]
    for trip in ("flags:T1", "flags:T3", "flags:M1"):
        assert pickup[trip_rows(tt, trip)].all() and dropoff[trip_rows(tt, trip)].all()
    expanded = [t for t in tt.trip_id if t.startswith("flags:F1#")]
    assert len(expanded) == 5
    for trip in expanded:  # every departure of a frequency trip keeps its template's flags
        assert dropoff[trip_rows(tt, trip)].tolist() == [False, True]
    counts = report["feeds"]["flags"]
    assert (counts["stop_times_no_pickup"], counts["stop_times_no_drop_off"]) == (1, 1 + 5)


def test_pickup_type_out_of_range_names_line_and_field(fixtures_dir: Path,
                                                       tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(fixtures_dir / "gtfs_tiny", folder)
    lines = (folder / "stop_times.txt").read_text().splitlines()
    lines = [lines[0] + ",pickup_type"] + [line + ",0" for line in lines[1:]]
    lines[3] = lines[3][:-1] + "7"
    (folder / "stop_times.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(GtfsError, match="stop_times.txt line 4, field pickup_type: '7'"):
        compile_([folder])


def test_helsinki_no_pickup_flags_match_the_raw_file(helsinki, sample_dir: Path) -> None:
    tt, _ = helsinki
    stop_times = raw(sample_dir / "helsinki" / "hsl_gtfs.zip", "stop_times.txt")
    stop_times["seq"] = stop_times["stop_sequence"].astype(int)
    by_trip = stop_times.sort_values(["trip_id", "seq"]).groupby("trip_id")
    checked = restricted = 0
    for t in range(tt.n_trips):
        trip_id = tt.trip_id[t].split(":", 1)[1].split("#")[0]
        rows = slice(tt.trip_stop_time_indptr[t], tt.trip_stop_time_indptr[t + 1])
        group = by_trip.get_group(trip_id)
        assert tt.stop_time_pickup_ok[rows].tolist() == (group["pickup_type"] != "1").tolist()
        assert tt.stop_time_dropoff_ok[rows].tolist() == (group["drop_off_type"] != "1").tolist()
        checked += 1
        restricted += int((~tt.stop_time_pickup_ok[rows]).any())
    assert checked == tt.n_trips and restricted > 100


def test_transfer_type_3_removes_the_footpath(fixtures_dir: Path, tmp_path: Path) -> None:
    """B and C are ~96 m apart, so a footpath joins them unless transfers.txt forbids it."""
    folder = tmp_path / "nochange"
    shutil.copytree(fixtures_dir / "gtfs_tiny", folder)
    with open(folder / "transfers.txt", "a") as f:
        f.write("B,C,3,\n")
    plain, _ = compile_([fixtures_dir / "gtfs_tiny"])
    tt, report = compile_([folder])

    def targets(timetable: Timetable, stop: str) -> set[str]:
        s = int(np.flatnonzero(timetable.stop_id == f"{timetable.feed_names[0]}:{stop}")[0])
        return {x.split(":")[1] for x in timetable.stop_id[
            timetable.footpath_target[timetable.footpath_indptr[s]:
                                      timetable.footpath_indptr[s + 1]]]}

    assert "C" in targets(plain, "B") and "C" not in targets(tt, "B")
    assert "B" in targets(tt, "C")  # transfers.txt rows are directed
    assert report["footpaths"]["not_possible_from_transfers_txt"] == 1


def test_route_specific_transfer_type_3_is_not_applied_to_every_change(
        fixtures_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "qualified"
    shutil.copytree(fixtures_dir / "gtfs_tiny", folder)
    lines = (folder / "transfers.txt").read_text().splitlines()
    lines = [lines[0] + ",from_route_id"] + [line + "," for line in lines[1:]]
    lines.append("B,C,3,,R1")
    (folder / "transfers.txt").write_text("\n".join(lines) + "\n")
    tt, report = compile_([folder])
    b, c = (int(np.flatnonzero(tt.stop_id == f"qualified:{s}")[0]) for s in "BC")
    assert c in tt.footpath_target[tt.footpath_indptr[b]: tt.footpath_indptr[b + 1]]
    assert report["footpaths"]["not_possible_ignored"] == 1


def test_stops_listed_against_the_shape_direction_are_measured_straight() -> None:
    """Two stops whose order is the reverse of their shape's never get a 0 m hop."""
    from graphs.geodesy import geodesic_m
    from graphs.shapes import ShapeLine, measure_stop_sequence

    shape_lonlat = np.array([[-51.230, -30.03], [-51.220, -30.03], [-51.210, -30.03]])
    cum = np.r_[0.0, np.cumsum(geodesic_m(shape_lonlat[:-1, 1], shape_lonlat[:-1, 0],
                                          shape_lonlat[1:, 1], shape_lonlat[1:, 0]))]
    line = ShapeLine(shape_lonlat, cum, np.full(3, np.nan))
    # The second stop lies 300 m *behind* the first along the shape: the feed's order and the
    # shape disagree, and the projection (which never goes backwards) would collapse the hop.
    stops = np.array([[-51.225, -30.03], [-51.228, -30.03], [-51.212, -30.03]])
    measure = measure_stop_sequence(stops, line)
    hops = np.diff(measure.along_m)
    straight = geodesic_m(stops[:-1, 1], stops[:-1, 0], stops[1:, 1], stops[1:, 0])
    assert hops[0] == pytest.approx(straight[0], rel=1e-6)
    assert (hops > 0).all()


def test_no_eptc_hop_is_measured_shorter_than_its_stops_allow(poa) -> None:
    """Along a route a hop covers at least the straight line between its stops, less the
    stops' allowed offset from the shape on each side."""
    from graphs.geodesy import geodesic_m
    from graphs.shapes import SHAPE_MAX_OFFSET_M

    tt = poa[0]
    sizes = np.diff(tt.pattern_stop_indptr)
    pattern = np.repeat(np.arange(len(sizes)), sizes)
    hop = np.flatnonzero(np.arange(len(tt.pattern_stops)) > tt.pattern_stop_indptr[pattern])
    a, b = tt.pattern_stops[hop - 1], tt.pattern_stops[hop]
    straight = geodesic_m(tt.stop_lat[a], tt.stop_lon[a], tt.stop_lat[b], tt.stop_lon[b])
    measured = tt.pattern_hop_distance_m[hop].astype(float)
    assert (measured >= straight - 2 * SHAPE_MAX_OFFSET_M - 2).all()
    assert (measured[straight > 10] > 0).all()
