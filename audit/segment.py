"""Trace kinematics and segmentation: outliers, speed profile, gaps, teleports, spoofing signs, street legs.

A trace arrives as times (seconds) and WGS84 points; everything here works in local metres
(an equirectangular projection around the trace's first fix, accurate to well under 0.1 %
across a city). Thresholds are module constants; docs/audit.md explains each.

Street legs (everything the timetable matcher in :mod:`audit.match` did not claim as a ride)
are cut where the traveller walks for a while between two faster stretches (a change of mode
passes through walking: Zheng et al., "Understanding mobility based on GPS data", 2008), and
each leg's mode is read from its speed statistics.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from graphs.geodesy import local_xy
from graphs.modes import CAR_MODES

__all__ = [
    "BIKE_MEDIAN_MAX_MPS",
    "BIKE_P85_MAX_MPS",
    "CONSTANT_SPEED_CV",
    "EBIKE_MEDIAN_MIN_MPS",
    "MAX_GAP_S",
    "MIN_RIDE_S",
    "MIN_WALK_BREAK_S",
    "NO_NOISE_M",
    "REGULAR_SAMPLING_S",
    "SPEED_WINDOW_S",
    "SPIKE_EXCESS_M",
    "STATIONARY_MPS",
    "TELEPORT_MIN_M",
    "TELEPORT_MPS",
    "WALK_MAX_MPS",
    "Kinematics",
    "StreetSegment",
    "TraceSigns",
    "kinematics",
    "spike_mask",
    "street_segments",
    "to_local_xy",
    "trace_signs",
]

#: Speed at a fix = straight-line displacement over +- this many seconds (GPS noise of 5-10 m
#: then moves the speed by ~0.3 m/s, where fix-to-fix speeds would be off by metres per second).
SPEED_WINDOW_S = 15.0
#: A fix is an outlier (urban canyon, multipath) when going through it lengthens the path from
#: its neighbours by more than this (metres) and by more than half their distance (a first or
#: last fix: when it lies this far from its neighbour and 3x farther than the next step).
SPIKE_EXCESS_M = 60.0
STATIONARY_MPS = 0.5
#: At most this fast (m/s, ~8.3 km/h) counts as walking (or standing).
WALK_MAX_MPS = 2.3
#: A faster stretch shorter than this (s) inside a walk is noise, not a ride.
MIN_RIDE_S = 60.0
#: A walk between two faster stretches splits them into two legs only if it lasts this long.
MIN_WALK_BREAK_S = 90.0
#: Moving speeds (m/s) of a cycle: median at most 6.5, 85th percentile at most 8.5 (30 km/h);
#: above, a motor vehicle. An e-bike is a cycle with median moving speed >= 5.0 m/s.
BIKE_MEDIAN_MAX_MPS = 6.5
BIKE_P85_MAX_MPS = 8.5
EBIKE_MEDIAN_MIN_MPS = 5.0
#: A jump between two fixes faster than this (m/s, 180 km/h) and longer than TELEPORT_MIN_M.
TELEPORT_MPS = 50.0
TELEPORT_MIN_M = 200.0
#: No fix for longer than this (s) is a gap.
MAX_GAP_S = 300.0
#: Spoofing signs: sampling intervals whose standard deviation is below this (s); moving
#: speeds whose coefficient of variation is below CONSTANT_SPEED_CV; a median cross-track
#: wobble below NO_NOISE_M metres (real GPS wobbles by metres even on a straight street).
REGULAR_SAMPLING_S = 0.01
CONSTANT_SPEED_CV = 0.05
NO_NOISE_M = 0.5
_MIN_FIXES_FOR_SIGNS = 20


@dataclass(frozen=True, eq=False)
class Kinematics:
    """A cleaned trace: times, local metres, WGS84 points and the speed at each fix."""

    t: np.ndarray          # seconds (any origin), increasing
    x: np.ndarray
    y: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    speed_mps: np.ndarray  # windowed displacement speed
    n_outliers: int        # fixes removed as spikes
    origin: tuple[float, float]

    def __len__(self) -> int:
        return int(self.t.shape[0])


@dataclass(frozen=True)
class TraceSigns:
    """What a trace shows regardless of mode: jumps, gaps and signs of a fabricated trace."""

    teleports: tuple[tuple[float, float, float], ...]   # (t_from, t_to, metres)
    gaps: tuple[tuple[float, float], ...]               # (t_from, t_to)
    regular_sampling: bool
    constant_speed: bool
    no_noise: bool
    sampling_sd_s: float
    speed_cv: float
    wobble_m: float

    @property
    def spoofing_signs(self) -> tuple[str, ...]:
        return tuple(name for name, on in (("regular sampling", self.regular_sampling),
                                           ("constant speed", self.constant_speed),
                                           ("no GPS noise", self.no_noise)) if on)


@dataclass(frozen=True)
class StreetSegment:
    """Fixes ``first..last`` (inclusive) of one street leg and its inferred mode."""

    first: int
    last: int
    mode: str
    median_mps: float
    p85_mps: float


def to_local_xy(lat, lon, origin: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular metres ``(x, y)`` from ``origin`` (lat, lon): ``graphs.geodesy.local_xy``."""
    xy = local_xy(lat, lon, origin[0])
    x0, y0 = local_xy(origin[0], origin[1], origin[0])[0]
    return xy[:, 0] - x0, xy[:, 1] - y0


