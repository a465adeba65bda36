"""Settings read from the environment (``TANLU_`` prefix): the only module that reads it."""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from graphs.errors import TanluError

__all__ = [
    "sample_dir", "SAMPLE_DIR_VARIABLE", "Settings", "settings_from_env", "SettingsError",
    "DEFAULT_TILE_URL", "DEFAULT_TILE_ATTRIBUTION", "DEFAULT_TILE_CRS", "tile_crs", "DEFAULT_FRAME_ANCESTORS",
    "DEFAULT_CORS_ORIGINS", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_POINTS_RULES",
    "DEFAULT_METHODOLOGY", "DEFAULT_PILE_DISTANCE_M",
    "DEFAULT_RATELIMIT_STORAGE", "DEFAULT_RELOAD_INTERVAL_S", "DEFAULT_CITY",
    "parse_network_specs", "CITY_NAME_PATTERN", "RESERVED_CITY_NAMES",
]

SAMPLE_DIR_VARIABLE = "TANLU_SAMPLE_DIR"

#: OpenStreetMap's standard tiles; cities running their own tile server set ``TANLU_TILE_URL``.
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = "© OpenStreetMap contributors"
#: OpenStreetMap tiles are WGS-84 (Web Mercator of WGS-84 coordinates).
DEFAULT_TILE_CRS = "wgs84"
#: Who may put ``/embed`` in an iframe (CSP ``frame-ancestors``): only this origin by default.
DEFAULT_FRAME_ANCESTORS = "'self'"
#: Origins allowed to call the JSON API from a browser; ``*`` since it is public and cookie-less.
DEFAULT_CORS_ORIGINS = "*"
#: Largest accepted request body; a trip description is a few hundred bytes.
DEFAULT_MAX_BODY_BYTES = 64 * 1024
#: Points rule set (name of a preset or path to a TOML file), ``None``: the planner's default.
DEFAULT_POINTS_RULES: str | None = None
#: Carbon-accounting methodology (preset name or TOML path), ``None``: the planner's default.
DEFAULT_METHODOLOGY: str | None = None
#: Largest distance from a trip's end to a public pile that counts as evidence (metres).
DEFAULT_PILE_DISTANCE_M = 200.0


#: Where rate-limit counters live: this process's memory, or ``redis://host:port/db`` (shared
#: by every worker and server), or any other ``limits`` storage URI.
DEFAULT_RATELIMIT_STORAGE = "memory://"
#: Seconds between checks of each served artifact for a rebuilt file (0: never reload).
DEFAULT_RELOAD_INTERVAL_S = 2.0
#: Name of the city served from a bare ``--network PATH`` whose file name is not a city name.
DEFAULT_CITY = "default"
#: City names: lower-case ASCII, digits, ``-`` and ``_`` (they appear in URLs: ``/v1/{city}/plan``).
CITY_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")
#: Names that would shadow an endpoint under ``/v1``.
RESERVED_CITY_NAMES = frozenset({"plan", "points", "factors", "coverage", "cities"})
_STORAGE_SCHEMES = ("memory://", "redis://", "rediss://", "redis+unix://", "redis+sentinel://",
                    "redis+cluster://", "memcached://", "mongodb://", "valkey://")


class SettingsError(TanluError, ValueError):
    """An environment variable or server option has a value that cannot be used; the message
    names it. A ``TanluError``, so the CLI prints it on one line and exits 2."""


def sample_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """The folder holding sample cities: ``explicit`` if given, else ``$TANLU_SAMPLE_DIR``."""
    value = explicit or os.environ.get(SAMPLE_DIR_VARIABLE)
    return Path(value) if value else None


@dataclass(frozen=True)
class Settings:
    """Server settings. ``network_path`` may be ``None`` when the app is given a loaded network."""

    networks: tuple[tuple[str, Path], ...] = ()
    tile_url: str = DEFAULT_TILE_URL
    tile_attribution: str = DEFAULT_TILE_ATTRIBUTION
    #: Coordinate system of the tiles (``wgs84``, ``gcj02`` for AMap/Tencent, ``bd09``): the
    #: embed draws routes in it so they lie on the streets of the background.
    tile_crs: str = DEFAULT_TILE_CRS
    frame_ancestors: str = DEFAULT_FRAME_ANCESTORS
    cors_origins: tuple[str, ...] = (DEFAULT_CORS_ORIGINS,)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    points_rules: str | None = DEFAULT_POINTS_RULES
    # the operator's methodology, and the others a request may choose with methodology=
    methodology: str | None = DEFAULT_METHODOLOGY
    allowed_methodologies: tuple[str, ...] = ()
    # public charging piles as EV evidence: an operator CSV (None: the artifact's OSM stations)
    pile_list: Path | None = None
    pile_distance_m: float = DEFAULT_PILE_DISTANCE_M
    keys_file: Path | None = None
    require_key: bool = False
    ratelimit_ip: str | None = None
    ratelimit_storage: str = DEFAULT_RATELIMIT_STORAGE
    reload_interval_s: float = DEFAULT_RELOAD_INTERVAL_S
    trusted_proxies: int = 0

    @property
    def network_path(self) -> Path | None:
        """The default (first) city's artifact, ``None`` if none is configured."""
        return self.networks[0][1] if self.networks else None


