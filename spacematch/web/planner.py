"""The planner page: download links with filters, and the supply-and-demand monitor.

A plain GET form (no JavaScript) sets the filters; the page then lists one download link per
dataset and format carrying the filters that apply to that dataset. Planners and admins only.

The monitor's figures rank every open need against every property, so they are built once per
store data version (and per filter and language, see ``_Memo``), never per request; the map
fetches its polygons and colours from ``/planner/monitor.geojson`` (cached the same way) instead
of carrying them in the page.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, cast

from flask import Blueprint, Response, g, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from spacematch import formatting, geo, maps
from spacematch.domain.areas import AreaIndex
from spacematch.errors import ApiError
from spacematch.export.allocation_share import (
    TARGET_SHARE,
    TARGET_YEAR,
    AllocationShare,
    allocation_share,
    share_chart_svg,
)
from spacematch.export.figures import (
    Figures,
    SupplyDemand,
    figures_row,
    supply_demand,
)
from spacematch.export.tables import (
    DATASET_PARAMS,
    DATASETS,
    DEFAULT_MIN_SCORE,
    FORMATS,
    parse_query,
)
from spacematch.geojson import feature_collection
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
)
from spacematch.web.labels import NEED_STATUS_LABELS, STATUS_LABELS
from spacematch.web.locale import language
from spacematch.web.security import nonce_tags
from spacematch.web.state import state

bp = Blueprint("planner", __name__)
FORM_FIELDS = ("area", "layer", "status", "need_status", "bbox", "min_score")
# The figures a monitor row shows as numbers, and those the map colours the buurten by.
COUNT_FIELDS = ("available_properties", "open_needs")
M2_FIELDS = ("available_m2", "m2_asked", "balance_m2")
MAP_FIGURES = ("balance_m2", "available_m2", "m2_asked", "matched_share")
MEMO_SIZE = 32


class _Memo:
    """The monitor's values for one store data version, by filter and language (the last
    ``MEMO_SIZE`` used are kept: a planner may ask for any ``min_score``).

    The app state keeps one per data version (``state().derived``), so a change to the store
    drops them all. One re-entrant lock: concurrent requests wait for a single build, and a build
    may read another entry (the map's data reads the figures).
    """

    def __init__(self) -> None:
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.RLock()
        self.builds = 0

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            value = build()
            self.builds += 1
            self._values[key] = value
            while len(self._values) > MEMO_SIZE:
                self._values.popitem(last=False)
            return value


def memo() -> _Memo:
    """This data version's monitor values (looked up once per request: one version query, and
    one version for everything the request shows)."""
    if "planner_memo" not in g:
        g.planner_memo = state().derived(("planner", "memo"), _Memo)
    return cast(_Memo, g.planner_memo)


@dataclass(frozen=True)
class MonitorFilter:
    """What the monitor counts: the layers that make up supply (all when empty), the score a
    match needs to be a fit, and the area whose buurten are listed and mapped (all when empty)."""

    layers: tuple[str, ...] = ()
    min_score: float = DEFAULT_MIN_SCORE
    area: str = ""

    @classmethod
    def of(cls, layers: tuple[str, ...], min_score: float, area: str | None) -> MonitorFilter:
        """The same filter however the layers are ordered (one cache entry)."""
        return cls(tuple(sorted(set(layers))), float(min_score), area or "")

    def args(self) -> dict[str, str]:
        """The query string of ``/planner/monitor.geojson`` for this filter (defaults left out)."""
        args = {"area": self.area, "layer": ",".join(self.layers)}
        if self.min_score != DEFAULT_MIN_SCORE:
            args["min_score"] = repr(self.min_score)
        return {k: v for k, v in args.items() if v}


@bp.get("/planner")
@role_required("planner")
def index():
    """Download links for the form's filters, the monitor (tables and map) and the chart; 400
    when a filter is refused (the monitor then ignores that filter)."""
    form = {k: request.args.get(k, "").strip() for k in FORM_FIELDS}
    areas = area_index()
    with state().store.sessions() as session:
        layers = session.execute(select(Layer.slug, Layer.title).order_by(Layer.slug)).all()
        links, errors = _download_links(form, session, areas)
    flt = _monitor_filter(form, errors)
    lang = language()
    tables = memo().get(("tables", flt, lang), lambda: _figure_tables(flt, areas, lang))
    share, chart = memo().get(("chart", lang, dt.date.today()), lambda: _share_chart(lang))
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
        figure_tables=tables,
        share=share,
        chart=chart,
        classes=maps.CHOROPLETH_CLASSES,
        min_score=flt.min_score,
        **_monitor_map(flt, lang),
    ), 400 if errors else 200


@bp.get("/planner/monitor.geojson")
@role_required("planner")
def monitor_geojson():
    """The monitor map's buurten: simplified polygons, tooltip texts in the request's language and
    the fill colour per figure, for the filter the page shows (``area``, ``layer``, ``min_score``).
    Serialised once per data version, filter and language."""
    areas = area_index()
    args = {k: v for k in ("area", "layer", "min_score") if (v := request.args.get(k, "").strip())}
    with state().store.sessions() as session:
        query = parse_query("areas", args, session=session, areas=areas)
    flt = MonitorFilter.of(query.layer, query.min_score, query.area)
    lang = language()
    body = memo().get(("geojson", flt, lang), lambda: _monitor_features(flt, areas, lang))
    return Response(body, mimetype="application/geo+json")


def _dataset_args(dataset: str, form: dict[str, str]) -> dict[str, str]:
    """The form's filters that apply to one dataset (``need_status`` is the needs' ``status``)."""
    args = {k: v for k, v in form.items() if v and k in DATASET_PARAMS[dataset] and k != "status"}
    status = form.get("need_status") if dataset == "needs" else form.get("status")
    if status and "status" in DATASET_PARAMS[dataset]:
        args["status"] = status
    return args


def _download_links(
    form: dict[str, str], session: Session, areas: AreaIndex
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One row of links per dataset (one per format, with the filters that apply to it), and the
    form's problems by field: a filter a dataset refuses is shown at its field."""
    errors: dict[str, str] = {}
    links: list[dict[str, Any]] = []
    for dataset in DATASETS:
        args = _dataset_args(dataset, form)
        try:
            parse_query(dataset, args, session=session, areas=areas)
        except ApiError as err:
            for key, message in err.texts(language()).items():
                errors["need_status" if dataset == "needs" and key == "status" else key] = message
        # url_for's stub types **values by its _external and co: plain strings.
        values = cast("dict[str, Any]", args)
        formats = [
            (fmt, url_for("exports.download", dataset=dataset, fmt=fmt, **values))
            for fmt in FORMATS
        ]
        links.append({"dataset": dataset, "formats": formats})
    return links, errors


