"""Strict trips-file reading: every record of the file is audited or reported, never lost.

Oracles are independent of the parser: record counts are the file's non-blank lines (files
without multi-line fields) and line numbers are where the test itself put the bad record.
"""
from __future__ import annotations

import pandas as pd
import pytest
from audit_fakes import BBOX, TIMEZONE, FakeEvaluator, trip_rows

from audit.errors import AuditInputError
from audit.runner import audit_trips
from audit.schema import read_trips, validate_trips


def _lines(n: int) -> list[str]:
    """Header + ``n`` data lines of honest trips, as CSV text lines."""
    return trip_rows(n).to_csv(index=False).splitlines()


def _write(tmp_path, lines: list[str], name: str = "trips.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _audit(path, tmp_path):
    return audit_trips(path, tmp_path / "r.parquet", evaluator=FakeEvaluator(),
                       timezone=TIMEZONE, bbox=BBOX, workers=1)


def test_unterminated_quote_stops_the_run_naming_its_line(tmp_path):
    lines = _lines(10)                        # 11 lines: header + 10 records
    lines[3] = lines[3].replace(",walk", ',"walk', 1).replace(",bike", ',"bike', 1)
    assert lines[3].count('"') == 1
    path = _write(tmp_path, lines)
    with pytest.raises(AuditInputError, match=r"trips\.csv: line 4: unterminated quoted field"):
        read_trips(path)
    with pytest.raises(AuditInputError, match="line 4"):
        _audit(path, tmp_path)                # before: "audited 3 rows, 0 errors"


def test_text_after_a_closing_quote_is_a_broken_file(tmp_path):
    lines = _lines(5)
    lines[5] = '"t0004"x' + lines[5][len("t0004"):]
    with pytest.raises(AuditInputError, match="line 6: broken CSV record"):
        read_trips(_write(tmp_path, lines))


def test_first_data_row_with_extra_fields_is_an_error_row_not_an_index(tmp_path):
    lines = _lines(4)
    lines[1] += ",surplus,fields"
    result = validate_trips(read_trips(_write(tmp_path, lines)), timezone=TIMEZONE, bbox=BBOX)
    assert result.errors[["row", "line", "field"]].values.tolist() == [[1, 2, "*"]]
    assert result.errors["reason"].iloc[0].startswith("record has 14 fields")
    assert result.trips["trip_id"].tolist() == ["t0001", "t0002", "t0003"]
    assert result.trips["row"].tolist() == [2, 3, 4]


def test_short_records_and_line_numbers_after_a_multiline_field(tmp_path):
    frame = trip_rows(6).assign(note="")
    frame.loc[1, "note"] = "two\nlines"              # record 2 spans file lines 3-4
    path = tmp_path / "trips.csv"
    frame.to_csv(path, index=False)
    text = path.read_text().splitlines()
    text[5] = text[5].rsplit(",", 3)[0]              # record 4 (file line 6) loses 3 fields
    path.write_text("\n".join(text) + "\n\n")        # a trailing blank line is not a record
    outcome = _audit(path, tmp_path)
    assert outcome.n_rows == 6 == len(outcome.results) + len(outcome.errors)
    assert outcome.errors[["row", "line"]].values.tolist() == [[4, 6]]
    assert outcome.results.loc[outcome.results["row"] == 2, "note"].item() == "two\nlines"
    written = pd.read_csv(tmp_path / "r.errors.csv")
    assert written[["row", "line"]].values.tolist() == [[4, 6]]


def test_accounting_counts_the_files_records(tmp_path):
    lines = _lines(30)
    for i in (1, 7, 30):
        lines[i] += ",x"
    lines[12] = lines[12].split(",", 1)[0]
    path = _write(tmp_path, lines)
    records = sum(1 for line in path.read_text().splitlines()[1:] if line)
    outcome = _audit(path, tmp_path)
    assert outcome.n_rows == records == 30
    assert sorted(outcome.results["row"].tolist() + outcome.errors["row"].tolist()) == \
        list(range(1, 31))
    assert outcome.errors["line"].tolist() == [2, 8, 13, 31]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_gbk_and_bom_files_with_chinese_modes(tmp_path, encoding):
    frame = trip_rows(6)
    frame["claimed_mode"] = ["骑行", "公交", "步行", "骑行", "公交", "步行"]
    frame["备注"] = "上班"
    path = tmp_path / "trips.csv"
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    if encoding == "gbk":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    result = validate_trips(read_trips(path), timezone=TIMEZONE, bbox=BBOX)
    assert result.errors.empty
    assert result.trips["claimed_mode"].tolist() == ["bike", "bus", "walk"] * 2
    assert result.trips["备注"].tolist() == ["上班"] * 6
    assert result.trips.columns[1] == "trip_id"      # no BOM glued to the first name


def test_xlsx_trips_file(tmp_path):
    frame = trip_rows(5)
    frame.loc[2, "started_at"] = "not a time"
    frame["claimed_mode"] = "公交"
    path = tmp_path / "trips.xlsx"
    frame.to_excel(path, index=False)
    outcome = _audit(path, tmp_path)
    assert outcome.n_rows == 5 and len(outcome.results) == 4
    assert outcome.errors[["row", "line", "field"]].values.tolist() == [[3, 4, "started_at"]]


def test_gzipped_csv_still_reads(tmp_path):
    path = tmp_path / "trips.csv.gz"
    trip_rows(5).to_csv(path, index=False)
    assert len(read_trips(path)) == 5


def test_duplicate_header_names_are_refused(tmp_path):
    lines = _lines(2)
    lines[0] += ",trip_id"
    lines[1:] = [line + ",x" for line in lines[1:]]
    with pytest.raises(AuditInputError, match="duplicate column names.*'trip_id'"):
        read_trips(_write(tmp_path, lines))


def test_cli_exit_2_with_one_line_naming_the_broken_line(tmp_path, poa_artifact, capsys):
    from api.cli import main

    lines = _lines(10)
    lines[3] = lines[3].replace(",walk", ',"walk', 1).replace(",bike", ',"bike', 1)
    path = _write(tmp_path, lines)
    code = main(["audit", str(path), "--network", str(poa_artifact),
                 "--out", str(tmp_path / "r.parquet"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "line 4: unterminated quoted field" in err
    assert not (tmp_path / "r.parquet").exists()
