"""Query layer: snapping, street and transit search, Pareto plans, recommendation and points."""
from __future__ import annotations

from .errors import NoRouteError, OutsideCoverageError, PlannerError, PointsRulesError, QueryError
from .model import Baseline, Itinerary, Leg, Place, Plan, PointsAward, Query

__all__ = [
    "Baseline", "Itinerary", "Leg", "NoRouteError", "OutsideCoverageError", "Place", "Plan",
    "PlannerError", "PointsAward", "PointsRulesError", "Query", "QueryError",
]
