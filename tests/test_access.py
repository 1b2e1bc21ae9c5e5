"""Access control, measured: every route of ``app.url_map`` x every actor, with the expected status.

Actors (the columns of ``EXPECTED``):

* ``anonymous``   — no login, no token; where a route's URL holds a need's token it uses a
  well-formed token that belongs to no need (only a token opens a need's pages, never a login).
* ``initiative``  — no login, and the token of its own need (in the path, or ``?token=`` on the
  matches API).
* ``wrong_token`` — no login, and its own need's token with one character changed.
* ``officer``, ``planner``, ``admin`` — logged in with that role, no token (as ``anonymous``).

Each cell is ``(rule, method)`` x actor, with an integer status or ``LOGIN`` (a redirect to
/login). A rule or method of ``app.url_map`` (static files aside) without a row here fails the
test, so a new route cannot land without a decision on who may use it.

Personal data (decided here, see SECURITY.md): an initiative's contact name and e-mail are shown
to officers and admins on a property's page (its candidates) and on the allocation proposal, and to
the initiative itself on its edit form — *not* on its private page, whose link tends to be
forwarded within a collective. A need's token appears only in answers to the initiative itself.
Everything else — public pages, the map data, OGC, exports, planners' pages, a wrong token —
carries none of it.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest
from builders import need_fitting
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from spacematch import get_store
from spacematch.domain.accounts import create_user
from spacematch.domain.needs import NewNeed, create_need
from spacematch.export.tables import DATASETS, FORMATS
from spacematch.matching import IndexCache, rank_needs
from spacematch.models import Need, Property, RoundAward

ACTORS = ("anonymous", "initiative", "wrong_token", "officer", "planner", "admin")
ROLES = ("officer", "planner", "admin")
LOGIN = "login"  # 302 to /login?next=...
PASSWORD = "correct horse battery"

CANARY = {
    "initiative": "Canarius Matrixcooperatie",
    "contact_name": "Canarius Matrixpersoon",
    "contact_email": "canarius.matrix@example.org",
}

# fmt: off
L = LOGIN
#   (rule, method)                                           anon init wrong officer planner admin
EXPECTED: dict[tuple[str, str], tuple[int | str, ...]] = {
    ("/", "GET"):                                             (200, 200, 200, 200, 200, 200),
    ("/login", "GET"):                                        (200, 200, 200, 200, 200, 200),
    ("/toegankelijkheid", "GET"):                             (200, 200, 200, 200, 200, 200),
    ("/static/vendor/nlds/<asset>", "GET"):                   (200, 200, 200, 200, 200, 200),
    ("/login", "POST"):                                       (400, 400, 400, 400, 400, 400),
    ("/logout", "POST"):                                      (302, 302, 302, 302, 302, 302),
    # the initiative's pages: the intake is public, a need's pages open with its token only
    ("/needs/new", "GET"):                                    (200, 200, 200, 200, 200, 200),
    ("/needs/new", "POST"):                                   (302, 302, 302, 302, 302, 302),
    ("/needs/<token>", "GET"):                                (404, 200, 404, 404, 404, 404),
    ("/needs/<token>/edit", "GET"):                           (404, 200, 404, 404, 404, 404),
    ("/needs/<token>/edit", "POST"):                          (404, 400, 404, 404, 404, 404),
    ("/needs/<token>/withdraw", "POST"):                      (404, 302, 404, 404, 404, 404),
    # mail (issue 12): lost links answer alike for everyone; the token's own forms refuse an
    # empty post; unsubscribing takes the mail's secret, which no actor here has
    ("/needs/lost", "GET"):                                   (200, 200, 200, 200, 200, 200),
    ("/needs/lost", "POST"):                                  (200, 200, 200, 200, 200, 200),
    ("/needs/<token>/alerts", "POST"):                        (404, 400, 404, 404, 404, 404),
    ("/needs/<token>/interest", "POST"):                      (404, 400, 404, 404, 404, 404),
    ("/needs/<token>/introduce", "POST"):                     (404, 400, 404, 404, 404, 404),
    ("/needs/unsubscribe/<unsubscribe_token>", "GET"):        (404, 404, 404, 404, 404, 404),
    ("/needs/unsubscribe/<unsubscribe_token>", "POST"):       (404, 404, 404, 404, 404, 404),
    ("/api/needs/<int:need_id>/interests", "GET"):            (403, 200, 403, 403, 403, 403),
    ("/api/needs/<int:need_id>/interests", "PUT"):            (403, 400, 403, 403, 403, 403),
    # the JSON API: public map data and intake; matches for the token or an officer
    ("/api/needs", "POST"):                                   (201, 201, 201, 201, 201, 201),
    ("/api/needs/<int:need_id>/matches", "GET"):              (401, 200, 403, 200, 403, 200),
    ("/api/properties", "GET"):                               (200, 200, 200, 200, 200, 200),
    ("/api/properties/overview", "GET"):                      (200, 200, 200, 200, 200, 200),
    ("/api/properties/<path:property_id>/candidates", "GET"): (401, 401, 401, 200, 403, 200),
    ("/api/areas", "GET"):                                    (200, 200, 200, 200, 200, 200),
    ("/api/areas.geojson", "GET"):                            (200, 200, 200, 200, 200, 200),
    ("/api/areas/supply-demand.geojson", "GET"):              (200, 200, 200, 200, 200, 200),
    ("/api/openapi.json", "GET"):                             (200, 200, 200, 200, 200, 200),
    # the vastgoed officer (admin too)
    ("/properties", "GET"):                                   (L  , L  , L  , 200, 403, 200),
    ("/properties/<path:property_id>", "GET"):                (L  , L  , L  , 200, 403, 200),
    ("/properties/<path:property_id>/status", "POST"):        (L  , L  , L  , 400, 403, 400),
    ("/properties/<path:property_id>/uses", "POST"):          (L  , L  , L  , 302, 403, 302),
    ("/allocation", "GET"):                                   (L  , L  , L  , 200, 403, 200),
    ("/allocation", "POST"):                                  (L  , L  , L  , 200, 403, 200),
    # layers and import reports (officers); the upload and its background job (admins)
    ("/layers", "GET"):                                       (L  , L  , L  , 200, 403, 200),
    ("/layers/<slug>/report", "GET"):                         (L  , L  , L  , 200, 403, 200),
    ("/layers/<slug>/report.csv", "GET"):                     (L  , L  , L  , 200, 403, 200),
    ("/layers/upload", "GET"):                                (L  , L  , L  , 403, 403, 200),
    ("/layers/upload", "POST"):                               (L  , L  , L  , 403, 403, 200),
    ("/layers/jobs/<job_id>", "GET"):                         (L  , L  , L  , 403, 403, 200),
    # the planner (admin too); exports also for officers
    ("/planner", "GET"):                                      (L  , L  , L  , 403, 200, 200),
    ("/planner/monitor.geojson", "GET"):                      (L  , L  , L  , 403, 200, 200),
    ("/export/<dataset>.<fmt>", "GET"):                       (L  , L  , L  , 200, 200, 200),
    ("/export/<path:name>", "GET"):                           (L  , L  , L  , 404, 404, 404),
    # OGC API - Features: public, read-only (needs without personal data, points snapped)
    ("/ogc", "GET"):                                          (200, 200, 200, 200, 200, 200),
    ("/ogc/", "GET"):                                         (200, 200, 200, 200, 200, 200),
    ("/ogc/api", "GET"):                                      (200, 200, 200, 200, 200, 200),
    ("/ogc/conformance", "GET"):                              (200, 200, 200, 200, 200, 200),
    ("/ogc/collections", "GET"):                              (200, 200, 200, 200, 200, 200),
    ("/ogc/collections/<cid>", "GET"):                        (200, 200, 200, 200, 200, 200),
    ("/ogc/collections/<cid>/items", "GET"):                  (200, 200, 200, 200, 200, 200),
    ("/ogc/collections/<cid>/items/<path:fid>", "GET"):       (200, 200, 200, 200, 200, 200),
    ("/ogc/collections/<cid>/queryables", "GET"):             (200, 200, 200, 200, 200, 200),
    # allocation rounds: the record and the page of decided rounds are public; officers drive
    # (state-changing API calls take JSON only: the matrix's form body is a 400)
    ("/api/rounds", "GET"):                                   (200, 200, 200, 200, 200, 200),
    ("/api/rounds", "POST"):                                  (401, 401, 401, 400, 403, 400),
    ("/api/rounds/<int:round_id>", "GET"):                    (200, 200, 200, 200, 200, 200),
    ("/api/rounds/<int:round_id>/draw", "POST"):              (401, 401, 401, 400, 403, 400),
    ("/api/rounds/<int:round_id>/override", "POST"):          (401, 401, 401, 400, 403, 400),
    ("/api/rounds/awards/<int:award_id>/accept", "POST"):     (401, 401, 401, 400, 403, 400),
    ("/api/rounds/awards/<int:award_id>/refuse", "POST"):     (401, 401, 401, 400, 403, 400),
    ("/officer/rounds/<int:round_id>", "GET"):                (L  , L  , L  , 200, 403, 200),
    ("/officer/rounds/<int:round_id>", "POST"):               (L  , L  , L  , 400, 403, 400),
    ("/toewijzingen", "GET"):                                 (200, 200, 200, 200, 200, 200),
    ("/toewijzingen.geojson", "GET"):                         (200, 200, 200, 200, 200, 200),
}
# fmt: on

# Where contact data may (and, for the canary, must) appear: (rule, method) -> actors.
CONTACT_SHOWN = {
    ("/properties/<path:property_id>", "GET"): {"officer", "admin"},
    ("/properties/<path:property_id>/status", "POST"): {"officer", "admin"},  # the page again
    ("/allocation", "POST"): {"officer", "admin"},  # the proposal names each pair's contact
    ("/needs/<token>/edit", "GET"): {"initiative"},  # its own contact only
    ("/needs/<token>/edit", "POST"): {"initiative"},  # the form again, with its errors
}
CONTACT_REQUIRED = {
    key: CONTACT_SHOWN[key]
    for key in (
        ("/properties/<path:property_id>", "GET"),
        ("/allocation", "POST"),
        ("/needs/<token>/edit", "GET"),
    )
}
# Where the canary's own token may appear: answers to the initiative itself.
TOKEN_SHOWN_TO = {"initiative"}


def routes(app) -> list[tuple[str, str, str]]:
    """Every (rule, method, endpoint) of the app but static files, HEAD and OPTIONS."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, rule.endpoint))
    return sorted(found)


