"""Exports: every dataset x format reads back through GDAL (pyogrio) to the same rows and
geometries; RFC 7946; filters; bad input; access; no personal data anywhere; the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import math

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from builders import CANARY, add_canaries, secrets_of

from spacematch import geo, get_store
from spacematch.domain.areas import AreaIndex
from spacematch.domain.needs import create_need, validate_need
from spacematch.export.datasets import build_table
from spacematch.export.tables import (
    DATASETS,
    FORMATS,
    ExportQuery,
    parse_query,
)
from spacematch.matching import MatchIndex, NeedQuery, rank_properties
from spacematch.models import Need, Property
from spacematch.web.export_cli import export_command


@pytest.fixture
def canary_app(seeded_app):
    """The demo plus two open needs with recognisable personal data: one with a point, one with
    areas only."""
    seeded_app.canary_ids = add_canaries(
        seeded_app,
        ({"areas": ["AE02"], "point": [4.89372, 52.37322]}, {"areas": ["A", "EK03"]}),
        uses=["kantoor", "werkplaats", "winkel", "atelier", "maatschappelijk"],
        min_months=12,
    )
    return seeded_app


@pytest.fixture
def planner(client, login):
    login("planner")
    return client


def table_of(app, dataset: str, args: dict | None = None):
    store = get_store(app)
    with store.sessions() as session:
        areas = AreaIndex.from_session(session)
        query = parse_query(dataset, args or {}, session=session, areas=areas)
    return build_table(store, query, areas=areas), areas


def normal(value, kind: str):
    """One cell as the table holds it, from whatever GDAL returned for it."""
    if (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    ):
        return None
    if isinstance(value, (np.datetime64, dt.datetime)) or hasattr(value, "to_pydatetime"):
        return str(value)[:10]
    if kind == "bool":
        return (
            value if isinstance(value, (bool, np.bool_)) else {"true": True, "false": False}[value]
        )
    if kind == "float":
        return None if value == "" else float(value)
    if kind == "int":
        return int(value)
    return None if value == "" else str(value)


def test_every_dataset_and_format_reads_back_through_gdal(canary_app, planner, tmp_path):
    for dataset in DATASETS:
        table, _ = table_of(canary_app, dataset)
        assert len(table) > 0, dataset
        expected_wgs = geo.rfc7946(np.array(table.geoms, dtype=object))
        for fmt in FORMATS:
            response = planner.get(f"/export/{dataset}.{fmt}")
            assert response.status_code == 200, (dataset, fmt, response.data[:200])
            path = tmp_path / f"{dataset}.{fmt}"
            path.write_bytes(response.data)
            frame = pyogrio.read_dataframe(path)
            assert len(frame) == len(table), (dataset, fmt)
            if fmt == "gpkg":
                assert frame.crs.to_epsg() == 28992
                assert pyogrio.list_layers(path)[0][0] == dataset
            elif fmt == "geojson":
                assert frame.crs.to_epsg() == 4326
            for name, kind in table.columns.items():
                got = [normal(v, kind) for v in frame[name].tolist()]
                want = [None if r[name] == "" else r[name] for r in table.rows]
                if kind == "float":
                    assert np.allclose(
                        np.array(got, dtype=float), np.array(want, dtype=float), equal_nan=True
                    ), (dataset, fmt, name)
                else:
                    assert got == want, (dataset, fmt, name)
            geoms = np.array(frame.geometry.values, dtype=object)
            expected = np.array(table.geoms, dtype=object) if fmt == "gpkg" else expected_wgs
            assert shapely.equals_exact(geoms, expected, tolerance=1e-9).all(), (dataset, fmt)


def test_geojson_is_rfc7946(canary_app, planner):
    for dataset in DATASETS:
        body = json.loads(planner.get(f"/export/{dataset}.geojson").data)
        assert body["type"] == "FeatureCollection" and "crs" not in body
        for feature in body["features"]:
            geometry = feature["geometry"]
            if geometry["type"] in ("Polygon", "MultiPolygon"):
                polygons = (
                    [geometry["coordinates"]]
                    if geometry["type"] == "Polygon"
                    else geometry["coordinates"]
                )
                for rings in polygons:
                    assert signed_area(rings[0]) > 0, "exterior rings counter-clockwise"
                    assert all(signed_area(r) < 0 for r in rings[1:]), "holes clockwise"
            lon, lat = shapely.get_coordinates(shapely.from_geojson(json.dumps(geometry)))[0]
            assert 4.7 < lon < 5.2 and 52.2 < lat < 52.5  # Amsterdam, Weesp included


def signed_area(ring) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)) / 2


def test_need_geometry_is_its_point_or_the_union_of_its_areas(canary_app):
    table, areas = table_of(canary_app, "needs")
    point_id, areas_id = canary_app.canary_ids
    geoms = dict(zip(table.ids(), table.geoms, strict=True))
    with get_store(canary_app).sessions() as session:
        point_need = session.get(Need, point_id)
        assert geoms[point_id].equals(shapely.Point(point_need.x, point_need.y))
    union = shapely.union_all([areas.geoms["A"], areas.geoms["EK03"]])
    assert shapely.equals_exact(geoms[areas_id], union, tolerance=1e-6)
    assert {r["place"] for r in table.rows if r["id"] in canary_app.canary_ids} == {
        "point",
        "areas",
    }


def test_no_personal_data_in_any_export(canary_app, planner, tmp_path):
    secrets = secrets_of(canary_app)
    assert CANARY["contact_email"] in secrets and len(secrets) > 600
    for dataset, fmt in itertools.product(DATASETS, FORMATS):
        data = planner.get(f"/export/{dataset}.{fmt}").data
        assert b"Canarius" in data or dataset in ("properties", "areas")  # public name: yes
        for secret in secrets:
            assert secret.encode() not in data, (dataset, fmt, secret)
        path = tmp_path / f"{dataset}.{fmt}"
        path.write_bytes(data)
        fields = set(pyogrio.read_info(path)["fields"])
        assert not fields & {"contact_name", "contact_email", "token", "description"}, (
            dataset,
            fmt,
        )


def test_matches_carry_scores_above_the_threshold_and_the_property_geometry(canary_app):
    table, areas = table_of(canary_app, "matches")
    assert all(r["score"] >= 0.5 for r in table.rows)
    assert {"size", "price", "place", "score", "need", "property"} <= set(table.columns)
    need_id = canary_app.canary_ids[0]
    store = get_store(canary_app)
    index = MatchIndex.from_store(store, areas)
    with store.sessions() as session:
        need = NeedQuery.from_need(session.get(Need, need_id))
        expected = [m for m in rank_properties(index, need, limit=500) if m.score >= 0.5]
        ours = [r for r in table.rows if r["need"] == need_id]
        assert [r["property"] for r in ours] == [m.property_id for m in expected]
        assert [r["score"] for r in ours] == [m.score for m in expected]
        prop = session.get(Property, ours[0]["property"])
        position = table.ids().index(ours[0]["id"])
        assert table.geoms[position].equals(shapely.from_wkb(prop.geom))
    lower, _ = table_of(canary_app, "matches", {"min_score": "0.3"})
    assert len(lower) > len(table)


@pytest.mark.parametrize(
    ("dataset", "args", "check"),
    [
        ("properties", {"area": "A"}, lambda r: r["stadsdeel"] == "A"),
        (
            "properties",
            {"layer": "kavels", "status": "beschikbaar"},
            lambda r: r["layer"] == "kavels" and r["status"] == "beschikbaar",
        ),
        ("needs", {"status": "open", "sector": "voedsel"}, lambda r: r["sector"] == "voedsel"),
        ("needs", {"legal_form": "cooperatie"}, lambda r: r["legal_form"] == "cooperatie"),
        ("matches", {"layer": "ateliers"}, lambda r: r["layer"] == "ateliers"),
        ("matches", {"area": "N"}, lambda r: r["buurt"].startswith("N")),
        ("areas", {"area": "T"}, lambda r: r["stadsdeel"] == "T"),
    ],
)
def test_filters(canary_app, dataset, args, check):
    table, _ = table_of(canary_app, dataset, args)
    everything, _ = table_of(canary_app, dataset)
    assert 0 < len(table) < len(everything)
    assert all(check(r) for r in table.rows)


def test_bbox_filters_every_dataset(canary_app):
    bbox = "4.88,52.36,4.91,52.38"  # around the Dam
    window = shapely.box(4.88, 52.36, 4.91, 52.38)
    for dataset in DATASETS:
        table, _ = table_of(canary_app, dataset, {"bbox": bbox})
        everything, _ = table_of(canary_app, dataset)
        assert 0 < len(table) < len(everything), dataset
        wgs = geo.rfc7946(np.array(table.geoms, dtype=object), precision=0)
        assert shapely.intersects(wgs, window).all(), dataset
    needs, _ = table_of(canary_app, "needs", {"bbox": bbox, "area": "AE02"})
    assert canary_app.canary_ids[0] in needs.ids()


def test_area_filter_on_needs_uses_the_buurten_they_accept(canary_app):
    table, _ = table_of(canary_app, "needs", {"area": "EK03"})
    assert canary_app.canary_ids[1] in table.ids()
    assert canary_app.canary_ids[0] not in table.ids()


@pytest.mark.parametrize(
    ("url", "status", "param"),
    [
        ("/export/people.csv", 404, "dataset"),
        ("/export/needs.xlsx", 404, "format"),
        ("/export/needs", 404, "export"),
        ("/export/properties.geojson?bbox=4.8,52.3,4.9", 400, "bbox"),
        ("/export/needs.csv?bbox=a,b,c,d", 400, "bbox"),
        ("/export/properties.csv?layer=villas", 400, "layer"),
        ("/export/properties.csv?status=verkocht", 400, "status"),
        ("/export/needs.csv?status=beschikbaar", 400, "status"),
        ("/export/areas.csv?area=ZZ99", 400, "area"),
        ("/export/needs.gpkg?layer=kavels", 400, "layer"),
        ("/export/matches.csv?min_score=2", 400, "min_score"),
        ("/export/matches.csv?min_score=x", 400, "min_score"),
        ("/export/areas.csv?colour=red", 400, "colour"),
    ],
)
def test_bad_input_names_the_problem(canary_app, planner, url, status, param):
    response = planner.get(url)
    assert response.status_code == status
    errors = response.get_json()["errors"]
    assert errors.get(param)


def test_access_and_attachment(app, client, login):
    response = client.get("/export/properties.csv")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for role in ("officer", "planner", "admin"):
        login(role)
        response = client.get("/export/properties.csv")
        assert response.status_code == 200, role
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;") and disposition.endswith('.csv"')
        assert response.mimetype == "text/csv"


def test_csv_neutralises_formulas_and_keeps_wkt(app, planner):
    store = get_store(app)
    with store.sessions() as session:
        areas = AreaIndex.from_session(session)
    need = validate_need(
        {
            "initiative": '=HYPERLINK("http://x")',
            "legal_form": "informeel",
            "sector": "overig",
            "contact_name": "X",
            "contact_email": "x@example.org",
            "min_area_m2": 10,
            "max_area_m2": 20,
            "max_rent_eur_month": 100,
            "uses": ["opslag"],
            "areas": ["AE02"],
            "needed_from": "2030-01-01",
        },
        areas=areas,
    )
    with store.session() as session:
        create_need(session, need)
    text = planner.get("/export/needs.csv").data.decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))[:2]
    assert header[-1] == "WKT" and row[-1].startswith("POLYGON ((4.")
    assert row[header.index("initiative")] == '\'=HYPERLINK("http://x")'


def test_cli_writes_the_same_bytes_atomically(canary_app, runner, planner, tmp_path):
    out = tmp_path / "needs.gpkg"
    result = runner.invoke(export_command, ["needs", "-o", str(out), "--filter", "sector=voedsel"])
    assert result.exit_code == 0, result.output
    assert len(pyogrio.read_dataframe(out)) == len(
        table_of(canary_app, "needs", {"sector": "voedsel"})[0]
    )
    out = tmp_path / "props.csv"
    result = runner.invoke(
        export_command, ["properties", "--format", "csv", "-o", str(out), "--area", "A"]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == planner.get("/export/properties.csv?area=A").data
    result = runner.invoke(
        export_command, ["properties", "-o", str(tmp_path / "x.geojson"), "--bbox", "1,2"]
    )
    assert result.exit_code == 2 and "--bbox" in result.output
    assert not (tmp_path / "x.geojson").exists()
    result = runner.invoke(export_command, ["areas", "-o", str(tmp_path / "x.txt")])
    assert result.exit_code == 2 and "--format" in result.output
    result = runner.invoke(export_command, ["nothing", "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 2


def test_query_object_for_needs_defaults_to_every_status(app):
    with get_store(app).sessions() as session:
        areas = AreaIndex.from_session(session)
        assert parse_query("needs", {}, session=session, areas=areas) == ExportQuery(
            dataset="needs"
        )


def test_an_empty_store_exports_empty_files(app, planner, tmp_path):
    for dataset, fmt in itertools.product(DATASETS, FORMATS):
        response = planner.get(f"/export/{dataset}.{fmt}")
        assert response.status_code == 200, (dataset, fmt)
        path = tmp_path / f"{dataset}.{fmt}"
        path.write_bytes(response.data)
        assert len(pyogrio.read_dataframe(path)) == (518 if dataset == "areas" else 0)
