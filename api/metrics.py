"""Prometheus metrics: requests, latency, plans by city and mode, errors, network reloads.

Under ``tanlu serve`` every worker writes its samples to ``PROMETHEUS_MULTIPROC_DIR`` (set by the
command before this module is imported) and ``/metrics`` adds up all workers; without that
variable (``flask run``, tests, another server without it) each process reports its own.
"""
from __future__ import annotations

import os

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest)
from prometheus_client import REGISTRY as _DEFAULT_REGISTRY

__all__ = ["REQUESTS", "LATENCY", "PLANS", "ERRORS", "RELOADS", "render_metrics",
           "CONTENT_TYPE_LATEST", "MULTIPROC_VARIABLE", "main_mode"]

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("tanlu_http_requests", "HTTP requests answered",
                   ["method", "endpoint", "status"])
LATENCY = Histogram("tanlu_http_request_duration_seconds",
                    "Time from the request's arrival in the app to its response", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
PLANS = Counter("tanlu_plans", "Plans answered, by city and the main mode of the "
                "recommended itinerary", ["city", "mode"])
ERRORS = Counter("tanlu_http_errors", "Error responses by error code", ["code", "status"])
RELOADS = Counter("tanlu_network_reloads", "Rebuilt artifacts picked up (or refused)",
                  ["city", "outcome"])


def render_metrics() -> bytes:
    """The text exposition of every metric (of all workers in multiprocess mode)."""
    if os.environ.get(MULTIPROC_VARIABLE):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(_DEFAULT_REGISTRY)


def main_mode(itinerary: object) -> str:
    """The mode an itinerary is counted under: the non-walk mode covering most distance."""
    distance: dict[str, float] = {}
    for leg in getattr(itinerary, "legs", ()):
        distance[leg.mode] = distance.get(leg.mode, 0.0) + float(leg.distance_m)
    riding = {mode: d for mode, d in distance.items() if mode != "walk"}
    chosen = riding or distance
    return max(chosen, key=chosen.__getitem__) if chosen else "none"
