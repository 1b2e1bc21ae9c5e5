"""Opening a round (policy + seed commitment), the seats per space and the preferences.
Flask-free."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spacematch.matching.allocation import score_pairs
from spacematch.matching.index import MatchIndex
from spacematch.matching.round_policy import Policy
from spacematch.matching.round_store.common import (
    FALLBACK_INTERESTS,
    MAX_ROUND_SPACES,
    RoundError,
    _text,
)
from spacematch.matching.rounds import (
    MAX_SHARE,
    commitment,
    new_seed,
    share_view,
)
from spacematch.models import (
    LEGAL_FORMS,
    AllocationRound,
    Interest,
    Property,
    RoundAward,
    RoundSpace,
)


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
    from spacematch.matching.round_policy import PolicyError

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
