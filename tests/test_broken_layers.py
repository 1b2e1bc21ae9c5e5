"""A corpus of broken layer files: each is refused with a message naming the problem, in bounded
time and memory, and the layer imported before it stays exactly as it was.

The files are generated into tmp_path from code (the largest streams 200 MB to disk). Each bad
import runs in a child process, which reports the import's wall time and its own peak RSS
(``VmHWM``; a fresh interpreter with the import's libraries is ~160 MB of it). The figures are
printed (``pytest -s`` shows them) and held to generous bounds: 60 s and 2 GB.

Runs on SQLite, and again on PostgreSQL when SPACEMATCH_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from sqlalchemy import select

from spacematch.db import Store
from spacematch.ingest.importer import LayerError, import_layer
from spacematch.ingest.limits import MAX_FILE_BYTES, MAX_VERTICES
from spacematch.models import Layer, Property

ROOT = Path(__file__).resolve().parent.parent
RD = "EPSG:28992"
DAM_RD = (121394.0, 487375.0)
MAX_SECONDS = 60.0
MAX_RSS_MB = 2048
LAYER = "ateliers"

CHILD = """
import json, resource, sys, time
from spacematch.domain.areas import AreaIndex
from spacematch.db import Store
from spacematch.ingest.importer import LayerError, import_layer

url, path, layer, options = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
store = Store(url)
with store.sessions() as session:
    areas = AreaIndex.from_session(session)
started = time.perf_counter()
try:
    result = import_layer(store, path, layer=layer, areas=areas, **options)
    out = {"imported": result.count, "problems": []}
except LayerError as err:
    out = {"imported": None, "problems": [str(p) for p in err.problems[:20]],
           "problem_count": len(err.problems)}
out["seconds"] = time.perf_counter() - started
try:  # this process's own peak (ru_maxrss would include the parent's, kept across fork+exec)
    with open("/proc/self/status") as fh:
        hwm = next(line for line in fh if line.startswith("VmHWM:"))
    out["rss_mb"] = int(hwm.split()[1]) / 1024
