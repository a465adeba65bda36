"""``tanlu inspect``: print what a network artifact holds."""
from __future__ import annotations

import argparse
import json
from typing import Any

from graphs.artifact import read_manifest

__all__ = ["add_parser", "run", "summarize_manifest"]

#: Feed report counts shown in the per-feed table (report key, column title).
_FEED_COLUMNS = (("stops", "stops"), ("routes", "routes"), ("trips", "trips"),
                 ("stop_times", "stop_times"), ("interpolated_times", "interpolated"),
                 ("frequency_trips_created", "freq_trips"), ("linked_stops", "linked"))
#: Feed report keys that are not data problems (everything else non-zero is listed as one).
_FEED_FACTS = {key for key, _ in _FEED_COLUMNS} | {
    "compile_s", "timezone", "shape_dist_traveled_unit_m", "trip_distance_sources",
    "unlinked_stops", "frequency_trips_expanded", "stop_times_no_pickup",
    "stop_times_no_drop_off"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("inspect", help="show what a network artifact contains")
    p.add_argument("network", help="artifact written by `tanlu build`")
    p.add_argument("--json", action="store_true", help="print the whole manifest as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    manifest = read_manifest(args.network)
    if args.json:
        print(json.dumps(manifest, indent=2, ensure_ascii=False))
    else:
        print(summarize_manifest(manifest))
    return 0


def summarize_manifest(manifest: dict) -> str:
    """A human-readable summary of an artifact's manifest: inputs, layers, transit, factors."""
    cov = manifest.get("coverage", {})
    lines = [f"tanlu network (format {manifest['format_version']}, "
             f"tanlu {manifest.get('tanlu_version')}, built {manifest.get('built_at')}, "
             f"{manifest.get('build_seconds')} s)",
             f"factor table: {manifest.get('factor_table')}",
             f"grid: {_grid((manifest.get('factors') or {}).get('grid'))}",
             f"timezone: {manifest.get('timezone')}",
             f"bbox (lon/lat): {cov.get('bbox')}",
             f"service dates: {_dates(cov.get('service_dates'))}",
             "inputs:"]
    lines += [f"  {i['kind']:5} {i['name']}  {i['bytes']:,} B  sha256 {i['sha256'][:16]}…"
              for i in manifest.get("inputs", [])]
    lines.append("build options: " + ", ".join(f"{k}={v}" for k, v in
                                              manifest.get("build_options", {}).items()))
    report = manifest.get("report", {})
    lines += _streets(report.get("streets") or {}, manifest.get("layers", []))
    lines += _transit(report.get("transit") or {})
    shared = manifest.get("gbfs")
    if shared:  # tanlu build --gbfs, and OSM bicycle_rental stations
        lines.append(f"bike share: GBFS {shared['version']} snapshot of {shared['last_updated']}: "
                     f"{shared['stations']:,} stations, {shared['vehicles']:,} vehicles "
                     f"({', '.join(shared['files'])})")
    lines += _factors(manifest.get("factors") or {})
    return "\n".join(lines)


def _dates(dates: dict | None) -> str:
    return f"{dates['first']} .. {dates['last']}" if dates else "none (no timetable)"


def _streets(streets: dict[str, Any], layers: list[str]) -> list[str]:
    lines = ["street layers:"]
    for name in layers:
        lines.append(f"  {name:5} {streets.get(f'{name}_nodes', 0):>9,} nodes "
                     f"{streets.get(f'{name}_edges', 0):>9,} edges "
                     f"({streets.get(f'{name}_island_nodes_dropped', 0):,} island nodes dropped)")
    lines.append(f"  OSM: {streets.get('ways_read', 0):,} street ways, "
                 f"{streets.get('ways_clipped', 0):,} clipped at the extract's edge "
                 f"({streets.get('ways_dropped_clipped', 0):,} dropped), "
                 f"{streets.get('charging_stations', 0):,} charging stations")
    return lines


def _transit(transit: dict[str, Any]) -> list[str]:
    if not transit:
        return ["transit: none (built without GTFS)"]
    totals, linking, foot = (transit.get(k, {}) for k in ("totals", "linking", "footpaths"))
    feeds = transit.get("feeds", {})
    width = max([len(name) for name in feeds] + [5])
    lines = [f"transit: {totals.get('stops', 0):,} stops, {totals.get('routes', 0):,} routes, "
             f"{totals.get('patterns', 0):,} patterns, {totals.get('trips', 0):,} trips, "
             f"{totals.get('stop_times', 0):,} stop times, {totals.get('services', 0):,} services",
             "  " + "feed".ljust(width) + "".join(f" {title:>12}" for _, title in _FEED_COLUMNS)]
    for name, counts in feeds.items():
        lines.append("  " + name.ljust(width)
                     + "".join(f" {counts.get(key, 0):>12,}" for key, _ in _FEED_COLUMNS))
    unlinked = linking.get("unlinked", {})
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in unlinked.items())
    lines.append(f"  stops linked to the walk layer (<= {linking.get('max_link_m')} m): "
                 f"{linking.get('linked', 0):,}; unlinked {sum(unlinked.values()):,}"
                 + (f" ({reasons})" if reasons else ""))
    lines.append(f"  footpaths: {foot.get('pairs', 0):,} (<= {foot.get('max_distance_m')} m, "
                 f"detour x{foot.get('detour_factor')}), {foot.get('from_transfers_txt', 0):,} "
                 f"from transfers.txt, {foot.get('not_possible_from_transfers_txt', 0):,} "
                 "removed as not possible")
    sources = transit.get("pattern_distance_sources", {})
    lines.append("  hop distances by pattern: "
                 + ", ".join(f"{source} {count:,}" for source, count in sources.items()))
    for name, counts in feeds.items():
        restricted = {k: counts[k] for k in ("stop_times_no_pickup", "stop_times_no_drop_off")
                      if counts.get(k)}
        problems = {k: v for k, v in counts.items()
                    if k not in _FEED_FACTS and isinstance(v, int) and v}
        if restricted:
            lines.append(f"  {name} boarding restrictions: "
                         + ", ".join(f"{k}={v:,}" for k, v in restricted.items()))
        lines.append(f"  {name} data problems: "
                     + (", ".join(f"{k}={v:,}" for k, v in problems.items()) or "none"))
    return lines


def _grid(grid: dict[str, Any] | None) -> str:
    if not grid:
        return "none (no electricity-derived factors on a grid)"
    checked = "verified" if grid.get("verified") else "UNVERIFIED"
    return (f"{grid.get('label')} {grid.get('name_zh', '')} {grid.get('g_per_kwh')} "
            f"{grid.get('unit')} ({grid.get('year')}, {checked})")


def _factors(table: dict[str, Any]) -> list[str]:
    if not table:
        return []
    lines = [f"emission factors {table.get('label')} ({table.get('unit')}): {table.get('title')}"]
    for key, factor in table.get("factors", {}).items():
        how = f"derived: {factor['derivation']}" if factor.get("derivation") else "published"
        source = str(factor.get("source", ""))
        source = source if len(source) <= 70 else source[:69] + "…"
        lines.append(f"  {key:14} {factor.get('g_per_pkm'):>8} ({factor.get('year')}, {how}) "
                     f"{source}")
    return lines
