"""user_account.session_version: a login's sessions end when it moves.

Sessions live in the signed cookie only, so nothing on the server could end one: a copied
cookie stayed valid after logout. Every session now carries the account's session version, the
user loader compares it on every request, and logout, a password change, deactivation and
``flask end-sessions`` move it. Existing accounts start at 0; cookies made before this revision
carry no version and are refused (everyone logs in once more).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A store adopted from create_all by a newer model may have the column already.
    if not context.is_offline_mode():
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("user_account")}
        if "session_version" in columns:
            return
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("session_version")
