"""The JSON API: properties as GeoJSON, areas, and need intake."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select

from spacematch.domain.messages import Message, ValidationError
from spacematch.domain.needs import validate_need
from spacematch.domain.properties import (
    count_properties,
    find_properties,
    layer_slugs,
    parse_filter,
)
from spacematch.errors import ApiError
from spacematch.export.tables import property_features
from spacematch.geojson import feature_collection, geometries_wgs84
from spacematch.models import PROPERTY_STATUSES, PUBLIC_STATUSES, Area, Property
from spacematch.web.common import area_index, whole_number
from spacematch.web.locale import language
from spacematch.web.security import json_body
from spacematch.web.state import state

bp = Blueprint("api", __name__, url_prefix="/api")
AREA_LEVELS = ("stadsdeel", "gebied", "wijk", "buurt")


@bp.get("/properties")
def properties():
    """Stored properties as an RFC 7946 FeatureCollection; every match unless ``limit`` is given,
    up to ``API_PROPERTIES_MAX_LIMIT`` (10,000) features an answer: ``numberMatched`` tells how
    many match, ``offset`` pages on."""
    areas = area_index()
    maximum = int(current_app.config["API_PROPERTIES_MAX_LIMIT"])
    # Before the rows are read: texts of this version's data never land in a newer one's cache.
    texts: dict[str, str] = state().derived("api_property_texts", dict)
    with state().store.sessions() as session:
        flt = parse_filter(
            request.args, areas=areas, layers=layer_slugs(session), statuses=_statuses()
        )
        if flt.limit is not None and flt.limit > maximum:
            raise ApiError({"limit": Message("param_whole", {"low": "1", "high": str(maximum)})})
        limit = flt.limit or maximum
        page = dataclasses.replace(flt, limit=limit)
        rows = find_properties(session, page, areas=areas)
        if len(rows) < limit and (rows or not page.offset):
            matched = page.offset + len(rows)
        else:  # a full page (there may be more) or an offset beyond the end
            matched = count_properties(session, flt, areas=areas)
    if current_app.debug:  # jsonify indents in debug mode: the same answer, readable
        return jsonify(
            feature_collection(
                property_features(rows, areas), numberMatched=matched, numberReturned=len(rows)
            )
        )
    # What jsonify writes (sorted keys, compact), from each feature's text made once per version.
    body = (
        f'{{"features":[{",".join(_feature_texts(rows, texts))}],"numberMatched":{matched},'
        f'"numberReturned":{len(rows)},"type":"FeatureCollection"}}\n'
    )
    return current_app.response_class(body, mimetype="application/json")


def _feature_texts(rows: list[Property], texts: dict[str, str]) -> list[str]:
    """Each property's GeoJSON feature as jsonify writes it, from ``texts``: this data version's
    serialised features (in the app state), filled as requests ask for them, so a first small
    page after an import costs no more than before."""
    missing = [row for row in rows if row.id not in texts]
    if missing:
        dumps = current_app.json.dumps
        for feature in property_features(missing, area_index()):
            texts[feature["id"]] = dumps(feature, separators=(",", ":"))
    return [texts[row.id] for row in rows]


@bp.get("/properties/overview")
def properties_overview():
    """For the maps: the filtered properties in ``bbox``, or grid clusters when there are many."""
    from spacematch.export.clusters import overview

    areas = area_index()
    zoom = whole_number(request.args.get("zoom", "12"))
    if zoom is None or not 0 <= zoom <= 22:
        raise ApiError({"zoom": Message("param_whole", {"low": "0", "high": "22"})})
    args = {k: v for k, v in request.args.items() if k != "zoom"}
    with state().store.sessions() as session:
        flt = parse_filter(args, areas=areas, layers=layer_slugs(session), statuses=_statuses())
        return jsonify(overview(session, state().columns(), flt, zoom=zoom, areas=areas))


def _statuses() -> tuple[str, ...]:
    """The statuses a caller may ask for: let units (verhuurd) are context for officers only."""
    from spacematch.web.auth import has_role
    from spacematch.web.officer.blueprint import OFFICER_ROLES

    return PROPERTY_STATUSES if has_role(*OFFICER_ROLES) else PUBLIC_STATUSES


@bp.get("/areas")
def areas_search():
    """Area picker autocomplete: ``?q=`` matches codes and names of every level."""
    query = request.args.get("q", "")
    return jsonify({"areas": area_index().find(query, limit=20)})


@bp.get("/areas.geojson")
def areas_geojson():
    """Area boundaries of one level, simplified to 2 m (enough for an overview map)."""
    level = request.args.get("level", "buurt")
    if level not in AREA_LEVELS:
        raise ApiError({"level": Message("param_one_of", {"choices": ", ".join(AREA_LEVELS)})})
    response = jsonify(_area_outlines(level))
    response.cache_control.max_age = 3600
    return response


def _area_outlines(level: str) -> dict:
    """The outlines of one level as a FeatureCollection, built once per app (areas change only
    through ``init-db``)."""

    import shapely

    def build() -> dict:
        with state().store.sessions() as session:
            rows = session.execute(
                select(Area.code, Area.name, Area.geom)
                .where(Area.level == level)
                .order_by(Area.code)
            ).all()
        simplified = shapely.to_wkb(shapely.simplify(shapely.from_wkb([r.geom for r in rows]), 2.0))
        # Simplified to 2 m, so 1e-5 degrees (about 1 m) loses nothing and halves the bytes.
        geometries = geometries_wgs84(list(simplified), precision=1e-5)
        return feature_collection(
            {"type": "Feature", "id": r.code, "geometry": g,
             "properties": {"code": r.code, "name": r.name, "level": level}}
            for r, g in zip(rows, geometries, strict=True)
        )  # fmt: skip

    return state().cache.get(("area_outlines", level), 0, build)


@bp.get("/areas/supply-demand.geojson")
def supply_demand_geojson():
    """Per buurt: available m² against m² asked by open needs, for the overview's choropleth.

    Recomputed only when the store's data version moves (one grouped query and a pass over the
    open needs), never per request.
    """
    from spacematch.export.figures import supply_demand

    store = state().store

    def build() -> dict:
        areas = area_index()
        figures = supply_demand(store, areas=areas, with_matches=False).buurten
        features = []
        for outline in _area_outlines("buurt")["features"]:
            fig = figures[outline["id"]]
            features.append({**outline, "properties": {
                "code": fig.code, "name": f"{fig.name} ({fig.code})",
                "available_m2": round(fig.available_m2), "m2_asked": round(fig.m2_asked),
                "balance_m2": round(fig.balance_m2), "open_needs": len(fig.needs),
                "available_properties": fig.available_properties,
            }})  # fmt: skip
        return feature_collection(features)

    return jsonify(state().derived("supply_demand", build))


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.0 description of this API (written in ``web/openapi/``)."""
    from spacematch.web.openapi import document

    server = request.script_root or "/"
    maximum = int(current_app.config["API_PROPERTIES_MAX_LIMIT"])
    return jsonify(
        document(area_codes=area_index().codes, server_url=server, properties_max_limit=maximum)
    )


@bp.post("/needs")
def post_need():
    """Declare a need: 201 with its id, private token and private page URL, or 400 per field."""
    data = json_body()  # 413 beyond MAX_CONTENT_LENGTH, with or without a Content-Length
    if not isinstance(data, dict):
        raise ApiError({"_": Message("body_need")})
    from spacematch.web.needs.alerts import ALERT_LABELS, submit_need

    data = dict(data)
    alerts = data.pop("alerts", "daily")
    introductions = data.pop("introductions", False)
    try:
        need = validate_need(data, areas=area_index())
    except ValidationError as err:
        raise ApiError(err.texts(language())) from None
    if alerts not in ALERT_LABELS:
        raise ApiError({"alerts": Message("param_one_of", {"choices": ", ".join(ALERT_LABELS)})})
    if not isinstance(introductions, bool):
        raise ApiError({"introductions": Message("param_boolean")})
    need_id, token = submit_need(need, alerts=alerts, introductions=introductions)
    url = f"{request.script_root}/needs/{token}"
    return jsonify({"id": need_id, "token": token, "url": url}), 201
