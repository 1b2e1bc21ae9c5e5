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
    # The instance folder (config.py, the SQLite store, secret_key): SPACEMATCH_INSTANCE_PATH
    # (or INSTANCE_PATH in test_config), else Flask's default ``instance/`` beside the package.
    instance = (test_config or {}).get("INSTANCE_PATH") or os.environ.get(
        "SPACEMATCH_INSTANCE_PATH"
    )
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance) if instance else None,
        instance_relative_config=True,
        template_folder=str(root / "templates"),
    )
    app.config.from_mapping(config_module.DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(config_module.from_environment(config_module.DEFAULTS))
    if test_config:
        app.config.from_mapping(test_config)

    app.config["INSTANCE_PATH"] = app.instance_path
    private_folder(app.instance_path)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(
            app.instance_path, "spacematch.sqlite3"
        )

    from spacematch import web

    web.init_app(app, Store(app.config["DATABASE_URL"]))
    return app


def private_folder(path: str) -> None:
    """Make the instance folder, readable by its owner only (0700): it holds the store (contact
    data, password hashes) and the key that signs sessions. A folder the process did not make is
    tightened only when it belongs to the process's user."""
    try:
        os.makedirs(path, mode=0o700)
    except FileExistsError:
        info = os.stat(path)
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.chmod(path, 0o700)


def get_store(app: Flask) -> Store:
    """The app's store (for tests, scripts and the server entry point)."""
    from spacematch.web.state import state

    return state(app).store
