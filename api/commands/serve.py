"""``tanlu serve``: the HTTP API under gunicorn, the networks loaded once before workers fork."""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

__all__ = ["add_parser", "run", "TanluServer", "DEFAULT_HOST", "DEFAULT_PORT",
           "DEFAULT_WORKERS", "DEFAULT_THREADS", "DEFAULT_TIMEOUT_S", "DEFAULT_KEEPALIVE_S",
           "MAX_REQUEST_LINE"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Planning is CPU-bound: one worker process per core...
DEFAULT_WORKERS = max(1, os.cpu_count() or 1)
#: ...each with threads, so slow clients (sending headers or a body slowly) occupy a thread,
#: not the process: the others keep answering. The planner is thread-safe.
DEFAULT_THREADS = 8
DEFAULT_TIMEOUT_S = 30
DEFAULT_KEEPALIVE_S = 5
#: Longest request line (method, URL, version) accepted; longer ones get 414 ``uri_too_long``.
MAX_REQUEST_LINE = 4094


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``tanlu serve``."""
    parser = subparsers.add_parser(
        "serve", help="serve the HTTP API and the embeddable map",
        description="Serve /v1/plan, /v1/points, /embed, /docs... with gunicorn. Settings "
                    "(tile URL, frame ancestors, CORS origins, body limit, points rules, keys, "
                    "rate limits, reload interval) come from TANLU_* environment variables; "
                    "see docs/api.md.")
    parser.add_argument("--network", required=True, action="append", metavar="[CITY=]PATH",
                        help="network artifact (.tanlu); repeat as CITY=PATH to serve several "
                             "cities at /v1/CITY/...; the first is also served at /v1/...")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument("--workers", type=_positive_int, default=DEFAULT_WORKERS,
                        help=f"worker processes (default: {DEFAULT_WORKERS}, one per core)")
    parser.add_argument("--threads", type=_positive_int, default=DEFAULT_THREADS,
                        help=f"threads per worker (default {DEFAULT_THREADS})")
    parser.add_argument("--timeout", type=_positive_int, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds before a stuck worker is restarted "
                             f"(default {DEFAULT_TIMEOUT_S})")
    parser.add_argument("--realtime", action="append", default=[],
                        metavar="[CITY:]FEED=URL_OR_FILE",
                        help="GTFS-Realtime feed (TripUpdates and Alerts) of the network's GTFS "
                             "feed FEED, polled by every worker; CITY: for a city other than the "
                             "default; repeatable")
    parser.add_argument("--realtime-interval", type=_positive_int, default=30,
                        help="seconds between realtime polls (default 30); a feed older than "
                             "3 intervals is dropped for the schedule")
    parser.add_argument("--gbfs", action="append", default=[], metavar="[CITY=]URL_OR_DIR",
                        help="live bike-share feed (a gbfs.json URL or a folder of GBFS 2.3/3.0 "
                             "files) for shared bikes, polled by every worker as its ttl asks; "
                             "CITY= for a city other than the default; repeatable")
    parser.add_argument("--gbfs-interval", type=_positive_int, default=60,
                        help="longest seconds between GBFS polls (default 60); a broken or "
                             "expired feed keeps the last good one, with a notice")
    parser.add_argument("--no-access-log", action="store_true",
                        help="do not log one line per request")
    parser.add_argument("--methodology", default=None,
                        help="the operator's carbon-accounting methodology (preset or TOML "
                             "path; overrides TANLU_METHODOLOGY; default tanlu-car)")
    parser.add_argument("--allow-methodology", action="append", default=None, metavar="NAME",
                        help="a methodology requests may choose with methodology= (repeat; "
                             "overrides TANLU_ALLOWED_METHODOLOGIES)")
    parser.add_argument("--rules", default=None,
                        help="points rules (preset or TOML path; overrides TANLU_POINTS_RULES)")
    parser.add_argument("--pile-list", default=None,
                        help="CSV of public charging piles (overrides TANLU_PILE_LIST)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the networks (errors end the command before any worker starts), then serve."""
    from ..settings import parse_network_specs, settings_from_env

    networks = parse_network_specs(args.network)
    settings_from_env()  # unusable settings end the command before the slow start begins
    master_pid = os.getpid()
    metrics_dir = tempfile.mkdtemp(prefix="tanlu-metrics-")
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)  # before prometheus_client
    try:
        from ..app import create_app
        from ..logs import configure_json_logging

        configure_json_logging()
        if args.no_access_log:
            import logging

            logging.getLogger("tanlu.access").disabled = True
        started = time.monotonic()
        _say(f"loading network(s) {', '.join(str(path) for _, path in networks)} ...")
        _say("compiling search kernels and warming caches (about 15 s on the first run after an "
             "install, under 1 s later) ...")
        app = create_app(_config(args, networks))
        options = _options(args)
        _say(f"ready in {time.monotonic() - started:.1f} s; starting {args.workers} worker(s) "
             f"on {_bracket(args.host)}:{args.port}")
        # each worker starts its reload watcher as it boots (it checks the files at once)
        options["post_worker_init"] = lambda worker: _watch(app)
        # what the warm-up left alive (networks, planners, compiled code: ~130 thousand objects)
        # lives as long as the server: out of the cyclic collector's walks (a full one took
        # ~90 ms every ~80 plans) and of the forked workers' copy-on-write pages (gc.freeze docs)
        gc.freeze()
        TanluServer(app, options).run()
    finally:
        # workers are forked inside run() and leave through here too: only the master cleans up
        if os.getpid() == master_pid:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _config(args: argparse.Namespace, networks) -> dict[str, Any]:
    """The app's config: the environment's settings, overridden by the command's options."""
    config: dict[str, Any] = {"TANLU_USE_ENV": True, "TANLU_NETWORKS": networks,
                              "TANLU_REALTIME": args.realtime,
                              "TANLU_REALTIME_INTERVAL_S": args.realtime_interval,
                              "TANLU_GBFS": args.gbfs, "TANLU_GBFS_INTERVAL_S": args.gbfs_interval}
    for key, value in (("TANLU_METHODOLOGY", args.methodology),
                       ("TANLU_POINTS_RULES", args.rules), ("TANLU_PILE_LIST", args.pile_list)):
        if value is not None:
            config[key] = value
    if args.allow_methodology is not None:
        config["TANLU_ALLOWED_METHODOLOGIES"] = tuple(args.allow_methodology)
    return config


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "bind": f"{_bracket(args.host)}:{args.port}",
        "workers": args.workers,
        "worker_class": "api.gunicorn.JsonErrorThreadWorker",
        "threads": args.threads,
        "preload_app": True,
        "timeout": args.timeout,
        "keepalive": DEFAULT_KEEPALIVE_S,
        "limit_request_line": MAX_REQUEST_LINE,
        "accesslog": None,  # the app writes JSON access lines with the request id
        "errorlog": "-",
        "logger_class": "api.gunicorn.JsonLogger",
        "child_exit": _child_exit,
        "proc_name": "tanlu",
        # several servers (tests, benchmarks) may run at once: no shared control socket
        "control_socket_disable": True,
    }


def _watch(app: Flask) -> None:
    """Start a worker's reload watcher and realtime poller (each checks at once)."""
    app.extensions["tanlu"].watch()
    for key in ("tanlu_realtime", "tanlu_gbfs"):
        poller = app.extensions.get(key)
        if poller is not None:
            poller.watch()


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class TanluServer(BaseApplication):
    """gunicorn running an already created app (so the networks are loaded in the master)."""

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
