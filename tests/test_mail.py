"""Mail through a real SMTP server (aiosmtpd on a local port): confirmation with the private
link, alerts on new fits with RFC 8058 one-click unsubscribe, lost links, status mails and the
outbox's idempotence. Acceptance tests of issue 12."""

from __future__ import annotations

import datetime as dt
import re
from mailbox import Mailbox, text_of
from urllib.parse import urlsplit

import pytest
from builders import point, stored_areas, write_layer
from conftest import make_app
from sqlalchemy import select, update

from spacematch import get_store
from spacematch.ingest.importer import import_layer
from spacematch.models import NeedMail, Outbox

BASE = "https://ruimte.example.nl"
DAM_RD = (121394.0, 487375.0)
LINK = re.compile(re.escape(BASE) + r"(/[^\s\"<>]*)")


@pytest.fixture
def mailbox():
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture
def mail_app(store_url, tmp_path, mailbox):
    app = make_app(
        store_url, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port,
        BASE_URL=BASE, MAIL_SENDER="spacematch <noreply@ruimte.example.nl>",
    )  # fmt: skip
    yield app
    get_store(app).dispose()


def dam_buurt(app) -> str:
    return stored_areas(app).buurt_of_points([DAM_RD[0]], [DAM_RD[1]])[0]


def need_json(app, **fields) -> dict:
    return {
        "initiative": "Buurtwerkplaats De Dam", "legal_form": "cooperatie", "sector": "maken",
        "contact_name": "Ada Aanvrager", "contact_email": "ada@example.org",
        "min_area_m2": 100, "max_area_m2": 150, "max_rent_eur_month": 1200,
        "uses": ["kantoor"], "areas": [dam_buurt(app)],
        "needed_from": (dt.date.today() + dt.timedelta(days=30)).isoformat(), **fields,
    }  # fmt: skip


def import_spaces(app, tmp_path, slug: str, *features) -> None:
    path = write_layer(tmp_path / f"{slug}.geojson", list(features))
    import_layer(get_store(app), path, layer=slug, title=f"Laag {slug}")


def links(text: str) -> list[str]:
    return LINK.findall(text)


def submit(client, app, lang: str = "nl", **fields) -> dict:
    response = client.post(
        "/api/needs", json=need_json(app, **fields), headers={"Accept-Language": lang}
    )
    assert response.status_code == 201, response.json
    return response.json


def age_digests(app, days: int = 2) -> None:
    """As if the last digests were sent ``days`` ago (the period has passed)."""
    with get_store(app).session() as session:
        session.execute(
            update(NeedMail).where(NeedMail.last_digest_at.is_not(None))
            .values(last_digest_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)
                    - dt.timedelta(days=days))
        )  # fmt: skip