# -- the world the matrix runs in ------------------------------------------------------------------


@dataclass
class World:
    app: object
    need_id: int
    token: str
    property_id: str
    cookies: dict[str, str | None]
    secrets: dict[str, list[str]] = field(default_factory=dict)  # kind -> every stored value
    round_id: int = 0
    award_id: int = 0

    def token_for(self, actor: str) -> str | None:
        if actor == "initiative":
            return self.token
        if actor == "wrong_token":
            return self.token[:-1] + ("A" if self.token[-1] != "A" else "B")
        return None


def tailored_need(app, prop: Property) -> NewNeed:
    """The canary: an open need that fits ``prop`` perfectly, so it heads its candidates."""
    need = need_fitting(app, prop, **CANARY, description="Canarius beschrijving")
    with get_store(app).one_statement() as conn:
        return create_need(conn, need)


def login_cookie(app, role: str) -> str:
    email = f"{role}@example.org"
    with get_store(app).session() as session:
        create_user(session, email=email, role=role, password=PASSWORD)
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.data
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return cookie.value


def build_world(app) -> World:
    index = IndexCache(get_store(app)).get()
    with get_store(app).sessions() as session:
        prop = next(
            p
            for pid in index.ids
            if index.available[index.position[pid]]
            and (p := session.get(Property, pid)).buurt_code
            and p.use_list
        )
        session.expunge(prop)
    need = tailored_need(app, prop)
    ranked = rank_needs(IndexCache(get_store(app)).get(), prop.id, limit=20)
    assert need.id in [m.need_id for m in ranked], "the canary must be a candidate of its property"
    cookies: dict[str, str | None] = {a: None for a in ACTORS}
    for role in ROLES:
        cookies[role] = login_cookie(app, role)
    round_id, award_id = drawn_round(app, prop.id, need.id)
    with get_store(app).sessions() as session:
        rows = session.execute(select(Need.contact_name, Need.contact_email, Need.token)).all()
    return World(
        round_id=round_id,
        award_id=award_id,
        app=app,
        need_id=need.id,
        token=need.token,
        property_id=prop.id,
        cookies=cookies,
        secrets={
            "contact_name": sorted({r.contact_name for r in rows if r.contact_name}),
            "contact_email": sorted({r.contact_email for r in rows if r.contact_email}),
            "token": sorted({r.token for r in rows}),
        },
    )


