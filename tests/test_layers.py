"""Layer import (spacematch.ingest.importer): formats, CRS handling, mapping, validation,
atomic replace.

Runs on SQLite, and again on PostgreSQL when SPACEMATCH_TEST_DATABASE_URL is set. Broken files
are generated here from code; tests/fixtures/layers/ holds the realistic ones.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from sqlalchemy import func, select, update

from spacematch.db import Store
from spacematch.ingest import importer as layers
from spacematch.ingest.importer import (
    PRESETS,
    ImportResult,
    LayerError,
    Problem,
    import_layer,
    load_mapping,
)
from spacematch.models import Layer, Property

FIXTURES = Path(__file__).parent / "fixtures" / "layers"
PG_URL = os.environ.get("SPACEMATCH_TEST_DATABASE_URL", "")
DAM_RD = (121394.0, 487375.0)
DAM_WGS84 = (4.89372, 52.37322)
RD = "EPSG:28992"
UTRECHT_RD = (136000.0, 456000.0)  # far outside every Amsterdam buurt
# A square plot of 20 x 30 m in the Jordaan (RD New).
PLOT = shapely.box(120300, 487800, 120320, 487830)


def feature(fid: object, geometry: shapely.Geometry | None, **props: object) -> dict:
    """A GeoJSON feature with a valid default for every required field."""
    base = {"id": fid, "area_m2": 50, "rent_eur_m2_year": 40, "uses": "atelier"}
    return {
        "type": "Feature",
        "properties": {**base, **props},
        "geometry": None if geometry is None else json.loads(shapely.to_geojson(geometry)),
    }


def write_geojson(path: Path, features: list[dict], crs: str | None = RD) -> Path:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def rows(store: Store, layer: str) -> dict[str, Property]:
    with store.sessions() as session:
        found = session.scalars(select(Property).where(Property.layer == layer)).all()
    return {p.source_id: p for p in found}


def problems_of(excinfo: pytest.ExceptionInfo[LayerError]) -> set[tuple[int | None, str | None]]:
    return {(p.feature, p.field) for p in excinfo.value.problems}


# --- CRS and placement -----------------------------------------------------------------------


def test_dam_in_rd_new_lands_in_buurt_ae02(store, tmp_path):
    path = write_geojson(tmp_path / "dam.geojson", [feature("dam", shapely.Point(*DAM_RD))])
    result = import_layer(store, path, layer="ateliers")  # builds its own buurt index
    assert result == ImportResult("ateliers", 1, "EPSG:28992", result.seconds, 0)
    dam = rows(store, "ateliers")["dam"]
    assert dam.id == "ateliers.dam"
    assert dam.buurt_code == "AE02"
    assert (dam.x, dam.y) == DAM_RD
    assert shapely.from_wkb(dam.geom).equals(shapely.Point(*DAM_RD))
    assert (dam.minx, dam.miny, dam.maxx, dam.maxy) == (*DAM_RD, *DAM_RD)
    assert dam.geom_type == "Point"


@pytest.mark.parametrize(
    ("crs", "transform"),
    [
        ("EPSG:4326", None),
        ("urn:ogc:def:crs:OGC:1.3:CRS84", None),
        (None, None),
        ("EPSG:3857", ("EPSG:4326", "EPSG:3857")),
    ],
    ids=["epsg4326", "crs84", "rfc7946-default", "epsg3857"],
)
def test_other_crs_reprojected_to_within_a_metre(store, tmp_path, area_index, crs, transform):
    x, y = DAM_WGS84
    if transform:
        from spacematch.geo import transformer

        x, y = transformer(*transform).transform(x, y)
    path = write_geojson(tmp_path / "dam.geojson", [feature("dam", shapely.Point(x, y))], crs)
    result = import_layer(store, path, layer="ateliers", areas=area_index)
    assert result.source_crs in ("EPSG:4326", "EPSG:3857", "OGC:CRS84")
    dam = rows(store, "ateliers")["dam"]
    assert math.dist((dam.x, dam.y), DAM_RD) < 1.0
    assert dam.buurt_code == "AE02"


def test_file_without_crs_is_refused(store, tmp_path, area_index):
    frame = gpd.GeoDataFrame(
        {"id": ["a"], "area": [50.0], "rent": [40.0], "uses": ["atelier"]},
        geometry=[shapely.Point(*DAM_RD)],
        crs=None,
    )
    mapping = {"fields": {"area_m2": "area", "rent_eur_m2_year": "rent"}}
    for suffix in ("shp", "gpkg"):
        path = tmp_path / f"nocrs.{suffix}"
        with pytest.warns(UserWarning, match="crs"):
            pyogrio.write_dataframe(frame, path)
        with pytest.raises(LayerError) as excinfo:
            import_layer(store, path, layer="ateliers", mapping=mapping, areas=area_index)
        assert excinfo.value.problems[0].feature is None
        assert "no CRS declared" in str(excinfo.value)
    csv = tmp_path / "nocrs.csv"
    csv.write_text("id,x,y,area_m2,rent_eur_m2_year,uses\na,121394,487375,50,40,atelier\n")
    with pytest.raises(LayerError, match="no CRS declared"):
        import_layer(store, csv, layer="ateliers", areas=area_index)
    assert rows(store, "ateliers") == {}


def test_unknown_crs_is_refused(store, tmp_path, area_index):
    # GDAL would read this as WGS84; the import must not.
    path = write_geojson(
        tmp_path / "u.geojson", [feature("a", shapely.Point(*DAM_RD))], "EPSG:999999"
    )
    with pytest.raises(LayerError, match="unknown CRS 'EPSG:999999'"):
        import_layer(store, path, layer="ateliers", areas=area_index)
    csv = tmp_path / "u.csv"
    csv.write_text("id,x,y,area_m2,rent_eur_m2_year,uses\na,121394,487375,50,40,atelier\n")
    with pytest.raises(LayerError, match="unknown CRS 'RD'"):
        import_layer(store, csv, layer="ateliers", mapping={"crs": "RD"}, areas=area_index)


def test_crs_member_after_the_features_is_read(store, tmp_path, area_index):
    path = tmp_path / "tail.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [feature("dam", shapely.Point(*DAM_RD))],
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
            }
        )
    )
    assert import_layer(store, path, layer="ateliers", areas=area_index).source_crs == RD


def test_unknown_crs_member_at_the_end_of_a_large_file(store, tmp_path, area_index):
    features = [feature(f"f{i}", shapely.Point(*DAM_RD)) for i in range(2000)]
    path = tmp_path / "large.geojson"
    doc = {
        "type": "FeatureCollection",
        "features": features,
        "crs": {"type": "name", "properties": {"name": "EPSG:999999"}},
    }
    path.write_text(json.dumps(doc))
    assert path.stat().st_size > 200_000
    with pytest.raises(LayerError, match="unknown CRS 'EPSG:999999'"):
        import_layer(store, path, layer="ateliers", areas=area_index)


def test_rd_coordinates_in_a_geojson_without_crs_are_not_taken_for_lon_lat(
    store, tmp_path, area_index
):
    path = write_geojson(
        tmp_path / "legacy.geojson", [feature("a", shapely.Point(*DAM_RD))], crs=None
    )
    with pytest.raises(LayerError, match="not longitude/latitude"):
        import_layer(store, path, layer="ateliers", areas=area_index)
    # A legacy file declares its CRS through the mapping instead.
    import_layer(store, path, layer="ateliers", mapping={"crs": RD}, areas=area_index)
    assert rows(store, "ateliers")["a"].buurt_code == "AE02"


def test_mapping_crs_must_agree_with_the_file(store, tmp_path, area_index):
    path = write_geojson(tmp_path / "dam.geojson", [feature("a", shapely.Point(*DAM_RD))])
    with pytest.raises(LayerError, match="declares EPSG:28992 but the mapping says EPSG:4326"):
        import_layer(store, path, layer="ateliers", mapping={"crs": "EPSG:4326"}, areas=area_index)


# --- formats ---------------------------------------------------------------------------------


def test_geopackage_and_shapefile(store, tmp_path, area_index):
    # Shapefile field names have at most 10 characters, so this one needs a mapping anyway.
    mapping = {"fields": {"area_m2": "area", "rent_eur_m2_year": "rent"}}
    attributes = {
        "id": [1, 2],
        "area": [80.5, None],
        "rent": [35.0, 12.0],
        "uses": ["kantoor", "grond"],
    }
    mixed = gpd.GeoDataFrame(attributes, geometry=[shapely.Point(*DAM_RD), PLOT], crs=RD)
    plots = gpd.GeoDataFrame(
        attributes, geometry=[shapely.box(121390, 487370, 121400, 487380), PLOT], crs=RD
    )
    for suffix, frame in (("gpkg", mixed), ("shp", plots)):
        path = tmp_path / f"layer.{suffix}"
        pyogrio.write_dataframe(frame, path)
        result = import_layer(store, path, layer=suffix, mapping=mapping, areas=area_index)
        assert (result.count, result.source_crs) == (2, RD)
        got = rows(store, suffix)
        assert set(got) == {"1", "2"}  # integer ids lose no digits and gain no ".0"
        assert got["1"].area_m2 == 80.5 and got["1"].uses == "kantoor"
        assert got["1"].buurt_code == "AE02"
        assert got["2"].geom_type == "Polygon"
        assert got["2"].area_m2 == pytest.approx(600.0)


def test_geopackage_in_wgs84(store, tmp_path, area_index):
    frame = gpd.GeoDataFrame(
        {"id": ["a"], "area_m2": [50.0], "rent_eur_m2_year": [40.0], "uses": ["atelier"]},
        geometry=[shapely.Point(*DAM_WGS84)],
        crs="EPSG:4326",
    )
    pyogrio.write_dataframe(frame, tmp_path / "w.gpkg")
    import_layer(store, tmp_path / "w.gpkg", layer="ateliers", areas=area_index)
    dam = rows(store, "ateliers")["a"]
    assert math.dist((dam.x, dam.y), DAM_RD) < 1.0


def test_csv_with_wkt_lng_lat_and_a_mapping_file(store, area_index):
    result = import_layer(
        store,
        FIXTURES / "ateliers_wkt_lng_lat.csv",
        layer="ateliers",
        mapping=FIXTURES / "ateliers_wkt_lng_lat.toml",
        areas=area_index,
    )
    assert (result.count, result.source_crs) == (2, "EPSG:4326")
    got = rows(store, "ateliers")
    dam, plot = got["AT-1"], got["AT-2"]
    assert math.dist((dam.x, dam.y), DAM_RD) < 1.0 and dam.buurt_code == "AE02"
    assert (dam.name, dam.area_m2, dam.rent_eur_m2_year, dam.uses) == (
        "Atelier Dam",
        45,
        52.5,
        "atelier",
    )
    assert str(dam.available_from) == "2026-03-01" and dam.available_until is None
    assert plot.geom_type == "Polygon" and 900 < plot.area_m2 < 1300  # from the polygon
    assert plot.uses == "atelier,werkplaats"
    assert str(plot.available_until) == "2099-12-31"


def test_csv_with_x_y_columns(store, tmp_path, area_index):
    text = "id,X,Y,area_m2,rent_eur_m2_year,uses\na,121394,487375,50,40,atelier\n"
    csv = tmp_path / "xy.csv"
    csv.write_text(text)
    import_layer(store, csv, layer="xy", mapping={"crs": RD}, areas=area_index)
    assert rows(store, "xy")["a"].buurt_code == "AE02"
    # A sidecar .prj declares the CRS as well as a mapping does.
    csv2 = tmp_path / "xy2.csv"
    csv2.write_text(text)
    (tmp_path / "xy2.prj").write_text("EPSG:28992\n")
    assert import_layer(store, csv2, layer="xy", areas=area_index).source_crs == RD
    # lon/lat columns name WGS84 themselves.
    lonlat = tmp_path / "lonlat.csv"
    lonlat.write_text(
        f"id,lon,lat,area_m2,rent_eur_m2_year,uses\na,{DAM_WGS84[0]},{DAM_WGS84[1]},50,40,atelier\n"
    )
    import_layer(store, lonlat, layer="lonlat", areas=area_index)
    dam = rows(store, "lonlat")["a"]
    assert math.dist((dam.x, dam.y), DAM_RD) < 1.0


def test_csv_geometry_problems(store, tmp_path, area_index):
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "id,WKT,area_m2,rent_eur_m2_year,uses\n"
        'a,"POINT Z (121394 487375 2.5)",50,40,atelier\n'
        'b,"POINT (121394",50,40,atelier\n'
        "c,,50,40,atelier\n"
    )
    with pytest.raises(LayerError) as excinfo:
        import_layer(store, csv, layer="ateliers", mapping={"crs": RD}, areas=area_index)
    assert problems_of(excinfo) == {(2, "geometry"), (3, "geometry")}
    assert "feature 2: geometry: WKT: not valid WKT" in str(excinfo.value)
    csv.write_text(csv.read_text().splitlines()[0] + "\n" + csv.read_text().splitlines()[1])
    import_layer(store, csv, layer="ateliers", mapping={"crs": RD}, areas=area_index)
    stored = shapely.from_wkb(rows(store, "ateliers")["a"].geom)
    assert not shapely.has_z(stored)  # Z is dropped
    nogeom = tmp_path / "nogeom.csv"
    nogeom.write_text("id,area_m2\na,50\n")
    with pytest.raises(LayerError, match="a CSV needs a WKT column"):
        import_layer(store, nogeom, layer="ateliers", mapping={"crs": RD}, areas=area_index)


# --- the vastgoed preset ---------------------------------------------------------------------

VASTGOED = FIXTURES / "vastgoed_verhuurbare_eenheden.geojson"
VASTGOED_EXPECTED = {  # vheId: (uses, vvo, buurt)
    "100231": ("maatschappelijk", 412.5, "AE02"),
    "100232": ("werkplaats,opslag", 1250.0, "AH01"),
    "100233": ("kantoor", 236.0, "BA01"),
    "100234": ("winkel", 84.5, "EL01"),
    "100235": ("horeca", 140.0, "FB01"),
    "100236": ("atelier", 38.0, "KA01"),
    "100237": ("maatschappelijk", 960.0, "MA01"),
    "100238": ("opslag", 22.0, "NA01"),
    "100239": ("grond", 5400.0, "TA01"),
    "100240": ("kantoor,werkplaats", 310.0, "MA02"),
}


def test_vastgoed_preset_needs_a_rent(store, area_index):
    with pytest.raises(LayerError) as excinfo:
        import_layer(
            store, VASTGOED, layer="vastgoed", preset="amsterdam-vastgoed", areas=area_index
        )
    # One file-level problem that says what to do, not ten per-feature ones.
    assert [str(p) for p in excinfo.value.problems] == [
        "rent_eur_m2_year: no rent column and no default: name a column "
        "(fields.rent_eur_m2_year) or give defaults.rent_eur_m2_year in a mapping"
    ]


@pytest.mark.parametrize("how", ["preset+mapping", "mapping-file"])
def test_vastgoed_preset_imports_uses_and_areas(store, area_index, how):
    if how == "preset+mapping":
        kwargs = {
            "preset": "amsterdam-vastgoed",
            "mapping": {"defaults": {"rent_eur_m2_year": 60.0}},
        }
    else:
        kwargs = {"mapping": FIXTURES / "vastgoed_rent.toml"}
    result = import_layer(store, VASTGOED, layer="vastgoed", areas=area_index, **kwargs)
    assert (result.count, result.source_crs) == (10, RD)
    got = rows(store, "vastgoed")
    assert {k: (p.uses, p.area_m2, p.buurt_code) for k, p in got.items()} == VASTGOED_EXPECTED
    first = got["100231"]
    assert first.id == "vastgoed.100231"
    assert first.name == "Voormalig buurthuis Oude Kerk"
    assert got["100232"].name == ""  # vheNaam empty
    assert first.address == ""  # v1 has no address parts
    assert first.bag_ids == "0363010000700000"  # v1's single bagVerblijfsobjectId
    assert first.rent_eur_m2_year == 60.0
    assert first.department == "Gemeentelijk vastgoed"
    assert first.status == "beschikbaar" and first.accessible is False
    with store.sessions() as session:
        layer = session.get(Layer, "vastgoed")
    expected_title = (
        "Gemeentelijk vastgoed"
        if how == "preset+mapping"
        else ("Gemeentelijk vastgoed (verhuurbare eenheden)")
    )
    assert layer.title == expected_title
    assert (layer.source, layer.feature_count) == (VASTGOED.name, 10)


def test_vastgoed_unknown_values_are_reported_not_refused(store, tmp_path, area_index):
    doc = json.loads(VASTGOED.read_text())
    doc["features"][2]["properties"]["feitelijkGebruik"] = "Parkeergarage"
    doc["features"][4]["properties"]["vheSoort"] = "Leegstand"
    doc["features"][4]["properties"]["feitelijkGebruik"] = None
    path = tmp_path / "v.geojson"
    path.write_text(json.dumps(doc))
    mapping = FIXTURES / "vastgoed_rent.toml"
    result = import_layer(store, path, layer="vastgoed", mapping=mapping, areas=area_index)
    got = rows(store, "vastgoed")
    assert got["100233"].uses == "kantoor"  # the known kind kept, the unknown use value listed
    assert got["100235"].uses == ""  # no use class left: stored, not matched
    assert result.report.unknown_values == {"parkeergarage": 1}
    assert result.report.per_kind("unknown_kind") == {"Leegstand": 1}
    # --strict refuses the file as before.
    with pytest.raises(LayerError) as excinfo:
        import_layer(store, path, layer="vastgoed", mapping=mapping, areas=area_index, strict=True)
    assert [str(p) for p in excinfo.value.problems] == [
        "feature 3: uses: unknown use class 'parkeergarage' (allowed: kantoor, atelier, "
        "werkplaats, winkel, horeca, maatschappelijk, opslag, grond)",
        "feature 5: uses: no use class given (allowed: kantoor, atelier, werkplaats, winkel, "
        "horeca, maatschappelijk, opslag, grond)",
    ]


def test_presets_are_valid_mappings():
    assert "amsterdam-vastgoed" in PRESETS
    for preset in PRESETS.values():
        load_mapping(preset)


# --- validation ------------------------------------------------------------------------------


def test_broken_file_lists_every_problem_and_keeps_the_previous_version(
    store, tmp_path, area_index
):
    good = [
        feature("a", shapely.Point(*DAM_RD), area_m2=75),
        feature("b", PLOT),
        feature("c", shapely.Point(121000, 487000)),
    ]
    import_layer(
        store, write_geojson(tmp_path / "v1.geojson", good), layer="ateliers", areas=area_index
    )
    version = store.data_version()

    bowtie = shapely.Polygon(
        [(120300, 487800), (120320, 487830), (120320, 487800), (120300, 487830)]
    )
    p = shapely.Point(*DAM_RD)
    broken = [
        feature("a", p),  # 1 fine
        feature("b", None),  # 2 no geometry
        feature("c", shapely.LineString([DAM_RD, (121400, 487380)])),  # 3 line
        feature("d", bowtie),  # 4 self-intersection
        feature("e", shapely.Point(*UTRECHT_RD)),  # 5 outside Amsterdam
        feature("f", p, area_m2=-5),  # 6 negative area
        feature("g", p, uses="atelier,kitchen"),  # 7 unknown use
        feature("h", p, available_from="2026-02-30"),  # 8 bad date
        feature(
            "i", p, available_from="2027-01-01", available_until="2026-12-31"
        ),  # 9 until before from
        feature("j", p, status="gehuurd"),  # 10 unknown status
        feature("a", p),  # 11 duplicate id
        feature(None, p),  # 12 missing id
        feature("m", p, rent_eur_m2_year=-1),  # 13 negative rent
        feature("n", p, area_m2="groot"),  # 14 not a number
        feature("o", p, uses=""),  # 15 no use
        feature("p", p, area_m2=None),  # 16 point without area
        feature("q", p, accessible="misschien"),  # 17 not a boolean
    ]
    path = write_geojson(tmp_path / "v2.geojson", broken)
    with pytest.raises(LayerError) as excinfo:  # strict: the point outside is a problem too
        import_layer(store, path, layer="ateliers", areas=area_index, strict=True)
    err = excinfo.value
    assert problems_of(excinfo) == {
        (2, "geometry"),
        (3, "geometry"),
        (4, "geometry"),
        (5, "geometry"),
        (6, "area_m2"),
        (7, "uses"),
        (8, "available_from"),
        (9, "available_until"),
        (10, "status"),
        (11, "id"),
        (12, "id"),
        (13, "rent_eur_m2_year"),
        (14, "area_m2"),
        (15, "uses"),
        (16, "area_m2"),
        (17, "accessible"),
    }
    lines = str(err).splitlines()
    assert len(lines) == len(err.problems) == 16
    assert lines == sorted(lines, key=lambda s: int(s.split(":")[0].split()[1]))
    expected = [
        "feature 2: geometry: geometry is missing",
        "feature 3: geometry: geometry type LineString is not supported (Point, Polygon or "
        "MultiPolygon)",
        "feature 5: geometry: outside Amsterdam: lies in no buurt",
        "feature 6: area_m2: must not be negative",
        "feature 7: uses: unknown use class 'kitchen' (allowed: kantoor, atelier, werkplaats, "
        "winkel, horeca, maatschappelijk, opslag, grond)",
        "feature 8: available_from: not an ISO 8601 date (YYYY-MM-DD): '2026-02-30'",
        "feature 9: available_until: before available_from",
        "feature 10: status: unknown status 'gehuurd' (allowed: beschikbaar, in_optie, "
        "toegewezen, ingetrokken, verhuurd)",
        "feature 11: id: duplicate id 'a' (first at feature 1)",
        "feature 12: id: missing",
        "feature 13: rent_eur_m2_year: must not be negative",
        "feature 14: area_m2: must be a number, got 'groot'",
        "feature 15: uses: no use class given (allowed: kantoor, atelier, werkplaats, winkel, "
        "horeca, maatschappelijk, opslag, grond)",
        "feature 16: area_m2: missing (only a polygon's area can be computed)",
        "feature 17: accessible: must be true or false, got 'misschien'",
    ]
    for line in expected:
        assert line in lines
    assert any(
        line.startswith("feature 4: geometry: geometry is invalid: Self-intersection")
        for line in lines
    )

    # Nothing was written: the previous version is there, unchanged.
    got = rows(store, "ateliers")
    assert set(got) == {"a", "b", "c"}
    assert got["a"].area_m2 == 75
    assert store.data_version() == version
    with store.sessions() as session:
        assert session.get(Layer, "ateliers").feature_count == 3


def test_empty_geometry_and_multipolygon(store, tmp_path, area_index):
    multi = shapely.MultiPolygon([PLOT, shapely.box(120400, 487800, 120410, 487810)])
    path = write_geojson(
        tmp_path / "m.geojson",
        [
            feature("multi", multi, area_m2=None),
            feature("empty", shapely.Polygon()),
            feature("mp", shapely.MultiPoint([DAM_RD, (121000, 487000)])),
        ],
    )
    with pytest.raises(LayerError) as excinfo:
        import_layer(store, path, layer="kavels", areas=area_index)
    assert [str(p) for p in excinfo.value.problems] == [
        "feature 2: geometry: geometry is empty",
        "feature 3: geometry: geometry type MultiPoint is not supported (Point, Polygon or "
        "MultiPolygon)",
    ]
    path = write_geojson(tmp_path / "ok.geojson", [feature("multi", multi, area_m2=None)])
    import_layer(store, path, layer="kavels", areas=area_index)
    got = rows(store, "kavels")["multi"]
    assert got.geom_type == "MultiPolygon" and got.area_m2 == pytest.approx(700.0)


def test_polygon_without_area_gets_its_polygon_area(store, tmp_path, area_index):
    path = write_geojson(
        tmp_path / "k.geojson",
        [
            feature("k1", PLOT, area_m2=None),
            {
                **feature("k2", PLOT),
                "properties": {"id": "k2", "rent_eur_m2_year": 5, "uses": "grond"},
            },
            feature("k3", PLOT, area_m2=420),
        ],
    )
    import_layer(store, path, layer="kavels", areas=area_index)
    got = rows(store, "kavels")
    assert got["k1"].area_m2 == pytest.approx(600.0)
    assert got["k2"].area_m2 == pytest.approx(600.0)
    assert got["k3"].area_m2 == 420  # a given area wins over the polygon's
    assert (got["k1"].minx, got["k1"].maxy) == (120300, 487830)
    assert PLOT.contains(shapely.Point(got["k1"].x, got["k1"].y))


def test_default_area_for_points_only(store, tmp_path, area_index):
    path = write_geojson(
        tmp_path / "k.geojson",
        [
            feature("point", shapely.Point(*DAM_RD), area_m2=None),
            feature("plot", PLOT, area_m2=None),
            feature("given", shapely.Point(*DAM_RD), area_m2=12),
        ],
    )
    mapping = {"defaults": {"area_m2": 25}}
    import_layer(store, path, layer="kavels", mapping=mapping, areas=area_index)
    got = rows(store, "kavels")
    assert got["point"].area_m2 == 25
    assert got["plot"].area_m2 == pytest.approx(600.0)  # the polygon's own area wins
    assert got["given"].area_m2 == 12


def test_geopackage_with_several_layers(store, tmp_path, area_index):
    frame = gpd.GeoDataFrame(
        {"id": ["a"], "area_m2": [50.0], "rent_eur_m2_year": [40.0], "uses": ["atelier"]},
        geometry=[shapely.Point(*DAM_RD)],
        crs=RD,
    )
    path = tmp_path / "multi.gpkg"
    pyogrio.write_dataframe(frame, path, layer="eenheden")
    pyogrio.write_dataframe(frame, path, layer="other")
    with pytest.raises(LayerError, match=r"several layers \(eenheden, other\)"):
        import_layer(store, path, layer="ateliers", areas=area_index)
    import_layer(
        store, path, layer="ateliers", mapping={"source_layer": "eenheden"}, areas=area_index
    )
    assert set(rows(store, "ateliers")) == {"a"}


def test_defaults_uses_lists_and_dates(store, tmp_path, area_index):
    p = shapely.Point(*DAM_RD)
    path = write_geojson(
        tmp_path / "d.geojson",
        [
            feature("a", p, uses=["opslag", "Kantoor"], accessible=True),
            feature(
                "b",
                p,
                uses="grond, atelier ,kantoor",
                available_from="2026-05-01T09:00:00",
                available_until="2028-05-01",
                accessible="ja",
                status="In_optie",
            ),
            feature("c", p, available_until=None, accessible=None, status=None),
        ],
    )
    import_layer(store, path, layer="mixed", areas=area_index)
    got = rows(store, "mixed")
    assert got["a"].uses == "kantoor,opslag"  # canonical order of models.USES
    assert got["b"].uses == "kantoor,atelier,grond"
    assert got["a"].accessible is True and got["b"].accessible is True
    assert got["c"].accessible is False
    assert str(got["b"].available_from) == "2026-05-01"
    assert str(got["b"].available_until) == "2028-05-01"
    assert got["b"].status == "in_optie"
    assert got["c"].status == "beschikbaar"
    with store.sessions() as session:
        today = session.scalar(select(func.current_date()))
    assert str(got["c"].available_from) == str(today)  # the import date: available now
    assert got["c"].available_until is None


def test_value_maps_defaults_and_several_columns(store, tmp_path, area_index):
    p = shapely.Point(*DAM_RD)
    path = write_geojson(
        tmp_path / "s.geojson",
        [
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(p)),
                "properties": {
                    "code": "X1",
                    "opp": 30,
                    "soort": "Bedrijfsruimte",
                    "extra": "Opslag",
                    "straat": None,
                    "bag": "0363010000000001",
                    "lift": "Y",
                    "fase": "Vrij",
                },
            },
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(p)),
                "properties": {
                    "code": "X2",
                    "opp": 40,
                    "soort": None,
                    "extra": None,
                    "straat": "Dam 1",
                    "bag": "0363010000000002",
                    "lift": "N",
                    "fase": "Optie",
                },
            },
        ],
    )
    mapping = {
        "fields": {
            "id": "code",
            "area_m2": "opp",
            "uses": ["soort", "extra"],
            "address": ["straat", "bag"],
            "accessible": "lift",
            "status": "fase",
        },
        "values": {
            "uses": {"bedrijfsruimte": "werkplaats"},
            "accessible": {"y": True, "n": False},
            "status": {"VRIJ": "beschikbaar", "optie": "in_optie"},
        },
        "defaults": {"rent_eur_m2_year": 0, "uses": ["atelier"], "contact": "x@example.org"},
    }
    import_layer(store, path, layer="mapped", mapping=mapping, areas=area_index)
    got = rows(store, "mapped")
    assert (got["X1"].uses, got["X2"].uses) == ("werkplaats,opslag", "atelier")
    assert (got["X1"].address, got["X2"].address) == ("0363010000000001", "Dam 1")
    assert (got["X1"].accessible, got["X2"].accessible) == (True, False)
    assert (got["X1"].status, got["X2"].status) == ("beschikbaar", "in_optie")
    assert got["X1"].rent_eur_m2_year == 0 and got["X1"].contact == "x@example.org"


def test_skipped_kinds_are_read_from_the_column_the_kind_is_stored_from(
    store, tmp_path, area_index
):
    """Two columns match the mapped name only by case: every stage takes the first of them, so
    a dwelling in that column is skipped and never stored as a space of that kind."""
    csv = tmp_path / "kinds.csv"
    csv.write_text(
        "id,X,Y,area_m2,rent_eur_m2_year,uses,Soort,SOORT\n"
        f"a,{DAM_RD[0]},{DAM_RD[1]},50,40,atelier,woning,kantoor\n"
        f"b,{DAM_RD[0]},{DAM_RD[1]},50,40,atelier,kantoor,woning\n"
    )
    mapping = {"crs": RD, "fields": {"kind": "soort"}, "skip_kinds": ["woning"]}
    result = import_layer(store, csv, layer="kinds", mapping=mapping, areas=area_index)
    assert {k: p.kind for k, p in rows(store, "kinds").items()} == {"b": "kantoor"}
    assert result.report.per_kind("skipped") == {"woning": 1}


def test_mapped_column_missing_from_the_file(store, tmp_path, area_index):
    path = write_geojson(tmp_path / "a.geojson", [feature("a", shapely.Point(*DAM_RD))])
    with pytest.raises(LayerError, match=r"area_m2: column oppervlak not in the file \(its col"):
        import_layer(
            store, path, layer="x", mapping={"fields": {"area_m2": "oppervlak"}}, areas=area_index
        )
    frame = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"area_m2": 5}, "geometry": None}],
    }
    (tmp_path / "noid.geojson").write_text(json.dumps(frame))
    with pytest.raises(LayerError, match="id: no id column"):
        import_layer(store, tmp_path / "noid.geojson", layer="x", areas=area_index)


def test_layer_slug_and_file_type_checked(store, tmp_path, area_index):
    path = write_geojson(tmp_path / "a.geojson", [feature("a", shapely.Point(*DAM_RD))])
    for bad in ("Ateliers", "-x", "a b", "x" * 65, "", "ateliers.v2"):
        with pytest.raises(LayerError, match="invalid layer name"):
            import_layer(store, path, layer=bad, areas=area_index)
    (tmp_path / "a.xlsx").write_bytes(b"")
    with pytest.raises(LayerError, match=r"unsupported file type '\.xlsx'"):
        import_layer(store, tmp_path / "a.xlsx", layer="a", areas=area_index)
    with pytest.raises(LayerError, match="file not found"):
        import_layer(store, tmp_path / "missing.geojson", layer="a", areas=area_index)
    empty = write_geojson(tmp_path / "empty.geojson", [])
    with pytest.raises(LayerError, match="no features"):
        import_layer(store, empty, layer="a", areas=area_index)


def test_ids_must_be_url_safe(store, tmp_path, area_index):
    p = shapely.Point(*DAM_RD)
    path = write_geojson(
        tmp_path / "a.geojson", [feature("a/b", p), feature("c d", p), feature("x" * 200, p)]
    )
    with pytest.raises(LayerError) as excinfo:
        import_layer(store, path, layer="ateliers", areas=area_index)
    assert problems_of(excinfo) == {(1, "id"), (2, "id"), (3, "id")}
    assert "feature 3: id: longer than 191 characters" in str(excinfo.value)


# --- mappings --------------------------------------------------------------------------------


def test_load_mapping_toml_json_and_problems(tmp_path):
    toml = load_mapping(FIXTURES / "vastgoed_rent.toml")
    assert toml["fields"]["area_m2"] == ["vvo"]  # from the preset it extends
    assert toml["defaults"]["rent_eur_m2_year"] == 60.0
    assert toml["values"]["uses"]["broedplaats"] == ["atelier"]
    (tmp_path / "m.json").write_text(json.dumps({"fields": {"id": "code"}, "crs": RD}))
    assert load_mapping(tmp_path / "m.json")["fields"] == {"id": ["code"]}
    assert load_mapping(toml) == toml  # normalised mappings load again unchanged

    bad = {
        "fields": {"size": "opp", "id": 3},
        "values": {"uses": {"Keuken": "kitchen"}},
        "defaults": {"id": "x", "status": "weg", "area_m2": -1},
        "extends": "nope",
        "colour": "red",
    }
    with pytest.raises(LayerError) as excinfo:
        load_mapping(bad)
    text = str(excinfo.value)
    assert len(excinfo.value.problems) == 8
    for part in (
        "unknown key 'colour'",
        "extends: unknown preset 'nope'",
        "fields: unknown field 'size'",
        "fields.id: must be a column name",
        "values.uses.Keuken: must be a use class",
        "defaults.id: ids cannot have a",
        "defaults.status: must be one of",
        "defaults.area_m2: must be a number",
    ):
        assert part in text
    assert all(p.feature is None and p.field == "mapping" for p in excinfo.value.problems)
    (tmp_path / "broken.toml").write_text("fields = [")
    with pytest.raises(LayerError, match=r"cannot read broken\.toml"):
        load_mapping(tmp_path / "broken.toml")


def test_unknown_preset(store, tmp_path, area_index):
    path = write_geojson(tmp_path / "a.geojson", [feature("a", shapely.Point(*DAM_RD))])
    with pytest.raises(LayerError, match="unknown preset 'nope'"):
        import_layer(store, path, layer="a", preset="nope", areas=area_index)


# --- replacing a layer -----------------------------------------------------------------------


def test_reimport_keeps_workflow_status_of_persisting_ids(store, tmp_path, area_index):
    p = shapely.Point(*DAM_RD)
    v1 = [feature("a", p), feature("b", p), feature("c", p), feature("d", p)]
    import_layer(
        store,
        write_geojson(tmp_path / "v1.geojson", v1),
        layer="ateliers",
        title="Ateliers",
        areas=area_index,
    )
    with store.session() as session:
        session.execute(
            update(Property).where(Property.id == "ateliers.b").values(status="in_optie")
        )
        session.execute(
            update(Property).where(Property.id == "ateliers.c").values(status="toegewezen")
        )
    version = store.data_version()

    v2 = [
        feature("a", p, status="ingetrokken"),
        feature("b", p, area_m2=99),
        feature("c", p, status="toegewezen"),
        feature("e", p, status="in_optie"),
    ]
    result = import_layer(
        store, write_geojson(tmp_path / "v2.geojson", v2), layer="ateliers", areas=area_index
    )
    got = rows(store, "ateliers")
    assert set(got) == {"a", "b", "c", "e"}  # d is gone, e is new
    assert got["b"].status == "in_optie" and got["b"].area_m2 == 99  # status kept, data new
    assert got["c"].status == "toegewezen"
    assert got["a"].status == "ingetrokken"  # still beschikbaar, so the file may withdraw it
    assert got["e"].status == "in_optie"  # a new id takes the file's status
    assert result.kept_status == 1  # b; c's file status already agreed
    assert store.data_version() == version + 1
    with store.sessions() as session:
        layer = session.get(Layer, "ateliers")
    assert (layer.title, layer.feature_count, layer.source) == ("Ateliers", 4, "v2.geojson")


def test_failure_while_writing_rolls_back(store, tmp_path, area_index, monkeypatch):
    p = shapely.Point(*DAM_RD)
    import_layer(
        store,
        write_geojson(tmp_path / "v1.geojson", [feature("a", p, area_m2=10)]),
        layer="ateliers",
        areas=area_index,
    )
    version = store.data_version()

    def boom(session):
        raise RuntimeError("disk full")

    monkeypatch.setattr(layers, "bump_data_version", boom)
    monkeypatch.setattr(layers, "INSERT_BATCH", 1)
    v2 = [feature("a", p, area_m2=20), feature("b", p)]
    with pytest.raises(RuntimeError, match="disk full"):
        import_layer(
            store,
            write_geojson(tmp_path / "v2.geojson", v2),
            layer="ateliers",
            title="Nieuw",
            areas=area_index,
        )
    got = rows(store, "ateliers")
    assert set(got) == {"a"} and got["a"].area_m2 == 10
    assert store.data_version() == version
    with store.sessions() as session:
        layer = session.get(Layer, "ateliers")
    assert (layer.title, layer.source, layer.feature_count) == ("Ateliers", "v1.geojson", 1)


def test_other_layers_untouched_and_demo_flag(store, tmp_path, area_index):
    p = shapely.Point(*DAM_RD)
    import_layer(
        store,
        write_geojson(tmp_path / "a.geojson", [feature("x", p)]),
        layer="one",
        is_demo=True,
        areas=area_index,
    )
    import_layer(
        store,
        write_geojson(tmp_path / "b.geojson", [feature("x", p)]),
        layer="two",
        areas=area_index,
    )
    import_layer(
        store,
        write_geojson(tmp_path / "c.geojson", [feature("y", p)]),
        layer="two",
        areas=area_index,
    )
    assert set(rows(store, "one")) == {"x"} and set(rows(store, "two")) == {"y"}
    with store.sessions() as session:
        one, two = session.get(Layer, "one"), session.get(Layer, "two")
    assert (one.is_demo, two.is_demo) == (True, False)
    assert one.title == "One"


def test_progress_bar_on_stderr(store, tmp_path, area_index, capsys):
    path = write_geojson(tmp_path / "a.geojson", [feature("a", shapely.Point(*DAM_RD))])
    import_layer(store, path, layer="ateliers", progress=True, areas=area_index)
    captured = capsys.readouterr()
    assert "ateliers: writing" in captured.err and captured.out == ""
    import_layer(store, path, layer="ateliers", areas=area_index)
    assert capsys.readouterr().err == ""


def test_problem_strings():
    assert str(Problem(12, "area_m2", "must not be negative")) == (
        "feature 12: area_m2: must not be negative"
    )
    assert str(Problem(None, "crs", "no CRS declared")) == "crs: no CRS declared"
    assert str(Problem(None, None, "x")) == "x"
    err = LayerError([Problem(3, "uses", "b"), Problem(None, "crs", "a"), Problem(1, "id", "c")])
    assert str(err).splitlines() == ["crs: a", "feature 1: id: c", "feature 3: uses: b"]


def test_demo_layers_import(store, area_index):
    demo = Path(__file__).resolve().parent.parent / "layers" / "demo"
    files = sorted(demo.glob("*.geojson"))
    if not files:
        pytest.skip("no demo layers generated yet")
    for path in files:
        result = import_layer(store, path, layer=path.stem, is_demo=True, areas=area_index)
        assert result.count > 0


def test_bench_script_runs_small(tmp_path):
    """scripts/bench_import.py stays runnable (the 100k figure itself is measured by hand)."""
    import argparse
    import importlib.util

    script = Path(__file__).resolve().parent.parent / "scripts" / "bench_import.py"
    spec = importlib.util.spec_from_file_location("bench_import", script)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    args = argparse.Namespace(
        n=300, seed=1, repeat=1, progress=False, formats="gpkg,geojson", max_mb=None
    )
    result = bench.run(args)
    for name in ("gpkg", "geojson"):
        figures = result["formats"][name]
        assert figures["total_s"] >= figures["insert_s"] > 0
        assert figures["ratio_to_baseline"] > 0
