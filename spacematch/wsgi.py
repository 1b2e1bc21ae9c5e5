"""The app for a long-running server process: ``gunicorn 'spacematch.wsgi:create_server_app()'``.

Why not plain ``create_app()``: a worker holds some 150,000 objects that live as long as it does
(Flask, SQLAlchemy, folium, pandas and their modules). Python's cyclic garbage collector walks all
of them on every full collection, which took 70-110 ms on the 2-core test machine and came every
few hundred requests: under load that stall, not the matching, set the 95th percentile latency.
So the server app imports the modules the views load lazily, then moves everything alive into
the collector's permanent generation (``gc.freeze``): full collections then walk only what was
created afterwards (indexes, caches, requests) and take about 2 ms. Objects that die later are
still freed by reference counting; only reference cycles among frozen objects are never
collected, and those live for the whole process anyway.
"""

from __future__ import annotations

import gc
import importlib

from flask import Flask

from . import create_app

# Imported by views on first use; loaded before the freeze so they are frozen too.
LAZY_MODULES = (
    "spacematch.exports",
    "spacematch.mapdata",
    "spacematch.maps",
    "spacematch.monitor",
    "spacematch.needs_public",
    "spacematch.views.openapi",
    "geopandas",
    "pandas",
)


def create_server_app() -> Flask:
    """``create_app()`` (config from the environment), then the collector settled as above."""
    app = create_app()
    for name in LAZY_MODULES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
    return app