def drawn_round(app, keep_free: str, canary: int) -> tuple[int, int]:
    """A drawn round over available properties other than the canary's, and one award of a need
    other than the canary (so accepting it moves nothing the matrix reads)."""
    from spacematch.matching import round_store

    store = get_store(app)
    index = IndexCache(store).get()
    with store.session() as session:
        ids = [
            pid for pid in index.ids.tolist()
            if index.available[index.position[pid]] and pid != keep_free
        ]  # fmt: skip
        rnd = round_store.open_round(session, ids, None, actor="officer@example.org")
        round_store.draw_round(session, index, rnd.id, actor="officer@example.org")
        award = session.scalar(
            select(RoundAward.id).where(RoundAward.round_id == rnd.id, RoundAward.need_id != canary)
        )
        return rnd.id, award


@pytest.fixture
def world(seeded_app) -> World:
    return build_world(seeded_app)


# -- one cell ------------------------------------------------------------------------------------


def _future(days: int = 60) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def new_need_json() -> dict:
    return {
        "initiative": "Matrix Initiatief", "legal_form": "stichting", "sector": "overig",
        "contact_name": "Matrix Indiener", "contact_email": "matrix.indiener@example.org",
        "min_area_m2": 50, "max_area_m2": 100, "max_rent_eur_month": 1000, "uses": ["kantoor"],
        "areas": ["A"], "needed_from": _future(), "min_months": 12,
    }  # fmt: skip


