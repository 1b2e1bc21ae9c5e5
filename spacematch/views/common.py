"""Per-app helpers shared by the views: the area index, the map config, the labels of a
property's map fields and the request language."""

from __future__ import annotations

import threading

from flask import current_app, request, session
from flask_babel import lazy_gettext as _l

from .. import get_store
from ..areas import AreaIndex
from ..maps import MapConfig

_lock = threading.RLock()  # index_cache() calls area_index() while holding it
# A property's fields as labelled in the popups of the maps that show properties.
PROPERTY_FIELD_LABELS = {
    "address": _l("Adres"),
    "area_m2": "m²",
    "rent_eur_month": _l("Huur €/maand"),
    "uses": _l("Gebruik"),
    "available_from": _l("Beschikbaar vanaf"),
    "available_until": _l("Tijdelijk tot"),
    "buurt_name": _l("Buurt"),
}


def area_index() -> AreaIndex:
    """The app's AreaIndex, built on first use (areas change only through ``init-db``)."""
    index = current_app.extensions.get("spacematch_areas")
    if index is None:
        with _lock:
            index = current_app.extensions.get("spacematch_areas")
            if index is None:
                with get_store(current_app).sessions() as session:
                    index = AreaIndex.from_session(session)
                current_app.extensions["spacematch_areas"] = index
    return index


def map_config() -> MapConfig:
    return MapConfig(
        tiles_url=current_app.config["TILES_URL"],
        tiles_attribution=current_app.config["TILES_ATTRIBUTION"],
        asset_base=current_app.static_url_path,
    )


def language() -> str:
    """``?lang=`` first (remembered in the session), then the browser's preference; else Dutch."""
    languages = current_app.config["LANGUAGES"]
    wanted = request.args.get("lang")
    if wanted in languages:
        session["lang"] = wanted
        return wanted
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or languages[0]


def whole_number(raw: str | None) -> int | None:
    """A whole number written in ASCII digits, at most 18 of them (so it fits any integer column
    and SQLite), blanks around it ignored; else None. ``str.isdigit`` alone admits '²' or '١',
    which ``int`` refuses or reads, and ``int`` refuses more than 4,300 digits."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def render_map(m) -> dict[str, str]:
    """The three parts of a folium map, to place in our own page template."""
    from ..security import nonce_tags

    root = m.get_root()
    root.render()
    return {
        # folium's own <script>/<style> blocks get the request's CSP nonce (spacematch.security)
        "map_header": nonce_tags(root.header.render()),
        "map_html": root.html.render(),
        "map_script": root.script.render(),
    }


def index_cache():
    """The app's matching IndexCache (one per process), created on first use."""
    from ..matching import IndexCache

    cache = current_app.extensions.get("spacematch_index_cache")
    if cache is None:
        with _lock:
            cache = current_app.extensions.get("spacematch_index_cache")
            if cache is None:
                cache = IndexCache(get_store(current_app), area_index())
                current_app.extensions["spacematch_index_cache"] = cache
    return cache


def match_weights() -> dict[str, float]:
    return dict(current_app.config["MATCH_WEIGHTS"])
