"""The artifact round-trips exactly and refuses corrupt, truncated or foreign files."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from graphs.artifact import FORMAT_VERSION, load_network, read_manifest, save_network
from graphs.errors import ArtifactError
from graphs.network import ChargingStations, Network, StreetLayer


def _tiny_network() -> Network:
    layer = StreetLayer(
        name="walk", node_osmid=np.array([10, 11], dtype=np.int64),
        node_lon=np.array([-51.2, -51.19]), node_lat=np.array([-30.0, -30.0]),
        indptr=np.array([0, 1, 2], dtype=np.int64),
        edge_tail=np.array([0, 1], dtype=np.int32), edge_head=np.array([1, 0], dtype=np.int32),
        edge_length_m=np.array([963.0, 963.0], dtype=np.float32),
        edge_duration_s=np.array([722.0, 722.0], dtype=np.float32),
        edge_name=np.array([0, -1], dtype=np.int32), names=np.array(["Rua Ó"]),
        geometry_indptr=np.array([0, 2, 4], dtype=np.int64),
        geometry_lonlat=np.array([[-51.2, -30.0], [-51.19, -30.0], [-51.19, -30.0], [-51.2, -30.0]]))
    charging = ChargingStations(
        osmid=np.array([5], dtype=np.int64), lon=np.array([-51.2]), lat=np.array([-30.0]),
        name=np.array(["Posto"]), operator=np.array([""]), capacity=np.array([-1], dtype=np.int32))
    return Network(manifest={"timezone": "America/Sao_Paulo"}, streets={"walk": layer},
                   timetable=None, charging_stations=charging)


def test_round_trip_keeps_every_array_and_dtype(tmp_path):
    path = save_network(_tiny_network(), tmp_path / "t.tanlu")
    loaded = load_network(path)
    original = _tiny_network().streets["walk"]
    for name in ("node_osmid", "indptr", "edge_length_m", "names", "geometry_lonlat"):
        np.testing.assert_array_equal(getattr(loaded.streets["walk"], name), getattr(original, name))
        assert getattr(loaded.streets["walk"], name).dtype == getattr(original, name).dtype
    assert loaded.timetable is None
    assert loaded.manifest["timezone"] == "America/Sao_Paulo"
    assert read_manifest(path)["format_version"] == FORMAT_VERSION


def test_truncated_artifact_is_a_clear_error(tmp_path):
    path = save_network(_tiny_network(), tmp_path / "t.tanlu")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="corrupt or truncated"):
        load_network(path)


def test_flipped_byte_in_an_array_is_caught_by_the_crc(tmp_path):
    path = save_network(_tiny_network(), tmp_path / "t.tanlu")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("streets/walk/edge_length_m.npy")
    data = bytearray(path.read_bytes())
    data[info.header_offset + 30 + len(info.filename) + info.file_size - 1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError):
        load_network(path)


def test_wrong_format_version_is_refused_with_advice(tmp_path):
    path = tmp_path / "old.tanlu"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "tanlu-network", "format_version": 0}))
    with pytest.raises(ArtifactError, match="version 0 is not supported.*tanlu build"):
        load_network(path)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04garbage"])
def test_non_artifacts_are_refused(tmp_path, content):
    path = tmp_path / "x.tanlu"
    path.write_bytes(content)
    with pytest.raises(ArtifactError, match="not a tanlu network artifact"):
        load_network(path)


def test_missing_file(tmp_path):
    with pytest.raises(ArtifactError, match="no such network artifact"):
        load_network(tmp_path / "absent.tanlu")


def test_pickled_arrays_are_never_loaded(tmp_path):
    """An object array would need pickle to load; the loader must refuse, not execute it."""
    path = save_network(_tiny_network(), tmp_path / "t.tanlu")
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    import io
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    members["streets/walk/names.npy"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ArtifactError):
        load_network(path)


def test_loaded_arrays_are_read_only(tmp_path):
    loaded = load_network(save_network(_tiny_network(), tmp_path / "t.tanlu"))
    with pytest.raises(ValueError, match="read-only"):
        loaded.streets["walk"].edge_head[0] = 1


def test_boarding_flags_round_trip_and_default_when_absent(fixtures_dir, tmp_path):
    """Artifacts written before stop_time_pickup_ok/dropoff_ok existed load as 'allowed'."""
    import dataclasses

    from graphs.timetable import compile_timetable

    class Factors:
        def g_per_pkm(self, key):
            return 50.0

    tt, _ = compile_timetable([fixtures_dir / "gtfs_tiny"], factors=Factors())
    pickup = np.ones_like(tt.stop_time_pickup_ok)
    pickup[1] = False
    network = dataclasses.replace(_tiny_network(),
                                  timetable=dataclasses.replace(tt, stop_time_pickup_ok=pickup))
    path = save_network(network, tmp_path / "t.tanlu")
    np.testing.assert_array_equal(load_network(path).timetable.stop_time_pickup_ok, pickup)

    old = tmp_path / "old.tanlu"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            if "_ok.npy" not in item.filename:
                dst.writestr(item, src.read(item.filename))
    loaded = load_network(old).timetable
    assert loaded.stop_time_pickup_ok.all() and loaded.stop_time_dropoff_ok.all()
    assert loaded.stop_time_pickup_ok.shape == tt.stop_time_arrival_s.shape
