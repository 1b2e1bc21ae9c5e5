"""The city's whole-city vastgoed export (v2 schema) as it comes, in each of its formats.

The fixture follows ``gemeentelijk_vastgoed/verhuurbareEenheden`` v2 of Amsterdam/amsterdam-schema
(prgSubobjectid, address parts, contractNummers, bagVerblijfsobjectIds, a point in RD New): 17
units - dwellings, parking places, a garage box, let and vacant units of several kinds, an unknown
kind, one point 8 m outside the shipped buurten and two further out. The other formats are written
from it here with GDAL (pyogrio), so the array columns come in GDAL's own string forms.

Runs on SQLite, and again on PostgreSQL when SPACEMATCH_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import shapely
from sqlalchemy import select

from spacematch.db import Store
from spacematch.ingest.cells import parse_list
from spacematch.ingest.importer import LayerError, import_layer
from spacematch.matching import MatchIndex, NeedQuery, rank_properties
from spacematch.models import Layer, Property

FIXTURES = Path(__file__).parent / "fixtures" / "layers"
V2 = FIXTURES / "vastgoed_v2.geojson"
GREX = FIXTURES / "grex_projecten.geojson"
RENT = {"defaults": {"rent_eur_m2_year": 60.0}}
OFFERED = {"5001", "5006", "5007", "5008", "5011", "5012", "5013", "5015", "5017"}
LET = {"5005", "5010"}
UNKNOWN = {"5009"}
SKIPPED = {"5002", "5003", "5004", "5014", "5016"}


def stored(store: Store, layer: str) -> dict[str, Property]:
    with store.sessions() as session:
        rows = session.scalars(select(Property).where(Property.layer == layer)).all()
        return {p.source_id: p for p in rows}


def comparable(props: dict[str, Property]) -> dict[str, tuple]:
    """What must not depend on the file format (coordinates to 1 cm)."""
    return {
        k: (
            p.name,
            p.address,
            p.uses,
            p.status,
            p.kind,
            p.bag_ids,
            p.buurt_code,
            p.outside_m,
            p.area_m2,
            round(p.x, 2),
            round(p.y, 2),
        )
        for k, p in props.items()
    }


def test_v2_export_imports_with_the_preset_and_the_report_adds_up(store, area_index):
    result = import_layer(
        store, V2, layer="vastgoed", preset="amsterdam-vastgoed", mapping=RENT, areas=area_index
    )
    got = stored(store, "vastgoed")
    assert set(got) == OFFERED | LET | UNKNOWN  # dwellings, parking places, garage box skipped
    assert result.count == len(got) == 12
    first = got["5001"]
    assert first.id == "vastgoed.5001"
    assert first.address == "Jan Pieter Heijestraat 12A-2, 1053 GL"
    assert first.name == "Werkplaats Jan Pieter Heije"  # vheNaam before weergavenaam
    assert got["5006"].name == "Osdorpplein 44"  # weergavenaam when vheNaam is empty
    assert got["5007"].address == "Rijnstraat 81H, 1079 GX"
    assert first.bag_ids == "0363010000812301,0363010000812302"
    assert (first.uses, first.kind, first.status) == ("werkplaats", "Bedrijfsruimte", "beschikbaar")
    assert {k for k, p in got.items() if p.status == "verhuurd"} == LET
    assert {k for k, p in got.items() if p.uses == ""} == UNKNOWN
    assert got["5009"].kind == "Kiosk"
    # Borders: 8 m out takes the nearest buurt; 40 m and 1.7 km out are kept outside the city.
    assert (got["5012"].buurt_code, got["5012"].outside_m) == ("KQ01", 8.0)
    assert (got["5013"].buurt_code, got["5013"].outside_m) == ("", 40.0)
    assert got["5011"].buurt_code == "" and got["5011"].outside_m > 1600
    assert got["5015"].outside_m is None and got["5015"].buurt_code == "AE02"

    report = result.report
    counts = report.counts
    features = len(json.loads(V2.read_text())["features"])
    assert report.features == features == 17
    assert counts["imported"] + counts["let"] + counts["unknown_kind"] + counts["skipped"] == 17
    assert (counts["imported"], counts["let"], counts["unknown_kind"]) == (9, 2, 1)
    assert (counts["skipped"], counts["snapped"], counts["outside"]) == (5, 1, 2)
    assert report.per_kind("skipped") == {
        "Woning": 2,
        "Garagebox": 1,
        "Parkeerplaats": 1,
        "Woonruimte": 1,
    }
    assert report.per_kind("unknown_kind") == {"Kiosk": 1}
    assert [r[0] for r in report.rows] == list(range(1, 18))  # one row per feature, in order
    assert {r[1] for r in report.rows if r[2] == "skipped"} == SKIPPED
    with store.sessions() as session:
        layer = session.get(Layer, "vastgoed")
        assert layer.feature_count == 12
        assert json.loads(layer.report)["features"] == 17


def _ogr2ogr(*args: str | Path) -> None:
    subprocess.run(["ogr2ogr", *map(str, args)], check=True, capture_output=True)


def _snake(name: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name)


def _write_formats(tmp_path: Path) -> dict[str, Path]:
    """The fixture as the city's other exports, written by GDAL (ogr2ogr) so the array columns
    come in GDAL's own forms: GeoJSON in WGS84 (RFC 7946, no crs member), GeoPackage in RD New
    (``(2:a,b)`` string lists), CSV with WKT and with x/y (JSON-text arrays; snake_case names in
    one), and JSON lines of flat records."""
    if shutil.which("ogr2ogr") is None:
        pytest.skip("gdal-bin (ogr2ogr) is not installed")
    out: dict[str, Path] = {}
    out["wgs84"] = tmp_path / "eenheden_wgs84.geojson"
    _ogr2ogr("-f", "GeoJSON", "-t_srs", "EPSG:4326", "-lco", "RFC7946=YES", out["wgs84"], V2)
    assert '"crs"' not in out["wgs84"].read_text()
    out["gpkg"] = tmp_path / "eenheden.gpkg"
    _ogr2ogr("-f", "GPKG", out["gpkg"], V2)
    out["csv_wkt"] = tmp_path / "eenheden_wkt.csv"
    _ogr2ogr("-f", "CSV", "-lco", "GEOMETRY=AS_WKT", out["csv_wkt"], V2)
    out["csv_wkt"].with_suffix(".prj").write_text("EPSG:28992")
    xy = tmp_path / "eenheden_xy_camel.csv"
    _ogr2ogr("-f", "CSV", "-lco", "GEOMETRY=AS_XY", xy, V2)
    frame = pd.read_csv(xy, dtype=str, keep_default_na=False)
    out["csv_xy_snake"] = tmp_path / "eenheden_xy.csv"
    frame.rename(columns={c: _snake(c) for c in frame.columns if c not in ("X", "Y")}).to_csv(
        out["csv_xy_snake"], index=False
    )
    out["csv_xy_snake"].with_suffix(".prj").write_text("EPSG:28992")
    doc = json.loads(V2.read_text())
    lines = []
    for f in doc["features"]:
        geometry = {**f["geometry"], "crs": {"type": "name", "properties": {"name": "EPSG:28992"}}}
        lines.append(json.dumps({**f["properties"], "geometrie": geometry}))
    out["jsonl"] = tmp_path / "eenheden.jsonl"
    out["jsonl"].write_text("\n".join(lines) + "\n")
    out["geojsonseq"] = tmp_path / "eenheden.geojsonl"
    _ogr2ogr("-f", "GeoJSONSeq", "-t_srs", "EPSG:4326", out["geojsonseq"], V2)
    return out


def test_the_same_export_in_every_format_gives_the_same_properties(store, tmp_path, area_index):
    base = import_layer(
        store, V2, layer="vastgoed", preset="amsterdam-vastgoed", mapping=RENT, areas=area_index
    )
    expected = comparable(stored(store, "vastgoed"))
    assert len(expected) == 12
    for name, path in _write_formats(tmp_path).items():
        result = import_layer(
            store, path, layer=f"v-{name}".replace("_", "-"), preset="amsterdam-vastgoed",
            mapping=RENT, areas=area_index,
        )  # fmt: skip
        got = comparable(stored(store, f"v-{name}".replace("_", "-")))
        assert got == expected, name
        assert result.report.counts == {
            "imported": 9, "let": 2, "unknown_kind": 1, "skipped": 5, "stored": 12,
            "snapped": 1, "outside": 2,
        }, name  # fmt: skip
        assert result.report.rows == base.report.rows, name  # ids of skipped features too


def test_only_vacant_non_residential_units_are_offered_and_matched(store, area_index, app):
    import_layer(
        store, V2, layer="vastgoed", preset="amsterdam-vastgoed", mapping=RENT, areas=area_index
    )
    index = MatchIndex.from_store(store, area_index)
    every_use = [
        "kantoor", "atelier", "werkplaats", "winkel", "horeca", "maatschappelijk", "opslag",
        "grond",
    ]  # fmt: skip
    anywhere = NeedQuery(
        min_area_m2=1, max_area_m2=10_000, max_rent_eur_month=1e9, uses=every_use,
        needed_from=dt.date.today() + dt.timedelta(days=30),
    )  # fmt: skip
    matched = {m.property_id.split(".")[1] for m in rank_properties(index, anywhere, limit=None)}
    # A need naming no place gets every vacant unit with a use class inside the city (and snapped).
    assert matched == OFFERED - {"5011", "5013"}
    # Outside the city: found by distance to a need's point, never through an area.
    bos = got = stored(store, "vastgoed")["5011"]
    near = NeedQuery(
        min_area_m2=1, max_area_m2=10_000, max_rent_eur_month=1e9, uses=every_use,
        needed_from=anywhere.needed_from, x=bos.x + 300, y=bos.y, max_distance_m=1000,
    )  # fmt: skip
    assert "vastgoed.5011" in {m.property_id for m in rank_properties(index, near, limit=None)}
    by_area = NeedQuery(
        min_area_m2=1, max_area_m2=10_000, max_rent_eur_month=1e9, uses=every_use,
        needed_from=anywhere.needed_from, areas=["K"], max_distance_m=5000,
    )  # fmt: skip
    ids = {m.property_id for m in rank_properties(index, by_area, limit=None)}
    assert "vastgoed.5013" not in ids and "vastgoed.5011" not in ids
    assert "vastgoed.5012" in ids  # snapped into KQ01
    assert got.status == "beschikbaar"

    client = app.test_client()
    public = client.get("/api/properties?layer=vastgoed").get_json()
    shown = {f["properties"]["id"].split(".")[1] for f in public["features"]}
    assert shown == OFFERED | UNKNOWN  # let units are never published
    refused = client.get("/api/properties?status=verhuurd")
    assert refused.status_code == 400
    in_zuid = client.get("/api/properties?layer=vastgoed&area=K").get_json()
    in_k = {f["properties"]["id"].split(".")[1] for f in in_zuid["features"]}
    assert "5011" not in in_k and "5013" not in in_k and "5012" in in_k


def test_reimport_frees_a_unit_whose_contract_ended_and_keeps_the_workflow(
    store, tmp_path, area_index
):
    import_layer(
        store, V2, layer="vastgoed", preset="amsterdam-vastgoed", mapping=RENT, areas=area_index
    )
    with store.session() as session:
        session.get(Property, "vastgoed.5006").status = "in_optie"
    doc = json.loads(V2.read_text())
    for f in doc["features"]:
        if f["properties"]["prgSubobjectid"] == 5005:
            f["properties"]["contractNummers"] = []
        if f["properties"]["prgSubobjectid"] == 5006:
            f["properties"]["contractNummers"] = ["C-2026-1"]
    path = tmp_path / "again.geojson"
    path.write_text(json.dumps(doc))
    result = import_layer(
        store, path, layer="vastgoed", preset="amsterdam-vastgoed", mapping=RENT, areas=area_index
    )
    got = stored(store, "vastgoed")
    assert got["5005"].status == "beschikbaar"  # contract ended: offered again
    assert got["5006"].status == "in_optie"  # the workflow's status is kept
    assert result.kept_status == 1


def test_strict_refuses_points_outside_and_unknown_kinds(store, area_index):
    with pytest.raises(LayerError) as excinfo:
        import_layer(
            store, V2, layer="vastgoed", preset="amsterdam-vastgoed", mapping=RENT,
            areas=area_index, strict=True,
        )  # fmt: skip
    problems = [str(p) for p in excinfo.value.problems]
    # Features keep their numbers in the file although skipped ones were taken out.
    assert "feature 9: uses: unknown use class 'kiosk' (allowed: kantoor, atelier, werkplaats, " \
        "winkel, horeca, maatschappelijk, opslag, grond)" in problems  # fmt: skip
    outside = [p for p in problems if "outside Amsterdam" in p]
    assert [p.split(":")[0] for p in outside] == ["feature 11", "feature 12", "feature 13"]
    with store.sessions() as session:
        assert session.get(Layer, "vastgoed") is None


def test_file_level_problems_still_refuse_the_whole_file(store, tmp_path, area_index):
    import_layer(
        store, V2, layer="vastgoed", preset="amsterdam-vastgoed", mapping=RENT, areas=area_index
    )
    doc = json.loads(V2.read_text())
    for f in doc["features"]:
        del f["properties"]["prgSubobjectid"]
    path = tmp_path / "noid.geojson"
    path.write_text(json.dumps(doc))
    with pytest.raises(LayerError, match="prgSubobjectid / vheId not in the file"):
        import_layer(
            store, path, layer="vastgoed", preset="amsterdam-vastgoed", mapping=RENT,
            areas=area_index,
        )  # fmt: skip
    doc = json.loads(V2.read_text())
    doc["features"][0]["geometry"] = None
    doc["features"][5]["properties"]["vvo"] = "veel"
    path.write_text(json.dumps(doc))
    with pytest.raises(LayerError) as excinfo:
        import_layer(
            store, path, layer="vastgoed", preset="amsterdam-vastgoed", mapping=RENT,
            areas=area_index,
        )  # fmt: skip
    assert {(p.feature, p.field) for p in excinfo.value.problems} == {
        (1, "geometry"),
        (6, "area_m2"),
    }
    assert len(stored(store, "vastgoed")) == 12  # the previous layer is whole


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        (["a", "b"], ["a", "b"]),
        ('["0363010000812301", "0363010000812302"]', ["0363010000812301", "0363010000812302"]),
        ("(2:C-1,C-2)", ["C-1", "C-2"]),
        ("C-1, C-2;C-3", ["C-1", "C-2", "C-3"]),
        ("[]", []),
        ("(0:)", []),
        (None, []),
        ("", []),
        (float("nan"), []),
    ],
)
def test_list_cells_in_every_form(cell, items):
    assert parse_list(cell) == items


def test_grex_projects_are_plots_meanwhile_until_the_plan_starts(store, area_index):
    result = import_layer(
        store, GREX, layer="grex", preset="amsterdam-grex", mapping=RENT, areas=area_index
    )
    got = stored(store, "grex")
    assert result.count == len(got) == 3
    assert {p.uses for p in got.values()} == {"grond"}
    assert {p.geom_type for p in got.values()} == {"MultiPolygon"}
    future = got["1001"]
    assert future.name == "Zuidas Kavel 7 tijdelijk" and future.area_m2 == 12500.0
    assert future.available_until == dt.date(2030, 3, 1)  # T: meanwhile until the plan starts
    assert got["1002"].available_until is None  # A: the plan runs, no end in the data
    assert got["1003"].available_until is None  # T, but its start already passed
    assert got["1001"].kind == "T"
    shapely.from_wkb(future.geom)  # stored as valid WKB


def test_a_unit_outside_the_city_finds_needs_only_by_their_point(store, area_index):
    from spacematch.matching import PropertyArrays, rank_needs
    from spacematch.matching.stored import PROPERTY_COLUMNS

    import_layer(
        store, V2, layer="vastgoed", preset="amsterdam-vastgoed", mapping=RENT, areas=area_index
    )
    with store.sessions() as session:
        rows = session.execute(select(*[getattr(Property, c) for c in PROPERTY_COLUMNS])).all()
    bos = stored(store, "vastgoed")["5011"]
    common = {
        "min_area_m2": 1, "max_area_m2": 10_000, "max_rent_eur_month": 1e9,
        "uses": ["werkplaats", "opslag"], "needed_from": dt.date.today() + dt.timedelta(days=30),
    }  # fmt: skip
    needs = [
        NeedQuery(**common, id=1, x=bos.x + 200, y=bos.y, max_distance_m=500),  # near its point
        NeedQuery(**common, id=2, areas=["KQ01"], max_distance_m=5000),  # the nearest buurt
        NeedQuery(**common, id=3),  # names no place
    ]
    index = MatchIndex(area_index, PropertyArrays.from_rows(rows), needs)
    assert [m.need_id for m in rank_needs(index, "vastgoed.5011")] == [1]
    inside = {m.need_id for m in rank_needs(index, "vastgoed.5001")}
    assert 3 in inside and 1 not in inside
