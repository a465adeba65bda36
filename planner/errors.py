"""Exceptions raised while answering queries."""
from __future__ import annotations

from graphs.errors import TanluError

__all__ = ["CodedText", "PlannerError", "QueryError", "OutsideCoverageError", "NoRouteError",
           "PointsRulesError", "MethodologyError", "PileListError"]


class CodedText(str):
    """English text that also carries a message ``code`` and its ``params``, so that an edge
    (``api.i18n``) can say the same thing in another language without parsing the English.

    It is a ``str``: everything that stores or prints it sees the English text.
    """

    code: str | None
    params: dict

    def __new__(cls, text: str, code: str | None = None, **params) -> CodedText:
        obj = super().__new__(cls, text)
        obj.code = code
        obj.params = params
        return obj


class PlannerError(TanluError):
    """Base class of the planner's errors; ``code`` and ``params`` (optional) identify the
    message for translation (``api.i18n``)."""

    code: str | None = None
    params: dict = {}


class QueryError(PlannerError, ValueError):
    """A query option is invalid; ``field`` names it."""

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 params: dict | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.params = dict(params or {})


class OutsideCoverageError(QueryError):
    """A point is farther than the snap distance from the network, or a date has no service."""


class NoRouteError(PlannerError, LookupError):
    """No itinerary satisfies the query's modes and limits."""

    def __init__(self, message: str, *, code: str | None = None,
                 params: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.params = dict(params or {})


class PointsRulesError(PlannerError, ValueError):
    """A points rule set is malformed."""


class MethodologyError(PlannerError, ValueError):
    """A carbon-accounting methodology file is malformed or lacks what its formula needs."""


class PileListError(PlannerError, ValueError):
    """An operator's charging-pile list is malformed; the message names the row."""
