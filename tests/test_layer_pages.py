"""The officers' view of an import: layer list with source and date, the import report page and
CSV, the property page of a whole-city unit, and the admins' background upload."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

from spacematch import get_store
from spacematch.ingest.importer import import_layer

V2 = Path(__file__).parent / "fixtures" / "layers" / "vastgoed_v2.geojson"
RENT = {"defaults": {"rent_eur_m2_year": 60.0}}


def _import(app) -> None:
    import_layer(get_store(app), V2, layer="vastgoed", preset="amsterdam-vastgoed", mapping=RENT)


def test_report_page_and_csv(app, client, login):
    _import(app)
    assert client.get("/layers").status_code == 302  # officers only
    login("officer")
    page = client.get("/layers").get_data(as_text=True)
    assert "vastgoed_v2.geojson" in page and "17 kenmerken in het bestand" in page
    page = client.get("/layers/vastgoed/report").get_data(as_text=True)
    assert 'id="count-imported">9<' in page
    assert 'id="count-let">2<' in page
    assert "Woning 2" in page and "Kiosk 1" in page
    assert 'id="count-outside">2<' in page and 'id="count-snapped">1<' in page
    only_let = client.get("/layers/vastgoed/report?outcome=let").get_data(as_text=True)
    assert only_let.count('<tr><td class="num">') == 2
    response = client.get("/layers/vastgoed/report.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 17
    assert [int(r["feature"]) for r in rows] == list(range(1, 18))
    by_id = {r["id"]: r for r in rows}
    assert (by_id["5002"]["outcome"], by_id["5002"]["kind"]) == ("skipped", "Woning")
    assert (by_id["5012"]["place"], by_id["5012"]["distance_m"]) == ("snapped", "8.0")
    assert by_id["5005"]["outcome"] == "let"
    assert client.get("/layers/nope/report").status_code == 404


def test_property_page_shows_bag_links_let_and_outside(app, client, login):
    _import(app)
    login("officer")
    page = client.get("/properties/vastgoed.5001").get_data(as_text=True)
    assert "Jan Pieter Heijestraat 12A-2, 1053 GL" in page
    assert (
        'href="https://bagviewer.kadaster.nl/lvbag/bag-viewer/?objectId=0363010000812301"' in page
    )
    assert "0363010000812302</a>" in page
    let = client.get("/properties/vastgoed.5005").get_data(as_text=True)
    assert 'id="let-note"' in let and 'id="status-form"' not in let  # never offered
    outside = client.get("/properties/vastgoed.5011").get_data(as_text=True)
    assert 'id="outside"' in outside and "buiten Amsterdam" in outside
    unknown = client.get("/properties/vastgoed.5009").get_data(as_text=True)
    assert 'id="unmapped-kind"' in unknown and "Kiosk" in unknown
    # Let units are listed for officers when they ask for them, never publicly.
    listed = client.get("/api/properties?status=verhuurd").get_json()
    assert {f["id"] for f in listed["features"]} == {"vastgoed.5005", "vastgoed.5010"}


def test_map_and_exports_label_the_source(app, client, login):
    _import(app)
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"Bron: vastgoed_v2\.geojson, ingelezen \d{1,2} \w+\.? 20\d\d\)", page)
    login("officer")
    response = client.get("/export/properties.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 10  # the 12 stored units but the 2 let ones
    assert all(r["source"].startswith("vastgoed_v2.geojson, 20") for r in rows)
    assert all(r["status"] != "verhuurd" for r in rows)


def test_admin_upload_runs_the_import_in_the_background(app, client, login):
    login("officer", "o@example.org")
    assert client.get("/layers/upload").status_code == 403
    client.get("/logout")
    login("admin")
    with open(V2, "rb") as fh:
        response = client.post(
            "/layers/upload",
            data={"file": (fh, "eenheden.geojson"), "layer": "vastgoed",
                  "preset": "amsterdam-vastgoed", "rent": "60"},
            content_type="multipart/form-data",
        )  # fmt: skip
    assert response.status_code == 302
    job_url = response.headers["Location"]
    for _ in range(200):
        state = client.get(job_url + "?format=json").get_json()
        if state["stage"] in ("done", "refused"):
            break
        time.sleep(0.05)
    assert state["stage"] == "done", state
    assert state["summary"][0].startswith("17 features: 9 offered")
    page = client.get(job_url).get_data(as_text=True)
    assert "/layers/vastgoed/report" in page
    with open(V2, "rb") as fh:  # a refused file leaves the layer whole
        response = client.post(
            "/layers/upload",
            data={"file": (fh, "eenheden.geojson"), "layer": "vastgoed",
                  "preset": "amsterdam-vastgoed"},
            content_type="multipart/form-data",
        )  # fmt: skip
    job_url = response.headers["Location"]
    for _ in range(200):
        state = client.get(job_url + "?format=json").get_json()
        if state["stage"] in ("done", "refused"):
            break
        time.sleep(0.05)
    assert state["stage"] == "refused"
    assert any("rent_eur_m2_year" in p for p in state["problems"])
    assert "17 kenmerken" in client.get("/layers").get_data(as_text=True)


def test_an_officer_maps_an_unknown_kind_and_it_is_matched_and_kept(app, client, login):
    from spacematch.domain.areas import AreaIndex
    from spacematch.matching import MatchIndex
    from spacematch.models import Property

    _import(app)
    login("officer")
    store = get_store(app)
    with store.sessions() as session:
        areas = AreaIndex.from_session(session)
    kiosk = "vastgoed.5009"
    assert (MatchIndex.from_store(store, areas).uses[_pos(store, areas, kiosk)]) == 0
    refused = client.post(f"/properties/{kiosk}/uses", data={"uses": ["kitchen"]})
    assert refused.status_code == 302
    response = client.post(f"/properties/{kiosk}/uses", data={"uses": ["winkel", "horeca"]})
    assert response.status_code == 302
    with store.sessions() as session:
        assert session.get(Property, kiosk).uses == "winkel,horeca"
    assert MatchIndex.from_store(store, areas).uses[_pos(store, areas, kiosk)] != 0
    # Mapped once: a second mapping is refused (the use classes are no longer empty).
    client.post(f"/properties/{kiosk}/uses", data={"uses": ["kantoor"]})
    _import(app)  # the file still gives the kiosk no use class: the officer's stays
    with store.sessions() as session:
        assert session.get(Property, kiosk).uses == "winkel,horeca"
        assert session.get(Property, "vastgoed.5001").uses == "werkplaats"


def _pos(store, areas, property_id: str) -> int:
    from spacematch.matching import MatchIndex

    return MatchIndex.from_store(store, areas).position[property_id]
