"""Property-based tests: the R-tree engine agrees with a plain brute-force reading of the DESIGN.

The reference below scores every property of a random small layer with Python scalars, sets and
shapely, written from the DESIGN's rules (and the decisions documented in
``spacematch.matching.criteria``) without using the engine's code. Layers and needs are drawn in
and around stadsdeel Centrum of the real buurt map, so preferred areas of every level, adjacency,
points and tolerances all interact.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import itertools
import math
import zlib
from functools import cache
from unittest import mock

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from spacematch.domain.areas import SNAP_M, AreaIndex, read_shipped_areas
from spacematch.matching import (
    MatchIndex,
    NeedQuery,
    PropertyArrays,
    allocation,
    batch_rank,
    propose_allocation,
    rank_needs,
    rank_new_properties,
    rank_properties,
    rematch_all,
    score_pair_batch,
)
from spacematch.matching import criteria as crit
from spacematch.models import LEGAL_FORMS, PROPERTY_STATUSES, USES

SETTINGS = settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DAY0 = dt.date(2026, 1, 1)
COMMUNITY = {"cooperatie", "stichting", "vereniging", "sociale_onderneming"}


@cache
def areas() -> AreaIndex:
    records = read_shipped_areas()
    return AreaIndex.from_records(records)


@cache
def pool() -> tuple[list[str], list[str]]:
    """Buurten of Centrum-West plus their neighbours, and area codes of every level."""
    a = areas()
    core = a.buurten_in("GA01")
    buurten = sorted(set(core) | {n for b in core for n in a.adjacent(b)})
    return buurten, ["A", "E", "GA01", "GA02", "AA", "AB", "AC", "AD", "AE", "AF", *buurten[::3]]


@cache
def points_in(buurt: str) -> list[tuple[float, float]]:
    """Six fixed random points strictly inside a buurt."""
    geom = areas().geoms[buurt]
    rng = np.random.default_rng(zlib.crc32(buurt.encode()))
    minx, miny, maxx, maxy = geom.bounds
    found: list[tuple[float, float]] = []
    while len(found) < 6:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if geom.contains(shapely.Point(x, y)):
            found.append((float(x), float(y)))
    return found


# -- the reference ---------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def reference_pair(p: dict, need: NeedQuery, weights: tuple[float, float, float]) -> dict | None:
    """One property against one need by the DESIGN's rules; None when a hard filter excludes."""
    a = areas()
    if p["status"] != "beschikbaar" or not set(p["uses"]) & set(need.uses):
        return None
    if need.accessible and not p["accessible"]:
        return None
    if p["available_from"] > need.needed_from + dt.timedelta(days=90):
        return None
    if p["available_until"] is not None:
        start = max(need.needed_from, p["available_from"])
        if p["available_until"] + dt.timedelta(days=1) < add_months(start, need.min_months):
            return None
    area, low, high = p["area"], need.min_area_m2, need.max_area_m2
    if not 0.5 * low <= area <= 2 * high:
        return None
    rent, budget = p["rate"] * area / 12, need.max_rent_eur_month
    if rent > 1.5 * budget:
        return None
    preferred = {b for code in need.areas for b in a.buurten_in(code)}
    adjacent = {n for b in preferred for n in a.adjacent(b)} - preferred
    if not need.areas and need.x is None:
        place = 1.0
    else:
        options = []
        if p["buurt"] in preferred:
            options.append(1.0)
        if (
            need.x is not None
            and math.hypot(p["x"] - need.x, p["y"] - need.y) <= need.max_distance_m
        ):
            options.append(1.0)
        if p["buurt"] in adjacent:
            options.append(0.5)
        if need.areas and need.x is None and need.max_distance_m:
            d = min(a.geoms[c].distance(shapely.Point(p["x"], p["y"])) for c in need.areas)
            if d <= need.max_distance_m:
                options.append(0.5 * (1 - d / need.max_distance_m))
        if not options:
            return None
        place = max(options)
    if area < low:
        size = (area - 0.5 * low) / (0.5 * low)
    elif area > high:
        size = (2 * high - area) / high
    else:
        size = 1.0
    price = 1.0 if rent <= budget else (1.5 * budget - rent) / (0.5 * budget)
    w = np.array(weights) / sum(weights)
    total = float(np.round(w[0] * size + w[1] * price + w[2] * place, 6))
    local = p["buurt"] in preferred
    return {
        "id": p["id"],
        "need": need.id,
        "total": total,
        "size": size,
        "price": price,
        "place": place,
        "priority": 0.5 * (need.legal_form in COMMUNITY) + 0.5 * local,
    }


