"""A vastgoed officer in a real browser: log in, filter, propose, allocate; no foreign requests."""

import pytest

from spacematch import get_store
from spacematch.domain.accounts import create_user

pytestmark = pytest.mark.browser


@pytest.fixture
def officer(live_app):
    with get_store(live_app).session() as session:
        create_user(session, email="officer@example.org", role="officer", password="correct horse")
    return "officer@example.org"


def test_officer_logs_in_filters_and_allocates(page, live_server, officer):
    p = page.page
    p.goto(f"{live_server}/properties")
    assert "/login" in p.url  # anonymous: sent to log in
    p.fill("#email", officer)
    p.fill("#password", "correct horse")
    p.click("main form button[type=submit]")
    p.wait_for_url("**/properties*")

    # filter: ateliers in stadsdeel West that are available
    p.select_option("#f-layer", "ateliers")
    p.select_option("#f-stadsdeel", "E")
    p.check("input[name=status][value=beschikbaar]")
    p.click("#property-filter button[type=submit]")
    p.wait_for_url("**layer=ateliers**")
    total = int(p.locator("#counts").get_attribute("data-total"))
    assert 0 < total < 100
    rows = p.locator("#property-table tbody tr")
    assert rows.count() == min(total, 25)
    p.wait_for_function(
        "() => document.querySelector('#properties-map .folium-map').dataset.loaded_properties"
    )
    on_map = int(p.locator("#properties-map .folium-map").get_attribute("data-loaded_properties"))
    assert on_map <= total  # the map shows the same filter, within the visible bounds

    # open the first property that has candidates and allocate it to the best one
    links = [a.get_attribute("href") for a in p.locator("#property-table tbody a").all()]
    chosen = None
    for href in links[:20]:
        p.goto(live_server + href)
        if p.locator("#candidates tbody tr").count():
            chosen = href
            break
    assert chosen, "no property of this filter has candidates"
    need_id = p.locator("#candidates tbody tr").first.get_attribute("data-need")
    initiative = p.locator("#candidates tbody tr").first.locator("strong").inner_text()

    p.select_option("#to_status", "in_optie")
    p.select_option("#need", need_id)
    p.fill("#reason", "Gesprek gepland met het initiatief.")
    p.click("#status-form button[type=submit]")
    p.wait_for_selector("#history")
    p.select_option("#to_status", "toegewezen")
    p.select_option("#need", need_id)
    p.fill("#reason", "Huurovereenkomst getekend.")
    p.click("#status-form button[type=submit]")
    p.wait_for_selector("#history tbody tr:nth-child(2)")
    history = p.locator("#history tbody tr")
    assert history.count() == 2
    last = history.nth(1).inner_text()
    assert initiative in last and officer in last and "Huurovereenkomst getekend." in last
    assert page.foreign_requests() == []
    assert page.errors == [] and page.dialogs == []


def test_allocation_proposal_pairs_each_property_once(page, live_server, officer):
    p = page.page
    p.goto(f"{live_server}/login")
    p.fill("#email", officer)
    p.fill("#password", "correct horse")
    p.click("main form button[type=submit]")
    # nothing is ticked by default: tick every property of the filter (the page's own link)
    p.goto(f"{live_server}/allocation?layer=ateliers&area=N&status=beschikbaar&all=1")
    listed = p.locator("#selection tbody input[name=property]").count()
    assert listed > 0
    p.locator("#selection-form button[type=submit]").first.click()
    p.wait_for_selector("table#pairs")
    rows = p.locator("table#pairs tbody tr").all()
    assert 0 < len(rows) <= listed
    props = [r.get_attribute("data-property") for r in rows]
    needs = [r.get_attribute("data-need") for r in rows]
    assert len(set(props)) == len(props) and len(set(needs)) == len(needs)
    assert page.errors == []
