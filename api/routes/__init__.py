"""HTTP routes, one blueprint per concern."""
from __future__ import annotations

from flask import Flask

from . import cities, docs, embed, health, metrics, v1

__all__ = ["register_blueprints"]


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint to ``app``; the JSON API a second time under ``/v1/<city>`` (the
    app's ``url_value_preprocessor`` takes ``city`` out of the URL values)."""
    for module in (health, cities, v1, docs, embed, metrics):
        app.register_blueprint(module.blueprint)
    app.register_blueprint(v1.blueprint, url_prefix="/v1/<city>", name="v1_city")
