"""OSM bike-share stations (``amenity=bicycle_rental``) baked into an artifact's GBFS files.

A build that reads such nodes adds them to the GBFS snapshot as docking stations: into the
given feed's ``station_information.json`` (2.3 or 3.0) when there is one, skipping a node
within :data:`SAME_STATION_M` of a station the feed already has, or as a GBFS 2.3 feed of its
own (``last_updated`` = the build time, ``ttl`` 0). OSM says nothing of bikes or docks: such a
station has no ``station_status`` row, which ``planner.bikeshare`` reads as bikes and docks
available (a documented assumption, named in every answer's snapshot notice).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from .gbfs import gbfs_from_documents
from .geodesy import haversine_m
from .osm_reader import OsmFeature

__all__ = ["with_osm_rentals", "SAME_STATION_M", "OSM_ID_PREFIX"]

#: An OSM station this close to a GBFS station is the same station (GBFS kept).
SAME_STATION_M = 50.0
#: ``station_id`` of an OSM station: ``osm:node/<id>``.
OSM_ID_PREFIX = "osm:"


def with_osm_rentals(gbfs_files: Mapping[str, bytes] | None, rentals: Iterable[OsmFeature], *,
                     built_at: datetime) -> dict[str, bytes]:
    """``gbfs_files`` (validated, possibly empty) with the OSM stations of ``rentals`` added.

    Raises
    ------
    GbfsError
        If the result is not a valid snapshot (it is parsed once more to be sure).
    """
    files = dict(gbfs_files or {})
    name = "station_information.json"
    if name in files:
        doc = json.loads(files[name])
        version3 = str(doc.get("version", "")).startswith("3")
    else:
        doc = {"last_updated": int(built_at.timestamp()), "ttl": 0, "version": "2.3",
               "data": {"stations": []}}
        version3 = False
    stations = doc["data"]["stations"]
    known = [(float(s["lat"]), float(s["lon"])) for s in stations]
    added = 0
    for feature in rentals:
        lon, lat = feature.lonlat[0]
        if any(haversine_m(lat, lon, a, b) < SAME_STATION_M for a, b in known):
            continue
        text = feature.tags.get("name") or feature.tags.get("ref") or f"bicycle_rental {feature.osmid}"
        station = {"station_id": f"{OSM_ID_PREFIX}{feature.kind}/{feature.osmid}",
                   "name": [{"text": text, "language": "und"}] if version3 else text,
                   "lat": lat, "lon": lon}
        capacity = feature.tags.get("capacity", "")
        if capacity.isdigit():
            station["capacity"] = int(capacity)
        stations.append(station)
        known.append((lat, lon))
        added += 1
    if not added:
        return files
    files[name] = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    gbfs_from_documents(files)
    return files
