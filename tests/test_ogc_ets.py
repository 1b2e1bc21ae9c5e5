"""The abstract tests of OGC API – Features as tests: Part 1 Core, GeoJSON, HTML and OAS 3.0
(OGC 17-069r4, Annex A), Part 2 CRS (OGC 18-058r1) and Part 3 queryables.

The CITE suite (ets-ogcapi-features10) is a Java jar that cannot be fetched here, so each of its
abstract tests is reproduced as one test named after it: ``test_conf_core_fc_bbox_definition``
is ``/conf/core/fc-bbox-definition``. What each checks is quoted short in its docstring.
"""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import pytest
import shapely
from openapi_spec_validator import validate

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
COLLECTIONS = ("properties", "plots", "needs", "need-areas", "areas")
GEOJSON = "application/geo+json"
GEOMETRY_SCHEMA = {
    "type": ["object", "null"],
    "required": ["type", "coordinates"],
    "properties": {
        "type": {
            "enum": [
                "Point",
                "MultiPoint",
                "LineString",
                "MultiLineString",
                "Polygon",
                "MultiPolygon",
            ]
        },
        "coordinates": {"type": "array"},
    },
}
FEATURE_SCHEMA = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"const": "Feature"},
        "id": {"type": ["string", "number"]},
        "geometry": GEOMETRY_SCHEMA,
        "properties": {"type": ["object", "null"]},
    },
}
COLLECTION_SCHEMA = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": FEATURE_SCHEMA},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
        "timeStamp": {"type": "string", "format": "date-time"},
        "links": {"type": "array"},
    },
}


@pytest.fixture
def api(seeded_app):
    return seeded_app.test_client()


def _json(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, (url, response.data[:500])
    return json.loads(response.data)


def _rels(body: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for link in body["links"]:
        out.setdefault(link["rel"], []).append(link)
    return out


def _items_param(api, cid: str, name: str) -> dict:
    doc = _json(api, "/ogc/api")
    params = doc["paths"][f"/collections/{cid}/items"]["get"]["parameters"]
    return next(p for p in params if p["name"] == name)


def _all(api, cid: str, query: str = "") -> list[dict]:
    return _json(api, f"/ogc/collections/{cid}/items?limit=10000&{query}")["features"]


# -- Core: landing page, API definition, conformance -------------------------------------------


def test_conf_core_http(api):
    """/conf/core/http: the server speaks HTTP 1.1 (the WSGI server does) and answers GET."""
    assert api.get("/ogc").status_code == 200


def test_conf_core_root_op(api):
    """/conf/core/root-op: GET on the landing page returns 200."""
    assert api.get("/ogc/").status_code == 200


def test_conf_core_root_success(api):
    """/conf/core/root-success: links to the API definition, conformance and data."""
    rels = _rels(_json(api, "/ogc"))
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)


def test_conf_core_api_definition_op(api):
    """/conf/core/api-definition-op: the service-desc link resolves with 200."""
    href = _rels(_json(api, "/ogc"))["service-desc"][0]["href"]
    assert api.get(href).status_code == 200


def test_conf_core_api_definition_success(api):
    """/conf/core/api-definition-success: the document is of the media type the link says."""
    link = _rels(_json(api, "/ogc"))["service-desc"][0]
    response = api.get(link["href"])
    assert response.headers["Content-Type"].startswith(link["type"].split(";")[0])


def test_conf_core_conformance_op(api):
    """/conf/core/conformance-op: GET /conformance returns 200."""
    href = _rels(_json(api, "/ogc"))["conformance"][0]["href"]
    assert api.get(href).status_code == 200


def test_conf_core_conformance_success(api):
    """/conf/core/conformance-success: conformsTo lists the core class (and those we claim)."""
    conforms = _json(api, "/ogc/conformance")["conformsTo"]
    for cls in ("core", "geojson", "html", "oas30"):
        assert CORE + cls in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conforms


# -- Core: parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/needs",
     "/ogc/collections/needs/items", "/ogc/collections/needs/queryables", "/ogc/api"],
)  # fmt: skip
def test_conf_core_query_param_unknown(api, url):
    """/conf/core/query-param-unknown: an unknown parameter is a 400 on every resource."""
    response = api.get(f"{url}?foo=bar")
    assert response.status_code == 400
    assert response.get_json()["code"] == "InvalidParameterValue"
    assert "foo" in response.get_json()["errors"]


