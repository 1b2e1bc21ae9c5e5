"""Thin Flask blueprints: parse input, call the core, render."""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Flask, abort, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from spacematch.db import Store
from spacematch.domain.messages import Message
from spacematch.errors import ApiError, NotFound


def init_app(app: Flask, store: Store) -> None:
    """The app state, Babel, CSRF, security, every blueprint, the error pages and the CLI."""
    from flask_babel import Babel
    from flask_wtf.csrf import CSRFProtect

    from spacematch.web import (
        api,
        auth,
        cli,
        interests,
        main,
        matches,
        ogc,
        planner,
        rounds,
        security,
        state,
    )
    from spacematch.web import exports as export_views
    from spacematch.web import mail as mail_glue
    from spacematch.web.locale import language
    from spacematch.web.needs import form as needs

    state.init_app(app, store)

    Babel(app, locale_selector=language)
    csrf = CSRFProtect(app)
    # The JSON API takes application/json only, which a cross-site form cannot send.
    csrf.exempt(api.bp)
    csrf.exempt(interests.bp)
    mail_glue.init_app(app)
    csrf.exempt(rounds.api)
    app.jinja_env.globals["current_language"] = language
    auth.init_app(app)
    from spacematch.web.formats import template_helpers

    app.context_processor(template_helpers)
    app.register_blueprint(_vendor_leaflet())
    app.register_blueprint(main.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(needs.bp)
    from spacematch.web.needs import alerts as need_mail

    app.register_blueprint(need_mail.bp)
    # RFC 8058: a mail client's one-click POST carries no CSRF token (the URL's secret suffices).
    csrf.exempt("spacematch.web.needs.alerts.unsubscribe")
    app.register_blueprint(interests.bp)
    app.register_blueprint(export_views.bp)
    app.register_blueprint(ogc.bp)
    app.register_blueprint(planner.bp)
    from spacematch.web import officer  # list, one property, allocation: one blueprint

    app.register_blueprint(officer.bp)
    app.register_blueprint(matches.bp)
    app.register_blueprint(rounds.api)
    app.register_blueprint(rounds.bp)
    security.init_app(app)
    cli.init_app(app)
    _register_error_handlers(app)


def _register_error_handlers(app: Flask) -> None:
    """NUL in a URL, the API's errors as JSON, the OGC API's as OGC exceptions, else a page."""
    from spacematch.web import ogc
    from spacematch.web.locale import language

    @app.url_value_preprocessor
    def refuse_nul(endpoint: str | None, values: dict | None) -> None:
        """No URL with a NUL character names anything (PostgreSQL cannot even look one up)."""
        bad = [k for k, v in (values or {}).items() if isinstance(v, str) and "\x00" in v]
        if bad and request.path.startswith(("/api/", "/ogc/")):
            raise NotFound({k: Message("param_nul") for k in bad})
        if bad:
            abort(404)

    @app.errorhandler(ApiError)
    def api_error(err: ApiError):
        return jsonify({"errors": err.texts(language())}), err.status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if request.path == "/ogc" or request.path.startswith("/ogc/"):
            return ogc.exception_response(err)  # OGC exception JSON, also for unknown paths
        if request.path.startswith("/api/"):
            # A body too large for the limit (one sent without a length, cut off while read):
            # the same words as the page, in the user's language.
            text = str(ERROR_TEXTS[413][1]) if err.code == 413 else err.description
            return jsonify({"errors": {"_": text}}), err.code
        return _error_page(err)


ERROR_TEXTS = {
    400: (
        _l("Ongeldig verzoek"),
        _l("Dit verzoek kon niet worden verwerkt. Ga terug en probeer het opnieuw."),
    ),
    401: (_l("Inloggen nodig"), _l("Log in om deze pagina te bekijken.")),
    403: (_l("Geen toegang"), _l("Je account heeft geen toegang tot deze pagina.")),
    404: (_l("Pagina niet gevonden"), _l("Deze pagina bestaat niet (meer). Controleer de link.")),
    405: (_l("Niet toegestaan"), _l("Deze pagina kan niet op deze manier worden opgevraagd.")),
    413: (_l("Te groot"), _l("Wat je verstuurde is te groot.")),
    429: (
        _l("Te veel verzoeken"),
        _l("Je deed te veel verzoeken kort na elkaar. Wacht even en probeer het opnieuw."),
    ),
    500: (_l("Er ging iets mis"), _l("Er ging bij ons iets mis. Probeer het later opnieuw.")),
}


def _error_page(err: HTTPException):
    """An HTTP error as a page in the user's language, keeping the error's own headers."""
    if err.response is not None or err.code is None or err.code < 400:
        return err
    title, text = ERROR_TEXTS.get(err.code, (None, None))
    if title is None:
        title = _l("Fout %(code)s", code=err.code)
        text = ERROR_TEXTS[500 if err.code >= 500 else 400][1]
    headers = [(k, v) for k, v in err.get_headers() if k.lower() != "content-type"]
    try:
        body = render_template("error.html", code=err.code, title=title, text=text)
    except Exception:  # the page itself failed (e.g. the store is down): werkzeug's plain page
        return err
    return body, err.code, headers


def _vendor_leaflet() -> Blueprint:
    """Leaflet's files from the django-js-lib-leaflet wheel (no Django needed), under /static."""
    folder = resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    return Blueprint(
        "vendor_leaflet",
        __name__,
        static_folder=str(folder),
        static_url_path="/static/vendor/leaflet",
    )
