"""Security headers, session cookie flags and the rate limits on the public intake and logins.

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
from collections.abc import Callable, Mapping
from typing import cast
from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_request_context, jsonify, render_template, request
from flask import typing as ft
from flask.wrappers import Response
from flask_babel import gettext as _
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
TOKEN_ENDPOINTS = frozenset({
    "needs.private", "needs.edit", "needs.withdraw", "needmail.unsubscribe", "needmail.set_alerts",
    "needmail.toggle_interest", "needmail.introduce",
})  # fmt: skip
# Lost-link requests: one budget per client address (RATELIMIT_LOST).
LOST_ENDPOINT = "needmail.lost"
# The public intake: one shared budget per client address.
INTAKE_ENDPOINTS = ("needs.new", "api.post_need")
INTAKE_SCOPE = "intake"
LIMITER_KEY = "spacematch_limiter"

# Failed logins: one budget per client address and one per account.
LOGIN_ENDPOINT = "auth.login"
# Anonymous reads that cost a server real work: one budget per client address, apart from the
# intake's and the logins'; a request costs 1 plus 1 per thousand features it asks for.
READ_ENDPOINTS = ("api.properties", "ogc.items", "exports.download")
READ_SCOPE = "anonymous-reads"

# Dutch msgids (English in the Babel catalogue).
RATE_LIMIT_TEXT = N_(
    "Er zijn vanaf dit adres in korte tijd te veel ruimtevragen verstuurd. "
    "Probeer het over %(wait)s opnieuw."
)
LOGIN_LIMIT_TEXT = N_("Te veel mislukte inlogpogingen. Probeer het over %(wait)s opnieuw.")
READ_LIMIT_TEXT = N_(
    "Vanaf dit adres zijn in korte tijd te veel grote lijsten opgevraagd. Vraag kleinere "
    "pagina's op (limit) of probeer het over %(wait)s opnieuw."
)
LOST_LIMIT_TEXT = N_(
    "Te veel verzoeken om links vanaf dit adres. Probeer het over %(wait)s opnieuw."
)
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
    msgid = {LOGIN_ENDPOINT: LOGIN_LIMIT_TEXT, LOST_ENDPOINT: LOST_LIMIT_TEXT}.get(
        request.endpoint or "",
        READ_LIMIT_TEXT if request.method == "GET" else RATE_LIMIT_TEXT,
    )
    text = gettext(msgid, lang, wait=_wait_text(wait, lang))
    headers = {"Retry-After": str(wait)}
    if request.path.startswith("/api/"):
        return jsonify({"errors": {"_": text}}), 429, headers
    if request.path.startswith("/ogc"):
        return jsonify({"code": "TooManyRequests", "description": text}), 429, headers
    return render_template("errors/429.html", text=text, wait=wait), 429, headers


def _read_cost() -> int:
    """1 for a page of fewer than a thousand features, plus 1 per thousand asked for: ten pages
    of a hundred cost what they cost the server, as does one page of a thousand. Asking for no
    limit on ``/api/properties`` is asking for its maximum."""
    config = current_app.config
    if request.endpoint == "api.properties":
        ceiling = asked = int(config["API_PROPERTIES_MAX_LIMIT"])
    elif request.endpoint == "ogc.items":
        ceiling, asked = (
            int(config["OGC_MAX_LIMIT"]),
            int(config["OGC_DEFAULT_LIMIT"]),
        )
    else:
        return 1
    raw = request.args.get("limit", "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        asked = int(raw)
    return 1 + min(asked, ceiling) // 1000


def _logged_in() -> bool:
    """Logged-in users (officers, planners, admins) are accountable: no read budget."""
    return bool(current_user.is_authenticated)


def _storage_failed(err: Exception):
    """Fail closed: a limited route whose counter cannot be reached is refused (503), never
    served unlimited; other routes do not need the store and keep working."""
    uri = re.sub(r"//[^@/]*@", "//***@", str(current_app.config["RATELIMIT_STORAGE_URI"]))
    current_app.logger.error(
        "rate-limit storage %s unreachable (%s: %s): refusing %s %s with 503 (fail closed)",
        uri, type(err).__name__, err, request.method, request.path,
    )  # fmt: skip
    text = _("De dienst is tijdelijk niet beschikbaar. Probeer het over een minuut opnieuw.")
    headers = {"Retry-After": "60"}
    if request.path.startswith("/api/"):
        return jsonify({"errors": {"_": text}}), 503, headers
    if request.path.startswith("/ogc"):
        return jsonify({"code": "ServiceUnavailable", "description": text}), 503, headers
    return render_template("error.html", code=503, title=_("Tijdelijk niet beschikbaar"),
                           text=text), 503, headers  # fmt: skip


class StorageUnreachable(ConnectionError):
    """The rate-limit store did not answer its health check."""


def _limited() -> bool:
    """Does this request count against a budget (the intake, a login, an anonymous read)?"""
    endpoint, method = request.endpoint, request.method
    if method == "POST":
        return endpoint in INTAKE_ENDPOINTS or endpoint == LOGIN_ENDPOINT
    return method == "GET" and endpoint in READ_ENDPOINTS and not _logged_in()


def _check_storage():
    """Before a limited request runs, its counter must be reachable: a failed login is only
    counted after the view has run, so an unreachable store would otherwise let a guesser tell
    a hit (302) from a miss (the failed count, 500) at any pace. One PING per limited request."""
    limiter: Limiter = current_app.extensions[LIMITER_KEY]
    if not limiter.enabled or not _limited():
        return None
    try:
        if limiter.storage.check():
            return None
        error: Exception = StorageUnreachable("no answer to the health check")
    except Exception as err:  # the client's own connection error
        error = err
    return _storage_failed(error)


def _storage_errors(storage_uri: str) -> tuple[type[Exception], ...]:
    """What the rate-limit storage raises when it is unreachable. The redis client's errors only
    for a redis storage: importing the client costs a CLI command ~0.1 s for nothing."""
    errors: list[type[Exception]] = []
    try:
        from limits.errors import StorageError

        errors.append(StorageError)
    except ImportError:  # older limits
        pass
    if not storage_uri.startswith(("redis", "async+redis")):
        return tuple(errors)
    try:
        from redis.exceptions import RedisError

        errors.append(RedisError)
    except ImportError:  # the redis client is in the serve extra only
        pass
    return tuple(errors)


def _setting(name: str) -> Callable[[], str]:
    """A limit read from the app's config when the request is checked."""

    def value() -> str:
        limit: str = current_app.config[name]
        return limit

    return value


