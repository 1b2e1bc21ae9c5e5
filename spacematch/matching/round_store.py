"""Allocation rounds in the store: open (policy + seed commitment), draw (deferred acceptance,
awards, workflow), accept, refuse (the next on the waiting list), override (with a published
reason), and the public record anyone can recompute. Flask-free.

Two officers drawing the same round at once: the draw starts with
``UPDATE allocation_round SET status='drawn' WHERE id=? AND status='open'``; the database lets
exactly one of them change the row (a row lock on PostgreSQL, the write lock on SQLite), the
other sees no row changed and gets a conflict. Whatever else goes wrong, the unique constraint
on ``round_award(held_property_id, seat)`` refuses a second holder of any seat of any space.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spacematch.domain import workflow
from spacematch.domain.need_input import CONTROL_CHARACTERS
from spacematch.matching.engine import score_pairs
from spacematch.matching.index import MatchIndex
from spacematch.matching.rounds import (
    MAX_SHARE,
    Application,
    Policy,
    applications_from_public,
    build_applications,
    commitment,
    deferred_acceptance,
    new_seed,
    result_record,
    share_view,
)
from spacematch.models import (
    LEGAL_FORMS,
    AllocationRound,
    Interest,
    Need,
    Property,
    RoundAward,
    RoundSpace,
    StatusEvent,
)

MAX_ROUND_SPACES = 20_000
FALLBACK_INTERESTS = 10  # without stated interests: a need's best fits among the round's spaces
ACTIVE = ("offered", "accepted")


# Called in the transaction of every workflow step a round makes (the web side writes the
# status mails there).
OnChange = Callable[[Session, StatusEvent], object] | None


def _text(value: Any, field: str, *, limit: int = 2000) -> str:
    """A reason or id as given, refused when it cannot be stored (control characters, NUL)."""
    if not isinstance(value, str):
        raise RoundError({field: "must be text"})
    if CONTROL_CHARACTERS.search(value) or len(value) > limit:
        raise RoundError({field: f"at most {limit} characters, no control characters"})
    return value.strip()


class RoundError(ValueError):
    """A request about a round that cannot be done: ``errors`` per field, an HTTP-like status."""

    def __init__(self, errors: dict[str, str], status: int = 400) -> None:
        super().__init__(errors)
        self.errors, self.status = errors, status


# -- opening --------------------------------------------------------------------------------------


def open_round(
    session: Session,
    property_ids: object,  # checked below: a list of property id strings
    policy_data: Mapping[str, Any] | None,
    *,
    capacities: Mapping[str, int] | None = None,
    actor: str,
) -> AllocationRound:
    """Open a round over available spaces with a published policy and a fresh seed commitment.

    A space may be in one undecided round at a time; ``capacities`` offers a space to a group
    of two or three initiatives willing to share it."""
    from spacematch.matching.rounds import PolicyError

    try:
        policy = Policy.from_dict(policy_data, legal_forms=LEGAL_FORMS)
    except PolicyError as err:
        raise RoundError({f"policy.{k}": v for k, v in err.errors.items()}) from None
    if not isinstance(property_ids, list) or not all(isinstance(p, str) for p in property_ids):
        raise RoundError({"properties": "must be a list of property ids"})
    ids = list(dict.fromkeys(_text(p, "properties", limit=200) for p in property_ids))
    if not ids or len(ids) > MAX_ROUND_SPACES:
        raise RoundError({"properties": f"give from 1 to {MAX_ROUND_SPACES} property ids"})
    caps = dict(capacities or {})
    bad_caps = [
        str(p) for p, c in caps.items()
        if p not in ids or isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= MAX_SHARE
    ]  # fmt: skip
    if bad_caps:
        raise RoundError(
            {"capacities": f"1 to {MAX_SHARE} per property of the round: {', '.join(bad_caps)}"}
        )
    rows = {p.id: p.status for p in session.scalars(select(Property).where(Property.id.in_(ids)))}
    unknown = [p for p in ids if p not in rows]
    if unknown:
        raise RoundError({"properties": "unknown: " + ", ".join(unknown[:20])})
    busy = [p for p in ids if rows[p] != "beschikbaar"]
    if busy:
        raise RoundError({"properties": "not beschikbaar: " + ", ".join(busy[:20])}, 409)
    taken = session.scalars(
        select(RoundSpace.property_id)
        .join(AllocationRound, AllocationRound.id == RoundSpace.round_id)
        .where(AllocationRound.status == "open", RoundSpace.property_id.in_(ids))
    ).all()
    if taken:
        raise RoundError({"properties": "already in an open round: " + ", ".join(taken[:20])}, 409)
    _release_stale_holds(session, ids, actor)
    seed = new_seed()
    rnd = AllocationRound(
        status="open",
        policy=json.dumps(policy.to_dict(), sort_keys=True),
        seed=seed,
        commitment=commitment(seed),
        opened_by=actor,
        drawn_by="",
    )
    session.add(rnd)
    session.flush()
    session.add_all(
        RoundSpace(round_id=rnd.id, property_id=p, capacity=int(caps.get(p, 1))) for p in ids
    )
    session.flush()
    return rnd


def _release_stale_holds(session: Session, ids: list[str], actor: str) -> None:
    """A space made beschikbaar again on its property page (the workflow is the authority) may
    still be held by an award of an earlier round: that hold ends here, recorded, so the new
    round can award the space."""
    for award in session.scalars(
        select(RoundAward).where(RoundAward.held_property_id.in_(ids)).with_for_update()
    ).all():
        award.status, award.held_property_id = "released", None
        award.reason = (award.reason + "; " if award.reason else "") + (
            f"vrijgegeven: het pand is weer beschikbaar ({actor})"
        )
    session.flush()


def set_capacity(session: Session, round_id: int, property_id: str, capacity: int) -> RoundSpace:
    """Before the draw: offer a space of an open round to one initiative or to a group of two
    or three willing to share it (each seat an equal share of area and rent)."""
    rnd = session.get(AllocationRound, round_id)
    if rnd is None or rnd.status != "open":
        raise RoundError({"round": "no open round with this id"}, 404)
    space = session.get(RoundSpace, (round_id, property_id))
    if space is None:
        raise RoundError({"property": "not a space of this round"}, 404)
    if not 1 <= capacity <= MAX_SHARE:
        raise RoundError({"capacity": f"from 1 to {MAX_SHARE}"})
    space.capacity = capacity
    session.flush()
    return space


def policy_of(rnd: AllocationRound) -> Policy:
    return Policy.from_dict(json.loads(rnd.policy), legal_forms=LEGAL_FORMS)


# -- preferences ----------------------------------------------------------------------------------


def preferences(
    session: Session,
    index: MatchIndex,
    space_ids: Sequence[str],
    *,
    deadline: str | None = None,
    weights: Mapping[str, float] | None = None,
    capacity: Mapping[str, int] | None = None,
) -> tuple[dict[int, list[str]], str]:
    """The one place the round's preferences come from, and which source it used.

    ``interests``: each need's ordered stated interests (``Interest`` rows, set on the private
    page or through ``PUT /api/needs/<id>/interests``), among the round's spaces, when anyone
    stated one. Otherwise ``fits``: each open need's best
    ``FALLBACK_INTERESTS`` fits among the round's spaces, best score first (a shared space by
    the share of one seat, ``capacity``).
    """
    spaces = set(space_ids)
    rows = session.execute(
        select(Interest.need_id, Interest.property_id)
        .where(Interest.property_id.in_(list(spaces)))
        .order_by(Interest.need_id, Interest.rank)
    ).all()
    out: dict[int, list[str]] = {}
    for need_id, pid in rows:
        out.setdefault(int(need_id), []).append(pid)
    if out:
        return out, "interests"
    ordered = sorted(spaces)
    view = share_view(index, capacity or {})  # a shared space is judged by its seat's share
    out = {}
    for need in index.needs:
        if need.id is None:
            continue
        scores = score_pairs(view, need.id, ordered, weights=weights)
        if scores:
            best = sorted(scores, key=lambda s: (-scores[s], s))[:FALLBACK_INTERESTS]
            out[need.id] = best
    return out, "fits"


# -- the draw -----------------------------------------------------------------------------------


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
    session.refresh(rnd)
    policy = policy_of(rnd)
    today = today or dt.date.today()
    if policy.deadline and today <= dt.date.fromisoformat(policy.deadline):
        raise RoundError({"round": f"interest is open until {policy.deadline}"}, 409)
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
    reason = f"toewijzingsronde {round_id}: loting"
    for sid, winners in outcome.winners.items():
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
    try:
        session.flush()
    except IntegrityError:
        raise RoundError({"round": "a space of this round is already held"}, 409) from None
    return Drawn(rnd, inputs)


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


# -- after the draw: accept, refuse, override ------------------------------------------------


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


# -- the public record ----------------------------------------------------------------------------


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
            d = draw.get(s.property_id, {"winners": [], "waiting": []})
            entry["draw_winners"] = [_with_name(w, initiatives) for w in d["winners"]]
            entry["waiting"] = [_with_name(w, initiatives) for w in d["waiting"]]
            entry["holders"] = [
                {"need": a.need_id, **initiatives.get(a.need_id, {}), "seat": a.seat,
                 "status": a.status, "via": a.via}
                for a in awards
                if a.property_id == s.property_id and a.status in ACTIVE
            ]  # fmt: skip
            entry["overrides"] = [
                {"need": a.need_id, **initiatives.get(a.need_id, {}), "seat": a.seat,
                 "reason": a.reason, "at": a.at.isoformat() if a.at else None}
                for a in awards
                if a.property_id == s.property_id and a.via == "override"
            ]  # fmt: skip
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


__all__ = [
    "RoundError",
    "accept",
    "applications_from_public",
    "decided_rounds",
    "draw_round",
    "open_round",
    "override",
    "preferences",
    "public_round",
    "refuse",
    "set_capacity",
    "verify_stored",
]
