"""Two data versions: need writes leave the property side of the matching index alone.

A burst of submissions used to bump the one data version per submission, so every process
rebuilt its whole index (properties, R-trees, every open need's plan) on the next match query.
Now need writes bump ``data_version`` only and property writes bump ``property_version`` too:
ranking properties for one need reuses the index as long as the properties are unchanged.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from spacematch import get_store
from spacematch.domain.needs import (
    NewNeed,
    create_need,
    update_need,
    validate_need,
)
from spacematch.domain.workflow import transition
from spacematch.matching import IndexCache
from spacematch.models import Need, Property
from spacematch.web.common import area_index
from spacematch.web.state import state

NEED = {
    "initiative": "Buurtkeuken De Pijp",
    "legal_form": "cooperatie",
    "sector": "voedsel",
    "contact_name": "A. de Vries",
    "contact_email": "a@example.org",
    "min_area_m2": 40,
    "max_area_m2": 200,
    "max_rent_eur_month": 3000,
    "uses": ["kantoor", "horeca", "atelier"],
    "areas": ["K", "A"],
    "needed_from": (dt.date.today() + dt.timedelta(days=10)).isoformat(),
}


def _add_need(app, **changes) -> NewNeed:
    with app.app_context():
        need = validate_need({**NEED, **changes}, areas=area_index())
    with get_store(app).one_statement() as conn:  # as the intake stores it
        return create_need(conn, need)


def test_need_writes_bump_the_data_version_only(seeded_app):
    store = get_store(seeded_app)
    before = store.versions()
    row = _add_need(seeded_app)
    assert store.versions() == (before[0] + 1, before[1])
    with seeded_app.app_context():
        need = validate_need({**NEED, "max_area_m2": 300}, areas=area_index())
    with store.session() as session:
        update_need(session.get(Need, row.id), need)
    assert store.versions() == (before[0] + 2, before[1])


def test_any_write_to_needs_moves_the_data_version(seeded_app):
    """The database triggers of migration 0003 see every writer, plain SQL included."""
    store = get_store(seeded_app)
    row = _add_need(seeded_app)
    seen = [store.versions()]
    for sql in (
        "UPDATE need SET description = 'x' WHERE id = :id",
        "DELETE FROM need WHERE id = :id",
    ):
        with store.session() as session:
            session.execute(text(sql), {"id": row.id})
        seen.append(store.versions())
    assert [v[0] - seen[0][0] for v in seen] == [0, 1, 2]
    assert {v[1] for v in seen} == {seen[0][1]}


def test_a_failed_submission_moves_nothing(seeded_app):
    """The INSERT and its trigger are one transaction: a refused row leaves the version alone."""
    store = get_store(seeded_app)
    row = _add_need(seeded_app)
    before = store.versions()
    with seeded_app.app_context():
        need = validate_need(NEED, areas=area_index())
    with pytest.raises(IntegrityError), store.one_statement() as conn:
        conn.execute(insert(Need).values(token=row.token, **need.columns()))  # token is unique
    assert store.versions() == before


def test_property_writes_bump_both_versions(seeded_app):
    store = get_store(seeded_app)
    before = store.versions()
    with store.session() as session:
        prop = session.query(Property).filter_by(status="beschikbaar").first()
        transition(session, property_id=prop.id, to_status="ingetrokken", need_id=None,
                   reason="test", actor="officer@example.org")  # fmt: skip
    after = store.versions()
    assert after[0] == before[0] + 1 and after[1] == before[1] + 1


def test_submissions_cost_a_need_query_no_rebuild(seeded_app):
    store = get_store(seeded_app)
    with seeded_app.app_context():
        cache = IndexCache(store, area_index())
    first = cache.get()
    assert cache.builds == 1
    for i in range(5):
        _add_need(seeded_app, initiative=f"Initiatief {i}")
    assert cache.get(current_needs=False) is first  # properties unchanged: no rebuild at all
    assert cache.builds == 1

    current = cache.get()  # the officer's view: needs re-read, properties shared
    assert current is not first and cache.builds == 2
    assert current.use_trees is first.use_trees and current.ids is first.ids
    assert len(current.needs) == len(first.needs) + 5
    assert current.data_version == store.versions()[0]


def test_a_property_change_rebuilds_even_for_one_needs_ranking(seeded_app):
    store = get_store(seeded_app)
    with seeded_app.app_context():
        cache = IndexCache(store, area_index())
    first = cache.get(current_needs=False)
    with store.session() as session:
        prop = session.query(Property).filter_by(status="beschikbaar").first()
        transition(session, property_id=prop.id, to_status="ingetrokken", need_id=None,
                   reason="test", actor="officer@example.org")  # fmt: skip
    second = cache.get(current_needs=False)
    assert second is not first and second.use_trees is not first.use_trees
    assert not second.available[second.position[prop.id]]


def test_the_match_api_ranks_new_needs_without_rebuilding(seeded_app):
    client = seeded_app.test_client()
    made = [client.post("/api/needs", json={**NEED, "initiative": f"N{i}"}) for i in range(3)]
    assert [r.status_code for r in made] == [201, 201, 201]
    first = made[0].get_json()
    assert client.get(f"/api/needs/{first['id']}/matches?token={first['token']}").status_code == 200
    cache = state(seeded_app).index
    builds = cache.builds
    for i in range(3):
        data = client.post("/api/needs", json={**NEED, "initiative": f"M{i}"}).get_json()
        response = client.get(f"/api/needs/{data['id']}/matches?token={data['token']}")
        assert response.status_code == 200 and response.get_json()["matches"]
    assert cache.builds == builds
