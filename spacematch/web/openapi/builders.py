"""The small builders the JSON API's OpenAPI document is written with: parameters, operations,
responses, objects, enums, feature collections; the filters shared by the property lists."""

from __future__ import annotations

from collections.abc import Iterable

from spacematch.matching import MAX_LIMIT as MATCH_MAX_LIMIT
from spacematch.models import (
    PROPERTY_STATUSES,
    USES,
)

PROPERTY_MAX_LIMIT = 10_000  # config.DEFAULTS["API_PROPERTIES_MAX_LIMIT"]

AREA_LEVELS = ("stadsdeel", "gebied", "wijk", "buurt")
JSON = "application/json"
REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _param(name: str, description: str, schema: dict, *, where: str = "query", **extra) -> dict:
    return {"name": name, "in": where, "description": description, "required": where == "path",
            "schema": schema, **extra}  # fmt: skip


def _filter(name: str, description: str, schema: dict, **extra) -> dict:
    """A filter: empty (``min_area=``, as an HTML form sends it) means no filter."""
    return _param(name, description, schema, allowEmptyValue=True, **extra)


def _choices(name: str, description: str, values: Iterable[str]) -> dict:
    """Comma-separated values from a fixed list; blanks around and between them are ignored."""
    one = "(?:" + "|".join(values) + r")\s*"
    pattern = rf"^\s*(?:{one})?(?:,\s*(?:{one})?)*$"
    return _filter(name, description, {"type": "string", "pattern": pattern})


def _response(description: str, schema: dict, media: str = JSON) -> dict:
    return {"description": description, "content": {media: {"schema": schema}}}


def _errors(description: str) -> dict:
    return _response(description, _ref("Errors"))


def _op(summary: str, operation_id: str, tag: str, parameters: list, responses: dict, **extra):
    """One operation; every one takes ``lang``."""
    return {"summary": summary, "operationId": operation_id, "tags": [tag],
            "parameters": [*parameters, LANG], "responses": responses, **extra}  # fmt: skip


LANG = _param(
    "lang",
    "Language of messages and reasons, nl or en (remembered in the session); any other value "
    "is ignored: then the session's, the browser's Accept-Language, else Dutch.",
    {"type": "string", "example": "en"},
)
INTEGER = {"type": "integer"}
NUMBER_0 = {"type": "number", "minimum": 0}


def _property_filters(*, overview: bool, max_limit: int = PROPERTY_MAX_LIMIT) -> list[dict]:
    degrees = {"type": "number", "minimum": -180, "maximum": 180}
    bbox = {"type": "array", "items": degrees, "minItems": 4, "maxItems": 4}
    params = [
        _filter("bbox", "minlon,minlat,maxlon,maxlat in WGS84 (degrees).", bbox, style="form",
                explode=False),
        _filter("area", "Stadsdeel, gebied, wijk or buurt code (see /api/areas).",
                {"type": "string"}),
        _filter("layer", "Layer slugs, comma-separated (an unknown one is a 400).",
                {"type": "string"}),
        _choices("status", "Workflow statuses, comma-separated.", PROPERTY_STATUSES),
        _choices("use", "Use classes, comma-separated; a property offers every one.", USES),
        _filter("min_area", "At least this many m².", NUMBER_0),
        _filter("max_area", "At most this many m².", NUMBER_0),
        _filter("max_rent", "Asking rent at most this, € per m² per year.", NUMBER_0),
        _filter("available_from", "Available on or before this date.",
                {"type": "string", "format": "date"}),
    ]  # fmt: skip
    if overview:
        return [*params, _param(
            "zoom", "Web map zoom level; sets the cluster cell size (~48 screen pixels).",
            {**INTEGER, "minimum": 0, "maximum": 22, "default": 12},
        )]  # fmt: skip
    return [
        *params,
        _filter("limit", f"At most this many features (default: every match, up to {max_limit}).",
                {**INTEGER, "minimum": 1, "maximum": max_limit}),
        _filter("offset", "Skip this many features (ordered by id).",
                {**INTEGER, "minimum": 0, "maximum": 10**9, "default": 0}),
    ]  # fmt: skip


def _limit() -> dict:
    schema = {**INTEGER, "minimum": 1, "maximum": MATCH_MAX_LIMIT, "default": 20}
    return _param("limit", "How many rows at most.", schema)


def _obj(properties: dict, required: Iterable[str] = (), *, closed: bool = True, **extra) -> dict:
    """An object schema; ``closed``: no other members."""
    schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def _enum(values: Iterable[str], **extra) -> dict:
    return {"type": "string", "enum": list(values), **extra}


def _feature_collection(items: dict, **members: dict) -> dict:
    return _obj(
        {"type": _enum(["FeatureCollection"]), "features": {"type": "array", "items": items},
         **members},
        ["type", "features", *members],
        closed=False,
    )  # fmt: skip
