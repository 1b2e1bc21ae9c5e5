"""Alembic migrations: ``alembic upgrade head`` builds exactly the models' schema, an existing
``create_all`` store is adopted with its data, and an upgrade keeps data or changes nothing.

Each test runs on a fresh SQLite file, and on a fresh PostgreSQL schema (created in the database
of ``SPACEMATCH_TEST_DATABASE_URL`` and dropped afterwards) when that variable is set.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from builders import pg_schema, psycopg_url
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    create_engine,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url

import spacematch.migrations as migrations
from spacematch.db import Store
from spacematch.migrations import triggers
from spacematch.models import (
    Base,
    Layer,
    Need,
    StoreState,
)

PG_URL = os.environ.get("SPACEMATCH_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path) -> Iterator[str]:
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite3'}"
        return
    with pg_schema(PG_URL, "test_migrations") as url:
        yield url


@pytest.fixture
def store(empty_url) -> Iterator[Store]:
    store = Store(empty_url)
    yield store
    store.dispose()


def schema_diffs(store: Store) -> list:
    """What autogenerate would change to make the database match the models ([] = identical)."""
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, Base.metadata)


def stamped(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return migrations.current_revision(conn)


def add_need(store: Store, initiative: str = "Buurtkeuken De Pijp") -> int:
    """A need written with the baseline's columns only (plain SQL), so it can be stored before an
    upgrade adds need columns the current model has."""
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO need (token, initiative, legal_form, sector, contact_name, "
                "contact_email, description, min_area_m2, max_area_m2, max_rent_eur_month, uses, "
                "areas, needed_from, min_months, accessible, status, is_demo, created_at, "
                "updated_at) VALUES (:token, :initiative, 'cooperatie', 'voedsel', 'A. de Vries', "
                "'a@example.org', '', 50, 120, 900, 'horeca', 'K', :needed_from, 12, :f, 'open', "
                ":f, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {
                "token": uuid.uuid4().hex,
                "initiative": initiative,
                "needed_from": dt.date(2027, 1, 1),
                "f": False,
            },
        )
        return int(
            conn.execute(
                text("SELECT max(id) FROM need WHERE initiative = :i"), {"i": initiative}
            ).scalar_one()
        )


def test_alembic_upgrade_head_on_an_empty_database_yields_exactly_the_models(store, empty_url):
    command.upgrade(migrations.alembic_config(url=empty_url), "head")  # as `alembic upgrade head`
    assert schema_diffs(store) == []
    assert stamped(store) == migrations.head()
    tables = set(inspect(store.engine).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


def test_every_revision_downgrades_and_upgrades_again(store, empty_url):
    config = migrations.alembic_config(url=empty_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert schema_diffs(store) == []


def test_the_quick_head_is_alembics_head(tmp_path, monkeypatch):
    """``upgrade``'s Alembic-free check of an up-to-date store reads the same head as Alembic, and
    gives up (None) on a history that is not one plain chain."""
    assert migrations.shipped_head() == migrations.head()
    shipped = migrations.HERE / "versions"

    def head_with(name: str, extra: str) -> str | None:
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"9998_{name}.py").write_text(extra, encoding="utf-8")
        monkeypatch.setattr(migrations, "version_folders", lambda: (shipped, folder))
        return migrations.shipped_head()

    head = migrations.head()
    assert head_with("next", f'revision = "9998"\ndown_revision = "{head}"\n') == "9998"
    assert head_with("side", 'revision = "9998"\ndown_revision = "0001"\n') is None
    assert head_with("merge", 'revision = "9998"\ndown_revision = ("0001", "0002")\n') is None
    assert (
        head_with("label", f'revision = "9998"\ndown_revision = "{head}"\nbranch_labels = ("x",)\n')
        is None
    )


def test_create_schema_migrates_an_empty_store_and_is_idempotent(store):
    assert store.create_schema() == f"created at revision {migrations.head()}"
    assert schema_diffs(store) == []
    assert store.data_version() == 0
    assert store.create_schema().startswith("up to date")
    with store.sessions() as session:
        assert session.scalar(select(func.count()).select_from(StoreState)) == 1


def legacy_metadata() -> MetaData:
    """The schema ``create_all`` made before migrations existed (commit 480af97): today's
    models without ``store_state.property_version``."""
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        if table.name != "store_state":
            table.to_metadata(metadata)
    Table(
        "store_state",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("data_version", Integer, nullable=False),
    )
    return metadata


@pytest.mark.parametrize("made_by", ["previous models", "current models"])
def test_a_store_made_by_create_all_is_adopted_with_its_data(store, made_by):
    metadata = legacy_metadata() if made_by == "previous models" else Base.metadata
    metadata.create_all(store.engine)  # what create_schema did before migrations existed
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO store_state (id, data_version) VALUES (1, 7)"))
    need_id = add_need(store)

    assert store.create_schema() == (
        f"existing store adopted at revision {migrations.BASELINE}; "
        f"upgraded from {migrations.BASELINE} to revision {migrations.head()}"
    )
    assert stamped(store) == migrations.head()
    assert schema_diffs(store) == []
    assert store.versions() == (7, 0)
    with store.sessions() as session:
        assert session.get(Need, need_id).initiative == "Buurtkeuken De Pijp"


def test_upgrading_from_the_baseline_keeps_every_row(store, empty_url):
    command.upgrade(migrations.alembic_config(url=empty_url), migrations.BASELINE)
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO store_state (id, data_version) VALUES (1, 41)"))
    ids = [add_need(store, f"Initiatief {i}") for i in range(10)]

    assert store.create_schema() == (
        f"upgraded from {migrations.BASELINE} to revision {migrations.head()}"
    )
    assert schema_diffs(store) == []
    assert store.versions() == (41, 0)
    with store.sessions() as session:
        rows = session.execute(select(Need.id, Need.initiative).order_by(Need.id)).all()
    assert rows == [(i, f"Initiatief {n}") for n, i in enumerate(ids)]


def test_adoption_creates_the_tables_an_older_create_all_store_lacks(store):
    metadata = legacy_metadata()
    tables = [t for name, t in metadata.tables.items() if name != "status_event"]
    metadata.create_all(store.engine, tables=tables)
    need_id = add_need(store)

    store.create_schema()
    assert "status_event" in inspect(store.engine).get_table_names()
    assert schema_diffs(store) == []
    with store.sessions() as session:
        assert session.get(Need, need_id) is not None


def test_a_version_stamp_without_tables_is_rebuilt(store):
    store.create_schema()
    Base.metadata.drop_all(store.engine)  # leaves alembic_version behind, as a test reset does
    assert stamped(store) == migrations.head()

    store.create_schema()
    assert schema_diffs(store) == []
    assert store.data_version() == 0


# --- upgrades beyond the baseline, with revisions written here -----------------------------------

ADD_COLUMN = """
import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("need") as batch:  # SQLite: copies the table, then swaps it in
        batch.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
    {fail}


