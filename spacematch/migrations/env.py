"""Alembic environment: the app's store URL, SQLite as batch operations, PostgreSQL as is.

The URL comes from, first to last: a connection handed over by :func:`spacematch.migrations.upgrade`
(the usual way, through ``init-db`` / ``setup``); ``-x url=...`` on the alembic command line;
``sqlalchemy.url`` in the config; else the app's own ``DATABASE_URL`` (``instance/config.py``,
``SPACEMATCH_DATABASE_URL``, or the default SQLite file).
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from spacematch.models import Base

config = context.config
target_metadata = Base.metadata
if config.config_file_name is not None:  # the alembic command line: log what it does
    fileConfig(config.config_file_name)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        from spacematch import create_app

        url = create_app().config["DATABASE_URL"]
    from spacematch.db import Store

    store = Store(url)
    try:
        return store.url  # normalised: postgresql:// means psycopg 3
    finally:
        store.dispose()


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        **kwargs,
    )


def _run(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    url = _url()
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from spacematch.db import Store
    from spacematch.migrations import migration_engine

    store = Store(_url())
    engine, dedicated = migration_engine(store)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        if dedicated:
            engine.dispose()
        store.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
