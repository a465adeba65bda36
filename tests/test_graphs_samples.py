"""Sample cities are found in the sample folder and fetched only when checksums match."""
from __future__ import annotations

import hashlib

import pytest

from graphs.errors import InputFileError
from graphs.hashing import file_sha256
from graphs.samples import SAMPLES, SampleFile, fetch_file, sample_paths


def test_catalog_checksums_match_the_shared_data(sample_dir):
    for city in SAMPLES.values():
        for f in city.files:
            assert file_sha256(sample_dir / city.name / f.name) == f.sha256, f.name


def test_sample_paths_of_porto_alegre(sample_dir):
    osm, gtfs = sample_paths("porto-alegre", sample_dir)
    assert osm.name == "poa_osm.pbf"
    assert [p.name for p in gtfs] == ["poa_eptc.zip", "poa_trensurb.zip"]


def test_unknown_sample_and_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="unknown sample city 'lima'.*porto-alegre"):
        sample_paths("lima", tmp_path)
    with pytest.raises(InputFileError, match="sample file missing"):
        sample_paths("porto-alegre", tmp_path)


def test_fetch_verifies_sha256(tmp_path):
    source = tmp_path / "src.bin"
    source.write_bytes(b"tanlu sample")
    good = SampleFile("a.bin", source.as_uri(), hashlib.sha256(b"tanlu sample").hexdigest())
    dest = tmp_path / "dest"
    dest.mkdir()
    assert fetch_file(good, dest).read_bytes() == b"tanlu sample"
    bad = SampleFile("b.bin", source.as_uri(), "0" * 64)
    with pytest.raises(InputFileError, match="does not match the pinned"):
        fetch_file(bad, dest)
    assert not (dest / "b.bin").exists() and not (dest / "b.bin.partial").exists()


def test_fetch_reports_unreachable_source(tmp_path):
    missing = SampleFile("c.bin", (tmp_path / "nowhere.bin").as_uri(), "0" * 64)
    with pytest.raises(InputFileError, match="download failed"):
        fetch_file(missing, tmp_path)


def test_sample_paths_of_poa_in_wuxi(sample_dir):
    osm, gtfs = sample_paths("poa-in-wuxi", sample_dir)
    assert osm.name == "wuxi_osm.pbf"
    assert [p.name for p in gtfs] == ["wuxi_bus.zip", "wuxi_metro.zip"]


def test_derived_sample_without_a_url_cannot_be_fetched(tmp_path):
    from graphs.samples import fetch_sample

    with pytest.raises(InputFileError, match="derived from another sample"):
        fetch_sample("poa-in-wuxi", tmp_path)
