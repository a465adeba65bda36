"""Audit on evidence: each trip's GPS trace and card taps matched, its legs recounted, flags with reasons.

For every audited trip with a trace (``--traces``): clean the fixes (:mod:`audit.traces`), find
rides on timetable trips (:class:`audit.match.TransitMatcher`), cut the rest into street legs
and name their modes (:mod:`audit.segment`), measure street legs on the street layer
(:class:`audit.match.StreetMatcher`), then recount CO2e and points of the *matched* legs with
``planner.account_legs`` (against the plan's car baseline for the same trip). A trip without a
trace but with taps (``--taps``) is matched tap by tap to timetable trips; a trip with
neither is audited as before (``evidence = "none"``).

Flags (codes in :data:`EVIDENCE_FLAG_CODES`, thresholds module constants, docs/audit.md):
``mode_contradicted``, ``teleport``, ``trace_gap``, ``outside_claimed_times``, ``spoofing``,
``no_timetable_match``, ``no_tap``, ``tap_contradicts_trace``.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from graphs.modes import MODES, TRANSIT, TRANSIT_MODES, parse_modes
from planner.accounting import account_legs, claims_transit

from ._pool import worker_pool
from .evaluate import _cached_rules, cached_planner
from .match import TAP_WINDOW_S, StreetMatcher, TransitMatcher
from .segment import (
    MAX_GAP_S,
    TELEPORT_MIN_M,
    TELEPORT_MPS,
    TraceSigns,
    kinematics,
    street_segments,
    to_local_xy,
    trace_signs,
)
from .traces import read_points, validate_taps, validate_traces

__all__ = [
    "CLAIM_TIME_SLACK_S",
    "EVIDENCE_CHUNK",
    "EVIDENCE_COLUMNS",
    "EVIDENCE_FLAG_CODES",
    "EVIDENCE_FLAG_DESCRIPTIONS",
    "MIN_CLAIM_COVERAGE",
    "MIN_CLAIMED_SHARE",
    "MIN_CONTRADICTING_M",
    "MIN_FIXES",
    "MIN_SPOOFING_SIGNS",
    "TAP_LOOKBACK_S",
    "TAP_STOP_RADIUS_M",
    "EvidenceAuditor",
    "EvidenceSpec",
    "MatchedLeg",
    "TripEvidence",
    "evidence_chunk",
]

#: A trace with fewer usable fixes is no evidence (the trip is audited as without one).
MIN_FIXES = 5
#: A matched leg at least this long (m) on a mode the claim does not name contradicts it.
MIN_CONTRADICTING_M = 300.0
#: A street claim (bike, car...) must cover at least this share of the matched distance.
MIN_CLAIMED_SHARE = 0.5
#: The trace may start/end this much (s) outside the claimed times ...
CLAIM_TIME_SLACK_S = 120.0
#: ... and must overlap at least this share of the claimed duration.
MIN_CLAIM_COVERAGE = 0.5
#: Spoofing is flagged when at least this many of the three signs show.
MIN_SPOOFING_SIGNS = 2
#: Taps this long (s) before the claimed start still belong to the trip (station gates).
TAP_LOOKBACK_S = 900.0
#: A tap's stop within this distance (m) of a ride's boarding stop is a tap for that ride.
TAP_STOP_RADIUS_M = 300.0
EVIDENCE_FLAG_CODES = ("mode_contradicted", "teleport", "trace_gap", "outside_claimed_times",
                       "spoofing", "no_timetable_match", "no_tap", "tap_contradicts_trace")
EVIDENCE_FLAG_DESCRIPTIONS = {
    "mode_contradicted": "The trace shows a leg on a mode the claim does not name (a bus ride "
                         "on a bike claim), or too little on the claimed mode.",
    "teleport": f"The trace jumps: two fixes over {TELEPORT_MIN_M:.0f} m apart at over "
                f"{TELEPORT_MPS * 3.6:.0f} km/h.",
    "trace_gap": f"No fix for more than {MAX_GAP_S / 60:.0f} minutes.",
    "outside_claimed_times": "The trace lies outside the claimed start and end.",
    "spoofing": "Signs of a fabricated trace: perfectly regular sampling, constant speed, "
                "no GPS noise (two or more).",
    "no_timetable_match": "A transit claim whose trace (or taps) matches no timetable trip "
                          "(a card tap where the trace was, matching a trip, counts).",
    "no_tap": "A ride the trace matched, or a transit claim, without a card tap for it.",
    "tap_contradicts_trace": "A card tap during the trip at a stop the trace never came near, "
                             "that none of the trace's rides boarded at.",
}
#: Columns the evidence adds to the results (after the audit columns).
EVIDENCE_COLUMNS = ("evidence", "trace_fixes", "matched_modes", "matched_legs",
                    "matched_distance_m", "matched_co2e_g", "matched_reduction_g",
                    "matched_points", "match_confidence", "evidence_flags", "evidence_reasons",
                    "evidence_geometry")
_LAYER_OF = {name: mode.layer for name, mode in MODES.items()}
_MAP_POINTS = 80


@dataclass(frozen=True)
class MatchedLeg:
    """One leg as the evidence shows it."""

    mode: str
    start: str                 # ISO 8601, network timezone
    end: str
    distance_m: float
    confidence: float
    source: str                # "timetable" | "streets" | "trace" | "tap"
    route_id: str = ""
    route: str = ""            # short name
    trip_id: str = ""
    board_stop: str = ""
    alight_stop: str = ""


@dataclass(frozen=True)
class TripEvidence:
    """The evidence of one trip and what it says."""

    evidence: str              # "trace" | "taps" | "none"
    fixes: int
    legs: tuple[MatchedLeg, ...]
    flags: tuple[tuple[str, str], ...]   # (code, reason)
    geometry: dict[str, Any]


@dataclass(frozen=True)
class EvidenceSpec:
    """The picklable identity of an :class:`EvidenceAuditor`, shipped to workers."""

    network_path: str
    network_sha256: str
    rules: str


class EvidenceAuditor:
    """Per-network evidence matcher: planner caches, timetable and street matchers, built once."""

    def __init__(self, network_path: str, network_sha256: str, *, rules: str,
                 traces_path=None, taps_path=None, crs: str = "wgs84") -> None:
        self.network_path = str(network_path)
        self.network_sha256 = network_sha256
        self.rules = rules
        self.traces_path = traces_path
        self.taps_path = taps_path
        self.crs = crs
        self._planner: Any = None
        self.transit: TransitMatcher | None = None
        self._street: dict[str, StreetMatcher] = {}
        self._raw: dict[str, pd.DataFrame] = {}

    def read_inputs(self) -> None:
        """Read the traces and taps files now, so a bad file stops the run before any planning.

        Raises
        ------
        AuditInputError
            If a file is missing, unreadable or lacks a required column.
        """
        if self.traces_path is not None and "traces" not in self._raw:
            self._raw["traces"] = read_points(self.traces_path)
        if self.taps_path is not None and "taps" not in self._raw:
            self._raw["taps"] = read_points(self.taps_path, required=("card_id", "time"),
                                            label="taps")

    @property
    def fingerprint(self) -> str:
        return f"evidence|{self.traces_path}|{self.taps_path}|{self.crs}"

    @property
    def planner(self) -> Any:
        """The ``planner.Planner`` of the network (cached per process); sets :attr:`transit`."""
        if self._planner is None:
            planner = cached_planner(self.network_path, self.network_sha256)
            tt = planner.network.timetable
            self.transit = TransitMatcher(planner) if tt is not None else None
            self._planner = planner
        return self._planner

    def warm_up(self) -> None:
        """Load the network, build the street matchers and load the compiled kernel now."""
        for layer in self.planner.network.streets:
            matcher = self.street_matcher(layer)
            if matcher is not None:
                matcher.match(matcher.layer.node_lat[:3], matcher.layer.node_lon[:3])

    def street_matcher(self, layer: str) -> StreetMatcher | None:
        if layer not in self._street and layer in self.planner.network.streets:
            self._street[layer] = StreetMatcher(self.planner.network.streets[layer])
        return self._street.get(layer)

    # -- the pass over results -------------------------------------------------------------
    @property
    def spec(self) -> EvidenceSpec:
        """What a worker needs to rebuild this auditor (network and rules, no evidence)."""
        return EvidenceSpec(self.network_path, self.network_sha256, self.rules)

    def apply(self, results: pd.DataFrame, errors: pd.DataFrame, *, timezone: str,
              workers: int | None = 1, client=None,
              scheduler: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
        """Results with :data:`EVIDENCE_COLUMNS` and evidence flags merged into ``flags``;
        errors with the rejected trace and tap rows appended; intake counts.

        Intake runs here; matching runs in chunks of :data:`EVIDENCE_CHUNK` trips on local
        processes (``workers``, ``None`` = every core) or a Dask ``client``/``scheduler``,
        as the planner chunks do. Small inputs (fewer than two chunks) stay in this process.
        """
        planner = self.planner
        self.read_inputs()
        valid = {str(t): True for t in results["trip_id"].astype(str)}
        for t in errors["trip_id"].dropna().astype(str):
            valid.setdefault(t, False)
        extra_errors: list[pd.DataFrame] = []
        stats: dict[str, int] = {}
        fixes_by_trip: dict[str, pd.DataFrame] = {}
        if self.traces_path is not None:
            traces = validate_traces(self._raw["traces"], timezone=timezone,
                                     trip_ids=valid, crs=self.crs)
            extra_errors.append(traces.errors)
            stats.update(trace_rows=traces.n_rows, trace_errors=len(traces.errors),
                         dropped_duplicates=traces.dropped_duplicates,
                         dropped_inaccurate=traces.dropped_inaccurate)
            fixes_by_trip = {t: g for t, g in traces.points.groupby("trip_id", sort=False)}
        taps = None
        if self.taps_path is not None:
            tt = planner.network.timetable
            tapped = validate_taps(self._raw["taps"], timezone=timezone,
                                   stop_ids=set(map(str, tt.stop_id)) if tt is not None else set(),
                                   route_ids=set(map(str, tt.route_id)) if tt is not None else set())
            extra_errors.append(tapped.errors)
            stats.update(tap_rows=tapped.n_rows, tap_errors=len(tapped.errors))
            taps = {c: _Taps.of(g) for c, g in tapped.points.groupby("card_id", sort=False)}
        records = _run_chunks(self.spec, results, fixes_by_trip, taps, workers=workers,
                              client=client, scheduler=scheduler)
        out = _with_evidence(results, records, self)
        if extra_errors:
            errors = pd.concat([errors, *extra_errors], ignore_index=True)
        return out, errors, stats

    def trip(self, row, fixes: pd.DataFrame | None, taps: dict | None) -> tuple[TripEvidence, Any]:
        """Evidence of one results row (a namedtuple of the results columns)."""
        claimed = parse_modes(row.claimed_mode)
        card = str(getattr(row, "card_id", None) or row.user_id)
        card_taps = taps.get(card) if taps is not None else None
        if card_taps is not None:
            card_taps = card_taps.between(row.started_at.timestamp() - TAP_LOOKBACK_S,
                                          row.ended_at.timestamp())
        if fixes is not None and len(fixes) >= MIN_FIXES:
            evidence = self._trace(row, fixes, claimed, card_taps, taps is not None)
        elif card_taps is not None and len(card_taps):
            evidence = self._taps_only(row, card_taps, claimed)
        else:
            flags = []
            if taps is not None and claims_transit(claimed):
                flags.append(("no_tap", "no card tap of card " + card + " during the claimed trip"))
            evidence = TripEvidence("none", 0 if fixes is None else len(fixes), (),
                                    tuple(flags), {})
        return evidence, self._account(row, evidence)

    # -- a trace -------------------------------------------------------------------------
    def _trace(self, row, fixes, claimed, card_taps, have_taps: bool) -> TripEvidence:
        t_epoch = fixes["epoch_s"].to_numpy()
        k = kinematics(t_epoch, fixes["lat"].to_numpy(), fixes["lon"].to_numpy())
        signs = trace_signs(k)
        tz = self.planner.tz
        service_date = pd.Timestamp(k.t[0], unit="s", tz="UTC").tz_convert(tz).date()
        rides = []
        day0 = 0.0
        if self.transit is not None and self.transit.covers(service_date):
            day0 = self.transit.day_zero(service_date)
            tapped = frozenset(card_taps.route_id) if card_taps is not None else frozenset()
            rides = self.transit.rides(k, k.t - day0, service_date, tapped_routes=tapped)
        legs = self._legs(k, rides, day0, claimed, tz)
        tapped_ride = (not rides and card_taps is not None and claims_transit(claimed)
                       and self._tap_where_trace_was(k, card_taps, day0, service_date))
        flags = list(_trace_flags(row, k, signs, claimed, legs, tapped_ride=tapped_ride))
        if have_taps:
            flags += _tap_flags(row, k, rides, day0, card_taps, transit=self.transit,
                                claimed=claimed)
        geometry = {"trace": _thin_lonlat(k.lon, k.lat),
                    "rides": [{"mode": r.mode, "route": r.route_short_name or r.route_id,
                               "coords": _thin_coords(r.geometry)} for r in rides],
                    "origin": [row.origin_lon, row.origin_lat],
                    "dest": [row.dest_lon, row.dest_lat]}
        return TripEvidence("trace", len(fixes), tuple(legs), tuple(flags), geometry)

    def _tap_where_trace_was(self, k, taps: _Taps, day0: float, service_date) -> bool:
        """A tap at a stop the trace passed that matches a timetable trip (a ride too short
        to match on the trace alone still has its evidence)."""
        transit = self.transit
        if transit is None:
            return False
        for epoch, stop_id, route_id in zip(taps.epoch_s, taps.stop_id, taps.route_id,
                                            strict=True):
            if stop_id and _trace_was_at(k, transit, stop_id, epoch) and \
                    transit.match_tap(stop_id, route_id, epoch - day0, service_date):
                return True
        return False

    def _legs(self, k, rides, day0, claimed, tz) -> list[MatchedLeg]:
        legs: list[MatchedLeg] = []
        t_day = k.t - day0
        cursor = 0
        for ride in rides + [None]:
            end = (int(np.searchsorted(t_day, ride.board_s, side="left")) - 1 if ride
                   else len(k) - 1)
            for seg in street_segments(k, cursor, end, claimed=claimed):
                legs.append(self._street_leg(k, seg, tz))
            if ride is None:
                break
            legs.append(MatchedLeg(mode=ride.mode, start=_iso(day0 + ride.board_s, tz),
                                   end=_iso(day0 + ride.alight_s, tz),
                                   distance_m=round(ride.distance_m, 1),
                                   confidence=ride.confidence, source="timetable",
                                   route_id=ride.route_id, route=ride.route_short_name,
                                   trip_id=ride.trip_id, board_stop=ride.board_stop,
                                   alight_stop=ride.alight_stop))
            cursor = int(np.searchsorted(t_day, ride.alight_s, side="right"))
        return legs

    def _street_leg(self, k, seg, tz) -> MatchedLeg:
        first, last = seg.first, seg.last
        matcher = self.street_matcher(_LAYER_OF.get(seg.mode) or "walk")
        distance, confidence, source = 0.0, 0.0, "trace"
        if last > first and matcher is not None:
            distance, confidence = matcher.match(k.lat[first:last + 1], k.lon[first:last + 1])
            source = "streets"
        return MatchedLeg(mode=seg.mode, start=_iso(k.t[first], tz), end=_iso(k.t[last], tz),
                          distance_m=round(float(distance), 1), confidence=round(confidence, 3),
                          source=source)

    # -- taps without a trace ------------------------------------------------------------
    def _taps_only(self, row, card_taps, claimed) -> TripEvidence:
        legs: list[MatchedLeg] = []
        flags: list[tuple[str, str]] = []
        tz = self.planner.tz
        transit = self.transit
        for epoch, stop_id, route_id in zip(card_taps.epoch_s, card_taps.stop_id,
                                            card_taps.route_id, strict=True):
            if transit is None:
                break
            service_date = pd.Timestamp(epoch, unit="s", tz="UTC").tz_convert(tz).date()
            day0 = transit.day_zero(service_date)
            match = transit.match_tap(stop_id, route_id, epoch - day0, service_date)
            if match is None:
                continue
            legs.append(MatchedLeg(mode=match.mode, start=_iso(day0 + match.departure_s, tz),
                                   end="", distance_m=math.nan, confidence=0.5, source="tap",
                                   route_id=match.route_id, trip_id=match.trip_id,
                                   board_stop=match.stop_id))
        if claims_transit(claimed) and not legs:
            flags.append(("no_timetable_match", f"{len(card_taps)} card tap(s) during the trip "
                          "match no timetable trip"))
        flags += _contradicted_modes(claimed, legs, require_claimed=False)
        return TripEvidence("taps", 0, tuple(legs), tuple(flags), {})

    # -- accounting ----------------------------------------------------------------------
    def _account(self, row, evidence: TripEvidence):
        legs = [(leg.mode, leg.distance_m) for leg in evidence.legs]
        if evidence.evidence != "trace" or not legs or any(math.isnan(d) for _, d in legs):
            return None
        baseline = float(row.baseline_co2e_g) if np.isfinite(row.baseline_co2e_g) else None
        planner = self.planner
        return account_legs(legs, factors=planner.factors, rules=_cached_rules(self.rules),
                            factor_table=str(planner.factors.label), baseline_co2e_g=baseline,
                            charged_at_public_pile=bool(row.charged_at_public_pile))


#: Trips per unit of parallel evidence work.
EVIDENCE_CHUNK = 250
_AUDITORS: dict[EvidenceSpec, EvidenceAuditor] = {}


def evidence_chunk(spec: EvidenceSpec, rows: pd.DataFrame, fixes: pd.DataFrame | None,
                   taps: pd.DataFrame | None) -> list:
    """Evidence of ``rows`` (results rows) from their ``fixes`` and their cards' ``taps``.

    Runs on workers; the auditor (network, matchers) is built once per process.
    """
    if spec not in _AUDITORS:
        _AUDITORS[spec] = EvidenceAuditor(spec.network_path, spec.network_sha256,
                                          rules=spec.rules)
    auditor = _AUDITORS[spec]
    by_trip = ({t: g for t, g in fixes.groupby("trip_id", sort=False)}
               if fixes is not None else {})
    by_card = ({c: _Taps.of(g) for c, g in taps.groupby("card_id", sort=False)}
               if taps is not None else None)
    return [auditor.trip(row, by_trip.get(str(row.trip_id)), by_card)
            for row in rows.itertuples(index=False)]


def _run_chunks(spec, results, fixes_by_trip, taps, *, workers, client, scheduler) -> list:
    payloads = []
    for first in range(0, len(results), EVIDENCE_CHUNK):
        rows = results.iloc[first:first + EVIDENCE_CHUNK]
        fixes = [fixes_by_trip[t] for t in rows["trip_id"].astype(str).unique()
                 if t in fixes_by_trip]
        cards = (rows["card_id"] if "card_id" in rows.columns else rows["user_id"]).astype(str)
        tapped = ([_taps_frame(c, taps[c]) for c in cards.unique() if c in taps]
                  if taps is not None else None)
        payloads.append((rows, pd.concat(fixes) if fixes else None,
                         (pd.concat(tapped) if tapped else _taps_frame("", _Taps.empty()))
                         if tapped is not None else None))
    if client is not None or scheduler:
        return _run_on_dask(spec, payloads, client, scheduler)
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(payloads) < 2:
        return [record for payload in payloads for record in evidence_chunk(spec, *payload)]
    with worker_pool(min(workers, len(payloads))) as pool:  # dies with the run
        parts = pool.map(evidence_chunk, *zip(*[(spec, *p) for p in payloads], strict=True))
        return [record for part in parts for record in part]


def _run_on_dask(spec, payloads, client, scheduler) -> list:
    from distributed import Client

    own = Client(scheduler) if client is None else None
    try:
        cluster = client if client is not None else own
        assert cluster is not None
        futures = [cluster.submit(evidence_chunk, spec, *payload, pure=False)
                   for payload in payloads]
        return [record for part in cluster.gather(futures) for record in part]
    finally:
        if own is not None:
            own.close()


def _taps_frame(card: str, taps: _Taps) -> pd.DataFrame:
    return pd.DataFrame({"card_id": card, "epoch_s": taps.epoch_s, "stop_id": taps.stop_id,
                         "route_id": taps.route_id})


def _trace_flags(row, k, signs: TraceSigns, claimed, legs, *, tapped_ride: bool = False):
    for t_from, t_to, metres in signs.teleports[:1]:
        yield ("teleport", f"jumps {metres:.0f} m in {t_to - t_from:.0f} s "
               f"({metres / max(t_to - t_from, 1e-3) * 3.6:.0f} km/h)"
               + (f", {len(signs.teleports)} jumps" if len(signs.teleports) > 1 else ""))
    if signs.gaps:
        longest = max(b - a for a, b in signs.gaps)
        yield ("trace_gap", f"{len(signs.gaps)} gap(s) without fixes, longest {longest / 60:.1f} min")
    start, end = row.started_at.timestamp(), row.ended_at.timestamp()
    claimed_s = max(end - start, 1.0)
    overlap = max(0.0, min(end, k.t[-1]) - max(start, k.t[0]))
    if (k.t[0] < start - CLAIM_TIME_SLACK_S or k.t[-1] > end + CLAIM_TIME_SLACK_S
            or overlap < MIN_CLAIM_COVERAGE * claimed_s):
        yield ("outside_claimed_times",
               f"trace {_hm(k.t[0], row.started_at)}-{_hm(k.t[-1], row.started_at)} vs claimed "
               f"{row.started_at:%H:%M}-{row.ended_at:%H:%M} ({overlap / claimed_s:.0%} overlap)")
    shown = signs.spoofing_signs
    if len(shown) >= MIN_SPOOFING_SIGNS:
        yield ("spoofing", ", ".join(shown) + f" (sampling sd {signs.sampling_sd_s:.3f} s, "
               f"speed cv {signs.speed_cv:.3f}, wobble {signs.wobble_m:.2f} m)")
    transit = claims_transit(claimed)
    if transit and not tapped_ride and not any(leg.mode in TRANSIT_MODES for leg in legs):
        yield ("no_timetable_match", "the trace rides no timetable trip of "
               + "+".join(m for m in claimed if m != "walk") + " (legs: "
               + _legs_text(legs) + ")")
    yield from _contradicted_modes(claimed, legs, require_claimed=not transit)


def _contradicted_modes(claimed, legs, *, require_claimed: bool):
    allowed = set(claimed) | {"walk"}
    if TRANSIT in allowed:
        allowed |= set(TRANSIT_MODES)
    wrong = [leg for leg in legs if leg.mode not in allowed
             and not (leg.distance_m < MIN_CONTRADICTING_M)]
    if wrong:
        leg = max(wrong, key=lambda x: x.distance_m if np.isfinite(x.distance_m) else 0.0)
        what = f"a {leg.distance_m / 1000:.1f} km {leg.mode} leg" if np.isfinite(leg.distance_m) \
            else f"a {leg.mode} leg"
        if leg.route_id:
            what += f" on route {leg.route or leg.route_id} (trip {leg.trip_id}, " \
                    f"{leg.board_stop} -> {leg.alight_stop or '?'})"
        yield ("mode_contradicted", f"{what} on a {'+'.join(claimed)} claim")
        return
    riding = [m for m in claimed if m not in ("walk", TRANSIT) and m not in TRANSIT_MODES]
    if not (require_claimed and riding):
        return
    total = sum(leg.distance_m for leg in legs if np.isfinite(leg.distance_m))
    on_claim = sum(leg.distance_m for leg in legs
                   if leg.mode in riding and np.isfinite(leg.distance_m))
    if not any(leg.mode in riding and leg.distance_m >= MIN_CONTRADICTING_M for leg in legs):
        yield ("mode_contradicted", f"no {'/'.join(riding)} leg in the trace (legs: "
               + _legs_text(legs) + ")")
    elif total > 0 and on_claim < MIN_CLAIMED_SHARE * total:
        yield ("mode_contradicted", f"only {on_claim / 1000:.1f} of {total / 1000:.1f} km on "
               f"{'/'.join(riding)} (legs: " + _legs_text(legs) + ")")


def _tap_flags(row, k, rides, day0, taps: _Taps | None, *, transit,
               claimed) -> list[tuple[str, str]]:
    flags = []
    taps = taps if taps is not None else _Taps.empty()
    tap_s = taps.epoch_s - day0
    used = np.zeros(len(taps), bool)
    for ride in rides:
        hit = False
        for i in range(len(taps)):
            offset = tap_s[i] - ride.board_s
            if not (TAP_WINDOW_S[0] <= offset <= TAP_WINDOW_S[1]):
                continue
            if taps.stop_id[i] and _stop_distance(transit, taps.stop_id[i],
                                                  ride.board_stop) > TAP_STOP_RADIUS_M:
                continue
            used[i] = hit = True
        if not hit:
            flags.append(("no_tap", f"no card tap for the {ride.mode} ride on route "
                          f"{ride.route_short_name or ride.route_id} boarding at "
                          f"{ride.board_stop} at {_clock(day0 + ride.board_s, row.started_at)}"))
    if not rides and claims_transit(claimed) and not len(taps):
        flags.append(("no_tap", "no card tap during a transit claim"))
    inside = (tap_s >= k.t[0] - day0 - 60) & (tap_s <= k.t[-1] - day0 + 60)
    for i in map(int, np.flatnonzero(inside & ~used)):
        if taps.stop_id[i] and _trace_was_at(k, transit, taps.stop_id[i], taps.epoch_s[i]):
            continue          # a tap where the trace was (a ride too short to match, say)
        where = f"stop {taps.stop_id[i]}" if taps.stop_id[i] else f"route {taps.route_id[i]}"
        flags.append(("tap_contradicts_trace", f"card tap at {where} at "
                      f"{_clock(taps.epoch_s[i], row.started_at)}: the trace was not there and "
                      "rode no vehicle from there"))
        break
    return flags


def _trace_was_at(k, transit, stop_id: str, epoch: float) -> bool:
    """Whether a fix within TAP_WINDOW_S of ``epoch`` lies within TAP_STOP_RADIUS_M of the stop."""
    i = transit.stop_index.get(stop_id)
    if i is None:
        return False
    window = (k.t >= epoch + TAP_WINDOW_S[0]) & (k.t <= epoch + TAP_WINDOW_S[1])
    if not window.any():
        return False
    tt = transit.timetable
    x, y = to_local_xy(k.lat[window], k.lon[window], (float(tt.stop_lat[i]), float(tt.stop_lon[i])))
    return bool(np.min(np.hypot(x, y)) <= TAP_STOP_RADIUS_M)


@dataclass(frozen=True)
class _Taps:
    """One card's taps as arrays (time order)."""

    epoch_s: np.ndarray
    stop_id: np.ndarray
    route_id: np.ndarray

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Taps:
        return cls(frame["epoch_s"].to_numpy(float), frame["stop_id"].to_numpy(object),
                   frame["route_id"].to_numpy(object))

    @classmethod
    def empty(cls) -> _Taps:
        return cls(np.zeros(0), np.zeros(0, object), np.zeros(0, object))

    def between(self, t0: float, t1: float) -> _Taps:
        keep = (self.epoch_s >= t0) & (self.epoch_s <= t1)
        return _Taps(self.epoch_s[keep], self.stop_id[keep], self.route_id[keep])

    def __len__(self) -> int:
        return int(self.epoch_s.shape[0])


