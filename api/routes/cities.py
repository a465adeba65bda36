"""/v1/cities: the cities this server answers for (``/v1/{city}/plan`` ...), the default first."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from ..state import EXTENSION_KEY

__all__ = ["blueprint"]

blueprint = Blueprint("cities", __name__)


@blueprint.get("/v1/cities")
def cities() -> Response:
    registry = current_app.extensions[EXTENSION_KEY]
    return jsonify({"default": registry.default, "cities": registry.describe()})
