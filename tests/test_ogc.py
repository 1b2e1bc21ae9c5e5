"""OGC API – Features under /ogc: the resources, paging, bad input, privacy, and every collection
read completely through GDAL's OAPIF driver against a real HTTP server.

GDAL runs in a child process: pyogrio holds the GIL while GDAL downloads, so a server thread in
the same process could not answer beyond the first socket buffer.
"""

from __future__ import annotations

import json

import pytest
import shapely
from builders import CANARY, add_canaries, secrets_of
from sqlalchemy import select

from spacematch import get_store
from spacematch.models import Need

DAM = (4.89372, 52.37322)
COLLECTIONS = ("properties", "plots", "needs", "need-areas", "areas")
GEOMETRY = {"properties": "Point", "plots": "MultiPolygon", "needs": "Point",
            "need-areas": "MultiPolygon", "areas": "MultiPolygon"}  # fmt: skip
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"


@pytest.fixture
def ogc_app(seeded_app):
    """The demo plus two open needs with recognisable personal data, and one withdrawn need."""
    places = (
        {"areas": ["AE02"], "point": list(DAM)},
        {"areas": ["EK03"]},
        {"areas": ["N"], "status": "ingetrokken"},
    )
    seeded_app.canary_ids = add_canaries(seeded_app, places, uses=["kantoor", "winkel"])
    return seeded_app


