"""The Content-Security-Policy in a real browser: every map page works with no CSP violation.

Chromium reports a blocked inline script, inline style, image, fetch or form target both on the
console ("Refused to ... because it violates the following Content Security Policy directive")
and as a ``securitypolicyviolation`` event; both are recorded and must stay empty.
"""

import datetime as dt

import pytest

from spacematch import get_store
from spacematch.domain.accounts import create_user

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(
    `${e.violatedDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
});
"""
PASSWORD = "correct horse"


class Watch:
    """CSP violations of one browser page, from the console and from the DOM event."""

    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        page.page.on("console", self._console)
        page.page.add_init_script(RECORD_VIOLATIONS)

    def _console(self, message) -> None:  # message: a playwright ConsoleMessage
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def violations(self) -> list[str]:
        events = self.page.page.evaluate("() => window.__csp || []")
        return self.console + events

    def assert_clean(self, where: str) -> None:
        self.page.page.wait_for_timeout(300)  # late tiles and fetches report too
        assert self.violations() == [], where
        assert self.page.errors == [], where


@pytest.fixture
def admin(live_app):
    with get_store(live_app).session() as session:
        create_user(session, email="admin@example.org", role="admin", password=PASSWORD)
    return "admin@example.org"


@pytest.fixture
def need_token(live_app):
    needed = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    response = live_app.test_client().post("/api/needs", json={
        "initiative": "CSP Coöperatie", "legal_form": "cooperatie", "sector": "voedsel",
        "contact_name": "Sam Jansen", "contact_email": "sam@example.org",
        "min_area_m2": 40, "max_area_m2": 400, "max_rent_eur_month": 4000,
        "uses": ["winkel", "opslag", "kantoor", "werkplaats"], "areas": ["M", "E"],
        "point": [4.93, 52.36], "max_distance_m": 2000, "needed_from": needed, "min_months": 12,
    })  # fmt: skip
    assert response.status_code == 201
    return response.get_json()["token"]


def loaded(p, selector: str, key: str) -> int:
    p.wait_for_function(
        f"() => document.querySelector({selector!r}).dataset.loaded_{key} !== undefined"
    )
    return int(p.locator(selector).get_attribute(f"data-loaded_{key}"))


def test_overview_map_runs_under_the_csp(page, live_server):
    watch = Watch(page)
    p = page.page
    response = p.goto(f"{live_server}/")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert loaded(p, ".folium-map", "buurten") == 518
    assert loaded(p, ".folium-map", "ateliers") > 0
    p.locator(".leaflet-control-layers").first.wait_for()
    watch.assert_clean("/")


def test_private_need_page_runs_under_the_csp(page, live_server, need_token):
    watch = Watch(page)
    p = page.page
    response = p.goto(f"{live_server}/needs/{need_token}")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    fits = loaded(p, "#fits-map .folium-map", "fits")
    assert fits == p.locator("ol#fits > li").count() > 0
    assert loaded(p, "#fits-map .folium-map", "point") == 1
    watch.assert_clean("private page")

    # the withdraw confirmation (a nonce'd listener, no inline onsubmit) still asks first;
    # the page wrapper dismisses the dialog, so nothing is withdrawn
    p.click("form[data-confirm] button[type=submit]")
    p.wait_for_timeout(300)
    assert page.dialogs and "intrekken" in page.dialogs[0].lower()
    assert p.url.endswith(f"/needs/{need_token}")
    assert p.locator(".status-open").count() == 1

    p.goto(f"{live_server}/needs/{need_token}/edit")
    p.locator("#point-map.leaflet-container").wait_for(state="attached")  # Leaflet ran
    watch.assert_clean("edit form")


def test_officer_and_planner_pages_run_under_the_csp(page, live_server, live_app, admin):
    watch = Watch(page)
    p = page.page
    p.goto(f"{live_server}/login")
    p.fill("#email", admin)
    p.fill("#password", PASSWORD)
    p.click("main form button[type=submit]")
    p.wait_for_url(f"{live_server}/properties")  # an officer (or admin) lands on the list
    watch.assert_clean("login")

    p.goto(f"{live_server}/properties?layer=ateliers")
    assert loaded(p, "#properties-map .folium-map", "properties") > 0
    watch.assert_clean("/properties")

    href = p.locator("#property-table tbody a").first.get_attribute("href")
    p.goto(live_server + href)
    assert loaded(p, "#property-map .folium-map", "property") == 1
    loaded(p, "#property-map .folium-map", "candidates")
    watch.assert_clean(href)

    p.goto(f"{live_server}/planner")
    p.wait_for_function(
        "() => document.querySelectorAll('#monitor-map .leaflet-control-layers-base input').length"
    )
    # the buurten are fetched (connect-src 'self'), not carried in the page
    assert loaded(p, "#monitor-map .folium-map", "monitor") == 518
    # the monitor's legend swatches are SVG (no style attributes), drawn in their colours
    assert p.locator(".legend svg rect").count() > 5
    watch.assert_clean("/planner")

    p.goto(f"{live_server}/allocation")
    watch.assert_clean("/allocation")