def parse_network_specs(specs: Iterable[str], *, name: str = "--network"
                        ) -> tuple[tuple[str, Path], ...]:
    """``["wuxi=wuxi.tanlu", "poa=poa.tanlu"]`` -> ``(("wuxi", Path), ("poa", Path))``.

    A bare path (``poa.tanlu``) names its city after the file (``poa``), or ``default`` when
    the file name is not a valid city name. The first city is the default one, served by the
    unprefixed endpoints.

    Raises
    ------
    SettingsError
        If a city name is invalid, reserved or repeated, or a path is empty.
    """
    cities: list[tuple[str, Path]] = []
    for spec in specs:
        city, sep, path = spec.partition("=")
        if not sep:
            city, path = _city_from_file(spec), spec
        city = city.strip()
        if not path.strip():
            raise SettingsError(f"{name} {spec!r}: expected NAME=PATH or PATH")
        if not CITY_NAME_PATTERN.fullmatch(city) or city in RESERVED_CITY_NAMES:
            raise SettingsError(f"{name} {spec!r}: a city name is 1-32 of a-z, 0-9, '-', '_', "
                                f"starting with a letter, and not one of "
                                f"{', '.join(sorted(RESERVED_CITY_NAMES))}")
        if city in {c for c, _ in cities}:
            raise SettingsError(f"{name} {spec!r}: city {city!r} is given twice")
        cities.append((city, Path(path.strip())))
    return tuple(cities)


