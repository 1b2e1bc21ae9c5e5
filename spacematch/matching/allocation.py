"""Scores of given (need, property) pairs and the allocation proposal over them.

No search window here: the pairs are given (a round's interests, an officer's selection), so
every pair is tested against every hard filter directly, in one vectorised pass. The answer is
the windowed paths' for any space whose buurt code came from the layer import (the windows reach
``SNAP_M`` beyond a buurt, as far as the import snaps a border point;
``tests/test_matching_properties.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from spacematch.matching import criteria as crit
from spacematch.matching.engine import _score_properties, _weights
from spacematch.matching.index import MatchIndex
from spacematch.matching.match import Match, Pair

if TYPE_CHECKING:
    import numpy as np

__all__ = ["PAIR_BLOCK", "propose_allocation", "score_pair_batch", "score_pairs"]

PAIR_BLOCK = 1_000_000  # pairs scored at once by the proposal: bounds its working memory


def score_pairs(
    index: MatchIndex,
    need_id: int,
    property_ids: Sequence[str],
    *,
    weights: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """One open need's total score at each of ``property_ids`` that passes every hard filter
    (unknown ids and pairs that fail a filter are left out). What an allocation round calls
    eligibility; a batch path may replace the body, not the contract. KeyError: not an open
    need of the index."""
    import numpy as np

    npos = index.need_position[need_id]
    pos = np.array(
        sorted({index.position[p] for p in property_ids if p in index.position}), dtype=np.int64
    )
    if not len(pos):
        return {}
    need, plan = index.needs[npos], index.plans[npos]
    s = _score_properties(index, need, plan, pos, _weights(weights))
    return dict(zip(index.ids[s.pos].tolist(), s.total.tolist(), strict=True))


def score_pair_batch(
    index: MatchIndex,
    need_ids: Sequence[int],
    property_ids: Sequence[str],
    *,
    weights: Mapping[str, float] | None = None,
) -> np.ndarray:
    """The total score of each (need, property) pair, NaN where a hard filter fails, the need is
    not open or the property not available; one vectorised pass over all pairs (what a round's
    eligibility needs: 100,000 pairs at once). The same rules, in the same steps, as
    ``_score_needs`` (one property, many needs), with the property side as arrays too;
    ``score_pairs`` gives the same numbers one need at a time."""
    import numpy as np

    n = len(need_ids)
    if len(property_ids) != n:
        raise ValueError("need_ids and property_ids pair up: give them the same length")
    out = np.full(n, np.nan)
    npos = np.array([index.need_position.get(i, -1) for i in need_ids], dtype=np.int64)
    ppos = np.array([index.position.get(p, -1) for p in property_ids], dtype=np.int64)
    rows = np.flatnonzero((npos >= 0) & (ppos >= 0))
    keep, total = _pair_totals(index, npos[rows], ppos[rows], _weights(weights))
    out[rows[keep]] = total
    return out


def _pair_totals(
    ix: MatchIndex, c: np.ndarray, pos: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which (need position, property position) pairs pass every hard filter (indices into the
    pairs), and their totals: ``score_pair_batch`` and the allocation proposal on positions."""
    import numpy as np
    import shapely

    rows = np.flatnonzero(ix.available[pos])
    c, pos = c[rows], pos[rows]
    ok = crit.basic_filter(
        ix.area[pos], ix.rent[pos], ix.uses[pos], ix.avail_from[pos], ix.accessible[pos],
        min_area=ix.n_min[c], max_area=ix.n_max[c], budget=ix.n_budget[c],
        need_uses=ix.n_uses[c], needed_from=ix.n_from[c], need_accessible=ix.n_accessible[c],
    )  # fmt: skip
    ok &= crit.meanwhile_ok(ix.avail_from[pos], ix.avail_until[pos], ix.n_from[c], ix.n_months[c])
    rows, c, pos = rows[ok], c[ok], pos[ok]
    kind = ix.need_code[c, ix.buurt[pos]]
    within = ix.n_has_point[c] & (
        np.hypot(ix.x[pos] - ix.n_px[c], ix.y[pos] - ix.n_py[c]) <= ix.n_dmax[c]
    )
    near = None
    tol = ix.n_tolerance[c]
    rest = (tol != None) & (kind == crit.EXCLUDED)  # noqa: E711 - elementwise on an object array
    if rest.any():
        near = np.full(len(c), np.nan)
        near[rest] = shapely.distance(tol[rest].tolist(), ix.points[pos[rest]])
    kind, place = crit.place_scores(kind, within, near, ix.n_dmax[c])
    anywhere = ix.n_anywhere[c]
    kind[anywhere], place[anywhere] = crit.ANYWHERE, 1.0
    keep = kind != crit.EXCLUDED
    rows, c, pos, place = rows[keep], c[keep], pos[keep], place[keep]
    size = crit.size_score(ix.area[pos], ix.n_min[c], ix.n_max[c])
    price = crit.price_score(ix.rent[pos], ix.n_budget[c])
    return rows, crit.total_score(w, size, price, place)