def reference_rank(
    layer: list[dict], need: NeedQuery, limit: int, weights=(0.35, 0.35, 0.30)
) -> list[dict]:
    rows = [r for p in layer if (r := reference_pair(p, need, weights))]
    by_id = {p["id"]: p for p in layer}
    rows.sort(key=lambda r: (-r["total"], by_id[r["id"]]["available_from"], r["id"]))
    return rows[:limit]


# -- strategies ------------------------------------------------------------------------------

# Mostly three common uses, so that a fair share of random pairs passes every hard filter.
uses_st = st.lists(st.sampled_from([*USES[:3] * 4, *USES[3:]]), min_size=1, max_size=3, unique=True)
day_st = st.integers(0, 200).map(lambda d: DAY0 + dt.timedelta(days=d))


@st.composite
def layers(draw: st.DrawFn, max_size: int = 40, near: NeedQuery | None = None) -> list[dict]:
    """A random layer. With ``near``, most properties are drawn around that need: its uses, its
    preferred buurten and two rings of neighbours, and sizes, rents and dates at and around its
    limits (0.5 x min, 2 x max, 1.5 x budget, needed_from + 90 days, the meanwhile minimum)."""
    buurten, _ = pool()
    n = draw(st.integers(1, max_size))
    a = areas()
    local = []
    if near is not None:
        pref = sorted({b for c in near.areas for b in a.buurten_in(c)})
        ring = set(pref) | {m for b in pref for m in a.adjacent(b)}
        local = sorted(ring | {m for b in ring for m in a.adjacent(b)})  # two rings: "near" too
    out = []
    for i in range(n):
        aimed = near is not None and draw(st.integers(0, 3)) > 0
        buurt = draw(st.sampled_from(local if aimed and local and draw(st.booleans()) else buurten))
        x, y = points_in(buurt)[draw(st.integers(0, 5))]
        p = {
            "id": f"{draw(st.sampled_from(['kavels', 'ateliers', 'bedrijf']))}.{i:03d}",
            "buurt": buurt,
            "x": x,
            "y": y,
            "half": draw(st.sampled_from([0.0, 0.0, 5.0, 40.0])),
            "area": draw(
                st.one_of(st.sampled_from([50.0, 100.0, 150.0, 200.0, 300.0]), st.floats(20, 400))
            ),
            "rate": draw(st.one_of(st.sampled_from([0.0, 60.0, 120.0, 180.0]), st.floats(0, 300))),
            "uses": draw(uses_st),
            "accessible": draw(st.booleans()),
            "status": draw(st.sampled_from(["beschikbaar"] * 9 + list(PROPERTY_STATUSES[1:]))),
        }
        start = draw(day_st)
        if aimed:
            p.update(draw(_around(near)))
            p["uses"] = sorted({*p["uses"][:1], draw(st.sampled_from(near.uses))})
            p["accessible"] = p["accessible"] or draw(st.booleans())
            start = near.needed_from + dt.timedelta(
                days=draw(st.sampled_from([-30, 0, 89, 90, 91, 200]))
            )
        until = draw(
            st.one_of(
                st.none(),
                st.none(),
                st.integers(0, 1200).map(lambda d, s=start: s + dt.timedelta(days=d)),
            )
        )
        if aimed and until is not None and draw(st.booleans()):
            # Exactly enough meanwhile time, or a day more or less.
            end = add_months(max(near.needed_from, start), near.min_months) - dt.timedelta(days=1)
            until = max(start, end + dt.timedelta(days=draw(st.sampled_from([-1, 0, 1]))))
        out.append({**p, "available_from": start, "available_until": until})
    return out


@st.composite
def _around(draw: st.DrawFn, need: NeedQuery) -> dict:
    """Area and rent near the need's limits, edges included (0.5 x min, 2 x max, 1.5 x budget)."""
    factor = st.one_of(st.sampled_from([0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 2.2]), st.floats(0.3, 2.5))
    area = (
        need.min_area_m2 * draw(factor) if draw(st.booleans()) else need.max_area_m2 * draw(factor)
    )
    share = draw(st.one_of(st.sampled_from([0.0, 0.5, 1.0, 1.2, 1.5, 1.6]), st.floats(0, 2)))
    return {"area": area, "rate": share * need.max_rent_eur_month * 12 / area}


