"""Hand-made OSM inputs for street-layer tests, written by osmium when a test asks for them.

The real cities come from ``TANLU_SAMPLE_DIR``; these are the small cases no real extract holds
in one place: a town with every tag rule the layers apply (oneways both ways, a contraflow
cycleway, a motorway, a private service road, a pedestrian area, an island, piles), a clipped
extract (ways through missing nodes), valid OSM without streets, streets no layer may use, and
a file that is not OSM at all. ``write_osm_fixtures(folder)`` writes them as ``<name>.osm``.
"""
from __future__ import annotations

from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Way

# (id, lat, lon[, tags])
_TOWN_NODES = [
    (1, -30.0, -51.2), (2, -30.0, -51.199), (3, -30.0, -51.198), (4, -29.999, -51.2),
    (5, -29.999, -51.199), (6, -29.999, -51.198), (7, -29.998, -51.2), (8, -29.998, -51.199),
    (9, -29.998, -51.198), (10, -29.9985, -51.1985), (11, -30.0, -51.197), (12, -29.997, -51.2),
    (13, -30.0, -51.203), (14, -30.0, -51.2025), (15, -29.9995, -51.2025),
    (16, -29.999, -51.1985), (17, -29.999, -51.1975), (18, -29.997, -51.197),
    (20, -30.1, -51.3), (21, -30.1, -51.301),
    (30, -29.9995, -51.1995, {"amenity": "charging_station", "name": "Eletroposto Centro",
                              "operator": "CEEE", "capacity": "4"}),
    (31, -30.001, -51.201), (32, -30.001, -51.2008), (33, -30.0008, -51.2008),
    (34, -30.0008, -51.201),
]
# (id, node refs, tags)
_TOWN_WAYS = [
    (100, [1, 2, 3], {"highway": "residential", "name": "Rua A"}),
    (101, [4, 5, 6], {"highway": "residential", "name": "Rua B", "oneway": "yes"}),
    (102, [7, 8, 9], {"highway": "residential", "name": "Rua C", "oneway": "-1"}),
    (103, [1, 4, 7], {"highway": "residential", "name": "Rua D"}),
    (104, [3, 6, 9], {"highway": "primary", "name": "Avenida", "maxspeed": "50 mph"}),
    (105, [2, 5, 8], {"highway": "tertiary", "name": "Rua E", "oneway": "yes",
                      "cycleway": "opposite_lane", "maxspeed": "BR:urban"}),
    (106, [5, 10, 9], {"highway": "footway", "footway": "sidewalk"}),
    (109, [3, 11], {"highway": "motorway", "name": "Freeway"}),
    (110, [7, 12], {"highway": "construction", "construction": "residential"}),
    (111, [13, 14, 15, 13], {"highway": "pedestrian", "area": "yes", "name": "Praça"}),
    (112, [8, 16], {"highway": "service", "access": "private"}),
    (113, [6, 17], {"highway": "footway", "bicycle": "yes"}),
    (114, [20, 21], {"highway": "residential", "name": "Ilha"}),
    (115, [9, 18], {"highway": "steps"}),
    (200, [31, 32, 33, 34, 31], {"amenity": "charging_station", "name": "Garagem",
                                 "capacity": "two"}),
    (201, [1, 2], {"building": "yes"}),
]

_LINE = [(1, -30.0, -51.2), (2, -30.0, -51.199)]

OSM_FIXTURES: dict[str, tuple[list, list]] = {
    "small_town": (_TOWN_NODES, _TOWN_WAYS),
    # way 1 runs through missing node 99; way 2 has only missing nodes
    "clipped": ([(1, -30.0, -51.2), (2, -30.0, -51.199), (3, -30.0, -51.197),
                 (4, -30.0, -51.196), (5, -29.999, -51.196), (6, -29.998, -51.196)],
                [(1, [1, 2, 99, 3, 4, 5], {"highway": "residential"}),
                 (2, [97, 98], {"highway": "residential"}),
                 (3, [5, 6], {"highway": "residential"})]),
    # a building and a river, no highway=* way
    "no_streets": ([*_LINE, (3, -29.999, -51.199)],
                   [(1, [1, 2, 3, 1], {"building": "yes"}), (2, [1, 3], {"waterway": "river"})]),
    # highway=* ways none of the layers may use
    "only_unusable_streets": (_LINE, [(1, [1, 2], {"highway": "proposed"}),
                                      (2, [1, 2], {"highway": "construction"}),
                                      (3, [1, 2], {"highway": "residential",
                                                   "access": "private"})]),
}


def write_osm_fixtures(folder: Path) -> Path:
    """Write every fixture as ``folder/<name>.osm`` (plus ``not_osm.osm``, plain text)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (nodes, ways) in OSM_FIXTURES.items():
        writer = osmium.SimpleWriter(str(folder / f"{name}.osm"), overwrite=True)
        try:
            for node_id, lat, lon, *tags in nodes:
                writer.add_node(Node(id=node_id, location=(lon, lat), version=1,
                                     tags=tags[0] if tags else {}))
            for way_id, refs, tags in ways:
                writer.add_way(Way(id=way_id, nodes=refs, tags=tags, version=1))
        finally:
            writer.close()
    (folder / "not_osm.osm").write_text("this is not OpenStreetMap data\n", encoding="utf-8")
    return folder
