"""GET /api/properties: RFC 7946 output, filters, and the Dam must-show."""

import itertools

import pytest
from builders import point, write_layer
from pyproj import Geod

from spacematch import get_store
from spacematch.ingest.importer import import_layer

DAM_RD = (121394.0, 487375.0)
DAM_WGS84 = (4.89372, 52.37322)
AVAILABLE_FROM = "2026-12-01"  # later than the builder's default


@pytest.fixture
def dam_app(app, tmp_path):
    features = [
        point("dam", DAM_RD, available_from=AVAILABLE_FROM),
        point(
            "noord",
            (122_900.0, 490_400.0),
            available_from=AVAILABLE_FROM,
            status="in_optie",
            uses="opslag",
        ),
        point(
            "zuid",
            (120_500.0, 483_900.0),
            available_from=AVAILABLE_FROM,
            area_m2=40,
            rent_eur_m2_year=300,
        ),
    ]
    import_layer(
        get_store(app), write_layer(tmp_path / "l.geojson", features), layer="bedrijfsruimte"
    )
    plot = {
        "type": "Feature",
        "properties": {
            "id": "k1",
            "uses": "grond",
            "rent_eur_m2_year": 10,
            "available_from": "2027-01-01",
        },
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [121380, 487360],
                    [121400, 487360],
                    [121400, 487380],
                    [121380, 487380],
                    [121380, 487360],
                ]
            ],
        },
    }
    import_layer(get_store(app), write_layer(tmp_path / "k.geojson", [plot]), layer="kavels")
    return app


def test_dam_comes_back_in_wgs84_in_oude_kerk(dam_app):
    response = dam_app.test_client().get("/api/properties?layer=bedrijfsruimte")
    assert response.status_code == 200
    body = response.get_json()
    assert body["type"] == "FeatureCollection" and "crs" not in body
    dam = next(f for f in body["features"] if f["id"] == "bedrijfsruimte.dam")
    lon, lat = dam["geometry"]["coordinates"]
    _, _, metres = Geod(ellps="WGS84").inv(lon, lat, *DAM_WGS84)
    assert metres < 1.0
    assert dam["properties"]["buurt"] == "AE02"
    assert dam["properties"]["buurt_name"] == "Oude Kerk e.o."
    assert dam["properties"]["stadsdeel"] == "A"
    assert dam["properties"]["uses"] == ["kantoor", "atelier"]
    assert dam["properties"]["rent_eur_month"] == 1000.0


def test_polygon_is_counter_clockwise_and_has_polygon_area(dam_app):
    body = dam_app.test_client().get("/api/properties?layer=kavels").get_json()
    (plot,) = body["features"]
    ring = plot["geometry"]["coordinates"][0]
    signed = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    assert signed > 0  # counter-clockwise
    assert plot["properties"]["area_m2"] == pytest.approx(400, rel=1e-6)
    assert plot["properties"]["buurt"] == "AE02"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"bedrijfsruimte.dam", "bedrijfsruimte.noord", "bedrijfsruimte.zuid", "kavels.k1"}),
        ("area=A", {"bedrijfsruimte.dam", "kavels.k1"}),
        ("area=AE02", {"bedrijfsruimte.dam", "kavels.k1"}),
        ("area=N", {"bedrijfsruimte.noord"}),
        ("area=K&layer=bedrijfsruimte", {"bedrijfsruimte.zuid"}),
        ("status=in_optie", {"bedrijfsruimte.noord"}),
        ("status=beschikbaar&layer=bedrijfsruimte", {"bedrijfsruimte.dam", "bedrijfsruimte.zuid"}),
        ("bbox=4.89,52.37,4.90,52.38", {"bedrijfsruimte.dam", "kavels.k1"}),
        ("min_area=100&layer=bedrijfsruimte", {"bedrijfsruimte.dam", "bedrijfsruimte.noord"}),
        ("max_rent=150", {"bedrijfsruimte.dam", "bedrijfsruimte.noord", "kavels.k1"}),
        ("use=opslag", {"bedrijfsruimte.noord"}),
        ("limit=2", {"bedrijfsruimte.dam", "bedrijfsruimte.noord"}),
    ],
)
def test_filters(dam_app, query, expected):
    body = dam_app.test_client().get(f"/api/properties?{query}").get_json()
    assert {f["id"] for f in body["features"]} == expected


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=5,52,4,53", "bbox"),
        ("area=XX99", "area"),
        ("layer=nope", "layer"),
        ("status=verkocht", "status"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("min_area=-1", "min_area"),
        ("max_rent=nan", "max_rent"),
    ],
)
def test_bad_parameters_are_400_naming_them(dam_app, query, param):
    response = dam_app.test_client().get(f"/api/properties?{query}")
    assert response.status_code == 400
    assert param in response.get_json()["errors"]


