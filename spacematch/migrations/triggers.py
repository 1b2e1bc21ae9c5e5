"""The database triggers that move ``store_state.data_version`` whenever needs change.

Created by revision 0003 and checked by every ``upgrade()`` (so by ``init-db`` and ``setup``):
a later revision that rebuilds the ``need`` table (Alembic's batch mode on SQLite copies a table
without its triggers) would otherwise drop them silently, and the matching indexes would then
miss need writes. Triggers are invisible to autogenerate, hence this module.

PostgreSQL: one statement-level trigger for INSERT, UPDATE, DELETE and TRUNCATE (a statement
that touches no row bumps too: one rebuild too many, never one too few). Its function names
``store_state`` with the schema it was created in, so a writer with another ``search_path``
bumps the right store. SQLite: one row trigger per event (SQLite has no statement triggers).

Locking: the bump takes ``store_state``'s row lock until the transaction ends, so that row is
the last lock any transaction takes: write needs before bumping properties (the ORM flushes
need changes before ``bump_data_version``'s UPDATE), and change several existing needs in one
statement rather than one by one, or two such transactions can deadlock on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

BUMP = "UPDATE {table} SET data_version = data_version + 1 WHERE id = 1"
PG_FUNCTION = "spacematch_need_changed"
PG_TRIGGER = "need_changed"
SQLITE_TRIGGERS = {"need_inserted": "INSERT", "need_updated": "UPDATE", "need_deleted": "DELETE"}


def present(connection: Connection) -> bool:
    """Whether the ``need`` table carries every trigger."""
    if connection.dialect.name == "postgresql":
        found = connection.execute(
            text(
                "SELECT count(*) FROM pg_trigger"
                " WHERE tgrelid = to_regclass('need') AND tgname = :name"
            ),
            {"name": PG_TRIGGER},
        ).scalar_one()
        return found == 1
    names = connection.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'need'")
    ).scalars()
    return set(SQLITE_TRIGGERS) <= set(names)


def create(connection: Connection) -> None:
    """Create (or re-create) the triggers; safe to run again."""
    if connection.dialect.name == "postgresql":
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        table = connection.dialect.identifier_preparer.quote_identifier(schema) + ".store_state"
        connection.execute(
            text(
                f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql"
                f" AS $$ BEGIN {BUMP.format(table=table)}; RETURN NULL; END $$"
            )
        )
        connection.execute(text(f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON need"))
        connection.execute(
            text(
                f"CREATE TRIGGER {PG_TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON need"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
            )
        )
        return
    for name, event in SQLITE_TRIGGERS.items():
        connection.execute(
            text(
                f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON need"
                f" BEGIN {BUMP.format(table='store_state')}; END"
            )
        )


def drop(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON need"))
        connection.execute(text(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()"))
        return
    for name in SQLITE_TRIGGERS:
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
