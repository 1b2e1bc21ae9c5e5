"""The per-need ranking read from the (use, buurt) join equals the R-tree window's, exactly.

``rank_properties`` with a limit reads a need's candidates from the join's sorted slices and
skips what cannot reach its top N (``spacematch.matching.slices``); the R-tree window
(``trees=True``) and the full scan (``use_index=False``) are the references, on the random
cities of the batch tests (stale buurt codes, spaces outside the city, points, tolerances) and
on crafted ties at each step's floor.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import event, given
from hypothesis import strategies as st

from spacematch.matching import NeedQuery, rank_properties
from tests.test_matching_properties import (
    DAY0,
    SETTINGS,
    _far_apart,
    _prop,
    areas,
    build,
    cities,
    points_in,
    rows_of,
    weights_st,
)

WEIGHTS = (
    None,
    {"size": 0.0, "price": 1.0, "place": 1.0},
    {"size": 1.0, "price": 0.0, "place": 0.0},
    {"size": 0.0, "price": 0.0, "place": 1.0},
    {"size": 3.0, "price": 1.0, "place": 0.2},
)


def _both(ix, need, limit, weights) -> tuple[list[tuple], list[tuple]]:
    got = rows_of(rank_properties(ix, need, limit=limit, weights=weights, trees=False))
    want = rows_of(rank_properties(ix, need, limit=limit, weights=weights, trees=True))
    return got, want


@SETTINGS
@given(city=cities(), limit=st.integers(1, 25), weights=weights_st)
def test_slices_rank_as_the_rtree_window(city, limit, weights):
    layer, need_list = city
    ix = build(layer, need_list)
    unstored = [NeedQuery(**{**n.__dict__, "id": None}) for n in need_list]
    for need in [*ix.needs, *unstored]:
        got, want = _both(ix, need, limit, weights)
        assert got == want
    event(f"fits of the first need: {min(len(_both(ix, need_list[0], 25, weights)[1]), 5)}+")


@SETTINGS
@given(city=cities(), limit=st.integers(1, 25), weights=weights_st)
def test_slices_rank_as_the_full_scan_where_codes_hold_the_points(city, limit, weights):
    """Without stale codes the window drops nothing the rules admit: the scan agrees too."""
    layer, need_list = city
    a = areas()
    for p in layer:
        p["buurt"] = a.buurt_of_points([p["x"]], [p["y"]])[0]
    ix = build(layer, need_list)
    for need in ix.needs:
        got = rows_of(rank_properties(ix, need, limit=limit, weights=weights, trees=False))
        scan = rows_of(rank_properties(ix, need, limit=limit, weights=weights, use_index=False))
        assert got == scan


def _tied_layer(home: str, adjacent: str, elsewhere: str) -> list[dict]:
    """Groups of equal spaces: perfect at home, perfect next door (place 0.5), too big at home
    (size below 1), over budget at home (price below 1) and perfect elsewhere (only a point
    reaches them), with availability dates that tie in pairs."""
    layer = []
    for k in range(6):
        day = DAY0 - dt.timedelta(days=k % 3)
        layer += [
            _prop(f"h.{k}", home, k, available_from=day),
            _prop(f"a.{k}", adjacent, k, available_from=day),
            _prop(f"s.{k}", home, k, area=250.0, available_from=day),
            _prop(f"r.{k}", home, k, rate=72.0, available_from=day),  # 600 EUR a month
            _prop(f"e.{k}", elsewhere, k, available_from=day),
        ]
    return layer


def test_slices_break_ties_at_every_steps_floor_as_the_window_does():
    home, elsewhere = _far_apart()
    adjacent = sorted(areas().adjacent(home))[0]
    layer = _tied_layer(home, adjacent, elsewhere)
    x, y = points_in(elsewhere)[0]
    base = {
        "min_area_m2": 50, "max_area_m2": 150, "max_rent_eur_month": 500, "uses": ["kantoor"],
        "needed_from": DAY0,
    }  # fmt: skip
    needs = [
        NeedQuery(id=1, areas=[home], **base),
        NeedQuery(id=2, areas=[adjacent], **base),
        NeedQuery(id=3, areas=[home], x=x, y=y, max_distance_m=400.0, **base),
        NeedQuery(id=4, areas=[home], max_distance_m=800.0, **base),
        NeedQuery(id=5, x=x, y=y, max_distance_m=3000.0, **base),
        NeedQuery(id=6, **base),
        NeedQuery(id=7, areas=[home], accessible=True, **base),
    ]
    ix = build(layer, needs)
    seen_lengths = set()
    for need in ix.needs:
        for weights in WEIGHTS:
            for limit in (1, 2, 3, 5, 6, 7, 11, 12, 13, 18, 25, 30):
                got, want = _both(ix, need, limit, weights)
                assert got == want, (need.id, weights, limit)
                seen_lengths.add(len(want))
    assert {1, 6, 12, 25} <= seen_lengths  # the floors fell inside each group of equal spaces


def test_the_ranking_reads_the_join_only_where_it_pays(monkeypatch):
    """``rank_properties`` without ``trees`` picks the read by the spaces the need can reach."""
    from spacematch.matching import slices

    home, _ = _far_apart()
    ix = build([_prop(f"h.{k}", home, k) for k in range(6)])
    need = NeedQuery(
        id=None, min_area_m2=50, max_area_m2=150, max_rent_eur_month=500, uses=["kantoor"],
        needed_from=DAY0, areas=[home],
    )  # fmt: skip
    calls = []
    real = slices.rank_by_slices
    monkeypatch.setattr(slices, "rank_by_slices", lambda *a: calls.append(1) or real(*a))
    want = rows_of(rank_properties(ix, need, trees=True))
    assert len(want) == 6 and not calls
    for start, used in ((7, 0), (6, 1), (0, 1)):
        calls.clear()
        monkeypatch.setattr(slices, "SLICES_FROM", start)
        assert rows_of(rank_properties(ix, need)) == want
        assert len(calls) == used
