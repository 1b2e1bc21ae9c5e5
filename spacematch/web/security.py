"""Security headers, session cookie flags, body and host checks; the rate limits (set up and
described in ``spacematch.web.rate_limits``) on the public intake, logins and heavy reads.

``init_app(app)`` (called by ``create_app`` once the blueprints are registered) adds:

* A Content-Security-Policy with a fresh nonce per request. Scripts and ``<style>`` blocks run
  only from the app's own origin or with the nonce: templates mark their inline scripts with
  ``nonce="{{ csp_nonce() }}"``, and ``web.common.render_map`` adds it to the ``<script>`` and
  ``<style>`` tags of folium's rendered header (our own trusted markup, never user text). Neither
  ``'unsafe-inline'`` nor ``'unsafe-eval'`` is allowed, for scripts or styles. Images may come from
  the configured basemap tile server (``TILES_URL``'s origin) besides ``'self'`` and ``data:``.
* ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy:
  same-origin`` (``no-referrer`` on a need's private pages, whose URL is the secret) and
  ``Cache-Control: no-store`` on those pages and on every page served to a logged-in user.
* Session cookies ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` (``SESSION_COOKIE_SECURE =
  "auto"``: secure unless the app runs in debug or testing mode; set it to a boolean to decide),
  never signed with the published development ``SECRET_KEY`` outside debug and testing (the
  instance's own random key in ``instance/secret_key`` replaces it).
* The rate limits on the public intake, failed logins, lost links and anonymous heavy reads,
  set up and described in ``spacematch.web.rate_limits``.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_request_context, jsonify, render_template, request
from flask.wrappers import Response
from flask_babel import gettext as _
from flask_login import current_user

from spacematch.web import rate_limits
from spacematch.web.locale import language
from spacematch.web.rate_limits import READ_ENDPOINTS

__all__ = [
    "READ_ENDPOINTS",
    "content_security_policy",
    "csp_nonce",
    "init_app",
    "nonce_tags",
    "persistent_secret_key",
    "tile_origin",
]

# The endpoints whose URL carries a need's secret token.
TOKEN_ENDPOINTS = frozenset({
    "needs.private", "needs.edit", "needs.withdraw", "needmail.unsubscribe", "needmail.set_alerts",
    "needmail.toggle_interest", "needmail.introduce",
})  # fmt: skip


# -- Content-Security-Policy ---------------------------------------------------------------------


def csp_nonce() -> str:
    """This request's CSP nonce (made on first use; the response's policy names it)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


_OPEN_TAG = re.compile(r"<(script|style)(?=[\s>])", re.IGNORECASE)


def nonce_tags(markup: str) -> str:
    """Give every ``<script>`` and ``<style>`` tag of trusted markup this request's nonce.

    Only for markup the app itself generates (folium's header); never for text from users.
    """
    nonce = csp_nonce()
    return _OPEN_TAG.sub(lambda m: f'<{m.group(1)} nonce="{nonce}"', markup)


