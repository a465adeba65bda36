"""What the app holds between requests: the network, its coverage, points rules, the planner.

Built once by ``create_app`` (in the gunicorn master with ``preload_app``, so workers share the
arrays copy-on-write) and read-only afterwards.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

from graphs.network import Network
from planner import Planner, make_query
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


def make_state(network: Network | None, *, points_rules: str | None = None,
               rules: Any = None, plan: PlanFunction | None = None) -> AppState:
    """Derive the state from ``network``.

    ``points_rules`` names the rule set to load; ``rules`` (a loaded ``PointsRules``) and
    ``plan`` replace the loaded rules and the planner in tests of the HTTP edge.
    """
    if network is None:
        return AppState(None, None, ZoneInfo("UTC"), None, plan)
    coverage = coverage_of(network)
    try:
        tz = ZoneInfo(coverage.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    rules = rules if rules is not None else _load_rules(points_rules)
    return AppState(network, coverage, tz, rules, plan or _planner_function(network, rules))


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


def _planner_function(network: Network, rules: Any) -> PlanFunction:
    engine = Planner(network)  # caches (CSR, KD-trees, day tables) built once, shared

    def plan(options: dict[str, Any]) -> Any:
        return engine.plan(make_query(**options), rules=rules)
    return plan
