"""The vastgoed officer's pages: access, the filtered list (map and table agree), one property's
candidates and workflow, the allocation proposal, and escaping of user-written text."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from urllib.parse import urlencode

import pytest
from builders import need_fitting
from sqlalchemy import func, select

from spacematch import get_store
from spacematch.domain.needs import create_need
from spacematch.matching import IndexCache, rank_needs
from spacematch.models import Need, Property, StatusEvent
from spacematch.web.officer.properties import PAGE_SIZE

XSS = "<img src=x onerror=alert(1)>"
OFFICER_PAGES = [
    ("get", "/properties"),
    ("get", "/properties/bedrijfsruimte.BDR-0001"),
    ("post", "/properties/bedrijfsruimte.BDR-0001/status"),
    ("get", "/allocation"),
    ("post", "/allocation"),
]


# -- helpers ---------------------------------------------------------------------------------


def fresh_index(app):
    return IndexCache(get_store(app)).get()


def candidates_of(app, property_id: str, limit: int = 20) -> list[int]:
    return [m.need_id for m in rank_needs(fresh_index(app), property_id, limit=limit)]


def shared_candidate(app) -> tuple[int, str, str]:
    """An open need that is a candidate of two available properties: (need, first, second)."""
    index = fresh_index(app)
    seen: dict[int, str] = {}
    for pid in index.ids:
        if not index.available[index.position[pid]]:
            continue
        for match in rank_needs(index, pid, limit=20):
            if match.need_id in seen and seen[match.need_id] != pid:
                return match.need_id, seen[match.need_id], pid
            seen.setdefault(match.need_id, pid)
    raise AssertionError("the demo has no need fitting two properties")


def lonely_property(app) -> Property:
    """An available property that no open need fits (yet)."""
    index = fresh_index(app)
    with get_store(app).sessions() as session:
        for pid in index.ids:
            if index.available[index.position[pid]] and not rank_needs(index, pid, limit=1):
                prop = session.get(Property, pid)
                if prop.buurt_code:
                    return prop
    raise AssertionError("every demo property has a candidate")


def xss_need_for(app, prop: Property) -> int:
    """A need tailored to ``prop`` whose name and description are an HTML injection."""
    need = need_fitting(
        app,
        prop,
        initiative=XSS,
        description=XSS,
        contact_name="Test Persoon",
        contact_email="xss@example.org",
    )
    with get_store(app).session() as session:
        return create_need(session, need).id


def events_of(app, property_id: str) -> list[StatusEvent]:
    with get_store(app).sessions() as session:
        return list(
            session.scalars(
                select(StatusEvent)
                .where(StatusEvent.property_id == property_id)
                .order_by(StatusEvent.id)
            )
        )


def status_of(app, model, key):
    with get_store(app).sessions() as session:
        return session.get(model, key).status


def map_url(page: str) -> str:
    """The URL the page's property overlay fetches (from the folium script)."""
    found = re.search(r'spacematch\.remoteLayer\([^,]+,\s*[^,]+,\s*"([^"]+)"', page)
    assert found, "no remote layer on the page"
    return json.loads(f'"{found.group(1)}"')


def table_ids(page: str) -> list[str]:
    body = page[page.index('id="property-table"') :]
    return [html.unescape(i) for i in re.findall(r'<tr data-property="([^"]+)"', body)]


def pairs_of(page: str) -> list[tuple[str, int]]:
    return [
        (html.unescape(p), int(n))
        for p, n in re.findall(r'<tr data-property="([^"]+)" data-need="(\d+)"', page)
    ]


