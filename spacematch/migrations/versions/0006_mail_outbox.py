"""Mail: the outbox, each need's mail settings, interests and introductions (issue 12).

New tables only (no ``need`` rebuild, so the need triggers stay as they are). Needs stored before
this revision get no ``need_mail`` row: they count as unconfirmed, alerts ``daily``, in Dutch,
until their private page is opened (which creates the row).

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _existing() -> set[str]:
    """Tables already there: a store adopted from ``create_all`` by a newer model has them."""
    if context.is_offline_mode():
        return set()
    return set(sa.inspect(op.get_bind()).get_table_names())


def upgrade() -> None:
    existing = _existing()
    if "need_mail" not in existing:
        _need_mail()
    if "outbox" not in existing:
        _outbox()
    if "interest" not in existing:
        _interest()
    if "introduction" not in existing:
        _introduction()


def _need_mail() -> None:
    op.create_table(
        "need_mail",
        sa.Column("need_id", sa.Integer(), sa.ForeignKey("need.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("alerts", sa.String(8), nullable=False),
        sa.Column("unsubscribe_token", sa.String(64), nullable=False, unique=True),
        sa.Column("introductions", sa.Boolean(), nullable=False),
        sa.Column("last_digest_at", sa.DateTime(), nullable=True),
        sa.Column("reported", sa.Text(), nullable=False),
        sa.Column("lease_notice_for", sa.Date(), nullable=True),
    )  # fmt: skip


def _outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        sa.Column("message_id", sa.String(200), nullable=False, unique=True),
        sa.Column("need_id", sa.Integer(), sa.ForeignKey("need.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("property_id", sa.String(200), nullable=True),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
    )  # fmt: skip
    op.create_index("ix_outbox_property_id", "outbox", ["property_id"])
    op.create_index("ix_outbox_state", "outbox", ["state"])
    op.create_index("ix_outbox_due", "outbox", ["state", "next_attempt_at"])


def _interest() -> None:
    op.create_table(
        "interest",
        sa.Column("need_id", sa.Integer(), sa.ForeignKey("need.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("property_id", sa.String(200), primary_key=True),
        sa.Column("rank", sa.Integer(), nullable=False),
    )  # fmt: skip
    op.create_index("ix_interest_property_id", "interest", ["property_id"])


def _introduction() -> None:
    op.create_table(
        "introduction",
        sa.Column("from_need_id", sa.Integer(), sa.ForeignKey("need.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("to_need_id", sa.Integer(), sa.ForeignKey("need.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("property_id", sa.String(200), primary_key=True),
        sa.Column("at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
    )  # fmt: skip


def downgrade() -> None:
    for table in ("introduction", "interest", "outbox", "need_mail"):
        op.drop_table(table)
