"""Batch audit of recorded trips: emissions, savings, points due and plausibility flags."""
from __future__ import annotations

from .checks import FLAG_CODES, apply_checks
from .errors import AuditConsistencyError, AuditError, AuditInputError
from .evaluate import EVALUATION_COLUMNS, PlannerEvaluator, TripInput, evaluate_chunk
from .runner import CHUNK_SIZE, RESULT_COLUMNS, AuditOutcome, audit_trips, run_audit
from .schema import ERROR_COLUMNS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, read_trips, validate_trips

__all__ = [
    "AuditConsistencyError", "AuditError", "AuditInputError", "AuditOutcome", "CHUNK_SIZE",
    "ERROR_COLUMNS", "EVALUATION_COLUMNS", "FLAG_CODES", "OPTIONAL_COLUMNS",
    "PlannerEvaluator", "REQUIRED_COLUMNS", "RESULT_COLUMNS", "TripInput", "apply_checks",
    "audit_trips", "evaluate_chunk", "read_trips", "run_audit", "validate_trips",
]
