"""Batch audit: chunking, local or Dask-distributed parallel runs, resume, global passes.

The expensive part (one planner query per trip) runs per chunk of input rows, in parallel;
each finished chunk is written atomically to ``<out>.parts/chunk-00012.parquet``, so an
interrupted run resumes where it stopped. Everything that needs the whole input (duplicates,
daily caps, points due, the checks) is a cheap pandas pass in the driver afterwards. Results are
deterministic: sorted by input row, with no timestamps of the run inside.
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from graphs.artifact import read_manifest
from graphs.crs import from_wgs84, parse_crs
from graphs.geodesy import haversine_m
from graphs.network import manifest_bbox, manifest_timezone

from ._pool import worker_pool
from .checks import apply_checks, duplicate_mask, implied_speed_kph
from .errors import AuditConsistencyError, AuditInputError
from .evaluate import (
    DEFAULT_RULES,
    EVALUATION_COLUMNS,
    TRIP_INPUT_COLUMNS,
    PlannerEvaluator,
    TripEvaluator,
    empty_evaluation,
    evaluate_chunk,
    file_sha256,
)
from .schema import ERROR_COLUMNS, LINE_COLUMN, ROW_COLUMN, ValidatedTrips, read_trips, validate_trips

__all__ = [
    "CHUNK_SIZE", "AUDIT_FORMAT_VERSION", "PARTS_SUFFIX", "RESULT_COLUMNS", "AuditOutcome",
    "run_audit", "audit_trips", "parts_dir", "default_errors_path", "write_table",
    "FORMULA_PREFIXES", "escape_formula_cells",
]

#: Input rows per chunk: the unit of parallel work and of resume.
CHUNK_SIZE = 1_000
#: Bumped whenever chunk files or results change meaning; part of the resume fingerprint.
AUDIT_FORMAT_VERSION = 2
PARTS_SUFFIX = ".parts"
_FINGERPRINT_FILE = "fingerprint.txt"
_FINGERPRINT_KEY = b"tanlu_audit_fingerprint"
#: Audit columns of a result row, after the input columns.
RESULT_COLUMNS = (
    "status", "itinerary_modes", "recorded_duration_s", "expected_distance_m",
    "expected_duration_s", "expected_arrival_s", "transit_wait_s", "implied_speed_kph",
    "co2e_g", "baseline_distance_m", "baseline_co2e_g", "baseline_method", "reduction_g",
    "points_raw", "points_due", "local_date", "flagged", "flags", "reasons",
)


@dataclass(frozen=True)
class AuditOutcome:
    """What a run produced: result rows, error rows, and how the work was done."""

    results: pd.DataFrame
    errors: pd.DataFrame
    n_rows: int
    chunks_total: int
    chunks_reused: int
    fingerprint: str
    results_path: Path
    errors_path: Path
    #: Evidence intake counts (trace/tap rows, errors, fixes dropped while cleaning), if any.
    evidence_intake: dict[str, int] = field(default_factory=dict)


def run_audit(trips_path: str | os.PathLike, network_path: str | os.PathLike,
              out_path: str | os.PathLike, *, rules: str = DEFAULT_RULES,
              methodology: str | None = None, realtime: tuple[tuple[str, bytes], ...] = (),
              batched: bool = True, **options) -> AuditOutcome:
    """Audit a trips file against a network artifact with the planner (see :func:`audit_trips`).

    ``batched=False`` plans every trip on its own (the reference path; same results, slower).

    Raises
    ------
    AuditInputError
        If the trips file is unreadable or lacks a required column.
    ArtifactError
        If the network artifact cannot be read.
    """
    manifest = read_manifest(network_path)
    evaluator = PlannerEvaluator.for_network(
        network_path, rules=rules, realtime=realtime, batched=batched,
        **({"methodology": methodology} if methodology else {}))
    traces, taps, crs = (options.pop(name, default) for name, default in
                         (("traces", None), ("taps", None), ("crs", "wgs84")))
    evidence = None
    if traces is not None or taps is not None:
        from .evidence import EvidenceAuditor

        evidence = EvidenceAuditor(evaluator.network_path, evaluator.network_sha256, rules=rules,
                                   traces_path=traces, taps_path=taps, crs=crs)
        evidence.read_inputs()
    return audit_trips(trips_path, out_path, evaluator=evaluator,
                       timezone=manifest_timezone(manifest), bbox=manifest_bbox(manifest),
                       evidence=evidence, crs=crs, **options)


# Keyword-only options of one public entry point (PLR0913).
def audit_trips(trips_path: str | os.PathLike, out_path: str | os.PathLike, *,  # noqa: PLR0913
                evaluator: TripEvaluator, timezone: str,
                bbox: tuple[float, float, float, float] | None = None,
                errors_path: str | os.PathLike | None = None, chunk_size: int = CHUNK_SIZE,
                workers: int | None = None, scheduler: str | None = None, client=None,
                resume: bool = True, keep_parts: bool = False, progress: bool = False,
                on_chunk_done: Callable[[int], None] | None = None,
                evidence=None, crs: str = "wgs84") -> AuditOutcome:
    """Audit every row of ``trips_path``; write results (parquet) and errors (CSV or parquet).

    Parameters
    ----------
    evaluator
        Picklable per-trip function (:class:`~audit.evaluate.PlannerEvaluator` in production).
        Optional attributes: ``fingerprint`` (str), ``warm_up()``, ``cap_daily(points)``,
        ``evaluate_many(trips)`` (a whole chunk at once; see ``audit.evaluate.evaluate_chunk``).
    workers
        Local processes; ``None`` = every core, ``1`` = in this process (no pool).
    scheduler, client
        A Dask scheduler address (``tcp://host:8786``) or a connected ``distributed.Client``:
        run the chunks there instead of on local processes.
    resume
        Reuse finished chunks of an interrupted run with the same fingerprint.
    on_chunk_done
        Called with the chunk index after each chunk is safely on disk (tests use it to
        simulate an interruption).
    evidence
        An :class:`~audit.evidence.EvidenceAuditor` (GPS traces, card taps): its columns and
        flags are added after the checks, its rejected rows to the errors.
    crs
        Coordinate system of the trips' coordinate columns (``wgs84``, ``gcj02``, ``bd09``):
        converted to WGS-84 for the planner, and the results' coordinate columns back to it.
    """
    if chunk_size < 1:
        raise AuditInputError(f"chunk_size must be >= 1, got {chunk_size}", field="chunk_size")
    out_path = Path(out_path)
    errors_path = Path(errors_path) if errors_path else default_errors_path(out_path)
    crs = parse_crs(crs).value
    validated = validate_trips(read_trips(trips_path), timezone=timezone, bbox=bbox, crs=crs)
    fingerprint = _fingerprint(trips_path, evaluator, chunk_size, timezone, bbox, crs)
    chunks = _chunks(validated, chunk_size)
    store = _ChunkStore(parts_dir(out_path), fingerprint, resume=resume)
    reused = sorted(store.done() & set(chunks))
    todo = [(i, chunks[i]) for i in sorted(set(chunks) - set(reused))]
    from tqdm.auto import tqdm  # here, not at import: Dask workers import audit and need no bar

    bar = tqdm(total=len(validated.trips), unit="trip", desc="audit", disable=not progress,
               initial=sum(len(chunks[i]) for i in reused), smoothing=0.05)

    def on_done(index: int, frame: pd.DataFrame) -> None:
        store.write(index, frame)
        bar.update(len(frame))
        if on_chunk_done is not None:
            on_chunk_done(index)

    try:
        _run_chunks(todo, evaluator, on_done, workers=workers, scheduler=scheduler,
                    client=client)
    finally:
        bar.close()
    evaluation = store.read(sorted(chunks))
    results, errors = _finalize(validated, evaluation, evaluator)
    intake: dict[str, int] = {}
    if evidence is not None:
        results, errors, intake = evidence.apply(results, errors, timezone=timezone, workers=workers,
                                            client=client, scheduler=scheduler)
    if crs != "wgs84" and len(results):  # the results say where trips were in the input's system
        for end in ("origin", "dest"):
            lat, lon = from_wgs84(results[f"{end}_lat"].to_numpy(dtype="float64"),
                                  results[f"{end}_lon"].to_numpy(dtype="float64"), crs)
            results[f"{end}_lat"], results[f"{end}_lon"] = lat, lon
    write_table(results, out_path)
    write_table(errors, errors_path)
    if not keep_parts:
        store.remove()
    return AuditOutcome(results=results, errors=errors, n_rows=validated.n_rows,
                        chunks_total=len(chunks), chunks_reused=len(reused),
                        fingerprint=fingerprint, results_path=out_path, errors_path=errors_path,
                        evidence_intake=intake)


def parts_dir(out_path: str | os.PathLike) -> Path:
    """The work folder of finished chunks for ``out_path``: ``<out>.parts``."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.name + PARTS_SUFFIX)


def default_errors_path(out_path: str | os.PathLike) -> Path:
    """Where error rows go when no path is given: ``<out stem>.errors.csv`` beside ``out``."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.stem + ".errors.csv")


#: A text cell starting with one of these is read as a formula by spreadsheet programs
#: (OWASP "CSV injection"); in CSV output it is prefixed with a single quote.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells starting with :data:`FORMULA_PREFIXES` get a ``'`` prefix.

    Only text (object/string) columns change: numbers stay numbers (``-3.5`` in a float column
    is no formula). Column names are escaped the same way.
    """
    def escape(value):
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) \
            else value

    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            out[name] = column.map(escape, na_action="ignore")
    out.columns = [escape(str(name)) for name in out.columns]
    return out


