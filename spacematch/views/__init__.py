"""Thin Flask blueprints: parse input, call the core, render."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import ApiError


def init_app(app: Flask) -> None:
    from flask_babel import Babel

    from . import api, auth, main
    from .common import language

    Babel(app, locale_selector=language)
    app.jinja_env.globals["current_language"] = language
    auth.init_app(app)
    app.register_blueprint(_vendor_leaflet())
    app.register_blueprint(main.bp)
    app.register_blueprint(api.bp)
    try:
        from . import matches
    except ImportError:  # the matching blueprint lands with the engine
        matches = None
    if matches is not None:
        app.register_blueprint(matches.bp)

    @app.errorhandler(ApiError)
    def api_error(err: ApiError):
        return jsonify({"errors": err.errors}), err.status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if request.path.startswith("/api/"):
            return jsonify({"errors": {"_": err.description}}), err.code
        return err


def _vendor_leaflet() -> Blueprint:
    """Leaflet's files from the django-js-lib-leaflet wheel (no Django needed), under /static."""
    folder = resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    return Blueprint("vendor_leaflet", __name__, static_folder=str(folder),
                     static_url_path="/static/vendor/leaflet")
