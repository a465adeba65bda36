"""GBFS files against the official GBFS JSON schemas (MobilityData's gbfs-json-schema, as pinned
and shipped by the ``gbfs-validator`` package: no download).

Oracles: the schemas themselves, applied with the ``jsonschema`` library (not gbfs-validator's
own rule engine, so a bug there cannot hide one here). The hand-written Porto Alegre fixture and
the benchmarks' generated city feed must be valid; each broken copy below must be invalid by the
schema *and* refused by ``graphs.gbfs`` (the reader is at least as strict on what it reads).
"""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import jsonschema
import pytest
from gbfs_validator.feedhelpers import load_schema

from graphs.gbfs import GbfsError, gbfs_from_documents

FIXTURE = Path(__file__).parent / "fixtures" / "gbfs_poa"


def _errors(version: str, name: str, doc: dict) -> list[str]:
    schema = load_schema(version, name.removesuffix(".json"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("version", ["2.3", "3.0"])
def test_fixture_files_are_valid_gbfs(version):
    files = sorted((FIXTURE / f"v{version}").glob("*.json"))
    assert len(files) == 4
    for path in files:
        assert _errors(version, path.name, json.loads(path.read_text(encoding="utf-8"))) == [], \
            path.name


def test_generated_city_feed_is_valid_gbfs(poa_network, tmp_path):
    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    try:
        from gen_gbfs import write_city_gbfs
    finally:
        sys.path.pop(0)
    out = write_city_gbfs(poa_network, tmp_path / "city", stations=40, bikes=120)
    files = sorted(Path(out).glob("*.json"))
    assert files
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert _errors(doc["version"], path.name, doc) == [], path.name


def _broken(version: str, name: str, change) -> dict[str, bytes]:
    docs = {p.name: json.loads(p.read_text(encoding="utf-8"))
            for p in (FIXTURE / f"v{version}").glob("*.json")}
    doc = copy.deepcopy(docs[name])
    change(doc["data"])
    assert _errors(version, name, doc), "the change must break the schema"
    docs[name] = doc
    return {n: json.dumps(d).encode() for n, d in docs.items()}


BREAKS = [
    ("2.3", "station_information.json", lambda d: d["stations"][0].pop("station_id")),
    ("2.3", "station_information.json", lambda d: d["stations"][0].update(lat="north")),
    ("2.3", "station_information.json", lambda d: d["stations"][0].update(lat=123.0)),
    ("2.3", "free_bike_status.json", lambda d: d["bikes"][0].update(lon=-200.0)),
    ("3.0", "station_information.json", lambda d: d["stations"][0].pop("lon")),
    ("3.0", "vehicle_status.json", lambda d: d["vehicles"][0].pop("vehicle_id")),
]


@pytest.mark.parametrize(("version", "name", "change"), BREAKS)
def test_schema_invalid_files_are_refused_by_the_reader(version, name, change):
    with pytest.raises(GbfsError):
        gbfs_from_documents(_broken(version, name, change))
