"""The audit on Porto Alegre with the real planner: planted trips flagged, honest ones not,
row accounting, resume after an interruption, and the same results on a Dask LocalCluster."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from bench_scripts import bench_script

from api.cli import main
from audit.checks import MAX_SPEED_KPH
from audit.runner import parts_dir, run_audit
from graphs.geodesy import haversine_m

TZ = "America/Sao_Paulo"
MONDAY = "2019-05-13"
#: Which flag each planted kind must raise, and which error field each malformed kind gets.
PLANTED_FLAG = {"too_fast": "too_fast", "wrong_distance": "distance_mismatch",
                "inflated_points": "points_inflated", "night_transit": "no_service",
                "duplicate_id": "duplicate_trip_id", "overlapping": "overlapping_trip"}
MALFORMED_FIELD = {"bad_time": "started_at", "end_before_start": "ended_at",
                   "outside_coverage": "origin_lat", "unknown_mode": "claimed_mode",
                   "empty_user": "user_id"}



@pytest.fixture(scope="module")
def generated(poa_artifact, tmp_path_factory) -> Path:
    frame = bench_script("gen_trips").generate_trips(poa_artifact, rows=60, seed=7, pool_size=20,
                                        share_implausible=0.35, share_malformed=0.12)
    path = tmp_path_factory.mktemp("audit") / "trips.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def clean_run(poa_artifact, generated, tmp_path_factory):
    out = tmp_path_factory.mktemp("audit_clean") / "results.parquet"
    return run_audit(generated, poa_artifact, out, workers=1, chunk_size=8)


def test_generated_trips_cover_every_kind(generated):
    kinds = set(pd.read_csv(generated)["planted"])
    assert {"honest"} | set(PLANTED_FLAG) <= kinds
    assert len(kinds & set(MALFORMED_FIELD)) >= 3


def test_planted_trips_are_flagged_and_honest_ones_are_not(clean_run, generated):
    results, errors = clean_run.results, clean_run.errors
    trips = pd.read_csv(generated)
    assert clean_run.n_rows == len(trips) == len(results) + len(errors)
    for _, trip in results.iterrows():
        flags = set(filter(None, trip["flags"].split(";")))
        if trip["planted"] == "honest":
            assert not flags, (trip["row"], trip["reasons"])
        else:
            assert PLANTED_FLAG[trip["planted"]] in flags, (trip["row"], trip["reasons"])
    planted = trips.assign(row=trips.index + 1).set_index("row")["planted"]
    for _, error in errors.iterrows():
        assert error["field"] == MALFORMED_FIELD[planted[error["row"]]]
    assert set(planted[errors["row"]]) <= set(MALFORMED_FIELD)


def test_honest_results_match_an_independent_recount(clean_run):
    honest = clean_run.results[clean_run.results["planted"] == "honest"]
    crow = haversine_m(honest["origin_lat"], honest["origin_lon"], honest["dest_lat"],
                      honest["dest_lon"])
    assert (honest["expected_distance_m"] >= crow - 1).all()      # a network path is never shorter
    assert (honest["reduction_g"] <= honest["baseline_co2e_g"] + 1e-6).all()
    walk = honest[honest["claimed_mode"] == "walk"]
    assert (walk["co2e_g"] == 0).all()
    # default rules: floor(reduction / 10 g), at most 200 per trip
    expected = [min(200.0, math.floor(r / 10)) if d >= 500 else 0.0
                for r, d in zip(walk["reduction_g"], walk["expected_distance_m"])]
    assert walk["points_raw"].tolist() == pytest.approx(expected)


def _hand_made(rows: list[dict], path: Path) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_hand_made_impossible_and_plausible_trips(poa_artifact, tmp_path):
    # Centro -> Gasometro, ~1.4 km; Centro -> north-east, ~9 km
    centro, gasometro = (-30.0277, -51.2287), (-30.0346, -51.2415)
    far = (-30.0050, -51.1450)
    crow_far = float(haversine_m(*centro, *far))
    walk_ok_s = float(haversine_m(*centro, *gasometro)) * 1.4 / 1.2       # slow walk, detour 1.4
    rows = [
        dict(trip_id="ok-walk", user_id="a", started_at=f"{MONDAY}T09:00:00",
             ended_at=(pd.Timestamp(f"{MONDAY}T09:00:00") + pd.Timedelta(seconds=walk_ok_s)).isoformat(),
             origin_lat=centro[0], origin_lon=centro[1], dest_lat=gasometro[0], dest_lon=gasometro[1],
             claimed_mode="walk"),
        dict(trip_id="fast-walk", user_id="b", started_at=f"{MONDAY}T09:00:00",
             ended_at=f"{MONDAY}T09:15:00", origin_lat=centro[0], origin_lon=centro[1],
             dest_lat=far[0], dest_lon=far[1], claimed_mode="walk"),
        dict(trip_id="night-bus", user_id="c", started_at=f"{MONDAY}T03:00:00",
             ended_at=f"{MONDAY}T03:40:00", origin_lat=centro[0], origin_lon=centro[1],
             dest_lat=far[0], dest_lon=far[1], claimed_mode="walk+bus"),
    ]
    assert crow_far / 900 * 3.6 > MAX_SPEED_KPH["walk"]     # the planted walk is impossible
    path = _hand_made(rows, tmp_path / "hand.csv")
    results = run_audit(path, poa_artifact, tmp_path / "r.parquet", workers=1).results
    flags = dict(zip(results["trip_id"], results["flags"]))
    assert flags["ok-walk"] == ""
    assert {"too_fast", "faster_than_planner"} <= set(flags["fast-walk"].split(";"))
    assert flags["night-bus"] == "no_service"
    assert results.set_index("trip_id").loc["night-bus", "points_due"] == 0


def test_resume_after_interruption_matches_a_clean_run(poa_artifact, generated, clean_run,
                                                       tmp_path):
    out = tmp_path / "results.parquet"
    seen: list[int] = []

    def interrupt_after_two(index: int) -> None:
        seen.append(index)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_audit(generated, poa_artifact, out, workers=1, chunk_size=8,
                  on_chunk_done=interrupt_after_two)
    assert len(list(parts_dir(out).glob("chunk-*.parquet"))) == 2
    redone: list[int] = []
    outcome = run_audit(generated, poa_artifact, out, workers=1, chunk_size=8,
                        on_chunk_done=redone.append)
    assert outcome.chunks_reused == 2 and not set(redone) & set(seen)
    pd.testing.assert_frame_equal(outcome.results, clean_run.results)
    pd.testing.assert_frame_equal(outcome.errors, clean_run.errors)


def test_local_processes_and_dask_cluster_give_identical_results(poa_artifact, generated,
                                                                 clean_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    on_processes = run_audit(generated, poa_artifact, tmp_path / "p.parquet", workers=2,
                             chunk_size=8)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        on_dask = run_audit(generated, poa_artifact, tmp_path / "d.parquet", chunk_size=8,
                            client=client)
    for outcome in (on_processes, on_dask):
        pd.testing.assert_frame_equal(outcome.results, clean_run.results)
    assert (tmp_path / "d.parquet").read_bytes() == (tmp_path / "p.parquet").read_bytes()


def test_cli_writes_results_errors_summary_and_report(poa_artifact, generated, clean_run,
                                                      tmp_path, capsys):
    out = tmp_path / "r.parquet"
    argv = ["audit", str(generated), "--network", str(poa_artifact), "--out", str(out),
            "--errors", str(tmp_path / "e.csv"), "--summary", str(tmp_path / "s.json"),
            "--report", str(tmp_path / "r.html"), "--workers", "1", "--chunk-size", "8",
            "--quiet"]
    assert main(argv) == 0
    assert "audited 60 rows" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_parquet(out), clean_run.results)
    summary = json.loads((tmp_path / "s.json").read_text())
    results = clean_run.results
    assert summary["rows"] == {"in": 60, "out": len(results), "errors": len(clean_run.errors)}
    assert summary["flagged"]["count"] == int(results["flagged"].sum())
    assert summary["totals"]["reduction_g"] == pytest.approx(results["reduction_g"].sum(), abs=0.01)
    html = (tmp_path / "r.html").read_text()
    assert html.count("<svg") == 4 and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_cli_missing_column_exits_2_naming_it(poa_artifact, tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_text("trip_id,user_id,started_at\n1,2,2019-05-13T10:00:00\n")
    assert main(["audit", str(path), "--network", str(poa_artifact), "--out",
                 str(tmp_path / "r.parquet")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "missing required column 'ended_at'" in err


def test_car_claims_plan_by_car_and_ev_points_need_a_public_pile(poa_artifact, tmp_path):
    # The planner leaves the car out by default; a claimed car trip must still be planned by car.
    centro, far = (-30.0277, -51.2287), (-30.0050, -51.1450)
    base = dict(started_at=f"{MONDAY}T09:00:00", ended_at=f"{MONDAY}T09:30:00",
                origin_lat=centro[0], origin_lon=centro[1], dest_lat=far[0], dest_lon=far[1])
    rows = [dict(base, trip_id="petrol", user_id="a", claimed_mode="car_petrol",
                 charged_at_public_pile=""),
            dict(base, trip_id="bev-home", user_id="b", claimed_mode="car_bev",
                 charged_at_public_pile="false"),
            dict(base, trip_id="bev-pile", user_id="c", claimed_mode="car_bev",
                 charged_at_public_pile="true"),
            dict(base, trip_id="taxi", user_id="d", claimed_mode="taxi",
                 charged_at_public_pile="true")]
    path = _hand_made(rows, tmp_path / "cars.csv")
    results = run_audit(path, poa_artifact, tmp_path / "r.parquet", workers=1).results
    by_id = results.set_index("trip_id")
    assert (by_id["status"] == "ok").all() and not by_id["flagged"].any()
    assert by_id["itinerary_modes"].to_dict() == {"petrol": "car_petrol", "bev-home": "car_bev",
                                                  "bev-pile": "car_bev", "taxi": "taxi"}
    assert (by_id["expected_distance_m"] > float(haversine_m(*centro, *far))).all()
    petrol = by_id.loc["petrol"]
    assert petrol["reduction_g"] == pytest.approx(0, abs=1e-6) and petrol["points_due"] == 0
    pile = by_id.loc["bev-pile"]
    assert 0 < pile["reduction_g"] < pile["baseline_co2e_g"]
    # default rules: floor(reduction / 10 g) per trip, capped at 200; only with a public pile
    assert pile["points_due"] == min(200.0, math.floor(pile["reduction_g"] / 10)) > 0
    assert by_id.loc["bev-home", "points_due"] == 0
    assert by_id.loc["bev-home", "reduction_g"] == pytest.approx(pile["reduction_g"])
    assert by_id.loc["taxi", "points_due"] == 0        # the pile flag only concerns EVs
    assert results["charged_at_public_pile"].tolist() == [False, False, True, True]
