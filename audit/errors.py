"""Exceptions raised while auditing recorded trips."""
from __future__ import annotations

from graphs.errors import InputFileError, TanluError

__all__ = ["AuditError", "AuditInputError", "AuditConsistencyError"]


class AuditError(TanluError):
    """Base class of the audit's errors."""


class AuditInputError(AuditError, InputFileError):
    """The trips file cannot be audited as a whole (unreadable, missing a required column, ...).

    Bad *rows* never raise: they go to the errors output. ``path``, ``row`` and ``field`` say
    where, when known (the constructor is :class:`graphs.errors.InputFileError`'s).
    """


class AuditConsistencyError(AuditError, RuntimeError):
    """An internal invariant broke (rows lost or duplicated, a chunk from another input).

    Raised instead of writing results that would not account for every input row.
    """
