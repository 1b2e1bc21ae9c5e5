"""CSRF on every state-changing form, the intake's rate limit, security headers, session cookies."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from conftest import make_app
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from spacematch import get_store
from spacematch.config import DEFAULTS
from spacematch.domain.accounts import create_user
from spacematch.models import AllocationRound, Need, Property
from spacematch.web.security import (
    DEV_SECRET_KEY,
    content_security_policy,
    persistent_secret_key,
    tile_origin,
)

PASSWORD = "correct horse battery"
# Every route that changes state, and how a browser reaches it.
CSRF_FORMS = {
    ("/login", "POST"),
    ("/logout", "POST"),
    ("/needs/new", "POST"),
    ("/needs/<token>/edit", "POST"),
    ("/needs/<token>/withdraw", "POST"),
    ("/properties/<path:property_id>/status", "POST"),
    ("/allocation", "POST"),
    ("/properties/<path:property_id>/uses", "POST"),
    ("/layers/upload", "POST"),
    ("/needs/lost", "POST"),
    ("/needs/<token>/alerts", "POST"),
    ("/needs/<token>/interest", "POST"),
    ("/needs/<token>/introduce", "POST"),
    ("/officer/rounds/<int:round_id>", "POST"),
}
# JSON only: a cross-site HTML form cannot send application/json. And RFC 8058's one-click
# unsubscribe, which a mail client POSTs without any token but the URL's own secret.
CSRF_EXEMPT = {
    ("/api/needs", "POST"),
    ("/api/needs/<int:need_id>/interests", "PUT"),
    ("/needs/unsubscribe/<unsubscribe_token>", "POST"),
    ("/api/rounds", "POST"),
    ("/api/rounds/<int:round_id>/draw", "POST"),
    ("/api/rounds/<int:round_id>/override", "POST"),
    ("/api/rounds/awards/<int:award_id>/accept", "POST"),
    ("/api/rounds/awards/<int:award_id>/refuse", "POST"),
}


def need_form() -> MultiDict:
    needed = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    form = MultiDict({
        "initiative": "Formulier Initiatief", "legal_form": "stichting", "sector": "overig",
        "contact_name": "Formulier Persoon", "contact_email": "formulier@example.org",
        "min_area_m2": "50", "max_area_m2": "100", "max_rent_eur_month": "1000", "areas": "A",
        "needed_from": needed, "min_months": "12",
    })  # fmt: skip
    form.add("uses", "kantoor")
    return form


def need_json() -> dict:
    data = need_form().to_dict(flat=True)
    data.update(uses=["kantoor"], areas=["A"], min_area_m2=50, max_area_m2=100)
    data.update(max_rent_eur_month=1000, min_months=12)
    return data


def count_needs(app) -> int:
    with get_store(app).sessions() as session:
        return session.scalar(select(func.count()).select_from(Need))


def csrf_token_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def state_changing_routes(app) -> set[tuple[str, str]]:
    return {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}
    }


# -- CSRF ----------------------------------------------------------------------------------------


def test_every_state_changing_route_is_a_csrf_form_or_json_only(app):
    routes = state_changing_routes(app)
    unknown = routes - CSRF_FORMS - CSRF_EXEMPT
    assert not unknown, f"decide CSRF for these (add to CSRF_FORMS or CSRF_EXEMPT): {unknown}"
    assert routes == CSRF_FORMS | CSRF_EXEMPT


@pytest.fixture
def csrf_app(store_url, tmp_path):
    """CSRF on, the demo loaded, an admin account and one need."""
    from spacematch.ingest.demo import load_demo

    app = make_app(store_url, tmp_path, WTF_CSRF_ENABLED=True)
    load_demo(get_store(app))
    with get_store(app).session() as session:
        create_user(session, email="admin@example.org", role="admin", password=PASSWORD)
    yield app
    get_store(app).dispose()


def logged_in(app):
    client = app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": "admin@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def test_every_form_refuses_a_post_without_its_csrf_token(csrf_app):
    app = csrf_app
    client = logged_in(app)
    with get_store(app).sessions() as session:
        need = session.scalars(select(Need).where(Need.status == "open").order_by(Need.id)).first()
        prop = session.scalars(
            select(Property).where(Property.status == "beschikbaar").order_by(Property.id)
        ).first()
        token, pid = need.token, prop.id
    from spacematch.matching.round_store import open_round

    with get_store(app).session() as session:
        others = session.scalars(
            select(Property.id).where(Property.status == "beschikbaar", Property.id != pid)
        ).all()
        rid = open_round(session, list(others[:5]), None, actor="admin@example.org").id
    needs_before = count_needs(app)
    bodies = {
        "/login": {"email": "admin@example.org", "password": PASSWORD},
        "/logout": {},
        "/needs/new": need_form(),
        f"/needs/{token}/edit": need_form(),
        f"/needs/{token}/withdraw": {},
        f"/properties/{pid}/status": {"to_status": "ingetrokken", "reason": "csrf test"},
        "/allocation": {"property": pid},
        f"/properties/{pid}/uses": {"uses": "kantoor"},
        "/layers/upload": {"layer": "csrf-test"},
        "/needs/lost": {"email": "admin@example.org"},
        f"/needs/{token}/alerts": {"alerts": "off"},
        f"/needs/{token}/interest": {"property": pid, "action": "add"},
        f"/needs/{token}/introduce": {"property": pid, "to": "1"},
        f"/officer/rounds/{rid}": {"action": "draw"},
    }
    paths = {
        rule: rule.replace("<token>", token)
        .replace("<path:property_id>", pid)
        .replace("<int:round_id>", str(rid))
        for rule, _m in CSRF_FORMS
    }
    assert set(paths.values()) == set(bodies)
    for rule, path in sorted(paths.items()):
        for data in (bodies[path], {**dict(bodies[path]), "csrf_token": "forged"}):
            response = client.post(path, data=data)
            assert response.status_code == 400, (rule, response.status_code)
    # nothing changed: no need stored or edited or withdrawn, property untouched, still logged in
    assert count_needs(app) == needs_before
    with get_store(app).sessions() as session:
        assert session.get(Need, need.id).status == "open"
        assert session.get(Need, need.id).initiative == need.initiative
        assert session.get(Property, pid).status == "beschikbaar"
        assert session.get(AllocationRound, rid).status == "open"
    assert client.get("/properties").status_code == 200


def test_the_same_forms_pass_with_the_token(csrf_app):
    """The control: with the page's CSRF token the same posts do what they are for."""
    app = csrf_app
    client = logged_in(app)
    token = csrf_token_of(client.get("/needs/new").get_data(as_text=True))
    form = need_form()
    form["csrf_token"] = token
    response = client.post("/needs/new", data=form)
    assert response.status_code == 302 and "/needs/" in response.headers["Location"]
    need_url = response.headers["Location"]
    page = client.get(need_url).get_data(as_text=True)
    response = client.post(f"{need_url}/withdraw", data={"csrf_token": csrf_token_of(page)})
    assert response.status_code == 302
    assert "ingetrokken" in client.get(need_url).get_data(as_text=True)


