"""One recorded trip -> one row of planner facts (itinerary, emissions, baseline, points).

:class:`PlannerEvaluator` is the per-trip function the runner ships to workers: a small,
picklable object holding the artifact path and checksum; the network itself is loaded once per
worker process into a module-level cache keyed by (path, sha256), and checked against it.
It returns facts only; the plausibility rules live in ``audit.checks``.

A chunk goes through :meth:`PlannerEvaluator.evaluate_many`, which batches what its trips
share (one plan per distinct query, one snap per distinct point and layer, no street lines) and
gives the rows the per-trip path gives (``tests/test_audit_batch.py`` compares every column).
"""
from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from graphs.artifact import load_network
from graphs.errors import TanluError
from graphs.hashing import file_sha256
from graphs.modes import TRANSIT_MODES, parse_modes
from graphs.network import Network
from planner.accounting import claim_itinerary, claims_transit
from planner.errors import NoRouteError
from planner.methodology import DEFAULT_METHODOLOGY, load_methodology
from planner.points import DEFAULT_POINTS_RULES, apply_daily_cap, load_points_rules
from planner.snap import SnapCache

from .errors import AuditError
from .schema import ROW_COLUMN, claimed_access_modes, claimed_mode_to_query_modes

__all__ = [
    "DEFAULT_RULES", "EVALUATION_COLUMNS", "TripInput", "TripEvaluator", "PlannerEvaluator",
    "evaluate_chunk", "file_sha256", "cached_network", "cached_planner", "empty_evaluation",
]

#: Points rule set used when none is given (a name in ``planner/data`` or a TOML path).
DEFAULT_RULES = DEFAULT_POINTS_RULES
#: Columns of the per-trip planner facts and their dtypes (``row`` joins them to the input).
EVALUATION_COLUMNS: dict[str, str] = {
    ROW_COLUMN: "int64",
    "status": "str",               # "ok" | "no_route" | "error"
    "itinerary_modes": "str",      # leg modes of the chosen itinerary, "walk+bus+walk"
    "expected_distance_m": "float64",
    "expected_duration_s": "float64",  # fastest itinerary using the claimed modes
    "expected_arrival_s": "float64",   # recorded start -> that itinerary's arrival
    "transit_wait_s": "float64",   # recorded start -> first transit departure (transit claims)
    "co2e_g": "float64",
    "baseline_distance_m": "float64",
    "baseline_co2e_g": "float64",
    "baseline_method": "str",
    "reduction_g": "float64",
    "points_raw": "float64",       # points of the chosen itinerary before the daily cap
    "error_field": "str",
    "error_reason": "str",
}
#: Input columns the per-trip function needs (shipped to workers; nothing else is).
TRIP_INPUT_COLUMNS = (ROW_COLUMN, "started_at", "ended_at", "origin_lat", "origin_lon",
                      "dest_lat", "dest_lon", "claimed_mode", "charged_at_public_pile")


class TripInput(NamedTuple):
    """What the per-trip function sees of one valid row."""

    row: int
    started_at: pd.Timestamp
    ended_at: pd.Timestamp
    origin_lat: float
    origin_lon: float
    dest_lat: float
    dest_lon: float
    claimed_mode: str
    charged_at_public_pile: bool = False


#: A per-trip function: a picklable callable returning a subset of :data:`EVALUATION_COLUMNS`.
TripEvaluator = Callable[[TripInput], dict[str, Any]]


def evaluate_chunk(trips: pd.DataFrame, evaluator: TripEvaluator) -> pd.DataFrame:
    """Run ``evaluator`` on every row of ``trips``; one output row per input row, same order.

    An evaluator with ``evaluate_many(trips)`` gets the whole chunk at once (it may batch what
    the trips share); else it is called per trip. A trip the evaluator cannot handle (a tanlu
    error, or an unexpected exception) becomes a ``status="error"`` row with the reason, so one
    bad trip never stops a run.
    """
    inputs = [TripInput(*trip) for trip in
              trips[list(TRIP_INPUT_COLUMNS)].itertuples(index=False, name=None)]
    many = getattr(evaluator, "evaluate_many", None)
    if many is not None:
        found = many(inputs)
    else:
        found = [evaluate_guarded(evaluator, trip) for trip in inputs]
    records = []
    for trip, record in zip(inputs, found, strict=True):
        record = dict(record)
        record[ROW_COLUMN] = trip.row
        records.append(record)
    return _evaluation_frame(records)


def evaluate_guarded(evaluator: TripEvaluator, trip: TripInput) -> dict[str, Any]:
    """``evaluator(trip)``, with a tanlu error or an unexpected exception as an error record."""
    try:
        return dict(evaluator(trip))
    except TanluError as err:
        return {"status": "error", "error_field": getattr(err, "field", None) or "*",
                "error_reason": str(err)}
    except Exception as err:  # noqa: BLE001 - recorded per trip, counted in the summary
        return {"status": "error", "error_field": "*",
                "error_reason": f"internal error: {type(err).__name__}: {err}"}


