"""Pareto filtering of itineraries and the fastest / lowest-carbon / recommended tags."""
from __future__ import annotations

from dataclasses import replace

from graphs.modes import MODES

from .model import Itinerary, Leg, Query

__all__ = ["elapsed_s", "time_budget_s", "pareto_front", "tag", "dominates", "covering_leg",
           "LATER_CO2E_REL", "LATER_CO2E_G", "TRANSFER_CO2E_REL", "TRANSFER_CO2E_G"]

_MODE_RANK = {name: i for i, name in enumerate(MODES)}  # ties: simpler, then walk before bike ...

#: A later option must be greener by 5 % + 10 g than every faster one to be shown, and by
#: 10 % + 25 g more per extra transfer (see ``pareto_front``).
LATER_CO2E_REL = 0.05
LATER_CO2E_G = 10.0
TRANSFER_CO2E_REL = 0.10
TRANSFER_CO2E_G = 25.0


def elapsed_s(itinerary: Itinerary, query: Query) -> float:
    """Time the traveller spends from the query time: until arrival (depart-at), or from
    departure until the requested arrival time (arrive-by). Waiting counts: a bus in 50 min
    is not a 10-min trip for someone leaving now."""
    if query.arrive_by:
        return (query.when - itinerary.departure).total_seconds()
    return (itinerary.arrival - query.when).total_seconds()


def _key(itinerary: Itinerary, query: Query) -> tuple[float, float, int]:
    return (round(elapsed_s(itinerary, query), 3), round(itinerary.co2e_g, 6),
            itinerary.transfers)


def dominates(a: Itinerary, b: Itinerary, query: Query) -> bool:
    """True if ``a`` is no worse than ``b`` in time, CO2e and transfers and better in one."""
    ka, kb = _key(a, query), _key(b, query)
    return all(x <= y for x, y in zip(ka, kb, strict=True)) and ka != kb


def _covers(a: tuple, b: tuple) -> bool:
    """``a`` dominates ``b``, where each extra transfer of ``b`` must save real CO2e."""
    extra = b[2] - a[2]
    if extra < 0 or a[0] > b[0]:
        return False
    if a == b:
        return True
    slack_rel = (LATER_CO2E_REL if a[0] < b[0] else 0.0) + TRANSFER_CO2E_REL * extra
    slack_g = (LATER_CO2E_G if a[0] < b[0] else 0.0) + TRANSFER_CO2E_G * extra
    return a[1] <= b[1] * (1.0 + slack_rel) + slack_g


def pareto_front(itineraries, query: Query) -> list[Itinerary]:
    """Non-dominated itineraries (one of each set of equal ones), fastest first.

    An option later than another is kept only if it is greener by more than 5 % + 10 g, plus
    ``d`` x (10 % + 25 g) when it has ``d`` more transfers: nobody changes buses twice or
    arrives 3 minutes later to save 5 g.
    The result contains no pair where one strictly dominates the other.
    """
    items = sorted(itineraries, key=lambda it: (_key(it, query), len(it.legs),
                                                [_MODE_RANK.get(m, 99) for m in it.modes]))
    front: list[Itinerary] = []
    keys: list[tuple] = []
    for it in items:
        key = _key(it, query)
        if any(_covers(k, key) for k in keys):
            continue
        keys.append(key)
        front.append(it)
    return front


def covering_leg(options: list[list[Leg]]) -> Leg | None:
    """The fastest single-leg option emitting at most ``LATER_CO2E_G``, or None.

    Options are street trips that leave at the query time (arrive at it, for arrive-by), so
    their elapsed time is their duration. Such an option covers every option that takes
    longer, whatever its CO2e and transfers (see ``_covers``): :func:`pareto_front` would drop
    it, so searches for other options may stop at this duration.
    """
    clean = [legs[0] for legs in options if len(legs) == 1 and legs[0].co2e_g <= LATER_CO2E_G]
    return min(clean, key=lambda leg: leg.duration_s, default=None)


def time_budget_s(fastest_s: float, query: Query) -> float:
    """The query's explicit budget, else max(factor x fastest, fastest + slack)."""
    if query.time_budget_s is not None:
        return float(query.time_budget_s)
    return max(query.budget_factor * fastest_s, fastest_s + query.budget_slack_s)


def tag(front: list[Itinerary], query: Query) -> tuple[list[Itinerary], int, int, int, float]:
    """Tag the front; returns (itineraries, recommended, fastest, lowest_carbon, budget_s).

    Recommended: the lowest-CO2e itinerary whose elapsed time is within the budget, ties to the
    faster. The fastest always fits its own budget, so there is always a recommendation.
    """
    times = [elapsed_s(it, query) for it in front]
    fastest = min(range(len(front)), key=lambda i: (times[i], front[i].co2e_g))
    lowest = min(range(len(front)), key=lambda i: (front[i].co2e_g, times[i]))
    budget = time_budget_s(times[fastest], query)
    within = [i for i in range(len(front)) if times[i] <= budget + 1e-6] or [fastest]
    recommended = min(within, key=lambda i: (front[i].co2e_g, times[i]))
    tagged = []
    for i, it in enumerate(front):
        tags = set()
        if i == fastest:
            tags.add("fastest")
        if i == lowest:
            tags.add("lowest_carbon")
        if i == recommended:
            tags.add("recommended")
        tagged.append(replace(it, tags=frozenset(tags)))
    return tagged, recommended, fastest, lowest, budget
