"""Interest in fits: the API (order, 400 naming unknown or non-fitting ids), the officer's
candidates (interested needs first), the private page's buttons, introductions between consenting
initiatives, and the mail before a meanwhile lease ends. Acceptance tests of issue 12."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

from builders import point, stored_areas, write_layer
from sqlalchemy import select

from spacematch import formatting, get_store
from spacematch.domain import interests, workflow
from spacematch.ingest.importer import import_layer
from spacematch.models import NeedMail, Outbox

DAM_RD = (121394.0, 487375.0)
FAR_RD = (128000.0, 481000.0)  # Zuidoost side: outside the need's buurt and its tolerance


def _need(app, **fields) -> dict:
    buurt = stored_areas(app).buurt_of_points([DAM_RD[0]], [DAM_RD[1]])[0]
    return {
        "initiative": "Buurtwerkplaats", "legal_form": "cooperatie", "sector": "maken",
        "contact_name": "Ada Aanvrager", "contact_email": "ada@example.org",
        "min_area_m2": 100, "max_area_m2": 150, "max_rent_eur_month": 1200,
        "uses": ["kantoor"], "areas": [buurt],
        "needed_from": (dt.date.today() + dt.timedelta(days=30)).isoformat(), **fields,
    }  # fmt: skip


def _layer(app, tmp_path, *features) -> None:
    path = write_layer(tmp_path / "laag.geojson", list(features))
    import_layer(get_store(app), path, layer="laag", title="Laag")


def _submit(client, app, **fields) -> dict:
    response = client.post("/api/needs", json=_need(app, **fields))
    assert response.status_code == 201, response.json
    return response.json


def _spaces(app, tmp_path) -> None:
    _layer(app, tmp_path, point("p1", DAM_RD, uses="kantoor"),
           point("p2", DAM_RD, uses="kantoor", area_m2=140),
           point("far", FAR_RD, uses="grond"))  # fmt: skip


def test_put_and_get_interests_in_order_and_400_naming_wrong_ids(app, client, tmp_path):
    _spaces(app, tmp_path)
    need = _submit(client, app)
    url = f"/api/needs/{need['id']}/interests?token={need['token']}"
    assert client.get(url).json["properties"] == []
    response = client.put(url, json={"properties": ["laag.p2", "laag.p1"]})
    assert response.status_code == 200, response.json
    assert client.get(url).json["properties"] == ["laag.p2", "laag.p1"]
    response = client.put(url, json={"properties": ["laag.p1", "laag.far", "nope.x"]})
    assert response.status_code == 400
    assert "laag.far" in response.json["errors"]["properties"]
    assert "nope.x" in response.json["errors"]["properties"]
    assert "laag.p1," not in response.json["errors"]["properties"]
    assert client.get(url).json["properties"] == ["laag.p2", "laag.p1"]  # unchanged
    for bad in ({"properties": "laag.p1"}, {"properties": [1]}, [], {}):
        response = client.put(url, json=bad)
        assert (
            response.status_code == 400
            and '{"properties": [...]}' in response.json["errors"]["properties"]
        )
    wrong = f"/api/needs/{need['id']}/interests?token=x{need['token']}"
    assert client.put(wrong, json={"properties": []}).status_code == 403
    assert client.get(wrong).status_code == 403
    with get_store(app).sessions() as session:  # the API the allocation rounds read
        assert interests.interests_of(session, need["id"]) == ["laag.p2", "laag.p1"]
        assert interests.interested_in(session, "laag.p1") == {need["id"]: 2}


def test_candidates_put_interested_needs_first_with_their_rank(app, client, tmp_path, login):
    _spaces(app, tmp_path)
    best = _submit(client, app, initiative="Precies passend")
    keen = _submit(client, app, initiative="Graag deze", min_area_m2=60, max_area_m2=200,
                   max_rent_eur_month=5000)  # fmt: skip
    login("officer")
    rows = client.get("/api/properties/laag.p1/candidates").json["matches"]
    assert [r["need"] for r in rows] == [best["id"], keen["id"]]  # by score before any interest
    assert all(r["interested"] is False and r["interest_rank"] is None for r in rows)
    url = f"/api/needs/{keen['id']}/interests?token={keen['token']}"
    assert client.put(url, json={"properties": ["laag.p2", "laag.p1"]}).status_code == 200
    rows = client.get("/api/properties/laag.p1/candidates").json["matches"]
    assert rows[0]["need"] == keen["id"] and rows[0]["interested"] is True
    assert rows[0]["interest_rank"] == 2
    assert {r["need"] for r in rows[1:]} >= {best["id"]}
    listing = client.get("/properties").get_data(as_text=True)
    assert "1 met interesse" in listing


def test_private_page_interest_buttons_and_one_introduction(app, client, tmp_path):
    _spaces(app, tmp_path)
    ada = _submit(client, app, introductions=True)
    bea = _submit(client, app, initiative="Bakkerij Bea", contact_name="Bea Bakker",
                  contact_email="bea@example.org", introductions=True)  # fmt: skip
    cas = _submit(client, app, initiative="Geheim Collectief", contact_email="cas@example.org")
    for need in (ada, bea, cas):
        page = client.get(f"/needs/{need['token']}").get_data(as_text=True)
        assert "Wij hebben interesse" in page
        response = client.post(f"/needs/{need['token']}/interest",
                               data={"property": "laag.p1", "action": "add"})  # fmt: skip
        assert response.status_code == 302
    page = client.get(f"/needs/{ada['token']}").get_data(as_text=True)
    assert "Interesse, voorkeur 1" in page
    assert "Bakkerij Bea" in page  # consented, interested in the same space
    assert "Geheim Collectief" not in page  # did not consent
    assert "bea@example.org" not in page and "Bea Bakker" not in page
    response = client.post(f"/needs/{ada['token']}/interest",
                           data={"property": "laag.far", "action": "add"})  # fmt: skip
    assert response.status_code == 400  # not a fit
    for _ in range(2):  # one introduction per pair and space
        response = client.post(f"/needs/{ada['token']}/introduce",
                               data={"property": "laag.p1", "to": str(bea["id"]),
                                     "message": "Samen <b>huren</b>?"})  # fmt: skip
        assert response.status_code == 302
    response = client.post(f"/needs/{ada['token']}/introduce",
                           data={"property": "laag.p1", "to": str(cas["id"])})  # fmt: skip
    assert response.status_code == 400
    with get_store(app).sessions() as session:
        intros = list(session.scalars(select(Outbox).where(Outbox.kind == "introduction")))
    assert [r.recipient for r in intros] == ["bea@example.org"]
    files = sorted((tmp_path / "instance" / "mail").glob("*-introduction.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["Reply-To"] == "ada@example.org"
    assert "Buurtwerkplaats" in message.get_body(("plain",)).get_content()
    assert "Samen <b>huren</b>?" in message.get_body(("plain",)).get_content()
    assert "Samen &lt;b&gt;huren&lt;/b&gt;?" in message.get_body(("html",)).get_content()


def test_lease_end_mail_lists_fits_available_before_the_end(app, client, tmp_path, login):
    until = dt.date.today() + dt.timedelta(days=60)
    later = (until + dt.timedelta(days=30)).isoformat()
    _layer(
        app,
        tmp_path,
        point(
            "tijdelijk",
            DAM_RD,
            uses="kantoor",
            available_from="2026-01-01",
            available_until=until.isoformat(),
        ),
        point("op_tijd", DAM_RD, uses="kantoor", name="Op tijd"),
        point("te_laat", DAM_RD, uses="kantoor", name="Te laat", available_from=later),
    )
    need = _submit(client, app, needed_from=(dt.date.today() + dt.timedelta(days=1)).isoformat(),
                   min_months=1)  # fmt: skip
    with get_store(app).sessions() as session:
        code = session.get(NeedMail, need["id"]).unsubscribe_token
    client.get(f"/needs/{need['token']}?confirm={code}")  # as from the confirmation mail
    with get_store(app).session() as session:
        workflow.transition(session, property_id="laag.tijdelijk", to_status="toegewezen",
                            need_id=need["id"], reason="huurcontract", actor="test")  # fmt: skip
    runner = app.test_cli_runner()
    result = runner.invoke(args=["notify"])
    assert "1 lease-end mails" in result.output, result.output
    assert "0 lease-end mails" in runner.invoke(args=["notify"]).output  # once per lease
    (path,) = (tmp_path / "instance" / "mail").glob("*-lease_end.eml")
    body = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = body.get_body(("plain",)).get_content()
    assert until.isoformat() in text and "Op tijd" in text and "Te laat" not in text
    assert body["List-Unsubscribe"]
    with get_store(app).sessions() as session:
        assert session.get(NeedMail, need["id"]).lease_notice_for == until
    login("officer")
    listing = client.get("/properties").get_data(as_text=True)
    assert 'id="leases-ending"' in listing and formatting.date(until, "nl") in listing


def test_private_page_orders_interests_up_and_down(app, client, tmp_path):
    _spaces(app, tmp_path)
    need = _submit(client, app)
    page_url, url = (
        f"/needs/{need['token']}",
        f"/api/needs/{need['id']}/interests?token={need['token']}",
    )

    def press(pid: str, action: str) -> None:
        response = client.post(f"{page_url}/interest", data={"property": pid, "action": action})
        assert response.status_code == 302

    press("laag.p1", "add")
    press("laag.p2", "add")
    assert client.get(url).json["properties"] == ["laag.p1", "laag.p2"]
    page = client.get(page_url).get_data(as_text=True)
    assert page.count('value="down"') == 1 and page.count('value="up"') == 1  # ends have one
    press("laag.p1", "down")
    assert client.get(url).json["properties"] == ["laag.p2", "laag.p1"]
    press("laag.p1", "down")  # already last: nothing moves
    assert client.get(url).json["properties"] == ["laag.p2", "laag.p1"]
    press("laag.p1", "up")
    assert client.get(url).json["properties"] == ["laag.p1", "laag.p2"]
