"""Batch matching: every (need, property) pair at once, with the per-need path's exact answer.

Ranking needs one by one (``engine.rank_properties``) costs a Python round trip, an R-tree call
and a dozen small numpy calls per need; a full re-match of 10,000 needs is then mostly overhead.
Here the needs are taken in chunks. A join gives a chunk's candidate pairs: the available
properties grouped by (use, buurt) and sorted by area, so that a need's candidates are a few
contiguous slices (its uses x the buurten it can reach, cut to its size range by binary
search), after which the rent, date and window limits are tested exactly as the R-trees test
them (``join=False`` uses one bulk R-tree call per use tree instead, ``RTree.query_boxes``: the
very boxes ``MatchIndex.property_candidates`` queries). The remaining hard filters and the size,
price and place scores run over the pair arrays, and one sort per chunk on a packed integer
key (need, score descending, then the tie-break rank: earlier availability, then lower id)
gives the top N of every need as contiguous segments. A need that already holds N pairs with
the highest total there is only generates the slices that could tie with them.

The result is the same ranking, scores and place kinds as the per-need path, bit for bit: the
same float expressions run on the same values, only over more rows at once (checked by the
batch tests in ``tests/test_matching_properties.py`` and by ``scripts/benchmark.py``'s
``batch_same``).

``rank_new_properties`` is the incremental form for alerts and rounds: a few new or changed
properties against only the needs that can reach their buurt (the join read backwards).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from spacematch.matching import criteria as crit
from spacematch.matching.engine import _check_limit, _weights
from spacematch.matching.index import EPOCH_ORDINAL, MatchIndex
from spacematch.matching.match import Match
from spacematch.matching.need import NeedQuery
from spacematch.matching.places import PlacePlan

# Candidate pairs per chunk of needs: bounds the working memory (a few hundred bytes a pair
# across the temporaries) at some 200 MB.
CHUNK_PAIRS = 1_000_000
_SCORE_STEPS = 10**crit.SCORE_DECIMALS  # totals are multiples of 1e-6 in [0, 1]


@dataclass(frozen=True)
class Ranking:
    """Ranked pairs as plain arrays: the rows of need ``need_ids[i]`` are
    ``offsets[i]:offsets[i + 1]``, best first. ``positions`` index the ``MatchIndex``'s
    property arrays; ``property_ids`` are the ids. Needs without a fit have an empty segment."""

    need_ids: np.ndarray  # (m,) int64, -1 for a need that is not stored
    offsets: np.ndarray  # (m + 1,) int64
    positions: np.ndarray  # (r,) int64
    property_ids: np.ndarray  # (r,) object (str)
    score: np.ndarray  # (r,) float: the total
    size: np.ndarray
    price: np.ndarray
    place: np.ndarray
    kind: np.ndarray  # (r,) int8: criteria.PREFERRED, POINT, ADJACENT, NEAR or ANYWHERE
    needs: tuple[NeedQuery, ...]  # (m,) the needs ranked, in ``need_ids`` order

    def __len__(self) -> int:
        return len(self.need_ids)

    def segment(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))

    def as_lists(self) -> dict[int, list[tuple[str, float]]]:
        """``{need_id: [(property_id, score), ...]}``, best first."""
        ids, scores = self.property_ids.tolist(), self.score.tolist()
        return {
            int(nid): [(ids[r], scores[r]) for r in range(self.offsets[i], self.offsets[i + 1])]
            for i, nid in enumerate(self.need_ids.tolist())
        }

    def matches(self, index: MatchIndex) -> dict[int, list[Match]]:
        """The same rows as ``Match`` objects (reasons rendered on demand), keyed by need id:
        what ``rematch_all`` returns."""
        pos, kind = self.positions.tolist(), self.kind.tolist()
        total, size, price, place = (
            a.tolist() for a in (self.score, self.size, self.price, self.place)
        )
        out: dict[int, list[Match]] = {}
        for i, need in enumerate(self.needs):
            out[int(self.need_ids[i])] = [
                Match(index, need, pos[r], kind[r], total[r], size[r], price[r], place[r])
                for r in range(int(self.offsets[i]), int(self.offsets[i + 1]))
            ]
        return out


@dataclass
class _Needs:
    """The ranked needs' attributes as columns (one row per need), and their place plans."""

    needs: list[NeedQuery]
    plans: list[PlacePlan]
    ids: np.ndarray
    n_min: np.ndarray
    n_max: np.ndarray
    budget: np.ndarray
    uses: np.ndarray
    nf: np.ndarray
    months: np.ndarray
    accessible: np.ndarray
    has_point: np.ndarray
    px: np.ndarray
    py: np.ndarray
    dmax: np.ndarray
    tolerance: np.ndarray  # object: prepared union of the preferred areas, or None
    anywhere: np.ndarray
    code: np.ndarray  # (m, nb + 1) int8 place kind per buurt position