@st.composite
def needs(draw: st.DrawFn, need_id: int = 1) -> NeedQuery:
    buurten, codes = pool()
    area_codes = draw(
        st.one_of(
            st.just([]),
            *[st.lists(st.sampled_from(codes), min_size=1, max_size=3, unique=True)] * 4,
        )
    )
    x = y = dist = None
    if draw(st.booleans()):
        x, y = points_in(draw(st.sampled_from(buurten)))[draw(st.integers(0, 5))]
        dist = draw(st.sampled_from([100.0, 300.0, 800.0, 1500.0]))
    elif draw(st.booleans()):
        dist = draw(st.sampled_from([100.0, 400.0, 1000.0]))
    low = draw(st.one_of(st.sampled_from([40.0, 100.0, 150.0]), st.floats(15, 300)))
    return NeedQuery(
        id=need_id,
        min_area_m2=low,
        max_area_m2=low * draw(st.sampled_from([1.0, 1.5, 2.0, 3.0])),
        max_rent_eur_month=draw(
            st.one_of(st.sampled_from([0.0, 500.0, 1500.0, 2500.0]), st.floats(1, 4000))
        ),
        uses=draw(uses_st),
        areas=area_codes,
        x=x,
        y=y,
        max_distance_m=dist,
        needed_from=draw(day_st),
        min_months=draw(st.sampled_from([1, 6, 12, 24, 60])),
        accessible=draw(st.sampled_from([False] * 3 + [True])),
        legal_form=draw(st.sampled_from(LEGAL_FORMS)),
    )


def build(layer: list[dict], need_list: list[NeedQuery] = ()) -> MatchIndex:
    col = lambda key: [p[key] for p in layer]  # noqa: E731
    x, y, half = np.array(col("x")), np.array(col("y")), np.array(col("half"))
    arrays = PropertyArrays(
        ids=col("id"),
        x=x,
        y=y,
        minx=x - half,
        miny=y - half,
        maxx=x + half,
        maxy=y + half,
        area_m2=np.array(col("area")),
        rent_eur_m2_year=np.array(col("rate")),
        uses=[",".join(u) for u in col("uses")],
        available_from=col("available_from"),
        available_until=col("available_until"),
        accessible=np.array(col("accessible")),
        status=col("status"),
        buurt_code=col("buurt"),
    )
    return MatchIndex.from_arrays(arrays, need_list, areas())


weights_st = st.one_of(
    st.just(None),
    st.fixed_dictionaries({c: st.sampled_from([0.0, 0.2, 1.0, 3.0]) for c in crit.CRITERIA}).filter(
        lambda w: sum(w.values()) > 0
    ),
)


# -- tests -----------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), need=needs(), limit=st.integers(1, 25), weights=weights_st)
def test_rtree_ranking_equals_brute_force(data, need, limit, weights):
    layer = data.draw(layers(near=need))
    ix = build(layer)
    w = (0.35, 0.35, 0.30) if weights is None else tuple(weights[c] for c in crit.CRITERIA)
    expected = reference_rank(layer, need, limit, w)
    for trees in (True, False):  # the R-tree window and the join's slices
        got = rank_properties(ix, need, limit=limit, weights=weights, trees=trees)
        assert [m.property_id for m in got] == [r["id"] for r in expected]
        for m, r in zip(got, expected, strict=True):
            assert m.score == r["total"]
            assert (m.size, m.price, m.place) == pytest.approx(
                (r["size"], r["price"], r["place"]), abs=1e-9
            )
    for m in got:
        event(f"place kind {m.place_kind}")
    scan = rank_properties(ix, need, limit=limit, weights=weights, use_index=False)
    assert [m.property_id for m in scan] == [m.property_id for m in got]


