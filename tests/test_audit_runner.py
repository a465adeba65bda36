"""audit.runner: row accounting, determinism, resume after interruption, local and Dask runs.

Runs on hand-made trips with a planner-free per-trip function (tests/audit_fakes.py) so that
the plumbing is tested on its own; tests/test_audit_poa.py runs the real planner.
"""
from __future__ import annotations

import pandas as pd
import pytest
from audit_fakes import BBOX, DAILY_CAP, TIMEZONE, FakeEvaluator, trip_rows

from audit.errors import AuditInputError
from audit.runner import audit_trips, parts_dir


class Interrupted(Exception):
    pass


def _write(tmp_path, frame: pd.DataFrame, name: str = "trips.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False) if name.endswith(".csv") else frame.to_parquet(path)
    return path


def _audit(trips, out, **options):
    options.setdefault("workers", 1)
    options.setdefault("evaluator", FakeEvaluator())
    return audit_trips(trips, out, timezone=TIMEZONE, bbox=BBOX, **options)


def _messy_trips() -> pd.DataFrame:
    frame = trip_rows(40)
    frame.loc[4, "started_at"] = "not a time"
    frame.loc[9, "claimed_mode"] = "teleport"
    frame.loc[17, "origin_lat"] = "-10.0"
    return frame


def test_every_row_is_in_results_or_errors(tmp_path):
    trips = _write(tmp_path, _messy_trips())
    outcome = _audit(trips, tmp_path / "r.parquet", chunk_size=6,
                     evaluator=FakeEvaluator(fail_row=23))
    results = pd.read_parquet(tmp_path / "r.parquet")
    errors = pd.read_csv(tmp_path / "r.errors.csv")
    assert outcome.n_rows == 40 == len(results) + len(errors)
    assert sorted(results["row"].tolist() + errors["row"].tolist()) == list(range(1, 41))
    assert errors["row"].tolist() == [5, 10, 18, 23]
    assert "internal error: RuntimeError: boom" in errors["reason"].iloc[3]
    assert results["row"].is_monotonic_increasing
    assert results["trip_id"].tolist() == [f"t{r - 1:04d}" for r in results["row"]]
    assert results["device"].tolist() == _messy_trips().set_index(
        pd.RangeIndex(1, 41)).loc[results["row"], "device"].tolist()
    assert not parts_dir(tmp_path / "r.parquet").exists()     # work folder removed at the end


def test_errors_may_be_written_as_parquet(tmp_path):
    trips = _write(tmp_path, _messy_trips().head(12))
    _audit(trips, tmp_path / "r.parquet", errors_path=tmp_path / "bad.parquet")
    assert pd.read_parquet(tmp_path / "bad.parquet")["row"].tolist() == [5, 10]


@pytest.mark.parametrize("chunk_size, workers", [(1, 1), (7, 2), (1000, 1)])
def test_results_do_not_depend_on_chunking_or_workers(tmp_path, chunk_size, workers):
    trips = _write(tmp_path, _messy_trips())
    reference = _audit(trips, tmp_path / "a.parquet", chunk_size=40).results
    other = _audit(trips, tmp_path / "b.parquet", chunk_size=chunk_size, workers=workers).results
    pd.testing.assert_frame_equal(reference, other)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet"),
                                  pd.read_parquet(tmp_path / "b.parquet"))


@pytest.mark.parametrize("workers", [1, 2])
def test_resume_after_interruption_redoes_nothing_and_duplicates_nothing(tmp_path, workers):
    trips = _write(tmp_path, _messy_trips())
    clean = _audit(trips, tmp_path / "clean.parquet", chunk_size=5).results
    out = tmp_path / "r.parquet"
    done: list[int] = []

    def stop_after_two(index: int) -> None:
        done.append(index)
        if len(done) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        _audit(trips, out, chunk_size=5, workers=workers, on_chunk_done=stop_after_two)
    assert not out.exists()
    on_disk = sorted(p.name for p in parts_dir(out).glob("chunk-*.parquet"))
    assert on_disk == [f"chunk-{i:05d}.parquet" for i in sorted(done)]

    redone: list[int] = []
    outcome = _audit(trips, out, chunk_size=5, on_chunk_done=redone.append)
    assert outcome.chunks_reused == 2 and outcome.chunks_total == 8
    assert sorted(set(redone) | set(done)) == list(range(8)) and not set(redone) & set(done)
    pd.testing.assert_frame_equal(outcome.results, clean)
    pd.testing.assert_frame_equal(pd.read_parquet(out), clean)


