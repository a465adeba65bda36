"""``tanlu plan``: plan one door-to-door trip on a network artifact and print it."""
from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from graphs.modes import ModeError, parse_modes, parse_trip_modes
from planner import model
from planner.errors import QueryError
from planner.query import check_service_date, parse_point, parse_when, with_own_bike

__all__ = ["add_parser", "run", "OPTION_OF_FIELD"]

#: Query field -> the CLI option that sets it, so errors name what the user typed.
OPTION_OF_FIELD = {
    "origin": "--from", "destination": "--to", "when": "--at", "date": "--at",
    "modes": "--modes", "transit_modes": "--transit-modes", "walk_speed_mps": "--walk-speed",
    "bike_speed_mps": "--bike-speed", "ebike_speed_mps": "--ebike-speed",
    "max_walk_m": "--max-walk-m",
    "max_transfers": "--max-transfers", "budget_factor": "--budget-factor",
    "budget_slack_s": "--budget-slack-min", "time_budget_s": "--budget-min",
    "max_snap_m": "--max-snap-m", "window_s": "--window",
    "charged_at_public_pile": "--charged-at-public-pile", "drop_off": "--drop-off",
    "rules": "--rules", "format": "--format", "crs": "--crs", "passengers": "--passengers",
    "methodology": "--methodology",
    "access_modes": "--modes",
}