@SETTINGS
@given(layer=layers(max_size=15), data=st.data(), priority=st.booleans())
def test_reverse_ranking_equals_brute_force(layer, data, priority):
    need_list = [data.draw(needs(need_id=i)) for i in range(1, data.draw(st.integers(1, 8)) + 1)]
    ix = build(layer, need_list)
    needed_from = {n.id: n.needed_from for n in need_list}

    def key(r: dict) -> tuple:
        order = (-r["total"], needed_from[r["need"]], r["need"])
        return (-r["priority"], *order) if priority else order

    for p in layer:
        rows = [r for n in need_list if (r := reference_pair(p, n, (0.35, 0.35, 0.30)))]
        rows.sort(key=key)
        got = rank_needs(ix, p["id"], limit=20, priority=priority)
        assert [(m.need_id, m.score, m.priority) for m in got] == [
            (r["need"], r["total"], r["priority"]) for r in rows[:20]
        ]


@SETTINGS
@given(need=needs(), data=st.data())
def test_improving_a_property_never_lowers_its_rank(need, data):
    layer = data.draw(layers(near=need))
    ranked = rank_properties(build(layer), need, limit=None)
    if not ranked:
        return
    # Pairwise: at least as good on every criterion -> never below, except on an exact tie.
    for i, j in itertools.combinations(range(len(ranked)), 2):
        better, worse = ranked[j], ranked[i]  # j ranks lower than i
        if (
            better.size >= worse.size
            and better.price >= worse.price
            and better.place >= worse.place
        ):
            assert better.score == worse.score
    # Make one listed property fit perfectly on size and price: it must not fall back.
    pick = data.draw(st.integers(0, len(ranked) - 1))
    target = ranked[pick].property_id
    improved = [dict(p, area=need.min_area_m2, rate=0.0) if p["id"] == target else p for p in layer]
    again = [m.property_id for m in rank_properties(build(improved), need, limit=None)]
    assert again.index(target) <= pick


@SETTINGS
@given(need=needs(), data=st.data())
def test_reasons_agree_with_scores(need, data):
    layer = data.draw(layers(near=need))
    words = {
        "size.within": ("binnen", "within"),
        "size.below": ("kleiner", "smaller"),
        "size.above": ("groter", "larger"),
        "price.within": ("binnen budget", "within the"),
        "price.free": ("gratis", "rent-free"),
        "price.over": ("boven budget", "over the"),
    }
    for m in rank_properties(build(layer), need, limit=None):
        c = m.criteria
        assert (c["size"].reason.code == "size.within") == (m.size == 1.0)
        assert (c["price"].reason.code in ("price.within", "price.free")) == (m.price == 1.0)
        place = c["place"].reason
        assert (place.code in ("place.preferred", "place.point", "place.anywhere")) == (
            m.place == 1.0
        )
        if place.code == "place.adjacent":
            assert m.place == 0.5
        if place.code == "place.near":
            assert place.params["distance"] <= place.params["max"]
            assert m.place == pytest.approx(
                0.5 * (1 - place.params["distance"] / place.params["max"])
            )
        if place.code == "place.point":
            assert place.params["distance"] <= place.params["max"]
        for name in ("size", "price"):
            nl, en = words[c[name].reason.code]
            assert nl in c[name].reason.text("nl") and en in c[name].reason.text("en")
        assert place.text("nl") and place.text("en")


@settings(max_examples=40, derandomize=True, deadline=None, database=None)
@given(layer=layers(max_size=5), data=st.data(), priority_weight=st.sampled_from([0.0, 0.5, 2.0]))
def test_allocation_is_the_brute_force_optimum(layer, data, priority_weight):
    need_list = [data.draw(needs(need_id=i)) for i in range(1, data.draw(st.integers(1, 3)) + 1)]
    ix = build(layer, need_list)
    value = {}
    for n in need_list:
        for p in layer:
            r = reference_pair(p, n, (0.35, 0.35, 0.30))
            if r:
                value[n.id, p["id"]] = r["total"] + priority_weight * r["priority"]
    best = 0.0
    ids = [p["id"] for p in layer]
    for perm in itertools.permutations([*ids, *[None] * len(need_list)], len(need_list)):
        pairs = [(n.id, pid) for n, pid in zip(need_list, perm, strict=True) if pid is not None]
        if all(pair in value for pair in pairs):
            best = max(best, sum(value[pair] for pair in pairs))
    got = propose_allocation(ix, [n.id for n in need_list], ids, priority_weight=priority_weight)
    assert len({p.need_id for p in got}) == len(got) == len({p.property_id for p in got})
    assert all((p.need_id, p.property_id) in value for p in got)
    assert sum(p.value for p in got) == pytest.approx(best, abs=1e-9)
    for p in got:
        assert p.value == pytest.approx(p.score + priority_weight * p.priority)
        assert set(p.criteria) == {"size", "price", "place"}
    # Scored one need at a time (the block bounds the memory): the same proposal.
    with mock.patch.object(allocation, "PAIR_BLOCK", len(ids) + 1):
        again = propose_allocation(
            ix, [n.id for n in need_list], ids, priority_weight=priority_weight
        )
    assert [(p.need_id, p.property_id, p.value) for p in again] == [
        (p.need_id, p.property_id, p.value) for p in got
    ]