def test_changed_input_or_no_resume_discards_finished_chunks(tmp_path):
    frame = _messy_trips()
    trips = _write(tmp_path, frame)
    out = tmp_path / "r.parquet"
    with pytest.raises(Interrupted):
        _audit(trips, out, chunk_size=5, on_chunk_done=_raise_at(1))
    frame.loc[0, "claimed_mode"] = "bike"            # a different input: new fingerprint
    _write(tmp_path, frame)
    assert _audit(trips, out, chunk_size=5, keep_parts=True).chunks_reused == 0
    assert _audit(trips, out, chunk_size=5, keep_parts=True).chunks_reused == 8
    assert _audit(trips, out, chunk_size=5, resume=False).chunks_reused == 0
    assert _audit(trips, out, chunk_size=4).chunks_reused == 0    # chunking is in the key too


def test_unreadable_chunk_file_is_redone(tmp_path):
    trips = _write(tmp_path, _messy_trips())
    out = tmp_path / "r.parquet"
    clean = _audit(trips, out, chunk_size=5, keep_parts=True).results
    (parts_dir(out) / "chunk-00003.parquet").write_bytes(b"truncated")
    redone: list[int] = []
    outcome = _audit(trips, out, chunk_size=5, on_chunk_done=redone.append)
    assert redone == [3]
    pd.testing.assert_frame_equal(outcome.results, clean)


def test_daily_cap_in_trip_order_and_repeats_earn_nothing(tmp_path):
    frame = trip_rows(30)
    frame["user_id"] = "u0"
    start, end = pd.to_datetime(frame["started_at"]), pd.to_datetime(frame["ended_at"])
    hour = pd.to_timedelta(frame.index % 15, unit="h")     # one trip an hour: no overlaps
    new_start = start.dt.normalize() + pd.Timedelta(hours=6) + hour
    frame["started_at"] = new_start.map(pd.Timestamp.isoformat)
    frame["ended_at"] = (new_start + (end - start)).map(pd.Timestamp.isoformat)
    frame.loc[5, "trip_id"] = frame.loc[2, "trip_id"]      # same trip_id again
    trips = _write(tmp_path, frame)
    results = _audit(trips, tmp_path / "r.parquet", chunk_size=4).results
    repeat = results["row"] == 6
    assert results.loc[repeat, "flags"].item() == "duplicate_trip_id"
    assert results["flags"].eq("").sum() == 29
    assert results.loc[repeat, "points_due"].item() == 0.0
    # independent recomputation: walk each day in time order, grant until the cap is reached
    for _, day in results.sort_values(["started_at", "row"]).groupby("local_date"):
        left = DAILY_CAP
        for _, trip in day.iterrows():
            raw = 0.0 if trip["row"] == 6 else trip["points_raw"]
            expected = min(raw, left)
            left -= expected
            assert trip["points_due"] == pytest.approx(expected)
    assert results.groupby("local_date")["points_due"].sum().max() == pytest.approx(DAILY_CAP)


def test_bad_options_raise(tmp_path):
    trips = _write(tmp_path, trip_rows(3))
    with pytest.raises(AuditInputError, match="chunk_size"):
        _audit(trips, tmp_path / "r.parquet", chunk_size=0)


def test_dask_local_cluster_gives_the_same_results(tmp_path):
    distributed = pytest.importorskip("distributed")
    trips = _write(tmp_path, _messy_trips())
    local = _audit(trips, tmp_path / "a.parquet", chunk_size=6).results
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        on_dask = _audit(trips, tmp_path / "b.parquet", chunk_size=6, client=client).results
        by_address = _audit(trips, tmp_path / "c.parquet", chunk_size=9,
                            scheduler=cluster.scheduler_address).results
    pd.testing.assert_frame_equal(local, on_dask)
    pd.testing.assert_frame_equal(local, by_address)


def _raise_at(count: int):
    seen = []

    def hook(index: int) -> None:
        seen.append(index)
        if len(seen) == count:
            raise Interrupted

    return hook
