"""Allocation rounds on the web: the JSON API (officers open, draw, override, record answers;
everyone reads), the public page ``/toewijzingen`` with its GeoJSON, and the officer's round
page. Thin: parse, call ``spacematch.matching.round_store``, render."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from spacematch.errors import ApiError
from spacematch.geojson import feature_collection, geometries_wgs84
from spacematch.matching import round_store as rs
from spacematch.matching.reasons import number
from spacematch.matching.sharing import group_proposals, single_fits
from spacematch.models import AllocationRound, Need, Property, RoundAward
from spacematch.web.auth import role_required
from spacematch.web.common import index_cache, match_weights, whole_number
from spacematch.web.labels import LEGAL_FORM_LABELS
from spacematch.web.locale import language
from spacematch.web.state import state

api = Blueprint("rounds_api", __name__, url_prefix="/api")
bp = Blueprint("rounds", __name__)
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


# -- public pages ---------------------------------------------------------------------------------


def policy_text(policy: dict[str, Any]) -> list[str]:
    """The policy in words, one sentence per rule, in the request's language."""
    lines = []
    for rule in policy.get("tiers", []):
        forms = ", ".join(str(LEGAL_FORM_LABELS.get(f, f)) for f in rule["legal_forms"])
        who = forms or _("alle rechtsvormen")
        if rule["local"]:
            lines.append(
                _(
                    "Voorrang %(tier)s: %(who)s met de buurt of wijk van het pand bij hun "
                    "voorkeursgebieden.",
                    tier=rule["tier"], who=who,
                )
            )  # fmt: skip
        else:
            lines.append(_("Voorrang %(tier)s: %(who)s.", tier=rule["tier"], who=who))
    lines.append(_("Voorrang %(tier)s: alle anderen.", tier=policy.get("other_tier", 1)))
    lines.append(
        _("Wie meedoet: alleen initiatieven die aan alle harde eisen van het pand voldoen.")
    )
    if policy.get("min_score") is not None:
        lines.append(
            _("Minimale score: %(score)s.", score=number(policy["min_score"], language(), 2))
        )
    if policy.get("deadline"):
        lines.append(_("Belangstelling tonen kon tot en met %(date)s.", date=policy["deadline"]))
    lines.append(
        _(
            "Binnen dezelfde voorrang beslist één loting over de hele ronde. Elk initiatief "
            "krijgt het hoogste pand op zijn eigen lijst dat het zo kan krijgen (uitgestelde "
            "acceptatie): eerlijk opgeven loont altijd."
        )
    )
    return lines


def _display(entry: dict[str, Any]) -> str:
    """An initiative as the public sees it: its name, or its legal form alone."""
    legal_form = entry.get("legal_form") or ""  # a str, or None when unknown
    form = LEGAL_FORM_LABELS.get(legal_form, legal_form)
    name = entry.get("initiative")
    return f"{name} ({form})" if name else str(form)


@bp.get("/toewijzingen")
def public_rounds():
    """Decided rounds and their allocations, with the policy in words."""
    with state().store.sessions() as session:
        rounds = [rs.public_round(session, r.id) for r in rs.decided_rounds(session)]
    return render_template(
        "rounds/public.html",
        rounds=rounds,
        policy_text=policy_text,
        display=_display,
    )


@bp.get("/toewijzingen.geojson")
def public_geojson():
    """Every space currently held through a round (offered or accepted) as a point feature."""
    import shapely

    with state().store.sessions() as session:
        rows = session.execute(
            select(RoundAward, Property.x, Property.y, Property.name, Property.address,
                   Need.initiative, Need.legal_form, Need.hide_name)
            .join(Property, Property.id == RoundAward.property_id)
            .join(Need, Need.id == RoundAward.need_id)
            .where(RoundAward.held_property_id.is_not(None))
            .order_by(RoundAward.round_id, RoundAward.property_id, RoundAward.seat)
        ).all()  # fmt: skip
    geoms = geometries_wgs84(list(shapely.to_wkb(shapely.points([(r.x, r.y) for r in rows]))))
    features = [
        {"type": "Feature", "id": r.RoundAward.id, "geometry": g, "properties": {
            "round": r.RoundAward.round_id, "property": r.RoundAward.property_id,
            "name": r.name, "address": r.address, "seat": r.RoundAward.seat,
            "status": r.RoundAward.status, "via": r.RoundAward.via,
            "reason": r.RoundAward.reason if r.RoundAward.via == "override" else "",
            "initiative": None if r.hide_name else r.initiative, "legal_form": r.legal_form,
        }}
        for r, g in zip(rows, geoms, strict=True)
    ]  # fmt: skip
    return jsonify(feature_collection(features))


# -- the officer's round page ---------------------------------------------------------------------


@bp.route("/officer/rounds/<int:round_id>", methods=["GET", "POST"])
@role_required(*OFFICER_ROLES)
def officer_round(round_id: int):
    """One round: draw it, record answers, override with a reason, see group proposals."""
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            _officer_action(round_id, action)
        except ApiError as err:
            for message in err.errors.values():
                flash(str(message), "error")
        return redirect(url_for("rounds.officer_round", round_id=round_id))
    with state().store.sessions() as session:
        try:
            record = rs.public_round(session, round_id)
        except rs.RoundError:
            abort(404)
        awards = {
            (a.property_id, a.seat): a
            for a in session.scalars(
                select(RoundAward).where(
                    RoundAward.round_id == round_id, RoundAward.held_property_id.is_not(None)
                )
            )
        }
        willing = set(session.scalars(
            select(Need.id).where(Need.willing_to_share.is_(True), Need.status == "open")
        ))  # fmt: skip
    groups = {}
    if record["status"] == "open":
        index = index_cache().get()
        for space in record["spaces"]:
            pid = space["id"]
            pos = index.position.get(pid)
            if pos is not None and index.available[pos] and not single_fits(index, pid):
                groups[pid] = group_proposals(index, pid, willing, weights=match_weights())
    return render_template(
        "rounds/officer.html",
        record=record,
        awards=awards,
        groups=groups,
        policy_text=policy_text,
        display=_display,
    )


def _officer_action(round_id: int, action: str) -> None:
    form = request.form
    if action == "draw":
        _draw(round_id)
        flash(_("De loting is gedaan."), "info")
        return
    award_id = whole_number(form.get("award"))
    mails = _StatusMails()
    try:
        with state().store.session() as session:
            if action == "accept" and award_id is not None:
                rs.accept(session, award_id, actor=current_user.email, on_change=mails)
            elif action == "refuse" and award_id is not None:
                reason = form.get("reason", "")
                rs.refuse(
                    session, award_id, reason=reason, actor=current_user.email, on_change=mails
                )
            elif action == "override":
                need_id = whole_number(form.get("need"))
                seat = whole_number(form.get("seat")) or 0
                if need_id is None:
                    raise rs.RoundError({"need": _("Kies een initiatief (nummer).")})
                rs.override(
                    session, round_id, form.get("property", ""), need_id=need_id,
                    reason=form.get("reason", ""), actor=current_user.email, seat=seat,
                    on_change=mails,
                )  # fmt: skip
            elif action == "capacity":
                rs.set_capacity(
                    session, round_id, form.get("property", ""),
                    whole_number(form.get("capacity")) or 1,
                )  # fmt: skip
            else:
                abort(400)
    except rs.RoundError as err:
        raise _api_error(err) from None
    mails.deliver()
