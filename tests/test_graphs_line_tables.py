"""Operator line tables -> GTFS -> the same timetable: checked against the real Trensurb GTFS.

The line table is derived in the test from the Trensurb feed (tests/line_table_fixtures.py):
stops in order, running times and headway bands from the real weekday departures. A network
built from it must plan the same rail trips as the GTFS-built network, arriving within one
headway. Also: the GTFS zip written by ``tanlu lines to-gtfs`` is read back by tanlu's reader
and by gtfs-kit; bad rows exit 2 naming file, row and field; GCJ-02 input lands on the same
WGS-84 stops; speed-based running times follow the documented operating speeds.
"""
from __future__ import annotations

import zipfile
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from api.cli import main
from graphs.crs import wgs84_to_bd09, wgs84_to_gcj02
from graphs.errors import LineTableError
from graphs.gtfs import read_feed
from graphs.line_tables import (
    OPERATING_SPEED_KPH,
    line_tables_to_gtfs,
    read_line_tables,
    write_gtfs_zip,
)
from graphs.linking import DETOUR_FACTOR
from planner import NoRouteError, Planner, make_query
from tests.line_table_fixtures import derive_line_tables

# Trensurb stations inside the Porto Alegre street extract (stop_id: lat, lon from stops.txt).
# (Farrapos and the stations north of it are beyond the extract: unlinked.)
STATIONS = {"MR": (-30.0262849537, -51.2282682008), "RD": (-30.0224034752, -51.2199497815),
            "SP": (-30.0064762425, -51.2094251697)}
PAIRS = [("MR", "SP"), ("SP", "MR"), ("RD", "SP"), ("SP", "RD")]
TIMES = ["2019-05-13T07:40:00", "2019-05-13T12:30:00", "2019-05-13T18:05:00"]


