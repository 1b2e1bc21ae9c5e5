"""The JSON API's OpenAPI components: the schemas of needs, rounds, matches, interests and
features. A need's request schema is ``NeedInput``'s own, converted to OpenAPI 3.0."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from spacematch.domain.need_input import NeedInput
from spacematch.models import (
    LEGAL_FORMS,
    PROPERTY_STATUSES,
    USES,
)
from spacematch.web.openapi.builders import (
    AREA_LEVELS,
    _enum,
    _feature_collection,
    _obj,
    _ref,
)


def _openapi_3_0(schema: Any) -> Any:
    """pydantic's JSON Schema (2020-12) in OpenAPI 3.0's dialect: ``null`` branches become
    ``nullable``, a numeric ``exclusiveMinimum`` a ``minimum`` with the boolean, a fixed-length
    tuple (``prefixItems``) an array of its one item type; titles go."""
    if isinstance(schema, list):
        return [_openapi_3_0(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _openapi_3_0(v) for k, v in schema.items() if k not in ("title", "prefixItems")}
    branches = [b for b in out.pop("anyOf", []) if b.get("type") != "null"]
    if "anyOf" in schema:
        out = {**out, **branches[0], "nullable": True} if len(branches) == 1 else out
    if not isinstance(out.get("exclusiveMinimum", True), bool):
        out["minimum"], out["exclusiveMinimum"] = out["exclusiveMinimum"], True
    if "prefixItems" in schema:
        out["items"] = _openapi_3_0(schema["prefixItems"][0])
    return out


def _need_input(area_codes: Iterable[str], *, description: str) -> dict[str, Any]:
    """The request schema of a need: ``NeedInput``'s, with the store's area codes as the enum."""
    schema = _openapi_3_0(NeedInput.model_json_schema())
    schema["properties"]["areas"]["items"]["enum"] = sorted(area_codes)
    schema.pop("default", None)
    for value in schema["properties"].values():
        if value.get("default") == [] or value.get("default") is None:
            value.pop("default", None)
    # Read by the API beside NeedInput (they belong to the need's mail settings, not its match).
    schema["properties"]["alerts"] = {
        "type": "string", "enum": ["daily", "weekly", "off"], "default": "daily",
        "description": "Mail about new fitting spaces: at most one a day or a week, to a "
        "confirmed address (confirmed by opening the private link mailed).",
    }  # fmt: skip
    schema["properties"]["introductions"] = {
        "type": "boolean", "default": False,
        "description": "Other initiatives interested in the same space may see the "
        "initiative's name and send it one introduction mail.",
    }  # fmt: skip
    return {**schema, "description": description}


def _schemas(area_codes: Iterable[str]) -> dict[str, Any]:
    """Every component schema, in the document's order."""
    return {
        **_need_schemas(area_codes),
        **_round_schemas(),
        **_match_schemas(),
        **_interest_schemas(),
        **_feature_schemas(),
    }


def _need_schemas(area_codes: Iterable[str]) -> dict[str, Any]:
    string = {"type": "string"}
    schemas: dict[str, Any] = {}
    schemas["Errors"] = _obj(
        {"errors": {"type": "object", "minProperties": 1,
                    "additionalProperties": {"type": "string"}}},
        ["errors"],
        description="Every problem with the request, keyed by the field or query parameter it "
        "concerns; ``_`` for the request as a whole.",
    )  # fmt: skip
    schemas["NeedInput"] = _need_input(
        area_codes,
        description="A declared space need. Every problem is reported at once, keyed by field. "
        "Also accepted (the intake form's encoding): numbers as decimal strings, uses and areas "
        "as comma-separated strings, point as 'lon,lat', accessible as 'true'/'false'/'1'/'0'/"
        "'on'/'off'/'yes'/'no'. Needs at least one area or a point.",
    )  # fmt: skip
    schemas["NeedCreated"] = _obj(
        {"id": {"type": "integer"},
         "token": {**string, "description": "Secret: opens the need's private page and "
                   "matches. Keep it."},
         "url": {**string, "description": "The need's private page."}},
        ["id", "token", "url"],
    )  # fmt: skip
    return schemas


