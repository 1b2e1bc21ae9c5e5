"""WCAG 2.1 AA in a real browser: axe-core (from npm, node_modules/axe-core, installed by
`npm ci` from package-lock.json) on every page in both languages at a desktop and a phone width,
with zero violations of any impact; no page wider than the phone; the intake done by keyboard
alone; and the error summary that takes the focus and leads to the fields."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from spacematch import get_store
from spacematch.domain.accounts import create_user
from spacematch.models import Need, Property

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1366, 390)
LANGS = ("nl", "en")
# Every WCAG 2.x A/AA rule plus axe's best practices: "zero violations of any impact".
AXE_RUN = """() => axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
  resultTypes: ["violations"],
}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact,
  nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary),
})))"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        if os.environ.get("SPACEMATCH_REQUIRE_BROWSER"):
            pytest.fail(f"{AXE} is missing: run `npm ci`")
        pytest.skip(f"{AXE} is missing: run `npm ci`")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def accounts(live_app) -> dict[str, str]:
    with get_store(live_app).session() as session:
        create_user(session, email="officer@example.org", role="officer", password="correct horse")
        create_user(session, email="planner@example.org", role="planner", password="correct horse")
    return {"officer": "officer@example.org", "planner": "planner@example.org"}


@pytest.fixture
def need_token(live_app) -> str:
    with get_store(live_app).sessions() as session:
        return session.scalar(select(Need.token).where(Need.status == "open").order_by(Need.id))


@pytest.fixture
def property_id(live_app) -> str:
    with get_store(live_app).sessions() as session:
        return session.scalar(
            select(Property.id).where(Property.status == "beschikbaar").order_by(Property.id)
        )


def new_page(browser, axe_source: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="nl-NL")
    # An init script runs before the page's own (and, injected by the browser, is not subject to
    # the page's Content-Security-Policy, which the test keeps as it is).
    context.add_init_script(axe_source)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", "correct horse")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def audit(page) -> tuple[list[dict], int]:
    """axe's violations, and the document's width (scrollWidth) in CSS pixels."""
    page.wait_for_load_state("networkidle")
    return page.evaluate(AXE_RUN), page.evaluate("document.documentElement.scrollWidth")


def check_pages(browser, axe_source, base, paths, *, login: str | None = None) -> list[str]:
    failures = []
    for width in WIDTHS:
        context, page = new_page(browser, axe_source, width)
        try:
            if login:
                log_in(page, base, login)
            for path in paths:
                for lang in LANGS:
                    sep = "&" if "?" in path else "?"
                    if path.startswith("POST "):  # the form sent empty: every error shown
                        page.goto(f"{base}{path[5:]}{sep}lang={lang}")
                        page.click("main form button[type=submit]")
                        page.wait_for_selector("#error-summary")
                    else:
                        page.goto(f"{base}{path}{sep}lang={lang}")
                    assert page.locator("html").get_attribute("lang") == lang, path
                    violations, doc_width = audit(page)
                    for v in violations:
                        failures.append(f"{path} {lang} {width}px: {v}")
                    if doc_width > width:
                        failures.append(f"{path} {lang} {width}px: document {doc_width}px wide")
        finally:
            context.close()
    return failures


def test_public_pages_pass_axe_and_fit_a_phone(browser, axe_source, live_server, need_token):
    paths = ["/", "/needs/new", "POST /needs/new", f"/needs/{need_token}", "/login",
             "/toegankelijkheid"]  # fmt: skip
    failures = check_pages(browser, axe_source, live_server, paths)
    assert not failures, "\n".join(failures)


def test_officer_and_planner_pages_pass_axe(
    browser, axe_source, live_server, accounts, property_id
):
    failures = check_pages(
        browser, axe_source, live_server, ["/properties", f"/properties/{property_id}"],
        login=accounts["officer"],
    )  # fmt: skip
    failures += check_pages(
        browser, axe_source, live_server, ["/planner"], login=accounts["planner"]
    )
    assert not failures, "\n".join(failures)


