"""Per-app helpers shared by the views: the area index, the map config, the labels of a
property's map fields and the request language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

from spacematch.domain.areas import AreaIndex
from spacematch.maps.config import MapConfig
from spacematch.web.security import nonce_tags
from spacematch.web.state import state

if TYPE_CHECKING:
    from spacematch.matching.cache import IndexCache


def area_index() -> AreaIndex:
    """The app's AreaIndex, built on first use (areas change only through ``init-db``)."""
    return state().areas()


def map_config() -> MapConfig:
    return MapConfig(
        tiles_url=current_app.config["TILES_URL"],
        tiles_attribution=current_app.config["TILES_ATTRIBUTION"],
        asset_base=current_app.static_url_path or "/static",
    )


def whole_number(raw: str | None) -> int | None:
    """A whole number written in ASCII digits, at most 18 of them (so it fits any integer column
    and SQLite), blanks around it ignored; else None. ``str.isdigit`` alone admits '²' or '١',
    which ``int`` refuses or reads, and ``int`` refuses more than 4,300 digits."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def render_map(m) -> dict[str, str]:
    """The three parts of a folium map, to place in our own page template."""
    root = m.get_root()
    root.render()
    return {
        # folium's own <script>/<style> blocks get the request's CSP nonce (spacematch.web.security)
        "map_header": nonce_tags(root.header.render()),
        "map_html": root.html.render(),
        "map_script": root.script.render(),
    }


def index_cache() -> IndexCache:
    """The app's matching IndexCache (one per app), created on first use."""
    return state().index


def match_weights() -> dict[str, float]:
    return dict(current_app.config["MATCH_WEIGHTS"])
