"""The matching rules one by one: every hard filter excludes (both directions), edges included;
reason texts in both languages; weights; allocation; the summary."""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cache

import numpy as np
import pytest
import shapely

from spacematch.domain.areas import AreaIndex, read_shipped_areas
from spacematch.matching import (
    MatchIndex,
    NeedQuery,
    PropertyArrays,
    Reason,
    format_summary,
    normalise_weights,
    propose_allocation,
    rank_needs,
    rank_properties,
    summary,
)
from spacematch.matching.criteria import add_months
from spacematch.models import Need

BUURT = "AE02"  # Oude Kerk e.o.
NEED = NeedQuery(
    id=1,
    min_area_m2=100,
    max_area_m2=200,
    max_rent_eur_month=1500,
    uses=["kantoor"],
    areas=[BUURT],
    needed_from=dt.date(2026, 3, 1),
    min_months=12,
    legal_form="cooperatie",
)


@cache
def areas() -> AreaIndex:
    records = read_shipped_areas()
    return AreaIndex.from_records(records)


def inside(buurt: str) -> tuple[float, float]:
    p = shapely.point_on_surface(areas().geoms[buurt])
    return p.x, p.y


def prop(**kw) -> dict:
    x, y = inside(kw.get("buurt", BUURT))
    base = {
        "id": "bedrijf.1",
        "buurt": BUURT,
        "x": x,
        "y": y,
        "area": 150.0,
        "rate": 96.0,
        "uses": "kantoor",
        "available_from": dt.date(2026, 2, 1),
        "available_until": None,
        "accessible": True,
        "status": "beschikbaar",
    }
    return {**base, **kw}


def index(props: list[dict], needs: list[NeedQuery] = ()) -> MatchIndex:
    col = lambda k: [p[k] for p in props]  # noqa: E731
    x, y = np.array(col("x")), np.array(col("y"))
    arrays = PropertyArrays(
        ids=col("id"),
        x=x,
        y=y,
        minx=x,
        miny=y,
        maxx=x,
        maxy=y,
        area_m2=np.array(col("area")),
        rent_eur_m2_year=np.array(col("rate")),
        uses=col("uses"),
        available_from=col("available_from"),
        available_until=col("available_until"),
        accessible=np.array(col("accessible")),
        status=col("status"),
        buurt_code=col("buurt"),
    )
    return MatchIndex.from_arrays(arrays, list(needs), areas())


def listed(p: dict, need: NeedQuery = NEED) -> bool:
    """Is the property listed for the need, checked both ways (they must agree)?"""
    ix = index([p], [need])
    forward = [m.property_id for m in rank_properties(ix, need)] == [p["id"]]
    backward = [m.need_id for m in rank_needs(ix, p["id"])] == [need.id]
    assert forward == backward
    return forward


def far_buurt() -> str:
    """A buurt neither in nor next to the preferred one."""
    near = {BUURT, *areas().adjacent(BUURT)}
    return next(b for b in areas().buurten_in("T") if b not in near)


def test_base_case_is_listed():
    assert listed(prop())


@pytest.mark.parametrize("status", ["in_optie", "toegewezen", "ingetrokken"])
def test_status_other_than_beschikbaar_excludes(status):
    assert not listed(prop(status=status))


def test_no_shared_use_excludes():
    assert not listed(prop(uses="opslag,grond"))
    assert listed(prop(uses="opslag,kantoor"))


def test_step_free_required_excludes_other_property():
    need = dataclasses.replace(NEED, accessible=True)
    assert not listed(prop(accessible=False), need)
    assert listed(prop(accessible=True), need)
    assert listed(prop(accessible=False))  # not required: fine


@pytest.mark.parametrize(("days", "ok"), [(90, True), (91, False)])
def test_available_within_90_days_of_needed_from(days, ok):
    assert listed(prop(available_from=NEED.needed_from + dt.timedelta(days=days))) is ok


@pytest.mark.parametrize(
    ("until", "ok"),
    [(dt.date(2027, 2, 28), True), (dt.date(2027, 2, 27), False), (dt.date(2026, 2, 28), False)],
)
def test_meanwhile_space_must_last_min_months(until, ok):
    # Needed from 1 March 2026 for 12 months: through 28 February 2027 inclusive is enough.
    assert listed(prop(available_until=until)) is ok


def test_meanwhile_counts_from_the_later_start():
    # Available only from 1 May: 12 months run to 30 April 2027.
    p = prop(available_from=dt.date(2026, 5, 1), available_until=dt.date(2027, 4, 30))
    assert listed(p)
    assert not listed(dict(p, available_until=dt.date(2027, 4, 29)))


@pytest.mark.parametrize(
    ("area", "ok"), [(50.0, True), (49.9, False), (400.0, True), (400.1, False)]
)
def test_area_within_half_min_and_twice_max(area, ok):
    assert listed(prop(area=area, rate=0.0)) is ok