def _monitor_filter(form: dict[str, str], errors: dict[str, str]) -> MonitorFilter:
    """The monitor's filter from the form: a refused field falls back to its default (and any
    problem at all to the default minimum score)."""
    min_score = DEFAULT_MIN_SCORE
    if not errors and form["min_score"]:
        min_score = float(form["min_score"])
    layers = tuple(v for v in form["layer"].split(",") if v) if "layer" not in errors else ()
    area = form["area"] if form["area"] and "area" not in errors else ""
    return MonitorFilter.of(layers, min_score, area)


def _buurt_codes(areas: AreaIndex, area: str) -> list[str]:
    """The buurten the monitor lists, in code order: all, or those in ``area``."""
    codes = list(areas.buurt_codes)
    if area:
        wanted = set(areas.buurten_in(area))
        codes = [c for c in codes if c in wanted]
    return codes


def _figures(layers: tuple[str, ...], min_score: float) -> SupplyDemand:
    """Supply and demand for one choice of layers and minimum score, built once per data
    version (it ranks every open need)."""

    def build() -> SupplyDemand:
        return supply_demand(
            state().store,
            areas=area_index(),
            index=index_cache().get,
            weights=match_weights(),
            layers=layers,
            min_score=min_score,
        )

    return cast(SupplyDemand, memo().get(("figures", layers, min_score), build))


def _rows(flt: MonitorFilter, areas: AreaIndex, lang: str) -> dict[str, Any]:
    """The monitor tables' rows, their numbers as text in ``lang``: every buurt (by code), the
    stadsdelen and the city."""
    figures = _figures(flt.layers, flt.min_score)
    return {
        "buurten": {c: _display_row(f, areas, lang) for c, f in figures.buurten.items()},
        "stadsdelen": [_display_row(f, areas, lang) for f in figures.stadsdelen.values()],
        "city": _display_row(figures.city, areas, lang),
    }


