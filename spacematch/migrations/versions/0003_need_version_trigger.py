"""Triggers on ``need`` that move store_state.data_version with every insert, update or delete.

Why in the database: a need submission is then a single INSERT statement that the database runs
as one transaction, trigger included (one round trip on PostgreSQL instead of four: BEGIN,
INSERT, UPDATE store_state, COMMIT), and no writer - a view, the CLI, a script or a manual
UPDATE - can change needs without the matching indexes noticing. Property writes still bump
both versions in Python (``db.bump_data_version``): an import replaces a whole layer in one
transaction and bumps once. The DDL, and why ``upgrade()`` re-checks it, is in
``spacematch/migrations/triggers.py``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

from spacematch.migrations import triggers

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    triggers.create(op.get_bind())


def downgrade() -> None:
    triggers.drop(op.get_bind())
