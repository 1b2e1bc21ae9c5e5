"""The OpenAPI 3.0 document of the OGC API (``/ogc/api``): the service-desc GDAL and QGIS read.

GDAL's OAPIF driver reads the ``limit`` parameter's default and maximum from here to size its
pages (GDAL >= 3.8 asks for the default, older GDAL for 10 unless told ``PAGE_SIZE``); QGIS
pages by its own setting. The parameters follow OGC API Features Part 1's definitions
(``/conf/core/fc-*-definition``: ``style: form, explode: false``), Part 2's ``crs`` and
``bbox-crs``, and Part 3's queryables as query parameters.
"""

from __future__ import annotations

from typing import Any

from spacematch.web.ogc.collections import (
    COLLECTIONS,
    CRS84,
    CRS_URIS,
    MAX_OFFSET,
    QUERYABLES,
    Collection,
)

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
GEOJSON = "application/geo+json"
OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
LANGUAGES = ("nl", "en")


def _param(
    name: str,
    description: str,
    schema: dict,
    *,
    where: str = "query",
    required: bool = False,
    **extra: Any,
) -> dict:
    return {
        "name": name,
        "in": where,
        "description": description,
        "required": required,
        "schema": schema,
        **extra,
    }


def _content(description: str, *media: str, headers: dict | None = None) -> dict:
    out: dict[str, Any] = {
        "description": description,
        "content": {m: {"schema": {"type": "object"}} for m in media or ("application/json",)},
    }
    if headers:
        out["headers"] = headers
    return out


def document(base_url: str, *, default_limit: int, max_limit: int) -> dict[str, Any]:
    """The whole API: the fixed resources and the paths of every collection."""
    exception = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}
    }
    errors = {
        "400": {"description": "Invalid or unknown parameter: the response names it.", **exception},
        "404": {"description": "Not found.", **exception},
    }  # fmt: skip
    content_crs = {
        "Content-Crs": {
            "description": "The CRS of the coordinates, as <URI>.",
            "schema": {"type": "string", "enum": [f"<{c}>" for c in CRS_URIS]},
        }
    }
    f = _param(
        "f",
        "Output format: json (default), or html (also when Accept prefers text/html).",
        {"type": "string", "enum": ["json", "html"]},
        style="form",
        explode=False,
    )
    lang = _param(
        "lang",
        "Language of the HTML pages (nl, the default, or en). The data themselves are Dutch.",
        {"type": "string", "enum": list(LANGUAGES)},
    )
    common = [f, lang]
    crs = _param(
        "crs",
        "The CRS of the returned coordinates: CRS84 (lon/lat, the default) or RD New "
        "(EPSG:28992, the stored coordinates exactly). The Content-Crs header says which.",
        {"type": "string", "format": "uri", "enum": list(CRS_URIS), "default": CRS84},
        style="form",
        explode=False,
    )
    items_params = [*_items_params(default_limit, max_limit), crs, *common]
    paths = _fixed_paths(common, lang, errors)
    for cid, collection in COLLECTIONS.items():
        paths.update(
            _collection_paths(
                cid, collection, items_params=items_params, common=common, lang=lang, crs=crs,
                errors=errors, content_crs=content_crs,
            )
        )  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "spacematch Amsterdam – OGC API Features",
            "version": "1.1.0",
            "description": "Leegstaand gemeentelijk vastgoed, ruimtevragen van initiatieven en "
            "aanbod en vraag per buurt, elke collectie met één geometrietype. Gebiedsindeling: "
            "Bron: Gemeente Amsterdam.",
            "license": {"name": "EUPL-1.2"},
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "paths": paths,
        "components": {
            "schemas": {
                "exception": {
                    "type": "object",
                    "required": ["code"],
                    "properties": {
                        "code": {"type": "string"},
                        "description": {"type": "string"},
                        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                }
            }
        },
    }


