"""The initiative's mail pages: submission with its confirmation mail, confirming by opening the
private link, alert frequency, one-click unsubscribe, lost links, interest and introductions.

Every mail is an outbox row written in the transaction of its cause and tried at once after the
commit (``spacematch.web.mail.deliver_now``); ``flask notify`` retries whatever is left.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select

from spacematch.domain import interests
from spacematch.domain.need_parsers import CONTROL_CHARACTERS
from spacematch.domain.needs import NeedInput, NewNeed, create_need
from spacematch.mail import messages
from spacematch.mail.outbox import enqueue, utcnow
from spacematch.models import Introduction, Need, NeedMail, Property
from spacematch.web.locale import language
from spacematch.web.mail import deliver_now, message_domain
from spacematch.web.state import state

bp = Blueprint("needmail", __name__, url_prefix="/needs")

ALERT_LABELS = {
    "daily": _l("dagelijks (hoogstens één mail per dag)"),
    "weekly": _l("wekelijks"),
    "off": _l("uit"),
}


def submit_need(need: NeedInput, *, alerts: str = "daily", introductions: bool = False) -> NewNeed:
    """Store the need, its mail settings and its confirmation mail in one transaction; then
    try the mail at once."""
    with state().store.session() as session:
        new = create_need(session, need)
        row = messages.register_need(
            session, new.id, language=language(), alerts=alerts, introductions=introductions,
            domain=message_domain(),
        )  # fmt: skip
    deliver_now(row)
    return new


def confirm_on_open(need: Need, fits: list[dict]) -> None:
    """Opening the private link from the confirmation mail (``?confirm=``, a code only the mail
    carries) confirms the address."""
    code = request.args.get("confirm", "")
    if not code:
        return
    with state().store.session() as session:
        messages.confirm(session, need.id, code, [f["record"]["id"] for f in fits])


def mail_context(need: Need, fits: list[dict]) -> dict[str, Any]:
    """What the private page's mail and interest partials show."""
    with state().store.sessions() as session:
        settings = messages.mail_settings(session, need.id)
        ranks = {pid: i for i, pid in enumerate(interests.interests_of(session, need.id), 1)}
        names = {f["record"]["id"]: f["record"]["name"] or f["record"]["id"] for f in fits}
        peers: dict[str, list[dict]] = {}
        if settings.introductions:
            sent = {(to_id, pid) for to_id, pid in session.execute(
                select(Introduction.to_need_id, Introduction.property_id)
                .where(Introduction.from_need_id == need.id)
            )}  # fmt: skip
            for pid in ranks:
                for other in _consenting_peers(session, pid, need.id):
                    peers.setdefault(pid, []).append({
                        "id": other.id, "initiative": other.initiative,
                        "introduced": (other.id, pid) in sent,
                    })  # fmt: skip
        session.commit()
    return {
        "mail": {
            "confirmed": settings.confirmed_at is not None, "alerts": settings.alerts,
            "introductions": settings.introductions,
            "choices": [(k, str(v)) for k, v in ALERT_LABELS.items()],
        },
        "interests": {
            "rank": ranks, "peers": peers,
            "ordered": [{"id": pid, "name": names.get(pid, pid)} for pid in ranks],
        },
    }  # fmt: skip


def mail_choices(need_id: int) -> tuple[str, bool]:
    """The need's alert frequency and consent to introductions, for the edit form."""
    with state().store.sessions() as session:
        return messages.mail_choices(session, need_id)


def save_mail_choices(session, need_id: int, alerts: str, introductions: bool) -> None:
    """Store the edit form's mail choices in the transaction that stores the need."""
    settings = messages.mail_settings(session, need_id)
    settings.alerts = alerts
    settings.introductions = introductions


def _consenting_peers(session, property_id: str, need_id: int) -> list[Need]:
    """Open needs interested in the same space whose initiatives consented, as this one did."""
    ids = [n for n in interests.interested_in(session, property_id) if n != need_id]
    if not ids:
        return []
    return list(session.scalars(
        select(Need).join(NeedMail, NeedMail.need_id == Need.id)
        .where(Need.id.in_(ids), Need.status == "open", NeedMail.introductions.is_(True))
        .order_by(Need.id)
    ))  # fmt: skip


def _need(token: str) -> Need:
    with state().store.sessions() as session:
        need = session.scalar(select(Need).where(Need.token == token))
    if need is None or not secrets.compare_digest(need.token, token):
        abort(404)
    return need


def _checked_form() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