def test_submission_confirmation_alert_once_and_one_click_unsubscribe(mail_app, mailbox, tmp_path):
    app, client, runner = mail_app, mail_app.test_client(), mail_app.test_cli_runner()
    ada = submit(client, app, lang="en")
    bea = submit(client, app, initiative="Bakkerij Bea", contact_name="Bea Bakker",
                 contact_email="bea@example.org")  # fmt: skip
    confirm_ada, confirm_bea = mailbox.wait_for(2)
    assert confirm_ada["To"] == "ada@example.org" and confirm_bea["To"] == "bea@example.org"
    assert confirm_ada["Message-ID"] and confirm_ada["Message-ID"] != confirm_bea["Message-ID"]
    assert confirm_ada["Subject"].strip().startswith("Your space need")  # Ada asked in English
    assert "opgeslagen" in text_of(confirm_bea)  # Bea in Dutch
    body = text_of(confirm_ada)
    assert f"{BASE}/needs/{ada['token']}?confirm=" in body
    assert f"{BASE}/needs/{ada['token']}?confirm=" in text_of(confirm_ada, "html")
    assert "Bea" not in body and "bea@example.org" not in body
    assert "List-Unsubscribe" not in confirm_ada  # nothing to unsubscribe from yet

    # The page the submitter was sent to does not confirm; following the mail's link does.
    assert client.get(f"/needs/{ada['token']}").status_code == 200
    with get_store(app).sessions() as session:
        assert session.get(NeedMail, ada["id"]).confirmed_at is None
    for message in (confirm_ada, confirm_bea):
        link = urlsplit(links(text_of(message))[0])
        assert link.path.startswith("/needs/") and "confirm=" in link.query
        assert client.get(f"{link.path}?{link.query}").status_code == 200
    with get_store(app).sessions() as session:
        assert all(m.confirmed_at for m in session.scalars(select(NeedMail)))

    # A layer import brings a fitting space: one digest per need, naming it.
    import_spaces(app, tmp_path, "eerste", point("p1", DAM_RD, name="Werkplaats Damrak 1",
                                                 uses="kantoor", department="Vastgoed Centrum",
                                                 contact="vastgoed@amsterdam.example"))  # fmt: skip
    result = runner.invoke(args=["notify"])
    assert result.exit_code == 0, result.output
    assert "2 digests" in result.output
    digests = mailbox.wait_for(4)[2:]
    by_to = {m["To"]: m for m in digests}
    digest = by_to["ada@example.org"]
    assert "Werkplaats Damrak 1" in text_of(digest) and "Vastgoed Centrum" in text_of(digest)
    assert "Laag eerste" in text_of(digest)  # the source
    unsubscribe = digest["List-Unsubscribe"].strip().strip("<>")
    assert unsubscribe.startswith(f"{BASE}/needs/unsubscribe/")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text_of(digest)  # and a link in the body
    for secret in ("bea@example.org", "Bea Bakker", bea["token"]):
        assert secret not in digest.as_string()

    # A second run right after sends nothing.
    result = runner.invoke(args=["notify"])
    assert "0 digests" in result.output and "0 sent" in result.output
    assert len(mailbox.messages) == 4

    # One-click unsubscribe (RFC 8058), as a mail client sends it: no login, no CSRF token.
    response = client.post(urlsplit(unsubscribe).path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    age_digests(app)
    import_spaces(app, tmp_path, "tweede", point("p2", DAM_RD, name="Atelier Damrak 2",
                                                 uses="kantoor"))  # fmt: skip
    result = runner.invoke(args=["notify"])
    assert "1 digests" in result.output, result.output
    later = mailbox.wait_for(5)[4:]
    assert [m["To"] for m in later] == ["bea@example.org"]  # Ada unsubscribed; Bea did not
    assert "Atelier Damrak 2" in text_of(later[0]) and "Damrak 1" not in text_of(later[0])


def test_unconfirmed_addresses_get_no_alerts(mail_app, mailbox, tmp_path):
    app, client = mail_app, mail_app.test_client()
    need = submit(client, app)
    mailbox.wait_for(1)
    assert client.get(f"/needs/{need['token']}?confirm=guessed").status_code == 200
    import_spaces(app, tmp_path, "eerste", point("p1", DAM_RD, uses="kantoor"))
    result = app.test_cli_runner().invoke(args=["notify"])
    assert "0 needs checked" in result.output
    assert len(mailbox.messages) == 1


def test_lost_links_for_a_known_address_and_the_same_answer_for_an_unknown(mail_app, mailbox):
    app, client = mail_app, mail_app.test_client()
    first = submit(client, app)
    second = submit(client, app, initiative="Tweede vraag")
    other = submit(client, app, contact_email="someone.else@example.org")
    mailbox.wait_for(3)
    known = client.post("/needs/lost", data={"email": "ada@example.org"})
    unknown = client.post("/needs/lost", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.data == unknown.data
    lost = mailbox.wait_for(4)[3:]
    assert [m["To"] for m in lost] == ["ada@example.org"]
    body = text_of(lost[0])
    assert f"{BASE}/needs/{first['token']}" in body and f"{BASE}/needs/{second['token']}" in body
    assert other["token"] not in body
    for link in links(body):
        assert "?confirm=" in link
        assert client.get(link).status_code == 200
    with get_store(app).sessions() as session:  # links that came by mail confirm the address
        assert session.get(NeedMail, first["id"]).confirmed_at is not None


def test_lost_links_are_rate_limited(store_url, tmp_path, mailbox):
    app = make_app(store_url, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_LOST="2 per minute",
                   MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port)  # fmt: skip
    client = app.test_client()
    codes = [client.post("/needs/lost", data={"email": "x@example.org"}).status_code
             for _ in range(3)]  # fmt: skip
    assert codes == [200, 200, 429]
    get_store(app).dispose()


def test_status_mails_name_the_space_and_the_municipal_contact(mail_app, mailbox, tmp_path,
                                                               login):  # fmt: skip
    app = mail_app
    client = app.test_client()
    import_spaces(app, tmp_path, "eerste", point("p1", DAM_RD, name="Werkplaats Damrak 1",
                                                 uses="kantoor", department="Vastgoed Centrum",
                                                 contact="Jan Janssen"))  # fmt: skip
    ada = submit(client, app)
    mailbox.wait_for(1)
    from spacematch.domain.accounts import create_user

    with get_store(app).session() as session:
        create_user(session, email="officer@example.org", role="officer", password="correct horse")
    client.post("/login", data={"email": "officer@example.org", "password": "correct horse"})
    pid = "eerste.p1"
    for to_status in ("in_optie", "beschikbaar", "in_optie", "toegewezen"):
        response = client.post(
            f"/properties/{pid}/status",
            data={"to_status": to_status, "need": str(ada["id"]), "reason": "gesprek gehad"},
        )
        assert response.status_code == 302, response.data
    mails = mailbox.wait_for(5)[1:]
    subjects = [m["Subject"] for m in mails]
    assert "in optie" in subjects[0] and "vervallen" in subjects[1]
    assert "in optie" in subjects[2] and "toegewezen" in subjects[3]
    for m in mails:
        assert "Werkplaats Damrak 1" in text_of(m) and "Vastgoed Centrum, Jan Janssen" in text_of(m)
    page = client.get(f"/properties/{pid}").get_data(as_text=True)
    assert 'id="mails"' in page and page.count("verstuurd") >= 4


def test_failed_delivery_is_retried_with_back_off_and_keeps_its_message_id(store_url, tmp_path):
    box = Mailbox()  # not started: nobody listens on its port
    app = make_app(store_url, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=box.port,
                   MAIL_TIMEOUT=2)  # fmt: skip
    client = app.test_client()
    submit(client, app)
    with get_store(app).sessions() as session:
        row = session.scalar(select(Outbox))
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at > dt.datetime.now(dt.UTC).replace(tzinfo=None)
    box.start()
    try:
        result = app.test_cli_runner().invoke(args=["notify"])
        assert "0 sent" in result.output  # still waiting for its back-off
        with get_store(app).session() as session:
            session.execute(update(Outbox).values(next_attempt_at=dt.datetime(2000, 1, 1)))
        result = app.test_cli_runner().invoke(args=["notify"])
        assert "1 sent" in result.output
        (message,) = box.wait_for(1)
        assert message["Message-ID"] == row.message_id
    finally:
        box.stop()
        get_store(app).dispose()


def test_without_a_mail_server_each_mail_is_an_eml_file_in_the_instance_folder(app, tmp_path):
    client = app.test_client()
    response = client.post("/api/needs", json=need_json(app))
    assert response.status_code == 201
    files = sorted((tmp_path / "instance" / "mail").glob("*.eml"))
    assert len(files) == 1
    assert f"/needs/{response.json['token']}" in files[0].read_text()


def test_one_click_unsubscribe_needs_no_csrf_token_but_its_secret(store_url, tmp_path):
    app = make_app(store_url, tmp_path, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    need = client.post("/api/needs", json=need_json(app)).json
    with get_store(app).sessions() as session:
        settings = session.get(NeedMail, need["id"])
    assert settings.alerts == "daily"
    one_click = {"List-Unsubscribe": "One-Click"}
    assert client.post("/needs/unsubscribe/wrong-secret", data=one_click).status_code == 404
    path = f"/needs/unsubscribe/{settings.unsubscribe_token}"
    assert client.post(path, data=one_click).status_code == 204
    with get_store(app).sessions() as session:
        assert session.get(NeedMail, need["id"]).alerts == "off"
    get_store(app).dispose()


def test_an_option_given_to_another_need_tells_the_first_its_option_was_released(
    app, client, tmp_path
):
    from spacematch.domain import workflow
    from spacematch.mail.messages import status_mail

    import_spaces(
        app,
        tmp_path,
        "eerste",
        point("p1", DAM_RD, name="Werkplaats Damrak 1", uses="kantoor"),
    )
    ada = submit(client, app)
    bea = submit(client, app, initiative="Bakkerij Bea", contact_email="bea@example.org")
    kinds = []
    for to_status, need in (("in_optie", ada), ("toegewezen", bea)):
        with get_store(app).session() as session:
            workflow.transition(
                session, property_id="eerste.p1", to_status=to_status, need_id=need["id"],
                reason="test", actor="officer@example.org",
                on_change=lambda s, e: kinds.extend(
                    (r.kind, r.recipient) for r in status_mail(s, e, domain="example.org")),
            )  # fmt: skip
    assert kinds == [("status_option", "ada@example.org"),
                     ("status_assigned", "bea@example.org"),
                     ("status_released", "ada@example.org")]  # fmt: skip


def test_mails_can_be_left_to_notify_entirely(store_url, tmp_path, mailbox):
    app = make_app(store_url, tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port,
                   MAIL_SEND_AT_ONCE=False)  # fmt: skip
    submit(app.test_client(), app)
    assert mailbox.messages == []
    assert "1 sent" in app.test_cli_runner().invoke(args=["notify"]).output
    assert len(mailbox.wait_for(1)) == 1
    get_store(app).dispose()


def test_the_edit_form_shows_and_saves_the_mail_choices(mail_app):
    app, client = mail_app, mail_app.test_client()
    need = submit(client, app)
    token = need["token"]
    page = client.get(f"/needs/{token}/edit").get_data(as_text=True)
    assert re.search(r'<option selected value="daily">|<option value="daily" selected', page)
    assert 'href="/needs/lost"' not in page  # the link to this page is at hand
    assert 'href="/needs/lost"' in client.get("/needs/new").get_data(as_text=True)
    assert (
        'name="introductions"' in page
        and "checked" not in page.split('name="introductions"')[1][:40]
    )
    form = need_json(app)
    form.update(areas=",".join(form["areas"]), min_months=12, alerts="weekly", introductions="y")
    response = client.post(f"/needs/{token}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with get_store(app).sessions() as session:
        settings = session.scalar(select(NeedMail).where(NeedMail.need_id == need["id"]))
        assert (settings.alerts, settings.introductions) == ("weekly", True)
    page = client.get(f"/needs/{token}/edit").get_data(as_text=True)
    assert re.search(r'<option selected value="weekly">|<option value="weekly" selected', page)
    form.update(alerts="off")
    del form["introductions"]
    assert client.post(f"/needs/{token}/edit", data=form).status_code == 302
    with get_store(app).sessions() as session:
        settings = session.scalar(select(NeedMail).where(NeedMail.need_id == need["id"]))
        assert (settings.alerts, settings.introductions) == ("off", False)
