"""The public overview map."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from sqlalchemy import select

from .. import get_store
from ..maps import overview_map
from ..models import Layer
from .common import map_config, render_map

bp = Blueprint("main", __name__)

LABELS = {
    "buurten": "Buurtgrenzen",
    "address": "Adres",
    "area_m2": "m²",
    "rent_eur_month": "Huur €/maand",
    "uses": "Gebruik",
    "available_from": "Beschikbaar vanaf",
    "available_until": "Tijdelijk tot",
    "buurt_name": "Buurt",
    "department": "Afdeling",
    "contact": "Contact",
}


@bp.route("/")
def index():
    with get_store(current_app).sessions() as session:
        # feature_count is written by each import: no scan of the property table per page view.
        layers = session.execute(
            select(Layer.slug, Layer.title, Layer.is_demo, Layer.feature_count).order_by(Layer.slug)
        ).all()
    m = overview_map(
        map_config(),
        layers=[(row.slug, row.title) for row in layers],
        properties_url=url_for("api.properties_overview"),
        areas_url=url_for("api.areas_geojson", level="buurt"),
        property_link=None,
        labels=LABELS,
    )
    return render_template(
        "main/index.html", layers=layers, any_demo=any(r.is_demo for r in layers), **render_map(m)
    )
