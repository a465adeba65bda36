"""Save and load the network artifact: one zip of ``.npy`` arrays and a JSON manifest.

Why this format: numpy arrays load fast, ``allow_pickle=False`` means loading can never execute
code, and the zip's CRCs catch corruption and truncation. The manifest says which format
version wrote the file; an unknown version is refused rather than misread.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import _validate
from ._mmap import map_member, write_aligned
from .errors import ArtifactError
from .gbfs import GBFS_FILES, MAX_GBFS_FILE_BYTES, GbfsError
from .network import ChargingStations, Network, Parkings, StreetLayer, Timetable

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "save_network", "load_network", "read_manifest"]

FORMAT_NAME = "tanlu-network"
FORMAT_VERSION = 1
_MANIFEST = "manifest.json"
_GBFS = "gbfs"  # folder of the GBFS files baked in (graphs.gbfs), kept as fetched


def save_network(network: Network, path: str | os.PathLike) -> Path:
    """Write ``network`` to ``path`` atomically (a temporary file renamed into place)."""
    path = Path(path)
    manifest = dict(network.manifest, format=FORMAT_NAME, format_version=FORMAT_VERSION)
    scalars: dict[str, Any] = {}
    tmp = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, layer in network.streets.items():
            scalars[f"streets/{name}"] = _write_arrays(zf, f"streets/{name}", layer)
        if network.timetable is not None:
            scalars["timetable"] = _write_arrays(zf, "timetable", network.timetable)
        scalars["charging"] = _write_arrays(zf, "charging", network.charging_stations)
        scalars["parkings"] = _write_arrays(zf, "parkings", network.parkings)
        for name, data in sorted(network.gbfs_files.items()):
            zf.writestr(f"{_GBFS}/{name}", data)
        manifest["gbfs_files"] = sorted(network.gbfs_files)
        manifest["layers"] = sorted(network.streets)
        manifest["has_timetable"] = network.timetable is not None
        manifest["scalars"] = scalars
        zf.writestr(_MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, default=str))
    os.replace(tmp, path)
    return path


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """Read only the manifest of an artifact (cheap: used by ``tanlu inspect``).

    Raises
    ------
    ArtifactError
        If the file is missing, not an artifact, or of an unsupported version.
    """
    with _open_zip(path) as zf:
        return _read_checked_manifest(zf, path)


def load_network(path: str | os.PathLike, *, mmap: bool = False) -> Network:
    """Load an artifact written by :func:`save_network`, validating every array.

    With ``mmap=True`` the arrays are mapped read-only from the file (``graphs._mmap``), so
    processes serving the same file share their memory; the file must then not be modified in
    place (replace it with a rename, as :func:`save_network` does).

    Raises
    ------
    ArtifactError
        If the file is missing, corrupt, truncated or of an unsupported format version.
    """
    with _open_zip(path) as zf:
        manifest = _read_checked_manifest(zf, path)
        scalars = manifest.pop("scalars", {})
        try:
            _check_layout(manifest, scalars)
            mapped_from = path if mmap else None
            streets = {name: _read_dataclass(zf, f"streets/{name}", StreetLayer, scalars,
                                             mapped_from)
                       for name in manifest["layers"]}
            timetable = (_read_dataclass(zf, "timetable", Timetable, scalars, mapped_from)
                         if manifest["has_timetable"] else None)
            charging = _read_dataclass(zf, "charging", ChargingStations, scalars, mapped_from)
            # parkings came after format 1's first artifacts: those load with none
            parkings = (_read_dataclass(zf, "parkings", Parkings, scalars, mapped_from)
                        if "parkings" in scalars else Parkings.empty())
            for name, layer in streets.items():
                _validate.validate_street_layer(f"streets/{name}", layer)
            if timetable is not None:
                walk = streets.get("walk")
                _validate.validate_timetable(timetable, walk.n_nodes if walk else None)
            _validate.validate_charging(charging)
            _validate.validate_parkings(parkings)
            network = Network(manifest=manifest, streets=streets, timetable=timetable,
                              charging_stations=charging, parkings=parkings,
                              gbfs_files=_read_gbfs(zf, manifest))
            network.gbfs  # noqa: B018 - untrusted like any input: validated (and parsed) here
        except (ArtifactError, GbfsError) as err:
            raise ArtifactError(f"{path}: invalid artifact: {err}") from err
        except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile, EOFError) as err:
            raise ArtifactError(f"{path}: artifact is corrupt or truncated ({err})") from err
    return network


def _read_gbfs(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> dict[str, bytes]:
    names = manifest.get("gbfs_files", [])
    if not isinstance(names, list) or not all(n in GBFS_FILES for n in names):
        raise ArtifactError(f"manifest key 'gbfs_files' must list GBFS file names, got {names!r}")
    out = {}
    for name in names:
        info = zf.getinfo(f"{_GBFS}/{name}")
        if info.file_size > MAX_GBFS_FILE_BYTES:
            raise ArtifactError(f"{_GBFS}/{name} is larger than {MAX_GBFS_FILE_BYTES} bytes")
        out[name] = zf.read(info)
    return out


def _write_arrays(zf: zipfile.ZipFile, prefix: str, obj: Any) -> dict[str, Any]:
    scalars = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, np.ndarray):
            buffer = io.BytesIO()
            np.save(buffer, value, allow_pickle=False)
            write_aligned(zf, f"{prefix}/{f.name}.npy", buffer.getvalue())
        else:
            scalars[f.name] = value
    return scalars


def _check_layout(manifest: dict[str, Any], scalars: Any) -> None:
    """Refuse a manifest whose keys the loader relies on are missing or of the wrong type."""
    layers = manifest.get("layers")
    if not isinstance(layers, list) or not all(isinstance(n, str) for n in layers):
        raise ArtifactError("manifest key 'layers' must be a list of layer names")
    if not isinstance(manifest.get("has_timetable"), bool):
        raise ArtifactError("manifest key 'has_timetable' must be true or false")
    if not isinstance(scalars, dict) or not all(isinstance(v, dict) for v in scalars.values()):
        raise ArtifactError("manifest key 'scalars' must map each array group to its values")


def _read_dataclass(zf: zipfile.ZipFile, prefix: str, cls: type, scalars: dict,
                    mapped_from: str | os.PathLike | None = None) -> Any:
    given = scalars.get(prefix, {})
    values: dict[str, Any] = {}
    members = {info.filename: info for info in zf.infolist()}
    for f in dataclasses.fields(cls):
        member_name = f"{prefix}/{f.name}.npy"
        if "ndarray" not in str(f.type):  # a scalar field, kept in the manifest
            if not isinstance(given.get(f.name), str):
                raise ArtifactError(f"manifest scalars/{prefix}/{f.name}: missing or not a "
                                    "string")
            values[f.name] = given[f.name]
            continue
        if member_name not in members:
            if f.default is not dataclasses.MISSING:
                continue  # an optional array added after this artifact was written: default
            raise ArtifactError(f"{member_name}: missing array")
        array = (map_member(zf, mapped_from, member_name) if mapped_from is not None
                 else None)  # map_member checks the declared shape against the member size
        if array is None:
            array = _read_npy(zf, members[member_name])
        array.flags.writeable = False  # shared by every query: an in-place change must fail
        values[f.name] = array
    return cls(**values)


def _read_npy(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """Read one array, checking its declared shape against the member's size first.

    A tampered header could declare a shape of 10^12 elements: numpy would try to allocate it
    before noticing the data is short. The declared byte count must fit in the member.
    """
    with zf.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _fortran, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, _fortran, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise ValueError(f"npy format version {version}")
        except ValueError as err:
            raise ArtifactError(f"{info.filename}: bad array header ({err})") from err
        if dtype.hasobject:
            raise ArtifactError(f"{info.filename}: object arrays are not allowed")
        declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if declared > info.file_size - member.tell():
            raise ArtifactError(f"{info.filename}: declared shape {shape} is larger than the "
                                "stored data")
        member.seek(0)
        array = np.lib.format.read_array(member, allow_pickle=False)
    array.flags.writeable = False  # shared by every query: an in-place change must fail loudly
    return array


def _open_zip(path: str | os.PathLike) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError as err:
        raise ArtifactError(f"{path}: no such network artifact") from err
    except (zipfile.BadZipFile, OSError) as err:
        raise ArtifactError(f"{path}: not a tanlu network artifact (corrupt or truncated)") from err


def _read_checked_manifest(zf: zipfile.ZipFile, path: str | os.PathLike) -> dict[str, Any]:
    try:
        manifest = json.loads(zf.read(_MANIFEST))
    except (KeyError, ValueError, RecursionError, zipfile.BadZipFile, OSError) as err:
        raise ArtifactError(f"{path}: not a tanlu network artifact (no readable manifest)") from err
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{path}: not a tanlu network artifact (manifest is not an object)")
    if manifest.get("format") != FORMAT_NAME:
        raise ArtifactError(f"{path}: not a tanlu network artifact")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"{path}: artifact format version {version} is not supported "
            f"(this tanlu reads version {FORMAT_VERSION}); rebuild it with `tanlu build`")
    return manifest
