"""One need's best properties read from the batch path's (use, buurt) join, with its pruning.

The per-need R-tree query costs time in proportion to the spaces in the search window: ten
times the density means ten times the window hits (282 -> 2,736 per need from 100,000 to
1,000,000 spaces), most of them scored only to lose. Here a need reads the join's sorted slices
instead (``candidates.Join``: contiguous per use and buurt, sorted by area), in up to three
steps:

1. the buurten where the place score can be 1, in the need's own size and rent range (every
   such space scores 1 on size and price): usually enough for a floor, the N-th best total;
2. if not, the other reachable buurten in the same tight range, for a floor;
3. every reachable buurt, cut by ``scoring.prune_limits`` to the area and rent range that can
   still reach the floor, without the spaces read before.

Every space that could enter the top N is read, and only spaces the R-tree path would also see
(the same window, date, size and price limits, on the same float values); the scoring is the
per-need path's own (``engine._score_properties``), so the answer is the R-tree path's exactly:
checked by ``tests/test_matching_slices.py`` and by ``scripts/benchmark.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from spacematch.matching import criteria as crit
from spacematch.matching.candidates import REACH_PAD_M, Join, join_of, spans, touch
from spacematch.matching.engine import _score_properties, _Scored
from spacematch.matching.index import EPOCH_ORDINAL, MatchIndex
from spacematch.matching.need import NeedQuery
from spacematch.matching.places import PlacePlan
from spacematch.matching.scoring import prune_limits

__all__ = ["SLICES_FROM", "rank_by_slices", "slices_pay"]

# Below this many available spaces in the buurten a need can reach, the R-tree window is the
# cheaper read (fewer numpy calls on small arrays). CPU p50 per need, slices / window, in the
# benchmark's city (``scripts/benchmark.py`` reports both, ``per_need_slices_*`` and
# ``per_need_trees_*``): 20,000 spaces 0.46 / 0.27 ms (the reach p50 500 spaces), 100,000
# spaces 0.47 / 0.45 ms (2,600), 1,000,000 spaces 0.63 / 1.92 ms (27,000); choosing per need at
# 4,000 gave 0.27, 0.42 and 0.64 ms.
SLICES_FROM = 4_000


@dataclass
class _Need:
    """The limits one need's reads compare, on the values the R-trees compare."""

    uses: int
    latest: float  # the last day a space may become available
    n_min: float
    n_max: float
    budget: float
    rects: np.ndarray | None  # the window; None: no window (no place rule)


def _reach(j: Join, plan: PlacePlan) -> tuple[np.ndarray, np.ndarray]:
    """Buurt slots the need can reach, and those where its place score can be 1: the batch's
    ``candidates.reach_slots`` for one need, without building its columns."""
    if plan.anywhere:
        every = np.ones(len(j.points), dtype=bool)
        return every, every
    reach = plan.code != crit.EXCLUDED
    best = plan.code == crit.PREFERRED
    d = plan.max_distance_m + REACH_PAD_M
    box = None
    if plan.has_point:
        box = np.array([plan.px - d, plan.py - d, plan.px + d, plan.py + d])
    elif plan.tolerance is not None:
        minx, miny, maxx, maxy = plan.tolerance.bounds
        box = np.array([minx - d, miny - d, maxx + d, maxy + d])
    if box is not None:
        near = touch(j.points, box)
        reach = reach | near
        if plan.has_point:
            best = best | near
    return reach, best


def slices_pay(ix: MatchIndex, plan: PlacePlan) -> bool:
    """Whether reading the join beats the R-tree window for this need (see ``SLICES_FROM``)."""
    j = join_of(ix)
    reach, _ = _reach(j, plan)
    return bool(j.counts[reach].sum() >= SLICES_FROM)


