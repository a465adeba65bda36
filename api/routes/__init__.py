"""HTTP routes, one blueprint per concern."""
from __future__ import annotations

from flask import Flask

from . import docs, embed, health, v1

__all__ = ["register_blueprints"]


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint to ``app``."""
    for module in (health, v1, docs, embed):
        app.register_blueprint(module.blueprint)
