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

It also refuses to start on a store whose schema is not at this code's newest migration: the
code relies on what migrations add (e.g. the triggers that move the data version when needs
change, without which officers would see stale candidates), and ``flask init-db`` upgrades a
store in place, keeping every row.
"""

from __future__ import annotations

import gc
import importlib

from flask import Flask

from spacematch import create_app, get_store
from spacematch.migrations import current_revision, head, known_revisions, triggers

# Imported by views on first use; loaded before the freeze so they are frozen too.
LAZY_MODULES = (
    "spacematch.export.tables",
    "spacematch.export.clusters",
    "spacematch.maps",
    "spacematch.export.figures",
    "spacematch.export.public",
    "spacematch.export.datasets",
    "spacematch.export.writers",
    "spacematch.web.needs.page",
    "spacematch.web.openapi",
    # Loaded on use since the CLI start-up work (issue 10 item 8): numpy, shapely, pyproj, rtree
    # and the matching engine (through batch), email-validator, Flask-Mailman.
    "spacematch.matching.batch",
    "spacematch.matching.cache",
    "spacematch.matching.report",
    "spacematch.matching.sharing",
    "rtree.index",
    "pyproj",
    "email_validator",
    "flask_mailman",
    "geopandas",
    "pandas",
)


def create_server_app() -> Flask:
    """``create_app()`` (config from the environment), the schema checked and the collector
    settled as above."""
    app = create_app()
    store = get_store(app)
    with store.engine.connect() as conn:
        revision, complete = current_revision(conn), triggers.present(conn)
    store.dispose()  # no connection opened here outlives the check (nor is frozen, nor forked)
    if revision not in known_revisions():
        raise RuntimeError(
            f"The store is at schema revision {revision}, which this version of spacematch "
            f"does not know (its newest is {head()}): is an older version being deployed?"
        )
    if revision != head() or not complete:
        state = f"revision {revision or 'none'}" if revision != head() else "lacks its triggers"
        raise RuntimeError(
            f"The store's schema {state}; this version of spacematch needs {head()} with its "
            "triggers. Run `flask --app spacematch init-db` first: it migrates the store and "
            "keeps every row."
        )
    if not app.config.get("BASE_URL") and not app.config.get("TRUSTED_HOSTS"):
        app.logger.warning(
            "Neither SPACEMATCH_BASE_URL nor SPACEMATCH_TRUSTED_HOSTS is set: absolute links "
            "(the OGC API's) follow whatever Host header a request names. Set the public URL."
        )
    for name in LAZY_MODULES:
        importlib.import_module(name)
    from spacematch.web.auth import dummy_hash

    with app.app_context():
        dummy_hash()  # made now: the first unknown login is then no slower than the next
    gc.collect()
    gc.freeze()
    return app
