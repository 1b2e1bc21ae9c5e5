"""Candidate (need, property) pairs for many needs at once, each pair once.

The join: the available properties grouped by (use, buurt) and sorted by area within a group, so
that a need's candidates are a few contiguous slices (its uses x the buurt slots it can reach, cut
to an area range by binary search). The rent, date and window limits are then tested exactly on
the very values the R-trees compare. ``tree_pairs`` asks the R-trees instead (one bulk call per
use tree, ``RTree.query_boxes``): the same set, slower, kept as the tests' cross-check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from spacematch.matching import criteria as crit
from spacematch.matching.columns import NeedColumns, index_needs
from spacematch.matching.index import MatchIndex

# Reach boxes for points and tolerances are padded so float rounding never drops a candidate;
# the exact distance rules run afterwards.
REACH_PAD_M = 1.0
_EMPTY_BOX = np.array([np.inf, np.inf, -np.inf, -np.inf])
_NO_PAIRS = (np.empty(0, np.int64), np.empty(0, np.int64))


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (numpy's hash-based ``unique`` is slow on large int arrays)."""
    values = np.sort(values)
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def touch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Boxes (..., 4) that intersect, edges included (as libspatialindex counts it)."""
    return (
        (a[..., 0] <= b[..., 2])
        & (a[..., 2] >= b[..., 0])
        & (a[..., 1] <= b[..., 3])
        & (a[..., 3] >= b[..., 1])
    )


def spans(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The indices start[i] .. start[i] + count[i] - 1 of every span, concatenated."""
    first = np.cumsum(count) - count
    return np.repeat(start - first, count) + np.arange(int(count.sum()))


# -- the (use, buurt) join ----------------------------------------------------------------------


@dataclass
class Join:
    """Available properties grouped by (use, buurt) and sorted by area within a group, with the
    attributes the remaining limits read stored in the same order (read sequentially). Built
    once per index (immutable)."""

    keys: np.ndarray  # sorted int64: (use bit x (nb + 1) + buurt) x steps + area rank
    pos: np.ndarray  # property position per key
    uses: np.ndarray  # the property's use mask, per key
    rent: np.ndarray  # monthly rent, per key
    avail_from: np.ndarray  # day number, per key
    bounds: np.ndarray  # (k, 4) the property's bounds, per key
    areas: np.ndarray  # sorted distinct areas: the area rank is the index here
    steps: int  # len(areas) + 1
    points: np.ndarray  # (nb + 1, 4) bbox of each buurt slot's property points (x, y)
    boxes: np.ndarray  # (nb + 1, 4) bbox of each buurt slot's property bounds
    counts: np.ndarray  # (nb + 1,) available properties per buurt slot


def _slot_bbox(slot: np.ndarray, box: np.ndarray, n: int) -> np.ndarray:
    """(n, 4) bounding box of the boxes (k, 4) per slot; empty slots get an empty box."""
    out = np.tile(_EMPTY_BOX, (n, 1))
    np.minimum.at(out[:, 0], slot, box[:, 0])
    np.minimum.at(out[:, 1], slot, box[:, 1])
    np.maximum.at(out[:, 2], slot, box[:, 2])
    np.maximum.at(out[:, 3], slot, box[:, 3])
    return out