def _rows_of(flt: MonitorFilter, areas: AreaIndex, lang: str) -> dict[str, Any]:
    key = ("rows", flt.layers, flt.min_score, lang)
    return cast("dict[str, Any]", memo().get(key, lambda: _rows(flt, areas, lang)))


def _figure_tables(flt: MonitorFilter, areas: AreaIndex, lang: str) -> Markup:
    """The monitor's tables as HTML (per stadsdeel with the city's total, per buurt of the
    filter's area): some 500 rows, so rendered once per data version, filter and language."""
    rows = _rows_of(flt, areas, lang)
    return Markup(
        render_template(
            "planner/_figures.html",
            stadsdeel_rows=rows["stadsdelen"],
            buurt_rows=[rows["buurten"][c] for c in _buurt_codes(areas, flt.area)],
            city=rows["city"],
        )
    )


def _display_row(fig: Figures, areas: AreaIndex, lang: str) -> dict[str, Any]:
    """One table row: the figures as ``figures_row`` gives them, numbers formatted (m² without
    decimals, the share as a percentage, "–" when there is none), ``shortage`` when the
    balance is negative."""
    row = figures_row(fig, areas)
    share = row["matched_share"]
    return {
        **row,
        **{k: formatting.number(row[k], lang) for k in (*COUNT_FIELDS, *M2_FIELDS)},
        "matched_share": "–" if share is None else formatting.percent(share, lang),
        "shortage": row["balance_m2"] < 0,
        "values": {k: row[k] for k in MAP_FIGURES},
    }


def _share_chart(lang: str) -> tuple[AllocationShare, str]:
    """The allocation share and its chart (SVG with texts in ``lang``, drawn up to today)."""
    share = allocation_share(state().store)
    target = f"{TARGET_SHARE:.0%}"
    chart = share_chart_svg(
        share,
        percent=lambda v: formatting.percent(v, lang, 1),
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
    return share, chart


def _monitor_map(flt: MonitorFilter, lang: str) -> dict[str, str]:
    """The monitor map's header, element and script (no features: it fetches them), rendered
    once per filter and language; the header's tags get this request's CSP nonce."""

    def build() -> tuple[str, str, str]:
        m = maps.supply_demand_map(
            map_config(),
            url=url_for("planner.monitor_geojson", **cast("dict[str, Any]", flt.args())),
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
        root = m.get_root()
        root.render()
        return root.header.render(), root.html.render(), root.script.render()

    header, html, script = memo().get(("map", flt, lang), build)
    return {"map_header": nonce_tags(header), "map_html": html, "map_script": script}


def _buurt_outlines() -> dict[str, Any]:
    """Every buurt polygon simplified to 5 m, as RFC 7946 geometry by code (areas change only
    through ``init-db``, so this is kept for the app's life)."""
    import shapely  # on use: a CLI command that needs no GIS starts faster

    with state().store.sessions() as session:
        wkb = dict(session.execute(select(Area.code, Area.geom).where(Area.level == "buurt")).all())
    geoms = geo.rfc7946(shapely.simplify(shapely.from_wkb(list(wkb.values())), 5.0), precision=1e-5)
    return {c: json.loads(g) for c, g in zip(wkb, shapely.to_geojson(geoms), strict=True)}


def _monitor_features(flt: MonitorFilter, areas: AreaIndex, lang: str) -> bytes:
    """The map's FeatureCollection, serialised: per buurt of the filter's area its polygon, the
    tooltip texts (``name`` and the table's figures) and ``fill``, its colour per figure."""
    outlines = state().cache.get("planner_buurten", 0, _buurt_outlines)
    rows = _rows_of(flt, areas, lang)
    features = []
    for code in _buurt_codes(areas, flt.area):
        row = rows["buurten"][code]
        texts = {k: row[k] for k in (*COUNT_FIELDS, *M2_FIELDS, "matched_share")}
        if row["values"]["matched_share"] is None:
            texts["matched_share"] = None  # the tooltip's own "–"
        features.append({
            "type": "Feature", "id": code, "geometry": outlines[code],
            "properties": {"name": f"{row['name']} ({code})", **texts,
                           "fill": maps.fills(row["values"])},
        })  # fmt: skip
    return json.dumps(feature_collection(features), separators=(",", ":")).encode()
