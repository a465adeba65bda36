"""Request ids and structured (JSON) logs.

Every request gets an id: the client's ``X-Request-Id`` when it is sane (1-128 of
``A-Za-z0-9._:-``), else a new one. It is echoed in the ``X-Request-Id`` response header, put in
error bodies and in every log line written while the request is handled; ``tanlu serve``
writes one JSON object per line (:class:`JsonFormatter`), including one access line per request.
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import g, has_request_context, request

__all__ = ["REQUEST_ID_HEADER", "request_id", "start_request", "JsonFormatter",
           "RequestIdFilter", "log_access", "configure_json_logging", "ACCESS_LOGGER"]

REQUEST_ID_HEADER = "X-Request-Id"
ACCESS_LOGGER = "tanlu.access"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: LogRecord attributes that are not extra fields given by the caller.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def start_request() -> None:
    """Give the request its id and start its clock (the app's first ``before_request``)."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def request_id() -> str | None:
    """The current request's id (``None`` outside a request)."""
    return g.get("request_id") if has_request_context() else None


def log_access(status: int, size: int | None, client: str | None) -> float:
    """Write the access line of the current request; returns its duration in seconds."""
    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    logging.getLogger(ACCESS_LOGGER).info(
        "%s %s %s", request.method, request.path, status,
        extra={"method": request.method, "path": request.path,
               "query": request.query_string.decode("latin-1")[:512], "status": status,
               "bytes": size, "duration_ms": round(elapsed * 1000, 2),
               "remote_addr": request.remote_addr, "client": client})
    return elapsed


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extra fields and,
    for exceptions, the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id()}
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_json_logging(level: int = logging.INFO) -> logging.Handler:
    """Send the ``tanlu`` loggers' records to stderr as JSON lines (``tanlu serve`` does this)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    for name in ("tanlu", "flask-limiter", "api"):  # "api.app": Flask's own app.logger
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    return handler
