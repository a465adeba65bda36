"""Read a GBFS feed (bike share: docked stations and free-floating vehicles) from files.

Versions 2.3 and 3.0 of the General Bikeshare Feed Specification (https://gbfs.org): the files
``station_information.json``, ``station_status.json`` and ``free_bike_status.json`` (2.x) or
``vehicle_status.json`` (3.x), with ``vehicle_types.json`` (form factor and propulsion of each
vehicle type) and ``geofencing_zones.json`` (where a ride may end) when given, from a folder, given
one by one, or as bytes already fetched (:func:`gbfs_from_documents`). Every file's ``last_updated``
(POSIX seconds in 2.x, an RFC 3339 time in 3.x) and ``ttl`` are kept: the feed is valid until
the earliest ``last_updated + ttl`` (:attr:`GbfsFeed.expires_at`). Files are untrusted: a
malformed one raises :class:`GbfsError` naming the file and the field (``data.stations[3].lat``).

The differences the reader absorbs: 3.0 names are lists of localised texts (the first is
kept, with its language), 3.0 counts ``num_vehicles_available`` where 2.3 counts
``num_bikes_available``, and 3.0 vehicles are ``vehicles[].vehicle_id`` where 2.3 bikes are
``bikes[].bike_id``.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import InputFileError

__all__ = ["GbfsError", "GbfsStation", "GbfsVehicle", "GbfsVehicleType", "GbfsZoneRule",
           "GbfsZone", "GbfsFeed", "read_gbfs", "read_gbfs_documents", "gbfs_from_documents", "GBFS_FILES",
           "MAX_GBFS_FILE_BYTES"]

#: The files read, by role; a folder must hold station_information or a vehicle file.
GBFS_FILES = ("station_information.json", "station_status.json", "free_bike_status.json",
              "vehicle_status.json", "vehicle_types.json", "geofencing_zones.json")
#: Larger files are refused (a city's feed is a few MB at most).
MAX_GBFS_FILE_BYTES = 64 * 1024 * 1024
_VERSIONS = ("2.3", "3.0")


class GbfsError(InputFileError):
    """A GBFS file is missing, not JSON, of another version, or lacks or mistypes a field."""


@dataclass(frozen=True)
class GbfsStation:
    """A docking station with its status (counts None when station_status was not given)."""

    station_id: str
    name: str
    lat: float
    lon: float
    capacity: int | None = None
    bikes_available: int | None = None
    docks_available: int | None = None
    is_renting: bool = True
    is_returning: bool = True


@dataclass(frozen=True)
class GbfsVehicle:
    """A free-floating (dockless) vehicle, or one at a station when it has no coordinates."""

    vehicle_id: str
    lat: float | None
    lon: float | None
    vehicle_type_id: str | None = None
    station_id: str | None = None
    is_reserved: bool = False
    is_disabled: bool = False


@dataclass(frozen=True)
class GbfsVehicleType:
    """A vehicle type: GBFS ``form_factor`` (``bicycle``, ``scooter_standing``, ...) and
    ``propulsion_type`` (``human``, ``electric_assist``, ``electric``, ...)."""

    vehicle_type_id: str
    form_factor: str
    propulsion_type: str


@dataclass(frozen=True)
class GbfsZoneRule:
    """One rule of a geofencing zone; ``vehicle_type_ids`` None applies to every type.

    ``ride_end_allowed`` is 3.0's ``ride_end_allowed`` or 2.3's ``ride_allowed`` (an undocked
    ride may start and end in the zone); ``station_parking`` True means a vehicle may only be
    left at a station there.
    """

    vehicle_type_ids: tuple[str, ...] | None
    ride_end_allowed: bool
    station_parking: bool = False


@dataclass(frozen=True)
class GbfsZone:
    """A geofencing zone: its polygons (rings of (lon, lat), the first ring of each polygon its
    outer boundary) and rules; zones listed first take precedence where zones overlap."""

    polygons: tuple[tuple[tuple[tuple[float, float], ...], ...], ...]
    rules: tuple[GbfsZoneRule, ...]


@dataclass(frozen=True)
class GbfsFeed:
    """One snapshot of a system: its version, stations, vehicles and freshness."""

    version: str
    last_updated: datetime      # the oldest of the files' last_updated (UTC)
    ttl_s: int                  # seconds the snapshot stays valid (the files' smallest ttl)
    expires_at: datetime        # earliest last_updated + ttl over the files
    stations: tuple[GbfsStation, ...]
    vehicles: tuple[GbfsVehicle, ...]
    files: tuple[str, ...]      # names of the files read
    vehicle_types: tuple[GbfsVehicleType, ...] = ()
    zones: tuple[GbfsZone, ...] = ()
    #: 3.0 ``global_rules`` (rules outside every zone); empty: riding ends anywhere
    global_rules: tuple[GbfsZoneRule, ...] = ()

    def is_stale(self, now: datetime) -> bool:
        """True if ``now`` (aware) is past :attr:`expires_at`."""
        return now > self.expires_at


def read_gbfs(source: str | Path | Iterable[str | Path]) -> GbfsFeed:
    """Read a GBFS 2.3 or 3.0 snapshot from a folder or from a list of its files.

    Raises
    ------
    GbfsError
        Naming the file and field: unreadable or oversized file, invalid JSON, missing
        ``last_updated``/``ttl``/``data``, a version other than 2.3/3.x or mixed versions,
        a station or vehicle without id or with coordinates out of range, a negative count,
        a status for an unknown station, or neither stations nor vehicles.
    """
    return gbfs_from_documents(read_gbfs_documents(source))


def read_gbfs_documents(source: str | Path | Iterable[str | Path]) -> dict[str, bytes]:
    """The bytes of a folder's (or a list's) GBFS files, by file name, unparsed.

    Raises
    ------
    GbfsError
        A missing or oversized file, or neither station_information nor a vehicle file.
    """
    return {name: _read_bytes(path) for name, path in _paths(source).items()}


def gbfs_from_documents(documents: Mapping[str, bytes]) -> GbfsFeed:
    """A snapshot from file contents already fetched (``{"station_information.json": b"..."}``).

    Raises
    ------
    GbfsError
        As :func:`read_gbfs`; also for a name outside :data:`GBFS_FILES` or a missing
        station_information/vehicle file.
    """
    names = set(documents)
    unknown = sorted(names - set(GBFS_FILES))
    if unknown:
        raise GbfsError(f"{unknown[0]}: not a GBFS file this reader knows", path=unknown[0])
    _check_roles(names, "the feed")
    docs = {}
    for name, data in documents.items():
        if len(data) > MAX_GBFS_FILE_BYTES:
            raise GbfsError(f"{name}: larger than {MAX_GBFS_FILE_BYTES // 2**20} MB", path=name)
        docs[name] = _parse(name, data)
    return _feed(docs)


def _feed(docs: Mapping[str, Mapping[str, Any]]) -> GbfsFeed:
    versions = {name: _version(name, doc) for name, doc in docs.items()}
    if len(set(versions.values())) > 1:
        listed = ", ".join(f"{n} {v}" for n, v in sorted(versions.items()))
        raise GbfsError(f"GBFS files of different versions: {listed}", field="version")
    version = next(iter(versions.values()))
    if version.startswith("2") and "vehicle_status.json" in docs:
        raise GbfsError("vehicle_status.json is a GBFS 3.x file but the feed is 2.3",
                        path="vehicle_status.json", field="version")
    if version.startswith("3") and "free_bike_status.json" in docs:
        raise GbfsError("free_bike_status.json is a GBFS 2.x file but the feed is 3.0",
                        path="free_bike_status.json", field="version")
    times = {name: _times(name, doc) for name, doc in docs.items()}
    stations = _stations(docs, version)
    known = ({s.station_id for s in stations} if "station_information.json" in docs else None)
    vehicles = _vehicles(docs, version, known)
    last = min(t for t, _ in times.values())
    ttl = min(s for _, s in times.values())
    expires = min(t + timedelta(seconds=s) for t, s in times.values())
    types = _vehicle_types(docs)
    zones, global_rules = _zones(docs, version)
    known_types = {t.vehicle_type_id for t in types}
    if types:
        for i, vehicle in enumerate(vehicles):
            if vehicle.vehicle_type_id is not None and vehicle.vehicle_type_id not in known_types:
                vname = "vehicle_status.json" if version.startswith("3") else "free_bike_status.json"
                key = "vehicles" if version.startswith("3") else "bikes"
                raise _bad(vname, f"data.{key}[{i}].vehicle_type_id",
                           f"{vehicle.vehicle_type_id!r} is not in vehicle_types.json")
    return GbfsFeed(version=version, last_updated=last, ttl_s=ttl, expires_at=expires,
                    stations=stations, vehicles=vehicles, files=tuple(sorted(docs)),
                    vehicle_types=types, zones=zones, global_rules=global_rules)


# -- files -----------------------------------------------------------------------------------
def _paths(source) -> dict[str, Path]:
    if isinstance(source, (str, Path)) and not Path(source).exists():
        raise GbfsError(f"{source}: no such folder or file", path=str(source))
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        found = {n: Path(source, n) for n in GBFS_FILES if Path(source, n).is_file()}
        where = str(source)
    else:
        items = [source] if isinstance(source, (str, Path)) else list(source)
        found = {}
        for item in items:
            path = Path(item)
            if path.name not in GBFS_FILES:
                raise GbfsError(f"{path}: not a GBFS file this reader knows (expected one of "
                                f"{', '.join(GBFS_FILES)})", path=str(path))
            if not path.is_file():
                raise GbfsError(f"{path}: no such file", path=str(path))
            found[path.name] = path
        where = ", ".join(str(Path(i)) for i in items)
    _check_roles(set(found), where)
    return found


def _check_roles(found: set[str], where: str) -> None:
    if "station_information.json" not in found and not (
            {"free_bike_status.json", "vehicle_status.json"} & found):
        raise GbfsError(f"{where}: no station_information.json, free_bike_status.json or "
                        f"vehicle_status.json", path=where)
    if "station_status.json" in found and "station_information.json" not in found:
        raise GbfsError(f"{where}: station_status.json without station_information.json",
                        path=where)


def _read_bytes(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_GBFS_FILE_BYTES:
            raise GbfsError(f"{path.name}: larger than {MAX_GBFS_FILE_BYTES // 2**20} MB",
                            path=path.name)
        return path.read_bytes()
    except OSError as err:
        raise GbfsError(f"{path.name}: not readable ({err})", path=path.name) from err


def _parse(name: str, data: bytes) -> Mapping[str, Any]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise GbfsError(f"{name}: not readable JSON ({err})", path=name) from err
    if not isinstance(doc, dict):
        raise GbfsError(f"{name}: the top level must be a JSON object", path=name)
    return doc


def _version(name: str, doc: Mapping[str, Any]) -> str:
    value = doc.get("version")
    if not isinstance(value, str) or not any(
            value == v or value.startswith("3.") and v == "3.0" for v in _VERSIONS):
        raise _bad(name, "version", f"must be \"2.3\" or \"3.x\", got {value!r}")
    return "3.0" if value.startswith("3.") else value


def _times(name: str, doc: Mapping[str, Any]) -> tuple[datetime, int]:
    raw = doc.get("last_updated")
    when: datetime | None = None
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 2**40:
        when = datetime.fromtimestamp(raw, UTC)
    elif isinstance(raw, str):
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None and when.tzinfo is None:
            when = None
    if when is None:
        raise _bad(name, "last_updated", f"must be POSIX seconds (2.x) or an RFC 3339 time "
                                         f"with offset (3.x), got {raw!r}")
    ttl = doc.get("ttl")
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0:
        raise _bad(name, "ttl", f"must be a whole number of seconds >= 0, got {ttl!r}")
    return when.astimezone(UTC), ttl


def _data(name: str, doc: Mapping[str, Any], key: str) -> list:
    data = doc.get("data")
    if not isinstance(data, dict):
        raise _bad(name, "data", "must be an object")
    items = data.get(key)
    if not isinstance(items, list):
        raise _bad(name, f"data.{key}", "must be a list")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _bad(name, f"data.{key}[{i}]", "must be an object")
    return items


# -- content ---------------------------------------------------------------------------------
def _stations(docs: Mapping[str, Mapping[str, Any]], version: str) -> tuple[GbfsStation, ...]:
    name = "station_information.json"
    if name not in docs:
        return ()
    info: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(_data(name, docs[name], "stations")):
        where = f"data.stations[{i}]"
        sid = _id(name, row, "station_id", where)
        if sid in info:
            raise _bad(name, f"{where}.station_id", f"{sid!r} appears twice")
        lat, lon = _coords(name, row, where, required=True)
        info[sid] = {"station_id": sid, "name": _name(name, row, where, version),
                     "lat": lat, "lon": lon,
                     "capacity": _count(name, row, "capacity", where)}
    status = "station_status.json"
    if status in docs:
        available = "num_vehicles_available" if version.startswith("3") else "num_bikes_available"
        for i, row in enumerate(_data(status, docs[status], "stations")):
            where = f"data.stations[{i}]"
            sid = _id(status, row, "station_id", where)
            if sid not in info:
                raise _bad(status, f"{where}.station_id",
                           f"{sid!r} is not in station_information.json")
            bikes = _count(status, row, available, where, required=True)
            docks = _count(status, row, "num_docks_available", where)
            info[sid].update(bikes_available=bikes, docks_available=docks,
                             is_renting=_flag(status, row, "is_renting", where, True),
                             is_returning=_flag(status, row, "is_returning", where, True))
    return tuple(GbfsStation(**fields) for fields in info.values())


def _vehicles(docs: Mapping[str, Mapping[str, Any]], version: str,
              stations: set[str] | None) -> tuple[GbfsVehicle, ...]:
    """Vehicles; a ``station_id`` must name a known station when ``stations`` is given."""
    if version.startswith("3"):
        name, key, id_key = "vehicle_status.json", "vehicles", "vehicle_id"
    else:
        name, key, id_key = "free_bike_status.json", "bikes", "bike_id"
    if name not in docs:
        return ()
    out: list[GbfsVehicle] = []
    seen: set[str] = set()
    for i, row in enumerate(_data(name, docs[name], key)):
        where = f"data.{key}[{i}]"
        vid = _id(name, row, id_key, where)
        if vid in seen:
            raise _bad(name, f"{where}.{id_key}", f"{vid!r} appears twice")
        seen.add(vid)
        station = row.get("station_id")
        if station is not None and (not isinstance(station, str) or (
                stations is not None and station not in stations)):
            raise _bad(name, f"{where}.station_id",
                       f"{station!r} is not in station_information.json")
        lat, lon = _coords(name, row, where, required=station is None)
        vtype = row.get("vehicle_type_id")
        if vtype is not None and not isinstance(vtype, str):
            raise _bad(name, f"{where}.vehicle_type_id", f"must be a string, got {vtype!r}")
        out.append(GbfsVehicle(vehicle_id=vid, lat=lat, lon=lon, vehicle_type_id=vtype,
                               station_id=station,
                               is_reserved=_flag(name, row, "is_reserved", where, False),
                               is_disabled=_flag(name, row, "is_disabled", where, False)))
    return tuple(out)


def _vehicle_types(docs: Mapping[str, Mapping[str, Any]]) -> tuple[GbfsVehicleType, ...]:
    name = "vehicle_types.json"
    if name not in docs:
        return ()
    out: dict[str, GbfsVehicleType] = {}
    for i, row in enumerate(_data(name, docs[name], "vehicle_types")):
        where = f"data.vehicle_types[{i}]"
        tid = _id(name, row, "vehicle_type_id", where)
        if tid in out:
            raise _bad(name, f"{where}.vehicle_type_id", f"{tid!r} appears twice")
        out[tid] = GbfsVehicleType(tid, _id(name, row, "form_factor", where),
                                   _id(name, row, "propulsion_type", where))
    return tuple(out.values())


def _zones(docs: Mapping[str, Mapping[str, Any]],
           version: str) -> tuple[tuple[GbfsZone, ...], tuple[GbfsZoneRule, ...]]:
    name = "geofencing_zones.json"
    if name not in docs:
        return (), ()
    data = docs[name].get("data")
    if not isinstance(data, dict):
        raise _bad(name, "data", "must be an object")
    collection = data.get("geofencing_zones")
    if not isinstance(collection, dict) or not isinstance(collection.get("features"), list):
        raise _bad(name, "data.geofencing_zones", "must be a GeoJSON FeatureCollection")
    zones = []
    for i, feature in enumerate(collection["features"]):
        where = f"data.geofencing_zones.features[{i}]"
        if not isinstance(feature, dict):
            raise _bad(name, where, "must be a GeoJSON Feature")
        props = feature.get("properties")
        rules = props.get("rules", []) if isinstance(props, dict) else None
        zones.append(GbfsZone(polygons=_polygons(name, feature.get("geometry"), where),
                              rules=_rules(name, rules, f"{where}.properties.rules", version)))
    global_rules: tuple[GbfsZoneRule, ...] = ()
    if version.startswith("3"):
        global_rules = _rules(name, data.get("global_rules", []), "data.global_rules", version)
    return tuple(zones), global_rules


def _polygons(name: str, geometry: Any, where: str):
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if kind not in ("Polygon", "MultiPolygon") or not isinstance(coords, list):
        raise _bad(name, f"{where}.geometry", "must be a GeoJSON Polygon or MultiPolygon")
    polygons = [coords] if kind == "Polygon" else coords
    out = []
    for p, polygon in enumerate(polygons):
        rings = []
        for r, ring in enumerate(polygon if isinstance(polygon, list) else [None]):
            points = []
            for point in ring if isinstance(ring, list) else [None]:
                lat, lon = _coords(name, {"lon": point[0], "lat": point[1]}
                                   if isinstance(point, list) and len(point) >= 2 else {},
                                   f"{where}.geometry.coordinates[{p}][{r}]", required=True)
                points.append((lon, lat))
            if len(points) < 4:
                raise _bad(name, f"{where}.geometry.coordinates[{p}][{r}]",
                           "a ring needs at least 4 positions")
            rings.append(tuple(points))
        out.append(tuple(rings))
    return tuple(out)


def _rules(name: str, rules: Any, where: str, version: str) -> tuple[GbfsZoneRule, ...]:
    if not isinstance(rules, list):
        raise _bad(name, where, "must be a list")
    end_key = "ride_end_allowed" if version.startswith("3") else "ride_allowed"
    types_key = "vehicle_type_ids" if version.startswith("3") else "vehicle_type_id"
    out = []
    for i, rule in enumerate(rules):
        at = f"{where}[{i}]"
        if not isinstance(rule, dict):
            raise _bad(name, at, "must be an object")
        types = rule.get(types_key)
        if types is not None and (not isinstance(types, list)
                                  or not all(isinstance(t, str) for t in types)):
            raise _bad(name, f"{at}.{types_key}", f"must be a list of strings, got {types!r}")
        if not isinstance(rule.get(end_key), bool):
            raise _bad(name, f"{at}.{end_key}", f"must be true or false, got "
                                                f"{rule.get(end_key)!r}")
        out.append(GbfsZoneRule(vehicle_type_ids=None if types is None else tuple(types),
                                ride_end_allowed=rule[end_key],
                                station_parking=_flag(name, rule, "station_parking", at, False)))
    return tuple(out)


def _id(name: str, row: Mapping[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, f"{where}.{key}", f"must be a non-empty string, got {value!r}")
    return value


def _coords(name: str, row: Mapping[str, Any], where: str, *,
            required: bool) -> tuple[float | None, float | None]:
    lat, lon = row.get("lat"), row.get("lon")
    if lat is None and lon is None and not required:
        return None, None
    numbers: list[float] = []
    for key, value, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if (not isinstance(value, (int, float)) or isinstance(value, bool)
                or not math.isfinite(value) or abs(value) > limit):
            raise _bad(name, f"{where}.{key}", f"must be a number in [-{limit:g}, {limit:g}], "
                                               f"got {value!r}")
        numbers.append(float(value))
    return numbers[0], numbers[1]


def _name(name: str, row: Mapping[str, Any], where: str, version: str) -> str:
    value = row.get("name")
    if version.startswith("3"):
        if (isinstance(value, list) and value and isinstance(value[0], dict)
                and isinstance(value[0].get("text"), str)):
            return value[0]["text"]
        raise _bad(name, f"{where}.name", f"must be a list of {{text, language}} (3.0), "
                                          f"got {value!r}")
    if isinstance(value, str):
        return value
    raise _bad(name, f"{where}.name", f"must be a string (2.3), got {value!r}")


def _count(name: str, row: Mapping[str, Any], key: str, where: str, *,
           required: bool = False) -> int | None:
    value = row.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad(name, f"{where}.{key}", f"must be a whole number >= 0, got {value!r}")
    return value


def _flag(name: str, row: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = row.get(key, default)
    if isinstance(value, bool):
        return value
    if value in (0, 1):  # GBFS 1.x/2.0 wrote booleans as 0/1
        return bool(value)
    raise _bad(name, f"{where}.{key}", f"must be true or false, got {value!r}")


def _bad(name: str, field: str, why: str) -> GbfsError:
    return GbfsError(f"{name}: {field} {why}", path=name, field=field)
