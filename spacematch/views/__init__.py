"""Thin Flask blueprints: parse input, call the core, render."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import ApiError


def init_app(app: Flask) -> None:
    from flask_babel import Babel
    from flask_wtf.csrf import CSRFProtect

    from . import api, auth, main, needs
    from . import exports as export_views
    from . import ogc, planner
    from .common import language

    Babel(app, locale_selector=language)
    csrf = CSRFProtect(app)
    # The JSON API takes application/json only, which a cross-site form cannot send.
    csrf.exempt(api.bp)
    app.jinja_env.globals["current_language"] = language
    app.context_processor(lambda: {"url_rules": app.view_functions})
    auth.init_app(app)
    app.register_blueprint(_vendor_leaflet())
    app.register_blueprint(main.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(needs.bp)
    app.register_blueprint(export_views.bp)
    app.register_blueprint(ogc.bp)
    app.register_blueprint(planner.bp)
    from . import officer  # officer pages (+ allocation)

    app.register_blueprint(officer.bp)
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
