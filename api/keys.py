"""API keys: the keys file (TOML) of clients, and who sent the current request.

```toml
[[client]]
name = "wuxi-metro-app"
key_sha256 = "9f86d0..."      # or key = "..." (at least 16 characters)
limit = "600/minute;20000/day"  # optional; without it the client is not rate limited
```
Keys are compared by their SHA-256, so the file may hold only hashes.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import g, request

from .settings import SettingsError, rate_limit

__all__ = ["ApiClient", "load_keys", "request_key", "current_client", "hash_key",
           "set_current_client", "KEY_HEADER", "MIN_KEY_LENGTH"]

#: Header carrying the key (``Authorization: Bearer KEY`` is accepted too).
KEY_HEADER = "X-API-Key"
MIN_KEY_LENGTH = 16
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CLIENT_KEY = "tanlu_client"


@dataclass(frozen=True)
class ApiClient:
    """A client of the keys file: its name (in logs and metrics) and its rate limit."""

    name: str
    key_sha256: str
    limit: str | None = None


def hash_key(key: str) -> str:
    """The hex SHA-256 of a key, as the keys file may store it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def load_keys(path: str | Path) -> dict[str, ApiClient]:
    """Clients by the SHA-256 of their key.

    Raises
    ------
    SettingsError
        If the file is missing or not TOML, or an entry lacks a name or key, repeats one, has a
        short key or an unparsable limit (the message names the entry).
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise SettingsError(f"TANLU_KEYS_FILE={str(path)!r}: cannot read it ({err})") from err
    entries = data.get("client", [])
    if not isinstance(entries, list) or not entries:
        raise SettingsError(f"TANLU_KEYS_FILE={str(path)!r}: expected [[client]] entries")
    clients: dict[str, ApiClient] = {}
    for number, entry in enumerate(entries, start=1):
        client = _client(entry, f"{path}: client {number}")
        if client.key_sha256 in clients:
            raise SettingsError(f"{path}: client {number} ({client.name}) repeats the key of "
                                f"{clients[client.key_sha256].name}")
        if client.name in {c.name for c in clients.values()}:
            raise SettingsError(f"{path}: client {number}: name {client.name!r} is given twice")
        clients[client.key_sha256] = client
    return clients


def request_key() -> str | None:
    """The key the request carries (``X-API-Key`` or ``Authorization: Bearer``), if any."""
    key = request.headers.get(KEY_HEADER)
    if key is None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else None
    return key or None


def current_client() -> ApiClient | None:
    """The client identified for this request (set by ``api.app``), or ``None``."""
    return g.get(_CLIENT_KEY)


def set_current_client(client: ApiClient | None) -> None:
    """Remember the request's client (``api.app`` calls this once per request)."""
    setattr(g, _CLIENT_KEY, client)


def _client(entry: Any, where: str) -> ApiClient:
    if not isinstance(entry, dict):
        raise SettingsError(f"{where}: expected a table with name, key or key_sha256, limit")
    unknown = set(entry) - {"name", "key", "key_sha256", "limit"}
    if unknown:
        raise SettingsError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 64:
        raise SettingsError(f"{where}: name must be a string of 1 to 64 characters")
    key, digest = entry.get("key"), entry.get("key_sha256")
    if (key is None) == (digest is None):
        raise SettingsError(f"{where} ({name}): give exactly one of key, key_sha256")
    if key is not None:
        if not isinstance(key, str) or len(key) < MIN_KEY_LENGTH:
            raise SettingsError(f"{where} ({name}): key must be at least {MIN_KEY_LENGTH} "
                                "characters")
        digest = hash_key(key)
    elif not isinstance(digest, str) or not _SHA256.fullmatch(digest.lower()):
        raise SettingsError(f"{where} ({name}): key_sha256 must be 64 hex digits")
    limit = entry.get("limit")
    if limit is not None and not isinstance(limit, str):
        raise SettingsError(f"{where} ({name}): limit must be a string such as '600/minute'")
    return ApiClient(name=name.strip(), key_sha256=digest.lower(),
                     limit=rate_limit(limit, f"{where} ({name}) limit"))
