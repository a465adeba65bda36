"""Audit summary (JSON-ready dict) and a small self-contained HTML report with SVG charts.

No JavaScript, no CDN: the charts are inline SVG written here, so the report opens offline and
can be archived with the results. The summary holds no run timestamps (results are reproducible).
"""
from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from graphs.geodesy import METRES_PER_DEGREE
from graphs.modes import MODES

from . import checks
from .checks import FLAG_CODES, FLAG_SEPARATOR
from .evidence import EVIDENCE_FLAG_CODES, EVIDENCE_FLAG_DESCRIPTIONS

__all__ = ["SUMMARY_FORMAT", "TOP_FLAGGED", "TOP_EVIDENCE", "FLAG_DESCRIPTIONS", "summarize",
           "write_summary", "render_report", "write_report", "svg_bar_chart", "svg_trip_map"]

SUMMARY_FORMAT = "tanlu-audit-summary/2"
#: Flagged trips listed in the summary and the report (most excess points first).
TOP_FLAGGED = 20
#: One line per flag code, from the check's docstring (one place owns each rule).
FLAG_DESCRIPTIONS: dict[str, str] = {
    code: getattr(checks, f"check_{code}").__doc__.strip().splitlines()[0].replace("``", "")
    for code in FLAG_CODES} | EVIDENCE_FLAG_DESCRIPTIONS
#: Evidence-flagged trips drawn on a map with their claim, plan and evidence side by side.
TOP_EVIDENCE = 12
MAP_SIZE_PX = 240
CHART_WIDTH_PX = 640
BAR_HEIGHT_PX = 22
LABEL_WIDTH_PX = 190
FLAG_COLOR = "#c0392b"
SAVED_COLOR = "#2e9e44"
ERROR_COLOR = "#7f8c8d"
_DIGITS = 3
_TOP_FIELDS = ("row", "trip_id", "user_id", "started_at", "claimed_mode", "claimed_points",
               "points_due", "flags", "reasons")


def summarize(results: pd.DataFrame, errors: pd.DataFrame, *, n_rows: int,
              about: dict[str, Any] | None = None) -> dict[str, Any]:
    """Counts, totals (CO2e, savings, points) and flagged shares by reason, as plain JSON types.

    ``about`` (network, rules, input names...) is copied in as given. ``top_flagged`` lists
    up to :data:`TOP_FLAGGED` flagged trips, taking turns across flag codes (so every reason
    shows examples); within a code, most points claimed above due first, then most flags,
    then input row.
    """
    n_out = len(results)
    flags = results["flags"].astype(str)
    by_reason = {}
    for code in _codes(results):
        count = int(flags.map(lambda f, c=code: c in f.split(FLAG_SEPARATOR)).sum()) if n_out else 0
        by_reason[code] = {"count": count, "share": _share(count, n_out)}
    flagged_mask = results["flagged"].astype(bool)
    unflagged, flagged = results[~flagged_mask], results[flagged_mask]
    summary = {
        "format": SUMMARY_FORMAT,
        "about": dict(about or {}),
        "rows": {"in": int(n_rows), "out": n_out, "errors": len(errors)},
        "errors_by_field": _counts(errors["field"]) if len(errors) else {},
        "status": _counts(results["status"]) if n_out else {},
        "flagged": {"count": int(results["flagged"].sum()), "share": _share(
            int(results["flagged"].sum()), n_out)},
        "flagged_by_reason": by_reason,
        "totals": {
            "co2e_g": _total(results["co2e_g"]),
            "baseline_co2e_g": _total(results["baseline_co2e_g"]),
            "reduction_g": _total(results["reduction_g"]),
            "reduction_g_unflagged": _total(unflagged["reduction_g"]),
            "points_due": _total(results["points_due"]),
            "points_due_unflagged": _total(unflagged["points_due"]),
            "points_claimed": _total(results["claimed_points"]),
            "points_claimed_flagged": _total(flagged["claimed_points"]),
            "points_excess": _total(_excess_points(results).clip(lower=0)),
        },
        "by_claimed_mode": _by_mode(results),
        "top_flagged": _top_flagged(flagged),
    }
    if "evidence" in results.columns:
        summary["evidence"] = _evidence_summary(results)
    return summary


