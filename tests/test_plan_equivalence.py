"""Plans do not depend on the planner's caches, and the fast line builders draw what the plain
ones draw.

By default the plans of seeded Porto Alegre queries from a cold planner (every cache
forgotten before each query) are compared, field by field, with those of one warm planner (the
queries in another order, each planned twice).

Set ``TANLU_PLAN_REFERENCE=record:PATH`` to write the plans to PATH (a pickle) instead, and
``TANLU_PLAN_REFERENCE=compare:PATH`` to compare with them: record in a checkout of the code
before a change (this file copied into it: pytest puts the checkout's own root first on
``sys.path``, so ``PYTHONPATH`` alone would still import the new code), compare after it, and
every answer of the change is checked against the code it replaces (docs/planner.md,
Performance)::

    git worktree add ../before HEAD~1 && cp tests/test_plan_equivalence.py ../before/tests/
    (cd ../before && TANLU_PLAN_REFERENCE=record:/tmp/plans.pickle python -m pytest \
        tests/test_plan_equivalence.py -k reference)
    TANLU_PLAN_REFERENCE=compare:/tmp/plans.pickle python -m pytest tests/test_plan_equivalence.py
"""
from __future__ import annotations

import dataclasses
import os
import pickle
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from planner import NoRouteError, Planner, make_query
from planner.itineraries import polyline

REFERENCE_VARIABLE = "TANLU_PLAN_REFERENCE"
SEED = 20261203
WHEN = datetime(2019, 5, 13, 12, 30)


