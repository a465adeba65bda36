"""WSGI entry for gunicorn: ``gunicorn --preload 'api.wsgi:app'`` with ``TANLU_NETWORK`` set.

With ``--preload`` the network is loaded once in the master and the workers share its arrays
copy-on-write; ``tanlu serve`` does the same without this module.
"""
from __future__ import annotations

from .app import create_app

__all__ = ["app"]

app = create_app()
