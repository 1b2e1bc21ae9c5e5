"""spacematch: vacant municipal space in Amsterdam, matched to community initiatives' needs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from spacematch import config as config_module
from spacematch.db import Store

__all__ = ["create_app", "get_store"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: config, store, extensions, blueprints and CLI. Nothing happens at import."""
    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(root / "templates"),
    )
    app.config.from_mapping(config_module.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(config_module.from_environment(config_module.DEFAULTS))
    if test_config:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(
            app.instance_path, "spacematch.sqlite3"
        )

    from spacematch import web

    web.init_app(app, Store(app.config["DATABASE_URL"]))
    return app


def get_store(app: Flask) -> Store:
    """The app's store (for tests, scripts and the server entry point)."""
    from spacematch.web.state import state

    return state(app).store
