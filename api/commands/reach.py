"""``tanlu reach``: everywhere reachable from a point within a time budget, and at what CO2e."""
from __future__ import annotations

import argparse
import json
import sys
from zoneinfo import ZoneInfo

from graphs.modes import ModeError, parse_trip_modes
from planner import model
from planner.errors import QueryError
from planner.query import check_service_date, parse_when, with_own_bike
from planner.reach import (
    BAND_MINUTES,
    MAX_BAND_MINUTES,
    MAX_REACH_MINUTES,
    REACH_MINUTES,
    REACH_MODES,
)

from .plan import _NEGATIVE_POINT, _crs, _modes, _number, _point

__all__ = ["add_parser", "run", "OPTION_OF_FIELD", "TABLE_STOPS"]

#: Query field -> the option that sets it, so errors name what the user typed.
OPTION_OF_FIELD = {
    "origin": "--from", "when": "--at", "date": "--at", "minutes": "--minutes",
    "band_minutes": "--band-minutes", "modes": "--modes", "access_modes": "--modes",
    "transit_modes": "--transit-modes", "walk_speed_mps": "--walk-speed",
    "bike_speed_mps": "--bike-speed", "max_walk_m": "--max-walk-m", "max_snap_m": "--max-snap-m",
    "format": "--format", "crs": "--crs",
}
#: Stops listed by ``--format table`` (the nearest; the GeoJSON lists them all).
TABLE_STOPS = 10


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "reach", help="reach map: where one can be within N minutes, and at what CO2e",
        description="Every stop and street node reachable from --from within --minutes of "
                    "--at, with the earliest arrival and the lowest CO2e, as GeoJSON bands "
                    "(H3 cells) or a table.")
    p.add_argument("--network", required=True, help="network artifact (.tanlu)")
    p.add_argument("--from", dest="origin", required=True, metavar="LAT,LON")
    p.add_argument("--at", help="ISO date-time, local to the network without an offset "
                                "(default: now)")
    p.add_argument("--minutes", default=str(REACH_MINUTES),
                   help=f"time budget, 1..{MAX_REACH_MINUTES} (default {REACH_MINUTES})")
    p.add_argument("--band-minutes", default=str(BAND_MINUTES),
                   help=f"width of the time bands, 1..{MAX_BAND_MINUTES} "
                        f"(default {BAND_MINUTES})")
    p.add_argument("--modes", default=",".join(sorted(REACH_MODES)),
                   help="comma-separated: walk, bike, transit or single transit modes; "
                        "bike+transit: own bike to a rail or metro station (default "
                        f"{','.join(sorted(REACH_MODES))})")
    p.add_argument("--own-bike", action="store_true",
                   help="the traveller has a bike: add bike+transit when transit is allowed")
    p.add_argument("--transit-modes", help="narrow transit, e.g. bus,metro")
    p.add_argument("--walk-speed", help=f"m/s (default {model.WALK_SPEED_MPS})")
    p.add_argument("--bike-speed", help=f"m/s (default {model.BIKE_SPEED_MPS})")
    p.add_argument("--max-walk-m", help="walk to a first stop and between stops (default "
                                        f"{model.MAX_WALK_M:g}); the last walk is bounded by "
                                        "the budget only")
    p.add_argument("--max-snap-m", help=f"default {model.MAX_SNAP_M:g}")
    p.add_argument("--nodes", action="store_true",
                   help="geojson: also list every reached street node as a point")
    p.add_argument("--format", default="geojson", help="geojson (default) or table")
    p.add_argument("--crs", default="wgs84",
                   help="coordinate system of --from and of the output: wgs84 (default), "
                        "gcj02 or bd09")
    p._negative_number_matcher = _NEGATIVE_POINT
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from graphs.artifact import load_network
    from planner import Planner
    from planner.reach import make_reach_query, reach_map

    from .._crs_out import convert_answer
    from ..reach_geojson import reach_to_geojson

    if args.format not in ("geojson", "table"):
        raise QueryError(f"--format must be geojson or table, got {args.format!r}",
                         field="format")
    crs = _crs(args.crs)
    network = load_network(args.network)
    try:
        options = _options(args, network.timezone, crs)
        request = make_reach_query(**options)
        planner = Planner(network)
        check_service_date(request.query.when, request.query.modes,
                           request.query.transit_modes, *planner.service_dates)
        reach = reach_map(planner, request)
    except QueryError as err:
        option = OPTION_OF_FIELD.get(err.field or "", err.field or "")
        raise type(err)(f"{option}: {err}" if option else str(err), field=err.field) from err
    if args.format == "geojson":
        answer = reach_to_geojson(reach, network=network, nodes=args.nodes)
        json.dump(convert_answer(answer, crs), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_table(reach))
    return 0


