"""The API's description: /openapi.json (OpenAPI 3.1) and /docs (the same as a web page)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request

from ..openapi import build_openapi
from ..state import app_state

__all__ = ["blueprint", "openapi_document"]

blueprint = Blueprint("docs", __name__)


def openapi_document() -> dict[str, Any]:
    """The document, built once per app."""
    cache = app_state().cache
    if "openapi" not in cache:
        cache["openapi"] = build_openapi(max_body_bytes=current_app.config["MAX_CONTENT_LENGTH"])
    return cache["openapi"]


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    response = jsonify(openapi_document())
    response.cache_control.public = True
    response.cache_control.max_age = 300
    response.add_etag()
    return response.make_conditional(request)


@blueprint.get("/docs")
def docs() -> str:
    return render_template("docs.html", spec=openapi_document())


@blueprint.get("/")
def index() -> Response:
    return redirect("/docs", code=302)
