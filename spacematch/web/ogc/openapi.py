"""The OpenAPI 3.0 document of the OGC API (``/ogc/api``): the service-desc GDAL and QGIS read.

GDAL's OAPIF driver reads the ``limit`` parameter's maximum from here to size its pages.
"""

from __future__ import annotations

from typing import Any

from spacematch.web.ogc.collections import COLLECTIONS, CRS84, MAX_OFFSET

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
GEOJSON = "application/geo+json"
OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"


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


def _json(description: str, media: str = "application/json") -> dict:
    return {"description": description, "content": {media: {"schema": {"type": "object"}}}}


def document(base_url: str, *, default_limit: int, max_limit: int) -> dict[str, Any]:
    """The whole API: the fixed resources and one items path per collection."""
    errors = {"400": _json("Invalid parameter: the response names it."), "404": _json("Not found.")}
    common = [
        _param("f", "Output format; only json.", {"type": "string", "enum": ["json"]}),
    ]
    items_params = [
        _param(
            "limit",
            "Page size; a larger value is served as the maximum.",
            {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
            style="form",
            explode=False,
        ),
        _param(
            "offset",
            "Features to skip (for paging; the next link carries it).",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        ),
        _param(
            "bbox",
            "minlon,minlat,maxlon,maxlat in CRS84.",
            {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
            style="form",
            explode=False,
        ),
        _param("bbox-crs", "The bbox's CRS; only CRS84.", {"type": "string", "enum": [CRS84]}),
        _param(
            "datetime", "RFC 3339 date-time or interval (.. for open ends).", {"type": "string"}
        ),
        *common,
    ]
    queryables = {
        "layer": _param("layer", "Layer slug(s), comma-separated.", {"type": "string"}),
        "status": _param(
            "status",
            "beschikbaar, in_optie, toegewezen, ingetrokken (comma-separated).",
            {"type": "string"},
        ),
        "area": _param("area", "Stadsdeel, gebied, wijk or buurt code.", {"type": "string"}),
    }
    paths: dict[str, Any] = {
        "/": {
            "get": {
                "summary": "Landing page",
                "operationId": "getLandingPage",
                "parameters": common,
                "responses": {"200": _json("Links to the API.")},
            }
        },
        "/api": {
            "get": {
                "summary": "This document",
                "operationId": "getOpenAPI",
                "responses": {"200": _json("OpenAPI 3.0", OPENAPI_TYPE)},
            }
        },
        "/conformance": {
            "get": {
                "summary": "Conformance classes",
                "operationId": "getConformance",
                "parameters": common,
                "responses": {"200": _json("Conformance.")},
            }
        },
        "/collections": {
            "get": {
                "summary": "Collections",
                "operationId": "getCollections",
                "parameters": common,
                "responses": {"200": _json("Collections.")},
            }
        },
    }
    for cid, collection in COLLECTIONS.items():
        fid = _param(
            "featureId", "The feature's id.", {"type": "string"}, where="path", required=True
        )
        paths[f"/collections/{cid}"] = {
            "get": {
                "summary": collection.title,
                "operationId": f"describe_{cid}",
                "parameters": common,
                "responses": {"200": _json("The collection."), **errors},
            }
        }
        paths[f"/collections/{cid}/items"] = {
            "get": {
                "summary": f"{collection.title}: features",
                "operationId": f"getFeatures_{cid}",
                "description": collection.description,
                "parameters": [*items_params, *(queryables[q] for q in collection.filters)],
                "responses": {"200": _json("A page of features.", GEOJSON), **errors},
            }
        }
        paths[f"/collections/{cid}/items/{{featureId}}"] = {
            "get": {
                "summary": f"{collection.title}: one feature",
                "operationId": f"getFeature_{cid}",
                "parameters": [fid, *common],
                "responses": {"200": _json("One feature.", GEOJSON), **errors},
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "spacematch Amsterdam – OGC API Features",
            "version": "1.0.0",
            "description": "Leegstaand gemeentelijk vastgoed, ruimtevragen van initiatieven en "
            "aanbod en vraag per buurt. Gebiedsindeling: Bron: Gemeente Amsterdam.",
            "license": {"name": "EUPL-1.2"},
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "paths": paths,
    }