def test_a_csrf_token_of_another_session_is_refused(csrf_app):
    app = csrf_app
    other = app.test_client()
    foreign = csrf_token_of(other.get("/needs/new").get_data(as_text=True))
    client = app.test_client()
    client.get("/needs/new")
    form = need_form()
    form["csrf_token"] = foreign
    before = count_needs(app)
    assert client.post("/needs/new", data=form).status_code == 400
    assert count_needs(app) == before


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/x-www-form-urlencoded", None),  # an HTML form's default
        ("multipart/form-data", None),
        ("text/plain", "json"),  # enctype="text/plain" can carry a JSON-looking body
    ],
)
def test_api_intake_refuses_what_a_cross_site_form_can_send(csrf_app, content_type, body):
    app = csrf_app
    client = app.test_client()
    before = count_needs(app)
    if body == "json":
        response = client.post(
            "/api/needs", data=json.dumps(need_json()), content_type=content_type
        )
    else:
        response = client.post("/api/needs", data=need_form(), content_type=content_type)
    assert response.status_code == 400
    assert "_" in response.get_json()["errors"]
    assert count_needs(app) == before
    # and JSON itself is accepted without a CSRF token (the API is exempt on purpose)
    assert client.post("/api/needs", json=need_json()).status_code == 201


# -- rate limit ----------------------------------------------------------------------------------