def test_axe_finds_a_planted_violation(browser, axe_source, live_server):
    """The audit can fail: an image without alt text on a real page is reported."""
    context, page = new_page(browser, axe_source, 390)
    try:
        page.goto(f"{live_server}/toegankelijkheid")
        page.evaluate("() => document.querySelector('main').append(document.createElement('img'))")
        page.evaluate("() => { document.querySelector('main').style.minWidth = '600px'; }")
        violations, width = audit(page)
    finally:
        context.close()
    assert "image-alt" in {v["id"] for v in violations}
    assert width > 390


def test_maps_allow_pinch_zoom(browser, axe_source, live_server, need_token):
    context, page = new_page(browser, axe_source, 390)
    try:
        for path in ("/", f"/needs/{need_token}", "/needs/new"):
            page.goto(live_server + path)
            metas = page.locator("meta[name=viewport]")
            assert metas.count() == 1, path
            content = metas.first.get_attribute("content").replace(" ", "")
            assert "user-scalable=no" not in content and "maximum-scale" not in content, path
    finally:
        context.close()


def test_wrong_submit_focuses_a_summary_that_leads_to_the_fields(browser, axe_source, live_server):
    context, page = new_page(browser, axe_source, 390)
    try:
        page.goto(f"{live_server}/needs/new")
        page.fill("#initiative", "Buurtkeuken Noord")
        page.fill("#min_area_m2", "500")
        page.fill("#max_area_m2", "50")  # smaller than the minimum
        page.click("main form button[type=submit]")
        page.wait_for_selector("#error-summary")
        assert page.evaluate("document.activeElement.id") == "error-summary"
        links = page.locator("#error-summary a")
        assert links.count() >= 5
        assert page.input_value("#initiative") == "Buurtkeuken Noord"  # the values are kept
        assert page.input_value("#min_area_m2") == "500"
        for i in range(links.count()):
            target = links.nth(i).get_attribute("href")[1:]
            control = page.locator(f"[id='{target}']")
            assert control.count() == 1, target
            if control.evaluate("e => e.type") == "checkbox":  # a group: the fieldset says it
                holder = page.locator("#field-uses")
                assert holder.get_attribute("aria-invalid") == "true"
                described = holder.get_attribute("aria-describedby")
            else:
                assert control.get_attribute("aria-invalid") == "true", target
                described = control.get_attribute("aria-describedby")
            messages = [page.locator(f"[id='{d}']").inner_text() for d in described.split()]
            assert any(m.strip() for m in messages if "error" in m.lower() or "fout" in m.lower())
        links.first.click()
        assert page.evaluate("document.activeElement.id") == links.first.get_attribute("href")[1:]
    finally:
        context.close()


def test_intake_by_keyboard_alone_sets_the_place_on_the_map(browser, axe_source, live_server):
    """Tab, type, Space and Enter only: no click, no fill. The place is picked on the map with
    the arrow keys and Enter."""
    context, page = new_page(browser, axe_source, 1366)
    kb = page.keyboard
    try:
        page.goto(f"{live_server}/needs/new")
        kb.press("Tab")
        assert page.evaluate("document.activeElement.className").startswith("utrecht-skip-link")
        kb.press("Enter")  # skip to the content

        def tab_to(selector: str, limit: int = 60) -> None:
            for _ in range(limit):
                kb.press("Tab")
                if page.evaluate(f"document.activeElement.matches({selector!r})"):
                    return
            raise AssertionError(f"{selector} not reached by Tab")

        tab_to("#initiative")
        kb.type("Muziekschool Oost")
        tab_to("#contact_name")
        kb.type("Noor de Vries")
        tab_to("#contact_email")
        kb.type("noor@example.org")
        tab_to("#min_area_m2")
        kb.type("30")
        tab_to("#max_area_m2")
        kb.type("300")
        tab_to("#max_rent_eur_month")
        kb.type("3000")
        tab_to("#uses-0")
        kb.press("Space")
        tab_to("#needed_from")
        kb.type("01012030")
        assert page.is_hidden("#max_distance_m")  # no point yet: no distance to ask
        tab_to("#point-map")
        kb.press("ArrowUp")
        kb.press("Enter")  # the centre of the map becomes the point
        assert page.input_value("#point")
        assert page.is_visible("#max_distance_m")
        tab_to("button[type=submit].utrecht-button--primary-action")
        kb.press("Enter")
        page.wait_for_load_state()
        summary = page.locator("#error-summary")
        assert summary.count() == 0, summary.inner_text()
        page.wait_for_url(re.compile(r".*/needs/(?!new)[^/?#]+(#.*)?$"))
        assert page.locator("#need-status").count() == 1
    finally:
        context.close()