def write_summary(summary: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write the summary as indented, key-sorted JSON (UTF-8)."""
    path = Path(path)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def render_report(summary: dict[str, Any], *, title: str = "tanlu trip audit") -> str:
    """A standalone HTML page for an auditor.

    Key numbers, charts (flagged trips by reason, flagged share and CO2e saved by claimed mode,
    error rows by field), a table per claimed mode, what each flag means, and the top flagged
    trips with their reasons.
    """
    about = " · ".join(f"{html.escape(str(k))}: <b>{html.escape(str(v))}</b>"
                       for k, v in summary.get("about", {}).items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="about">{about}</p>
{_cards(summary)}
<div class="charts">{''.join(f'<figure>{f}</figure>' for f in _charts(summary))}</div>
<h2>By claimed mode</h2>
{_mode_table(summary["by_claimed_mode"])}
<h2>What the flags mean</h2>
{_flag_table(summary["flagged_by_reason"])}
{_evidence_section(summary.get("evidence"))}
<h2>Top flagged trips</h2>
<p class="note">Up to {TOP_FLAGGED}, taking turns across the flags; within a flag, most points
claimed above points due first. A flag asks for a look; it is not a verdict. Every trip is in the
results file with its <code>reasons</code>.</p>
{_top_table(summary.get("top_flagged", []))}
</body></html>
"""


_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1060px; color: #222;
       padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.about, .note { color: #555; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 1em 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; min-width: 150px; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .label { color: #555; font-size: 12px; }
.card.flag .value { color: #c0392b; } .card.good .value { color: #2e7d32; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(500px, 1fr)); gap: 8px; }
figure { margin: 0 0 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; vertical-align: top;
         white-space: nowrap; }
td:last-child { white-space: normal; }
figure svg { max-width: 100%; height: auto; }
th { background: #f5f5f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-size: 12px; }
td.reasons { font-size: 12px; color: #444; }
.evidence { display: flex; gap: 14px; margin: 0 0 1.2em; border-bottom: 1px solid #eee;
            padding-bottom: 0.8em; }
.evidence table td, .evidence table th { white-space: normal; font-size: 12px; }
.evidence .facts { flex: 1; }
"""


def _cards(summary: dict[str, Any]) -> str:
    rows, totals, flagged = summary["rows"], summary["totals"], summary["flagged"]
    balanced = rows["in"] == rows["out"] + rows["errors"]
    cards = [
        ("Rows in", f"{rows['in']:,}", ""),
        ("Audited trips", f"{rows['out']:,}", ""),
        ("Error rows", f"{rows['errors']:,}", ""),
        ("in = audited + errors", "yes" if balanced else "NO", "good" if balanced else "flag"),
        ("Flagged trips", f"{flagged['count']:,} ({100 * flagged['share']:.1f}%)", "flag"),
        ("CO2e emitted", f"{totals['co2e_g'] / 1000:,.1f} kg", ""),
        ("CO2e saved vs car", f"{totals['reduction_g'] / 1000:,.1f} kg", "good"),
        ("saved, unflagged trips", f"{totals['reduction_g_unflagged'] / 1000:,.1f} kg", "good"),
        ("Points claimed", f"{totals['points_claimed']:,.0f}", ""),
        ("Points due", f"{totals['points_due']:,.0f}", ""),
        ("Points claimed above due", f"{totals.get('points_excess', 0.0):,.0f}", "flag"),
    ]
    return '<div class="cards">' + "".join(
        f'<div class="card {css}"><div class="value">{html.escape(value)}</div>'
        f'<div class="label">{html.escape(label)}</div></div>' for label, value, css in cards
    ) + "</div>"


def _charts(summary: dict[str, Any]) -> list[str]:
    reasons = summary["flagged_by_reason"]
    modes = summary["by_claimed_mode"]
    return [
        svg_bar_chart([(code, v["count"]) for code, v in reasons.items()],
                      title="Flagged trips by reason", color=FLAG_COLOR,
                      texts=[f"{v['count']:,} ({100 * v['share']:.1f}%)" for v in reasons.values()]),
        svg_bar_chart([(m, 100 * _share(v["flagged"], v["trips"])) for m, v in modes.items()],
                      title="Flagged share by claimed mode", unit="%", digits=1,
                      color=FLAG_COLOR),
        svg_bar_chart([(m, v["reduction_g"] / 1000) for m, v in modes.items()],
                      title="CO2e saved against the car by claimed mode", unit="kg", digits=1,
                      color=SAVED_COLOR),
        svg_bar_chart(list(summary["errors_by_field"].items()), title="Error rows by field",
                      unit="rows", digits=0, color=ERROR_COLOR),
    ]


def _mode_table(modes: dict[str, dict[str, Any]]) -> str:
    head = ("claimed mode", "trips", "flagged", "flagged %", "CO2e kg", "saved kg", "points due")
    body = [(html.escape(m), f"{v['trips']:,}", f"{v['flagged']:,}",
             f"{100 * _share(v['flagged'], v['trips']):.1f}", f"{v['co2e_g'] / 1000:,.1f}",
             f"{v['reduction_g'] / 1000:,.1f}", f"{v['points_due']:,.0f}")
            for m, v in modes.items()]
    return _table(head, body, numeric_from=1)


def _flag_table(reasons: dict[str, dict[str, Any]]) -> str:
    head = ("flag", "trips", "share", "fires when")
    body = [(f"<code>{html.escape(code)}</code>", f"{v['count']:,}", f"{100 * v['share']:.1f}%",
             html.escape(FLAG_DESCRIPTIONS.get(code, ""))) for code, v in reasons.items()]
    return _table(head, body, numeric_from=1, numeric_to=3)


def _top_table(top: list[dict[str, Any]]) -> str:
    if not top:
        return '<p class="note">No flagged trips.</p>'
    head = ("row", "trip", "user", "started", "mode", "points claimed", "points due", "flags",
            "reasons")

    def points(value) -> str:
        return "" if value is None else f"{value:,.0f}"

    body = [(str(t["row"]), html.escape(str(t["trip_id"])), html.escape(str(t["user_id"])),
             html.escape(str(t["started_at"])[:16].replace("T", " ")),
             html.escape(str(t["claimed_mode"])), points(t["claimed_points"]),
             points(t["points_due"]),
             "<br>".join(f"<code>{html.escape(f)}</code>" for f in t["flags"].split(FLAG_SEPARATOR)),
             html.escape(str(t["reasons"]))) for t in top]
    return _table(head, body, numeric_from=5, numeric_to=7, last_class="reasons")


def _table(head: Sequence[str], body: Sequence[Sequence[str]], *, numeric_from: int,
           numeric_to: int | None = None, last_class: str = "") -> str:
    """An HTML table; cells in body are already escaped HTML."""
    numeric_to = len(head) if numeric_to is None else numeric_to

    def css(i: int) -> str:
        if numeric_from <= i < numeric_to:
            return ' class="num"'
        return f' class="{last_class}"' if last_class and i == len(head) - 1 else ""

    header = "".join(f'<th{css(i) if numeric_from <= i < numeric_to else ""}>{html.escape(h)}</th>'
                     for i, h in enumerate(head))
    rows = "".join("<tr>" + "".join(f"<td{css(i)}>{cell}</td>" for i, cell in enumerate(row))
                   + "</tr>" for row in body)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"


def write_report(summary: dict[str, Any], path: str | os.PathLike, **options: Any) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8)."""
    path = Path(path)
    path.write_text(render_report(summary, **options), encoding="utf-8")
    return path


def svg_bar_chart(items: Sequence[tuple[str, float]], *, title: str, unit: str = "",
                  digits: int = 0, width: int = CHART_WIDTH_PX, color: str = SAVED_COLOR,
                  texts: Sequence[str] | None = None) -> str:
    """A horizontal bar chart as an inline ``<svg>`` element (labels escaped).

    ``texts`` replaces the value printed after each bar (default: value and unit).
    """
    items = [(str(label), float(value) if math.isfinite(float(value)) else 0.0)
             for label, value in items]
    top = 28
    height = top + BAR_HEIGHT_PX * max(1, len(items)) + 8
    largest = max([v for _, v in items] + [0.0]) or 1.0
    span = width - LABEL_WIDTH_PX - 90
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">',
             f'<text x="0" y="16" font-size="15" font-weight="bold">{html.escape(title)}</text>']
    if not items:
        parts.append(f'<text x="0" y="{top + 14}" fill="#777">none</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * BAR_HEIGHT_PX
        bar = max(0.0, value) / largest * span
        text = texts[i] if texts is not None else f"{value:,.{digits}f} {unit}".strip()
        parts.append(f'<text x="{LABEL_WIDTH_PX - 6}" y="{y + 15}" text-anchor="end" '
                     f'font-size="12">{html.escape(label)}</text>')
        parts.append(f'<rect x="{LABEL_WIDTH_PX}" y="{y + 3}" width="{bar:.1f}" '
                     f'height="{BAR_HEIGHT_PX - 6}" fill="{color}"><title>{html.escape(label)}: '
                     f'{html.escape(text)}</title></rect>')
        parts.append(f'<text x="{LABEL_WIDTH_PX + bar + 4:.1f}" y="{y + 15}" font-size="12">'
                     f'{html.escape(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _by_mode(results: pd.DataFrame) -> dict[str, dict[str, Any]]:
    if results.empty:
        return {}
    grouped = results.groupby("claimed_mode", sort=True)
    out = {}
    for mode, group in grouped:
        out[str(mode)] = {"trips": len(group), "flagged": int(group["flagged"].sum()),
                          "co2e_g": _total(group["co2e_g"]),
                          "reduction_g": _total(group["reduction_g"]),
                          "points_due": _total(group["points_due"])}
    return out


def _excess_points(results: pd.DataFrame) -> pd.Series:
    """Points claimed minus points due (NaN where nothing was claimed)."""
    return results["claimed_points"].astype(float) - results["points_due"].astype(float)


def _top_flagged(flagged: pd.DataFrame) -> list[dict[str, Any]]:
    if flagged.empty:
        return []
    excess = _excess_points(flagged).fillna(0.0).clip(lower=0)
    codes = flagged["flags"].astype(str).str.split(FLAG_SEPARATOR)
    ranked = flagged.assign(_excess=-excess, _n=-codes.str.len()).sort_values(
        ["_excess", "_n", "row"], kind="stable")
    queues = [[i for i in ranked.index if code in codes[i]] for code in _codes(flagged)]
    chosen: list = []
    while len(chosen) < TOP_FLAGGED and any(queues):
        for queue in queues:
            while queue and queue[0] in chosen:
                queue.pop(0)
            if queue and len(chosen) < TOP_FLAGGED:
                chosen.append(queue.pop(0))
    return [_trip_record(flagged.loc[i]) for i in chosen]


def _trip_record(trip: pd.Series) -> dict[str, Any]:
    record = {}
    for name in _TOP_FIELDS:
        value = trip[name]
        if isinstance(value, pd.Timestamp):
            value = value.isoformat()
        elif name == "row":
            value = int(value)
        elif name in ("claimed_points", "points_due"):
            value = None if pd.isna(value) else round(float(value), _DIGITS)
        else:
            value = str(value)
        record[name] = value
    return record


def _counts(values: pd.Series) -> dict[str, int]:
    counts = values.astype(str).value_counts()
    return {str(k): int(counts[k]) for k in sorted(counts.index)}


def _total(values: pd.Series) -> float:
    return round(float(values.astype(float).sum(skipna=True)), _DIGITS)


def _share(count: int, total: int) -> float:
    return round(count / total, 6) if total else 0.0




def _codes(results: pd.DataFrame) -> tuple[str, ...]:
    """The flag codes of these results: the checks', and the evidence's when it ran."""
    return FLAG_CODES + (EVIDENCE_FLAG_CODES if "evidence" in results.columns else ())


def _evidence_summary(results: pd.DataFrame) -> dict[str, Any]:
    traced = results[results["evidence"] == "trace"]
    flagged = traced[traced["evidence_flags"].astype(str) != ""]
    codes = flagged["evidence_flags"].astype(str).str.split(FLAG_SEPARATOR)
    queues = [[i for i in flagged.index if code in codes[i]] for code in EVIDENCE_FLAG_CODES]
    chosen: list = []
    while len(chosen) < TOP_EVIDENCE and any(queues):
        for queue in queues:
            while queue and queue[0] in chosen:
                queue.pop(0)
            if queue and len(chosen) < TOP_EVIDENCE:
                chosen.append(queue.pop(0))
    return {
        "trips_by_evidence": _counts(results["evidence"]),
        "traced": {"trips": len(traced), "plan_co2e_g": _total(traced["co2e_g"]),
                   "matched_co2e_g": _total(traced["matched_co2e_g"]),
                   "plan_points": _total(traced["points_raw"]),
                   "matched_points": _total(traced["matched_points"]),
                   "claimed_points": _total(traced["claimed_points"])},
        "flagged_trips": [_evidence_record(flagged.loc[i]) for i in chosen],
    }


def _evidence_record(trip: pd.Series) -> dict[str, Any]:
    def number(name):
        value = trip.get(name)
        return None if value is None or pd.isna(value) else round(float(value), _DIGITS)

    return {
        "row": int(trip["row"]), "trip_id": str(trip["trip_id"]),
        "started_at": trip["started_at"].isoformat(), "ended_at": trip["ended_at"].isoformat(),
        "claim": {"modes": str(trip["claimed_mode"]), "distance_m": number("claimed_distance_m"),
                  "points": number("claimed_points")},
        "plan": {"modes": str(trip["itinerary_modes"]), "distance_m": number("expected_distance_m"),
                 "co2e_g": number("co2e_g"), "points": number("points_raw")},
        "matched": {"modes": str(trip["matched_modes"]), "distance_m": number("matched_distance_m"),
                    "co2e_g": number("matched_co2e_g"), "points": number("matched_points"),
                    "confidence": number("match_confidence")},
        "flags": str(trip["evidence_flags"]), "reasons": str(trip["evidence_reasons"]),
        "geometry": json.loads(trip["evidence_geometry"]) if trip["evidence_geometry"] else {},
    }


def _evidence_section(evidence: dict[str, Any] | None) -> str:
    if not evidence:
        return ""
    counts = ", ".join(f"{html.escape(k)} {v:,}" for k, v in evidence["trips_by_evidence"].items())
    intake = "; ".join(f"{html.escape(k.replace('_', ' '))} {v:,}"
                       for k, v in evidence.get("intake", {}).items())
    traced = evidence["traced"]
    parts = [f"""<h2>Evidence: matched versus claimed trips</h2>
<p class="note">Trips by evidence: {counts}. On the {traced['trips']:,} traced trips the plan for
the claim emits {traced['plan_co2e_g'] / 1000:,.1f} kg CO2e for {traced['plan_points']:,.0f}
points; the legs matched on the traces emit {traced['matched_co2e_g'] / 1000:,.1f} kg for
{traced['matched_points']:,.0f} points (claimed: {traced['claimed_points']:,.0f}). Maps: trace in
grey, matched rides in their mode's colour, origin ● and destination ■ as claimed.</p>"""]
    if intake:
        parts.append(f'<p class="note">Intake: {intake}.</p>')
    if not evidence["flagged_trips"]:
        parts.append('<p class="note">No trace raised an evidence flag.</p>')
    for trip in evidence["flagged_trips"]:
        head = ("", "modes", "km", "CO2e g", "points")
        body = []
        for label in ("claim", "plan", "matched"):
            facts = trip[label]
            km = facts.get("distance_m")
            body.append((label, html.escape(facts["modes"]),
                         "" if km is None else f"{km / 1000:,.2f}",
                         "" if facts.get("co2e_g") is None else f"{facts['co2e_g']:,.0f}",
                         "" if facts.get("points") is None else f"{facts['points']:,.1f}"))
        flags = " ".join(f"<code>{html.escape(f)}</code>" for f in trip["flags"].split(FLAG_SEPARATOR))
        parts.append(
            f'<div class="evidence"><figure>{svg_trip_map(trip["geometry"])}</figure>'
            f'<div class="facts"><b>row {trip["row"]} · {html.escape(trip["trip_id"])}</b> '
            f'{html.escape(trip["started_at"][:16].replace("T", " "))}–'
            f'{html.escape(trip["ended_at"][11:16])} {flags}'
            f'{_table(head, body, numeric_from=2)}'
            f'<p class="note">{html.escape(trip["reasons"])}</p></div></div>')
    return "\n".join(parts)


def svg_trip_map(geometry: dict[str, Any], *, size: int = MAP_SIZE_PX) -> str:
    """A small inline-SVG map of one trip: trace, matched rides, claimed origin and destination.

    Coordinates are ``[lon, lat]`` pairs, drawn in a local equirectangular projection (north
    up, same scale both ways) with a scale bar. No tiles, no network access.
    """
    trace = geometry.get("trace") or []
    rides = geometry.get("rides") or []
    ends = [p for p in (geometry.get("origin"), geometry.get("dest")) if p]
    points = trace + [c for ride in rides for c in ride["coords"]] + ends
    if not points:
        return ""
    lat0 = math.radians(sum(p[1] for p in points) / len(points))
    xs = [p[0] * math.cos(lat0) for p in points]
    ys = [p[1] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1e-4
    pad = 12
    scale = (size - 2 * pad) / span

    def xy(p) -> tuple[float, float]:
        return (pad + (p[0] * math.cos(lat0) - min(xs)) * scale,
                size - pad - (p[1] - min(ys)) * scale)

    def line(coords, color, width) -> str:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in map(xy, coords))
        return (f'<polyline points="{path}" fill="none" stroke="{color}" '
                f'stroke-width="{width}" stroke-linejoin="round" stroke-linecap="round"/>')

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
             f'viewBox="0 0 {size} {size}" role="img" aria-label="trip map">',
             f'<rect width="{size}" height="{size}" fill="#fafafa" stroke="#ddd"/>']
    if len(trace) > 1:
        parts.append(line(trace, "#888", 1.5))
    for ride in rides:
        color = MODES[ride["mode"]].color if ride["mode"] in MODES else "#e67e22"
        parts.append(line(ride["coords"], color, 3.5).replace(
            "/>", f"><title>{html.escape(ride['mode'])} {html.escape(str(ride.get('route', '')))}"
                  "</title></polyline>"))
    if geometry.get("origin"):
        x, y = xy(geometry["origin"])
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#2e9e44"/>')
    if geometry.get("dest"):
        x, y = xy(geometry["dest"])
        parts.append(f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="#c0392b"/>')
    metres_per_px = span * METRES_PER_DEGREE / (size - 2 * pad)
    bar_m = min(_SCALE_BARS_M, key=lambda m: abs(m / metres_per_px - size / 4))
    bar_px = bar_m / metres_per_px
    parts.append(f'<line x1="{pad}" y1="{size - 5}" x2="{pad + bar_px:.1f}" y2="{size - 5}" '
                 f'stroke="#333" stroke-width="2"/><text x="{pad + bar_px + 4:.1f}" '
                 f'y="{size - 2}" font-size="10">{_metres_text(bar_m)}</text>')
    parts.append("</svg>")
    return "".join(parts)


_SCALE_BARS_M = (50, 100, 200, 500, 1000, 2000, 5000, 10000)


def _metres_text(metres: int) -> str:
    return f"{metres // 1000} km" if metres >= 1000 else f"{metres} m"