def write_table(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``frame`` atomically as parquet, or CSV when ``path`` ends in ``.csv``.

    CSV text cells that a spreadsheet would run as formulas are escaped
    (:func:`escape_formula_cells`); parquet keeps values as they are.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if path.suffix.lower() == ".csv":
        # every text cell quoted: QUOTE_MINIMAL leaves a lone \r bare, which readers take
        # for a line break
        escape_formula_cells(frame).to_csv(tmp, index=False, quoting=csv.QUOTE_NONNUMERIC)
    else:
        frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def _fingerprint(trips_path, evaluator, chunk_size, timezone, bbox, crs="wgs84") -> str:
    identity = getattr(evaluator, "fingerprint", None) or repr(evaluator)
    parts = [AUDIT_FORMAT_VERSION, file_sha256(trips_path), identity, chunk_size, timezone,
             list(bbox) if bbox else None]
    text = json.dumps(parts if crs == "wgs84" else [*parts, crs])  # wgs84: fingerprints as before
    return hashlib.sha256(text.encode()).hexdigest()


def _chunks(validated: ValidatedTrips, chunk_size: int) -> dict[int, pd.DataFrame]:
    """Chunk ``k`` holds the valid trips among input rows ``k*size+1 .. (k+1)*size``."""
    trips = validated.trips
    index = (trips[ROW_COLUMN].to_numpy() - 1) // chunk_size
    return {int(k): frame.reset_index(drop=True)
            for k, frame in trips.groupby(index, sort=True)}


def _run_chunks(todo: list[tuple[int, pd.DataFrame]], evaluator: TripEvaluator,
                on_done: Callable[[int, pd.DataFrame], None], *, workers: int | None,
                scheduler: str | None, client) -> None:
    if not todo:
        return
    slim = ((i, frame[list(TRIP_INPUT_COLUMNS)]) for i, frame in todo)
    if client is not None or scheduler:
        from distributed import Client

        from ._dask import run_chunks_on_dask

        if client is not None:
            run_chunks_on_dask(client, slim, evaluator, on_done)
            return
        with Client(scheduler) as own:
            run_chunks_on_dask(own, slim, evaluator, on_done)
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(todo) == 1:
        for index, frame in slim:
            on_done(index, evaluate_chunk(frame, evaluator))
        return
    _run_on_processes(slim, evaluator, on_done, workers=min(workers, len(todo)))


def _run_on_processes(chunks: Iterator[tuple[int, pd.DataFrame]], evaluator: TripEvaluator,
                      on_done, *, workers: int) -> None:
    """Chunks on a pool of spawned processes that never outlive the run (``audit._pool``).

    On SIGTERM, Ctrl-C or any error the workers are terminated before the exception leaves;
    finished chunks are on disk already, so a rerun resumes.
    """
    futures: dict = {}
    with worker_pool(workers, initializer=_warm_up, initargs=(evaluator,)) as pool:
        for index, frame in chunks:
            futures[pool.submit(evaluate_chunk, frame, evaluator)] = index
            while len(futures) >= 2 * workers:
                _drain(futures, on_done, FIRST_COMPLETED)
        while futures:
            _drain(futures, on_done, FIRST_COMPLETED)


def _drain(futures: dict, on_done, return_when) -> None:
    finished, _ = wait(list(futures), return_when=return_when)
    for future in sorted(finished, key=futures.__getitem__):
        index = futures.pop(future)
        on_done(index, future.result())


def _warm_up(evaluator: TripEvaluator) -> None:
    if hasattr(evaluator, "warm_up"):
        evaluator.warm_up()


class _ChunkStore:
    """Finished chunks on disk, each tagged with the run fingerprint; stale ones are cleared."""

    def __init__(self, folder: Path, fingerprint: str, *, resume: bool) -> None:
        self.folder = folder
        self.fingerprint = fingerprint
        marker = folder / _FINGERPRINT_FILE
        same = marker.is_file() and marker.read_text().strip() == fingerprint
        if folder.is_dir() and not (resume and same):
            self._clear()
        folder.mkdir(parents=True, exist_ok=True)
        marker.write_text(fingerprint + "\n")

    def path(self, index: int) -> Path:
        return self.folder / f"chunk-{index:05d}.parquet"

    def done(self) -> set[int]:
        found = set()
        for path in self.folder.glob("chunk-*.parquet"):
            try:
                meta = pq.read_schema(path).metadata or {}
            except (OSError, pa.ArrowInvalid):
                continue  # unreadable: redo it
            if meta.get(_FINGERPRINT_KEY, b"").decode() == self.fingerprint:
                found.add(int(path.stem.split("-")[1]))
        return found

    def write(self, index: int, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               _FINGERPRINT_KEY: self.fingerprint.encode()})
        final = self.path(index)
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, final)

    def read(self, indices: list[int]) -> pd.DataFrame:
        frames = [pd.read_parquet(self.path(i)) for i in indices]
        if not frames:
            return empty_evaluation()
        return pd.concat(frames, ignore_index=True)

    def remove(self) -> None:
        self._clear()
        (self.folder / _FINGERPRINT_FILE).unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # something else lives there: leave it
            self.folder.rmdir()

    def _clear(self) -> None:
        for pattern in ("chunk-*.parquet", ".chunk-*.tmp"):
            for path in self.folder.glob(pattern):
                path.unlink(missing_ok=True)


