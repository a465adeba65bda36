"""Tampered artifacts are refused on load with one line, never a crash (issue 16, item 1).

Each case copies the real Porto Alegre artifact, changes one member, and checks that
``load_network`` raises ``ArtifactError`` naming the member and that ``tanlu plan`` (run as a
subprocess, so a segfault would show as a negative return code) exits 2 with one line.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from graphs.artifact import load_network
from graphs.errors import ArtifactError

ROOT = Path(__file__).resolve().parent.parent


def _rewrite(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
    return dst


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _array(path: Path, member: str) -> np.ndarray:
    with zipfile.ZipFile(path) as zf:
        return np.load(io.BytesIO(zf.read(member)), allow_pickle=False)


def _manifest(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("manifest.json"))


def _with(src: Path, member: str, change) -> bytes:
    array = _array(src, member).copy()
    change(array)
    return _npy(array)


def _huge_header(src: Path, member: str) -> bytes:
    """The member's bytes with a header declaring 10^12 elements (data unchanged)."""
    raw = _npy(_array(src, member))
    header_end = raw.index(b"\n") + 1
    header = raw[10:header_end].decode("latin1")
    n = len(_array(src, member))
    forged = header.replace(f"({n},)", "(1000000000000,)")
    forged = forged.rstrip().ljust(len(header) - 1) + "\n"
    assert len(forged) == len(header) and forged != header
    return raw[:10] + forged.encode("latin1") + raw[header_end:]


def _cases(src: Path) -> dict[str, tuple[dict[str, bytes], str]]:
    """name -> (members to replace, text the error must contain)."""
    manifest = _manifest(src)
    deep = "[" * 100_000 + "]" * 100_000

    def bump_last(a):
        a[-1] = 10**9

    def negate_first(a):
        a[0] = -5

    return {
        "footpath target": ({"timetable/footpath_target.npy": _with(
            src, "timetable/footpath_target.npy", bump_last)}, "footpath_target"),
        "edge head": ({"streets/walk/edge_head.npy": _with(
            src, "streets/walk/edge_head.npy", bump_last)}, "edge_head"),
        "pattern stop": ({"timetable/pattern_stops.npy": _with(
            src, "timetable/pattern_stops.npy", bump_last)}, "pattern_stops"),
        "pattern trip indptr": ({"timetable/pattern_trip_indptr.npy": _with(
            src, "timetable/pattern_trip_indptr.npy", bump_last)}, "pattern_trip_indptr"),
        "negative departures": ({"timetable/stop_time_departure_s.npy": _with(
            src, "timetable/stop_time_departure_s.npy", negate_first)}, "stop_time_"),
        "wrong dtype": ({"streets/walk/edge_head.npy": _npy(
            _array(src, "streets/walk/edge_head.npy").astype(np.float64))}, "edge_head"),
        "huge npy shape": ({"timetable/footpath_target.npy": _huge_header(
            src, "timetable/footpath_target.npy")}, "footpath_target"),
        "manifest a list": ({"manifest.json": b"[1, 2, 3]"}, "manifest"),
        "manifest deep nesting": ({"manifest.json": deep.encode()}, "manifest"),
        "layers wrong type": ({"manifest.json": json.dumps(
            dict(manifest, layers="walk")).encode()}, "layers"),
        "missing has_timetable": ({"manifest.json": json.dumps(
            {k: v for k, v in manifest.items() if k != "has_timetable"}).encode()},
            "has_timetable"),
        "missing scalar": ({"manifest.json": json.dumps(dict(manifest, scalars=dict(
            manifest["scalars"], timetable={}))).encode()}, "service_first_date"),
    }


CASES = ["footpath target", "edge head", "pattern stop", "pattern trip indptr",
         "negative departures", "wrong dtype", "huge npy shape", "manifest a list",
         "manifest deep nesting", "layers wrong type", "missing has_timetable",
         "missing scalar"]


@pytest.mark.parametrize("case", CASES)
def test_tampered_artifact_raises_artifact_error(poa_artifact: Path, tmp_path: Path,
                                                 case: str) -> None:
    replace, needle = _cases(poa_artifact)[case]
    bad = _rewrite(poa_artifact, tmp_path / "bad.tanlu", replace)
    with pytest.raises(ArtifactError, match=needle) as info:
        load_network(bad)
    assert "\n" not in str(info.value)


def test_manifest_scalar_cannot_replace_an_array(poa_artifact: Path, tmp_path: Path) -> None:
    manifest = _manifest(poa_artifact)
    manifest["scalars"]["timetable"]["footpath_target"] = 7
    bad = _rewrite(poa_artifact, tmp_path / "bad.tanlu",
                   {"manifest.json": json.dumps(manifest).encode()})
    assert isinstance(load_network(bad).timetable.footpath_target, np.ndarray)


def test_untampered_copy_still_loads(poa_artifact: Path, tmp_path: Path) -> None:
    copy = _rewrite(poa_artifact, tmp_path / "same.tanlu", {})
    assert load_network(copy).timetable is not None


@pytest.mark.parametrize("case", ["footpath target", "edge head", "huge npy shape",
                                  "manifest a list"])
def test_tanlu_plan_on_tampered_artifact_exits_2_with_one_line(poa_artifact: Path,
                                                               tmp_path: Path,
                                                               case: str) -> None:
    replace, needle = _cases(poa_artifact)[case]
    bad = _rewrite(poa_artifact, tmp_path / "bad.tanlu", replace)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "plan", "--network", str(bad),
         "--from", "-30.03,-51.23", "--to", "-30.06,-51.17", "--at", "2024-06-03T08:00"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