def _stop_distance(transit, a: str, b: str) -> float:
    tt = transit.timetable
    i, j = transit.stop_index.get(a), transit.stop_index.get(b)
    if i is None or j is None:
        return math.inf
    x, y = to_local_xy(tt.stop_lat[[i, j]], tt.stop_lon[[i, j]], transit._origin)
    return float(math.hypot(x[1] - x[0], y[1] - y[0]))


def _with_evidence(results: pd.DataFrame, records, auditor) -> pd.DataFrame:
    out = results.copy()
    columns: dict[str, list] = {name: [] for name in EVIDENCE_COLUMNS}
    for evidence, account in records:
        columns["evidence"].append(evidence.evidence)
        columns["trace_fixes"].append(evidence.fixes)
        columns["matched_modes"].append("+".join(leg.mode for leg in evidence.legs))
        columns["matched_legs"].append(json.dumps([leg.__dict__ for leg in evidence.legs],
                                                  allow_nan=True) if evidence.legs else "")
        columns["matched_distance_m"].append(account.distance_m if account else math.nan)
        columns["matched_co2e_g"].append(account.co2e_g if account else math.nan)
        columns["matched_reduction_g"].append(account.reduction_g if account else math.nan)
        columns["matched_points"].append(account.points.points if account else math.nan)
        confidence = [leg.confidence for leg in evidence.legs if leg.distance_m > 0]
        columns["match_confidence"].append(float(np.mean(confidence)) if confidence else math.nan)
        columns["evidence_flags"].append(";".join(code for code, _ in evidence.flags))
        columns["evidence_reasons"].append("; ".join(text for _, text in evidence.flags))
        columns["evidence_geometry"].append(json.dumps(evidence.geometry)
                                            if evidence.geometry else "")
    for name, values in columns.items():
        out[name] = values
    out["trace_fixes"] = out["trace_fixes"].astype("int64")
    for name in ("evidence", "matched_modes", "matched_legs", "evidence_flags",
                 "evidence_reasons", "evidence_geometry"):
        out[name] = out[name].astype("str")
    more = out["evidence_flags"] != ""
    join = np.where(out["flags"].astype(str) != "", ";", "")
    out.loc[more, "flags"] = (out["flags"].astype(str) + join + out["evidence_flags"])[more]
    join = np.where(out["reasons"].astype(str) != "", "; ", "")
    out.loc[more, "reasons"] = (out["reasons"].astype(str) + join + out["evidence_reasons"])[more]
    out["flagged"] = out["flags"].astype(str) != ""
    return out


def _iso(epoch: float, tz) -> str:
    return pd.Timestamp(epoch, unit="s", tz="UTC").tz_convert(tz).isoformat(timespec="seconds")


def _hm(epoch: float, like: pd.Timestamp) -> str:
    return pd.Timestamp(epoch, unit="s", tz="UTC").tz_convert(like.tz).strftime("%H:%M")


def _clock(epoch: float, like: pd.Timestamp) -> str:
    return pd.Timestamp(epoch, unit="s", tz="UTC").tz_convert(like.tz).strftime("%H:%M:%S")


def _legs_text(legs) -> str:
    return ", ".join(f"{leg.mode} {leg.distance_m / 1000:.1f} km" for leg in legs) or "none"


def _thin_lonlat(lon, lat) -> list[list[float]]:
    return _thin_coords(np.column_stack([lon, lat]))


def _thin_coords(coords) -> list[list[float]]:
    """At most ~_MAP_POINTS points, first and last kept, rounded to 6 decimals (~0.1 m)."""
    coords = np.asarray(coords, dtype=float).reshape(-1, 2)
    step = max(1, len(coords) // _MAP_POINTS)
    idx = list(range(0, len(coords), step)) + [len(coords) - 1]
    return np.round(coords[idx], 6).tolist()
