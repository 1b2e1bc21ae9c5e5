"""The private page of one need: its ranked fits as a numbered list and on a map."""

from __future__ import annotations

import json

import shapely
from flask import url_for
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from spacematch import maps
from spacematch.domain.needs import point_wgs84
from spacematch.export.tables import property_record
from spacematch.formatting import decimal, number, score
from spacematch.geojson import geometries_wgs84
from spacematch.matching import NeedQuery, rank_properties
from spacematch.models import Area, Need, Property, StatusEvent
from spacematch.web.common import (
    area_index,
    index_cache,
    map_config,
    match_weights,
    render_map,
)
from spacematch.web.labels import USE_LABELS
from spacematch.web.locale import language
from spacematch.web.state import state

FIT_LIMIT = 10  # a list one can act on; the ranking API gives more


def ranked_fits(need: Need, *, limit: int = FIT_LIMIT) -> list[dict]:
    """The need's best fits with their property records and reasons in the user's language."""
    if need.status != "open":
        return []
    lang = language()
    matches = rank_properties(
        index_cache().get(current_needs=False),  # ranking one need reads no other need
        NeedQuery.from_need(need),
        limit=limit,
        weights=match_weights(),
    )
    if not matches:
        return []
    ids = [m.property_id for m in matches]
    with state().store.sessions() as session:
        rows = {p.id: p for p in session.scalars(select(Property).where(Property.id.in_(ids)))}
    areas = area_index()
    fits = []
    for rank, match in enumerate(matches, start=1):
        row = rows.get(match.property_id)
        if row is None:  # withdrawn between the index build and this query
            continue
        fits.append({
            "rank": rank, "score": match.score, "row": row, "record": property_record(row, areas),
            "criteria": {
                name: (c.score, c.reason.text(lang)) for name, c in match.criteria.items()
            },
        })  # fmt: skip
    return fits


def _fits_collection(fits: list[dict], lang: str) -> dict:
    """The fits for the map; the popup's numbers as the page writes them."""
    geometries = geometries_wgs84(
        [shapely.to_wkb(shapely.Point(f["row"].x, f["row"].y)) for f in fits]
    )
    features = []
    for fit, geometry in zip(fits, geometries, strict=True):
        record = fit["record"]
        properties = {
            "label": f"{fit['rank']}. {record['name'] or record['id']}",
            "name": f"{fit['rank']}. {record['name'] or record['id']}",
            "score": fit["score"], "score_text": score(fit["score"], lang),
            "address": record["address"], "area_m2": decimal(record["area_m2"], lang, 1),
            "rent_eur_month": number(record["rent_eur_month"], lang),
            "uses": [str(USE_LABELS.get(u, u)) for u in record["uses"]],
            "reasons": " · ".join(reason for _, reason in fit["criteria"].values()),
            "rank": fit["rank"], "list_anchor": f"fit-{fit['rank']}",
        }  # fmt: skip
        features.append(
            {"type": "Feature", "id": record["id"], "geometry": geometry, "properties": properties}
        )
    return {"type": "FeatureCollection", "features": features}


def _areas_collection(codes: list[str]) -> dict:
    if not codes:
        return {"type": "FeatureCollection", "features": []}
    with state().store.sessions() as session:
        rows = session.execute(
            select(Area.code, Area.name, Area.geom).where(Area.code.in_(codes))
        ).all()
    simplified = shapely.to_wkb(shapely.simplify(shapely.from_wkb([r.geom for r in rows]), 2.0))
    geometries = geometries_wgs84(list(simplified))
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r.code, "geometry": g,
         "properties": {"name": f"{r.name} ({r.code})"}}
        for r, g in zip(rows, geometries, strict=True)
    ]}  # fmt: skip


def housing_status(need: Need) -> dict:
    """The need's status in words: which property holds it (in option or assigned) and since
    when, from the latest workflow step naming this need whose property still has that status."""
    with state().store.sessions() as session:
        event = session.scalar(
            select(StatusEvent)
            .where(StatusEvent.need_id == need.id)
            .order_by(StatusEvent.at.desc(), StatusEvent.id.desc())
            .limit(1)
        )
        prop = session.get(Property, event.property_id) if event is not None else None
    since = None
    if event is not None and prop is not None and prop.status == event.to_status:
        since = format_date(event.at.date(), "d MMMM yyyy")
        name = prop.name or prop.address or prop.id
        if event.to_status == "in_optie":
            return {
                "kind": "in_optie",
                "text": _("In optie: %(name)s, sinds %(date)s", name=name, date=since),
            }
        if event.to_status == "toegewezen":
            return {
                "kind": "toegewezen",
                "text": _("Gehuisvest in %(name)s, sinds %(date)s", name=name, date=since),
            }
    if need.status == "ingetrokken":
        text = _("Ingetrokken: deze vraag wordt niet meer gematcht.")
        return {"kind": "ingetrokken", "text": text}
    if need.status == "gehuisvest":
        return {"kind": "gehuisvest", "text": _("Gehuisvest")}
    return {"kind": "open", "text": _("Open: we zoeken passende ruimte voor jullie.")}


def need_page_context(need: Need) -> dict:
    fits = ranked_fits(need)
    point = point_wgs84(need)
    point_fc = None
    if point is not None:
        point_fc = {"type": "FeatureCollection", "features": [{
            "type": "Feature", "geometry": {"type": "Point", "coordinates": point},
            "properties": {}}]}  # fmt: skip
    labels = {
        "areas": _("Voorkeursgebieden"), "fits": _("Passende ruimtes"), "point": _("Jullie punt"),
        "score_text": _("Score"), "address": _("Adres"), "area_m2": "m²",
        "rent_eur_month": _("Huur €/maand"), "uses": _("Gebruik"), "reasons": _("Waarom"),
        "to_list": _("Naar deze ruimte in de lijst"), "legend": _("Op de kaart"),
    }  # fmt: skip
    m = maps.fits_map(
        map_config(),
        areas=_areas_collection(need.area_list),
        fits=_fits_collection(fits, language()),
        point=point_fc,
        labels=labels,
    )
    areas = area_index()
    return {
        "need": need,
        "fits": fits,
        "area_names": [(code, areas.names.get(code, code)) for code in need.area_list],
        "point": point,
        "fits_json": json.dumps([f["record"]["id"] for f in fits]),
        "use_labels": USE_LABELS,
        "status": housing_status(need),
        "page_url": url_for("needs.private", token=need.token, _external=True),
        "edit_url": url_for("needs.edit", token=need.token),
        "withdraw_url": url_for("needs.withdraw", token=need.token),
        **render_map(m),
    }
