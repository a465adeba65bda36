"""What the app holds between requests: per city, the network, its coverage, points rules and
planner (an ``AppState``), kept in the app's ``api.cities.Cities`` registry.

A state is built once (in the gunicorn master with ``preload_app``, so workers share it
copy-on-write; the arrays themselves are memory-mapped) and read-only afterwards; a rebuilt
artifact gives a new state that replaces the old one (``api.reload``), never a change in place.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, g, has_app_context

from graphs.network import Network
from planner import Planner, make_query
from planner.methodology import Methodology, load_methodology
from planner.piles import DEFAULT_PILE_DISTANCE_M, PileList, load_pile_csv
from planner.points import load_points_rules
from planner.reach import Reach, make_reach_query, reach_map

from .coverage import Coverage, coverage_of
from .errors import ApiError

__all__ = ["AppState", "make_state", "app_state", "ready_state", "warm_up", "EXTENSION_KEY",
           "CITY_KEY"]

EXTENSION_KEY = "tanlu"
#: ``flask.g`` attribute naming the city of the request (set from ``/v1/{city}/...``, ``?city=``).
CITY_KEY = "tanlu_city"

#: plan(options) -> planner.model.Plan, where options are ``planner.make_query`` keywords.
PlanFunction = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class AppState:
    """The loaded network of one city and everything derived from it once."""

    network: Network | None
    coverage: Coverage | None
    timezone: ZoneInfo
    points_rules: Any
    plan: PlanFunction | None
    cache: dict[str, Any] = field(default_factory=dict)  # documents computed once (OpenAPI)
    # the operator's methodology, and by name (id and label) those a request may choose
    methodology: Methodology | None = None
    methodologies: dict[str, Methodology] = field(default_factory=dict)
    city: str = "default"

    def choose_methodology(self, name: str | None) -> Methodology | None:
        """The methodology a request names (``None``: the operator's).

        Raises
        ------
        ApiError
            ``methodology_not_allowed`` (400) naming the allowed ones.
        """
        if name is None:
            return self.methodology
        if name in self.methodologies:
            return self.methodologies[name]
        allowed = sorted({m.id for m in self.methodologies.values()})
        raise ApiError("methodology_not_allowed", field="methodology", value=name[:40],
                       allowed=", ".join(allowed) or "(none: the operator's default only)")

    def reach(self, options: dict[str, Any]) -> Reach:
        """The reach map of ``api.params.parse_reach_params`` options (``nodes`` removed).

        Raises
        ------
        ApiError
            ``not_ready`` (503) when no planner is loaded (a test's stand-in ``plan``).
        """
        planner = getattr(self.plan, "planner", None)
        if planner is None:
            raise ApiError("not_ready", status=503)
        return reach_map(planner, make_reach_query(**options))


def make_state(network: Network | None, *, points_rules: str | None = None,
               rules: Any = None, plan: PlanFunction | None = None, city: str = "default",
               artifact_sha256: str | None = None,
               methodology: str | None = None, allowed_methodologies: tuple[str, ...] = (),
               pile_list: Any = None,
               pile_distance_m: float = DEFAULT_PILE_DISTANCE_M) -> AppState:
    """Derive the state from ``network``.

    ``points_rules`` names the rule set to load; ``rules`` (a loaded ``PointsRules``) and
    ``plan`` replace the loaded rules and the planner in tests of the HTTP edge.
    ``artifact_sha256`` (the served file's checksum) is shown in ``/v1/coverage``.
    ``methodology`` is the operator's (preset or path), ``allowed_methodologies`` those a
    request may name; each is loaded and checked usable here, so a bad one fails at start.
    ``pile_list`` is a CSV of public charging piles (default: the artifact's OSM stations).

    Raises
    ------
    ArtifactError
        If the network's manifest names a timezone that does not exist.
    MethodologyError, PileListError
        If a methodology or the pile list cannot be loaded or used.
    """
    chosen = load_methodology(methodology) if methodology else load_methodology()
    chosen.require_usable()
    allowed = {}
    for name in (*allowed_methodologies, chosen.label):
        loaded = chosen if name in (chosen.id, chosen.label) else load_methodology(name)
        loaded.require_usable()
        allowed.update({loaded.id: loaded, loaded.label: loaded, name: loaded})
    if network is None:
        return AppState(None, None, ZoneInfo("UTC"), None, plan, methodology=chosen,
                        methodologies=allowed, city=city)
    coverage = replace(coverage_of(network), artifact_sha256=artifact_sha256)
    tz = _timezone(coverage.timezone)
    rules = rules if rules is not None else _load_rules(points_rules)
    piles = load_pile_csv(pile_list) if isinstance(pile_list, (str, os.PathLike)) else pile_list
    return AppState(network, coverage, tz, rules,
                    _counted(plan or _planner_function(network, rules, chosen, piles,
                                                       pile_distance_m), city),
                    methodology=chosen, methodologies=allowed, city=city)


def app_state() -> AppState:
    """The state of the request's city (the default city outside a request)."""
    return current_app.extensions[EXTENSION_KEY].get(g.get(CITY_KEY) if has_app_context() else None)


def ready_state() -> AppState:
    """The state, or a 503 ``not_ready`` error when no network is loaded."""
    state = app_state()
    if state.network is None or state.plan is None:
        raise ApiError("not_ready", status=503)
    return state


def warm_up(state: AppState) -> None:
    """Plan one trip, map one reach and compile a baked GBFS snapshot so compiled code and the
    planner's caches exist before the first request (in the gunicorn master they are then inherited by every worker)."""
    if state.coverage is None or state.plan is None:
        return
    west, south, east, north = state.coverage.bbox
    lat, lon = (south + north) / 2, (west + east) / 2
    first = state.coverage.first_service_date
    options: dict[str, Any] = {
        "origin": (lat, lon), "destination": (lat + (north - south) / 8, lon + (east - west) / 8),
        "timezone": str(state.timezone)}
    options["when"] = (f"{first.isoformat()}T08:00" if first is not None
                       else datetime.now(state.timezone))
    planner = getattr(state.plan, "planner", None)
    if planner is not None:  # a baked GBFS snapshot, compiled now rather than on a request
        planner.share_system()
    try:
        state.plan(options)
    except Exception:  # noqa: BLE001 - any answer (even "no route") has compiled the code
        pass
    when = options["when"]
    with contextlib.suppress(Exception):  # reach maps: kernels, H3 cells of every node
        state.reach({"origin": (lat, lon), "minutes": 10, "timezone": str(state.timezone),
                     "when": datetime.fromisoformat(when) if isinstance(when, str) else when})


def _timezone(name: str) -> ZoneInfo:
    from graphs.errors import ArtifactError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ArtifactError(f"the network's timezone {name!r} is not an IANA timezone "
                            "(rebuild it with feeds whose agency_timezone is valid)") from err


def _load_rules(name_or_path: str | None) -> Any:
    return load_points_rules(name_or_path) if name_or_path else load_points_rules()


def _counted(plan: PlanFunction, city: str) -> PlanFunction:
    """``plan``, counting each answer in ``tanlu_plans{city, mode}``."""
    from .metrics import PLANS, main_mode

    def counted(options: dict[str, Any]) -> Any:
        result = plan(options)
        itineraries = getattr(result, "itineraries", ())
        if itineraries:
            PLANS.labels(city=city, mode=main_mode(itineraries[result.recommended])).inc()
        return result
    counted.planner = getattr(plan, "planner", None)  # type: ignore[attr-defined]
    return counted


def _planner_function(network: Network, rules: Any, methodology: Methodology,
                      piles: PileList | None, pile_distance_m: float) -> PlanFunction:
    # caches (CSR, KD-trees, day tables) built once, shared
    engine = Planner(network, piles=piles, pile_distance_m=pile_distance_m)

    def plan(options: dict[str, Any]) -> Any:
        options = dict(options)
        chosen = options.pop("methodology", None) or methodology
        if not isinstance(chosen, Methodology):  # a name must pass choose_methodology first
            raise ApiError("methodology_not_allowed", field="methodology",
                           value=str(chosen)[:40], allowed="")
        return engine.plan(make_query(**options), rules=rules, methodology=chosen)
    plan.planner = engine  # type: ignore[attr-defined]  # the realtime poller swaps its tables
    return plan
