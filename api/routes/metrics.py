"""/metrics: Prometheus text exposition (``api.metrics``). Meant for the monitoring system, not
the public: block it at the reverse proxy."""
from __future__ import annotations

from flask import Blueprint, Response

from ..metrics import CONTENT_TYPE_LATEST, render_metrics

__all__ = ["blueprint"]

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
def metrics() -> Response:
    return Response(render_metrics(), mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                    headers={"Cache-Control": "no-store"})
