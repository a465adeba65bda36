"""Settings read from the environment (``TANLU_`` prefix): the only module that reads it."""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["sample_dir", "SAMPLE_DIR_VARIABLE"]

SAMPLE_DIR_VARIABLE = "TANLU_SAMPLE_DIR"


def sample_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """The folder holding sample cities: ``explicit`` if given, else ``$TANLU_SAMPLE_DIR``."""
    value = explicit or os.environ.get(SAMPLE_DIR_VARIABLE)
    return Path(value) if value else None