# -- the allocation proposal --------------------------------------------------------------------


def propose_allocation(
    index: MatchIndex,
    need_ids: Sequence[int],
    property_ids: Sequence[str],
    *,
    weights: Mapping[str, float] | None = None,
    priority_weight: float = 0.0,
) -> list[Pair]:
    """Each property to at most one need and each need to at most one property, maximising the
    summed score (+ ``priority_weight`` x priority) over feasible pairs only.

    Solved exactly with ``linear_sum_assignment`` on the needs x (properties + one "stay
    unassigned" column per need) matrix: unassigned is worth 0, an infeasible pair -1, so the
    optimum never picks an infeasible pair. Needs must be open needs of the index (KeyError).
    """
    import numpy as np

    if not (math.isfinite(priority_weight) and priority_weight >= 0):
        raise ValueError("priority_weight must be a non-negative number")
    w = _weights(weights)
    need_pos = [index.need_position[i] for i in dict.fromkeys(need_ids)]
    prop_pos = np.array(sorted({index.position[p] for p in property_ids}), dtype=np.int64)
    n, m = len(need_pos), len(prop_pos)
    if not n or not m:
        return []
    # Every (need, property) pair vectorised, the rounds' pair scorer, in blocks of needs of
    # about PAIR_BLOCK pairs (300 spaces x 15,000 candidate needs would be 4.5 million).
    flat = np.full(n * m, -1.0)
    ok = np.zeros(n * m, dtype=bool)
    npos = np.array(need_pos, dtype=np.int64)
    step = max(1, PAIR_BLOCK // m)
    for start in range(0, n, step):
        block = npos[start : start + step]
        c, pos = np.repeat(block, m), np.tile(prop_pos, len(block))
        keep, total = _pair_totals(index, c, pos, w)
        local = index.need_preferred[c[keep], index.buurt[pos[keep]]]
        prio = 0.5 * index.n_community[c[keep]] + 0.5 * local
        flat[start * m + keep] = total + priority_weight * prio
        ok[start * m + keep] = True
    value, feasible = flat.reshape(n, m), ok.reshape(n, m)
    from scipy.optimize import linear_sum_assignment  # 0.3 s to import: only when allocating

    rows, cols = linear_sum_assignment(np.hstack([value, np.zeros((n, n))]), maximize=True)
    pairs = []
    for r, col in zip(rows.tolist(), cols.tolist(), strict=True):
        if col >= m or not feasible[r, col]:
            continue
        need, plan = index.needs[need_pos[r]], index.plans[need_pos[r]]
        s = _score_properties(index, need, plan, prop_pos[col : col + 1], w)  # the reasons' parts
        local_r = bool(index.need_preferred[need_pos[r], index.buurt[prop_pos[col]]])
        prio = 0.5 * need.is_community + 0.5 * local_r
        match = Match(
            index,
            need,
            int(prop_pos[col]),
            int(s.kind[0]),
            float(s.total[0]),
            float(s.size[0]),
            float(s.price[0]),
            float(s.place[0]),
            priority=prio,
            community=need.is_community,
            local=local_r,
        )
        pairs.append(
            Pair(
                int(need.id or -1),
                match.property_id,
                match.score,
                prio,
                float(value[r, col]),
                match,
            )
        )
    pairs.sort(key=lambda p: (-p.value, p.need_id))
    return pairs
