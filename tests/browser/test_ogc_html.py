"""The OGC API's HTML pages in a real browser: the items page draws its features on the map,
under the site's Content-Security-Policy, with no script error."""

import pytest

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


@pytest.mark.parametrize(("cid", "count"), [("plots", 20), ("properties", 20), ("needs", 7)])
def test_items_page_draws_its_features(page, live_server, cid, count):
    p = page.page
    p.add_init_script(RECORD_VIOLATIONS)
    p.goto(f"{live_server}/ogc/collections/{cid}/items?f=html&limit={count}")
    p.wait_for_selector("#ogc-map[data-loaded]")
    assert p.locator("#ogc-map").get_attribute("data-loaded") == str(count)
    assert p.locator("#ogc-map .leaflet-interactive").count() == count
    assert p.locator("table tbody tr").count() == count
    p.wait_for_timeout(300)
    assert p.evaluate("() => window.__csp") == []
    assert page.errors == [] and page.dialogs == []
    assert page.foreign_requests() == []


def test_browser_gets_html_and_follows_next(page, live_server):
    p = page.page
    p.goto(f"{live_server}/ogc/collections/areas/items?limit=100")
    assert p.locator("h1").inner_text().startswith("Aanbod en vraag")
    p.locator("a[rel=next]").first.click()
    p.wait_for_url("**offset=100**")
    assert p.locator("table tbody tr").count() == 100
