"""Liveness (/healthz: the process answers) and readiness (/readyz: a network is loaded)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from ..coverage import coverage_to_geojson
from ..state import ready_state

__all__ = ["blueprint", "network_summary"]

blueprint = Blueprint("health", __name__)

_SUMMARY_KEYS = ("tanlu_version", "format_version", "built_at", "factor_table", "timezone")


@blueprint.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Response:
    state = ready_state()
    return jsonify({"status": "ready", "network": network_summary(state.network.manifest,
                                                                  coverage_to_geojson(
                                                                      state.coverage))})


def network_summary(manifest: dict[str, Any], coverage: dict[str, Any]) -> dict[str, Any]:
    """The manifest's identity fields, its inputs (name and checksum) and its coverage."""
    summary = {key: manifest.get(key) for key in _SUMMARY_KEYS}
    summary["inputs"] = [{"kind": item.get("kind"), "name": item.get("name"),
                          "sha256": item.get("sha256")}
                         for item in manifest.get("inputs", []) if isinstance(item, dict)]
    summary["layers"] = list(manifest.get("layers", []))
    summary["bbox"] = coverage["bbox"]
    summary["service_dates"] = coverage["properties"]["service_dates"]
    summary["feeds"] = coverage["properties"]["feeds"]
    return summary