def _with_limit(
    decorate: Callable[[ft.RouteCallable], object], view: ft.RouteCallable
) -> ft.RouteCallable:
    """``view`` under a limiter decorator. The decorator returns the view with its own
    signature; mypy cannot carry that through Flask's two-member ``RouteCallable`` union."""
    return cast("ft.RouteCallable", decorate(view))


def _init_limiter(app: Flask) -> Limiter:
    # The RATELIMIT_* settings come from config.DEFAULTS (create_app always loads them).
    storage_uri = app.config["RATELIMIT_STORAGE_URI"] or "memory://"
    limiter = Limiter(
        get_remote_address,
        storage_uri=storage_uri,
        strategy=app.config["RATELIMIT_STRATEGY"] or "fixed-window",
        headers_enabled=False,
    )
    limiter.init_app(app)
    app.extensions[LIMITER_KEY] = limiter
    app.register_error_handler(RateLimitExceeded, _too_many)
    for error in _storage_errors(storage_uri):
        app.register_error_handler(error, _storage_failed)
    app.before_request(_check_storage)
    if not limiter.enabled:  # RATELIMIT_ENABLED = False (the test suite's default)
        return limiter
    intake = limiter.shared_limit(
        lambda: current_app.config["RATELIMIT_INTAKE"], scope=INTAKE_SCOPE, methods=["POST"]
    )
    for endpoint in INTAKE_ENDPOINTS:
        app.view_functions[endpoint] = _with_limit(intake, app.view_functions[endpoint])
    reads = limiter.shared_limit(
        lambda: current_app.config["RATELIMIT_ANONYMOUS_READS"],
        scope=READ_SCOPE,
        methods=["GET"],
        exempt_when=_logged_in,
        cost=_read_cost,
    )
    for endpoint in READ_ENDPOINTS:
        if endpoint in app.view_functions:  # tests/test_security.py checks each one exists
            app.view_functions[endpoint] = _with_limit(reads, app.view_functions[endpoint])
    lost = limiter.limit(
        lambda: current_app.config["RATELIMIT_LOST"], scope="lost", methods=["POST"]
    )
    app.view_functions[LOST_ENDPOINT] = _with_limit(lost, app.view_functions[LOST_ENDPOINT])
    login = app.view_functions[LOGIN_ENDPOINT]
    for setting, key in (
        ("RATELIMIT_LOGIN", get_remote_address),
        ("RATELIMIT_LOGIN_ACCOUNT", _account),
    ):
        login = _with_limit(
            limiter.limit(
                _setting(setting),
                key_func=key,
                methods=["POST"],
                deduct_when=_failed_login,
            ),
            login,
        )
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
    _init_limiter(app)
