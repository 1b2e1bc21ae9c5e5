"""The matching API and the index cache, on a real store (fixtures from conftest)."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely
from sqlalchemy import select

from spacematch import get_store
from spacematch.db import Store, bump_data_version
from spacematch.domain.areas import AreaIndex
from spacematch.matching import (
    IndexCache,
    MatchIndex,
    NeedQuery,
    rank_properties,
)
from spacematch.models import Layer, Need, Property

BUURT = "AE02"  # Oude Kerk e.o.
TOKEN = "t0ken-" + "x" * 30


def add_property(session, areas: AreaIndex, pid: str, buurt: str = BUURT, **kw) -> None:
    if session.get(Layer, "bedrijf") is None:
        session.add(Layer(slug="bedrijf", title="Bedrijf"))
        session.flush()
    point = shapely.point_on_surface(areas.geoms[buurt])
    values = {
        "area_m2": 150.0,
        "rent_eur_m2_year": 96.0,
        "uses": "kantoor",
        "available_from": dt.date(2026, 2, 1),
        "available_until": None,
        "accessible": True,
        "status": "beschikbaar",
        **kw,
    }
    session.add(
        Property(
            id=f"bedrijf.{pid}",
            layer="bedrijf",
            source_id=pid,
            name=pid,
            geom_type="Point",
            geom=shapely.to_wkb(point),
            x=point.x,
            y=point.y,
            minx=point.x,
            miny=point.y,
            maxx=point.x,
            maxy=point.y,
            buurt_code=buurt,
            **values,
        )
    )
    bump_data_version(session)


def add_need(session, **kw) -> int:
    values = {
        "token": TOKEN,
        "initiative": "Voedselcoop",
        "legal_form": "cooperatie",
        "sector": "voedsel",
        "contact_name": "A",
        "contact_email": "a@example.org",
        "min_area_m2": 100.0,
        "max_area_m2": 200.0,
        "max_rent_eur_month": 1500.0,
        "uses": "kantoor",
        "areas": BUURT,
        "needed_from": dt.date(2026, 3, 1),
        "min_months": 12,
        "status": "open",
        **kw,
    }
    row = Need(**values)
    session.add(row)
    session.flush()
    bump_data_version(session)
    return row.id


@pytest.fixture
def stocked(app):
    """The app with two properties and one need (id returned)."""
    store = get_store(app)
    with store.session() as session:
        areas = AreaIndex.from_session(session)
        add_property(session, areas, "1", area_m2=142.0, rent_eur_m2_year=1180 * 12 / 142.0)
        add_property(session, areas, "2", buurt=sorted(areas.adjacent(BUURT))[0])
        add_property(session, areas, "3", status="toegewezen")
        need_id = add_need(session)
    return need_id


def test_need_matches_with_token_in_the_designed_shape(client, stocked):
    response = client.get(f"/api/needs/{stocked}/matches?token={TOKEN}&lang=en")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"need", "matches"} and body["need"] == stocked
    assert [m["property"] for m in body["matches"]] == ["bedrijf.1", "bedrijf.2"]
    first = body["matches"][0]
    assert set(first) == {"property", "score", "criteria"}
    assert first["score"] == 1.0
    assert first["criteria"] == {
        "size": {"score": 1.0, "reason": "142 m², within 100–200 m²"},
        "price": {"score": 1.0, "reason": "€1,180 a month, within the €1,500 budget"},
        "place": {"score": 1.0, "reason": "in preferred buurt Oude Kerk e.o."},
    }
    assert body["matches"][1]["criteria"]["place"]["score"] == 0.5
    dutch = client.get(f"/api/needs/{stocked}/matches?token={TOKEN}&lang=nl&limit=1").get_json()
    assert dutch["matches"][0]["criteria"]["size"]["reason"] == "142 m², binnen 100–200 m²"
    assert len(dutch["matches"]) == 1


def test_need_matches_need_token_or_officer(client, stocked, login):
    assert client.get(f"/api/needs/{stocked}/matches").status_code == 401
    wrong = client.get(f"/api/needs/{stocked}/matches?token=nope")
    assert wrong.status_code == 403 and "token" in wrong.get_json()["errors"]
    login("planner")
    assert client.get(f"/api/needs/{stocked}/matches").status_code == 403
    client.post("/logout")
    login("officer", "officer@example.org")
    assert client.get(f"/api/needs/{stocked}/matches").status_code == 200


@pytest.mark.parametrize("limit", ["0", "501", "abc", "1.5", "-3", ""])
def test_bad_limit_is_a_400_with_a_field_message(client, stocked, limit):
    response = client.get(f"/api/needs/{stocked}/matches?token={TOKEN}&limit={limit}")
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"limit"}


def test_unknown_need_and_property_are_404_json(client, stocked, login):
    login("officer")
    missing = client.get("/api/needs/9999/matches")
    assert missing.status_code == 404 and "need" in missing.get_json()["errors"]
    missing = client.get("/api/properties/bedrijf.none/candidates")
    assert missing.status_code == 404 and "property" in missing.get_json()["errors"]


def test_property_candidates_for_officers_with_priority(client, stocked, login):
    assert client.get("/api/properties/bedrijf.1/candidates").status_code == 401
    login("officer")
    body = client.get("/api/properties/bedrijf.1/candidates?priority=1&lang=nl").get_json()
    assert body["property"] == "bedrijf.1"
    (row,) = body["matches"]
    assert row["need"] == stocked and row["score"] == 1.0 and row["priority"] == 1.0
    assert set(row["criteria"]) == {"size", "price", "place"}
    assert row["priority_reason"].startswith("gemeenschapseconomie (coöperatie)")
    assert client.get("/api/properties/bedrijf.3/candidates").get_json()["matches"] == []
    assert client.get("/api/properties/bedrijf.1/candidates?priority=maybe").status_code == 400


def test_changed_data_is_seen_on_the_next_request(client, app, stocked):
    url = f"/api/needs/{stocked}/matches?token={TOKEN}"
    assert len(client.get(url).get_json()["matches"]) == 2
    store = get_store(app)
    with store.session() as session:
        session.get(Property, "bedrijf.2").status = "in_optie"
        bump_data_version(session)
    assert len(client.get(url).get_json()["matches"]) == 1


def test_index_cache_rebuilds_only_when_the_data_version_moves(app, stocked):
    store = get_store(app)
    other = Store(store.url)  # a second process on the same database
    try:
        with store.sessions() as session:
            areas = AreaIndex.from_session(session)
        first, second = IndexCache(store, areas), IndexCache(other, areas)
        a = first.get()
        assert first.get() is a and first.builds == 1
        assert isinstance(a, MatchIndex) and a.data_version == store.data_version()
        assert second.get().data_version == a.data_version
        with store.session() as session:
            add_property(session, areas, "4")
        b = first.get()
        assert b is not a and first.builds == 2 and "bedrijf.4" in b.position
        assert "bedrijf.4" in second.get().position and second.builds == 2
        assert first.get() is b
    finally:
        other.dispose()


def test_index_from_store_reads_every_column(app, stocked):
    store = get_store(app)
    with store.session() as session:
        areas = AreaIndex.from_session(session)
        add_property(
            session,
            areas,
            "5",
            available_until=dt.date(2027, 2, 28),
            accessible=False,
            uses="atelier,kantoor",
        )
    ix = MatchIndex.from_store(store, areas)
    pos = ix.position["bedrijf.5"]
    assert ix.avail_until[pos].astype("datetime64[D]") == dt.date(2027, 2, 28)
    assert ix.avail_from[pos].astype("datetime64[D]") == dt.date(2026, 2, 1)
    assert not ix.accessible[pos] and ix.buurt_code_at(pos) == BUURT
    assert [n.id for n in ix.needs] == [stocked]
    with store.sessions() as session:
        need = NeedQuery.from_need(session.get(Need, stocked))
    assert "bedrijf.5" in [m.property_id for m in rank_properties(ix, need)]


def test_every_demo_need_with_a_fit_gets_explained_matches(seeded_app, login):
    client = seeded_app.test_client()
    with get_store(seeded_app).sessions() as session:
        rows = session.execute(select(Need.id, Need.token)).all()
        areas = AreaIndex.from_session(session)
    ix = MatchIndex.from_store(get_store(seeded_app), areas)
    with_fit = 0
    for need_id, token in rows:
        body = client.get(f"/api/needs/{need_id}/matches?token={token}&limit=5").get_json()
        with get_store(seeded_app).sessions() as session:
            need = NeedQuery.from_need(session.get(Need, need_id))
        expected = [m.property_id for m in rank_properties(ix, need, limit=5, use_index=False)]
        assert [m["property"] for m in body["matches"]] == expected
        for m in body["matches"]:
            assert all(c["reason"] and 0.0 <= c["score"] <= 1.0 for c in m["criteria"].values())
        with_fit += bool(expected)
    assert with_fit > len(rows) * 0.5
