"""The mapping from tanlu exceptions to HTTP statuses and the one JSON error shape.

Every error response is ``{"error": {"code": "...", "message": "...", "field": "..."}}``
(``field`` is ``null`` when no single parameter is at fault). Statuses:

======================  ======  ==============================================================
code                    status  when
======================  ======  ==============================================================
missing_parameter,      400     a parameter is missing, malformed or out of its range
invalid_*, unknown_*
date_out_of_service     400     ``at`` is outside the network's service dates
invalid_json,           400     the body is not JSON, or not a JSON object
body_not_object
outside_coverage        422     a point is outside the network's area (bounding box or snap)
no_route                422     no itinerary satisfies the modes and limits
missing_api_key,        401     no API key though ``TANLU_REQUIRE_KEY`` is set, or an unknown key
invalid_api_key
not_found               404     unknown path
unknown_city            404     ``/v1/{city}/...`` or ``/embed?city=`` names a city not served
method_not_allowed      405     wrong method
payload_too_large       413     body larger than ``TANLU_MAX_BODY_BYTES``
uri_too_long            414     request line longer than gunicorn's limit (``api.gunicorn``)
rate_limited            429     the client's or IP's rate limit is used up (``Retry-After``)
headers_too_large       431     too many or too long headers (``api.gunicorn``)
not_ready               503     no network loaded
internal_error          500     a bug (logged with its traceback, never shown)
======================  ======  ==============================================================
"""
from __future__ import annotations

import functools
import logging
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from graphs.errors import TanluError
from planner.errors import MethodologyError, NoRouteError, OutsideCoverageError, QueryError

from .i18n import choose_language, message, ui_strings

__all__ = ["ApiError", "register_error_handlers", "error_body", "request_language",
           "ERROR_STATUSES"]

_log = logging.getLogger("tanlu.api")

#: Status of every error code (the table above); the OpenAPI document lists these.
ERROR_STATUSES: dict[str, int] = {
    "missing_parameter": 400, "unknown_parameter": 400, "invalid_coordinates": 400,
    "invalid_number": 400, "invalid_integer": 400, "invalid_boolean": 400,
    "invalid_datetime": 400, "date_out_of_service": 400, "unknown_mode": 400,
    "invalid_list": 400, "invalid_language": 400, "invalid_crs": 400, "invalid_legs": 400,
    "invalid_parameter": 400, "methodology_not_allowed": 400, "invalid_json": 400, "body_not_object": 400, "bad_request": 400,
    "outside_coverage": 422, "no_route": 422, "not_found": 404, "method_not_allowed": 405,
    "payload_too_large": 413, "not_ready": 503, "internal_error": 500,
    "missing_api_key": 401, "invalid_api_key": 401, "unknown_city": 404, "uri_too_long": 414,
    "rate_limited": 429, "headers_too_large": 431,
}
_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
               413: "payload_too_large", 414: "uri_too_long", 429: "rate_limited",
               431: "headers_too_large"}
#: Planner fields no HTTP parameter sets one to one -> the parameter they come from; every other
#: field maps through the parameter tables (``api.params``: ``Param.option`` -> ``Param.name``).
_FIELD_TO_PARAM_EXTRA = {
    "origin_lat": "from", "origin_lon": "from", "destination_lat": "to", "destination_lon": "to",
    "date": "at", "timezone": "at", "access_modes": "modes",
}


@functools.cache
def _query_field_to_param() -> dict[str, str]:
    """Planner option names (``planner.model.Query`` fields) -> the HTTP parameter that sets them."""
    from .params import PLAN_PARAMETERS, REACH_PARAMETERS  # api.params imports this module

    out = {p.option: p.name for p in (*REACH_PARAMETERS, *PLAN_PARAMETERS) if p.option}
    return {**out, **_FIELD_TO_PARAM_EXTRA}


class ApiError(Exception):
    """An error answered with ``ERROR_STATUSES[code]``; ``params`` fill the message template."""

    def __init__(self, code: str, *, field: str | None = None, status: int | None = None,
                 **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.status = status or ERROR_STATUSES.get(code, 400)
        self.params = {"field": field, **params}

    def __str__(self) -> str:
        return message(self.code, "en", self.params)


def request_language() -> str:
    """The language of the current request: ``lang`` (query or body), then Accept-Language."""
    requested = request.args.get("lang") or g.get("tanlu_body_lang")
    return choose_language(requested if isinstance(requested, str) else None,
                           request.accept_languages)


def error_body(err: ApiError, lang: str, request_id: str | None = None) -> dict[str, Any]:
    """The one JSON error shape for ``err`` in ``lang`` (with the request's id, to quote when
    reporting a problem)."""
    return {"error": {"code": err.code, "message": message(err.code, lang, err.params),
                      "field": err.field, "request_id": request_id}}


def register_error_handlers(app: Flask) -> None:
    """Answer every exception with the JSON error shape (an HTML page under ``/embed``)."""
    app.register_error_handler(ApiError, _respond)
    app.register_error_handler(TanluError, lambda err: _respond(_from_tanlu(err)))
    app.register_error_handler(HTTPException, lambda err: _respond(_from_http(err)))
    app.register_error_handler(Exception, _from_bug)


def _from_tanlu(err: TanluError) -> ApiError:
    detail = str(err)
    coded = {"detail_code": getattr(err, "code", None),
             "detail_params": getattr(err, "params", None)}
    field = getattr(err, "field", None)
    param = _query_field_to_param().get(field, field) if field else None
    if isinstance(err, OutsideCoverageError):
        if param == "at":
            return ApiError("invalid_parameter", field="at", detail=detail, **coded)
        return ApiError("outside_coverage", field=param, detail=detail, **coded)
    if isinstance(err, QueryError):
        return ApiError("invalid_parameter", field=param, detail=detail, **coded)
    if isinstance(err, NoRouteError):
        return ApiError("no_route", detail=detail, **coded)
    if isinstance(err, MethodologyError):
        return ApiError("invalid_parameter", field="methodology", detail=detail)
    _log.error("unexpected tanlu error on %s %s: %s", request.method, request.path, detail)
    return ApiError("internal_error")


def _from_http(err: HTTPException) -> ApiError:
    status = err.code or 500
    code = _HTTP_CODES.get(status, "http_error")
    allowed = ", ".join(sorted(getattr(err, "valid_methods", None) or ()))
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return ApiError(code, status=status, path=request.path, method=request.method,
                    allowed=allowed, limit=limit, detail=err.description, status_code=status)


def _from_bug(err: Exception) -> Response:
    _log.exception("internal error on %s %s", request.method, request.path)
    return _respond(ApiError("internal_error"))


def _respond(err: ApiError) -> tuple[Response | str, int, dict[str, str]]:
    from .metrics import ERRORS

    ERRORS.labels(code=err.code, status=str(err.status)).inc()
    lang = request_language()
    headers: dict[str, str] = {}
    if err.status == 405 and err.params.get("allowed"):
        headers["Allow"] = err.params["allowed"]
    if request.blueprint == "embed":
        page = render_template("embed_error.html", lang=lang, ui=ui_strings(lang),
                               message=message(err.code, lang, err.params))
        return page, err.status, headers
    return jsonify(error_body(err, lang, g.get("request_id"))), err.status, headers