def _read(
    j: Join,
    q: _Need,
    slots: np.ndarray,
    lo: np.ndarray | float,
    hi: np.ndarray | float,
    cap: np.ndarray | float,
) -> np.ndarray:
    """Join rows of these slots with area in [lo, hi], monthly rent <= cap (per slot or for
    all), available by the need's date and inside its window, each space once."""
    if not len(slots):
        return np.empty(0, np.int64)
    nb1 = len(j.points)
    lo_i = np.searchsorted(j.areas, lo, side="left")
    hi_i = np.searchsorted(j.areas, hi, side="right")
    per_slot = np.ndim(cap) > 0
    parts = []
    earlier = 0
    for u, bit in enumerate(crit.USE_BITS.values()):
        if q.uses & bit:
            group = (u * nb1 + slots) * j.steps
            start = np.searchsorted(j.keys, group + lo_i)
            count = np.searchsorted(j.keys, group + hi_i) - start
            idx = spans(start, count)
            ok = j.rent[idx] <= (np.repeat(cap, count) if per_slot else cap)
            ok &= j.avail_from[idx] <= q.latest
            seen = q.uses & earlier  # found already through an earlier use's group
            if seen:
                ok &= (j.uses[idx] & seen) == 0
            parts.append(idx[ok])
        earlier |= bit
    idx = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.empty(0, int)
    if q.rects is not None and len(idx):
        bounds = j.bounds[idx]
        inside = touch(bounds, q.rects[0])
        for rect in q.rects[1:]:
            inside |= touch(bounds, rect)
        idx = idx[inside]
    return idx


def _tight(ix: MatchIndex, q: _Need, pos: np.ndarray) -> np.ndarray:
    """Spaces with size and rent in the need's own range: what a tight read returns."""
    area = ix.area[pos]
    ok: np.ndarray = (area >= q.n_min) & (area <= q.n_max) & (ix.rent[pos] <= q.budget)
    return ok


def _concat(parts: list[_Scored]) -> _Scored:
    if len(parts) == 1:
        return parts[0]
    return _Scored(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Scored)))


def _floor(total: np.ndarray, limit: int) -> float:
    """The ``limit``-th best total, -inf with fewer."""
    n = len(total)
    return float(np.partition(total, n - limit)[n - limit]) if n >= limit else -np.inf


def rank_by_slices(
    ix: MatchIndex, need: NeedQuery, plan: PlacePlan, w: np.ndarray, limit: int
) -> _Scored:
    """The need's fits that can still enter its top ``limit``, scored as the per-need path
    scores them (a superset of the top ``limit``: the caller cuts with ``engine._top``)."""
    j = join_of(ix)
    q = _Need(
        uses=crit.uses_mask(need.uses),
        latest=float(need.needed_from.toordinal() - EPOCH_ORDINAL + crit.AVAILABLE_WITHIN_DAYS),
        n_min=float(need.min_area_m2),
        n_max=float(need.max_area_m2),
        budget=float(need.max_rent_eur_month),
        rects=None if plan.anywhere else plan.rects,
    )
    reach, best = _reach(j, plan)

    def scored(idx: np.ndarray) -> _Scored:
        return _score_properties(ix, need, plan, j.pos[idx], w, from_trees=True)

    parts = [scored(_read(j, q, np.flatnonzero(best), q.n_min, q.n_max, q.budget))]
    floor = _floor(parts[0].total, limit)
    others = reach & ~best
    tight_others = np.isneginf(floor)
    if tight_others:  # step 2: the other buurten's likely winners, for a floor
        parts.append(scored(_read(j, q, np.flatnonzero(others), q.n_min, q.n_max, q.budget)))
        floor = _floor(np.concatenate([p.total for p in parts]), limit)
    slots = np.flatnonzero(reach)
    k = len(slots)
    lo, hi, cap, feasible = prune_limits(
        np.full(k, floor),
        np.where(best[slots], 1.0, 0.5),
        w,
        np.full(k, q.n_min),
        np.full(k, q.n_max),
        np.full(k, q.budget),
    )
    slots, lo, hi, cap = slots[feasible], lo[feasible], hi[feasible], cap[feasible]
    idx = _read(j, q, slots, lo, hi, cap)
    if len(idx):  # drop what the tight reads returned already
        pos = j.pos[idx]
        read = best[ix.buurt[pos]] | tight_others
        idx = idx[~(read & _tight(ix, q, pos))]
    parts.append(scored(idx))
    return _concat(parts)
