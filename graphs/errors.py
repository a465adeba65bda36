"""Exceptions raised while building, saving and loading networks."""
from __future__ import annotations

__all__ = [
    "TanluError",
    "GraphsError",
    "InputFileError",
    "OsmError",
    "GtfsError",
    "FactorTableError",
    "ArtifactError",
    "ModeError",
    "CrsError",
    "LineTableError",
]


class TanluError(Exception):
    """Base class of every error tanlu raises on purpose."""


class GraphsError(TanluError):
    """Base class of the build layer's errors."""


class InputFileError(GraphsError, ValueError):
    """An input file is missing, unreadable or malformed.

    The message names the file and, where known, the row and the field.
    """

    def __init__(self, message: str, *, path: str | None = None, row: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.row = row
        self.field = field


class OsmError(InputFileError):
    """An OpenStreetMap file cannot be used (unreadable, no streets, ...)."""


class GtfsError(InputFileError):
    """A GTFS feed is malformed (not a zip, missing file or column, bad time, ...)."""


class FactorTableError(InputFileError):
    """An emission factor table is malformed or lacks a required value or its source."""


class ArtifactError(GraphsError, ValueError):
    """A network artifact is corrupt, truncated or of an unsupported format version."""


class ModeError(GraphsError, ValueError):
    """A mode word is not in the vocabulary of ``graphs.modes``.

    ``token`` is the word as given (``""`` for an empty list or name); ``allowed`` holds the
    canonical names (passed in by ``graphs.modes``, so this module does not import it), and the
    message lists them.
    """

    def __init__(self, token: object, allowed: tuple[str, ...]) -> None:
        self.token = token
        self.allowed = allowed
        what = "empty mode name" if token == "" else f"unknown mode {token!r}"
        super().__init__(f"{what}; modes must be among {', '.join(allowed)} "
                         f"(or a synonym, see docs/modes.md)")


class CrsError(GraphsError, ValueError):
    """A coordinate system name is unknown (the message quotes it and lists the allowed ones)."""

    def __init__(self, message: str, *, field: str | None = "crs") -> None:
        super().__init__(message)
        self.field = field


class LineTableError(InputFileError):
    """An operator line table or headway table is malformed (file, row and field named)."""
