"""The GBFS poller of a server process: fetch bike-share feeds, keep the last good, swap them.

Each source is ``[CITY=]URL_OR_DIR``: a folder of GBFS files or the URL of a system's
``gbfs.json`` (auto-discovery; its ``station_information``, ``station_status``,
``free_bike_status``/``vehicle_status``, ``vehicle_types`` and ``geofencing_zones`` are fetched).
A snapshot is fetched again once it expires (``last_updated + ttl``, at least every
``interval_s``). A fetch or validation failure, or a snapshot already expired when fetched
(older than ``STALE_GRACE_S`` past its ``ttl``), keeps the last good snapshot with a notice in
every answer that uses shared bikes and a log line; with none, shared bikes are unavailable
(a notice, never an error). Compiling happens in the poller thread; requests see a new
``planner.bikeshare.ShareSystem`` through one reference assignment (``Planner.bikeshare``).
"""
from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from graphs.gbfs import (
    GBFS_FILES,
    MAX_GBFS_FILE_BYTES,
    GbfsError,
    GbfsFeed,
    gbfs_from_documents,
    read_gbfs_documents,
)
from planner.errors import CodedText

from ._poller import Poller, check_cities
from .settings import SettingsError

__all__ = ["GbfsSource", "GbfsPoller", "parse_gbfs_specs", "fetch_gbfs", "fetch_gbfs_documents",
           "DEFAULT_INTERVAL_S", "STALE_GRACE_S", "FETCH_TIMEOUT_S"]

#: Longest time between two polls (a feed's ``ttl`` may ask for more often, never below 5 s).
DEFAULT_INTERVAL_S = 60.0
MIN_INTERVAL_S = 5.0
#: A snapshot this long past ``last_updated + ttl`` when fetched is stale and not installed.
STALE_GRACE_S = 300.0
FETCH_TIMEOUT_S = 10.0

_log = logging.getLogger("tanlu.gbfs")


@dataclass(frozen=True)
class GbfsSource:
    city: str | None
    location: str   # http(s) URL of gbfs.json or a folder


def parse_gbfs_specs(specs) -> list[GbfsSource]:
    """``[CITY=]URL_OR_DIR`` strings as sources (at most one per city).

    Raises
    ------
    SettingsError
        An empty location or two sources for one city.
    """
    out: list[GbfsSource] = []
    for spec in specs or ():
        text = str(spec)
        name, sep, rest = text.partition("=")
        city, location = ((name, rest) if sep and name and not any(c in name for c in ":/\\.")
                          else (None, text))
        if not location:
            raise SettingsError(f"--gbfs: expected [CITY=]URL_OR_DIR, got {spec!r}")
        if any(s.city == city for s in out):
            raise SettingsError(f"--gbfs: two feeds for {city or 'the default city'}")
        out.append(GbfsSource(city, location))
    return out


def fetch_gbfs(location: str, *, timeout_s: float = FETCH_TIMEOUT_S) -> GbfsFeed:
    """The snapshot at a folder or a ``gbfs.json`` URL.

    Raises
    ------
    GbfsError
        Unreachable, unreadable, too large or invalid.
    """
    return gbfs_from_documents(fetch_gbfs_documents(location, timeout_s=timeout_s))


def fetch_gbfs_documents(location: str, *,
                         timeout_s: float = FETCH_TIMEOUT_S) -> dict[str, bytes]:
    """The files of a folder or of the feeds a ``gbfs.json`` URL lists, by file name.

    Raises
    ------
    GbfsError
        Unreachable, unreadable or too large; a ``gbfs.json`` without feeds.
    """
    if not location.startswith(("http://", "https://")):
        return read_gbfs_documents(location)
    discovery = _json(_get(location, timeout_s), "gbfs.json")
    urls = _feed_urls(discovery, location)
    return {name: _get(url, timeout_s) for name, url in urls.items()}