def _items_params(default_limit: int, max_limit: int) -> list[dict[str, Any]]:
    """The items resource's own parameters: paging, bbox and datetime."""
    return [
        _param(
            "limit",
            f"Page size (default {default_limit}); a larger value is served as the maximum. "
            "The next link pages on.",
            {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
            style="form",
            explode=False,
        ),
        _param(
            "offset",
            "Features to skip (for paging; the next and prev links carry it).",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
            style="form",
            explode=False,
        ),
        _param(
            "bbox",
            "minx,miny,maxx,maxy (or six numbers with minz and maxz, heights ignored) in "
            "bbox-crs (CRS84 lon/lat by default); minlon > maxlon crosses the antimeridian.",
            {
                "type": "array",
                "minItems": 4,
                "maxItems": 6,
                "items": {"type": "number"},
            },
            style="form",
            explode=False,
        ),
        _param(
            "bbox-crs",
            "The bbox's CRS: CRS84 (default) or RD New (EPSG:28992).",
            {"type": "string", "format": "uri", "enum": list(CRS_URIS), "default": CRS84},
            style="form",
            explode=False,
        ),
        _param(
            "datetime",
            "RFC 3339 date-time or interval start/end (.. or empty for an open end), compared "
            "by day with the collection's temporal property.",
            {"type": "string"},
            style="form",
            explode=False,
        ),
    ]


def _fixed_paths(common: list, lang: dict, errors: dict[str, Any]) -> dict[str, Any]:
    """The landing page, this document, the conformance classes and the collections list."""
    paths: dict[str, Any] = {
        "/": {
            "get": {
                "summary": "Landing page",
                "operationId": "getLandingPage",
                "parameters": common,
                "responses": {
                    "200": _content("Links to the API.", "application/json", "text/html"),
                    "400": errors["400"],
                },
            }
        },
        "/api": {
            "get": {
                "summary": "This document",
                "operationId": "getOpenAPI",
                "parameters": [
                    _param("f", "Output format; only json.", {"type": "string", "enum": ["json"]}),
                    lang,
                ],
                "responses": {"200": _content("OpenAPI 3.0", OPENAPI_TYPE), "400": errors["400"]},
            }
        },
        "/conformance": {
            "get": {
                "summary": "Conformance classes",
                "operationId": "getConformance",
                "parameters": common,
                "responses": {
                    "200": _content("Conformance.", "application/json", "text/html"),
                    "400": errors["400"],
                },
            }
        },
        "/collections": {
            "get": {
                "summary": "Collections",
                "operationId": "getCollections",
                "parameters": common,
                "responses": {
                    "200": _content("Collections.", "application/json", "text/html"),
                    "400": errors["400"],
                },
            }
        },
    }
    return paths


def _collection_paths(
    cid: str,
    collection: Collection,
    *,
    items_params: list,
    common: list,
    lang: dict,
    crs: dict,
    errors: dict[str, Any],
    content_crs: dict[str, Any],
) -> dict[str, Any]:
    """One collection's description, queryables, items and single feature."""
    paths: dict[str, Any] = {}
    fid = _param("featureId", "The feature's id.", {"type": "string"}, where="path", required=True)
    filters = [
        _param(
            name,
            f"{QUERYABLES[name].title}: equal to one of the comma-separated values "
            "(see the queryables).",
            {"type": "string"},
            style="form",
            explode=False,
        )
        for name in collection.filters
    ]
    paths[f"/collections/{cid}"] = {
        "get": {
            "summary": collection.title,
            "operationId": f"describeCollection_{cid}",
            "parameters": common,
            "responses": {
                "200": _content("The collection.", "application/json", "text/html"),
                **errors,
            },
        }
    }
    paths[f"/collections/{cid}/queryables"] = {
        "get": {
            "summary": f"{collection.title}: queryables",
            "operationId": f"getQueryables_{cid}",
            "parameters": [
                _param("f", "Output format; only json.", {"type": "string", "enum": ["json"]}),
                lang,
            ],
            "responses": {
                "200": _content("JSON Schema of the queryables.", "application/schema+json"),
                **errors,
            },
        }
    }
    paths[f"/collections/{cid}/items"] = {
        "get": {
            "summary": f"{collection.title}: features ({collection.geometry_type})",
            "operationId": f"getFeatures_{cid}",
            "description": collection.description,
            "parameters": [*items_params, *filters],
            "responses": {
                "200": _content("A page of features.", GEOJSON, "text/html", headers=content_crs),
                **errors,
            },
        }
    }
    paths[f"/collections/{cid}/items/{{featureId}}"] = {
        "get": {
            "summary": f"{collection.title}: one feature",
            "operationId": f"getFeature_{cid}",
            "parameters": [fid, crs, *common],
            "responses": {
                "200": _content("One feature.", GEOJSON, "text/html", headers=content_crs),
                **errors,
            },
        }
    }
    return paths
