"""The public overview map."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from spacematch import maps
from spacematch.models import Layer
from spacematch.web.auth import has_role
from spacematch.web.common import map_config, render_map
from spacematch.web.labels import PROPERTY_FIELD_LABELS
from spacematch.web.state import state

bp = Blueprint("main", __name__)

# The NL Design System files the app serves itself, from node_modules (installed by `npm ci`
# from package-lock.json): a fixed allowlist, so no other file under node_modules is reachable.
VENDOR_FILES = {
    "components.css": "@utrecht/component-library-css/dist/index.css",
    "html.css": "@utrecht/component-library-css/dist/html.css",
}


def node_modules() -> Path:
    """Where `npm ci` put the packages: config NODE_MODULES, else beside the package."""
    configured = current_app.config["NODE_MODULES"]
    return Path(configured) if configured else Path(current_app.root_path).parent / "node_modules"


@bp.get("/static/vendor/nlds/<asset>")
def vendor_nlds(asset: str):
    """One allowlisted design-system stylesheet (404 when `npm ci` has not run)."""
    relative = VENDOR_FILES.get(asset)
    path = node_modules() / relative if relative else None
    if path is None or not path.is_file():
        abort(404)
    # Read whole (400 kB at most): no file handle outlives the request, however it ends.
    response = Response(path.read_bytes(), mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/toegankelijkheid")
def accessibility():
    """The accessibility statement (Besluit digitale toegankelijkheid overheid)."""
    return render_template("main/accessibility.html")


LABELS = {
    "buurten": _l("Buurtgrenzen"),
    **PROPERTY_FIELD_LABELS,
    "department": _l("Afdeling"),
    "contact": _l("Contact"),
    "balance": _l("Vraag en aanbod per buurt (m²)"),
    "properties": _l("Beschikbare panden"),
    "available_m2": _l("Beschikbaar m²"),
    "m2_asked": _l("Gevraagd m² (open vragen)"),
    "balance_m2": _l("Saldo m²"),
    "open_needs": _l("Open vragen"),
    "shortage_large": _l("groot tekort (< −250 m²)"),
    "shortage": _l("tekort (−250 tot −25 m²)"),
    "even": _l("in evenwicht (±25 m²)"),
    "surplus": _l("overschot (25 tot 250 m²)"),
    "surplus_large": _l("groot overschot (> 250 m²)"),
}


@bp.route("/")
def index():
    with state().store.sessions() as session:
        # feature_count is written by each import: no scan of the property table per page view.
        layers = session.execute(
            select(
                Layer.slug,
                Layer.title,
                Layer.is_demo,
                Layer.feature_count,
                Layer.source,
                Layer.imported_at,
            ).order_by(Layer.slug)
        ).all()
    m = maps.overview_map(
        map_config(),
        layers=[(row.slug, row.title) for row in layers],
        properties_url=url_for("api.properties_overview"),
        areas_url=url_for("api.areas_geojson", level="buurt"),
        balance_url=url_for("api.supply_demand_geojson"),
        # Officers get a link from each popup to the property's page (it is theirs to act on).
        property_link=url_for("officer.property_page", property_id="__ID__")
        if has_role("officer")
        else None,
        labels={key: str(label) for key, label in LABELS.items()},
    )
    return render_template(
        "main/index.html", layers=layers, any_demo=any(r.is_demo for r in layers), **render_map(m)
    )
