"""Schema migrations (Alembic), shipped inside the package so any install can upgrade its store.

:func:`upgrade` is what ``Store.create_schema()`` -- and so ``init-db``, ``setup`` and every
command that prepares the store -- runs. It brings any store to the head revision without losing
data:

- an empty database gets every revision applied in order;
- a database at an older revision gets the missing revisions;
- a database made before migrations existed (by ``metadata.create_all``: the tables but no
  ``alembic_version``) is *adopted*: any baseline table it lacks is created, its existing tables
  are kept as they are, it is stamped with the baseline revision and then upgraded as usual;
- a version stamp without any of the store's tables (the tables were dropped behind Alembic's
  back, as a test reset does) is cleared, and the schema is built afresh.

The whole upgrade is one transaction, on SQLite too (its driver otherwise commits DDL as it
goes; a dedicated engine issues ``BEGIN IMMEDIATE``), so a crash mid-upgrade leaves the store at
its old revision. On PostgreSQL an advisory lock makes concurrent upgrades wait for each other;
SQLite's ``BEGIN IMMEDIATE`` does the same.

Authoring a revision (from the repository root, which holds ``alembic.ini``)::

    alembic -x url=sqlite:///instance/spacematch.sqlite3 revision --autogenerate -m "what"

then review the generated file under ``spacematch/migrations/versions/``; SQLite changes are
rendered as batch operations (``render_as_batch``), so the same script runs on both stores. A
revision that rebuilds the ``need`` table (a batch alter on SQLite) drops its triggers, which
autogenerate cannot see: call ``triggers.create(op.get_bind())`` at the end of such a revision
(``upgrade()`` restores them anyway, and says so).
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.pool import NullPool

from spacematch.migrations import triggers
from spacematch.models import Base

# Alembic is imported where it is used: a store already at the head revision (every CLI command
# after the first, e.g. `create-user`) is recognised without it (``shipped_head``), which saves
# the command ~0.15 s of imports.
if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory


class Store(Protocol):
    """What migrations need of ``spacematch.db.Store`` (which calls them; so no import of it)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def url(self) -> str: ...

    @property
    def is_sqlite(self) -> bool: ...


__all__ = [
    "BASELINE",
    "alembic_config",
    "current_revision",
    "head",
    "known_revisions",
    "migration_engine",
    "upgrade",
]

HERE = Path(__file__).resolve().parent
BASELINE = "0001"
# pg_advisory_xact_lock key: "spacematch schema" (any constant shared by every process will do).
PG_LOCK_KEY = 0x5ACE_3A7C_0001


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic config for the shipped scripts; ``connection`` is used as is when given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision the shipped scripts know."""
    revision = _scripts().get_current_head()
    assert revision is not None
    return revision


def known_revisions() -> set[str | None]:
    """Every revision the shipped scripts know, and None (a store not yet migrated)."""
    return {None} | {script.revision for script in _scripts().walk_revisions()}


def current_revision(connection: Connection) -> str | None:
    """The revision a database is stamped with (None: not under migration control)."""
    from alembic.runtime.migration import MigrationContext

    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def migration_engine(store: Store) -> tuple[Engine, bool]:
    """The engine migrations run on, and whether it is a dedicated one to dispose of.

    PostgreSQL runs DDL in transactions natively, so the store's engine serves. For SQLite a
    dedicated engine takes over transaction control from the driver (which would otherwise
    commit before each DDL statement) and opens every transaction with ``BEGIN IMMEDIATE``; it
    leaves ``foreign_keys`` off, as batch table rebuilds need.
    """
    if not store.is_sqlite:
        return store.engine, False
    engine = create_engine(
        store.url, poolclass=NullPool, connect_args={"timeout": 30, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine, True


def version_folders() -> tuple[Path, ...]:
    """The folders of the revision scripts (Alembic's default under ``script_location``)."""
    return (HERE / "versions",)


def shipped_head() -> str | None:
    """See ``_chain_head``: for the folders the scripts are in."""
    return _chain_head(version_folders())


@lru_cache(maxsize=4)
def _chain_head(folders: tuple[Path, ...]) -> str | None:
    """The head revision read from the scripts' ``revision``/``down_revision`` lines, without
    Alembic; None when the history is anything but one plain chain (a merge, a branch label, a
    dependency, a non-literal value): then only Alembic's answer (``head``) counts."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (p for folder in folders for p in sorted(folder.glob("*.py"))):
        values: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):  # ... stands for "not a literal"
                    value = node.value
                    values[target.id] = value.value if isinstance(value, ast.Constant) else ...
        if "revision" not in values:
            continue
        revision, parent = values["revision"], values.get("down_revision", ...)
        if not isinstance(revision, str) or not (parent is None or isinstance(parent, str)):
            return None
        if any(values.get(key) is not None for key in ("branch_labels", "depends_on")):
            return None
        revisions.add(revision)
        if parent is not None:
            parents.add(parent)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def _stamp(connection: Connection) -> str | None:
    """The one revision in ``alembic_version`` (None: no table, no row or several rows)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def upgrade(store: Store) -> str:
    """Bring the store's schema to the head revision; returns what was done, in a few words."""
    quick = shipped_head()
    with store.engine.connect() as connection:  # the common case, without taking a write lock
        if (
            quick is not None
            and _stamp(connection) == quick
            and _has_tables(connection)
            and triggers.present(connection)
        ):
            return f"up to date (revision {quick})"
    target = head()
    with store.engine.connect() as connection:
        if (
            current_revision(connection) == target
            and _has_tables(connection)
            and triggers.present(connection)
        ):
            return f"up to date (revision {target})"
    engine, dedicated = migration_engine(store)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            return _upgrade(connection, target)
    finally:
        if dedicated:
            engine.dispose()


def _has_tables(connection: Connection) -> bool:
    return bool(set(inspect(connection).get_table_names()) & set(Base.metadata.tables))


def _upgrade(connection: Connection, target: str) -> str:
    from alembic import command

    cfg = alembic_config(connection)
    before = current_revision(connection)
    if before is not None and not _has_tables(connection):
        connection.execute(text("DELETE FROM alembic_version"))  # a stamp with no tables
        before = None
    if before == target:
        if triggers.present(connection):
            return f"up to date (revision {target})"
        triggers.create(connection)  # dropped behind our back, e.g. by a table rebuild
        return f"up to date (revision {target}); need triggers restored"
    done = []
    if before is None and _has_tables(connection):
        cfg.attributes["adopt"] = True
        command.upgrade(cfg, BASELINE)
        cfg.attributes["adopt"] = False
        done.append(f"existing store adopted at revision {BASELINE}")
        before = BASELINE
    command.upgrade(cfg, "head")
    if before != target:
        how = "created at" if before is None else f"upgraded from {before} to"
        done.append(f"{how} revision {target}")
    return "; ".join(done)
