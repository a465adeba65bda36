"""gunicorn pieces of ``tanlu serve``: a threaded worker whose own error responses (request
line too long, bad headers...) use the JSON error shape, and a logger writing JSON lines."""
from __future__ import annotations

import json
import logging
from typing import Any

from gunicorn import util
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

from .i18n import message
from .logs import JsonFormatter, RequestIdFilter

__all__ = ["JsonErrorThreadWorker", "JsonLogger", "json_error_response"]

_CODES = {400: "bad_request", 403: "bad_request", 414: "uri_too_long",
          431: "headers_too_large", 417: "bad_request", 501: "bad_request",
          500: "internal_error"}


def json_error_response(status: int, reason: str, detail: str, *,
                        limit: int | None = None) -> bytes:
    """A complete HTTP/1.1 response with the JSON error body (``Connection: close``)."""
    code = _CODES.get(status, "bad_request")
    body = json.dumps({"error": {"code": code,
                                 "message": message(code, "en", {"detail": detail[:200],
                                                                 "limit": limit}),
                                 "field": None, "request_id": None}}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "X-Content-Type-Options: nosniff\r\n\r\n")
    return head.encode("latin-1") + body


class JsonErrorThreadWorker(ThreadWorker):
    """gunicorn's ``gthread`` worker, answering the errors gunicorn itself detects (before the
    app sees the request) with the JSON error shape instead of an HTML page."""

    def init_process(self) -> None:
        limit = self.cfg.limit_request_line

        def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
            util.write_nonblock(sock, json_error_response(status_int, reason, mesg,
                                                          limit=limit))
        util.write_error = write_error  # gunicorn.workers.base calls util.write_error
        super().init_process()


class JsonLogger(Logger):
    """gunicorn's logger with its error log (boot, worker and signal messages) as JSON lines."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())
            handler.addFilter(RequestIdFilter())
        logging.getLogger("tanlu").setLevel(logging.INFO)
