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

from .checks import FLAG_CODES, FLAG_SEPARATOR


__all__ = ["SUMMARY_FORMAT", "summarize", "write_summary", "render_report", "write_report",
           "svg_bar_chart"]

SUMMARY_FORMAT = "tanlu-audit-summary/1"
CHART_WIDTH_PX = 640
BAR_HEIGHT_PX = 22
LABEL_WIDTH_PX = 190
_DIGITS = 3


def summarize(results: pd.DataFrame, errors: pd.DataFrame, *, n_rows: int,
              about: dict[str, Any] | None = None) -> dict[str, Any]:
    """Counts, totals (CO2e, savings, points) and flagged shares by reason, as plain JSON types.

    ``about`` (network, rules, input names...) is copied in as given.
    """
    n_out = len(results)
    flags = results["flags"].astype(str)
    by_reason = {}
    for code in FLAG_CODES:
        count = int(flags.map(lambda f, c=code: c in f.split(FLAG_SEPARATOR)).sum()) if n_out else 0
        by_reason[code] = {"count": count, "share": _share(count, n_out)}
    unflagged = results[~results["flagged"].astype(bool)]
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
        },
        "by_claimed_mode": _by_mode(results),
    }
    return summary


def write_summary(summary: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write the summary as indented, key-sorted JSON (UTF-8)."""
    path = Path(path)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def render_report(summary: dict[str, Any], *, title: str = "tanlu trip audit") -> str:
    """A standalone HTML page: key numbers, flagged share by reason, savings by mode."""
    rows = summary["rows"]
    totals = summary["totals"]
    reasons = [(code, 100 * v["share"]) for code, v in summary["flagged_by_reason"].items()]
    modes = summary["by_claimed_mode"]
    figures = [
        svg_bar_chart(reasons, title="Flagged trips by reason", unit="%", digits=1),
        svg_bar_chart([(m, v["trips"]) for m, v in modes.items()], title="Trips by claimed mode",
                      unit="trips", digits=0),
        svg_bar_chart([(m, v["reduction_g"] / 1000) for m, v in modes.items()],
                      title="CO2e saved against the car by claimed mode", unit="kg", digits=1),
        svg_bar_chart(list(summary["errors_by_field"].items()), title="Error rows by field",
                      unit="rows", digits=0),
    ]
    facts = [
        ("Rows in", f"{rows['in']:,}"), ("Audited trips", f"{rows['out']:,}"),
        ("Error rows", f"{rows['errors']:,}"),
        ("Flagged trips", f"{summary['flagged']['count']:,} ({100 * summary['flagged']['share']:.1f}%)"),
        ("CO2e emitted", f"{totals['co2e_g'] / 1000:,.1f} kg"),
        ("CO2e saved vs car", f"{totals['reduction_g'] / 1000:,.1f} kg"),
        ("CO2e saved, unflagged trips", f"{totals['reduction_g_unflagged'] / 1000:,.1f} kg"),
        ("Points due", f"{totals['points_due']:,.0f}"),
        ("Points claimed", f"{totals['points_claimed']:,.0f}"),
    ]
    about = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                    for k, v in summary.get("about", {}).items())
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                    for k, v in facts)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 720px; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th {{ text-align: left; font-weight: normal; color: #555; padding: 2px 16px 2px 0; }}
td {{ font-variant-numeric: tabular-nums; }}
figure {{ margin: 0 0 1.5em; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<table>{table}</table>
{''.join(f'<figure>{f}</figure>' for f in figures)}
<h2>About this audit</h2><table>{about}</table>
</body></html>
"""


def write_report(summary: dict[str, Any], path: str | os.PathLike, **options: Any) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8)."""
    path = Path(path)
    path.write_text(render_report(summary, **options), encoding="utf-8")
    return path


def svg_bar_chart(items: Sequence[tuple[str, float]], *, title: str, unit: str = "",
                  digits: int = 0, width: int = CHART_WIDTH_PX, color: str = "#2e9e44") -> str:
    """A horizontal bar chart as an inline ``<svg>`` element (labels escaped)."""
    items = [(str(label), float(value) if math.isfinite(float(value)) else 0.0)
             for label, value in items]
    top = 28
    height = top + BAR_HEIGHT_PX * max(1, len(items)) + 8
    largest = max([v for _, v in items] + [0.0]) or 1.0
    span = width - LABEL_WIDTH_PX - 90
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(title)}">',
             f'<text x="0" y="16" font-size="15" font-weight="bold">{html.escape(title)}</text>']
    if not items:
        parts.append(f'<text x="0" y="{top + 14}" fill="#777">none</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * BAR_HEIGHT_PX
        bar = max(0.0, value) / largest * span
        parts.append(f'<text x="{LABEL_WIDTH_PX - 6}" y="{y + 15}" text-anchor="end" '
                     f'font-size="12">{html.escape(label)}</text>')
        parts.append(f'<rect x="{LABEL_WIDTH_PX}" y="{y + 3}" width="{bar:.1f}" '
                     f'height="{BAR_HEIGHT_PX - 6}" fill="{color}"><title>{html.escape(label)}: '
                     f'{value:,.{digits}f} {html.escape(unit)}</title></rect>')
        parts.append(f'<text x="{LABEL_WIDTH_PX + bar + 4:.1f}" y="{y + 15}" font-size="12">'
                     f'{value:,.{digits}f} {html.escape(unit)}</text>')
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


def _counts(values: pd.Series) -> dict[str, int]:
    counts = values.astype(str).value_counts()
    return {str(k): int(counts[k]) for k in sorted(counts.index)}


def _total(values: pd.Series) -> float:
    return round(float(values.astype(float).sum(skipna=True)), _DIGITS)


def _share(count: int, total: int) -> float:
    return round(count / total, 6) if total else 0.0