def _pairs(network, n: int) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Points near random walk nodes, at least 800 m apart."""
    walk = network.streets["walk"]
    rng = np.random.default_rng(SEED)
    out = []
    while len(out) < n:
        i, j = rng.integers(0, walk.n_nodes, 2)
        o = (float(walk.node_lat[i]) + rng.normal(0, 6e-4), float(walk.node_lon[i]) + rng.normal(0, 6e-4))
        d = (float(walk.node_lat[j]) + rng.normal(0, 6e-4), float(walk.node_lon[j]) + rng.normal(0, 6e-4))
        if abs(o[0] - d[0]) + abs(o[1] - d[1]) > 0.008:
            out.append((o, d))
    return out


def _queries(network) -> list[tuple[str, object, bool]]:
    """(name, query, geometry) of walk+transit, default modes, arrive-by, a departure window,
    own bike and park-and-ride access, a late evening with tight limits, and plans without
    street lines."""
    out: list[tuple[str, object, bool]] = []
    for i, (o, d) in enumerate(_pairs(network, 24)):
        out.append((f"walk+transit {i}", make_query(origin=o, destination=d, when=WHEN,
                                                    modes=("walk", "transit")), True))
        out.append((f"default {i}", make_query(origin=o, destination=d, when=WHEN), True))
        if i % 2 == 0:
            out.append((f"arrive-by {i}", make_query(origin=o, destination=d, arrive_by=True,
                                                     when=datetime(2019, 5, 13, 8, 0)), True))
        if i % 4 == 0:
            out.append((f"window {i}", make_query(origin=o, destination=d, when=WHEN,
                                                  window_s=1800, modes=("walk", "transit")), True))
            out.append((f"bike+transit {i}", make_query(origin=o, destination=d, when=WHEN,
                                                        access_modes=("bike",)), True))
            out.append((f"park and ride {i}", make_query(
                origin=o, destination=d, when=WHEN, modes=("walk", "transit"),
                access_modes=("car_petrol",)), True))
            out.append((f"late {i}", make_query(
                origin=o, destination=d, when=datetime(2019, 5, 13, 23, 10), max_walk_m=800,
                max_transfers=2, modes=("walk", "transit")), True))
        if i % 6 == 0:
            out.append((f"no lines {i}", make_query(origin=o, destination=d, when=WHEN), False))
    return out


def _plan(planner: Planner, query, geometry: bool):
    try:
        return planner.plan(query, geometry=geometry)
    except NoRouteError as err:
        return ("no route", str(err))


def _difference(a, b, path: str = "plan") -> str | None:
    """Where ``a`` and ``b`` first differ (None if equal, floats to the bit)."""
    if dataclasses.is_dataclass(a) and type(a) is type(b):
        for f in dataclasses.fields(a):
            found = _difference(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
            if found:
                return found
        return None
    if isinstance(a, tuple) and isinstance(b, tuple):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    same = type(a) is type(b) and (a == b or (isinstance(a, float) and np.isnan(a) and np.isnan(b)))
    return None if same else f"{path}: {a!r:.120} != {b!r:.120}"


@pytest.fixture(scope="module")
def queries(poa_network):
    return _queries(poa_network)


@pytest.fixture(scope="module")
def cold_plans(poa_network, queries):
    """Each query on a planner whose caches are forgotten first."""
    cold = Planner(poa_network)
    out = {}
    for name, query, geometry in queries:
        cold.transit.forget_ride_lines()
        out[name] = _plan(cold, query, geometry)
    return out


def test_plans_do_not_depend_on_caches(poa_network, queries, cold_plans):
    warm = Planner(poa_network)
    order = np.random.default_rng(SEED).permutation(len(queries))
    for _ in range(2):
        for k in order:
            name, query, geometry = queries[k]
            found = _difference(cold_plans[name], _plan(warm, query, geometry))
            assert found is None, f"{name}: {found}"
    planned = [p for p in cold_plans.values() if not isinstance(p, tuple)]
    assert len(planned) >= len(queries) - 4  # the seeded pairs are plannable
    transit = [p for name, p in cold_plans.items() if name.startswith("walk+transit")
               and not isinstance(p, tuple)]
    assert sum(any(leg.trip_id for it in p.itineraries for leg in it.legs)
               for p in transit) >= len(transit) // 2  # journeys with rides were compared


def test_plans_equal_the_recorded_reference(queries, cold_plans):
    """With ``TANLU_PLAN_REFERENCE`` set: record the plans, or compare with recorded ones."""
    setting = os.environ.get(REFERENCE_VARIABLE, "")
    if not setting:
        pytest.skip(f"set {REFERENCE_VARIABLE}=record:PATH or compare:PATH to check a change "
                    "against the code before it")
    action, _, path = setting.partition(":")
    assert action in ("record", "compare") and path, f"{REFERENCE_VARIABLE}={setting!r}"
    if action == "record":
        Path(path).write_bytes(pickle.dumps(cold_plans))
        return
    reference = pickle.loads(Path(path).read_bytes())
    assert reference.keys() == cold_plans.keys()
    for name in reference:
        found = _difference(reference[name], cold_plans[name])
        assert found is None, f"{name}: {found}"


def test_ride_lines_are_the_hops_drawn_one_by_one(poa_network):
    """A ride's line (one numba pass) equals the boarding stop followed by each hop's shape
    (or the next stop where a hop has none), repeats dropped (``polyline``)."""
    router = Planner(poa_network).transit
    tt = poa_network.timetable
    stop_xy = np.column_stack([tt.stop_lon, tt.stop_lat]).astype(np.float64)
    rng = np.random.default_rng(SEED)
    lengths = np.diff(tt.pattern_stop_indptr)
    checked = 0
    for pattern in rng.permutation(np.nonzero(lengths >= 2)[0])[:120]:
        base, n = int(tt.pattern_stop_indptr[pattern]), int(lengths[pattern])
        board, alight = sorted(rng.choice(n, 2, replace=False).tolist())
        rows = [stop_xy[tt.pattern_stops[base + board]][None, :]]
        for j in range(base + board + 1, base + alight + 1):
            a, b = tt.hop_geometry_indptr[j], tt.hop_geometry_indptr[j + 1]
            rows.append(tt.hop_geometry_lonlat[a:b] if b > a
                        else stop_xy[tt.pattern_stops[j]][None, :])
        assert router._ride_geometry(base, board, alight) == polyline(np.concatenate(rows))
        checked += 1
    assert checked == 120


def test_street_lines_are_the_edges_drawn_one_by_one(poa_network):
    """``street_line`` equals the edges' rows between the end points, repeats dropped
    (``polyline``), including a single repeated point and lines without end points."""
    from planner.itineraries import street_line  # imported here: recording a reference with
    # the code before street_line imports this module (see the module docstring)
    layer = poa_network.streets["walk"]
    rng = np.random.default_rng(SEED)
    for _ in range(200):
        edges = rng.integers(0, layer.n_edges, int(rng.integers(0, 6))).tolist()
        if len(edges) > 1:
            edges[1] = edges[0]  # a repeated edge: its rows repeat
        rows = layer.geometry_lonlat[np.concatenate(
            [np.arange(layer.geometry_indptr[e], layer.geometry_indptr[e + 1]) for e in edges]
            + [np.zeros(0, np.int64)])]
        start = tuple(rows[0]) if len(rows) and rng.random() < 0.3 else (
            float(rng.uniform(-51.2, -51.1)), float(rng.uniform(-30.1, -30.0)))
        end = tuple(rows[-1]) if len(rows) and rng.random() < 0.3 else (
            float(rng.uniform(-51.2, -51.1)), float(rng.uniform(-30.1, -30.0)))
        for s, e in ((start, end), (None, end), (start, None), (None, None)):
            parts = ([] if s is None else [np.asarray([s])]) + [rows] + (
                [] if e is None else [np.asarray([e])])
            assert street_line(layer, edges, s, e) == polyline(np.concatenate(parts))
    point = tuple(layer.geometry_lonlat[0])
    assert street_line(layer, [], point, point) == (point, point)
