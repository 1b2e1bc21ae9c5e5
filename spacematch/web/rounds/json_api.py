"""Allocation rounds' JSON API: officers open, draw, override and record answers; everyone
reads. Thin: parse, call ``spacematch.matching.round_store``, answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select

from spacematch.errors import ApiError
from spacematch.matching import round_store as rs
from spacematch.models import AllocationRound
from spacematch.web.auth import role_required
from spacematch.web.common import index_cache, match_weights
from spacematch.web.state import state

api = Blueprint("rounds_api", __name__, url_prefix="/api")
OFFICER_ROLES = ("officer", "admin")
MAX_ID = 2**31 - 1  # the id columns' range: beyond it no row exists (SQLite overflows at 2**63)


def _known_id(value: int, what: str = "round") -> int:
    """A path id the store can be asked about, else 404 (as a missing row)."""
    if not 0 <= value <= MAX_ID:
        raise ApiError({what: f"no such {what}"}, status=404)
    return value


def json_only(view):
    """State-changing API calls take ``application/json`` only, body or not: a cross-site HTML
    form cannot send it, so the session cookie alone never draws, accepts or overrides."""
    from functools import wraps

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        if not request.is_json:
            raise ApiError({"_": "send Content-Type: application/json"})
        return view(*args, **kwargs)

    return wrapped


def _fields(allowed: set[str]) -> dict[str, Any]:
    """The JSON object body, refusing anything but an object with the allowed fields."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError({"_": "send a JSON object"})
    unknown = set(data) - allowed
    if unknown:
        raise ApiError({str(k): "unknown field" for k in sorted(unknown)})
    return data


def _api_error(err: rs.RoundError) -> ApiError:
    return ApiError(err.errors, status=err.status)


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError({"_": "send a JSON object"})
    return data


# -- API ------------------------------------------------------------------------------------------


@api.post("/rounds")
@role_required(*OFFICER_ROLES)
@json_only
def api_open():
    """Open a round: ``{"properties": [...], "policy": {...}, "capacities": {id: 2}}`` -> 201."""
    data = _json_body()
    unknown = set(data) - {"properties", "policy", "capacities"}
    if unknown:
        raise ApiError({k: "unknown field" for k in sorted(unknown)})
    caps = data.get("capacities", {})
    if "policy" in data and not isinstance(data["policy"], dict):
        raise ApiError({"policy": "must be an object (leave it out for the default)"})
    if not isinstance(caps, dict):
        raise ApiError({"capacities": "must be an object of property id -> 1..3"})
    try:
        with state().store.session() as session:
            rnd = rs.open_round(
                session,
                data.get("properties"),
                data.get("policy"),
                capacities=caps,
                actor=current_user.email,
            )
            out = {"id": rnd.id, "commitment": rnd.commitment}
    except rs.RoundError as err:
        raise _api_error(err) from None
    return jsonify(out), 201


@api.post("/rounds/<int:round_id>/draw")
@role_required(*OFFICER_ROLES)
@json_only
def api_draw(round_id: int):
    """Draw the round (once; a second draw, also at the same moment, is 409)."""
    _known_id(round_id)
    _fields(set())
    _draw(round_id)
    with state().store.sessions() as session:
        return jsonify(rs.public_round(session, round_id))


class _StatusMails:
    """The status mails of a round's workflow steps: written in the step's transaction
    (``on_change``), delivered after the commit."""

    def __init__(self) -> None:
        from spacematch.web.mail import message_domain

        self.domain = message_domain()
        self.rows: list[Any] = []

    def __call__(self, session: Any, event: Any) -> None:
        from spacematch.mail.messages import status_mail

        self.rows.extend(status_mail(session, event, domain=self.domain))

    def deliver(self) -> None:
        from spacematch.web.mail import deliver_now

        if self.rows:
            deliver_now(*self.rows)


def _draw(round_id: int) -> None:
    index = index_cache().get()
    mails = _StatusMails()
    try:
        with state().store.session() as session:
            rs.draw_round(
                session, index, round_id, actor=current_user.email, weights=match_weights(),
                on_change=mails,
            )  # fmt: skip
    except rs.RoundError as err:
        raise _api_error(err) from None
    mails.deliver()


@api.get("/rounds")
def api_list():
    """Every round: id, status, commitment (public)."""
    with state().store.sessions() as session:
        rows = session.execute(
            select(AllocationRound.id, AllocationRound.status, AllocationRound.commitment)
            .order_by(AllocationRound.id)
        ).all()  # fmt: skip
    return jsonify({"rounds": [
        {"id": r.id, "status": r.status, "commitment": r.commitment,
         "url": url_for("rounds_api.api_round", round_id=r.id)}
        for r in rows
    ]})  # fmt: skip


@api.get("/rounds/<int:round_id>")
def api_round(round_id: int):
    """The public record of one round (see ``round_store.public_round``)."""
    _known_id(round_id)
    with state().store.sessions() as session:
        try:
            return jsonify(rs.public_round(session, round_id))
        except rs.RoundError as err:
            raise _api_error(err) from None


@api.post("/rounds/<int:round_id>/override")
@role_required(*OFFICER_ROLES)
@json_only
def api_override(round_id: int):
    """``{"property", "need", "reason", "seat"?}``: offer a seat to another need; published."""
    _known_id(round_id)
    data = _fields({"property", "need", "reason", "seat"})
    need_id, seat = data.get("need"), data.get("seat", 0)
    if not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_ID for v in (need_id, seat)
    ):
        raise ApiError({"need": "need and seat are whole numbers from 0"})
    assert isinstance(need_id, int)  # checked just above
    if not isinstance(data.get("property"), str) or not isinstance(data.get("reason"), str):
        raise ApiError({"property": "property and reason are strings"})
    mails = _StatusMails()
    try:
        with state().store.session() as session:
            award = rs.override(
                session, round_id, str(data.get("property", "")), need_id=need_id,
                reason=str(data.get("reason") or ""), actor=current_user.email, seat=seat,
                on_change=mails,
            )  # fmt: skip
            out = {"award": award.id}
    except rs.RoundError as err:
        raise _api_error(err) from None
    mails.deliver()
    return jsonify(out), 201


@api.post("/rounds/awards/<int:award_id>/accept", defaults={"answer": "accept"})
@api.post("/rounds/awards/<int:award_id>/refuse", defaults={"answer": "refuse"})
@role_required(*OFFICER_ROLES)
@json_only
def api_answer(award_id: int, answer: str):
    """The winner's answer, recorded by the officer: accept, or refuse with ``{"reason"}``."""
    _known_id(award_id, "award")
    data = _fields({"reason"} if answer == "refuse" else set())
    if answer == "refuse" and not isinstance(data.get("reason"), str):
        raise ApiError({"reason": "required, as text"})
    mails = _StatusMails()
    try:
        with state().store.session() as session:
            if answer == "accept":
                rs.accept(session, award_id, actor=current_user.email, on_change=mails)
                out: dict[str, Any] = {"status": "accepted"}
            else:
                nxt = rs.refuse(
                    session, award_id, reason=str(data.get("reason") or ""),
                    actor=current_user.email, on_change=mails,
                )  # fmt: skip
                out = {"status": "refused", "next": None if nxt is None else nxt.need_id}
    except rs.RoundError as err:
        raise _api_error(err) from None
    mails.deliver()
    return jsonify(out)