def cell_request(world: World, rule: str, method: str, actor: str) -> tuple[str, dict]:
    """The URL and request arguments of one cell."""
    token = world.token_for(actor) or secrets.token_urlsafe(32)
    values = {
        "token": token,
        "need_id": world.need_id,
        "property_id": world.property_id,
        "dataset": "needs",
        "fmt": "geojson",
        "name": "needs/geojson",
        "asset": "components.css",
        "cid": "needs",
        "fid": str(world.need_id),
        "slug": world.property_id.split(".")[0],
        "job_id": "no-such-job",
        "unsubscribe_token": secrets.token_urlsafe(32),
        "round_id": world.round_id,
        "award_id": world.award_id,
    }
    path = rule
    for name, value in values.items():
        for converter in ("", "int:", "path:"):
            path = path.replace(f"<{converter}{name}>", str(value))
    assert "<" not in path, f"no value for a parameter of {rule}"
    query: dict[str, str] = {}
    kwargs: dict = {}
    if rule in (
        "/api/needs/<int:need_id>/matches",
        "/api/needs/<int:need_id>/interests",
    ) and world.token_for(actor):
        query["token"] = world.token_for(actor)
    if rule == "/ogc/collections/<cid>/items":
        query["limit"] = "10000"
    if (rule, method) == ("/needs/new", "POST"):
        data = new_need_json()
        form = MultiDict({k: v for k, v in data.items() if k not in ("uses", "areas")})
        form.setlist("uses", data["uses"])
        form["areas"] = ", ".join(data["areas"])
        kwargs["data"] = form
    elif (rule, method) == ("/api/needs", "POST"):
        kwargs["json"] = new_need_json()
    elif (rule, method) == ("/allocation", "POST"):
        kwargs["data"] = {"property": world.property_id}
    elif method == "POST":
        kwargs["data"] = {}
    url = path + ("?" + urlencode(query) if query else "")
    return url, kwargs


def outcome(response) -> int | str:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303, 307, 308) and urlsplit(location).path == "/login":
        return LOGIN
    return response.status_code


def request_cell(world: World, rule: str, method: str, actor: str):
    app = world.app
    url, kwargs = cell_request(world, rule, method, actor)
    client = app.test_client()
    cookie = world.cookies[actor]
    if cookie is not None:
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    response = client.open(url, method=method, **kwargs)
    if (rule, method) == ("/logout", "POST") and cookie is not None and response.status_code == 302:
        world.cookies[actor] = login_cookie(app, actor)  # logout ended the account's sessions
    return url, response


