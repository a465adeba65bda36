"""Artifact arrays mapped from the file instead of copied, so server processes share their pages.

An artifact is a zip of uncompressed (``ZIP_STORED``) ``.npy`` members. :func:`write_aligned`
pads each member's local header (a zip "extra" field, as Android's zipalign does) so that the
array data starts at a multiple of :data:`ALIGNMENT` bytes in the file; :func:`map_member` then
maps the array read-only with ``np.memmap``. Every process that maps the same file shares the
same page-cache pages, so N workers serving a city hold its arrays once in memory. Members that
are compressed or not aligned (artifacts written before this module) return ``None`` and are
read the ordinary way.
"""
from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["ALIGNMENT", "write_aligned", "map_member"]

#: Array data starts at a multiple of this many bytes (the .npy header is itself padded to 64).
ALIGNMENT = 64
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's own layout of a local file header
_LOCAL_SIGNATURE = b"PK\x03\x04"
_PADDING_ID = 0xD935  # the extra-field id zipalign uses for padding
_CRC_CHUNK = 1 << 24


def write_aligned(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    """Write ``data`` as the stored member ``name`` so that its bytes after the .npy header
    start at a multiple of :data:`ALIGNMENT` in the file (``zf`` is written sequentially)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    assert zf.fp is not None, "the zip must be open for writing"
    offset = zf.fp.tell()
    used = offset + _LOCAL_HEADER.size + len(name.encode("utf-8")) + 4
    padding = -used % ALIGNMENT
    info.extra = struct.pack("<HH", _PADDING_ID, padding) + bytes(padding)
    zf.writestr(info, data)


def map_member(zf: zipfile.ZipFile, path: str | os.PathLike, name: str) -> np.ndarray | None:
    """The array of member ``name`` mapped read-only from ``path``, its CRC checked; ``None``
    when the member is compressed or its data is not aligned (read it normally then).

    Raises
    ------
    ValueError
        If the member's header, size or CRC is inconsistent (a corrupt or truncated artifact).
    """
    info = zf.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED or info.file_size == 0:
        return None
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        header = fh.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
            raise ValueError(f"{name}: bad local header")
        fields = _LOCAL_HEADER.unpack(header)
        start = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
        if start + info.file_size > os.fstat(fh.fileno()).st_size:
            raise ValueError(f"{name}: member runs past the end of the file")
        fh.seek(start)
        version = np.lib.format.read_magic(fh)
        shape, fortran_order, dtype = _read_header(fh, version)
        data_start = fh.tell()
    if dtype.hasobject:
        raise ValueError(f"{name}: object arrays are not allowed")
    count = int(np.prod(shape, dtype=np.int64))
    if data_start - start + count * dtype.itemsize != info.file_size:
        raise ValueError(f"{name}: declared shape {shape} does not match the member's size")
    if data_start % ALIGNMENT or count == 0:
        return None
    raw = np.memmap(Path(path), dtype=np.uint8, mode="r", offset=start, shape=(info.file_size,))
    if _crc32(raw) != info.CRC:
        raise ValueError(f"{name}: CRC mismatch (corrupt artifact)")
    array = raw[data_start - start:].view(dtype).reshape(shape, order="F" if fortran_order else "C")
    return array.view(np.ndarray)


def _read_header(fh: io.BufferedReader, version: tuple[int, int]) -> tuple:
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fh)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fh)
    raise ValueError(f".npy format version {version} is not supported")


def _crc32(raw: np.ndarray) -> int:
    crc = 0
    view = memoryview(raw.data)
    for begin in range(0, len(view), _CRC_CHUNK):
        crc = zlib.crc32(view[begin:begin + _CRC_CHUNK], crc)
    return crc