def _round_schemas() -> dict[str, Any]:
    string = {"type": "string"}
    score = {"type": "number", "minimum": 0, "maximum": 1}
    date = {"type": "string", "format": "date"}
    schemas: dict[str, Any] = {}
    tier_rule = _obj({"legal_forms": {"type": "array", "items": _enum(LEGAL_FORMS)},
                      "local": {"type": "boolean"}, "tier": {"type": "integer"}},
                     ["legal_forms"])  # fmt: skip
    schemas["RoundPolicy"] = _obj(
        {"tiers": {"type": "array", "maxItems": 5, "items": tier_rule,
                   "description": "Priority tiers in order; the first rule a need meets is its "
                   "tier, everyone else the next. local: the need's preferred areas include the "
                   "space's buurt or wijk. Default: 1 = cooperatie, sociale_onderneming, "
                   "stichting, vereniging and local; 2 = the same forms elsewhere; 3 = others."},
         "other_tier": {"type": "integer"},
         "eligibility": _enum(("hard_filters",)),
         "min_score": {**score, "nullable": True},
         "deadline": {**date, "nullable": True,
                      "description": "Interest closes at the end of this day; no draw before."},
         "tie_break": _enum(("lottery",))},
    )  # fmt: skip
    schemas["RoundInput"] = _obj(
        {"properties": {"type": "array", "minItems": 1, "items": string},
         "policy": _ref("RoundPolicy"),
         "capacities": {"type": "object", "additionalProperties":
                        {"type": "integer", "minimum": 1, "maximum": 3},
                        "description": "Property id -> seats: a space shared by 2-3 "
                        "initiatives willing to share."}},
        ["properties"],
    )  # fmt: skip
    schemas["RoundOpened"] = _obj(
        {"id": {"type": "integer"},
         "commitment": {**string, "description": "SHA-256 (hex) of the seed's bytes."}},
        ["id", "commitment"],
    )  # fmt: skip
    text = {"type": "string", "pattern": r"\S"}  # not blank
    schemas["RoundOverride"] = _obj(
        {"property": string, "need": {"type": "integer"}, "seat": {"type": "integer"},
         "reason": {**text, "description": "Required; published beside the result."}},
        ["property", "need", "reason"],
    )  # fmt: skip
    schemas["RoundRecord"] = _obj(
        {"id": {"type": "integer"}, "status": _enum(("open", "drawn")),
         "policy": {"type": "object"}, "commitment": string,
         "seed": {**string, "nullable": True}, "spaces": {"type": "array", "items": {
             "type": "object"}},
         "applications": {"type": "array", "items": {"type": "object"}},
         "initiatives": {"type": "object"}},
        ["id", "status", "policy", "commitment", "seed", "spaces"], closed=False,
    )  # fmt: skip
    return schemas


def _match_schemas() -> dict[str, Any]:
    string = {"type": "string"}
    score = {"type": "number", "minimum": 0, "maximum": 1}
    criterion = _obj({"score": score, "reason": string}, ["score", "reason"])
    criteria = _obj({c: criterion for c in ("size", "price", "place")}, ["size", "price", "place"])

    def match_row(key: str, key_schema: dict) -> dict:
        priority = {**score, "description": "Community-economy priority (candidates only); "
                    "never part of the score."}  # fmt: skip
        fields = {
            key: key_schema,
            "score": {**score, "description": "Weighted mean of the criteria."},
            "criteria": criteria,
            "priority": priority,
            "priority_reason": string,
        }
        if key == "need":  # candidates: the initiative's interest in the property
            fields["interested"] = {
                "type": "boolean",
                "description": "Interested needs come first (in ranking order), then the others.",
            }
            fields["interest_rank"] = {
                "type": "integer",
                "minimum": 1,
                "nullable": True,
                "description": "The property's place in the need's "
                "order of preference; null without interest.",
            }
        return _obj(fields, [key, "score", "criteria"])  # fmt: skip

    schemas: dict[str, Any] = {}
    schemas["NeedMatches"] = _obj(
        {"need": {"type": "integer"},
         "matches": {"type": "array", "items": match_row("property", string)}},
        ["need", "matches"],
    )  # fmt: skip
    schemas["PropertyCandidates"] = _obj(
        {"property": string,
         "matches": {"type": "array", "items": match_row("need", {"type": "integer"})}},
        ["property", "matches"],
    )  # fmt: skip
    return schemas


