"""Rate limits with flask-limiter: per API client (its ``limit`` in the keys file) and per IP
for requests without a key (``TANLU_RATELIMIT_IP``); counters in memory or in Redis
(``TANLU_RATELIMIT_STORAGE``). A refused request gets 429 ``rate_limited`` in the JSON error
shape with ``Retry-After``."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address

from .keys import current_client
from .settings import Settings

__all__ = ["init_rate_limits", "EXEMPT_ENDPOINTS"]

#: Never limited: probes, metrics, the API description and static files.
EXEMPT_ENDPOINTS = frozenset({"health.healthz", "health.readyz", "metrics.metrics",
                              "docs.openapi_json", "docs.docs", "docs.index", "static",
                              "favicon"})


def init_rate_limits(app: Flask, settings: Settings, *, has_clients: bool) -> Limiter | None:
    """Attach the limiter to ``app`` when a keys file or a per-IP limit is configured."""
    limits: list[str | Callable[[], str] | ApplicationLimit] = []
    if has_clients:
        limits.append(ApplicationLimit(_client_limit, key_function=_client_key,
                                       exempt_when=_anonymous_or_exempt, scope="client"))
    if settings.ratelimit_ip:
        limits.append(ApplicationLimit(settings.ratelimit_ip, key_function=get_remote_address,
                                       exempt_when=_keyed_or_exempt, scope="ip"))
    if not limits:
        return None
    return Limiter(get_remote_address, app=app, application_limits=limits,
                   headers_enabled=True, storage_uri=settings.ratelimit_storage,
                   strategy="moving-window", key_prefix="tanlu", swallow_errors=False)


def _client_limit() -> str:
    client = current_client()
    return (client.limit or "") if client else ""


def _client_key() -> str:
    client = current_client()
    return client.name if client else ""


def _exempt() -> bool:
    return request.endpoint in EXEMPT_ENDPOINTS or request.method == "OPTIONS"


def _anonymous_or_exempt() -> bool:
    return current_client() is None or _exempt()


def _keyed_or_exempt() -> bool:
    return current_client() is not None or _exempt()
