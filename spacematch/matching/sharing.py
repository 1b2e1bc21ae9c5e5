"""Shared spaces: groups of two or three initiatives that could share one large space.

A need willing to share is a candidate for a seat of a space shared by ``k`` when it passes every
hard filter on an equal ``k``-th of the space (``rounds.share_view``: area / k, rent / k). A group
of ``k`` candidates is proposed when, together, their minimum areas fit in the space and their
budgets cover its monthly rent. Groups are ranked by the members' summed score, and each comes
with its reasons (areas, budgets, uses). Flask-free.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from spacematch.matching.allocation import score_pairs
from spacematch.matching.index import MatchIndex
from spacematch.matching.rounds import MAX_SHARE, share_view
from spacematch.models import USES

CANDIDATES_PER_SIZE = 12  # best candidates per group size, so at most C(12, 3) = 220 groups


@dataclass(frozen=True)
class GroupProposal:
    property_id: str
    need_ids: tuple[int, ...]
    scores: tuple[float, ...]
    summed_min_area: float
    area: float
    summed_budget: float
    rent: float
    uses: tuple[str, ...]  # the uses the members want that the space allows

    @property
    def score(self) -> float:
        return round(sum(self.scores), 6)


def single_fits(
    index: MatchIndex, property_id: str, weights: Mapping[str, float] | None = None
) -> int:
    """How many open needs fit the space on their own (0: larger than any single fit)."""
    from spacematch.matching.engine import rank_needs

    return len(rank_needs(index, property_id, limit=None, weights=weights))


def group_proposals(
    index: MatchIndex,
    property_id: str,
    willing: set[int] | frozenset[int],
    *,
    weights: Mapping[str, float] | None = None,
    limit: int = 10,
) -> list[GroupProposal]:
    """The best groups of 2-3 willing needs for one space, best summed score first."""
    pos = index.position[property_id]
    area, rent = float(index.area[pos]), float(index.rent[pos])
    space_uses = int(index.uses[pos])
    out: list[GroupProposal] = []
    for k in range(2, MAX_SHARE + 1):
        view = share_view(index, {property_id: k})
        cands: list[tuple[float, int]] = []
        for need_id in sorted(willing):
            if need_id not in index.need_position:
                continue
            scores = score_pairs(view, need_id, [property_id], weights=weights)
            if property_id in scores:
                cands.append((scores[property_id], need_id))
        cands.sort(key=lambda c: (-c[0], c[1]))
        cands = cands[:CANDIDATES_PER_SIZE]
        for combo in itertools.combinations(cands, k):
            members = [index.needs[index.need_position[n]] for _, n in combo]
            summed_min = sum(m.min_area_m2 for m in members)
            summed_budget = sum(m.max_rent_eur_month for m in members)
            if summed_min > area or summed_budget < rent:
                continue
            wanted = {u for m in members for u in m.uses}
            uses = tuple(u for i, u in enumerate(USES) if u in wanted and space_uses >> i & 1)
            out.append(
                GroupProposal(
                    property_id,
                    tuple(n for _, n in combo),
                    tuple(s for s, _ in combo),
                    summed_min,
                    area,
                    summed_budget,
                    rent,
                    uses,
                )
            )
    out.sort(key=lambda g: (-g.score, len(g.need_ids), g.need_ids))
    return out[:limit]
