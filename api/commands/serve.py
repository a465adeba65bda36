"""``tanlu serve``: the HTTP API under gunicorn, the network loaded once before the workers fork."""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

__all__ = ["add_parser", "run", "TanluServer", "DEFAULT_HOST", "DEFAULT_PORT",
           "DEFAULT_WORKERS", "DEFAULT_TIMEOUT_S", "ACCESS_LOG_FORMAT"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Planning is CPU-bound: one sync worker per core.
DEFAULT_WORKERS = max(1, os.cpu_count() or 1)
DEFAULT_TIMEOUT_S = 30
#: One line per request: client, request line, status, bytes, latency in milliseconds.
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms'


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``tanlu serve``."""
    parser = subparsers.add_parser(
        "serve", help="serve the HTTP API and the embeddable map",
        description="Serve /v1/plan, /v1/points, /embed, /docs... with gunicorn. Settings "
                    "(tile URL, frame ancestors, CORS origins, body limit, points rules) come "
                    "from TANLU_* environment variables; see docs/api.md.")
    parser.add_argument("--network", required=True, help="network artifact (.tanlu)")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument("--workers", type=_positive_int, default=DEFAULT_WORKERS,
                        help=f"worker processes (default: {DEFAULT_WORKERS}, one per core)")
    parser.add_argument("--timeout", type=_positive_int, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds before a stuck worker is restarted "
                             f"(default {DEFAULT_TIMEOUT_S})")
    parser.add_argument("--no-access-log", action="store_true",
                        help="do not log one line per request")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the network (errors end the command before any worker starts), then serve."""
    from graphs.artifact import load_network

    from ..app import create_app

    started = time.monotonic()
    _say(f"loading network {args.network} ...")
    network = load_network(args.network)
    app = create_app({"TANLU_USE_ENV": True, "TANLU_NETWORK": network})
    _say("compiling search kernels and warming caches (about 15 s on the first run after an "
         "install, under 1 s later) ...")
    _warm_up(app)
    _say(f"ready in {time.monotonic() - started:.1f} s; starting {args.workers} worker(s) on "
         f"{_bracket(args.host)}:{args.port}")
    options = {
        "bind": f"{_bracket(args.host)}:{args.port}",
        "workers": args.workers,
        "worker_class": "sync",
        "preload_app": True,
        "timeout": args.timeout,
        "accesslog": None if args.no_access_log else "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "proc_name": "tanlu",
        # several servers (tests, benchmarks) may run at once: no shared control socket
        "control_socket_disable": True,
    }
    TanluServer(app, options).run()
    return 0


class TanluServer(BaseApplication):
    """gunicorn running an already created app (so the network is loaded in the master)."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:  # older gunicorn: skip unknown
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def _warm_up(app: Flask) -> None:
    """Plan one trip in the master so compiled code and caches are inherited by the workers."""
    state = app.extensions["tanlu"]
    west, south, east, north = state.coverage.bbox
    centre = ((south + north) / 2, (west + east) / 2)
    when = state.coverage.first_service_date
    query = {"from": f"{centre[0]},{centre[1]}",
             "to": f"{centre[0] + (north - south) / 8},{centre[1] + (east - west) / 8}",
             "at": f"{when.isoformat()}T08:00" if when else None}
    app.test_client().get("/v1/plan", query_string={k: v for k, v in query.items() if v})


def _say(message: str) -> None:
    """A start-up line on stderr, so the slow first start is not silent."""
    print(f"tanlu serve: {message}", file=sys.stderr, flush=True)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value
