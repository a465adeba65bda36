"""CSV output escapes cells a spreadsheet would run as formulas (OWASP CSV injection)."""
from __future__ import annotations

import csv

import pandas as pd
from audit_fakes import BBOX, TIMEZONE, FakeEvaluator, trip_rows

from audit.runner import audit_trips, write_table

PAYLOADS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"]


def test_formula_cells_in_the_errors_csv_are_quoted_with_an_apostrophe(tmp_path):
    frame = trip_rows(len(PAYLOADS))
    frame["trip_id"] = PAYLOADS
    frame["started_at"] = "not a time"              # every row goes to the errors file
    path = tmp_path / "trips.csv"
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)   # pandas leaves a lone \r bare
    audit_trips(path, tmp_path / "r.parquet", evaluator=FakeEvaluator(), timezone=TIMEZONE,
                bbox=BBOX, workers=1)
    with open(tmp_path / "r.errors.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["trip_id"] for row in rows] == ["'" + p for p in PAYLOADS]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_numbers_and_plain_text_are_untouched_and_parquet_keeps_raw_values(tmp_path):
    frame = pd.DataFrame({"n": [-3.5, 2.0], "text": ["=1+1", "a-b"], "=name": ["ok", None]})
    write_table(frame, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert back.columns.tolist() == ["n", "text", "'=name"]
    assert back["n"].tolist() == [-3.5, 2.0]
    assert back["text"].tolist() == ["'=1+1", "a-b"]
    assert back["'=name"].tolist() == ["ok", ""]
    write_table(frame, tmp_path / "t.parquet")
    assert pd.read_parquet(tmp_path / "t.parquet")["text"].tolist() == ["=1+1", "a-b"]