_NEGATIVE_POINT = re.compile(r"^-\d+$|^-\d*\.\d+$|^-?\d*\.?\d+,\s*-?\d*\.?\d+$")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("plan", help="plan a trip (lowest-carbon first) on a network",
                              description="Plan a door-to-door trip on a network artifact.")
    p.add_argument("--network", required=True, help="network artifact (.tanlu)")
    p.add_argument("--from", dest="origin", required=True, metavar="LAT,LON")
    p.add_argument("--to", dest="destination", required=True, metavar="LAT,LON")
    p.add_argument("--at", help="ISO date-time, local to the network without an offset "
                                "(default: now)")
    p.add_argument("--arrive-by", action="store_true", help="--at is the latest arrival")
    p.add_argument("--modes", default=",".join(sorted(model.DEFAULT_MODES)),
                   help="comma-separated: walk,bike,ebike,bikeshare,transit,car_petrol,car_diesel,"
                        "car_hybrid,car_bev,taxi or single transit modes (default "
                        f"{','.join(sorted(model.DEFAULT_MODES))}: the car is the baseline, "
                        "offered only when asked for); X+transit: transit reached by X: "
                        "bike+transit (own bike, parked or carried on board), "
                        "bikeshare+transit (shared bikes of a GBFS feed, at either end), "
                        "car_petrol+transit (park-and-ride, any car fuel), car_bev+transit "
                        "(EV left at a pile), taxi+transit (dropped at the station)")
    p.add_argument("--own-bike", action="store_true",
                   help="the traveller has a bike: add bike+transit when transit is allowed")
    p.add_argument("--drop-off", action="store_true",
                   help="car_X+transit: dropped off at the station (kiss-and-ride), not parked")
    p.add_argument("--transit-modes", help="narrow transit, e.g. bus,metro")
    p.add_argument("--walk-speed", help=f"m/s (default {model.WALK_SPEED_MPS})")
    p.add_argument("--bike-speed", help=f"m/s (default {model.BIKE_SPEED_MPS})")
    p.add_argument("--ebike-speed", help=f"m/s (default {model.EBIKE_SPEED_MPS})")
    p.add_argument("--max-walk-m", help=f"per walk (default {model.MAX_WALK_M:g})")
    p.add_argument("--max-transfers", help=f"default {model.MAX_TRANSFERS}")
    p.add_argument("--max-snap-m", help=f"default {model.MAX_SNAP_M:g}")
    p.add_argument("--budget-factor", help=f"default {model.BUDGET_FACTOR}")
    p.add_argument("--budget-slack-min", help=f"default {model.BUDGET_SLACK_S / 60:g}")
    p.add_argument("--budget-min", help="explicit time budget of the recommendation")
    p.add_argument("--window", help="departure window in minutes: plan every departure from "
                                    f"--at to --at + WINDOW (0..{model.MAX_WINDOW_S // 60})")
    p.add_argument("--rules", default="default",
                   help="points rules: a preset (default, flat_per_ride, hubei-tantan, zhengzhou, "
                        "shenzhen-per-km) or a TOML path")
    p.add_argument("--methodology", default=None,
                   help="carbon-accounting methodology: a preset (tanlu-car, shenzhen-2021, "
                        "db11-3043-2024, db33-1312-2023) or a TOML path (default tanlu-car)")
    p.add_argument("--passengers", help="people sharing each car leg (carpool, 合乘), "
                                        f"1..{model.MAX_PASSENGERS}; divides its CO2e")
    p.add_argument("--pile-list", help="CSV of public charging piles (id,name,lat,lon"
                                       "[,operator]); default: the artifact's OSM stations")
    p.add_argument("--pile-distance", help="metres from the trip's destination or origin to a "
                                           "pile that count as evidence (default 200)")
    p.add_argument("--charged-at-public-pile", action="store_true",
                   help="the electric car (car_bev) was charged at a public charging pile: "
                        "its trips earn points against the petrol-car baseline")
    p.add_argument("--format", default="json", help="json (default) or table")
    p.add_argument("--crs", default="wgs84",
                   help="coordinate system of --from/--to and of every coordinate printed: "
                        "wgs84 (default), gcj02 (AMap/Gaode, Tencent) or bd09 (Baidu)")
    # "-30.03,-51.23" would otherwise read as an option; argparse only knows bare negatives.
    p._negative_number_matcher = _NEGATIVE_POINT
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from graphs.artifact import load_network
    from planner import Planner, make_query
    from planner.errors import MethodologyError, PointsRulesError
    from planner.methodology import load_methodology
    from planner.piles import DEFAULT_PILE_DISTANCE_M, load_pile_csv
    from planner.points import load_points_rules

    if args.format not in ("json", "table"):
        raise QueryError(f"--format must be json or table, got {args.format!r}", field="format")
    crs = _crs(args.crs)
    try:
        rules = load_points_rules(args.rules)
    except PointsRulesError as err:
        raise PointsRulesError(f"--rules: {err}") from err
    try:
        methodology = load_methodology(args.methodology or "tanlu-car")
        methodology.require_usable()
    except MethodologyError as err:
        raise MethodologyError(f"--methodology: {err}") from err
    piles = load_pile_csv(args.pile_list) if args.pile_list else None
    distance = (DEFAULT_PILE_DISTANCE_M if args.pile_distance is None
                else _number(args.pile_distance, "pile_distance"))
    if not distance > 0:
        raise QueryError(f"--pile-distance must be > 0 metres, got {args.pile_distance}",
                         field="pile_distance")
    network = load_network(args.network)
    try:
        options = _options(args, network.timezone)
        query = make_query(**options)
        planner = Planner(network, piles=piles, pile_distance_m=distance)
        check_service_date(query.when, options["modes"], options.get("transit_modes"),
                           *planner.service_dates)
        plan = planner.plan(query, rules=rules, methodology=methodology)
    except QueryError as err:
        option = OPTION_OF_FIELD.get(err.field or "", err.field or "")
        raise type(err)(f"{option}: {err}" if option else str(err), field=err.field) from err
    from .._crs_out import convert_answer
    from ..serialize import plan_to_dict

    if args.format == "json":
        json.dump(convert_answer(plan_to_dict(plan), crs), sys.stdout, ensure_ascii=False,
                  indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_table(plan))
    return 0


