"""OGC API – Features, Part 1 (Core, GeoJSON, OAS 3.0) under ``/ogc``, written by hand.

Why not pygeoapi (0.21 is on PyPI and was evaluated): its Flask app reads one YAML config from
``PYGEOAPI_CONFIG`` at import time into module globals, which fits neither ``create_app`` (one
app per test, each on its own database) nor "no data loaded at import". Its SQL providers need
PostGIS or SpatiaLite, while our store keeps portable WKB in plain SQLite/PostgreSQL, so we would
write a provider plugin anyway; pygeoapi instantiates it per request from a dict, with no way to
reach the app's Store, area index or matching cache but globals. It would also pull rasterio (a
second GDAL next to pyogrio's), pydantic, pygeofilter and tinydb. Core + GeoJSON is six small
GET resources over the same tables the exports write, so they are thin views here.

Public, read-only, no login (see ``collections`` for what each collection reveals). JSON only
(``f=json``); errors are OGC exception JSON ``{"code", "description"}`` plus our ``errors`` map.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request, url_for

from spacematch.errors import ApiError, NotFound
from spacematch.export.tables import table_features
from spacematch.geojson import feature_collection
from spacematch.models import Property
from spacematch.web.common import area_index, index_cache, match_weights
from spacematch.web.ogc import openapi
from spacematch.web.ogc.collections import (
    COLLECTIONS,
    CRS84,
    ItemsQuery,
    parse_items_query,
    property_page,
    property_table,
    spatial_extent,
    table_page,
)
from spacematch.web.state import state

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
JSON = "application/json"
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000


@bp.errorhandler(ApiError)
def ogc_error(err: ApiError):
    code = "NotFound" if err.status == 404 else "InvalidParameterValue"
    body = {"code": code, "description": str(err), "errors": err.errors}
    return _json(body), err.status


@bp.before_request
def check_format() -> None:
    if request.args.get("f") not in (None, "", "json"):
        raise ApiError({"f": "only f=json is served"})


def _json(body: dict[str, Any], mimetype: str = JSON) -> Response:
    """JSON in the order built (Flask's jsonify sorts keys; QGIS then lists columns a-z)."""
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), mimetype=mimetype)


def _link(href: str, rel: str, media: str = JSON, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media}
    if title:
        link["title"] = title
    return link


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


@bp.get("")
@bp.get("/")
def landing():
    return _json(
        {
            "title": "spacematch Amsterdam",
            "description": "Leegstaand gemeentelijk vastgoed en ruimtevragen van de "
            "gemeenschapseconomie.",
            "links": [
                _link(_url("ogc.landing"), "self", title="Deze pagina"),
                _link(_url("ogc.api"), "service-desc", openapi.OPENAPI_TYPE, "OpenAPI 3.0"),
                _link(_url("ogc.conformance"), "conformance", title="Conformance"),
                _link(_url("ogc.collections"), "data", title="Collecties"),
            ],
        }
    )


@bp.get("/api")
def api():
    doc = openapi.document(
        _url("ogc.landing"), default_limit=_default_limit(), max_limit=_max_limit()
    )
    return _json(doc, openapi.OPENAPI_TYPE)


@bp.get("/conformance")
def conformance():
    return _json({"conformsTo": openapi.CONFORMANCE})


@bp.get("/collections")
def collections():
    return _json(
        {
            "links": [_link(_url("ogc.collections"), "self")],
            "collections": [_describe(cid) for cid in COLLECTIONS],
        }
    )


@bp.get("/collections/<cid>")
def collection(cid: str):
    return _json(_describe(_collection(cid).id))


@bp.get("/collections/<cid>/items")
def items(cid: str):
    col = _collection(cid)
    q = parse_items_query(col, request.args, default_limit=_default_limit(), max_limit=_max_limit())
    page, matched = _page(cid, q)
    links = [
        _link(_items_url(cid, q.offset, q.limit), "self", openapi.GEOJSON),
        _link(_url("ogc.collection", cid=cid), "collection"),
    ]
    if q.offset + len(page) < matched:
        links.append(_link(_items_url(cid, q.offset + q.limit, q.limit), "next", openapi.GEOJSON))
    if q.offset > 0:
        links.append(
            _link(_items_url(cid, max(q.offset - q.limit, 0), q.limit), "prev", openapi.GEOJSON)
        )
    body = feature_collection(
        table_features(page),
        numberMatched=matched,
        numberReturned=len(page),
        links=links,
        timeStamp=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    )
    return _json(body, openapi.GEOJSON)


@bp.get("/collections/<cid>/items/<path:fid>")
def item(cid: str, fid: str):
    _collection(cid)
    if request.args.keys() - {"f", "lang"}:
        raise ApiError({k: "unknown parameter" for k in request.args.keys() - {"f", "lang"}})
    feature = _find(cid, fid)
    if feature is None:
        raise NotFound({"featureId": f"no feature {fid!r} in collection {cid}"})
    feature["links"] = [
        _link(_url("ogc.item", cid=cid, fid=fid), "self", openapi.GEOJSON),
        _link(_url("ogc.collection", cid=cid), "collection"),
    ]
    return _json(feature, openapi.GEOJSON)


# -- helpers ----------------------------------------------------------------------------------


def _default_limit() -> int:
    return int(current_app.config.get("OGC_DEFAULT_LIMIT", DEFAULT_LIMIT))


def _max_limit() -> int:
    return int(current_app.config.get("OGC_MAX_LIMIT", MAX_LIMIT))


def _collection(cid: str):
    if cid not in COLLECTIONS:
        raise NotFound(
            {"collectionId": f"unknown collection {cid!r}; known: {', '.join(COLLECTIONS)}"}
        )
    return COLLECTIONS[cid]


def _describe(cid: str) -> dict[str, Any]:
    col = COLLECTIONS[cid]
    extent = state().cache.get("ogc_extent", 0, lambda: spatial_extent(area_index()))
    return {
        "id": cid,
        "title": col.title,
        "description": col.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [extent], "crs": CRS84}},
        "links": [
            _link(_url("ogc.collection", cid=cid), "self"),
            _link(_url("ogc.items", cid=cid), "items", openapi.GEOJSON, col.title),
        ],
    }


def _items_url(cid: str, offset: int, limit: int) -> str:
    """This request's URL with another offset and limit; every other parameter kept."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("offset", "limit")]
    args += [("limit", str(limit)), ("offset", str(offset))]
    return _url("ogc.items", cid=cid) + "?" + urlencode(args)


def _cached_table(cid: str):
    """The full needs or areas table, rebuilt only when the store's data version moves."""
    from spacematch.web.ogc.collections import areas_figures, public_needs

    store = state().store

    def build():
        areas = area_index()
        if cid == "needs":
            return public_needs(store, areas=areas)
        return areas_figures(store, areas=areas, index=index_cache().get, weights=match_weights())

    return state().derived(("ogc_table", cid), build)


def _page(cid: str, q: ItemsQuery):
    if cid == "properties":
        with state().store.sessions() as session:
            return property_page(session, q, areas=area_index())
    return table_page(_cached_table(cid), COLLECTIONS[cid], q)


def _find(cid: str, fid: str) -> dict | None:
    if cid == "properties":
        with state().store.sessions() as session:
            row = session.get(Property, fid)
            table = property_table([row] if row is not None else [], area_index())
    else:
        full = _cached_table(cid)
        table = full.take(i for i, v in enumerate(full.ids()) if str(v) == fid)
    features = table_features(table)
    return features[0] if features else None