def downgrade():
    with op.batch_alter_table("need") as batch:
        batch.drop_column("note")
"""


@pytest.fixture
def extra_revision(tmp_path, monkeypatch):
    """Add a revision 9001 (a new ``need.note`` column) after the shipped head; ``fail=True``
    makes it raise after altering the table, as a crash mid-upgrade would."""

    def add(*, fail: bool = False) -> str:
        folder = tmp_path / "extra_versions"
        folder.mkdir()
        body = ADD_COLUMN.format(
            down=migrations.head(), fail="raise RuntimeError('boom')" if fail else "pass"
        )
        (folder / "9001_note.py").write_text(body, encoding="utf-8")
        shipped = Path(migrations.__file__).parent / "versions"
        original = migrations.alembic_config

        def config(*args, **kwargs):
            cfg = original(*args, **kwargs)
            cfg.set_main_option("path_separator", "os")
            cfg.set_main_option("version_locations", os.pathsep.join([str(shipped), str(folder)]))
            return cfg

        monkeypatch.setattr(migrations, "alembic_config", config)
        monkeypatch.setattr(migrations, "version_folders", lambda: (shipped, folder))
        migrations._scripts.cache_clear()
        return "9001"

    yield add
    migrations._scripts.cache_clear()


def test_an_upgrade_keeps_every_row(store, extra_revision):
    store.create_schema()
    before = migrations.head()
    ids = [add_need(store, f"Initiatief {i}") for i in range(25)]
    with store.session() as session:
        session.add(Layer(slug="kavels", title="Kavels"))

    revision = extra_revision()
    assert store.create_schema() == f"upgraded from {before} to revision {revision}"
    assert stamped(store) == revision
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, initiative, note FROM need ORDER BY id")).all()
        assert conn.execute(text("SELECT slug FROM layer")).scalars().all() == ["kavels"]
    assert [r.id for r in rows] == ids
    assert [r.initiative for r in rows] == [f"Initiatief {i}" for i in range(25)]
    assert {r.note for r in rows} == {""}


def test_a_failing_upgrade_changes_nothing(store, extra_revision):
    """The whole upgrade is one transaction, on SQLite too: the table copy is rolled back."""
    store.create_schema()
    before = migrations.head()
    ids = [add_need(store, f"Initiatief {i}") for i in range(5)]
    extra_revision(fail=True)

    with pytest.raises(RuntimeError, match="boom"):
        store.create_schema()
    assert stamped(store) == before
    columns = {c["name"] for c in inspect(store.engine).get_columns("need")}
    assert "note" not in columns
    with store.sessions() as session:
        assert session.scalars(select(Need.id).order_by(Need.id)).all() == ids


def test_the_need_triggers_follow_the_revisions_and_are_restored(store, empty_url):
    def has_triggers() -> bool:
        with store.engine.connect() as conn:
            return triggers.present(conn)

    config = migrations.alembic_config(url=empty_url)
    command.upgrade(config, "head")
    assert has_triggers()
    command.downgrade(config, "0002")
    assert not has_triggers()
    assert store.create_schema() == f"upgraded from 0002 to revision {migrations.head()}"
    assert has_triggers()
    with store.engine.begin() as conn:
        triggers.drop(conn)  # what a revision rebuilding the need table would do
    assert store.create_schema().endswith("need triggers restored")
    before = store.data_version()
    add_need(store)
    assert store.data_version() == before + 1


def test_a_writer_with_another_search_path_moves_the_right_store(store, empty_url):
    """PostgreSQL: the trigger names its own schema's store_state, whatever the writer's path."""
    if store.is_sqlite:
        pytest.skip("schemas are PostgreSQL's")
    store.create_schema()
    need_id = add_need(store)
    before = store.data_version()
    schema = make_url(empty_url).query["options"].split("=", 1)[1]
    other = create_engine(psycopg_url(PG_URL))  # the database's default search_path
    try:
        with other.begin() as conn:
            conn.execute(text("SET LOCAL search_path TO pg_catalog"))
            conn.execute(
                text(f'UPDATE "{schema}".need SET description = :d WHERE id = :id'),
                {"d": "x", "id": need_id},
            )
            conn.execute(text(f'TRUNCATE "{schema}".need CASCADE'))
    finally:
        other.dispose()
    assert store.data_version() == before + 2
