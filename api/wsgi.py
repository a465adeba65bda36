"""WSGI entry for gunicorn: ``gunicorn --preload 'api.wsgi:app'`` with ``TANLU_NETWORK`` set
(a path, or ``CITY=PATH,CITY=PATH``).

With ``--preload`` the networks are loaded once in the master; their arrays are memory-mapped,
so every worker shares them. Set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder) for ``/metrics``
to add up all workers; ``tanlu serve`` does all this without this module.
"""
from __future__ import annotations

from .app import create_app

__all__ = ["app"]

app = create_app()