@pytest.mark.parametrize("query", ["limit=-1", "limit=abc", "bbox=1,2,3", "datetime=tomorrow"])
def test_conf_core_query_param_invalid(api, query):
    """/conf/core/query-param-invalid: an invalid value is a 400 naming the parameter."""
    response = api.get(f"/ogc/collections/properties/items?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_json()["errors"]


def test_conf_core_crs84(api):
    """/conf/core/crs84: without crs, coordinates are CRS84 lon/lat (Amsterdam: ~4.9, ~52.4)."""
    for cid in COLLECTIONS:
        features = _json(api, f"/ogc/collections/{cid}/items?limit=50")["features"]
        minx, miny, maxx, maxy = shapely.total_bounds(
            [shapely.geometry.shape(f["geometry"]) for f in features]
        )
        assert 4.6 < minx <= maxx < 5.2 and 52.2 < miny <= maxy < 52.5, cid


# -- Core: collections -----------------------------------------------------------------------


def test_conf_core_fc_md_op(api):
    """/conf/core/fc-md-op: GET /collections returns 200."""
    href = _rels(_json(api, "/ogc"))["data"][0]["href"]
    assert api.get(href).status_code == 200


def test_conf_core_fc_md_success(api):
    """/conf/core/fc-md-success: links and a collections array."""
    body = _json(api, "/ogc/collections")
    assert isinstance(body["links"], list) and isinstance(body["collections"], list)


def test_conf_core_fc_md_links(api):
    """/conf/core/fc-md-links: a self link, and per collection an items link."""
    body = _json(api, "/ogc/collections")
    assert "self" in _rels(body)
    for c in body["collections"]:
        assert any(link["rel"] == "items" for link in c["links"]), c["id"]


def test_conf_core_fc_md_items(api):
    """/conf/core/fc-md-items: each collection has an id and links; ids are unique."""
    ids = [c["id"] for c in _json(api, "/ogc/collections")["collections"]]
    assert ids == list(COLLECTIONS)


def test_conf_core_fc_md_items_links(api):
    """/conf/core/fc-md-items-links: the items link of each collection, for GeoJSON, resolves."""
    for c in _json(api, "/ogc/collections")["collections"]:
        link = next(x for x in c["links"] if x["rel"] == "items" and x["type"] == GEOJSON)
        assert api.get(link["href"]).status_code == 200


def test_conf_core_fc_md_extent(api):
    """/conf/core/fc-md-extent: a spatial extent in CRS84, lower-left before upper-right."""
    for c in _json(api, "/ogc/collections")["collections"]:
        spatial = c["extent"]["spatial"]
        assert spatial.get("crs", CRS84) == CRS84
        minx, miny, maxx, maxy = spatial["bbox"][0]
        assert minx < maxx and miny < maxy


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_conf_core_sfc_md_op_and_success(api, cid):
    """/conf/core/sfc-md-op and /conf/core/sfc-md-success: GET /collections/{id} is 200 and
    says the same as the entry in /collections."""
    one = _json(api, f"/ogc/collections/{cid}")
    listed = next(c for c in _json(api, "/ogc/collections")["collections"] if c["id"] == cid)
    assert one == listed


# -- Core: features ----------------------------------------------------------------------------


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_conf_core_fc_op(api, cid):
    """/conf/core/fc-op: GET /collections/{id}/items returns 200."""
    assert api.get(f"/ogc/collections/{cid}/items").status_code == 200


def test_conf_core_fc_limit_definition(api):
    """/conf/core/fc-limit-definition: limit, in query, not required, integer, minimum >= 1,
    maximum >= minimum, default within, style form, explode false."""
    for cid in COLLECTIONS:
        p = _items_param(api, cid, "limit")
        schema = p["schema"]
        assert p["in"] == "query" and p["required"] is False and schema["type"] == "integer"
        assert schema["minimum"] >= 1 and schema["maximum"] >= schema["minimum"]
        assert schema["minimum"] <= schema["default"] <= schema["maximum"]
        assert schema["default"] == 1000 and schema["maximum"] == 10000
        assert p["style"] == "form" and p["explode"] is False


@pytest.mark.parametrize("limit", [1, 7, 1000, 20000])
def test_conf_core_fc_limit_response(api, limit):
    """/conf/core/fc-limit-response: no more features than the limit (the maximum above it)."""
    body = _json(api, f"/ogc/collections/properties/items?limit={limit}")
    assert body["numberReturned"] == len(body["features"]) <= min(limit, 10000)
    assert len(body["features"]) == min(limit, body["numberMatched"])


def test_conf_core_fc_bbox_definition(api):
    """/conf/core/fc-bbox-definition: bbox, in query, not required, array of 4 or 6 numbers,
    style form, explode false."""
    for cid in COLLECTIONS:
        p = _items_param(api, cid, "bbox")
        schema = p["schema"]
        assert p["in"] == "query" and p["required"] is False and schema["type"] == "array"
        assert schema["minItems"] == 4 and schema["maxItems"] == 6
        assert schema["items"]["type"] == "number"
        assert p["style"] == "form" and p["explode"] is False


@pytest.mark.parametrize(
    ("bbox", "everything"),
    [
        ("4.85,52.35,4.95,52.40", False),  # the centre
        ("4.85,52.35,0,4.95,52.40,100", False),  # six numbers: heights ignored
        ("-180,-90,180,90", True),  # the whole world: everything (issue 16)
        ("177,65,-177,70", None),  # across the antimeridian: nothing here, but no 400
        ("-10,40,20,60", True),
    ],
)
def test_conf_core_fc_bbox_response(api, bbox, everything):
    """/conf/core/fc-bbox-response: only features whose geometry intersects the bbox; none
    outside, none inside left out."""
    for cid in ("properties", "plots", "need-areas"):
        every = _all(api, cid)
        body = _json(api, f"/ogc/collections/{cid}/items?limit=10000&bbox={bbox}")
        numbers = [float(v) for v in bbox.split(",")]
        if len(numbers) == 6:
            numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
        if numbers[0] > numbers[2]:
            assert body["numberMatched"] == 0, cid
            continue
        window = shapely.box(*numbers)
        inside = {
            f["id"]
            for f in every
            if shapely.intersects(shapely.geometry.shape(f["geometry"]), window)
        }
        got = {f["id"] for f in body["features"]}
        # Near an edge, the CRS84 rounding of a served geometry may differ by 1 cm: allow it.
        edge = {
            f["id"]
            for f in every
            if shapely.geometry.shape(f["geometry"]).distance(window.exterior) < 1e-6
        }
        assert got - edge == inside - edge, cid
        if everything:
            assert body["numberMatched"] == len(every), cid
        elif everything is False:
            assert 0 < body["numberMatched"] < len(every), cid


def test_conf_core_fc_time_definition(api):
    """/conf/core/fc-time-definition: datetime, in query, not required, string, style form,
    explode false."""
    for cid in COLLECTIONS:
        p = _items_param(api, cid, "datetime")
        assert p["in"] == "query" and p["required"] is False
        assert p["schema"]["type"] == "string"
        assert p["style"] == "form" and p["explode"] is False


@pytest.mark.parametrize(
    "value", ["2026-09-01T00:00:00Z", "2026-01-01/2026-12-31", "../2026-10-01", "2026-10-01/.."]
)
def test_conf_core_fc_time_response(api, value):
    """/conf/core/fc-time-response: only features whose temporal property meets datetime."""
    for feature in _all(api, "needs", f"datetime={value}"):
        day = feature["properties"]["needed_from"]
        start, _, end = value.partition("/") if "/" in value else (value, "", value)
        start, end = start[:10], end[:10]
        assert start in ("..", "") or day >= start
        assert end in ("..", "") or day <= end


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_conf_core_fc_response(api, cid):
    """/conf/core/fc-response: a FeatureCollection (validated under /conf/geojson/content)."""
    body = _json(api, f"/ogc/collections/{cid}/items?limit=5")
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 5


def test_conf_core_fc_links(api):
    """/conf/core/fc-links: a self link; a next link while more features follow; following
    next reads every feature once."""
    body = _json(api, "/ogc/collections/needs/items?limit=250")
    seen = []
    while True:
        rels = _rels(body)
        assert rels["self"][0]["type"] == GEOJSON
        seen += [f["id"] for f in body["features"]]
        if "next" not in rels:
            break
        body = _json(api, rels["next"][0]["href"])
        assert "prev" in _rels(body)
    assert len(seen) == len(set(seen)) == body["numberMatched"]


def test_conf_core_fc_timestamp(api):
    """/conf/core/fc-timeStamp: an RFC 3339 date-time close to now."""
    stamp = _json(api, "/ogc/collections/areas/items?limit=1")["timeStamp"]
    when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.UTC) - when).total_seconds()) < 600