def kinematics(t: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> Kinematics:
    """Project, drop spikes (one pass) and compute the windowed speed of every fix."""
    t = np.asarray(t, float)
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    origin = (float(lat[0]), float(lon[0])) if len(lat) else (0.0, 0.0)
    x, y = to_local_xy(lat, lon, origin)
    keep = ~spike_mask(x, y)
    t, x, y, lat, lon = t[keep], x[keep], y[keep], lat[keep], lon[keep]
    return Kinematics(t=t, x=x, y=y, lat=lat, lon=lon, speed_mps=_window_speed(t, x, y),
                      n_outliers=int((~keep).sum()), origin=origin)


def spike_mask(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """True for fixes that are outliers by the SPIKE_EXCESS_M rule (one pass)."""
    out = np.zeros(len(x), bool)
    if len(x) < 3:
        return out
    d_prev = np.hypot(x[1:-1] - x[:-2], y[1:-1] - y[:-2])
    d_next = np.hypot(x[2:] - x[1:-1], y[2:] - y[1:-1])
    d_skip = np.hypot(x[2:] - x[:-2], y[2:] - y[:-2])
    excess = d_prev + d_next - d_skip
    out[1:-1] = (excess > SPIKE_EXCESS_M) & (excess > 0.5 * d_skip)
    # the first and last fix have one neighbour: a spike if far off a steady neighbour step
    for end, near, far in ((0, 1, 2), (len(x) - 1, len(x) - 2, len(x) - 3)):
        step = math.hypot(x[end] - x[near], y[end] - y[near])
        steady = math.hypot(x[near] - x[far], y[near] - y[far])
        out[end] = step > SPIKE_EXCESS_M and step > 3 * steady
    return out


def _window_speed(t: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if len(t) < 2:
        return np.zeros(len(t))
    lo = np.searchsorted(t, t - SPEED_WINDOW_S, side="left")
    hi = np.searchsorted(t, t + SPEED_WINDOW_S, side="right") - 1
    hi = np.maximum(hi, np.minimum(np.arange(len(t)) + 1, len(t) - 1))
    lo = np.minimum(lo, np.maximum(np.arange(len(t)) - 1, 0))
    dt = t[hi] - t[lo]
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.hypot(x[hi] - x[lo], y[hi] - y[lo]) / dt
    return np.where(dt > 0, speed, 0.0)


def trace_signs(k: Kinematics) -> TraceSigns:
    """Teleports, gaps and the three spoofing signs of a cleaned trace."""
    dt = np.diff(k.t)
    step = np.hypot(np.diff(k.x), np.diff(k.y))
    with np.errstate(divide="ignore", invalid="ignore"):
        step_speed = np.where(dt > 0, step / dt, np.inf)
    jumps = np.flatnonzero((step_speed > TELEPORT_MPS) & (step > TELEPORT_MIN_M))
    teleports = tuple((float(k.t[i]), float(k.t[i + 1]), float(step[i])) for i in jumps)
    gaps = tuple((float(k.t[i]), float(k.t[i + 1])) for i in np.flatnonzero(dt > MAX_GAP_S))
    enough = len(k) >= _MIN_FIXES_FOR_SIGNS
    sampling_sd = float(np.std(dt)) if len(dt) else math.nan
    moving = step_speed[(step_speed > STATIONARY_MPS) & np.isfinite(step_speed)]
    cv = float(np.std(moving) / np.mean(moving)) if len(moving) >= 5 else math.nan
    wobble = _median_cross_track(k.x, k.y)
    return TraceSigns(teleports=teleports, gaps=gaps,
                      regular_sampling=bool(enough and sampling_sd < REGULAR_SAMPLING_S),
                      constant_speed=bool(enough and cv < CONSTANT_SPEED_CV),
                      no_noise=bool(enough and wobble < NO_NOISE_M),
                      sampling_sd_s=sampling_sd, speed_cv=cv, wobble_m=wobble)


def _median_cross_track(x: np.ndarray, y: np.ndarray) -> float:
    """Median distance of each fix from the chord between its neighbours (moving fixes only)."""
    if len(x) < 3:
        return math.nan
    ax, ay = x[2:] - x[:-2], y[2:] - y[:-2]
    chord = np.hypot(ax, ay)
    moving = chord > 1.0
    if not moving.any():
        return math.nan
    cross = np.abs(ax * (y[1:-1] - y[:-2]) - ay * (x[1:-1] - x[:-2]))[moving] / chord[moving]
    return float(np.median(cross))


def street_segments(k: Kinematics, first: int, last: int, *,
                    claimed: tuple[str, ...] = ()) -> list[StreetSegment]:
    """Cut fixes ``first..last`` into street legs and name each leg's mode.

    A claim decides only what the evidence cannot: a cycle is a ``bike`` or an ``ebike`` as
    claimed (their speeds overlap); a motor vehicle is the claimed car mode (else
    ``car_petrol``, the baseline car); and on a car claim a cycle-speed stretch is the car in
    traffic (a car can crawl, a cycle cannot race; claiming a car when cycling earns nothing).
    """
    if last < first:
        return []
    t = k.t[first:last + 1]
    fast = k.speed_mps[first:last + 1] > WALK_MAX_MPS
    runs = _runs(fast)
    runs = _absorb(runs, t, value=True, min_s=MIN_RIDE_S)          # short bursts are walking
    runs = _absorb(runs, t, value=False, min_s=MIN_WALK_BREAK_S, inner_only=True)
    runs = _absorb(runs, t, value=False, min_s=MIN_RIDE_S)         # short walks at the ends
    return [_classify(k, first + a, first + b, riding=value, claimed=claimed)
            for value, a, b in runs]


def _runs(values: np.ndarray) -> list[list]:
    """``[value, first, last]`` of each run of equal values."""
    edges = np.flatnonzero(np.diff(values.astype(np.int8))) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges - 1, [len(values) - 1]])
    return [[bool(values[a]), int(a), int(b)] for a, b in zip(starts, ends, strict=True)]


def _absorb(runs: list[list], t: np.ndarray, *, value: bool, min_s: float,
            inner_only: bool = False) -> list[list]:
    """Turn runs of ``value`` lasting less than ``min_s`` into their neighbours' value; merge."""
    out: list[list] = []
    for i, (v, a, b) in enumerate(runs):
        lasts = t[min(b + 1, len(t) - 1)] - t[a]
        inner = 0 < i < len(runs) - 1
        if v == value and lasts < min_s and len(runs) > 1 and (inner or not inner_only):
            v = not v
        if out and out[-1][0] == v:
            out[-1][2] = b
        else:
            out.append([v, a, b])
    return out


def _classify(k: Kinematics, first: int, last: int, *, riding: bool,
              claimed: tuple[str, ...]) -> StreetSegment:
    speed = k.speed_mps[first:last + 1]
    moving = speed[speed > STATIONARY_MPS]
    median = float(np.median(moving)) if len(moving) else 0.0
    p85 = float(np.percentile(moving, 85)) if len(moving) else 0.0
    cars = [m for m in claimed if m in CAR_MODES]
    if not riding or median <= WALK_MAX_MPS:
        mode = "walk"
    elif median <= BIKE_MEDIAN_MAX_MPS and p85 <= BIKE_P85_MAX_MPS and not cars:
        cycles = [m for m in claimed if m in ("bike", "ebike")]
        mode = cycles[0] if cycles else ("ebike" if median >= EBIKE_MEDIAN_MIN_MPS else "bike")
    else:
        mode = cars[0] if cars else "car_petrol"
    return StreetSegment(first=first, last=last, mode=mode, median_mps=median, p85_mps=p85)
