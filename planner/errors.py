"""Exceptions raised while answering queries."""
from __future__ import annotations

from graphs.errors import TanluError

__all__ = ["PlannerError", "QueryError", "OutsideCoverageError", "NoRouteError", "PointsRulesError",
           "MethodologyError", "PileListError"]


class PlannerError(TanluError):
    """Base class of the planner's errors."""


class QueryError(PlannerError, ValueError):
    """A query option is invalid; ``field`` names it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class OutsideCoverageError(QueryError):
    """A point is farther than the snap distance from the network, or a date has no service."""


class NoRouteError(PlannerError, LookupError):
    """No itinerary satisfies the query's modes and limits."""


class PointsRulesError(PlannerError, ValueError):
    """A points rule set is malformed."""


class MethodologyError(PlannerError, ValueError):
    """A carbon-accounting methodology file is malformed or lacks what its formula needs."""


class PileListError(PlannerError, ValueError):
    """An operator's charging-pile list is malformed; the message names the row."""
