"""The private need page: its status in words (naming the property in option or assigned), the
keep-this-link notice, numbered fits, no edit once withdrawn; and the intake's postcode place."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from spacematch import get_store
from spacematch.domain import workflow
from spacematch.models import Need, Property


def _open_need_and_property(app) -> tuple[Need, Property]:
    with get_store(app).sessions() as session:
        need = session.scalar(select(Need).where(Need.status == "open").order_by(Need.id))
        prop = session.scalar(
            select(Property).where(Property.status == "beschikbaar").order_by(Property.id)
        )
    return need, prop


def test_status_names_the_property_in_option_then_assigned(seeded_app, client):
    need, prop = _open_need_and_property(seeded_app)
    page = client.get(f"/needs/{need.token}").get_data(as_text=True)
    assert 'data-kind="open"' in page and "Bewaar deze link" in page
    assert f"/needs/{need.token}" in page  # the link to keep, in a box to copy from
    for step, words in (("in_optie", "In optie:"), ("toegewezen", "Gehuisvest in")):
        with get_store(seeded_app).session() as session:
            workflow.transition(session, property_id=prop.id, to_status=step, need_id=need.id,
                                reason="test", actor="officer@example.org")  # fmt: skip
        page = client.get(f"/needs/{need.token}").get_data(as_text=True)
        status = re.search(r'id="need-status"[^>]*>(.*?)</div>', page, re.S).group(1)
        assert words in status and (prop.name or prop.id) in status, step
        assert str(dt.date.today().year) in status  # "sinds <date>"


def test_fits_are_numbered_and_a_withdrawn_need_offers_no_edit(seeded_app, client):
    need, _ = _open_need_and_property(seeded_app)
    page = client.get(f"/needs/{need.token}").get_data(as_text=True)
    ranks = re.findall(r'<li class="fit-card" id="fit-(\d+)"', page)
    assert ranks == [str(i) for i in range(1, len(ranks) + 1)]
    assert f"/needs/{need.token}/edit" in page
    client.post(f"/needs/{need.token}/withdraw")  # CSRF is off in the test app
    page = client.get(f"/needs/{need.token}").get_data(as_text=True)
    assert 'data-kind="ingetrokken"' in page
    assert f"/needs/{need.token}/edit" not in page
    response = client.get(f"/needs/{need.token}/edit")
    assert response.status_code == 302 and response.headers["Location"].endswith(need.token)


def test_a_postcode_places_the_need_and_an_unknown_one_is_refused(seeded_app, client):
    form = {
        "initiative": "Buurtatelier 1094", "legal_form": "stichting", "sector": "cultuur",
        "contact_name": "An", "contact_email": "an@example.org", "min_area_m2": "20",
        "max_area_m2": "200", "max_rent_eur_month": "2000", "uses": "atelier",
        "needed_from": (dt.date.today() + dt.timedelta(days=30)).isoformat(), "min_months": "12",
        "max_distance_m": "800",
    }  # fmt: skip
    wrong = client.post("/needs/new", data={**form, "postcode": "9999"})
    assert wrong.status_code == 400
    page = wrong.get_data(as_text=True)
    assert 'href="#postcode"' in page and 'aria-invalid="true"' in page
    assert 'value="Buurtatelier 1094"' in page  # what was typed is kept
    ok = client.post("/needs/new", data={**form, "postcode": "1094"})
    assert ok.status_code == 302
    with get_store(seeded_app).sessions() as session:
        need = session.scalar(select(Need).where(Need.initiative == "Buurtatelier 1094"))
    assert need.x is not None and need.max_distance_m == 800