def join_of(ix: MatchIndex) -> Join:
    """The index's join, built on first use and kept on the index."""
    found: Join | None = ix.__dict__.get("_batch_join")
    if found is not None:
        return found
    nb1 = ix.lookup.n_buurten + 1
    at = ix.available_positions
    areas = unique_sorted(ix.area[at])
    steps = len(areas) + 1
    keys, pos = [], []
    for j, bit in enumerate(crit.USE_BITS.values()):
        sel = at[(ix.uses[at] & bit) != 0]
        keys.append((j * nb1 + ix.buurt[sel]) * steps + np.searchsorted(areas, ix.area[sel]))
        pos.append(sel)
    key, p = np.concatenate(keys), np.concatenate(pos)
    order = np.argsort(key, kind="stable")
    p = p[order]
    slot = ix.buurt[at]
    points = np.column_stack([ix.x[at], ix.y[at], ix.x[at], ix.y[at]])
    found = Join(
        keys=key[order],
        pos=p,
        uses=ix.uses[p],
        rent=ix.rent[p],
        avail_from=ix.avail_from[p],
        bounds=ix.bounds[p],
        areas=areas,
        steps=steps,
        points=_slot_bbox(slot, points, nb1),
        boxes=_slot_bbox(slot, ix.bounds[at], nb1),
        counts=np.bincount(slot, minlength=nb1),
    )
    ix.__dict__["_batch_join"] = found
    return found


