"""The GTFS-Realtime poller of a server process: fetch feeds, keep the last good, swap tables.

Each source is ``[CITY:]FEED=URL_OR_FILE`` (``FEED`` is the GTFS feed's name in the network;
without ``CITY`` the default city). A fetch or decode failure keeps the last good snapshot
while it is fresh; a feed older than ``STALE_INTERVALS`` intervals (by its header timestamp),
or one never fetched, is dropped: the schedule is used, with a notice in every answer and a
log line. Applying happens in the poller thread; requests see a new ``RealtimeState`` through
one reference assignment (``TransitRouter.realtime``).
"""
from __future__ import annotations

import logging
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from planner.realtime import MAX_FEED_BYTES, RealtimeError, RealtimeFeed, RealtimeState, decode_feed

from ._poller import Poller, check_cities
from .settings import SettingsError

__all__ = ["RealtimeSource", "RealtimePoller", "parse_realtime_specs", "fetch_feed_bytes",
           "DEFAULT_INTERVAL_S", "STALE_INTERVALS", "FETCH_TIMEOUT_S"]

DEFAULT_INTERVAL_S = 30.0
#: A snapshot older than this many intervals (header timestamp) is no longer used.
STALE_INTERVALS = 3
FETCH_TIMEOUT_S = 10.0

_log = logging.getLogger("tanlu.realtime")


@dataclass(frozen=True)
class RealtimeSource:
    city: str | None
    feed: str
    location: str   # http(s) URL or file path


def parse_realtime_specs(specs) -> list[RealtimeSource]:
    """``[CITY:]FEED=URL_OR_FILE`` strings as sources.

    Raises
    ------
    SettingsError
        A spec without ``=``, or an empty feed name or location.
    """
    out = []
    for spec in specs or ():
        name, sep, location = str(spec).partition("=")
        city, _, feed = name.rpartition(":")
        if not sep or not feed or not location:
            raise SettingsError(f"--realtime: expected [CITY:]FEED=URL_OR_FILE, got {spec!r}")
        out.append(RealtimeSource(city or None, feed, location))
    return out


def fetch_feed_bytes(location: str, *, timeout_s: float = FETCH_TIMEOUT_S,
                     max_bytes: int = MAX_FEED_BYTES) -> bytes:
    """The bytes at an http(s) URL or in a file, at most ``max_bytes``.

    Raises
    ------
    RealtimeError
        Unreachable, unreadable or too large.
    """
    try:
        if location.startswith(("http://", "https://")):
            with urllib.request.urlopen(location, timeout=timeout_s) as response:  # noqa: S310
                data = response.read(max_bytes + 1)
        else:
            with Path(location).open("rb") as fh:
                data = fh.read(max_bytes + 1)
    except (OSError, ValueError) as err:
        raise RealtimeError(f"realtime feed {location}: cannot be read ({err})") from err
    if len(data) > max_bytes:
        raise RealtimeError(f"realtime feed {location}: larger than {max_bytes} bytes")
    return data


class RealtimePoller(Poller):
    """Polls the sources of a process's cities and swaps each city's realtime state."""

    thread_name = "tanlu-realtime"
    log = _log

    def __init__(self, cities: Any, sources: list[RealtimeSource], *,
                 interval_s: float = DEFAULT_INTERVAL_S) -> None:
        self.cities = cities
        self.sources = sources
        self.interval_s = interval_s
        self._good: dict[RealtimeSource, RealtimeFeed] = {}
        self._errors: dict[RealtimeSource, str] = {}
        super().__init__()

    def check(self) -> None:
        """Refuse sources naming an unknown city or a feed the city's network lacks.

        Raises
        ------
        SettingsError
        """
        check_cities("--realtime", self.sources, self.cities)
        for source in self.sources:
            router = _router(self.cities.get(source.city))
            feeds = [] if router is None else [str(f) for f in router.timetable.feed_names]
            if source.feed not in feeds:
                raise SettingsError(f"--realtime: feed {source.feed!r} is not in the network "
                                    f"(feeds: {', '.join(feeds) or 'none'})")

    def poll_once(self, now: datetime | None = None) -> None:
        """Fetch every source once and install the resulting states."""
        now = now or datetime.now(UTC)
        for source in self.sources:
            try:
                feed = decode_feed(source.feed, fetch_feed_bytes(source.location))
                self._good[source] = feed
                self._errors.pop(source, None)
            except RealtimeError as err:
                self._errors[source] = str(err)
                _log.warning("realtime %s: %s", source.feed, err,
                             extra={"feed": source.feed, "location": source.location})
        for city in {s.city for s in self.sources}:
            self._install(city, now)

    def _install(self, city: str | None, now: datetime) -> None:
        router = _router(self.cities.get(city))
        if router is None:
            return
        feeds, notices = [], []
        limit = STALE_INTERVALS * self.interval_s
        for source in (s for s in self.sources if s.city == city):
            feed = self._good.get(source)
            error = self._errors.get(source)
            if feed is not None and (now - feed.timestamp).total_seconds() > limit:
                notices.append(f"realtime {source.feed}: feed of {feed.timestamp:%Y-%m-%dT%H:%M:%SZ}"
                               f" is stale (older than {limit:g} s); using the schedule")
                _log.warning("realtime %s: stale feed (%s)", source.feed, feed.timestamp.isoformat())
            elif feed is not None:
                feeds.append(feed)
                if error:
                    notices.append(f"realtime {source.feed}: last fetch failed, using the feed of "
                                   f"{feed.timestamp:%Y-%m-%dT%H:%M:%SZ}")
            else:
                notices.append(f"realtime {source.feed}: unavailable ({error}); using the schedule")
        new = RealtimeState(router.timetable, router.tz, feeds=tuple(feeds),
                            notices=tuple(notices))
        if feeds:  # build today's table here, so no request waits for it
            today = now.astimezone(router.tz).date()
            if router.covers(today):
                new.day(today, False, router.scheduled_day)
        router.realtime = new  # the one assignment requests see

    @property
    def wait_s(self) -> float:
        return self.interval_s


def _router(state: Any) -> Any:
    """The transit router behind a city's plan function (None without transit)."""
    return getattr(getattr(state.plan, "planner", None), "transit", None)
