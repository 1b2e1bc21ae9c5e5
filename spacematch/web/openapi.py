"""The OpenAPI 3.0 description of the JSON API under ``/api`` (served at ``/api/openapi.json``).

Written by hand next to the views it describes (``api`` and ``matches``), but for the request
schema of a need, which is ``NeedInput``'s own (``spacematch.domain.need_input``, converted to
OpenAPI 3.0 by ``_need_input``): one definition of its fields and limits. ``tests/test_openapi.py``
validates it, checks that every ``/api`` route is in it and every path in it is a route, and runs
schemathesis against the app with it, so a drift shows up as a failing test.

The request schema of a need is the canonical form from DESIGN.md (numbers as JSON numbers,
``uses`` and ``areas`` as lists, ``point`` as ``[lon, lat]``). ``NeedInput`` is more lenient
for the intake form's sake (numbers as decimal strings, lists as comma-separated strings,
``point`` as ``"lon,lat"``, ``accessible`` as ``"true"``/``"1"``/``"on"``...); that is said in the
descriptions, not in the schemas, so generated clients send the canonical form. Rules across
fields (``min_area_m2 <= max_area_m2``, a point inside Amsterdam, ``needed_from`` not in the past,
at least one area or a point) are described too; a need breaking one gets a 400 naming the field.

The OGC API under ``/ogc`` has its own document at ``/ogc/api`` (``spacematch/web/ogc/openapi.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from spacematch.domain.need_input import NeedInput
from spacematch.matching import MAX_LIMIT as MATCH_MAX_LIMIT
from spacematch.models import (
    LEGAL_FORMS,
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
    number = {"type": "number"}
    string = {"type": "string"}
    score = {"type": "number", "minimum": 0, "maximum": 1}
    date = {"type": "string", "format": "date"}
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


def document(
    *,
    area_codes: Iterable[str],
    server_url: str = "/",
    properties_max_limit: int = PROPERTY_MAX_LIMIT,
) -> dict[str, Any]:
    """The whole description; ``area_codes`` are the store's (the ``areas`` enum)."""
    bad = _errors("A bad parameter or field: ``errors`` names each one.")
    need_id = _param("need_id", "The need's id.", {**INTEGER, "minimum": 0}, where="path")
    property_id = _param("property_id", "<layer>.<id>", {"type": "string"}, where="path")
    flags = "|".join(
        "".join(f"[{c}{c.upper()}]" for c in w) for w in ("true", "false", "yes", "no")
    )
    priority = _filter(
        "priority", "1, true or yes: order by community-economy priority first (the score is "
        "kept); 0, false, no or empty: by score (case-insensitive).",
        {"type": "string", "pattern": rf"^\s*(?:[01]|{flags})?\s*$"},
    )  # fmt: skip
    post_need = _op(
        "Declare a space need", "postNeed", "needs", [],
        {"201": _response("Stored.", _ref("NeedCreated")),
         "400": _errors("Not stored: every problem, keyed by field (``_`` when the body is not "
                        "a JSON object; an unknown field under its own name)."),
         "429": _errors("Too many needs from this address; try again later.")},
        description="Public, no login; rate-limited per client address. The same validation as "
        "the intake form /needs/new.",
        requestBody={"required": True, "content": {JSON: {"schema": _ref("NeedInput")}}},
    )  # fmt: skip
    matches = _op(
        "A need's best-fitting properties, with reasons", "getNeedMatches", "matching",
        [need_id, _param("token", "The need's private token (or send it in the X-Need-Token "
                         "or Authorization: Bearer header, which stays out of access logs).",
                         {"type": "string"}), _limit()],
        {"200": _response("Ranked matches.", _ref("NeedMatches")), "400": bad,
         "401": _errors("No token and not logged in."),
         "403": _errors("Wrong token or no such need (the same answer), or logged in "
                        "without the officer role."),
         "404": _errors("No such need (officers and admins only).")},
        description="Access: the need's token, or an officer/admin session.",
        security=[{}, {"session": []}],
    )  # fmt: skip
    need_token = _param("token", "The need's private token.", {"type": "string"})
    denied = {"403": _errors("No or wrong token."), "404": _errors("No such need.")}
    interests = {
        "get": _op(
            "A need's interests, in order of preference", "getNeedInterests", "needs",
            [need_id, need_token],
            {"200": _response("The interests.", _ref("NeedInterests")), **denied},
        ),
        "put": _op(
            "Set a need's interests, in order of preference", "putNeedInterests", "needs",
            [need_id, need_token],
            {"200": _response("Stored.", _ref("NeedInterests")),
             "400": _errors("Not a list of ids, or ids that are unknown or do not fit (named)."),
             **denied},
            requestBody={"required": True, "content": {JSON: {"schema": _ref("Interests")}}},
        ),
    }  # fmt: skip
    candidates = _op(
        "A property's best-fitting open needs, with reasons and priority",
        "getPropertyCandidates", "matching", [property_id, _limit(), priority],
        {"200": _response("Ranked candidate needs.", _ref("PropertyCandidates")), "400": bad,
         "401": _errors("Not logged in."),
         "403": _errors("Logged in without the officer role."),
         "404": _errors("No such property.")},
        security=[{"session": []}],
    )  # fmt: skip
    properties = _op(
        "Properties as an RFC 7946 FeatureCollection", "getProperties", "properties",
        _property_filters(overview=False, max_limit=properties_max_limit),
        {"200": _response("Matching properties.", _ref("PropertyCollection")), "400": bad,
         "429": _errors("Too many large lists asked for from this address (anonymous reads "
                        "are rate-limited); try again later or ask for smaller pages.")},
        description="Every match, ordered by id, unless ``limit`` is given; at most "
        f"{properties_max_limit} features per answer (``numberMatched`` says how many match).",
    )  # fmt: skip
    overview = _op(
        "For the overview map: properties, or grid clusters when many", "getPropertiesOverview",
        "properties", _property_filters(overview=True),
        {"200": _response("Features or clusters.", _ref("Overview")), "400": bad},
    )  # fmt: skip
    round_id = _param("round_id", "The round's id.", {**INTEGER, "minimum": 0}, where="path")
    award_id = _param("award_id", "The award's id.", {**INTEGER, "minimum": 0}, where="path")
    officer = {"401": _errors("Not logged in."),
               "403": _errors("Logged in without the officer role.")}  # fmt: skip
    record = _response("The round's public record.", _ref("RoundRecord"))
    empty_json = {"required": True, "description": "An empty JSON object: state-changing calls "
                  "take application/json only (no cross-site form can send it).",
                  "content": {JSON: {"schema": _obj({})}}}  # fmt: skip
    rounds = {
        "/api/rounds": {
            "get": _op(
                "Every allocation round: id, status, commitment", "listRounds", "rounds", [],
                {"200": _response("Rounds.", {"type": "object"})},
            ),
            "post": _op(
                "Open an allocation round over properties, with a published policy",
                "openRound", "rounds", [],
                {"201": _response("Opened: the id and the SHA-256 commitment of its seed.",
                                  _ref("RoundOpened")),
                 "400": bad, **officer,
                 "409": _errors("A property is not beschikbaar or already in an open round.")},
                requestBody={"required": True, "content": {JSON: {"schema": _ref("RoundInput")}}},
                security=[{"session": []}],
            ),
        },
        "/api/rounds/{round_id}": {"get": _op(
            "A round's public record: policy, commitment, seed after the draw, per space the "
            "winners and waiting list with tier and lottery number", "getRound", "rounds",
            [round_id], {"200": record, "404": _errors("No such round.")},
            description="Public. Initiatives by name and legal form only (a need that chose "
            "not to be named: its legal form only); no contact data. Recompute it with "
            "scripts/verify_round.py.",
        )},
        "/api/rounds/{round_id}/draw": {"post": _op(
            "Draw the round: reveal the seed, run deferred acceptance, offer the spaces",
            "drawRound", "rounds", [round_id],
            {"200": record, "400": _errors("Not sent as application/json."), **officer,
             "404": _errors("No such round."),
             "409": _errors("Drawn already (also by another officer at the same moment), or "
                            "before the interest deadline.")},
            requestBody=empty_json,
            security=[{"session": []}],
        )},
        "/api/rounds/{round_id}/override": {"post": _op(
            "Offer a seat to another need than the draw chose; the reason is published",
            "overrideRound", "rounds", [round_id],
            {"201": _response("The new offer.", {"type": "object"}), "400": bad, **officer,
             "404": _errors("No drawn round or no such seat."),
             "409": _errors("The seat's offer was accepted already.")},
            requestBody={"required": True, "content": {JSON: {"schema": _ref("RoundOverride")}}},
            security=[{"session": []}],
        )},
        "/api/rounds/awards/{award_id}/accept": {"post": _op(
            "Record that the winner accepted the offer", "acceptAward", "rounds", [award_id],
            {"200": _response("Accepted.", {"type": "object"}),
             "400": _errors("Not sent as application/json."), **officer,
             "404": _errors("No such award."), "409": _errors("Not an open offer.")},
            requestBody=empty_json,
            security=[{"session": []}],
        )},
        "/api/rounds/awards/{award_id}/refuse": {"post": _op(
            "Record that the winner refused; the next on the waiting list is offered the seat",
            "refuseAward", "rounds", [award_id],
            {"200": _response("Refused, with the next need offered (or null).",
                              {"type": "object"}),
             "400": bad, **officer, "404": _errors("No such award."),
             "409": _errors("Not an open offer.")},
            requestBody={"required": True, "content": {JSON: {"schema": _obj(
                {"reason": {"type": "string", "minLength": 1}}, ["reason"])}}},
            security=[{"session": []}],
        )},
    }  # fmt: skip
    q = _param("q", "Part of a name, or a whole code (case-insensitive).", {"type": "string"})
    level = _param("level", "The level.", _enum(AREA_LEVELS, default="buurt"))
    paths: dict[str, Any] = {
        "/api/openapi.json": {"get": _op(
            "This document", "getOpenAPI", "meta", [],
            {"200": _response("OpenAPI 3.0", {"type": "object"})},
        )},
        "/api/needs": {"post": post_need},
        "/api/needs/{need_id}/matches": {"get": matches},
        "/api/needs/{need_id}/interests": interests,
        "/api/properties/{property_id}/candidates": {"get": candidates},
        "/api/properties": {"get": properties},
        "/api/properties/overview": {"get": overview},
        "/api/areas": {"get": _op(
            "Area picker: areas whose code or name matches", "findAreas", "areas", [q],
            {"200": _response("Up to 20 areas, best first.", _ref("AreaHits"))},
        )},
        "/api/areas.geojson": {"get": _op(
            "Area outlines of one level, simplified to 2 m", "getAreaOutlines", "areas", [level],
            {"200": _response("Outlines.", _ref("AreaCollection")), "400": bad},
        )},
        **rounds,
        "/api/areas/supply-demand.geojson": {"get": _op(
            "Per buurt: available m² against m² asked by open needs", "getSupplyDemand", "areas",
            [], {"200": _response("One feature per buurt.", _ref("AreaCollection"))},
        )},
    }  # fmt: skip
    session = {"type": "apiKey", "in": "cookie", "name": "session",
               "description": "The session cookie of a login at /login."}  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "spacematch Amsterdam – JSON API",
            "version": "1.0.0",
            "description": "Vacant municipal property in Amsterdam matched to community "
            'initiatives\' space needs. Errors are ``{"errors": {field: message}}`` with the '
            "status 400 (bad input), 401, 403, 404 or 429. Geometry is RFC 7946 (WGS84 lon/lat). "
            "The OGC API – Features has its own description at /ogc/api. Area boundaries: Bron: "
            "Gemeente Amsterdam.",
            "license": {"name": "EUPL-1.2"},
        },
        "servers": [{"url": server_url}],
        "tags": [{"name": t} for t in ("needs", "matching", "properties", "areas", "meta")],
        "paths": paths,
        "components": {"schemas": _schemas(area_codes), "securitySchemes": {"session": session}},
    }
