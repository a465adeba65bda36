"""Adapters to the factor table and points rules, which other modules own."""
from __future__ import annotations

from typing import Any

from .errors import PlannerError
from .model import Leg, PointsAward

__all__ = ["factor_table_of", "points_rules_of", "award", "rules_label"]

#: Rule set used when a plan is asked for without one.
DEFAULT_RULES = "default"


class _PlainFactorTable:
    """Minimal reader of ``manifest["factors"]`` for networks built before ``graphs.factors``."""

    def __init__(self, data: dict[str, Any], label: str) -> None:
        self.label = label
        values = data.get("factors", data)
        self._g = {k: float(v["g_per_pkm"] if isinstance(v, dict) else v)
                   for k, v in values.items() if isinstance(v, (dict, int, float))}

    def g_per_pkm(self, key: str) -> float:
        try:
            return self._g[key]
        except KeyError as err:
            raise PlannerError(f"factor table {self.label} has no factor for {key!r}") from err


def factor_table_of(manifest: dict[str, Any]):
    """The network's emission factor table (``FactorTable`` with ``g_per_pkm`` and ``label``)."""
    data = manifest.get("factors")
    if data is None:
        raise PlannerError("network manifest has no 'factors' table; rebuild with `tanlu build`")
    label = str(manifest.get("factor_table", data.get("label", "unknown")))
    try:
        from graphs.factors import factor_table_from_dict
    except ImportError:
        return _PlainFactorTable(data, label)
    return factor_table_from_dict(data)


def points_rules_of(rules: Any):
    """Load ``rules`` (None, a name, a path or an already loaded rule set)."""
    if rules is not None and not isinstance(rules, (str, bytes)) and not hasattr(rules, "__fspath__"):
        return rules
    try:
        from .points import load_points_rules
    except ImportError:
        return None
    return load_points_rules(DEFAULT_RULES if rules is None else rules)


def rules_label(rules: Any) -> str:
    """``"<id>@<version>"`` of a rule set (``"none"`` when points are unavailable)."""
    if rules is None:
        return "none"
    label = getattr(rules, "label", None)
    if label:
        return str(label)
    return f"{getattr(rules, 'id', 'rules')}@{getattr(rules, 'version', '?')}"


def award(legs: tuple[Leg, ...], baseline_co2e_g: float, rules: Any, *,
          charged_at_public_pile: bool = False) -> PointsAward:
    """Points for ``legs`` against the baseline under ``rules`` (see ``planner.points``)."""
    reduction = max(0.0, baseline_co2e_g - sum(leg.co2e_g for leg in legs))
    if rules is None:
        return PointsAward(points=0.0, reduction_g=reduction, rules_id="none", rule="none",
                           explanation="points rules unavailable")
    from .points import award_points
    return award_points(legs, baseline_co2e_g=baseline_co2e_g, rules=rules,
                        charged_at_public_pile=charged_at_public_pile)
