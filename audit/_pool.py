"""Local worker pools that never outlive the audit: clean-up on SIGTERM/SIGINT and parent death."""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

__all__ = ["worker_pool"]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@contextlib.contextmanager
def worker_pool(workers: int, *, initializer: Callable | None = None,
                initargs: tuple = ()) -> Iterator[ProcessPoolExecutor]:
    """A spawn-context ``ProcessPoolExecutor`` whose processes die with the run.

    Inside the block SIGTERM raises (like Ctrl-C's SIGINT does), and any exception leaving
    the block terminates the worker processes before it propagates (running tasks are lost).
    Each worker also exits by itself when the driver dies without clean-up (SIGKILL, OOM):
    ``PR_SET_PDEATHSIG`` on Linux plus a watchdog thread that polls for its parent.
    """
    context = multiprocessing.get_context("spawn")  # same behaviour on Linux, macOS, Windows
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start,
                               initargs=(os.getpid(), initializer, initargs))
    with _sigterm_raises():
        try:
            yield pool
        except BaseException:
            _terminate(pool)
            raise
        pool.shutdown(wait=True)


class Terminated(SystemExit):
    """SIGTERM received: unwinds like ``sys.exit(128 + SIGTERM)`` so clean-up code runs."""


@contextlib.contextmanager
def _sigterm_raises():
    """Within: SIGTERM raises :class:`Terminated` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's worker processes now."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()


def _start(parent_pid: int, initializer: Callable | None, initargs: tuple) -> None:
    _die_with_parent(parent_pid)
    if initializer is not None:
        initializer(*initargs)


def _die_with_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """End this worker process when ``parent_pid`` is gone (it was killed without clean-up)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass  # the watchdog below still applies
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent died before we got here

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="tanlu-parent-watchdog", daemon=True).start()
