"""The draw: the seed revealed, deferred acceptance, the awards and their workflow steps.
Flask-free."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spacematch.domain import workflow
from spacematch.matching.index import MatchIndex
from spacematch.matching.round_store.common import (
    OnChange,
    RoundError,
)
from spacematch.matching.round_store.opening import (
    policy_of,
    preferences,
)
from spacematch.matching.rounds import (
    Application,
    build_applications,
    deferred_acceptance,
    result_record,
)
from spacematch.models import (
    AllocationRound,
    Need,
    Property,
    RoundAward,
    RoundSpace,
)


@dataclass
class Drawn:
    round: AllocationRound
    inputs: dict[str, Any]


def draw_round(
    session: Session,
    index: MatchIndex,
    round_id: int,
    *,
    actor: str,
    today: dt.date | None = None,
    weights: Mapping[str, float] | None = None,
    preference_lists: Mapping[int, Sequence[str]] | None = None,
    on_change: OnChange = None,
) -> Drawn:
    """Draw a round once: claim it, compute eligibility and tiers from the current index, run
    deferred acceptance with the committed seed, freeze the inputs, award and move each won
    space to ``in_optie``. Raises RoundError 404/409 (not found, already drawn, before the
    deadline). ``preference_lists`` replaces the preference source (tests, benchmarks)."""
    rnd = _claim(session, round_id, actor)
    session.refresh(rnd)
    policy = policy_of(rnd)
    today = today or dt.date.today()
    if policy.deadline and today <= dt.date.fromisoformat(policy.deadline):
        raise RoundError({"round": f"interest is open until {policy.deadline}"}, 409)
    capacity = _capacity(session, round_id)
    source = "given"
    if preference_lists is None:
        preference_lists, source = preferences(
            session,
            index,
            list(capacity),
            deadline=policy.deadline,
            weights=weights,
            capacity=capacity,
        )
    willing = set(
        session.scalars(
            select(Need.id).where(Need.willing_to_share.is_(True), Need.status == "open")
        )
    )
    apps = build_applications(
        index, capacity, preference_lists, policy, willing_to_share=willing, weights=weights
    )
    outcome = deferred_acceptance(capacity, apps, rnd.seed)
    inputs = {
        "preference_source": source,
        "spaces": [{"id": s, "capacity": c} for s, c in capacity.items()],
        "applications": [_application_json(a) for a in apps],
        "draw": result_record(outcome),
    }
    rnd.inputs = json.dumps(inputs, sort_keys=True)
    _award_winners(session, round_id, outcome.winners, actor, on_change)
    try:
        session.flush()
    except IntegrityError:
        raise RoundError({"round": "a space of this round is already held"}, 409) from None
    return Drawn(rnd, inputs)


def _claim(session: Session, round_id: int, actor: str) -> AllocationRound:
    """Mark the round drawn, or refuse (404: no such round; 409: drawn already)."""
    # The claim is the transaction's first statement: it takes the write lock (SQLite) or the
    # row lock (PostgreSQL) before anything is read, so a concurrent draw waits, then finds the
    # round drawn. Anything refused below rolls the claim back with the caller's transaction.
    claimed = cast(  # an UPDATE's result is a CursorResult, which has rowcount
        "CursorResult[*tuple[Any, ...]]",
        session.execute(
            update(AllocationRound)
            .where(AllocationRound.id == round_id, AllocationRound.status == "open")
            .values(status="drawn", drawn_by=actor, drawn_at=func.now())
            .execution_options(synchronize_session=False)
        ),
    )
    rnd = session.get(AllocationRound, round_id)
    if rnd is None:
        raise RoundError({"round": "no such round"}, 404)
    if claimed.rowcount != 1:
        raise RoundError({"round": "this round has already been drawn"}, 409)
    return rnd


def _capacity(session: Session, round_id: int) -> dict[str, int]:
    """Seats per space of the round; a space no longer beschikbaar has none."""
    spaces = list(session.scalars(
        select(RoundSpace).where(RoundSpace.round_id == round_id).order_by(RoundSpace.property_id)
    ))  # fmt: skip
    status = dict(
        session.execute(
            select(Property.id, Property.status).where(
                Property.id.in_([s.property_id for s in spaces])
            )
        ).all()
    )
    capacity = {
        s.property_id: (s.capacity if status.get(s.property_id) == "beschikbaar" else 0)
        for s in spaces
    }
    return capacity


def _award_winners(
    session: Session,
    round_id: int,
    won: Mapping[str, Sequence[Any]],
    actor: str,
    on_change: OnChange,
) -> None:
    """Offer each won seat to its winner and move the space to ``in_optie``."""
    reason = f"toewijzingsronde {round_id}: loting"
    for sid, winners in won.items():
        if not winners:
            continue
        for seat, w in enumerate(winners):
            session.add(
                RoundAward(
                    round_id=round_id, property_id=sid, seat=seat, need_id=w.need_id,
                    status="offered", held_property_id=sid, via="draw", reason="", actor=actor,
                )
            )  # fmt: skip
        _move(session, sid, "in_optie", [w.need_id for w in winners], reason, actor, on_change)


def _application_json(a: Application) -> dict[str, Any]:
    return {"need": a.need_id, "preferences": [{"space": s, "tier": a.tiers[s]} for s in a.prefs]}


def _move(
    session: Session,
    property_id: str,
    to_status: str,
    need_ids: list[int],
    reason: str,
    actor: str,
    on_change: OnChange = None,
) -> None:
    """The workflow step for one space (a group: every member in the history)."""
    if len(need_ids) == 1:
        workflow.transition(
            session,
            on_change=on_change,
            property_id=property_id,
            to_status=to_status,
            need_id=need_ids[0],
            reason=reason,
            actor=actor,
        )
    else:
        workflow.transition_group(
            session,
            property_id=property_id,
            to_status=to_status,
            need_ids=need_ids,
            reason=reason,
            actor=actor,
        )