def empty_evaluation() -> pd.DataFrame:
    """A zero-row frame with the evaluation columns and dtypes."""
    return _evaluation_frame([])


def _evaluation_frame(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(records), columns=list(EVALUATION_COLUMNS))
    for name, dtype in EVALUATION_COLUMNS.items():
        if dtype == "str":
            frame[name] = frame[name].astype("object").where(frame[name].notna(), None).astype("str")
        else:
            frame[name] = frame[name].astype(dtype)
    return frame


_NETWORKS: dict[tuple[str, str], Network] = {}
_PLANNERS: dict[tuple[str, str], Any] = {}
_NETWORKS_LOCK = threading.Lock()


def cached_planner(path: str | os.PathLike, sha256: str):
    """A ``planner.Planner`` on :func:`cached_network`, built once per process."""
    from planner import Planner

    found = _PLANNERS.get((str(path), sha256))  # per-trip fast path: no filesystem call
    if found is not None:
        return found
    key = (str(Path(path).resolve()), sha256)
    network = cached_network(path, sha256)
    with _NETWORKS_LOCK:
        if key not in _PLANNERS:
            _PLANNERS[key] = Planner(network)
        _PLANNERS[(str(path), sha256)] = _PLANNERS[key]
        return _PLANNERS[key]


def cached_network(path: str | os.PathLike, sha256: str) -> Network:
    """The network at ``path``, loaded once per process and checked against ``sha256``.

    Raises
    ------
    AuditError
        If the file on this worker differs from the one the audit was started with.
    """
    key = (str(Path(path).resolve()), sha256)
    with _NETWORKS_LOCK:
        if key not in _NETWORKS:
            actual = file_sha256(path)
            if actual != sha256:
                raise AuditError(f"{path}: network artifact differs on this worker "
                                 f"(sha256 {actual[:12]}, expected {sha256[:12]})")
            _NETWORKS[key] = load_network(path)
        return _NETWORKS[key]


@dataclass(frozen=True)
class PlannerEvaluator:
    """Per-trip function backed by ``planner.Planner`` on one network artifact.

    The chosen itinerary is ``planner.accounting.claim_itinerary`` of the plan (the rule
    ``POST /v1/points`` uses too); its points are the planner's award, the trip's
    ``charged_at_public_pile`` passed in the query.
    """

    network_path: str
    network_sha256: str
    rules: str = DEFAULT_RULES
    query_options: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    methodology: str = DEFAULT_METHODOLOGY
    # archived GTFS-Realtime snapshots (feed name, FeedMessage bytes) applied before evaluating
    realtime: tuple[tuple[str, bytes], ...] = ()
    #: False: :meth:`evaluate_many` calls the per-trip path for every trip (the reference the
    #: batched path is tested and benchmarked against). Results are the same either way.
    batched: bool = True

    @classmethod
    def for_network(cls, network_path: str | os.PathLike, *, rules: str = DEFAULT_RULES,
                    methodology: str = DEFAULT_METHODOLOGY,
                    realtime: tuple[tuple[str, bytes], ...] = (), batched: bool = True,
                    **query_options: Any) -> PlannerEvaluator:
        """An evaluator for ``network_path`` (its checksum computed now); ``batched=False``
        evaluates a chunk trip by trip (the reference path).

        Raises
        ------
        MethodologyError
            If the methodology cannot be loaded or used as given (checked before any trip).
        """
        path = str(Path(network_path).resolve())
        _cached_methodology(str(methodology))
        return cls(path, file_sha256(path), str(rules), tuple(sorted(query_options.items())),
                   str(methodology), tuple(realtime), batched=bool(batched))

    @property
    def fingerprint(self) -> str:
        """Changes whenever the results could change: network, rules, methodology, options,
        realtime snapshots."""
        label = _cached_methodology(self.methodology).label
        feeds = [(name, hashlib.sha256(data).hexdigest()[:16]) for name, data in self.realtime]
        return (f"planner|{self.network_sha256}|{self.rules}|{label}|{self.query_options!r}"
                + (f"|realtime{feeds!r}" if feeds else ""))
    def _planner(self):
        if not self.realtime:
            return cached_planner(self.network_path, self.network_sha256)
        from planner import Planner
        from planner.realtime import RealtimeState, decode_feed

        key = (self.network_path, self.fingerprint)
        network = cached_network(self.network_path, self.network_sha256)
        with _NETWORKS_LOCK:
            if key not in _PLANNERS:
                engine = Planner(network)
                if engine.transit is not None:
                    engine.transit.realtime = RealtimeState(
                        engine.transit.timetable, engine.transit.tz,
                        feeds=tuple(decode_feed(name, data) for name, data in self.realtime))
                _PLANNERS[key] = engine
            return _PLANNERS[key]

    def warm_up(self) -> None:
        """Load the network, rules and methodology now (worker start), not on the first trip."""
        self._planner()
        _cached_rules(self.rules)
        _cached_methodology(self.methodology)

    def cap_daily(self, points_in_trip_order: list[float]) -> list[float]:
        """One user's points of one local day, in trip order, after the rules' daily cap."""
        return list(apply_daily_cap(points_in_trip_order, _cached_rules(self.rules)))

    def evaluate_many(self, trips: Sequence[TripInput]) -> list[dict[str, Any]]:
        """The records of ``trips`` (a chunk), in order, as ``self(trip)`` would give them.

        Batched: trips asking the same query (same start, ends, claim and pile flag) are
        planned once; every distinct point is snapped once per layer, all of them in one
        KD-tree query per layer; the plans skip street lines, which no audit column reads.
        """
        if not self.batched:
            return [evaluate_guarded(self, trip) for trip in trips]
        snaps = SnapCache()
        points = {(t.origin_lat, t.origin_lon) for t in trips} | {
            (t.dest_lat, t.dest_lon) for t in trips}
        points = {p for p in points if all(isinstance(v, float) and math.isfinite(v) for v in p)}
        if points:
            lat, lon = zip(*sorted(points), strict=True)
            snaps.prime(self._planner().snappers.values(), lat, lon)
        done: dict[tuple, dict[str, Any]] = {}
        records = []
        for trip in trips:
            key = _query_key(trip)
            if key not in done:
                done[key] = evaluate_guarded(
                    lambda t: self._evaluate(t, geometry=False, snap_cache=snaps), trip)
            records.append(dict(done[key]))
        return records

    def __call__(self, trip: TripInput) -> dict[str, Any]:
        return self._evaluate(trip)

    def _evaluate(self, trip: TripInput, *, geometry: bool = True,
                  snap_cache: SnapCache | None = None) -> dict[str, Any]:
        from planner import make_query
        from planner.errors import OutsideCoverageError

        engine = self._planner()
        parts = parse_modes(trip.claimed_mode)
        modes, transit_modes = claimed_mode_to_query_modes(parts)
        access = claimed_access_modes(parts)
        query = make_query(origin=(trip.origin_lat, trip.origin_lon),
                           destination=(trip.dest_lat, trip.dest_lon),
                           when=trip.started_at.to_pydatetime(), modes=modes - access,
                           transit_modes=transit_modes, access_modes=access,
                           charged_at_public_pile=trip.charged_at_public_pile,
                           **dict(self.query_options))
        try:
            plan = engine.plan(query, rules=_cached_rules(self.rules),
                               methodology=_cached_methodology(self.methodology),
                               geometry=geometry, snap_cache=snap_cache)
        except NoRouteError as err:
            return {"status": "no_route", "error_reason": str(err)}
        except OutsideCoverageError as err:
            if getattr(err, "field", None) == "date":  # transit only, date without service
                return {"status": "no_route", "error_reason": str(err)}
            renamed = {"origin": "origin_lat", "destination": "dest_lat"}
            field = renamed.get(err.field, err.field) if err.field else None
            return {"status": "error", "error_field": field or "*", "error_reason": str(err)}
        return _plan_facts(plan, parts, trip)


