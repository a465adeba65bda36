"""The network's emission factor table and the points rules a plan is computed with."""
from __future__ import annotations

import os
from typing import Any

from graphs.factors import FactorTable, factor_table_from_dict

from .errors import PlannerError
from .points import DEFAULT_POINTS_RULES, PointsRules, load_points_rules

__all__ = ["factor_table_of", "points_rules_of"]


def factor_table_of(manifest: dict[str, Any]) -> FactorTable:
    """The emission factor table the network was built with (kept in its manifest).

    Raises
    ------
    PlannerError
        If the manifest holds no factor table.
    """
    data = manifest.get("factors")
    if data is None:
        raise PlannerError("network manifest has no 'factors' table; rebuild with `tanlu build`")
    return factor_table_from_dict(data)


def points_rules_of(rules: PointsRules | str | os.PathLike | None) -> PointsRules:
    """``rules`` loaded: a rule set as is, a preset name or TOML path, or the default."""
    if isinstance(rules, PointsRules):
        return rules
    return load_points_rules(DEFAULT_POINTS_RULES if rules is None else rules)
