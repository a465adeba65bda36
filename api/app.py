"""The Flask application factory."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider

from graphs.artifact import load_network
from graphs.hashing import file_sha256
from planner.piles import load_pile_csv

from .cities import Cities, file_key
from .embed_view import format_co2e, format_points
from .errors import ApiError, register_error_handlers
from .gbfs_live import DEFAULT_INTERVAL_S as GBFS_INTERVAL_S
from .gbfs_live import GbfsPoller, parse_gbfs_specs
from .keys import current_client, hash_key, load_keys, request_key, set_current_client
from .logs import REQUEST_ID_HEADER, log_access, start_request
from .metrics import LATENCY, REQUESTS
from .ratelimit import EXEMPT_ENDPOINTS, init_rate_limits
from .realtime import DEFAULT_INTERVAL_S, RealtimePoller, parse_realtime_specs
from .routes import register_blueprints
from .settings import DEFAULT_CITY, Settings, parse_network_specs, settings_from_env, tile_crs
from .state import CITY_KEY, EXTENSION_KEY, AppState, make_state, warm_up

__all__ = ["create_app", "HtmlSafeJSONProvider"]

#: ``config`` keys that override the settings (else taken from ``TANLU_*`` variables).
REALTIME_KEY = "tanlu_realtime"
GBFS_KEY = "tanlu_gbfs"
_SETTING_KEYS = {f"TANLU_{f.name.upper()}": f.name for f in dataclasses.fields(Settings)}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create the app.

    ``config`` may hold Flask settings, ``TANLU_<SETTING>`` overrides of
    :class:`api.settings.Settings` (e.g. ``TANLU_TILE_URL``; ``TANLU_NETWORKS``: ``NAME=PATH``
    strings or ``(name, path)`` pairs, the first the default city), ``TANLU_LOADED_NETWORK`` (a loaded
    ``Network`` served as the default city instead of files) and ``TANLU_PLAN`` and
    ``TANLU_RULES`` (a function replacing the planner and loaded points rules, for tests of
    the HTTP edge). Without ``config``, or with ``TANLU_USE_ENV=True``, the settings start from
    the environment (``api.settings.settings_from_env``); otherwise from the defaults.

    Artifacts are memory-mapped and warmed up (one trip planned) here, so under gunicorn with
    ``preload_app`` the workers inherit ready planners; each process then reloads a city whose
    file is replaced (``api.cities``).

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
    clients = load_keys(settings.keys_file) if settings.keys_file is not None else {}
    app.extensions[EXTENSION_KEY] = _cities(settings, config)
    _start_realtime(app, config)
    _start_gbfs(app, config)
    app.config["TANLU_CLIENTS"] = clients
    register_error_handlers(app)
    register_blueprints(app)
    app.add_url_rule("/favicon.ico", "favicon", _no_favicon)
    app.url_value_preprocessor(_city_from_url)
    app.before_request(_before_request)
    app.after_request(_after_request)
    init_rate_limits(app, settings, has_clients=bool(clients))
    _enable_cors(app, settings.cors_origins)
    app.after_request(_common_headers)
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)
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
    if overrides.get("networks"):
        overrides["networks"] = parse_network_specs(
            spec if isinstance(spec, str) else f"{spec[0]}={spec[1]}"
            for spec in overrides["networks"])
    if overrides.get("tile_crs") is not None:
        overrides["tile_crs"] = tile_crs(overrides["tile_crs"])
    for name in ("keys_file", "pile_list"):
        if overrides.get(name) is not None:
            overrides[name] = Path(overrides[name])
    return dataclasses.replace(base, **overrides)


def _no_favicon() -> Response:
    """Browsers ask every site for an icon: answer 'none' (204), cached, instead of a 404."""
    response = Response(status=204)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _cities(settings: Settings, config: Mapping[str, Any]) -> Cities:
    """Load every configured city (the loaded ``TANLU_LOADED_NETWORK`` first, as the default)."""
    rules, plan = config.get("TANLU_RULES"), config.get("TANLU_PLAN")
    # the operator's methodology, allowed ones and pile list apply to every city
    piles = load_pile_csv(settings.pile_list) if settings.pile_list is not None else None
    shared = {"points_rules": settings.points_rules, "rules": rules, "plan": plan,
              "methodology": settings.methodology,
              "allowed_methodologies": settings.allowed_methodologies,
              "pile_list": piles, "pile_distance_m": settings.pile_distance_m}

    def load_city(name: str, path: Path) -> AppState:
        network = load_network(path, mmap=True)
        state = make_state(network, city=name, artifact_sha256=file_sha256(path), **shared)
        warm_up(state)
        return state

    cities = Cities(loader=load_city, reload_interval_s=settings.reload_interval_s)
    network = config.get("TANLU_LOADED_NETWORK")
    if network is not None or not settings.networks:
        cities.add(make_state(network, city=DEFAULT_CITY, **shared))
        if network is None:
            return cities
    for name, path in settings.networks:
        key = file_key(path) if path.exists() else None
        cities.add(load_city(name, path), path=path, key=key)
    return cities


def _start_realtime(app: Flask, config: Mapping[str, Any]) -> None:
    """``TANLU_REALTIME`` (``[CITY:]FEED=URL_OR_FILE`` strings): poll once now, then in a
    thread of each process (``TANLU_REALTIME_INTERVAL_S``; see ``api.realtime``)."""
    sources = parse_realtime_specs(config.get("TANLU_REALTIME"))
    if not sources:
        return
    poller = RealtimePoller(app.extensions[EXTENSION_KEY], sources, interval_s=float(
        config.get("TANLU_REALTIME_INTERVAL_S") or DEFAULT_INTERVAL_S))
    poller.check()
    poller.poll_once()
    app.extensions[REALTIME_KEY] = poller


def _start_gbfs(app: Flask, config: Mapping[str, Any]) -> None:
    """``TANLU_GBFS`` (``[CITY=]URL_OR_DIR`` strings): poll once now, then in a thread of each
    process (``TANLU_GBFS_INTERVAL_S``; see ``api.gbfs_live``)."""
    sources = parse_gbfs_specs(config.get("TANLU_GBFS"))
    if not sources:
        return
    poller = GbfsPoller(app.extensions[EXTENSION_KEY], sources, interval_s=float(
        config.get("TANLU_GBFS_INTERVAL_S") or GBFS_INTERVAL_S))
    poller.check()
    poller.poll_once()
    app.extensions[GBFS_KEY] = poller


def _city_from_url(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values and "city" in values:
        setattr(g, CITY_KEY, values.pop("city"))


def _before_request() -> None:
    start_request()
    app_cities: Cities = _app().extensions[EXTENSION_KEY]
    app_cities.watch()
    poller = _app().extensions.get(REALTIME_KEY)
    if poller is not None:
        poller.watch()
    gbfs = _app().extensions.get(GBFS_KEY)
    if gbfs is not None:
        gbfs.watch()
    if request.blueprint == "embed" and "city" in request.args:
        setattr(g, CITY_KEY, request.args["city"])
    _identify_client()


def _identify_client() -> None:
    """Who sent the request (an API key of the keys file); 401 for an unknown key, or for
    no key when ``TANLU_REQUIRE_KEY`` is set (probes, metrics and docs stay open)."""
    clients = _app().config["TANLU_CLIENTS"]
    key = request_key()
    client = clients.get(hash_key(key)) if key is not None and clients else None
    set_current_client(client)
    if request.endpoint in EXEMPT_ENDPOINTS or request.method == "OPTIONS":
        return
    if key is not None and clients and client is None:
        raise ApiError("invalid_api_key", status=401)
    if client is None and _app().config["TANLU_REQUIRE_KEY"]:
        raise ApiError("missing_api_key", status=401)


def _after_request(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    client = current_client()
    elapsed = log_access(response.status_code, response.content_length,
                         client.name if client else None)
    REQUESTS.labels(method=request.method, endpoint=endpoint,
                    status=str(response.status_code)).inc()
    LATENCY.labels(endpoint=endpoint).observe(elapsed)
    return response


def _app() -> Flask:
    from flask import current_app

    return current_app  # type: ignore[return-value]


def _enable_cors(app: Flask, origins: tuple[str, ...]) -> None:
    if not origins:
        return
    from flask_cors import CORS

    CORS(app, resources={r"/v1/*": {}, r"/openapi.json": {}}, origins=list(origins),
         methods=["GET", "POST", "OPTIONS"],
         allow_headers=["Content-Type", "Accept-Language", "X-API-Key", "Authorization",
                        "X-Request-Id"],
         expose_headers=["X-Request-Id", "Retry-After", "X-RateLimit-Limit",
                         "X-RateLimit-Remaining", "X-RateLimit-Reset"],
         max_age=3600, supports_credentials=False)


def _common_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'self'")
    return response
