"""Write small GBFS 2.3 feeds for tests (generated in the test, never downloaded)."""
from __future__ import annotations

import json
from pathlib import Path

#: 2019-05-13 08:00 in Porto Alegre (11:00 UTC), the date the planner tests use
LAST_UPDATED = 1557745200


def write_feed(folder: Path, *, stations=(), vehicles=(), types=None, zones=None,
               last_updated: int = LAST_UPDATED, ttl: int = 60) -> Path:
    """A GBFS 2.3 folder. ``stations``: ``(id, name, lat, lon, bikes, docks)``; ``vehicles``:
    ``(id, lat, lon[, vehicle_type_id])``; ``types``: ``(id, form_factor, propulsion_type)``;
    ``zones``: GeoJSON features of ``geofencing_zones.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def dump(name: str, key: str, rows) -> None:
        doc = {"last_updated": last_updated, "ttl": ttl, "version": "2.3", "data": {key: rows}}
        (folder / name).write_text(json.dumps(doc), encoding="utf-8")

    dump("station_information.json", "stations",
         [{"station_id": s[0], "name": s[1], "lat": s[2], "lon": s[3], "capacity": 10}
          for s in stations])
    dump("station_status.json", "stations",
         [{"station_id": s[0], "num_bikes_available": s[4], "num_docks_available": s[5],
           "is_installed": True, "is_renting": True, "is_returning": True,
           "last_reported": last_updated} for s in stations])
    dump("free_bike_status.json", "bikes",
         [{"bike_id": v[0], "lat": v[1], "lon": v[2], "is_reserved": False,
           "is_disabled": False, **({"vehicle_type_id": v[3]} if len(v) > 3 else {})}
          for v in vehicles])
    if types is not None:
        dump("vehicle_types.json", "vehicle_types",
             [{"vehicle_type_id": t[0], "form_factor": t[1], "propulsion_type": t[2]}
              for t in types])
    if zones is not None:
        dump("geofencing_zones.json", "geofencing_zones",
             {"type": "FeatureCollection", "features": list(zones)})
    return folder


def square_zone(lat: float, lon: float, half_deg: float, *, ride_allowed: bool) -> dict:
    """A square geofencing zone around (lat, lon) whose rule applies to every vehicle type."""
    ring = [[lon - half_deg, lat - half_deg], [lon + half_deg, lat - half_deg],
            [lon + half_deg, lat + half_deg], [lon - half_deg, lat + half_deg],
            [lon - half_deg, lat - half_deg]]
    return {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
            "properties": {"rules": [{"ride_allowed": ride_allowed,
                                      "ride_through_allowed": True}]}}
