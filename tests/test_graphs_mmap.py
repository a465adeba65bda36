"""Memory-mapped artifact arrays (graphs._mmap): aligned members, equal to copied arrays,
read-only, CRC-checked, and the copying fallback for artifacts written without alignment."""
from __future__ import annotations

import dataclasses
import io
import zipfile

import numpy as np
import pytest
from test_graphs_artifact import _tiny_network

from graphs._mmap import ALIGNMENT, map_member
from graphs.artifact import load_network, save_network
from graphs.errors import ArtifactError


def _arrays(network):
    for name, layer in network.streets.items():
        for field in dataclasses.fields(layer):
            value = getattr(layer, field.name)
            if isinstance(value, np.ndarray):
                yield f"streets/{name}/{field.name}", value


def _is_mapped(array: np.ndarray) -> bool:
    while array.base is not None and not isinstance(array, np.memmap):
        array = array.base
    return isinstance(array, np.memmap)


def test_mapped_arrays_equal_copied_ones_and_are_read_only(tmp_path):
    path = save_network(_tiny_network(), tmp_path / "t.tanlu")
    copied, mapped = dict(_arrays(load_network(path))), dict(_arrays(load_network(path,
                                                                                  mmap=True)))
    assert copied.keys() == mapped.keys()
    for name, array in mapped.items():
        assert array.dtype == copied[name].dtype and array.shape == copied[name].shape
        np.testing.assert_array_equal(array, copied[name])
        assert not array.flags.writeable and array.flags.aligned
        assert _is_mapped(array) == (array.size > 0), name  # empty arrays cannot be mapped
    with pytest.raises(ValueError):
        mapped["streets/walk/indptr"][0] = 7


def test_members_start_aligned(tmp_path):
    path = save_network(_tiny_network(), tmp_path / "t.tanlu")
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            start = info.header_offset + 30 + int.from_bytes(raw[info.header_offset + 26:
                                                                 info.header_offset + 28],
                                                             "little") \
                + int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
            header = np.lib.format.read_magic(io.BytesIO(raw[start:start + 8]))
            assert header in ((1, 0), (2, 0))
            npy = io.BytesIO(raw[start:start + info.file_size])
            np.lib.format.read_magic(npy)
            np.lib.format.read_array_header_1_0(npy)
            assert (start + npy.tell()) % ALIGNMENT == 0, info.filename


def test_a_flipped_byte_inside_an_array_is_refused(tmp_path):
    path = save_network(_tiny_network(), tmp_path / "t.tanlu")
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    member = next(i for i, info in enumerate(infos)
                  if info.filename == "streets/walk/edge_length_m.npy")
    raw = bytearray(path.read_bytes())
    raw[infos[member + 1].header_offset - 1] ^= 0xFF  # the member's last byte: array data
    path.write_bytes(bytes(raw))
    with pytest.raises(ArtifactError, match="CRC"):
        load_network(path, mmap=True)


def test_artifacts_written_without_alignment_are_copied(tmp_path):
    network = _tiny_network()
    path = tmp_path / "old.tanlu"
    with zipfile.ZipFile(save_network(network, tmp_path / "t.tanlu")) as src, \
            zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    with zipfile.ZipFile(path) as zf:
        results = {name: map_member(zf, path, name) for name in zf.namelist()
                   if name.endswith(".npy")}
    assert any(result is None for result in results.values())  # unaligned: not mapped
    for name, array in _arrays(load_network(path, mmap=True)):
        np.testing.assert_array_equal(array, dict(_arrays(network))[name])