@pytest.fixture(scope="module")
def trensurb_tables(sample_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("trensurb-lines")
    return derive_line_tables(sample_dir / "porto-alegre" / "poa_trensurb.zip", folder)


@pytest.fixture(scope="module")
def lines_network(sample_dir, trensurb_tables, tmp_path_factory):
    """Porto Alegre streets + the Trensurb line table (no GTFS), through ``tanlu build``."""
    from graphs.artifact import load_network

    out = tmp_path_factory.mktemp("lines-build") / "lines.tanlu"
    lines, headways = trensurb_tables
    code = main(["build", "--osm", str(sample_dir / "porto-alegre" / "poa_osm.pbf"),
                 "--lines", str(lines), "--headways", str(headways), "--quiet",
                 "--timezone", "America/Sao_Paulo",
                 "--out", str(out)])
    assert code == 0
    return load_network(out)


def _headway_s(headways: pd.DataFrame, direction: str, when: str) -> int:
    """The largest headway of the bands of ``direction`` within an hour after ``when``."""
    t = datetime.fromisoformat(when)
    start_s = t.hour * 3600 + t.minute * 60
    seconds = lambda text: sum(int(x) * f for x, f in zip(text.split(":"), (3600, 60, 1)))
    band = headways[(headways.direction == direction)
                    & (headways.end_time.map(seconds) >= start_s)
                    & (headways.start_time.map(seconds) <= start_s + 3600)]
    return int(band.headway_min.max() * 60)


def test_line_table_network_plans_within_one_headway_of_the_gtfs_network(
        lines_network, poa_network, trensurb_tables):
    headways = pd.read_csv(trensurb_tables[1], dtype=str).astype({"headway_min": int})
    assert lines_network.timezone == "America/Sao_Paulo"
    from_lines, from_gtfs = Planner(lines_network), Planner(poa_network)
    compared = 0
    for a, b in PAIRS:
        direction = "MR-NH" if list(STATIONS).index(a) < list(STATIONS).index(b) else "NH-MR"
        for when in TIMES:
            q = {"origin": STATIONS[a], "destination": STATIONS[b], "modes": ("rail",)}
            gtfs_plan = from_gtfs.plan(make_query(when=datetime.fromisoformat(when), **q))
            lines_plan = from_lines.plan(make_query(when=datetime.fromisoformat(when), **q))
            gtfs_arrival = min(it.arrival for it in gtfs_plan.itineraries).replace(tzinfo=None)
            lines_arrival = min(it.arrival for it in lines_plan.itineraries).replace(tzinfo=None)
            gap_s = abs((lines_arrival - gtfs_arrival).total_seconds())
            assert gap_s <= _headway_s(headways, direction, when), (a, b, when, gap_s)
            rail = [leg for it in lines_plan.itineraries for leg in it.legs if leg.route_id]
            assert rail and all(leg.mode == "rail" for leg in rail)
            compared += 1
    assert compared == len(PAIRS) * len(TIMES)


def test_build_report_says_where_running_times_came_from(lines_network):
    report = lines_network.manifest["report"]["line_tables"]["trensurb_lines"]
    assert report["hop_time_sources"] == {"minutes_from_first": 44}
    assert report["crs"] == "wgs84" and report["encodings"] == ["utf-8-sig", "utf-8-sig"]
    kinds = [i["kind"] for i in lines_network.manifest["inputs"]]
    assert kinds == ["osm", "lines", "headways"]
    transit = lines_network.manifest["report"]["transit"]
    assert "trensurb_lines" in transit["feeds"]
    # stops beyond the street extract are reported like unlinked GTFS stops
    assert transit["feeds"]["trensurb_lines"]["unlinked_stops"]["outside_street_extract"] > 0


def test_to_gtfs_writes_a_feed_tanlu_and_gtfs_kit_read_back(trensurb_tables, tmp_path):
    gtfs_kit = pytest.importorskip("gtfs_kit")
    lines, headways = trensurb_tables
    out = tmp_path / "trensurb_from_lines.zip"
    assert main(["lines", "to-gtfs", str(lines), str(headways), "--out", str(out),
                 "--timezone", "America/Sao_Paulo"]) == 0
    feed = read_feed(out)
    assert len(feed.stops) == 24 and len(feed.routes) == 2
    assert feed.timezone == "America/Sao_Paulo"
    table = pd.read_csv(headways)
    assert len(feed.frequencies) == len(table)
    # gtfs-kit: an independent GTFS reader
    kfeed = gtfs_kit.read_feed(out, dist_units="km")
    assert set(kfeed.routes.route_id) == {"LINHA1", "LINHAAERO"}
    assert len(kfeed.frequencies) == len(table)
    assert len(kfeed.stop_times) == sum(
        (pd.read_csv(lines).groupby(["line_id", "direction"]).size()
         .reindex(pd.MultiIndex.from_frame(table[["line_id", "direction"]]))).to_numpy())
    with zipfile.ZipFile(out) as zf:
        assert {"agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt",
                "frequencies.txt", "calendar.txt"} <= set(zf.namelist())


def test_first_and_last_departures_come_from_the_bands(trensurb_tables):
    lines, headways = trensurb_tables
    tables = read_line_tables(lines, headways)
    gtfs = line_tables_to_gtfs(tables)
    freq = gtfs["frequencies.txt"]
    # the real first MR->NH weekday departure is 05:06 and the last 23:01 (see the fixture)
    trips = gtfs["trips.txt"].set_index("trip_id")
    mr_nh = freq[freq.trip_id.map(trips["route_id"]).eq("LINHA1")
                 & freq.trip_id.str.contains("MR-NH")]
    assert mr_nh.start_time.min() == "05:06:00"
    assert mr_nh.end_time.max() == "23:01:01"  # the last band includes its end (末班)


def _small_table(tmp_path, rows=None, *, minutes=True, name="lines.csv"):
    stops = rows or [("B1", "1路", "bus", "上行", 1, "火车站", 120.30, 31.50, 0),
                     ("B1", "1路", "bus", "上行", 2, "市政府", 120.31, 31.50, 4),
                     ("B1", "1路", "bus", "上行", 3, "公园", 120.31, 31.51, 7)]
    columns = ["线路", "线路名称", "方式", "方向", "站序", "站名", "经度", "纬度", "运行时间"]
    frame = pd.DataFrame(stops, columns=columns)
    if not minutes:
        frame = frame.drop(columns="运行时间")
    lines = tmp_path / name
    frame.to_csv(lines, index=False)
    headways = tmp_path / "headways.csv"
    pd.DataFrame([("B1", "上行", "工作日", "6:00", "9:00", 5),
                  ("B1", "上行", "工作日", "9:00", "22:30", 10),
                  ("B1", "上行", "周末", "7:00", "21:00", 12)],
                 columns=["线路", "方向", "日期类型", "首班", "末班", "发车间隔"]).to_csv(
        headways, index=False)
    return lines, headways


def test_chinese_headers_and_day_types(tmp_path):
    tables = read_line_tables(*_small_table(tmp_path))
    assert list(tables.headways.days) == ["weekday", "weekday", "weekend"]
    gtfs = line_tables_to_gtfs(tables)
    assert gtfs["routes.txt"].route_type.tolist() == ["3"]
    assert gtfs["calendar.txt"].service_id.tolist() == ["weekday", "weekend"]
    times = gtfs["stop_times.txt"]
    first = times[times.trip_id == gtfs["trips.txt"].trip_id[0]]
    assert first.departure_time.tolist() == ["06:00:00", "06:04:00", "06:07:00"]
    assert gtfs["frequencies.txt"].end_time.tolist() == ["09:00:00", "22:30:01", "21:00:01"]


def test_gcj02_and_bd09_tables_give_the_same_wgs84_stops(tmp_path):
    base = read_line_tables(*_small_table(tmp_path))
    for crs, forward in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        lat, lon = forward(base.stops.lat.to_numpy(), base.stops.lon.to_numpy())
        rows = [("B1", "1路", "bus", "上行", k + 1, n, float(lon[k]), float(lat[k]), m)
                for k, (n, m) in enumerate([("火车站", 0), ("市政府", 4), ("公园", 7)])]
        shifted = read_line_tables(*_small_table(tmp_path, rows, name=f"{crs}.csv"), crs=crs)
        assert shifted.crs.value == crs
        np.testing.assert_allclose(shifted.stops.lat, base.stops.lat, atol=1e-8)
        np.testing.assert_allclose(shifted.stops.lon, base.stops.lon, atol=1e-8)


def test_running_times_from_operating_speed_without_streets(tmp_path):
    tables = read_line_tables(*_small_table(tmp_path, minutes=False))
    gtfs = line_tables_to_gtfs(tables)
    assert tables.report["hop_time_sources"] == {f"straight_line_x{DETOUR_FACTOR}": 2}
    times = gtfs["stop_times.txt"]
    first = times[times.trip_id == gtfs["trips.txt"].trip_id[0]]
    seconds = [int(t[3:5]) * 60 + int(t[6:8]) for t in first.departure_time]
    # hop 1: 0.01 deg of longitude at 31.5 N (~949 m), hop 2: 0.01 deg latitude (~1109 m)
    from tests.test_graphs_crs import haversine_m
    hop1 = haversine_m(31.50, 120.30, 31.50, 120.31) * DETOUR_FACTOR
    hop2 = haversine_m(31.50, 120.31, 31.51, 120.31) * DETOUR_FACTOR
    speed = OPERATING_SPEED_KPH["bus"] / 3.6
    assert seconds[1] == pytest.approx(hop1 / speed, abs=1)
    assert seconds[2] == pytest.approx((hop1 + hop2) / speed, abs=1)


@pytest.mark.parametrize("column, value, message", [
    ("经度", "abc", "row 3, field lon: 'abc' is not a number"),
    ("方式", "飞机", "row 3, field mode: '飞机' is not a transit mode"),
    ("站序", "1", "row 3, field stop_seq: '1' repeats"),
    ("运行时间", "-1", "row 3, field minutes_from_first: '-1' is not a number of minutes"),
])
def test_bad_line_rows_exit_2_naming_file_row_and_field(tmp_path, capsys, column, value,
                                                        message):
    lines, headways = _small_table(tmp_path)
    frame = pd.read_csv(lines, dtype=str)
    frame.loc[1, column] = value
    frame.to_csv(lines, index=False)
    code = main(["lines", "to-gtfs", str(lines), str(headways), "--out",
                 str(tmp_path / "x.zip")])
    err = capsys.readouterr().err
    assert code == 2
    assert str(lines) in err and message in err and err.count("\n") == 1


@pytest.mark.parametrize("column, value, message", [
    ("日期类型", "sometimes", "row 2, field days: 'sometimes' is not a day type"),
    ("首班", "25:61", "row 2, field start_time: '25:61' is not a time"),
    ("发车间隔", "0", "row 2, field headway_min: '0' is not a headway"),
    ("线路", "B9", "row 2, field line_id: line 'B9' direction '上行' is not in lines.csv"),
])
def test_bad_headway_rows_name_file_row_and_field(tmp_path, column, value, message):
    lines, headways = _small_table(tmp_path)
    frame = pd.read_csv(headways, dtype=str)
    frame.loc[0, column] = value
    frame.to_csv(headways, index=False)
    with pytest.raises(LineTableError, match=message) as info:
        read_line_tables(lines, headways)
    assert info.value.path == str(headways) and info.value.row == 2


def test_missing_column_and_unpaired_options(tmp_path, capsys):
    lines, headways = _small_table(tmp_path)
    pd.read_csv(lines).drop(columns="纬度").to_csv(lines, index=False)
    with pytest.raises(LineTableError, match="lacks the column lat"):
        read_line_tables(lines, headways)
    code = main(["build", "--osm", "x.pbf", "--lines", str(lines), "--out",
                 str(tmp_path / "y.tanlu")])
    assert code == 2 and "one --headways for each --lines" in capsys.readouterr().err


def test_holiday_bands_are_kept_but_run_on_no_date(tmp_path):
    lines, headways = _small_table(tmp_path)
    frame = pd.read_csv(headways, dtype=str)
    frame.loc[2, "日期类型"] = "节假日"
    frame.to_csv(headways, index=False)
    tables = read_line_tables(lines, headways)
    gtfs = line_tables_to_gtfs(tables)
    holiday = gtfs["calendar.txt"].set_index("service_id").loc["holiday"]
    assert (holiday[["monday", "saturday", "sunday"]] == "0").all()
    assert tables.report["holiday_bands_without_dates"] == 1
    write_gtfs_zip(gtfs, tmp_path / "h.zip")
    assert len(read_feed(tmp_path / "h.zip").trips) == 3


def test_weekday_bands_do_not_run_on_sunday(lines_network):
    with pytest.raises(NoRouteError):
        Planner(lines_network).plan(make_query(origin=STATIONS["MR"],
                                               destination=STATIONS["SP"],
                                               when=datetime(2019, 5, 12, 12, 0),
                                               modes=("rail",)))


def test_bus_running_times_follow_the_car_layer(poa_network, tmp_path):
    """Hop distance = car-layer shortest path (checked with networkx) + the two snap gaps."""
    import networkx as nx

    from graphs.export import street_layer_to_graph
    from graphs.shapes import geodesic_m

    layer = poa_network.streets["car"]
    # three real car-layer nodes ~1-2 km apart in central Porto Alegre, used as stops
    picks = [int(np.argmin(np.hypot(layer.node_lat - lat, layer.node_lon - lon)))
             for lat, lon in ((-30.0277, -51.2287), (-30.0350, -51.2150), (-30.0440, -51.2060))]
    rows = [("B1", "1", "bus", "0", k + 1, f"stop {k}", float(layer.node_lon[n]),
             float(layer.node_lat[n]), "") for k, n in enumerate(picks)]
    lines, headways = _small_table(tmp_path, rows)
    frame = pd.read_csv(headways, dtype=str)
    frame["线路"], frame["方向"] = "B1", "0"
    frame.to_csv(headways, index=False)
    pd.read_csv(lines, dtype=str).drop(columns="运行时间").to_csv(lines, index=False)
    tables = read_line_tables(lines, headways)
    gtfs = line_tables_to_gtfs(tables, car_layer=layer)
    assert tables.report["hop_time_sources"] == {"car_layer_path": 2}
    G = street_layer_to_graph(layer)
    ids = layer.node_osmid[picks].tolist()
    path_m = [nx.shortest_path_length(G, ids[k], ids[k + 1], weight="length") for k in (0, 1)]
    times = gtfs["stop_times.txt"]
    first = times[times.trip_id == gtfs["trips.txt"].trip_id[0]].departure_time.tolist()
    seconds = [int(t[:2]) * 3600 + int(t[3:5]) * 60 + int(t[6:]) for t in first]
    speed = OPERATING_SPEED_KPH["bus"] / 3.6
    assert seconds[1] - seconds[0] == pytest.approx(path_m[0] / speed, abs=1.5)
    assert seconds[2] - seconds[0] == pytest.approx(sum(path_m) / speed, abs=1.5)
    straight = geodesic_m(layer.node_lon[picks[0]], layer.node_lat[picks[0]],
                          layer.node_lon[picks[1]], layer.node_lat[picks[1]])
    assert path_m[0] > straight  # streets are longer than the crow flies


def test_line_tables_mix_with_gtfs_feeds_in_one_timetable(sample_dir, tmp_path):
    """Trensurb GTFS + a bus line table: one timetable, ids prefixed per source, one timezone."""
    from graphs.build import _compile_line_tables
    from graphs.factors import load_factor_table
    from graphs.feed_merge import merge_feeds
    from graphs.timetable import compile_feeds

    factors = load_factor_table("cn")
    feeds = compile_feeds([sample_dir / "porto-alegre" / "poa_trensurb.zip"], factors=factors)
    rows = [("B1", "1", "bus", "0", k + 1, f"stop {k}", lon, lat, 3 * k)
            for k, (lon, lat) in enumerate([(-51.2287, -30.0277), (-51.2150, -30.0350)])]
    lines, headways = _small_table(tmp_path, rows)
    frame = pd.read_csv(headways, dtype=str)
    frame["线路"], frame["方向"] = "B1", "0"
    frame.to_csv(headways, index=False)
    tables = read_line_tables(lines, headways)
    extra = _compile_line_tables([tables], feeds, None, factors, None)
    assert extra[0].report["timezone"] == "America/Sao_Paulo"  # taken from the GTFS feed
    timetable, report = merge_feeds(feeds + extra)
    assert set(report["feeds"]) == {"poa_trensurb", "lines"}
    # the line table runs over the GTFS feed's period (Trensurb: 2019-03-01 .. 2019-12-31)
    assert report["service_dates"] == {"first": "2019-03-01", "last": "2019-12-31"}
    assert {"lines:B1", "poa_trensurb:LINHA1"} <= set(timetable.route_id.tolist())
    with pytest.raises(LineTableError, match="differs from the GTFS feeds'"):
        _compile_line_tables([tables], feeds, None, factors, "Asia/Shanghai")
    with pytest.raises(LineTableError, match="already used"):
        _compile_line_tables([tables, tables], feeds, None, factors, None)


@pytest.mark.parametrize("extra, message", [
    (["--crs", "mars"], "crs 'mars' is not a known coordinate system (wgs84|gcj02|bd09)"),
    (["--timezone", "Mars/Olympus"], "--timezone 'Mars/Olympus' is not an IANA timezone"),
    (["--encoding", "klingon"], "encoding 'klingon' is not a known text encoding"),
])
def test_build_options_are_checked_before_the_slow_street_step(tmp_path, capsys, extra,
                                                                message):
    lines, headways = _small_table(tmp_path)
    code = main(["build", "--osm", str(tmp_path / "absent.pbf"), "--lines", str(lines),
                 "--headways", str(headways), "--out", str(tmp_path / "z.tanlu"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
