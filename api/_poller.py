"""A per-process background poller: the one thread shape the live feeds (GTFS-Realtime, GBFS) share.

Gunicorn forks workers after the app is built, so each process starts its own thread on its
first request (``watch`` is cheap to call per request); a poll that raises is logged and the
thread polls again after ``wait_s``.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Any

from .settings import SettingsError


def check_cities(flag: str, sources: list, cities: Any) -> None:
    """Refuse a source (``source.city``: a name or None) naming a city this process does not serve.

    Raises
    ------
    SettingsError
        Naming the command-line ``flag`` and the cities served.
    """
    for source in sources:
        if source.city is not None and source.city not in cities.names():
            raise SettingsError(f"{flag}: unknown city {source.city!r} "
                                f"(served: {', '.join(cities.names())})")


class Poller:
    """Runs ``poll_once`` every ``wait_s`` seconds in a daemon thread of this process."""

    #: Thread name and the logger that reports a failed poll; set by each subclass.
    thread_name = "tanlu-poller"
    log = logging.getLogger("tanlu")

    def __init__(self) -> None:
        self._pid: int | None = None
        self._lock = threading.Lock()

    @property
    def wait_s(self) -> float:
        """Seconds between polls."""
        raise NotImplementedError

    def poll_once(self) -> None:
        """Fetch every source once and swap what changed."""
        raise NotImplementedError

    def watch(self) -> None:
        """Start this process's poller thread unless it runs already (cheap; call per request)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
        threading.Thread(target=self._loop, name=self.thread_name, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                self.poll_once()
            except Exception:  # noqa: BLE001 - the poller must outlive any surprise
                self.log.exception("%s: poll failed", self.thread_name)
            threading.Event().wait(self.wait_s)
