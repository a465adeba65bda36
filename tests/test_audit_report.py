"""audit.report: summary numbers recomputed from the results; the HTML is self-contained."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from audit_fakes import BBOX, TIMEZONE, FakeEvaluator, trip_rows

from audit.report import render_report, summarize, svg_bar_chart, write_summary
from audit.runner import audit_trips


@pytest.fixture()
def outcome(tmp_path):
    frame = trip_rows(30)
    frame.loc[3, "claimed_mode"] = "unicycle"
    frame.loc[7, "trip_id"] = frame.loc[1, "trip_id"]
    frame.loc[8, "claimed_points"] = "500"
    frame.to_csv(tmp_path / "t.csv", index=False)
    return audit_trips(tmp_path / "t.csv", tmp_path / "r.parquet", evaluator=FakeEvaluator(),
                       timezone=TIMEZONE, bbox=BBOX, workers=1)


def test_summary_counts_and_totals(outcome, tmp_path):
    results, errors = outcome.results, outcome.errors
    summary = summarize(results, errors, n_rows=outcome.n_rows, about={"rules": "fake"})
    assert summary["rows"] == {"in": 30, "out": 29, "errors": 1}
    assert summary["errors_by_field"] == {"claimed_mode": 1}
    assert summary["flagged_by_reason"]["duplicate_trip_id"]["count"] == 1
    assert summary["flagged_by_reason"]["points_inflated"]["count"] == 1
    assert summary["flagged"]["count"] == 2
    assert summary["flagged"]["share"] == pytest.approx(2 / 29, abs=1e-6)
    assert summary["totals"]["reduction_g"] == pytest.approx(
        sum(results["baseline_co2e_g"] - results["co2e_g"]), abs=1e-3)
    assert summary["totals"]["points_claimed"] == 500
    assert sum(v["trips"] for v in summary["by_claimed_mode"].values()) == 29
    path = write_summary(summary, tmp_path / "s.json")
    assert json.loads(path.read_text()) == summary
    again = summarize(results, errors, n_rows=outcome.n_rows, about={"rules": "fake"})
    assert json.dumps(again, sort_keys=True) == json.dumps(summary, sort_keys=True)


def test_report_is_offline_html_with_parseable_svg_charts(outcome):
    summary = summarize(outcome.results, outcome.errors, n_rows=outcome.n_rows,
                        about={"network": "<poa>"})
    page = render_report(summary)
    assert "<script" not in page and "src=" not in page and "href=" not in page
    assert "&lt;poa&gt;" in page
    charts = [part.split("</svg>")[0] + "</svg>" for part in page.split("<svg")[1:]]
    assert len(charts) == 4
    for chart in charts:
        ET.fromstring("<svg" + chart)        # well-formed XML


def test_bar_chart_bars_are_proportional_and_labels_escaped():
    svg = svg_bar_chart([("a<b", 10.0), ("c", 5.0), ("d", 0.0)], title="T & U", unit="%")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    widths = [float(r.get("width")) for r in root.iter(f"{ns}rect")]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == 0
    assert [t.text for t in root.iter(f"{ns}text")][0] == "T & U"
    assert "a<b" in [t.text for t in root.iter(f"{ns}text")]
    assert ET.fromstring(svg_bar_chart([], title="empty")) is not None


def test_summary_of_no_results_is_valid(tmp_path):
    empty = pd.DataFrame(columns=["flags", "flagged", "status", "co2e_g", "baseline_co2e_g",
                                  "reduction_g", "points_due", "claimed_points",
                                  "claimed_mode"])
    errors = pd.DataFrame({"row": [1], "trip_id": ["x"], "field": ["started_at"],
                           "reason": ["bad"]})
    summary = summarize(empty, errors, n_rows=1)
    assert summary["rows"] == {"in": 1, "out": 0, "errors": 1}
    assert "<svg" in render_report(summary)


def test_summary_lists_flagged_trips_and_excess_points(outcome):
    results = outcome.results
    summary = summarize(results, outcome.errors, n_rows=outcome.n_rows)
    flagged = results[results["flagged"]]
    assert sorted(t["row"] for t in summary["top_flagged"]) == sorted(flagged["row"].tolist())
    top = {t["trip_id"]: t for t in summary["top_flagged"]}
    inflated = results.loc[results["flags"].str.contains("points_inflated")].iloc[0]
    assert top[inflated["trip_id"]]["claimed_points"] == 500
    assert top[inflated["trip_id"]]["points_due"] == pytest.approx(inflated["points_due"], abs=1e-3)
    excess = (results["claimed_points"] - results["points_due"]).clip(lower=0).sum()
    assert summary["totals"]["points_excess"] == pytest.approx(excess, abs=1e-3)
    page = render_report(summary)
    for trip in flagged["trip_id"]:
        assert f">{trip}<" in page
    assert "Every occurrence of a trip_id after its first" in page   # the check's own words
