"""Configuration defaults.

Precedence, lowest first: these defaults, ``instance/config.py``, ``SPACEMATCH_*`` environment
variables, then the ``test_config`` mapping handed to ``create_app``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Filled in by create_app when left empty: a SQLite file in the instance folder.
    "DATABASE_URL": "",
    "SECRET_KEY": "dev-only-change-me",
    # Basemap tiles: PDOK BRT-Achtergrondkaart (Kadaster), Web Mercator.
    "TILES_URL": "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png",
    "TILES_ATTRIBUTION": "Kaartgegevens &copy; Kadaster (PDOK BRT-Achtergrondkaart)",
    "MATCH_WEIGHTS": {"size": 0.35, "price": 0.35, "place": 0.30},
    "BABEL_DEFAULT_LOCALE": "nl",
    "LANGUAGES": ["nl", "en"],
    "WTF_CSRF_ENABLED": True,
    # Session cookie: "auto" = Secure unless in debug or testing mode; or true / false.
    "SESSION_COOKIE_SECURE": "auto",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Rate limit on the public intake (POST /needs/new and POST /api/needs, one budget per client
    # IP); see spacematch/web/security.py. Storage: memory:// per process, or e.g. redis://host:6379.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_INTAKE": "10 per minute;100 per day",
    # Failed logins (a successful one is not counted): per client IP, and per account (the
    # e-mail address tried, from any address: slows a password guesser spread over many IPs).
    "RATELIMIT_LOGIN": "10 per minute;100 per day",
    "RATELIMIT_LOGIN_ACCOUNT": "30 per hour",
    # Anonymous reads of the heavy lists (GET /api/properties, the OGC items, the exports), per
    # client IP, apart from the intake's and the logins' budgets: a request costs 1 plus 1 per
    # thousand features asked for (so 60 pages of 100 a minute, or 5 of 10,000). Logged-in users
    # are not counted. See spacematch/web/security.py.
    "RATELIMIT_ANONYMOUS_READS": "60 per minute;1000 per hour",
    # memory:// counts per process: with several gunicorn workers (or hosts) set a shared store,
    # e.g. redis://127.0.0.1:6379 (the redis client is in the `serve` extra). An unreachable
    # store fails closed: the limited routes answer 503 (and say so in the log).
    "RATELIMIT_STORAGE_URI": "memory://",
    # Request bodies: 64 kB (a need is a few kB); werkzeug answers 413 beyond it, before reading.
    # The endpoints named in UPLOAD_ENDPOINTS (an admin's layer upload) take MAX_UPLOAD_LENGTH,
    # for an admin only. Tell the reverse proxy the same (nginx: client_max_body_size).
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "MAX_UPLOAD_LENGTH": 256 * 1024 * 1024,
    "UPLOAD_ENDPOINTS": ["officer.layer_upload"],
    # GET /api/properties: every match when no limit is given (the design's contract), but never
    # more than this many features in one answer (a larger ?limit= is refused with 400);
    # numberMatched says how many there are, offset pages on.
    "API_PROPERTIES_MAX_LIMIT": 10_000,
    # The app's public URL (e.g. https://ruimte.amsterdam.nl): absolute links (the OGC API's,
    # mails') start with it whatever Host a request names. Empty: taken from the request.
    "BASE_URL": "",
    # Host names the app answers to (Flask's check; others get 400), comma-separated in the
    # environment. None: any.
    "TRUSTED_HOSTS": None,
    # Failed or not, every POST /needs/lost counts (per client IP).
    "RATELIMIT_LOST": "5 per minute;30 per day",
    # Mail (spacematch/web/mail.py). With no MAIL_SERVER each mail is written as an .eml file
    # under the instance folder (instance/mail/) and the log says where.
    "MAIL_SERVER": "",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_SENDER": "spacematch <noreply@spacematch.invalid>",
    "MAIL_TIMEOUT": 10,
    # Try each mail within the request that caused it (false: leave them all to `notify`, so a
    # slow mail server never slows a submission).
    "MAIL_SEND_AT_ONCE": True,
    # A need housed in a space with an end date hears of its fits this many days before the end.
    "LEASE_NOTICE_DAYS": 90,
    # Seconds a claimed outbox row is left to its sender before another sender may retry it.
    "MAIL_LEASE_S": 300,
    # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto to trust.
    "PROXY_FIX_X_FOR": 0,
    # Flask-Limiter's counting: fixed-window, moving-window or sliding-window-counter.
    "RATELIMIT_STRATEGY": "fixed-window",
    # The look: the design-token file spacematch/static/spacematch/themes/<THEME>.css, applied as
    # class <THEME>-theme on <body> (templates/base.html).
    "THEME": "spacematch",
    # The contact address in every page footer and in the accessibility statement.
    "CONTACT_EMAIL": "vastgoed@amsterdam.nl",
    # Where `npm ci` put the packages the app serves CSS from. Empty: node_modules/ beside the
    # package (spacematch/web/main.py).
    "NODE_MODULES": "",
    # fetch-layer: the DSO API's base URL, and the first wait (seconds) before a retry (doubling).
    "DSO_API_URL": "https://api.data.amsterdam.nl/v1/",
    "FETCH_BACKOFF_S": 1.0,
    # OGC API items: features in a page when ?limit= is absent, the largest ?limit= accepted,
    # and how many rendered pages each worker keeps (spacematch/web/ogc/__init__.py).
    "OGC_DEFAULT_LIMIT": 1_000,
    "OGC_MAX_LIMIT": 10_000,
    "OGC_PAGE_CACHE_ENTRIES": 64,
}


def _coerce(raw: str, default: object) -> object:
    """Environment variables are strings; give them the type of the default."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, (dict, list)):
        return json.loads(raw)
    return raw


def from_environment(
    defaults: dict[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Every ``SPACEMATCH_<KEY>`` variable overrides ``<KEY>``."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for name, raw in env.items():
        if name.startswith("SPACEMATCH_") and not name.startswith("SPACEMATCH_TEST_"):
            key = name.removeprefix("SPACEMATCH_")
            found[key] = _coerce(raw, defaults.get(key, ""))
    return found
