"""Ranking both ways, a full re-match and its summary (given pairs and the allocation proposal:
``allocation``).

Per query: R-tree window -> candidate positions -> vectorised filters and scores on those
positions only -> ``np.partition`` for the top N -> a stable sort of the few survivors. Reasons
are rendered lazily, so a full re-match does not build text nobody reads.

Orderings (DESIGN): higher total first; ties go to the earlier availability (a property's
``available_from``; for a property's candidate needs, the need's ``needed_from``), then the lower
id. ``rank_needs(priority=True)`` sorts by the community-economy priority first and the score
second; the score itself never includes the priority.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from spacematch.matching import criteria as crit
from spacematch.matching.index import EPOCH_ORDINAL, MatchIndex
from spacematch.matching.match import Match
from spacematch.matching.need import NeedQuery
from spacematch.matching.places import PlacePlan

if TYPE_CHECKING:
    import numpy as np


MAX_LIMIT = 500


@cache
def _default_weights() -> np.ndarray:
    """The default weights as an array, made on first use (not when the module is imported)."""
    return crit.normalise_weights()


def _weights(weights: Mapping[str, float] | None) -> np.ndarray:
    return _default_weights() if weights is None else crit.normalise_weights(weights)


# -- one need against many properties ----------------------------------------------------------


@dataclass
class _Scored:
    pos: np.ndarray
    kind: np.ndarray
    size: np.ndarray
    price: np.ndarray
    place: np.ndarray
    total: np.ndarray


def _score_properties(
    ix: MatchIndex,
    need: NeedQuery,
    plan: PlacePlan,
    cand: np.ndarray,
    w: np.ndarray,
    *,
    from_trees: bool = False,
) -> _Scored:
    """Filter and score candidate property positions for one need.

    ``from_trees``: the candidates came from ``MatchIndex.property_candidates``, whose R-tree
    ranges (inclusive, on the very same float values) already applied the status, use, date,
    size and price limits exactly; only step-free access, the meanwhile term and place remain.
    """
    import numpy as np
    import shapely

    nf = need.needed_from.toordinal() - EPOCH_ORDINAL
    if not from_trees:
        ok = crit.basic_filter(
            ix.area[cand],
            ix.rent[cand],
            ix.uses[cand],
            ix.avail_from[cand],
            ix.accessible[cand],
            min_area=need.min_area_m2,
            max_area=need.max_area_m2,
            budget=need.max_rent_eur_month,
            need_uses=crit.uses_mask(need.uses),
            needed_from=nf,
            need_accessible=need.accessible,
        )
        cand = cand[ok & ix.available[cand]]
    elif need.accessible:
        cand = cand[ix.accessible[cand]]
    until = ix.avail_until[cand]
    meanwhile = np.flatnonzero(until < crit.PERMANENT)
    if len(meanwhile):
        lasts = crit.meanwhile_ok(
            ix.avail_from[cand[meanwhile]], until[meanwhile], nf, need.min_months
        )
        if not lasts.all():
            keep = np.ones(len(cand), dtype=bool)
            keep[meanwhile[~lasts]] = False
            cand = cand[keep]
    if plan.anywhere:
        cand = cand[~ix.outside[cand]]  # outside the city: only by distance to a need's point
        kind = np.full(len(cand), crit.ANYWHERE, dtype=np.int8)
        place = np.ones(len(cand))
    else:
        kind = plan.code[ix.buurt[cand]]
        within = None
        if plan.has_point:
            within = np.hypot(ix.x[cand] - plan.px, ix.y[cand] - plan.py) <= plan.max_distance_m
        near = None
        if plan.tolerance is not None:
            far = np.flatnonzero((kind == crit.EXCLUDED) & ~ix.outside[cand])
            if len(far):
                pts = ix.points[cand[far]]
                close = shapely.dwithin(plan.tolerance, pts, plan.max_distance_m)  # prepared: fast
                near = np.full(len(cand), np.nan)
                near[far[close]] = shapely.distance(plan.tolerance, pts[close])
        kind, place = crit.place_scores(kind, within, near, plan.max_distance_m)
        keep = kind != crit.EXCLUDED
        if not keep.all():
            cand, kind, place = cand[keep], kind[keep], place[keep]
    size = crit.size_score(ix.area[cand], need.min_area_m2, need.max_area_m2)
    price = crit.price_score(ix.rent[cand], need.max_rent_eur_month)
    return _Scored(cand, kind, size, price, place, crit.total_score(w, size, price, place))


def _top(total: np.ndarray, keys: Sequence[np.ndarray], limit: int | None) -> np.ndarray:
    """Indices of the best ``limit`` rows: total descending, then ``keys`` ascending.

    ``np.partition`` finds the limit-th best total; every row tying with it stays in, so the
    tie-breaks decide exactly as a full sort would.
    """
    import numpy as np

    n = len(total)
    sel = np.arange(n)
    if limit is not None and n > limit:
        kth = np.partition(total, n - limit)[n - limit]
        sel = np.flatnonzero(total >= kth)
    order = np.lexsort((*[k[sel] for k in reversed(keys)], -total[sel]))
    return sel[order[:limit] if limit is not None else order]


def _check_limit(limit: int | None) -> None:
    if limit is not None and not (isinstance(limit, int) and 1 <= limit <= MAX_LIMIT):
        raise ValueError(f"limit must be an integer from 1 to {MAX_LIMIT}")


def rank_properties(
    index: MatchIndex,
    need: NeedQuery,
    *,
    limit: int | None = 20,
    weights: Mapping[str, float] | None = None,
    use_index: bool = True,
    trees: bool | None = None,
) -> list[Match]:
    """The best properties for a need (stored or not), best first.

    Two reads give the same answer: every candidate in the R-tree window (``trees=True``), or,
    with a ``limit``, the (use, buurt) join's slices with exact pruning (``trees=False``,
    ``slices.rank_by_slices``), whose cost hardly grows with the density. None: the cheaper one
    for this need (``slices.slices_pay``). ``use_index=False`` scores every property instead:
    the same answer, slower; the benchmark's and the tests' brute-force baseline.
    """
    import numpy as np

    _check_limit(limit)
    plan = index.plan(need)
    w = _weights(weights)
    if use_index and trees is not True and limit is not None:
        from spacematch.matching import slices  # builds on this module

        if trees is False or slices.slices_pay(index, plan):
            s = slices.rank_by_slices(index, need, plan, w, limit)
            return _matches(index, need, s, _top(s.total, (index.avail_from[s.pos], s.pos), limit))
    cand = index.property_candidates(plan, need) if use_index else np.arange(index.n)
    s = _score_properties(index, need, plan, cand, w, from_trees=use_index)
    return _matches(index, need, s, _top(s.total, (index.avail_from[s.pos], s.pos), limit))


def _matches(ix: MatchIndex, need: NeedQuery, s: _Scored, rows: np.ndarray) -> list[Match]:
    total, size, price, place, kind = (
        a[rows].tolist() for a in (s.total, s.size, s.price, s.place, s.kind)
    )
    return [
        Match(ix, need, p, kind[k], total[k], size[k], price[k], place[k])
        for k, p in enumerate(s.pos[rows].tolist())
    ]


def rematch_all(
    index: MatchIndex, *, limit: int | None = 20, weights: Mapping[str, float] | None = None
) -> dict[int, list[Match]]:
    """Rank every open need of the index (the CLI's ``match``, the monitor's tables): the
    batch path (``batch.batch_rank``), which gives ``rematch_each``'s answer many times faster."""
    from spacematch.matching.batch import batch_rank  # batch builds on this module's helpers

    return batch_rank(index, limit=limit, weights=weights).matches(index)