def _get(url: str, timeout_s: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - http(s) only
            data = response.read(MAX_GBFS_FILE_BYTES + 1)
    except (OSError, ValueError) as err:
        raise GbfsError(f"GBFS {url}: cannot be read ({err})", path=url) from err
    if len(data) > MAX_GBFS_FILE_BYTES:
        raise GbfsError(f"GBFS {url}: larger than {MAX_GBFS_FILE_BYTES} bytes", path=url)
    return data


def _json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise GbfsError(f"{name}: not readable JSON ({err})", path=name) from err


def _feed_urls(discovery: Any, base: str) -> dict[str, str]:
    """``{file name: url}`` of the files this reader knows, from a 2.3 (per language) or 3.0
    ``gbfs.json``."""
    data = discovery.get("data") if isinstance(discovery, dict) else None
    feeds = data.get("feeds") if isinstance(data, dict) else None
    if feeds is None and isinstance(data, dict) and data:
        first = next(iter(data.values()))  # 2.x: {"en": {"feeds": [...]}}
        feeds = first.get("feeds") if isinstance(first, dict) else None
    if not isinstance(feeds, list):
        raise GbfsError("gbfs.json: data.feeds (3.x) or data.<language>.feeds (2.x) must be a "
                        "list", path="gbfs.json", field="data.feeds")
    out = {}
    for i, feed in enumerate(feeds):
        name, url = (feed.get("name"), feed.get("url")) if isinstance(feed, dict) else (None, None)
        if not isinstance(name, str) or not isinstance(url, str):
            raise GbfsError(f"gbfs.json: data.feeds[{i}] needs a name and a url",
                            path="gbfs.json", field=f"data.feeds[{i}]")
        url = urllib.parse.urljoin(base, url)
        if f"{name}.json" in GBFS_FILES:
            if not url.startswith(("http://", "https://")):
                raise GbfsError(f"gbfs.json: data.feeds[{i}].url must be http(s), got {url!r}",
                                path="gbfs.json", field=f"data.feeds[{i}].url")
            out[f"{name}.json"] = url
    return out


class GbfsPoller(Poller):
    """Polls the GBFS sources of a process's cities and swaps each city's shared bikes."""

    thread_name = "tanlu-gbfs"
    log = _log

    def __init__(self, cities: Any, sources: list[GbfsSource], *,
                 interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.cities = cities
        self.sources = sources
        self.interval_s = max(MIN_INTERVAL_S, float(interval_s))
        self._good: dict[GbfsSource, tuple[GbfsFeed, Any]] = {}  # feed and the planner it's on
        self._next: dict[GbfsSource, datetime] = {}
        super().__init__()

    def check(self) -> None:
        """Refuse a source naming a city this process does not serve.

        Raises
        ------
        SettingsError
        """
        check_cities("--gbfs", self.sources, self.cities)

    def poll_once(self, now: datetime | None = None) -> None:
        """Fetch every source that is due and install the result (or the last good one)."""
        now = now or datetime.now(UTC)
        for source in self.sources:
            planner = getattr(self.cities.get(source.city).plan, "planner", None)
            good = self._good.get(source)
            reloaded = good is not None and good[1] is not planner  # a rebuilt artifact
            if now < self._next.get(source, now) and not reloaded:
                continue
            self._poll(source, now)

    def _poll(self, source: GbfsSource, now: datetime) -> None:
        planner = getattr(self.cities.get(source.city).plan, "planner", None)
        if planner is None:
            return
        self._next[source] = now + timedelta(seconds=self.interval_s)
        try:
            feed = fetch_gbfs(source.location)
            late = (now - feed.expires_at).total_seconds()
            if late > STALE_GRACE_S:
                raise GbfsError(f"snapshot of {feed.last_updated:%Y-%m-%dT%H:%M:%SZ} expired "
                                f"{late:.0f} s ago (ttl {feed.ttl_s} s)")
        except GbfsError as err:
            self._fallback(source, planner, str(err))
            return
        planner.set_bikeshare(feed, live=True)
        self._good[source] = (feed, planner)
        wait = max(MIN_INTERVAL_S, min(self.interval_s, (feed.expires_at - now).total_seconds()))
        self._next[source] = now + timedelta(seconds=wait)

    def _fallback(self, source: GbfsSource, planner: Any, error: str) -> None:
        _log.warning("gbfs %s: %s", source.location, error,
                     extra={"city": source.city, "location": source.location})
        good = self._good.get(source)
        if good is None:
            planner.set_bikeshare(None, live=True, notices=(CodedText(
                f"shared bikes unavailable: {error}", "gbfs_unavailable"),))
            return
        feed, on = good
        when = f"{feed.last_updated:%Y-%m-%dT%H:%M:%SZ}"
        notice = CodedText(f"shared bikes: the last fetch failed ({error}); using the feed of "
                           f"{when}", "gbfs_fallback", when=when)
        system = planner.bikeshare
        if on is not planner or system is None:  # the city was reloaded: compile again
            planner.set_bikeshare(feed, live=True, notices=(notice,))
            self._good[source] = (feed, planner)
        else:
            planner.bikeshare = replace(system, extra_notices=(notice,))  # one assignment

    @property
    def wait_s(self) -> float:
        return MIN_INTERVAL_S  # each source keeps its own next time (its ttl)

