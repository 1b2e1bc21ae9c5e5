"""What each mail is about, written into the outbox with its cause. Flask-free.

Payloads are plain data for the templates (``templates/mail/<kind>.txt`` and ``.html``); paths,
never absolute links (the sender makes them absolute from ``BASE_URL``). A payload names only the
recipient's own need and spaces with their municipal department and contact: never another
initiative's contact details.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spacematch.mail.outbox import enqueue, utcnow
from spacematch.models import Layer, Need, NeedMail, Outbox, Property, StatusEvent

STATUS_KINDS = {"in_optie": "status_option", "toegewezen": "status_assigned"}


def mail_settings(session: Session, need_id: int) -> NeedMail:
    """The need's mail row (made with the defaults for a need stored before mail existed)."""
    row = session.get(NeedMail, need_id)
    if row is None:
        row = NeedMail(
            need_id=need_id, language="nl", alerts="daily", introductions=False, reported="",
            unsubscribe_token=secrets.token_urlsafe(32),
        )  # fmt: skip
        session.add(row)
        session.flush()
    return row


def mail_choices(session: Session, need_id: int) -> tuple[str, bool]:
    """The need's alert frequency and consent to introductions, without writing (the defaults
    for a need stored before mail existed)."""
    row = session.get(NeedMail, need_id)
    return ("daily", False) if row is None else (row.alerts, bool(row.introductions))


def property_payload(
    session: Session, prop: Property, layers: dict[str, Layer] | None = None
) -> dict[str, Any]:
    layer = layers.get(prop.layer) if layers is not None else session.get(Layer, prop.layer)
    return {
        "id": prop.id, "name": prop.name or prop.id, "address": prop.address,
        "area_m2": round(prop.area_m2), "rent_eur_month": round(prop.rent_eur_m2_year
                                                                 * prop.area_m2 / 12),
        "available_from": prop.available_from.isoformat(),
        "available_until": prop.available_until.isoformat() if prop.available_until else None,
        "department": prop.department, "contact": prop.contact,
        "source": (layer.title if layer else prop.layer),
        "source_detail": (layer.source if layer else ""),
        "path": f"/properties/{prop.id}",
    }  # fmt: skip


def need_payload(need: Need, settings: NeedMail) -> dict[str, Any]:
    return {
        "need_id": need.id, "initiative": need.initiative, "contact_name": need.contact_name,
        "private_path": f"/needs/{need.token}",
        # Opening the private page with this code proves the mail arrived (the submitter who
        # was redirected to the page has the token, not the code).
        "confirm_path": f"/needs/{need.token}?confirm={settings.unsubscribe_token}",
        "unsubscribe_path": f"/needs/unsubscribe/{settings.unsubscribe_token}",
        "alerts": settings.alerts,
    }  # fmt: skip


def register_need(
    session: Session,
    need_id: int,
    *,
    language: str,
    alerts: str = "daily",
    introductions: bool = False,
    domain: str,
) -> Outbox | None:
    """In the submission's transaction: the need's mail settings and its confirmation mail."""
    settings = mail_settings(session, need_id)
    settings.language, settings.alerts, settings.introductions = language, alerts, introductions
    need = session.get_one(Need, need_id)
    return enqueue(
        session, kind="confirm", dedupe_key=f"confirm:{need_id}", recipient=need.contact_email,
        language=language, payload=need_payload(need, settings), domain=domain, need_id=need_id,
    )  # fmt: skip


def confirm(session: Session, need_id: int, code: str, seen: list[str]) -> bool:
    """Opening the private link from a mail (with its ``code``) confirms the address. ``seen``:
    the fits the page showed, which the first digest then need not repeat. True when this call
    confirmed it."""
    settings = mail_settings(session, need_id)
    if settings.confirmed_at is not None or not secrets.compare_digest(
        code.encode(), settings.unsubscribe_token.encode()
    ):
        return False
    settings.confirmed_at = utcnow()
    if not settings.reported:
        settings.reported = ",".join(seen)
    return True


def lost_links(session: Session, email: str, *, domain: str, now: dt.datetime) -> Outbox | None:
    """One mail with the private links of every open need of ``email`` (None if it has none).
    At most one per address and quarter of an hour (the dedupe key), besides the rate limit."""
    needs = list(session.scalars(
        select(Need).where(Need.contact_email == email, Need.status != "ingetrokken")
        .order_by(Need.id)
    ))  # fmt: skip
    if not needs:
        return None
    language = mail_settings(session, needs[-1].id).language
    slot = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    return enqueue(
        session, kind="lost", dedupe_key=f"lost:{email}:{slot.isoformat()}", recipient=email,
        language=language, domain=domain,
        payload={"needs": [{"initiative": n.initiative, "status": n.status,
                            # the link confirms the address too (it came by mail to it)
                            "private_path": need_payload(n, mail_settings(session, n.id))[
                                "confirm_path"]} for n in needs]},
    )  # fmt: skip


def status_mail(session: Session, event: StatusEvent, *, domain: str) -> list[Outbox]:
    """In the transition's transaction: tell the need's contact that a space was put in option
    for it or assigned to it, and the optioned need's contact that its option was released
    (back to beschikbaar, withdrawn, or assigned to another need)."""
    mails: list[tuple[str, int | None, str]] = []
    if event.to_status in STATUS_KINDS:
        mails.append((STATUS_KINDS[event.to_status], event.need_id, f"status:{event.id}"))
    if event.from_status == "in_optie":
        optioned = session.scalar(
            select(StatusEvent.need_id)
            .where(StatusEvent.property_id == event.property_id,
                   StatusEvent.to_status == "in_optie", StatusEvent.id < event.id)
            .order_by(StatusEvent.id.desc()).limit(1)
        )  # fmt: skip
        if optioned is not None and optioned != event.need_id:
            mails.append(("status_released", optioned, f"status:{event.id}:released"))
    prop = session.get(Property, event.property_id)
    written = []
    for kind, need_id, key in mails:
        need = session.get(Need, need_id) if need_id is not None else None
        if need is None or prop is None:
            continue
        settings = mail_settings(session, need.id)
        payload = {**need_payload(need, settings), "property": property_payload(session, prop),
                   "reason": event.reason}  # fmt: skip
        row = enqueue(
            session, kind=kind, dedupe_key=key, recipient=need.contact_email,
            language=settings.language, payload=payload, domain=domain, need_id=need.id,
            property_id=prop.id,
        )  # fmt: skip
        if row is not None:
            written.append(row)
    return written