# -- the batch path ----------------------------------------------------------------------------


def rows_of(matches) -> list[tuple]:
    return [(m.property_id, m.score, m.size, m.price, m.place, m.place_kind) for m in matches]


def batch_rows(ranking, i: int) -> list[tuple]:
    seg = ranking.segment(i)
    return list(
        zip(
            ranking.property_ids[seg].tolist(),
            ranking.score[seg].tolist(),
            ranking.size[seg].tolist(),
            ranking.price[seg].tolist(),
            ranking.place[seg].tolist(),
            ranking.kind[seg].tolist(),
            strict=True,
        )
    )


@st.composite
def cities(draw: st.DrawFn) -> tuple[list[dict], list[NeedQuery]]:
    """A few needs and a layer drawn around the first; some properties carry a buurt code that
    does not hold their point (or none), as a layer with stale codes would: the batch path may
    not assume that a property lies in its buurt."""
    first = draw(needs(need_id=1))
    rest = [draw(needs(need_id=i)) for i in range(2, draw(st.integers(1, 6)) + 1)]
    layer = draw(layers(near=first))
    buurten, _ = pool()
    for p in layer:
        if draw(st.integers(0, 9)) == 0:
            # None: no code; "": kept outside the city (fits only by distance to a point).
            p["buurt"] = draw(st.one_of(st.none(), st.just(""), st.sampled_from(buurten)))
    return layer, [first, *rest]


@SETTINGS
@given(city=cities(), limit=st.one_of(st.none(), st.integers(1, 25)), weights=weights_st)
def test_batch_ranking_equals_per_need(city, limit, weights):
    layer, need_list = city
    ix = build(layer, need_list)
    expected = [rows_of(rank_properties(ix, n, limit=limit, weights=weights)) for n in ix.needs]
    for join in (True, False):  # the (use, buurt) join and the bulk tree query
        got = batch_rank(ix, limit=limit, weights=weights, join=join, chunk_pairs=1)
        assert got.need_ids.tolist() == [n.id for n in ix.needs]
        assert [batch_rows(got, i) for i in range(len(got))] == expected
    event(f"needs with a fit: {sum(1 for rows in expected if rows)} of {len(expected)}")
    # Needs that are not stored rank the same way.
    unstored = [NeedQuery(**{**n.__dict__, "id": None}) for n in need_list]
    got = batch_rank(ix, needs=unstored, limit=limit, weights=weights)
    assert [batch_rows(got, i) for i in range(len(got))] == [
        rows_of(rank_properties(ix, n, limit=limit, weights=weights)) for n in unstored
    ]
    assert {k: rows_of(v) for k, v in rematch_all(ix, limit=limit, weights=weights).items()} == {
        n.id: rows for n, rows in zip(ix.needs, expected, strict=True)
    }


@SETTINGS
@given(city=cities(), data=st.data(), limit=st.one_of(st.none(), st.integers(1, 10)))
def test_new_properties_equal_the_batch_restricted_to_them(city, data, limit):
    layer, need_list = city
    ix = build(layer, need_list)
    full = batch_rank(ix, limit=None)
    # Half the time from the ids that fit somebody, so that most examples alert someone.
    fitting = sorted(set(full.property_ids.tolist()))
    ids = fitting if fitting and data.draw(st.booleans()) else [p["id"] for p in layer]
    new = set(data.draw(st.lists(st.sampled_from(ids), max_size=len(ids), unique=True)))
    expected = {}
    for i, need_id in enumerate(full.need_ids.tolist()):
        rows = [r for r in batch_rows(full, i) if r[0] in new][:limit]
        if rows:
            expected[need_id] = rows
    got = rank_new_properties(ix, sorted(new), limit=limit)
    event(f"needs alerted: {min(len(expected), 3)}+")
    assert {nid: batch_rows(got, i) for i, nid in enumerate(got.need_ids.tolist())} == expected
    assert [n.id for n in got.needs] == got.need_ids.tolist()