@pytest.fixture
def limited_app(store_url, tmp_path):
    app = make_app(store_url, tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_INTAKE="3 per minute")
    yield app
    get_store(app).dispose()


def test_intake_rate_limit_form_and_api_share_one_budget_per_address(limited_app):
    client = limited_app.test_client()
    assert client.post("/needs/new", data={}).status_code == 400  # refused, but counted
    assert client.post("/api/needs", json={}).status_code == 400
    assert client.post("/needs/new", data=need_form()).status_code == 302

    page = client.post("/needs/new", data=need_form())
    assert page.status_code == 429
    assert 1 <= int(page.headers["Retry-After"]) <= 60
    text = page.get_data(as_text=True)
    assert "te veel ruimtevragen" in text and "<h1>" in text
    assert "Content-Security-Policy" in page.headers

    api = client.post("/api/needs", json=need_json())
    assert api.status_code == 429
    assert 1 <= int(api.headers["Retry-After"]) <= 60
    assert "te veel ruimtevragen" in api.get_json()["errors"]["_"]
    english = client.post("/api/needs?lang=en", json=need_json())
    assert english.status_code == 429
    assert "Too many" in english.get_json()["errors"]["_"]

    # reading is never limited, and another address has its own budget
    assert client.get("/needs/new").status_code == 200
    other = limited_app.test_client()
    response = other.post("/api/needs", json=need_json(), environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 201


def test_default_limits_ten_a_minute_for_intake_and_failed_logins(store_url, tmp_path):
    """The defaults, and that each budget is counted on its own."""
    assert DEFAULTS["RATELIMIT_INTAKE"] == "10 per minute;100 per day"
    assert DEFAULTS["RATELIMIT_LOGIN"] == "10 per minute;100 per day"
    assert DEFAULTS["RATELIMIT_LOGIN_ACCOUNT"] == "30 per hour"
    assert DEFAULTS["RATELIMIT_STORAGE_URI"] == "memory://"
    app = make_app(store_url, tmp_path, RATELIMIT_ENABLED=True)
    try:
        client = app.test_client()
        codes = [client.post("/api/needs", json={}).status_code for _ in range(11)]
        assert codes == [400] * 10 + [429]
        codes = [_login(client, address="127.0.0.1").status_code for _ in range(11)]
        assert codes == [200] * 10 + [429]
    finally:
        get_store(app).dispose()


@pytest.mark.parametrize("proxies", [0, 1])
def test_forwarded_for_counts_only_behind_a_configured_proxy(store_url, tmp_path, proxies):
    app = make_app(
        store_url,
        tmp_path,
        RATELIMIT_ENABLED=True,
        RATELIMIT_INTAKE="2 per minute",
        PROXY_FIX_X_FOR=proxies,
    )
    try:
        client = app.test_client()
        codes = [
            client.post(
                "/api/needs", json={}, headers={"X-Forwarded-For": f"198.51.100.{i}"}
            ).status_code
            for i in range(4)
        ]
    finally:
        get_store(app).dispose()
    # no proxy configured: the header is the client's word and is ignored (one address, 2 tries)
    assert codes == ([400] * 4 if proxies else [400, 400, 429, 429])


def test_rate_limit_is_off_in_the_test_suite(app):
    client = app.test_client()
    assert {client.post("/api/needs", json={}).status_code for _ in range(15)} == {400}


@pytest.fixture
def login_limited_app(store_url, tmp_path):
    from spacematch.domain.accounts import create_user

    app = make_app(
        store_url,
        tmp_path,
        RATELIMIT_ENABLED=True,
        RATELIMIT_LOGIN="3 per minute",
        RATELIMIT_LOGIN_ACCOUNT="5 per hour",
    )
    with get_store(app).session() as session:
        for email in ("officer@example.org", "planner@example.org"):
            create_user(session, email=email, role="officer", password="correct horse")
    yield app
    get_store(app).dispose()


def _login(client, email="officer@example.org", password="wrong", address="192.0.2.1"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_failed_logins_are_limited_per_address_even_for_the_right_password(login_limited_app):
    client = login_limited_app.test_client()
    assert [_login(client).status_code for _ in range(3)] == [200] * 3  # wrong: counted
    refused = _login(client, password="correct horse")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Te veel mislukte inlogpogingen" in refused.get_data(as_text=True)
    english = client.post(
        "/login?lang=en",
        data={"email": "officer@example.org", "password": "correct horse"},
        environ_base={"REMOTE_ADDR": "192.0.2.1"},
    )
    assert english.status_code == 429
    assert "Too many failed login attempts" in english.get_data(as_text=True)
    # another address has its own budget, and a correct password there logs in
    assert _login(client, password="correct horse", address="192.0.2.9").status_code == 302


def test_successful_logins_are_not_counted(login_limited_app):
    client = login_limited_app.test_client()
    for _ in range(6):
        assert _login(client, password="correct horse").status_code == 302
        client.post("/logout")
    assert _login(client).status_code == 200  # the budget is still whole: a failure is shown


def test_failed_logins_are_limited_per_account_across_addresses(login_limited_app):
    client = login_limited_app.test_client()
    codes = [_login(client, address=f"198.51.100.{i}").status_code for i in range(6)]
    assert codes == [200] * 5 + [429]
    # the same account however it is written, from yet another address
    assert (
        _login(client, " Officer@Example.ORG ", "correct horse", "198.51.100.77").status_code == 429
    )

    # or sent as JSON (the login form takes that too): the same account's budget
    def as_json(email: str, address: str) -> int:
        body = {"email": email, "password": "correct horse"}
        return client.post("/login", json=body, environ_base={"REMOTE_ADDR": address}).status_code

    assert as_json("officer@example.org", "198.51.100.78") == 429
    # the other account is untouched
    assert as_json("planner@example.org", "198.51.100.79") == 302
    assert _login(client, "planner@example.org", "correct horse", "198.51.100.8").status_code == 302


# -- headers -------------------------------------------------------------------------------------


def csp_of(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")


def check_page_fits_csp(response) -> None:
    """Every inline script and style block carries the response's nonce; no inline handlers or
    style attributes (the policy allows neither)."""
    csp = csp_of(response)
    (nonce,) = [s[len("'nonce-") : -1] for s in csp["script-src"] if s.startswith("'nonce-")]
    assert f"'nonce-{nonce}'" in csp["style-src"]
    html = response.get_data(as_text=True)
    for name, attrs in TAG.findall(html):
        attrs = attrs or ""
        assert not re.search(r"\son[a-z]+\s*=", attrs), f"inline handler in <{name}{attrs}>"
        assert not re.search(r"\sstyle\s*=", attrs), f"style attribute in <{name}{attrs}>"
        if name.lower() in ("script", "style") and "src=" not in attrs:
            assert f'nonce="{nonce}"' in attrs, f"<{name}{attrs}> without the nonce"


def test_csp_is_strict_and_names_the_tile_server(app):
    response = app.test_client().get("/")
    csp = csp_of(response)
    assert csp["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[directive] and "'unsafe-eval'" not in csp[directive]
        assert csp[directive][0] == "'self'" and csp[directive][1].startswith("'nonce-")
    assert csp["img-src"] == ["'self'", "data:", "http://127.0.0.1:9"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]


def test_nonce_is_fresh_per_request(app):
    client = app.test_client()
    first = csp_of(client.get("/"))["script-src"][1]
    second = csp_of(client.get("/"))["script-src"][1]
    assert first != second and len(first) > 20


def test_tile_origin():
    default = DEFAULTS["TILES_URL"]
    assert tile_origin(default) == "https://service.pdok.nl"
    assert tile_origin("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png") == (
        "https://*.tile.openstreetmap.org"
    )
    assert tile_origin("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png") == "http://127.0.0.1:8080"
    assert tile_origin("/tiles/{z}/{x}/{y}.png") is None
    assert tile_origin("https://{switch:a,b}.example.org/{z}/{x}/{y}.png") is None
    assert "img-src 'self' data:;" in content_security_policy("n", "/tiles/{z}/{x}/{y}.png")


def test_every_page_with_a_map_fits_the_csp(seeded_app, client, login):
    pages = ["/", "/needs/new", "/login"]
    response = client.post("/needs/new", data=need_form())
    need_url = response.headers["Location"]
    pages += [need_url, f"{need_url}/edit"]
    login("admin")
    with get_store(seeded_app).sessions() as session:
        pid = session.scalars(select(Property.id).order_by(Property.id)).first()
    pages += ["/properties", f"/properties/{pid}", "/allocation", "/planner"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        check_page_fits_csp(response)
    response = client.post("/allocation", data={"property": pid})
    assert response.status_code == 200
    check_page_fits_csp(response)


def test_standard_headers_everywhere(app):
    client = app.test_client()
    for url in ("/", "/api/areas?q=oost", "/ogc/collections", "/no-such-page", "/needs/new"):
        response = client.get(url)
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["X-Frame-Options"] == "DENY", url
        assert response.headers["Referrer-Policy"] == "same-origin", url
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_private_need_pages_send_no_referrer_and_are_not_stored(app):
    client = app.test_client()
    created = client.post("/api/needs", json=need_json())
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"  # the answer holds the token
    token = created.get_json()["token"]
    for url in (f"/needs/{token}", f"/needs/{token}/edit"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Referrer-Policy"] == "no-referrer", url
        assert response.headers["Cache-Control"] == "no-store", url
    need_id = created.get_json()["id"]
    response = client.get(f"/api/needs/{need_id}/matches?token={token}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_pages_for_logged_in_users_are_not_stored(app, client, login):
    login("officer")
    response = client.get("/properties")
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]


# -- session cookies -----------------------------------------------------------------------------


def set_cookie_after_login(app) -> str:
    with get_store(app).session() as session:
        create_user(session, email="c@example.org", role="officer", password=PASSWORD)
    client = app.test_client()
    response = client.post("/login", data={"email": "c@example.org", "password": PASSWORD})
    assert response.status_code == 302
    (cookie,) = [v for k, v in response.headers.items() if k == "Set-Cookie"]
    return cookie


@pytest.mark.parametrize(
    "extra, secure",
    [
        ({"TESTING": False}, True),  # production default: "auto" -> Secure
        ({"TESTING": True}, False),  # tests and debug serve plain http
        ({"TESTING": False, "SESSION_COOKIE_SECURE": "false"}, False),  # as from the environment
        ({"TESTING": True, "SESSION_COOKIE_SECURE": True}, True),
    ],
)
def test_session_cookie_flags(store_url, tmp_path, extra, secure):
    app = make_app(store_url, tmp_path, **extra)
    try:
        cookie = set_cookie_after_login(app)
    finally:
        get_store(app).dispose()
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert "httponly" in flags
    assert "samesite=lax" in cookie.lower()
    assert ("secure" in flags) == secure


def test_the_development_secret_key_never_signs_production_sessions(tmp_path):
    assert DEFAULTS["SECRET_KEY"] == DEV_SECRET_KEY
    key = persistent_secret_key(str(tmp_path / "instance"))
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert persistent_secret_key(str(tmp_path / "instance")) == key  # every worker, every restart
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0

    from flask import Flask

    import spacematch.web.security as security

    app = Flask("probe", instance_path=str(tmp_path / "prod"))
    app.config.update(SECRET_KEY=DEV_SECRET_KEY, TESTING=False)
    security._ensure_secret_key(app)
    assert app.config["SECRET_KEY"] == persistent_secret_key(str(tmp_path / "prod"))
    testing = Flask("probe", instance_path=str(tmp_path / "test"))
    testing.config.update(SECRET_KEY=DEV_SECRET_KEY, TESTING=True)
    security._ensure_secret_key(testing)
    assert testing.config["SECRET_KEY"] == DEV_SECRET_KEY


@pytest.mark.parametrize(
    "target, lands",
    [
        ("/planner", "/planner"),
        # an unsafe target is dropped: the officer lands on the property list
        ("//evil.example/steal", "/properties"),
        ("https://evil.example/steal", "/properties"),
        ("javascript:alert(1)", "/properties"),
    ],
)
def test_login_redirects_only_within_the_app(app, target, lands):
    with get_store(app).session() as session:
        create_user(session, email="n@example.org", role="officer", password=PASSWORD)
    client = app.test_client()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "n@example.org", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == lands