def _query_key(trip: TripInput) -> tuple:
    """What a trip's planner facts depend on: all of :class:`TripInput` but ``row`` and
    ``ended_at`` (the start's text keeps its offset, so equal instants in two zones differ)."""
    started = trip.started_at.isoformat() if isinstance(trip.started_at, pd.Timestamp) else (
        repr(trip.started_at))
    return (started, trip.origin_lat, trip.origin_lon, trip.dest_lat, trip.dest_lon,
            trip.claimed_mode, trip.charged_at_public_pile)


def _plan_facts(plan, parts: tuple[str, ...], trip: TripInput) -> dict[str, Any]:
    base = {"baseline_distance_m": plan.baseline.distance_m,
            "baseline_co2e_g": plan.baseline.co2e_g, "baseline_method": plan.baseline.method}
    try:
        chosen = claim_itinerary(plan, parts)
    except NoRouteError:
        return {"status": "no_route", **base}
    wait = math.nan
    # a "bike+transit" claim may be best met by the bike alone: then no vehicle to wait for
    first = next((leg for leg in chosen.legs if leg.mode in TRANSIT_MODES), None)
    if claims_transit(parts) and first is not None:
        wait = (first.departure - trip.started_at.to_pydatetime()).total_seconds()
    return {
        "status": "ok", **base,
        "itinerary_modes": "+".join(chosen.modes),
        "expected_distance_m": chosen.distance_m,
        "expected_duration_s": chosen.duration_s,
        "expected_arrival_s": (chosen.arrival - trip.started_at.to_pydatetime()).total_seconds(),
        "transit_wait_s": wait,
        "co2e_g": chosen.co2e_g,
        "reduction_g": chosen.reduction_g,
        "points_raw": chosen.points.points,
    }


_RULES: dict[str, Any] = {}
_METHODOLOGIES: dict[str, Any] = {}


def _cached_methodology(name: str):
    if name not in _METHODOLOGIES:
        loaded = load_methodology(name)
        loaded.require_usable()
        _METHODOLOGIES[name] = loaded
    return _METHODOLOGIES[name]



def _cached_rules(name: str):
    if name not in _RULES:
        _RULES[name] = load_points_rules(name)
    return _RULES[name]