def test_conf_core_fc_numbermatched(api):
    """/conf/core/fc-numberMatched: the number of features that the query selects (counted by
    reading all pages)."""
    body = _json(api, "/ogc/collections/properties/items?limit=100&layer=kavels")
    assert body["numberMatched"] == len(_all(api, "properties", "layer=kavels")) == 225


def test_conf_core_fc_numberreturned(api):
    """/conf/core/fc-numberReturned: the number of features in the response."""
    body = _json(api, "/ogc/collections/properties/items?limit=33&offset=10")
    assert body["numberReturned"] == len(body["features"]) == 33


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_conf_core_f_op_and_success(api, cid):
    """/conf/core/f-op and /conf/core/f-success: each feature of a page resolves on its own,
    as a Feature with the same id, and links to itself and to its collection."""
    for feature in _json(api, f"/ogc/collections/{cid}/items?limit=3")["features"]:
        one = _json(api, f"/ogc/collections/{cid}/items/{feature['id']}")
        assert one["type"] == "Feature" and one["id"] == feature["id"]
        assert {"self", "collection"} <= set(_rels(one))


# -- GeoJSON -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_conf_geojson_definition(api, cid):
    """/conf/geojson/definition: items and a feature answer application/geo+json."""
    response = api.get(f"/ogc/collections/{cid}/items?limit=1")
    assert response.mimetype == GEOJSON
    fid = response.get_json()["features"][0]["id"]
    assert api.get(f"/ogc/collections/{cid}/items/{fid}").mimetype == GEOJSON


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_conf_geojson_content(api, cid):
    """/conf/geojson/content: the items validate as a GeoJSON FeatureCollection, a feature as a
    Feature (schemas after geojson.org's)."""
    body = _json(api, f"/ogc/collections/{cid}/items?limit=20")
    jsonschema.validate(body, COLLECTION_SCHEMA)
    one = _json(api, f"/ogc/collections/{cid}/items/{body['features'][0]['id']}")
    jsonschema.validate(one, FEATURE_SCHEMA)


