"""One table reader for Chinese users' files: UTF-8, UTF-8 with BOM, GBK/GB18030 and .xlsx."""
from __future__ import annotations

import datetime

import pandas as pd
import pytest

from graphs.errors import InputFileError
from graphs.tables import read_table

HEADER = "线路,站名,经度,纬度\n"
ROWS = "1路,无锡火车站,120.3,31.59\n2路,三阳广场,120.30,31.57\n"


def _expected() -> pd.DataFrame:
    return pd.DataFrame({"线路": ["1路", "2路"], "站名": ["无锡火车站", "三阳广场"],
                         "经度": ["120.3", "120.30"], "纬度": ["31.59", "31.57"]})


@pytest.mark.parametrize("encoding, detected", [("utf-8", "utf-8-sig"),
                                                ("utf-8-sig", "utf-8-sig"),
                                                ("gbk", "gb18030"),
                                                ("gb18030", "gb18030")])
def test_detects_utf8_bom_and_gbk(tmp_path, encoding, detected):
    path = tmp_path / f"t-{encoding}.csv"
    path.write_bytes((HEADER + ROWS).encode(encoding))
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    table = read_table(path)
    assert table.encoding == detected
    pd.testing.assert_frame_equal(table.frame, _expected())


def test_gbk_bytes_are_not_valid_utf8(tmp_path):
    # the detection order relies on this: GBK Chinese text fails strict UTF-8
    with pytest.raises(UnicodeDecodeError):
        (HEADER + ROWS).encode("gbk").decode("utf-8")


def test_explicit_encoding_wins_and_a_wrong_one_is_reported(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + ROWS).encode("gbk"))
    assert read_table(path, encoding="gbk").frame.equals(_expected())
    with pytest.raises(InputFileError, match="not valid utf-8 at byte") as info:
        read_table(path, encoding="utf-8")
    assert info.value.field == "encoding"
    with pytest.raises(InputFileError, match="'klingon' is not a known text encoding"):
        read_table(path, encoding="klingon")


def test_bytes_in_neither_encoding_are_reported(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n\xff\xff\x80,1\n")
    with pytest.raises(InputFileError, match="neither UTF-8 nor GB18030"):
        read_table(path)


def test_xlsx_sheet(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["线路", "站名", "经度", "纬度"])
    sheet.append(["1路", "无锡火车站", "120.3", "31.59"])
    sheet.append(["2路", "三阳广场", "120.30", "31.57"])
    second = book.create_sheet("首末班")
    second.append(["线路", "首班"])
    second.append(["1路", "6:00"])
    path = tmp_path / "lines.xlsx"
    book.save(path)
    table = read_table(path)
    assert table.encoding == "xlsx"
    pd.testing.assert_frame_equal(table.frame, _expected())
    assert read_table(path, sheet="首末班").frame.to_dict("list") == {"线路": ["1路"],
                                                                   "首班": ["6:00"]}
    with pytest.raises(InputFileError, match="sheet 'nope'"):
        read_table(path, sheet="nope")


def test_xlsx_numbers_come_back_as_text(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["站序", "经度", "首班"])
    book.active.append([1, 120.3125, datetime.time(6, 5)])  # a time-formatted cell
    path = tmp_path / "n.xlsx"
    book.save(path)
    assert read_table(path).frame.to_dict("list") == {"站序": ["1"], "经度": ["120.3125"],
                                                      "首班": ["06:05:00"]}


def test_not_a_workbook_missing_file_and_empty_file(tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a zip")
    with pytest.raises(InputFileError, match="not a readable .xlsx"):
        read_table(fake)
    with pytest.raises(InputFileError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty"):
        read_table(empty)


def test_duplicate_columns_are_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("a,a\n1,2\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="duplicate"):
        read_table(path)


def test_line_tables_read_gbk_and_xlsx_end_to_end(tmp_path, capsys):
    from api.cli import main
    from graphs.gtfs import read_feed

    lines = ("线路,线路名称,方式,方向,站序,站名,经度,纬度\n"
             "1,1路,公交,上行,1,火车站,120.30,31.50\n"
             "1,1路,公交,上行,2,市政府,120.31,31.50\n")
    (tmp_path / "lines.csv").write_bytes(lines.encode("gbk"))
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["线路", "方向", "日期类型", "首班", "末班", "发车间隔"])
    book.active.append(["1", "上行", "每日", "06:00", "22:00", 10])
    book.save(tmp_path / "headways.xlsx")
    code = main(["lines", "to-gtfs", str(tmp_path / "lines.csv"),
                 str(tmp_path / "headways.xlsx"), "--crs", "gcj02",
                 "--out", str(tmp_path / "feed.zip")])
    assert code == 0, capsys.readouterr().err
    feed = read_feed(tmp_path / "feed.zip")
    assert sorted(feed.stops.stop_name) == ["市政府", "火车站"]
    assert feed.routes.route_long_name.tolist() == ["1路"]
    # GCJ-02 input: the written stops are WGS-84, a few hundred metres from the input
    assert float(feed.stops.stop_lon.min()) < 120.30


def test_duplicate_columns_in_a_workbook_are_refused(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["站名", "站名"])
    book.active.append(["a", "b"])
    book.save(tmp_path / "d.xlsx")
    with pytest.raises(InputFileError, match="duplicate"):
        read_table(tmp_path / "d.xlsx")
