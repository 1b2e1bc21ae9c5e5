"""The planner page: download links with filters, and the supply-and-demand monitor.

A plain GET form (no JavaScript) sets the filters; the page then lists one download link per
dataset and format carrying the filters that apply to that dataset. Planners and admins only.
"""

from __future__ import annotations

import json
from typing import Any, cast

import shapely
from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from spacematch import formatting, geo, maps
from spacematch.errors import ApiError
from spacematch.export.figures import (
    TARGET_SHARE,
    TARGET_YEAR,
    allocation_share,
    figures_row,
    share_chart_svg,
    supply_demand,
)
from spacematch.export.tables import (
    DATASET_PARAMS,
    DATASETS,
    DEFAULT_MIN_SCORE,
    FORMATS,
    parse_query,
)
from spacematch.models import (
    NEED_STATUSES,
    PROPERTY_STATUSES,
    Area,
    Layer,
)
from spacematch.web.auth import role_required
from spacematch.web.common import (
    area_index,
    index_cache,
    map_config,
    match_weights,
    render_map,
)
from spacematch.web.labels import NEED_STATUS_LABELS, STATUS_LABELS
from spacematch.web.locale import language
from spacematch.web.state import state

bp = Blueprint("planner", __name__)
FORM_FIELDS = ("area", "layer", "status", "need_status", "bbox", "min_score")


def _dataset_args(dataset: str, form: dict[str, str]) -> dict[str, str]:
    """The form's filters that apply to one dataset (``need_status`` is the needs' ``status``)."""
    args = {k: v for k, v in form.items() if v and k in DATASET_PARAMS[dataset] and k != "status"}
    status = form.get("need_status") if dataset == "needs" else form.get("status")
    if status and "status" in DATASET_PARAMS[dataset]:
        args["status"] = status
    return args


@bp.get("/planner")
@role_required("planner")
def index():
    form = {k: request.args.get(k, "").strip() for k in FORM_FIELDS}
    areas = area_index()
    store = state().store
    errors: dict[str, str] = {}
    links: list[dict] = []
    with store.sessions() as session:
        layers = session.execute(select(Layer.slug, Layer.title).order_by(Layer.slug)).all()
        for dataset in DATASETS:
            args = _dataset_args(dataset, form)
            try:
                parse_query(dataset, args, session=session, areas=areas)
            except ApiError as err:
                for key, message in err.errors.items():
                    errors["need_status" if dataset == "needs" and key == "status" else key] = (
                        message
                    )
            links.append(
                {
                    "dataset": dataset,
                    "formats": [
                        # url_for's stub types **values by its _external and co: plain strings.
                        (
                            fmt,
                            url_for(
                                "exports.download",
                                dataset=dataset,
                                fmt=fmt,
                                **cast("dict[str, Any]", args),
                            ),
                        )
                        for fmt in FORMATS
                    ],
                }
            )
    min_score = DEFAULT_MIN_SCORE
    if not errors and form["min_score"]:
        min_score = float(form["min_score"])
    chosen_layers = tuple(v for v in form["layer"].split(",") if v) if "layer" not in errors else ()
    figures = supply_demand(
        store,
        areas=areas,
        index=index_cache().get,
        weights=match_weights(),
        layers=chosen_layers,
        min_score=min_score,
    )
    buurt_codes = list(areas.buurt_codes)
    if form["area"] and "area" not in errors:
        wanted = set(areas.buurten_in(form["area"]))
        buurt_codes = [c for c in buurt_codes if c in wanted]
    buurt_rows = [figures_row(figures.buurten[c], areas) for c in buurt_codes]
    stadsdeel_rows = [figures_row(f, areas) for f in figures.stadsdelen.values()]
    share = allocation_share(store)
    target = f"{TARGET_SHARE:.0%}"
    chart = share_chart_svg(
        share,
        percent=lambda v: formatting.percent(v, language(), 1),
        labels={
            "title": _(
                "Aandeel toegewezen gemeentelijke m² naar gemeenschapseconomie, tegen de lijn van "
                "%(target)s in %(year)s",
                target=target,
                year=TARGET_YEAR,
            ),
            "target": _(
                "Manifest: %(target)s in gemeenschapshanden in %(year)s",
                target=target,
                year=TARGET_YEAR,
            ),
            "needed": _(
                "Benodigd pad naar %(target)s in %(year)s", target=target, year=TARGET_YEAR
            ),
            "now": _("Nu"),
            "empty": _("Nog geen toegewezen ruimte"),
        },
    )
    monitor_map = _choropleth(buurt_rows, buurt_codes)
    return render_template(
        "planner/index.html",
        form=form,
        errors=errors,
        links=links,
        layers=layers,
        property_statuses=PROPERTY_STATUSES,
        need_statuses=NEED_STATUSES,
        property_status_labels=STATUS_LABELS,
        need_status_labels=NEED_STATUS_LABELS,
        figures=figures,
        stadsdeel_rows=stadsdeel_rows,
        buurt_rows=buurt_rows,
        city=figures_row(figures.city, areas),
        share=share,
        chart=chart,
        classes=maps.CHOROPLETH_CLASSES,
        min_score=min_score,
        **render_map(monitor_map),
    ), 400 if errors else 200


def _choropleth(rows: list[dict], codes: list[str]):
    """The monitor map: buurt polygons simplified to 5 m, tooltips as ready-made texts."""

    def build() -> dict:
        with state().store.sessions() as session:
            wkb = dict(
                session.execute(select(Area.code, Area.geom).where(Area.level == "buurt")).all()
            )
        geoms = geo.rfc7946(
            shapely.simplify(shapely.from_wkb(list(wkb.values())), 5.0), precision=1e-5
        )
        return {c: json.loads(g) for c, g in zip(wkb, shapely.to_geojson(geoms), strict=True)}

    outlines = state().cache.get("planner_buurten", 0, build)
    lang = language()
    fields = ("available_properties", "available_m2", "open_needs", "m2_asked", "balance_m2")
    features = [
        {
            "type": "Feature",
            "id": code,
            "geometry": outlines[code],
            "properties": {
                "name": f"{row['name']} ({code})",
                **{k: formatting.number(row[k], lang) for k in fields},
                "matched_share": None
                if row["matched_share"] is None
                else formatting.percent(row["matched_share"], lang),
            },
        }
        for code, row in zip(codes, rows, strict=True)
    ]
    figures = ("balance_m2", "available_m2", "m2_asked", "matched_share")
    return maps.supply_demand_map(
        map_config(),
        buurten={"type": "FeatureCollection", "features": features},
        values={f: {row["id"]: row[f] for row in rows} for f in figures},
        layers=[
            ("balance_m2", _("Balans: beschikbaar min gevraagd (m²)")),
            ("available_m2", _("Beschikbaar (m²)")),
            ("m2_asked", _("Gevraagd (m²)")),
            ("matched_share", _("Aandeel vragen met passend aanbod")),
        ],
        tooltip=[
            ("name", _("Buurt")),
            ("available_properties", _("Beschikbare panden")),
            ("available_m2", _("Beschikbaar (m²)")),
            ("open_needs", _("Open vragen")),
            ("m2_asked", _("Gevraagd (m²)")),
            ("balance_m2", _("Balans (m²)")),
            ("matched_share", _("Aandeel met passend aanbod")),
        ],
    )
