"""What a loaded network covers: area, service dates, feeds and modes (for /v1/coverage)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from graphs.geodesy import METRES_PER_DEGREE
from graphs.modes import MODES
from graphs.network import Network

__all__ = ["Coverage", "coverage_of", "coverage_to_geojson", "METRES_PER_DEGREE_LAT"]

#: Metres per degree of latitude (graphs.geodesy's sphere), to grow the box by a margin in metres.
METRES_PER_DEGREE_LAT = METRES_PER_DEGREE


@dataclass(frozen=True)
class Coverage:
    """Bounding box ``(west, south, east, north)``, service dates (None without transit)."""

    bbox: tuple[float, float, float, float]
    first_service_date: date | None
    last_service_date: date | None
    feeds: tuple[str, ...]
    modes: tuple[str, ...]
    timezone: str
    artifact_sha256: str | None = None  # the served file's checksum (changes when it is rebuilt)

    def contains(self, lat: float, lon: float, *, margin_m: float = 0.0) -> bool:
        """True if (lat, lon) is inside the bounding box grown by ``margin_m``."""
        west, south, east, north = self.bbox
        dlat = margin_m / METRES_PER_DEGREE_LAT
        dlon = dlat / max(math.cos(math.radians(max(abs(south), abs(north)))), 0.01)
        return (south - dlat <= lat <= north + dlat) and (west - dlon <= lon <= east + dlon)


def coverage_of(network: Network) -> Coverage:
    """Read the coverage of ``network`` from its manifest, or its arrays where the manifest lacks it."""
    first, last = _service_dates(network)
    timetable = network.timetable
    feeds = tuple(str(f) for f in timetable.feed_names) if timetable is not None else ()
    street_modes = [name for name, mode in MODES.items() if mode.layer in network.streets]
    transit_modes = (sorted({str(m) for m in timetable.route_mode})
                     if timetable is not None and timetable.route_mode.size else [])
    return Coverage(bbox=_bbox(network), first_service_date=first, last_service_date=last,
                    feeds=feeds, modes=tuple(street_modes + transit_modes),
                    timezone=network.timezone)


def coverage_to_geojson(coverage: Coverage) -> dict[str, Any]:
    """A GeoJSON Feature: the bounding box polygon, service dates, feeds and modes."""
    west, south, east, north = coverage.bbox
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    dates = None
    if coverage.first_service_date is not None:
        dates = {"start": coverage.first_service_date.isoformat(),
                 "end": coverage.last_service_date.isoformat()}
    return {"type": "Feature", "bbox": [west, south, east, north],
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"service_dates": dates, "feeds": list(coverage.feeds),
                           "modes": list(coverage.modes), "timezone": coverage.timezone,
                           "artifact_sha256": coverage.artifact_sha256}}


def _bbox(network: Network) -> tuple[float, float, float, float]:
    if network.bbox is not None:
        return network.bbox
    lons = [layer.node_lon for layer in network.streets.values() if layer.n_nodes]
    lats = [layer.node_lat for layer in network.streets.values() if layer.n_nodes]
    if network.timetable is not None and network.timetable.n_stops:
        lons.append(network.timetable.stop_lon)
        lats.append(network.timetable.stop_lat)
    lon, lat = np.concatenate(lons), np.concatenate(lats)
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def _service_dates(network: Network) -> tuple[date | None, date | None]:
    timetable = network.timetable
    if timetable is None or timetable.service_active.size == 0:
        return None, None
    days = np.flatnonzero(timetable.service_active.any(axis=0))
    if days.size == 0:
        return None, None
    start = date.fromisoformat(str(timetable.service_first_date))
    return start + timedelta(days=int(days[0])), start + timedelta(days=int(days[-1]))