def _finalize(validated: ValidatedTrips, evaluation: pd.DataFrame,
              evaluator: TripEvaluator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join planner facts to the input, run the global passes and checks; split errors."""
    trips = validated.trips
    if not np.array_equal(np.sort(evaluation[ROW_COLUMN].to_numpy()),
                          trips[ROW_COLUMN].to_numpy()):
        raise AuditConsistencyError("chunk results do not cover the valid rows exactly once")
    merged = trips.merge(evaluation, on=ROW_COLUMN, how="left", validate="one_to_one")
    failed = (merged["status"] == "error").to_numpy()
    late_rows = merged[ROW_COLUMN][failed].to_numpy()
    all_lines = validated.lines if validated.lines is not None else \
        pd.array([pd.NA] * validated.n_rows, dtype="Int64")
    late_errors = pd.DataFrame({
        ROW_COLUMN: late_rows,
        LINE_COLUMN: all_lines[late_rows - 1],
        "trip_id": merged["trip_id"][failed].astype(str).to_numpy(dtype=object),
        "field": merged["error_field"][failed].astype(str).to_numpy(dtype=object),
        "reason": merged["error_reason"][failed].astype(str).to_numpy(dtype=object)})
    errors = pd.concat([validated.errors, late_errors], ignore_index=True)
    errors = errors.sort_values(ROW_COLUMN, kind="stable").reset_index(drop=True)
    errors = errors[list(ERROR_COLUMNS)]
    results = _add_audit_columns(merged[~failed].reset_index(drop=True), evaluator)
    _check_accounting(validated.n_rows, results, errors)
    return results, errors


def _add_audit_columns(trips: pd.DataFrame, evaluator: TripEvaluator) -> pd.DataFrame:
    out = trips.copy()
    out["recorded_duration_s"] = (out["ended_at"] - out["started_at"]).dt.total_seconds()
    crow = haversine_m(out["origin_lat"], out["origin_lon"], out["dest_lat"], out["dest_lon"])
    distance = out["expected_distance_m"].fillna(pd.Series(crow, index=out.index))
    out["implied_speed_kph"] = implied_speed_kph(distance, out["recorded_duration_s"])
    out["local_date"] = out["started_at"].dt.strftime("%Y-%m-%d").astype("str")
    out["points_due"] = _points_due(out, evaluator)
    out = apply_checks(out)
    input_columns = [c for c in trips.columns
                     if c == ROW_COLUMN or c not in EVALUATION_COLUMNS]
    out = out[input_columns + list(RESULT_COLUMNS)]
    return out.sort_values(ROW_COLUMN, kind="stable").reset_index(drop=True)


def _points_due(trips: pd.DataFrame, evaluator: TripEvaluator) -> pd.Series:
    """Points after the daily cap, per user and local day in trip order; repeats earn 0."""
    raw = trips["points_raw"].fillna(0.0).where(~duplicate_mask(trips), 0.0)
    cap = getattr(evaluator, "cap_daily", None)
    if cap is None or trips.empty:
        return raw.astype("float64")
    order = trips.sort_values(["user_id", "local_date", "started_at", ROW_COLUMN],
                              kind="stable").index.to_numpy()
    keys = trips.loc[order, ["user_id", "local_date"]]
    starts = np.flatnonzero((keys != keys.shift()).any(axis=1).to_numpy())
    values = raw.to_numpy(dtype=float)[order]
    capped = np.empty_like(values)
    bounds = list(starts) + [len(order)]
    for first, last in zip(bounds[:-1], bounds[1:], strict=True):
        capped[first:last] = cap(values[first:last].tolist())
    due = np.empty_like(values)
    due[order] = capped
    return pd.Series(due, index=trips.index, dtype="float64")


def _check_accounting(n_rows: int, results: pd.DataFrame, errors: pd.DataFrame) -> None:
    """Every input row is in exactly one of results and errors."""
    rows = np.concatenate([results[ROW_COLUMN].to_numpy(), errors[ROW_COLUMN].to_numpy()])
    if len(rows) != n_rows or not np.array_equal(np.sort(rows), np.arange(1, n_rows + 1)):
        raise AuditConsistencyError(
            f"rows in ({n_rows}) != rows out ({len(results)}) + rows in errors ({len(errors)})")

