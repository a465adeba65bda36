"""Dask plumbing: a worker plugin that loads the network once per worker, and the chunk loop."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Protocol

import pandas as pd
from distributed import Client, WorkerPlugin, as_completed

from .evaluate import TripEvaluator, evaluate_chunk

__all__ = ["WarmUpPlugin", "run_chunks_on_dask"]


class _WarmsUp(Protocol):
    """An evaluator with the optional ``warm_up()`` hook (see ``audit.runner.audit_trips``)."""

    def warm_up(self) -> None: ...


class WarmUpPlugin(WorkerPlugin):
    """Calls ``evaluator.warm_up()`` on every worker (now and on workers that join later)."""

    def __init__(self, evaluator: _WarmsUp) -> None:
        self.evaluator = evaluator

    def setup(self, worker) -> None:  # noqa: D102 - WorkerPlugin hook
        self.evaluator.warm_up()


def run_chunks_on_dask(client: Client, chunks: Iterable[tuple[int, pd.DataFrame]],
                       evaluator: TripEvaluator, on_done: Callable[[int, pd.DataFrame], None],
                       *, max_in_flight: int | None = None) -> None:
    """Evaluate ``chunks`` on the cluster, calling ``on_done(index, result)`` as each finishes.

    At most ``max_in_flight`` chunks are queued at once (default: 2 per worker thread), so a
    million-trip input is never shipped to the scheduler in one go.
    """
    if hasattr(evaluator, "warm_up"):
        identity = str(getattr(evaluator, "fingerprint", repr(evaluator))).encode()
        name = "tanlu-audit-warm-up-" + hashlib.sha256(identity).hexdigest()[:16]
        client.register_plugin(WarmUpPlugin(evaluator), name=name)
    if max_in_flight is None:
        max_in_flight = 2 * max(1, sum(client.nthreads().values()))
    pending = iter(chunks)
    futures = {}
    queue = as_completed()

    def submit_next() -> None:
        for index, frame in pending:
            future = client.submit(evaluate_chunk, frame, evaluator, pure=False)
            futures[future] = index
            queue.add(future)
            return

    for _ in range(max_in_flight):
        submit_next()
    try:
        for future in queue:
            index = futures.pop(future)
            on_done(index, future.result())
            submit_next()
    finally:
        for future in futures:
            future.cancel()
