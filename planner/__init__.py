"""Query layer: snapping, street and transit search, Pareto plans, recommendation and points."""
from __future__ import annotations

from .accounting import LegAmount, LegsAccount, account_legs, claim_itinerary
from .engine import Planner, plan_trip
from .errors import NoRouteError, OutsideCoverageError, PlannerError, PointsRulesError, QueryError
from .model import Baseline, Itinerary, Leg, Place, Plan, PointsAward, Query
from .query import make_query
from .reach import Reach, ReachQuery, make_reach_query, reach_map

__all__ = [
    "Baseline", "Itinerary", "Leg", "LegAmount", "LegsAccount", "NoRouteError",
    "OutsideCoverageError", "Place", "Plan", "Planner", "PlannerError", "PointsAward",
    "PointsRulesError", "Query", "QueryError", "Reach", "ReachQuery", "account_legs",
    "claim_itinerary", "make_query", "make_reach_query", "plan_trip", "reach_map",
]
