"""Security headers, session cookie flags and the rate limits on the public intake and logins.

``init_app(app)`` (called by ``create_app`` once the blueprints are registered) adds:

* A Content-Security-Policy with a fresh nonce per request. Scripts and ``<style>`` blocks run
  only from the app's own origin or with the nonce: templates mark their inline scripts with
  ``nonce="{{ csp_nonce() }}"``, and ``views.common.render_map`` adds it to the ``<script>`` and
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
* Flask-Limiter on ``POST /needs/new`` and ``POST /api/needs``: one budget per client IP shared by
  both (``RATELIMIT_INTAKE``, default 10 per minute and 100 per day), in memory unless
  ``RATELIMIT_STORAGE_URI`` names another store (e.g. ``redis://`` when several processes serve).
  Behind a reverse proxy set ``PROXY_FIX_X_FOR`` to the number of proxies, so the client's address
  (not the proxy's) is the key. Over the limit: 429 with ``Retry-After``, a friendly page for the
  form and ``{"errors": {"_": ...}}`` for the API.
* Flask-Limiter on failed logins (``POST /login`` answered otherwise than with the redirect of a
  success): ``RATELIMIT_LOGIN`` per client IP (default 10 per minute and 100 per day) and
  ``RATELIMIT_LOGIN_ACCOUNT`` per e-mail address tried (default 30 per hour, from any address).
  Over either limit every attempt is refused with 429 -- a correct password too -- until the
  window has passed, so guessing is slowed to that pace. The per-account budget means that
  someone who knows an officer's address can keep that account from logging in for up to an
  hour; the 429 page says how long to wait.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, render_template, request
from flask.wrappers import Response
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user

from spacematch.formatting import number
from spacematch.i18n import N_, gettext, known
from spacematch.web.locale import language

__all__ = [
    "content_security_policy",
    "csp_nonce",
    "init_app",
    "nonce_tags",
    "persistent_secret_key",
    "tile_origin",
]

# The endpoints whose URL carries a need's secret token.
TOKEN_ENDPOINTS = frozenset({"needs.private", "needs.edit", "needs.withdraw"})
# The public intake: one shared budget per client address.
INTAKE_ENDPOINTS = ("needs.new", "api.post_need")
INTAKE_SCOPE = "intake"
LIMITER_KEY = "spacematch_limiter"

# Failed logins: one budget per client address and one per account.
LOGIN_ENDPOINT = "auth.login"

# Dutch msgids (English in the Babel catalogue).
RATE_LIMIT_TEXT = N_(
    "Er zijn vanaf dit adres in korte tijd te veel ruimtevragen verstuurd. "
    "Probeer het over %(wait)s opnieuw."
)
LOGIN_LIMIT_TEXT = N_("Te veel mislukte inlogpogingen. Probeer het over %(wait)s opnieuw.")
# A wait in one unit, (one, more); both languages have these two forms.
WAIT_UNITS = {
    "second": (N_("%(n)s seconde"), N_("%(n)s seconden")),
    "minute": (N_("%(n)s minuut"), N_("%(n)s minuten")),
    "hour": (N_("%(n)s uur"), N_("%(n)s uren")),
}


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


def _secure_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(
        csp_nonce(), current_app.config["TILES_URL"]
    )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    endpoint = request.endpoint or ""
    secret_url = endpoint in TOKEN_ENDPOINTS or "token" in request.args
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


def _wait_text(seconds: int, lang: str) -> str:
    """The wait in seconds under 90 s, in minutes under 90 min, else in hours."""
    minutes = max(1, round(seconds / 60))
    if seconds < 90:
        unit, n = "second", seconds
    elif minutes < 90:
        unit, n = "minute", minutes
    else:
        unit, n = "hour", round(minutes / 60)
    return gettext(WAIT_UNITS[unit][n != 1], lang, n=number(n, lang))


def _retry_after(limiter: Limiter, err: RateLimitExceeded) -> int:
    current = limiter.current_limit
    if current is not None:
        return max(1, int(current.reset_at - time.time()))
    return max(1, int(err.limit.limit.get_expiry()))


def _too_many(err: RateLimitExceeded):
    limiter: Limiter = current_app.extensions[LIMITER_KEY]
    wait = _retry_after(limiter, err)
    lang = known(language())
    msgid = LOGIN_LIMIT_TEXT if request.endpoint == LOGIN_ENDPOINT else RATE_LIMIT_TEXT
    text = gettext(msgid, lang, wait=_wait_text(wait, lang))
    headers = {"Retry-After": str(wait)}
    if request.path.startswith("/api/"):
        return jsonify({"errors": {"_": text}}), 429, headers
    return render_template("errors/429.html", text=text, wait=wait), 429, headers


def _init_limiter(app: Flask) -> Limiter:
    # The RATELIMIT_* settings come from config.DEFAULTS (create_app always loads them).
    limiter = Limiter(
        get_remote_address,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"] or "memory://",
        strategy=app.config.get("RATELIMIT_STRATEGY") or "fixed-window",
        headers_enabled=False,
    )
    limiter.init_app(app)
    app.extensions[LIMITER_KEY] = limiter
    app.register_error_handler(RateLimitExceeded, _too_many)
    if not limiter.enabled:  # RATELIMIT_ENABLED = False (the test suite's default)
        return limiter
    intake = limiter.shared_limit(
        lambda: current_app.config["RATELIMIT_INTAKE"], scope=INTAKE_SCOPE, methods=["POST"]
    )
    for endpoint in INTAKE_ENDPOINTS:
        app.view_functions[endpoint] = intake(app.view_functions[endpoint])
    login = app.view_functions[LOGIN_ENDPOINT]
    for setting, key in (
        ("RATELIMIT_LOGIN", get_remote_address),
        ("RATELIMIT_LOGIN_ACCOUNT", _account),
    ):
        login = limiter.limit(
            lambda setting=setting: current_app.config[setting],
            key_func=key,
            methods=["POST"],
            deduct_when=_failed_login,
        )(login)
    app.view_functions[LOGIN_ENDPOINT] = login
    return limiter


def _failed_login(response: Response) -> bool:
    """A successful login redirects; anything else (wrong password, bad form) counts."""
    return response.status_code != 302


def _account() -> str:
    """The e-mail address a login attempt names, as the account's rate-limit key; read from
    the same place as the login form (Flask-WTF also takes a JSON body)."""
    data = request.form if not request.is_json else request.get_json(silent=True)
    email = data.get("email") if isinstance(data, Mapping) else None
    return "account:" + (email if isinstance(email, str) else "").strip().lower()[:254]


# -- the app -------------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Headers, cookie flags and the intake's rate limit; after the blueprints are registered."""
    _ensure_secret_key(app)
    app.config["SESSION_COOKIE_SECURE"] = _cookie_secure(app)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    proxies = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_secure_headers)
    _init_limiter(app)
