"""Settings read from the environment (``TANLU_`` prefix): the only module that reads it."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "sample_dir", "SAMPLE_DIR_VARIABLE", "Settings", "settings_from_env", "SettingsError",
    "DEFAULT_TILE_URL", "DEFAULT_TILE_ATTRIBUTION", "DEFAULT_FRAME_ANCESTORS",
    "DEFAULT_CORS_ORIGINS", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_POINTS_RULES",
    "DEFAULT_METHODOLOGY", "DEFAULT_PILE_DISTANCE_M",
]

SAMPLE_DIR_VARIABLE = "TANLU_SAMPLE_DIR"

#: OpenStreetMap's standard tiles; cities running their own tile server set ``TANLU_TILE_URL``.
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = "© OpenStreetMap contributors"
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


class SettingsError(ValueError):
    """An environment variable has a value that cannot be used; the message names it."""


def sample_dir(explicit: str | os.PathLike | None = None) -> Path | None:
    """The folder holding sample cities: ``explicit`` if given, else ``$TANLU_SAMPLE_DIR``."""
    value = explicit or os.environ.get(SAMPLE_DIR_VARIABLE)
    return Path(value) if value else None


@dataclass(frozen=True)
class Settings:
    """Server settings. ``network_path`` may be ``None`` when the app is given a loaded network."""

    network_path: Path | None = None
    tile_url: str = DEFAULT_TILE_URL
    tile_attribution: str = DEFAULT_TILE_ATTRIBUTION
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


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``TANLU_NETWORK``, ``TANLU_TILE_URL``, ``TANLU_TILE_ATTRIBUTION``,
    ``TANLU_FRAME_ANCESTORS``, ``TANLU_CORS_ORIGINS`` (comma-separated, empty: no CORS),
    ``TANLU_MAX_BODY_BYTES``, ``TANLU_POINTS_RULES``, ``TANLU_METHODOLOGY`` (the operator's
    default), ``TANLU_ALLOWED_METHODOLOGIES`` (comma-separated names a request may choose with
    ``methodology=``; empty: none), ``TANLU_PILE_LIST`` (CSV of public charging piles) and
    ``TANLU_PILE_DISTANCE_M``; unset variables keep the defaults.

    Raises
    ------
    SettingsError
        If ``TANLU_MAX_BODY_BYTES`` is not a positive integer, ``TANLU_PILE_DISTANCE_M`` not a
        positive number, or a URL/CSP value is unsafe.
    """
    env = os.environ if environ is None else environ
    network = env.get("TANLU_NETWORK") or None
    cors = env.get("TANLU_CORS_ORIGINS", DEFAULT_CORS_ORIGINS)
    return Settings(
        network_path=Path(network) if network else None,
        tile_url=_tile_url(env.get("TANLU_TILE_URL") or DEFAULT_TILE_URL),
        tile_attribution=env.get("TANLU_TILE_ATTRIBUTION", DEFAULT_TILE_ATTRIBUTION),
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
    )


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