@bp.post("/<token>/alerts")
def set_alerts(token: str):
    need = _need(token)
    _checked_form()
    choice = request.form.get("alerts", "")
    if choice not in ALERT_LABELS:
        abort(400)
    with state().store.session() as session:
        save_mail_choices(session, need.id, choice, "introductions" in request.form)
    flash(_l("Je keuze voor berichten is opgeslagen."), "ok")
    return redirect(url_for("needs.private", token=token) + "#alerts")


def _unsubscribed(unsubscribe_token: str) -> Need | None:
    with state().store.session() as session:
        settings = session.scalar(
            select(NeedMail).where(NeedMail.unsubscribe_token == unsubscribe_token)
        )
        if settings is None or not secrets.compare_digest(
            settings.unsubscribe_token, unsubscribe_token
        ):
            return None
        settings.alerts = "off"
        return session.get(Need, settings.need_id)


@bp.route("/unsubscribe/<unsubscribe_token>", methods=["GET", "POST"])
def unsubscribe(unsubscribe_token: str):
    """One step, no login: the mail's link (GET) or the mail client's RFC 8058 one-click POST
    turns this need's alerts off."""
    need = _unsubscribed(unsubscribe_token)
    if need is None:
        abort(404)
    if request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click":
        return "", 204
    return render_template("needs/unsubscribed.html", initiative=need.initiative)


@bp.route("/lost", methods=["GET", "POST"])
def lost():
    """Lost your link? The same answer whether or not the address is known (rate limited)."""
    form = FlaskForm()
    sent = False
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        from email_validator import EmailNotValidError, validate_email

        raw = (request.form.get("email") or "").strip()[:254]
        try:
            email = validate_email(raw, check_deliverability=False).normalized
        except EmailNotValidError:
            email = ""
        row = None
        if email:
            with state().store.session() as session:
                row = messages.lost_links(session, email, domain=message_domain(), now=utcnow())
        deliver_now(row)
        sent = True
    return render_template("needs/lost.html", form=form, sent=sent)


@bp.post("/<token>/interest")
def toggle_interest(token: str):
    """One fit's "we are interested" (add at the end), a step up or down in the order, or
    removal."""
    need = _need(token)
    _checked_form()
    pid = request.form.get("property", "")
    action = request.form.get("action", "add")
    with state().store.session() as session:
        current = interests.interests_of(session, need.id)
        if action == "add" and pid not in current:
            from spacematch.web.interests import fitting_ids

            if pid not in fitting_ids(need):
                abort(400)
            current.append(pid)
        elif action == "remove":
            current = [p for p in current if p != pid]
        elif action in ("up", "down") and pid in current:
            i = current.index(pid)
            j = i - 1 if action == "up" else i + 1
            if 0 <= j < len(current):
                current[i], current[j] = current[j], current[i]
        interests.set_interests(session, need.id, current)
    return redirect(url_for("needs.private", token=token) + "#fits")


@bp.post("/<token>/introduce")
def introduce(token: str):
    """One introduction mail to a consenting initiative interested in the same space."""
    need = _need(token)
    _checked_form()
    pid = request.form.get("property", "")
    to_id = request.form.get("to", "")
    message = (request.form.get("message") or "").strip()[:1000]
    if CONTROL_CHARACTERS.search(message):
        abort(400)
    row = None
    with state().store.session() as session:
        own = messages.mail_settings(session, need.id)
        mine = interests.interests_of(session, need.id)
        peers = {p.id: p for p in _consenting_peers(session, pid, need.id)}
        other = peers.get(int(to_id)) if to_id.isdigit() else None
        if not own.introductions or pid not in mine or other is None:
            abort(400)
        if session.get(Introduction, (need.id, other.id, pid)) is None:
            session.add(Introduction(from_need_id=need.id, to_need_id=other.id, property_id=pid))
            prop = session.get(Property, pid)
            settings = messages.mail_settings(session, other.id)
            payload = {
                **messages.need_payload(other, settings), "sender": need.initiative,
                "reply_to": need.contact_email, "message": message,
                "property": messages.property_payload(session, prop) if prop else {"name": pid},
            }  # fmt: skip
            payload.pop("unsubscribe_path", None)
            row = enqueue(
                session, kind="introduction", dedupe_key=f"intro:{need.id}:{other.id}:{pid}",
                recipient=other.contact_email, language=settings.language, payload=payload,
                domain=message_domain(), need_id=other.id,
            )  # fmt: skip
    deliver_now(row)
    flash(_l("Je kennismakingsmail is verstuurd."), "ok")
    return redirect(url_for("needs.private", token=token) + "#fits")