except OSError:
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
store.dispose()
print(json.dumps(out))
"""


# --- file generators -------------------------------------------------------------------------


def crs_member(name: str) -> dict:
    return {"type": "name", "properties": {"name": name}}


def feature(fid: object, geometry: dict | None, **props: object) -> dict:
    base = {"id": fid, "name": f"Pand {fid}", "area_m2": 50, "rent_eur_m2_year": 40}
    return {
        "type": "Feature",
        "properties": {**base, "uses": "atelier", **props},
        "geometry": geometry,
    }


def point(x: float, y: float) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


def geojson(path: Path, features: list[dict], crs: str | None = RD) -> Path:
    doc: dict = {"type": "FeatureCollection"}
    if crs:
        doc["crs"] = crs_member(crs)
    doc["features"] = features
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def points_rd(n: int) -> list[dict]:
    return [feature(f"p{i}", point(DAM_RD[0] + i, DAM_RD[1] + i)) for i in range(n)]


def truncated_json(tmp: Path) -> Path:
    whole = json.dumps(
        {"type": "FeatureCollection", "crs": crs_member(RD), "features": points_rd(50)}
    )
    path = tmp / "truncated.geojson"
    path.write_text(whole[: len(whole) * 2 // 3], encoding="utf-8")
    return path


def wrong_crs(tmp: Path) -> Path:
    """Declares WGS84 but holds RD New metres."""
    return geojson(tmp / "wrong_crs.geojson", points_rd(5), crs="EPSG:4326")


def missing_crs_geojson(tmp: Path) -> Path:
    """No crs member (RFC 7946 then means WGS84), RD New coordinates."""
    return geojson(tmp / "missing_crs.geojson", points_rd(5), crs=None)


def missing_crs_csv(tmp: Path) -> Path:
    path = tmp / "missing_crs.csv"
    path.write_text(
        "id,x,y,area_m2,rent_eur_m2_year,uses\n"
        + "".join(f"p{i},{DAM_RD[0] + i},{DAM_RD[1]},50,40,atelier\n" for i in range(5)),
        encoding="utf-8",
    )
    return path


def missing_crs_shapefile(tmp: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {"id": ["a", "b"], "area": [50.0, 60.0], "rent": [40.0, 40.0]},
        geometry=[shapely.Point(*DAM_RD), shapely.Point(DAM_RD[0] + 5, DAM_RD[1])],
        crs=RD,
    )
    frame["uses"] = "atelier"
    path = tmp / "missing_crs.shp"
    pyogrio.write_dataframe(frame, path)
    path.with_suffix(".prj").unlink()
    return path


def unknown_crs(tmp: Path) -> Path:
    return geojson(tmp / "unknown_crs.geojson", points_rd(5), crs="EPSG:999999")


def mixed_geometry(tmp: Path) -> Path:
    line = {"type": "LineString", "coordinates": [list(DAM_RD), [DAM_RD[0] + 10, DAM_RD[1]]]}
    features = [*points_rd(3), feature("line", line), feature("q", point(*DAM_RD))]
    return geojson(tmp / "mixed.geojson", features)


def no_features(tmp: Path) -> Path:
    return geojson(tmp / "empty_collection.geojson", [])


def empty_file(tmp: Path) -> Path:
    path = tmp / "zero_bytes.geojson"
    path.write_bytes(b"")
    return path


def _ring(n: int, radius: float = 40.0) -> list[tuple[float, float]]:
    step = 2 * math.pi / n
    ring = [
        (DAM_RD[0] + radius * math.cos(i * step), DAM_RD[1] + radius * math.sin(i * step))
        for i in range(n)
    ]
    return [*ring, ring[0]]


def million_vertices_geojson(tmp: Path) -> Path:
    """One valid polygon with 1,000,001 vertices (24 MB), streamed to disk."""
    path = tmp / "million.geojson"
    with open(path, "w", encoding="utf-8") as fh:
        head = feature("huge", None)
        head.pop("geometry")
        fh.write('{"type":"FeatureCollection","crs":' + json.dumps(crs_member(RD)))
        fh.write(',"features":[' + json.dumps(head)[:-1] + ',"geometry":')
        fh.write('{"type":"Polygon","coordinates":[[')
        ring = _ring(1_000_000)
        for start in range(0, len(ring), 50_000):
            chunk = ring[start : start + 50_000]
            fh.write(("," if start else "") + ",".join(f"[{x:.3f},{y:.3f}]" for x, y in chunk))
        fh.write("]]}}]}")
    return path


def million_vertices_gpkg(tmp: Path) -> Path:
    """The same polygon in a GeoPackage (read as WKB, so the per-feature vertex count is what
    refuses it)."""
    frame = gpd.GeoDataFrame(
        {"id": ["huge"], "area_m2": [50.0], "rent_eur_m2_year": [40.0], "uses": ["atelier"]},
        geometry=[shapely.Polygon(_ring(1_000_000))],
        crs=RD,
    )
    path = tmp / "million.gpkg"
    pyogrio.write_dataframe(frame, path)
    return path


def duplicate_ids(tmp: Path) -> Path:
    features = points_rd(4)
    features[3]["properties"]["id"] = "p1"
    return geojson(tmp / "duplicates.geojson", features)


def latin1_geojson(tmp: Path) -> Path:
    features = points_rd(3)
    features[2]["properties"]["name"] = "Café De Ster, Ruysdaelstraat"
    text = json.dumps(
        {"type": "FeatureCollection", "crs": crs_member(RD), "features": features},
        ensure_ascii=False,
        indent=1,
    )
    path = tmp / "latin1.geojson"
    path.write_bytes(text.encode("latin-1"))
    return path


def latin1_csv(tmp: Path) -> Path:
    path = tmp / "latin1.csv"
    rows = "id,name,x,y,area_m2,rent_eur_m2_year,uses\n" + "".join(
        f"p{i},Pand {i},{DAM_RD[0] + i},{DAM_RD[1]},50,40,atelier\n" for i in range(3)
    )
    rows += f"p3,Café De Ster,{DAM_RD[0]},{DAM_RD[1]},50,40,atelier\n"
    path.write_bytes(rows.encode("latin-1"))
    (tmp / "latin1.prj").write_text(RD, encoding="utf-8")
    return path


def zip_bomb(tmp: Path) -> Path:
    """A zipped 'Shapefile' whose .dbf unpacks to 150 MB of zeros (~150 KB packed)."""
    path = tmp / "bomb.shp.zip"
    block = bytes(10**6)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ("bomb.shp", "bomb.shx", "bomb.prj"):
            archive.writestr(name, b"")
        with archive.open("bomb.dbf", "w") as member:
            for _ in range(150):
                member.write(block)
    return path


def two_hundred_mb(tmp: Path) -> Path:
    """A 200 MB GeoJSON of ordinary points, streamed to disk line by line."""
    path = tmp / "huge.geojson"
    target = 200 * 10**6
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(
            '{"type":"FeatureCollection","crs":' + json.dumps(crs_member(RD)) + ',"features":['
        )
        size, i = 0, 0
        while size < target:
            x, y = DAM_RD[0] - 400 + i % 800, DAM_RD[1] - 400 + (i // 800) % 800
            props = {
                "id": f"p{i}", "name": f"Pand {i}", "address": f"Damstraat {i}",
                "area_m2": 50 + i % 100, "rent_eur_m2_year": 40, "uses": "atelier,kantoor",
                "department": "Vastgoed", "contact": "vastgoed@example.org",
            }  # fmt: skip
            line = ("," if i else "") + json.dumps(
                {"type": "Feature", "properties": props, "geometry": point(x, y)}
            )
            fh.write(line + "\n")
            size += len(line) + 1
            i += 1
        fh.write("]}")
    return path


def near_the_limits(tmp: Path) -> Path:
    """Just inside both default limits: 38 polygons of 99,999 vertices, ~92 MB."""
    path = tmp / "near_limits.geojson"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(
            '{"type":"FeatureCollection","crs":' + json.dumps(crs_member(RD)) + ',"features":['
        )
        for k in range(38):
            ring = [
                (x + (k % 8) * 100.0 - 400, y + (k // 8) * 100.0 - 200)
                for x, y in _ring(MAX_VERTICES - 2)
            ]
            head = json.dumps(feature(f"f{k}", None))[: -len("null}")]
            coords = ",".join(f"[{x:.3f},{y:.3f}]" for x, y in ring)
            fh.write(("," if k else "") + head + '{"type":"Polygon","coordinates":[[' + coords)
            fh.write("]]}}")
        fh.write("]}")
    return path


# --- the corpus ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    make: Callable[[Path], Path]
    expect: str  # a regular expression one problem must match
    options: dict = field(default_factory=dict)
    slow: bool = False


CORPUS: dict[str, Case] = {
    "truncated_json": Case(
        truncated_json, r"^file: cannot read truncated\.geojson: Failed to read GeoJSON data"
    ),
    "wrong_crs_4326_with_rd_metres": Case(
        wrong_crs,
        r"^feature 1: geometry: coordinates are not longitude/latitude as EPSG:4326 requires: "
        r"is the CRS declared right\?",
    ),
    "missing_crs_geojson_with_rd_metres": Case(
        missing_crs_geojson, r"^feature 1: geometry: coordinates are not longitude/latitude"
    ),
    "missing_crs_csv": Case(
        missing_crs_csv, r"^crs: no CRS declared \(a CSV carries none: give crs = "
    ),
    "missing_crs_shapefile": Case(
        missing_crs_shapefile,
        r"^crs: no CRS declared \(the \.prj file is missing\)",
        options={"mapping": {"fields": {"area_m2": "area", "rent_eur_m2_year": "rent"}}},
    ),
    "unknown_crs": Case(unknown_crs, r"^crs: unknown CRS 'EPSG:999999' in the file's crs member"),
    "mixed_points_and_lines": Case(
        mixed_geometry,
        r"^feature 4: geometry: geometry type LineString is not supported "
        r"\(Point, Polygon or MultiPolygon\)",
    ),
    "no_features": Case(no_features, r"^file: the file has no features$"),
    "zero_bytes": Case(empty_file, r"^file: cannot read zero_bytes\.geojson"),
    "million_vertex_polygon_geojson": Case(
        million_vertices_geojson,
        r"^geometry: a feature is too large to read \(At line 1, character \d+\): "
        r"at most 100,000 vertices per feature; simplify the geometry first",
    ),
    "million_vertex_polygon_gpkg": Case(
        million_vertices_gpkg,
        r"^feature 1: geometry: 1,000,001 vertices, more than 100,000 per feature",
    ),
    "duplicate_ids": Case(
        duplicate_ids, r"^feature 4: id: duplicate id 'p1' \(first at feature 2\)"
    ),
    "latin1_names_geojson": Case(
        latin1_geojson,
        r"^file: not UTF-8 text: byte 0xe9 at line \d+ \(byte \d+ of the file\) is not valid "
        r"UTF-8, as in a Latin-1/Windows-1252 file; save it as UTF-8$",
    ),
    "latin1_names_csv": Case(
        latin1_csv, r"^file: not UTF-8 text: byte 0xe9 at line 5 .* save it as CSV UTF-8$"
    ),
    "zip_bomb": Case(
        zip_bomb, r"^file: the file is 150\.0 MB unpacked, more than the limit of 100\.0 MB"
    ),
    "200_mb_file": Case(
        two_hundred_mb,
        r"^file: the file is 200\.0 MB, more than the limit of 100\.0 MB: split the layer, "
        r"or raise max_bytes",
        slow=True,
    ),
}


# --- helpers ---------------------------------------------------------------------------------


def import_in_child(store: Store, path: Path, options: dict | None = None) -> dict:
    """Import in a fresh interpreter; returns its report plus the wall time of the whole child."""
    url = store.engine.url.render_as_string(hide_password=False)
    args = [sys.executable, "-W", "error", "-c", CHILD, url, str(path), LAYER]
    started = time.perf_counter()
    done = subprocess.run(
        [*args, json.dumps(options or {})],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS * 3,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    report["wall_seconds"] = time.perf_counter() - started
    report["stderr"] = done.stderr
    return report


def snapshot(store: Store) -> dict:
    """What must not change when an import is refused."""
    with store.sessions() as session:
        rows = session.scalars(
            select(Property).where(Property.layer == LAYER).order_by(Property.id)
        ).all()
        layer = session.get(Layer, LAYER)
        return {
            "rows": [(p.id, p.area_m2, p.name, p.geom) for p in rows],
            "feature_count": layer.feature_count if layer else None,
            "imported_at": layer.imported_at if layer else None,
            "data_version": store.data_version(),
        }


@pytest.fixture
def previous_layer(store, tmp_path, area_index) -> dict:
    """A good version of the layer, imported before the bad file."""
    good = [
        feature("a", point(*DAM_RD), area_m2=75, name="De Ster"),
        feature("b", point(DAM_RD[0] + 20, DAM_RD[1])),
        feature("c", point(DAM_RD[0], DAM_RD[1] + 20)),
    ]
    (tmp_path / "good").mkdir()
    path = geojson(tmp_path / "good" / "v1.geojson", good)
    assert import_layer(store, path, layer=LAYER, areas=area_index).count == 3
    before = snapshot(store)
    assert len(before["rows"]) == 3
    assert before["rows"][0][1:3] == (75.0, "De Ster")
    return before


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Iterator[Callable[[str], Path]]:
    """The corpus files, each generated once per module (both backends read the same files) and
    deleted afterwards (pytest keeps recent tmp dirs; these hold ~330 MB)."""
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            folder = tmp_path_factory.mktemp(name)
            made[name] = CORPUS[name].make(folder) if name in CORPUS else near_the_limits(folder)
        return made[name]

    yield get
    for path in made.values():
        for part in path.parent.iterdir():
            part.unlink()


def figures(name: str, path: Path, report: dict) -> str:
    size = sum(p.stat().st_size for p in path.parent.glob(path.stem.split(".")[0] + ".*"))
    return (
        f"{name}: {size / 1e6:.3f} MB on disk, import {report['seconds']:.2f} s "
        f"(child wall {report['wall_seconds']:.2f} s), peak RSS {report['rss_mb']:.0f} MB"
    )


# --- tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if c.slow else n for n, c in CORPUS.items()],
)
def test_broken_file_is_refused_in_bounded_time_and_memory(store, corpus, previous_layer, name):
    case = CORPUS[name]
    path = corpus(name)
    report = import_in_child(store, path, case.options)
    print("\n" + figures(name, path, report))
    assert report["imported"] is None, f"{name} was imported"
    assert any(re.search(case.expect, p) for p in report["problems"]), report["problems"]
    assert report["seconds"] < MAX_SECONDS
    assert report["rss_mb"] < MAX_RSS_MB
    assert "Warning" not in report["stderr"], report["stderr"]
    assert snapshot(store) == previous_layer


@pytest.mark.slow
def test_a_file_just_inside_the_limits_imports_in_bounded_time_and_memory(
    store, corpus, previous_layer
):
    path = corpus("near_the_limits")
    assert path.stat().st_size < MAX_FILE_BYTES
    report = import_in_child(store, path)
    print("\n" + figures("near_the_limits (accepted)", path, report))
    assert report["imported"] == 38, report["problems"]
    assert report["seconds"] < MAX_SECONDS
    assert report["rss_mb"] < MAX_RSS_MB
    with store.sessions() as session:
        assert session.get(Layer, LAYER).feature_count == 38


def test_limits_are_keyword_arguments(store, tmp_path, area_index, previous_layer):
    polygon = {"type": "Polygon", "coordinates": [[list(p) for p in _ring(40)]]}
    path = geojson(tmp_path / "small.geojson", [feature("poly", polygon)])
    with pytest.raises(LayerError, match=r"41 vertices, more than 20 per feature"):
        import_layer(store, path, layer=LAYER, areas=area_index, max_vertices=20)
    size = path.stat().st_size
    with pytest.raises(
        LayerError, match=rf"the file is {size:,} bytes, more than the limit of {size - 1:,} bytes"
    ):
        import_layer(store, path, layer=LAYER, areas=area_index, max_bytes=size - 1)
    assert snapshot(store) == previous_layer
    # At the limits exactly, the file is fine.
    result = import_layer(
        store, path, layer=LAYER, areas=area_index, max_bytes=size, max_vertices=41
    )
    assert result.count == 1


def test_gdal_setting_is_restored(store, tmp_path, area_index):
    before = pyogrio.get_gdal_config_option("OGR_GEOJSON_MAX_OBJ_SIZE")
    with pytest.raises(LayerError, match="too large to read"):
        import_layer(store, million_vertices_geojson(tmp_path), layer=LAYER, areas=area_index)
    assert pyogrio.get_gdal_config_option("OGR_GEOJSON_MAX_OBJ_SIZE") == before


def test_utf8_check_reports_the_line_across_chunks(store, tmp_path, area_index, monkeypatch):
    """A bad byte after several read chunks, and a multi-byte character split between chunks."""
    from spacematch.ingest import limits as layer_limits

    monkeypatch.setattr(layer_limits, "CHUNK", 7)
    features = points_rd(3)
    features[0]["properties"]["name"] = "Zeeburgerdijk Ĳsbaan"  # valid, 2-byte character
    features[2]["properties"]["name"] = "Café"
    text = json.dumps({"type": "FeatureCollection", "features": features}, indent=1)
    text = text.replace("\\u0132", "Ĳ").replace("\\u00e9", "\udce9")
    raw = text.encode("utf-8", errors="surrogateescape")
    path = tmp_path / "late.geojson"
    path.write_bytes(raw)
    at = raw.index(b"\xe9")
    line = raw[:at].count(b"\n") + 1
    with pytest.raises(LayerError) as excinfo:
        import_layer(store, path, layer=LAYER, areas=area_index)
    assert f"byte 0xe9 at line {line} (byte {at + 1} of the file)" in str(excinfo.value)
