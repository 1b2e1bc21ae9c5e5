"""``GET``/``PUT /api/needs/<id>/interests?token=T``: an initiative's interests in its fits, in
order of preference (``{"properties": [id, ...]}``). Stored through
``spacematch.domain.interests``, which the allocation rounds read too."""

from __future__ import annotations

import secrets

from flask import Blueprint, jsonify, request

from spacematch.domain import interests
from spacematch.errors import ApiError, NotFound
from spacematch.mail.alerts import fits
from spacematch.matching import NeedQuery
from spacematch.models import Need
from spacematch.web.locale import language
from spacematch.web.matches import MAX_NEED_ID, match_index, match_weights
from spacematch.web.state import state

bp = Blueprint("interests", __name__, url_prefix="/api")
MAX_INTERESTS = 50
TEXT = {
    "need": {"nl": "Deze ruimtevraag bestaat niet.", "en": "No such need."},
    "token": {"nl": "Geen toegang tot deze ruimtevraag.", "en": "No access to this need."},
    "list": {
        "nl": f'Stuur {{"properties": [...]}}: hoogstens {MAX_INTERESTS} object-id\'s.',
        "en": f'Send {{"properties": [...]}}: at most {MAX_INTERESTS} property ids.',
    },
    "unfit": {
        "nl": "Onbekend of niet passend bij deze ruimtevraag: {ids}",
        "en": "Unknown or not fitting this need: {ids}",
    },
}


def _text(key: str, **values: str) -> str:
    lang = language()
    text = TEXT[key].get(lang, TEXT[key]["nl"])
    for name, value in values.items():  # not str.format: the texts hold JSON braces
        text = text.replace("{" + name + "}", value)
    return text


def fitting_ids(need: Need) -> set[str]:
    """The ids of the need's fits (its top 20 and anything scoring 0.6 or more)."""
    if need.status != "open":
        return set()
    return {
        m.property_id
        for m in fits(match_index(current_needs=False), NeedQuery.from_need(need), match_weights())
    }


def _need(need_id: int) -> Need:
    token = request.args.get("token", "")
    need = None
    if need_id <= MAX_NEED_ID:
        with state().store.sessions() as session:
            need = session.get(Need, need_id)
    if need is None:
        raise NotFound({"need": _text("need")})
    if not token or not secrets.compare_digest(token.encode(), need.token.encode()):
        raise ApiError({"token": _text("token")}, status=403)
    return need


@bp.get("/needs/<int:need_id>/interests")
def get_interests(need_id: int):
    need = _need(need_id)
    with state().store.sessions() as session:
        ids = interests.interests_of(session, need.id)
    return jsonify({"need": need.id, "properties": ids})


@bp.put("/needs/<int:need_id>/interests")
def put_interests(need_id: int):
    need = _need(need_id)
    data = request.get_json(silent=True)
    ids = data.get("properties") if isinstance(data, dict) else None
    if (not isinstance(ids, list) or len(ids) > MAX_INTERESTS
            or not all(isinstance(i, str) for i in ids)):  # fmt: skip
        raise ApiError({"properties": _text("list")})
    allowed = fitting_ids(need)
    wrong = [i for i in dict.fromkeys(ids) if i not in allowed]
    if wrong:
        raise ApiError({"properties": _text("unfit", ids=", ".join(wrong))})
    with state().store.session() as session:
        stored = interests.set_interests(session, need.id, ids)
    return jsonify({"need": need.id, "properties": stored})