def _options(args: argparse.Namespace, timezone: str, crs) -> dict:
    """Typed ``make_reach_query`` keywords; without ``--at``, now in the network's timezone."""
    from datetime import datetime

    tz = ZoneInfo(timezone)
    when = (parse_when(args.at, tz) if args.at
            else datetime.now(tz).replace(microsecond=0))
    options = {"origin": _point(args.origin, "origin", crs), "when": when,
               "minutes": _number(args.minutes, "minutes", integer=True),
               "band_minutes": _number(args.band_minutes, "band_minutes", integer=True)}
    try:
        options["modes"], access = parse_trip_modes(args.modes)
    except ModeError as err:
        raise QueryError(str(err), field="modes") from err
    if args.transit_modes is not None:
        options["transit_modes"] = _modes(args.transit_modes, "transit_modes")
    if args.own_bike:
        access = with_own_bike(access, options["modes"], options.get("transit_modes"))
    if access:
        options["access_modes"] = frozenset(access)
    for field, value in (("walk_speed_mps", args.walk_speed), ("bike_speed_mps", args.bike_speed),
                         ("max_walk_m", args.max_walk_m), ("max_snap_m", args.max_snap_m)):
        if value is not None:
            options[field] = _number(value, field)
    return options


def _table(reach) -> str:
    q = reach.query.query
    modes = ",".join(sorted(q.modes) + [f"{m}+transit" for m in sorted(q.access_modes)])
    rows = [f"reach from {q.origin_lat:.5f},{q.origin_lon:.5f} at {q.when:%Y-%m-%d %H:%M} "
            f"within {reach.query.minutes:g} min by {modes}: {len(reach.stops):,} stops, "
            f"{sum(len(n.node) for n in reach.nodes):,} street nodes, "
            f"{sum(b.cells for b in reach.time_bands):,} H3 cells (resolution "
            f"{reach.resolution}), {reach.rounds} transit rounds"]
    rows.append(f"{'time band':<16} {'cells':>6}")
    rows += [f"{f'{b.low:g}-{b.high:g} min':<16} {b.cells:>6}" for b in reach.time_bands]
    rows.append(f"{'CO2e band':<16} {'cells':>6}")
    rows += [f"{_co2e_label(b.low, b.high):<16} {b.cells:>6}" for b in reach.co2e_bands]
    rows.append(f"{'arrive':>8} {'min':>5} {'CO2e g':>7}  stop")
    rows += [f"{s.arrival:%H:%M:%S} {s.minutes:5.1f} {s.co2e_g:7.1f}  {s.stop_id} {s.name}"
             for s in reach.stops[:TABLE_STOPS]]
    if len(reach.stops) > TABLE_STOPS:
        rows.append(f"... {len(reach.stops) - TABLE_STOPS:,} more stops (--format geojson "
                    "lists them all)")
    rows.append(f"factors {reach.factor_table}")
    rows.extend(f"note: {n}" for n in reach.notices)
    return "\n".join(rows) + "\n"


def _co2e_label(low: float, high: float) -> str:
    if high == 0:
        return "0 g"
    if high == float("inf"):
        return f"> {low:g} g"
    return f"{low:g}-{high:g} g"
