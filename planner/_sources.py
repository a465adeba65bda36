"""The points rules a plan is computed with: a rule set, a preset name or a TOML path."""
from __future__ import annotations

import os

from .points import DEFAULT_POINTS_RULES, PointsRules, load_points_rules

__all__ = ["points_rules_of"]


def points_rules_of(rules: PointsRules | str | os.PathLike | None) -> PointsRules:
    """``rules`` loaded: a rule set as is, a preset name or TOML path, or the default."""
    if isinstance(rules, PointsRules):
        return rules
    return load_points_rules(DEFAULT_POINTS_RULES if rules is None else rules)