def test_postcode_sets_the_place_without_a_map(browser, axe_source, live_server):
    context, page = new_page(browser, axe_source, 390)
    try:
        page.goto(f"{live_server}/needs/new")
        page.fill("#postcode", "1094")
        assert page.is_visible("#max_distance_m")
        page.fill("#postcode", "9999")
        page.click("main form button[type=submit]")
        page.wait_for_selector("#error-summary")
        assert page.locator("#error-summary a[href='#postcode']").count() == 1
        assert page.get_attribute("#postcode", "aria-invalid") == "true"
    finally:
        context.close()


def test_header_stays_one_line_at_320_px(browser, axe_source, live_server):
    """The service name and the language switch share one line on the narrowest phone."""
    context, page = new_page(browser, axe_source, 320)
    try:
        for lang in LANGS:
            page.goto(f"{live_server}/needs/new?lang={lang}")
            brand = page.locator(".sm-brand").bounding_box()
            switch = page.locator(".sm-lang").bounding_box()
            assert abs(brand["y"] - switch["y"]) < 8, lang
            assert switch["x"] + switch["width"] <= 320, lang
            assert page.evaluate("document.documentElement.scrollWidth") <= 320, lang
    finally:
        context.close()


def test_home_map_data_is_a_list_linked_both_ways(browser, axe_source, live_server):
    context, page = new_page(browser, axe_source, 1366)
    try:
        page.goto(f"{live_server}/")
        page.wait_for_load_state("networkidle")
        page.evaluate("""() => { for (const k of Object.keys(window))
            if (k.startsWith('map_') && window[k].setZoom) window[k].setZoom(16); }""")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)  # the lists are rebuilt from the answers just received
        page.wait_for_selector("#map-list li button")
        entry = page.locator("#map-list li").first
        entry.locator("button").click()
        back = page.locator(".leaflet-popup .sm-popup__list")
        assert back.count() == 1
        assert page.evaluate("document.activeElement.className") == "sm-popup__list"
        assert back.get_attribute("href") == "#" + entry.get_attribute("id")
    finally:
        context.close()


def test_remaining_pages_pass_axe(browser, axe_source, live_app, live_server, need_token, accounts):
    """The pages the two tests above leave out: edit form, lost link, unsubscribed, the public
    allocation rounds, an error page, and the officer's allocation, layer and round pages."""
    from spacematch.domain.areas import AreaIndex
    from spacematch.mail.messages import mail_settings
    from spacematch.matching import MatchIndex
    from spacematch.matching import round_store as rs
    from spacematch.models import Layer

    store = get_store(live_app)
    with store.session() as session:
        need_id = session.scalar(select(Need.id).where(Need.token == need_token))
        unsubscribe = mail_settings(session, need_id).unsubscribe_token
        slug = session.scalar(select(Layer.slug).order_by(Layer.slug))
        create_user(session, email="admin@example.org", role="admin", password="correct horse")
        spaces = list(session.scalars(
            select(Property.id).where(Property.status == "beschikbaar").order_by(Property.id)
            .limit(8)
        ))  # fmt: skip
        round_id = rs.open_round(session, spaces, None, actor="officer@example.org").id
    with store.session() as session:  # a drawn round, so /toewijzingen shows its results
        index = MatchIndex.from_store(store, AreaIndex.from_session(session))
        rs.draw_round(session, index, round_id, actor="officer@example.org")
    public = [f"/needs/{need_token}/edit", "/needs/lost", f"/needs/unsubscribe/{unsubscribe}",
              "/toewijzingen", "/bestaat-niet"]  # fmt: skip
    officer = ["/allocation", "/layers", f"/layers/{slug}/report", f"/officer/rounds/{round_id}"]
    failures = check_pages(browser, axe_source, live_server, public)
    failures += check_pages(browser, axe_source, live_server, officer, login=accounts["officer"])
    failures += check_pages(browser, axe_source, live_server, ["/layers/upload"],
                            login="admin@example.org")  # fmt: skip
    assert not failures, "\n".join(failures)
