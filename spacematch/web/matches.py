"""Explained matches over JSON: a need's best properties, a property's best candidate needs.

The matching index lives in the app state (``state().index``, an ``IndexCache`` created on
first use), so requests share one index per app and it is rebuilt only when the store's data
version moves. ``match_index()`` is the entry point other views use.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, jsonify, request
from flask_login import current_user

from spacematch.errors import ApiError, NotFound
from spacematch.formatting import number
from spacematch.i18n import N_, gettext
from spacematch.matching import (
    MAX_LIMIT,
    MatchIndex,
    rank_needs,
    rank_properties,
)
from spacematch.matching.criteria import normalise_weights
from spacematch.matching.stored import stored_need
from spacematch.web.auth import has_role, role_required
from spacematch.web.common import whole_number
from spacematch.web.locale import language
from spacematch.web.security import need_token
from spacematch.web.state import state

bp = Blueprint("matches", __name__, url_prefix="/api")
DEFAULT_LIMIT = 20
MAX_NEED_ID = 2**31 - 1
OFFICER_ROLES = ("officer", "admin")

# Key -> Dutch msgid (English in the Babel catalogue).
MESSAGES = {
    "limit": N_("Geef een heel getal van 1 tot en met %(max)s."),
    "priority": N_("Gebruik 1 of 0."),
    "need": N_("Deze ruimtevraag bestaat niet."),
    "property": N_("Dit object bestaat niet."),
    "token": N_("Geen toegang tot deze ruimtevraag."),
}


def _message(key: str, lang: str) -> str:
    if key == "limit":
        return gettext(MESSAGES[key], lang, max=number(MAX_LIMIT, lang))
    return gettext(MESSAGES[key], lang)


def match_index(
    *, current_needs: bool = True, versions: tuple[int, int] | None = None
) -> MatchIndex:
    """The app's current matching index (built on first use, rebuilt after data changes);
    ``current_needs=False`` when only the properties must be current (one need's ranking);
    ``versions`` when the caller read the store's versions with its own query."""
    return state().index.get(current_needs=current_needs, versions=versions)


def match_weights() -> dict[str, float]:
    """``MATCH_WEIGHTS`` from the config, checked (a bad setting fails loudly, not silently)."""
    weights = dict(current_app.config["MATCH_WEIGHTS"])
    normalise_weights(weights)
    return weights


def _limit(lang: str) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    limit = whole_number(raw)
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise ApiError({"limit": _message("limit", lang)})
    return limit


def _flag(name: str, lang: str) -> bool:
    raw = request.args.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ApiError({name: _message(name, lang)})


@bp.get("/needs/<int:need_id>/matches")
def need_matches(need_id: int):
    """A need's best properties. Access: the need's private token, or an officer/admin."""
    lang = language()
    limit = _limit(lang)
    officer = has_role(*OFFICER_ROLES)
    token = need_token()  # ?token=, X-Need-Token or Authorization: Bearer
    if not officer and not token:
        abort(403 if current_user.is_authenticated else 401)
    # An id beyond the column's range (PostgreSQL INTEGER) names no need; SQLite would
    # overflow on one beyond 2**63.
    found = None
    if need_id <= MAX_NEED_ID:
        with state().store.one_statement() as conn:
            found = stored_need(conn, need_id)
    if officer and found is None:
        raise NotFound({"need": _message("need", lang)})
    # A token holder learns nothing about other ids: a missing need and a wrong token get the
    # same 403, and the comparison runs either way.
    stored = found.token if found is not None else secrets.token_urlsafe(32)
    if not officer and (
        not secrets.compare_digest(token.encode(), stored.encode()) or found is None
    ):
        raise ApiError({"token": _message("token", lang)}, status=403)
    assert found is not None  # both branches above raise without a need
    # The need is the request's and other needs are unused: only the properties must be current.
    index = match_index(current_needs=False, versions=found.versions)
    matches = rank_properties(index, found.need, limit=limit, weights=match_weights())
    return jsonify({"need": need_id, "matches": [m.as_json(lang, key="property") for m in matches]})


@bp.get("/properties/<path:property_id>/candidates")
@role_required(*OFFICER_ROLES)
def property_candidates(property_id: str):
    """A property's best open needs, each with its community-economy priority as its own field;
    ``priority=1`` orders by that priority first (the score stays as it is)."""
    lang = language()
    limit = _limit(lang)
    priority = _flag("priority", lang)
    index = match_index()
    if property_id not in index.position:
        raise NotFound({"property": _message("property", lang)})
    matches = rank_needs(
        index, property_id, limit=limit, weights=match_weights(), priority=priority
    )
    from spacematch.domain.interests import interested_in

    with state().store.sessions() as session:
        ranks = interested_in(session, property_id)
    rows = []
    for m in matches:
        row = m.as_json(lang, key="need")
        row["interested"] = m.need_id in ranks
        row["interest_rank"] = ranks.get(m.need_id) if m.need_id is not None else None
        rows.append(row)
    rows.sort(key=lambda r: not r["interested"])  # stable: interested first, in ranking order
    return jsonify({"property": property_id, "matches": rows})