# -- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), OFFICER_PAGES)
def test_anonymous_is_sent_to_login(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(("method", "path"), OFFICER_PAGES)
def test_planner_is_forbidden(client, login, method, path):
    login("planner")
    assert getattr(client, method)(path).status_code == 403


def test_admin_may_use_the_officer_pages(client, login):
    login("admin")
    assert client.get("/properties").status_code == 200
    assert client.get("/allocation").status_code == 200


def test_status_post_needs_a_csrf_token(store_url, tmp_path):
    from conftest import make_app

    from spacematch.domain.accounts import create_user

    app = make_app(store_url, tmp_path, WTF_CSRF_ENABLED=True)
    try:
        from spacematch.ingest.demo import load_demo

        load_demo(get_store(app))
        with get_store(app).session() as session:
            user_id = create_user(
                session, email="o@example.org", role="officer", password="correct horse"
            ).id
        client = app.test_client()
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user_id)
            sess["_fresh"] = True
        pid = "bedrijfsruimte.BDR-0001"
        response = client.post(
            f"/properties/{pid}/status", data={"to_status": "ingetrokken", "reason": "test"}
        )
        assert response.status_code == 400
        assert events_of(app, pid) == []
        assert status_of(app, Property, pid) == "beschikbaar"
    finally:
        get_store(app).dispose()


# -- the list: the map and the table agree ---------------------------------------------------


FILTERS = [
    {},
    {"layer": "bedrijfsruimte"},
    {"stadsdeel": "A"},
    {"area": "AC", "status": ["beschikbaar", "in_optie"]},
    {"status": "in_optie"},
    {"min_area": "50", "max_area": "200", "max_rent": "150"},
    {"use": "atelier", "available_from": "2026-12-31"},
    {"layer": "kavels", "stadsdeel": "N", "available_from": "2027-06-01"},
]


@pytest.mark.parametrize("filters", FILTERS)
def test_table_and_map_show_the_same_properties(seeded_app, client, login, filters):
    login("officer")
    response = client.get("/properties?" + urlencode(filters, doseq=True))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    total = int(re.search(r'id="counts" data-total="(\d+)"', page).group(1))
    url = map_url(page)
    assert url.startswith("/api/properties")
    features = client.get(url).get_json()["features"]
    assert total == len(features) > 0
    assert table_ids(page) == [f["id"] for f in features][:PAGE_SIZE]
    # the API with the filter's own query string agrees too
    canonical = dict(filters)
    if "stadsdeel" in canonical:
        canonical["area"] = canonical.pop("stadsdeel")
    if isinstance(canonical.get("status"), list):
        canonical["status"] = ",".join(canonical["status"])
    api = client.get("/api/properties?" + urlencode(canonical)).get_json()
    assert api["numberReturned"] == total


def test_the_list_pages_through_every_row(seeded_app, client, login):
    login("officer")
    first = client.get("/properties?layer=ateliers").get_data(as_text=True)
    second = client.get("/properties?layer=ateliers&page=2").get_data(as_text=True)
    with get_store(seeded_app).sessions() as session:
        count = session.scalar(select(func.count()).where(Property.layer == "ateliers"))
    assert f"pagina 1 van {-(-count // PAGE_SIZE)}" in first
    assert 'rel="next"' in first and "page=2" in first
    ids = table_ids(first) + table_ids(second)
    assert len(ids) == len(set(ids)) == 2 * PAGE_SIZE
    with get_store(seeded_app).sessions() as session:
        expected = list(
            session.scalars(
                select(Property.id)
                .where(Property.layer == "ateliers")
                .order_by(Property.id)
                .limit(2 * PAGE_SIZE)
            )
        )
    assert ids == expected
    # each row links to the property page
    assert f'href="/properties/{ids[0]}"' in first
    assert '"linkTemplate": "/properties/__ID__"' in first


def test_area_box_takes_names_and_any_case(seeded_app, client, login):
    login("officer")
    by_code = client.get("/properties?area=AA").get_data(as_text=True)
    by_lower = client.get("/properties?area=aa").get_data(as_text=True)
    assert map_url(by_code) == map_url(by_lower)
    assert "area=AA" in map_url(by_code)


