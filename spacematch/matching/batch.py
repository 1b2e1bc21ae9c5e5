"""Batch matching: every (need, property) pair at once, with the per-need path's exact answer.

Ranking needs one by one (``engine.rank_properties``) costs a Python round trip, an R-tree call
and a dozen small numpy calls per need; a full re-match of 10,000 needs is then mostly overhead.
Here the needs are taken in chunks, in three steps (one module each):

* ``candidates``: the (use, buurt) join gives a chunk's candidate pairs as contiguous slices of
  the available properties, tested exactly against the date, size, price and window limits the
  R-trees apply (``join=False`` asks the R-trees instead, as a cross-check);
* ``scoring``: the remaining hard filters and the scores, vectorised over the pair arrays;
* ``ranking``: one sort per chunk on a packed integer key (need, score descending, then the
  tie-break: earlier availability, lower id) gives the top N of every need.

Exact pruning, in two passes: the first reads every need's preferred buurten (place score 1).
A need with at least N fits there has a floor, its N-th best total: the second pass (the other
buurten it can reach) only reads the area and rent ranges whose pairs can still reach that floor
(``scoring.prune_limits``), and skips the buurten whose place score cannot (adjacent and
tolerance pairs score at most 0.5 on place).

The result is the same ranking, scores and place kinds as the per-need path, bit for bit
(checked by the batch tests in ``tests/test_matching_properties.py`` and by
``scripts/benchmark.py``'s ``batch_same``). ``rank_new_properties`` is the incremental form for
alerts and rounds: a few new or changed properties against only the needs that can reach their
buurt (the join read backwards).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from spacematch.matching import criteria as crit
from spacematch.matching.candidates import (
    SlotQuery,
    Windows,
    chunk_windows,
    needs_by_slot,
    reach_slots,
    slot_pairs,
    touch,
    tree_pairs,
    unique_sorted,
)
from spacematch.matching.columns import NeedColumns, given_needs, index_needs
from spacematch.matching.engine import _check_limit, _weights
from spacematch.matching.index import MatchIndex
from spacematch.matching.need import NeedQuery
from spacematch.matching.ranking import Ranking, assemble, tie_rank, top_rows
from spacematch.matching.scoring import Pairs, prune_limits, score_pairs

__all__ = ["CHUNK_PAIRS", "Ranking", "batch_rank", "rank_new_properties"]

# Candidate pairs per chunk of needs: bounds the working memory (a few hundred bytes a pair
# across the temporaries) at some 50 MB. Smaller temporaries also come back from the heap on
# the next chunk instead of fresh pages from the kernel: at a million pairs a process's first
# batch ran 15% slower than its later ones (33,800 page faults against 13,300, 100,000 spaces),
# at a quarter million not (9,700 against 900); 1,000,000 spaces took 5% longer.
CHUNK_PAIRS = 250_000


def _query(
    cols: NeedColumns,
    rows: np.ndarray,
    local: np.ndarray,
    slot: np.ndarray,
    *,
    tight: bool = False,
) -> SlotQuery:
    """Reach pairs (chunk row ``local``, buurt ``slot``) with the hard limits, or with ``tight``
    the need's own size and rent range (where size and price score 1)."""
    need = rows[local]
    if tight:
        return SlotQuery(local, slot, cols.n_min[need], cols.n_max[need], cols.budget[need])
    return SlotQuery(
        local, slot, 0.5 * cols.n_min[need], 2.0 * cols.n_max[need], 1.5 * cols.budget[need]
    )


