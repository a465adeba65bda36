"""The Flask application factory."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

from graphs.artifact import load_network

from .embed_view import format_co2e, format_points
from .errors import register_error_handlers
from .routes import register_blueprints
from .settings import Settings, settings_from_env
from .state import EXTENSION_KEY, make_state

__all__ = ["create_app", "HtmlSafeJSONProvider"]

#: ``config`` keys that override the settings (else taken from ``TANLU_*`` variables).
_SETTING_KEYS = {f"TANLU_{f.name.upper()}": f.name for f in dataclasses.fields(Settings)}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app.

    ``config`` may hold Flask settings, ``TANLU_<SETTING>`` overrides of
    :class:`api.settings.Settings` (e.g. ``TANLU_TILE_URL``), ``TANLU_NETWORK`` (a loaded
    ``Network``, used instead of ``TANLU_NETWORK_PATH``) and ``TANLU_PLAN`` and ``TANLU_RULES``
    (a function replacing the planner and loaded points rules, for tests of the HTTP edge). Without ``config``, or with
    ``TANLU_USE_ENV=True``, the settings start from the environment
    (``api.settings.settings_from_env``); otherwise from the defaults.

    Raises
    ------
    ArtifactError
        If the configured network file cannot be loaded.
    SettingsError
        If an environment variable has an unusable value.
    """
    config = dict(config or {})
    settings = _settings(config)
    app = Flask(__name__)
    app.json = HtmlSafeJSONProvider(app)
    app.config.update({f"TANLU_{k.upper()}": v for k, v in dataclasses.asdict(settings).items()})
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config.update({k: v for k, v in config.items() if k not in _SETTING_KEYS})
    network = config.get("TANLU_NETWORK")
    if network is None and settings.network_path is not None:
        network = load_network(settings.network_path)
    app.extensions[EXTENSION_KEY] = make_state(network, points_rules=settings.points_rules,
                                               rules=config.get("TANLU_RULES"),
                                               plan=config.get("TANLU_PLAN"))
    register_error_handlers(app)
    register_blueprints(app)
    app.add_url_rule("/favicon.ico", "favicon", _no_favicon)
    _enable_cors(app, settings.cors_origins)
    app.after_request(_common_headers)
    app.add_template_filter(format_co2e, "co2e")
    app.add_template_filter(format_points, "points")
    return app


class HtmlSafeJSONProvider(DefaultJSONProvider):
    """JSON with ``<``, ``>``, ``&`` and ``'`` as ``\\u`` escapes: the same data, but text that
    echoes a request (an error naming a bad value) never holds markup, even if sniffed as HTML.
    Keys keep the documented order; Chinese stays readable (not ASCII-escaped)."""

    sort_keys = False
    ensure_ascii = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        text = super().dumps(obj, **kwargs)
        return text.translate(_HTML_SAFE)


_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027"})


def _settings(config: Mapping[str, Any]) -> Settings:
    base = settings_from_env() if not config or config.get("TANLU_USE_ENV") else Settings()
    overrides = {field: config[key] for key, field in _SETTING_KEYS.items() if key in config}
    if "network_path" in overrides and overrides["network_path"] is not None:
        from pathlib import Path

        overrides["network_path"] = Path(overrides["network_path"])
    return dataclasses.replace(base, **overrides)


def _no_favicon() -> Response:
    """Browsers ask every site for an icon: answer 'none' (204), cached, instead of a 404."""
    response = Response(status=204)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _enable_cors(app: Flask, origins: tuple[str, ...]) -> None:
    if not origins:
        return
    from flask_cors import CORS

    CORS(app, resources={r"/v1/*": {}, r"/openapi.json": {}}, origins=list(origins),
         methods=["GET", "POST", "OPTIONS"], allow_headers=["Content-Type", "Accept-Language"],
         max_age=3600, supports_credentials=False)


def _common_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'self'")
    return response
