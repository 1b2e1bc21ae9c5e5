"""Whole-city imports: status ``verhuurd``, BAG ids, kind, distance outside the city, report.

``property.status`` is a plain string column, so the new status needs no schema change; the
columns below carry what the city's verhuurbareEenheden export gives beyond the design's fields
(``kind``, ``bag_ids``), the border handling (``outside_m``) and the last import's report
(``layer.report``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy import text

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PROPERTY_COLUMNS = (
    ("outside_m", lambda: sa.Column("outside_m", sa.Float(), nullable=True)),
    (
        "kind",
        lambda: sa.Column("kind", sa.String(length=200), server_default=text("''"), nullable=False),
    ),
    ("bag_ids", lambda: sa.Column("bag_ids", sa.Text(), server_default=text("''"), nullable=False)),
)


def _existing(table: str) -> set[str]:
    if context.is_offline_mode():
        return set()
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    # A store adopted from create_all by a newer model may have the columns already.
    have = _existing("property")
    missing = [make() for name, make in PROPERTY_COLUMNS if name not in have]
    if missing:
        with op.batch_alter_table("property") as batch:
            for column in missing:
                batch.add_column(column)
    if "report" not in _existing("layer"):
        with op.batch_alter_table("layer") as batch:
            batch.add_column(
                sa.Column("report", sa.Text(), server_default=text("''"), nullable=False)
            )


def downgrade() -> None:
    with op.batch_alter_table("layer") as batch:
        batch.drop_column("report")
    with op.batch_alter_table("property") as batch:
        for name, _ in reversed(PROPERTY_COLUMNS):
            batch.drop_column(name)
