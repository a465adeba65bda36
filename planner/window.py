"""Departure windows: transit journeys for every departure in ``[when, when + window_s]``, the
window's Pareto front over (departure, arrival, CO2e, transfers) and its recommendation.

The search is range McRAPTOR (``raptor.mc_raptor_range``; Delling et al.'s rRAPTOR with
McRAPTOR bags): one run per departure that reaches a trip just in time at an access stop (the
trip's departure minus the access walk or bike ride), latest first, on bags kept across runs,
so the labels of a later departure prune those of earlier ones and each run touches only what
its departure improves. A journey found by a run at ``t`` leaves at ``t`` (or later, if it boards
another trip at that stop), so the runs together give the window's front over departure,
arrival, CO2e and transfers.

``window_journeys_by_passes`` is the earlier search, kept as the reference the tests and
``bench/bench_window.py`` compare with: a full McRAPTOR pass at the first departure not yet
covered ("jumping"): a pass at ``t`` returns the Pareto journeys for a traveller ready at
``t``; each departs at some ``d_i >= t``; any journey leaving in ``[t, min d_i]`` is dominated
by some ``J_i``, which also leaves no earlier, so the next pass starts at ``min d_i + 1 s``.
"""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from functools import partial

import numpy as np
from numba import njit

from . import raptor
from ._calendar import at_seconds
from .access import BikeAccess
from .model import Itinerary, Query
from .pareto import LATER_CO2E_G, LATER_CO2E_REL, TRANSFER_CO2E_G, TRANSFER_CO2E_REL, time_budget_s
from .transit import MAX_TRANSIT_DURATION_S, Journey, TransitRouter, _horizon_s, _Ride

__all__ = ["window_journeys", "window_journeys_by_passes", "window_front", "window_tag",
           "MAX_WINDOW_PASSES"]

#: ``window_journeys_by_passes`` stops after this many passes (a safety bound).
MAX_WINDOW_PASSES = 200
_NO_BOUND_S = 2**62


def window_journeys(router: TransitRouter, query: Query, access_m: np.ndarray,  # noqa: PLR0913
                    egress_m: np.ndarray, *, within_s: float | None = None,
                    bike: BikeAccess | None = None, street_g_per_pkm: float | None = None
                    ) -> tuple[list[tuple[Query, Journey]], int]:
    """Distinct transit journeys leaving within ``query.window_s`` of ``query.when``.

    Each comes with the query to rebuild its legs with (``query`` itself: the runs share its
    service day). ``within_s`` (if given) bounds a journey's own duration (door to door) the
    way ``window_journeys_by_passes`` does: arrival by the window's end plus ``within_s``.
    ``bike`` (own bike to parking stops) joins the access walk. With ``street_g_per_pkm`` 0
    (the walks and the bike emit nothing, so a journey's CO2e is its rides') journeys that
    another covers by ``window_front``'s rule are left out before their legs are built.
    Returns the journeys and the number of range runs made.
    """
    inputs = router.search_inputs(query, access_m, egress_m, bike=bike)
    if inputs is None:
        return [], 0
    day, search = inputs
    end_s = search.start_s + query.window_s
    last_destination_s = (_NO_BOUND_S if within_s is None or not math.isfinite(within_s)
                          else search.start_s + _horizon_s(query.window_s + within_s))
    runs, n, dest, co2e_g, chain = raptor.mc_raptor_range(
        day.kernel, search, math.floor(end_s), MAX_TRANSIT_DURATION_S, last_destination_s,
        raptor.workspace_for(day.kernel, search))
    seen: set[Journey] = set()
    found: list[tuple[tuple, Journey]] = []
    for i in range(int(n)):
        journey = router.unwind(day, dest[i], partial(_round_label, chain[i]))
        if journey in seen:
            continue
        seen.add(journey)
        leaves_s = _departure_s(journey, access_m, query.walk_speed_mps, bike)
        if leaves_s <= end_s:
            arrives_s = int(dest[i, raptor.F_ARR])
            found.append(((False, float(leaves_s), float(arrives_s), float(arrives_s - leaves_s),
                           float(co2e_g[i]), int(dest[i, raptor.D_ROUND]) - 1), journey))
    if street_g_per_pkm == 0.0:
        found = _kept(found)  # window_front's own pass over the same keys: it keeps these
    return [(query, journey) for _, journey in found], int(runs)


def _round_label(chain: np.ndarray, k: int, _stop: int, _slot: int) -> np.ndarray:
    """The label of round ``k`` of a journey's chain (``raptor.mc_raptor_range``)."""
    return chain[k]


def window_journeys_by_passes(router: TransitRouter, query: Query, access_m: np.ndarray,  # noqa: PLR0913
                              egress_m: np.ndarray, *, within_s: float | None = None,
                              bike: BikeAccess | None = None,
                              street_g_per_pkm: float | None = None  # noqa: ARG001
                              ) -> tuple[list[tuple[Query, Journey]], int]:
    """``window_journeys`` by repeated full McRAPTOR passes (the reference; see above; it
    takes ``street_g_per_pkm`` for the same call but builds every journey it finds).

    Each journey comes with the query of the pass that found it (its ``when`` is the pass
    start, used to rebuild its legs). Returns the journeys and the number of passes run.
    """
    end = query.when + timedelta(seconds=query.window_s)
    speed = query.walk_speed_mps
    seen: set[Journey] = set()
    out: list[tuple[Query, Journey]] = []
    start, passes = query.when, 0
    while start <= end and passes < MAX_WINDOW_PASSES:
        passes += 1
        at = replace(query, when=start, window_s=0.0)
        # a journey leaving at end and taking within_s arrives by (end - start) + within_s
        horizon = None if within_s is None else (end - start).total_seconds() + within_s
        found = router.journeys(at, access_m, egress_m, within_s=horizon, bike=bike)
        if not found:
            break
        service_date = start.astimezone(router.tz).date()
        departures = [at_seconds(service_date, _departure_s(j, access_m, speed, bike),
                                 router.tz) for j in found]
        for journey, leaves in zip(found, departures, strict=True):
            if journey not in seen and leaves <= end:
                seen.add(journey)
                out.append((at, journey))
        start = max(min(departures), start) + timedelta(seconds=1)
    return out, passes


