"""The rules after the window, over (need, property) pair arrays: step-free access, the meanwhile
term, place, then the size, price and place scores and the rounded total.

``score_pairs`` mirrors ``engine._score_properties`` expression by expression: the same float
expressions on the same values, so the scores are the per-need path's bit for bit. Only the
order of the (conjunctive) hard filters differs: the cheap ones go first, so that the calendar
arithmetic and the shapely distances run on fewer pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import shapely

from spacematch.matching import criteria as crit
from spacematch.matching.columns import NeedColumns
from spacematch.matching.index import MatchIndex

_EPS = 10.0**-crit.SCORE_DECIMALS  # the rounding step of a total


@dataclass
class Pairs:
    """Scored pairs: need rows, property positions, place kind and the scores."""

    need: np.ndarray
    pos: np.ndarray
    kind: np.ndarray
    size: np.ndarray
    price: np.ndarray
    place: np.ndarray
    total: np.ndarray

    def take(self, sel: np.ndarray) -> Pairs:
        return Pairs(*(getattr(self, f.name)[sel] for f in fields(self)))

    @staticmethod
    def concat(parts: list[Pairs]) -> Pairs:
        return Pairs(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Pairs)))


def score_pairs(
    ix: MatchIndex, cols: NeedColumns, who: np.ndarray, pos: np.ndarray, w: np.ndarray
) -> Pairs:
    """Filter and score candidate pairs (already inside the window, date, size and price
    limits): what ``engine._score_properties`` does for one need, over pairs of many."""
    ok = ix.accessible[pos] | ~cols.accessible[who]
    who, pos = who[ok], pos[ok]
    kind = cols.code[who, ix.buurt[pos]]
    dmax = cols.dmax[who]
    within = cols.has_point[who]  # a copy: the distance test only for needs with a point
    hp = np.flatnonzero(within)
    if len(hp):
        p, c = pos[hp], who[hp]
        within[hp] = np.hypot(ix.x[p] - cols.px[c], ix.y[p] - cols.py[c]) <= dmax[hp]
    outside = ix.outside[pos]  # outside the city: only by distance to a need's point
    anywhere = cols.anywhere[who] & ~outside
    far = (kind == crit.EXCLUDED) & cols.has_tolerance[who] & ~outside
    ok = (kind != crit.EXCLUDED) | within | anywhere | far
    until = ix.avail_until[pos]
    mw = np.flatnonzero(ok & (until < crit.PERMANENT))
    if len(mw):
        ok[mw] = crit.meanwhile_ok(
            ix.avail_from[pos[mw]], until[mw], cols.nf[who[mw]], cols.months[who[mw]]
        )
    keep = np.flatnonzero(ok)
    who, pos, kind, dmax, within, anywhere, far = (
        a[keep] for a in (who, pos, kind, dmax, within, anywhere, far)
    )
    near = _tolerance_distances(ix, cols, who, pos, np.flatnonzero(far), dmax)
    kind, place = crit.place_scores(kind, within, near, dmax)
    if anywhere.any():
        kind[anywhere], place[anywhere] = crit.ANYWHERE, 1.0
    keep = np.flatnonzero(kind != crit.EXCLUDED)
    who, pos, kind, place = who[keep], pos[keep], kind[keep], place[keep]
    size = crit.size_score(ix.area[pos], cols.n_min[who], cols.n_max[who])
    price = crit.price_score(ix.rent[pos], cols.budget[who])
    return Pairs(who, pos, kind, size, price, place, crit.total_score(w, size, price, place))


def _tolerance_distances(
    ix: MatchIndex,
    cols: NeedColumns,
    who: np.ndarray,
    pos: np.ndarray,
    far: np.ndarray,
    dmax: np.ndarray,
) -> np.ndarray | None:
    """Distance to the need's preferred areas for the pairs ``far`` (NaN elsewhere and beyond
    the tolerance), as the per-need path measures it; None when there is none to measure."""
    if not len(far):
        return None
    tol = cols.tolerance[who[far]]
    pts = ix.points[pos[far]]
    close = shapely.dwithin(tol, pts, dmax[far])  # the unions are prepared: fast
    near = np.full(len(pos), np.nan)
    near[far[close]] = shapely.distance(tol[close], pts[close])
    return near


def prune_limits(
    floor: np.ndarray,
    place_max: np.ndarray,
    w: np.ndarray,
    n_min: np.ndarray,
    n_max: np.ndarray,
    budget: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Area range, rent cap and feasibility of pairs that can still reach a total ``floor``
    (per pair; -inf: no floor) when their place score is at most ``place_max``.

    A pair's total is round(w0 size + w1 price + w2 place) with every score <= 1, so it can only
    reach the floor when w0 size + w1 price >= floor - w2 place_max - one rounding step: that
    bounds size from below (price <= 1), hence the area range, and price from below (size <=
    1), hence the rent. The rounding step is far wider than any float error in these bounds,
    so the limits hold a superset of the pairs that can reach the floor; the hard limits (0.5 x
    min, 2 x max, 1.5 x budget) stay the outer bounds."""
    want = floor - _EPS - w[2] * place_max  # what size and price must bring together
    feasible = want <= w[0] + w[1]
    lo, hi, cap = 0.5 * n_min, 2.0 * n_max, 1.5 * budget
    if w[0] > 0:  # the lowest size score that can still do (0: any)
        s = np.clip(np.where(feasible, (want - w[1]) / w[0], 0.0), 0.0, 1.0)
        lo, hi = np.maximum(lo, 0.5 * n_min * (1.0 + s)), np.minimum(hi, n_max * (2.0 - s))
    if w[1] > 0:  # the lowest price score that can still do (0: any)
        p = np.clip(np.where(feasible, (want - w[0]) / w[1], 0.0), 0.0, 1.0)
        cap = np.minimum(cap, budget * (1.5 - 0.5 * p))
    return lo, hi, cap, feasible