def cell_order(cells: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Reads first, then writes; the canary's withdrawal last of all."""
    return sorted(cells, key=lambda c: (c[1] != "GET", c[0] == "/needs/<token>/withdraw", c))


def run_matrix(world: World):
    """Every cell, in an order that keeps the canary open until the end."""
    adapter = world.app.url_map.bind("localhost")
    for rule, method, endpoint in cell_order(routes(world.app)):
        for actor in ACTORS:
            url, response = request_cell(world, rule, method, actor)
            routed, _args = adapter.match(urlsplit(url).path, method=method)
            assert routed == endpoint, f"{method} {url} routes to {routed}, not {endpoint}"
            yield rule, method, actor, url, response


# -- personal data -------------------------------------------------------------------------------


def forms_of(value: str) -> set[bytes]:
    """How a value can appear in a body: as is, HTML-escaped, JSON-escaped (ASCII or not)."""
    texts = {value, html.escape(value), html.escape(value, quote=False)}
    texts |= {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    return {t.encode() for t in texts}


def leaks(body: bytes, values: list[str]) -> list[str]:
    return [v for v in values if any(f in body for f in forms_of(v))]


def check_privacy(world: World, rule: str, method: str, actor: str, body: bytes) -> list[str]:
    """What this cell shows that it must not (or misses that it must)."""
    problems = []
    contact_ok = actor in CONTACT_SHOWN.get((rule, method), set())
    own_contact = [CANARY["contact_name"], CANARY["contact_email"]]
    if contact_ok and actor == "initiative":  # the initiative sees its own contact, no other
        others = world.secrets["contact_name"] + world.secrets["contact_email"]
        shown = [v for v in leaks(body, others) if v not in own_contact]
        problems += [f"another need's contact {v!r}" for v in shown]
    elif not contact_ok:
        shown = leaks(body, world.secrets["contact_name"] + world.secrets["contact_email"])
        problems += [f"contact data {v!r}" for v in shown]
    if actor in CONTACT_REQUIRED.get((rule, method), set()):
        missing = [v for v in own_contact if not leaks(body, [v])]
        problems += [f"the canary's contact {v!r} is missing" for v in missing]
    tokens = [
        t for t in world.secrets["token"] if not (actor in TOKEN_SHOWN_TO and t == world.token)
    ]
    problems += [f"a need's token {t[:6]}…" for t in leaks(body, tokens)]
    return problems


# -- the tests -----------------------------------------------------------------------------------


def test_every_route_has_an_expectation_for_every_actor(app):
    have = {(rule, method) for rule, method, _e in routes(app)}
    missing = sorted(have - set(EXPECTED))
    assert not missing, f"routes without an access expectation (add them to EXPECTED): {missing}"
    stale = sorted(set(EXPECTED) - have)
    assert not stale, f"expectations for routes that no longer exist: {stale}"
    assert all(len(row) == len(ACTORS) for row in EXPECTED.values())


def test_route_matrix_statuses_and_personal_data(world):
    """Every route x actor answers as EXPECTED, and shows personal data only where decided."""
    wrong_status, privacy = [], []
    cells = 0
    for rule, method, actor, url, response in run_matrix(world):
        cells += 1
        want = EXPECTED[(rule, method)][ACTORS.index(actor)]
        got = outcome(response)
        if got != want:
            wrong_status.append(f"{actor:12} {method:4} {url}: {got}, expected {want}")
        for problem in check_privacy(world, rule, method, actor, response.get_data()):
            privacy.append(f"{actor:12} {method:4} {url}: {problem}")
    assert cells == len(EXPECTED) * len(ACTORS)
    assert not wrong_status, "\n" + "\n".join(wrong_status)
    assert not privacy, "\n" + "\n".join(privacy)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_methods_a_route_does_not_take_are_405(app, method):
    client = app.test_client()
    for rule, taken, _endpoint in routes(app):
        if taken == method:  # PUT /api/needs/<id>/interests
            continue
        if any(r == rule and m == method for r, m, _e in routes(app)):
            continue
        path = rule
        for name, value in {"token": "x" * 43, "need_id": "1", "property_id": "a.b",
                            "dataset": "needs", "fmt": "csv", "name": "a/b", "cid": "needs",
                            "fid": "1", "unsubscribe_token": "y" * 43, "round_id": "1",
                            "award_id": "1"}.items():  # fmt: skip
            for converter in ("", "int:", "path:"):
                path = path.replace(f"<{converter}{name}>", value)
        assert client.open(path, method=method).status_code == 405, (method, path)


def test_exports_never_carry_contact_data_or_tokens(world):
    """Every dataset in every format, for each role that may download: no personal data."""
    secrets_all = world.secrets["contact_name"] + world.secrets["contact_email"]
    secrets_all += world.secrets["token"]
    for actor in ("officer", "planner", "admin"):
        client = world.app.test_client()
        client.set_cookie(world.app.config["SESSION_COOKIE_NAME"], world.cookies[actor])
        for dataset in DATASETS:
            for fmt in FORMATS:
                response = client.get(f"/export/{dataset}.{fmt}")
                assert response.status_code == 200, (actor, dataset, fmt)
                body = response.get_data()
                assert len(body) > 100
                assert not leaks(body, secrets_all), (actor, dataset, fmt)
                if dataset == "needs" and fmt != "gpkg":
                    assert CANARY["initiative"].encode() in body  # the need itself is there


def test_public_data_never_carries_contact_data_or_tokens(world):
    """The overview map's data, OGC (every collection, every item page) and public pages."""
    secrets_all = world.secrets["contact_name"] + world.secrets["contact_email"]
    secrets_all += world.secrets["token"]
    client = world.app.test_client()
    urls = [
        "/", "/needs/new", "/login", "/api/properties", "/api/properties/overview?zoom=18",
        "/api/areas/supply-demand.geojson", "/api/areas.geojson?level=buurt",
        "/api/properties?limit=100000", f"/needs/{world.token_for('wrong_token')}",
        f"/api/needs/{world.need_id}/matches?token={world.token_for('wrong_token')}",
    ]  # fmt: skip
    for cid in ("properties", "plots", "needs", "need-areas", "areas"):
        urls += [f"/ogc/collections/{cid}", f"/ogc/collections/{cid}/items?limit=10000"]
        urls += [f"/ogc/collections/{cid}/items?f=html", f"/ogc/collections/{cid}/queryables"]
    urls.append(f"/ogc/collections/needs/items/{world.need_id}")
    urls.append(f"/ogc/collections/need-areas/items/{world.need_id}?f=html")
    for url in urls:
        body = client.get(url).get_data()
        assert not leaks(body, secrets_all), url
    ogc = client.get("/ogc/collections/needs/items?limit=10000").get_json()
    assert any(f["properties"]["initiative"] == CANARY["initiative"] for f in ogc["features"])


def test_the_private_page_hides_the_contact_the_edit_form_shows_it(world):
    """Decision: the private page (a link that gets forwarded) shows no contact data; the edit
    form, behind the same token, shows the initiative its own contact to change it."""
    client = world.app.test_client()
    page = client.get(f"/needs/{world.token}").get_data()
    assert CANARY["initiative"].encode() in page
    assert not leaks(page, [CANARY["contact_name"], CANARY["contact_email"]])
    form = client.get(f"/needs/{world.token}/edit").get_data()
    assert leaks(form, [CANARY["contact_name"], CANARY["contact_email"]])


def test_officer_sees_the_candidates_contact_planner_does_not_get_the_page(world):
    app = world.app
    for actor, status in (("officer", 200), ("admin", 200), ("planner", 403)):
        client = app.test_client()
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], world.cookies[actor])
        response = client.get(f"/properties/{world.property_id}")
        assert response.status_code == status
        shown = leaks(response.get_data(), [CANARY["contact_email"]])
        assert bool(shown) == (status == 200), actor


def test_a_token_differing_in_one_character_opens_nothing(world):
    client = world.app.test_client()
    wrong = world.token_for("wrong_token")
    for url in (f"/needs/{wrong}", f"/needs/{wrong}/edit", f"/needs/{world.token.upper()}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/needs/{wrong}/withdraw").status_code == 404
    response = client.get(f"/api/needs/{world.need_id}/matches?token={wrong}")
    assert response.status_code == 403
    with get_store(world.app).sessions() as session:
        assert session.get(Need, world.need_id).status == "open"


def test_need_tokens_are_256_bit_and_unique(world):
    tokens = world.secrets["token"]
    assert len(set(tokens)) == len(tokens) > 100
    for token in tokens:
        assert len(token) >= 43  # secrets.token_urlsafe(32): 32 random bytes, base64url
