"""EV charging stations (``amenity=charging_station``) from OSM nodes and ways."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely

from .network import ChargingStations
from .osm_reader import OsmFeature

__all__ = ["charging_stations_from_features", "parse_capacity", "feature_point"]

UNKNOWN_CAPACITY = -1


def parse_capacity(value: str | None) -> int:
    """The ``capacity`` tag as a socket count, :data:`UNKNOWN_CAPACITY` if absent or invalid."""
    try:
        capacity = int(str(value).strip())
    except ValueError:
        return UNKNOWN_CAPACITY
    return capacity if capacity >= 0 else UNKNOWN_CAPACITY


def feature_point(feature: OsmFeature) -> tuple[float, float] | None:
    """A node's location; a way's centroid (of its area if closed), from its known nodes."""
    coords = feature.lonlat
    if not coords:
        return None
    if len(coords) == 1:
        return coords[0]
    if len(coords) >= 4 and coords[0] == coords[-1]:
        geometry = shapely.Polygon(coords)
    else:
        geometry = shapely.LineString(coords)
    centroid = geometry.centroid
    if centroid.is_empty:  # degenerate polygon (all nodes in a line): fall back to the outline
        centroid = shapely.LineString(coords).centroid
    return (centroid.x, centroid.y)


def charging_stations_from_features(features: Iterable[OsmFeature]) -> ChargingStations:
    """Compile charging-station features into :class:`ChargingStations`.

    Node ids are kept; way ids are stored negated (``-way_id``) so a node and a way with the
    same number stay distinct. Ways with no node inside the file are skipped.
    """
    rows = []
    for feature in features:
        point = feature_point(feature)
        if point is None:
            continue
        osmid = feature.osmid if feature.kind == "node" else -feature.osmid
        rows.append((osmid, point[0], point[1], feature.tags.get("name", ""),
                     feature.tags.get("operator", ""), parse_capacity(feature.tags.get("capacity"))))
    rows.sort(key=lambda row: row[0])
    columns = list(zip(*rows, strict=True)) if rows else [()] * 6
    return ChargingStations(
        osmid=np.array(columns[0], dtype=np.int64),
        lon=np.array(columns[1], dtype=np.float64),
        lat=np.array(columns[2], dtype=np.float64),
        name=np.array(columns[3], dtype=str),
        operator=np.array(columns[4], dtype=str),
        capacity=np.array(columns[5], dtype=np.int32),
    )
