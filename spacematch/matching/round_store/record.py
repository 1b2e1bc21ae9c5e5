"""The public record anyone can recompute, its verification and the rounds' history. Flask-free."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spacematch.domain import workflow
from spacematch.matching.round_store.common import (
    ACTIVE,
    RoundError,
)
from spacematch.models import (
    AllocationRound,
    Need,
    Property,
    RoundAward,
    RoundSpace,
    StatusEvent,
)


def public_round(session: Session, round_id: int) -> dict[str, Any]:
    """Everything anyone needs to check a round, and nothing private: the policy, the
    commitment, the seed after the draw, the frozen inputs (applications with tiers), per space
    the draw's winners and waiting list with tier and lottery number, the current holders and
    every override with its reason. Initiatives by name and legal form only; one that chose
    not to be named by its legal form alone. No contact data."""
    rnd = session.get(AllocationRound, round_id)
    if rnd is None:
        raise RoundError({"round": "no such round"}, 404)
    spaces = list(session.scalars(
        select(RoundSpace).where(RoundSpace.round_id == round_id).order_by(RoundSpace.property_id)
    ))  # fmt: skip
    props = {
        p.id: p
        for p in session.scalars(
            select(Property).where(Property.id.in_([s.property_id for s in spaces]))
        )
    }
    drawn = rnd.status == "drawn"
    inputs = json.loads(rnd.inputs) if drawn and rnd.inputs else {}
    draw = inputs.get("draw", {})
    awards = list(session.scalars(
        select(RoundAward).where(RoundAward.round_id == round_id).order_by(RoundAward.id)
    ))  # fmt: skip
    need_ids = {a["need"] for a in inputs.get("applications", [])} | {a.need_id for a in awards}
    initiatives = _initiatives(session, need_ids)
    out_spaces = []
    for s in spaces:
        p = props.get(s.property_id)
        entry: dict[str, Any] = {
            "id": s.property_id,
            "name": p.name if p else "",
            "address": p.address if p else "",
            "buurt": p.buurt_code if p else None,
            "area_m2": p.area_m2 if p else None,
            "capacity": s.capacity,
        }
        if drawn:
            entry.update(_space_outcome(s.property_id, draw, awards, initiatives))
        out_spaces.append(entry)
    return {
        "id": rnd.id,
        "status": rnd.status,
        "opened_at": rnd.opened_at.isoformat() if rnd.opened_at else None,
        "drawn_at": rnd.drawn_at.isoformat() if rnd.drawn_at else None,
        "policy": json.loads(rnd.policy),
        "commitment": rnd.commitment,
        "commitment_rule": "sha256(bytes.fromhex(seed))",
        "lottery_rule": 'hmac_sha256(key=bytes.fromhex(seed), msg="need:<id>"), lower first',
        "seed": rnd.seed if drawn else None,
        "preference_source": inputs.get("preference_source"),
        "spaces": out_spaces,
        "applications": inputs.get("applications", []) if drawn else [],
        "initiatives": {str(k): v for k, v in sorted(initiatives.items())},
        "events": [
            {
                "property": a.property_id,
                "seat": a.seat,
                "need": a.need_id,
                "status": a.status,
                "via": a.via,
                "reason": a.reason,
                "at": a.at.isoformat() if a.at else None,
            }
            for a in awards
        ],
    }


def _space_outcome(
    property_id: str,
    draw: dict[str, Any],
    awards: list[RoundAward],
    initiatives: dict[int, dict[str, Any]],
) -> dict[str, Any]:
    """A drawn space's part of the record: the draw's winners and waiting list, who holds it
    now, and every override with its reason."""
    d = draw.get(property_id, {"winners": [], "waiting": []})
    return {
        "draw_winners": [_with_name(w, initiatives) for w in d["winners"]],
        "waiting": [_with_name(w, initiatives) for w in d["waiting"]],
        "holders": [
            {"need": a.need_id, **initiatives.get(a.need_id, {}), "seat": a.seat,
             "status": a.status, "via": a.via}
            for a in awards
            if a.property_id == property_id and a.status in ACTIVE
        ],
        "overrides": [
            {"need": a.need_id, **initiatives.get(a.need_id, {}), "seat": a.seat,
             "reason": a.reason, "at": a.at.isoformat() if a.at else None}
            for a in awards
            if a.property_id == property_id and a.via == "override"
        ],
    }  # fmt: skip


def _initiatives(session: Session, need_ids: set[int]) -> dict[int, dict[str, Any]]:
    rows = session.execute(
        select(Need.id, Need.initiative, Need.legal_form, Need.hide_name).where(
            Need.id.in_(sorted(need_ids))
        )
    ).all()
    return {
        r.id: {"initiative": None if r.hide_name else r.initiative, "legal_form": r.legal_form}
        for r in rows
    }


def _with_name(entry: dict[str, Any], initiatives: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {**entry, **initiatives.get(entry["need"], {})}


def verify_stored(session: Session, round_id: int) -> list[str]:
    """``verify-round``: recompute the draw from the round's public record alone."""
    from spacematch.matching.rounds import verify_public

    return verify_public(public_round(session, round_id))


def decided_rounds(session: Session) -> list[AllocationRound]:
    return list(session.scalars(
        select(AllocationRound)
        .where(AllocationRound.status == "drawn")
        .order_by(AllocationRound.id.desc())
    ))  # fmt: skip


def holders_history(session: Session, property_id: str) -> list[StatusEvent]:
    return workflow.history(session, property_id)
