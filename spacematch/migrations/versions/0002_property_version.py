"""store_state.property_version: bumped by writes to properties only.

Lets an app process keep the property side of its matching index while only needs change (a
burst of submissions), instead of rebuilding it after every write. Existing stores start at 0,
which is as good as any value: processes compare versions for equality only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A store adopted from create_all by a newer model may have the column already.
    if not context.is_offline_mode():
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("store_state")}
        if "property_version" in columns:
            return
    with op.batch_alter_table("store_state") as batch:
        batch.add_column(
            sa.Column("property_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("store_state") as batch:
        batch.drop_column("property_version")