def _departure_s(journey: Journey, access_m: np.ndarray, speed: float,
                 bike: BikeAccess | None = None) -> int:
    """Seconds of the service day at which the journey's access (walk or bike) starts."""
    ride = next(step for step in journey.steps if isinstance(step, _Ride))
    board_s = ride.departure_s  # the day table's: the feed's expected time under realtime
    walk_m = float(access_m[journey.first_stop])
    walk_s = int(np.ceil(walk_m / speed)) if walk_m >= 0 else -1
    if bike is not None and bike.faster_than(journey.first_stop, walk_s):
        return board_s - int(bike.seconds[journey.first_stop])
    return board_s - walk_s


def _key(itinerary: Itinerary) -> tuple[bool, float, float, float, float, int]:
    """(street only, departure, arrival, duration, CO2e, transfers); a street-only itinerary
    may leave at any time of the window, so only its duration counts."""
    flexible = all(leg.trip_id is None for leg in itinerary.legs)
    return (flexible, itinerary.departure.timestamp(), itinerary.arrival.timestamp(),
            round(itinerary.duration_s, 3), itinerary.co2e_g, itinerary.transfers)


@njit(cache=True, inline="always")
def _covers(a, b) -> bool:
    """Key ``a`` is at least as good as ``b`` for anyone who could take ``b``: it leaves no
    earlier and arrives no later (a street trip: takes no longer), with ``pareto_front``'s CO2e
    rule (a slower option must be greener by a margin, more per extra transfer). Keys are rows
    of ``_key``'s six numbers (street only as 0/1)."""
    extra = b[5] - a[5]
    if extra < 0 or a[0] != b[0]:
        return False
    if a[0]:
        if a[3] > b[3]:
            return False
        faster = a[3] < b[3]
    else:
        if a[1] < b[1] - 1e-3 or a[2] > b[2] + 1e-3:
            return False
        faster = a[1] > b[1] + 1e-3 or a[2] < b[2] - 1e-3
    slack_rel = (LATER_CO2E_REL if faster else 0.0) + TRANSFER_CO2E_REL * extra
    slack_g = (LATER_CO2E_G if faster else 0.0) + TRANSFER_CO2E_G * extra
    return a[4] <= b[4] * (1.0 + slack_rel) + slack_g


def window_front(itineraries, query: Query) -> list[Itinerary]:
    """Itineraries whose key no other covers (see ``_covers``), by departure then arrival.

    Candidates are visited shortest first, then greenest, so a cover is always an earlier
    visit; of equal ones the first is kept.
    """
    kept = _kept([(_key(it), it) for it in itineraries])
    return sorted((it for _, it in kept), key=lambda it: (it.departure, it.arrival, it.co2e_g))


def _kept(keyed: list) -> list:
    """The ``(key, item)`` pairs whose key no kept one covers (``_covers``), visited shortest
    first, then greenest."""
    keyed = sorted(keyed, key=lambda ki: (ki[0][3], round(ki[0][4], 6), ki[0][5], -ki[0][1]))
    if not keyed:
        return []
    keep = _kept_mask(np.array([key for key, _ in keyed], np.float64))
    return [ki for ki, k in zip(keyed, keep.tolist(), strict=True) if k]


@njit(cache=True)
def _kept_mask(keys: np.ndarray) -> np.ndarray:
    """``_kept``'s greedy pass over keys already in visiting order (hundreds per window, each
    tested against every kept one)."""
    keep = np.zeros(keys.shape[0], np.bool_)
    kept = np.empty(keys.shape[0], np.int64)
    n = 0
    for i in range(keys.shape[0]):
        covered = False
        for j in range(n):
            if _covers(keys[kept[j]], keys[i]):
                covered = True
                break
        if not covered:
            keep[i] = True
            kept[n] = i
            n += 1
    return keep


def window_tag(front: list[Itinerary], query: Query
               ) -> tuple[list[Itinerary], int, int, int, float]:
    """Like ``pareto.tag`` with each itinerary's time counted from its own departure.

    Fastest: shortest door to door; recommended: the lowest CO2e whose duration fits the
    budget (``time_budget_s`` of the fastest), ties to the shorter, then the earlier.
    """
    times = [it.duration_s for it in front]
    order = range(len(front))
    fastest = min(order, key=lambda i: (times[i], front[i].co2e_g, front[i].departure))
    lowest = min(order, key=lambda i: (front[i].co2e_g, times[i], front[i].departure))
    budget = time_budget_s(times[fastest], query)
    within = [i for i in order if times[i] <= budget + 1e-6] or [fastest]
    recommended = min(within, key=lambda i: (front[i].co2e_g, times[i], front[i].departure))
    tagged = []
    for i, it in enumerate(front):
        tags = {name for name, j in (("fastest", fastest), ("lowest_carbon", lowest),
                                     ("recommended", recommended)) if i == j}
        tagged.append(replace(it, tags=frozenset(tags)))
    return tagged, recommended, fastest, lowest, budget
