"""The batched chunk path of the audit gives, column for column, the rows of the per-trip path.

``PlannerEvaluator.evaluate_many`` plans each distinct query of a chunk once, snaps every
distinct point once per layer (one KD-tree query per layer) and skips leg lines. The oracle is
the per-trip path (``batched=False``: one full ``Planner.plan`` per row, lines drawn, each
point snapped on its own), run on the same trips: generated ones (bench/gen_trips.py) plus
hand-made tricky rows.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bench_scripts import bench_script

from audit.evaluate import PlannerEvaluator, TripInput, evaluate_chunk
from audit.runner import run_audit
from planner import Planner, make_query
from planner.snap import SnapCache

TZ = "America/Sao_Paulo"



def _far_from_streets(network) -> tuple[float, float]:
    """A point inside the bounding box but over 800 m from every street node (the Guaiba)."""
    west, south, east, north = network.manifest["coverage"]["bbox"]
    lat, lon = np.meshgrid(np.linspace(south, north, 60), np.linspace(west, east, 60))
    lat, lon = lat.ravel(), lon.ravel()
    nearest = np.full(lat.shape, np.inf)
    for layer in network.streets.values():
        from scipy.spatial import cKDTree

        from graphs.geodesy import local_xy
        tree = cKDTree(local_xy(layer.node_lat, layer.node_lon, float(np.mean(lat))))
        nearest = np.minimum(nearest, tree.query(local_xy(lat, lon, float(np.mean(lat))))[0])
    i = int(np.argmax(nearest))
    assert nearest[i] > 800
    return float(lat[i]), float(lon[i])


def _tricky_rows(frame: pd.DataFrame, network) -> pd.DataFrame:
    """Rows the batching could get wrong: repeats that differ only where it must not look,
    repeats that differ where it must, failures among repeats, edge cases of the planner."""
    honest = frame[frame["planted"] == "honest"]
    transit = honest[honest["claimed_mode"].str.contains(r"\+")].iloc[0].to_dict()
    street = honest[~honest["claimed_mode"].str.contains(r"\+")].iloc[0].to_dict()
    far_lat, far_lon = _far_from_streets(network)
    rows = []

    def add(base, tag, **changes):
        rows.append({**base, **changes, "trip_id": f"tricky-{len(rows)}",
                     "user_id": f"tricky-user-{len(rows)}", "planted": tag})

    add(transit, "same query, other end time", ended_at=(
        pd.Timestamp(transit["ended_at"]) + pd.Timedelta(minutes=7)).isoformat())
    add(transit, "same instant in UTC", started_at=pd.Timestamp(
        transit["started_at"]).tz_convert("UTC").isoformat())
    add(transit, "one second later", started_at=(
        pd.Timestamp(transit["started_at"]) + pd.Timedelta(seconds=1)).isoformat())
    add(transit, "bus only", claimed_mode="bus")
    add(transit, "any transit", claimed_mode="transit")
    add(transit, "bike to transit", claimed_mode="bike+transit")
    add(transit, "park and ride", claimed_mode="car_petrol+transit")
    add(transit, "bike to the metro", claimed_mode="bike+metro")
    add(transit, "date without service", started_at="2031-05-12T12:00:00-03:00",
        ended_at="2031-05-12T13:00:00-03:00")
    add(street, "origin a hair away", origin_lat=street["origin_lat"] + 1e-9)
    for mode in ("walk", "bike", "ebike", "bikeshare", "taxi", "car_bev", "walk+bike"):
        add(street, f"street claim {mode}", claimed_mode=mode)
    add(street, "car_bev charged", claimed_mode="car_bev", charged_at_public_pile="true")
    add(street, "car_bev not charged", claimed_mode="car_bev", charged_at_public_pile="false")
    add(street, "zero length", dest_lat=street["origin_lat"], dest_lon=street["origin_lon"])
    for _ in range(2):  # a refused point, twice: both rows carry the planner's error
        add(street, "off the streets", dest_lat=far_lat, dest_lon=far_lon)
    add(transit, "night transit, repeated", started_at="2019-05-13T03:10:00-03:00",
        ended_at="2019-05-13T03:50:00-03:00")
    add(transit, "night transit, repeated", started_at="2019-05-13T03:10:00-03:00",
        ended_at="2019-05-13T03:55:00-03:00")
    return pd.DataFrame(rows, columns=frame.columns)


@pytest.fixture(scope="module")
def trips_file(poa_artifact, poa_network, tmp_path_factory) -> Path:
    frame = bench_script("gen_trips").generate_trips(poa_artifact, rows=300, seed=11, pool_size=60)
    frame["charged_at_public_pile"] = ""
    frame = pd.concat([frame, _tricky_rows(frame, poa_network)], ignore_index=True)
    path = tmp_path_factory.mktemp("audit_batch") / "trips.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def both_runs(poa_artifact, trips_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("audit_batch_runs")
    return {batched: run_audit(trips_file, poa_artifact, folder / f"{batched}.parquet",
                               workers=1, chunk_size=128, batched=batched)
            for batched in (False, True)}


def test_batched_rows_equal_per_trip_rows(both_runs):
    per_trip, batched = both_runs[False], both_runs[True]
    assert list(batched.results.columns) == list(per_trip.results.columns)
    pd.testing.assert_frame_equal(batched.results, per_trip.results, check_exact=True)
    pd.testing.assert_frame_equal(batched.errors, per_trip.errors, check_exact=True)


def test_the_comparison_covers_the_tricky_rows(both_runs):
    results = both_runs[True].results.set_index("planted")
    errors = both_runs[True].errors.set_index("trip_id")
    assert set(results.loc[["date without service", "night transit, repeated"], "status"]) == {
        "no_route"}
    assert results.loc["bike to transit", "status"] == "ok"    # once an internal error
    assert results.loc["zero length", "status"] == "ok"
    refused = results.index.size + errors.index.size - both_runs[True].n_rows
    assert refused == 0
    far = errors[errors["reason"].str.contains("outside the network's area")]
    assert len(far) == 2 and set(far["field"]) == {"dest_lat"}
    assert both_runs[True].results["planted"].str.startswith("street claim").sum() == 7
    ok = both_runs[True].results["status"].eq("ok")
    assert ok.sum() > 250 and both_runs[True].results.loc[ok, "co2e_g"].notna().all()


def test_batching_shares_plans_and_snaps(poa_artifact, monkeypatch):
    evaluator = PlannerEvaluator.for_network(poa_artifact)
    when = pd.Timestamp("2019-05-13T12:30:00", tz=TZ)
    base = TripInput(1, when, when + pd.Timedelta(minutes=20), -30.0346, -51.2177, -30.0277,
                     -51.2287, "walk")
    trips = [base, base._replace(row=2, ended_at=when + pd.Timedelta(minutes=25)),
             base._replace(row=3, claimed_mode="bike")]
    planned = []
    engine = evaluator._planner()
    real_plan = engine.plan

    def counting_plan(query, **options):
        if options.get("geometry") is False:   # not the call plan() makes of itself
            planned.append(options.get("snap_cache"))
        return real_plan(query, **options)

    monkeypatch.setattr(engine, "plan", counting_plan)
    records = evaluator.evaluate_many(trips)
    assert len(planned) == 2                       # rows 1 and 2 ask the same query
    assert records[0] == records[1] and records[0] is not records[1]
    cache = planned[0]
    assert cache is planned[1] and len(cache) == 2 * len(engine.snappers)
    monkeypatch.undo()
    frame = pd.DataFrame(trips)
    reference = evaluate_chunk(frame, replace(evaluator, batched=False))
    pd.testing.assert_frame_equal(evaluate_chunk(frame, evaluator), reference, check_exact=True)


def test_nearest_many_equals_nearest(poa_network):
    # 5,000 points: the two paths once differed in the last bit for about 1 point in 1,000
    planner = Planner(poa_network)
    rng = np.random.default_rng(3)
    west, south, east, north = poa_network.manifest["coverage"]["bbox"]
    lat = rng.uniform(south, north, 5000)
    lon = rng.uniform(west, east, 5000)
    for snapper in planner.snappers.values():
        nodes, dist = snapper.nearest_many(lat, lon)
        one_by_one = [snapper.nearest(a, b) for a, b in zip(lat, lon, strict=True)]
        assert nodes.tolist() == [n for n, _ in one_by_one]
        assert dist.tolist() == [d for _, d in one_by_one]     # bit for bit
        cache = SnapCache()
        cache.prime([snapper], lat[:10], lon[:10])
        assert cache.nearest(snapper, lat[3], lon[3]) == one_by_one[3]
        assert cache.nearest(snapper, lat[200], lon[200]) == one_by_one[200]   # not primed
        assert len(cache) == 11


@pytest.mark.parametrize("modes", [("transit",), ("walk", "bike", "car_petrol")])
def test_plan_without_geometry_changes_only_the_lines(poa_network, modes):
    planner = Planner(poa_network)
    query = make_query(origin=(-30.0346, -51.2177), destination=(-30.0590, -51.1750),
                       when=pd.Timestamp("2019-05-13T12:30:00", tz=TZ).to_pydatetime(),
                       modes=modes)
    drawn = planner.plan(query)
    bare = planner.plan(query, geometry=False, snap_cache=SnapCache())
    street_modes = {"walk", "bike", "ebike", "bikeshare", "car_petrol", "car_bev", "taxi"}
    legs = [leg for it in drawn.itineraries for leg in it.legs]
    assert {leg.mode for leg in legs} & street_modes and all(leg.geometry for leg in legs)

    def without_lines(it):
        return replace(it, legs=tuple(replace(leg, geometry=()) if leg.mode in street_modes
                                      else leg for leg in it.legs))

    for it in bare.itineraries:
        assert all(leg.geometry == () for leg in it.legs if leg.mode in street_modes)
    assert bare.itineraries == tuple(without_lines(it) for it in drawn.itineraries)
    assert replace(bare, itineraries=()) == replace(drawn, itineraries=())  # tags, baseline...