@pytest.mark.parametrize(("rent", "ok"), [(2250.0, True), (2251.0, False)])
def test_monthly_rent_at_most_one_and_a_half_budget(rent, ok):
    assert listed(prop(area=150.0, rate=rent * 12 / 150.0)) is ok


def test_outside_preferred_and_adjacent_buurten_excludes():
    assert not listed(prop(buurt=far_buurt()))
    neighbour = sorted(areas().adjacent(BUURT))[0]
    assert listed(prop(buurt=neighbour))


def test_point_beyond_max_distance_excludes():
    p = prop(buurt=far_buurt())
    for dx, ok in ((499.0, True), (501.0, False)):
        need = dataclasses.replace(NEED, areas=[], x=p["x"] + dx, y=p["y"], max_distance_m=500.0)
        assert listed(p, need) is ok
    # With a point, a property far away is excluded even if areas are given.
    need = dataclasses.replace(NEED, x=p["x"] + 501.0, y=p["y"], max_distance_m=500.0)
    assert not listed(p, need)


def _near_point() -> tuple[str, float, float, float]:
    """A point in a non-adjacent buurt within a few hundred metres of the preferred buurt."""
    a = areas()
    home = a.geoms[BUURT]
    skip = {BUURT, *a.adjacent(BUURT)}
    rng = np.random.default_rng(3)
    for b in sorted(a.buurten_in("A")):
        if b in skip or home.distance(a.geoms[b]) > 150:
            continue
        geom = a.geoms[b]
        minx, miny, maxx, maxy = geom.bounds
        for _ in range(200):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            d = home.distance(shapely.Point(x, y))
            if geom.contains(shapely.Point(x, y)) and 50 < d < 400:
                return b, x, y, d
    raise AssertionError("no such point")


def test_tolerance_without_point_decays_and_excludes_beyond():
    buurt, x, y, d = _near_point()
    p = prop(buurt=buurt, x=x, y=y)
    assert not listed(p)  # no tolerance: not in, not next to the preferred buurt
    assert not listed(p, dataclasses.replace(NEED, max_distance_m=d - 1))
    need = dataclasses.replace(NEED, max_distance_m=d + 1)
    (m,) = rank_properties(index([p]), need)
    assert m.place == pytest.approx(0.5 * (1 - d / (d + 1)))
    assert m.criteria["place"].reason.code == "place.near"


def test_reasons_read_as_designed():
    p = prop(area=142.0, rate=1180 * 12 / 142.0)
    (m,) = rank_properties(index([p]), NEED)
    c = m.criteria
    assert c["size"].reason.text("nl") == "142 m², binnen 100–200 m²"
    assert c["size"].reason.text("en") == "142 m², within 100–200 m²"
    assert c["price"].reason.text("nl") == "€ 1.180 per maand, binnen budget van € 1.500"
    assert c["price"].reason.text("en") == "€1,180 a month, within the €1,500 budget"
    assert c["place"].reason.text("nl") == "in voorkeursbuurt Oude Kerk e.o."
    assert c["place"].reason.text("en") == "in preferred buurt Oude Kerk e.o."
    assert m.as_json("en")["criteria"]["size"] == {
        "score": 1.0,
        "reason": "142 m², within 100–200 m²",
    }

    neighbour = sorted(areas().adjacent(BUURT))[0]
    (m,) = rank_properties(index([prop(buurt=neighbour, area=90.0, rate=1650 * 12 / 90)]), NEED)
    name = areas().names[neighbour]
    assert (
        m.criteria["place"].reason.text("nl")
        == f"buurt {name} grenst aan voorkeursbuurt Oude Kerk e.o."
    )
    assert (
        m.criteria["price"].reason.text("nl") == "€ 1.650 per maand, € 150 boven budget van € 1.500"
    )
    assert m.criteria["size"].reason.text("en") == "90 m², smaller than the 100–200 m² asked for"
    assert (m.place, m.price, m.size) == (0.5, pytest.approx(0.8), pytest.approx(0.8))

    x, y = inside(BUURT)
    need = dataclasses.replace(NEED, areas=[], x=x + 1200, y=y, max_distance_m=1500)
    (m,) = rank_properties(index([prop()]), need)
    assert m.criteria["place"].reason.text("nl") == "1,2 km van het opgegeven punt (max. 1,5 km)"
    assert m.criteria["place"].reason.text("en") == "1.2 km from the given point (max. 1.5 km)"


def test_reason_numbers_never_look_equal_to_the_bound():
    assert Reason("size.below", {"area": 99.6, "min": 100.0, "max": 200.0}).text("nl") == (
        "99,6 m², kleiner dan gevraagd (100–200 m²)"
    )
    over = Reason("price.over", {"rent": 1500.2, "budget": 1500.0})
    assert over.text("en") == "€1,500.2 a month, €0.20 over the €1,500 budget"
    assert (
        Reason("price.free", {"rent": 0.0, "budget": 0.0}).text("nl")
        == "gratis, binnen budget van € 0"
    )


