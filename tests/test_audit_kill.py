"""A killed audit leaves no worker process behind, and a rerun resumes to the same output.

`tanlu audit` (``python -m api.cli``) runs in a subprocess with 2 local worker processes; the
children are found in /proc (not through the code under test), the driver is killed mid-run,
and every child must be gone (or a zombie: dead, waiting to be reaped) within a few seconds.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from bench_scripts import bench_script

from audit.runner import parts_dir

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                children.setdefault(int(stat[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # after "pid (comm) ": [0] state, [1] ppid


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        stat = _stat(pid)
        if stat is not None and stat[0] not in ("Z", "X"):
            alive.add(pid)
    return alive


def _wait_gone(pids: set[int], timeout: float = 10.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while (alive := _alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}


def _chunk_files(out: Path) -> list[Path]:
    return sorted(parts_dir(out).glob("chunk-*.parquet"))


def _start_and_kill(command: list[str], out: Path, sig: int) -> tuple[set[int], int]:
    """Start ``command``, wait for its first finished chunk, send ``sig``; children seen, rc."""
    log = out.parent / "stderr.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as stderr:
        process = subprocess.Popen(command, env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=stderr)
    try:
        deadline = time.monotonic() + 120
        seen: set[int] = set()
        while not _chunk_files(out):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no chunk finished within 120 s"
            seen |= _descendants(process.pid)
            time.sleep(0.05)
        seen |= _descendants(process.pid)
        process.send_signal(sig)
        rc = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return seen, rc



def test_sigterm_kills_every_worker_and_a_rerun_resumes_to_the_same_output(poa_artifact,
                                                                           tmp_path):
    trips = tmp_path / "trips.csv"
    bench_script("gen_trips").generate_trips(poa_artifact, rows=400, seed=3, pool_size=20).to_csv(
        trips, index=False)

    def cli(out: Path) -> list[str]:
        return [sys.executable, "-m", "api.cli", "audit", str(trips), "--network",
                str(poa_artifact), "--out", str(out), "--workers", "2", "--chunk-size", "20",
                "--quiet"]

    reference = tmp_path / "ref" / "r.parquet"
    subprocess.run(cli(reference), env=_env(), cwd=ROOT, check=True, capture_output=True)

    out = tmp_path / "killed" / "r.parquet"
    children, rc = _start_and_kill(cli(out), out, signal.SIGTERM)
    assert rc != 0 and not out.exists()
    assert len(children) >= 2                       # the two workers (and a resource tracker)
    assert _wait_gone(children) == set()
    done = len(_chunk_files(out))
    assert 1 <= done < 20                            # stopped mid-run, finished chunks kept

    rerun = subprocess.run(cli(out), env=_env(), cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "chunks resumed" in rerun.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(reference))
    assert (out.parent / "r.errors.csv").read_bytes() == \
        (reference.parent / "r.errors.csv").read_bytes()


SLOW_AUDIT = textwrap.dedent("""
    import sys, time
    from dataclasses import dataclass
    from audit_fakes import BBOX, TIMEZONE, FakeEvaluator
    from audit.runner import audit_trips

    @dataclass(frozen=True)
    class Slow(FakeEvaluator):
        def __call__(self, trip):
            time.sleep(0.05)
            return super().__call__(trip)

    if __name__ == "__main__":
        audit_trips(sys.argv[1], sys.argv[2], evaluator=Slow(), timezone=TIMEZONE, bbox=BBOX,
                    workers=2, chunk_size=5)
""")


def test_workers_exit_when_the_driver_is_sigkilled(tmp_path):
    from audit_fakes import trip_rows

    trips = tmp_path / "trips.csv"
    trip_rows(200).to_csv(trips, index=False)
    script = tmp_path / "slow_audit.py"
    script.write_text(SLOW_AUDIT)
    out = tmp_path / "r.parquet"
    children, rc = _start_and_kill([sys.executable, str(script), str(trips), str(out)], out,
                                   signal.SIGKILL)
    assert rc == -signal.SIGKILL and len(children) >= 2
    assert _wait_gone(children, timeout=5) == set()
