"""The flask commands: init-db, demo (never wipes), setup, create-user, import-layer."""

import json
from pathlib import Path

from sqlalchemy import func, select

from spacematch import get_store
from spacematch.models import (
    Area,
    Layer,
    Need,
    Property,
    User,
)


def count(app, model):
    with get_store(app).sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_init_db_loads_areas_and_keeps_data(app, runner, client):
    client.post("/api/needs", json={})  # nothing stored on error
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "662 areas" in result.output
    assert count(app, Area) == 662


def test_setup_loads_demo_once_and_never_wipes(app, runner):
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    properties, needs = count(app, Property), count(app, Need)
    assert 1400 <= properties <= 1600
    assert 250 <= needs <= 350
    with get_store(app).sessions() as session:
        layers = session.scalars(select(Layer)).all()
        assert {layer.slug for layer in layers} == {
            "bedrijfsruimte",
            "maatschappelijk",
            "ateliers",
            "kavels",
        }
        assert all(layer.is_demo for layer in layers)
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0
    assert "kept" in result.output
    assert (count(app, Property), count(app, Need)) == (properties, needs)
    result = runner.invoke(args=["demo"])
    assert "not loaded" in result.output
    assert count(app, Need) == needs


def test_create_user_with_and_without_password(app, runner):
    result = runner.invoke(
        args=[
            "create-user",
            "Ann@Example.org",
            "--role",
            "officer",
            "--password",
            "long enough, really",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["create-user", "bob@example.org", "--role", "planner"],
        input="secret-pass-phrase\nsecret-pass-phrase\n",
    )
    assert result.exit_code == 0, result.output
    with get_store(app).sessions() as session:
        users = {u.email: u for u in session.scalars(select(User))}
    assert users["ann@example.org"].role == "officer"
    assert users["bob@example.org"].role == "planner"
    assert users["bob@example.org"].password_hash != "secret-pass-phrase"
    result = runner.invoke(
        args=["create-user", "c@example.org", "--role", "officer", "--password", "short"]
    )
    assert result.exit_code != 0


def test_import_layer_refuses_broken_file_and_keeps_old_layer(app, runner, tmp_path):
    def feature(fid, x, area):
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [x, 487375.0]},
            "properties": {
                "id": fid,
                "area_m2": area,
                "rent_eur_m2_year": 50,
                "uses": "kantoor",
                "available_from": "2027-01-01",
            },
        }

    crs = {"type": "name", "properties": {"name": "EPSG:28992"}}
    good = tmp_path / "good.geojson"
    good.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": crs,
                "features": [feature("a", 121394.0, 100), feature("b", 121500.0, 80)],
            }
        )
    )
    result = runner.invoke(args=["import-layer", str(good), "--layer", "test"])
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": crs,
                "features": [
                    feature("a", 121394.0, 100),
                    feature("b", 121500.0, -3),
                    feature("c", 10.0, 50),
                ],
            }
        )
    )
    result = runner.invoke(args=["import-layer", str(bad), "--layer", "test", "--strict"])
    assert result.exit_code != 0
    assert "feature 2" in result.output and "feature 3" in result.output
    assert "outside Amsterdam" in result.output  # --strict: the point far outside is a problem
    result = runner.invoke(args=["import-layer", str(bad), "--layer", "test"])
    assert result.exit_code != 0
    assert "feature 2" in result.output and "feature 3" not in result.output
    with get_store(app).sessions() as session:
        rows = session.scalars(select(Property).order_by(Property.id)).all()
    assert [(r.id, r.area_m2) for r in rows] == [("test.a", 100), ("test.b", 80)]


def test_import_layer_prints_the_report(app, runner, tmp_path):
    rent = tmp_path / "rent.toml"
    rent.write_text('extends = "amsterdam-vastgoed"\n[defaults]\nrent_eur_m2_year = 60.0\n')
    v2 = Path(__file__).parent / "fixtures" / "layers" / "vastgoed_v2.geojson"
    result = runner.invoke(
        args=["import-layer", str(v2), "--layer", "vastgoed", "--mapping", str(rent)]
    )
    assert result.exit_code == 0, result.output
    assert "Layer 'vastgoed': 12 properties imported" in result.output
    assert "17 features: 9 offered, 2 let (verhuurd), 1 of unknown kind, 5 skipped" in result.output
    assert "1 snapped to the nearest buurt, 2 outside Amsterdam" in result.output
    assert "skipped: Woning 2, Garagebox 1, Parkeerplaats 1, Woonruimte 1" in result.output
    assert "unknown kind: Kiosk 1" in result.output


def test_the_cli_offers_every_preset():
    from spacematch.ingest.fetch import SOURCES
    from spacematch.ingest.presets import PRESETS
    from spacematch.web.cli import PRESET_NAMES

    assert PRESET_NAMES == list(PRESETS) == list(SOURCES)


def test_import_layer_has_its_own_file_limit(app, runner, tmp_path, monkeypatch):
    """The CLI imports a city's export: 1 GB by default (the web upload keeps 100 MB), and
    --max-mb sets it."""
    from spacematch.ingest import importer
    from spacematch.ingest.limits import CLI_MAX_FILE_BYTES, MAX_FILE_BYTES

    path = tmp_path / "one.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:28992"}},
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [121394.0, 487375.0]},
                        "properties": {"id": "a", "area_m2": 50, "rent_eur_m2_year": 50,
                                       "uses": "kantoor"},
                    }
                ],
            }
        )
    )  # fmt: skip
    result = runner.invoke(args=["import-layer", str(path), "--layer", "t", "--max-mb", "0.0001"])
    assert result.exit_code != 0
    assert "more than the limit of 100 bytes" in result.output
    seen = []
    real = importer.import_layer
    monkeypatch.setattr(
        importer, "import_layer", lambda *a, **kw: seen.append(kw["max_bytes"]) or real(*a, **kw)
    )
    result = runner.invoke(args=["import-layer", str(path), "--layer", "t"])
    assert result.exit_code == 0, result.output
    assert seen == [CLI_MAX_FILE_BYTES] and CLI_MAX_FILE_BYTES > MAX_FILE_BYTES
    assert count(app, Property) == 1