def test_ties_go_to_earlier_availability_then_lower_id():
    props = [
        prop(id="b.2", available_from=dt.date(2026, 1, 1)),
        prop(id="b.10", available_from=dt.date(2026, 1, 1)),
        prop(id="a.9", available_from=dt.date(2026, 2, 1)),
    ]
    assert [m.property_id for m in rank_properties(index(props), NEED)] == ["b.10", "b.2", "a.9"]


def test_weights_are_validated_and_normalised():
    assert normalise_weights({"size": 1, "price": 1, "place": 2}).tolist() == [0.25, 0.25, 0.5]
    assert normalise_weights({"size": 3}).tolist() == [1.0, 0.0, 0.0]
    for bad in (
        {"size": -1, "price": 1},
        {"size": 0, "price": 0, "place": 0},
        {"colour": 1},
        {"size": float("nan")},
    ):
        with pytest.raises(ValueError):
            normalise_weights(bad)
    p = prop(area=90.0)
    (m,) = rank_properties(index([p]), NEED, weights={"size": 1.0})
    assert m.score == pytest.approx(0.8)


def test_limit_is_checked():
    with pytest.raises(ValueError):
        rank_properties(index([prop()]), NEED, limit=0)


def test_add_months_clips_to_month_end():
    days = np.array(
        [dt.date(2026, 1, 31), dt.date(2028, 1, 31), dt.date(2026, 3, 15)], dtype="datetime64[D]"
    )
    got = add_months(days.astype(np.int64), np.array([1, 1, 12])).astype("datetime64[D]")
    assert got.tolist() == [dt.date(2026, 2, 28), dt.date(2028, 2, 29), dt.date(2027, 3, 15)]


def test_need_query_from_orm_need():
    row = Need(
        id=7,
        min_area_m2=10.0,
        max_area_m2=20.0,
        max_rent_eur_month=100.0,
        uses="kantoor,atelier",
        areas="A,AE02",
        x=None,
        y=None,
        max_distance_m=None,
        needed_from=dt.date(2026, 1, 1),
        min_months=6,
        accessible=True,
        status="open",
        legal_form="stichting",
    )
    q = NeedQuery.from_need(row)
    assert (q.id, q.uses, q.areas, q.min_months, q.is_community) == (
        7,
        ["kantoor", "atelier"],
        ["A", "AE02"],
        6,
        True,
    )
    assert (
        NeedQuery(1, 1, 0, ["kantoor"], dt.date(2026, 1, 1), x=1.0, y=2.0).max_distance_m == 1000.0
    )


def test_priority_is_its_own_field_and_orders_only_when_asked():
    p = prop(id="bedrijf.1")
    stranger = dataclasses.replace(
        NEED, id=2, legal_form="mkb", areas=[], x=p["x"], y=p["y"], max_distance_m=10.0
    )
    local = dataclasses.replace(
        NEED, id=3, legal_form="cooperatie", min_area_m2=200, max_area_m2=300
    )
    ix = index([p], [stranger, local])
    plain = rank_needs(ix, "bedrijf.1")
    assert [(m.need_id, m.priority) for m in plain] == [(2, 0.0), (3, 1.0)]
    assert plain[1].score < plain[0].score
    first = rank_needs(ix, "bedrijf.1", priority=True)
    assert [m.need_id for m in first] == [3, 2]
    assert [m.score for m in first] == [plain[1].score, plain[0].score]  # the score is untouched
    assert (
        first[0]
        .priority_reason.text("nl")
        .startswith("gemeenschapseconomie (coöperatie) en lokaal")
    )
    with pytest.raises(KeyError):
        rank_needs(ix, "no.such")


def test_allocation_gives_each_property_and_need_at_most_once():
    props = [prop(id="p.1", area=150.0), prop(id="p.2", area=60.0)]
    needs = [
        dataclasses.replace(NEED, id=1),
        dataclasses.replace(NEED, id=2, min_area_m2=50, max_area_m2=70),
    ]
    pairs = propose_allocation(index(props, needs), [1, 2], ["p.1", "p.2"])
    assert {(p.need_id, p.property_id) for p in pairs} == {(1, "p.1"), (2, "p.2")}
    assert all(p.criteria["size"].reason.code == "size.within" for p in pairs)
    assert propose_allocation(index(props, needs), [1], []) == []


def test_summary_counts_fits_and_unmatched_per_stadsdeel():
    far = dataclasses.replace(NEED, id=2, areas=[far_buurt()])
    ix = index([prop()], [NEED, far])
    s = summary(ix, areas())
    assert (s["open_needs"], s["needs_with_fit"], s["median_best_score"]) == (2, 1, 1.0)
    assert s["unmatched_by_stadsdeel"]["T"]["unmatched"] == 1
    assert s["unmatched_by_stadsdeel"]["A"] == {"name": "Centrum", "open": 1, "unmatched": 0}
    text = format_summary(s)
    assert "Open needs: 2; with at least one fit: 1 (50%)" in text
    assert "Zuidoost" in text
