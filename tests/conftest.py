"""Fixtures: ``app``, ``client``, ``runner`` on a fresh store with the real areas, and
``seeded_app`` with the shipped demo loaded.

Every store-backed test runs on SQLite, and again on PostgreSQL when
``SPACEMATCH_TEST_DATABASE_URL`` is set (CI sets it). The areas are loaded once per session into
a template: SQLite tests copy the template file, PostgreSQL tests empty every other table.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from spacematch import create_app, get_store
from spacematch.db import Store
from spacematch.domain.areas import load_areas, read_shipped_areas
from spacematch.models import (
    AllocationRound,
    Interest,
    Introduction,
    Layer,
    Need,
    NeedMail,
    Outbox,
    Property,
    RoundAward,
    RoundSpace,
    StatusEvent,
    StoreState,
    User,
)

PG_URL = os.environ.get("SPACEMATCH_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(scope="session")
def area_records() -> list[dict]:
    return read_shipped_areas()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, area_records) -> Path:
    path = tmp_path_factory.mktemp("template") / "areas.sqlite3"
    store = Store(f"sqlite:///{path}")
    store.create_schema()
    with store.session() as session:
        load_areas(session, area_records)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


@pytest.fixture(scope="session")
def pg_store(area_records) -> Iterator[Store]:
    store = Store(PG_URL)
    from spacematch.models import Base

    Base.metadata.drop_all(store.engine)
    store.create_schema()
    with store.session() as session:
        load_areas(session, area_records)
    yield store
    store.dispose()


def _empty_pg(store: Store) -> None:
    with store.session() as session:
        for model in (
            RoundAward, RoundSpace, AllocationRound, Outbox, Introduction, Interest, NeedMail,
            StatusEvent, Property, Layer, Need, User,
        ):  # fmt: skip
            session.execute(delete(model))
        session.execute(update(StoreState).values(data_version=0))


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path, sqlite_template) -> str:
    if request.param == "sqlite":
        path = tmp_path / "spacematch.sqlite3"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    store = request.getfixturevalue("pg_store")
    _empty_pg(store)
    return PG_URL


def make_app(url: str, tmp_path: Path, **extra):
    config = {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "TILES_URL": "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        **extra,
    }
    app = create_app(config)
    app.instance_path = str(tmp_path / "instance")
    return app


@pytest.fixture(scope="session")
def area_index(area_records):
    """The real areas in memory, built once per session."""
    from spacematch.domain.areas import AreaIndex

    return AreaIndex.from_records(area_records)


@pytest.fixture
def store(store_url) -> Iterator[Store]:
    """A Flask-free store with the areas loaded and nothing else."""
    store = Store(store_url)
    yield store
    store.dispose()


@pytest.fixture
def app(store_url, tmp_path):
    app = make_app(store_url, tmp_path)
    yield app
    get_store(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seeded_app(app):
    """The app with the shipped demo layers and needs loaded."""
    from spacematch.ingest.demo import load_demo

    load_demo(get_store(app))
    return app


@pytest.fixture
def login(client, app):
    """Log the test client in with a new account of the given role."""
    from spacematch.domain.accounts import create_user

    def do(role: str = "officer", email: str | None = None) -> str:
        email = email or f"{role}@example.org"
        with get_store(app).session() as session:
            create_user(session, email=email, role=role, password="correct horse")
        response = client.post("/login", data={"email": email, "password": "correct horse"})
        assert response.status_code == 302, response.data
        return email

    return do
