"""Allocation rounds: the round with its policy and seed commitment, its spaces (with a capacity
for shared spaces) and its awards, with one unique constraint that keeps every seat of a space
to one holder; and on the need, ``hide_name`` and ``willing_to_share``.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from spacematch.migrations import triggers

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A store adopted from create_all by a newer model may have the tables and columns already.
    tables: set[str] = set()
    need_columns: set[str] = set()
    if not context.is_offline_mode():
        inspector = sa.inspect(op.get_bind())
        tables = set(inspector.get_table_names())
        need_columns = {c["name"] for c in inspector.get_columns("need")}
    if "allocation_round" not in tables:
        _create_tables()
    if "hide_name" not in need_columns:
        with op.batch_alter_table("need") as batch:
            batch.add_column(
                sa.Column("hide_name", sa.Boolean(), server_default=sa.false(), nullable=False)
            )
            batch.add_column(
                sa.Column(
                    "willing_to_share", sa.Boolean(), server_default=sa.false(), nullable=False
                )
            )
        triggers.create(op.get_bind())  # a batch alter rebuilds ``need`` on SQLite


def _create_tables() -> None:
    op.create_table(
        "allocation_round",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("commitment", sa.String(64), nullable=False),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=True),
        sa.Column("opened_by", sa.String(254), nullable=False),
        sa.Column("drawn_by", sa.String(254), nullable=False),
        sa.Column("opened_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_allocation_round_status", "allocation_round", ["status"])
    op.create_table(
        "round_space",
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("allocation_round.id"), primary_key=True),
        sa.Column("property_id", sa.String(200), primary_key=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
    )
    op.create_table(
        "round_award",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("allocation_round.id"), nullable=False),
        sa.Column("property_id", sa.String(200), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), sa.ForeignKey("need.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("held_property_id", sa.String(200), nullable=True),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("held_property_id", "seat", name="uq_round_award_holder"),
    )
    op.create_index("ix_round_award_round_id", "round_award", ["round_id"])
    op.create_index("ix_round_award_property_id", "round_award", ["property_id"])
    op.create_index("ix_round_award_need_id", "round_award", ["need_id"])


def downgrade() -> None:
    with op.batch_alter_table("need") as batch:
        batch.drop_column("willing_to_share")
        batch.drop_column("hide_name")
    triggers.create(op.get_bind())
    op.drop_table("round_award")
    op.drop_table("round_space")
    op.drop_table("allocation_round")