def _prop(pid: str, buurt: str, k: int = 0, **kw) -> dict:
    x, y = points_in(buurt)[k]
    base = {
        "id": pid,
        "buurt": buurt,
        "x": x,
        "y": y,
        "half": 0.0,
        "area": 100.0,
        "rate": 12.0,  # 100 EUR a month
        "uses": ["kantoor"],
        "accessible": True,
        "status": "beschikbaar",
        "available_from": DAY0,
        "available_until": None,
    }
    return {**base, **kw}


def _far_apart() -> tuple[str, str]:
    """Two buurten of the pool that neither are nor touch each other."""
    a = areas()
    buurten, _ = pool()
    first = buurten[0]
    other = next(b for b in buurten[1:] if b not in a.adjacent(first))
    return first, other


def test_batch_keeps_a_point_fit_that_ties_the_sure_best_pairs():
    """A need already holding `limit` perfect pairs in its preferred buurt must still see a
    perfect pair that its point admits elsewhere, when the tie-break favours it."""
    home, elsewhere = _far_apart()
    x, y = points_in(elsewhere)[0]
    layer = [
        _prop("a.1", home, 1),
        _prop("a.2", home, 2),
        _prop("z.9", elsewhere, 0, available_from=DAY0 - dt.timedelta(days=10)),
    ]
    need = NeedQuery(
        id=1, min_area_m2=50, max_area_m2=150, max_rent_eur_month=500, uses=["kantoor"],
        needed_from=DAY0, areas=[home], x=x, y=y, max_distance_m=50.0,
    )  # fmt: skip
    ix = build(layer, [need])
    for limit in (1, 2):
        expected = rows_of(rank_properties(ix, need, limit=limit))
        assert expected[0][0] == "z.9"
        assert batch_rows(batch_rank(ix, limit=limit), 0) == expected


def test_batch_does_not_count_a_meanwhile_space_that_ends_too_soon_as_a_sure_fit():
    """Only permanent pairs are sure: a perfect meanwhile space too short for the need must not
    make the batch (or the per-need slices) drop the need's real (lesser) fit."""
    home, _ = _far_apart()
    adjacent = sorted(areas().adjacent(home))[0]
    layer = [
        _prop("a.1", home, 1, available_until=DAY0 + dt.timedelta(days=30)),
        _prop("b.1", adjacent, 1),
    ]
    need = NeedQuery(
        id=1, min_area_m2=50, max_area_m2=150, max_rent_eur_month=500, uses=["kantoor"],
        needed_from=DAY0, areas=[home], min_months=12,
    )  # fmt: skip
    ix = build(layer, [need])
    expected = rows_of(rank_properties(ix, need, limit=1, trees=True))
    assert [r[0] for r in expected] == ["b.1"]
    assert batch_rows(batch_rank(ix, limit=1), 0) == expected
    assert rows_of(rank_properties(ix, need, limit=1, trees=False)) == expected  # the slices


def test_new_properties_follow_the_needs_of_an_index_copied_for_new_needs():
    """``MatchIndex.with_needs_from`` copies the index and replaces its needs: the incremental
    path may not reuse the old needs' per-buurt lists."""
    home, elsewhere = _far_apart()
    need = NeedQuery(
        id=1, min_area_m2=50, max_area_m2=150, max_rent_eur_month=500, uses=["kantoor"],
        needed_from=DAY0, areas=[elsewhere],
    )  # fmt: skip
    ix = build([_prop("a.1", home, 1)], [need])
    assert rank_new_properties(ix, ["a.1"]).need_ids.tolist() == []
    moved = copy.copy(ix)
    moved._build_needs([NeedQuery(**{**need.__dict__, "id": 2, "areas": [home]})])
    assert rank_new_properties(moved, ["a.1"]).need_ids.tolist() == [2]