def _city_from_file(path: str) -> str:
    stem = Path(path).name.split(".")[0].lower()
    return stem if CITY_NAME_PATTERN.fullmatch(stem) and stem not in RESERVED_CITY_NAMES \
        else DEFAULT_CITY


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the ``TANLU_*`` variables of docs/api.md; unset variables keep the defaults.

    ``TANLU_NETWORK`` is one artifact path or a comma-separated list of ``NAME=PATH``;
    ``TANLU_CORS_ORIGINS`` is comma-separated (empty: no CORS).

    Raises
    ------
    SettingsError
        If a number (TANLU_PILE_DISTANCE_M included), URL, CSP value, rate limit, storage URI
        or city name is unusable.
    """
    env = os.environ if environ is None else environ
    network = env.get("TANLU_NETWORK") or ""
    cors = env.get("TANLU_CORS_ORIGINS", DEFAULT_CORS_ORIGINS)
    keys_file = env.get("TANLU_KEYS_FILE") or None
    return Settings(
        networks=parse_network_specs([s for s in network.split(",") if s.strip()],
                                     name="TANLU_NETWORK"),
        tile_url=_tile_url(env.get("TANLU_TILE_URL") or DEFAULT_TILE_URL),
        tile_attribution=env.get("TANLU_TILE_ATTRIBUTION", DEFAULT_TILE_ATTRIBUTION),
        tile_crs=tile_crs(env.get("TANLU_TILE_CRS") or DEFAULT_TILE_CRS),
        frame_ancestors=_csp_sources(env.get("TANLU_FRAME_ANCESTORS") or DEFAULT_FRAME_ANCESTORS,
                                     "TANLU_FRAME_ANCESTORS"),
        cors_origins=tuple(o.strip() for o in cors.split(",") if o.strip()),
        max_body_bytes=_positive_int(env.get("TANLU_MAX_BODY_BYTES"), DEFAULT_MAX_BODY_BYTES,
                                     "TANLU_MAX_BODY_BYTES"),
        points_rules=env.get("TANLU_POINTS_RULES") or DEFAULT_POINTS_RULES,
        methodology=env.get("TANLU_METHODOLOGY") or DEFAULT_METHODOLOGY,
        allowed_methodologies=tuple(m.strip() for m in
                                    env.get("TANLU_ALLOWED_METHODOLOGIES", "").split(",")
                                    if m.strip()),
        pile_list=Path(env["TANLU_PILE_LIST"]) if env.get("TANLU_PILE_LIST") else None,
        pile_distance_m=_positive_float(env.get("TANLU_PILE_DISTANCE_M"), DEFAULT_PILE_DISTANCE_M,
                                        "TANLU_PILE_DISTANCE_M"),
        keys_file=Path(keys_file) if keys_file else None,
        require_key=_boolean(env.get("TANLU_REQUIRE_KEY"), "TANLU_REQUIRE_KEY"),
        ratelimit_ip=rate_limit(env.get("TANLU_RATELIMIT_IP"), "TANLU_RATELIMIT_IP"),
        ratelimit_storage=_storage_uri(env.get("TANLU_RATELIMIT_STORAGE")),
        reload_interval_s=_seconds(env.get("TANLU_RELOAD_INTERVAL_S"),
                                   DEFAULT_RELOAD_INTERVAL_S, "TANLU_RELOAD_INTERVAL_S"),
        trusted_proxies=_count(env.get("TANLU_TRUSTED_PROXIES"), "TANLU_TRUSTED_PROXIES"),
    )


def tile_crs(value: str, name: str = "TANLU_TILE_CRS") -> str:
    """The canonical name (``wgs84``, ``gcj02``, ``bd09``) of a tile coordinate system.

    Raises
    ------
    SettingsError
        If ``value`` names no known system.
    """
    from graphs.crs import parse_crs
    from graphs.errors import CrsError

    try:
        return parse_crs(value).value
    except CrsError as err:
        raise SettingsError(f"{name}={value!r}: expected wgs84, gcj02 or bd09") from err


def rate_limit(value: str | None, name: str) -> str | None:
    """A ``limits`` rate string such as ``60/minute;1000/hour`` (checked), or ``None``.

    Raises
    ------
    SettingsError
        If the string does not parse.
    """
    if value is None or not value.strip():
        return None
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as err:
        raise SettingsError(f"{name}={value!r}: expected rate limits such as "
                            "'60/minute;1000/hour'") from err
    return value.strip()


def _boolean(value: str | None, name: str) -> bool:
    if value is None or value.strip() == "":
        return False
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={value!r}: expected true or false")


def _positive_float(value: str | None, default: float, name: str) -> float:
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError as err:
        raise SettingsError(f"{name}={value!r}: expected a positive number of metres") from err
    if not 0 < number < float("inf"):
        raise SettingsError(f"{name}={value!r}: expected a positive number of metres")
    return number


def _seconds(value: str | None, default: float, name: str) -> float:
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError as err:
        raise SettingsError(f"{name}={value!r}: expected a number of seconds >= 0") from err
    if not 0 <= number <= 86400:
        raise SettingsError(f"{name}={value!r}: expected a number of seconds from 0 to 86400")
    return number


def _count(value: str | None, name: str) -> int:
    if value is None or value.strip() == "":
        return 0
    if not value.strip().isdigit() or int(value) > 10:
        raise SettingsError(f"{name}={value!r}: expected a whole number from 0 to 10")
    return int(value)


def _storage_uri(value: str | None) -> str:
    if value is None or not value.strip():
        return DEFAULT_RATELIMIT_STORAGE
    if not value.startswith(_STORAGE_SCHEMES):
        raise SettingsError(f"TANLU_RATELIMIT_STORAGE={value!r}: expected memory:// or "
                            "redis://host:port/db")
    return value.strip()


def _positive_int(value: str | None, default: int, name: str) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError as err:
        raise SettingsError(f"{name}={value!r}: expected a positive integer (bytes)") from err
    if number <= 0:
        raise SettingsError(f"{name}={value!r}: expected a positive integer (bytes)")
    return number


def _tile_url(value: str) -> str:
    if not value.startswith(("https://", "http://", "/")) or any(c in value for c in "\"'<> ;"):
        raise SettingsError(f"TANLU_TILE_URL={value!r}: expected an http(s) URL template "
                            "such as https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    return value


def _csp_sources(value: str, name: str) -> str:
    if any(c in value for c in ";,\r\n\"<>"):
        raise SettingsError(f"{name}={value!r}: expected space-separated CSP sources "
                            "such as 'self' https://www.example.gov.cn")
    return value.strip()