def reach_slots(ix: MatchIndex, cols: NeedColumns, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """(len(rows), nb + 1) masks: the buurt slots each need can reach - preferred or adjacent,
    or holding a property point in the reach box of its point or its tolerance; every slot
    without place rules - and those where the place score may be 1 (preferred, the point's
    reach, no place rules)."""
    j = join_of(ix)
    code = cols.code[rows]
    best = code == crit.PREFERRED
    reach = code != crit.EXCLUDED
    boxes = np.full((len(rows), 4), np.nan)
    d = cols.dmax[rows] + REACH_PAD_M
    point = cols.has_point[rows]
    if point.any():
        px, py, dp = cols.px[rows[point]], cols.py[rows[point]], d[point]
        boxes[point] = np.column_stack([px - dp, py - dp, px + dp, py + dp])
    tol = ~point & cols.has_tolerance[rows]
    if tol.any():
        dt = d[tol, None]
        boxes[tol] = shapely.bounds(cols.tolerance[rows[tol]]) + np.hstack([-dt, -dt, dt, dt])
    some = np.flatnonzero(~np.isnan(boxes[:, 0]))
    if len(some):
        near = touch(j.points[None, :, :], boxes[some, None, :])
        reach[some] |= near
        point = cols.has_point[rows[some]]
        best[some[point]] |= near[point]
    anywhere = cols.anywhere[rows]
    reach[anywhere] = best[anywhere] = True
    return reach, best


def window_rects(cols: NeedColumns, rows: np.ndarray) -> np.ndarray:
    """(len(rows), width, 4) window rectangles, padded with empty boxes."""
    width = max(1, int(cols.width[rows].max()) if len(rows) else 0)
    return cols.rects[rows, :width]


@dataclass
class SlotQuery:
    """Reach pairs to read from the join: need ``local`` (a row of the chunk) in buurt slot
    ``slot``, with area in [lo_area, hi_area] and monthly rent <= cap, per pair."""

    local: np.ndarray
    slot: np.ndarray
    lo_area: np.ndarray
    hi_area: np.ndarray
    cap: np.ndarray

    def take(self, keep: np.ndarray) -> SlotQuery:
        return SlotQuery(
            *(a[keep] for a in (self.local, self.slot, self.lo_area, self.hi_area, self.cap))
        )


# Window tests per (need, buurt slot), see ``Windows``.
NO_PAIRS, INSIDE, EVERY_RECT = -3, -2, -1


@dataclass
class Windows:
    """A chunk's window rectangles, and per (chunk row, buurt slot) the window test its pairs
    need: ``NO_PAIRS`` (no rectangle touches the slot's property bounds), ``INSIDE`` (every
    property bound of the slot lies inside one rectangle, or the need has no window: no test),
    k >= 0 (rectangle k is the only one touching the slot: test that one) or ``EVERY_RECT``."""

    rects: np.ndarray  # (span, width, 4)
    test: np.ndarray  # (span, nb + 1) int16
    pairs: tuple[np.ndarray, np.ndarray]  # the reach pairs with a rectangle: (rows, slots)


def chunk_windows(
    ix: MatchIndex, cols: NeedColumns, rows: np.ndarray, reach: np.ndarray
) -> Windows:
    """The window tests of the reach pairs (``reach``: chunk rows x buurt slots)."""
    j = join_of(ix)
    rects = window_rects(cols, rows)
    local, slot = np.nonzero(reach)
    sb = j.boxes[slot]
    inside = cols.anywhere[rows[local]].copy()
    count = np.zeros(len(local), dtype=np.int64)  # rectangles touching the slot
    only = np.zeros(len(local), dtype=np.int64)  # the last of them
    width = cols.width[rows][local]
    for k in range(rects.shape[1]):
        at = np.flatnonzero(width > k) if k else np.arange(len(local))  # mostly 1 or 2
        r, b = np.ascontiguousarray(rects[:, k])[local[at]], sb[at]
        inside[at] |= (
            (r[:, 0] <= b[:, 0])
            & (r[:, 1] <= b[:, 1])
            & (b[:, 2] <= r[:, 2])
            & (b[:, 3] <= r[:, 3])
        )
        hit = at[touch(b, r)]
        count[hit] += 1
        only[hit] = k
    code = np.where(count == 1, only, np.where(count > 0, EVERY_RECT, NO_PAIRS))
    test = np.full(reach.shape, NO_PAIRS, dtype=np.int16)
    kind = np.where(inside, INSIDE, code)
    test[local, slot] = kind
    some = kind != NO_PAIRS
    return Windows(rects, test, (local[some], slot[some]))


def slot_pairs(
    ix: MatchIndex, cols: NeedColumns, rows: np.ndarray, q: SlotQuery, win: Windows
) -> tuple[np.ndarray, np.ndarray]:
    """(need row, property position) pairs of the queried slots: available by the need's date,
    inside its window and within the query's area and rent limits, each pair once."""
    j = join_of(ix)
    window = win.test[q.local, q.slot]
    if (window == NO_PAIRS).any():
        keep = window != NO_PAIRS
        q, window = q.take(keep), window[keep]
    if not len(q.local):
        return _NO_PAIRS
    nb1 = ix.lookup.n_buurten + 1
    need = rows[q.local]
    lo = np.searchsorted(j.areas, q.lo_area, side="left")
    hi = np.searchsorted(j.areas, q.hi_area, side="right")
    latest = cols.nf[need] + crit.AVAILABLE_WITHIN_DAYS
    who_parts, idx_parts, of_parts = [], [], []
    earlier = 0
    for u, bit in enumerate(crit.USE_BITS.values()):
        s = np.flatnonzero(((cols.uses[need] & bit) != 0) & (lo < hi))
        if len(s):
            group = (u * nb1 + q.slot[s]) * j.steps
            # Searched in ascending order, the binary searches walk the keys once instead of
            # jumping about them: several times faster (the order of the pairs is free).
            first = group + lo[s]
            order = np.argsort(first)
            s, group, first = s[order], group[order], first[order]
            start = np.searchsorted(j.keys, first)
            count = np.searchsorted(j.keys, group + hi[s]) - start
            s, start, count = s[count > 0], start[count > 0], count[count > 0]
            idx = spans(start, count)
            ok = j.rent[idx] <= np.repeat(q.cap[s], count)
            ok &= j.avail_from[idx] <= np.repeat(latest[s], count)
            seen = cols.uses[need[s]] & earlier  # found already through an earlier use's group
            if seen.any():
                ok &= (j.uses[idx] & np.repeat(seen, count)) == 0
            hit = np.flatnonzero(ok)
            of = s[np.repeat(np.arange(len(s)), count)[hit]]  # the reach pair of each hit
            who_parts.append(need[of])
            idx_parts.append(idx[hit])
            of_parts.append(of)
        earlier |= bit
    if not who_parts:
        return _NO_PAIRS
    who, idx = np.concatenate(who_parts), np.concatenate(idx_parts)
    keep = _in_window(j.bounds, idx, np.concatenate(of_parts), window, q.local, win.rects)
    if keep is not None:
        who, idx = who[keep], idx[keep]
    return who, j.pos[idx]


def _in_window(
    bounds: np.ndarray,
    idx: np.ndarray,
    of: np.ndarray,
    window: np.ndarray,
    local: np.ndarray,
    rects: np.ndarray,
) -> np.ndarray | None:
    """Which pairs (join rows ``idx`` of reach pairs ``of``) lie in their need's window,
    exactly as the trees test it (see ``Windows``). None: all do."""
    test = window[of]
    check = np.flatnonzero(test != INSIDE)
    if not len(check):
        return None
    keep = np.ones(len(idx), dtype=bool)
    one = check[test[check] >= 0]
    if len(one):
        r = rects[local[of[one]], test[one]]
        keep[one] = touch(bounds[idx[one]], r)
    every = check[test[check] == EVERY_RECT]
    if len(every):
        b, r = bounds[idx[every]], rects[local[of[every]]]
        hit = touch(b, r[:, 0])
        for k in range(1, rects.shape[1]):
            hit |= touch(b, r[:, k])
        keep[every] = hit
    return keep


# -- the R-tree path (cross-check) --------------------------------------------------------------


def _window_boxes(cols: NeedColumns, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 5-D query boxes of these needs (x, y, available_from, area, monthly rent), as
    ``MatchIndex.property_candidates`` builds them, with each box's need row."""
    counts = np.array([len(cols.plans[i].rects) for i in rows.tolist()], dtype=np.int64)
    owner = np.repeat(rows, counts)
    if not len(owner):
        return owner, np.empty((0, 5)), np.empty((0, 5))
    rects = np.concatenate([cols.plans[i].rects for i in rows.tolist()])
    unbounded = np.full(len(owner), -np.inf)
    lows = np.column_stack([rects[:, :2], unbounded, 0.5 * cols.n_min[owner], unbounded])
    highs = np.column_stack(
        [
            rects[:, 2:],
            cols.nf[owner].astype(float) + crit.AVAILABLE_WITHIN_DAYS,
            2.0 * cols.n_max[owner],
            1.5 * cols.budget[owner],
        ]
    )
    return owner, lows, highs


def tree_pairs(
    ix: MatchIndex, cols: NeedColumns, rows: np.ndarray, expect: int
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
        return _NO_PAIRS
    who, pos = np.concatenate(need_parts), np.concatenate(pos_parts)
    multi = np.bincount(owner, minlength=len(cols.needs))[who] > 1  # overlapping windows repeat
    if multi.any():
        key = unique_sorted(who[multi] * ix.n + pos[multi])
        who = np.concatenate([who[~multi], key // ix.n])
        pos = np.concatenate([pos[~multi], key % ix.n])
    return who, pos


# -- the join read backwards: a few properties against every need -------------------------------


@dataclass
class NeedsBySlot:
    """For each buurt slot, the open needs that can reach it (CSR), and every need's window
    rectangles."""

    start: np.ndarray  # (nb + 2,) offsets into ``needs`` per slot
    needs: np.ndarray  # need rows, grouped by slot
    rects: np.ndarray  # (m, width, 4)


def needs_by_slot(ix: MatchIndex) -> NeedsBySlot:
    """Kept with the needs list it was built from: ``MatchIndex.with_needs_from`` copies the
    index (and this cache with it) and then replaces the needs."""
    cached = ix.__dict__.get("_batch_needs_by_slot")
    found = cached[1] if cached is not None and cached[0] is ix.needs else None
    if found is None:
        cols = index_needs(ix)
        rows = np.arange(len(cols.needs))
        reach, _ = reach_slots(ix, cols, rows)
        slot, need = np.nonzero(reach.T)  # grouped by slot, needs ascending within
        start = np.searchsorted(slot, np.arange(reach.shape[1] + 1))
        found = NeedsBySlot(start, need.astype(np.int64), window_rects(cols, rows))
        ix.__dict__["_batch_needs_by_slot"] = (ix.needs, found)
    return found
