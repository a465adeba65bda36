"""Reading requests: the JSON body, with the errors of the one error shape."""
from __future__ import annotations

import json
from typing import Any

from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import ApiError

__all__ = ["json_body"]


def json_body() -> dict[str, Any]:
    """The request body as a JSON object (any content type; an empty body is ``{}``).

    Raises
    ------
    ApiError
        ``invalid_json`` or ``body_not_object`` (400); 413 past ``MAX_CONTENT_LENGTH``
        (werkzeug checks a declared Content-Length; a chunked body is cut at the limit, so
        one that reaches it is refused here rather than parsed truncated).
    """
    raw = request.get_data(cache=True)
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if request.content_length is None and limit is not None and len(raw) >= limit:
        raise RequestEntityTooLarge()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as err:
        detail = err.msg if isinstance(err, json.JSONDecodeError) else "not UTF-8 JSON"
        raise ApiError("invalid_json", detail=detail) from err
    if not isinstance(body, dict):
        raise ApiError("body_not_object")
    try:  # "\ud800" decodes to a lone surrogate, which no later UTF-8 encoding survives
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as err:
        raise ApiError("invalid_json", detail="a string holds a lone UTF-16 surrogate "
                                              "(\\ud800-\\udfff)") from err
    except RecursionError as err:
        raise ApiError("invalid_json", detail="nested too deeply") from err
    if isinstance(body.get("lang"), str):
        g.tanlu_body_lang = body["lang"]
    return body
