"""The OGC API read by the clients planners use, against a live server on a free local port:
OWSLib, GDAL's OAPIF driver (pyogrio's bundled GDAL, and Debian's ``ogr2ogr``) and QGIS's own
OAPIF provider (Debian ``python3-qgis``, run headless under the system Python).

Every collection is read whole: the ids, the count (QGIS's ``featureCount`` equal to the
``numberMatched`` the API reports), the one geometry type of the layer and of every feature, and
the bounds against shapely's bounds of what the API serves.

GDAL and QGIS run in child processes: pyogrio holds the GIL while GDAL downloads, so a server
thread in the same process could not answer. Without the Debian binaries these tests skip,
unless ``SPACEMATCH_REQUIRE_GIS_CLIENTS=1`` (CI) makes a missing client a failure.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from sqlalchemy import select
from werkzeug.serving import make_server

from spacematch import get_store
from spacematch.domain.areas import AreaIndex
from spacematch.models import Need, Property

COLLECTIONS = {
    "properties": "Point",
    "plots": "MultiPolygon",
    "needs": "Point",
    "need-areas": "MultiPolygon",
    "areas": "MultiPolygon",
}
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"
SYSTEM_PYTHON = "/usr/bin/python3"


def require(ok: bool, what: str) -> None:
    if ok:
        return
    if os.environ.get("SPACEMATCH_REQUIRE_GIS_CLIENTS"):
        pytest.fail(f"{what} is missing (apt-get install python3-qgis qgis-providers gdal-bin)")
    pytest.skip(f"{what} is missing (apt-get install python3-qgis qgis-providers gdal-bin)")


class RequestLog:
    """WSGI middleware that remembers every path and query it served."""

    def __init__(self, app) -> None:
        self.app, self.seen = app, []

    def __call__(self, environ, start_response):
        self.seen.append(f"{environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}")
        return self.app(environ, start_response)

    def items(self, cid: str) -> list[str]:
        return [p for p in self.seen if p.startswith(f"/ogc/collections/{cid}/items?")]


@pytest.fixture
def served(seeded_app) -> Iterator[tuple[str, RequestLog]]:
    log = RequestLog(seeded_app.wsgi_app)
    seeded_app.wsgi_app = log
    server = make_server("127.0.0.1", 0, seeded_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/ogc", log
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def expected(seeded_app) -> dict[str, dict]:
    """Per collection: the ids the store says it holds, and the served features' bounds in
    CRS84 and RD New (shapely over the API's own whole answer)."""
    with get_store(seeded_app).sessions() as session:
        props = list(session.execute(select(Property.id, Property.geom_type)))
        open_needs = list(session.scalars(select(Need).where(Need.status == "open")))
        buurten = set(AreaIndex.from_session(session).buurt_codes)
    ids = {
        "properties": {p.id for p in props},
        "plots": {p.id for p in props if p.geom_type != "Point"},
        "needs": {str(n.id) for n in open_needs},
        "need-areas": {str(n.id) for n in open_needs if n.area_list},
        "areas": buurten,
    }
    client = seeded_app.test_client()
    out = {}
    for cid in COLLECTIONS:
        bounds = {}
        for crs, suffix in (("CRS84", ""), ("RD", f"&crs={RD}")):
            body = client.get(f"/ogc/collections/{cid}/items?limit=10000{suffix}").get_json()
            geoms = [shapely.geometry.shape(f["geometry"]) for f in body["features"]]
            bounds[crs] = shapely.total_bounds(geoms)
        out[cid] = {"ids": ids[cid], "bounds": bounds, "matched": body["numberMatched"]}
        assert out[cid]["matched"] == len(ids[cid]), cid
    return out


def test_owslib_reads_every_collection(served, expected):
    from owslib.ogcapi.features import Features

    url, _ = served
    api = Features(url)
    assert {c["id"] for c in api.collections()["collections"]} == set(COLLECTIONS)
    for cid, geometry_type in COLLECTIONS.items():
        assert api.collection(cid)["geometryType"] == geometry_type
        features, offset = [], 0
        while True:
            page = api.collection_items(cid, limit=1000, offset=offset)
            features += page["features"]
            offset += page["numberReturned"]
            if offset >= page["numberMatched"]:
                break
        ids = [str(f["id"]) for f in features]
        assert len(ids) == len(set(ids)) and set(ids) == expected[cid]["ids"], cid
        geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
        assert {g.geom_type for g in geoms} == {geometry_type}, cid
        assert shapely.total_bounds(geoms) == pytest.approx(expected[cid]["bounds"]["CRS84"])
        queryables = api.collection_queryables(cid)
        assert set(queryables["properties"]) > {"geometry"}


READ = """
import pickle, sys
from pyogrio.raw import read
options = {"PAGE_SIZE": sys.argv[3]} if sys.argv[3] != "-" else {}
meta, _, wkbs, fields = read("OAPIF:" + sys.argv[1], layer=sys.argv[2], **options)
ids = [str(v) for v in fields[list(meta["fields"]).index("id")]]
sys.stdout.buffer.write(pickle.dumps((list(meta["fields"]), ids, list(wkbs), str(meta["crs"]),
                                      meta["geometry_type"])))
"""


def read_through_gdal(url: str, layer: str, page_size: str = "-"):
    done = subprocess.run(
        [sys.executable, "-c", READ, url, layer, page_size],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return pickle.loads(done.stdout)


def test_gdal_oapif_reads_every_collection_completely(served, expected):
    """pyogrio's GDAL (>= 3.8 follows the advertised default limit of 1,000 and reads the
    storageCrs): the properties in at most 3 item requests, RD New coordinates."""
    import pyogrio

    require("OAPIF" in pyogrio.list_drivers(), "GDAL's OAPIF driver")
    url, log = served
    log.seen.clear()  # the expected answers were read through the same app
    for cid, geometry_type in COLLECTIONS.items():
        columns, ids, wkbs, crs, layer_type = read_through_gdal(url, cid)
        assert len(ids) == len(set(ids)) and set(ids) == expected[cid]["ids"], cid
        assert "28992" in crs, crs
        geoms = shapely.from_wkb(wkbs)
        assert layer_type == geometry_type and {g.geom_type for g in geoms} == {geometry_type}
        assert shapely.total_bounds(geoms) == pytest.approx(expected[cid]["bounds"]["RD"])
        assert not {"contact_name", "contact_email", "token", "description"} & set(columns)
    assert len(log.items("properties")) <= 3, log.items("properties")
    # An explicit page size is followed, and paging with it reads everything once.
    _, ids, _, _, _ = read_through_gdal(url, "needs", "50")
    assert len(ids) == len(set(ids)) == len(expected["needs"]["ids"])
    assert any("limit=50&" in p or p.endswith("limit=50") for p in log.items("needs"))


@pytest.mark.parametrize("cid", ["properties", "plots", "need-areas"])
def test_debian_ogr2ogr_copies_to_geopackage_without_warnings(served, expected, tmp_path, cid):
    """Debian's GDAL 3.6 copies a collection into a GeoPackage of the right geometry type, with
    no "geometry of type X inserted into layer of type Y" warning; PAGE_SIZE as in the README."""
    require(shutil.which("ogr2ogr") is not None, "ogr2ogr (gdal-bin)")
    url, log = served
    log.seen.clear()
    target = tmp_path / f"{cid}.gpkg"
    done = subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{url}", cid, "-oo", "PAGE_SIZE=1000"],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert b"Warning" not in done.stderr, done.stderr.decode()[-2000:]
    import pyogrio

    info = pyogrio.read_info(target)
    assert info["features"] == expected[cid]["matched"]
    assert info["geometry_type"] == COLLECTIONS[cid]
    pages = len(expected[cid]["ids"]) // 1000 + 1
    assert len([p for p in log.items(cid) if "limit=1000" in p]) <= pages + 1


QGIS_READ = Path(__file__).with_name("qgis_read.py")


def test_qgis_oapif_provider_loads_every_collection_whole(served, expected):
    """QGIS 3.22 fixes a layer's type from its first features: with one type per collection,
    every layer is valid, counts all features, and every feature is of the layer's type."""
    has_qgis = os.path.exists(SYSTEM_PYTHON) and (
        subprocess.run(
            [SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, check=False
        ).returncode
        == 0
    )
    require(has_qgis, "QGIS's Python bindings (python3-qgis)")
    url, _ = served
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": "/tmp"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [SYSTEM_PYTHON, str(QGIS_READ), url, *COLLECTIONS],
        capture_output=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    layers = json.loads(done.stdout.decode().strip().splitlines()[-1])
    for cid, geometry_type in COLLECTIONS.items():
        layer = layers[cid]
        assert layer["valid"], cid
        assert layer["count_before"] == layer["count"] == expected[cid]["matched"], cid
        assert layer["type"] == geometry_type, (cid, layer["type"])
        assert layer["feature_types"] == [geometry_type], (cid, layer["feature_types"])
        assert sorted(layer["ids"]) == sorted(expected[cid]["ids"]), cid
        assert layer["extent"] == pytest.approx(expected[cid]["bounds"]["CRS84"], abs=1e-6)