def tile_origin(tiles_url: str) -> str | None:
    """The CSP source of a tile URL template: its scheme and host (``{s}`` subdomains -> ``*``).

    ``None`` for a relative URL (tiles served by the app itself: ``'self'`` covers them).
    """
    parts = urlsplit(tiles_url.replace("{s}", "__sub__"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    netloc = parts.netloc.replace("__sub__", "*")
    if not re.fullmatch(r"[A-Za-z0-9.*:\[\]-]+", netloc):
        return None  # some other placeholder in the host: refuse to guess a wildcard
    return f"{parts.scheme}://{netloc}"


def content_security_policy(nonce: str, tiles_url: str) -> str:
    tiles = tile_origin(tiles_url)
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": f"'self' 'nonce-{nonce}'",
        "img-src": " ".join(["'self'", "data:", *([tiles] if tiles else [])]),
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def need_token() -> str:
    """The need token a request presents: ``?token=`` (the design's contract), else the
    ``X-Need-Token`` header, else ``Authorization: Bearer <token>`` (headers stay out of access
    logs, a query string does not)."""
    token = request.args.get("token") or request.headers.get("X-Need-Token", "")
    if not token:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            token = value.strip()
    return token


def _secure_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(
        csp_nonce(), current_app.config["TILES_URL"]
    )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    endpoint = request.endpoint or ""
    secret_url = endpoint in TOKEN_ENDPOINTS or bool(need_token())
    headers["Referrer-Policy"] = "no-referrer" if secret_url else "same-origin"
    if secret_url or endpoint == "api.post_need":
        # The page (or the API's answer) holds the token: no browser or proxy keeps a copy.
        response.headers["Cache-Control"] = "no-store"
    elif (
        current_user.is_authenticated
        and not endpoint.endswith("static")
        and "Cache-Control" not in headers
    ):
        # Officers' pages carry initiatives' contact data: not for a shared computer's cache.
        headers["Cache-Control"] = "private, no-store"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


# -- session cookies and the key that signs them -------------------------------------------------

DEV_SECRET_KEY = "dev-only-change-me"  # config.DEFAULTS: fine for tests and debug, nowhere else


def persistent_secret_key(instance_path: str) -> str:
    """A random 256-bit key kept in ``<instance>/secret_key`` (mode 0600), made on first use.

    Every worker process of one instance reads the same file, so sessions survive restarts and
    hold across workers; a worker that loses the race to create it waits for the winner's key.
    """
    path = os.path.join(instance_path, "secret_key")
    os.makedirs(instance_path, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(200):
            with open(path, encoding="ascii") as fh:
                key = fh.read().strip()
            if key:
                return key
            time.sleep(0.01)
        raise RuntimeError(f"{path} stays empty: remove it or set SECRET_KEY") from None
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def _ensure_secret_key(app: Flask) -> None:
    """Never sign sessions with the published development key outside debug and testing: an
    unchanged ``SECRET_KEY`` is replaced by the instance's own random key (a forged session
    cookie would otherwise make anyone an admin)."""
    if app.config.get("SECRET_KEY") != DEV_SECRET_KEY or app.debug or app.testing:
        return
    app.config["SECRET_KEY"] = persistent_secret_key(app.instance_path)
    app.logger.warning(
        "SECRET_KEY is the development default; using the random key in %s/secret_key "
        "(set SPACEMATCH_SECRET_KEY to choose one)",
        app.instance_path,
    )


def _cookie_secure(app: Flask) -> bool:
    value = app.config.get("SESSION_COOKIE_SECURE", "auto")
    if isinstance(value, str):
        value = value.strip().lower()
        if value == "auto":
            return not (app.debug or app.testing)
        return value in {"1", "true", "yes", "on"}
    return bool(value)


# -- rate limit on the public intake -------------------------------------------------------------


# -- request bodies ------------------------------------------------------------------------------


def _body_limit() -> int:
    """This request's largest body: ``MAX_CONTENT_LENGTH`` (64 kB: a need is a few kB), or
    ``MAX_UPLOAD_LENGTH`` on the endpoints named in ``UPLOAD_ENDPOINTS`` for an admin."""
    config = current_app.config
    upload = request.endpoint in (config.get("UPLOAD_ENDPOINTS") or ())
    if upload and current_user.is_authenticated and current_user.has_role("admin"):
        return int(config["MAX_UPLOAD_LENGTH"])
    return int(config["MAX_CONTENT_LENGTH"])


def _refuse_large_bodies():
    """First of all before-request hooks (CSRF reads the form): a body announced larger than
    the limit is refused with 413 before a byte of it is read; one sent without a length is cut
    off at the limit by werkzeug (``request.max_content_length``), also with 413."""
    limit = _body_limit()
    request.max_content_length = limit
    length = request.content_length
    if length is None or length <= limit:
        return None
    sep = "," if language() == "en" else "."
    text = _(
        "Wat je verstuurde is te groot (%(size)s kB; hier mag het hoogstens %(limit)s kB zijn).",
        size=f"{-(-length // 1024):,}".replace(",", sep),
        limit=f"{limit // 1024:,}".replace(",", sep),
    )
    headers = {"Connection": "close"}  # the unread body must not be taken for a next request
    if request.path.startswith("/api/"):
        return jsonify({"errors": {"_": text}}), 413, headers
    if request.path.startswith("/ogc"):
        return jsonify({"code": "PayloadTooLarge", "description": text}), 413, headers
    body = render_template("error.html", code=413, title=_("Te groot"), text=text)
    return body, 413, headers


def json_body() -> object:
    """The request's JSON (None when it is not JSON), with the body limit enforced for a body
    sent without a length too: werkzeug then stops reading at the limit and hands over what it
    read, which for JSON would be a silently truncated document."""
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        from werkzeug.exceptions import RequestEntityTooLarge

        raise RequestEntityTooLarge()
    return request.get_json(silent=True)


# -- hosts and absolute links --------------------------------------------------------------------


def _trusted_hosts(app: Flask) -> None:
    """``TRUSTED_HOSTS`` (Flask's own check: any other ``Host`` gets 400) may come from the
    environment as a comma-separated list."""
    hosts = app.config.get("TRUSTED_HOSTS")
    if isinstance(hosts, str):
        hosts = [h.strip() for h in hosts.split(",") if h.strip()]
    app.config["TRUSTED_HOSTS"] = list(hosts) if hosts else None


def base_url(app: Flask) -> str | None:
    """``BASE_URL`` (``SPACEMATCH_BASE_URL``) without its trailing slash, checked; or None."""
    raw = str(app.config.get("BASE_URL") or "").strip().rstrip("/")
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"BASE_URL must look like https://host[:port][/path], not {raw!r}")
    return raw


def _absolute_links_from_base_url(app: Flask) -> None:
    """With ``BASE_URL`` set, every absolute link (``url_for(..., _external=True)``: the OGC
    API's links, later the mails' links) starts with it, whatever ``Host`` a request names;
    relative links are left as they are. Outside a request it needs no ``SERVER_NAME``."""
    base = base_url(app)
    if base is None:
        return
    plain = app.url_for

    def url_for(
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values,
    ) -> str:
        in_request = has_request_context()
        external = _external if _external is not None else (_scheme is not None or not in_request)
        if not external:
            return plain(endpoint, _anchor=_anchor, _method=_method, _external=False, **values)
        if in_request:
            path = plain(endpoint, _anchor=_anchor, _method=_method, _external=False, **values)
            root = request.script_root
            if root and path.startswith(root):
                path = path[len(root) :]
        else:
            from urllib.parse import quote

            app.inject_url_defaults(endpoint, values)
            path = app.url_map.bind("localhost").build(endpoint, values, method=_method)
            if _anchor is not None:
                path += "#" + quote(_anchor, safe="%!#$&'()*+,/:;=?@")
        prefix = base if _scheme is None else _scheme + base[base.index("://") :]
        return prefix + path

    app.url_for = url_for  # type: ignore[method-assign]


# -- the app -------------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Headers, cookie flags, body and host checks, the rate limits; after the blueprints are
    registered."""
    _ensure_secret_key(app)
    # Before every other hook: Flask-WTF's CSRF check reads the form, so the body.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_large_bodies)
    _trusted_hosts(app)
    _absolute_links_from_base_url(app)
    from spacematch.web.masking import MaskTokensFilter

    app.logger.addFilter(MaskTokensFilter())  # Flask logs a crash with the request's path
    app.config["SESSION_COOKIE_SECURE"] = _cookie_secure(app)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    proxies = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Flask documents wrapping wsgi_app in middleware so; its stub declares a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies
        )
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_secure_headers)
    rate_limits.init_app(app)
