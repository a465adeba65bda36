"""The query side (planner, the API's WSGI app) imports no build-only dependency or module."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Modules only the build needs: their import costs every gunicorn/Dask worker ~1 s.
BUILD_ONLY = ("osmnx", "geopandas", "tqdm", "networkx", "osmium", "pyrosm", "graphs.build",
              "graphs.streets", "graphs._compile_streets", "graphs._osmnx_streets",
              "graphs.osm_reader", "graphs.export", "graphs.timetable", "graphs.feed_merge",
              "graphs.linking", "graphs.shapes", "graphs.gtfs")


def loaded_after_import(module: str) -> set[str]:
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", ["planner", "planner.reach", "audit", "api.wsgi", "graphs.artifact",
                                    "graphs.network"])
def test_query_side_imports_no_build_code(module: str) -> None:
    loaded = loaded_after_import(module)
    assert module in loaded  # the probe really imported it
    assert not loaded & set(BUILD_ONLY), sorted(loaded & set(BUILD_ONLY))


def test_build_names_still_reachable_from_the_package() -> None:
    """``graphs.build_network`` etc. stay public; importing them loads the build stack."""
    code = ("import sys, graphs; assert 'graphs.build' not in sys.modules; "
            "f = graphs.build_network; assert 'graphs.build' in sys.modules; "
            "assert f.__module__ == 'graphs.build'; "
            "from graphs import street_layer_to_graph, build_streets, compile_timetable")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)
    import graphs
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        graphs.nope  # noqa: B018 - the attribute access is the test
