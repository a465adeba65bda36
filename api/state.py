"""What the app holds between requests: the network, its coverage, points rules, the planner.

Built once by ``create_app`` (in the gunicorn master with ``preload_app``, so workers share the
arrays copy-on-write) and read-only afterwards.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

from graphs.network import Network
from planner import Planner, make_query
from planner.methodology import Methodology, load_methodology
from planner.piles import DEFAULT_PILE_DISTANCE_M, PileList, load_pile_csv
from planner.points import load_points_rules

from .coverage import Coverage, coverage_of
from .errors import ApiError

__all__ = ["AppState", "make_state", "app_state", "ready_state", "EXTENSION_KEY"]

EXTENSION_KEY = "tanlu"

#: plan(options) -> planner.model.Plan, where options are ``planner.make_query`` keywords.
PlanFunction = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class AppState:
    """The loaded network and everything derived from it once."""

    network: Network | None
    coverage: Coverage | None
    timezone: ZoneInfo
    points_rules: Any
    plan: PlanFunction | None
    cache: dict[str, Any] = field(default_factory=dict)  # documents computed once (OpenAPI)
    # the operator's methodology, and by name (id and label) those a request may choose
    methodology: Methodology | None = None
    methodologies: dict[str, Methodology] = field(default_factory=dict)

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


def make_state(network: Network | None, *, points_rules: str | None = None,
               rules: Any = None, plan: PlanFunction | None = None,
               methodology: str | None = None, allowed_methodologies: tuple[str, ...] = (),
               pile_list: Any = None,
               pile_distance_m: float = DEFAULT_PILE_DISTANCE_M) -> AppState:
    """Derive the state from ``network``.

    ``points_rules`` names the rule set to load; ``rules`` (a loaded ``PointsRules``) and
    ``plan`` replace the loaded rules and the planner in tests of the HTTP edge.
    ``methodology`` is the operator's (preset or path), ``allowed_methodologies`` those a
    request may name; each is loaded and checked usable here, so a bad one fails at start.
    ``pile_list`` is a CSV of public charging piles (default: the artifact's OSM stations).

    Raises
    ------
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
                        methodologies=allowed)
    coverage = coverage_of(network)
    try:
        tz = ZoneInfo(coverage.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    rules = rules if rules is not None else _load_rules(points_rules)
    piles = load_pile_csv(pile_list) if isinstance(pile_list, (str, os.PathLike)) else pile_list
    return AppState(network, coverage, tz, rules,
                    plan or _planner_function(network, rules, chosen, piles, pile_distance_m),
                    methodology=chosen, methodologies=allowed)


def app_state() -> AppState:
    """The state of the current app."""
    return current_app.extensions[EXTENSION_KEY]


def ready_state() -> AppState:
    """The state, or a 503 ``not_ready`` error when no network is loaded."""
    state = app_state()
    if state.network is None or state.plan is None:
        raise ApiError("not_ready", status=503)
    return state


def _load_rules(name_or_path: str | None) -> Any:
    return load_points_rules(name_or_path) if name_or_path else load_points_rules()


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
    return plan