def test_landing_conformance_and_openapi(client):
    body = client.get("/ogc").get_json()
    rels = {link["rel"]: link for link in body["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert client.get("/ogc/").status_code == 200
    conformance = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance
    response = client.get("/ogc/api")
    assert response.mimetype == "application/vnd.oai.openapi+json"
    doc = json.loads(response.data)
    assert doc["openapi"].startswith("3.0")
    limit = next(
        p
        for p in doc["paths"]["/collections/properties/items"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}
    assert client.get("/ogc/conformance?f=json").status_code == 200


def test_collections_describe_themselves(client):
    body = client.get("/ogc/collections").get_json()
    assert [c["id"] for c in body["collections"]] == list(COLLECTIONS)
    for cid in COLLECTIONS:
        one = client.get(f"/ogc/collections/{cid}").get_json()
        assert one["id"] == cid and one["itemType"] == "feature"
        assert one["geometryType"] == GEOMETRY[cid] and one["storageCrs"] == RD
        assert RD in one["crs"] and "http://www.opengis.net/def/crs/OGC/1.3/CRS84" in one["crs"]
        minx, miny, maxx, maxy = one["extent"]["spatial"]["bbox"][0]
        assert minx < DAM[0] < maxx and miny < DAM[1] < maxy
        assert any(link["rel"] == "items" for link in one["links"])


def test_items_page_with_next_and_prev_links(ogc_app, client):
    first = client.get("/ogc/collections/properties/items?limit=7&layer=kavels")
    assert first.mimetype == "application/geo+json"
    body = first.get_json()
    assert body["numberMatched"] == 225 and body["numberReturned"] == 7
    seen = [f["id"] for f in body["features"]]
    assert not any(link["rel"] == "prev" for link in body["links"])
    while True:
        nxt = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        if nxt is None:
            break
        assert "layer=kavels" in nxt
        body = client.get(nxt).get_json()
        assert any(link["rel"] == "prev" for link in body["links"])
        seen += [f["id"] for f in body["features"]]
    assert len(seen) == len(set(seen)) == 225
    assert body["numberReturned"] == 225 % 7


def test_default_and_maximum_limit(ogc_app, client):
    body = client.get("/ogc/collections/areas/items").get_json()
    assert body["numberReturned"] == body["numberMatched"] == 518
    body = client.get("/ogc/collections/properties/items").get_json()
    assert body["numberReturned"] == 1000 and body["numberMatched"] == 1500
    body = client.get("/ogc/collections/properties/items?limit=50000").get_json()
    assert body["numberReturned"] == 1500  # served as the maximum (10,000), as OGC asks


def test_bbox_and_datetime(ogc_app, client):
    body = client.get(
        "/ogc/collections/properties/items?limit=10000&bbox=4.88,52.36,4.91,52.38"
    ).get_json()
    assert 0 < body["numberMatched"] < 1500
    window = shapely.box(4.88, 52.36, 4.91, 52.38)
    assert all(
        shapely.intersects(shapely.geometry.shape(f["geometry"]), window) for f in body["features"]
    )
    body = client.get(
        "/ogc/collections/properties/items?limit=10000&datetime=../2026-10-01"
    ).get_json()
    assert 0 < body["numberMatched"] < 1500
    assert all(f["properties"]["available_from"] <= "2026-10-01" for f in body["features"])
    body = client.get(
        "/ogc/collections/needs/items?limit=10000&datetime=2026-09-01T00:00:00Z"
    ).get_json()
    assert body["numberMatched"] >= 2
    assert all(f["properties"]["needed_from"] == "2026-09-01" for f in body["features"])


def test_single_feature_and_not_found(ogc_app, client):
    response = client.get("/ogc/collections/properties/items/kavels.KAV-0001")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.get_json()["geometry"]["type"] == "Point"
    plot = client.get("/ogc/collections/plots/items/kavels.KAV-0001").get_json()
    assert plot["geometry"]["type"] == "MultiPolygon"
    point = shapely.geometry.shape(response.get_json()["geometry"])
    assert shapely.geometry.shape(plot["geometry"]).buffer(1e-7).contains(point)
    point_need = ogc_app.canary_ids[0]
    assert client.get(f"/ogc/collections/needs/items/{point_need}").get_json()["id"] == point_need
    assert (
        client.get("/ogc/collections/areas/items/AE02").get_json()["properties"]["name"]
        == "Oude Kerk e.o."
    )
    for url, param in (
        ("/ogc/collections/needs/items/999999", "featureId"),
        (f"/ogc/collections/needs/items/{ogc_app.canary_ids[2]}", "featureId"),
        ("/ogc/collections/woningen", "collectionId"),
        ("/ogc/collections/woningen/items", "collectionId"),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        body = response.get_json()
        assert body["code"] == "NotFound" and param in body["errors"]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("bbox=4.8,52.3,4.9", "bbox"),
        ("bbox=4.8,52.4,4.9,52.3", "bbox"),
        ("bbox=4.8,52.3,0,4.9,52.4", "bbox"),
        ("bbox=4.8,52.3,4.9,52.4&bbox-crs=EPSG:4326", "bbox-crs"),
        ("crs=EPSG:3857", "crs"),
        ("use=villa", "use"),
        ("lang=fr", "lang"),
        ("datetime=yesterday", "datetime"),
        ("datetime=2027-01-01/2026-01-01", "datetime"),
        ("colour=red", "colour"),
        ("f=xml", "f"),
        ("layer=villas", "layer"),
        ("status=verkocht", "status"),
    ],
)
def test_bad_parameters_are_400_naming_them(ogc_app, client, query, param):
    response = client.get(f"/ogc/collections/properties/items?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "InvalidParameterValue" and param in body["errors"]


def test_parameter_errors_speak_the_request_language_and_set_no_cookie(ogc_app, client):
    """As the JSON API: Dutch for a Dutch request, the English of before for an English one
    (``lang`` or Accept-Language); choosing by ``lang`` sets no session cookie on the API."""
    url = "/ogc/collections/properties/items?limit=0&datetime=2027-01-01/2026-01-01&crs=x"
    dutch = client.get(url + "&lang=nl")
    english = client.get(url, headers={"Accept-Language": "en"}).get_json()
    assert "Set-Cookie" not in dutch.headers
    assert dutch.get_json()["errors"] == {
        "limit": "moet een heel getal van 1 tot 10000 zijn",
        "datetime": "het begin van het interval ligt na het eind",
        "crs": "CRS niet ondersteund; ondersteund: "
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84, "
        "http://www.opengis.net/def/crs/EPSG/0/28992",
    }
    assert english["errors"]["limit"] == "must be a whole number from 1 to 10000"
    assert english["errors"]["datetime"] == "the interval's start lies after its end"
    assert english["description"].startswith("limit: must be a whole number from 1 to 10000; ")
    missing = client.get("/ogc/collections/nope?lang=nl").get_json()
    assert missing["errors"]["collectionId"].startswith("onbekende collectie 'nope'; bekend: ")


def test_needs_are_open_only_public_fields_and_coarse_points(ogc_app, client):
    body = client.get("/ogc/collections/needs/items?limit=10000").get_json()
    ids = {f["id"] for f in body["features"]}
    with get_store(ogc_app).sessions() as session:
        open_ids = set(session.scalars(select(Need.id).where(Need.status == "open")))
        point_need = session.get(Need, ogc_app.canary_ids[0])
    assert ids == open_ids and ogc_app.canary_ids[2] not in ids
    feature = next(f for f in body["features"] if f["id"] == point_need.id)
    assert set(feature["properties"]) >= {
        "initiative",
        "legal_form",
        "sector",
        "min_area_m2",
        "uses",
        "areas",
    }
    from spacematch import geo

    x, y = geo.wgs84_to_rd_xy(*feature["geometry"]["coordinates"])
    assert (x % 100, y % 100) == (pytest.approx(50, abs=0.05), pytest.approx(50, abs=0.05))
    assert abs(x - point_need.x) <= 50.01 and abs(y - point_need.y) <= 50.01


def test_no_personal_data_in_any_ogc_response(ogc_app, client):
    secrets = secrets_of(ogc_app)
    assert CANARY["contact_email"] in secrets
    urls = ["/ogc", "/ogc/api", "/ogc/conformance", "/ogc/collections"]
    for cid in COLLECTIONS:
        urls += [f"/ogc/collections/{cid}", f"/ogc/collections/{cid}/items?limit=10000"]
    urls += [f"/ogc/collections/needs/items/{i}" for i in ogc_app.canary_ids]
    for url in urls:
        data = client.get(url).data
        for secret in secrets:
            assert secret.encode() not in data, (url, secret)
        body = json.loads(data)
        for feature in body.get("features", [body] if body.get("type") == "Feature" else []):
            assert not {"contact_name", "contact_email", "token", "description"} & set(
                feature["properties"]
            )


def test_every_error_under_ogc_is_ogc_json_with_cors(client):
    """A path naming nothing, a wrong method, a bad parameter: OGC exception JSON, never the
    site's HTML error page; and every answer may be read by any web page (public, read-only)."""
    for url in ("/ogc/nothing", "/ogc/collections/properties/items/", "/ogc/a/b/c"):
        response = client.get(url)
        assert response.status_code == 404 and response.mimetype == "application/json", url
        assert response.get_json()["code"] == "NotFound"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    response = client.post("/ogc/collections")
    assert response.status_code == 405 and response.get_json()["code"] == "MethodNotAllowed"
    assert "GET" in response.headers["Allow"]
    response = client.get("/ogc/collections?f=xml", headers={"Accept": "text/html"})
    assert response.status_code == 400 and response.mimetype == "application/json"
    assert "f" in response.get_json()["errors"]
    assert client.get("/no-such-page").mimetype == "text/html"  # the site keeps its own page
    for url in ("/ogc", "/ogc/api", "/ogc/collections/areas/items?limit=1", "/ogc?f=html"):
        assert client.get(url).headers["Access-Control-Allow-Origin"] == "*", url


def test_landing_page_as_html_in_the_sites_layout(client):
    response = client.get("/ogc?f=html")
    assert response.mimetype == "text/html"
    page = response.data.decode()
    assert 'class="utrecht-page-header sm-header"' in page and "/ogc/collections?f=html" in page
    english = client.get("/ogc/collections?f=html&lang=en").data.decode()
    assert 'lang="en"' in english and "Collections" in english


def test_items_as_html_with_a_map_and_a_table(ogc_app, client):
    page = client.get("/ogc/collections/properties/items?layer=kavels&limit=5&f=html")
    assert page.status_code == 200
    html = page.data.decode()
    assert html.count("<tr>") == 6  # the header and five features
    assert 'id="ogc-map"' in html and "leaflet.js" in html and "ogc.js" in html
    assert "kavels.KAV-0001" in html and 'rel="next"' in html
    assert "Content-Security-Policy" in page.headers
    csp = page.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp


def test_bbox_whole_world_everywhere(ogc_app, client):
    """Issue 16: ``bbox=-180,-90,180,90`` selected nothing (RD New is meaningless that far out);
    it now selects everything, in the OGC API and in the JSON API alike."""
    whole = "bbox=-180,-90,180,90"
    body = client.get(f"/ogc/collections/properties/items?limit=10000&{whole}").get_json()
    assert body["numberMatched"] == 1500
    body = client.get(f"/api/properties?{whole}").get_json()
    every = client.get("/api/properties").get_json()
    assert len(body["features"]) == len(every["features"]) == 1500
    far = client.get("/api/properties?bbox=-170,-60,-160,-50").get_json()
    assert far["features"] == []


def test_need_areas_simplified_within_5_m_and_exact_for_planners(ogc_app, client, login, tmp_path):
    from spacematch.domain.areas import AreaIndex

    body = client.get(f"/ogc/collections/need-areas/items?limit=10000&crs={RD}").get_json()
    with get_store(ogc_app).sessions() as session:
        areas = AreaIndex.from_session(session)
        needs = {n.id: n for n in session.scalars(select(Need).where(Need.status == "open"))}
    assert {f["id"] for f in body["features"]} == {i for i, n in needs.items() if n.area_list}
    checked: dict[tuple, shapely.Geometry] = {}
    served_vertices = exact_vertices = 0
    for feature in body["features"]:
        key = tuple(sorted(needs[feature["id"]].area_list))
        geom = shapely.geometry.shape(feature["geometry"])
        assert geom.geom_type == "MultiPolygon" and geom.is_valid
        if key in checked:
            assert geom.equals_exact(checked[key], 0)
            continue
        exact = shapely.union_all([areas.geoms[c] for c in key])
        assert shapely.hausdorff_distance(geom, exact, densify=0.1) <= 5.0 + 1e-6, key
        served_vertices += shapely.get_num_coordinates(geom)
        exact_vertices += shapely.get_num_coordinates(exact)
        checked[key] = geom
    assert served_vertices < exact_vertices / 3
    # The planner's GeoPackage keeps every need's areas exact.
    import pyogrio

    login("planner")
    gpkg = client.get("/export/needs.gpkg")
    assert gpkg.status_code == 200
    (tmp_path / "needs.gpkg").write_bytes(gpkg.data)
    frame = pyogrio.read_dataframe(tmp_path / "needs.gpkg")
    some = frame[frame["place"] == "areas"].head(20)
    assert len(some)
    for need_id, geom in zip(some["id"], some.geometry, strict=True):
        exact = shapely.union_all([areas.geoms[c] for c in needs[int(need_id)].area_list])
        assert geom.equals_exact(exact, 1e-6)


def test_a_thousand_needs_in_under_a_megabyte(ogc_app, client):
    """Needs are points (their areas a separate collection): a page of 1,000 stays light."""
    with get_store(ogc_app).session() as session:
        rows = list(session.scalars(select(Need).where(Need.status == "open")))
        for i in range(1000 - len(rows)):
            src = rows[i % len(rows)]
            copy = {c.name: getattr(src, c.name) for c in Need.__table__.columns}
            copy.update(id=None, token=f"copy-{i}", created_at=None, updated_at=None)
            session.add(Need(**{k: v for k, v in copy.items() if v is not None}))
    response = client.get("/ogc/collections/needs/items?limit=1000")
    body = response.get_json()
    assert body["numberReturned"] == 1000
    assert len(response.data) <= 1_000_000, len(response.data)


def test_pages_are_cached_per_data_version(ogc_app, client):
    url = "/ogc/collections/needs/items?limit=5"
    first = client.get(url)
    again = client.get(url)
    assert first.data == again.data  # the same bytes: the cached page (timeStamp included)
    assert first.headers["Content-Crs"] == again.headers["Content-Crs"]
    with get_store(ogc_app).session() as session:
        need = session.get(Need, first.get_json()["features"][0]["id"])
        need.initiative = "Nieuwe naam"
    changed = client.get(url).get_json()
    assert changed["features"][0]["properties"]["initiative"] == "Nieuwe naam"
    other_host = client.get(url, base_url="http://ogc.example").get_json()
    assert all(link["href"].startswith("http://ogc.example/") for link in other_host["links"])
