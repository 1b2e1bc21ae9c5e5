"""The rate limits (Flask-Limiter), set up by ``spacematch.web.security.init_app``:

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
* Flask-Limiter on anonymous reads of the heavy lists (``READ_ENDPOINTS``:
  ``RATELIMIT_ANONYMOUS_READS`` per client IP; a request costs 1 plus 1 per thousand features asked
  for) and on lost-link requests (``RATELIMIT_LOST``).

An unreachable rate-limit storage fails closed: the limited routes answer 503.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import cast

from flask import Flask, current_app, jsonify, render_template, request
from flask import typing as ft
from flask.wrappers import Response
from flask_babel import gettext as _
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user

from spacematch.formatting import number
from spacematch.i18n import N_, gettext, known
from spacematch.web.locale import language

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


def init_app(app: Flask) -> Limiter:
    """The limiter and its limits on the intake, logins, lost links and heavy reads."""
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