# -- HTML --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/plots",
     "/ogc/collections/plots/items", "/ogc/collections/plots/items/kavels.KAV-0001"],
)  # fmt: skip
def test_conf_html_definition_and_content(api, url):
    """/conf/html/definition and /conf/html/content: every resource as HTML (text/html), with
    f=html and when the Accept header prefers it, in the site's layout; JSON stays the default
    for clients that accept anything."""
    for response in (
        api.get(f"{url}?f=html"),
        api.get(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}),
    ):
        assert response.status_code == 200 and response.mimetype == "text/html", url
        page = response.data.decode()
        assert 'class="utrecht-page-header sm-header"' in page and "<h1>" in page
    assert api.get(url, headers={"Accept": "*/*"}).mimetype != "text/html"


# -- OpenAPI 3.0 ----------------------------------------------------------------------------------


def test_conf_oas30_oas_definition(api):
    """/conf/oas30/oas-definition-1 and -2: a valid OpenAPI 3.0 document, as JSON."""
    response = api.get("/ogc/api")
    assert response.mimetype == "application/vnd.oai.openapi+json"
    validate(json.loads(response.data))


def test_conf_oas30_oas_impl(seeded_app, api):
    """/conf/oas30/oas-impl: every path of the document answers, and every route under /ogc
    is in the document."""
    doc = _json(api, "/ogc/api")
    for path in doc["paths"]:
        url = "/ogc" + path.replace("{featureId}", "AE02" if "/areas/" in path else "x")
        if path == "/":
            url = "/ogc/"
        status = api.get(url).status_code
        assert status == 200 or ("{featureId}" in path and status == 404), path
    rules = {r.rule for r in seeded_app.url_map.iter_rules() if r.rule.startswith("/ogc")}
    assert rules == {
        "/ogc", "/ogc/", "/ogc/api", "/ogc/conformance", "/ogc/collections",
        "/ogc/collections/<cid>", "/ogc/collections/<cid>/items",
        "/ogc/collections/<cid>/items/<path:fid>", "/ogc/collections/<cid>/queryables",
    }  # fmt: skip


# -- Part 2: CRS ---------------------------------------------------------------------------------


def test_conf_crs_fc_md_crs_list_and_storage_crs(api):
    """/conf/crs/fc-md-crs-list, /conf/crs/fc-md-storageCrs: each collection lists CRS84 and
    RD New, stores RD New, and /conformance claims the CRS class."""
    for c in _json(api, "/ogc/collections")["collections"]:
        assert c["crs"][0] == CRS84 and RD in c["crs"] and c["storageCrs"] == RD


