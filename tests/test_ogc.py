"""OGC API – Features under /ogc: the resources, paging, bad input, privacy, and every collection
read completely through GDAL's OAPIF driver against a real HTTP server.

GDAL runs in a child process: pyogrio holds the GIL while GDAL downloads, so a server thread in
the same process could not answer beyond the first socket buffer.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
import shapely
from builders import CANARY, add_canaries, secrets_of
from sqlalchemy import select
from werkzeug.serving import make_server

from spacematch import get_store
from spacematch.domain.areas import AreaIndex
from spacematch.models import Need, Property

DAM = (4.89372, 52.37322)
COLLECTIONS = ("properties", "needs", "areas")


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
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10}
    assert client.get("/ogc/conformance?f=json").status_code == 200


def test_collections_describe_themselves(client):
    body = client.get("/ogc/collections").get_json()
    assert [c["id"] for c in body["collections"]] == list(COLLECTIONS)
    for cid in COLLECTIONS:
        one = client.get(f"/ogc/collections/{cid}").get_json()
        assert one["id"] == cid and one["itemType"] == "feature"
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
    assert body["numberReturned"] == 10 and body["numberMatched"] == 518
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
    assert response.get_json()["geometry"]["type"] == "Polygon"
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
        ("bbox=4.9,52.3,4.8,52.4", "bbox"),
        ("bbox-crs=EPSG:28992", "bbox-crs"),
        ("datetime=yesterday", "datetime"),
        ("datetime=2027-01-01/2026-01-01", "datetime"),
        ("colour=red", "colour"),
        ("f=html", "f"),
        ("layer=villas", "layer"),
        ("status=verkocht", "status"),
    ],
)
def test_bad_parameters_are_400_naming_them(ogc_app, client, query, param):
    response = client.get(f"/ogc/collections/properties/items?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "InvalidParameterValue" and param in body["errors"]


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


# -- GDAL's OAPIF driver against a real server ---------------------------------------------------


class RequestLog:
    """WSGI middleware that remembers every path and query it served."""

    def __init__(self, app) -> None:
        self.app, self.seen = app, []

    def __call__(self, environ, start_response):
        self.seen.append(f"{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}")
        return self.app(environ, start_response)


@pytest.fixture
def served(ogc_app) -> Iterator[tuple[str, RequestLog]]:
    log = RequestLog(ogc_app.wsgi_app)
    ogc_app.wsgi_app = log
    server = make_server("127.0.0.1", 0, ogc_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/ogc", log
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


READ = """
import pickle, sys, pyogrio
frame = pyogrio.read_dataframe("OAPIF:" + sys.argv[1], layer=sys.argv[2], PAGE_SIZE=sys.argv[3])
sys.stdout.buffer.write(pickle.dumps((list(frame.columns), frame["id"].tolist(),
                                      frame.geometry.to_wkb().tolist(), str(frame.crs))))
"""


def read_through_gdal(url: str, layer: str, page_size: int):
    done = subprocess.run(
        [sys.executable, "-c", READ, url, layer, str(page_size)],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return pickle.loads(done.stdout)


def test_gdal_oapif_reads_every_collection_completely(ogc_app, served):
    url, log = served
    assert (
        subprocess.run(
            [sys.executable, "-c", f"import pyogrio; print(pyogrio.list_layers('OAPIF:{url}'))"],
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout.count(b"'")
        >= 6
    )
    with get_store(ogc_app).sessions() as session:
        expected = {
            "properties": set(session.scalars(select(Property.id))),
            "needs": set(session.scalars(select(Need.id).where(Need.status == "open"))),
            "areas": set(AreaIndex.from_session(session).buurt_codes),
        }
    for layer, page_size in (("properties", 200), ("needs", 50), ("areas", 100)):
        columns, ids, wkbs, crs = read_through_gdal(url, layer, page_size)
        assert len(ids) == len(set(ids)) == len(expected[layer]), layer
        assert set(ids) == expected[layer], layer
        assert "EPSG:4326" in crs or "CRS84" in crs
        assert all(not g.is_empty for g in shapely.from_wkb(wkbs))
        assert not {"contact_name", "contact_email", "token", "description"} & set(columns)
        pages = [
            p
            for p in log.seen
            if p.startswith(f"/ogc/collections/{layer}/items") and "offset=" in p
        ]
        assert len(pages) >= len(expected[layer]) // page_size, (layer, pages)