def test_parameter_errors_speak_the_request_language(dam_app, client, login):
    """A bad parameter is named in the request's language (Accept-Language or ?lang=), like a
    need's fields: Dutch for a Dutch request, the English of before for an English one."""
    query = "/api/properties?bbox=1,2,3&area=XX99&status=verkocht&limit=0&min_area=-1"
    statuses = "beschikbaar, in_optie, ingetrokken, toegewezen"  # the public ones
    dutch = client.get(query, headers={"Accept-Language": "nl"}).get_json()["errors"]
    english = client.get(query, headers={"Accept-Language": "en"}).get_json()["errors"]
    assert dutch == {
        "bbox": "moet vier getallen zijn: minlon,minlat,maxlon,maxlat",
        "area": "onbekende gebiedscode 'XX99'",
        "status": f"onbekende status verkocht; bekend: {statuses}",
        "limit": "moet een heel getal van 1 tot 1000000 zijn",
        "min_area": "moet een getal zijn, niet negatief",
    }
    assert english == {
        "bbox": "must be four numbers: minlon,minlat,maxlon,maxlat",
        "area": "unknown area code 'XX99'",
        "status": f"unknown status verkocht; known: {statuses}",
        "limit": "must be a whole number from 1 to 1000000",
        "min_area": "must be a non-negative number",
    }
    assert client.get("/api/areas.geojson?level=land&lang=nl").get_json()["errors"] == {
        "level": "moet een van deze zijn: stadsdeel, gebied, wijk, buurt"
    }
    login("planner")
    url = "/export/matches.csv?min_score=2&sector=zz&lang="
    english = client.get(url + "en").get_json()["errors"]
    assert english["min_score"] == "must be a number from 0 to 1"
    dutch = client.get(url + "nl").get_json()["errors"]
    assert dutch["min_score"] == "moet een getal van 0 tot 1 zijn"
    assert dutch["sector"].startswith("geen filter van dataset matches; filters: ")


def test_areas_geojson_has_every_buurt(client):
    body = client.get("/api/areas.geojson?level=buurt").get_json()
    assert len(body["features"]) == 518
    assert client.get("/api/areas.geojson?level=land").status_code == 400
    body = client.get("/api/areas.geojson?level=stadsdeel").get_json()
    assert {f["id"] for f in body["features"]} == set("ABEFKMNST")


def test_supply_demand_per_buurt_adds_up(seeded_app):
    from sqlalchemy import func, select

    from spacematch.models import Property

    client = seeded_app.test_client()
    body = client.get("/api/areas/supply-demand.geojson").get_json()
    assert len(body["features"]) == 518
    with get_store(seeded_app).sessions() as session:
        available = session.scalar(
            select(func.sum(Property.area_m2)).where(Property.status == "beschikbaar")
        )
    total = sum(f["properties"]["available_m2"] for f in body["features"])
    assert total == pytest.approx(available, abs=518)  # rounded per buurt
    for f in body["features"]:
        p = f["properties"]
        assert p["balance_m2"] == pytest.approx(p["available_m2"] - p["m2_asked"], abs=1)
    # a new need moves the figures (the cache follows the data version)
    before = {f["id"]: f["properties"]["m2_asked"] for f in body["features"]}
    need = {
        "initiative": "X",
        "legal_form": "stichting",
        "sector": "zorg",
        "contact_name": "Y",
        "contact_email": "y@example.org",
        "min_area_m2": 500,
        "max_area_m2": 600,
        "max_rent_eur_month": 100,
        "uses": ["kantoor"],
        "areas": ["AE02"],
        "needed_from": "2030-01-01",
    }
    assert client.post("/api/needs", json=need).status_code == 201
    after = client.get("/api/areas/supply-demand.geojson").get_json()["features"]
    after = {f["id"]: f["properties"]["m2_asked"] for f in after}
    assert after["AE02"] == pytest.approx(before["AE02"] + 500, abs=1)


def test_features_are_serialised_once_per_data_version(dam_app, tmp_path):
    """The answer is byte for byte jsonify's, written from feature texts kept per data version:
    a second request serialises nothing new, and a change to the store shows at once."""
    from flask import jsonify

    from spacematch.domain.properties import PropertyFilter, find_properties
    from spacematch.export.tables import property_features
    from spacematch.geojson import feature_collection
    from spacematch.web.state import state

    client = dam_app.test_client()
    first = client.get("/api/properties?limit=3")
    with dam_app.test_request_context(), get_store(dam_app).sessions() as session:
        areas = state(dam_app).areas()
        rows = find_properties(session, PropertyFilter(limit=3), areas=areas)
        body = feature_collection(property_features(rows, areas), numberMatched=4,
                                  numberReturned=3)  # fmt: skip
        assert first.data == jsonify(body).data
    texts = state(dam_app).cache.peek("api_property_texts")[1]
    assert len(texts) == 3
    assert client.get("/api/properties?limit=3").data == first.data
    assert state(dam_app).cache.peek("api_property_texts")[1] is texts and len(texts) == 3
    changed = [point("dam", DAM_RD, available_from=AVAILABLE_FROM, area_m2=77)]
    import_layer(
        get_store(dam_app), write_layer(tmp_path / "c.geojson", changed), layer="bedrijfsruimte"
    )
    features = client.get("/api/properties").get_json()["features"]
    assert (
        next(f for f in features if f["id"] == "bedrijfsruimte.dam")["properties"]["area_m2"] == 77
    )