def _index_needs(ix: MatchIndex) -> _Needs:
    return _Needs(
        ix.needs,
        ix.plans,
        ix.need_ids,
        ix.n_min,
        ix.n_max,
        ix.n_budget,
        ix.n_uses,
        ix.n_from,
        ix.n_months,
        ix.n_accessible,
        ix.n_has_point,
        ix.n_px,
        ix.n_py,
        ix.n_dmax,
        ix.n_tolerance,
        ix.n_anywhere,
        ix.need_code,
    )


def _given_needs(ix: MatchIndex, needs: Sequence[NeedQuery]) -> _Needs:
    needs = list(needs)
    plans = [ix.plan(n) for n in needs]

    def column(get: Callable[[NeedQuery], object], dtype: npt.DTypeLike) -> np.ndarray:
        return np.array([get(n) for n in needs], dtype=dtype)

    nb1 = ix.lookup.n_buurten + 1
    return _Needs(
        needs,
        plans,
        column(lambda n: n.id if n.id is not None else -1, np.int64),
        column(lambda n: n.min_area_m2, float),
        column(lambda n: n.max_area_m2, float),
        column(lambda n: n.max_rent_eur_month, float),
        column(lambda n: crit.uses_mask(n.uses), np.int64),
        column(lambda n: n.needed_from.toordinal() - EPOCH_ORDINAL, np.int64),
        column(lambda n: n.min_months, np.int64),
        column(lambda n: n.accessible, bool),
        np.array([p.has_point for p in plans], dtype=bool),
        np.array([p.px for p in plans], dtype=float),
        np.array([p.py for p in plans], dtype=float),
        np.array([p.max_distance_m for p in plans], dtype=float),
        np.array([p.tolerance for p in plans] + [None], dtype=object)[:-1],
        np.array([p.anywhere for p in plans], dtype=bool),
        np.stack([p.code for p in plans]) if plans else np.zeros((0, nb1), dtype=np.int8),
    )


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (numpy's hash-based ``unique`` is slow on large int arrays)."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def _tie_rank(ix: MatchIndex) -> np.ndarray:
    """Each property's place in the tie-break order (earlier availability, then lower id =
    lower position), kept on the index (immutable, so computed once)."""
    rank = ix.__dict__.get("_batch_tie_rank")
    if rank is None:
        order = np.lexsort((np.arange(ix.n), ix.avail_from))
        rank = np.empty(ix.n, dtype=np.int64)
        rank[order] = np.arange(ix.n)
        ix.__dict__["_batch_tie_rank"] = rank
    return rank


def _window_boxes(cols: _Needs, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 5-D query boxes of these needs (x, y, available_from, area, monthly rent), as
    ``MatchIndex.property_candidates`` builds them, with each box's need row."""
    counts = np.array([len(cols.plans[i].rects) for i in rows.tolist()], dtype=np.int64)
    owner = np.repeat(rows, counts)
    if not len(owner):
        return owner, np.empty((0, 5)), np.empty((0, 5))
    rects = np.concatenate([cols.plans[i].rects for i in rows.tolist()])
    nf = cols.nf[owner].astype(float)
    lows = np.column_stack(
        [
            rects[:, :2],
            np.full(len(owner), -np.inf),
            0.5 * cols.n_min[owner],
            np.full(len(owner), -np.inf),
        ]
    )
    highs = np.column_stack(
        [
            rects[:, 2:],
            nf + crit.AVAILABLE_WITHIN_DAYS,
            2.0 * cols.n_max[owner],
            1.5 * cols.budget[owner],
        ]
    )
    return owner, lows, highs


def _tree_pairs(
    ix: MatchIndex, cols: _Needs, rows: np.ndarray, expect: int
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (need row, property position) pairs of these needs, each pair once: the same
    set ``property_candidates`` gives need by need."""
    owner, lows, highs = _window_boxes(cols, rows[~cols.anywhere[rows]])
    need_parts: list[np.ndarray] = []
    pos_parts: list[np.ndarray] = []
    earlier = 0  # bits of the trees already queried
    for bit, tree in zip(crit.USE_BITS.values(), ix.use_trees, strict=True):
        take = (cols.uses[owner] & bit) != 0
        if take.any():
            found, counts = tree.query_boxes(lows[take], highs[take], expect=expect // 2)
            who = np.repeat(owner[take], counts)
            seen = cols.uses[who] & earlier  # found already through an earlier use's tree
            fresh = (ix.uses[found] & seen) == 0
            need_parts.append(who[fresh])
            pos_parts.append(found[fresh])
        earlier |= bit
    for i in rows[cols.anywhere[rows]].tolist():  # no window: the per-need scan, same answer
        found = ix.property_candidates(cols.plans[i], cols.needs[i])
        need_parts.append(np.full(len(found), i, dtype=np.int64))
        pos_parts.append(found)
    if not need_parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    who, pos = np.concatenate(need_parts), np.concatenate(pos_parts)
    multi = np.bincount(owner, minlength=len(cols.needs))[who] > 1  # overlapping windows repeat
    if multi.any():
        key = _unique(who[multi] * ix.n + pos[multi])
        who = np.concatenate([who[~multi], key // ix.n])
        pos = np.concatenate([pos[~multi], key % ix.n])
    return who, pos


@dataclass
class _Join:
    """Available properties grouped by (use, buurt) and sorted by area within a group: a need's
    candidates are then a few contiguous slices (its uses x the buurten it can reach, cut to
    its size range by binary search), with no tree walk. The attributes the remaining limits
    read are stored in the same order, so the slices read them sequentially. Built once per
    index (immutable)."""

    keys: np.ndarray  # sorted int64: (use bit x (nb + 1) + buurt) x steps + area rank
    pos: np.ndarray  # property position per key
    uses: np.ndarray  # the property's use mask, per key
    rent: np.ndarray  # monthly rent, per key
    avail_from: np.ndarray  # day number, per key
    areas: np.ndarray  # sorted distinct areas: the area rank is the index here
    steps: int  # len(areas) + 1
    points: np.ndarray  # (nb + 1, 4) bbox of each buurt slot's property points (x, y)
    boxes: np.ndarray  # (nb + 1, 4) bbox of each buurt slot's property bounds


def _slot_bbox(
    slot: np.ndarray,
    minx: np.ndarray,
    miny: np.ndarray,
    maxx: np.ndarray,
    maxy: np.ndarray,
    n: int,
) -> np.ndarray:
    box = np.tile(np.array([np.inf, np.inf, -np.inf, -np.inf]), (n, 1))
    np.minimum.at(box[:, 0], slot, minx)
    np.minimum.at(box[:, 1], slot, miny)
    np.maximum.at(box[:, 2], slot, maxx)
    np.maximum.at(box[:, 3], slot, maxy)
    return box


def _join(ix: MatchIndex) -> _Join:
    found: _Join | None = ix.__dict__.get("_batch_join")
    if found is not None:
        return found
    nb1 = ix.lookup.n_buurten + 1
    at = ix.available_positions
    areas = _unique(ix.area[at])
    steps = len(areas) + 1
    keys, pos = [], []
    for j, bit in enumerate(crit.USE_BITS.values()):
        sel = at[(ix.uses[at] & bit) != 0]
        rank = np.searchsorted(areas, ix.area[sel])
        keys.append((j * nb1 + ix.buurt[sel]) * steps + rank)
        pos.append(sel)
    key, p = np.concatenate(keys), np.concatenate(pos)
    order = np.argsort(key, kind="stable")
    p = p[order]
    slot, b = ix.buurt[at], ix.bounds[at]
    found = _Join(
        keys=key[order],
        pos=p,
        uses=ix.uses[p],
        rent=ix.rent[p],
        avail_from=ix.avail_from[p],
        areas=areas,
        steps=steps,
        points=_slot_bbox(slot, ix.x[at], ix.y[at], ix.x[at], ix.y[at], nb1),
        boxes=_slot_bbox(slot, b[:, 0], b[:, 1], b[:, 2], b[:, 3], nb1),
    )
    ix.__dict__["_batch_join"] = found
    return found


# Reach boxes for points and tolerances are padded so float rounding never drops a candidate;
# the exact distance rules run afterwards.
_REACH_PAD_M = 1.0
_EMPTY_BOX = np.array([np.inf, np.inf, -np.inf, -np.inf])


def _touch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Boxes (..., 4) that intersect, edges included (as libspatialindex counts it)."""
    return (
        (a[..., 0] <= b[..., 2])
        & (a[..., 2] >= b[..., 0])
        & (a[..., 1] <= b[..., 3])
        & (a[..., 3] >= b[..., 1])
    )


def _join_pairs(
    ix: MatchIndex, cols: _Needs, rows: np.ndarray, w: np.ndarray, limit: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate (need row, property position) pairs of these needs, each pair once: every pair
    of ``property_candidates``' set that some place rule may admit and that may still reach
    the need's top ``limit``. The window and the date, size and price limits are applied
    exactly, on the very values the trees compare.

    Pruning, exactly: a need with at least ``limit`` *sure best* pairs - in a preferred buurt,
    size and price within range, permanent, step-free as asked, so with the highest total
    there is - can only list pairs that reach that total too; for it the slices are cut to the
    buurten where the place score may be 1 and to the sizes and rents whose scores round to 1.
    """
    reach, best_place = _reach(ix, cols, rows)
    rects = _rects(cols, rows)
    lo, hi, cap = 0.5 * cols.n_min[rows], 2.0 * cols.n_max[rows], 1.5 * cols.budget[rows]
    if limit is None:
        return _slices(ix, cols, rows, reach, rects, lo, hi, cap)
    who, pos = _slices(
        ix, cols, rows, reach & (cols.code[rows] == crit.PREFERRED), rects,
        cols.n_min[rows], cols.n_max[rows], cols.budget[rows],
    )  # fmt: skip
    sure = (ix.accessible[pos] | ~cols.accessible[who]) & (ix.avail_until[pos] >= crit.PERMANENT)
    local = np.searchsorted(rows, who[sure])
    full = np.bincount(local, minlength=len(rows)) >= limit
    if full.any():
        # A score s < 1 loses at least weight x (1 - s) against the best total: once that is
        # over the rounding step the pair cannot tie with the sure best pairs.
        eps = 10.0**-crit.SCORE_DECIMALS
        if w[2] * 0.5 > eps:  # adjacent and near score at most 0.5
            reach[full] &= best_place[full]
        if w[0] > 0:
            slack = eps / w[0]
            lo[full] = cols.n_min[rows[full]] * (1.0 - 0.5 * slack)
            hi[full] = cols.n_max[rows[full]] * (1.0 + slack)
        if w[1] > 0:
            cap[full] = cols.budget[rows[full]] * (1.0 + 0.5 * eps / w[1])
        lo, hi = np.maximum(lo, 0.5 * cols.n_min[rows]), np.minimum(hi, 2.0 * cols.n_max[rows])
        cap = np.minimum(cap, 1.5 * cols.budget[rows])
    return _slices(ix, cols, rows, reach, rects, lo, hi, cap)


def _reach(ix: MatchIndex, cols: _Needs, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The buurt slots each need can reach - preferred or adjacent, or holding a property point
    in the reach box of its point or its tolerance; every slot without place rules - and those
    where the place score may be 1 (preferred, the point's reach, no place rules)."""
    j = _join(ix)
    code = cols.code[rows]
    best = code == crit.PREFERRED
    reach = code != crit.EXCLUDED
    boxes = np.full((len(rows), 4), np.nan)
    for k, i in enumerate(rows.tolist()):
        d = cols.dmax[i] + _REACH_PAD_M
        if cols.has_point[i]:
            boxes[k] = (cols.px[i] - d, cols.py[i] - d, cols.px[i] + d, cols.py[i] + d)
        elif cols.tolerance[i] is not None:
            minx, miny, maxx, maxy = cols.tolerance[i].bounds
            boxes[k] = (minx - d, miny - d, maxx + d, maxy + d)
    some = np.flatnonzero(~np.isnan(boxes[:, 0]))
    if len(some):
        near = _touch(j.points[None, :, :], boxes[some, None, :])
        reach[some] |= near
        point = cols.has_point[rows[some]]
        best[some[point]] |= near[point]
    anywhere = cols.anywhere[rows]
    reach[anywhere] = best[anywhere] = True
    return reach, best


def _rects(cols: _Needs, rows: np.ndarray) -> np.ndarray:
    """(len(rows), width, 4) window rectangles, padded with empty boxes."""
    width = max([len(cols.plans[i].rects) for i in rows.tolist()] + [1])
    rects = np.tile(_EMPTY_BOX, (len(rows), width, 1))
    for k, i in enumerate(rows.tolist()):
        r = cols.plans[i].rects
        rects[k, : len(r)] = r
    return rects


def _slices(
    ix: MatchIndex,
    cols: _Needs,
    rows: np.ndarray,
    reach: np.ndarray,
    rects: np.ndarray,
    lo_area: np.ndarray,
    hi_area: np.ndarray,
    cap: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of the reached slots with area in [lo_area, hi_area], monthly rent <= cap,
    available by the need's date and inside its window (per row of ``rows``)."""
    j = _join(ix)
    nb1 = ix.lookup.n_buurten + 1
    local, slot = np.nonzero(reach)
    # A slot whose property bounds all lie inside one of the need's rectangles needs no
    # window test per pair.
    sb = j.boxes[slot]
    inside = cols.anywhere[rows[local]].copy()
    for k in range(rects.shape[1]):
        r = rects[local, k]
        inside |= (
            (r[:, 0] <= sb[:, 0])
            & (r[:, 1] <= sb[:, 1])
            & (sb[:, 2] <= r[:, 2])
            & (sb[:, 3] <= r[:, 3])
        )
    need = rows[local]
    lo = np.searchsorted(j.areas, lo_area[local], side="left")
    hi = np.searchsorted(j.areas, hi_area[local], side="right")
    budget = cap[local]
    latest = cols.nf[need] + crit.AVAILABLE_WITHIN_DAYS
    who_parts, pos_parts, test_parts = [], [], []
    earlier = 0
    for u, bit in enumerate(crit.USE_BITS.values()):
        s = np.flatnonzero((cols.uses[need] & bit) != 0)
        if len(s):
            group = (u * nb1 + slot[s]) * j.steps
            start = np.searchsorted(j.keys, group + lo[s])
            count = np.searchsorted(j.keys, group + hi[s]) - start
            s, start, count = s[count > 0], start[count > 0], count[count > 0]
            first = np.cumsum(count) - count
            idx = np.repeat(start - first, count) + np.arange(int(count.sum()))
            ok = j.rent[idx] <= np.repeat(budget[s], count)
            ok &= j.avail_from[idx] <= np.repeat(latest[s], count)
            seen = cols.uses[need[s]] & earlier  # found already through an earlier use's group
            if seen.any():
                ok &= (j.uses[idx] & np.repeat(seen, count)) == 0
            hit = np.flatnonzero(ok)
            slice_of = np.repeat(np.arange(len(s)), count)[hit]
            who_parts.append(need[s][slice_of])
            pos_parts.append(j.pos[idx[hit]])
            test_parts.append(np.where(inside[s][slice_of], -1, local[s][slice_of]))
        earlier |= bit
    if not who_parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    who, pos = np.concatenate(who_parts), np.concatenate(pos_parts)
    test = np.concatenate(test_parts)
    check = np.flatnonzero(test >= 0)
    if len(check):  # the window, exactly as the trees test it
        b = ix.bounds[pos[check]]
        hit = np.zeros(len(check), dtype=bool)
        for k in range(rects.shape[1]):
            hit |= _touch(b, rects[test[check], k])
        keep = np.ones(len(who), dtype=bool)
        keep[check[~hit]] = False
        who, pos = who[keep], pos[keep]
    return who, pos


@dataclass
class _Pairs:
    need: np.ndarray  # need rows
    pos: np.ndarray
    kind: np.ndarray
    size: np.ndarray
    price: np.ndarray
    place: np.ndarray
    total: np.ndarray


def _score_pairs(
    ix: MatchIndex, cols: _Needs, who: np.ndarray, pos: np.ndarray, w: np.ndarray
) -> _Pairs:
    """The rules after the window: step-free access, the meanwhile term, place; then scores.
    Mirrors ``engine._score_properties`` expression by expression, over pairs."""
    ok = ix.accessible[pos] | ~cols.accessible[who]
    until = ix.avail_until[pos]
    mw = np.flatnonzero(ok & (until < crit.PERMANENT))
    if len(mw):
        ok[mw] = crit.meanwhile_ok(
            ix.avail_from[pos[mw]], until[mw], cols.nf[who[mw]], cols.months[who[mw]]
        )
    who, pos = who[ok], pos[ok]
    kind = cols.code[who, ix.buurt[pos]]
    dmax = cols.dmax[who]
    within = cols.has_point[who] & (
        np.hypot(ix.x[pos] - cols.px[who], ix.y[pos] - cols.py[who]) <= dmax
    )
    near = None
    tol = cols.tolerance[who]
    far = np.flatnonzero((kind == crit.EXCLUDED) & (tol != None))  # noqa: E711 - object array
    if len(far):
        pts = ix.points[pos[far]]
        close = shapely.dwithin(tol[far], pts, dmax[far])  # the unions are prepared: fast
        near = np.full(len(pos), np.nan)
        near[far[close]] = shapely.distance(tol[far[close]], pts[close])
    kind, place = crit.place_scores(kind, within, near, dmax)
    anywhere = cols.anywhere[who]
    if anywhere.any():
        kind[anywhere], place[anywhere] = crit.ANYWHERE, 1.0
    keep = kind != crit.EXCLUDED
    who, pos, kind, place = who[keep], pos[keep], kind[keep], place[keep]
    size = crit.size_score(ix.area[pos], cols.n_min[who], cols.n_max[who])
    price = crit.price_score(ix.rent[pos], cols.budget[who])
    return _Pairs(who, pos, kind, size, price, place, crit.total_score(w, size, price, place))


def _top_rows(ix: MatchIndex, p: _Pairs, base: int, span: int, limit: int | None) -> np.ndarray:
    """Row indices of each need's best ``limit`` pairs, grouped by need row and best first.

    One sort on a packed key: need row, score descending, tie-break rank (earlier
    availability, then lower id): the order ``engine._top`` gives need by need."""
    steps = np.rint(p.total * _SCORE_STEPS).astype(np.int64)
    rank = _tie_rank(ix)[p.pos]
    if span * (_SCORE_STEPS + 1) * max(ix.n, 1) < 2**62:
        key = ((p.need - base) * (_SCORE_STEPS + 1) + (_SCORE_STEPS - steps)) * ix.n + rank
        order = np.argsort(key, kind="stable")
    else:
        order = np.lexsort((rank, -steps, p.need))
    if limit is None:
        return order
    need = p.need[order]
    start = np.searchsorted(need, need, side="left")  # first row of each row's need
    return order[np.arange(len(order)) - start < limit]


def _assemble(
    ix: MatchIndex, cols: _Needs, rows: np.ndarray, parts: list[tuple[_Pairs, np.ndarray]]
) -> Ranking:
    def cat(name: str, dtype: npt.DTypeLike) -> np.ndarray:
        got = [getattr(p, name)[sel] for p, sel in parts]
        return np.concatenate(got) if got else np.empty(0, dtype=dtype)

    need = cat("need", np.int64)
    pos = cat("pos", np.int64)
    local = np.full(len(cols.needs), -1, dtype=np.int64)
    local[rows] = np.arange(len(rows))
    counts = (
        np.bincount(local[need], minlength=len(rows))
        if len(need)
        else np.zeros(len(rows), np.int64)
    )
    # Chunks come in row order and each is grouped by need, so the rows are already in order
    # when ``rows`` is ascending (it always is here).
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Ranking(
        need_ids=cols.ids[rows].astype(np.int64),
        offsets=offsets,
        positions=pos,
        property_ids=ix.ids[pos],
        score=cat("total", float),
        size=cat("size", float),
        price=cat("price", float),
        place=cat("place", float),
        kind=cat("kind", np.int8),
        needs=tuple(cols.needs[i] for i in rows.tolist()),
    )


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
    cols = _index_needs(index) if needs is None else _given_needs(index, needs)
    m = len(cols.needs)
    parts: list[tuple[_Pairs, np.ndarray]] = []
    step, start, per_need = 256, 0, 0.0
    while start < m:
        rows = np.arange(start, min(m, start + step))
        if join:
            who, pos = _join_pairs(index, cols, rows, w, limit)
        else:
            who, pos = _tree_pairs(index, cols, rows, int(per_need * len(rows)))
        pairs = len(who)
        scored = _score_pairs(index, cols, who, pos, w)
        sel = _top_rows(index, scored, start, len(rows), limit)
        # Keep only the chunk's winners: the scored pairs are the working memory.
        kept = _Pairs(*(getattr(scored, f)[sel] for f in _Pairs.__dataclass_fields__))
        parts.append((kept, np.arange(len(sel))))
        del scored, who, pos
        start += len(rows)
        per_need = max(pairs / len(rows), 1.0)
        step = int(np.clip(chunk_pairs / per_need, 16, 16_384))
    return _assemble(index, cols, np.arange(m), parts)


@dataclass
class _NeedsBySlot:
    """For each buurt slot, the open needs that can reach it (CSR), and every need's window
    rectangles: the reverse of the join, for a few properties against all needs."""

    start: np.ndarray  # (nb + 2,) offsets into ``needs`` per slot
    needs: np.ndarray  # need rows, grouped by slot
    rects: np.ndarray  # (m, width, 4)


def _needs_by_slot(ix: MatchIndex) -> _NeedsBySlot:
    # Kept with the needs list it was built from: ``MatchIndex.with_needs_from`` copies the
    # index (and this cache with it) and then replaces the needs.
    cached = ix.__dict__.get("_batch_needs_by_slot")
    found = cached[1] if cached is not None and cached[0] is ix.needs else None
    if found is None:
        cols = _index_needs(ix)
        rows = np.arange(len(cols.needs))
        reach, _ = _reach(ix, cols, rows)
        slot, need = np.nonzero(reach.T)  # grouped by slot, needs ascending within
        start = np.searchsorted(slot, np.arange(reach.shape[1] + 1))
        found = _NeedsBySlot(start, need.astype(np.int64), _rects(cols, rows))
        ix.__dict__["_batch_needs_by_slot"] = (ix.needs, found)
    return found


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
    ix, cols = index, _index_needs(index)
    pos = _unique(np.array([ix.position[p] for p in property_ids], dtype=np.int64))
    pos = pos[ix.available[pos]]
    by = _needs_by_slot(ix)
    slot = ix.buurt[pos]
    first, count = by.start[slot], by.start[slot + 1] - by.start[slot]
    idx = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
    who, pos = by.needs[idx], np.repeat(pos, count)
    ok = crit.basic_filter(
        ix.area[pos],
        ix.rent[pos],
        ix.uses[pos],
        ix.avail_from[pos],
        ix.accessible[pos],
        min_area=cols.n_min[who],
        max_area=cols.n_max[who],
        budget=cols.budget[who],
        need_uses=cols.uses[who],
        needed_from=cols.nf[who],
        need_accessible=cols.accessible[who],
    )
    who, pos = who[ok], pos[ok]
    inside = cols.anywhere[who].copy()  # the window, exactly as the trees test it
    b = ix.bounds[pos]
    for k in range(by.rects.shape[1]):
        inside |= _touch(b, by.rects[who, k])
    scored = _score_pairs(ix, cols, who[inside], pos[inside], w)
    rows = _unique(scored.need)
    sel = _top_rows(ix, scored, 0, len(cols.needs), limit)
    return _assemble(ix, cols, rows, [(scored, sel)])