def test_batch_keeps_spaces_outside_the_city_to_a_needs_point():
    """A space kept "buiten Amsterdam" (buurt "") fits only by distance to a need's point: not
    a need without place rules, nor by a tolerance around an area, in the batch as per need."""
    home, _ = _far_apart()
    x, y = points_in(home)[0]
    layer = [_prop("a.1", home, 1), {**_prop("o.1", home, 2), "buurt": ""}]
    needs = [
        NeedQuery(id=1, min_area_m2=50, max_area_m2=150, max_rent_eur_month=500, uses=["kantoor"],
                  needed_from=DAY0),
        NeedQuery(id=2, min_area_m2=50, max_area_m2=150, max_rent_eur_month=500, uses=["kantoor"],
                  needed_from=DAY0, areas=[home], max_distance_m=1000.0),
        NeedQuery(id=3, min_area_m2=50, max_area_m2=150, max_rent_eur_month=500, uses=["kantoor"],
                  needed_from=DAY0, x=x, y=y, max_distance_m=5000.0),
    ]  # fmt: skip
    ix = build(layer, needs)
    expected = [rows_of(rank_properties(ix, n, limit=None)) for n in ix.needs]
    assert [[r[0] for r in rows] for rows in expected] == [["a.1"], ["a.1"], ["a.1", "o.1"]]
    for limit in (None, 1, 20):
        got = batch_rank(ix, limit=limit)
        assert [batch_rows(got, i) for i in range(len(got))] == [e[:limit] for e in expected]
    alerts = rank_new_properties(ix, ["o.1"], limit=None)
    assert {nid: batch_rows(alerts, i) for i, nid in enumerate(alerts.need_ids.tolist())} == {
        3: [r for r in expected[2] if r[0] == "o.1"]
    }


def _snapped_beyond_its_buurt() -> tuple[str, float, float]:
    """A point in no buurt that the layer import snaps to the nearest one (within ``SNAP_M``),
    outside that buurt's and its neighbours' bounding boxes: on the city's edge."""
    a = areas()
    for code in a.buurt_codes:
        coords = shapely.get_coordinates(a.geoms[code])
        ring = np.array([a.geoms[c].bounds for c in [code, *a.adjacent(code)]])
        minx, miny = ring[:, :2].min(axis=0)  # the box around the buurt and its neighbours
        maxx, maxy = ring[:, 2:].max(axis=0)
        for k, dx, dy in ((0, -20.0, 0.0), (0, 20.0, 0.0), (1, 0.0, -20.0), (1, 0.0, 20.0)):
            vx, vy = coords[np.argmin(coords[:, k]) if dx + dy < 0 else np.argmax(coords[:, k])]
            x, y = float(vx + dx), float(vy + dy)
            if a.buurt_of_points([x], [y])[0] is not None:
                continue
            nearest, dist = a.nearest_buurt(shapely.points([x], [y]))
            inside_a_box = minx <= x <= maxx and miny <= y <= maxy
            if nearest[0] == code and dist[0] <= SNAP_M and not inside_a_box:
                return code, x, y
    raise AssertionError("no such point in the shipped buurten")


def test_a_space_snapped_to_a_border_buurt_is_seen_by_every_path():
    """Place goes by the buurt code the import gives (its spatial join, snapping up to SNAP_M):
    the search windows reach that far beyond a buurt's box, so the windowed paths see every
    space the rules admit, as the allocation proposal and the rounds (no window) do."""
    code, x, y = _snapped_beyond_its_buurt()
    layer = [{**_prop("edge.1", code, 0), "x": x, "y": y}]
    need = NeedQuery(
        id=1, min_area_m2=50, max_area_m2=150, max_rent_eur_month=500, uses=["kantoor"],
        needed_from=DAY0, areas=[code],
    )  # fmt: skip
    ix = build(layer, [need])
    for trees in (True, False):
        assert [m.property_id for m in rank_properties(ix, need, trees=trees)] == ["edge.1"]
    for join in (True, False):
        assert batch_rank(ix, join=join).property_ids.tolist() == ["edge.1"]
    assert [m.need_id for m in rank_needs(ix, "edge.1")] == [1]
    assert rank_new_properties(ix, ["edge.1"]).property_ids.tolist() == ["edge.1"]
    assert [p.property_id for p in propose_allocation(ix, [1], ["edge.1"])] == ["edge.1"]
    assert score_pair_batch(ix, [1], ["edge.1"]).tolist() == [1.0]
