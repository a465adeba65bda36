"""Read the streets, charging stations and parkings of an OSM file (.osm.pbf, .osm, .osm.bz2) in one pass."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import osmium
from tqdm import tqdm

from .errors import OsmError

__all__ = ["WayPiece", "OsmFeature", "OsmStreets", "read_osm"]

#: ``amenity`` values kept as parkings (bicycle and car; ``graphs._parking_build``).
PARKING_AMENITIES = ("bicycle_parking", "parking", "parking_entrance")
#: Suffixes osmium recognises; anything else is refused before osmium guesses.
OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".osc")


@dataclass(frozen=True)
class WayPiece:
    """A run of consecutive nodes of one ``highway=*`` way whose locations are all known.

    A way of a clipped extract is split where it references nodes missing from the file,
    so one way can give several pieces (all with the way's id and tags).
    """

    way_id: int
    tags: dict[str, str]
    node_ids: tuple[int, ...]
    lonlat: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class OsmFeature:
    """A tagged OSM node or way (kind ``"node"``/``"way"``) with the known node locations."""

    kind: str
    osmid: int
    tags: dict[str, str]
    lonlat: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class OsmStreets:
    """What :func:`read_osm` found: street pieces, charging stations and counts."""

    pieces: list[WayPiece]
    charging: list[OsmFeature]
    report: dict[str, int]
    parking: list[OsmFeature] = field(default_factory=list)  # PARKING_AMENITIES
    bike_rental: list[OsmFeature] = field(default_factory=list)  # amenity=bicycle_rental


def read_osm(path: str | os.PathLike, *, progress: bool = False) -> OsmStreets:
    """Read ``highway=*`` ways and ``amenity=charging_station`` objects of an OSM file.

    One pass with a node-location cache. Ways referencing nodes absent from the file (every
    clipped extract has them) are split at those nodes; ``report`` counts them.

    Raises
    ------
    OsmError
        If the file is missing or is not a readable OSM file.
    """
    path = Path(path)
    _check_file(path)
    state = _ReadState()
    try:
        processor = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
                     .with_locations()
                     .with_filter(osmium.filter.KeyFilter("highway", "amenity")))
        for obj in tqdm(processor, disable=not progress, desc="reading OSM", unit=" objects"):
            state.add(obj)
    except RuntimeError as err:
        raise OsmError(f"{path}: not a readable OSM file ({err})", path=str(path)) from err
    return OsmStreets(pieces=state.pieces, charging=state.charging, report=state.report(),
                      parking=state.parking, bike_rental=state.bike_rental)


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise OsmError(f"{path}: no such OSM file", path=str(path))
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise OsmError(f"{path}: not an OSM file (expected one of {', '.join(OSM_SUFFIXES)})",
                       path=str(path))


class _ReadState:
    """Accumulates pieces, charging stations and clipping counts while reading."""

    def __init__(self) -> None:
        self.pieces: list[WayPiece] = []
        self.charging: list[OsmFeature] = []
        self.parking: list[OsmFeature] = []
        self.bike_rental: list[OsmFeature] = []
        self.ways_read = 0
        self.ways_clipped = 0
        self.ways_dropped = 0
        self.missing: set[int] = set()

    def add(self, obj: osmium.osm.OSMObject) -> None:
        amenity = obj.tags.get("amenity")
        target = (self.charging if amenity == "charging_station"
                  else self.parking if amenity in PARKING_AMENITIES else None)
        lonlat: tuple[tuple[float, float], ...]
        if isinstance(obj, osmium.osm.Node):
            if target is not None:
                lonlat = ((obj.location.lon, obj.location.lat),)
                target.append(OsmFeature("node", obj.id, dict(obj.tags), lonlat))
            elif amenity == "bicycle_rental":  # bike-share stations (nodes)
                lonlat = ((obj.location.lon, obj.location.lat),)
                self.bike_rental.append(OsmFeature("node", obj.id, dict(obj.tags), lonlat))
            return
        if not isinstance(obj, osmium.osm.Way):  # the processor reads nodes and ways only
            return
        if target is not None:
            lonlat = tuple(loc for _, loc in _way_nodes(obj) if loc is not None)
            target.append(OsmFeature("way", obj.id, dict(obj.tags), lonlat))
        if "highway" in obj.tags:
            self._add_street(obj)

    def _add_street(self, way: osmium.osm.Way) -> None:
        self.ways_read += 1
        tags = dict(way.tags)
        nodes = _way_nodes(way)
        runs = _split_at_missing(nodes, self.missing)
        if any(loc is None for _, loc in nodes):
            self.ways_clipped += 1
            self.ways_dropped += not runs
        for run in runs:
            self.pieces.append(WayPiece(way.id, tags, tuple(ref for ref, _ in run),
                                        tuple(loc for _, loc in run)))

    def report(self) -> dict[str, int]:
        return {"ways_read": self.ways_read, "ways_clipped": self.ways_clipped,
                "ways_dropped_clipped": self.ways_dropped, "way_pieces": len(self.pieces),
                "nodes_missing": len(self.missing)}


def _way_nodes(way: osmium.osm.Way) -> list[tuple[int, tuple[float, float] | None]]:
    try:  # the common case, all locations known, without a validity test per node
        return [(n.ref, (n.lon, n.lat)) for n in way.nodes]
    except osmium.InvalidLocationError:
        return [(n.ref, (n.lon, n.lat) if n.location.valid() else None) for n in way.nodes]


def _split_at_missing(nodes: list[tuple[int, tuple[float, float] | None]],
                      missing: set[int]) -> list[list[tuple[int, tuple[float, float]]]]:
    """Runs of >= 2 consecutive nodes with known locations; records the missing refs."""
    runs: list[list[tuple[int, tuple[float, float]]]] = [[]]
    for ref, loc in nodes:
        if loc is None:
            missing.add(ref)
            runs.append([])
        else:
            runs[-1].append((ref, loc))
    return [run for run in runs if len(run) >= 2]
