"""The cities a server answers for: one ``AppState`` per city, the first one the default, and
hot reload of a rebuilt artifact.

Each process checks every city's file (``os.stat``: device, inode, size, mtime) every
``TANLU_RELOAD_INTERVAL_S`` seconds from a daemon thread started at its first request (so in
each gunicorn worker, after the fork). A changed file is loaded (memory-mapped), warmed up and
then swapped in with one reference assignment: requests already running finish on the old
state, later ones use the new one, none fails. A file that does not load is logged and the old
network kept until the file changes again. Replace artifacts atomically (``tanlu build --out``
writes a temporary file and renames it), never in place.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from graphs.errors import TanluError

from .errors import ApiError
from .metrics import RELOADS
from .state import AppState

__all__ = ["Cities", "CityLoader", "file_key"]

_log = logging.getLogger("tanlu.reload")

#: Loads the city ``name`` from ``path`` (a fresh, warmed-up state).
CityLoader = Callable[[str, Path], AppState]
FileKey = tuple[int, int, int, int]


def file_key(path: Path) -> FileKey:
    """What changes when a file is replaced or rewritten: device, inode, size, mtime."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class _City:
    state: AppState
    path: Path | None
    key: FileKey | None
    loaded_at: str


class Cities:
    """The registry of served cities (``app.extensions["tanlu"]``)."""

    def __init__(self, *, loader: CityLoader | None = None, reload_interval_s: float = 0.0):
        self._cities: dict[str, _City] = {}
        self._failed: dict[str, FileKey] = {}
        self._loader = loader
        self._interval_s = reload_interval_s
        self._watcher_pid: int | None = None
        self._lock = threading.Lock()

    def add(self, state: AppState, *, path: Path | None = None, key: FileKey | None = None) -> None:
        """Serve ``state`` as its city (the first city added is the default)."""
        self._cities[state.city] = _City(state, path, key, _now())

    @property
    def default(self) -> str | None:
        return next(iter(self._cities), None)

    def names(self) -> list[str]:
        return list(self._cities)

    def get(self, name: str | None = None) -> AppState:
        """The state of city ``name`` (the default city for ``None``).

        Raises
        ------
        ApiError
            ``unknown_city`` (404) naming the cities served.
        """
        key = self.default if name is None else name
        found = self._cities.get(key) if key is not None else None
        if found is None:
            if name is None:  # no city at all: an app without a network
                return AppState(None, None, _utc(), None, None)
            raise ApiError("unknown_city", status=404, field="city", value=str(name)[:40],
                           allowed=", ".join(self._cities))
        return found.state

    def describe(self) -> list[dict[str, Any]]:
        """Each city's name, whether it is the default, its artifact's identity and area."""
        out = []
        for name, city in self._cities.items():
            coverage = city.state.coverage
            manifest = city.state.network.manifest if city.state.network is not None else {}
            out.append({"name": name, "default": name == self.default,
                        "artifact_sha256": coverage.artifact_sha256 if coverage else None,
                        "built_at": manifest.get("built_at"),
                        "timezone": coverage.timezone if coverage else None,
                        "bbox": list(coverage.bbox) if coverage else None,
                        "loaded_at": city.loaded_at})
        return out

    def reload_changed(self) -> list[str]:
        """Load every city whose file changed since it was loaded; returns the reloaded names."""
        if self._loader is None:
            return []
        reloaded = []
        with self._lock:
            for name, city in list(self._cities.items()):
                if city.path is None:
                    continue
                try:
                    key = file_key(city.path)
                except OSError:
                    continue  # being replaced, or gone: keep serving what is loaded
                if key == city.key or key == self._failed.get(name):
                    continue
                if self._reload(name, city, key):
                    reloaded.append(name)
        return reloaded

    def watch(self) -> None:
        """Start this process's reload thread unless it runs already (cheap; call per request)."""
        if self._interval_s <= 0 or self._loader is None or self._watcher_pid == os.getpid():
            return
        with self._lock:
            if self._watcher_pid == os.getpid():
                return
            self._watcher_pid = os.getpid()
        threading.Thread(target=self._watch_loop, name="tanlu-reload", daemon=True).start()

    def _watch_loop(self) -> None:
        while True:
            try:
                self.reload_changed()
            except Exception:  # noqa: BLE001 - the watcher must outlive any surprise
                _log.exception("reload check failed")
            threading.Event().wait(self._interval_s)

    def _reload(self, name: str, old: _City, key: FileKey) -> bool:
        assert self._loader is not None and old.path is not None
        try:
            state = self._loader(name, old.path)
        except TanluError as err:
            self._failed[name] = key
            RELOADS.labels(city=name, outcome="refused").inc()
            _log.error("city %s: keeping the loaded network: %s", name, err,
                       extra={"city": name, "path": str(old.path)})
            return False
        self._cities[name] = _City(state, old.path, key, _now())
        self._failed.pop(name, None)
        RELOADS.labels(city=name, outcome="reloaded").inc()
        previous = old.state.coverage.artifact_sha256 if old.state.coverage else None
        _log.info("city %s: reloaded %s", name, old.path,
                  extra={"city": name, "path": str(old.path), "previous_sha256": previous,
                         "artifact_sha256": state.coverage.artifact_sha256
                         if state.coverage else None})
        return True


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _utc() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("UTC")
