"""After the draw: accept, refuse (the next on the waiting list) and override (with a
published reason). Flask-free."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spacematch.domain import workflow
from spacematch.matching.round_store.common import (
    OnChange,
    RoundError,
    _text,
)
from spacematch.matching.round_store.draw import (
    _move,
)
from spacematch.models import (
    AllocationRound,
    Need,
    Property,
    RoundAward,
    RoundSpace,
)


def _award(session: Session, award_id: int) -> RoundAward:
    award = session.get(RoundAward, award_id, with_for_update=True)
    if award is None:
        raise RoundError({"award": "no such award"}, 404)
    return award


def _holders(session: Session, property_id: str) -> list[RoundAward]:
    return list(session.scalars(
        select(RoundAward)
        .where(RoundAward.held_property_id == property_id)
        .order_by(RoundAward.seat)
    ))  # fmt: skip


def accept(
    session: Session, award_id: int, *, actor: str, on_change: OnChange = None
) -> RoundAward:
    """The winner accepts: the space becomes ``toegewezen`` once every seat holder accepted (a
    group), and the need's other standing offers go to the next on their waiting lists."""
    award = _award(session, award_id)
    if award.status != "offered":
        raise RoundError({"award": f"this offer is {award.status}"}, 409)
    award.status = "accepted"
    session.flush()
    for other in session.scalars(
        select(RoundAward).where(
            RoundAward.need_id == award.need_id,
            RoundAward.status == "offered",
            RoundAward.id != award.id,
        )
    ).all():
        refuse(session, other.id, reason="accepted another space", actor=actor)
    holders = _holders(session, award.property_id)
    reason = f"toewijzingsronde {award.round_id}: aanbod aanvaard"
    if all(h.status == "accepted" for h in holders):
        _move(
            session, award.property_id, "toegewezen", [h.need_id for h in holders], reason,
            actor, on_change,
        )  # fmt: skip
    else:
        workflow.record(
            session, property_id=award.property_id, need_id=award.need_id, reason=reason,
            actor=actor,
        )  # fmt: skip
    return award


def refuse(
    session: Session, award_id: int, *, reason: str, actor: str, on_change: OnChange = None
) -> RoundAward | None:
    """The winner refuses (a reason is required): the seat goes to the next on the space's
    waiting list who is still open and was not offered it before; returns that new offer."""
    reason = _text(reason or "", "reason")
    if not reason:
        raise RoundError({"reason": "required"})
    award = _award(session, award_id)
    if award.status != "offered":
        raise RoundError({"award": f"this offer is {award.status}"}, 409)
    award.status, award.held_property_id, award.reason = "refused", None, reason
    session.flush()
    return _offer_next(session, award, f"geweigerd: {reason}", actor, on_change)


def _offer_next(
    session: Session, freed: RoundAward, why: str, actor: str, on_change: OnChange = None
) -> RoundAward | None:
    rnd = session.get(AllocationRound, freed.round_id)
    assert rnd is not None  # the award's round_id is a foreign key to it
    inputs = json.loads(rnd.inputs or "{}")
    waiting = inputs.get("draw", {}).get(freed.property_id, {}).get("waiting", [])
    tried = set(
        session.scalars(
            select(RoundAward.need_id).where(
                RoundAward.round_id == freed.round_id,
                RoundAward.property_id == freed.property_id,
            )
        )
    )
    housed = set(
        session.scalars(
            select(RoundAward.need_id).where(
                RoundAward.status == "accepted",
                RoundAward.need_id.in_([w["need"] for w in waiting]),
            )
        )
    )
    nxt = None
    for w in waiting:
        need = session.get(Need, w["need"])
        if w["need"] in tried or w["need"] in housed or need is None or need.status != "open":
            continue
        nxt = w["need"]
        break
    others = [h for h in _holders(session, freed.property_id)]
    prop = session.get(Property, freed.property_id)
    if nxt is None:
        if not others and prop is not None and prop.status == "in_optie":
            workflow.transition(
                session, property_id=freed.property_id, to_status="beschikbaar", need_id=None,
                reason=why + "; wachtlijst leeg", actor=actor, on_change=on_change,
            )  # fmt: skip
        else:
            workflow.record(
                session, property_id=freed.property_id, need_id=freed.need_id, reason=why,
                actor=actor,
            )  # fmt: skip
        return None
    new = RoundAward(
        round_id=freed.round_id, property_id=freed.property_id, seat=freed.seat, need_id=nxt,
        status="offered", held_property_id=freed.property_id, via="waiting_list", reason="",
        actor=actor,
    )  # fmt: skip
    session.add(new)
    session.flush()
    text = f"{why}; aangeboden aan de volgende op de wachtlijst"
    if not others and prop is not None and prop.status == "in_optie":
        workflow.transition(
            session, property_id=freed.property_id, to_status="beschikbaar", need_id=None,
            reason=why, actor=actor, on_change=on_change,
        )  # fmt: skip
        workflow.transition(
            session, property_id=freed.property_id, to_status="in_optie", need_id=nxt,
            reason=text, actor=actor, on_change=on_change,
        )  # fmt: skip
    else:
        workflow.record(
            session, property_id=freed.property_id, need_id=nxt, reason=text, actor=actor
        )
    return new


def override(
    session: Session,
    round_id: int,
    property_id: str,
    *,
    need_id: int,
    reason: str,
    actor: str,
    seat: int = 0,
    on_change: OnChange = None,
) -> RoundAward:
    """The officer sets aside the draw for one seat of a space and offers it to ``need_id``;
    the reason is required and is published beside the result."""
    reason = _text(reason or "", "reason")
    property_id = _text(property_id, "property", limit=200)
    if not reason:
        raise RoundError({"reason": "required"})
    rnd = session.get(AllocationRound, round_id)
    if rnd is None or rnd.status != "drawn":
        raise RoundError({"round": "no drawn round with this id"}, 404)
    space = session.get(RoundSpace, (round_id, property_id))
    if space is None or not 0 <= seat < space.capacity:
        raise RoundError({"property": "not a seat of this round"}, 404)
    need = session.get(Need, need_id)
    if need is None or need.status != "open":
        raise RoundError({"need": "choose an open need"})
    current = session.scalar(
        select(RoundAward)
        .where(RoundAward.held_property_id == property_id, RoundAward.seat == seat)
        .with_for_update()
    )
    if current is not None and current.status == "accepted":
        raise RoundError({"property": "the offer was accepted already"}, 409)
    if current is not None:
        current.status, current.held_property_id = "overridden", None
        session.flush()
    award = RoundAward(
        round_id=round_id, property_id=property_id, seat=seat, need_id=need_id,
        status="offered", held_property_id=property_id, via="override", reason=reason,
        actor=actor,
    )  # fmt: skip
    session.add(award)
    try:
        session.flush()
    except IntegrityError:
        raise RoundError({"property": "this seat is held"}, 409) from None
    text = f"toewijzingsronde {round_id}: afwijking van de loting: {reason}"
    prop = session.get(Property, property_id)
    others = [h for h in _holders(session, property_id) if h.id != award.id]
    if prop is not None and prop.status == "in_optie" and not others:
        workflow.transition(
            session, property_id=property_id, to_status="beschikbaar", need_id=None,
            reason=text, actor=actor, on_change=on_change,
        )  # fmt: skip
    if prop is not None and prop.status == "beschikbaar":
        workflow.transition(
            session, property_id=property_id, to_status="in_optie", need_id=need_id,
            reason=text, actor=actor, on_change=on_change,
        )  # fmt: skip
    else:
        workflow.record(session, property_id=property_id, need_id=need_id, reason=text, actor=actor)
    return award
