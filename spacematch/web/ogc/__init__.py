"""OGC API – Features under ``/ogc``, written by hand: Part 1 (Core, GeoJSON, HTML, OAS 3.0),
Part 2 (CRS by reference: CRS84 and RD New) and Part 3's queryables as query parameters.

Why not pygeoapi (0.21 is on PyPI and was evaluated): its Flask app reads one YAML config from
``PYGEOAPI_CONFIG`` at import time into module globals, which fits neither ``create_app`` (one
app per test, each on its own database) nor "no data loaded at import". Its SQL providers need
PostGIS or SpatiaLite, while our store keeps portable WKB in plain SQLite/PostgreSQL, so we would
write a provider plugin anyway; pygeoapi instantiates it per request from a dict, with no way to
reach the app's Store, area index or matching cache but globals. It would also pull rasterio (a
second GDAL next to pyogrio's), pydantic, pygeofilter and tinydb. The API is a few small GET
resources over the same tables the exports write, so they are thin views here.

Public, read-only, no login (see ``collections`` for what each collection reveals), so every
response carries ``Access-Control-Allow-Origin: *``. JSON by default; HTML (in the site's design)
with ``f=html`` or when the Accept header prefers ``text/html`` (a browser). Every error under
``/ogc`` is OGC exception JSON ``{"code", "description"}`` plus our ``errors`` map naming each
bad parameter, also for a path that names nothing (``exception_response``, used by the app's
handler). Links are absolute ``url_for(_external=True)``, so the app's configured server name or
trusted hosts decide their host, never a request's ``Host`` alone.

Serialised JSON item pages are cached per store data version (config
``OGC_PAGE_CACHE_ENTRIES``), so a client paging through a collection or many clients asking for
the same page cost one serialisation.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import HTTPException

from spacematch.domain.messages import Message
from spacematch.errors import ApiError, NotFound, Text
from spacematch.web.common import area_index
from spacematch.web.locale import language
from spacematch.web.ogc import openapi
from spacematch.web.ogc.collections import (
    COLLECTIONS,
    CRS84,
    CRS_URIS,
    FEATURE_PARAMS,
    QUERYABLES,
    RD_NEW,
    Collection,
)
from spacematch.web.ogc.pages import (
    _default_limit,
    _geojson,
    _max_limit,
    _page_cache,
    _prepared,
    features,
)
from spacematch.web.ogc.query import parse_crs, parse_items_query
from spacematch.web.ogc.responses import (
    HTML,
    SCHEMA_JSON,
    _cors,
    _html,
    _json,
    _link,
    _self_links,
    _url,
    exception_body,
    exception_response,
    wants_html,
)
from spacematch.web.ogc.shapes import spatial_extent, storage_extent
from spacematch.web.state import state

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
# Parameters each non-items resource takes; the items resource checks its own.
RESOURCE_PARAMS = ("f", "lang")
JSON_ONLY = {"ogc.api", "ogc.queryables"}


# -- errors, formats, CORS -------------------------------------------------------------------


@bp.errorhandler(ApiError)
def ogc_error(err: ApiError):
    texts = err.texts(language(remember=False))
    description = "; ".join(f"{k}: {v}" for k, v in texts.items())
    return _json(exception_body(err.status, description, texts)), err.status


@bp.errorhandler(HTTPException)
def ogc_http_error(err: HTTPException):
    return exception_response(err)


@bp.before_request
def check_parameters() -> None:
    """``f`` and ``lang`` everywhere; unknown parameters refused on every resource alike."""
    errors: dict[str, str | Text] = {}
    fmt = request.args.get("f", "")
    formats = ("json",) if request.endpoint in JSON_ONLY else ("json", "html")
    if fmt not in ("", *formats):
        errors["f"] = Message("ogc_format", {"formats": ", ".join(formats)})
    languages = current_app.config["LANGUAGES"]
    if request.args.get("lang", "") not in ("", *languages):
        errors["lang"] = Message("ogc_language", {"languages": ", ".join(languages)})
    allowed = {"ogc.items": (), "ogc.item": FEATURE_PARAMS}.get(
        request.endpoint or "", RESOURCE_PARAMS
    )
    if request.endpoint != "ogc.items":
        for name in request.args:
            if name not in allowed:
                errors[name] = Message("ogc_resource_param", {"allowed": ", ".join(allowed)})
    if errors:
        raise ApiError(errors)


@bp.after_request
def cors(response: Response) -> Response:
    response.headers.add("Vary", "Accept")
    return _cors(response)


# -- resources --------------------------------------------------------------------------------


@bp.get("")
@bp.get("/")
def landing():
    body = {
        "title": "spacematch Amsterdam",
        "description": "Leegstaand gemeentelijk vastgoed en ruimtevragen van de "
        "gemeenschapseconomie.",
        "links": [
            *_self_links("ogc.landing"),
            _link(_url("ogc.api"), "service-desc", openapi.OPENAPI_TYPE, "OpenAPI 3.0"),
            _link(_url("ogc.conformance"), "conformance", title="Conformance"),
            _link(_url("ogc.collections"), "data", title="Collecties"),
        ],
    }
    return _html("landing", body) if wants_html() else _json(body)


@bp.get("/api")
def api():
    doc = openapi.document(
        _url("ogc.landing"), default_limit=_default_limit(), max_limit=_max_limit()
    )
    return _json(doc, openapi.OPENAPI_TYPE)


@bp.get("/conformance")
def conformance():
    body = {"conformsTo": openapi.CONFORMANCE, "links": _self_links("ogc.conformance")}
    return _html("conformance", body) if wants_html() else _json(body)


@bp.get("/collections")
def collections():
    body = {
        "links": _self_links("ogc.collections"),
        "collections": [_describe(cid) for cid in COLLECTIONS],
    }
    return _html("collections", body) if wants_html() else _json(body)


@bp.get("/collections/<cid>")
def collection(cid: str):
    body = _describe(_collection(cid).id)
    if wants_html():
        return _html("collection", body, collection=COLLECTIONS[cid], queryables=_queryables(cid))
    return _json(body)


@bp.get("/collections/<cid>/queryables")
def queryables(cid: str):
    _collection(cid)
    return _json(_queryables(cid), SCHEMA_JSON)


@bp.get("/collections/<cid>/items")
def items(cid: str):
    col = _collection(cid)
    version, prepared = _prepared(cid)
    q = parse_items_query(
        col,
        request.args,
        default_limit=_default_limit(),
        max_limit=_max_limit(),
        context=prepared.context,
        areas=area_index(),
    )
    html = wants_html()
    key = (cid, version, request.url_root, tuple(sorted(request.args.items(multi=True))))
    if not html:
        hit = _page_cache().get(key)
        if hit is not None:
            return _geojson(hit, q.crs)
    positions = prepared.select(q, area_index())
    matched = len(positions)
    on_page = positions[q.offset : q.offset + q.limit]
    page = prepared.table.take(on_page)
    links = [
        _link(
            _items_url(cid, q.offset, q.limit, "html" if html else None),
            "self",
            HTML if html else openapi.GEOJSON,
        ),
        _link(
            _items_url(cid, q.offset, q.limit, None if html else "html"),
            "alternate",
            openapi.GEOJSON if html else HTML,
        ),
        _link(_url("ogc.collection", cid=cid), "collection"),
    ]
    media, fmt = (HTML, "html") if html else (openapi.GEOJSON, None)
    if q.offset + len(page) < matched:
        links.append(_link(_items_url(cid, q.offset + q.limit, q.limit, fmt), "next", media))
    if q.offset > 0:
        links.append(
            _link(_items_url(cid, max(q.offset - q.limit, 0), q.limit, fmt), "prev", media)
        )
    body = {
        "type": "FeatureCollection",
        "features": features(page, col, q.crs) if html else [],
        "numberMatched": matched,
        "numberReturned": len(page),
        "links": links,
        "timeStamp": dt.datetime.now(dt.UTC)
        .replace(microsecond=0)
        .isoformat()
        .replace("+00:00", "Z"),
    }
    if html:
        return _html(
            "items",
            body,
            collection=col,
            offset=q.offset,
            map_url=_items_url(cid, q.offset, q.limit, "json", external=False, crs=CRS84),
        )
    del body["features"]
    rest = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    text = '{"type":"FeatureCollection","features":' + prepared.features_json(on_page, q.crs)
    data = (text + "," + rest[len('{"type":"FeatureCollection",') :]).encode("utf-8")
    _page_cache().put(key, data)
    return _geojson(data, q.crs)


@bp.get("/collections/<cid>/items/<path:fid>")
def item(cid: str, fid: str):
    col = _collection(cid)
    errors: dict[str, str | Text] = {}
    crs = parse_crs(request.args.get("crs"), "crs", errors)
    if errors:
        raise ApiError(errors)
    _, prepared = _prepared(cid)
    ids = prepared.table.ids()
    position = next((i for i, v in enumerate(ids) if str(v) == fid), None)
    if position is None:
        raise NotFound({"featureId": Message("ogc_feature", {"fid": repr(fid), "cid": cid})})
    feature = features(prepared.table.take([position]), col, crs)[0]
    feature["links"] = [
        *_self_links("ogc.item", openapi.GEOJSON, cid=cid, fid=fid),
        _link(_url("ogc.collection", cid=cid), "collection"),
    ]
    if wants_html():
        body = {"type": "FeatureCollection", "features": [feature], "links": feature["links"]}
        return _html(
            "items",
            body,
            collection=col,
            offset=0,
            single=True,
            map_url=url_for("ogc.item", cid=cid, fid=fid, f="json"),
        )
    data = json.dumps(feature, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _geojson(data, crs)


# -- helpers ----------------------------------------------------------------------------------


def _collection(cid: str) -> Collection:
    if cid not in COLLECTIONS:
        raise NotFound(
            {
                "collectionId": Message(
                    "ogc_collection", {"cid": repr(cid), "known": ", ".join(COLLECTIONS)}
                )
            }
        )
    return COLLECTIONS[cid]


def _describe(cid: str) -> dict[str, Any]:
    col = COLLECTIONS[cid]
    extents = state().cache.get(
        "ogc_extents", 0, lambda: (spatial_extent(area_index()), storage_extent(area_index()))
    )
    item_url = _url("ogc.items", cid=cid)
    return {
        "id": cid,
        "title": col.title,
        "description": col.description,
        "itemType": "feature",
        "geometryType": col.geometry_type,
        "crs": list(CRS_URIS),
        "storageCrs": RD_NEW,
        "extent": {"spatial": {"bbox": [extents[0]], "crs": CRS84}},
        "storageCrsBbox": extents[1],
        "links": [
            *_self_links("ogc.collection", cid=cid),
            _link(item_url, "items", openapi.GEOJSON, col.title),
            _link(item_url + "?f=html", "items", HTML, col.title),
            _link(_url("ogc.queryables", cid=cid), QUERYABLES_REL, SCHEMA_JSON, "Queryables"),
        ],
    }


def _queryables(cid: str) -> dict[str, Any]:
    """Part 3's JSON Schema of what ``?name=`` filters on (plus the one geometry, for reading)."""
    col = COLLECTIONS[cid]
    _, prepared = _prepared(cid)
    props: dict[str, Any] = {
        "geometry": {
            "title": f"Geometrie ({col.geometry_type})",
            "format": f"geometry-{col.geometry_type.lower()}",
            "x-ogc-role": "primary-geometry",
        }
    }
    for name in col.filters:
        spec = QUERYABLES[name]
        schema: dict[str, Any] = {"title": spec.title, "type": "string"}
        choices = spec.choices(prepared.context)
        if choices:
            schema["enum"] = choices
        props[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _url("ogc.queryables", cid=cid),
        "type": "object",
        "title": col.title,
        "description": "Elk kenmerk is ook een queryparameter: ?naam=waarde of ?naam=a,b "
        "(een van de waarden). De geometrie is alleen om te lezen (bbox filtert erop).",
        "properties": props,
        "additionalProperties": False,
    }


def _items_url(
    cid: str, offset: int, limit: int, fmt: str | None, external: bool = True, **override: str
) -> str:
    """This request's URL with another offset, limit and format; every other parameter kept.
    Relative (``external=False``) for the HTML page's own map: the CSP allows 'self' only."""
    drop = {"offset", "limit", "f", *override}
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in drop]
    args += [*override.items(), ("limit", str(limit)), ("offset", str(offset))]
    if fmt:
        args.append(("f", fmt))
    return url_for("ogc.items", cid=cid, _external=external) + "?" + urlencode(args)
