"""Shared fixtures: the sample-data folder and the Porto Alegre network, built once per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

SAMPLE_DIR_VARIABLE = "TANLU_SAMPLE_DIR"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The real sample data (``../shared/data`` in CI), found through ``TANLU_SAMPLE_DIR``."""
    value = os.environ.get(SAMPLE_DIR_VARIABLE)
    if not value or not Path(value, "porto-alegre").is_dir():
        pytest.fail(f"set {SAMPLE_DIR_VARIABLE} to the sample data folder (../shared/data)")
    return Path(value)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def osm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made OSM inputs (``tests/osm_fixtures.py``), written once per session."""
    from osm_fixtures import write_osm_fixtures

    return write_osm_fixtures(tmp_path_factory.mktemp("osm"))


@pytest.fixture(scope="session")
def poa_artifact(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Porto Alegre (OSM + EPTC + Trensurb, China factors) built once for the whole session."""
    from graphs.build import build_network

    out = tmp_path_factory.mktemp("poa") / "poa.tanlu"
    city = sample_dir / "porto-alegre"
    build_network(osm_path=city / "poa_osm.pbf",
                  gtfs_paths=[city / "poa_eptc.zip", city / "poa_trensurb.zip"],
                  factors="cn", out_path=out)
    return out


@pytest.fixture(scope="session")
def poa_network(poa_artifact: Path):
    from graphs.artifact import load_network

    return load_network(poa_artifact)


@pytest.fixture(scope="session")
def wuxi_artifact(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """poa-in-wuxi (Porto Alegre moved to Wuxi, Asia/Shanghai) built once per session (~30 s)
    through ``tanlu build --sample``, the path users take."""
    from api.cli import main

    out = tmp_path_factory.mktemp("wuxi") / "wuxi.tanlu"
    code = main(["build", "--sample", "poa-in-wuxi", "--sample-dir", str(sample_dir),
                 "--out", str(out), "--quiet"])
    assert code == 0
    return out


@pytest.fixture(scope="session")
def wuxi_network(wuxi_artifact: Path):
    from graphs.artifact import load_network

    return load_network(wuxi_artifact)
