"""The planner page (access, download links, monitor, chart) and the monitor's figures."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from builders import point, write_layer

from spacematch import get_store
from spacematch.domain.areas import AreaIndex
from spacematch.domain.needs import create_need, validate_need
from spacematch.export.allocation_share import (
    AllocationShare,
    allocation_share,
    share_chart_svg,
)
from spacematch.export.figures import supply_demand
from spacematch.ingest.importer import import_layer
from spacematch.models import StatusEvent

DAM_RD = (121394.0, 487375.0)
ZUID_RD = (120500.0, 483900.0)  # stadsdeel Zuid
LABELS = {"title": "T", "target": "35% in 2035", "needed": "pad", "now": "Nu", "empty": "leeg"}


def need(index, **changes):
    data = {
        "initiative": "Initiatief",
        "legal_form": "cooperatie",
        "sector": "maken",
        "contact_name": "N.N.",
        "contact_email": "nn@example.org",
        "min_area_m2": 100,
        "max_area_m2": 150,
        "max_rent_eur_month": 1500,
        "uses": ["kantoor"],
        "areas": ["AE02"],
        "needed_from": "2026-09-01",
        **changes,
    }
    return validate_need(data, areas=index, allow_past=True)


@pytest.fixture
def small_app(app, tmp_path):
    """Dam (AE02): one available 120 m² office, one in option. Zuid: one allocated 200 m², one
    allocated 100 m², one allocated 100 m² without an event. Needs: one fits at the Dam, one
    (wijk AE, grond only) never fits, one is housed, one mkb got space."""
    store = get_store(app)
    features = [
        point("dam", DAM_RD),
        point("optie", DAM_RD, status="in_optie"),
        point("coop", ZUID_RD, area_m2=200, status="toegewezen"),
        point("mkb", ZUID_RD, area_m2=100, status="toegewezen"),
        point("oud", ZUID_RD, area_m2=100, status="toegewezen"),
    ]
    import_layer(store, write_layer(tmp_path / "l.geojson", features), layer="bedrijfsruimte")
    with store.sessions() as session:
        areas = AreaIndex.from_session(session)
    with store.session() as session:
        fits = create_need(session, need(areas))
        never = create_need(session, need(areas, areas=["AE"], uses=["grond"], min_area_m2=90))
        housed = create_need(session, need(areas, status="gehuisvest"))
        mkb = create_need(session, need(areas, legal_form="mkb", status="gehuisvest"))
        session.add_all(
            [
                StatusEvent(
                    property_id="bedrijfsruimte.coop",
                    from_status="beschikbaar",
                    to_status="toegewezen",
                    need_id=housed.id,
                    reason="r",
                    at=dt.datetime(2026, 3, 1, 12),
                ),
                StatusEvent(
                    property_id="bedrijfsruimte.mkb",
                    from_status="beschikbaar",
                    to_status="toegewezen",
                    need_id=mkb.id,
                    reason="r",
                    at=dt.datetime(2026, 5, 1, 12),
                ),
            ]
        )
    app.need_ids = {"fits": fits.id, "never": never.id}
    app.areas = areas
    return app


def test_supply_and_demand_per_buurt_stadsdeel_and_city(small_app):
    areas = small_app.areas
    figures = supply_demand(get_store(small_app), areas=areas)
    wijk_ae = areas.buurten_in("AE")
    dam = figures.buurten["AE02"]
    assert (dam.available_properties, dam.available_m2) == (1, 120.0)  # in_optie is not supply
    assert dam.open_needs == 2 and dam.needs_with_fit == 1 and dam.matched_share == 0.5
    assert dam.m2_asked == pytest.approx(100 + 90 / len(wijk_ae), abs=0.01)
    other = next(c for c in wijk_ae if c != "AE02")
    assert figures.buurten[other].open_needs == 1 and figures.buurten[other].matched_share == 0.0
    assert figures.buurten["KA01"].open_needs == 0 and figures.buurten["KA01"].matched_share is None
    centrum = figures.stadsdelen["A"]
    assert centrum.open_needs == 2 and centrum.m2_asked == pytest.approx(190, abs=0.05)
    assert figures.city.m2_asked == pytest.approx(190, abs=0.05)
    assert sum(f.m2_asked for f in figures.buurten.values()) == pytest.approx(190, abs=0.05)
    assert figures.city.balance_m2 == pytest.approx(120 - 190, abs=0.05)
    strict = supply_demand(get_store(small_app), areas=areas, min_score=1.01)
    assert strict.buurten["AE02"].needs_with_fit == 0
    none_of_these = supply_demand(get_store(small_app), areas=areas, layers=("kavels",))
    assert none_of_these.buurten["AE02"].available_properties == 0
    assert none_of_these.buurten["AE02"].needs_with_fit == 0


def test_allocation_share_counts_community_m2(small_app):
    share = allocation_share(get_store(small_app))
    assert (share.total_m2, share.community_m2, share.properties) == (400.0, 200.0, 3)
    assert share.share == 0.5
    # the undated allocation counts from the start; then +200 community, then +100 mkb
    assert share.series == [(dt.date(2026, 3, 1), 200 / 300), (dt.date(2026, 5, 1), 0.5)]


def test_share_chart_is_inline_svg_against_the_target():
    svg = share_chart_svg(
        AllocationShare(400, 200, 3, 1, [(dt.date(2026, 3, 1), 2 / 3), (dt.date(2026, 5, 1), 0.5)]),
        labels=LABELS,
        today=dt.date(2026, 11, 1),
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>") and "<script" not in svg
    assert 'class="target"' in svg and "35% in 2035" in svg and ">2035<" in svg
    assert 'class="actual"' in svg and "Nu: 50.0%" in svg
    empty = share_chart_svg(AllocationShare(0, 0, 0, 0, []), labels={**LABELS, "empty": "<leeg>"})
    assert "&lt;leeg&gt;" in empty and 'class="actual"' not in empty


def test_access(app, client, login):
    response = client.get("/planner")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login("officer")
    assert client.get("/planner").status_code == 403
    for role in ("planner", "admin"):
        login(role, email=f"{role}2@example.org")
        assert client.get("/planner").status_code == 200, role


def hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)]


def test_download_links_carry_the_filters_that_apply(small_app, client, login):
    login("planner")
    page = client.get(
        "/planner?area=A&layer=bedrijfsruimte&status=beschikbaar&need_status=open"
        "&bbox=&min_score=0.6"
    ).data.decode()
    links = [h for h in hrefs(page) if h.startswith("/export/")]
    assert len(links) == 12
    assert "/export/properties.gpkg?area=A&layer=bedrijfsruimte&status=beschikbaar" in links
    assert "/export/needs.csv?area=A&status=open" in links
    assert "/export/matches.geojson?area=A&layer=bedrijfsruimte&min_score=0.6" in links
    assert "/export/areas.csv?area=A&layer=bedrijfsruimte&min_score=0.6" in links
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert response.headers["Content-Disposition"].startswith("attachment")


def test_bad_filters_are_shown_and_refused(small_app, client, login):
    login("planner")
    response = client.get("/planner?bbox=4.8,52.3&need_status=verkocht&area=ZZ&lang=en")
    assert response.status_code == 400
    page = response.data.decode()
    for marker in ("must be four numbers", "unknown status verkocht", "unknown area code"):
        assert marker in page
    dutch = client.get("/planner?bbox=4.8,52.3&need_status=verkocht&area=ZZ&lang=nl")
    assert dutch.status_code == 400
    page = dutch.data.decode()  # the page's language, not the API's English
    assert "must be four numbers" not in page and "unknown status" not in page
    assert "verkocht" in page and "ZZ" in page


def test_monitor_tables_map_and_chart(small_app, client, login):
    login("planner")
    page = client.get("/planner").data.decode()
    assert "Centrum" in page and "Oude Kerk e.o." in page
    assert page.count("<details>") == 9  # one per stadsdeel
    assert "<svg" in page and 'class="target"' in page
    assert "50%" in page  # the allocation share
    # The map's polygons are fetched (test_monitor_map_data): the page calls layers.js's
    # spacematch.choropleth, which holds the L.geoJSON layer and the L.control.layers switch.
    assert "spacematch.choropleth(" in page and '"/planner/monitor.geojson"' in page
    assert '"type":"Feature"' not in page and '"coordinates"' not in page
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
    assert scripts and all(s.startswith("/static/") for s in scripts), scripts
    assert "/static/spacematch/layers.js" in scripts
    with client.get("/static/spacematch/layers.js") as response:
        layers_js = response.data.decode()
    assert "L.geoJSON(" in layers_js and "L.control.layers(" in layers_js
    assert not re.search(r'<link[^>]+href="https?://', page)
    assert "nn@example.org" not in page and "N.N." not in page


def test_monitor_restricts_buurten_to_the_area(small_app, client, login):
    login("planner")
    page = client.get("/planner?area=AE").data.decode()
    assert page.count("<details>") == 1 and "Oude Kerk e.o." in page


def monitor_data(client, query: str = "") -> dict:
    response = client.get(f"/planner/monitor.geojson{query}")
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/geo+json"
    return response.get_json()


def test_monitor_map_data(small_app, client, login, tmp_path):
    from spacematch.maps import CHOROPLETH_CLASSES, NO_DATA_COLOR, class_color

    login("planner")
    data = monitor_data(client)
    features = {f["id"]: f for f in data["features"]}
    assert len(features) == len(small_app.areas.buurt_codes)
    dam = features["AE02"]
    assert dam["geometry"]["type"] in ("Polygon", "MultiPolygon")
    props = dam["properties"]
    assert props["name"] == "Oude Kerk e.o. (AE02)"
    assert (props["available_properties"], props["available_m2"]) == ("1", "120")
    assert (props["open_needs"], props["matched_share"]) == ("2", "50%")
    assert props["fill"]["matched_share"] == class_color(0.5, CHOROPLETH_CLASSES["matched_share"])
    assert props["fill"]["available_m2"] == class_color(120, CHOROPLETH_CLASSES["available_m2"])
    empty = features["KA01"]["properties"]
    assert empty["matched_share"] is None and empty["fill"]["matched_share"] == NO_DATA_COLOR
    text = client.get("/planner/monitor.geojson").data.decode()
    assert "nn@example.org" not in text and "N.N." not in text
    # The page's filter reaches the map: only the area's buurten, the layers and score chosen.
    # (A second layer, so that choosing one is a valid filter that changes the figures.)
    kavels = write_layer(tmp_path / "k.geojson", [point("k1", ZUID_RD)])
    import_layer(get_store(small_app), kavels, layer="kavels")
    page = client.get("/planner?area=AE&layer=kavels&min_score=0.95").data.decode()
    url = json.loads(re.search(r'("/planner/monitor\.geojson\?[^"]*")', page).group(1))
    assert url == "/planner/monitor.geojson?area=AE&layer=kavels&min_score=0.95"
    narrow = {
        f["id"]: f["properties"]
        for f in monitor_data(client, url[len("/planner/monitor.geojson") :])["features"]
    }
    assert set(narrow) == set(small_app.areas.buurten_in("AE"))
    assert narrow["AE02"]["available_properties"] == "0" and narrow["AE02"]["matched_share"] == "0%"
    assert narrow["AE02"]["fill"]["matched_share"] == CHOROPLETH_CLASSES["matched_share"][0][1]
    english = monitor_data(client, "?lang=en")
    assert {f["id"]: f for f in english["features"]}["AE02"]["properties"]["name"] == props["name"]


def test_monitor_map_data_has_the_page_access_rules(small_app, client, login):
    response = client.get("/planner/monitor.geojson")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login("officer")
    assert client.get("/planner/monitor.geojson").status_code == 403
    login("planner", email="planner2@example.org")
    assert client.get("/planner/monitor.geojson").status_code == 200
    bad = client.get("/planner/monitor.geojson?min_score=2&area=ZZ")
    assert bad.status_code == 400 and set(bad.get_json()["errors"]) >= {"min_score", "area"}


def test_monitor_is_built_once_per_data_version(small_app, client, login):
    from spacematch.web.state import state

    login("planner")
    first = client.get("/planner").data.decode()
    monitor_data(client)
    cache = state(small_app).cache
    builds = cache.builds
    memo = cache.peek(("planner", "memo"))[1]
    memo_builds = memo.builds
    assert client.get("/planner").status_code == 200
    monitor_data(client)
    assert (cache.builds, memo.builds) == (builds, memo_builds)  # nothing rebuilt
    # A new open need in buurt KA01 moves the data version: the figures follow.
    with get_store(small_app).session() as session:
        create_need(session, need(small_app.areas, areas=["KA01"]))
    page = client.get("/planner").data.decode()
    assert page != first
    ka01 = {f["id"]: f for f in monitor_data(client)["features"]}["KA01"]["properties"]
    assert ka01["open_needs"] == "1" and ka01["m2_asked"] == "100"
    assert cache.builds > builds