def test_a_bad_filter_is_shown_and_ignored(seeded_app, client, login):
    login("officer")
    response = client.get("/properties?area=XYZ123&min_area=-5&layer=bedrijfsruimte")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Onbekend gebied." in page
    assert "Vul een getal van 0 of meer in." in page
    # the valid part still applies, to the table and the map alike
    assert map_url(page) == "/api/properties/overview?layer=bedrijfsruimte"
    assert 'data-total="600"' in page


def test_available_from_filter_in_the_api(seeded_app, client):
    day = "2026-12-31"
    features = client.get(f"/api/properties?available_from={day}").get_json()["features"]
    everything = client.get("/api/properties").get_json()["features"]
    assert 0 < len(features) < len(everything)
    assert all(f["properties"]["available_from"] <= day for f in features)
    later = {f["id"] for f in everything if f["properties"]["available_from"] <= day}
    assert {f["id"] for f in features} == later
    bad = client.get("/api/properties?available_from=31-12-2026")
    assert bad.status_code == 400
    assert "available_from" in bad.get_json()["errors"]


# -- one property ----------------------------------------------------------------------------


def test_property_page_shows_candidates_reasons_and_contacts(seeded_app, client, login):
    login("officer")
    need_id, pid, _other = shared_candidate(seeded_app)
    expected = candidates_of(seeded_app, pid)
    page = client.get(f"/properties/{pid}").get_data(as_text=True)
    body = page[page.index('id="candidates"') :]
    assert [int(n) for n in re.findall(r'<tr data-need="(\d+)"', body)] == expected
    with get_store(seeded_app).sessions() as session:
        need = session.get(Need, expected[0])
    assert html.escape(need.contact_email) in body
    assert html.escape(need.contact_name) in body
    assert 'class="crit-size">Grootte' in body and "m²" in body
    assert 'class="crit-price">Prijs' in body
    assert 'class="crit-place">Plek' in body
    assert 'class="priority"' in body
    assert "Voorrang gemeenschapseconomie staat apart" in page
    # the status form offers only the allowed steps, and the candidates to choose from
    form = page[
        page.index('id="status-form"') : page.index("</form>", page.index('id="status-form"'))
    ]
    steps = form[: form.index('name="need"')]
    assert re.findall(r'<option (?:selected )?value="(\w+)">', steps) == [
        "in_optie",
        "toegewezen",
        "ingetrokken",
    ]
    # the usual next step from "beschikbaar" is preselected, not the first or the current one
    assert re.findall(r'<option selected value="(\w+)">', steps) == ["in_optie"]
    assert f'<option value="{need_id}"' in form
    # English on request: the reasons too
    english = client.get(f"/properties/{pid}?lang=en").get_data(as_text=True)
    assert "within" in english or "over the" in english or "smaller" in english


def test_unknown_property_is_404(seeded_app, client, login):
    login("officer")
    assert client.get("/properties/nope.123").status_code == 404
    response = client.post(
        "/properties/nope.123/status", data={"to_status": "ingetrokken", "reason": "x"}
    )
    assert response.status_code == 404