def test_conf_crs_fc_crs_valid_value_and_header(seeded_app, api):
    """/conf/crs/fc-crs-valid-value, /conf/crs/ogc-crs-header: crs=RD New returns the stored
    coordinates exactly, with Content-Crs; the default and CRS84 say CRS84."""
    from sqlalchemy import select

    from spacematch import get_store
    from spacematch.models import Property

    response = api.get(f"/ogc/collections/plots/items?crs={RD}&limit=10000")
    assert response.headers["Content-Crs"] == f"<{RD}>"
    served = {
        f["id"]: shapely.geometry.shape(f["geometry"]) for f in response.get_json()["features"]
    }
    with get_store(seeded_app).sessions() as session:
        stored = dict(session.execute(select(Property.id, Property.geom)).all())
    for fid, geom in served.items():
        exact = shapely.from_wkb(stored[fid])
        assert shapely.get_coordinates(geom).tolist() == shapely.get_coordinates(exact).tolist()
    points = api.get(f"/ogc/collections/properties/items?crs={RD}&layer=ateliers&limit=5")
    with get_store(seeded_app).sessions() as session:
        for f in points.get_json()["features"]:
            row = session.get(Property, f["id"])
            assert f["geometry"]["coordinates"] == [row.x, row.y]
    one = api.get(f"/ogc/collections/plots/items/kavels.KAV-0001?crs={RD}")
    assert one.headers["Content-Crs"] == f"<{RD}>"
    assert one.get_json()["geometry"]["coordinates"][0][0][0][0] > 1000
    for url in ("/ogc/collections/plots/items", f"/ogc/collections/plots/items?crs={CRS84}"):
        assert api.get(url).headers["Content-Crs"] == f"<{CRS84}>"


def test_conf_crs_fc_crs_invalid_value(api):
    """/conf/crs/fc-crs-invalid-value: an unsupported crs is a 400 naming it."""
    response = api.get(
        "/ogc/collections/plots/items?crs=http://www.opengis.net/def/crs/EPSG/0/3857"
    )
    assert response.status_code == 400 and "crs" in response.get_json()["errors"]


def test_conf_crs_fc_bbox_crs_valid_and_invalid_value(api):
    """/conf/crs/fc-bbox-crs-valid-value, -invalid-value: a bbox in RD New selects what the same
    bbox in CRS84 selects (away from its bent edges); another CRS is a 400."""
    rd_box = (120_000, 486_000, 122_000, 488_000)
    body = _json(api, "/ogc/collections/properties/items?limit=10000&bbox-crs="
                 f"{RD}&bbox={','.join(map(str, rd_box))}&crs={RD}")  # fmt: skip
    assert body["numberMatched"] > 0
    window = shapely.box(*rd_box)
    every = _all(api, "properties", f"crs={RD}")
    inside = {f["id"] for f in every if window.intersects(shapely.geometry.shape(f["geometry"]))}
    assert {f["id"] for f in body["features"]} == inside
    bad = api.get("/ogc/collections/properties/items?bbox=1,2,3,4&bbox-crs=EPSG:4258")
    assert bad.status_code == 400 and "bbox-crs" in bad.get_json()["errors"]


# -- Part 3: queryables --------------------------------------------------------------------------


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_conf_queryables_get_queryables(api, cid):
    """/conf/queryables/get-queryables-op and -response: a JSON Schema (application/schema+json)
    linked from the collection, each queryable a usable query parameter."""
    link = next(
        x for x in _json(api, f"/ogc/collections/{cid}")["links"] if x["rel"].endswith("queryables")
    )
    response = api.get(link["href"])
    assert response.status_code == 200 and response.mimetype == "application/schema+json"
    schema = response.get_json()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object" and "geometry" in schema["properties"]
    declared = {
        p["name"]
        for p in _json(api, "/ogc/api")["paths"][f"/collections/{cid}/items"]["get"]["parameters"]
    }
    for name, prop in schema["properties"].items():
        if name == "geometry":
            continue
        assert name in declared, name
        value = (prop.get("enum") or ["N"])[0]
        assert api.get(f"/ogc/collections/{cid}/items?{name}={value}").status_code == 200


def test_conf_queryables_query_parameters(api):
    """/conf/queryables-query-parameters: ?layer= and ?use= filter by equality."""
    ateliers = _all(api, "properties", "layer=ateliers")
    assert ateliers and {f["properties"]["layer"] for f in ateliers} == {"ateliers"}
    assert len(ateliers) == sum(
        f["properties"]["layer"] == "ateliers" for f in _all(api, "properties")
    )
    atelier_use = _all(api, "properties", "use=atelier")
    assert atelier_use and all("atelier" in f["properties"]["uses"].split(",") for f in atelier_use)
    both = _all(api, "properties", "use=atelier&layer=kavels,ateliers")
    assert {f["properties"]["layer"] for f in both} <= {"kavels", "ateliers"}
    sector = _all(api, "needs", "sector=cultuur")
    assert all(f["properties"]["sector"] == "cultuur" for f in sector)