def _interest_schemas() -> dict[str, Any]:
    string = {"type": "string"}
    schemas: dict[str, Any] = {}
    schemas["Interests"] = _obj(
        {"properties": {"type": "array", "maxItems": 50, "items": string,
                        "description": "Property ids, most wanted first; each must be one of "
                        "the need's fits (its top 20 or scoring 0.6 or more)."}},
        ["properties"],
    )  # fmt: skip
    schemas["NeedInterests"] = _obj(
        {"need": {"type": "integer"}, "properties": {"type": "array", "items": string}},
        ["need", "properties"],
    )  # fmt: skip
    return schemas


def _feature_schemas() -> dict[str, Any]:
    number = {"type": "number"}
    string = {"type": "string"}
    date = {"type": "string", "format": "date"}
    prop = {
        "id": string, "layer": string, "name": string, "address": string, "area_m2": number,
        "rent_eur_m2_year": number, "rent_eur_month": number,
        "uses": {"type": "array", "items": _enum(USES)}, "available_from": date,
        "available_until": {**date, "nullable": True,
                            "description": "Empty: permanent; else meanwhile use."},
        "meanwhile": {"type": "boolean"}, "accessible": {"type": "boolean"},
        "status": _enum(PROPERTY_STATUSES), "department": string, "contact": string,
        "buurt": string, "buurt_name": string, "wijk": string, "stadsdeel": string,
    }  # fmt: skip
    prop_required = ["id", "layer", "area_m2", "rent_eur_m2_year", "uses", "status", "buurt"]
    geometry = _obj(
        {"type": _enum(["Point", "Polygon", "MultiPolygon"]), "coordinates": {"type": "array"}},
        ["type", "coordinates"], closed=False, description="RFC 7946 geometry, WGS84 lon/lat.",
    )  # fmt: skip
    feature = {"type": _enum(["Feature"]), "geometry": _ref("Geometry")}
    cluster = _obj({"cluster": {"type": "boolean", "enum": [True]},
                    "count": {"type": "integer", "minimum": 1}}, ["cluster", "count"])  # fmt: skip
    hit = _obj({"code": string, "level": _enum(AREA_LEVELS), "name": string},
               ["code", "level", "name"])  # fmt: skip
    schemas: dict[str, Any] = {}
    schemas["Geometry"] = geometry
    schemas["PropertyFeature"] = _obj(
        {**feature, "id": {**string, "description": "<layer>.<id within the layer>"},
         "properties": _obj(prop, prop_required, closed=False)},
        ["type", "id", "geometry", "properties"], closed=False,
    )  # fmt: skip
    schemas["PropertyCollection"] = _feature_collection(
        _ref("PropertyFeature"),
        numberReturned={"type": "integer", "minimum": 0},
        numberMatched={"type": "integer", "minimum": 0},
    )
    schemas["ClusterFeature"] = _obj(
        {**feature, "properties": cluster}, ["type", "geometry", "properties"], closed=False
    )
    schemas["Overview"] = _feature_collection(
        {"oneOf": [_ref("PropertyFeature"), _ref("ClusterFeature")]},
        clustered={"type": "boolean"}, numberMatched={"type": "integer", "minimum": 0},
    )  # fmt: skip
    schemas["AreaHits"] = _obj(
        {"areas": {"type": "array", "maxItems": 20, "items": hit}}, ["areas"]
    )
    schemas["AreaCollection"] = _feature_collection(
        _obj({**feature, "id": string, "properties": {"type": "object"}},
             ["type", "id", "geometry", "properties"], closed=False)
    )  # fmt: skip
    return schemas
