import datetime as dt

import pytest

from spacematch import get_store
from spacematch.models import Need

TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


def valid_need(**changes):
    need = {
        "initiative": "Buurtkeuken De Pijp",
        "legal_form": "cooperatie",
        "sector": "voedsel",
        "contact_name": "Fatima de Vries",
        "contact_email": "fatima@example.org",
        "description": "Een gedeelde keuken voor de buurt.",
        "min_area_m2": 80,
        "max_area_m2": 150,
        "max_rent_eur_month": 1500,
        "uses": ["horeca", "winkel"],
        "areas": ["K", "AE02"],
        "point": [4.89372, 52.37322],
        "max_distance_m": 1500,
        "needed_from": TOMORROW,
        "min_months": 24,
        "accessible": True,
    }
    need.update(changes)
    return need


def test_post_need_stores_it_and_returns_token(client, app):
    response = client.post("/api/needs", json=valid_need())
    assert response.status_code == 201
    body = response.get_json()
    assert body["url"] == f"/needs/{body['token']}"
    assert len(body["token"]) >= 40
    with get_store(app).sessions() as session:
        need = session.get(Need, body["id"])
        assert need.initiative == "Buurtkeuken De Pijp"
        assert need.area_list == ["K", "AE02"]
        assert need.use_list == ["winkel", "horeca"]
        assert need.x == pytest.approx(121394, abs=1.0)
        assert need.y == pytest.approx(487375, abs=1.0)
        assert need.status == "open"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"min_area_m2": 200, "max_area_m2": 100}, "min_area_m2"),
        ({"min_area_m2": -5}, "min_area_m2"),
        ({"areas": ["ZZ99"]}, "areas"),
        ({"needed_from": "2001-01-01"}, "needed_from"),
        ({"needed_from": "31-12-2027"}, "needed_from"),
        ({"uses": []}, "uses"),
        ({"uses": ["kitchen"]}, "uses"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"legal_form": "bv"}, "legal_form"),
        ({"point": [5.1214, 52.0907]}, "point"),  # Utrecht
        ({"point": "x"}, "point"),
        ({"max_rent_eur_month": "veel"}, "max_rent_eur_month"),
        ({"min_months": 2.5}, "min_months"),
        ({"accessible": "maybe"}, "accessible"),
        ({"initiative": ""}, "initiative"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_need_is_400_naming_the_field_and_stores_nothing(client, app, changes, field):
    response = client.post("/api/needs", json=valid_need(**changes))
    assert response.status_code == 400
    assert field in response.get_json()["errors"]
    with get_store(app).sessions() as session:
        assert session.query(Need).count() == 0


def test_every_problem_is_reported_at_once(client):
    response = client.post("/api/needs", json={"min_area_m2": -1, "uses": ["x"]})
    errors = response.get_json()["errors"]
    assert {"initiative", "min_area_m2", "uses", "areas", "needed_from", "contact_email"} <= set(
        errors
    )


def test_errors_in_dutch_by_default_and_english_on_request(client):
    response = client.post("/api/needs", json=valid_need(uses=[]))
    assert response.get_json()["errors"]["uses"] == "Kies minstens één gebruik."
    response = client.post("/api/needs?lang=en", json=valid_need(uses=[]))
    assert response.get_json()["errors"]["uses"] == "Choose at least one use."
    response = client.post(
        "/api/needs", headers={"Accept-Language": "en"}, json=valid_need(uses=[])
    )
    assert response.get_json()["errors"]["uses"] == "Choose at least one use."


def test_not_json_is_400(client):
    response = client.post("/api/needs", data="hello", content_type="text/plain")
    assert response.status_code == 400
    assert "errors" in response.get_json()