def _options(args: argparse.Namespace, timezone: str, *, now: datetime | None = None) -> dict:
    """The typed ``make_query`` keywords of the command line; without ``--at``, now in the
    network's timezone (not the machine's), as ``/v1/plan`` does."""
    tz = ZoneInfo(timezone)
    when = (parse_when(args.at, tz) if args.at
            else (now or datetime.now(tz)).astimezone(tz).replace(microsecond=0))
    crs = _crs(getattr(args, "crs", "wgs84"))
    options = {"origin": _point(args.origin, "origin", crs),
               "destination": _point(args.destination, "destination", crs),
               "when": when, "arrive_by": args.arrive_by,
               "transit_modes": (None if args.transit_modes is None
                                 else _modes(args.transit_modes, "transit_modes")),
               "charged_at_public_pile": args.charged_at_public_pile,
               "drop_off": getattr(args, "drop_off", False)}
    try:
        options["modes"], access = parse_trip_modes(args.modes)
    except ModeError as err:
        raise QueryError(str(err), field="modes") from err
    if getattr(args, "own_bike", False):
        access = with_own_bike(access, options["modes"], options["transit_modes"])
    if access:
        options["access_modes"] = frozenset(access)
    numeric = {"walk_speed_mps": args.walk_speed, "bike_speed_mps": args.bike_speed,
               "ebike_speed_mps": args.ebike_speed,
               "max_walk_m": args.max_walk_m, "max_transfers": args.max_transfers,
               "max_snap_m": args.max_snap_m, "budget_factor": args.budget_factor,
               "passengers": args.passengers}
    for field, value in numeric.items():
        if value is not None:
            options[field] = _number(value, field,
                                     integer=field in ("max_transfers", "passengers"))
    for field, value in (("budget_slack_s", args.budget_slack_min),
                         ("time_budget_s", args.budget_min), ("window_s", args.window)):
        if value is not None:
            options[field] = _number(value, field) * 60.0
    return {k: v for k, v in options.items() if v is not None}


def _crs(text: str):
    """``--crs`` as a :class:`graphs.crs.Crs` (a bad name: a QueryError naming ``--crs``)."""
    from graphs.crs import parse_crs
    from graphs.errors import CrsError

    try:
        return parse_crs(text)
    except CrsError as err:
        raise QueryError(f"--crs: {err}", field="crs") from err


def _point(text: str, field: str, crs) -> tuple[float, float]:
    """``LAT,LON`` in ``crs`` as WGS-84 (converted once, here)."""
    from graphs.crs import to_wgs84

    lat, lon = to_wgs84(*parse_point(text, field=field), crs)
    return float(lat), float(lon)


def _modes(text: str, field: str) -> tuple[str, ...]:
    try:
        return parse_modes(text)
    except ModeError as err:
        raise QueryError(str(err), field=field) from err


def _number(text: str, field: str, *, integer: bool = False) -> float:
    try:
        return int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise QueryError(f"must be {kind}, got {text!r}", field=field) from None


def _leg_word(leg) -> str:
    """``bus 495``, ``walk``; a shared bike's ``rent``/``return`` legs by what is done."""
    if leg.note in ("rent", "return"):
        return leg.note
    return f"{leg.mode} {leg.route_short_name}" if leg.route_short_name else leg.mode


def _table(plan) -> str:
    tags = [",".join(sorted(it.tags)) or "-" for it in plan.itineraries]
    width = max([len("tags"), *map(len, tags)])
    rows = [f"{'tags':<{width}} {'depart':>8} {'arrive':>8} {'min':>5} {'CO2e g':>8} {'chg':>3} "
            f"{'points':>7}  legs"]
    for it, tag in zip(plan.itineraries, tags):
        legs = " > ".join(_leg_word(leg) for leg in it.legs)
        rows.append(f"{tag:<{width}} {it.departure:%H:%M:%S} "
                    f"{it.arrival:%H:%M:%S} {it.duration_s / 60:5.1f} {it.co2e_g:8.1f} "
                    f"{it.transfers:3d} {it.points.points:7.1f}  {legs}")
    b = plan.baseline
    rows.append(f"baseline {b.mode} ({b.method}): {b.distance_m / 1000:.2f} km, "
                f"{b.co2e_g:.1f} g CO2e; time budget {plan.time_budget_s / 60:.1f} min; "
                f"factors {plan.factor_table}; grid {plan.grid or '-'}; "
                f"methodology {plan.methodology}; rules {plan.points_rules}")
    rows.extend(f"pile: {it.pile.pile.id} {it.pile.pile.name} ({it.pile.distance_m:.0f} m from the "
                f"{it.pile.end})" for it in plan.itineraries if it.pile is not None)
    rows.extend(f"note: {n}" for n in plan.notices)
    return "\n".join(rows) + "\n"
