"""The allocation workflow of a property: beschikbaar -> in_optie -> toegewezen, or ingetrokken.

Every step is written to StatusEvent with the chosen need, a reason, who and when. Allocating a
property houses its need (status ``gehuisvest``), which takes the need out of every other ranking.
Flask-free.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from spacematch.db import bump_data_version
from spacematch.domain.messages import Message, ValidationError
from spacematch.models import Need, Property, StatusEvent

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "beschikbaar": ("in_optie", "toegewezen", "ingetrokken"),
    "in_optie": ("toegewezen", "beschikbaar", "ingetrokken"),
    "toegewezen": ("beschikbaar",),  # the lease ended: the space is offered again
    "ingetrokken": ("beschikbaar",),
}
NEEDS_A_NEED = ("in_optie", "toegewezen")


def allowed_transitions(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def transition(
    session: Session,
    *,
    property_id: str,
    to_status: str,
    need_id: int | None,
    reason: str,
    actor: str,
    on_change: Callable[[Session, StatusEvent], object] | None = None,
) -> StatusEvent:
    """Move a property one step, or raise ValidationError naming what is wrong.

    ``on_change(session, event)`` runs in the same transaction once the step is flushed: the
    status mail's outbox row (``spacematch.mail.messages.status_mail``) commits with the step."""
    prop = session.get(Property, property_id, with_for_update=True)
    if prop is None:
        raise ValidationError({"property": Message("required")})
    errors: dict[str, Message] = {}
    if to_status not in allowed_transitions(prop.status):
        errors["status"] = Message(
            "choice", {"choices": ", ".join(allowed_transitions(prop.status))}
        )
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = Message("required")
    need = None
    if to_status in NEEDS_A_NEED:
        if need_id is None:
            errors["need"] = Message("required")
        else:
            need = session.get(Need, need_id, with_for_update=True)
            if need is None or need.status != "open":
                errors["need"] = Message("need_not_open")
    if errors:
        raise ValidationError(errors)

    if to_status == "toegewezen" and need is not None:
        need.status = "gehuisvest"
    if prop.status == "toegewezen" and to_status == "beschikbaar":
        housed = _current_need(session, property_id)
        if housed is not None and housed.status == "gehuisvest":
            housed.status = "open"
    event = StatusEvent(
        property_id=property_id,
        from_status=prop.status,
        to_status=to_status,
        need_id=need.id if need is not None else None,
        reason=reason,
        actor=actor,
    )
    prop.status = to_status
    session.add(event)
    bump_data_version(session)
    session.flush()
    if on_change is not None:
        on_change(session, event)
    return event


def _current_need(session: Session, property_id: str) -> Need | None:
    """The need of the event that last moved the property to toegewezen."""
    need_id = session.scalar(
        select(StatusEvent.need_id)
        .where(StatusEvent.property_id == property_id, StatusEvent.to_status == "toegewezen")
        .order_by(StatusEvent.id.desc())
        .limit(1)
    )
    return session.get(Need, need_id) if need_id is not None else None


def history(session: Session, property_id: str) -> list[StatusEvent]:
    return list(session.scalars(
        select(StatusEvent).where(StatusEvent.property_id == property_id).order_by(StatusEvent.id)
    ))  # fmt: skip


def transition_group(
    session: Session,
    *,
    property_id: str,
    to_status: str,
    need_ids: list[int],
    reason: str,
    actor: str,
) -> list[StatusEvent]:
    """Move a space shared by several needs one step: one ``transition`` for the first need, and
    one event per further member (same from and to status), so the history names the whole group
    and every member is housed when the space is ``toegewezen``. Checks every member is open."""
    if not need_ids:
        raise ValidationError({"need": Message("required")})
    prop = session.get(Property, property_id, with_for_update=True)
    from_status = prop.status if prop is not None else ""
    others = [session.get(Need, n, with_for_update=True) for n in need_ids[1:]]
    if any(n is None or n.status != "open" for n in others):
        raise ValidationError({"need": Message("need_not_open")})
    events = [
        transition(
            session,
            property_id=property_id,
            to_status=to_status,
            need_id=need_ids[0],
            reason=reason,
            actor=actor,
        )
    ]
    for need in others:
        assert need is not None
        if to_status == "toegewezen":
            need.status = "gehuisvest"
        event = StatusEvent(
            property_id=property_id,
            from_status=from_status,
            to_status=to_status,
            need_id=need.id,
            reason=reason.strip(),
            actor=actor,
        )
        session.add(event)
        events.append(event)
    session.flush()
    return events


def record(
    session: Session, *, property_id: str, need_id: int | None, reason: str, actor: str
) -> StatusEvent:
    """An event that does not move the status (a member of a group accepted, an offer went to
    the next on a waiting list within a shared space): the history still shows it."""
    prop = session.get(Property, property_id)
    status = prop.status if prop is not None else ""
    event = StatusEvent(
        property_id=property_id,
        from_status=status,
        to_status=status,
        need_id=need_id,
        reason=reason.strip(),
        actor=actor,
    )
    session.add(event)
    session.flush()
    return event