def rematch_each(
    index: MatchIndex, *, limit: int | None = 20, weights: Mapping[str, float] | None = None
) -> dict[int, list[Match]]:
    """Rank every open need one by one with the per-need path: the reference the batch path
    is checked against (tests, benchmark's ``loop_rematch_s``)."""
    _check_limit(limit)
    w = _weights(weights)
    out: dict[int, list[Match]] = {}
    for need, plan in zip(index.needs, index.plans, strict=True):
        cand = index.property_candidates(plan, need)
        s = _score_properties(index, need, plan, cand, w, from_trees=True)
        out[need.id if need.id is not None else -1] = _matches(
            index, need, s, _top(s.total, (index.avail_from[s.pos], s.pos), limit)
        )
    return out


# -- one property against many needs -----------------------------------------------------------


def _score_needs(
    ix: MatchIndex, pos: int, cand: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Filter and score candidate need positions for one property."""
    import numpy as np
    import shapely

    ok = crit.basic_filter(
        ix.area[pos],
        ix.rent[pos],
        ix.uses[pos],
        ix.avail_from[pos],
        ix.accessible[pos],
        min_area=ix.n_min[cand],
        max_area=ix.n_max[cand],
        budget=ix.n_budget[cand],
        need_uses=ix.n_uses[cand],
        needed_from=ix.n_from[cand],
        need_accessible=ix.n_accessible[cand],
    )
    cand = cand[ok]
    if ix.avail_until[pos] < crit.PERMANENT:
        cand = cand[
            crit.meanwhile_ok(
                ix.avail_from[pos], ix.avail_until[pos], ix.n_from[cand], ix.n_months[cand]
            )
        ]
    b = ix.buurt[pos]
    kind = ix.need_code[cand, b]
    x, y = ix.x[pos], ix.y[pos]
    within = ix.n_has_point[cand] & (
        np.hypot(x - ix.n_px[cand], y - ix.n_py[cand]) <= ix.n_dmax[cand]
    )
    near = None
    tol = ix.n_tolerance[cand]
    outside = bool(ix.outside[pos])  # outside the city: only by distance to a need's point
    rest = (tol != None) & (kind == crit.EXCLUDED) & (not outside)  # noqa: E711 - elementwise
    if rest.any():
        near = np.full(len(cand), np.nan)
        near[rest] = shapely.distance(tol[rest].tolist(), ix.points[pos])
    kind, place = crit.place_scores(kind, within, near, ix.n_dmax[cand])
    anywhere = ix.n_anywhere[cand] & (not outside)
    kind[anywhere], place[anywhere] = crit.ANYWHERE, 1.0
    keep = kind != crit.EXCLUDED
    cand, kind, place = cand[keep], kind[keep], place[keep]
    pref = kind == crit.PREFERRED
    size = crit.size_score(ix.area[pos], ix.n_min[cand], ix.n_max[cand])
    price = crit.price_score(ix.rent[pos], ix.n_budget[cand])
    total = crit.total_score(w, size, price, place)
    return cand, kind, size, price, place, total, pref


def rank_needs(
    index: MatchIndex,
    property_id: str,
    *,
    limit: int | None = 20,
    weights: Mapping[str, float] | None = None,
    priority: bool = False,
) -> list[Match]:
    """The best open needs for a property, with each one's community-economy priority.

    Priority = 0.5 for a community-economy legal form + 0.5 when the need's preferred areas
    hold the property's buurt. Raises KeyError for an unknown property.
    """
    import numpy as np

    _check_limit(limit)
    pos = index.position[property_id]
    if not index.available[pos]:
        return []
    cand, kind, size, price, place, total, local = _score_needs(
        index, pos, index.need_candidates(pos), _weights(weights)
    )
    community = index.n_community[cand]
    prio = 0.5 * community + 0.5 * local
    keys = [index.n_from[cand], index.need_ids[cand]]
    if priority:
        order = np.lexsort((index.need_ids[cand], index.n_from[cand], -total, -prio))[:limit]
    else:
        order = _top(total, keys, limit)
    return [
        Match(
            index,
            index.needs[cand[r]],
            pos,
            int(kind[r]),
            float(total[r]),
            float(size[r]),
            float(price[r]),
            float(place[r]),
            priority=float(prio[r]),
            community=bool(community[r]),
            local=bool(local[r]),
        )
        for r in order.tolist()
    ]


# -- summary ----------------------------------------------------------------------------------


def summary(
    index: MatchIndex, areas: Any = None, *, weights: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """Open needs, needs with at least one fit, median best score, and per stadsdeel the open
    and unmatched needs. A need counts in every stadsdeel its preferred areas or point touch."""
    import numpy as np

    areas = areas if areas is not None else index.areas
    best = rematch_all(index, limit=1, weights=weights)
    scores = [ms[0].score for ms in best.values() if ms]
    stadsdelen = sorted(c for c in areas.codes if areas.levels[c] == "stadsdeel")
    per: dict[str, dict[str, Any]] = {
        c: {"name": areas.names[c], "open": 0, "unmatched": 0} for c in stadsdelen
    }
    per["-"] = {"name": "(geen stadsdeel)", "open": 0, "unmatched": 0}
    for need in index.needs:
        codes = {areas.stadsdelen[a] for a in need.areas if a in areas.stadsdelen}
        if need.has_point:
            buurt = areas.buurt_of_points([need.x], [need.y])[0]
            if buurt is not None:
                codes.add(areas.stadsdelen[buurt])
        for code in codes or {"-"}:
            per.setdefault(code, {"name": code, "open": 0, "unmatched": 0})
            per[code]["open"] += 1
            per[code]["unmatched"] += not best.get(need.id if need.id is not None else -1)
    if not per["-"]["open"]:
        del per["-"]
    return {
        "open_needs": len(index.needs),
        "needs_with_fit": len(scores),
        "median_best_score": round(float(np.median(scores)), 3) if scores else None,
        "available_properties": int(index.available.sum()),
        "unmatched_by_stadsdeel": per,
    }
