"""An initiative in a real browser: intake, errors, fits on the map, no foreign requests, no XSS."""

import datetime as dt

import pytest

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"


OPEN_POPUPS = """() => {
  let opened = 0;
  for (const key of Object.keys(window)) {
    const map = window[key];
    if (!key.startsWith("map_") || !map || typeof map.eachLayer !== "function") continue;
    map.eachLayer((layer) => {
      if (layer.getPopup && layer.getPopup()) { layer.openPopup(); opened += 1; }
      if (layer.getTooltip && layer.getTooltip()) { layer.openTooltip(); }
    });
  }
  return opened;
}"""


def open_every_popup(p) -> int:
    """Open every popup and tooltip on the page's maps (markers are drawn on a canvas)."""
    return p.evaluate(OPEN_POPUPS)


def fill_need(page, *, initiative="Voedselcoöperatie Oost", description="Een buurtwinkel."):
    needed = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    page.fill("#initiative", initiative)
    page.select_option("#legal_form", "cooperatie")
    page.select_option("#sector", "voedsel")
    page.fill("#description", description)
    page.fill("#contact_name", "Sam Jansen")
    page.fill("#contact_email", "sam@example.org")
    page.fill("#min_area_m2", "40")
    page.fill("#max_area_m2", "400")
    page.fill("#max_rent_eur_month", "4000")
    for use in ("winkel", "opslag", "kantoor", "werkplaats"):
        page.check(f"input[name=uses][value={use}]")
    page.fill("#areas", "Oost, West")
    page.fill("#needed_from", needed)
    page.fill("#min_months", "12")


def test_submit_need_and_see_fits_on_the_map(page, live_server):
    p = page.page
    p.goto(f"{live_server}/needs/new")
    fill_need(p)
    p.click("button[type=submit]")
    p.wait_for_url("**/needs/*")
    fits = p.locator("ol#fits > li")
    assert fits.count() > 0
    first = fits.first.inner_text()
    assert "Grootte" in first and "Prijs" in first and "Plek" in first
    map_div = p.locator("#fits-map .folium-map")
    p.wait_for_function("() => document.querySelector('#fits-map .folium-map').dataset.loaded_fits")
    assert int(map_div.get_attribute("data-loaded_fits")) == fits.count()
    assert open_every_popup(p) >= fits.count()
    assert page.foreign_requests() == []
    assert page.errors == []


def test_wrong_form_shows_its_errors_and_stores_nothing(page, live_server):
    p = page.page
    p.goto(f"{live_server}/needs/new")
    fill_need(p)
    p.fill("#min_area_m2", "500")
    p.fill("#max_area_m2", "100")
    p.fill("#contact_email", "not-an-email")
    p.fill("#areas", "Nergensland")
    p.uncheck("input[name=uses][value=winkel]")
    p.uncheck("input[name=uses][value=opslag]")
    p.uncheck("input[name=uses][value=kantoor]")
    p.uncheck("input[name=uses][value=werkplaats]")
    # The form posts to its own URL: wait for the answer page, not for a URL change.
    with p.expect_navigation():
        p.click("button[type=submit]")
    assert "/needs/new" in p.url
    for field in ("min_area_m2", "contact_email", "areas", "uses"):
        assert p.locator(f"#field-{field} .error").count() == 1, field
    assert p.locator("#initiative").input_value() == "Voedselcoöperatie Oost"


def test_overview_map_loads_only_from_the_app(page, live_server):
    p = page.page
    p.goto(f"{live_server}/")
    p.wait_for_function("() => document.querySelector('.folium-map').dataset.loaded_buurten")
    for layer in ("ateliers", "bedrijfsruimte", "kavels", "maatschappelijk"):
        p.wait_for_function(
            f"() => document.querySelector('.folium-map').dataset.loaded_{layer} !== undefined"
        )
    map_div = p.locator(".folium-map")
    assert int(map_div.get_attribute("data-loaded_buurten")) == 518
    loaded = sum(
        int(map_div.get_attribute(f"data-loaded_{layer}") or 0)
        for layer in ("ateliers", "bedrijfsruimte", "kavels", "maatschappelijk")
    )
    assert loaded > 500
    # the demand/supply choropleth is off until asked for, then fetched once
    assert not any("supply-demand" in url for _, url in page.requests)
    balance_legend = p.locator(".sm-legend", has_text="Vraag en aanbod per buurt")
    assert balance_legend.is_hidden()  # no legend for a layer that is off
    points_legend = p.locator(".sm-legend", has_text="Beschikbare panden")
    assert points_legend.is_visible() and points_legend.locator("li:visible").count() == 4
    p.get_by_label("Bedrijfsruimte (demo)").uncheck()
    assert points_legend.locator("li:visible").count() == 3
    p.get_by_label("Vraag en aanbod per buurt (m²)").check()
    p.wait_for_function("() => document.querySelector('.folium-map').dataset.loaded_balance")
    assert int(map_div.get_attribute("data-loaded_balance")) == 518
    assert balance_legend.is_visible()
    assert page.foreign_requests() == []
    assert page.errors == []


def test_script_in_a_need_never_runs(page, live_server):
    p = page.page
    p.goto(f"{live_server}/needs/new")
    fill_need(p, initiative=XSS, description=XSS)
    p.click("button[type=submit]")
    p.wait_for_url("**/needs/*")
    p.wait_for_function("() => document.querySelector('#fits-map .folium-map').dataset.loaded_fits")
    assert XSS in p.locator("h1").inner_text()  # shown as text
    open_every_popup(p)
    p.wait_for_timeout(300)
    assert page.dialogs == []
    assert p.locator("img[src=x]").count() == 0