def test_workflow_option_then_allocation_houses_the_need(seeded_app, client, login):
    email = login("officer")
    need_id, pid, other = shared_candidate(seeded_app)
    assert need_id in candidates_of(seeded_app, other)

    response = client.post(
        f"/properties/{pid}/status",
        data={"to_status": "in_optie", "need": str(need_id), "reason": "Gesprek gepland"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/properties/{pid}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Status gewijzigd: beschikbaar → in optie." in page
    assert 'id="current-need"' in page
    # in optie: the option's need is preselected for the next step
    assert re.search(
        rf'<option selected value="{need_id}">|<option value="{need_id}" selected', page
    )

    response = client.post(
        f"/properties/{pid}/status",
        data={"to_status": "toegewezen", "need": str(need_id), "reason": "Huurcontract getekend"},
    )
    assert response.status_code == 302

    events = events_of(seeded_app, pid)
    assert [(e.from_status, e.to_status, e.need_id, e.reason, e.actor) for e in events] == [
        ("beschikbaar", "in_optie", need_id, "Gesprek gepland", email),
        ("in_optie", "toegewezen", need_id, "Huurcontract getekend", email),
    ]
    assert all(e.at is not None for e in events)
    assert status_of(seeded_app, Property, pid) == "toegewezen"
    assert status_of(seeded_app, Need, need_id) == "gehuisvest"

    page = client.get(f"/properties/{pid}").get_data(as_text=True)
    history = page[page.index('id="history"') :]
    history = history[: history.index("</table>")]  # the mails table follows
    assert "Gesprek gepland" in history and "Huurcontract getekend" in history
    assert email in history
    assert history.count("<tr>") == 3  # header + two events
    mails = page[page.index('id="mails"') :]
    assert mails.count("<tr>") == 3  # header + the option and the assignment mails

    # the housed need has left the other property's ranking (page and engine)
    assert need_id not in candidates_of(seeded_app, other)
    other_page = client.get(f"/properties/{other}").get_data(as_text=True)
    assert f'data-need="{need_id}"' not in other_page
    assert f'<option value="{need_id}"' not in other_page


def test_toegewezen_twice_is_refused(seeded_app, client, login):
    login("officer")
    need_id, pid, other = shared_candidate(seeded_app)
    data = {"to_status": "toegewezen", "need": str(need_id), "reason": "Toegewezen"}
    assert client.post(f"/properties/{pid}/status", data=data).status_code == 302
    # the same property again: not an allowed step
    again = client.post(f"/properties/{pid}/status", data=data)
    assert again.status_code == 400
    assert "Kies een van: beschikbaar." in again.get_data(as_text=True)
    # another property to the now housed need: refused
    elsewhere = client.post(f"/properties/{other}/status", data=data)
    assert elsewhere.status_code == 400
    assert "Kies een initiatief met een open ruimtevraag." in elsewhere.get_data(as_text=True)
    assert len(events_of(seeded_app, pid)) == 1
    assert events_of(seeded_app, other) == []
    assert status_of(seeded_app, Property, other) == "beschikbaar"


def test_a_step_without_a_reason_writes_nothing(seeded_app, client, login):
    login("officer")
    need_id, pid, _other = shared_candidate(seeded_app)
    with get_store(seeded_app).sessions() as session:
        version = session.scalar(select(func.max(StatusEvent.id)))
    for reason in ("", "   "):
        response = client.post(
            f"/properties/{pid}/status",
            data={"to_status": "in_optie", "need": str(need_id), "reason": reason},
        )
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        reason_field = page[page.index('id="field-reason"') :]
        assert "Dit veld is verplicht." in reason_field[: reason_field.index('name="reason"')]
    # in_optie without a need: refused as well
    response = client.post(
        f"/properties/{pid}/status", data={"to_status": "in_optie", "reason": "optie"}
    )
    assert response.status_code == 400
    with get_store(seeded_app).sessions() as session:
        assert session.scalar(select(func.max(StatusEvent.id))) == version
    assert events_of(seeded_app, pid) == []
    assert status_of(seeded_app, Property, pid) == "beschikbaar"
    assert status_of(seeded_app, Need, need_id) == "open"


# -- allocation ------------------------------------------------------------------------------


def test_allocation_is_one_to_one(seeded_app, client, login):
    login("officer")
    listing = client.get("/allocation?stadsdeel=A").get_data(as_text=True)
    ids = [html.unescape(i) for i in re.findall(r'name="property" value="([^"]+)"', listing)]
    assert len(ids) > 20
    response = client.post("/allocation?area=A", data={"property": ids, "priority_weight": "0.5"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    pairs = pairs_of(page)
    assert pairs
    assert len({p for p, _ in pairs}) == len(pairs)  # one need per property
    assert len({n for _, n in pairs}) == len(pairs)  # one property per need
    assert {p for p, _ in pairs} <= set(ids)
    # each pair is a real candidate, and links to the property page with the need preselected
    index = fresh_index(seeded_app)
    for pid, need_id in pairs[:5]:
        assert need_id in [m.need_id for m in rank_needs(index, pid, limit=50)]
        assert f"/properties/{pid}?need={need_id}" in page
    assert 'id="proposal-totals"' in page
    # nothing was written: the proposal only proposes
    with get_store(seeded_app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(StatusEvent)) == 0


def test_allocation_by_id_list_reports_skipped_and_unknown(seeded_app, client, login):
    login("officer")
    with get_store(seeded_app).sessions() as session:
        optie = session.scalar(select(Property.id).where(Property.status == "in_optie").limit(1))
    _need, pid, other = shared_candidate(seeded_app)
    response = client.post("/allocation", data={"ids": f"{pid}, {other}\n{optie}\nnope.1"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    skipped = page[page.index('id="skipped"') :]
    assert optie in skipped[: skipped.index("</ul>")]
    assert "nope.1" in page[page.index('id="unknown"') :]
    assert {p for p, _ in pairs_of(page)} <= {pid, other}
    assert pairs_of(page)


def test_allocation_refuses_an_empty_selection_and_a_bad_weight(seeded_app, client, login):
    login("officer")
    assert client.post("/allocation", data={}).status_code == 400
    response = client.post(
        "/allocation", data={"ids": "bedrijfsruimte.BDR-0001", "priority_weight": "3"}
    )
    assert response.status_code == 400
    assert 'id="proposal"' not in response.get_data(as_text=True)


def test_allocation_priority_weight_changes_value_not_score(seeded_app, client, login):
    login("officer")
    ids = [
        f["id"]
        for f in client.get("/api/properties?area=E&status=beschikbaar").get_json()["features"]
    ]
    from spacematch.web.officer.allocation import build_proposal

    index = fresh_index(seeded_app)
    plain = build_proposal(
        index, ids, weights=seeded_app.config["MATCH_WEIGHTS"], priority_weight=0
    )
    weighted = build_proposal(
        index, ids, weights=seeded_app.config["MATCH_WEIGHTS"], priority_weight=1
    )
    assert plain.pairs and weighted.pairs
    assert all(p.value == pytest.approx(p.score) for p in plain.pairs)
    assert all(p.value == pytest.approx(p.score + p.priority) for p in weighted.pairs)
    assert sum(p.priority for p in weighted.pairs) >= sum(p.priority for p in plain.pairs)


# -- escaping --------------------------------------------------------------------------------


def test_injected_need_is_escaped_on_property_and_allocation_pages(seeded_app, client, login):
    login("officer")
    prop = lonely_property(seeded_app)
    need_id = xss_need_for(seeded_app, prop)
    assert candidates_of(seeded_app, prop.id) == [need_id]

    page = client.get(f"/properties/{prop.id}").get_data(as_text=True)
    assert f'data-need="{need_id}"' in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page
    assert "\\u003cimg src=x" in page  # the map's embedded data, JSON-escaped

    response = client.post("/allocation", data={"ids": prop.id})
    page = response.get_data(as_text=True)
    assert pairs_of(page) == [(prop.id, need_id)]
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page

    # once in the history (with a hostile reason too), still escaped
    client.post(
        f"/properties/{prop.id}/status",
        data={"to_status": "in_optie", "need": str(need_id), "reason": "<script>alert(2)</script>"},
    )
    page = client.get(f"/properties/{prop.id}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page[page.index('id="history"') :]
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "<img" not in page and "<script>alert" not in page


def test_list_map_url_carries_the_date_filter(seeded_app, client, login):
    login("officer")
    today = dt.date.today().isoformat()
    page = client.get(f"/properties?available_from={today}").get_data(as_text=True)
    assert "available_from=" + today in map_url(page)
