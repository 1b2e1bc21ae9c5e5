"""Allocation rounds' pages: the public ``/toewijzingen`` with its GeoJSON, and the officer's
round page (draw, accept, refuse, override, seats). Thin: parse, call the round store, render."""

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
from spacematch.models import Need, Property, RoundAward
from spacematch.web.auth import role_required
from spacematch.web.common import index_cache, match_weights, whole_number
from spacematch.web.labels import LEGAL_FORM_LABELS
from spacematch.web.locale import language
from spacematch.web.rounds.json_api import (
    OFFICER_ROLES,
    _api_error,
    _draw,
    _StatusMails,
)
from spacematch.web.state import state

bp = Blueprint("rounds", __name__)

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