def _in_range(ix: MatchIndex, cols: NeedColumns, who: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Pairs with size and rent within the need's range: what a tight query reads."""
    area = ix.area[pos]
    in_range: np.ndarray = (area >= cols.n_min[who]) & (area <= cols.n_max[who])
    in_range &= ix.rent[pos] <= cols.budget[who]
    return in_range


def _floors(p: Pairs, base: int, span: int, limit: int) -> np.ndarray:
    """Per chunk row: the ``limit``-th best total of these winners (grouped by need row, best
    first), -inf for a row with fewer."""
    counts = np.bincount(p.need - base, minlength=span)
    floor = np.full(span, -np.inf)
    full = np.flatnonzero(counts >= limit)
    first = np.cumsum(counts) - counts
    floor[full] = p.total[first[full] + limit - 1]
    return floor


def _sure_pass(
    ix: MatchIndex,
    cols: NeedColumns,
    rows: np.ndarray,
    pref: tuple[np.ndarray, np.ndarray],
    win: Windows,
    w: np.ndarray,
    limit: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The preferred buurten's pairs that can reach the highest total there is, and per chunk
    row whether the need holds at least ``limit`` *sure best* pairs among them: size and rent
    within range, permanent, step-free as asked, so with every score 1. For such a need these
    pairs are all its first pass would read (the floor is the top total), and of its sure pairs
    only the ``limit`` first by the tie-break are returned."""
    one = np.ones(1)
    top = np.full(len(rows), crit.total_score(w, one, one, one)[0])
    q = _query(cols, rows, *pref)
    q = _pruned(cols, rows, q, top, np.ones(len(q.local), dtype=bool), w)
    who, pos = slot_pairs(ix, cols, rows, q, win)
    sure = (ix.accessible[pos] | ~cols.accessible[who]) & (ix.avail_until[pos] >= crit.PERMANENT)
    sure &= _in_range(ix, cols, who, pos)
    base = int(rows[0])
    full = np.bincount(who[sure] - base, minlength=len(rows)) >= limit
    of_full = full[who - base]
    # Sure pairs all score the top total, so only a need's `limit` first by the tie-break can
    # win: the others are dropped unscored (a need with many buurten holds hundreds).
    at = np.flatnonzero(sure & of_full)
    at = at[np.argsort((who[at] - base) * ix.n + tie_rank(ix)[pos[at]])]
    first = np.searchsorted(who[at], who[at], side="left")
    keep = np.concatenate([at[np.arange(len(at)) - first < limit], np.flatnonzero(~sure & of_full)])
    return who[keep], pos[keep], full


def _pruned(
    cols: NeedColumns,
    rows: np.ndarray,
    q: SlotQuery,
    floor: np.ndarray,
    best: np.ndarray,
    w: np.ndarray,
) -> SlotQuery:
    """The second pass's reach pairs, cut to what can still reach each need's floor
    (``best``, per reach pair: the place score may be 1 there)."""
    need = rows[q.local]
    place_max = np.where(best, 1.0, 0.5)
    lo, hi, cap, feasible = prune_limits(
        floor[q.local], place_max, w, cols.n_min[need], cols.n_max[need], cols.budget[need]
    )
    return SlotQuery(q.local, q.slot, lo, hi, cap).take(feasible)


def _rank_chunk(
    ix: MatchIndex, cols: NeedColumns, rows: np.ndarray, w: np.ndarray, limit: int | None
) -> tuple[Pairs, int]:
    """The winners of need rows ``rows`` (contiguous), grouped by row and best first, and the
    number of candidate pairs read (for the chunk size)."""
    base, span = int(rows[0]), len(rows)
    reach, best = reach_slots(ix, cols, rows)
    win = chunk_windows(ix, cols, rows, reach)
    # The reach pairs (chunk row, buurt slot) once; each pass reads a subset of them.
    local, slot = win.pairs
    if limit is None:
        who, pos = slot_pairs(ix, cols, rows, _query(cols, rows, local, slot), win)
        scored = score_pairs(ix, cols, who, pos, w)
        return scored.take(top_rows(ix, scored, base, span, None)), len(who)
    need = rows[local]
    first = (cols.code[need, slot] == crit.PREFERRED) | cols.anywhere[need]
    sure = first & ~cols.anywhere[need]
    who, pos, full = _sure_pass(ix, cols, rows, (local[sure], slot[sure]), win, w, limit)
    at = first & ~full[local]
    who1, pos1 = slot_pairs(ix, cols, rows, _query(cols, rows, local[at], slot[at]), win)
    who, pos = np.concatenate([who, who1]), np.concatenate([pos, pos1])
    scored = score_pairs(ix, cols, who, pos, w)
    winners = scored.take(top_rows(ix, scored, base, span, limit))
    floor = _floors(winners, base, span, limit)
    rest = ~first
    # Needs with fewer than `limit` fits in their preferred buurten: first the other buurten's
    # pairs with size and rent in range (the likely winners there), for a floor.
    open_rows = np.isneginf(floor)
    at = rest & open_rows[local]
    tight = _query(cols, rows, local[at], slot[at], tight=True)
    who1, pos1 = slot_pairs(ix, cols, rows, tight, win)
    if len(who1):
        winners = Pairs.concat([winners, score_pairs(ix, cols, who1, pos1, w)])
        winners = winners.take(top_rows(ix, winners, base, span, limit))
        floor = _floors(winners, base, span, limit)
    q = _pruned(
        cols,
        rows,
        _query(cols, rows, local[rest], slot[rest]),
        floor,
        best[local[rest], slot[rest]],
        w,
    )
    who2, pos2 = slot_pairs(ix, cols, rows, q, win)
    fresh = ~(open_rows[who2 - base] & _in_range(ix, cols, who2, pos2))  # not read before
    scored = Pairs.concat([winners, score_pairs(ix, cols, who2[fresh], pos2[fresh], w)])
    pairs = len(who) + len(who1) + len(who2)
    return scored.take(top_rows(ix, scored, base, span, limit)), pairs


def _rank_chunk_by_trees(
    ix: MatchIndex,
    cols: NeedColumns,
    rows: np.ndarray,
    w: np.ndarray,
    limit: int | None,
    expect: int,
) -> tuple[Pairs, int]:
    who, pos = tree_pairs(ix, cols, rows, expect)
    scored = score_pairs(ix, cols, who, pos, w)
    return scored.take(top_rows(ix, scored, int(rows[0]), len(rows), limit)), len(who)


def batch_rank(
    index: MatchIndex,
    *,
    needs: Sequence[NeedQuery] | None = None,
    limit: int | None = 20,
    weights: Mapping[str, float] | None = None,
    chunk_pairs: int = CHUNK_PAIRS,
    join: bool = True,
) -> Ranking:
    """Every need's best ``limit`` properties in one pass: what ``rank_properties`` gives need
    by need (same order, scores and place kinds), without the per-need overhead.

    ``needs``: the needs to rank (stored or not); None ranks the index's open needs, in index
    order (by id). ``limit=None`` keeps every fit. Working memory stays bounded: needs are taken
    in chunks of about ``chunk_pairs`` candidate pairs (the chunk size adapts as it goes).
    ``join=False`` takes the candidates from the bulk R-tree query instead of the (use, buurt)
    join, without the pruning: the same answer, slower; kept as a cross-check for the tests.
    """
    _check_limit(limit)
    w = _weights(weights)
    cols = index_needs(index) if needs is None else given_needs(index, needs)
    m = len(cols.needs)
    parts: list[Pairs] = []
    step, start, per_need = 256, 0, 0.0
    while start < m:
        rows = np.arange(start, min(m, start + step))
        if join:
            kept, pairs = _rank_chunk(index, cols, rows, w, limit)
        else:
            kept, pairs = _rank_chunk_by_trees(
                index, cols, rows, w, limit, int(per_need * len(rows))
            )
        parts.append(kept)
        start += len(rows)
        per_need = max(pairs / len(rows), 1.0)
        step = int(np.clip(chunk_pairs / per_need, 16, 16_384))
    return assemble(index, cols, np.arange(m), parts)


def rank_new_properties(
    index: MatchIndex,
    property_ids: Sequence[str],
    *,
    limit: int | None = 20,
    weights: Mapping[str, float] | None = None,
) -> Ranking:
    """The given (new or changed) properties against the open needs whose search windows hold
    them, and no other pair: for alerts after an import and for allocation rounds.

    For every open need with at least one fit among ``property_ids``, its best ``limit`` of
    them, in the full ranking's order and with its scores: exactly ``batch_rank(index,
    limit=None)`` restricted to these properties, then cut at ``limit``. Needs without such a
    fit are left out. Unknown ids raise KeyError; properties that are not available fit nobody.
    To tell whether a new fit entered a need's top N, compare its score and tie-break with the
    N-th row of a ``batch_rank`` of the index before the change.
    """
    _check_limit(limit)
    w = _weights(weights)
    ix, cols = index, index_needs(index)
    pos = unique_sorted(np.array([ix.position[p] for p in property_ids], dtype=np.int64))
    who, pos = _reaching_needs(ix, cols, pos[ix.available[pos]])
    scored = score_pairs(ix, cols, who, pos, w)
    rows = unique_sorted(scored.need)
    return assemble(ix, cols, rows, [scored.take(top_rows(ix, scored, 0, len(cols.needs), limit))])


def _reaching_needs(
    ix: MatchIndex, cols: NeedColumns, pos: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(need row, property position) pairs of these available properties with the open needs
    whose buurt slots, hard limits and window admit them."""
    by = needs_by_slot(ix)
    slot = ix.buurt[pos]
    first, count = by.start[slot], by.start[slot + 1] - by.start[slot]
    idx = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
    who, pos = by.needs[idx], np.repeat(pos, count)
    # ``criteria.basic_filter``'s tests, the same expressions, in stages: each stage gathers
    # only for the pairs the earlier ones kept (most fail on use or size).
    ok = (ix.uses[pos] & cols.uses[who]) != 0
    who, pos = who[ok], pos[ok]
    area = ix.area[pos]
    ok = (area >= 0.5 * cols.n_min[who]) & (area <= 2.0 * cols.n_max[who])
    who, pos = who[ok], pos[ok]
    ok = ix.rent[pos] <= 1.5 * cols.budget[who]
    ok &= ix.avail_from[pos] <= cols.nf[who] + crit.AVAILABLE_WITHIN_DAYS
    ok &= ix.accessible[pos] | ~cols.accessible[who]
    who, pos = who[ok], pos[ok]
    inside = cols.anywhere[who].copy()  # the window, exactly as the trees test it
    b = ix.bounds[pos]
    for k in range(by.rects.shape[1]):
        inside |= touch(b, by.rects[who, k])
    return who[inside], pos[inside]
