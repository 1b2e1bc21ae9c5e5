"""An initiative's interest in spaces, in its order of preference. Flask-free.

The allocation rounds (issue 13) read it through ``interests_of`` and ``interested_in``; the
web layer checks that the ids fit the need before calling ``set_interests``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from spacematch.models import Interest


def set_interests(session: Session, need_id: int, property_ids: Sequence[str]) -> list[str]:
    """Replace the need's interests by ``property_ids`` (first = most wanted; repeats dropped).
    Returns the ids as stored."""
    ordered = list(dict.fromkeys(property_ids))
    session.execute(delete(Interest).where(Interest.need_id == need_id))
    session.add_all(
        Interest(need_id=need_id, property_id=pid, rank=rank)
        for rank, pid in enumerate(ordered, start=1)
    )
    session.flush()
    return ordered


def interests_of(session: Session, need_id: int) -> list[str]:
    """The need's property ids, first preference first."""
    return list(session.scalars(
        select(Interest.property_id).where(Interest.need_id == need_id).order_by(Interest.rank)
    ))  # fmt: skip


def interested_in(session: Session, property_id: str) -> dict[int, int]:
    """``{need_id: rank}`` of every need interested in the property."""
    rows = session.execute(
        select(Interest.need_id, Interest.rank).where(Interest.property_id == property_id)
    )
    return {int(need_id): int(rank) for need_id, rank in rows}


def interest_counts(session: Session, property_ids: Sequence[str] | None = None) -> dict[str, int]:
    """``{property_id: number of interested needs}`` (only properties with any)."""
    query = select(Interest.property_id, func.count()).group_by(Interest.property_id)
    if property_ids is not None:
        query = query.where(Interest.property_id.in_(list(property_ids)))
    return {pid: int(n) for pid, n in session.execute(query)}
