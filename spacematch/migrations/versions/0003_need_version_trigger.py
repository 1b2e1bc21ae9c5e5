"""Triggers on ``need`` that move store_state.data_version with every insert, update or delete.

Why in the database: a need submission is then a single INSERT statement that the database runs
as one transaction, trigger included (one round trip on PostgreSQL instead of four: BEGIN,
INSERT, UPDATE store_state, COMMIT), and no writer - a view, the CLI, a script or a manual
UPDATE - can change needs without the matching indexes noticing. Property writes still bump
both versions in Python (``db.bump_data_version``): an import replaces a whole layer in one
transaction and bumps once.

PostgreSQL fires the trigger once per statement; SQLite has row triggers only (a demo load of
300 needs bumps 300 times, in one transaction: nothing to notice).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BUMP = "UPDATE store_state SET data_version = data_version + 1 WHERE id = 1"
EVENTS = ("insert", "update", "delete")


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION spacematch_need_changed() RETURNS trigger"
            f" LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER need_changed AFTER INSERT OR UPDATE OR DELETE ON need"
            " FOR EACH STATEMENT EXECUTE FUNCTION spacematch_need_changed()"
        )
        return
    for event in EVENTS:
        op.execute(f"CREATE TRIGGER need_{event}d AFTER {event.upper()} ON need BEGIN {BUMP}; END")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS need_changed ON need")
        op.execute("DROP FUNCTION IF EXISTS spacematch_need_changed()")
        return
    for event in EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS need_{event}d")
