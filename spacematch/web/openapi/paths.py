"""The JSON API's OpenAPI paths, and the whole document (``document``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from spacematch.web.openapi.builders import (
    AREA_LEVELS,
    INTEGER,
    JSON,
    PROPERTY_MAX_LIMIT,
    _enum,
    _errors,
    _filter,
    _limit,
    _obj,
    _op,
    _param,
    _property_filters,
    _ref,
    _response,
)
from spacematch.web.openapi.schemas import _schemas


def document(
    *,
    area_codes: Iterable[str],
    server_url: str = "/",
    properties_max_limit: int = PROPERTY_MAX_LIMIT,
) -> dict[str, Any]:
    """The whole description; ``area_codes`` are the store's (the ``areas`` enum)."""
    bad = _errors("A bad parameter or field: ``errors`` names each one.")
    paths: dict[str, Any] = {
        "/api/openapi.json": {"get": _op(
            "This document", "getOpenAPI", "meta", [],
            {"200": _response("OpenAPI 3.0", {"type": "object"})},
        )},
        **_need_paths(bad),
        **_property_paths(bad, properties_max_limit),
        **_area_paths(bad),
        **_round_paths(bad),
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


def _need_paths(bad: dict) -> dict[str, Any]:
    """Declaring a need, its matches and its interests."""
    need_id = _param("need_id", "The need's id.", {**INTEGER, "minimum": 0}, where="path")
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
    return {
        "/api/needs": {"post": post_need},
        "/api/needs/{need_id}/matches": {"get": matches},
        "/api/needs/{need_id}/interests": interests,
    }


def _property_paths(bad: dict, properties_max_limit: int) -> dict[str, Any]:
    """A property's candidates, the property list and the overview map's features."""
    property_id = _param("property_id", "<layer>.<id>", {"type": "string"}, where="path")
    flags = "|".join(
        "".join(f"[{c}{c.upper()}]" for c in w) for w in ("true", "false", "yes", "no")
    )
    priority = _filter(
        "priority", "1, true or yes: order by community-economy priority first (the score is "
        "kept); 0, false, no or empty: by score (case-insensitive).",
        {"type": "string", "pattern": rf"^\s*(?:[01]|{flags})?\s*$"},
    )  # fmt: skip
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
    return {
        "/api/properties/{property_id}/candidates": {"get": candidates},
        "/api/properties": {"get": properties},
        "/api/properties/overview": {"get": overview},
    }


def _area_paths(bad: dict) -> dict[str, Any]:
    """The area picker and the area outlines."""
    q = _param("q", "Part of a name, or a whole code (case-insensitive).", {"type": "string"})
    level = _param("level", "The level.", _enum(AREA_LEVELS, default="buurt"))
    return {
        "/api/areas": {"get": _op(
            "Area picker: areas whose code or name matches", "findAreas", "areas", [q],
            {"200": _response("Up to 20 areas, best first.", _ref("AreaHits"))},
        )},
        "/api/areas.geojson": {"get": _op(
            "Area outlines of one level, simplified to 2 m", "getAreaOutlines", "areas", [level],
            {"200": _response("Outlines.", _ref("AreaCollection")), "400": bad},
        )},
    }  # fmt: skip


def _round_paths(bad: dict) -> dict[str, Any]:
    """Allocation rounds: open, read, draw, override, accept, refuse."""
    round_id = _param("round_id", "The round's id.", {**INTEGER, "minimum": 0}, where="path")
    award_id = _param("award_id", "The award's id.", {**INTEGER, "minimum": 0}, where="path")
    officer = {"401": _errors("Not logged in."),
               "403": _errors("Logged in without the officer role.")}  # fmt: skip
    record = _response("The round's public record.", _ref("RoundRecord"))
    empty_json = {"required": True, "description": "An empty JSON object: state-changing calls "
                  "take application/json only (no cross-site form can send it).",
                  "content": {JSON: {"schema": _obj({})}}}  # fmt: skip
    return {
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
