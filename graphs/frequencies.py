"""Expand headway-based trips (frequencies.txt) into concrete trips."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FrequencyExpansion", "expand_frequencies", "rows_of", "format_hms"]


@dataclass(frozen=True, eq=False)
class FrequencyExpansion:
    """The trips after expansion, each a copy of a source trip shifted in time.

    ``source[j]`` is the original trip index of new trip ``j``; its stop times are the
    source's plus ``shift_s[j]``; ``suffix[j]`` is ``"#HH:MM:SS"`` (first departure) for
    expanded trips and ``""`` for trips copied unchanged.
    """

    source: np.ndarray       # int64 (t',)
    shift_s: np.ndarray      # int64 (t',)
    suffix: np.ndarray       # str (t',)
    is_frequency: np.ndarray  # bool (t',)


def rows_of(indptr: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Concatenated row ranges ``indptr[i]:indptr[i + 1]`` for each ``i`` in ``items``."""
    items = np.asarray(items, dtype=np.int64)
    lengths = indptr[items + 1] - indptr[items]
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    within = np.arange(total, dtype=np.int64) - np.repeat(ends - lengths, lengths)
    return np.repeat(indptr[items], lengths) + within


def format_hms(seconds: np.ndarray) -> np.ndarray:
    """``HH:MM:SS`` strings (hours may pass 24) for integer seconds."""
    seconds = np.asarray(seconds, dtype=np.int64)
    h, rest = np.divmod(seconds, 3600)
    m, s = np.divmod(rest, 60)
    return (pd.Series(h).astype(str).str.zfill(2) + ":" + pd.Series(m).astype(str).str.zfill(2)
            + ":" + pd.Series(s).astype(str).str.zfill(2)).to_numpy(str)


def expand_frequencies(trip_id: np.ndarray, first_departure_s: np.ndarray,
                       frequencies: pd.DataFrame) -> FrequencyExpansion:
    """Replace each trip listed in frequencies.txt by one trip per headway.

    Departures run from ``start_time`` (inclusive) to ``end_time`` (exclusive) every
    ``headway_secs``, for ``exact_times`` 0 and 1 alike (a planner needs concrete departures;
    for ``exact_times=0`` they stand for the average wait). The trip's own stop times are the
    template: their offsets from its first departure are kept. Frequency rows naming unknown
    trips are ignored. Trips not in frequencies.txt are copied with shift 0.
    """
    n = len(trip_id)
    index = pd.Index(trip_id).get_indexer(frequencies["trip_id"].to_numpy(str))
    known = index >= 0
    freq_trip = index[known]
    start = frequencies["start_s"].to_numpy(np.int64)[known]
    end = frequencies["end_s"].to_numpy(np.int64)[known]
    headway = frequencies["headway_s"].to_numpy(np.int64)[known]
    count = np.maximum(0, -(-(end - start) // headway))  # ceil: end is exclusive
    rows = np.repeat(np.arange(len(freq_trip)), count)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    departures = start[rows] + k * headway[rows]
    expanded_source = freq_trip[rows]

    plain = np.setdiff1d(np.arange(n), freq_trip)
    source = np.r_[plain, expanded_source].astype(np.int64)
    shift = np.r_[np.zeros(len(plain), np.int64),
                  departures - first_departure_s[expanded_source]].astype(np.int64)
    suffix = np.r_[np.full(len(plain), ""), np.char.add("#", format_hms(departures))]
    is_frequency = np.r_[np.zeros(len(plain), bool), np.ones(len(rows), bool)]
    order = np.lexsort((shift, source))
    return FrequencyExpansion(source[order], shift[order], suffix[order].astype(str),
                              is_frequency[order])
