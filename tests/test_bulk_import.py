"""The bulk paths of the layer import and of the index build store and read exactly what the
ORM would: one layer with every kind of value is written by ``import_layer`` (COPY on
PostgreSQL, the driver's executemany on SQLite) and read back through the ORM, and
``MatchIndex.from_store`` (plain cursor rows into arrays) must build the same index as one
built from those ORM objects. Runs on SQLite, and on PostgreSQL when
``SPACEMATCH_TEST_DATABASE_URL`` is set."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from sqlalchemy import select

from spacematch.ingest import importer
from spacematch.ingest.importer import import_layer
from spacematch.matching.index import MatchIndex, PropertyArrays
from spacematch.models import Property

DAM_RD = (121394.0, 487375.0)
UTRECHT_RD = (136000.0, 456000.0)  # far outside every Amsterdam buurt
PLOT = shapely.box(120300, 487800, 120320, 487830)  # 20 x 30 m in the Jordaan


def _feature(fid: str, geometry: shapely.Geometry, **props: object) -> dict:
    base = {"id": fid, "rent_eur_m2_year": 40, "uses": "atelier"}
    return {
        "type": "Feature",
        "properties": {**base, **props},
        "geometry": json.loads(shapely.to_geojson(geometry)),
    }


def _layer(path: Path) -> Path:
    features = [
        _feature("plain", shapely.Point(*DAM_RD), area_m2=50),
        _feature(
            "full",
            shapely.Point(DAM_RD[0] + 300, DAM_RD[1] + 200),
            area_m2=120.5,
            name="Werkplaats 'De Hoek'\t(tab)",
            address="Dam 1\\2",
            uses="kantoor,horeca",
            available_from="2027-03-01",
            available_until="2029-02-28",
            accessible="ja",
            status="verhuurd",
            department="Vastgoed",
            contact="vastgoed@example.org",
        ),
        _feature("plot", PLOT, accessible=False, rent_eur_m2_year=0),
        _feature("away", shapely.Point(*UTRECHT_RD), area_m2=80, uses="opslag"),
    ]
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:28992"}},
        "features": features,
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _stored(store) -> dict[str, Property]:
    with store.sessions() as session:
        found = session.scalars(select(Property).order_by(Property.id)).all()
    return {p.source_id: p for p in found}


def test_bulk_rows_read_back_as_the_orm_types(store, tmp_path, area_index, monkeypatch):
    monkeypatch.setattr(importer, "INSERT_BATCH", 3)  # several batches, one short
    result = import_layer(store, _layer(tmp_path / "all.geojson"), layer="bulk", areas=area_index)
    assert result.count == 4
    got = _stored(store)
    today = dt.date.today()
    plain, full, plot, away = got["plain"], got["full"], got["plot"], got["away"]
    assert plain.id == "bulk.plain" and plain.layer == "bulk"
    assert (plain.available_from, plain.available_until) == (today, None)
    assert plain.accessible is False and plain.outside_m is None
    assert (plain.name, plain.address, plain.status) == ("", "", "beschikbaar")
    assert plain.geom_type == "Point" and plain.buurt_code
    assert shapely.from_wkb(plain.geom).equals(shapely.Point(*DAM_RD))
    assert (plain.x, plain.y) == DAM_RD
    assert full.available_from == dt.date(2027, 3, 1)
    assert full.available_until == dt.date(2029, 2, 28)
    assert full.accessible is True and full.status == "verhuurd"
    assert full.name == "Werkplaats 'De Hoek'\t(tab)" and full.address == "Dam 1\\2"
    assert (full.uses, full.area_m2, full.department) == ("kantoor,horeca", 120.5, "Vastgoed")
    assert plot.geom_type == "Polygon" and plot.area_m2 == 600.0 and plot.rent_eur_m2_year == 0
    assert (plot.minx, plot.miny, plot.maxx, plot.maxy) == PLOT.bounds
    assert shapely.from_wkb(plot.geom).equals(PLOT)
    assert away.buurt_code == "" and away.outside_m is not None and away.outside_m > 25
    assert result.report is not None
    assert [r[2] for r in result.report.rows] == ["imported", "let", "imported", "imported"]
    assert [r[4] for r in result.report.rows] == ["inside", "inside", "inside", "outside"]


def test_index_from_store_equals_the_one_from_orm_objects(store, tmp_path, area_index):
    import_layer(store, _layer(tmp_path / "all.geojson"), layer="bulk", areas=area_index)
    props = list(_stored(store).values())
    expected = MatchIndex.from_arrays(
        PropertyArrays(
            ids=[p.id for p in props],
            x=[p.x for p in props],
            y=[p.y for p in props],
            minx=[p.minx for p in props],
            miny=[p.miny for p in props],
            maxx=[p.maxx for p in props],
            maxy=[p.maxy for p in props],
            area_m2=[p.area_m2 for p in props],
            rent_eur_m2_year=[p.rent_eur_m2_year for p in props],
            uses=[p.uses for p in props],
            available_from=[p.available_from for p in props],
            available_until=[p.available_until for p in props],
            accessible=[p.accessible for p in props],
            status=[p.status for p in props],
            buurt_code=[p.buurt_code for p in props],
        ),
        [],
        area_index,
    )
    index = MatchIndex.from_store(store, area_index)
    assert index.n == expected.n == 4
    for name in (
        "ids", "x", "y", "bounds", "area", "rent_m2_year", "rent", "uses", "avail_from",
        "avail_until", "accessible", "status", "available", "buurt", "outside",
    ):  # fmt: skip
        np.testing.assert_array_equal(getattr(index, name), getattr(expected, name), err_msg=name)
    assert (
        int(index.avail_until[index.ids.tolist().index("bulk.full")])
        == (dt.date(2029, 2, 28) - dt.date(1970, 1, 1)).days
    )


def test_index_from_an_empty_store(store, area_index):
    assert MatchIndex.from_store(store, area_index).n == 0


def _indexes(store) -> set[str]:
    from sqlalchemy import inspect

    return {i["name"] for i in inspect(store.engine).get_indexes("property")}


def test_sqlite_index_rebuild_keeps_indexes_and_rolls_back(
    store, tmp_path, area_index, monkeypatch
):
    """A big import into a (nearly) empty table rebuilds the SQLite indexes after the insert;
    they are all there afterwards, and a failure rolls back the rows and the indexes alike."""
    from spacematch.ingest import bulk

    before = _indexes(store)
    assert "ix_property_bounds" in before
    monkeypatch.setattr(bulk, "SQLITE_REBUILD_MIN_ROWS", 1)
    dropped: list[list[str]] = []
    real_drop = bulk._drop_indexes
    monkeypatch.setattr(
        bulk, "_drop_indexes", lambda *a: dropped.append(real_drop(*a)) or dropped[-1]
    )
    path = _layer(tmp_path / "all.geojson")
    import_layer(store, path, layer="bulk", areas=area_index)
    assert _indexes(store) == before
    if store.is_sqlite:  # PostgreSQL keeps its indexes
        assert len(dropped) == 1 and len(dropped[0]) == len(before)
    else:
        assert dropped == []
    assert set(_stored(store)) == {"plain", "full", "plot", "away"}

    def boom(session):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "bump_data_version", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        import_layer(store, _layer(tmp_path / "again.geojson"), layer="second", areas=area_index)
    assert _indexes(store) == before
    assert set(_stored(store)) == {"plain", "full", "plot", "away"}
